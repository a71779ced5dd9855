"""Networked bandits: independent UCB, GosInE, collaborative UCB, LinUCB, DisLinUCB, DisBE-/DecBE-LUCB."""

from algos.bandits._common import BanditCost
from algos.bandits.collab_ucb import collab_ucb
from algos.bandits.disbe_lucb import decbe_lucb, disbe_lucb
from algos.bandits.dislinucb import dislinucb
from algos.bandits.gosine import gosine
from algos.bandits.linucb import linucb
from algos.bandits.ucb import ucb

__all__ = ["BanditCost", "ucb", "gosine", "collab_ucb", "linucb", "dislinucb", "disbe_lucb", "decbe_lucb"]

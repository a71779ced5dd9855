"""Decentralized stochastic bilevel methods: DSBO, MA-DSBO (HVP/JVP oracles), Gossip-DSBO, exact averaging."""

from algos.bilevel._common import BilevelCost
from algos.bilevel.dsbo import dsbo, exact_dsbo, ma_dsbo
from algos.bilevel.gossip_dsbo import gossip_dsbo

__all__ = ["BilevelCost", "dsbo", "ma_dsbo", "exact_dsbo", "gossip_dsbo"]

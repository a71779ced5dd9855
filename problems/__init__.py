"""Synthetic problem instances with known constants, networks and gossip weights."""

from problems import convex, graphs, mixing
from problems import bandits, games, online
from problems import bilevel

__all__ = ["convex", "graphs", "mixing", "bandits", "games", "online"]
__all__ += ["bilevel"]

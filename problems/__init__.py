"""Synthetic problem instances with known constants, networks and gossip weights."""

from problems import convex, graphs, mixing
from problems import games, online

__all__ = ["convex", "graphs", "mixing", "games", "online"]

"""Synthetic problem instances with known constants, networks and gossip weights."""

from problems import convex, graphs, mixing
from problems import bandits, games, online
from problems import bilevel

__all__ = ["convex", "graphs", "mixing", "bandits", "games", "online"]
from problems import nonconvex  # noqa: E402  (issue 14: smooth non-convex problems)

__all__ += ["nonconvex"]
__all__ += ["bilevel"]

"""Decentralized algorithms as pure functions, and the engine that runs them."""

from algos._core import Algorithm, Cost, Trace, make_algorithm, run

__all__ = ["Algorithm", "Cost", "Trace", "make_algorithm", "run"]

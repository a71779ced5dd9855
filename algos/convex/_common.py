"""Shared pieces of the convex family: argument checks (the metrics live in :mod:`problems.convex`)."""

from __future__ import annotations

import numpy as np

from problems import mixing
from problems.convex import Problem
from problems.convex import metrics as convex_metrics  # noqa: F401  (the family's recorder)


def check_problem_and_W(problem, W, fn: str) -> np.ndarray:
    """Validate the (problem, W) pair of a factory; returns W as float64 NumPy."""
    if not isinstance(problem, Problem):
        raise TypeError(f"algos.{fn} expects a problems.convex.Problem, got {type(problem).__name__}")
    W = mixing.check_mixing(np.asarray(W))  # a GossipOperator converts to its dense matrix
    if W.shape[0] != problem.n_nodes:
        raise ValueError(
            f"algos.{fn}: W is {W.shape[0]}x{W.shape[0]} but the problem has {problem.n_nodes} nodes; "
            "build W on a graph with one node per local function"
        )
    return W

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
    W = np.asarray(W)  # a GossipOperator converts to its dense matrix
    # validated at the precision it was given in (a float32 operator's rows sum to 1 within ~1e-7)
    atol = 1e-9 if W.dtype != np.float32 else 1e-6
    W = mixing.check_mixing(W, atol=atol)
    if W.shape[0] != problem.n_nodes:
        raise ValueError(
            f"algos.{fn}: W is {W.shape[0]}x{W.shape[0]} but the problem has {problem.n_nodes} nodes; "
            "build W on a graph with one node per local function"
        )
    return W

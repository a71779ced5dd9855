"""Shared pieces of the convex family: the metric recorder and argument checks."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from problems import mixing
from problems.convex import Problem


def convex_metrics(params, state, info) -> dict:
    """Per-step metrics of a convex method whose state has node-stacked iterates ``X``.

    * ``dist_to_opt``: ``(1/n) sum_i ||x_i - x*||``;
    * ``consensus_error``: ``sqrt((1/n) sum_i ||x_i - x_bar||^2)`` (root mean square);
    * ``suboptimality``: ``f(x_bar) - f*`` with ``f`` the average objective.

    ``params["problem"]`` is the :class:`problems.convex.Problem`.
    """
    p = params["problem"]
    X = state.X
    x_bar = jnp.mean(X, axis=0)
    return {
        "dist_to_opt": jnp.mean(jnp.linalg.norm(X - p.x_star, axis=1)),
        "consensus_error": jnp.sqrt(jnp.mean(jnp.sum((X - x_bar) ** 2, axis=1))),
        "suboptimality": p.objective(x_bar) - p.f_star,
    }


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

"""NIDS: network-independent step sizes (Li, Shi, Yan 2019), smooth case.

Problem class: ``min_x (1/n) sum_i f_i(x)``, ``f_i`` convex and L-smooth
(linear convergence under strong convexity); ``W`` symmetric doubly
stochastic; ``W_bar = (I + W) / 2``.

Update (the paper's algorithm without the nonsmooth term, uniform step)::

    X^1     = X^0 - alpha grad F(X^0)
    X^{k+1} = W_bar (2 X^k - X^{k-1} - alpha grad F(X^k) + alpha grad F(X^{k-1})),   k >= 1

State ``(X, X_prev, G_prev, first)``; the first step is selected with
``jnp.where`` on ``first``. One gradient and one vector sent per node per
step (the first step sends nothing but is counted as one round, like the
others, for a uniform x-axis).

Relation to exact diffusion: for ``k >= 1`` the recursion is exactly exact
diffusion's adapt-correct-combine step (:mod:`algos.convex.exact_diffusion`);
only the first step differs (exact diffusion combines, ``X^1 = W_bar(X^0 -
alpha grad F(X^0))``). Hence NIDS from ``x0`` is exact diffusion from
``x0 - alpha grad F(x0)`` delayed by one step (tested).

Reference: Z. Li, W. Shi, M. Yan, "A decentralized proximal-gradient method
with network independent step-sizes and separated convergence rates", IEEE
TSP 67(17), 2019 (arXiv:1704.07807).

Step size: ``0 < alpha < 2/L`` independently of the network (the paper's
claim, abstract-verified; the exact stability boundary on the worst-case
quadratic, checked in docs/VERIFICATION.md §2). Outside it the factory
raises :class:`bounds.StepSizeError` unless ``check=False``. Default
``alpha = 1/L`` (the middle of the range).

Matching bound: :func:`bounds.convex.nids.nids`.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from algos._core import Cost, make_algorithm
from algos.convex import _stepsize
from algos.convex._common import check_problem_and_W, convex_metrics

__all__ = ["nids", "default_step_size", "step_size_limit", "State", "Info"]


class State(NamedTuple):
    X: jax.Array  # (n, d) current iterates X^k
    X_prev: jax.Array  # (n, d) previous iterates X^{k-1}
    G_prev: jax.Array  # (n, d) grad F(X_prev)
    first: jax.Array  # () bool: the next step is the first one


class Info(NamedTuple):
    cost: Cost


def step_size_limit(problem, W) -> float:
    """``2/L`` (independent of ``W``)."""
    L, _ = _stepsize.constants(problem, "nids")
    return 2.0 / L


def default_step_size(problem, W) -> float:
    """``1/L``."""
    L, _ = _stepsize.constants(problem, "nids")
    return 1.0 / L


def _build(params):
    p, W, alpha, X0 = params["problem"], params["W"], params["alpha"], params["x0"]
    n = W.shape[0]
    W_bar = 0.5 * (jnp.eye(n, dtype=W.dtype) + W)

    def init(key):
        del key
        return State(X=X0, X_prev=X0, G_prev=p.grad(X0), first=jnp.array(True))

    def step(key, state):
        del key
        X, X_prev, G_prev = state.X, state.X_prev, state.G_prev
        G = p.grad(X)
        first_step = X - alpha * G
        general = W_bar @ (2.0 * X - X_prev - alpha * G + alpha * G_prev)
        X_new = jnp.where(state.first, first_step, general)
        d = X.shape[-1]
        new = State(X=X_new, X_prev=X, G_prev=G, first=jnp.zeros_like(state.first))
        return new, Info(cost=Cost(vectors=1.0, floats=float(d), grads=1.0))

    return init, step


def nids(problem, W, step_size=None, *, x0=None, check: bool = True):
    """NIDS with ``W_bar = (I + W) / 2`` and a uniform step size.

    Args:
        problem: a :class:`problems.convex.Problem`.
        W: (n, n) symmetric doubly stochastic mixing matrix.
        step_size: ``alpha``; default ``1/L``; must lie in ``(0, 2/L)`` (checked when concrete).
        x0: starting point, (n, d) or (d,); default zeros.
        check: raise :class:`bounds.StepSizeError` for a step size outside the range.

    Returns:
        An :class:`algos.Algorithm`; cost per step: 1 vector sent, 1 gradient.
    """
    W = check_problem_and_W(problem, W, "nids")
    _stepsize.check_problem_constants(problem)
    if step_size is None or (check and _stepsize.is_concrete(step_size)):
        default, limit = default_step_size(problem, W), step_size_limit(problem, W)
    else:
        default = limit = None
    alpha = _stepsize.resolve(step_size, default=default, limit=limit, fn="nids", rule="alpha < 2 / L", check=check)
    params = {"problem": problem, "W": jnp.asarray(W), "alpha": alpha, "x0": _stepsize.initial_point(problem, x0, "nids")}
    return make_algorithm(_build, params, convex_metrics, "nids", hparams={"step_size": _stepsize.as_float(alpha)})

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

from algos._core import Cost
from algos.convex import _stepsize

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

    def init(key):
        del key
        return State(X=X0, X_prev=X0, G_prev=p.grad(X0), first=jnp.array(True))

    def step(key, state):
        del key
        X, X_prev, G_prev = state.X, state.X_prev, state.G_prev
        G = p.grad(X)
        first_step = X - alpha * G
        Y = 2.0 * X - X_prev - alpha * G + alpha * G_prev
        general = 0.5 * (Y + W @ Y)  # W_bar Y, W_bar = (I + W)/2
        X_new = jnp.where(state.first, first_step, general)
        d = X.shape[-1]
        new = State(X=X_new, X_prev=X, G_prev=G, first=jnp.zeros_like(state.first))
        return new, Info(cost=Cost(communications=1.0, floats_sent=float(d), gradient_calls=1.0))

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
    return _stepsize.step_size_factory(
        _build, "nids", problem, W, step_size, x0, check=check, rule="alpha < 2 / L",
        default_fn=default_step_size, limit_fn=step_size_limit,
    )  # fmt: skip

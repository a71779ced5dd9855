"""DGD: decentralized gradient descent with a constant step size.

Problem class: ``min_x (1/n) sum_i f_i(x)`` with every ``f_i`` L-smooth and
mu-strongly convex; ``W`` symmetric doubly stochastic with eigenvalues
``1 = lambda_1 > lambda_2 >= ... >= lambda_n``.

Update (node-stacked, one gossip round and one gradient per step)::

    X^{k+1} = W X^k - alpha grad F(X^k)

Reference: K. Yuan, Q. Ling, W. Yin, "On the convergence of decentralized
gradient descent", SIAM J. Optim. 26(3), 2016 (arXiv:1310.7063). Under
``alpha < (1 + lambda_n(W)) / L`` and strong convexity the iterates converge
linearly to an ``O(alpha / (1 - beta))`` neighbourhood of ``x*`` (beta =
slem(W)), not to ``x*``: DGD is inexact with a constant step.

Step size: the admissible range is ``0 < alpha < (1 + lambda_n(W)) / L``; then
``W - alpha H`` (H the block-diagonal Hessian, spectrum in ``[mu, L]``) is a
contraction with factor ``max(|1 - alpha mu|, |lambda_n - alpha L|) < 1``
(sufficient; the exact boundary when every Hessian equals ``L I``). Outside it
the factory raises :class:`bounds.StepSizeError` unless ``check=False``.
Default: ``alpha = (1 + lambda_n(W)) / (L + mu)``, the step that minimizes the contraction
factor ``q(alpha) = max(|1 - alpha mu|, |lambda_n - alpha L|)`` (the two terms are equal there,
``q = 1 - mu (1 + lambda_n) / (L + mu)``; a math fact, checked in tests) — a choice of ratebench,
not of the paper. It always lies inside the range (at half of it or more), so it stays stable where
``1/L`` does not (a ring with weights 1/3 has ``lambda_n = -1/3``; ``alpha = 1/L`` diverges there)
and does not sit on the stability boundary when ``lambda_n(W)`` is 0 up to round-off.

Matching bounds: :func:`bounds.convex.dgd.dgd` (linear convergence to the
neighbourhood, stability condition) and :func:`bounds.convex.dgd.dgd_bias`
(the neighbourhood's O(alpha) size).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from algos._core import Cost
from algos.convex import _stepsize

__all__ = ["dgd", "default_step_size", "step_size_limit", "State", "Info"]


class State(NamedTuple):
    X: jax.Array  # (n, d) node-stacked iterates


class Info(NamedTuple):
    cost: Cost
    increment_norm: jax.Array  # () ||X^{k+1} - X^k||_F, recorded as the trace field of the same name


def step_size_limit(problem, W) -> float:
    """``(1 + lambda_n(W)) / L``: supremum of the step sizes DGD's theorem admits."""
    L, _ = _stepsize.constants(problem, "dgd")
    return (1.0 + _stepsize.spectrum(W).lambda_n) / L


def default_step_size(problem, W) -> float:
    """``(1 + lambda_n(W)) / (L + mu)``: the minimizer of ``max(|1 - alpha mu|, |lambda_n - alpha L|)``."""
    L, mu = _stepsize.constants(problem, "dgd")
    limit = step_size_limit(problem, W)
    if limit <= 0.0:
        raise ValueError(
            "algos.dgd: lambda_n(W) = -1, so no step size keeps DGD stable; use a lazy W, mixing.lazy(W)"
        )
    return limit * L / (L + mu)


def _build(params):
    p, W, alpha, X0 = params["problem"], params["W"], params["alpha"], params["x0"]

    def init(key):
        del key
        return State(X=X0)

    def step(key, state):
        del key  # deterministic
        X = state.X
        X_new = W @ X - alpha * p.grad(X)
        d = X.shape[-1]
        cost = Cost(communications=1.0, floats_sent=float(d), gradient_calls=1.0)
        return State(X=X_new), Info(cost=cost, increment_norm=jnp.linalg.norm(X_new - X))

    return init, step


def dgd(problem, W, step_size=None, *, x0=None, check: bool = True):
    """Decentralized gradient descent ``X+ = W X - alpha grad F(X)``.

    Args:
        problem: a :class:`problems.convex.Problem`.
        W: (n, n) symmetric doubly stochastic mixing matrix.
        step_size: ``alpha``; default :func:`default_step_size`. Must satisfy
            ``0 < alpha < (1 + lambda_n(W)) / L`` (checked when concrete).
        x0: starting point, (n, d) or (d,); default zeros.
        check: raise :class:`bounds.StepSizeError` for a step size outside the range.

    Returns:
        An :class:`algos.Algorithm`; cost per step: 1 vector sent, 1 gradient.
    """
    return _stepsize.step_size_factory(
        _build, "dgd", problem, W, step_size, x0, check=check, rule="alpha < (1 + lambda_n(W)) / L",
        default_fn=default_step_size, limit_fn=step_size_limit,
    )  # fmt: skip

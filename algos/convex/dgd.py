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
Default: ``alpha = 1/L`` when that is inside the range (``lambda_n(W) > 0``),
otherwise half the limit, ``(1 + lambda_n(W)) / (2L)`` — a choice of
ratebench, not of the paper (on a ring with weights 1/3, ``lambda_n = -1/3``
and the default is ``1/(3L)``; ``alpha = 1/L`` diverges there).

Matching bounds: :func:`bounds.convex.dgd.dgd` (linear convergence to the
neighbourhood, stability condition) and :func:`bounds.convex.dgd.dgd_bias`
(the neighbourhood's O(alpha) size).
"""

from __future__ import annotations

from typing import NamedTuple

import jax

from algos._core import Cost
from algos.convex import _stepsize

__all__ = ["dgd", "default_step_size", "step_size_limit", "State", "Info"]


class State(NamedTuple):
    X: jax.Array  # (n, d) node-stacked iterates


class Info(NamedTuple):
    cost: Cost


def step_size_limit(problem, W) -> float:
    """``(1 + lambda_n(W)) / L``: supremum of the step sizes DGD's theorem admits."""
    L, _ = _stepsize.constants(problem, "dgd")
    return (1.0 + _stepsize.spectrum(W).lambda_n) / L


def default_step_size(problem, W) -> float:
    """``1/L`` if ``lambda_n(W) > 0`` (then ``1/L`` is inside the range), else ``(1 + lambda_n) / (2L)``."""
    L, _ = _stepsize.constants(problem, "dgd")
    limit = step_size_limit(problem, W)
    if limit <= 0.0:
        raise ValueError(
            "algos.dgd: lambda_n(W) = -1, so no step size keeps DGD stable; use a lazy W, mixing.lazy(W)"
        )
    return 1.0 / L if 1.0 / L < limit else 0.5 * limit


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
        return State(X=X_new), Info(cost=Cost(vectors=1.0, floats=float(d), grads=1.0))

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

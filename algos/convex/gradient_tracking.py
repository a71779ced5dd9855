"""Gradient tracking (DIGing; Nedić, Olshevsky, Shi 2017).

Problem class: ``min_x (1/n) sum_i f_i(x)``, ``f_i`` L-smooth and
mu-strongly convex; ``W`` symmetric doubly stochastic.

Update::

    X^{k+1} = W X^k - alpha Y^k
    Y^{k+1} = W Y^k + grad F(X^{k+1}) - grad F(X^k),      Y^0 = grad F(X^0)

``Y`` tracks the average gradient: ``1^T Y^k = 1^T grad F(X^k)`` for every k.
State ``(X, Y, G)`` with ``G = grad F(X)`` stored, so one step costs one
gradient. Communication: two vectors per node per step (``X`` and ``Y``).

References: A. Nedić, A. Olshevsky, W. Shi, "Achieving geometric convergence
for distributed optimization over time-varying graphs", SIAM J. Optim. 27(4),
2017 (arXiv:1607.03218); G. Qu, N. Li, IEEE TCNS 2018 (arXiv:1605.07112);
A. Koloskova, T. Lin, S. U. Stich, "An improved analysis of gradient tracking
for decentralized machine learning", NeurIPS 2021 (arXiv:2202.03836), whose
(order-only, recalled) noiseless complexity ``O(kappa/(p c) log 1/eps)`` is the
matching bound.

Step size: ``0 < alpha < (1 + lambda_n(W))^2 / (2L)``. This is the exact
stability boundary on the worst-case quadratic (every Hessian ``L I``): per
eigenvalue ``lambda`` of ``W`` and curvature ``h`` the characteristic polynomial
is ``z^2 - (2 lambda - alpha h) z + lambda^2 - alpha h``, and the Jury
conditions reduce to ``alpha h < (1 + lambda)^2 / 2`` (derived by ratebench,
checked numerically in the tests; not a paper's constant — the papers' own
step conditions are far smaller). Outside it the factory raises
:class:`bounds.StepSizeError` unless ``check=False``. Default:
``alpha = p (1 + lambda_n) / (4L)`` with ``p = 1 - slem(W)^2`` — the shape
``alpha ~ p c / L`` of Koloskova et al.'s step (their constant was not
recovered; 1/2 with ``c = (1 + lambda_n)/2`` is ratebench's choice). It is
always inside the range, and with it the iteration count follows
``kappa / (p c)``; a network-independent step (e.g. half the limit) is
stable but on rings needs about ``(1/p)^1.8`` iterations (measured, n = 16..64).

Matching bound: :func:`bounds.convex.gradient_tracking.gradient_tracking`.
"""

from __future__ import annotations

from typing import NamedTuple

import jax

from algos._core import Cost
from algos.convex import _stepsize

__all__ = ["gradient_tracking", "default_step_size", "step_size_limit", "State", "Info"]


class State(NamedTuple):
    X: jax.Array  # (n, d) iterates
    Y: jax.Array  # (n, d) gradient trackers
    G: jax.Array  # (n, d) grad F(X)


class Info(NamedTuple):
    cost: Cost


def step_size_limit(problem, W) -> float:
    """``(1 + lambda_n(W))^2 / (2L)``: worst-case quadratic stability boundary."""
    L, _ = _stepsize.constants(problem, "gradient_tracking")
    return (1.0 + _stepsize.spectrum(W).lambda_n) ** 2 / (2.0 * L)


def default_step_size(problem, W) -> float:
    """``(1 - slem(W)^2)(1 + lambda_n(W)) / (4L)`` (always below the limit)."""
    L, _ = _stepsize.constants(problem, "gradient_tracking")
    spec = _stepsize.spectrum(W)
    if step_size_limit(problem, W) <= 0.0:
        raise ValueError(
            "algos.gradient_tracking: lambda_n(W) = -1, so no step size is stable; use a lazy W, mixing.lazy(W)"
        )
    if spec.slem >= 1.0:
        raise ValueError("algos.gradient_tracking: W does not mix (slem(W) = 1); use a connected graph")
    return (1.0 - spec.slem**2) * (1.0 + spec.lambda_n) / (4.0 * L)


def _build(params):
    p, W, alpha, X0 = params["problem"], params["W"], params["alpha"], params["x0"]

    def init(key):
        del key
        G0 = p.grad(X0)
        return State(X=X0, Y=G0, G=G0)

    def step(key, state):
        del key
        X_new = W @ state.X - alpha * state.Y
        G_new = p.grad(X_new)
        Y_new = W @ state.Y + G_new - state.G
        d = state.X.shape[-1]
        return State(X=X_new, Y=Y_new, G=G_new), Info(cost=Cost(communications=2.0, floats_sent=2.0 * d, gradient_calls=1.0))

    return init, step


def gradient_tracking(problem, W, step_size=None, *, x0=None, check: bool = True):
    """DIGing gradient tracking.

    Args:
        problem: a :class:`problems.convex.Problem`.
        W: (n, n) symmetric doubly stochastic mixing matrix.
        step_size: ``alpha``; default :func:`default_step_size`; must lie in
            ``(0, (1 + lambda_n(W))^2 / (2L))`` (checked when concrete).
        x0: starting point, (n, d) or (d,); default zeros.
        check: raise :class:`bounds.StepSizeError` for a step size outside the range.

    Returns:
        An :class:`algos.Algorithm`; cost per step: 2 vectors sent, 1 gradient.
    """
    return _stepsize.step_size_factory(
        _build, "gradient_tracking", problem, W, step_size, x0, check=check, rule="alpha < (1 + lambda_n(W))^2 / (2L)",
        default_fn=default_step_size, limit_fn=step_size_limit,
    )  # fmt: skip

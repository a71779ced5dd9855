"""Exact diffusion (Yuan, Ying, Zhao, Sayed 2019) in its adapt-correct-combine form.

Problem class: ``min_x (1/n) sum_i f_i(x)``, ``f_i`` L-smooth and
mu-strongly convex; ``W`` symmetric doubly stochastic; ``W_bar = (I + W)/2``.

Update (uniform step ``alpha``)::

    psi^k   = X^k - alpha grad F(X^k)            (adapt)
    phi^k   = psi^k + X^k - psi^{k-1}            (correct)
    X^{k+1} = W_bar phi^k                        (combine)

with the paper's initialization ``psi^{-1} = X^0`` (so ``X^1 = W_bar psi^0``).
State ``(X, psi_prev)``; one gradient and one vector sent per node per step.

For ``k >= 1`` this is the NIDS recursion ``X^{k+1} = W_bar(2X^k - X^{k-1} -
alpha grad F(X^k) + alpha grad F(X^{k-1}))`` written differently (substitute
``psi^{k-1} = X^{k-1} - alpha grad F(X^{k-1})``); the two methods differ only
in their first step. ratebench tests that NIDS from ``x0`` equals exact
diffusion from ``x0 - alpha grad F(x0)`` one step later, and that both have
the same exact rate on quadratics.

References: K. Yuan, B. Ying, X. Zhao, A. H. Sayed, "Exact diffusion for
distributed optimization and learning — Part I: Algorithm development" and
"Part II: Convergence analysis", IEEE TSP 67(3), 2019 (arXiv:1702.05122,
1702.05142); Part II proves linear convergence and a wider stability range
than EXTRA.

Step size: ``0 < alpha < 2/L`` (as NIDS; the worst-case quadratic boundary, see
docs/VERIFICATION.md §2). Default ``alpha = 1/L``.

Matching bound: :func:`bounds.convex.exact_diffusion.exact_diffusion`.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from algos._core import Cost, make_algorithm
from algos.convex import _stepsize
from algos.convex._common import check_problem_and_W, convex_metrics

__all__ = ["exact_diffusion", "default_step_size", "step_size_limit", "State", "Info"]


class State(NamedTuple):
    X: jax.Array  # (n, d) current iterates X^k
    psi_prev: jax.Array  # (n, d) previous adapt step psi^{k-1}


class Info(NamedTuple):
    cost: Cost


def step_size_limit(problem, W) -> float:
    """``2/L`` (independent of ``W``)."""
    L, _ = _stepsize.constants(problem, "exact_diffusion")
    return 2.0 / L


def default_step_size(problem, W) -> float:
    """``1/L``."""
    L, _ = _stepsize.constants(problem, "exact_diffusion")
    return 1.0 / L


def _build(params):
    p, W, alpha, X0 = params["problem"], params["W"], params["alpha"], params["x0"]
    n = W.shape[0]
    W_bar = 0.5 * (jnp.eye(n, dtype=W.dtype) + W)

    def init(key):
        del key
        return State(X=X0, psi_prev=X0)

    def step(key, state):
        del key
        X = state.X
        psi = X - alpha * p.grad(X)  # adapt
        phi = psi + X - state.psi_prev  # correct
        X_new = W_bar @ phi  # combine
        d = X.shape[-1]
        return State(X=X_new, psi_prev=psi), Info(cost=Cost(vectors=1.0, floats=float(d), grads=1.0))

    return init, step


def exact_diffusion(problem, W, step_size=None, *, x0=None, check: bool = True):
    """Exact diffusion with ``W_bar = (I + W) / 2`` and a uniform step size.

    Args:
        problem: a :class:`problems.convex.Problem`.
        W: (n, n) symmetric doubly stochastic mixing matrix.
        step_size: ``alpha``; default ``1/L``; must lie in ``(0, 2/L)`` (checked when concrete).
        x0: starting point, (n, d) or (d,); default zeros.
        check: raise :class:`bounds.StepSizeError` for a step size outside the range.

    Returns:
        An :class:`algos.Algorithm`; cost per step: 1 vector sent, 1 gradient.
    """
    W = check_problem_and_W(problem, W, "exact_diffusion")
    _stepsize.check_problem_constants(problem)
    if step_size is None or (check and _stepsize.is_concrete(step_size)):
        default, limit = default_step_size(problem, W), step_size_limit(problem, W)
    else:
        default = limit = None
    alpha = _stepsize.resolve(
        step_size, default=default, limit=limit, fn="exact_diffusion", rule="alpha < 2 / L", check=check
    )
    X0 = _stepsize.initial_point(problem, x0, "exact_diffusion")
    params = {"problem": problem, "W": jnp.asarray(W), "alpha": alpha, "x0": X0}
    return make_algorithm(
        _build, params, convex_metrics, "exact_diffusion", hparams={"step_size": _stepsize.as_float(alpha)}
    )

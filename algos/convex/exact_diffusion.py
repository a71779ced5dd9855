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

from algos._core import Cost
from algos.convex import _stepsize
from algos.convex.nids import Info, default_step_size, step_size_limit  # same step range (2/L), same costs

__all__ = ["exact_diffusion", "default_step_size", "step_size_limit", "State", "Info"]


class State(NamedTuple):
    X: jax.Array  # (n, d) current iterates X^k
    psi_prev: jax.Array  # (n, d) previous adapt step psi^{k-1}



def _build(params):
    p, W, alpha, X0 = params["problem"], params["W"], params["alpha"], params["x0"]

    def init(key):
        del key
        return State(X=X0, psi_prev=X0)

    def step(key, state):
        del key
        X = state.X
        psi = X - alpha * p.grad(X)  # adapt
        phi = psi + X - state.psi_prev  # correct
        X_new = 0.5 * (phi + W @ phi)  # combine: W_bar phi, W_bar = (I + W)/2
        d = X.shape[-1]
        return State(X=X_new, psi_prev=psi), Info(cost=Cost(communications=1.0, floats_sent=float(d), gradient_calls=1.0))

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
    return _stepsize.step_size_factory(
        _build, "exact_diffusion", problem, W, step_size, x0, check=check, rule="alpha < 2 / L",
        default_fn=default_step_size, limit_fn=step_size_limit,
    )  # fmt: skip

"""EXTRA: an exact first-order algorithm for decentralized consensus optimization.

Problem class: ``min_x (1/n) sum_i f_i(x)``, ``f_i`` convex and L-smooth
(linear convergence when the average is (restricted) strongly convex); ``W``
symmetric doubly stochastic; ``W~ = (I + W) / 2``.

Update (Shi, Ling, Wu, Yin 2015, eq. (2.13) form)::

    X^1     = W X^0 - alpha grad F(X^0)
    X^{k+2} = (I + W) X^{k+1} - W~ X^k - alpha (grad F(X^{k+1}) - grad F(X^k))

Implemented in its equivalent summed form (Shi et al. 2015, the sum of the
recursion over k): with ``U^k = sum_{t<k} (W~ - W) X^t = (1/2) sum_{t<k} (X^t - W X^t)``,

    X^{k+1} = W X^k - alpha grad F(X^k) - U^k,    U^{k+1} = U^k + (X^k - W X^k) / 2,   U^0 = 0

(the first step is the case ``U^0 = 0``; subtracting two consecutive steps gives the
two-step recursion above). Same iterates in exact arithmetic; one gradient and one
gossip product per step. Why this form: the two-step recursion adds a rounding error
of the size of ``X`` to the conserved sum ``1^T(X^{k+1} - W~ X^k + alpha grad F(X^k))``
at every step, and that sum fixes the limit; in float32 the error to ``x*`` then grew
linearly with k (relative 1.6e-4 after 1,500 steps, 2.6e-3 after 24,000, on a
least-squares instance of tests/algos/test_table.py), while here the increment
``X - W X`` vanishes at consensus, so its rounding does too.

References: W. Shi, Q. Ling, G. Wu, W. Yin, "EXTRA: An exact first-order
algorithm for decentralized consensus optimization", SIAM J. Optim. 25(2),
2015 (arXiv:1404.6264); H. Li, Z. Lin, "Revisiting EXTRA for smooth
distributed optimization", SIAM J. Optim. 2020 (arXiv:2002.10110) for the
complexity ``O((kappa + 1/(1 - sigma_2(W))) log(1/(eps (1 - sigma_2(W)))))``.

Step size: ``0 < alpha < (5 + 3 lambda_n(W)) / (4L)``, the exact stability
boundary on the worst-case quadratic (every Hessian ``L I``; derived and
checked numerically in docs/VERIFICATION.md §1, and recalled to be the range
of Li & Yan, arXiv:1906.07225). Outside it the factory raises
:class:`bounds.StepSizeError` unless ``check=False`` (heterogeneous instances
can be stable somewhat beyond it). Default ``alpha = min(1, (5 + 3 lambda_n)/4)
/ (2L)``, i.e. ``1/(2L)`` unless ``lambda_n(W) < -1/3`` — ratebench's choice
(the value of the reference measurement), not a paper's.

Matching bound: :func:`bounds.convex.extra.extra`.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from algos._core import Cost
from algos.convex import _stepsize

__all__ = ["extra", "default_step_size", "step_size_limit", "State", "Info"]


class State(NamedTuple):
    X: jax.Array  # (n, d) current iterates X^k
    U: jax.Array  # (n, d) accumulated correction U^k = (1/2) sum_{t<k} (X^t - W X^t)


class Info(NamedTuple):
    cost: Cost


def step_size_limit(problem, W) -> float:
    """``(5 + 3 lambda_n(W)) / (4L)``: worst-case quadratic stability boundary."""
    L, _ = _stepsize.constants(problem, "extra")
    return (5.0 + 3.0 * _stepsize.spectrum(W).lambda_n) / (4.0 * L)


def default_step_size(problem, W) -> float:
    """``min(1, (5 + 3 lambda_n(W)) / 4) / (2L)`` (``1/(2L)`` whenever ``lambda_n >= -1/3``)."""
    L, _ = _stepsize.constants(problem, "extra")
    return min(1.0 / L, step_size_limit(problem, W)) / 2.0


def _build(params):
    p, W, alpha, X0 = params["problem"], params["W"], params["alpha"], params["x0"]

    def init(key):
        del key
        return State(X=X0, U=jnp.zeros_like(X0))

    def step(key, state):
        del key
        X, U = state.X, state.U
        WX = W @ X
        X_new = WX - alpha * p.grad(X) - U
        d = X.shape[-1]
        new = State(X=X_new, U=U + 0.5 * (X - WX))  # W~ - W = (I - W)/2
        return new, Info(cost=Cost(communications=1.0, floats_sent=float(d), gradient_calls=1.0))

    return init, step


def extra(problem, W, step_size=None, *, x0=None, check: bool = True):
    """EXTRA with ``W~ = (I + W) / 2``.

    Args:
        problem: a :class:`problems.convex.Problem`.
        W: (n, n) symmetric doubly stochastic mixing matrix.
        step_size: ``alpha``; default :func:`default_step_size`; must lie in
            ``(0, (5 + 3 lambda_n(W)) / (4L))`` (checked when concrete).
        x0: starting point, (n, d) or (d,); default zeros.
        check: raise :class:`bounds.StepSizeError` for a step size outside the range.

    Returns:
        An :class:`algos.Algorithm`; cost per step: 1 vector sent, 1 gradient.
    """
    return _stepsize.step_size_factory(
        _build, "extra", problem, W, step_size, x0, check=check, rule="alpha < (5 + 3 lambda_n(W)) / (4L)",
        default_fn=default_step_size, limit_fn=step_size_limit,
    )  # fmt: skip

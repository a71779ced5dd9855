"""EXTRA: an exact first-order algorithm for decentralized consensus optimization.

Problem class: ``min_x (1/n) sum_i f_i(x)``, ``f_i`` convex and L-smooth
(linear convergence when the average is (restricted) strongly convex); ``W``
symmetric doubly stochastic; ``W~ = (I + W) / 2``.

Update (Shi, Ling, Wu, Yin 2015, eq. (2.13) form)::

    X^1     = W X^0 - alpha grad F(X^0)
    X^{k+2} = (I + W) X^{k+1} - W~ X^k - alpha (grad F(X^{k+1}) - grad F(X^k))

Written as a one-step map on the state ``(X, X_prev, G_prev, first)``; the
first step is selected with ``jnp.where`` on the boolean ``first`` (no Python
``if`` on traced values). ``G_prev`` stores ``grad F(X_prev)``, so one step
costs one gradient. Communication: one vector per node per step — ``W X_prev``
was received in the previous round (the kernel recomputes it instead of storing
it; that is flops, not communication).

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
    X: jax.Array  # (n, d) current iterates X^{k+1}
    X_prev: jax.Array  # (n, d) previous iterates X^k
    WX_prev: jax.Array  # (n, d) W X^k, kept from the previous step (one gossip product per step)
    G_prev: jax.Array  # (n, d) grad F(X_prev)
    first: jax.Array  # () bool: the next step is the first one


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
        G0 = p.grad(X0)
        # WX_prev is only read from the second step on (the first step is W X0 - alpha G0)
        return State(X=X0, X_prev=X0, WX_prev=jnp.zeros_like(X0), G_prev=G0, first=jnp.array(True))

    def step(key, state):
        del key
        X, X_prev, G_prev = state.X, state.X_prev, state.G_prev
        G = p.grad(X)
        WX = W @ X
        first_step = WX - alpha * G
        general = X + WX - 0.5 * (X_prev + state.WX_prev) - alpha * (G - G_prev)  # W~ = (I + W)/2
        X_new = jnp.where(state.first, first_step, general)
        d = X.shape[-1]
        new = State(X=X_new, X_prev=X, WX_prev=WX, G_prev=G, first=jnp.zeros_like(state.first))
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

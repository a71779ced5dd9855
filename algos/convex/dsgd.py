"""D-SGD: decentralized stochastic gradient descent (adapt-then-combine form).

Problem class: ``min_x (1/n) sum_i f_i(x)``, ``f_i`` L-smooth and mu-strongly
convex, stochastic gradients ``g_i`` with ``E g_i = grad f_i`` and
``E||g_i - grad f_i||^2 <= sigma^2`` (``problem.stoch_grad``); ``W`` symmetric
doubly stochastic.

Update (Koloskova et al. 2020, Algorithm 1 with one local step and a fixed ``W``)::

    X^{k+1} = W (X^k - alpha g(X^k; xi^k))

Randomness: the step key given by :func:`algos.run` (a fresh subkey per step,
split from the run's key) is used exactly once, for the gradient noise of that
step; the same run key gives the same trace bit for bit.

Reference: A. Koloskova, N. Loizou, S. Boreiri, M. Jaggi, S. U. Stich, "A
unified theory of decentralized SGD with changing topology and local updates",
ICML 2020 (arXiv:2003.10422), Theorem 2 (strongly convex case; order only is
verified here, see docs/VERIFICATION.md §7).

Step size: ``0 < alpha < 2/L``. In that range the noiseless map
``X -> W(X - alpha grad F(X))`` is a contraction towards its fixed point
(``||W|| <= 1`` and ``||I - alpha H|| < 1``); the theorem itself needs a
smaller step ``alpha <= c p / L`` whose constant ``c`` was not recovered.
Default ``alpha = 1/(2L)`` (ratebench's choice, not the paper's). With a
constant step D-SGD reaches a neighbourhood of ``x*`` whose size grows with
``alpha sigma^2`` and the heterogeneity ``zeta``.

Matching bound: :func:`bounds.convex.dsgd.dsgd` (order-only complexity).
"""

from __future__ import annotations

from typing import NamedTuple

import jax

from algos._core import Cost
from algos.convex import _stepsize

__all__ = ["dsgd", "default_step_size", "step_size_limit", "State", "Info"]


class State(NamedTuple):
    X: jax.Array  # (n, d) node-stacked iterates


class Info(NamedTuple):
    cost: Cost


def step_size_limit(problem, W) -> float:
    """``2/L``: beyond it the noiseless D-SGD map stops being a contraction."""
    L, _ = _stepsize.constants(problem, "dsgd")
    return 2.0 / L


def default_step_size(problem, W) -> float:
    """``1/(2L)``."""
    L, _ = _stepsize.constants(problem, "dsgd")
    return 0.5 / L


def _build(params):
    p, W, alpha, X0 = params["problem"], params["W"], params["alpha"], params["x0"]

    def init(key):
        del key
        return State(X=X0)

    def step(key, state):
        X = state.X
        G = p.stoch_grad(key, X)  # the step's key, used once
        X_new = W @ (X - alpha * G)
        d = X.shape[-1]
        return State(X=X_new), Info(cost=Cost(communications=1.0, floats_sent=float(d), gradient_calls=1.0))

    return init, step


def dsgd(problem, W, step_size=None, *, x0=None, check: bool = True):
    """Decentralized SGD ``X+ = W (X - alpha g(X))`` with ``problem.stoch_grad``.

    Args:
        problem: a :class:`problems.convex.Problem` (its ``sigma`` sets the gradient noise).
        W: (n, n) symmetric doubly stochastic mixing matrix.
        step_size: ``alpha``; default ``1/(2L)``; must lie in ``(0, 2/L)`` (checked when concrete).
        x0: starting point, (n, d) or (d,); default zeros.
        check: raise :class:`bounds.StepSizeError` for a step size outside the range.

    Returns:
        An :class:`algos.Algorithm`; cost per step: 1 vector sent, 1 stochastic gradient.
    """
    return _stepsize.step_size_factory(
        _build, "dsgd", problem, W, step_size, x0, check=check, rule="alpha < 2 / L",
        default_fn=default_step_size, limit_fn=step_size_limit,
    )  # fmt: skip

"""Accelerated consensus: Chebyshev semi-iterative gossip and heavy-ball gossip.

Both methods speed up plain gossip ``X+ = W X`` from ``O(1/(1 - lambda_2))``
to ``O(1/sqrt(1 - lambda_2))`` rounds. Each step is still one gossip round.
Both need the interval of ``W``'s spectrum on the mean-free subspace,
``[lambda_n, lambda_2]``. In terms of the gossip matrix ``𝐖 = I - W`` (PSD,
kernel = span 1) the interval is ``[l_min, l_max] = [1 - lambda_2, 1 - lambda_n]``,
and ``gamma = l_min / l_max = 1 / chi``.

Chebyshev semi-iterative gossip (Golub & Varga 1961; Chebyshev acceleration of
consensus). An affine change of variable maps ``[l_min, l_max]`` onto ``[-1, 1]``:
``c2 = (1 + gamma) / (1 - gamma)`` and ``c3 = 2 / (l_min + l_max)``. The method
applies ``X_k = T_k(c2 (I - c3 𝐖)) X_0 / T_k(c2)``, with ``T_k`` the Chebyshev
polynomial of the first kind. The normalized three-term recurrence is::

    W_hat   = I - c3 𝐖 = (1 - c3) I + c3 W                (one gossip round)
    X_1     = W_hat X_0
    X_{k+1} = omega_{k+1} W_hat X_k + (1 - omega_{k+1}) X_{k-1}
    omega_2 = 1 / (1 - s^2 / 2),  omega_{k+1} = 1 / (1 - omega_k s^2 / 4),  s = 1 / c2

Here ``omega_{k+1} = 2 c2 T_k(c2) / T_{k+1}(c2)``; the ratios stay bounded, so
no ``T_k(c2)`` is formed and nothing overflows. The weights of each step sum to
1, so the average is preserved. On the mean-free subspace,
``max |T_k(c2 (1 - c3 l)) / T_k(c2)| = 1 / T_k(c2) = 2 c1^k / (1 + c1^{2k})``
with ``c1 = (1 - sqrt(gamma)) / (1 + sqrt(gamma))``. This is the minimax
(optimal) polynomial bound. The coefficients depend on the step, so the method
is *time-varying*: the state carries ``omega`` and a step counter ``t``, and it
has no single iteration matrix.

The same polynomial is Scaman et al.'s (2017) AccGossip: ``AccGossip(X) = X -
chebyshev_filter(X, K)`` applies ``P_K(𝐖) = I - T_K(c2 (I - c3 𝐖)) / T_K(c2)``.
MSDA and OPAPC import :func:`chebyshev_filter` from here.

Heavy-ball gossip (Polyak 1964; Polyak, *Introduction to Optimization*, 1987,
Sec. 3.2, the quadratic case)::

    X_{k+1} = X_k - h (I - W) X_k + b (X_k - X_{k-1}),   X_{-1} = X_0
    h = 4 / (sqrt(l_max) + sqrt(l_min))^2,   b = ((sqrt(l_max) - sqrt(l_min)) / (sqrt(l_max) + sqrt(l_min)))^2

The iteration is time-invariant. Its spectral radius on the mean-free subspace
is exactly ``sqrt(b) = (sqrt(chi) - 1) / (sqrt(chi) + 1) = c1``. At
``l_min`` and ``l_max`` the characteristic roots are double (Jordan blocks), so
the error behaves like ``k sqrt(b)^k``. ``sqrt(b)`` is the asymptotic rate, not a
one-step contraction. See :func:`bounds.consensus.gossip.heavy_ball_gossip`.

Matching bounds: :mod:`bounds.consensus.gossip`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from algos import _gossip
from algos._core import Cost, is_concrete, make_algorithm
from algos.consensus.gossip import default_x0
from algos._errors import check_problem_and_W
from problems.convex import consensus_metrics
from algos._errors import StepSizeError, nan_unless_valid, scalars
from problems import mixing

__all__ = [
    "chebyshev_gossip",
    "heavy_ball_gossip",
    "chebyshev_filter",
    "chebyshev_coefficients",
    "gossip_spectrum",
    "heavy_ball_constants",
    "ChebyshevState",
    "HeavyBallState",
    "GossipInfo",
]


class ChebyshevState(NamedTuple):
    X: jax.Array  # (n, d) current iterate X_k
    X_prev: jax.Array  # (n, d) previous iterate X_{k-1} (X_0 before the first step)
    omega: jax.Array  # () omega_k, the weight used by the last step (1 before the second step)
    t: jax.Array  # () int, number of steps taken


class HeavyBallState(NamedTuple):
    X: jax.Array  # (n, d) current iterate X_k
    X_prev: jax.Array  # (n, d) previous iterate X_{k-1}


class GossipInfo(NamedTuple):
    cost: Cost


# --- spectral helpers (NumPy, factory time) ------------------------------------
def gossip_spectrum(W) -> tuple[float, float]:
    """``(l_min, l_max)``: the extreme eigenvalues of ``𝐖 = I - W`` on the mean-free subspace.

    Equals ``(1 - lambda_2(W), 1 - lambda_n(W))``; ``W`` may be a :class:`problems.mixing.Spectrum`
    already computed. Raises ``ValueError`` when
    ``W`` does not mix (``lambda_2 = 1``, e.g. a disconnected graph).
    """
    spec = W if isinstance(W, mixing.Spectrum) else mixing.spectrum(W)
    l_min, l_max = spec.l_min, spec.l_max
    if l_min <= 1e-14:
        raise ValueError("W does not mix (lambda_2(W) = 1): the graph is disconnected or W ignores an edge set")
    return float(l_min), float(max(l_max, l_min))


def chebyshev_coefficients(l_min: float, l_max: float) -> dict:
    """Constants of the Chebyshev polynomial on ``[l_min, l_max]`` (PAPERS.md / Scaman et al. 2017).

    Returns:
        dict with ``gamma = l_min / l_max``, ``c1 = (1 - sqrt(gamma)) / (1 + sqrt(gamma))``,
        ``inv_c2 = 1 / c2 = (1 - gamma) / (1 + gamma)`` (finite even when gamma = 1, where
        c2 is infinite), and ``c3 = 2 / ((1 + gamma) l_max)``.
    """
    gamma = l_min / l_max
    sg = math.sqrt(gamma)
    return {
        "gamma": gamma,
        "c1": (1.0 - sg) / (1.0 + sg),
        "inv_c2": (1.0 - gamma) / (1.0 + gamma),
        "c3": 2.0 / ((1.0 + gamma) * l_max),
    }


# --- the Chebyshev recurrence (JAX, traced) ------------------------------------
UNROLL = 4  # gossip rounds per loop iteration in chebyshev_filter
def _next_omega(t, omega, inv_c2):
    """Weight ``omega_{t+1}`` of step ``t -> t+1`` (``omega_1 = 1``, ``omega_2``, then the recurrence)."""
    s2 = inv_c2 * inv_c2
    second = 1.0 / (1.0 - 0.5 * s2)
    later = 1.0 / (1.0 - 0.25 * omega * s2)
    return jnp.where(t == 0, jnp.ones_like(omega), jnp.where(t == 1, second, later))


def _w_hat(W, c3, X):
    """``(I - c3 (I - W)) X``: one gossip round."""
    return (1.0 - c3) * X + c3 * (W @ X)


def chebyshev_filter(W, X, K, c3, inv_c2):
    """``T_K(c2 (I - c3 𝐖)) X / T_K(c2)`` with ``𝐖 = I - W``: K gossip rounds.

    Args:
        W: (n, n) mixing matrix.
        X: (n, d) node values.
        K: number of rounds (>= 1; may be traced).
        c3, inv_c2: from :func:`chebyshev_coefficients`.

    Returns:
        (n, d). It has the same average as ``X``. ``X - chebyshev_filter(...)`` is
        Scaman et al.'s AccGossip, i.e. ``P_K(𝐖) X``.
    """
    X1 = _w_hat(W, c3, X)
    omega0 = jnp.ones((), dtype=jnp.result_type(X))

    def body(t, carry):
        prev, cur, omega = carry
        om = _next_omega(t, omega, inv_c2)
        new = om * _w_hat(W, c3, cur) + (1.0 - om) * prev
        return cur, new, om

    def block(j, carry):  # UNROLL rounds per loop iteration (the same operations, in the same order)
        for i in range(UNROLL):
            carry = body(1 + UNROLL * j + i, carry)
        return carry

    # K may be traced, so lax's own unroll (static trip counts only) cannot be used: blocks, then the rest.
    # On XLA:CPU each while-loop iteration has a fixed cost; at n = 256, d = 100, K = 81 one round per
    # iteration took 17.0 ms and 4 per iteration 14.4 ms (benchmarks/RESULTS.md §2a).
    blocks = (K - 1) // UNROLL
    carry = lax.fori_loop(0, blocks, block, (X, X1, omega0))
    _, XK, _ = lax.fori_loop(1 + UNROLL * blocks, K, body, carry)
    return XK


# --- Chebyshev gossip ------------------------------------------------------------
def _build_chebyshev(params):
    W, X0, c3, inv_c2 = params["W"], params["x0"], params["c3"], params["inv_c2"]
    d = X0.shape[1]

    def init(key):
        del key
        return ChebyshevState(X=X0, X_prev=X0, omega=jnp.ones((), X0.dtype), t=jnp.zeros((), jnp.int32))

    def step(key, state):
        del key
        om = _next_omega(state.t, state.omega, inv_c2)
        X = om * _w_hat(W, c3, state.X) + (1.0 - om) * state.X_prev
        new = ChebyshevState(X=X, X_prev=state.X, omega=om, t=state.t + 1)
        return new, GossipInfo(cost=Cost(communications=1.0, floats_sent=float(d)))

    return init, step


def _resolve_spectrum(W, spectrum, fn: str, check: bool) -> tuple[float, float]:
    """``(l_min, l_max)`` of ``𝐖 = I - W``, from W's eigenvalues or from a user interval of W."""
    true_lo, true_hi = gossip_spectrum(W)
    if spectrum is None:
        return true_lo, true_hi
    lam_n, lam_2 = (float(v) for v in spectrum)
    if not (-1.0 - 1e-12 <= lam_n <= lam_2 < 1.0):
        raise ValueError(f"algos.{fn}: spectrum=(lambda_n, lambda_2) must satisfy -1 <= lambda_n <= lambda_2 < 1, got {spectrum}")
    lo, hi = 1.0 - lam_2, 1.0 - lam_n
    if check and (lo > true_lo * (1 + 1e-9) or hi < true_hi * (1 - 1e-9)):
        raise StepSizeError(
            f"algos.{fn}: spectrum={spectrum} does not contain W's mean-free spectrum "
            f"[{1 - true_hi:.6g}, {1 - true_lo:.6g}]; the method may diverge. Widen the interval, "
            "or pass check=False to run anyway"
        )
    return lo, hi


def chebyshev_gossip(problem, W, *, x0=None, spectrum=None, check: bool = True):
    """Chebyshev semi-iterative (accelerated) gossip, one round per step.

    Args:
        problem: a :class:`problems.convex.Problem` (the averaging problem: quadratic with ``A_i = I``).
        W: (n, n) symmetric mixing matrix, or a :class:`problems.mixing.MixingSequence`
            (time-varying; see :mod:`algos.consensus.time_varying`).
        x0: (n, d) starting values. Defaults to ``problem.data["b"]``.
        spectrum: ``(lambda_n, lambda_2)``, an interval containing ``W``'s spectrum on the
            mean-free subspace. Defaults to the exact eigenvalues.
        check: raise :class:`bounds.StepSizeError` when ``spectrum`` misses part of the true spectrum.

    Returns:
        An :class:`algos.Algorithm` with state ``ChebyshevState(X, X_prev, omega, t)``. The
        recurrence is time-varying, so it has no exact (spectral-radius) rate.
        ``||X_k - x_bar||_F <= 2 c1^k / (1 + c1^{2k}) ||X_0 - x_bar||_F``.
    """
    if isinstance(W, mixing.MixingSequence):  # time-varying network: algos/consensus/time_varying.py
        from algos.consensus.time_varying import chebyshev_sequence

        return chebyshev_sequence(problem, W, x0=x0, spectrum=spectrum)
    W_in, W = W, check_problem_and_W(problem, W, "chebyshev_gossip")
    spec = mixing.spectrum(W)
    lo, hi = _resolve_spectrum(spec, spectrum, "chebyshev_gossip", check)
    co = chebyshev_coefficients(lo, hi)
    params = {
        "problem": problem,
        "W": _gossip.as_param(W_in, W),
        "x0": default_x0(problem, x0, "chebyshev_gossip"),
        "c3": co["c3"],
        "inv_c2": co["inv_c2"],
    }
    hp = {"l_min": lo, "l_max": hi, "gamma": co["gamma"], "c1": co["c1"], "c3": co["c3"], "inv_c2": co["inv_c2"]}
    return make_algorithm(_build_chebyshev, params, consensus_metrics, "chebyshev_gossip", hparams=hp, spectrum=spec)


# --- heavy-ball gossip -------------------------------------------------------------
def heavy_ball_constants(l_min: float, l_max: float) -> tuple[float, float]:
    """Polyak's optimal ``(h, b)`` for a quadratic with Hessian spectrum ``[l_min, l_max]``."""
    a, z = math.sqrt(l_max), math.sqrt(l_min)
    return 4.0 / (a + z) ** 2, ((a - z) / (a + z)) ** 2


def _build_heavy_ball(params):
    W, X0, h, b = params["W"], params["x0"], params["h"], params["b"]
    d = X0.shape[1]

    def init(key):
        del key
        return HeavyBallState(X=X0, X_prev=X0)

    def step(key, state):
        del key
        X = state.X
        X_new = X - h * (X - W @ X) + b * (X - state.X_prev)
        return HeavyBallState(X=X_new, X_prev=X), GossipInfo(cost=Cost(communications=1.0, floats_sent=float(d)))

    return init, step


def heavy_ball_gossip(problem, W, *, x0=None, step_size=None, momentum=None, spectrum=None, check: bool = True):
    """Heavy-ball gossip ``X+ = X - h (I - W) X + b (X - X_prev)``, one round per step.

    Args:
        problem: a :class:`problems.convex.Problem` (the averaging problem: quadratic with ``A_i = I``).
        W: (n, n) symmetric mixing matrix, or a :class:`problems.mixing.MixingSequence`
            (time-varying; see :mod:`algos.consensus.time_varying`).
        x0: (n, d) starting values. Defaults to ``problem.data["b"]``.
        step_size: ``h``. Defaults to Polyak's ``4 / (sqrt(l_max) + sqrt(l_min))^2``. May be traced.
        momentum: ``b``. Defaults to ``((sqrt(l_max) - sqrt(l_min)) / (sqrt(l_max) + sqrt(l_min)))^2``.
        spectrum: ``(lambda_n, lambda_2)`` interval used for the defaults (default: exact).
        check: when concrete, validate stability. The iteration is stable iff
            ``0 <= b < 1`` and ``0 < h l < 2 (1 + b)`` for every ``l`` in
            ``[l_min, l_max]``. Outside that range it raises :class:`bounds.StepSizeError`; traced
            ``(h, b)`` outside it make the run NaN from step 1 (flagged ``diverged``).

    Returns:
        An :class:`algos.Algorithm` with state ``HeavyBallState(X, X_prev)``. The map is
        time-invariant, so ``bounds.convex.exact`` can compute its rate.
    """
    if isinstance(W, mixing.MixingSequence):  # time-varying network: algos/consensus/time_varying.py
        from algos.consensus.time_varying import heavy_ball_sequence

        return heavy_ball_sequence(problem, W, x0=x0, step_size=step_size, momentum=momentum, spectrum=spectrum, check=check)
    W_in, W = W, check_problem_and_W(problem, W, "heavy_ball_gossip")
    step_size, momentum = scalars("heavy_ball_gossip", step_size=step_size, momentum=momentum)
    spec = mixing.spectrum(W)
    lo, hi = _resolve_spectrum(spec, spectrum, "heavy_ball_gossip", check)
    h0, b0 = heavy_ball_constants(lo, hi)
    h = h0 if step_size is None else step_size
    b = b0 if momentum is None else momentum
    if check and is_concrete(h) and is_concrete(b):
        true_lo, true_hi = gossip_spectrum(spec)
        hf, bf = float(h), float(b)
        if not (0.0 <= bf < 1.0) or not (0.0 < hf * true_hi < 2.0 * (1.0 + bf)):
            raise StepSizeError(
                f"algos.heavy_ball_gossip: (h, b) = ({hf:.6g}, {bf:.6g}) is unstable; stability needs "
                f"0 <= b < 1 and 0 < h < 2 (1 + b) / l_max = {2 * (1 + bf) / true_hi:.6g} "
                f"(l_max = 1 - lambda_n(W) = {true_hi:.6g}). Use the defaults, or pass check=False"
            )
    hp = {"l_min": lo, "l_max": hi}
    if is_concrete(h) and is_concrete(b):
        hp.update(step_size=float(h), momentum=float(b))
    # traced (h, b) outside the stability region: NaN, so the run is flagged diverged at step 1
    true_hi = gossip_spectrum(spec)[1]
    h = nan_unless_valid(h, lambda: (b >= 0) & (b < 1) & (h > 0) & (h * true_hi < 2.0 * (1.0 + b)), h, b, check=check)
    params = {"problem": problem, "W": _gossip.as_param(W_in, W), "x0": default_x0(problem, x0, "heavy_ball_gossip"), "h": h, "b": b}
    return make_algorithm(_build_heavy_ball, params, consensus_metrics, "heavy_ball_gossip", hparams=hp, spectrum=spec)


def _chebyshev_matrix(W, K: int) -> np.ndarray:
    """Dense ``T_K(c2 (I - c3 𝐖)) / T_K(c2)`` via :func:`chebyshev_filter` (for tests and bounds)."""
    lo, hi = gossip_spectrum(W)
    co = chebyshev_coefficients(lo, hi)
    W = jnp.asarray(W)
    return np.asarray(chebyshev_filter(W, jnp.eye(W.shape[0], dtype=W.dtype), K, co["c3"], co["inv_c2"]))

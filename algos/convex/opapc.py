"""APAPC and OPAPC (Kovalev, Salim & Richtárik, NeurIPS 2020, arXiv:2006.11773).

Problem class: ``min_x sum_i f_i(x)``. Each ``f_i`` is ``L``-smooth and
``mu``-strongly convex, and only primal gradients are used. ratebench's
problems average the ``f_i``; the minimizer is the same, and the per-node
constants ``L``, ``mu`` are what the method needs. The gossip matrix is
``𝐖 = I - W`` (PSD, kernel = span 1), with ``chi = l_max / l_min``, the ratio
of its extreme eigenvalues on the mean-free subspace (``mixing.chi(W)``).

APAPC (Algorithm 1: accelerated primal-dual forward-backward), with
``alpha = mu`` and ``grad F`` the stacked local gradients::

    X_g    = tau X + (1 - tau) X_f
    D      = grad F(X_g) - alpha X_g
    X_half = (X - eta (D + Y)) / (1 + eta alpha)
    Y+     = Y + theta 𝐖 X_half                      (one gossip round)
    X+     = (X - eta (D + Y+)) / (1 + eta alpha)
    X_f+   = X_g + (2 tau / (2 - tau)) (X+ - X)
    Y_0 = 0, X_f0 = X_0
    tau = min(1, sqrt(chi / kappa) / 2),  eta = 1 / (4 tau L),  theta = 1 / (eta l_max)

OPAPC (Algorithm 2) is APAPC with ``𝐖`` replaced by the Chebyshev polynomial
``P_T(𝐖) = I - T_T(c2 (I - c3 𝐖)) / T_T(c2)`` of
:func:`algos.consensus.chebyshev_gossip.chebyshev_filter`, with
``T = floor(sqrt(chi))`` gossip rounds. The constants are
``c1 = (sqrt(chi) - 1) / (sqrt(chi) + 1)``, ``c2 = (chi + 1) / (chi - 1)``,
``c3 = 2 chi / ((1 + chi) l_max)``, and::

    tau   = min(1, (1 + c1^T) / (2 sqrt(kappa) (1 - c1^T)))
    eta   = 1 / (4 tau L)
    theta = (1 + c1^{2T}) / (eta (1 + c1^T)^2)

Sources and verification: the update order and constants are PAPERS.md's. The
paper's algorithm boxes could not be read here. docs/VERIFICATION.md §6
recalls the same APAPC constants (medium confidence). It checks that the OPAPC
constants are exactly APAPC's theorem with ``P_T`` in place of ``𝐖``:
``chi(P_T) <= ((1 + c1^T) / (1 - c1^T))^2`` and
``lambda_max(P_T) <= (1 + c1^T)^2 / (1 + c1^{2T})``. Two public codes have
bugs: a wrong Chebyshev recurrence; and ``T = floor(chi)`` with an
operator-precedence slip in theta. This code uses ``T = floor(sqrt(chi))``,
theta exactly as written above, and a Chebyshev recurrence tested against
``numpy.polynomial.chebyshev``.

Cost per step and node: one gradient (at ``X_g``) for both methods. APAPC
sends one vector (the gossip of ``X_half``); OPAPC sends ``T``.
Complexity (abstract, verified): OPAPC needs ``O(sqrt(kappa chi) log 1/eps)``
communications and ``O(sqrt(kappa) log 1/eps)`` gradients. APAPC needs
``O((sqrt(kappa chi) + chi) log 1/eps)`` of both (the recalled Theorem 1).
Matching bounds: :mod:`bounds.convex.opapc`.

The reported primal iterate ``X`` is the paper's ``x^k``. On quadratics the step
is an affine, time-invariant map of ``(X, Xf, Y)``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from algos import _gossip
from algos._core import Cost, is_concrete, make_algorithm
from algos.consensus.chebyshev_gossip import chebyshev_coefficients, chebyshev_filter, gossip_spectrum
from problems import mixing
from algos.convex._common import check_problem_and_W, convex_metrics
from algos.convex.msda import acc_gossip_eigenvalues
from algos._errors import StepSizeError, nan_unless_valid, scalars

__all__ = ["apapc", "opapc", "PAPCState", "PAPCInfo", "opapc_constants", "apapc_constants"]


class PAPCState(NamedTuple):
    X: jax.Array  # (n, d) primal iterate x^k
    Xf: jax.Array  # (n, d) the "f" sequence x_f^k
    Y: jax.Array  # (n, d) dual variable (mean-free: it stays in range(𝐖))


class PAPCInfo(NamedTuple):
    cost: Cost


def apapc_constants(L: float, mu: float, chi: float, l_max: float) -> dict:
    """APAPC's ``tau``, ``eta``, ``theta`` (formulas in the module docstring)."""
    kappa = L / mu
    tau = min(1.0, 0.5 * math.sqrt(chi / kappa))
    eta = 1.0 / (4.0 * tau * L)
    return {"tau": tau, "eta": eta, "theta": 1.0 / (eta * l_max)}


def opapc_constants(L: float, mu: float, chi: float, T: int) -> dict:
    """OPAPC's ``tau``, ``eta``, ``theta`` for ``T`` Chebyshev rounds (module docstring)."""
    kappa = L / mu
    sc = math.sqrt(chi)
    c1 = (sc - 1.0) / (sc + 1.0)
    cT = c1**T
    tau = min(1.0, (1.0 + cT) / (2.0 * math.sqrt(kappa) * (1.0 - cT)))
    eta = 1.0 / (4.0 * tau * L)
    theta = (1.0 + cT**2) / (eta * (1.0 + cT) ** 2)
    return {"tau": tau, "eta": eta, "theta": theta, "c1": c1}


def _papc_step(p, op, tau, eta, theta, state):
    alpha = p.mu
    Xg = tau * state.X + (1.0 - tau) * state.Xf
    D = p.grad(Xg) - alpha * Xg
    scale = 1.0 / (1.0 + eta * alpha)
    X_half = scale * (state.X - eta * (D + state.Y))
    Y = state.Y + theta * op(X_half)
    X = scale * (state.X - eta * (D + Y))
    Xf = Xg + (2.0 * tau / (2.0 - tau)) * (X - state.X)
    return PAPCState(X=X, Xf=Xf, Y=Y)


def _build_apapc(params):
    p, W, X0 = params["problem"], params["W"], params["x0"]
    tau, eta, theta = params["tau"], params["eta"], params["theta"]
    d = X0.shape[1]

    def init(key):
        del key
        return PAPCState(X=X0, Xf=X0, Y=jnp.zeros_like(X0))

    def op(V):  # 𝐖 V = (I - W) V: one gossip round
        return V - W @ V

    def step(key, state):
        del key
        return _papc_step(p, op, tau, eta, theta, state), PAPCInfo(cost=Cost(communications=1.0, floats_sent=float(d), gradient_calls=1.0))

    return init, step


def _build_opapc(params):
    p, W, X0 = params["problem"], params["W"], params["x0"]
    tau, eta, theta = params["tau"], params["eta"], params["theta"]
    T, c3, inv_c2 = params["T"], params["c3"], params["inv_c2"]
    d = X0.shape[1]

    def init(key):
        del key
        return PAPCState(X=X0, Xf=X0, Y=jnp.zeros_like(X0))

    def op(V):  # P_T(𝐖) V: T gossip rounds
        return V - chebyshev_filter(W, V, T, c3, inv_c2)

    def step(key, state):
        del key
        info = PAPCInfo(cost=Cost(communications=1.0 * T, floats_sent=1.0 * T * d, gradient_calls=1.0))
        return _papc_step(p, op, tau, eta, theta, state), info

    return init, step


def _x0(problem, x0, fn):
    if x0 is None:
        return problem.x0()
    x0 = jnp.asarray(x0, dtype=jnp.result_type(problem.x_star))
    if x0.shape != (problem.n_nodes, problem.dim):
        raise ValueError(f"algos.{fn}: x0 must have shape ({problem.n_nodes}, {problem.dim}), got {x0.shape}")
    return x0


def _validate(fn, tau, eta, theta, L, theta_max, check):
    """Theorem range: 0 < tau <= 1, 0 < eta <= 1/(4 tau L), 0 < theta <= theta_max (when concrete)."""
    if not check:
        return
    if is_concrete(tau) and not 0.0 < float(tau) <= 1.0:
        raise StepSizeError(f"algos.{fn}: tau must lie in (0, 1], got {float(tau):.6g}")
    if is_concrete(tau) and is_concrete(eta):
        lim = 1.0 / (4.0 * float(tau) * L)
        if not 0.0 < float(eta) <= lim * (1 + 1e-9):
            raise StepSizeError(
                f"algos.{fn}: step_size={float(eta):.6g} is outside (0, 1/(4 tau L)] = (0, {lim:.6g}], where the "
                "theorem is stated (it takes eta = 1/(4 tau L)). Pass a smaller step_size, or check=False"
            )
    if is_concrete(theta) and theta_max is not None and not 0.0 < float(theta) <= theta_max * (1 + 1e-9):
        raise StepSizeError(
            f"algos.{fn}: theta={float(theta):.6g} is outside (0, 1/(eta lambda_max)] = (0, {theta_max:.6g}]. "
            "Pass a smaller theta, or check=False"
        )


def _guard(tau, eta, theta, L, pmax, check):
    """Traced ``(tau, eta, theta)`` outside :func:`_validate`'s range make ``eta`` NaN (the run is then
    flagged ``diverged`` at step 1); ``pmax`` is the largest eigenvalue of the dual operator."""

    def valid():
        return (
            (tau > 0) & (tau <= 1)
            & (eta > 0) & (eta <= (1 + 1e-9) / (4.0 * tau * L))
            & (theta > 0) & (theta <= (1 + 1e-9) / (eta * pmax))
        )  # fmt: skip

    return nan_unless_valid(eta, valid, tau, eta, theta, check=check)


def _hp(d, **kw):
    out = dict(d)
    for k, v in kw.items():
        if is_concrete(v):
            out[k] = float(v)
    return out


def apapc(problem, W, *, step_size=None, tau=None, theta=None, x0=None, check: bool = True):
    """APAPC (Kovalev, Salim & Richtárik 2020, Algorithm 1) on ``𝐖 = I - W``.

    Args:
        problem: a :class:`problems.convex.Problem`.
        W: (n, n) symmetric mixing matrix. The method uses ``𝐖 = I - W``.
        step_size: ``eta``. Defaults to ``1 / (4 tau L)``. May be traced.
        tau: defaults to ``min(1, sqrt(chi / kappa) / 2)``.
        theta: dual step. Defaults to ``1 / (eta l_max)``.
        x0: (n, d) start. Defaults to zeros.
        check: when concrete, validate ``0 < tau <= 1``, ``0 < eta <= 1/(4 tau L)`` and
            ``0 < theta <= 1/(eta l_max)``. Outside that range it raises :class:`bounds.StepSizeError`;
            traced values outside it make the run NaN from step 1 (flagged ``diverged``).

    Returns:
        An :class:`algos.Algorithm` with state ``PAPCState(X, Xf, Y)``. Each step makes one
        gradient call and one gossip round.
    """
    W_in, W = W, check_problem_and_W(problem, W, "apapc")
    step_size, tau, theta = scalars("apapc", step_size=step_size, tau=tau, theta=theta)
    spec = mixing.spectrum(W)
    l_min, l_max = gossip_spectrum(spec)
    chi = l_max / l_min
    L, mu = float(problem.L), float(problem.mu)
    c = apapc_constants(L, mu, chi, l_max)
    tau = c["tau"] if tau is None else tau
    eta = 1.0 / (4.0 * tau * L) if step_size is None else step_size
    if theta is None:
        theta = 1.0 / (eta * l_max)
    theta_max = 1.0 / (float(eta) * l_max) if is_concrete(eta) else None
    _validate("apapc", tau, eta, theta, L, theta_max, check)
    hp = _hp({"chi": chi, "l_min": l_min, "l_max": l_max}, tau=tau, step_size=eta, theta=theta)
    eta = _guard(tau, eta, theta, L, l_max, check)
    params = {"problem": problem, "W": _gossip.as_param(W_in, W), "x0": _x0(problem, x0, "apapc"), "tau": tau, "eta": eta, "theta": theta}
    return make_algorithm(_build_apapc, params, convex_metrics, "apapc", hparams=hp, spectrum=spec)


def opapc(problem, W, *, T=None, step_size=None, tau=None, theta=None, x0=None, check: bool = True):
    """OPAPC (Kovalev, Salim & Richtárik 2020, Algorithm 2): APAPC with a Chebyshev polynomial of ``I - W``.

    Args:
        problem: a :class:`problems.convex.Problem`.
        W: (n, n) symmetric mixing matrix. The method uses ``𝐖 = I - W``.
        T: gossip rounds per step (the polynomial's degree). Defaults to ``floor(sqrt(chi))``, at least 1.
        step_size: ``eta``. Defaults to ``1 / (4 tau L)``. May be traced.
        tau: defaults to ``min(1, (1 + c1^T) / (2 sqrt(kappa) (1 - c1^T)))``.
        theta: dual step. Defaults to ``(1 + c1^{2T}) / (eta (1 + c1^T)^2)``.
        x0: (n, d) start. Defaults to zeros.
        check: when concrete, validate ``T >= 1``, ``0 < tau <= 1``, ``0 < eta <= 1/(4 tau L)``
            and ``0 < theta <= 1/(eta lambda_max(P_T))``. Outside that range it raises
            :class:`bounds.StepSizeError`; traced values outside it make the run NaN from step 1
            (flagged ``diverged``).

    Returns:
        An :class:`algos.Algorithm` with state ``PAPCState(X, Xf, Y)``. Each step makes one
        gradient call and T gossip rounds.
    """
    W_in, W = W, check_problem_and_W(problem, W, "opapc")
    step_size, tau, theta = scalars("opapc", step_size=step_size, tau=tau, theta=theta)
    spec = mixing.spectrum(W)
    l_min, l_max = gossip_spectrum(spec)
    chi = l_max / l_min
    co = chebyshev_coefficients(l_min, l_max)
    L, mu = float(problem.L), float(problem.mu)
    if T is None:
        T = max(1, int(math.floor(math.sqrt(chi) + 1e-12)))
    if not isinstance(T, (int, np.integer)) or T < 1:
        raise ValueError(f"algos.opapc: T (gossip rounds per step) must be a positive integer, got {T!r}")
    T = int(T)
    c = opapc_constants(L, mu, chi, T)
    cT = c["c1"] ** T
    if tau is None:
        tau = c["tau"]
    eta = 1.0 / (4.0 * tau * L) if step_size is None else step_size
    if theta is None:
        theta = (1.0 + cT**2) / (eta * (1.0 + cT) ** 2)
    lam = np.sort(1.0 - spec.eigenvalues)
    pmax = float(acc_gossip_eigenvalues(lam, T, l_min, l_max).max()) if co["gamma"] < 1 - 1e-12 else co["c3"] * l_max
    theta_max = 1.0 / (float(eta) * pmax) if is_concrete(eta) else None
    _validate("opapc", tau, eta, theta, L, theta_max, check)
    hp = _hp({"chi": chi, "T": T, "c1": c["c1"], "l_min": l_min, "l_max": l_max}, tau=tau, step_size=eta, theta=theta)
    eta = _guard(tau, eta, theta, L, pmax, check)
    params = {
        "problem": problem,
        "W": _gossip.as_param(W_in, W),
        "x0": _x0(problem, x0, "opapc"),
        "tau": tau,
        "eta": eta,
        "theta": theta,
        "T": T,
        "c3": co["c3"],
        "inv_c2": co["inv_c2"],
    }
    return make_algorithm(_build_opapc, params, convex_metrics, "opapc", hparams=hp, spectrum=spec)

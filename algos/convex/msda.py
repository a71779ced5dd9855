"""MSDA: multi-step dual accelerated method (Scaman, Bach, Bubeck, Lee & Massoulié, ICML 2017).

Problem class: ``min_x (1/n) sum_i f_i(x)``. Each ``f_i`` is ``L``-smooth and
``mu``-strongly convex, and the conjugate gradient ``grad f_i^*`` is available
(``problem.conj_grad``: quadratics and least squares). The minimizer is the
same for the sum and the average, so Scaman et al.'s sum convention needs no
rescaling.

MSDA is Nesterov's accelerated gradient with constant momentum, run on the dual
of ``min sum_i f_i(theta_i)`` subject to ``sqrt(P) Theta = 0``, where
``P = P_K(𝐖)`` is a Chebyshev polynomial of the gossip matrix ``𝐖 = I - W``
(PSD, kernel = span 1). Writing the dual iterates in the variable
``x = lambda sqrt(P)`` gives, per step::

    Theta_t = grad F^*(x_t)                     (conjugate-gradient oracle, one per node)
    y_{t+1} = x_t - eta P_K(𝐖) Theta_t          (AccGossip: K gossip rounds)
    x_{t+1} = (1 + m) y_{t+1} - m y_t,          x_0 = y_0 = 0.

The primal iterate reported as ``X`` is ``Theta_t = grad F^*(x_t)``.

Constants (PAPERS.md; docs/VERIFICATION.md §5, math-verified there, and the
Chebyshev polynomial tested against its definition in tests/algos/test_optimal.py):

* ``gamma = l_min / l_max`` with ``l_min``, ``l_max`` the extreme eigenvalues of ``𝐖``
  on the mean-free subspace; ``c1 = (1 - sqrt(gamma)) / (1 + sqrt(gamma))``,
  ``c2 = (1 + gamma) / (1 - gamma)``, ``c3 = 2 / ((1 + gamma) l_max)``, ``K = floor(1 / sqrt(gamma))``;
* ``P_K(𝐖) = I - T_K(c2 (I - c3 𝐖)) / T_K(c2)``, with spectrum on the mean-free subspace in
  ``[(1 - c1^K)^2, (1 + c1^K)^2] / (1 + c1^{2K})``;
* ``eta = mu (1 + c1^{2K}) / (1 + c1^K)^2``, which is ``1 / L_dual`` for the bound
  ``L_dual = lambda_max(P_K) / mu``;
* ``m = ((1 + c1^K) sqrt(kappa) - 1 + c1^K) / ((1 + c1^K) sqrt(kappa) + 1 - c1^K)``, which is
  ``(sqrt(kappa_d) - 1) / (sqrt(kappa_d) + 1)`` with
  ``kappa_d = kappa (1 + c1^K)^2 / (1 - c1^K)^2``.

Naming: Scaman et al. write ``alpha`` for strong convexity, ``beta`` for
smoothness and ``mu`` for the momentum. Here ``mu`` is strong convexity and
``m`` is the momentum.

Cost per step and node: K gossip rounds (``vectors = K``) and one
conjugate-gradient oracle call (``grads = 1``). ``init`` makes one extra oracle
call, at ``x_0 = 0``, which is not counted.

Complexity (abstract of arXiv:1702.08704, verified): ``O(sqrt(kappa) log 1/eps)``
gradient steps and ``O(sqrt(kappa / gamma) log 1/eps)`` communication rounds.
This matches the lower bound. Matching bound: :func:`bounds.convex.msda.msda`.

On quadratics the step is an affine, time-invariant map of ``(X, Z, Y)``: the
K-round AccGossip is a fixed polynomial of ``W``.
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
from algos._errors import StepSizeError, nan_unless_valid, scalars

__all__ = ["msda", "MSDAState", "MSDAInfo", "msda_constants", "acc_gossip", "acc_gossip_eigenvalues"]


class MSDAState(NamedTuple):
    X: jax.Array  # (n, d) primal iterate grad F^*(Z)
    Z: jax.Array  # (n, d) dual extrapolated point x_t
    Y: jax.Array  # (n, d) dual gradient-step point y_t


class MSDAInfo(NamedTuple):
    cost: Cost


def acc_gossip(W, X, K, c3, inv_c2):
    """Scaman et al.'s AccGossip: ``P_K(𝐖) X = X - T_K(c2 (I - c3 𝐖)) X / T_K(c2)``, K rounds."""
    return X - chebyshev_filter(W, X, K, c3, inv_c2)


def acc_gossip_eigenvalues(l: np.ndarray, K: int, l_min: float, l_max: float) -> np.ndarray:
    """``P_K(l) = 1 - T_K(c2 (1 - c3 l)) / T_K(c2)`` at eigenvalues ``l`` of ``𝐖``, straight from the definition.

    This uses ``numpy.polynomial.chebyshev`` for ``T_K``. It is the reference the
    recurrence is tested against. Needs ``gamma < 1`` (``c2`` finite).
    """
    from numpy.polynomial import chebyshev as C

    co = chebyshev_coefficients(l_min, l_max)
    c2, c3 = 1.0 / co["inv_c2"], co["c3"]
    coef = np.zeros(K + 1)
    coef[K] = 1.0
    return 1.0 - C.chebval(c2 * (1.0 - c3 * np.asarray(l, float)), coef) / C.chebval(c2, coef)


def msda_constants(kappa: float, mu: float, c1: float, K: int) -> tuple[float, float]:
    """``(eta, m)`` of MSDA for condition number ``kappa``, strong convexity ``mu`` and ``c1^K``."""
    cK = c1**K
    eta = mu * (1.0 + cK**2) / (1.0 + cK) ** 2
    sk = math.sqrt(kappa)
    m = ((1.0 + cK) * sk - 1.0 + cK) / ((1.0 + cK) * sk + 1.0 - cK)
    return eta, m


def _build(params):
    p, W = params["problem"], params["W"]
    K, c3, inv_c2, eta, m = params["K"], params["c3"], params["inv_c2"], params["eta"], params["m"]
    n, d = p.n_nodes, p.dim
    dtype = jnp.result_type(p.x_star)

    def init(key):
        del key
        Z = jnp.zeros((n, d), dtype)
        return MSDAState(X=p.conj_grad(Z), Z=Z, Y=Z)

    def step(key, state):
        del key
        Y = state.Z - eta * acc_gossip(W, state.X, K, c3, inv_c2)
        Z = (1.0 + m) * Y - m * state.Y
        new = MSDAState(X=p.conj_grad(Z), Z=Z, Y=Y)
        return new, MSDAInfo(cost=Cost(communications=1.0 * K, floats_sent=1.0 * K * d, gradient_calls=1.0))

    return init, step


def msda(problem, W, *, K=None, step_size=None, momentum=None, check: bool = True):
    """MSDA (Scaman et al. 2017) with Chebyshev AccGossip on ``𝐖 = I - W``.

    Args:
        problem: a :class:`problems.convex.Problem` with a conjugate oracle (``problem.conj``).
        W: (n, n) symmetric mixing matrix. The method uses ``𝐖 = I - W``.
        K: gossip rounds per step. Defaults to ``floor(1 / sqrt(gamma))``, ``gamma = 1 / chi``.
        step_size: ``eta``. Defaults to ``mu (1 + c1^{2K}) / (1 + c1^K)^2``. May be traced.
        momentum: ``m``. Defaults to the value derived from the same ``K`` (module docstring).
        check: when concrete, validate ``K >= 1``, ``0 < eta <= mu / lambda_max(P_K(𝐖))``
            (``1 / L_dual``: the accelerated-gradient theorem's range) and ``0 <= m < 1``.
            Outside that range it raises :class:`bounds.StepSizeError`; a traced ``eta`` or ``m``
            outside it makes the run NaN from step 1 (flagged ``diverged``).

    Returns:
        An :class:`algos.Algorithm` with state ``MSDAState(X, Z, Y)``. ``X`` is the primal iterate.

    Raises:
        NotImplementedError: the problem has no closed-form conjugate gradient.
    """
    W_in, W = W, check_problem_and_W(problem, W, "msda")
    step_size, momentum = scalars("msda", step_size=step_size, momentum=momentum)
    spec = mixing.spectrum(W)
    if problem.conj is None:
        raise NotImplementedError(
            f"algos.msda needs the conjugate-gradient oracle grad f_i^*, which problem {problem.name!r} "
            "does not provide; use convex.quadratic or convex.least_squares, or a primal method such as algos.opapc"
        )
    l_min, l_max = gossip_spectrum(spec)
    co = chebyshev_coefficients(l_min, l_max)
    L, mu = float(problem.L), float(problem.mu)
    kappa = L / mu
    if K is None:
        K = max(1, int(math.floor(1.0 / math.sqrt(co["gamma"]) + 1e-12)))
    if not isinstance(K, (int, np.integer)) or K < 1:
        raise ValueError(f"algos.msda: K (gossip rounds per step) must be a positive integer, got {K!r}")
    K = int(K)
    eta0, m0 = msda_constants(kappa, mu, co["c1"], K)
    eta = eta0 if step_size is None else step_size
    m = m0 if momentum is None else momentum
    lam = np.sort(1.0 - spec.eigenvalues)  # mean-free spectrum of 𝐖 = I - W (ascending)
    pmax = float(acc_gossip_eigenvalues(lam, K, l_min, l_max).max()) if co["gamma"] < 1 - 1e-12 else co["c3"] * l_max
    limit = mu / pmax
    if check and is_concrete(eta):
        if not 0.0 < float(eta) <= limit * (1.0 + 1e-9):
            raise StepSizeError(
                f"algos.msda: step_size={float(eta):.6g} is outside (0, mu / lambda_max(P_K(I - W))] = (0, {limit:.6g}], "
                f"the range of the accelerated-gradient theorem on the dual (default {eta0:.6g}). "
                "Pass a smaller step_size, or check=False"
            )
    if check and is_concrete(m) and not 0.0 <= float(m) < 1.0:
        raise StepSizeError(f"algos.msda: momentum must lie in [0, 1), got {float(m):.6g} (default {m0:.6g})")
    hp = {"K": K, "gamma": co["gamma"], "c1": co["c1"], "l_min": l_min, "l_max": l_max}
    if is_concrete(eta):
        hp["step_size"] = float(eta)
    if is_concrete(m):
        hp["momentum"] = float(m)
    # traced (eta, m) outside that range: NaN, so the run is flagged diverged at step 1
    eta = nan_unless_valid(eta, lambda: (eta > 0) & (eta <= limit * (1.0 + 1e-9)) & (m >= 0) & (m < 1), eta, m, check=check)
    params = {
        "problem": problem,
        "W": _gossip.as_param(W_in, W),
        "K": K,
        "c3": co["c3"],
        "inv_c2": co["inv_c2"],
        "eta": eta,
        "m": m,
    }
    return make_algorithm(_build, params, convex_metrics, "msda", hparams=hp, spectrum=spec)

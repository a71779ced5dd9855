"""Guarantees for plain, Chebyshev and heavy-ball gossip (average consensus on a static graph).

All three bounds are on the ``consensus_error`` metric,
``sqrt((1/n) sum_i ||x_i - x_bar||^2) = ||X - 1 x_bar^T||_F / sqrt(n)``. The
average ``x_bar`` never changes, so each bound is a statement about the
mean-free part of ``X``. The notation is that of
:mod:`algos.consensus.chebyshev_gossip`: ``l_min = 1 - lambda_2(W)``,
``l_max = 1 - lambda_n(W)``, ``gamma = l_min / l_max = 1 / chi``,
``c1 = (1 - sqrt(gamma)) / (1 + sqrt(gamma))``.
"""

from __future__ import annotations

import math

from algos.consensus.chebyshev_gossip import (
    _resolve_spectrum,
    chebyshev_coefficients,
    gossip_spectrum,
    heavy_ball_constants,
)
from bounds._check import Bound
from problems import mixing

__all__ = ["gossip", "chebyshev_gossip", "heavy_ball_gossip", "chebyshev_rounds"]


def _first_k(fn, eps: float, k_max: int = 10**8) -> float:
    """Smallest integer k >= 0 with ``fn(k) <= eps`` (``fn`` nonincreasing for large k), found by doubling and bisection."""
    if fn(0) <= eps:
        return 0.0
    hi = 1
    while fn(hi) > eps:
        hi *= 2
        if hi > k_max:
            return math.inf
    lo = hi // 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fn(mid) <= eps:
            hi = mid
        else:
            lo = mid
    return float(hi)


def gossip(problem, W, *, x0=None) -> Bound:
    """Plain gossip: ``||X_k - x_bar||_F <= slem(W)^k ||X_0 - x_bar||_F``.

    Statement: for symmetric ``W`` with ``W 1 = 1``, ``X_k - 1 x_bar^T = (W - 11^T/n)^k (X_0 - 1 x_bar^T)``
    and ``||W - 11^T/n||_2 = slem(W)``. Metric: ``consensus_error``. Tight:
    equality for a start along an eigenvector of the eigenvalue of largest modulus.
    For a generic start the fitted rate equals ``slem(W)`` (the exact rate).
    Source: classical; Xiao & Boyd, "Fast linear iterations for distributed
    averaging" (2004), Sec. 2 (the convergence factor of ``x(t+1) = W x(t)``).
    Verified here: it follows directly from the spectral theorem, and
    tests/bounds/test_optimal_bounds.py checks it numerically.
    """
    del problem, x0
    s = mixing.slem(W)
    return Bound(
        name="gossip",
        kind="exact",
        source="Classical (Xiao & Boyd 2004, Sec. 2): ||W^k x - x_bar|| <= slem(W)^k ||x - x_bar|| for symmetric W",
        metric="consensus_error",
        x_axis="steps",
        rate=s,
        constant=1.0,
        exact_rate=s,
        complexity={"steps": lambda eps, s=s: _first_k(lambda k: s**k, eps), "communications": lambda eps, s=s: _first_k(lambda k: s**k, eps)},
        conditions={"mixes (slem < 1)": s < 1.0},
        params={"slem": s},
        notes="Exact and tight; per step = per communication round.",
    )


def chebyshev_rounds(c1: float, eps: float) -> float:
    """Smallest K with ``2 c1^K / (1 + c1^{2K}) <= eps``: Chebyshev gossip rounds for a relative error ``eps``."""
    return _first_k(lambda k: 2.0 * c1**k / (1.0 + c1 ** (2 * k)), eps)


def chebyshev_gossip(problem, W, *, x0=None, spectrum=None, check: bool = True) -> Bound:
    """Chebyshev gossip: ``||X_k - x_bar||_F <= 2 c1^k / (1 + c1^{2k}) ||X_0 - x_bar||_F``.

    Statement: ``X_k - x_bar = p_k(W)(X_0 - x_bar)`` with
    ``p_k(lambda) = T_k(c2 (1 - c3 (1 - lambda))) / T_k(c2)``. On ``[lambda_n, lambda_2]``,
    ``|p_k| <= 1 / T_k(c2)``, and ``T_k(c2) = (c1^{-k} + c1^k) / 2`` because
    ``c2 + sqrt(c2^2 - 1) = 1 / c1``. So the factor is ``2 c1^k / (1 + c1^{2k}) <= 2 c1^k``.
    It is the smallest worst-case factor of any degree-k polynomial with ``p(1) = 1``
    (Chebyshev's minimax property). Metric: ``consensus_error``; ``rate = c1`` with ``constant = 2``.
    Tight: equality at ``lambda_2`` and ``lambda_n``, so a generic start's fitted rate is ``c1``.
    ``complexity["steps"]`` is the exact k for the exact factor ``2 c1^k / (1 + c1^{2k})``.
    Source: classical Chebyshev semi-iterative method (Golub & Varga, Numer. Math. 3, 1961); the
    same polynomial is Scaman et al. (2017)'s AccGossip. Verified in docs/VERIFICATION.md §8
    (max over the spectrum equals ``2 c1^k / (1 + c1^{2k})`` to all printed digits) and in
    tests/bounds/test_optimal_bounds.py.
    The recurrence's coefficients change with k, so there is no single iteration
    matrix: ``exact_rate`` is the asymptotic rate ``c1``, not a spectral radius.
    """
    del problem, x0
    lo, hi = _resolve_spectrum(W, spectrum, "chebyshev_gossip", check)
    true_lo, true_hi = gossip_spectrum(W)
    co = chebyshev_coefficients(lo, hi)
    c1 = co["c1"]
    covers = lo <= true_lo * (1 + 1e-9) and hi >= true_hi * (1 - 1e-9)
    return Bound(
        name="chebyshev_gossip",
        kind="exact",
        source=(
            "Chebyshev semi-iterative method (Golub & Varga 1961): max_[l_min,l_max] |T_k(c2(1-c3 l))/T_k(c2)| "
            "= 2c1^k/(1+c1^2k); verified numerically (docs/VERIFICATION.md §8, tests)"
        ),
        metric="consensus_error",
        x_axis="steps",
        rate=c1,
        constant=2.0,
        exact_rate=c1,
        complexity={"steps": lambda eps, c1=c1: chebyshev_rounds(c1, eps), "communications": lambda eps, c1=c1: chebyshev_rounds(c1, eps)},
        conditions={"interval contains the mean-free spectrum": covers, "mixes (lambda_2 < 1)": true_lo > 0},
        params={"l_min": lo, "l_max": hi, "gamma": co["gamma"], "c1": c1},
        notes="Exact factor 2c1^k/(1+c1^{2k}) <= 2 c1^k; time-varying recurrence (no iteration matrix).",
    )


def heavy_ball_gossip(problem, W, *, x0=None, step_size=None, momentum=None, spectrum=None, check: bool = True) -> Bound:
    """Heavy-ball gossip with Polyak's constants: asymptotic rate ``sqrt(b) = c1``.

    Statement (Polyak 1964; *Introduction to Optimization* 1987, Sec. 3.2, quadratic case):
    with ``h = 4 / (sqrt(l_max) + sqrt(l_min))^2`` and
    ``b = ((sqrt(l_max) - sqrt(l_min)) / (sqrt(l_max) + sqrt(l_min)))^2``, every mean-free
    mode has characteristic roots of modulus ``sqrt(b)``. The spectral radius of the
    iteration on the mean-free subspace is exactly ``sqrt(b)``
    (docs/VERIFICATION.md §9, math-verified).

    Finite-k form, derived here (not quoted from Polyak): per eigenvalue ``l`` the error obeys
    ``e_{k+1} = (1 + b - h l) e_k - b e_{k-1}`` with ``e_{-1} = e_0``. With
    ``cos(phi) = (1 + b - h l) / (2 sqrt(b))`` in ``[-1, 1]`` this gives
    ``e_k = sqrt(b)^k (U_k(cos phi) - sqrt(b) U_{k-1}(cos phi)) e_0``, where ``U_k`` is the
    Chebyshev polynomial of the second kind and ``|U_k| <= k + 1``. Hence
    ``||X_k - x_bar||_F <= (1 + (1 + sqrt(b)) k) sqrt(b)^k ||X_0 - x_bar||_F``.
    ``complexity["steps"]`` uses this form.

    The polynomial factor comes from the double roots (Jordan blocks) at ``l_min`` and
    ``l_max``. It is real: a rate fitted over a finite window comes out slightly above
    ``sqrt(b)``, by about ``exp(1/k)``. So ``rate = sqrt(b)`` is the asymptotic rate, and
    ``bounds.compare`` with its default ``rtol`` may report it as violated on short runs.
    Check the finite-k form instead (tests/bounds/test_optimal_bounds.py does).
    Metric: ``consensus_error``. Valid only with the default (Polyak) ``h`` and ``b``;
    with other values the condition ``polyak constants`` is False.
    """
    del problem, x0
    lo, hi = _resolve_spectrum(W, spectrum, "heavy_ball_gossip", check)
    h0, b0 = heavy_ball_constants(lo, hi)
    polyak = (step_size is None or abs(float(step_size) - h0) <= 1e-12 * h0) and (
        momentum is None or abs(float(momentum) - b0) <= 1e-12
    )
    true_lo, true_hi = gossip_spectrum(W)
    covers = lo <= true_lo * (1 + 1e-9) and hi >= true_hi * (1 - 1e-9)
    q = math.sqrt(b0)

    def steps(eps, q=q):
        return _first_k(lambda k: (1.0 + (1.0 + q) * k) * q**k, eps)

    return Bound(
        name="heavy_ball_gossip",
        kind="exact",
        source=(
            "Polyak 1964 / Introduction to Optimization (1987) Sec. 3.2: spectral radius sqrt(b) on the mean-free "
            "subspace (math-verified, docs/VERIFICATION.md §9); finite-k factor (1+(1+sqrt b)k) derived in this docstring"
        ),
        metric="consensus_error",
        x_axis="steps",
        rate=q,
        constant=None,
        poly_degree=1.0,
        exact_rate=q,
        complexity={"steps": steps, "communications": steps},
        conditions={"polyak constants": bool(polyak), "interval contains the mean-free spectrum": covers},
        params={"l_min": lo, "l_max": hi, "h": h0, "b": b0, "sqrt_b": q},
        notes=(
            "Asymptotic rate sqrt(b); the uniform bound is (1 + (1+sqrt b) k) sqrt(b)^k (Jordan blocks at l_min, l_max), "
            "so a rate fitted on a finite window exceeds sqrt(b) by about exp(1/k)."
        ),
    )

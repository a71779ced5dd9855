"""Guarantees for plain, Chebyshev and heavy-ball gossip (average consensus on a static graph).

All three bounds are on the ``consensus_error`` metric,
``sqrt((1/n) sum_i ||x_i - x_bar||^2) = ||X - 1 x_bar^T||_F / sqrt(n)``. The
average ``x_bar`` never changes, so each bound is a statement about the
mean-free part of ``X``. The notation is that of
:mod:`algos.consensus.chebyshev_gossip`: ``l_min = 1 - lambda_2(W)``,
``l_max = 1 - lambda_n(W)``, ``gamma = l_min / l_max = 1 / chi``,
``c1 = (1 - sqrt(gamma)) / (1 + sqrt(gamma))``.

Each is ``kind="explicit"`` with its guaranteed curve ``envelope(k, ref)`` (``ref`` = the run's
``consensus_error`` at step 0), which :func:`bounds.compare` checks at every recorded step. Each
function takes the run's algorithm (``bounds.gossip(algo)``) or the factory's arguments.
"""

from __future__ import annotations

import math

import numpy as np

from algos.consensus.chebyshev_gossip import chebyshev_coefficients, gossip_spectrum, heavy_ball_constants
from algos.consensus.chebyshev_gossip import chebyshev_gossip as _cheb_algo
from algos.consensus.chebyshev_gossip import heavy_ball_gossip as _hb_algo
from algos.consensus.gossip import gossip as _gossip_algo
from bounds._args import as_algorithm, dense_W, spectrum_of
from bounds._check import Bound, signature

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


def _covers(lo: float, hi: float, W) -> bool:
    true_lo, true_hi = gossip_spectrum(W)
    return lo <= true_lo * (1 + 1e-9) and hi >= true_hi * (1 - 1e-9)


def gossip(problem_or_algo, W=None, *, x0=None) -> Bound:
    """Plain gossip: ``||X_k - x_bar||_F <= slem(W)^k ||X_0 - x_bar||_F``.

    Statement: for symmetric ``W`` with ``W 1 = 1``, ``X_k - 1 x_bar^T = (W - 11^T/n)^k (X_0 - 1 x_bar^T)``
    and ``||W - 11^T/n||_2 = slem(W)``. Metric: ``consensus_error``. Envelope ``slem^k ref``; it
    holds from any step on (``shift_invariant``). Tight: equality for a start along an
    eigenvector of the eigenvalue of largest modulus; for a generic start the fitted rate is ``slem(W)``.
    Source: classical; Xiao & Boyd, "Fast linear iterations for distributed averaging" (2004),
    Sec. 2. Verified here: it follows from the spectral theorem, and
    tests/bounds/test_envelopes.py checks it on 50+ random instances.
    """
    algo = as_algorithm("gossip", _gossip_algo, problem_or_algo, W, x0=x0)
    Wd = dense_W(algo)
    _, _, s = spectrum_of(algo)

    def envelope(k, ref, s=s):
        return ref * np.power(s, k)

    return Bound(
        name="gossip",
        kind="explicit",
        source="Classical (Xiao & Boyd 2004, Sec. 2): ||W^k x - x_bar|| <= slem(W)^k ||x - x_bar|| for symmetric W",
        metric="consensus_error",
        x_axis="steps",
        rate=s,
        constant=1.0,
        envelope=envelope,
        shift_invariant=True,
        signature=signature(algo.params["problem"], Wd),
        complexity={"steps": lambda eps, s=s: _first_k(lambda k: s**k, eps), "communications": lambda eps, s=s: _first_k(lambda k: s**k, eps)},
        conditions={"W symmetric with W 1 = 1": True},
        params={"slem": s, "mixes": s < 1.0},
        notes="Tight; per step = per communication round.",
    )


def chebyshev_rounds(c1: float, eps: float) -> float:
    """Smallest K with ``2 c1^K / (1 + c1^{2K}) <= eps``: Chebyshev gossip rounds for a relative error ``eps``."""
    return _first_k(lambda k: 2.0 * c1**k / (1.0 + c1 ** (2 * k)), eps)


def chebyshev_gossip(problem_or_algo, W=None, *, x0=None, spectrum=None) -> Bound:
    """Chebyshev gossip: ``||X_k - x_bar||_F <= 2 c1^k / (1 + c1^{2k}) ||X_0 - x_bar||_F``.

    Statement: ``X_k - x_bar = p_k(W)(X_0 - x_bar)`` with
    ``p_k(lambda) = T_k(c2 (1 - c3 (1 - lambda))) / T_k(c2)``. On ``[lambda_n, lambda_2]``,
    ``|p_k| <= 1 / T_k(c2)``, and ``T_k(c2) = (c1^{-k} + c1^k) / 2`` because
    ``c2 + sqrt(c2^2 - 1) = 1 / c1``. So the factor is ``2 c1^k / (1 + c1^{2k}) <= 2 c1^k``.
    It is the smallest worst-case factor of any degree-k polynomial with ``p(1) = 1``
    (Chebyshev's minimax property). Metric: ``consensus_error``; the envelope is the exact factor
    ``2 c1^k / (1 + c1^{2k}) ref`` (``ref`` at step 0; the polynomial starts at step 0, so the
    statement is not shift-invariant). ``rate = c1``, ``constant = 2`` (information).
    Tight: equality at ``lambda_2`` and ``lambda_n``.
    Source: classical Chebyshev semi-iterative method (Golub & Varga, Numer. Math. 3, 1961); the
    same polynomial is Scaman et al. (2017)'s AccGossip. Verified in docs/VERIFICATION.md §8
    and in tests/bounds/test_envelopes.py (50+ random instances, every step).
    Condition: the interval the run uses (``algo.hparams`` ``l_min``, ``l_max``, from ``spectrum=``)
    contains ``W``'s mean-free spectrum.
    """
    algo = as_algorithm("chebyshev_gossip", _cheb_algo, problem_or_algo, W, x0=x0, spectrum=spectrum)
    Wd = dense_W(algo)
    lo, hi = float(algo.hparams["l_min"]), float(algo.hparams["l_max"])
    co = chebyshev_coefficients(lo, hi)
    c1 = co["c1"]

    def envelope(k, ref, c1=c1):
        k = np.asarray(k, dtype=np.float64)
        with np.errstate(under="ignore"):
            ck = np.power(c1, k)
            return ref * 2.0 * ck / (1.0 + ck * ck)

    return Bound(
        name="chebyshev_gossip",
        kind="explicit",
        source=(
            "Chebyshev semi-iterative method (Golub & Varga 1961): max_[l_min,l_max] |T_k(c2(1-c3 l))/T_k(c2)| "
            "= 2c1^k/(1+c1^2k); verified numerically (docs/VERIFICATION.md §8, tests)"
        ),
        metric="consensus_error",
        x_axis="steps",
        rate=c1,
        constant=2.0,
        envelope=envelope,
        signature=signature(algo.params["problem"], Wd),
        complexity={"steps": lambda eps, c1=c1: chebyshev_rounds(c1, eps), "communications": lambda eps, c1=c1: chebyshev_rounds(c1, eps)},
        conditions={"interval contains the mean-free spectrum": _covers(lo, hi, Wd)},
        params={"l_min": lo, "l_max": hi, "gamma": co["gamma"], "c1": c1},
        notes="Exact factor 2c1^k/(1+c1^{2k}) <= 2 c1^k; time-varying recurrence (no iteration matrix).",
    )


def heavy_ball_gossip(problem_or_algo, W=None, *, x0=None, step_size=None, momentum=None, spectrum=None) -> Bound:
    """Heavy-ball gossip with Polyak's constants: ``||X_k - x_bar||_F <= (1 + (1 + sqrt b) k) sqrt(b)^k ||X_0 - x_bar||_F``.

    Statement (Polyak 1964; *Introduction to Optimization* 1987, Sec. 3.2, quadratic case):
    with ``h = 4 / (sqrt(l_max) + sqrt(l_min))^2`` and
    ``b = ((sqrt(l_max) - sqrt(l_min)) / (sqrt(l_max) + sqrt(l_min)))^2``, every mean-free
    mode has characteristic roots of modulus ``sqrt(b)``; the spectral radius of the
    iteration on the mean-free subspace is exactly ``sqrt(b)`` (docs/VERIFICATION.md §9).

    Finite-k envelope, derived here (not quoted from Polyak): per eigenvalue ``l`` the error obeys
    ``e_{k+1} = (1 + b - h l) e_k - b e_{k-1}`` with ``e_{-1} = e_0``. With
    ``cos(phi) = (1 + b - h l) / (2 sqrt(b))`` in ``[-1, 1]`` this gives
    ``e_k = sqrt(b)^k (U_k(cos phi) - sqrt(b) U_{k-1}(cos phi)) e_0``, where ``U_k`` is the
    Chebyshev polynomial of the second kind and ``|U_k| <= k + 1``. Hence
    ``||X_k - x_bar||_F <= (1 + (1 + sqrt(b)) k) sqrt(b)^k ||X_0 - x_bar||_F``: the envelope
    (``ref`` at step 0; the start ``X_{-1} = X_0`` matters, so not shift-invariant), checked at every
    step by :func:`bounds.compare` and on 50+ random instances in tests/bounds/test_envelopes.py.
    ``rate = sqrt(b)`` and ``poly_degree = 1`` are information (the fitted rate divides ``k`` out).
    Metric: ``consensus_error``. Valid only with Polyak's ``h`` and ``b`` for an interval containing
    the mean-free spectrum (conditions ``polyak constants`` and ``interval contains ...``); the run's
    actual ``step_size`` and ``momentum`` (``algo.hparams``) are the values tested.
    """
    algo = as_algorithm("heavy_ball_gossip", _hb_algo, problem_or_algo, W, x0=x0, step_size=step_size,
                        momentum=momentum, spectrum=spectrum)  # fmt: skip
    Wd = dense_W(algo)
    lo, hi = float(algo.hparams["l_min"]), float(algo.hparams["l_max"])
    h0, b0 = heavy_ball_constants(lo, hi)
    h, b = algo.hparams.get("step_size"), algo.hparams.get("momentum")
    polyak = h is not None and b is not None and abs(float(h) - h0) <= 1e-12 * h0 and abs(float(b) - b0) <= 1e-12
    q = math.sqrt(b0)

    def envelope(k, ref, q=q):
        k = np.asarray(k, dtype=np.float64)
        with np.errstate(under="ignore"):
            return ref * (1.0 + (1.0 + q) * k) * np.power(q, k)

    def steps(eps, q=q):
        return _first_k(lambda k: (1.0 + (1.0 + q) * k) * q**k, eps)

    return Bound(
        name="heavy_ball_gossip",
        kind="explicit",
        source=(
            "Polyak 1964 / Introduction to Optimization (1987) Sec. 3.2: spectral radius sqrt(b) on the mean-free "
            "subspace (math-verified, docs/VERIFICATION.md §9); finite-k factor (1+(1+sqrt b)k) sqrt(b)^k derived "
            "in this docstring and verified numerically"
        ),
        metric="consensus_error",
        x_axis="steps",
        rate=q,
        constant=None,
        poly_degree=1.0,
        envelope=envelope,
        signature=signature(algo.params["problem"], Wd),
        hparams={"step_size": h, "momentum": b},
        complexity={"steps": steps, "communications": steps},
        conditions={"polyak constants": bool(polyak), "interval contains the mean-free spectrum": _covers(lo, hi, Wd)},
        params={"l_min": lo, "l_max": hi, "h": h0, "b": b0, "sqrt_b": q},
        notes="Envelope (1 + (1+sqrt b) k) sqrt(b)^k (Jordan blocks at l_min, l_max); asymptotic rate sqrt(b).",
    )

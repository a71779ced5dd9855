"""LinUCB/OFUL's explicit high-probability regret bound (Abbasi-Yadkori et al. 2011; Lattimore & Szepesvári 2020).

Statement (Lattimore & Szepesvári, *Bandit Algorithms*, 2020, Thm. 19.2, with the confidence set of
Thm. 20.5 = Abbasi-Yadkori, Pál & Szepesvári 2011, Thm. 2): if ``theta*`` lies in every confidence
ellipsoid ``{theta: ||theta_hat_t - theta||_{V_t} <= beta_t}`` (probability ``>= 1 - delta``), the
actions satisfy ``|<x, theta*>| <= 1`` and ``||x|| <= L``, then the pseudo-regret after ``n`` steps is

    R_n <= sqrt(8 n beta_n^2 log(det V_n / det V_0)) <= sqrt(8 d n beta_n^2 log(1 + n L^2 / (d lam))),

with ``beta_n^2 >= 1``. Derivation (checked here step by step): on the event, each step's regret
is ``<= min(2, 2 beta_{t} ||x_t||_{V_t^{-1}}) <= 2 beta_n min(1, ||x_t||_{V_t^{-1}})`` (``beta``
nondecreasing, ``beta_n >= 1``); Cauchy–Schwarz and the elliptical potential lemma
``sum_t min(1, ||x_t||^2_{V_t^{-1}}) <= 2 log(det V_n / det V_0)`` (L&S Lemma 19.4) give the
first form; AM-GM on the eigenvalues of ``V_n`` (trace ``d lam + n L^2``) the second. ``beta_n``
is bounded by the same AM-GM: ``R sqrt(2 log(1/delta) + d log(1 + n L^2 / (d lam))) + sqrt(lam) S``.

It is a high-probability statement: checked run by run (``statistic="each"``); a failure has
probability at most ``delta`` per run.
"""

from __future__ import annotations

import math

import numpy as np

from algos import Algorithm
from bounds._check import Bound

__all__ = ["linucb", "linucb_envelope"]


def linucb_envelope(d: int, lam: float, R: float, S: float, delta: float, L: float = 1.0):
    """``envelope(k, ref)``: ``sqrt(8 d k beta_k^2 log(1 + k L^2 / (d lam)))`` with ``beta_k^2 >= 1``."""

    def envelope(k, ref):
        k = np.asarray(k, dtype=np.float64)
        logterm = d * np.log1p(k * L**2 / (d * lam))
        beta = R * np.sqrt(2.0 * math.log(1.0 / delta) + logterm) + math.sqrt(lam) * S
        return np.sqrt(8.0 * k * np.maximum(beta**2, 1.0) * np.log1p(k * L**2 / (d * lam)) * d)

    return envelope


def linucb(algo: Algorithm) -> Bound:
    """The explicit bound above for the run's ``algos.linucb`` (its ``lam``, ``delta``, ``S``, ``R``)."""
    if not isinstance(algo, Algorithm) or algo.name != "linucb":
        raise TypeError(f"bounds.linucb takes the algos.linucb Algorithm of the run, got {getattr(algo, 'name', type(algo).__name__)!r}")
    p = algo.params["problem"]
    hp = algo.hparams
    d, L = p.dim, p.action_norm
    vals = np.abs(np.asarray(p.values))
    return Bound(
        name="linucb",
        kind="explicit",
        source="Lattimore & Szepesvari (2020) Thm. 19.2 with Abbasi-Yadkori et al. (2011) Thm. 2's ellipsoid; "
        "R_n <= sqrt(8 d n beta_n^2 log(1 + n L^2/(d lam))) w.p. 1 - delta",
        metric="regret",
        x_axis="steps",
        envelope=linucb_envelope(d, hp["lam"], hp["R"], hp["S"], hp["delta"], L),
        hparams={"lam": hp["lam"], "delta": hp["delta"], "S": hp["S"]},
        conditions={
            "|<x, theta*>| <= 1": bool(vals.max() <= 1.0 + 1e-12),
            "||theta*|| <= S": p.theta_norm <= hp["S"] * (1 + 1e-12),
            "Gaussian noise with R = sigma (R-sub-Gaussian)": True,
        },
        params={"d": d, "L": L, "lam": hp["lam"], "R": hp["R"], "S": hp["S"], "delta": hp["delta"]},
        notes="High probability (1 - delta) per run; an explicit textbook bound, derivation in the module docstring.",
    )

"""Group-regret orders of the collaborative multi-agent bandits (constants NOT FOUND).

Chawla, Vial, Shakkottai, Srikant (ICML 2023), abstract (VERIFIED): per-agent and group regret upper
bounds for both scenarios, near-optimal against group-regret lower bounds; GosInE (AISTATS 2020,
paper text NOT FOUND). Regret of these gap-dependent algorithms grows like ``log T``: an ``"order"``
bound with ``exponents={"T": 0}`` and a ``log T`` factor, checked on the fitted exponent of group
regret against ``T`` (:func:`log_growth_check`).
"""

from __future__ import annotations

import math

import numpy as np

from bounds._check import Bound, fit_exponent

__all__ = ["collab_group_regret", "log_growth_check", "LOG_GROWTH_MAX_EXPONENT"]

#: A regret growing like ``log T`` has local exponent ``d log R / d log T = 1 / ln T`` (0.09 to 0.12 for
#: T in [5e3, 6e4]); ``sqrt(T)`` has 0.5. The check accepts a fitted exponent up to 0.25, halfway.
LOG_GROWTH_MAX_EXPONENT = 0.25


def collab_group_regret(algo) -> Bound:
    """Group regret ``O(log T)`` (order) for ``algos.gosine`` / ``algos.collab_ucb`` / ``algos.ucb``."""
    name = getattr(algo, "name", algo)
    if name not in ("gosine", "collab_ucb", "ucb"):
        raise ValueError(f"collab_group_regret is about algos.gosine / collab_ucb / ucb, got {name!r}")
    return Bound(name="collab_group_regret", kind="order", method=name,
                 source="Chawla et al. (ICML 2023) abstract; GosInE (AISTATS 2020): group regret O(log T) (gap-dependent)",
                 metric="regret", exponents={"T": 0.0}, notes="times log T; constants NOT FOUND")  # fmt: skip


def log_growth_check(Ts, regrets, *, max_exponent: float = LOG_GROWTH_MAX_EXPONENT) -> dict:
    """Fitted exponent of ``regrets`` against ``Ts`` (a log-log slope); holds when ``<= max_exponent``."""
    Ts, R = np.asarray(Ts, float), np.asarray(regrets, float)
    p, _ = fit_exponent(Ts, R)
    return {"fitted_exponent": p, "max_exponent": max_exponent, "log_curve_exponent": 1.0 / math.log(float(np.sqrt(Ts.min() * Ts.max()))),
            "holds": bool(p <= max_exponent)}  # fmt: skip

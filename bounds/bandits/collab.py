"""Group-regret orders of the collaborative multi-agent bandits (constants NOT FOUND).

Chawla, Vial, Shakkottai, Srikant (ICML 2023), abstract (VERIFIED): per-agent and group regret upper
bounds for both scenarios, near-optimal against group-regret lower bounds; GosInE (AISTATS 2020,
paper text NOT FOUND). Regret of these gap-dependent algorithms grows like ``log T``: an ``"order"``
bound with ``exponents={"T": 0}`` and a ``log T`` factor, checked on the fitted exponent of group
regret against ``T`` (:func:`log_growth_check`).


The anchored agents' regret is explicit (:func:`anchored_regret`, our derivation, the textbook UCB
counting argument of Auer, Cesa-Bianchi & Fischer 2002, Thm. 1, made pathwise). Agent ``i`` plays
UCB with index ``mu_hat_k + rad_k(t)``, ``rad_k(t) = sqrt(alpha log(t + c) / T_k(t))`` (``+inf`` for
``T_k = 0``), on an active set that always holds a best arm ``a*`` of its bandit (``a*`` is in its
sticky set). Take the run's event ``E``: at every step where agent ``i`` pulls a worse arm ``k``
that it has pulled before, ``mu_hat_k <= mu_k + rad_k``, and ``mu_hat_a* >= mu_a* - rad_a*`` whenever
``T_a* >= 1``. On ``E``, a pull of ``k`` at step ``t`` with ``T_k(t) >= 1`` has ``T_a*(t) >= 1`` (an
unpulled ``a*`` has index ``+inf`` and would be chosen) and
``mu_k + 2 rad_k >= index_k >= index_a* >= mu_a*``, so ``T_k(t) <= 4 alpha log(t + c) / Delta_k^2``.
After ``K`` steps, therefore, ``T_k(K) <= b_k = 1 + 4 alpha log(K - 1 + c) / Delta_k^2``, with
``sum_k T_k(K) <= K``, so the agent's pseudo-regret ``sum_k Delta_k T_k(K)`` is at most the largest
``sum_k Delta_k T_k`` under those constraints: fill the largest gaps first,
``sum_j Delta_(j) clip(K - b_(1) - ... - b_(j-1), 0, b_(j))`` over the worse arms by decreasing gap. The insertions, evictions
and blocking of the insert-eliminate kernel do not enter: they only change which worse arms are active.
The kernel records whether ``E`` failed (``ucb_event_misses``); where it has, the statement says nothing
(envelope ``+inf``), and a run on which it failed before every recorded step is not judged.
For rewards in [0, 1] and ``alpha = 4``, Hoeffding's inequality makes each miss at most ``t^-8``
likely, so ``E`` holds on almost every run (0 misses in every test run).
"""

from __future__ import annotations

import math

import numpy as np

from bounds._check import Bound, fit_exponent

__all__ = ["collab_group_regret", "anchored_regret", "log_growth_check", "LOG_GROWTH_MAX_EXPONENT"]

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


def anchored_regret(algo) -> Bound:
    """Explicit, on the run's confidence event: the anchored agents' pseudo-regret after ``k`` steps is at
    most the sum over anchored agents of the largest ``sum_j Delta_ij T_j`` with
    ``T_j <= 1 + 4 alpha log(k - 1 + c) / Delta_ij^2`` and ``sum_j T_j <= k`` (module docstring), for :func:`algos.gosine` and :func:`algos.collab_ucb`, judged on ``anchored_regret``.

    Raises:
        TypeError: ``algo`` is not a run of gosine or collab_ucb.
        ValueError: no agent is anchored (no sticky set holds a best arm of its agent's bandit).
    """
    name = getattr(algo, "name", None)
    if name not in ("gosine", "collab_ucb"):
        raise TypeError("bounds.anchored_regret takes the run's algorithm from algos.gosine(...) or algos.collab_ucb(...), "
                        f"got {name or type(algo).__name__!r}")  # fmt: skip
    p = algo.params["problem"]
    anchor = np.asarray(algo.params["anchor"])
    if not (anchor >= 0).any():
        raise ValueError(f"bounds.anchored_regret: no agent of this algos.{name} run has a best arm in its sticky set, "
                         "so no agent is anchored; use an instance whose sticky sets cover the best arms")  # fmt: skip
    alpha, c = float(algo.hparams["alpha"]), float(algo.hparams["time_offset"])
    gaps = np.asarray(p.gaps, dtype=np.float64)[np.asarray(p.assignment)][anchor >= 0]  # (anchored, K)
    rows = [np.sort(g[g > 0])[::-1] for g in gaps]  # each anchored agent's worse arms, largest gap first
    worse = np.concatenate(rows)

    def envelope(k, ref, data):
        del ref
        k = np.asarray(k, dtype=np.float64)
        log = np.log(np.maximum(k - 1.0 + c, 1.0))
        env = np.zeros(k.shape)
        for g in rows:
            # T_j <= b_j = 1 + 4 alpha log(k - 1 + c) / Delta_j^2 and sum_j T_j <= k: the largest
            # sum_j Delta_j T_j fills the largest gaps first
            b = 1.0 + 4.0 * alpha * log[:, None] / g[None, :] ** 2
            before = np.cumsum(b, axis=1) - b
            env += np.sum(g[None, :] * np.clip(k[:, None] - before, 0.0, b), axis=1)
        return np.where(np.asarray(data["ucb_event_misses"]) > 0, np.inf, env)

    return Bound(
        name="anchored_regret", kind="explicit", method=name, metric="anchored_regret", envelope=envelope,
        envelope_uses=("ucb_event_misses",), constant=4.0 * alpha,
        hparams={"alpha": alpha, "time_offset": c},
        conditions={"alpha > 0": alpha > 0},
        params={"anchored_agents": int((anchor >= 0).sum()), "worse_arms": int(worse.size), "min_gap": float(worse.min())},
        source=("ratebench derivation: the UCB counting argument (Auer, Cesa-Bianchi & Fischer 2002, Thm. 1) made "
                "pathwise on the run's confidence event, for agents whose sticky set holds a best arm "
                "(bounds/bandits/collab.py; tests/bandits/test_bandit_bounds.py)"),
        notes="+inf (not judged) from the first step at which the recorded confidence event failed",
    )  # fmt: skip


def log_growth_check(Ts, regrets, *, max_exponent: float = LOG_GROWTH_MAX_EXPONENT) -> dict:
    """Fitted exponent of ``regrets`` against ``Ts`` (a log-log slope); holds when ``<= max_exponent``."""
    Ts, R = np.asarray(Ts, float), np.asarray(regrets, float)
    p, _ = fit_exponent(Ts, R)
    return {"fitted_exponent": p, "max_exponent": max_exponent, "log_curve_exponent": 1.0 / math.log(float(np.sqrt(Ts.min() * Ts.max()))),
            "holds": bool(p <= max_exponent)}  # fmt: skip

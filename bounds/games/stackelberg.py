"""Guarantees for :func:`algos.stackelberg`: the leader's classical bandit bounds, and the paper's orders.

Explicit (classical textbook constants, checked on the mean over seeded runs):

* :func:`stackelberg_exp3`: Auer, Cesa-Bianchi, Freund & Schapire, "The nonstochastic multiarmed
  bandit problem", SIAM J. Comput. 32(1):48-77, 2002, **Theorem 3.1**: for any ``K > 0``, any
  ``gamma in (0, 1]`` and any assignment of rewards in [0, 1], ``G_max - E[G_Exp3] <= (e - 1) gamma G_max
  + K ln K / gamma``. With ``G_max <= k`` after ``k`` rounds this gives the envelope
  ``(e - 1) gamma k + K ln K / gamma`` at every step ``k`` (the theorem holds for every horizon with a
  fixed ``gamma``); with Corollary 3.2's ``gamma`` (``g = horizon``) it is at most
  ``2 sqrt(e - 1) sqrt(g K ln K)`` at ``k = g``.
  *Why it applies to the trace's ``leader_regret``, and in expectation* (derivation, ours): with the FBM
  follower the response is a fixed function ``F`` of the leader's action, so the leader faces a
  stationary stochastic bandit with arm means ``m_a = leader_means[a, F(a)]`` (i.i.d. Bernoulli
  rewards, or the means themselves with ``noise="none"``), an oblivious assignment. Taking the
  expectation of Theorem 3.1 over the rewards, ``E[G_max] - E[G_Exp3] <= (e - 1) gamma E[G_max] + K ln K /
  gamma``; and ``max_a E[G_a] <= E[G_max]``, ``E[G_Exp3] = E[sum_t m_{a_t}]`` (the reward at ``t`` has mean
  ``m_{a_t}`` given the past). The target's leader action is the unique argmax of ``m`` (it is qualified),
  so ``leader_regret_k = sum_{t<k} (max_a m_a - m_{a_t})`` and ``E[leader_regret_k] <= (e - 1) gamma k +
  K ln K / gamma``. It is an expectation: judged by :func:`bounds.compare` on a batch of seeds
  (``statistic="mean"``, one-sided CLT rule of ``bounds._check``).
* :func:`stackelberg_ucb`: Auer, Cesa-Bianchi & Fischer, "Finite-time analysis of the multiarmed
  bandit problem", Machine Learning 47:235-256, 2002, **Theorem 1**: UCB1 on ``K > 1`` arms with
  rewards in [0, 1] has expected (pseudo-)regret after any number ``n`` of plays at most
  ``8 sum_{a: Delta_a > 0} ln n / Delta_a + (1 + pi^2 / 3) sum_a Delta_a``. Same reduction (FBM follower).

Where the follower learns (``best_response``, ``fmucb``) the leader faces an adaptive environment and
neither theorem bounds the regret against the target pair: the conditions say so (``holds`` is None).

Orders (the paper's claims, VERIFIED as statements in its abstract, constants NOT FOUND):

* :func:`stackelberg_error_rounds`: the rounds in which the follower does not play its best
  manipulation grow sublinearly: fitted exponent of ``error_rounds`` over T below 1.
* :func:`stackelberg_manipulation`: manipulation beats best response for the follower: the follower's
  regret against the best manipulation is sublinear (so its average reward tends to the best
  manipulation's value, which exceeds the equilibrium's when ``game.manipulation_pays``).
"""

from __future__ import annotations

import math

import numpy as np

from algos import Algorithm
from bounds import envelopes
from bounds._check import Bound

__all__ = ["stackelberg_exp3", "stackelberg_ucb", "stackelberg_error_rounds", "stackelberg_manipulation"]


def _algo(algo) -> Algorithm:
    if not isinstance(algo, Algorithm) or algo.name != "stackelberg":
        raise TypeError(f"pass the run's algorithm from algos.stackelberg(...), got {type(algo).__name__}")
    return algo


def _arm_means(algo) -> np.ndarray:
    """The leader's arm means against a fixed response function: ``leader_means[a, F(a)]``."""
    game = algo.params["problem"]
    ml = np.asarray(game.leader_means, dtype=np.float64)
    F = np.asarray(game.manipulation_response)
    return ml[np.arange(ml.shape[0]), F]


def _conditions(algo, leader: str) -> dict:
    hp = algo.hparams
    game = algo.params["problem"]
    ml = np.asarray(game.leader_means, dtype=np.float64)
    return {
        f"leader is {leader}": hp["leader"] == leader,
        "the follower's response is a fixed function of the leader's action (FBM)": hp["follower"] == "fbm",
        "leader rewards lie in [0, 1]": bool(ml.min() >= 0.0 and ml.max() <= 1.0),
        "at least 2 leader actions": ml.shape[0] >= 2,
    }


def stackelberg_exp3(algo) -> Bound:
    """EXP3's expected-regret bound (Auer et al. 2002, Thm 3.1) for the leader, on the mean over seeds.

    Returns:
        ``Bound(kind="explicit", statistic="mean", metric="leader_regret")`` with envelope
        ``(e - 1) gamma k + K ln K / gamma``; ``constant`` holds Corollary 3.2's value at ``k = horizon``.
    """
    algo = _algo(algo)
    hp = algo.hparams
    cond = _conditions(algo, "exp3")
    K = int(hp["n_leader"])
    gamma = hp.get("gamma") or 1.0
    c_lin, c_const = (math.e - 1.0) * gamma, K * math.log(max(K, 1)) / gamma
    lin, const = envelopes.growth(c_lin, 1.0, k0=1), envelopes.growth(c_const, 0.0, k0=1)

    def envelope(k, ref):
        k = np.asarray(k, dtype=np.float64)
        return np.where(k >= 1, lin(k, ref) + const(k, ref), np.where(k == 0, 0.0, np.inf))

    horizon = hp.get("horizon")
    cor = 2.0 * math.sqrt(math.e - 1.0) * math.sqrt(horizon * K * math.log(K)) if horizon and K >= 2 else None
    return Bound(
        name="stackelberg_exp3", kind="explicit", method="stackelberg", metric="leader_regret", statistic="mean",
        envelope=envelope, constant=cor, hparams={"gamma": hp.get("gamma")}, conditions=cond,
        params={"K": K, "gamma": gamma, "horizon": horizon, "corollary_3_2_at_horizon": cor},
        source=("Auer, Cesa-Bianchi, Freund, Schapire 2002 (SIAM J. Comput. 32(1)), Theorem 3.1: "
                "G_max - E[G_Exp3] <= (e-1) gamma G_max + K ln K / gamma; G_max <= k; expectation over "
                "rewards and the leader's draws (reduction to the leader's pseudo-regret: module docstring)"),
        notes="an expectation: judge it on a vmapped batch of seeds (bounds.compare uses the mean and a CLT margin)",
    )  # fmt: skip


def stackelberg_ucb(algo) -> Bound:
    """UCB1's expected-regret bound (Auer, Cesa-Bianchi & Fischer 2002, Thm 1) for the leader."""
    algo = _algo(algo)
    cond = _conditions(algo, "ucb")
    m = _arm_means(algo)
    gaps = m.max() - m
    pos = gaps[gaps > 0]
    c_log = 8.0 * float(np.sum(1.0 / pos)) if pos.size else 0.0
    c_const = (1.0 + math.pi**2 / 3.0) * float(np.sum(gaps))

    def envelope(k, ref):
        k = np.asarray(k, dtype=np.float64)
        out = c_log * np.log(np.maximum(k, 1.0)) + c_const
        return np.where(k >= 1, out, np.where(k == 0, 0.0, np.inf))

    return Bound(
        name="stackelberg_ucb", kind="explicit", method="stackelberg", metric="leader_regret", statistic="mean",
        envelope=envelope, conditions=cond, params={"arm_means": m.tolist(), "gaps": gaps.tolist()},
        source=("Auer, Cesa-Bianchi, Fischer 2002 (Machine Learning 47), Theorem 1: E[regret_n] <= "
                "8 sum_{Delta>0} ln n / Delta + (1 + pi^2/3) sum Delta, arms leader_means[a, F(a)]"),
    )  # fmt: skip


def stackelberg_error_rounds(algo) -> Bound:
    """Order: rounds without the best manipulation grow sublinearly (Yu & Chen 2024, abstract)."""
    algo = _algo(algo)
    hp = algo.hparams
    return Bound(
        name="stackelberg_error_rounds", kind="order", method="stackelberg", metric="error_rounds",
        exponents={"T": 1.0}, conditions={"the follower manipulates": hp["follower"] in ("fbm", "fmucb")},
        source="Yu & Chen, UAI 2024, abstract: sample complexity of the manipulation (order only; constants NOT FOUND)",
        notes="check: the exponent of error_rounds fitted over T is strictly below 1 (bounds.check_scaling mode='upper')",
    )  # fmt: skip


def stackelberg_manipulation(algo) -> Bound:
    """Order: a manipulating follower's regret against the best manipulation is sublinear."""
    algo = _algo(algo)
    hp = algo.hparams
    game = algo.params["problem"]
    return Bound(
        name="stackelberg_manipulation", kind="order", method="stackelberg", metric="follower_regret",
        exponents={"T": 1.0},
        conditions={"the follower manipulates": hp["follower"] in ("fbm", "fmucb")},
        params={"manipulation_pays": game.manipulation_pays, "best_manipulation": game.best_manipulation,
                "stackelberg_equilibrium": game.stackelberg_equilibrium},
        source="Yu & Chen, UAI 2024, abstract: manipulation's intrinsic advantage over best response (order only)",
    )  # fmt: skip

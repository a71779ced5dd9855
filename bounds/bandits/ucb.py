"""UCB1's explicit gap-dependent regret bound (Auer, Cesa-Bianchi & Fischer 2002), for independent agents.

Theorem (Auer, Cesa-Bianchi, Fischer, "Finite-time analysis of the multiarmed bandit problem",
Machine Learning 47, 2002, Thm. 1; a textbook theorem with its classical constants): for rewards in
``[0, 1]``, UCB1 (play each arm once, then ``argmax x_bar_j + sqrt(2 ln n / n_j)``) has expected
regret after any number ``n`` of plays at most

    sum_{j: Delta_j > 0} 8 ln n / Delta_j  +  (1 + pi^2 / 3) sum_j Delta_j.

The regret there is ``sum_j Delta_j E[T_j(n)]``: the expectation of the trace's pseudo-regret. With
independent agents (:func:`algos.ucb`) the group's expected pseudo-regret is the sum of the agents'
bounds (linearity of expectation). It is a statement on an *expectation*, so ``statistic="mean"``:
:func:`bounds.compare` judges the mean over a batch of seeded runs (at least 8).
"""

from __future__ import annotations

import math

import numpy as np

from algos import Algorithm
from bounds import envelopes
from bounds._check import Bound

__all__ = ["ucb1", "ucb1_constants"]


def ucb1_constants(problem) -> tuple[float, float]:
    """``(C_log, C_0)``: the group bound is ``C_log ln n + C_0`` (sums over agents and their suboptimal arms)."""
    gaps = np.asarray(problem.gaps)[np.asarray(problem.assignment)]  # (N, K)
    sub = gaps[gaps > 0]
    return float(np.sum(8.0 / sub)), float((1.0 + math.pi**2 / 3.0) * np.sum(gaps))


def ucb1(algo: Algorithm) -> Bound:
    """Auer et al. (2002) Thm. 1 for the group of independent UCB agents of ``algos.ucb``.

    Metric ``regret`` (group pseudo-regret), per step (one play per agent per step), envelope
    ``C_log ln k + C_0`` for ``k >= 2`` (``+inf`` before: at ``k = 1`` the bound says nothing useful).
    Conditions: ``alpha = 2`` and ``time_offset = 0`` (UCB1's index), Bernoulli rewards (in [0, 1]).
    """
    if not isinstance(algo, Algorithm) or algo.name != "ucb":
        raise TypeError(f"bounds.ucb1 takes the algos.ucb Algorithm of the run, got {getattr(algo, 'name', type(algo).__name__)!r}")
    p = algo.params["problem"]
    c_log, c0 = ucb1_constants(p)
    log_part = envelopes.growth(c_log, 0.0, 1.0, k0=2)

    def envelope(k, ref, log_part=log_part, c0=c0):
        return log_part(k, ref) + c0

    alpha, off = float(algo.hparams["alpha"]), float(algo.hparams["time_offset"])
    return Bound(
        name="ucb1",
        kind="explicit",
        method="ucb",
        source="Auer, Cesa-Bianchi & Fischer (2002), Thm. 1: E[R_n] <= sum 8 ln n / Delta_j + (1 + pi^2/3) sum Delta_j",
        metric="regret",
        x_axis="steps",
        envelope=envelope,
        statistic="mean",
        hparams={"alpha": alpha, "time_offset": off},
        conditions={"UCB1 index (alpha = 2, time_offset = 0)": alpha == 2.0 and off == 0.0,
                    "rewards in [0, 1] (Bernoulli)": p.reward == "bernoulli"},  # fmt: skip
        params={"C_log": c_log, "C_0": c0, "n_agents": p.n_agents},
        notes="Group bound = sum of the agents' single-agent bounds (independent agents).",
    )

"""Independent UCB agents: every agent runs UCB on its own bandit, with no communication.

Problem class: :func:`problems.bandits.heterogeneous_mab` (each agent on its bandit's ``K`` arms).

Rule, per agent, at step ``t`` (0-based, the number of rounds played so far)::

    a_t = argmax_k  mu_hat_k + sqrt(alpha log(t + time_offset) / T_k)      (+inf when T_k = 0)

ties to the smallest index (NumPy's argmax). ``alpha = 2``, ``time_offset = 0`` is UCB1 (Auer,
Cesa-Bianchi & Fischer, "Finite-time analysis of the multiarmed bandit problem", Machine Learning
2002, Fig. 1: play each arm once, then ``x_bar_j + sqrt(2 ln n / n_j)`` with ``n`` the plays so far);
``alpha = 4``, ``time_offset = 1`` is GosInE's no-communication baseline (ronshee/gosine@2c8bc7ea9953dac02a883f5c805cfeec25c4e3e9:Synch.py,
``ucb()``: ``mu_bar + sqrt(alpha log(s + 1) / T)``, alpha = 4).

Matching bound: :func:`bounds.bandits.ucb.ucb1` (the explicit gap-dependent bound of Auer et al.
2002, Thm. 1, on the expected group pseudo-regret, for ``alpha = 2, time_offset = 0`` and rewards in [0, 1]).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from algos._core import make_algorithm
from algos.bandits._common import BanditCost, MABInfo, check_mab, check_positive, log_time
from problems.bandits import mab_metrics, sample_rewards

__all__ = ["ucb", "UCBState", "ucb_scores"]


class UCBState(NamedTuple):
    counts: jax.Array  # (N, K) pulls of each arm by each agent
    sums: jax.Array  # (N, K) sum of the rewards observed


def ucb_scores(counts, sums, t, alpha, offset):
    """(..., K) UCB indices, ``+inf`` for unpulled arms."""
    safe = jnp.maximum(counts, 1.0)
    bonus = jnp.sqrt(alpha * log_time(t, offset) / safe)
    return jnp.where(counts > 0, sums / safe + bonus, jnp.inf)


def _build(params):
    p = params["problem"]
    alpha, offset = params["alpha"], params["time_offset"]
    N, K = p.n_agents, p.n_arms
    dtype = p.means.dtype

    def init(key):
        del key
        return UCBState(counts=jnp.zeros((N, K), dtype), sums=jnp.zeros((N, K), dtype))

    def step(key, state, t):
        arms = jnp.argmax(ucb_scores(state.counts, state.sums, t, alpha, offset), axis=1)
        rewards = sample_rewards(p, key, arms)
        hot = jax.nn.one_hot(arms, K, dtype=dtype)
        new = UCBState(counts=state.counts + hot, sums=state.sums + hot * rewards[:, None])
        return new, MABInfo(arms=arms, rewards=rewards, cost=BanditCost(arm_pulls=jnp.ones(N, dtype)))

    return init, step


def _finite(state):
    return state  # counts and sums stay finite; the +inf indices are never stored


def ucb(problem, *, alpha: float = 2.0, time_offset: float = 0.0):
    """Independent UCB on every agent (no communication).

    Args:
        problem: a :func:`problems.bandits.heterogeneous_mab` instance.
        alpha: exploration constant (> 0); 2 is UCB1, 4 is GosInE's code.
        time_offset: the index uses ``log(t + time_offset)``, ``t`` the 0-based step (>= 0).

    Returns:
        An :class:`algos.Algorithm`; trace fields ``regret``, ``agent_regret``, ``realized_regret``,
        ``arm_pulls`` (and zero communication costs).
    """
    check_mab(problem, "ucb")
    alpha = check_positive(alpha, "alpha", "ucb")
    time_offset = check_positive(time_offset, "time_offset", "ucb", strict=False)
    params = {"problem": problem, "alpha": alpha, "time_offset": time_offset}
    return make_algorithm(_build, params, mab_metrics, "ucb", hparams={"alpha": alpha, "time_offset": time_offset}, finite=_finite)

"""The insert-eliminate kernel shared by :mod:`algos.bandits.gosine` and :mod:`algos.bandits.collab_ucb`.

State per agent: an *active set* of ``S + 2`` arms, ``S`` sticky arms (fixed forever) followed by
two exchangeable arms ``U`` and ``L``. Every step each agent plays UCB restricted to its active
set. Phase ``j = 1, 2, ...`` ends after step ``t`` with ``t + 1 = j^3``. At a phase end, all
agents at once (a synchronous exchange: every agent reads its neighbour's end-of-phase set, before
any update of this phase end; the official code updates agents in index order, so its later agents
may read already-updated sets — our choice, see ../shared/papers):

1. of ``U`` and ``L``, the one played more in the phase becomes ``U`` (ties keep ``U``);
2. the agent asks one agent drawn from its row of the *asking pmf* ``P`` (renormalized over the
   agents it does not block) for that agent's most played active arm of the phase;
3. if the arm is not active, it replaces ``L``.

Blocking (used by ``collab_ucb``'s context unaware scenario, off for GosInE): at the end of the
phase after a recommendation, when the recommended arm is not the agent's most played arm of that
phase ``j``, the agent blocks the recommender until phase ``j^2`` (in the spirit of Vial, Shakkottai
& Srikant's blocking for robust multi-agent bandits; our choice of rule and length). Windows that
only double (until ``2 j``) were tried first: a blocked agent of another bandit comes back ``O(log J)``
times, so up to ``N log2 J`` bad insertions, more than the phases of a 40-phase run, and the quick
figure's unaware regret grew like ``T^0.39`` over its last decade.

Each recommendation is one message carrying one arm index, ``ceil(log2 K)`` bits, counted in
``bits_up`` (sent by an agent; there is no server, so ``bits_down`` is 0).

Anchored agents. An agent whose sticky set holds a best arm of its bandit always has that arm
active, and then UCB's counting argument bounds its pulls of every worse arm on the run's own
confidence event (:func:`bounds.anchored_regret`). The kernel records, besides the family's regret
(:data:`problems.bandits.mab_metrics`), ``anchored_regret`` (the pseudo-regret of the anchored
agents) and ``ucb_event_misses``: the number of (anchored agent, step) pairs at which that event
failed, i.e. the pulled worse arm's mean estimate exceeded its mean by more than its radius
``sqrt(alpha log(t + offset) / T_k)``, or the sticky best arm's fell below its mean by more than its
radius (each checked only where that arm has been pulled before).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from algos.bandits._common import BanditCost, log_time
from algos.bandits.ucb import ucb_scores
from problems._metrics import Metrics
from problems.bandits import mab_metrics, sample_rewards

__all__ = ["IEState", "IEInfo", "build", "finite", "phase_end", "anchors", "IE_METRICS"]


class IEState(NamedTuple):
    counts: jax.Array  # (N, K)
    sums: jax.Array  # (N, K)
    prev_counts: jax.Array  # (N, K) counts at the start of the current phase
    active: jax.Array  # (N, S + 2) int: sticky arms, then U, then L
    phase: jax.Array  # () int, the current phase j (1-based)
    blocked_until: jax.Array  # (N, N) int: agent i asks j again only from phase blocked_until[i, j] on
    last_rec: jax.Array  # (N,) int: arm recommended at the last phase end (-1: none)
    last_src: jax.Array  # (N,) int: who recommended it (-1: none)


class IEInfo(NamedTuple):
    arms: jax.Array  # (N,) int: arm pulled by each agent
    rewards: jax.Array  # (N,) observed rewards
    event_miss: jax.Array  # (N,) bool: the anchored agent's confidence event failed at this step
    cost: BanditCost


def anchors(problem, active0) -> np.ndarray:
    """(N,) int: a best arm of agent ``i``'s bandit in its sticky set (the first), or -1 when none is."""
    gaps = np.asarray(problem.gaps)[np.asarray(problem.assignment)]  # (N, K)
    sticky = np.asarray(active0)[:, :-2]
    best = np.take_along_axis(gaps, sticky, axis=1) == 0.0
    return np.where(best.any(axis=1), np.take_along_axis(sticky, np.argmax(best, axis=1)[:, None], axis=1)[:, 0], -1)


def _ie_accumulate(params, state, info, t):
    rec = mab_metrics.accumulate(params, state, info, t)
    p = params["problem"]
    anchored = params["anchor"] >= 0
    gaps = p.gaps[p.assignment, info.arms]
    rec["anchored_regret"] = jnp.sum(jnp.where(anchored, gaps, 0.0))
    rec["ucb_event_misses"] = jnp.sum(info.event_miss.astype(gaps.dtype))
    return rec


#: The kernel's recorder: the family's regret plus the anchored agents' regret and event misses.
IE_METRICS = Metrics(accumulate=_ie_accumulate, primary=None)


def phase_end(t, phase):
    """Does step ``t`` (0-based) end phase ``phase``? (``t + 1 == phase^3``)."""
    return (t + 1) == phase**3


def build(params):
    p = params["problem"]
    alpha, offset = params["alpha"], params["time_offset"]
    P, sticky0, block = params["ask"], params["active0"], params["block"]
    N, K = p.n_agents, p.n_arms
    A = sticky0.shape[1]  # S + 2
    S = A - 2
    dtype = p.means.dtype
    bits = params["index_bits"]
    anchor = params["anchor"]
    rows = jnp.arange(N)

    def init(key):
        del key
        z = jnp.zeros((N, K), dtype)
        neg = -jnp.ones((N,), jnp.int32)
        return IEState(counts=z, sums=z, prev_counts=z, active=sticky0, phase=jnp.ones((), jnp.int32),
                       blocked_until=jnp.zeros((N, N), jnp.int32), last_rec=neg, last_src=neg)  # fmt: skip

    def step(key, state, t):
        k_pull, k_ask = jax.random.split(key)
        scores = ucb_scores(state.counts, state.sums, t, alpha, offset)
        s_act = jnp.take_along_axis(scores, state.active, axis=1)
        arms = state.active[rows, jnp.argmax(s_act, axis=1)]
        rewards = sample_rewards(p, k_pull, arms)
        # the anchored agents' confidence event at this step (counts and sums before the pull)
        mu = p.means[p.assignment]  # (N, K)
        safe = jnp.maximum(state.counts, 1.0)
        est = state.sums / safe
        rad = jnp.sqrt(alpha * log_time(t, offset) / safe)
        a = jnp.maximum(anchor, 0)
        worse = p.gaps[p.assignment, arms] > 0
        pulled_high = (state.counts[rows, arms] > 0) & worse & (est[rows, arms] > mu[rows, arms] + rad[rows, arms])
        best_low = (state.counts[rows, a] > 0) & (est[rows, a] < mu[rows, a] - rad[rows, a])
        event_miss = (anchor >= 0) & (pulled_high | best_low)
        hot = jax.nn.one_hot(arms, K, dtype=dtype)
        counts = state.counts + hot
        sums = state.sums + hot * rewards[:, None]

        # --- end of phase (computed every step, applied where the phase ends; cheap) ---
        end = phase_end(t, state.phase)
        delta = counts - state.prev_counts
        d_act = jnp.take_along_axis(delta, state.active, axis=1)  # (N, S+2)
        most = state.active[rows, jnp.argmax(d_act, axis=1)]  # most played active arm of the phase
        # blocking: the last recommendation was not this phase's most played arm
        bad = block & (state.last_src >= 0) & (state.last_rec != most)
        bu = state.blocked_until.at[rows, jnp.maximum(state.last_src, 0)].set(
            jnp.where(bad, (state.phase * state.phase).astype(jnp.int32), state.blocked_until[rows, jnp.maximum(state.last_src, 0)])
        )
        # 1. U/L swap
        swap = d_act[:, S] < d_act[:, S + 1]
        U = jnp.where(swap, state.active[:, S + 1], state.active[:, S])
        L = jnp.where(swap, state.active[:, S], state.active[:, S + 1])
        # 2. ask an unblocked agent drawn from P
        allowed = P * (bu <= state.phase)
        has = jnp.sum(allowed, axis=1) > 0
        logits = jnp.where(allowed > 0, jnp.log(jnp.where(allowed > 0, allowed, 1.0)), -jnp.inf)
        src = jax.random.categorical(k_ask, jnp.where(has[:, None], logits, 0.0), axis=1).astype(jnp.int32)
        rec = most[src].astype(jnp.int32)
        # 3. insert in place of L when not active
        present = jnp.any(state.active[:, :S] == rec[:, None], axis=1) | (U == rec) | (L == rec)
        L = jnp.where(has & ~present, rec, L)
        new_active = state.active.at[:, S].set(U).at[:, S + 1].set(L)

        sel = lambda a, b: jnp.where(end, a, b)  # noqa: E731
        new = IEState(
            counts=counts, sums=sums,
            prev_counts=sel(counts, state.prev_counts),
            active=sel(new_active, state.active),
            phase=state.phase + end.astype(jnp.int32),
            blocked_until=sel(bu, state.blocked_until),
            last_rec=sel(jnp.where(has, rec, -1), state.last_rec),
            last_src=sel(jnp.where(has, src, -1), state.last_src),
        )  # fmt: skip
        asked = (end & has).astype(dtype)
        cost = BanditCost(arm_pulls=jnp.ones(N, dtype), messages=asked, bits_up=asked * bits,
                          comm_rounds=end.astype(dtype))  # fmt: skip
        return new, IEInfo(arms=arms, rewards=rewards, event_miss=event_miss, cost=cost)

    return init, step


def finite(state):
    return (state.counts, state.sums, state.prev_counts)

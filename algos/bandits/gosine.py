"""GosInE: the Gossiping Insert-Eliminate algorithm (Chawla, Sankararaman, Ganesh, Shakkottai, AISTATS 2020).

Problem class: ``N`` agents on stochastic ``K``-armed bandits (the paper: all on one bandit,
:func:`problems.bandits.gosine_instance`; run on a :func:`problems.bandits.heterogeneous_mab`
with ``M > 1`` it is the context-unaware baseline that ignores the heterogeneity).

Rule (the kernel of :mod:`algos.bandits._insert_eliminate`), with the official code's defaults,
ronshee/gosine@2c8bc7ea9953dac02a883f5c805cfeec25c4e3e9:Synch.py:

* sticky set of agent ``p``: the ``S = ceil(K/N)`` consecutive arms from ``p ceil(K/N) mod K``
  (``stickyarms``), then ``U`` and ``L`` = the next two arms;
* UCB on the active set with ``mu_hat + sqrt(alpha log(t + 1) / T_k)``, ``alpha = 4``, ``t`` the
  0-based global step (``ucb(..., s+1)`` scores the next step with ``log(s + 1)``), ``+inf`` unplayed;
* phase ``j`` ends at ``t + 1 = j^3``; at its end: ``U`` := the more played of ``U``/``L``, ask a
  uniformly random neighbour (the gossip matrix ``G`` of the instance, uniform over neighbours on a
  graph, as ``getarm``) for its most played active arm of the phase, insert it in place of ``L``
  when not active. One arm index (``ceil(log2 K)`` bits) per agent per phase.

Ours: the synchronous exchange (all agents read the phase-end sets before anyone updates); the
official loop updates agents in index order.

Matching bound: the group-regret order of :func:`bounds.bandits.collab.collab_group_regret` (the
paper's constants are NOT FOUND).
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from algos._core import make_algorithm
from algos.bandits import _insert_eliminate as ie
from algos.bandits._common import check_mab, check_positive, index_bits

__all__ = ["gosine", "gosine_sticky"]

#: GosInE's official defaults (ronshee/gosine@2c8bc7ea9953dac02a883f5c805cfeec25c4e3e9:Synch.py).
ALPHA = 4.0
TIME_OFFSET = 1.0


def gosine_sticky(n_agents: int, n_arms: int) -> np.ndarray:
    """(N, S+2) initial active sets of the official ``stickyarms(n, K)``: ``(p ceil(K/n) mod K + q) mod K``."""
    S = math.ceil(n_arms / n_agents)
    p = np.arange(n_agents)[:, None]
    q = np.arange(S + 2)[None, :]
    return ((p * S) % n_arms + q) % n_arms


def gosine(problem, *, alpha: float = ALPHA, time_offset: float = TIME_OFFSET):
    """GosInE with the official defaults (see the module docstring).

    Args:
        problem: a :func:`problems.bandits.heterogeneous_mab` instance (its ``G`` is the gossip matrix).
        alpha: UCB exploration constant (default 4, the official code's).
        time_offset: the index uses ``log(t + time_offset)`` (default 1, the official code's).

    Returns:
        An :class:`algos.Algorithm`; trace fields ``regret``, ``agent_regret``, ``realized_regret``,
        ``arm_pulls``, ``messages``, ``bits_up``, ``bits_down`` (0), ``comm_rounds``, and the anchored
        agents' ``anchored_regret`` and ``ucb_event_misses`` (:mod:`algos.bandits._insert_eliminate`).
    """
    check_mab(problem, "gosine")
    alpha = check_positive(alpha, "alpha", "gosine")
    time_offset = check_positive(time_offset, "time_offset", "gosine", strict=False)
    N, K = problem.n_agents, problem.n_arms
    if math.ceil(K / N) + 2 > K:
        raise ValueError(f"algos.gosine: K = {K} arms are too few for N = {N} agents: the active set (ceil(K/N) + 2 arms) must fit in K")
    params = {
        "problem": problem, "alpha": alpha, "time_offset": time_offset, "ask": problem.G,
        "active0": jnp.asarray(gosine_sticky(N, K), jnp.int32), "block": False, "index_bits": index_bits(K),
    }  # fmt: skip
    params["anchor"] = jnp.asarray(ie.anchors(problem, params["active0"]), jnp.int32)
    hp = {"alpha": alpha, "time_offset": time_offset, "sticky": math.ceil(K / N), "phase_exponent": 3}
    return make_algorithm(ie.build, params, ie.IE_METRICS, "gosine", hparams=hp, finite=ie.finite)

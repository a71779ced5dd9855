"""Collaborative UCB for heterogeneous multi-agent bandits (Chawla, Vial, Shakkottai, Srikant, ICML 2023).

Problem class (VERIFIED, the paper's set-up paragraph): ``N`` agents, each learning one of ``M < N``
stochastic ``K``-armed bandits, ``Theta(N/M)`` learners per bandit; group regret; a fixed gossip
matrix ``G`` unknown to the agents; two scenarios, *context unaware* and *partially context aware*
(SECONDARY: an agent knows ``r - 1`` peers of its bandit); the algorithms are GosInE-based and
spread arm *recommendations*, not samples.

The paper's algorithm boxes, phase schedule, sticky sizes and constants are NOT FOUND. This is
our reading, on GosInE's kernel (:mod:`algos.bandits._insert_eliminate`, phases ending at ``j^3``,
UCB ``alpha = 4`` with ``log(t + 1)``, one arm index per agent per phase):

* **sticky sets (ours)**: ``S = ceil(K / N_min)`` arms per agent, ``N_min`` the smallest group
  size; the learner of rank ``rho`` in its group gets arms ``rho S, ..., rho S + S - 1 (mod K)``, so
  each group's sticky sets cover all ``K`` arms (an assumption on the set-up, in the spirit of the
  GosInE line's "the best arm is in some learner's sticky set"; the agents do not use the groups
  otherwise);
* **context unaware (ours)**: ask an agent drawn from ``G``; recommendations from agents of other
  bandits are filtered by *blocking*: when a recommended arm is not the agent's most played arm
  of the next phase ``j``, the recommender is blocked until phase ``j^2``;
* **partially context aware (ours)**: ask one of the ``r - 1`` known peers, uniformly (they learn
  the same bandit, so no blocking is needed; the agent talks to its peers directly).

Matching bound: :func:`bounds.bandits.collab.collab_group_regret` (an order in ``log T``).
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from algos._core import make_algorithm
from algos.bandits import _insert_eliminate as ie
from algos.bandits._common import check_mab, check_positive, index_bits
from algos.bandits.gosine import ALPHA, TIME_OFFSET

__all__ = ["collab_ucb", "group_sticky", "SCENARIOS"]

SCENARIOS = ("unaware", "partial")


def group_sticky(problem) -> np.ndarray:
    """(N, S+2) initial active sets covering all arms within every group (see the module docstring)."""
    K = problem.n_arms
    S = math.ceil(K / int(problem.group_sizes().min()))
    rank = problem.group_rank()[:, None]
    q = np.arange(S + 2)[None, :]
    return (rank * S + q) % K


def collab_ucb(problem, *, scenario: str = "unaware", alpha: float = ALPHA, time_offset: float = TIME_OFFSET):
    """Collaborative UCB (our reading of Chawla et al. 2023; see the module docstring).

    Args:
        problem: a :func:`problems.bandits.heterogeneous_mab` instance.
        scenario: ``"unaware"`` (gossip over ``G`` with blocking) or ``"partial"`` (ask the ``r - 1``
            known peers of ``problem.peers``; needs ``problem.r >= 2``).
        alpha, time_offset: UCB exploration, as GosInE's code (4 and 1).

    Returns:
        An :class:`algos.Algorithm` named ``"collab_ucb"`` (``hparams["scenario"]`` says which).
    """
    fn = "collab_ucb"
    check_mab(problem, fn)
    if scenario not in SCENARIOS:
        raise ValueError(f"algos.{fn}: scenario must be one of {SCENARIOS}, got {scenario!r}")
    alpha = check_positive(alpha, "alpha", fn)
    time_offset = check_positive(time_offset, "time_offset", fn, strict=False)
    K = problem.n_arms
    active0 = group_sticky(problem)
    S = active0.shape[1] - 2
    if S + 2 > K:
        raise ValueError(f"algos.{fn}: groups of {int(problem.group_sizes().min())} agents need S + 2 = {S + 2} > K = {K} active arms; use more agents per bandit or more arms")
    if scenario == "partial":
        if problem.r < 2:
            raise ValueError(f"algos.{fn}: the partially aware scenario needs known peers; build the instance with r >= 2 (got r = {problem.r})")
        peers = jnp.asarray(problem.peers, problem.means.dtype)
        ask = peers / jnp.sum(peers, axis=1, keepdims=True)
        block = False
    else:
        ask, block = problem.G, True
    params = {
        "problem": problem, "alpha": alpha, "time_offset": time_offset, "ask": ask,
        "active0": jnp.asarray(active0, jnp.int32), "block": block, "index_bits": index_bits(K),
    }  # fmt: skip
    params["anchor"] = jnp.asarray(ie.anchors(problem, params["active0"]), jnp.int32)
    hp = {"alpha": alpha, "time_offset": time_offset, "sticky": S, "phase_exponent": 3, "scenario": scenario}
    return make_algorithm(ie.build, params, ie.IE_METRICS, "collab_ucb", hparams=hp, finite=ie.finite)

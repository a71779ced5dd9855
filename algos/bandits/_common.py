"""What every networked-bandit method shares: its cost fields, its Info, argument checks.

Cost fields (:class:`BanditCost`; the trace holds their running sums):

* ``arm_pulls`` — actions taken (one per agent per round);
* ``messages`` — messages sent (agent to agent, agent to server, server to agent);
* ``bits_up`` — bits sent by agents (to a server, or to other agents in a serverless protocol);
* ``bits_down`` — bits sent by a server to the agents (0 in serverless protocols);
* ``comm_rounds`` — rounds in which any communication happened (a scalar per step, not per agent).

Each method counts its messages at its protocol's message sizes (its docstring says which).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["BanditCost", "MABInfo", "LinearInfo", "index_bits", "check_mab", "check_linear", "log_time", "first_argmax"]


class BanditCost(NamedTuple):
    """One step's spending (arrays are summed by the engine)."""

    arm_pulls: Any = 0.0
    messages: Any = 0.0
    bits_up: Any = 0.0
    bits_down: Any = 0.0
    comm_rounds: Any = 0.0


class MABInfo(NamedTuple):
    arms: jax.Array  # (N,) int: arm pulled by each agent
    rewards: jax.Array  # (N,) observed rewards
    cost: BanditCost


class LinearInfo(NamedTuple):
    contexts: jax.Array  # (N,) int: action set drawn by each agent
    arms: jax.Array  # (N,) int: action played (index into the set)
    rewards: jax.Array  # (N,)
    cost: BanditCost


def index_bits(n: int) -> int:
    """Bits of an index in ``range(n)``: ``ceil(log2 n)`` (at least 1)."""
    return max(1, math.ceil(math.log2(n)))


def check_mab(problem, fn: str):
    from problems.bandits import HeterogeneousMAB

    if not isinstance(problem, HeterogeneousMAB):
        raise TypeError(f"algos.{fn}: problem must be a problems.bandits.heterogeneous_mab instance, got {type(problem).__name__}")
    return problem


def check_linear(problem, fn: str):
    from problems.bandits import LinearContextual

    if not isinstance(problem, LinearContextual):
        raise TypeError(f"algos.{fn}: problem must be a problems.bandits.linear_contextual instance, got {type(problem).__name__}")
    return problem


def check_positive(value, name: str, fn: str, *, integer: bool = False, minimum: float = 0.0, strict: bool = True):
    bad_type = isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating))
    if integer and not bad_type and float(value) != int(value):
        bad_type = True
    if bad_type:
        kind = "an integer" if integer else "a number"
        raise TypeError(f"algos.{fn}: {name} must be {kind}, got {value!r} ({type(value).__name__})")
    v = int(value) if integer else float(value)
    ok = (v > minimum) if strict else (v >= minimum)
    if not (np.isfinite(v) and ok):
        raise ValueError(f"algos.{fn}: {name} must be {'>' if strict else '>='} {minimum}, got {value}")
    return v


def log_time(t, offset):
    """``log(max(t + offset, 1))``: the exploration term's log of the step index ``t`` (0-based)."""
    return jnp.log(jnp.maximum(jnp.asarray(t, jnp.result_type(float)) + offset, 1.0))


def first_argmax(x, axis=-1):
    """``argmax`` (the first maximal index, as NumPy's), with ``+inf`` sentinels allowed."""
    return jnp.argmax(x, axis=axis)

"""Dual averaging with delayed, asynchronous feedback: adaptive, optimistic, and a tuned constant step.

Problem class: :class:`problems.online.OnlineProblem` (convex losses over a ball or a box, one active
agent per round, gradient feedback reaching each agent after its own delay, a known delay bound ``d``).

VERIFIED (Hsieh, Iutzeler, Malick & Mertikopoulos, JMLR 2022, abstract): each agent runs dual
averaging on the gradient feedback it has *received* from the whole system, without coordination;
its step size uses only the information available when it predicts; an optimistic variant does
better on slowly varying losses. The update rules, step-size formulas and constants are NOT FOUND;
what follows is ratebench's construction of that structure.

Agent ``i`` keeps ``S_i`` (sum of received gradients), ``Q_i`` (sum of received squared norms) and
``n_i`` (number received). When active at round ``t`` it predicts (lazy projection, Euclidean
regulariser centred at 0)::

    x_t = Proj_X(-eta_i (S_i + m_i)),

* :func:`delayed_dual_averaging`: ``m_i = 0``, ``eta_i = alpha / sqrt((d + 1) G^2 + Q_i)``
  (AdaGrad-norm on the received gradients, padded with ``(d + 1) G^2``: ``d + 1`` gradients may be
  missing, and the pad makes ``eta_t <= alpha / sqrt(sum_{s<=t} ||g_s||^2)`` for one agent, which the
  undelayed bound uses). Default ``alpha = D / sqrt(2 (1 + 2 d))`` (``D = max_X ||x||``): the minimiser of
  the derived delayed bound's constant (``bounds/online/dual_averaging.py``); ``d = 0`` gives
  ``alpha = D / sqrt(2)``, the minimiser of the undelayed explicit bound ``(D^2 / (2 alpha) + alpha) G sqrt(T + 1)``.
* :func:`optimistic_dual_averaging`: ``m_i`` = the received gradient of the latest round (the hint),
  ``Q_i`` sums the received prediction errors ``||g_s - m_s||^2`` (shipped with ``g_s``), pad
  ``(d + 1) (2 G)^2`` (``||g - m|| <= 2 G``); same default ``alpha``.
* :func:`tuned_dual_averaging`: the non-adaptive baseline, constant ``eta = D / (G sqrt((1 + 2 d) T))``,
  the minimiser of its explicit delayed bound ``D^2 / (2 eta) + eta k G^2 (1/2 + d)`` at the horizon ``T``
  (it needs ``T``, ``G`` and ``d`` in advance).

Feedback of round ``t`` reaches agent ``j`` at the start of round ``t + 1 + d_{t, j}`` through a ring
buffer of ``d + 2`` slots, so memory is ``O((d + 2) n_agents dim)`` whatever the horizon.

Trace (:data:`ONLINE_METRICS`): ``regret`` (cumulative, against the best fixed point in hindsight of the
rounds so far, exactly: the per-round increment is ``l_t(x_t) - (best_prefix[t+1] - best_prefix[t])``),
``loss``, ``outstanding`` (sum over rounds of the active agent's missing feedback), ``delay`` (sum of the
delays of each round's feedback to the agent that played it), ``hint_error_sum`` (``sum_t ||g_t - m_t||^2``:
the optimistic variant's prediction errors, ``sum_t ||g_t||^2`` for the others; the data-dependent
bound ``bounds.optimistic_dual_averaging`` reads it); diagnostics (Info, at each record)
``step_size``, ``missing``, ``agent``, ``hint_error`` (the recorded round's own term). Costs:
``gradient_calls`` (1 per round), ``feedback_messages`` (``n_agents`` per round: one per recipient).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from algos._core import make_algorithm
from problems._metrics import Metrics
from problems.online import OnlineProblem, project

__all__ = ["delayed_dual_averaging", "optimistic_dual_averaging", "tuned_dual_averaging", "DAState", "DAInfo",
           "ONLINE_METRICS", "default_alpha", "tuned_step"]  # fmt: skip


class DAState(NamedTuple):
    S: jax.Array  # (N, dim) received gradient sums
    Q: jax.Array  # (N,) received squared norms (of g, or of g - m for the optimistic variant)
    n: jax.Array  # (N,) feedback received
    hint: jax.Array  # (N, dim) latest-round received gradient
    hint_round: jax.Array  # (N,) its round (-1: none)
    buf_g: jax.Array  # (d+2, N, dim) pending gradient sums by arrival slot
    buf_q: jax.Array  # (d+2, N)
    buf_n: jax.Array  # (d+2, N)
    buf_last: jax.Array  # (d+2, N, dim) latest-round gradient arriving in each slot
    buf_round: jax.Array  # (d+2, N) its round (-1: none)


class DAInfo(NamedTuple):
    cost: dict
    x: jax.Array  # (dim,) the prediction of the round
    agent: jax.Array  # the active agent
    missing: jax.Array  # feedback the active agent was missing (recorded as a diagnostic)
    step_size: jax.Array  # the step it used (recorded as a diagnostic)
    hint_error: jax.Array  # ||g_t - m_t||^2 of the round (m_t = 0 unless optimistic: ||g_t||^2)


def default_alpha(problem: OnlineProblem) -> float:
    """``D / sqrt(2 (1 + 2 d))`` (module docstring)."""
    return float(problem.D) / math.sqrt(2.0 * (1.0 + 2.0 * problem.max_delay))


def tuned_step(problem: OnlineProblem, horizon: int | None = None) -> float:
    """``D / (G sqrt((1 + 2 d) T))``: the minimiser of the constant-step bound at the horizon ``T``."""
    T = problem.horizon if horizon is None else int(horizon)
    return float(problem.D) / (float(problem.G) * math.sqrt((1.0 + 2.0 * problem.max_delay) * T))


def _build(params):
    p: OnlineProblem = params["problem"]
    mode = params["mode"]  # 0 adaptive, 1 optimistic, 2 constant: traced, one program for all three
    alpha, eta0 = params["alpha"], params["eta"]
    T, dim = p.data.shape
    N = p.delays.shape[1]
    R = p.max_delay + 2
    dt = p.data.dtype
    ge = jnp.where(mode == 1, 2.0 * p.G, p.G)
    pad = (p.max_delay + 1.0) * ge**2

    def init(key):
        del key
        zN, zND = jnp.zeros(N, dt), jnp.zeros((N, dim), dt)
        return DAState(zND, zN, zN, zND, jnp.full(N, -1, jnp.int32), jnp.zeros((R, N, dim), dt),
                       jnp.zeros((R, N), dt), jnp.zeros((R, N), dt), jnp.zeros((R, N, dim), dt),
                       jnp.full((R, N), -1, jnp.int32))  # fmt: skip

    def step(key, s, t):
        del key
        slot = t % R
        # 1. deliver this round's arrivals to every agent
        S = s.S + s.buf_g[slot]
        Q = s.Q + s.buf_q[slot]
        n = s.n + s.buf_n[slot]
        newer = s.buf_round[slot] > s.hint_round
        hint = jnp.where(newer[:, None], s.buf_last[slot], s.hint)
        hint_round = jnp.where(newer, s.buf_round[slot], s.hint_round)
        buf_g = s.buf_g.at[slot].set(0.0)
        buf_q = s.buf_q.at[slot].set(0.0)
        buf_n = s.buf_n.at[slot].set(0.0)
        buf_round = s.buf_round.at[slot].set(-1)
        # 2. the active agent predicts from what it has received
        i = p.active[t]
        eta = jnp.where(mode == 2, eta0, alpha / jnp.sqrt(pad + Q[i]))
        m = jnp.where(mode == 1, hint[i], jnp.zeros(dim, dt))
        x = project(-eta * (S[i] + m), p.domain, p.radius)
        # 3. its gradient is sent to every agent, each with its own delay
        g = p.grad_at(t, x)
        e = jnp.sum((g - m) ** 2)  # m = 0 unless optimistic: ||g||^2
        slots = (t + 1 + p.delays[t]) % R  # (N,)
        agents = jnp.arange(N)
        buf_g = buf_g.at[slots, agents].add(g[None, :])
        buf_q = buf_q.at[slots, agents].add(e)
        buf_n = buf_n.at[slots, agents].add(1.0)
        buf_last = s.buf_last.at[slots, agents].set(g[None, :])
        buf_round = buf_round.at[slots, agents].set(t)
        new = DAState(S, Q, n, hint, hint_round, buf_g, buf_q, buf_n, buf_last, buf_round)
        info = DAInfo({"gradient_calls": 1.0, "feedback_messages": float(N)}, x, i,
                      jnp.asarray(t, dt) - n[i], jnp.asarray(eta, dt), e)  # fmt: skip
        return new, info

    return init, step


_MODES = ("adaptive", "optimistic", "constant")


def _accumulate(params, state, info, t):
    p: OnlineProblem = params["problem"]
    loss = p.loss_at(t, info.x)
    return {
        "regret": loss - (p.best_prefix[t + 1] - p.best_prefix[t]),
        "loss": loss,
        "outstanding": info.missing,
        "delay": p.delays[t, info.agent].astype(loss.dtype),
        "hint_error_sum": info.hint_error,
    }


#: The online family's recorder (regret is accumulated over every step by the engine).
ONLINE_METRICS = Metrics(accumulate=_accumulate, primary=None)


def _check(problem, fn):
    if not isinstance(problem, OnlineProblem):
        raise TypeError(f"algos.{fn}: problem must be a problems.online.OnlineProblem (online.linear(...)), "
                        f"got {type(problem).__name__}")  # fmt: skip


def _alpha(problem, alpha, fn):
    a = default_alpha(problem) if alpha is None else float(alpha)
    if not (np.isfinite(a) and a > 0):
        raise ValueError(f"algos.{fn}: alpha must be positive and finite, got {alpha}")
    return a


def _make(problem, mode, name, alpha, eta):
    hp = {"alpha": alpha, "step_size": eta, "max_delay": problem.max_delay, "horizon": problem.horizon}
    params = {"problem": problem, "alpha": jnp.asarray(alpha if alpha is not None else 0.0),
              "eta": jnp.asarray(eta if eta is not None else 0.0), "mode": jnp.asarray(_MODES.index(mode), jnp.int32)}  # fmt: skip
    return make_algorithm(_build, params, ONLINE_METRICS, name, hp)


def delayed_dual_averaging(problem: OnlineProblem, *, alpha: float | None = None):
    """Adaptive dual averaging on delayed feedback (module docstring).

    Args:
        problem: a :class:`problems.online.OnlineProblem`.
        alpha: step-size scale; default ``D / sqrt(2 (1 + 2 d))``.

    Returns:
        An :class:`algos.Algorithm`; run it for ``problem.horizon`` steps (or fewer).
    """
    _check(problem, "delayed_dual_averaging")
    return _make(problem, "adaptive", "delayed_dual_averaging", _alpha(problem, alpha, "delayed_dual_averaging"), None)


def optimistic_dual_averaging(problem: OnlineProblem, *, alpha: float | None = None):
    """Optimistic adaptive dual averaging (hint: the latest received gradient; module docstring)."""
    _check(problem, "optimistic_dual_averaging")
    return _make(problem, "optimistic", "optimistic_dual_averaging", _alpha(problem, alpha, "optimistic_dual_averaging"), None)


def tuned_dual_averaging(problem: OnlineProblem, *, step_size: float | None = None, horizon: int | None = None):
    """Dual averaging with a constant step, by default ``D / (G sqrt((1 + 2 d) T))`` (``T = horizon``)."""
    _check(problem, "tuned_dual_averaging")
    if horizon is not None and (isinstance(horizon, bool) or int(horizon) != horizon or horizon < 1):
        raise ValueError(f"algos.tuned_dual_averaging: horizon must be a positive integer, got {horizon!r}")
    eta = tuned_step(problem, horizon) if step_size is None else float(step_size)
    if not (np.isfinite(eta) and eta > 0):
        raise ValueError(f"algos.tuned_dual_averaging: step_size must be positive and finite, got {step_size}")
    return _make(problem, "constant", "tuned_dual_averaging", None, eta)

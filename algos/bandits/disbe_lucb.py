"""DisBE-LUCB and DecBE-LUCB: batched elimination for distributed contextual linear bandits.

Paper: Amani, Lattimore, György, Yang, "Distributed Contextual Linear Bandits with Minimax Optimal
Communication Cost", ICML 2023. VERIFIED (abstract): ``N`` agents, stochastic contexts from a
known distribution; DisBE-LUCB is a distributed *batch elimination* LinUCB through a server, with
``O~(d N)`` communication and ``O~(sqrt(d N T))`` regret; DecBE-LUCB has no server and uses a
consensus procedure over immediate neighbours. The batch schedule, the exploration policy, the
message and its quantization, and the constants are NOT FOUND (no official code; the third-party
code in ../shared/papers is not the paper's algorithm and is not followed). Everything below that is
not in that list is **our design**:

* **batches (ours)**: per-agent round grid ``t_1 = ceil(sqrt(d T / N))`` (the group's first batch
  ``N t_1 ~ sqrt(d N T)`` samples), then ``t_m = ceil(a sqrt(t_{m-1}))`` — "batches growing like
  ``a sqrt(T_{m-1})``" — with ``a`` solved so that the ``B``-th batch ends at ``T``,
  ``B = max(2, ceil(log2 log2 (T / t_1)) + 1)`` (the minimax grid of batched bandits, Perchet et
  al. 2016 / Gao et al. 2019, started at ``t_1``);
* **policy (ours)**: in batch ``m``, an agent that draws context ``c`` plays uniformly over the
  actions of ``c`` that survive, ``A_c^{(m)}`` (a simplification of an optimal design);
* **message (ours)**: at a batch end each agent uploads one d-vector, the batch average of
  ``x r``, clipped to ``[-B_u, B_u]``, ``B_u = 1 + 5 sigma / sqrt(n_m)``, and rounded to ``b = ceil(log2(N T))``
  bits per coordinate; the server broadcasts the quantized average back (``d b`` bits per agent);
* **estimate (ours)**: the context distribution is known, so the design covariance of the batch's
  policy ``Sigma_m = E_c[mean_{x in A_c} x x^T]`` is computed, not uploaded:
  ``theta_hat = (lam I + N n_m Sigma_m)^{-1} N n_m u_bar`` (only d-vectors travel);
* **elimination (ours)**: keep ``x in A_c`` iff ``<theta_hat, x> + w(x) >= max_{x'} <theta_hat, x'> - w(x')``,
  ``w(x) = beta ||x||_{Lambda^{-1}}``, ``beta = sqrt(2 (1 + sigma^2) log(2 K C B / delta)) + sqrt(lam) S``
  (a normal-approximation width for noise plus design fluctuation, not a theorem's constant);
* **DecBE consensus (ours)**: no server; after a batch, ``R = ceil(log(N T) / log(1 / slem(W)))``
  rounds of gossip ``y <- W q(y)`` of the quantized vectors, each round every agent sends its
  ``d b``-bit vector to each neighbour; each agent then eliminates with its own estimate and its
  own surviving sets (they can disagree: diagnostic ``mask_disagreement``).

No communication after the last batch. Diagnostics: ``best_kept`` (fraction of contexts whose best
action survives at agent 0). Matching bounds: :mod:`bounds.bandits.linear` (orders; the lower bound
``Omega(d N)`` bits), and the explicit elimination bound :func:`bounds.elimination_regret`.

Elimination certificates (recorded for that bound). At a batch end, the confidence event of an
agent is that ``|<theta_hat - theta*, x> | <= w(x)`` for every action ``x`` it still keeps (checked
with the instance's ``theta*``). On it, a kept best action survives, and a surviving ``x`` has
``<theta*, x*> - <theta*, x> <= 2 w(x) + 2 w(x*) <= 4 max_{x' kept} w(x')`` (elimination rule,
derived in :mod:`bounds.bandits.linear`). The state carries that per-context gap certificate
(before the first batch end: the context's largest gap, a fact of the instance). Recorded:
``elimination_gap_bound`` (the sum over steps and agents of the certificate of the context drawn)
and ``elimination_event_misses`` (agents whose event failed at a batch end).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from algos._core import make_algorithm
from algos.bandits._common import BanditCost, check_linear, check_positive
from problems import mixing
from problems._metrics import Metrics
from problems.bandits import linear_metrics, linear_rewards

__all__ = ["disbe_lucb", "decbe_lucb", "batch_grid", "quantize", "BEState", "BEInfo", "quant_bits", "BE_METRICS"]


def batch_grid(horizon: int, n_agents: int, dim: int) -> np.ndarray:
    """Per-agent batch ends ``t_1 < ... < t_B = T`` (see the module docstring)."""
    T = int(horizon)
    s = min(T, max(1, math.ceil(math.sqrt(dim * T / n_agents))))
    if s >= T:
        return np.array([T])
    B = max(2, math.ceil(math.log2(math.log2(max(T / s, 4.0)))) + 1)
    r = 2.0 ** (1 - B)
    log_a = (math.log(T) - r * math.log(s)) / (2.0 * (1.0 - r))
    ends = [s]
    for _ in range(B - 2):
        ends.append(min(T, max(ends[-1] + 1, math.ceil(math.exp(log_a) * math.sqrt(ends[-1])))))
    ends.append(T)
    out = np.unique(np.minimum(np.array(ends), T))
    return out


def quant_bits(horizon: int, n_agents: int) -> int:
    """Bits per coordinate: ``ceil(log2(N T))`` (at least 2)."""
    return max(2, math.ceil(math.log2(n_agents * horizon)))


def quantize(v, bound, bits):
    """Round ``clip(v, -bound, bound)`` to the nearest of ``2^bits`` evenly spaced levels on ``[-bound, bound]``."""
    levels = 2.0**bits - 1.0
    c = jnp.clip(v, -bound, bound)
    return jnp.round((c + bound) / (2.0 * bound) * levels) / levels * (2.0 * bound) - bound


class BEState(NamedTuple):
    mask: jax.Array  # (C, K) bool surviving actions (DisBE), or (N, C, K) per agent (DecBE)
    u: jax.Array  # (N, d) sum of x r in the current batch
    batch: jax.Array  # () int index of the current batch
    gap_cert: jax.Array  # (C,) (DisBE) or (N, C) (DecBE): certified largest gap of a kept action


class BEInfo(NamedTuple):
    contexts: jax.Array
    arms: jax.Array
    rewards: jax.Array
    best_kept: jax.Array  # () fraction of contexts whose best action survives (agent 0)
    mask_disagreement: jax.Array  # () fraction of mask entries where agents differ from agent 0 (DecBE)
    gap_cert: jax.Array  # (N,) the certificate of each agent's drawn context at this step
    event_miss: jax.Array  # (N,) the agent's confidence event failed at this step's batch end
    cost: BanditCost


def _design(actions, mask):
    """``E_c[mean_{x in A_c} x x^T]`` for a (C, K) mask."""
    w = mask / jnp.maximum(jnp.sum(mask, axis=-1, keepdims=True), 1)
    return jnp.einsum("ck,ckd,cke->de", w, actions, actions) / actions.shape[0]


def _eliminate(actions, mask, theta_hat, Linv, beta, theta):
    """``(new mask, gap certificate (C,), event held)`` (see the module docstring)."""
    est = actions @ theta_hat  # (C, K)
    w = beta * jnp.sqrt(jnp.maximum(jnp.einsum("ckd,de,cke->ck", actions, Linv, actions), 0.0))
    lcb = jnp.max(jnp.where(mask, est - w, -jnp.inf), axis=1)
    new = mask & (est + w >= lcb[:, None])
    ok = jnp.all(jnp.where(mask, jnp.abs(est - actions @ theta) <= w, True))
    cert = 4.0 * jnp.max(jnp.where(new, w, 0.0), axis=1)
    return new, cert, ok


def be_accumulate(params, state, info, t):
    rec = linear_metrics.accumulate(params, state, info, t)
    rec["elimination_gap_bound"] = jnp.sum(info.gap_cert)
    rec["elimination_event_misses"] = jnp.sum(info.event_miss.astype(info.gap_cert.dtype))
    return rec


#: DisBE/DecBE's recorder: the family's regret plus the elimination certificates.
BE_METRICS = Metrics(accumulate=be_accumulate, primary=None)


def _build(params):
    p = params["problem"]
    lam, beta, S = params["lam"], params["beta"], params["S"]
    ends, bits, Wr, rounds = params["ends"], params["bits"], params["W"], params["rounds"]
    decentral = params["W"] is not None
    N, d, C, K = p.n_agents, p.dim, p.n_contexts, p.n_actions
    B = ends.shape[0]
    dtype = p.actions.dtype
    eye = jnp.eye(d, dtype=dtype)
    best = jnp.argmax(p.values, axis=1)
    del S

    cert0 = jnp.max(p.values, axis=1) - jnp.min(p.values, axis=1)  # a context's largest gap

    def init(key):
        del key
        m = jnp.ones((C, K), bool)
        return BEState(mask=jnp.broadcast_to(m, (N, C, K)) if decentral else m, u=jnp.zeros((N, d), dtype),
                       batch=jnp.zeros((), jnp.int32), gap_cert=jnp.broadcast_to(cert0, (N, C)) if decentral else cert0)  # fmt: skip

    def step(key, state, t):
        k_ctx, k_a, k_r = jax.random.split(key, 3)
        c = jax.random.randint(k_ctx, (N,), 0, C)
        m_c = state.mask[jnp.arange(N), c] if decentral else state.mask[c]  # (N, K)
        a = jax.random.categorical(k_a, jnp.where(m_c, 0.0, -jnp.inf), axis=1)
        x = p.actions[c, a]
        r = linear_rewards(p, k_r, x)
        u = state.u + r[:, None] * x
        m_idx = state.batch
        prev_end = jnp.where(m_idx > 0, ends[jnp.maximum(m_idx - 1, 0)], 0)
        n_m = (ends[m_idx] - prev_end).astype(dtype)
        end = ((t + 1) == ends[m_idx]) & (m_idx < B - 1)

        cert_now = state.gap_cert[jnp.arange(N), c] if decentral else state.gap_cert[c]  # (N,)

        def at_end(args):
            mask, u, _, _ = args
            bound = 1.0 + 5.0 * p.sigma / jnp.sqrt(n_m)
            q = quantize(u / n_m, bound, bits)  # (N, d) uploads
            if decentral:
                y = jax.lax.fori_loop(0, rounds, lambda _, y: Wr @ quantize(y, bound, bits), q)
                Sig = jax.vmap(lambda mk: _design(p.actions, mk))(mask)  # (N, d, d)
                Lam = lam * eye + N * n_m * Sig
                Linv = jnp.linalg.inv(Lam)
                th = jnp.einsum("nde,ne->nd", Linv, N * n_m * y)
                new_mask, cert, ok = jax.vmap(lambda mk, th_, Li: _eliminate(p.actions, mk, th_, Li, beta, p.theta))(mask, th, Linv)
            else:
                ubar = quantize(jnp.mean(q, axis=0), bound, bits)  # the server's broadcast
                Lam = lam * eye + N * n_m * _design(p.actions, mask)
                Linv = jnp.linalg.inv(Lam)
                new_mask, cert, ok = _eliminate(p.actions, mask, Linv @ (N * n_m * ubar), Linv, beta, p.theta)
                ok = jnp.broadcast_to(ok, (N,))
            return new_mask, jnp.zeros_like(u), cert, ~ok

        mask, u, gap_cert, miss = jax.lax.cond(end, at_end, lambda args: args,
                                               (state.mask, u, state.gap_cert, jnp.zeros((N,), bool)))
        last = (t + 1) == ends[m_idx]
        new = BEState(mask=mask, u=jnp.where(last, jnp.zeros_like(u), u), batch=(m_idx + last.astype(jnp.int32)).astype(jnp.int32),
                      gap_cert=gap_cert)
        m0 = mask[0] if decentral else mask
        best_kept = jnp.mean(m0[jnp.arange(C), best].astype(dtype))
        disagree = jnp.mean((mask != mask[0:1]).astype(dtype)) if decentral else jnp.zeros((), dtype)
        e = end.astype(dtype)
        if decentral:
            cost = BanditCost(arm_pulls=jnp.ones(N, dtype), messages=e * rounds * params["edges2"],
                              bits_up=e * rounds * params["edges2"] * d * bits, bits_down=jnp.zeros((), dtype),
                              comm_rounds=e * rounds)  # fmt: skip
        else:
            cost = BanditCost(arm_pulls=jnp.ones(N, dtype), messages=e * 2.0 * N, bits_up=e * N * d * bits,
                              bits_down=e * N * d * bits, comm_rounds=e)  # fmt: skip
        return new, BEInfo(contexts=c, arms=a, rewards=r, best_kept=best_kept, mask_disagreement=disagree,
                           gap_cert=cert_now, event_miss=miss, cost=cost)

    return init, step


def default_beta(problem, n_batches: int, lam: float, S: float, delta: float) -> float:
    """``sqrt(2 (1 + sigma^2) log(2 K C B / delta)) + sqrt(lam) S`` (ours; see the module docstring)."""
    K, C = problem.n_actions, problem.n_contexts
    sig2 = float(problem.sigma) ** 2
    return math.sqrt(2.0 * (1.0 + sig2) * math.log(2.0 * K * C * n_batches / delta)) + math.sqrt(lam) * S


def _common(problem, fn, horizon, lam, delta, S, beta, bits):
    check_linear(problem, fn)
    T = int(check_positive(horizon, "horizon", fn, integer=True))
    lam = check_positive(lam, "lam", fn)
    delta = check_positive(delta, "delta", fn)
    if not delta < 1.0:
        raise ValueError(f"algos.{fn}: delta must lie in (0, 1), got {delta}")
    S = check_positive(S, "S", fn)
    ends = batch_grid(T, problem.n_agents, problem.dim)
    beta = default_beta(problem, len(ends), lam, S, delta) if beta is None else check_positive(beta, "beta", fn)
    bits = quant_bits(T, problem.n_agents) if bits is None else int(check_positive(bits, "bits", fn, integer=True))
    params = {"problem": problem, "lam": lam, "beta": beta, "S": S, "ends": jnp.asarray(ends, jnp.int32), "bits": bits}
    hp = {"lam": lam, "delta": delta, "S": S, "beta": beta, "bits": bits, "horizon": T, "n_batches": int(len(ends)),
          "batch_ends": [int(e) for e in ends]}  # fmt: skip
    return params, hp


def disbe_lucb(problem, *, horizon: int, lam: float = 1.0, delta: float = 0.01, S: float = 1.0, beta: float | None = None, bits: int | None = None):
    """DisBE-LUCB (our reading; see the module docstring), for ``horizon`` rounds of ``N`` agents.

    Args:
        problem: a :func:`problems.bandits.linear_contextual` instance.
        horizon: ``T`` rounds (the batch grid depends on it); run it for ``horizon`` steps.
        lam: ridge ``lambda > 0``; delta: confidence in (0, 1); S: bound on ``||theta*||``.
        beta: elimination width multiplier (default :func:`default_beta`).
        bits: bits per transmitted coordinate (default ``ceil(log2(N T))``).

    Costs per batch end (not after the last batch): ``N`` uploads and ``N`` downloads of ``d b`` bits.
    """
    params, hp = _common(problem, "disbe_lucb", horizon, lam, delta, S, beta, bits)
    params.update(W=None, rounds=0, edges2=0.0)
    return make_algorithm(_build, params, BE_METRICS, "disbe_lucb", hparams=hp)


def decbe_lucb(problem, W, *, horizon: int, rounds: int | None = None, lam: float = 1.0, delta: float = 0.01, S: float = 1.0,
               beta: float | None = None, bits: int | None = None):  # fmt: skip
    """DecBE-LUCB (our reading; see the module docstring): DisBE-LUCB with gossip instead of a server.

    Args:
        problem: a :func:`problems.bandits.linear_contextual` instance.
        W: (N, N) symmetric doubly stochastic gossip matrix over the agents (``problems.mixing``).
        horizon, lam, delta, S, beta, bits: as :func:`disbe_lucb`.
        rounds: gossip rounds per batch end (default ``ceil(log(N T) / log(1 / slem(W)))``).

    Costs per batch end: ``rounds`` rounds, each agent sending ``d b`` bits to each neighbour.
    """
    fn = "decbe_lucb"
    params, hp = _common(problem, fn, horizon, lam, delta, S, beta, bits)
    Wd = np.asarray(W, dtype=np.float64)
    N = problem.n_agents
    if Wd.shape != (N, N):
        raise ValueError(f"algos.{fn}: W must be (n_agents, n_agents) = ({N}, {N}), got {Wd.shape}")
    mixing.check_mixing(Wd)
    s = mixing.slem(Wd)
    if rounds is None:
        if not s < 1.0:
            raise ValueError(f"algos.{fn}: W does not mix (slem = {s}); pass a connected graph's mixing matrix")
        rounds = max(1, math.ceil(math.log(N * hp["horizon"]) / math.log(1.0 / s))) if s > 0 else 1
    rounds = int(check_positive(rounds, "rounds", fn, integer=True))
    edges2 = float(np.count_nonzero((Wd != 0) & ~np.eye(N, dtype=bool)))  # directed links: messages per round
    params.update(W=jnp.asarray(Wd, problem.actions.dtype), rounds=rounds, edges2=edges2)
    hp.update(rounds=rounds, slem=s, directed_links=edges2)
    return make_algorithm(_build, params, BE_METRICS, "decbe_lucb", hparams=hp)

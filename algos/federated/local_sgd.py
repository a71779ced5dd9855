"""Local SGD with an outer optimizer (DiLoCo-style), its delayed (asynchronous) variant, and MoDeST sampling.

Problem class: ``min_x (1/n) sum_i f_i(x)``, ``n`` workers, stochastic gradients ``problem.stoch_grad``.
One engine step is one communication round.

``local_sgd`` (server model ``x``, outer momentum ``m``). Every worker starts the round from the model
it was sent, runs ``H`` inner SGD steps with step ``eta`` (``y_0 = x``), and the server forms the
averaged pseudo-gradient ``Delta = x_sent - mean_i y_H^i`` and takes one outer step::

    m <- mu m + Delta
    x <- x - lr (Delta + mu m)     (nesterov=True; PyTorch's SGD-Nesterov form)
    x <- x - lr m                  (nesterov=False: heavy ball)

``lr = 1, mu = 0`` is plain local SGD / FedAvg (the new model is the workers' average). With
``delay = D >= 1`` the pseudo-gradient applied at round ``t`` is the one computed from the model of
round ``t - D`` (``x_sent = x_{t-D}``; models before the start are ``x_0``): the outer momentum
meets stale pseudo-gradients, the failure mode named by Liu et al. 2024.

Delayed Nesterov (``delayed_nesterov=N >= 1``; Liu et al.'s "DN", as a third-party torchft server
implements it according to ../shared/papers/bilevel-bandits-games-online-federated.md §10; that code
was not read for this module): every round adds ``Delta`` to a buffer ``b``; on rounds ``t`` with ``(t + 1) mod N != 0`` the model
moves by ``x <- x - lr Delta / N`` with the momentum frozen; every ``N``-th round ``m <- mu m + b / N``,
``x <- x - lr (Delta / N + mu m)`` and ``b <- 0``. ``N = 1`` is the Nesterov step above.

``modest`` (decentralized sampling). Round ``r`` selects ``s`` of the ``n`` nodes: those with the ``s``
smallest values of a deterministic integer hash of ``(node, r)``, so every node can compute the sample
without coordination (as the Plexus code sorts peers by ``md5(peer_id || round)``; ours is a 32-bit
integer mix, not md5). The sampled nodes start from the current model, run ``H`` local SGD steps and
the sample's average becomes the model passed to the next round's sample.

Sources. DiLoCo (Douillard et al., arXiv:2311.08105, abstract VERIFIED): many inner steps, inner AdamW,
outer Nesterov momentum. Defaults ``lr = 0.7``, ``mu = 0.9``, Nesterov are the OpenDiLoCo replication's
outer-SGD defaults as recorded in ../shared/papers/bilevel-bandits-games-online-federated.md §9 (the
repository itself was not read for this module), which also records the reset-then-step order used above (the
pseudo-gradient is taken against the model the round started from). Ours: inner *SGD* (not AdamW),
``H = 10`` by default (OpenDiLoCo: 500), the fixed delay ``D`` (Liu et al. 2024, arXiv:2401.09135,
abstract VERIFIED, describe asynchronous arrivals, not a fixed delay), Delayed Nesterov applied once
per round to the averaged pseudo-gradient, and the period N. MoDeST / Plexus (de Vos et al., arXiv:2302.13837, abstracts VERIFIED): a random subset of
nodes trains and aggregates each round; the hash-sorted sample follows the official Plexus code as
recorded in ../shared/papers/bilevel-bandits-games-online-federated.md §11 (the code was not read for
this module), default sample size 10 and 5 local steps (its defaults according to the notes); one aggregator, no
failures, no timeouts (ours).

Costs per round (totals): ``uploads`` and ``downloads`` (model vectors), ``gradient_calls``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from algos._core import make_algorithm
from algos.federated.anarchic import convex_metrics, nonconvex_metrics
from algos.federated.dfedsam import check_positive_int

__all__ = ["local_sgd", "modest", "LocalState", "ModestState", "sample_mask"]


class LocalState(NamedTuple):
    x: jax.Array  # (d,) server model
    m: jax.Array  # (d,) outer momentum
    hist: jax.Array  # (D + 1, d) last server models, newest first
    buf: jax.Array  # (d,) pseudo-gradients accumulated since the last momentum update (delayed Nesterov)


class ModestState(NamedTuple):
    x: jax.Array  # (d,) the model held by the current sample


class Info(NamedTuple):
    cost: dict
    increment_norm: jax.Array  # () ||x_{r+1} - x_r||, the model's move in the round (trace field of that name)


def _metrics_for(problem, fn):
    from problems import convex, nonconvex

    if isinstance(problem, convex.Problem):
        return convex_metrics
    if isinstance(problem, nonconvex.Problem):
        return nonconvex_metrics
    raise TypeError(f"algos.{fn} expects a problems.convex.Problem or problems.nonconvex.Problem, got {type(problem).__name__}")


def _inner(p, X, eta, H, key):
    """``H`` SGD steps of every row of ``X`` (node-stacked) with one fresh key per step."""

    def body(Y, k):
        return Y - eta * p.stoch_grad(k, Y), None

    return jax.lax.scan(body, X, jax.random.split(key, H))[0]


_LOCAL_BUILDS: dict = {}


def _local_builder(H: int, D: int, nesterov: bool, dn_period: int = 0):
    key = (H, D, nesterov, dn_period)
    if key in _LOCAL_BUILDS:
        return _LOCAL_BUILDS[key]

    def build(params):
        p, eta, lr, mu, x0 = params["problem"], params["eta"], params["lr"], params["mu"], params["x0"]
        n = p.n_nodes

        def init(key):
            del key
            return LocalState(x=x0, m=jnp.zeros_like(x0), hist=jnp.broadcast_to(x0, (D + 1, x0.shape[0])), buf=jnp.zeros_like(x0))

        def step(key, state, t):
            x_sent = state.hist[D]
            Y = _inner(p, jnp.broadcast_to(x_sent, (n, x_sent.shape[0])), eta, H, key)
            delta = x_sent - jnp.mean(Y, axis=0)
            buf = state.buf
            if dn_period:
                N = dn_period
                buf = buf + delta
                update = (t + 1) % N == 0
                m = jnp.where(update, mu * state.m + buf / N, state.m)
                x = state.x - lr * jnp.where(update, delta / N + mu * m, delta / N)
                buf = jnp.where(update, jnp.zeros_like(buf), buf)
            else:
                m = mu * state.m + delta
                x = state.x - lr * (delta + mu * m if nesterov else m)
            hist = jnp.concatenate([x[None], state.hist[:-1]], axis=0)
            f = x.dtype
            cost = {"uploads": jnp.asarray(n, f), "downloads": jnp.asarray(n, f), "gradient_calls": jnp.asarray(n * H, f)}
            return LocalState(x=x, m=m, hist=hist, buf=buf), Info(cost=cost, increment_norm=jnp.linalg.norm(x - state.x))

        return init, step

    _LOCAL_BUILDS[key] = build
    return build


def local_sgd(problem, *, inner_steps: int = 10, inner_lr=None, outer_lr: float = 0.7, outer_momentum: float = 0.9,
              nesterov: bool = True, delay: int = 0, delayed_nesterov: int = 0, x0=None):  # fmt: skip
    """Local SGD with an outer (Nesterov) optimizer; ``outer_lr=1, outer_momentum=0``: plain local SGD (module docstring).

    Args:
        problem: the workers' problem.
        inner_steps: ``H >= 1`` inner steps per round.
        inner_lr: inner SGD step; default ``1/(2 L H)`` (ours).
        outer_lr, outer_momentum: the outer optimizer (defaults: OpenDiLoCo's, see the module docstring).
        nesterov: Nesterov (True) or heavy-ball (False) outer momentum.
        delay: ``D >= 0`` rounds of staleness of the applied pseudo-gradient (asynchronous variant).
        delayed_nesterov: ``N >= 1``: Delayed Nesterov (module docstring); 0 (default): off.
        x0: server model (dim,), default zeros.
    """
    metrics = _metrics_for(problem, "local_sgd")
    H = check_positive_int(inner_steps, "inner_steps (H)", "local_sgd", "pass the number of inner steps per round, e.g. 10")
    if isinstance(delay, bool) or int(delay) != delay or delay < 0:
        raise ValueError(f"algos.local_sgd: delay must be a nonnegative integer (rounds), got {delay!r}")
    if not (outer_lr > 0 and 0 <= outer_momentum < 1):
        raise ValueError(f"algos.local_sgd: need outer_lr > 0 and 0 <= outer_momentum < 1, got {outer_lr}, {outer_momentum}")
    eta = 0.5 / (float(problem.L) * H) if inner_lr is None else float(inner_lr)
    if not eta > 0:
        raise ValueError(f"algos.local_sgd: inner_lr must be positive, got {eta}")
    if isinstance(delayed_nesterov, bool) or int(delayed_nesterov) != delayed_nesterov or delayed_nesterov < 0:
        raise ValueError(f"algos.local_sgd: delayed_nesterov must be 0 (off) or a positive period N, got {delayed_nesterov!r}")
    xs = jnp.zeros(problem.dim) if x0 is None else jnp.asarray(x0)
    params = {"problem": problem, "eta": jnp.asarray(eta), "lr": jnp.asarray(float(outer_lr)), "mu": jnp.asarray(float(outer_momentum)),
              "x0": jnp.asarray(xs, dtype=jnp.result_type(float))}  # fmt: skip
    hparams = {"inner_steps": H, "inner_lr": eta, "outer_lr": float(outer_lr), "outer_momentum": float(outer_momentum),
               "nesterov": bool(nesterov), "delay": int(delay), "delayed_nesterov": int(delayed_nesterov)}  # fmt: skip
    return make_algorithm(_local_builder(H, int(delay), bool(nesterov), int(delayed_nesterov)), params, metrics, "local_sgd", hparams)


def _mix32(x):
    """A 32-bit integer hash (xorshift-multiply mixing; ours, in place of Plexus's md5)."""
    x = x.astype(jnp.uint32)
    x = (x ^ (x >> 16)) * jnp.uint32(0x7FEB352D)
    x = (x ^ (x >> 15)) * jnp.uint32(0x846CA68B)
    return x ^ (x >> 16)


def sample_mask(n: int, s: int, r):
    """(n,) bool: the ``s`` nodes with the smallest ``hash(node, r)`` (ties by node index), deterministic in ``r``."""
    nodes = jnp.arange(n, dtype=jnp.uint32)
    h = _mix32(_mix32(jnp.asarray(r, jnp.uint32)) ^ (nodes * jnp.uint32(0x9E3779B9)))
    order = jnp.argsort(h, stable=True)
    return jnp.zeros((n,), bool).at[order[:s]].set(True)


_MODEST_BUILDS: dict = {}


def _modest_builder(H: int, s: int):
    if (H, s) in _MODEST_BUILDS:
        return _MODEST_BUILDS[(H, s)]

    def build(params):
        p, eta, x0 = params["problem"], params["eta"], params["x0"]
        n = p.n_nodes

        def init(key):
            del key
            return ModestState(x=x0)

        def step(key, state, t):
            mask = sample_mask(n, s, t)
            Y = _inner(p, jnp.broadcast_to(state.x, (n, state.x.shape[0])), eta, H, key)  # every row computed, s kept
            x = jnp.sum(jnp.where(mask[:, None], Y, 0.0), axis=0) / s
            f = x.dtype
            cost = {"uploads": jnp.asarray(s, f), "downloads": jnp.asarray(s, f), "gradient_calls": jnp.asarray(s * H, f)}
            return ModestState(x=x), Info(cost=cost, increment_norm=jnp.linalg.norm(x - state.x))

        return init, step

    _MODEST_BUILDS[(H, s)] = build
    return build


def modest(problem, *, sample_size: int = 10, local_steps: int = 5, step_size=None, x0=None):
    """MoDeST / Plexus-style decentralized sampling: a hash-chosen sample trains and aggregates each round.

    Args:
        problem: the nodes' problem.
        sample_size: ``s`` nodes per round, ``1 <= s <= n`` (Plexus's default 10, capped at n).
        local_steps: local SGD steps per round (Plexus's default 5).
        step_size: local step; default ``1/(2 L H)`` (ours).
        x0: initial model (dim,), default zeros.

    Note: the node's gradient is computed for every node and masked (a fixed-shape kernel); only the
    sample's ``s H`` gradients are counted as cost.
    """
    metrics = _metrics_for(problem, "modest")
    n = problem.n_nodes
    s = check_positive_int(sample_size, "sample_size", "modest", f"pass a sample size between 1 and n = {n}")
    if s > n:
        raise ValueError(f"algos.modest: sample_size={s} exceeds the number of nodes n={n}; pass at most {n}")
    H = check_positive_int(local_steps, "local_steps", "modest", "pass e.g. 5")
    eta = 0.5 / (float(problem.L) * H) if step_size is None else float(step_size)
    if not eta > 0:
        raise ValueError(f"algos.modest: step_size must be positive, got {eta}")
    xs = jnp.zeros(problem.dim) if x0 is None else jnp.asarray(x0)
    params = {"problem": problem, "eta": jnp.asarray(eta), "x0": jnp.asarray(xs, dtype=jnp.result_type(float))}
    return make_algorithm(_modest_builder(H, s), params, metrics, "modest", {"sample_size": s, "local_steps": H, "step_size": eta})

"""AFA-CD and AFA-CS: anarchic federated averaging (cross-device / cross-silo) with two-sided step sizes.

Problem class: ``min_x (1/n) sum_i f_i(x)`` over ``n`` workers and one server; stochastic gradients
``problem.stoch_grad`` (:mod:`problems.convex` or :mod:`problems.nonconvex`).

Anarchy (drawn from the round's key, independently per worker and round): worker ``i`` participates
with probability ``q_i`` (``participation``; skewed vectors allowed), runs ``K_i ~ Uniform{1..K}``
local SGD steps with the local step ``eta_L``, starting from a *stale* global model
``x_{t - s_i}``, ``s_i ~ Uniform{0..max_staleness}`` (models before the start are ``x_0``). It returns
the normalized update ``Delta_i = (x_{t - s_i} - y_{K_i}) / (eta_L K_i)`` (the average of its local
stochastic gradients).

* ``afa_cd`` (cross-device): the server averages the updates that arrived this round,
  ``x_{t+1} = x_t - eta_S mean_{i in S_t} Delta_i`` (no move when nobody arrives);
* ``afa_cs`` (cross-silo): the server keeps each worker's latest update ``G_i`` and steps with the
  average over every worker heard from so far, ``x_{t+1} = x_t - eta_S mean_{i seen} G_i``
  (reusing historical information, SAG-like).

Sources. Yang, Zhang, Khanduri, Liu, "Anarchic Federated Learning", ICML 2022 (arXiv:2108.09875):
the abstract (VERIFIED) gives worker-chosen participation and local step counts, two-sided learning
rates, the two variants and the linear speed-up; a SECONDARY review says the analysis allows bounded
delays and that AFA-CS reuses historical worker information with variance reduction, removing
AFA-CD's non-vanishing error term. The update rules are NOT FOUND (no code is known). Everything
concrete here is ours: the normalization of Delta, the uniform laws of ``K_i`` and ``s_i``, the
server's use of the arrivals' plain average (CD) and of the latest-update table averaged over the
workers seen (CS). Under skewed participation CD's fixed point is the minimizer of an
arrival-weighted objective (ours, a derivation: ``E[mean_{S} Delta_i] = sum_i w_i grad f_i`` with
weights ``w_i`` set by ``q``), which differs from ``x*`` by an amount growing with the heterogeneity;
CS weighs every worker equally once all have reported.

Cost per round (totals over workers, not per node): ``uploads`` (arrivals) and ``gradient_calls``
(``sum_{i in S} K_i``).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from algos._core import make_algorithm
from algos.federated.dfedsam import check_positive_int
from problems._metrics import Metrics

__all__ = ["afa_cd", "afa_cs", "State", "Info", "check_participation", "skewed_participation"]


class State(NamedTuple):
    x: jax.Array  # (d,) the server's model
    hist: jax.Array  # (S + 1, d) the last S + 1 server models, newest first (stale starts)
    G: jax.Array  # (n, d) latest update of every worker (AFA-CS; unused by AFA-CD)
    seen: jax.Array  # (n,) bool, worker has reported at least once


class Info(NamedTuple):
    cost: dict
    arrivals: jax.Array  # number of workers that arrived this round


def check_participation(q, n: int, fn: str) -> np.ndarray:
    """Participation probabilities as a float64 (n,) array, each in (0, 1], else a clear error."""
    q = np.asarray(q, dtype=np.float64)
    if q.ndim == 0:
        q = np.full(n, float(q))
    if q.shape != (n,):
        raise ValueError(f"algos.{fn}: participation must be a scalar or have shape (n_workers,) = ({n},), got {q.shape}")
    bad = ~((q > 0.0) & (q <= 1.0))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"algos.{fn}: participation probabilities must lie in (0, 1]; worker {i} has {q[i]!r}. "
                         "Pass probabilities such as skewed_participation(n, ratio)")  # fmt: skip
    return q


def skewed_participation(n: int, ratio: float = 10.0, top: float = 1.0) -> np.ndarray:
    """Geometric participation from ``top`` (worker 0) down to ``top / ratio`` (worker n-1)."""
    if not (ratio >= 1.0 and 0.0 < top <= 1.0):
        raise ValueError(f"need ratio >= 1 and 0 < top <= 1, got ratio={ratio}, top={top}")
    return top * ratio ** (-np.arange(n) / max(n - 1, 1))


def _build(params, cross_silo: bool, K: int, S: int):
    p, q, eta_l, eta_s, x0 = params["problem"], params["q"], params["eta_local"], params["eta_server"], params["x0"]
    n = q.shape[0]

    def init(key):
        del key
        return State(x=x0, hist=jnp.broadcast_to(x0, (S + 1, x0.shape[0])), G=jnp.zeros((n, x0.shape[0]), x0.dtype),
                     seen=jnp.zeros((n,), bool))  # fmt: skip

    def step(key, state):
        kp, kk, ks, kl = jax.random.split(key, 4)
        part = jax.random.uniform(kp, (n,)) < q
        Ki = jax.random.randint(kk, (n,), 1, K + 1)
        si = jax.random.randint(ks, (n,), 0, S + 1)
        Y0 = state.hist[si]

        def local(Y, inp):
            k, sub = inp
            Y_new = Y - eta_l * p.stoch_grad(sub, Y)
            return jnp.where((k < Ki)[:, None], Y_new, Y), None

        Y, _ = jax.lax.scan(local, Y0, (jnp.arange(K), jax.random.split(kl, K)))
        Delta = (Y0 - Y) / (eta_l * Ki[:, None])
        cnt = jnp.sum(part)
        if cross_silo:
            G = jnp.where(part[:, None], Delta, state.G)
            seen = state.seen | part
            upd = jnp.sum(jnp.where(seen[:, None], G, 0.0), axis=0) / jnp.maximum(jnp.sum(seen), 1)
        else:
            G, seen = state.G, state.seen | part
            upd = jnp.sum(jnp.where(part[:, None], Delta, 0.0), axis=0) / jnp.maximum(cnt, 1)
        x = state.x - eta_s * upd
        hist = jnp.concatenate([x[None], state.hist[:-1]], axis=0)
        cost = {"uploads": cnt.astype(x.dtype), "gradient_calls": jnp.sum(jnp.where(part, Ki, 0)).astype(x.dtype)}
        return State(x=x, hist=hist, G=G, seen=seen), Info(cost=cost, arrivals=cnt.astype(x.dtype))

    return init, step


def _convex_instant(params, state, info):
    del info
    p = params["problem"]
    e = state.x - p.x_star
    return {"dist_to_opt": jnp.sqrt(e @ e), "suboptimality": p.suboptimality(state.x)}


def _nonconvex_instant(params, state, info):
    del info
    p = params["problem"]
    g = p.objective_grad(state.x)
    return {"grad_norm_sq": g @ g, "loss": p.objective(state.x)}


#: The server-model recorders: ``dist_to_opt = ||x - x*||`` and ``suboptimality`` (convex problems),
#: ``grad_norm_sq = ||grad f(x)||^2`` and ``loss`` (non-convex problems).
convex_metrics = Metrics(instant=_convex_instant, primary="dist_to_opt")
nonconvex_metrics = Metrics(instant=_nonconvex_instant, primary="grad_norm_sq")

_BUILDS: dict = {}


def _builder(cross_silo: bool, K: int, S: int):
    key = (cross_silo, K, S)
    if key not in _BUILDS:
        def build(params):
            return _build(params, cross_silo, K, S)

        _BUILDS[key] = build
    return _BUILDS[key]


def _factory(name, cross_silo, problem, *, participation, local_steps, max_staleness, eta_local, eta_server, x0):
    from problems import convex, nonconvex

    if isinstance(problem, convex.Problem):
        metrics = convex_metrics
    elif isinstance(problem, nonconvex.Problem):
        metrics = nonconvex_metrics
    else:
        raise TypeError(f"algos.{name} expects a problems.convex.Problem or problems.nonconvex.Problem, got {type(problem).__name__}")
    n = problem.n_nodes
    q = check_participation(participation, n, name)
    K = check_positive_int(local_steps, "local_steps (the largest K_i)", name, "pass e.g. 5")
    if isinstance(max_staleness, bool) or int(max_staleness) != max_staleness or max_staleness < 0:
        raise ValueError(f"algos.{name}: max_staleness must be a nonnegative integer, got {max_staleness!r}")
    S = int(max_staleness)
    L = float(problem.L)
    eta_l = 0.1 / (L * K) if eta_local is None else float(eta_local)
    eta_s = 0.5 / L if eta_server is None else float(eta_server)
    if not (eta_l > 0 and eta_s > 0):
        raise ValueError(f"algos.{name}: eta_local and eta_server must be positive, got {eta_l}, {eta_s}")
    xs = jnp.zeros(problem.dim) if x0 is None else jnp.asarray(x0, dtype=jnp.result_type(float))
    if xs.shape != (problem.dim,):
        raise ValueError(f"algos.{name}: x0 is the server's model, shape (dim,) = ({problem.dim},), got {xs.shape}")
    params = {"problem": problem, "q": jnp.asarray(q), "eta_local": jnp.asarray(eta_l), "eta_server": jnp.asarray(eta_s),
              "x0": jnp.asarray(xs, dtype=jnp.result_type(float))}  # fmt: skip
    hparams = {"participation": q.tolist(), "local_steps": K, "max_staleness": S, "eta_local": eta_l, "eta_server": eta_s}
    return make_algorithm(_builder(cross_silo, K, S), params, metrics, name, hparams)


def afa_cd(problem, *, participation=1.0, local_steps: int = 5, max_staleness: int = 0, eta_local=None, eta_server=None, x0=None):
    """AFA-CD: the server averages this round's arrivals (module docstring).

    Args:
        problem: the workers' problem (``n_nodes`` workers).
        participation: (n,) or scalar probabilities in (0, 1] (e.g. :func:`skewed_participation`).
        local_steps: the largest number ``K`` of local steps (``K_i ~ Uniform{1..K}``).
        max_staleness: the largest staleness ``s_i`` of a worker's starting model.
        eta_local, eta_server: the two step sizes; defaults ``0.1/(L K)`` and ``0.5/L`` (ours).
        x0: the server's initial model (dim,), default zeros.
    """
    return _factory("afa_cd", False, problem, participation=participation, local_steps=local_steps, max_staleness=max_staleness,
                    eta_local=eta_local, eta_server=eta_server, x0=x0)  # fmt: skip


def afa_cs(problem, *, participation=1.0, local_steps: int = 5, max_staleness: int = 0, eta_local=None, eta_server=None, x0=None):
    """AFA-CS: the server averages every worker's latest update (module docstring); arguments as :func:`afa_cd`."""
    return _factory("afa_cs", True, problem, participation=participation, local_steps=local_steps, max_staleness=max_staleness,
                    eta_local=eta_local, eta_server=eta_server, x0=x0)  # fmt: skip

"""DADAO: Decoupled Accelerated Decentralized Asynchronous Optimization (Nabli & Oyallon, ICML 2023).

Problem class: ``min_x (1/n) sum_i f_i(x)``, each ``f_i`` ``L``-smooth and ``mu``-strongly convex,
primal gradients only. Two independent Poisson point processes drive the network: gradient
events (total intensity ``lambda_grad = n``, the node drawn uniformly) and gossip events (total
intensity ``lambda_mix = sqrt(2 chi_1 chi_2)``, one edge of the current graph drawn uniformly).
Between events every node follows a linear ODE in its six variables ``(x, x~, y, y~, z, z~)``.

Everything below is the official code, ``AdelNabli/DADAO@eed1ed1b21a66da393f55433c26f7920b465eabe``
(``optimizers.py:DADAO_optimizer``, ``run_optimizers.py:run_DADAO``, ``utils.py``, ``main.py``,
``data.py``); the code dates from arXiv v1, so its constants are the code's choice, not
necessarily the final theorem's. With ``nu = mu / 2``:

* ODE (``optimizers.py``, ``ode_matrix``): ``dx = eta (x~ - x)``, ``dx~ = eta~ (x - x~)``,
  ``dy = alpha (y~ - y)``, ``dy~ = -theta (nu x~ + y + z)``, ``dz = alpha (z~ - z)``,
  ``dz~ = alpha~ (z - z~)``, with ``alpha = sqrt(nu/L)/4``, ``alpha~ = sqrt(nu/L)/8``,
  ``eta = eta~ = sqrt(nu/L)/8``, ``theta = sqrt(L/nu)/2``.
* gradient event at node i: ``g = grad f_i(x_i) - nu x_i - y~_i`` (at ``T-``);
  ``x_i -= gamma g``, ``x~_i -= gamma~ g``, ``y~_i += (delta + delta~) g`` with ``gamma = 1/(4L)``,
  ``gamma~ = 1/(4 sqrt(L nu))``, ``delta = sqrt(nu/L)/4``, ``delta~ = 1``.
* gossip event on edge (i, j): ``m = (y_i + z_i) - (y_j + z_j)``; ``z_i -= beta m``,
  ``z_j += beta m``, ``z~_i -= beta~ m``, ``z~_j += beta~ m`` with ``beta = 1/2`` and
  ``beta~ = 2 chi_1* sqrt(L/nu)``, ``chi_1* = chi_1 / lambda_mix`` (``run_optimizers.py``: the chi_1
  of the rate-``lambda_mix`` Laplacian).
* ``chi_1``, ``chi_2`` from the edge-probability Laplacian ``L_G / |E|``
  (:func:`problems.mixing.resistance_chis`), worst case over the graphs of a sequence.
* time-varying topology: the current graph is number ``floor(t chi_1) mod G`` (``run_optimizers.py``:
  the graph changes every ``1/chi_1`` time units, "as in ADOM+").
* start: ``x`` at the model's initial point, the other five variables at 0.

Implementation (ours): one engine step is one event, so a run is a ``lax.scan`` over events,
never over units of time. The superposition of the two processes is one Poisson process of
intensity ``lambda_grad + lambda_mix`` whose events are gradient events with probability
``lambda_grad / (lambda_grad + lambda_mix)`` (the same law as the code's two merged lists of
exponential waiting times). All nodes are integrated to each event time with one
``expm(M dt)`` (the 6x6 matrix exponential by scaling and squaring, :func:`expm_flow`: exact up to
round-off, and it compiles in a fraction of the time of ``jax.scipy.linalg.expm``; the ODE is node-wise, so integrating
every node at every event equals the code's lazy integration of only the nodes involved,
``exp(M a) exp(M b) = exp(M (a + b))``); the recorded metrics therefore read every node at
the event time, where the code's log reads untouched nodes at their last event.

Trace (convex metrics plus): ``dist_to_opt`` is ours, ``(1/n) sum_i ||x_i - x*||``; the official
metric ``(1/n) sum_i ||x_i - x*||^2`` is the diagnostic ``sq_dist_to_opt`` (their relation: by
Cauchy-Schwarz ``dist_to_opt^2 <= sq_dist_to_opt``). ``time`` is the continuous time of the
last event. Costs per node as in the convex family: ``gradient_calls`` (``1/n`` per gradient
event, so ``n * gradient_calls`` is the number of local gradients), ``communications`` (``2/n``
per gossip event: both endpoints send one vector) and ``floats_sent``; and
``edge_activations``, the network's total count of gossip events (the official plots' x-axis).

Complexity (abstract, verified): ``O(n sqrt(L/mu) log 1/eps)`` local gradients and
``O(n sqrt(chi_1 chi_2) sqrt(L/mu) log 1/eps)`` communications; :func:`bounds.dadao`.
"""

from __future__ import annotations

import dataclasses
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from algos._core import make_algorithm
from problems import graphs as _graphs
from problems import mixing
from problems.convex import Problem, metrics as convex_metrics

__all__ = ["dadao", "DADAOState", "DADAOInfo", "dadao_constants", "ode_matrix", "expm_flow", "flow", "metrics", "SOURCE"]

SOURCE = "AdelNabli/DADAO@eed1ed1b21a66da393f55433c26f7920b465eabe"


class DADAOState(NamedTuple):
    X: jax.Array  # (n, d) x
    Xt: jax.Array  # (n, d) x~
    Y: jax.Array  # (n, d) y
    Yt: jax.Array  # (n, d) y~
    Z: jax.Array  # (n, d) z
    Zt: jax.Array  # (n, d) z~
    time: jax.Array  # () continuous time of the last event


class DADAOInfo(NamedTuple):
    cost: dict
    event: jax.Array  # (4,) int: (is_grad, node, edge end a, edge end b) of this event (not recorded)


def _instant(params, state, info) -> dict:
    """The convex metrics plus the official metric and the continuous time (read from the state)."""
    out = convex_metrics.instant(params, state, info)
    out["sq_dist_to_opt"] = jnp.mean(jnp.sum((state.X - params["problem"].x_star) ** 2, axis=1))
    out["time"] = state.time
    return out


#: The convex family's metrics plus ``sq_dist_to_opt`` = ``(1/n) sum_i ||x_i - x*||^2`` (the official
#: code's metric) and ``time`` (continuous time of the last event); primary ``dist_to_opt``.
metrics = dataclasses.replace(convex_metrics, instant=_instant)


def dadao_constants(L: float, mu: float, chi_1_star: float) -> dict:
    """The official code's constants (``optimizers.py:DADAO_optimizer.initialize``), ``nu = mu / 2``."""
    nu = mu / 2.0
    r = math.sqrt(nu / L)
    return {
        "nu": nu,
        "alpha": r / 4.0,
        "alpha_t": r / 8.0,
        "eta": r / 8.0,
        "eta_t": r / 8.0,
        "theta": 0.5 / r,
        "beta": 0.5,
        "beta_t": 2.0 * chi_1_star / r,
        "delta": r / 4.0,
        "delta_t": 1.0,
        "gamma": 1.0 / (4.0 * L),
        "gamma_t": 1.0 / (4.0 * math.sqrt(L * nu)),
    }


def ode_matrix(c) -> np.ndarray:
    """The 6x6 matrix ``M`` of the per-node ODE ``d/dt (x, x~, y, y~, z, z~) = M (x, x~, y, y~, z, z~)``."""
    M = np.zeros((6, 6))
    M[0, 0], M[0, 1] = -c["eta"], c["eta"]
    M[1, 0], M[1, 1] = c["eta_t"], -c["eta_t"]
    M[2, 2], M[2, 3] = -c["alpha"], c["alpha"]
    M[3, 1], M[3, 2], M[3, 4] = -c["theta"] * c["nu"], -c["theta"], -c["theta"]
    M[4, 4], M[4, 5] = -c["alpha"], c["alpha"]
    M[5, 4], M[5, 5] = c["alpha_t"], -c["alpha_t"]
    return M


def _stack(s):
    return jnp.stack([s.X, s.Xt, s.Y, s.Yt, s.Z, s.Zt])


_TAYLOR = 18  # degree of the Taylor polynomial after scaling (remainder < 0.5^19 / 19! ~ 1e-23)


def expm_flow(M, dt):
    """``expm(M dt)`` (6, 6) by scaling and squaring (Higham's classical scheme, fixed-degree Taylor).

    ``A = M dt`` is scaled by ``2^-s`` with ``s = max(0, ceil(log2(2 ||A||_1)))`` so that
    ``||A / 2^s||_1 <= 1/2``; the degree-18 Taylor polynomial of ``exp`` is then accurate to
    ``< 1e-23`` relative, and ``s`` squarings give ``expm(A)`` to float64 round-off (a few ``s``
    machine epsilons). ``s`` depends on ``dt`` (a ``fori_loop`` with a traced trip count), so a
    long waiting time is as exact as a short one. (An eigendecomposition of ``M`` is not usable:
    ``M`` has the double eigenvalue 0, of the x and z blocks, and LAPACK returns a near-singular
    eigenvector basis for it.) Tested against ``scipy.linalg.expm`` and a fine Euler integration.
    """
    A = M * dt
    norm = jnp.max(jnp.sum(jnp.abs(A), axis=0))
    s = jnp.maximum(0, jnp.ceil(jnp.log2(jnp.maximum(2.0 * norm, 1e-300)))).astype(jnp.int32)
    As = A / jnp.exp2(s.astype(A.dtype))
    eye = jnp.eye(A.shape[0], dtype=A.dtype)
    # Horner: I + A/1 (I + A/2 (I + ... (I + A/18))), as a loop (compiles once, not 18 times)
    E = jax.lax.fori_loop(0, _TAYLOR, lambda j, E: eye + (As @ E) / (_TAYLOR - j).astype(A.dtype), eye)
    return jax.lax.fori_loop(0, s, lambda _, X: X @ X, E)


def flow(state: DADAOState, M, dt) -> DADAOState:
    """Exact solution of the linear ODE over a duration ``dt``: ``expm(M dt)`` applied to every node."""
    E = expm_flow(M, dt)
    S = jnp.einsum("ab,bnd->and", E, _stack(state))
    return DADAOState(S[0], S[1], S[2], S[3], S[4], S[5], state.time + dt)


def _build(params):
    p = params["problem"]
    c = params["c"]
    M, x0 = params["M"], params["x0"]
    edges, counts = params["edges"], params["counts"]
    lam_g, lam_m, switch = params["lamb_grad"], params["lamb_mix"], params["switch_rate"]
    n, d = x0.shape
    grad_i = jax.grad(p.loss, argnums=1)

    def init(key):
        del key
        z = jnp.zeros_like(x0)
        return DADAOState(x0, z, z, z, z, z, jnp.zeros((), x0.dtype))

    def step(key, state):
        # one draw of four uniforms (one random call compiles much faster than four)
        u = jax.random.uniform(key, (4,), dtype=x0.dtype)
        total = lam_g + lam_m
        dt = -jnp.log1p(-u[0]) / total  # Exp(total): the waiting time of the superposed process
        s = flow(state, M, dt)  # every node to the event time T-
        is_grad = u[1] < lam_g / total
        # gradient event at node i
        i = jnp.minimum(jnp.floor(u[2] * n).astype(jnp.int32), n - 1)
        data_i = jax.tree_util.tree_map(lambda a: a[i], p.data)
        g = grad_i(data_i, s.X[i]) - c["nu"] * s.X[i] - s.Yt[i]
        Xg = s.X.at[i].add(-c["gamma"] * g)
        Xtg = s.Xt.at[i].add(-c["gamma_t"] * g)
        Ytg = s.Yt.at[i].add((c["delta"] + c["delta_t"]) * g)
        # gossip event on an edge of the current graph
        k = jnp.floor(s.time * switch).astype(jnp.int32) % edges.shape[0]
        e = jnp.minimum(jnp.floor(u[3] * counts[k]).astype(jnp.int32), counts[k] - 1)
        a, b = edges[k, e, 0], edges[k, e, 1]
        m = (s.Y[a] + s.Z[a]) - (s.Y[b] + s.Z[b])
        Zm = s.Z.at[a].add(-c["beta"] * m).at[b].add(c["beta"] * m)
        Ztm = s.Zt.at[a].add(-c["beta_t"] * m).at[b].add(c["beta_t"] * m)
        new = DADAOState(
            X=jnp.where(is_grad, Xg, s.X), Xt=jnp.where(is_grad, Xtg, s.Xt), Y=s.Y,
            Yt=jnp.where(is_grad, Ytg, s.Yt), Z=jnp.where(is_grad, s.Z, Zm), Zt=jnp.where(is_grad, s.Zt, Ztm),
            time=s.time,
        )  # fmt: skip
        fg = is_grad.astype(x0.dtype)
        cost = {
            "communications": (1.0 - fg) * 2.0 / n,
            "floats_sent": (1.0 - fg) * 2.0 * d / n,
            "gradient_calls": fg / n,
            "edge_activations": 1.0 - fg,
        }
        event = jnp.stack([is_grad.astype(jnp.int32), i, a, b])
        return new, DADAOInfo(cost=cost, event=event)

    return init, step


def _edge_table(g) -> tuple[np.ndarray, np.ndarray, int]:
    """Edge lists (G, n(n-1)/2, 2), padded to the complete graph's size so that the shape depends on
    ``n`` and ``G`` only (one compiled program for every graph of a size), and edge counts (G,)."""
    snaps = [g] if isinstance(g, _graphs.Graph) else [g[t] for t in range(g.num_steps)]
    lists = [s.edges for s in snaps]
    emax = g.n * (g.n - 1) // 2
    table = np.zeros((len(lists), emax, 2), dtype=np.int32)
    for t, e in enumerate(lists):
        table[t, : len(e)] = e
    return table, np.array([len(e) for e in lists], dtype=np.int32), len(lists)


def _positive(value, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"algos.dadao: {name} must be a positive number, got {value!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"algos.dadao: {name} must be a positive finite rate, got {v}; pass e.g. the default (omit it)")
    return v


def dadao(problem, g, *, lamb_grad=None, lamb_mix=None, chi_1=None, chi_2=None, switch_rate=None, x0=None):
    """DADAO on a static graph or a time-varying :class:`problems.graphs.GraphSequence`.

    Args:
        problem: a :class:`problems.convex.Problem` (its ``L`` and ``mu`` set the constants).
        g: a connected :class:`problems.graphs.Graph`, or a :class:`GraphSequence` of connected
            snapshots (the current graph is number ``floor(t * switch_rate) mod T``).
        lamb_grad: intensity of the gradient process (network total). Default ``n`` (official).
        lamb_mix: intensity of the gossip process (network total). Default ``sqrt(2 chi_1 chi_2)`` (official).
        chi_1, chi_2: DADAO's graph constants; default :func:`problems.mixing.resistance_chis` of ``g``
            (worst case over a sequence).
        switch_rate: graph changes per unit of time on a sequence; default ``chi_1`` (official).
        x0: (n, d) start of ``x``; default ``problem.x0()`` (zeros). The other variables start at 0.

    Returns:
        An :class:`algos.Algorithm` whose steps are events (module docstring for the trace).

    Raises:
        ValueError: a rate that is not positive, a graph whose size differs from the problem's.
        DisconnectedGraphError: a disconnected graph or snapshot (``chi_1`` is infinite).
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"algos.dadao expects a problems.convex.Problem, got {type(problem).__name__}")
    if not isinstance(g, (_graphs.Graph, _graphs.GraphSequence)):
        raise TypeError(
            f"algos.dadao: g must be a problems.graphs.Graph or GraphSequence (DADAO samples edges itself), got {type(g).__name__}"
        )
    n, d = problem.n_nodes, problem.dim
    if g.n != n:
        raise ValueError(f"algos.dadao: the graph has {g.n} nodes but the problem has {n}; use one node per local function")
    chis = mixing.resistance_chis(g)  # raises DisconnectedGraphError on a disconnected graph or snapshot
    c1 = chis.chi_1 if chi_1 is None else _positive(chi_1, "chi_1")
    c2 = chis.chi_2 if chi_2 is None else _positive(chi_2, "chi_2")
    lg = float(n) if lamb_grad is None else _positive(lamb_grad, "lamb_grad")
    lm = math.sqrt(2.0 * c1 * c2) if lamb_mix is None else _positive(lamb_mix, "lamb_mix")
    sw = c1 if switch_rate is None else _positive(switch_rate, "switch_rate")
    L, mu = float(problem.L), float(problem.mu)
    chi_1_star = c1 / lm
    c = dadao_constants(L, mu, chi_1_star)
    M = ode_matrix(c)
    table, counts, G = _edge_table(g)
    if x0 is None:
        x0 = problem.x0()
    x0 = jnp.asarray(x0, dtype=jnp.result_type(problem.x_star))
    if x0.shape != (n, d):
        raise ValueError(f"algos.dadao: x0 must have shape (n_nodes, dim) = ({n}, {d}), got {x0.shape}")
    params = {
        "problem": problem, "c": c, "M": jnp.asarray(M), "x0": x0,
        "edges": jnp.asarray(table), "counts": jnp.asarray(counts),
        "lamb_grad": lg, "lamb_mix": lm, "switch_rate": sw,
    }  # fmt: skip
    hp = {"lamb_grad": lg, "lamb_mix": lm, "chi_1": c1, "chi_2": c2, "chi_1_star": chi_1_star, "switch_rate": sw,
          "num_graphs": G, **c}  # fmt: skip
    return make_algorithm(_build, params, metrics, "dadao", hparams=hp)

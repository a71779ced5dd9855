"""Online convex optimization with delayed feedback and several agents, with the hindsight optimum known.

Setting (VERIFIED claims of Hsieh, Iutzeler, Malick & Mertikopoulos, "Multi-Agent Online Optimization
with Delays: Asynchronicity, Adaptivity, and Optimism", JMLR 23(78), 2022, abstract; the one-agent-
per-round model is SECONDARY, from Bao et al. 2025's abstract). Round ``t = 0, ..., T-1``: one agent
``i_t`` is active; it predicts ``x_t`` in the convex set ``X`` and suffers ``l_t(x_t)``; the gradient
``g_t = grad l_t(x_t)`` reaches agent ``j`` at the start of round ``t + 1 + d_{t, j}`` (delay
``d_{t, j} >= 0``; ``d = 0`` is the undelayed protocol: feedback before the next prediction). There
is no global clock: an agent knows only what it has received.

Everything below is ratebench's construction (the paper's experiments are NOT FOUND):

* losses: ``"linear"``, ``l_t(x) = <v_t, x>``; ``"quadratic"``, ``l_t(x) = 1/2 ||x - c_t||^2``;
* sets: ``"ball"`` ``{||x|| <= radius}`` and ``"box"`` ``[-radius, radius]^dim``;
* kinds (the vectors ``v_t`` or centres ``c_t``, drawn from ``key``):
  - ``"stationary"``: a fixed random unit vector ``u`` plus ``noise`` times i.i.d. uniform vectors on
    ``[-1, 1]^dim / sqrt(dim)``;
  - ``"drifting"``: ``cos(2 pi t / period + phi) u`` plus the same noise (slowly varying when
    ``period`` is long);
  - ``"adversarial"``: i.i.d. random signs ``+-1 / sqrt(dim)`` per coordinate, held constant over blocks of
    ``block`` rounds (an oblivious random adversary; ``block = max_delay + 1`` is the classical
    construction behind the ``sqrt(d T)`` lower bound: within a block a delayed learner has no
    feedback of the block, so ``E<g_t, x_t> = 0`` and its expected regret is ``radius E||sum_t v_t||``
    for the ball, which is of order ``sqrt((d + 1) T)``; math fact, measured in the figure);
  for quadratics the centres are ``radius`` times the same vectors (scaled to norm ``radius``);
* activation: ``"uniform"`` (``i_t`` uniform over the agents) or ``"round_robin"``;
* delays: ``"fixed"`` (every ``d_{t, j} = max_delay``) or ``"uniform"`` (i.i.d. uniform on
  ``{0, ..., max_delay}``), or an explicit ``(T, n_agents)`` array of nonnegative integers. The bound
  ``max_delay`` is known to the algorithms (the paper's analysis assumes a known bound; our instances
  meet it by construction).

Exact quantities: ``best_prefix[k] = min_{x in X} sum_{s<k} l_s(x)`` for every ``k`` (closed forms:
``-radius ||V_k||`` on the ball and ``-radius ||V_k||_1`` on the box for linear losses with
``V_k = sum_{s<k} v_s``; for quadratics the projection of the mean centre), ``x_star`` the best fixed
point over the whole horizon, and ``G``, the largest gradient norm over ``X`` and all rounds
(``max ||v_t||``; for quadratics ``max_t max_{x in X} ||x - c_t||``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["OnlineProblem", "linear", "quadratic", "make", "LOSSES", "DOMAINS", "KINDS", "project"]

LOSSES = ("linear", "quadratic")
DOMAINS = ("ball", "box")
KINDS = ("stationary", "drifting", "adversarial")


@dataclasses.dataclass(frozen=True)
class OnlineProblem:
    """An online problem: loss data, activation and delay processes, and the exact hindsight optimum.

    Attributes:
        data: (T, dim) the vectors ``v_t`` (linear) or centres ``c_t`` (quadratic).
        active: (T,) int, the active agent of each round.
        delays: (T, n_agents) int, the delay of round ``t``'s feedback to each agent.
        best_prefix: (T + 1,) ``min_x sum_{s<k} l_s(x)``.
        x_star: (dim,) the best fixed point over the horizon.
        radius: the set's radius. G: gradient bound over X. D: ``max_{x in X} ||x||``.
        max_delay: static int, the known bound on the delays.
        loss, domain, kind: static labels.
    """

    data: Any
    active: Any
    delays: Any
    best_prefix: Any
    x_star: Any
    radius: Any
    G: Any
    D: Any
    max_delay: int = dataclasses.field(default=0, metadata=dict(static=True))
    loss: str = dataclasses.field(default="linear", metadata=dict(static=True))
    domain: str = dataclasses.field(default="ball", metadata=dict(static=True))
    kind: str = dataclasses.field(default="adversarial", metadata=dict(static=True))
    name: str = dataclasses.field(default="online", metadata=dict(static=True))

    @property
    def horizon(self) -> int:
        return int(np.shape(self.data)[0])

    @property
    def dim(self) -> int:
        return int(np.shape(self.data)[1])

    @property
    def n_agents(self) -> int:
        return int(np.shape(self.delays)[1])

    def loss_at(self, t, x):
        """``l_t(x)`` (jax-traceable)."""
        d = self.data[t]
        if self.loss == "linear":
            return jnp.dot(d, x)
        return 0.5 * jnp.sum((x - d) ** 2)

    def grad_at(self, t, x):
        """``grad l_t(x)`` (jax-traceable)."""
        d = self.data[t]
        return d if self.loss == "linear" else x - d


jax.tree_util.register_dataclass(
    OnlineProblem,
    data_fields=["data", "active", "delays", "best_prefix", "x_star", "radius", "G", "D"],
    meta_fields=["max_delay", "loss", "domain", "kind", "name"],
)


def project(y, domain: str, radius):
    """Euclidean projection onto the ball or the box of radius ``radius`` (jax or numpy)."""
    if domain == "ball":
        n = jnp.linalg.norm(y)
        return y * jnp.minimum(1.0, radius / jnp.maximum(n, 1e-300))
    return jnp.clip(y, -radius, radius)


def _np_project(y, domain, radius):
    if domain == "ball":
        n = np.linalg.norm(y, axis=-1, keepdims=True)
        return y * np.minimum(1.0, radius / np.maximum(n, 1e-300))
    return np.clip(y, -radius, radius)


def _best_prefix(loss, domain, radius, data):
    T, d = data.shape
    csum = np.vstack([np.zeros((1, d)), np.cumsum(data, axis=0)])  # (T+1, d)
    if loss == "linear":
        if domain == "ball":
            best = -radius * np.linalg.norm(csum, axis=1)
        else:
            best = -radius * np.abs(csum).sum(axis=1)
        V = csum[-1]
        x_star = -radius * V / max(np.linalg.norm(V), 1e-300) if domain == "ball" else -radius * np.sign(V)
        return best, x_star
    k = np.arange(T + 1, dtype=np.float64)
    sq = np.concatenate([[0.0], np.cumsum(np.sum(data**2, axis=1))])
    mean = csum / np.maximum(k, 1.0)[:, None]
    p = _np_project(mean, domain, radius)
    # sum_{s<k} 1/2||p - c_s||^2 = k/2 ||p||^2 - <p, C_k> + 1/2 sum ||c_s||^2
    best = 0.5 * k * np.sum(p**2, axis=1) - np.sum(p * csum, axis=1) + 0.5 * sq
    best[0] = 0.0
    return best, p[-1]


def _int(v, name, minimum):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) and not (isinstance(v, float) and v.is_integer()):
        raise TypeError(f"{name} must be an integer, got {v!r}")
    if int(v) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {v}")
    return int(v)


def make(loss: str = "linear", dim: int = 2, horizon: int = 1000, *, kind: str = "adversarial", domain: str = "ball",
         radius: float = 1.0, n_agents: int = 1, max_delay: int = 0, delay="fixed", activation: str = "uniform",
         block: int = 1, period: float = 500.0, noise: float = 0.1, key=0) -> OnlineProblem:  # fmt: skip
    """An online problem (see the module docstring for every option).

    Raises:
        ValueError/TypeError: unknown labels, non-positive sizes, a negative ``max_delay`` or negative
            entries in an explicit ``delay`` array (delays are >= 0: pass 0 for undelayed feedback), an
            explicit array of the wrong shape or with entries above ``max_delay``.
    """
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    if domain not in DOMAINS:
        raise ValueError(f"domain must be one of {DOMAINS}, got {domain!r}")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if activation not in ("uniform", "round_robin"):
        raise ValueError(f"activation must be 'uniform' or 'round_robin', got {activation!r}")
    dim, T, N = _int(dim, "dim", 1), _int(horizon, "horizon", 1), _int(n_agents, "n_agents", 1)
    if isinstance(max_delay, (int, np.integer)) and not isinstance(max_delay, bool) and max_delay < 0:
        raise ValueError(f"max_delay must be a nonnegative integer (delays cannot be negative), got {max_delay}")
    D_max = _int(max_delay, "max_delay", 0)
    block = _int(block, "block", 1)
    radius = float(radius)
    if not (np.isfinite(radius) and radius > 0):
        raise ValueError(f"radius must be positive and finite, got {radius}")
    if not (np.isfinite(period) and period > 0):
        raise ValueError(f"period must be positive, got {period}")
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be nonnegative, got {noise}")
    from problems.games import _rng

    base = _rng(key)
    k_dir, k_noise, k_sign, k_act, k_del, k_phase = base.spawn(6)  # independent streams from one key
    rng = lambda g: g  # noqa: E731

    u = rng(k_dir).normal(size=dim)
    u /= np.linalg.norm(u)
    xi = rng(k_noise).uniform(-1.0, 1.0, size=(T, dim)) / np.sqrt(dim)
    t = np.arange(T, dtype=np.float64)
    if kind == "stationary":
        V = u[None, :] + noise * xi
    elif kind == "drifting":
        phi = float(rng(k_phase).uniform(0, 2 * np.pi))
        V = np.cos(2 * np.pi * t / period + phi)[:, None] * u[None, :] + noise * xi
    else:
        nb = -(-T // block)
        signs = rng(k_sign).choice([-1.0, 1.0], size=(nb, dim)) / np.sqrt(dim)
        V = np.repeat(signs, block, axis=0)[:T]
    if loss == "quadratic":
        V = radius * V  # centres of size ~ radius
    if activation == "uniform":
        active = rng(k_act).integers(0, N, size=T)
    else:
        active = np.arange(T) % N
    if isinstance(delay, str):
        if delay == "fixed":
            delays = np.full((T, N), D_max, dtype=np.int64)
        elif delay == "uniform":
            delays = rng(k_del).integers(0, D_max + 1, size=(T, N))
        else:
            raise ValueError(f"delay must be 'fixed', 'uniform' or a (horizon, n_agents) integer array, got {delay!r}")
    else:
        delays = np.asarray(delay)
        if delays.shape != (T, N):
            raise ValueError(f"an explicit delay array must have shape (horizon, n_agents) = ({T}, {N}), got {delays.shape}")
        if not np.issubdtype(delays.dtype, np.integer):
            raise TypeError(f"delays must be integers (rounds), got dtype {delays.dtype}")
        if delays.min() < 0:
            raise ValueError(f"delays must be nonnegative (feedback cannot arrive before it is produced), got min {delays.min()}")
        if delays.max() > D_max:
            raise ValueError(f"delays exceed max_delay={D_max} (max {delays.max()}): pass max_delay >= {delays.max()}")
    best, x_star = _best_prefix(loss, domain, radius, V)
    D = radius if domain == "ball" else radius * np.sqrt(dim)
    if loss == "linear":
        G = float(np.max(np.linalg.norm(V, axis=1)))
    elif domain == "ball":
        G = float(np.max(radius + np.linalg.norm(V, axis=1)))
    else:
        G = float(np.max(np.linalg.norm(radius + np.abs(V), axis=1)))
    return OnlineProblem(
        data=jnp.asarray(V), active=jnp.asarray(active, dtype=jnp.int32), delays=jnp.asarray(delays, dtype=jnp.int32),
        best_prefix=jnp.asarray(best), x_star=jnp.asarray(x_star), radius=jnp.asarray(radius), G=jnp.asarray(G),
        D=jnp.asarray(float(D)), max_delay=D_max, loss=loss, domain=domain, kind=kind, name=f"online_{loss}",
    )  # fmt: skip


def linear(dim: int = 2, horizon: int = 1000, **kw) -> OnlineProblem:
    """Linear losses ``<v_t, x>`` (see :func:`make`)."""
    return make("linear", dim, horizon, **kw)


def quadratic(dim: int = 2, horizon: int = 1000, **kw) -> OnlineProblem:
    """Quadratic losses ``1/2 ||x - c_t||^2`` (see :func:`make`)."""
    return make("quadratic", dim, horizon, **kw)

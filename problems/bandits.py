"""Networked bandit instances that know their optimal actions, so regret is exact.

Two families:

* :func:`heterogeneous_mab` — ``N`` agents, ``M < N`` stochastic ``K``-armed bandits, each learned
  by about ``N / M`` agents (Chawla, Vial, Shakkottai, Srikant, ICML 2023, set-up paragraph,
  VERIFIED); ``M = 1`` is GosInE's setting (all agents on one bandit). Bernoulli or Gaussian arms.
  A fixed gossip matrix ``G`` over the agents (row ``i`` is a pmf over the agents agent ``i`` may
  ask, zero diagonal; unknown to the agents in the paper's setting, here only the algorithms'
  sampling uses it). The *partially context aware* scenario's side information is ``peers``:
  each agent knows ``r - 1`` other agents that learn the same bandit.
* :func:`linear_contextual` — ``N`` agents, linear rewards ``<x, theta*> + N(0, sigma^2)`` with
  ``theta*`` on the unit sphere, stochastic contexts from a known distribution: each round every
  agent draws one of ``n_contexts`` pre-drawn action sets (``K`` unit vectors each) uniformly
  (Amani, Lattimore, György, Yang, ICML 2023, abstract: stochastic contexts; the 100 sets of 40
  actions are read from the README of a third-party replication, see ../shared/papers).

Recorded metrics (:data:`mab_metrics`, :data:`linear_metrics`; accumulated by the engine over every
step, whatever ``record_every`` is):

* ``regret`` — cumulative group **pseudo-regret**: the sum over steps and agents of the gap of the
  pulled arm, ``mu*_{m(i)} - mu_{m(i), a}`` (``max_x <x, theta*> - <a, theta*>`` in the linear case),
  computed from the instance's means, never from samples;
* ``agent_regret`` — the same per agent, shape ``(N,)``;
* ``realized_regret`` — the sum of ``mu* - reward`` (the observed rewards), whose expectation is
  the pseudo-regret.

Algorithms report what they did in their ``Info``: ``arms`` (N,) int (for the linear family also
``contexts`` (N,) int), and ``rewards`` (N,). Instances are JAX pytrees (arrays are leaves, sizes and
the reward kind are static), so they are passed into jitted programs as arguments.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from problems import graphs as _graphs
from problems._metrics import Metrics

__all__ = [
    "HeterogeneousMAB",
    "LinearContextual",
    "heterogeneous_mab",
    "linear_contextual",
    "gosine_instance",
    "mab_metrics",
    "linear_metrics",
    "REWARD_KINDS",
    "BEST_MEAN",
]

REWARD_KINDS = ("bernoulli", "gaussian")
#: Mean of the best arm of every bandit: GosInE's official recipe sets mu_1 = 0.95
#: (ronshee/gosine@2c8bc7ea9953dac02a883f5c805cfeec25c4e3e9:Synch.py).
BEST_MEAN = 0.95


def _key(key) -> jax.Array:
    if isinstance(key, bool):
        raise TypeError("key must be an int seed or a jax.random key, got a bool")
    if isinstance(key, (int, np.integer)):
        return jax.random.PRNGKey(int(key))
    return key


def _positive_int(value, name: str, fn: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{fn}: {name} must be an integer >= {minimum}, got {value!r} ({type(value).__name__})")
    if int(value) < minimum:
        raise ValueError(f"{fn}: {name} must be an integer >= {minimum}, got {value}")
    return int(value)


# --------------------------------------------------------------------------------------------
# Heterogeneous multi-agent MAB
# --------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class HeterogeneousMAB:
    """``N`` agents learning ``M`` stochastic ``K``-armed bandits (see the module docstring).

    Attributes:
        means: (M, K) arm means of each bandit.
        assignment: (N,) int, the bandit each agent learns.
        G: (N, N) gossip matrix: row ``i`` is the pmf of the agent ``i`` asks (zero diagonal).
        peers: (N, N) bool: ``peers[i, j]`` when agent ``i`` knows that ``j != i`` learns its bandit
            (the partially context aware side information; ``r - 1`` per row).
        sigma: standard deviation of Gaussian rewards (unused for Bernoulli rewards).
        reward: ``"bernoulli"`` or ``"gaussian"`` (static).
        r: the partially aware scenario's ``r`` (each agent knows ``r - 1`` peers) (static).
        graph_name: name of the gossip graph (static).
    """

    means: Any
    assignment: Any
    G: Any
    peers: Any
    sigma: Any = 1.0
    reward: str = dataclasses.field(default="bernoulli", metadata=dict(static=True))
    r: int = dataclasses.field(default=2, metadata=dict(static=True))
    graph_name: str = dataclasses.field(default="complete", metadata=dict(static=True))
    name: str = dataclasses.field(default="heterogeneous_mab", metadata=dict(static=True))

    @property
    def n_agents(self) -> int:
        return int(np.shape(self.assignment)[0])

    @property
    def n_bandits(self) -> int:
        return int(np.shape(self.means)[0])

    @property
    def n_arms(self) -> int:
        return int(np.shape(self.means)[1])

    @property
    def best_mean(self):
        """(M,) the best arm's mean of each bandit."""
        return jnp.max(self.means, axis=1)

    @property
    def best_arm(self):
        """(M,) the best arm of each bandit (unique by construction)."""
        return jnp.argmax(self.means, axis=1)

    @property
    def gaps(self):
        """(M, K) ``mu*_m - mu_{m,k}`` (0 at the best arm)."""
        return self.best_mean[:, None] - self.means

    def group_sizes(self) -> np.ndarray:
        """(M,) number of agents learning each bandit."""
        return np.bincount(np.asarray(self.assignment), minlength=self.n_bandits)

    def group_rank(self) -> np.ndarray:
        """(N,) rank of each agent among the learners of its bandit (0, 1, ..., N_m - 1 by agent index)."""
        a = np.asarray(self.assignment)
        rank = np.zeros(a.shape[0], dtype=np.int64)
        for m in range(self.n_bandits):
            idx = np.flatnonzero(a == m)
            rank[idx] = np.arange(idx.size)
        return rank

    def describe(self) -> str:
        return (f"heterogeneous_mab(N={self.n_agents}, M={self.n_bandits}, K={self.n_arms}, {self.reward}, "
                f"graph={self.graph_name}, r={self.r}, min gap={float(np.min(self._sub_gaps())):.3g})")  # fmt: skip

    def _sub_gaps(self) -> np.ndarray:
        g = np.asarray(self.gaps)
        return g[g > 0]


jax.tree_util.register_dataclass(
    HeterogeneousMAB,
    data_fields=["means", "assignment", "G", "peers", "sigma"],
    meta_fields=["reward", "r", "graph_name", "name"],
)


def _gossip_matrix(graph, n: int, fn: str) -> tuple[np.ndarray, str]:
    if graph is None:
        graph = _graphs.complete(n)
    if isinstance(graph, _graphs.Graph):
        A = np.asarray(graph.adjacency, dtype=np.float64)
        if A.shape != (n, n):
            raise ValueError(f"{fn}: graph has {A.shape[0]} nodes but n_agents = {n}; pass a graph over the agents")
        deg = A.sum(axis=1)
        if np.any(deg == 0):
            raise ValueError(f"{fn}: every agent needs a neighbour; the graph has isolated nodes {np.flatnonzero(deg == 0).tolist()}")
        return A / deg[:, None], graph.name
    G = np.asarray(graph, dtype=np.float64)
    if G.shape != (n, n):
        raise ValueError(f"{fn}: graph must be a problems.graphs.Graph or an (N, N) gossip matrix; got shape {G.shape}, N = {n}")
    if np.any(G < 0) or not np.allclose(G.sum(axis=1), 1.0) or np.any(np.diag(G) != 0):
        raise ValueError(f"{fn}: a gossip matrix G must be nonnegative with zero diagonal and rows summing to 1")
    return G, "custom"


def heterogeneous_mab(
    n_agents: int,
    n_bandits: int,
    n_arms: int,
    key=0,
    *,
    gap: float = 0.1,
    reward: str = "bernoulli",
    sigma: float = 1.0,
    graph=None,
    r: int = 2,
    means=None,
) -> HeterogeneousMAB:
    """N agents, M < N bandits with K arms, each bandit learned by ``floor(N/M)`` or ``ceil(N/M)`` agents.

    Means (GosInE's official recipe per bandit, ronshee/gosine@2c8bc7ea9953dac02a883f5c805cfeec25c4e3e9:Synch.py:
    best 0.95, second 0.85, the rest 0.85 U(0, 1); here the second is ``0.95 - gap``, the rest
    ``(0.95 - gap) U(0, 1)``). The arms are then permuted per bandit, with distinct best arms across
    bandits (heterogeneity: what is best for one group is not for another; our choice).
    Agents are assigned round-robin (agent ``p`` to bandit ``p mod M``) after a random permutation
    of the agents (our choice). The partially context aware side information ``peers``: agent
    ``i`` knows the next ``r - 1`` learners of its bandit (cyclically by rank; our choice of which).

    Args:
        n_agents: N >= 2.
        n_bandits: M with 1 <= M < N (and M <= K so the best arms can differ).
        n_arms: K >= 2.
        key: int seed or jax.random key.
        gap: the smallest gap ``mu* - mu_2`` of every bandit, in (0, 0.95).
        reward: ``"bernoulli"`` or ``"gaussian"`` (``N(mu, sigma^2)``).
        sigma: Gaussian reward standard deviation (> 0).
        graph: gossip graph over the agents (a :class:`problems.graphs.Graph`, uniform over
            neighbours) or an (N, N) gossip matrix; default the complete graph.
        r: each agent knows ``r - 1`` peers of its bandit; ``1 <= r <= min_m N_m``.
        means: optional explicit (M, K) means (then ``gap`` is not used); for Bernoulli rewards in [0, 1].

    Raises:
        ValueError / TypeError naming the argument.
    """
    fn = "bandits.heterogeneous_mab"
    N = _positive_int(n_agents, "n_agents", fn, 2)
    M = _positive_int(n_bandits, "n_bandits", fn, 1)
    K = _positive_int(n_arms, "n_arms", fn, 2)
    if M >= N:
        raise ValueError(f"{fn}: n_bandits must be < n_agents (M < N, each bandit learned by several agents); got M = {M}, N = {N}")
    if M > K:
        raise ValueError(f"{fn}: n_bandits = {M} > n_arms = {K}: the bandits' best arms must be distinct; pass n_bandits <= n_arms")
    if reward not in REWARD_KINDS:
        raise ValueError(f"{fn}: reward must be one of {REWARD_KINDS}, got {reward!r}")
    if not (np.isfinite(sigma) and sigma > 0):
        raise ValueError(f"{fn}: sigma must be a positive number, got {sigma}")
    k_means, k_perm, k_assign = jax.random.split(_key(key), 3)
    if means is None:
        if not (isinstance(gap, (int, float, np.floating)) and 0.0 < float(gap) < BEST_MEAN):
            raise ValueError(f"{fn}: gap must lie in (0, {BEST_MEAN}) (best mean {BEST_MEAN}, means >= 0); got {gap}")
        second = BEST_MEAN - float(gap)
        rng = np.random.default_rng(np.asarray(jax.random.randint(k_means, (), 0, 2**31 - 1)).item())
        base = np.empty((M, K))
        base[:, 0] = BEST_MEAN
        base[:, 1] = second
        base[:, 2:] = second * rng.uniform(size=(M, K - 2))
        best = rng.permutation(K)[:M]  # distinct best arms
        means_np = np.empty((M, K))
        for m in range(M):
            others = rng.permutation(np.setdiff1d(np.arange(K), [best[m]]))
            order = np.concatenate([[best[m]], others])
            means_np[m, order] = base[m]
    else:
        means_np = np.asarray(means, dtype=np.float64)
        if means_np.shape != (M, K):
            raise ValueError(f"{fn}: means must have shape (n_bandits, n_arms) = ({M}, {K}), got {means_np.shape}")
        if not np.all(np.isfinite(means_np)):
            raise ValueError(f"{fn}: means must be finite")
        if reward == "bernoulli" and (means_np.min() < 0 or means_np.max() > 1):
            raise ValueError(f"{fn}: Bernoulli means must lie in [0, 1]; got range [{means_np.min()}, {means_np.max()}]")
        srt = np.sort(means_np, axis=1)
        if np.any(srt[:, -1] - srt[:, -2] <= 0):
            raise ValueError(f"{fn}: every bandit needs a unique best arm (a positive gap); got ties in means")
    perm = np.asarray(jax.random.permutation(k_assign, N))
    assignment = np.empty(N, dtype=np.int32)
    assignment[perm] = np.arange(N) % M
    G, gname = _gossip_matrix(graph, N, fn)
    sizes = np.bincount(assignment, minlength=M)
    r = _positive_int(r, "r", fn, 1)
    if r > sizes.min():
        raise ValueError(f"{fn}: r = {r} exceeds the smallest group size {sizes.min()}: an agent cannot know r - 1 peers; pass r <= {sizes.min()}")
    peers = np.zeros((N, N), dtype=bool)
    for m in range(M):
        idx = np.flatnonzero(assignment == m)
        for j, i in enumerate(idx):
            for s in range(1, r):
                peers[i, idx[(j + s) % idx.size]] = True
    return HeterogeneousMAB(
        means=jnp.asarray(means_np), assignment=jnp.asarray(assignment), G=jnp.asarray(G), peers=jnp.asarray(peers),
        sigma=float(sigma), reward=reward, r=r, graph_name=gname,
    )  # fmt: skip


def gosine_instance(key=0, *, n_agents: int = 15, n_arms: int = 40) -> HeterogeneousMAB:
    """GosInE's official default experiment: 15 agents on one 40-armed Bernoulli bandit, complete graph.

    Means as in ronshee/gosine@2c8bc7ea9953dac02a883f5c805cfeec25c4e3e9:Synch.py: ``0.85 U(0,1)`` sorted
    decreasingly, then ``mu_1 = 0.95``, ``mu_2 = 0.85`` (arm 0 is the best, as in the code).
    """
    rng = np.random.default_rng(np.asarray(jax.random.randint(_key(key), (), 0, 2**31 - 1)).item())
    mu = np.sort(0.85 * rng.uniform(size=n_arms))[::-1].copy()
    mu[0], mu[1] = 0.95, 0.85
    return heterogeneous_mab(n_agents, 1, n_arms, key, means=mu[None, :], r=1)


def _mab_accumulate(params, state, info, t):
    p = params["problem"]
    bandit = p.assignment
    gaps = p.gaps[bandit, info.arms]
    return {
        "regret": jnp.sum(gaps),
        "agent_regret": gaps,
        "realized_regret": jnp.sum(p.best_mean[bandit] - info.rewards),
    }


#: The recorder of every multi-armed bandit method (accumulated pseudo- and realized regret).
mab_metrics = Metrics(accumulate=_mab_accumulate, primary=None)


def sample_rewards(problem: HeterogeneousMAB, key, arms) -> jax.Array:
    """(N,) rewards of agent ``i`` pulling ``arms[i]`` of its bandit (independent across agents)."""
    mu = problem.means[problem.assignment, arms]
    if problem.reward == "bernoulli":
        return (jax.random.uniform(key, mu.shape) < mu).astype(mu.dtype)
    return mu + problem.sigma * jax.random.normal(key, mu.shape, mu.dtype)


# --------------------------------------------------------------------------------------------
# Distributed contextual linear bandits
# --------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class LinearContextual:
    """Linear contextual bandit with a known context distribution (see the module docstring).

    Attributes:
        actions: (C, K, d) the pre-drawn action sets (unit vectors).
        theta: (d,) ``theta*``, unit norm.
        sigma: reward noise standard deviation (``N(0, sigma^2)``).
        n_agents: N (static).
    """

    actions: Any
    theta: Any
    sigma: Any = 1.0
    n_agents: int = dataclasses.field(default=1, metadata=dict(static=True))
    name: str = dataclasses.field(default="linear_contextual", metadata=dict(static=True))

    @property
    def dim(self) -> int:
        return int(np.shape(self.actions)[2])

    @property
    def n_actions(self) -> int:
        return int(np.shape(self.actions)[1])

    @property
    def n_contexts(self) -> int:
        return int(np.shape(self.actions)[0])

    @property
    def values(self):
        """(C, K) expected rewards ``<x, theta*>``."""
        return self.actions @ self.theta

    @property
    def best_value(self):
        return jnp.max(self.values, axis=1)

    @property
    def gaps(self):
        """(C, K) ``max_x <x, theta*> - <a, theta*>`` per context."""
        v = self.values
        return jnp.max(v, axis=1, keepdims=True) - v

    @property
    def action_norm(self) -> float:
        """``L = max ||x||`` over all actions (1 here)."""
        return float(np.max(np.linalg.norm(np.asarray(self.actions), axis=-1)))

    @property
    def theta_norm(self) -> float:
        return float(np.linalg.norm(np.asarray(self.theta)))

    def describe(self) -> str:
        return f"linear_contextual(N={self.n_agents}, d={self.dim}, K={self.n_actions}, C={self.n_contexts}, sigma={float(self.sigma):g})"


jax.tree_util.register_dataclass(LinearContextual, data_fields=["actions", "theta", "sigma"], meta_fields=["n_agents", "name"])


def _unit(x, axis=-1):
    return x / jnp.linalg.norm(x, axis=axis, keepdims=True)


def linear_contextual(n_agents: int, dim: int, n_actions: int, key=0, n_contexts: int = 100, *, noise: float = 1.0) -> LinearContextual:
    """Distributed contextual linear bandit: ``n_contexts`` pre-drawn sets of ``n_actions`` unit vectors.

    ``theta*`` and every action are uniform on the unit sphere of R^d (so ``|<x, theta*>| <= 1``);
    rewards ``<x, theta*> + N(0, noise^2)``. Each round, each agent draws a context uniformly from the
    sets (the known context distribution). Action distribution: ours (the paper's is NOT FOUND).

    Args:
        n_agents: N >= 1 (LinUCB's reference is one agent over N*T rounds on the same instance).
        dim: d >= 1.
        n_actions: K >= 2 actions per set.
        key: int seed or jax.random key.
        n_contexts: number of action sets (default 100, Amani et al.'s experiments).
        noise: reward noise standard deviation (> 0; default 1, i.e. N(0, 1)).
    """
    fn = "bandits.linear_contextual"
    N = _positive_int(n_agents, "n_agents", fn, 1)
    d = _positive_int(dim, "dim", fn, 1)
    K = _positive_int(n_actions, "n_actions", fn, 2)
    C = _positive_int(n_contexts, "n_contexts", fn, 1)
    if not (np.isfinite(noise) and noise > 0):
        raise ValueError(f"{fn}: noise must be a positive standard deviation, got {noise}")
    k_theta, k_act = jax.random.split(_key(key))
    theta = _unit(jax.random.normal(k_theta, (d,), jnp.float64 if jax.config.jax_enable_x64 else jnp.float32))
    actions = _unit(jax.random.normal(k_act, (C, K, d), theta.dtype))
    return LinearContextual(actions=actions, theta=theta, sigma=float(noise), n_agents=N)


def _linear_accumulate(params, state, info, t):
    p = params["problem"]
    gaps = p.gaps[info.contexts, info.arms]
    return {
        "regret": jnp.sum(gaps),
        "agent_regret": gaps,
        "realized_regret": jnp.sum(p.best_value[info.contexts] - info.rewards),
    }


#: The recorder of every linear contextual bandit method.
linear_metrics = Metrics(accumulate=_linear_accumulate, primary=None)


def linear_rewards(problem: LinearContextual, key, x) -> jax.Array:
    """Rewards ``<x_i, theta*> + sigma xi_i`` for played actions ``x`` (..., d)."""
    mean = x @ problem.theta
    return mean + problem.sigma * jax.random.normal(key, mean.shape, mean.dtype)

"""Communication topologies: static graphs and time-varying graph sequences.

A :class:`Graph` is an immutable value: a symmetric boolean adjacency matrix
without self-loops, on nodes ``0..n-1``, plus a human-readable name. Generators
build on networkx and relabel nodes to consecutive integers.

Random generators never return a disconnected graph silently: they retry with
seeds derived deterministically from the user's seed (``seed, seed+1, ...``
through a NumPy ``SeedSequence``) and raise :class:`DisconnectedGraphError` when
no connected draw is found within ``max_tries``.

Time-varying sequences (:class:`GraphSequence`) hold a stacked adjacency array
of shape ``(T, n, n)``; :meth:`GraphSequence.mixing` turns it into stacked
mixing matrices ``(T, n, n)`` that can be passed into a jitted scan.

Example:
    >>> from problems import graphs
    >>> g = graphs.ring(8)
    >>> g.n, g.num_edges, g.degrees.max()
    (8, 8, 2)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Sequence

import networkx as nx
import numpy as np

from problems import _checks

__all__ = [
    "DisconnectedGraphError",
    "Graph",
    "GraphSequence",
    "complete",
    "erdos_renyi",
    "exponential",
    "from_edges",
    "from_networkx",
    "geometric",
    "grid",
    "hypercube",
    "lazy_transition",
    "markov_switching",
    "moving_cut",
    "path",
    "random_edge_activation",
    "ring",
    "ring_swaps",
    "star",
    "torus",
]


class DisconnectedGraphError(ValueError):
    """Raised when a graph that must be connected is not."""


def _check_n(n: int, minimum: int = 2) -> int:
    n = _checks.integer(n, "n (the number of nodes)", minimum=None)
    if n < minimum:
        raise ValueError(
            f"a graph needs at least {minimum} nodes, got n={n}; "
            "decentralized optimization over a single node is plain optimization"
        )
    return int(n)


@dataclasses.dataclass(frozen=True, eq=False)
class Graph:
    """An undirected simple graph on nodes ``0..n-1`` (immutable).

    Attributes:
        adjacency: (n, n) read-only boolean array, symmetric, zero diagonal.
        name: a short description used in figures and results files.
    """

    adjacency: np.ndarray
    name: str = "graph"

    def __post_init__(self):
        a = np.array(self.adjacency, dtype=bool, copy=True)
        if a.ndim != 2 or a.shape[0] != a.shape[1]:
            raise ValueError(f"adjacency must be a square (n, n) matrix, got shape {a.shape}")
        _check_n(a.shape[0])
        if not np.array_equal(a, a.T):
            raise ValueError("adjacency must be symmetric (undirected graph); symmetrize it with A | A.T")
        if a.diagonal().any():
            raise ValueError("adjacency must have a zero diagonal: self-loops are not edges")
        a.setflags(write=False)
        object.__setattr__(self, "adjacency", a)

    # --- value semantics -------------------------------------------------
    def __eq__(self, other):
        if not isinstance(other, Graph):
            return NotImplemented
        return self.adjacency.shape == other.adjacency.shape and bool(
            np.array_equal(self.adjacency, other.adjacency)
        )

    def __hash__(self):
        return hash((self.adjacency.shape, np.packbits(self.adjacency).tobytes()))

    def __repr__(self):
        return f"Graph(name={self.name!r}, n={self.n}, edges={self.num_edges})"

    # --- derived quantities ----------------------------------------------
    @property
    def n(self) -> int:
        """Number of nodes."""
        return self.adjacency.shape[0]

    @property
    def edges(self) -> np.ndarray:
        """(m, 2) int array of edges ``(i, j)`` with ``i < j``, in row-major order."""
        i, j = np.nonzero(np.triu(self.adjacency, 1))
        return np.stack([i, j], axis=1).astype(np.int64)

    @property
    def num_edges(self) -> int:
        return int(np.triu(self.adjacency, 1).sum())

    @property
    def degrees(self) -> np.ndarray:
        """(n,) int array of node degrees."""
        return self.adjacency.sum(axis=1).astype(np.int64)

    def laplacian(self) -> np.ndarray:
        """(n, n) float64 combinatorial Laplacian ``D - A``."""
        a = self.adjacency.astype(np.float64)
        return np.diag(a.sum(axis=1)) - a

    def incidence(self) -> np.ndarray:
        """(n, m) float64 oriented incidence matrix; column e is ``e_i - e_j``."""
        e = self.edges
        inc = np.zeros((self.n, len(e)))
        inc[e[:, 0], np.arange(len(e))] = 1.0
        inc[e[:, 1], np.arange(len(e))] = -1.0
        return inc

    def is_connected(self) -> bool:
        return _is_connected(self.adjacency)

    def require_connected(self, what: str = "this operation") -> "Graph":
        """Return self, or raise :class:`DisconnectedGraphError` if not connected."""
        if not self.is_connected():
            n_comp = nx.number_connected_components(self.to_networkx())
            raise DisconnectedGraphError(
                f"graph {self.name!r} (n={self.n}) is disconnected ({n_comp} components); "
                f"{what} needs a connected graph: add edges, or use a time-varying "
                "GraphSequence whose union over a window is connected"
            )
        return self

    def to_networkx(self) -> nx.Graph:
        g = nx.Graph()
        g.add_nodes_from(range(self.n))
        g.add_edges_from(map(tuple, self.edges.tolist()))
        return g

    def relabel(self, perm: Sequence[int]) -> "Graph":
        """Graph with node ``i`` renamed ``perm[i]`` (a permutation of 0..n-1)."""
        p = np.asarray(perm)
        if sorted(p.tolist()) != list(range(self.n)):
            raise ValueError(f"perm must be a permutation of 0..{self.n - 1}")
        inv = np.argsort(p)
        return Graph(self.adjacency[np.ix_(inv, inv)], name=f"{self.name} (relabelled)")


def _require_graph_arg(g, name: str, fn: str) -> None:
    if not isinstance(g, Graph):
        raise TypeError(
            f"{fn}: {name} must be a problems.graphs.Graph, got {type(g).__name__}; "
            "build one with graphs.ring(n), graphs.from_networkx(G) or graphs.from_edges(n, edges)"
        )


def _is_connected(adjacency: np.ndarray) -> bool:
    n = adjacency.shape[0]
    seen = np.zeros(n, dtype=bool)
    seen[0] = True
    frontier = seen.copy()
    while frontier.any():
        nxt = adjacency[frontier].any(axis=0) & ~seen
        seen |= nxt
        frontier = nxt
    return bool(seen.all())


# --- constructors ------------------------------------------------------------
def from_networkx(g: nx.Graph, name: str | None = None) -> Graph:
    """Convert a networkx graph (any hashable node labels) to a :class:`Graph`.

    Nodes are relabelled ``0..n-1`` in ``sorted`` order when sortable, else in
    insertion order. Self-loops are dropped; directed graphs are symmetrized.
    """
    if not isinstance(g, nx.Graph):
        raise TypeError(
            f"graphs.from_networkx expects a networkx graph (nx.Graph), got {type(g).__name__}; "
            "use graphs.from_edges(n, edges) for an edge list"
        )
    nodes = list(g.nodes)
    try:
        nodes = sorted(nodes)
    except TypeError:
        pass
    a = nx.to_numpy_array(g, nodelist=nodes, weight=None, dtype=np.float64) != 0
    a = a | a.T
    np.fill_diagonal(a, False)
    return Graph(a, name=name or (g.name or "graph"))


def from_edges(n: int, edges: Iterable[tuple[int, int]], name: str = "graph") -> Graph:
    """Graph on ``n`` nodes from a list of undirected edges ``(i, j)``."""
    n = _check_n(n)
    a = np.zeros((n, n), dtype=bool)
    e = np.asarray(list(edges), dtype=np.int64).reshape(-1, 2)
    if e.size and (e.min() < 0 or e.max() >= n):
        raise ValueError(f"edge endpoints must lie in 0..{n - 1}")
    if (e[:, 0] == e[:, 1]).any():
        raise ValueError("self-loops (i, i) are not edges; remove them")
    a[e[:, 0], e[:, 1]] = True
    a[e[:, 1], e[:, 0]] = True
    return Graph(a, name=name)


def ring(n: int) -> Graph:
    """Cycle C_n (n >= 3; n = 2 gives a single edge)."""
    n = _check_n(n)
    if n == 2:
        return from_edges(2, [(0, 1)], name="ring(2)")
    return from_networkx(nx.cycle_graph(n), name=f"ring({n})")


def path(n: int) -> Graph:
    """Path P_n."""
    return from_networkx(nx.path_graph(_check_n(n)), name=f"path({n})")


def star(n: int) -> Graph:
    """Star with centre 0 and ``n - 1`` leaves."""
    return from_networkx(nx.star_graph(_check_n(n) - 1), name=f"star({n})")


def complete(n: int) -> Graph:
    """Complete graph K_n."""
    return from_networkx(nx.complete_graph(_check_n(n)), name=f"complete({n})")


def grid(rows: int, cols: int | None = None) -> Graph:
    """2-D grid (no wrap-around) with ``rows * cols`` nodes, row-major labels."""
    cols = rows if cols is None else cols
    _check_n(rows * cols)
    g = nx.grid_2d_graph(rows, cols)
    return from_networkx(g, name=f"grid({rows}x{cols})")


def torus(rows: int, cols: int | None = None) -> Graph:
    """2-D torus (grid with wrap-around) with ``rows * cols`` nodes; sides >= 3."""
    cols = rows if cols is None else cols
    if rows < 3 or cols < 3:
        raise ValueError(f"a torus needs both sides >= 3 (got {rows}x{cols}); use grid() for thinner ones")
    g = nx.grid_2d_graph(rows, cols, periodic=True)
    return from_networkx(g, name=f"torus({rows}x{cols})")


def hypercube(dim: int) -> Graph:
    """Hypercube Q_dim on ``2**dim`` nodes (node labels are the binary codes)."""
    if dim < 1:
        raise ValueError(f"hypercube dimension must be >= 1, got {dim}")
    g = nx.hypercube_graph(dim)
    g = nx.relabel_nodes(g, {v: int("".join(map(str, v)), 2) for v in g.nodes})
    return from_networkx(g, name=f"hypercube({dim})")


def exponential(n: int) -> Graph:
    """Exponential graph: node i linked to i ± 2^k (mod n) for 2^k < n."""
    n = _check_n(n)
    edges = set()
    k = 1
    while k < n:
        for i in range(n):
            j = (i + k) % n
            if i != j:
                edges.add((min(i, j), max(i, j)))
        k *= 2
    return from_edges(n, sorted(edges), name=f"exponential({n})")


def _connected_draw(make: Callable[[int], nx.Graph], seed: int, max_tries: int, what: str) -> tuple[nx.Graph, int]:
    seed = _checks.seed(seed, "seed", what)
    max_tries = _checks.integer(max_tries, "max_tries", what)
    ss = np.random.SeedSequence(seed)
    for attempt, child in enumerate(ss.spawn(max_tries)):
        sub = int(child.generate_state(1)[0])
        g = make(sub)
        if g.number_of_nodes() >= 2 and nx.is_connected(g):
            return g, attempt
    raise DisconnectedGraphError(
        f"{what}: no connected draw in {max_tries} tries from seed {seed}; "
        "increase the edge probability / radius, or max_tries"
    )


def erdos_renyi(n: int, p: float, seed: int = 0, *, max_tries: int = 100) -> Graph:
    """Connected Erdős–Rényi graph G(n, p), redrawn deterministically until connected."""
    n = _check_n(n)
    p = _checks.real(p, "p (edge probability)", "graphs.erdos_renyi", lo=0.0, hi=1.0, lo_open=True)
    g, _ = _connected_draw(lambda s: nx.gnp_random_graph(n, p, seed=s), seed, max_tries, f"erdos_renyi(n={n}, p={p})")
    return from_networkx(g, name=f"erdos_renyi({n}, p={p:g}, seed={seed})")


def geometric(n: int, radius: float | None = None, seed: int = 0, *, max_tries: int = 100) -> Graph:
    """Connected random geometric graph in the unit square.

    Args:
        n: number of nodes.
        radius: connection radius; default ``sqrt(2 log n / (pi n))``, sqrt(2) times
            the connectivity threshold (mean degree about ``2 log n``).
        seed: integer seed; the same seed gives the same graph.
    """
    n = _check_n(n)
    if radius is None:
        radius = math.sqrt(2.0 * math.log(n) / (math.pi * n)) if n > 2 else 1.5
    radius = _checks.real(radius, "radius", "graphs.geometric", lo=0.0, lo_open=True)
    g, _ = _connected_draw(
        lambda s: nx.random_geometric_graph(n, radius, seed=s), seed, max_tries, f"geometric(n={n}, radius={radius:g})"
    )
    return from_networkx(g, name=f"geometric({n}, r={radius:.3g}, seed={seed})")


# --- time-varying sequences -------------------------------------------------
@dataclasses.dataclass(frozen=True, eq=False)
class GraphSequence:
    """A time-varying topology: one graph per step.

    Attributes:
        adjacency: (T, n, n) read-only boolean array.
        name: description.
    """

    adjacency: np.ndarray
    name: str = "sequence"

    def __post_init__(self):
        a = np.array(self.adjacency, dtype=bool, copy=True)
        if a.ndim != 3 or a.shape[1] != a.shape[2]:
            raise ValueError(f"adjacency must have shape (T, n, n), got {a.shape}")
        if a.shape[0] < 1:
            raise ValueError("a GraphSequence needs at least one graph: pass adjacency of shape (T, n, n) with T >= 1")
        if not np.array_equal(a, a.transpose(0, 2, 1)):
            raise ValueError("every graph of the sequence must be undirected (symmetric adjacency)")
        if a[:, np.arange(a.shape[1]), np.arange(a.shape[1])].any():
            raise ValueError("self-loops are not edges")
        a.setflags(write=False)
        object.__setattr__(self, "adjacency", a)

    @property
    def num_steps(self) -> int:
        return self.adjacency.shape[0]

    @property
    def n(self) -> int:
        return self.adjacency.shape[1]

    def __len__(self):
        return self.num_steps

    def __getitem__(self, t: int) -> Graph:
        return Graph(self.adjacency[t], name=f"{self.name}[{t}]")

    def edges_changed(self) -> np.ndarray:
        """(T-1,) number of edges added plus removed between consecutive steps."""
        diff = self.adjacency[1:] ^ self.adjacency[:-1]
        return np.triu(diff, 1).sum(axis=(1, 2)).astype(np.int64)

    @property
    def change_velocity(self) -> int:
        """Largest number of edges changed (added + removed) in one step."""
        ch = self.edges_changed()
        return int(ch.max()) if ch.size else 0

    def union(self, start: int = 0, stop: int | None = None) -> Graph:
        """Union graph of steps ``start..stop-1``."""
        return Graph(self.adjacency[start:stop].any(axis=0), name=f"union of {self.name}")

    def mixing(self, rule: str = "metropolis", **kwargs) -> np.ndarray:
        """Stacked (T, n, n) float64 mixing matrices, one per step (kept for compatibility).

        The weights are built by :func:`problems.mixing.sequence_weights` (weights belong to
        :mod:`problems.mixing`); this returns its ``.weights``. Prefer
        ``mixing.sequence_weights(seq, rule)``, which also gives per-step spectra.
        """
        from problems import mixing as _mixing  # local import: mixing imports graphs

        return np.array(_mixing.sequence_weights(self, rule, **kwargs).weights)


def random_edge_activation(base: Graph, p: float, num_steps: int, seed: int = 0) -> GraphSequence:
    """Each edge of ``base`` is active independently with probability ``p`` at each step."""
    fn = "graphs.random_edge_activation"
    _require_graph_arg(base, "base", fn)
    p = _checks.real(p, "p (activation probability)", fn, lo=0.0, hi=1.0, lo_open=True)
    num_steps = _checks.integer(num_steps, "num_steps", fn)
    rng = np.random.default_rng(_checks.seed(seed, "seed", fn))
    e = base.edges
    active = rng.random((num_steps, len(e))) < p
    a = np.zeros((num_steps, base.n, base.n), dtype=bool)
    ts, es = np.nonzero(active)
    a[ts, e[es, 0], e[es, 1]] = True
    a |= a.transpose(0, 2, 1)
    return GraphSequence(a, name=f"activation({base.name}, p={p:g}, seed={seed})")


def markov_switching(
    graphs: Sequence[Graph], transition: np.ndarray, num_steps: int, seed: int = 0, initial: int = 0
) -> GraphSequence:
    """Markov chain over a finite set of graphs with row-stochastic ``transition``."""
    fn = "graphs.markov_switching"
    graphs = list(graphs)
    if not graphs:
        raise ValueError(f"{fn}: graphs must hold at least one graph; pass a list such as [graphs.ring(8), graphs.path(8)]")
    for i, g in enumerate(graphs):
        _require_graph_arg(g, f"graphs[{i}]", fn)
    num_steps = _checks.integer(num_steps, "num_steps", fn)
    P = np.asarray(transition, dtype=np.float64)
    k = len(graphs)
    if P.shape != (k, k) or (P < 0).any() or not np.allclose(P.sum(axis=1), 1.0):
        raise ValueError(
            f"{fn}: transition must be a row-stochastic ({k}, {k}) matrix (nonnegative, rows summing to 1); "
            "use graphs.lazy_transition(k, velocity)"
        )
    ns = {g.n for g in graphs}
    if len(ns) != 1:
        raise ValueError(f"all graphs must have the same number of nodes, got {sorted(ns)}")
    initial = _checks.integer(initial, "initial", fn, minimum=0)
    if initial >= k:
        raise ValueError(f"{fn}: initial must be the index of one of the {k} graphs, 0..{k - 1}, got {initial}; pass 0..{k - 1}")
    rng = np.random.default_rng(_checks.seed(seed, "seed", fn))
    states = np.empty(num_steps, dtype=np.int64)
    states[0] = initial
    u = rng.random(num_steps)
    cdf = np.cumsum(P, axis=1)
    for t in range(1, num_steps):  # a scalar chain; nodes are not looped over
        states[t] = min(int(np.searchsorted(cdf[states[t - 1]], u[t], side="right")), k - 1)
    stack = np.stack([g.adjacency for g in graphs])[states]
    return GraphSequence(stack, name=f"markov({k} graphs, seed={seed})")


def ring_swaps(n: int, num_steps: int, seed: int | None = None, *, every: int = 1) -> GraphSequence:
    """Deterministic slowly changing ring: every ``every`` steps two adjacent nodes swap places.

    The ring order starts as 0, 1, ..., n-1; at the s-th swap the nodes at ring
    positions ``s mod n`` and ``s+1 mod n`` swap (or a position drawn from
    ``seed`` when given). Each swap removes two edges and adds two, so the
    change velocity is 4 edges per swap (n >= 5), i.e. ``4 / every`` edges per step on average.
    """
    n = _check_n(n)
    if n < 5:
        raise ValueError("ring_swaps needs n >= 5 so that a swap changes the ring")
    num_steps = _checks.integer(num_steps, "num_steps", "graphs.ring_swaps")
    if seed is not None:
        seed = _checks.seed(seed, "seed", "graphs.ring_swaps")
    if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
        raise ValueError(f"every (steps between swaps) must be a positive integer, got {every!r}")
    rng = np.random.default_rng(seed) if seed is not None else None
    order = np.arange(n)
    a = np.zeros((num_steps, n, n), dtype=bool)
    for t in range(num_steps):
        a[t, order, np.roll(order, -1)] = True
        if (t + 1) % every:
            continue
        s_ = t // every
        pos = int(rng.integers(n)) if rng is not None else s_ % n
        q = (pos + 1) % n
        order = order.copy()
        order[pos], order[q] = order[q], order[pos]
    a |= a.transpose(0, 2, 1)
    return GraphSequence(a, name=f"ring_swaps({n})" if every == 1 else f"ring_swaps({n}, every={every})")


def lazy_transition(k: int, velocity: float) -> np.ndarray:
    """Transition matrix of a Markov chain over ``k`` graphs that switches with probability ``velocity``.

    ``P = (1 - velocity) I + velocity (11^T - I) / (k - 1)``: each step keeps the current graph with
    probability ``1 - velocity`` and otherwise jumps to one of the others, uniformly. For
    :func:`markov_switching`; the expected number of switches per step is ``velocity``.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise ValueError(f"k (number of graphs) must be an integer >= 2, got {k!r}")
    if not (0.0 <= float(velocity) <= 1.0):
        raise ValueError(f"velocity (switching probability per step) must lie in [0, 1], got {velocity}")
    v = float(velocity)
    return (1.0 - v) * np.eye(k) + v * (np.ones((k, k)) - np.eye(k)) / (k - 1)


def moving_cut(n: int, cuts: Sequence[int]) -> GraphSequence:
    """Paths obtained from the ring C_n by removing one edge: step t removes ring edge ``cuts[t]``.

    Ring edge ``c`` joins nodes ``c`` and ``c + 1 mod n``. Every snapshot is a Hamiltonian path of the
    ring (all isomorphic to P_n, so every ``W_t`` of a local rule has the same spectrum); moving the
    cut from ``c`` to ``c'`` changes exactly two edges (one added back, one removed). Built for the
    deterministic worst case of consensus over changing graphs (Metelev et al., arXiv:2307.12562:
    acceleration is impossible even if only two edges change per step); the cut positions are
    chosen by an adversary, e.g. :func:`algos.consensus.time_varying.adversarial_cuts`.
    """
    n = _check_n(n)
    if n < 3:
        raise ValueError("moving_cut needs n >= 3 (a ring)")
    c = np.asarray(list(cuts), dtype=np.int64).reshape(-1)
    if c.size == 0:
        raise ValueError("cuts must hold at least one ring-edge index")
    if c.min() < 0 or c.max() >= n:
        raise ValueError(f"cuts must be ring-edge indices in 0..{n - 1}, got range [{c.min()}, {c.max()}]")
    i = np.arange(n)
    ring = np.zeros((n, n), dtype=bool)
    ring[i, (i + 1) % n] = True
    ring |= ring.T
    a = np.broadcast_to(ring, (c.size, n, n)).copy()
    a[np.arange(c.size), c, (c + 1) % n] = False
    a[np.arange(c.size), (c + 1) % n, c] = False
    return GraphSequence(a, name=f"moving_cut({n})")

"""Gossip (mixing) weights and the spectral quantities that govern them.

A mixing matrix for a graph ``g`` on n nodes is a symmetric ``W`` with
``W @ 1 = 1`` (hence doubly stochastic in the affine sense) and
``W[i, j] = 0`` unless ``i == j`` or ``(i, j)`` is an edge. Written with edge
weights ``w`` and the incidence matrix ``A``: ``W = I - A diag(w) A^T``.
Gossip ``x <- W x`` preserves the average and converges to it at the rate
``slem(W) = ||W - 11^T/n||_2``.

Rules:
    * :func:`metropolis` — local, no global knowledge. Two published conventions:
      ``"xiao_boyd_lall"`` (default), ``w_ij = 1 / (1 + max(d_i, d_j))`` (Xiao,
      Boyd & Lall 2005): every diagonal entry is positive, so the chain is
      aperiodic and ``slem < 1`` on every connected graph; and
      ``"metropolis_hastings"``, ``w_ij = 1 / max(d_i, d_j)`` (Boyd, Diaconis &
      Xiao 2004), which has ``slem = 1`` on bipartite regular graphs (e.g. even
      rings): wrap it in :func:`lazy` there.
    * :func:`max_degree` — ``w_e = 1 / d_max`` (Boyd, Diaconis & Xiao 2004).
    * :func:`best_constant` — ``W = I - alpha* L`` with
      ``alpha* = 2 / (lambda_1(L) + lambda_{n-1}(L))`` (Xiao & Boyd 2004, Sec. 4.1);
      it may have negative diagonal entries (e.g. on a star).
    * :func:`lazy` — ``(I + W) / 2``.
    * :func:`fastest_mixing` (FMMC, Boyd, Diaconis & Xiao 2004) and
      :func:`fastest_averaging` (FDLA, Xiao & Boyd 2004) — semidefinite programs,
      solved exactly (:mod:`problems._sdp`) or, past about 1,350-2,200 nodes, by a
      first-order method with a certified gap (:mod:`problems._sdp_first_order`).

Every function that returns a ``W`` validates it with :func:`check_mixing`.
"""

from __future__ import annotations

import math
from typing import Literal, NamedTuple

import numpy as np

from problems.graphs import DisconnectedGraphError, Graph

__all__ = [
    "MixingMatrixError",
    "DisconnectedGraphError",
    "MixingSequence",
    "ResistanceChis",
    "laplacian_weights",
    "resistance_chis",
    "sequence_weights",
    "best_constant",
    "check_mixing",
    "check_mixes",
    "chi",
    "consensus_rounds",
    "fastest_averaging",
    "fastest_mixing",
    "lambda2",
    "lambda_min",
    "lazy",
    "max_degree",
    "max_degree_weights",
    "metropolis",
    "metropolis_weights",
    "slem",
    "spectral_gap",
    "spectrum",
    "Spectrum",
]

Convention = Literal["xiao_boyd_lall", "metropolis_hastings"]


class MixingMatrixError(ValueError):
    """Raised when a matrix is not a valid mixing matrix (for the given graph)."""


def _require_graph(g, fn: str) -> Graph:
    if not isinstance(g, Graph):
        raise TypeError(
            f"{fn} expects a problems.graphs.Graph, got {type(g).__name__}; "
            "build one with graphs.ring(n), graphs.from_networkx(G) or graphs.from_edges(n, edges)"
        )
    return g.require_connected(f"mixing.{fn}")


# --- local rules on raw adjacency (no connectivity requirement) -------------
def _check_adjacency(adjacency, fn: str) -> np.ndarray:
    """A square, symmetric boolean adjacency without self-loops (what the local rules need)."""
    if isinstance(adjacency, Graph):
        return adjacency.adjacency
    if _is_graph_object(adjacency):
        raise TypeError(f"mixing.{fn}: adjacency must be an (n, n) array; for a networkx graph use graphs.from_networkx(G).adjacency")
    a = np.asarray(adjacency)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"mixing.{fn}: adjacency must be a square (n, n) array, got shape {a.shape}; pass g.adjacency of a graphs.Graph")
    a = a != 0
    if not np.array_equal(a, a.T):
        i, j = np.argwhere(a != a.T)[0]
        raise ValueError(
            f"mixing.{fn}: adjacency must be symmetric (an undirected graph), but adjacency[{i}, {j}] != adjacency[{j}, {i}]; "
            "use a | a.T, or build the graph with graphs.from_edges(n, edges)"
        )
    if a.diagonal().any():
        i = int(np.flatnonzero(a.diagonal())[0])
        raise ValueError(f"mixing.{fn}: adjacency has a self-loop at node {i}; self-loops are not edges: set the diagonal to False")
    return a


def _is_graph_object(W) -> bool:
    """A ratebench Graph or a networkx graph (passed where a matrix was due)."""
    return isinstance(W, Graph) or (hasattr(W, "adj") and hasattr(W, "nodes") and hasattr(W, "edges"))


def metropolis_weights(adjacency: np.ndarray, convention: Convention = "xiao_boyd_lall") -> np.ndarray:
    """Metropolis weights for a (possibly disconnected) adjacency matrix.

    Used for time-varying snapshots, which need not be connected. See
    :func:`metropolis` for the conventions. The adjacency must be symmetric without self-loops.
    """
    a = _check_adjacency(adjacency, "metropolis_weights")
    d = a.sum(axis=1).astype(np.float64)
    dmax = np.maximum(d[:, None], d[None, :])
    if convention == "xiao_boyd_lall":
        off = np.where(a, 1.0 / (1.0 + dmax), 0.0)
    elif convention == "metropolis_hastings":
        off = np.where(a, 1.0 / np.maximum(dmax, 1.0), 0.0)
    else:
        raise ValueError(f"unknown Metropolis convention {convention!r}; use 'xiao_boyd_lall' or 'metropolis_hastings'")
    return off + np.diag(1.0 - off.sum(axis=1))


def max_degree_weights(adjacency: np.ndarray) -> np.ndarray:
    """Max-degree weights ``w_e = 1/d_max`` for a (possibly disconnected) adjacency matrix."""
    a = _check_adjacency(adjacency, "max_degree_weights")
    dmax = max(int(a.sum(axis=1).max()), 1)
    off = a / dmax
    return off + np.diag(1.0 - off.sum(axis=1))


# --- rules on connected graphs ----------------------------------------------
def metropolis(g: Graph, convention: Convention = "xiao_boyd_lall") -> np.ndarray:
    """Metropolis weights on a connected graph.

    Args:
        g: connected graph.
        convention: ``"xiao_boyd_lall"`` (default; ``1/(1 + max(d_i, d_j))``,
            always aperiodic) or ``"metropolis_hastings"`` (``1/max(d_i, d_j)``;
            periodic — ``slem = 1`` — on bipartite regular graphs).

    Returns:
        (n, n) symmetric doubly stochastic nonnegative ``W`` supported on ``g``.
    """
    g = _require_graph(g, "metropolis")
    return check_mixing(metropolis_weights(g.adjacency, convention), g, nonnegative=True)


def max_degree(g: Graph) -> np.ndarray:
    """Max-degree weights ``W = I - L / d_max`` (nonnegative, symmetric, stochastic)."""
    g = _require_graph(g, "max_degree")
    return check_mixing(max_degree_weights(g.adjacency), g, nonnegative=True)


def best_constant(g: Graph) -> np.ndarray:
    """Best constant edge weight ``W = I - alpha* L`` (Xiao & Boyd 2004).

    ``alpha* = 2 / (lambda_1(L) + lambda_{n-1}(L))`` with ``lambda_1`` the
    largest and ``lambda_{n-1}`` the smallest nonzero Laplacian eigenvalue; it
    achieves ``slem = (lambda_1 - lambda_{n-1}) / (lambda_1 + lambda_{n-1})``,
    the best over all ``W = I - alpha L``. Diagonal entries are negative when
    ``alpha* > 1/d_max`` (e.g. on stars).
    """
    g = _require_graph(g, "best_constant")
    lap = g.laplacian()
    ev = np.linalg.eigvalsh(lap)  # ascending; ev[0] = 0
    alpha = 2.0 / (ev[-1] + ev[1])
    return check_mixing(np.eye(g.n) - alpha * lap, g, nonnegative=False)


def lazy(W: np.ndarray) -> np.ndarray:
    """Lazy version ``(I + W) / 2``: eigenvalues move to ``[0, 1]`` when ``W``'s are in ``[-1, 1]``."""
    W = check_mixing(W)
    return 0.5 * (np.eye(W.shape[0]) + W)


def fastest_mixing(
    g: Graph,
    *,
    solver: str = "auto",
    tol: float = 1e-8,
    return_certificate: bool = False,
    time_limit_s: float | None = None,
    progress=None,
):
    """Fastest mixing Markov chain (FMMC) weights (Boyd, Diaconis & Xiao 2004).

    Solves ``minimize ||W - 11^T/n||_2`` over symmetric, nonnegative, stochastic
    ``W`` supported on ``g``.

    Exact or first-order is chosen automatically from the predicted cost of
    the exact interior point (:func:`problems._sdp.choose_method`: its
    ``n x n`` blocks and ``m x m`` Newton matrix, a per-iteration model fitted to
    timed solves, :func:`problems._sdp.predicted_ipm_cost`): exact while the
    prediction at ``tol`` is at most ``problems._sdp.AUTO_IPM_MAX_SECONDS`` (120 s:
    about 1,350 nodes of a random geometric graph, 1,900 of a 4-regular one at the
    default ``tol``; FDLA, which takes fewer iterations, about 1,550 and 2,150), else the first-order solver of
    :mod:`problems._sdp_first_order`, whose certificate exposes a low-rank dual
    point.  ``certificate.method`` (``"exact"`` / ``"first_order"``) and
    ``certificate.solver`` say which ran.

    Args:
        g: connected graph.
        solver: ``"auto"``, ``"first_order"`` (force the first-order solver),
            or an exact path accepted by :func:`problems._sdp.solve_fmmc`
            (``"ipm"``, ``"clarabel"``, ``"scs"``).
        tol: the target certified gap ``slem - lower_bound`` (e.g. ``1e-4``): the
            interior point stops once its certificate's gap, or its own duality gap and
            feasibility, is within it; the first-order
            solver's certified gap (Clarabel and SCS: their own relative tolerances,
            see :func:`problems._sdp.solve_fmmc`).
        return_certificate: also return an :class:`problems._sdp.SDPCertificate`
            with a rigorous dual lower bound on the optimal SLEM.
        time_limit_s: first-order only: stop optimising after this many seconds.
        progress: ``None``, or a callable (e.g. ``print``) that receives a dict at the start
            (chosen path, size, predicted memory and time) and after every interior-point
            iteration or first-order stage (current SLEM and certified lower bound); long solves
            (a ring of 2,000 nodes takes minutes on the exact path) then show progress.

    Before solving, the memory of the chosen exact path is predicted
    (:func:`problems._sdp.predicted_memory_bytes`); past half the available memory the call
    refuses with :class:`problems._sdp.SDPSizeError` (a ``MemoryError``) naming the size and the
    alternatives (``solver="first_order"``), and ``solver="auto"`` takes the first-order path.

    Returns:
        ``W`` (n, n), or ``(W, certificate)``.

    Raises:
        DisconnectedGraphError: if ``g`` is disconnected.
        problems._sdp.SDPSolveError: unknown solver, no solver available, or the solve fails.
        problems._sdp.SDPSizeError: the forced exact path would exhaust memory (refused before solving).
        ValueError: ``tol`` outside (0, 1) or a non-positive ``time_limit_s``.
    """
    from problems import _sdp

    g = _require_graph(g, "fastest_mixing")
    out = _sdp.solve_fmmc(
        g.n, g.edges, solver=solver, tol=tol, return_certificate=return_certificate, time_limit_s=time_limit_s,
        progress=progress,
    )
    W = out[0] if return_certificate else out
    check_mixing(W, g, nonnegative=True, atol=max(tol, 1e-9) * 10)
    return out


def fastest_averaging(
    g: Graph,
    *,
    solver: str = "auto",
    tol: float = 1e-8,
    return_certificate: bool = False,
    time_limit_s: float | None = None,
    progress=None,
):
    """Fastest distributed linear averaging (FDLA) weights (Xiao & Boyd 2004).

    Solves ``minimize ||W - 11^T/n||_2`` over symmetric ``W`` with ``W 1 = 1``
    supported on ``g``; weights (and diagonal entries) may be negative. Same
    arguments, automatic exact / first-order choice and return values as
    :func:`fastest_mixing`.
    """
    from problems import _sdp

    g = _require_graph(g, "fastest_averaging")
    out = _sdp.solve_fdla(
        g.n, g.edges, solver=solver, tol=tol, return_certificate=return_certificate, time_limit_s=time_limit_s,
        progress=progress,
    )
    W = out[0] if return_certificate else out
    check_mixing(W, g, nonnegative=False, atol=max(tol, 1e-9) * 10)
    return out


# --- validation -------------------------------------------------------------
def check_mixing(W, g: Graph | None = None, *, nonnegative: bool = False, atol: float = 1e-9) -> np.ndarray:
    """Validate a mixing matrix and return it as a float64 NumPy array.

    Checks: square (n, n) with n >= 2, finite, symmetric, rows (hence columns)
    summing to 1, supported on ``g``'s edges plus the diagonal when ``g`` is
    given, and entrywise nonnegative when ``nonnegative``.

    Raises:
        MixingMatrixError: naming the first violated property, by how much,
            and how to fix it.
    """
    if _is_graph_object(W):
        raise TypeError(
            f"W must be a mixing matrix (an (n, n) array or an algos.operators.GossipOperator), got a graph "
            f"({type(W).__name__}); build W from it with mixing.metropolis(g) (graphs.from_networkx(G) first for a networkx graph)"
        )
    try:
        W = np.asarray(W, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"W must be a mixing matrix (an (n, n) array of floats), got {type(W).__name__}; build one with mixing.metropolis(g)"
        ) from exc
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise MixingMatrixError(f"a mixing matrix must be square (n, n), got shape {W.shape}; build one with mixing.metropolis(g)")
    n = W.shape[0]
    if n < 2:
        raise MixingMatrixError(f"a mixing matrix needs n >= 2 nodes, got n={n}")
    if not np.isfinite(W).all():
        raise MixingMatrixError("mixing matrix has NaN or inf entries; pass a finite W, e.g. mixing.metropolis(g)")
    asym = float(np.abs(W - W.T).max())
    if asym > atol:
        raise MixingMatrixError(
            f"mixing matrix is not symmetric (max |W - W^T| = {asym:.3g} > {atol:g}); "
            "use a symmetric rule such as mixing.metropolis(g), or symmetrize with (W + W.T)/2"
        )
    rows = float(np.abs(W.sum(axis=1) - 1.0).max())
    if rows > atol:
        raise MixingMatrixError(
            f"mixing matrix is not doubly stochastic: rows sum to 1 only within {rows:.3g} (> {atol:g}); "
            "set the diagonal to 1 - (sum of off-diagonal entries of the row)"
        )
    if g is not None:
        if g.n != n:
            raise MixingMatrixError(f"W is {n}x{n} but the graph has {g.n} nodes")
        off_support = ~(g.adjacency | np.eye(n, dtype=bool))
        bad = float(np.abs(W[off_support]).max()) if off_support.any() else 0.0
        if bad > atol:
            i, j = np.argwhere(off_support & (np.abs(W) > atol))[0]
            raise MixingMatrixError(
                f"W is not supported on graph {g.name!r}: W[{i}, {j}] = {W[i, j]:.3g} but ({i}, {j}) is not an edge; "
                "nodes may only mix with their neighbours"
            )
    if nonnegative:
        neg = float(W.min())
        if neg < -atol:
            raise MixingMatrixError(
                f"W has negative entries (min {neg:.3g}); this rule must give a nonnegative (Markov) matrix"
            )
    return W


def check_mixes(W, fn: str | None = None, *, spectrum: "Spectrum | None" = None, name: str = "W", extra: str = "") -> None:
    """Raise unless the gossip ``x <- W x`` reaches consensus on every connected piece at once.

    Two checks, shared by every factory that takes a static ``W``: the support of ``W`` (its
    off-diagonal nonzeros) is a connected graph (``O(nnz)``, scipy's connected components), and,
    when the factory computed the :class:`Spectrum`, ``lambda_2(W) < 1`` (``l_min > 0``). A ``W``
    failing them (``np.eye(n)``, the weights of a disconnected graph) leaves ``1`` with an
    eigenvalue-1 partner: the nodes never agree and a decentralized method stalls silently.

    Raises:
        MixingMatrixError: naming the argument, the number of pieces (or ``lambda_2``) and the fix.
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    where = f"algos.{fn}: " if fn else ""
    Wn = np.asarray(W, dtype=np.float64)
    n = Wn.shape[0]
    off = np.abs(Wn) > 0
    np.fill_diagonal(off, False)
    pieces, _ = connected_components(csr_matrix(off), directed=False)
    if pieces > 1:
        what = "it is diagonal (no node talks to another)" if not off.any() else f"its support splits the nodes into {pieces} disconnected groups"
        raise MixingMatrixError(
            f"{where}{name} does not mix: {what}, so the nodes never reach consensus and the method would stall "
            f"silently; pass W of a connected graph, e.g. mixing.metropolis(graphs.ring({n})){extra}"
        )
    if spectrum is not None and not spectrum.l_min > 1e-12:
        raise MixingMatrixError(
            f"{where}{name} does not mix: lambda_2({name}) = {spectrum.lambda_2:.6g} (1 - lambda_2 = {spectrum.l_min:.3g}), so "
            f"consensus is never reached; pass W of a connected graph with positive weights, e.g. mixing.metropolis(g){extra}"
        )


# --- spectral quantities ----------------------------------------------------
class Spectrum(NamedTuple):
    """Spectral quantities of a symmetric mixing matrix ``W`` with ``W 1 = 1``.

    Eigenvalues ``1 = lambda_1`` (on the vector 1) and, on the mean-free subspace,
    ``lambda_2 >= ... >= lambda_n``. The gossip matrix ``I - W`` has, on that subspace,
    eigenvalues in ``[l_min, l_max] = [1 - lambda_2, 1 - lambda_n]``.

    Attributes:
        lambda_2: largest eigenvalue on the mean-free subspace.
        lambda_n: smallest eigenvalue.
        slem: ``max(|lambda_2|, |lambda_n|) = ||W - 11^T/n||_2`` (the gossip rate).
        gap: ``1 - slem`` (the spectral gap).
        l_min: ``1 - lambda_2``, smallest nonzero eigenvalue of ``I - W`` (0 when W does not mix).
        l_max: ``1 - lambda_n``, largest eigenvalue of ``I - W``.
        chi: ``l_max / l_min`` (Kovalev, Salim & Richtárik 2020); infinite when W does not mix.
        eigenvalues: the ``n - 1`` mean-free eigenvalues, ascending (read-only).
    """

    lambda_2: float
    lambda_n: float
    slem: float
    gap: float
    l_min: float
    l_max: float
    chi: float
    eigenvalues: np.ndarray


def _mean_free_eigs(W) -> np.ndarray:
    """Eigenvalues of W on the subspace orthogonal to 1 (ascending, n-1 values), from one eigvalsh.

    ``W - 11^T/n`` has the eigenvalue 0 on the vector 1 (an eigenvector of the symmetric W with
    ``W 1 = 1``) and W's mean-free eigenvalues unchanged; dropping one eigenvalue closest to 0 leaves
    exactly the mean-free ones (if a mean-free eigenvalue is 0 too, the two zeros are the same value).
    The shifted matrix has norm at most ``max(|lambda|)``, so the eigenvalues are accurate to float64
    round-off relative to 1 (what the defective double roots of heavy-ball gossip need).
    """
    W = check_mixing(W, atol=1e-6)
    n = W.shape[0]
    ev = np.linalg.eigvalsh(W - np.full((n, n), 1.0 / n))
    return np.delete(ev, int(np.argmin(np.abs(ev))))


def spectrum(W) -> Spectrum:
    """All spectral quantities of ``W`` at once (one symmetric eigendecomposition).

    Factories compute it once and keep it in ``Algorithm.spectrum``; bounds reuse it.
    """
    ev = _mean_free_eigs(W)
    ev.setflags(write=False)
    lam2, lamn = float(ev[-1]), float(ev[0])
    s = max(abs(lam2), abs(lamn))
    l_min, l_max = 1.0 - lam2, 1.0 - lamn
    chi_ = math.inf if l_min <= 1e-14 else float(l_max / l_min)
    return Spectrum(lam2, lamn, s, 1.0 - s, l_min, l_max, chi_, ev)


def slem(W) -> float:
    """Second largest eigenvalue modulus ``||W - 11^T/n||_2`` (the gossip rate)."""
    ev = _mean_free_eigs(W)
    return float(max(abs(ev[0]), abs(ev[-1])))


def spectral_gap(W) -> float:
    """``1 - slem(W)``."""
    return 1.0 - slem(W)


def lambda2(W) -> float:
    """Second largest eigenvalue of ``W`` (the largest on the mean-free subspace)."""
    return float(_mean_free_eigs(W)[-1])


def lambda_min(W) -> float:
    """Smallest eigenvalue of ``W``."""
    ev = _mean_free_eigs(W)
    return float(min(ev[0], 1.0))


def chi(W) -> float:
    """Condition number of ``I - W`` on the mean-free subspace: ``(1 - lambda_n) / (1 - lambda_2)``.

    This is the ``chi`` of Kovalev, Salim & Richtárik (2020) for the gossip
    matrix ``I - W``. Infinite when ``W`` does not mix (``lambda_2 = 1``).
    """
    return spectrum(W).chi


def consensus_rounds(W, eps: float) -> int:
    """Gossip rounds guaranteeing ``||W^k x - x_bar|| <= eps ||x - x_bar||`` for every x.

    Equals ``ceil(log(eps) / log(slem(W)))``, tight for the worst-case x.

    Raises:
        ValueError: for ``eps`` outside (0, 1) or a ``W`` that does not mix (slem >= 1).
    """
    if not 0.0 < eps < 1.0:
        raise ValueError(f"eps must lie in (0, 1), got {eps}")
    s = slem(W)
    if s >= 1.0 - 1e-15:
        raise ValueError(
            f"W does not mix (slem = {s:.6g} >= 1): gossip never reaches consensus; "
            "use a connected graph, or lazy(W) on bipartite graphs"
        )
    if s == 0.0:
        return 1
    return int(math.ceil(math.log(eps) / math.log(s) - 1e-12))


# --- time-varying weights (stacked, consumable inside a scan) ---------------------------
class MixingSequence:
    """Stacked mixing matrices of a time-varying network, one per step: ``weights[t]`` is ``W_t``.

    The stack is what a jitted scan consumes: an algorithm keeps ``weights`` (T, n, n) in its
    ``params`` and reads ``W_t = weights[t mod T]`` at step ``t`` (a sequence shorter than the run
    repeats periodically). Every ``W_t`` is symmetric with ``W_t 1 = 1`` (checked); snapshots may be
    disconnected (``connected[t]`` False) when the rule allows it.

    Attributes:
        weights: (T, n, n) read-only float64.
        name: description (the graph sequence's name and the rule).
        norms: (T,) ``||W_t - 11^T/n||_2`` (the one-step consensus contraction of plain gossip).
        l_min, l_max: (T,) extreme eigenvalues of ``I - W_t`` on the mean-free subspace.
        connected: (T,) bool, ``lambda_2(W_t) < 1``.
    """

    def __init__(self, weights, name: str = "weights"):
        Ws = np.array(weights, dtype=np.float64, copy=True)
        if Ws.ndim == 2:
            Ws = Ws[None]
        if Ws.ndim != 3 or Ws.shape[1] != Ws.shape[2]:
            raise MixingMatrixError(f"a mixing sequence must have shape (T, n, n), got {Ws.shape}")
        if Ws.shape[0] < 1:
            raise MixingMatrixError("a mixing sequence needs at least one matrix (T >= 1)")
        specs = []
        for t, W in enumerate(Ws):
            try:
                specs.append(spectrum(W))
            except MixingMatrixError as e:
                raise MixingMatrixError(f"step {t} of the mixing sequence: {e}") from None
        Ws.setflags(write=False)
        self.weights = Ws
        self.name = str(name)
        self.norms = np.array([s.slem for s in specs])
        self.l_min = np.array([s.l_min for s in specs])
        self.l_max = np.array([s.l_max for s in specs])
        self.connected = self.l_min > 1e-12
        for a in (self.norms, self.l_min, self.l_max, self.connected):
            a.setflags(write=False)

    @property
    def num_steps(self) -> int:
        return self.weights.shape[0]

    @property
    def n(self) -> int:
        return self.weights.shape[1]

    def __len__(self):
        return self.num_steps

    def __repr__(self):
        return f"MixingSequence(name={self.name!r}, T={self.num_steps}, n={self.n}, connected={int(self.connected.sum())}/{self.num_steps})"

    def product_factors(self, num_steps: int) -> np.ndarray:
        """``(num_steps + 1,)`` array ``prod_{s < k} ||W_s - J||_2`` for ``k = 0..num_steps`` (periodic)."""
        idx = np.arange(int(num_steps)) % self.num_steps
        return np.concatenate([[1.0], np.cumprod(self.norms[idx])])

    def interval(self) -> tuple[float, float]:
        """``(min_t l_min(t), max_t l_max(t))``: one spectral interval of ``I - W_t`` valid at every step.

        Raises:
            DisconnectedGraphError: some snapshot does not mix (``l_min = 0``), so no interval
            bounded away from 0 exists; pass an explicit interval to the method instead.
        """
        if not self.connected.all():
            t = int(np.argmin(self.connected))
            raise DisconnectedGraphError(
                f"mixing sequence {self.name!r}: snapshot {t} is disconnected (lambda_2(W_t) = 1), so no spectral "
                "interval [l_min, l_max] with l_min > 0 holds at every step; pass spectrum=(lambda_n, lambda_2) "
                "explicitly (e.g. of the expected matrix), or use a sequence of connected graphs"
            )
        return float(self.l_min.min()), float(self.l_max.max())


_SEQUENCE_RULES = ("metropolis", "max_degree", "laplacian")


def laplacian_weights(adjacency: np.ndarray) -> np.ndarray:
    """``W = I - L / lambda_max(L)`` for a (possibly disconnected) adjacency matrix (``I`` without edges).

    This is the gossip matrix the DADAO authors' ADOM+ re-implementation uses,
    ``𝐖 = L / lambda_max(L)`` applied as ``I - W`` (``AdelNabli/DADAO@eed1ed1:utils.py``,
    ``compute_spectral_quantities``): ``I - W`` has largest eigenvalue exactly 1 and
    ``chi(W) = lambda_max(L) / lambda_2(L)``. ``W`` may have negative entries.
    """
    a = np.asarray(adjacency, dtype=bool)
    lap = np.diag(a.sum(axis=1).astype(np.float64)) - a
    top = float(np.linalg.eigvalsh(lap)[-1])
    if top <= 0:
        return np.eye(a.shape[0])
    return np.eye(a.shape[0]) - lap / top


def sequence_weights(seq, rule: str = "metropolis", **kwargs) -> MixingSequence:
    """Mixing matrices of a time-varying topology, stacked for a scan.

    Args:
        seq: a :class:`problems.graphs.GraphSequence`, or a static :class:`Graph` (a sequence of length 1).
        rule: ``"metropolis"`` (:func:`metropolis_weights`), ``"max_degree"``
            (:func:`max_degree_weights`) or ``"laplacian"`` (:func:`laplacian_weights`): local rules
            that stay valid on disconnected snapshots. Keyword arguments go to the rule.

    Returns:
        A :class:`MixingSequence` with one ``W_t`` per step of ``seq``.
    """
    from problems.graphs import GraphSequence

    fn = {"metropolis": metropolis_weights, "max_degree": max_degree_weights, "laplacian": laplacian_weights}.get(rule)
    if fn is None:
        raise ValueError(f"unknown rule {rule!r}; time-varying sequences support {_SEQUENCE_RULES}: pass one of them")
    if isinstance(seq, Graph):
        return MixingSequence(fn(seq.adjacency, **kwargs)[None], name=f"{seq.name} [{rule}]")
    if not isinstance(seq, GraphSequence):
        raise TypeError(f"sequence_weights expects a graphs.GraphSequence or a graphs.Graph, got {type(seq).__name__}")
    # snapshots repeat (Markov chains over a few graphs): weigh each distinct one once
    flat = seq.adjacency.reshape(seq.num_steps, -1)
    uniq, inverse = np.unique(np.packbits(flat, axis=1), axis=0, return_inverse=True)
    first = np.array([int(np.argmax(inverse.ravel() == u)) for u in range(len(uniq))])
    Ws = np.stack([fn(seq.adjacency[t], **kwargs) for t in first])[inverse.ravel()]
    return MixingSequence(Ws, name=f"{seq.name} [{rule}]")


class ResistanceChis(NamedTuple):
    """DADAO's graph constants (Nabli & Oyallon 2023), from the edge-probability Laplacian.

    Attributes:
        chi_1: ``1 / lambda_2(L_norm)``, ``L_norm = L_G / |E|`` (edges activated uniformly).
        chi_2: ``max_{(i,j) in E} 1/2 (e_i - e_j)^T L_norm^+ (e_i - e_j)`` (maximal effective resistance).
        rate: the gossip intensity ``sqrt(2 chi_1 chi_2)`` the official code uses.
    """

    chi_1: float
    chi_2: float
    rate: float


def resistance_chis(g) -> ResistanceChis:
    """``chi_1`` and ``chi_2`` of DADAO for a graph, or their worst case over a sequence.

    As in the official code (``AdelNabli/DADAO@eed1ed1:utils.py``, ``compute_spectral_quantities`` and
    ``compute_graph_resistance``; worst case over the graphs in ``data.py:create_K_graphs``): the
    Laplacian of the graph weighted by the uniform edge-sampling probabilities, ``L_norm = L / |E|``;
    ``chi_1 = 1 / lambda_2(L_norm)``; ``chi_2`` its maximal edge resistance with the factor 1/2.
    The gossip process of DADAO then has total intensity ``sqrt(2 chi_1 chi_2)`` (``main.py``).

    Args:
        g: a connected :class:`Graph`, or a :class:`GraphSequence` whose snapshots are all connected.

    Raises:
        DisconnectedGraphError: a graph (or a snapshot) is disconnected: ``chi_1`` is infinite.
    """
    from problems.graphs import GraphSequence

    if isinstance(g, GraphSequence):
        flat = np.packbits(g.adjacency.reshape(g.num_steps, -1), axis=1)
        _, first = np.unique(flat, axis=0, return_index=True)
        parts = [resistance_chis(g[int(t)]) for t in sorted(first)]
        c1, c2 = max(p.chi_1 for p in parts), max(p.chi_2 for p in parts)
        return ResistanceChis(c1, c2, math.sqrt(2.0 * c1 * c2))
    if not isinstance(g, Graph):
        raise TypeError(f"resistance_chis expects a graphs.Graph or graphs.GraphSequence, got {type(g).__name__}")
    g.require_connected("mixing.resistance_chis (DADAO's chi_1 = 1 / lambda_2 of the edge Laplacian)")
    lap = g.laplacian() / g.num_edges
    ev = np.linalg.eigvalsh(lap)
    chi_1 = 1.0 / float(ev[1])
    pinv = np.linalg.pinv(lap, hermitian=True)
    e = g.edges
    r = 0.5 * (pinv[e[:, 0], e[:, 0]] + pinv[e[:, 1], e[:, 1]] - 2.0 * pinv[e[:, 0], e[:, 1]])
    chi_2 = float(r.max())
    return ResistanceChis(chi_1, chi_2, math.sqrt(2.0 * chi_1 * chi_2))

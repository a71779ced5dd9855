"""Exact SDP solvers for optimal symmetric gossip weights (FMMC and FDLA).

Both problems choose edge weights ``w`` for ``W = I - A diag(w) A^T`` (``A`` the
``n x m`` incidence matrix, column ``a_e = e_i - e_j`` for edge ``e = (i, j)``)
so as to minimise the second largest eigenvalue modulus

    SLEM(W) = || W - 11^T/n ||_2.

* FMMC, fastest mixing Markov chain (Boyd, Diaconis & Xiao, "Fastest mixing
  Markov chain on a graph", SIAM Review 46(4), 2004): additionally ``w >= 0``
  and ``sum_{e ∋ i} w_e <= 1`` for every node (``W`` nonnegative and stochastic).
* FDLA, fastest distributed linear averaging (Xiao & Boyd, "Fast linear
  iterations for distributed averaging", Systems & Control Letters 53, 2004):
  edge weights (and diagonal entries) of any sign.

As an SDP in the variables ``(w, s)``::

    minimise s   s.t.   s I - (W - J) ⪰ 0,   s I + (W - J) ⪰ 0      (J = 11^T/n)
                        [FMMC only]  w >= 0,  1 - |A| w >= 0.

Solver paths (``solver=`` argument):

``"ipm"`` (what ``"auto"`` uses up to about 2,500 edges)
    A primal-dual interior-point method written for this problem (HKM
    direction, Mehrotra predictor-corrector, dual-feasible iterates).  Every
    edge's coefficient matrix ``a_e a_e^T`` is rank one, so the Schur complement
    (Newton) matrix is ``(A^T X A) ∘ (A^T S^{-1} A)`` summed over the two LMI
    blocks, an ``m x m`` dense matrix formed by gathers in O(m^2) and factored
    by Cholesky: roughly O(n^3 + m^3) per iteration, 20-40 iterations, with no
    modelling-layer compilation at all.
``"clarabel"`` / ``"scs"``
    cvxpy with a sparse reformulation: the upper LMI is imposed on the
    mean-free subspace through the incidence vectors of a BFS spanning tree
    ``T`` (``s T^T T - T^T W T ⪰ 0``), the lower LMI in full space
    (``W + s I ⪰ 0``, which has the graph's sparsity), so the dense ``J`` never
    enters the problem data and Clarabel can use chordal decomposition.
``solve_fmmc_naive`` / ``solve_fdla_naive``
    The textbook dense cvxpy model (a dense symmetric ``n x n`` variable and the
    dense ``J`` inside both LMIs), kept as the benchmark baseline.

``"first_order"`` (what ``"auto"`` uses past about 2,500 edges, see ``choose_method``)
    Smoothed-SLEM L-BFGS with sparse block eigensolvers and a low-rank dual
    certificate; see :mod:`problems._sdp_first_order`.

Whatever the path, the returned matrix is rebuilt from ``w`` (so it is exactly
symmetric, supported on the graph, with unit row sums up to rounding), the
FMMC weights are projected onto the feasible set (tiny negative weights clipped
to zero, nodes whose incident weights sum past one scaled back), and the SLEM
is recomputed with :func:`numpy.linalg.eigvalsh`.

Certificates (rigorous lower bounds)
------------------------------------
Let ``Y`` be symmetric with ``Y 1 = 0`` and write ``r_e(Y) = a_e^T Y a_e =
Y_ii + Y_jj - 2 Y_ij``.  For any weights, ``tr(Y W) = tr Y - sum_e w_e r_e(Y)``
and, because ``Y J = 0``, ``tr(Y W) = tr(Y (W - J)) <= ||Y||_* ||W - J||_2``
(trace duality between the nuclear and spectral norms).

* FMMC: if ``z >= 0`` and ``r_e(Y) <= z_i + z_j`` on every edge, then for any
  feasible ``w`` (``w >= 0``, ``sum_{e∋i} w_e <= 1``)
  ``sum_e w_e r_e <= sum_e w_e (z_i + z_j) = sum_i z_i sum_{e∋i} w_e <= 1^T z``,
  hence ``SLEM(W) >= (tr Y - 1^T z) / ||Y||_*`` for every feasible ``W``, in
  particular for the optimum (Boyd, Diaconis & Xiao 2004, Sec. 4 dual).
* FDLA: there is no sign constraint and no stochasticity constraint on ``w``,
  so the dual must kill the ``w``-term exactly: if ``r_e(Y) = 0`` on every edge,
  ``tr(Y W) = tr Y`` for every ``W`` in the family and
  ``SLEM(W) >= tr Y / ||Y||_*`` (Xiao & Boyd 2004, Sec. 3 dual; there ``Y`` is the
  difference ``U - V`` of the two LMI multipliers with ``tr U + tr V = 1``).
  A numerical ``Y`` only satisfies ``r_e = 0`` up to a residual ``r``.  The bound
  is needed only at an optimum ``W*``, whose SLEM is at most 1 (``w = 0`` gives
  SLEM 1), so ``L(w*) = I - W*`` has eigenvalues in ``[0, 2]`` and
  ``||w*||_2 <= ||offdiag L(w*)||_F / sqrt 2 <= sqrt(2 (n - 1))``; therefore
  ``SLEM* >= (tr Y - sqrt(2 (n-1)) ||r||_2) / ||Y||_*``.

The dual matrices reported by any solver are repaired before use: symmetrised,
projected onto ``Y 1 = 0`` (``Y <- P Y P``), for FDLA projected (in Frobenius
norm) onto ``{r_e(Y) = 0}`` by solving the sparse positive definite system
``((A^T A) ∘ (A^T A)) c = r`` and setting ``Y <- Y - A diag(c) A^T``; for FMMC the
best ``z`` for the repaired ``Y`` is found by a small LP and any remaining
violation is removed by raising ``z`` at the endpoints.  The bound is then
evaluated with ``eigvalsh`` and lowered by a rounding margin.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order, connected_components

__all__ = [
    "SDPCertificate",
    "SDPSolveError",
    "solve_fmmc",
    "solve_fdla",
    "solve_fmmc_naive",
    "solve_fdla_naive",
    "dual_lower_bound",
    "SOLVERS",
    "choose_method",
    "predicted_ipm_cost",
    "predicted_memory_bytes",
    "check_size",
    "SDPSizeError",
]

#: Accepted values of ``solver=`` (case-insensitive).
SOLVERS = ("auto", "ipm", "clarabel", "scs", "first_order")

#: Measured reference for the exact interior point's cost (benchmarks/RESULTS.md,
#: section 5: FMMC on a 200-node geometric graph, m = 892 edges, 2.65 s).  Its
#: per-iteration cost is dominated by the m x m Newton matrix (O(m^3) Cholesky,
#: 8 m^2 bytes), so the predicted time is scaled as m^3.
IPM_REFERENCE_EDGES = 892
IPM_REFERENCE_SECONDS = 2.65
#: Policy of ``solver="auto"``: use the exact interior point while its predicted
#: time is at most this many seconds (about m <= 2,500 edges), else the
#: first-order solver of :mod:`problems._sdp_first_order`.
AUTO_IPM_MAX_SECONDS = 60.0


class SDPSolveError(RuntimeError, ValueError):
    """The SDP could not be solved to a valid answer (failure, unavailable solver, bad option).

    Derives from both :class:`RuntimeError` and :class:`ValueError`, so either
    can be caught.
    """


@dataclass(frozen=True)
class SDPCertificate:
    """Quality certificate of an FMMC / FDLA solve.

    Attributes:
        slem: SLEM of the returned matrix, recomputed with ``eigvalsh``.
        lower_bound: rigorous lower bound on the optimal SLEM, from a dual
            feasible point repaired and re-verified here (see module docstring).
        gap: ``slem - lower_bound`` (an upper bound on the suboptimality).
        solver: the solver path that produced the answer.
        solve_time_s: wall-clock seconds of the whole solve (model building,
            solver, repair and certificate).
        status: ``"optimal"`` or ``"optimal_inaccurate"`` (the solver stopped
            before its tolerance; ``gap`` says how far from optimal).
        method: ``"exact"`` (interior point / cvxpy) or ``"first_order"``.
        dual: the dual point behind ``lower_bound`` when it is exposed: a
            :class:`problems._sdp_first_order.LowRankDual` for the first-order
            path (re-check it with
            :func:`problems._sdp_first_order.certified_lower_bound`), ``None``
            for the exact paths.
    """

    slem: float
    lower_bound: float
    gap: float
    solver: str
    solve_time_s: float
    status: str
    method: str = "exact"
    dual: object | None = None


# ----------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------


def _check_input(n, edges) -> tuple[int, np.ndarray, np.ndarray]:
    n = int(n)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    E = np.asarray(edges)
    if E.size == 0:
        E = E.reshape(0, 2)
    if E.ndim != 2 or E.shape[1] != 2:
        raise ValueError(f"edges must be an (m, 2) integer array, got shape {E.shape}")
    if not np.issubdtype(E.dtype, np.integer):
        if not np.all(np.equal(np.mod(E, 1), 0)):
            raise ValueError("edges must contain integer node indices")
    E = E.astype(np.int64)
    ei, ej = E[:, 0].copy(), E[:, 1].copy()
    if E.shape[0] and (ei.min() < 0 or ej.max() >= n or np.any(ei >= ej)):
        raise ValueError("edges must satisfy 0 <= i < j < n for every row (i, j)")
    if len(np.unique(ei * n + ej)) != len(ei):
        raise ValueError("edges contains duplicate rows")
    if n > 1:
        adj = sp.coo_matrix((np.ones(len(ei)), (ei, ej)), shape=(n, n))
        ncomp, _ = connected_components(adj, directed=False)
        if ncomp != 1:
            raise ValueError(f"the graph is disconnected ({ncomp} components); FMMC/FDLA need a connected graph")
    return n, ei, ej


def _laplacian(n, ei, ej, w) -> np.ndarray:
    """Dense ``A diag(w) A^T`` (weighted Laplacian)."""
    L = np.zeros((n, n))
    L[ei, ej] = -w
    L[ej, ei] = -w
    d = np.bincount(ei, weights=w, minlength=n) + np.bincount(ej, weights=w, minlength=n)
    L[np.diag_indices(n)] = d
    return L


def _weights_to_W(n, ei, ej, w) -> np.ndarray:
    """``W = I - A diag(w) A^T``, built entrywise (exactly symmetric, exact support)."""
    W = np.zeros((n, n))
    W[ei, ej] = w
    W[ej, ei] = w
    d = np.bincount(ei, weights=w, minlength=n) + np.bincount(ej, weights=w, minlength=n)
    W[np.diag_indices(n)] = 1.0 - d
    return W


def _slem(W) -> float:
    n = W.shape[0]
    if n == 1:
        return 0.0
    ev = np.linalg.eigvalsh(W - 1.0 / n)
    return float(np.max(np.abs(ev)))


def _quad(K, ei, ej) -> np.ndarray:
    """``r_e = a_e^T K a_e`` for every edge (K symmetric)."""
    return K[ei, ei] + K[ej, ej] - 2.0 * K[ei, ej]


def _mean_free(Y) -> np.ndarray:
    Y = 0.5 * (Y + Y.T)
    r = Y.mean(axis=1)
    return Y - r[:, None] - r[None, :] + r.mean()


def _repair_fmmc_weights(n, ei, ej, w, viol_limit) -> tuple[np.ndarray, float]:
    """Project raw FMMC weights onto ``{w >= 0, sum_{e∋i} w_e <= 1}``.

    Tiny negative weights are clipped to zero; a node whose incident weights sum
    to ``d_i > 1`` has all its incident weights scaled by ``1/d_i`` (an edge takes
    the smaller factor of its two endpoints, which only lowers other sums).

    Returns:
        The repaired weights and the raw violation (max of ``-min w`` and
        ``max d_i - 1``, 0 when feasible).

    Raises:
        SDPSolveError: when the raw violation exceeds ``viol_limit``.
    """
    w = np.asarray(w, dtype=float)
    if not np.all(np.isfinite(w)):
        raise SDPSolveError("the SDP solver returned non-finite weights; try solver='clarabel' or solver='ipm'")
    deg = np.bincount(ei, weights=np.maximum(w, 0), minlength=n) + np.bincount(ej, weights=np.maximum(w, 0), minlength=n)
    viol = max(0.0, -float(w.min(initial=0.0)), float(deg.max(initial=0.0)) - 1.0)
    if viol > viol_limit:
        raise SDPSolveError(
            f"the solver's FMMC weights violate feasibility by {viol:.3g} (> {viol_limit:.3g}); "
            "the solve is unreliable: use solver='ipm' or solver='clarabel', or tighten tol"
        )
    w = np.maximum(w, 0.0)
    for _ in range(8):
        deg = np.bincount(ei, weights=w, minlength=n) + np.bincount(ej, weights=w, minlength=n)
        diag = 1.0 - deg
        if diag.min(initial=0.0) >= 0.0:
            break
        f = np.where(deg > 1.0, (1.0 / np.where(deg > 1.0, deg, 1.0)) * (1.0 - 4 * np.finfo(float).eps), 1.0)
        w = w * np.minimum(f[ei], f[ej])
    return w, viol


# ----------------------------------------------------------------------------
# certificates
# ----------------------------------------------------------------------------


def _repair_z(n, ei, ej, r, z) -> np.ndarray:
    """Raise ``z >= 0`` until ``z_i + z_j >= r_e`` holds exactly (in floating point) on every edge.

    Raising both endpoints of each violated edge by half its violation (the
    largest over a node's incident edges) fixes every edge at once, since
    raising ``z`` never breaks a satisfied edge.
    """
    z = np.maximum(np.asarray(z, dtype=float), 0.0)
    for _ in range(8):
        v = r - (z[ei] + z[ej])
        if v.max(initial=0.0) <= 0:
            return z
        bump = np.zeros(n)
        vv = np.maximum(v, 0.0) * (0.5 + 1e-12)
        np.maximum.at(bump, ei, vv)
        np.maximum.at(bump, ej, vv)
        z = z + bump + (bump > 0) * np.finfo(float).tiny
    return z + max(0.0, float(np.abs(r).max()))  # pragma: no cover - safety net


def _best_z(n, ei, ej, r, z0) -> np.ndarray:
    """``z >= 0`` with ``z_i + z_j >= r_e`` on every edge and (nearly) least ``1^T z``.

    Candidates: the solver's own multipliers ``z0`` (if any) and the solution of
    the LP ``min 1^T z`` over the edges with ``r_e > 0`` (HiGHS); each is made
    exactly feasible by :func:`_repair_z` and the cheaper one is kept.
    """
    pos = r > 0
    if not np.any(pos):
        return np.zeros(n)
    cands = []
    if z0 is not None and np.all(np.isfinite(z0)):
        cands.append(_repair_z(n, ei, ej, r, z0))
    try:
        from scipy.optimize import linprog

        k = int(pos.sum())
        rows = np.repeat(np.arange(k), 2)
        cols = np.stack([ei[pos], ej[pos]], axis=1).ravel()
        A_ub = sp.csr_matrix((-np.ones(2 * k), (rows, cols)), shape=(k, n))
        res = linprog(
            np.ones(n),
            A_ub=A_ub,
            b_ub=-r[pos],
            bounds=(0, None),
            method="highs",
            options=dict(primal_feasibility_tolerance=1e-10, dual_feasibility_tolerance=1e-10),
        )
        if res.status == 0:
            cands.append(_repair_z(n, ei, ej, r, res.x))
    except Exception:  # pragma: no cover - scipy without HiGHS
        pass
    if not cands:
        cands.append(_repair_z(n, ei, ej, r, np.zeros(n)))
    return min(cands, key=lambda z: float(z.sum()))


def dual_lower_bound(n: int, edges: np.ndarray, Y: np.ndarray, *, nonnegative: bool, z: np.ndarray | None = None) -> float:
    """Rigorous lower bound on the optimal SLEM from an approximate dual matrix.

    ``Y`` may be any symmetric ``n x n`` matrix (typically ``U - V``, the
    multipliers of the upper and lower LMIs); it is repaired into a dual
    feasible point as described in the module docstring and the bound
    ``(tr Y - 1^T z) / ||Y||_*`` (FMMC, ``nonnegative=True``) or
    ``(tr Y - sqrt(2(n-1)) ||r||_2) / ||Y||_*`` (FDLA) is returned, clipped at 0.

    Args:
        n: number of nodes.
        edges: (m, 2) edge list, ``i < j``.
        Y: approximate dual matrix.
        nonnegative: ``True`` for FMMC, ``False`` for FDLA.
        z: optional solver multipliers of ``sum_{e∋i} w_e <= 1`` (FMMC), used
            only if the LP for the best ``z`` fails.

    Returns:
        A lower bound on the optimal SLEM of the problem.
    """
    E = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    ei, ej = E[:, 0], E[:, 1]
    Y = np.asarray(Y, dtype=float)
    if n <= 1 or not np.all(np.isfinite(Y)):
        return 0.0
    Y = _mean_free(Y)
    eps = np.finfo(float).eps
    if nonnegative:
        r = _quad(Y, ei, ej)
        zz = _best_z(n, ei, ej, r, z)
        num = float(np.trace(Y)) - float(zz.sum())
        scale = abs(float(np.trace(Y))) + float(zz.sum())
    else:
        r = _quad(Y, ei, ej)
        if len(ei):
            # Project onto {r_e(Y) = 0}: G c = r, G = (A^T A) ∘ (A^T A) (sparse, PD).
            m = len(ei)
            A = sp.csc_matrix(
                (np.r_[np.ones(m), -np.ones(m)], (np.r_[ei, ej], np.r_[np.arange(m), np.arange(m)])), shape=(n, m)
            )
            AtA = (A.T @ A).tocsc()
            G = AtA.multiply(AtA).tocsc()
            from scipy.sparse.linalg import spsolve

            c = spsolve(G, r)
            Y = Y - _laplacian(n, ei, ej, c)
            r = _quad(Y, ei, ej)
        res = float(np.linalg.norm(r))
        num = float(np.trace(Y)) - np.sqrt(2.0 * (n - 1)) * res
        scale = abs(float(np.trace(Y)))
    ev = np.linalg.eigvalsh(Y)
    nuc = float(np.abs(ev).sum())
    if nuc <= 0 or not np.isfinite(nuc):
        return 0.0
    # Rounding margin: eigvalsh is backward stable (errors ~ n eps ||Y||_2 per
    # eigenvalue), traces and sums are accurate to ~ n eps of their magnitude.
    margin = 16 * n * eps * (scale + n * float(np.abs(ev).max())) / nuc
    return max(0.0, num / nuc - margin)


def _finish(kind, n, ei, ej, w, Y, z, solver_name, status, t0, viol_limit, return_certificate):
    if kind == "fmmc":
        w, _ = _repair_fmmc_weights(n, ei, ej, w, viol_limit)
    else:
        w = np.asarray(w, dtype=float)
        if not np.all(np.isfinite(w)):
            raise SDPSolveError(f"solver {solver_name!r} returned non-finite weights; try solver='ipm' or solver='clarabel'")
    W = _weights_to_W(n, ei, ej, w)
    if not return_certificate:
        return W
    s = _slem(W)
    lb = dual_lower_bound(n, np.stack([ei, ej], axis=1), Y, nonnegative=(kind == "fmmc"), z=z) if Y is not None else 0.0
    lb = min(lb, s)  # a valid lower bound never exceeds an achieved value
    cert = SDPCertificate(
        slem=s,
        lower_bound=lb,
        gap=s - lb,
        solver=solver_name,
        solve_time_s=time.perf_counter() - t0,
        status=status,
    )
    return W, cert


# ----------------------------------------------------------------------------
# the structured interior-point method
# ----------------------------------------------------------------------------


class _IPMFailure(Exception):
    pass


def _max_step_psd(Xchol_L, dX) -> float:
    """Largest ``a`` with ``X + a dX ⪰ 0`` given the Cholesky factor of ``X``."""
    T = sla.solve_triangular(Xchol_L, dX, lower=True)
    T = sla.solve_triangular(Xchol_L, T.T, lower=True)
    T = 0.5 * (T + T.T)
    lam = sla.eigh(T, eigvals_only=True, subset_by_index=[0, 0], driver="evr")[0]
    return np.inf if lam >= 0 else -1.0 / lam


def _max_step_lp(x, dx) -> float:
    neg = dx < 0
    if not np.any(neg):
        return np.inf
    return float(np.min(-x[neg] / dx[neg]))


def _chol(M):
    return np.linalg.cholesky(M)


def _ipm(n, ei, ej, nonneg: bool, tol: float, max_iter: int = 80, history: list | None = None, progress=None):
    """Primal-dual interior point (HKM direction, Mehrotra predictor-corrector).

    Written in SDPT3's dual form  ``max b^T y  s.t.  C - Σ y_k A_k = S ⪰ 0`` with
    ``y = (w, s)``, ``b = (0, -1)`` and blocks
    ``S1 = s I + L(w) - P``, ``S2 = s I - L(w) + P`` (``P = I - J``) and, for FMMC,
    ``S3 = w``, ``S4 = 1 - |A| w``.  Iterates keep ``S`` exactly equal to
    ``C - A^T y`` (dual feasible, starting from lazy Metropolis weights); the
    multipliers ``X = (X1, X2, x3, x4)`` may be infeasible and converge.

    Returns:
        ``(w, s, Y, z, status, iterations)`` with ``Y = X1 - X2`` and ``z = x4``.
    """
    m = len(ei)
    I = np.eye(n)
    P = I - 1.0 / n
    deg = np.bincount(ei, minlength=n) + np.bincount(ej, minlength=n)
    w = 1.0 / (1.0 + np.maximum(deg[ei], deg[ej]))
    W0 = _weights_to_W(n, ei, ej, w)
    s = _slem(W0) + 0.25
    At = sp.csr_matrix(
        (np.r_[np.ones(m), -np.ones(m)], (np.r_[np.arange(m), np.arange(m)], np.r_[ei, ej])), shape=(m, n)
    )
    absA = None
    if nonneg:
        absA = sp.csr_matrix(
            (np.ones(2 * m), (np.r_[ei, ej], np.r_[np.arange(m), np.arange(m)])), shape=(n, m)
        )
        absAt = absA.T.tocsr()

    def slacks(w, s):
        L = _laplacian(n, ei, ej, w)
        S1 = L - P
        S1[np.diag_indices(n)] += s
        S2 = P - L
        S2[np.diag_indices(n)] += s
        if nonneg:
            return S1, S2, w.copy(), 1.0 - absA @ w
        return S1, S2, None, None

    S1, S2, s3, s4 = slacks(w, s)
    # Centred multipliers X = mu S^{-1} scaled so that tr X1 + tr X2 = 1.
    S1i = np.linalg.inv(S1)
    S2i = np.linalg.inv(S2)
    mu0 = 1.0 / (np.trace(S1i) + np.trace(S2i))
    X1, X2 = mu0 * S1i, mu0 * S2i
    X1 = 0.5 * (X1 + X1.T)
    X2 = 0.5 * (X2 + X2.T)
    if nonneg:
        x3, x4 = mu0 / s3, mu0 / s4
    nu = 2 * n + ((m + n) if nonneg else 0)
    status = "max_iter"
    it = 0
    diag = np.diag_indices(n)

    def calA(K1, K2, k3, k4):
        """𝒜(K): the edge part and the s part."""
        ge = _quad(K2, ei, ej) - _quad(K1, ei, ej)
        if nonneg:
            ge = ge - k3 + absAt @ k4
        gs = -np.trace(K1) - np.trace(K2)
        return ge, gs

    best_merit, best_it, best = np.inf, 0, None
    for it in range(1, max_iter + 1):
        # --- residuals and gap -------------------------------------------
        ge, gs = calA(X1, X2, x3 if nonneg else None, x4 if nonneg else None)
        Rp_e = -ge
        Rp_s = -1.0 - gs
        gap_xs = np.vdot(X1, S1) + np.vdot(X2, S2)
        if nonneg:
            gap_xs += x3 @ s3 + x4 @ s4
        mu = gap_xs / nu
        lb = float(np.vdot(P, X1 - X2)) - (float(x4.sum()) if nonneg else 0.0)
        pinf = max(np.abs(Rp_e).max(initial=0.0), abs(Rp_s))
        relgap = (s - lb) / (1.0 + abs(s) + abs(lb))
        merit = max(relgap, pinf)
        if history is not None:
            history.append(dict(it=it, s=float(s), lb=lb, relgap=float(relgap), pinf=float(pinf), mu=float(mu)))
        if progress is not None:
            progress(dict(path="ipm", iteration=it, slem=float(s), lower_bound=lb, relgap=float(relgap), pinf=float(pinf)))
        if merit < best_merit:
            best_merit, best_it = merit, it
            best = (w, s, X1, X2, x4 if nonneg else None)
        if relgap <= tol and pinf <= tol:
            status = "optimal"
            break
        if it - best_it >= 4:
            # No progress for several iterations: rounding has taken over.
            status = "stalled"
            break

        # --- Schur complement ----------------------------------------------
        try:
            S1i = sla.cho_solve(sla.cho_factor(S1, lower=True), I)
            S2i = sla.cho_solve(sla.cho_factor(S2, lower=True), I)
            LX1 = _chol(X1)
            LX2 = _chol(X2)
            LS1 = _chol(S1)
            LS2 = _chol(S2)
        except (np.linalg.LinAlgError, sla.LinAlgError):
            status = "numerical (Cholesky of an iterate)"
            break
        S1i = 0.5 * (S1i + S1i.T)
        S2i = 0.5 * (S2i + S2i.T)

        def AKA(K):
            # A^T K A for symmetric K via two sparse-dense products (2 nonzeros per edge).
            return At @ np.ascontiguousarray((At @ K).T)

        M = np.empty((m + 1, m + 1))
        Mw = AKA(X1)
        Mw *= AKA(S1i)
        H = AKA(X2)
        H *= AKA(S2i)
        Mw += H
        del H
        if nonneg:
            Mw[np.diag_indices(m)] += x3 / s3
            Bt = (absAt @ sp.diags(x4 / s4) @ absA).tocoo()
            Mw[Bt.row, Bt.col] += Bt.data
        M[:m, :m] = Mw
        XS1 = X1 @ S1i
        XS2 = X2 @ S2i
        XS1 = 0.5 * (XS1 + XS1.T)
        XS2 = 0.5 * (XS2 + XS2.T)
        mws = _quad(XS1, ei, ej) - _quad(XS2, ei, ej)
        M[:m, m] = mws
        M[m, :m] = mws
        M[m, m] = np.trace(XS1) + np.trace(XS2)
        try:
            # M is symmetric: factor its (Fortran-ordered) transpose in place.
            Mf = sla.cho_factor(M.copy().T, lower=False, overwrite_a=True, check_finite=False)
        except (np.linalg.LinAlgError, sla.LinAlgError):
            # Regularise slightly; near the end M can lose definiteness to rounding.
            try:
                M[np.diag_indices(m + 1)] += 1e-12 * np.abs(np.diag(M)).max()
                Mf = sla.cho_factor(M.copy().T, lower=False, overwrite_a=True, check_finite=False)
            except (np.linalg.LinAlgError, sla.LinAlgError):
                status = "numerical (Schur complement)"
                break

        def direction(sigma_mu, corr):
            # R_b = sigma mu S^{-1} - X - Corr S^{-1}
            R1 = sigma_mu * S1i - X1
            R2 = sigma_mu * S2i - X2
            if corr is not None:
                C1, C2, c3, c4 = corr
                R1 = R1 - C1 @ S1i
                R2 = R2 - C2 @ S2i
            R1 = 0.5 * (R1 + R1.T)
            R2 = 0.5 * (R2 + R2.T)
            if nonneg:
                r3 = sigma_mu / s3 - x3
                r4 = sigma_mu / s4 - x4
                if corr is not None:
                    r3 = r3 - c3 / s3
                    r4 = r4 - c4 / s4
            else:
                r3 = r4 = None
            ae, as_ = calA(R1, R2, r3, r4)
            rhs = np.empty(m + 1)
            rhs[:m] = Rp_e - ae
            rhs[m] = Rp_s - as_
            dy = sla.cho_solve(Mf, rhs, check_finite=False)
            dy += sla.cho_solve(Mf, rhs - M @ dy, check_finite=False)  # one step of iterative refinement
            dw, ds = dy[:m], dy[m]
            dL = _laplacian(n, ei, ej, dw)
            dS1 = dL.copy()
            dS1[diag] += ds
            dS2 = -dL
            dS2[diag] += ds
            dX1 = R1 - X1 @ dS1 @ S1i
            dX2 = R2 - X2 @ dS2 @ S2i
            dX1 = 0.5 * (dX1 + dX1.T)
            dX2 = 0.5 * (dX2 + dX2.T)
            if nonneg:
                dS3 = dw
                dS4 = -(absA @ dw)
                dx3 = r3 - x3 * dS3 / s3
                dx4 = r4 - x4 * dS4 / s4
            else:
                dS3 = dS4 = dx3 = dx4 = None
            return dw, ds, dS1, dS2, dS3, dS4, dX1, dX2, dx3, dx4

        def steps(d):
            dw, ds, dS1, dS2, dS3, dS4, dX1, dX2, dx3, dx4 = d
            ap = min(_max_step_psd(LX1, dX1), _max_step_psd(LX2, dX2))
            ad = min(_max_step_psd(LS1, dS1), _max_step_psd(LS2, dS2))
            if nonneg:
                ap = min(ap, _max_step_lp(x3, dx3), _max_step_lp(x4, dx4))
                ad = min(ad, _max_step_lp(s3, dS3), _max_step_lp(s4, dS4))
            return ap, ad

        # predictor
        d = direction(0.0, None)
        ap, ad = steps(d)
        ap1, ad1 = min(1.0, ap), min(1.0, ad)
        dw, ds, dS1, dS2, dS3, dS4, dX1, dX2, dx3, dx4 = d
        mu_aff = np.vdot(X1 + ap1 * dX1, S1 + ad1 * dS1) + np.vdot(X2 + ap1 * dX2, S2 + ad1 * dS2)
        if nonneg:
            mu_aff += (x3 + ap1 * dx3) @ (s3 + ad1 * dS3) + (x4 + ap1 * dx4) @ (s4 + ad1 * dS4)
        mu_aff /= nu
        sigma = min(1.0, max(0.0, mu_aff / mu)) ** 3
        # corrector (second-order Mehrotra term)
        corr = (dX1 @ dS1, dX2 @ dS2, dx3 * dS3 if nonneg else None, dx4 * dS4 if nonneg else None)
        d = direction(sigma * mu, corr)
        ap, ad = steps(d)
        gamma = 0.9 + 0.09 * min(ap1, ad1)
        ap, ad = min(1.0, gamma * ap), min(1.0, gamma * ad)
        if ap < 1e-10 and ad < 1e-10:
            status = "stalled"
            break
        dw, ds, dS1, dS2, dS3, dS4, dX1, dX2, dx3, dx4 = d
        X1 = X1 + ap * dX1
        X2 = X2 + ap * dX2
        w = w + ad * dw
        s = s + ad * ds
        if nonneg:
            x3 = x3 + ap * dx3
            x4 = x4 + ap * dx4
        S1, S2, s3, s4 = slacks(w, s)

    if status != "optimal" and best is not None:
        w, s, X1, X2, x4 = best
    z = x4 if nonneg else None
    return w, s, X1 - X2, z, status, it


def _solve_ipm(kind, n, ei, ej, tol, t0, return_certificate, name="ipm", progress=None):
    nonneg = kind == "fmmc"
    try:
        w, s, Y, z, status, it = _ipm(n, ei, ej, nonneg, tol, progress=progress)
    except MemoryError as exc:
        raise SDPSolveError(
            f"the interior-point solver needs a dense {len(ei)}x{len(ei)} Newton matrix and ran out of memory; "
            "pass solver='clarabel' or solver='scs'"
        ) from exc
    if status != "optimal":
        # Accept an early stop only if the rigorous gap is still small.
        W = _weights_to_W(n, ei, ej, _repair_fmmc_weights(n, ei, ej, w, 1e-6)[0] if nonneg else w)
        lb = dual_lower_bound(n, np.stack([ei, ej], axis=1), Y, nonnegative=nonneg, z=z)
        if not (np.all(np.isfinite(W)) and _slem(W) - lb <= max(1e3 * tol, 1e-6)):
            raise SDPSolveError(
                f"the interior-point solver stopped ({status}) after {it} iterations without reaching tol={tol:g}; "
                "pass solver='clarabel' (or 'scs') to use cvxpy instead"
            )
        status = "optimal_inaccurate"
    return _finish(kind, n, ei, ej, w, Y, z, name, status, t0, 1e-6, return_certificate)


# ----------------------------------------------------------------------------
# cvxpy formulations
# ----------------------------------------------------------------------------


def _require_cvxpy_solver(name: str):
    try:
        import cvxpy as cp
    except ImportError as exc:  # pragma: no cover
        raise SDPSolveError(
            "cvxpy is not installed; install it (pip install cvxpy clarabel) or use solver='ipm'"
        ) from exc
    if name not in cp.installed_solvers():
        alt = "SCS" if name != "SCS" else "CLARABEL"
        raise SDPSolveError(
            f"the SDP solver {name} is not available to cvxpy; install it (pip install {name.lower()}) "
            f"or pass solver='ipm' or solver='{alt.lower()}'"
        )
    return cp


def _bfs_tree_incidence(n, ei, ej) -> sp.csc_matrix:
    """``n x (n-1)`` incidence matrix of a BFS spanning tree (columns ``e_v - e_parent(v)``)."""
    adj = sp.coo_matrix((np.ones(len(ei)), (ei, ej)), shape=(n, n)).tocsr()
    adj = adj + adj.T
    order, pred = breadth_first_order(adj, 0, directed=False, return_predecessors=True)
    verts = order[1:]
    rows = np.r_[verts, pred[verts]]
    cols = np.r_[np.arange(n - 1), np.arange(n - 1)]
    vals = np.r_[np.ones(n - 1), -np.ones(n - 1)]
    return sp.csc_matrix((vals, (rows, cols)), shape=(n, n - 1))


def _vec_outer_columns(B: sp.csc_matrix) -> sp.csc_matrix:
    """Sparse matrix whose column ``e`` is ``vec(b_e b_e^T)`` (column-major), ``B = [b_e]``."""
    k, m = B.shape
    rows, cols, vals = [], [], []
    B = B.tocsc()
    for e in range(m):
        idx = B.indices[B.indptr[e] : B.indptr[e + 1]]
        v = B.data[B.indptr[e] : B.indptr[e + 1]]
        if len(idx) == 0:
            continue
        r = (idx[:, None] + k * idx[None, :]).ravel()
        rows.append(r)
        cols.append(np.full(r.size, e))
        vals.append(np.outer(v, v).ravel())
    if rows:
        rows, cols, vals = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    return sp.csc_matrix((vals, (rows, cols)), shape=(k * k, m))


def _solve_cvxpy_sparse(kind, n, ei, ej, solver, tol, t0, return_certificate):
    """Sparse cvxpy model (tree basis for the upper LMI, full space for the lower one)."""
    name = {"clarabel": "CLARABEL", "scs": "SCS"}[solver]
    cp = _require_cvxpy_solver(name)
    m = len(ei)
    A = sp.csc_matrix((np.r_[np.ones(m), -np.ones(m)], (np.r_[ei, ej], np.r_[np.arange(m), np.arange(m)])), shape=(n, m))
    T = _bfs_tree_incidence(n, ei, ej)
    B = (T.T @ A).tocsc()  # columns b_e = T^T a_e
    TtT = (T.T @ T).toarray()
    Kup = _vec_outer_columns(B)
    Klo = _vec_outer_columns(A)
    w = cp.Variable(m)
    s = cp.Variable()
    k = n - 1
    up = cp.reshape(Kup @ w, (k, k), order="F") + (s - 1.0) * TtT
    lo = (1.0 + s) * np.eye(n) - cp.reshape(Klo @ w, (n, n), order="F")
    cons = [up >> 0, lo >> 0]
    if kind == "fmmc":
        absA = abs(A)
        cons += [w >= 0, absA @ w <= 1]
    prob = cp.Problem(cp.Minimize(s), cons)
    opts = {}
    if name == "SCS":
        eps = max(tol, 1e-7)
        opts = dict(eps_abs=eps, eps_rel=eps, max_iters=200_000)
    else:
        opts = dict(tol_gap_abs=tol, tol_gap_rel=tol, tol_feas=tol)
    try:
        with warnings.catch_warnings():
            # An inaccurate solve is reported through the status and the certificate.
            warnings.simplefilter("ignore", UserWarning)
            prob.solve(solver=name, **opts)
    except cp.error.SolverError as exc:
        raise SDPSolveError(
            f"{name} failed on the {kind.upper()} SDP ({exc}); try solver='ipm' or the other cvxpy solver"
        ) from exc
    if prob.status not in ("optimal", "optimal_inaccurate") or w.value is None:
        raise SDPSolveError(
            f"{name} returned status {prob.status!r} on the {kind.upper()} SDP; try solver='ipm' or another solver"
        )
    U = cons[0].dual_value
    V = cons[1].dual_value
    Y = None
    if U is not None and V is not None:
        Tm = T.toarray()
        Y = Tm @ np.asarray(U) @ Tm.T - np.asarray(V)
    z = cons[3].dual_value if kind == "fmmc" else None
    viol_limit = 1e-6 if name == "CLARABEL" else max(100 * opts["eps_abs"], 1e-4)
    return _finish(kind, n, ei, ej, np.asarray(w.value), Y, z, solver, prob.status, t0, viol_limit, return_certificate)


def _solve_naive(kind, n, edges, solver="CLARABEL", tol=1e-8, return_certificate=False, verbose_timing=None):
    """Textbook dense cvxpy model: symmetric ``n x n`` variable ``W`` and the dense ``J``."""
    t0 = time.perf_counter()
    n, ei, ej = _check_input(n, edges)
    name = solver.upper()
    cp = _require_cvxpy_solver(name)
    if n == 1:
        W = np.ones((1, 1))
        return (W, SDPCertificate(0.0, 0.0, 0.0, f"naive-{name.lower()}", 0.0, "optimal")) if return_certificate else W
    J = np.full((n, n), 1.0 / n)
    mask = np.ones((n, n))
    mask[ei, ej] = 0
    mask[ej, ei] = 0
    np.fill_diagonal(mask, 0)
    Wv = cp.Variable((n, n), symmetric=True)
    s = cp.Variable()
    I = np.eye(n)
    cons = [s * I - (Wv - J) >> 0, (Wv - J) + s * I >> 0, Wv @ np.ones(n) == 1, cp.multiply(mask, Wv) == 0]
    if kind == "fmmc":
        cons.append(Wv >= 0)
    prob = cp.Problem(cp.Minimize(s), cons)
    opts = dict(eps_abs=max(tol, 1e-7), eps_rel=max(tol, 1e-7)) if name == "SCS" else {}
    ts = time.perf_counter()
    try:
        prob.solve(solver=name, **opts)
    except cp.error.SolverError as exc:
        raise SDPSolveError(f"{name} failed on the naive {kind.upper()} SDP ({exc})") from exc
    if verbose_timing is not None:
        verbose_timing["solve_call_s"] = time.perf_counter() - ts
        verbose_timing["compile_s"] = float(getattr(prob, "compilation_time", np.nan) or np.nan)
        verbose_timing["solver_s"] = float(prob.solver_stats.solve_time or np.nan)
    if prob.status not in ("optimal", "optimal_inaccurate") or Wv.value is None:
        raise SDPSolveError(f"{name} returned status {prob.status!r} on the naive {kind.upper()} SDP")
    Wval = np.asarray(Wv.value)
    w = 0.5 * (Wval[ei, ej] + Wval[ej, ei])
    U, V = cons[0].dual_value, cons[1].dual_value
    Y = np.asarray(U) - np.asarray(V) if U is not None and V is not None else None
    viol_limit = 1e-6 if name == "CLARABEL" else 1e-3
    return _finish(kind, n, ei, ej, w, Y, None, f"naive-{name.lower()}", prob.status, t0, viol_limit, return_certificate)


# ----------------------------------------------------------------------------
# first-order path and the automatic choice
# ----------------------------------------------------------------------------


def predicted_ipm_cost(n: int, m: int) -> dict:
    """Predicted cost of the exact interior point on a graph with ``n`` nodes and ``m`` edges.

    Returns:
        ``{"seconds": ..., "newton_bytes": ...}``: time scaled as ``m^3`` from the
        measured reference (``IPM_REFERENCE_*``) and the size of the dense
        ``m x m`` float64 Newton matrix.
    """
    m = max(int(m), 1)
    return {
        "seconds": IPM_REFERENCE_SECONDS * (m / IPM_REFERENCE_EDGES) ** 3,
        "newton_bytes": 8.0 * m * m,
    }


#: An exact solve predicted to take longer than this (seconds) warns when no ``progress`` is given.
SLOW_SOLVE_SECONDS = 10.0

#: Fraction of the machine's available memory an exact path may be predicted to use before
#: :func:`check_size` refuses it (the rest is left to the process and the system).
MEMORY_FRACTION = 0.5


def available_memory_bytes() -> float:
    """``MemAvailable`` of ``/proc/meminfo`` (Linux), else the physical memory, else +inf."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024.0
    except OSError:
        pass
    try:
        import os

        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return math.inf


def predicted_memory_bytes(path: str, n: int, m: int) -> float:
    """Predicted peak memory of an exact path (ratebench's estimate from the data structures).

    ``"ipm"``: the dense ``m x m`` float64 Newton matrix and its Cholesky factor (``2 * 8 m^2``)
    plus the dense ``n x n`` blocks. ``"clarabel"``: an interior point on two PSD cones of side
    ``~n``, whose Nesterov–Todd scalings are dense ``N x N`` with ``N = n(n+1)/2`` (``2 * 8 N^2``).
    ``"scs"`` (first-order ADMM): a few dense ``n x n`` arrays and the sparse data. ``"first_order"``:
    dominated by the certificate's LP over the cluster vectors, ``O(m k)`` with at most
    ``k = 2 max(2, min(n // 4, KMAX))`` vectors (``problems._sdp_first_order``, ``KMAX = 48``), plus dense
    ``n x n`` blocks; modelled as ``128 m k`` bytes, the slope of two measurements here (FMMC on
    ``complete(120)`` and ``complete(200)``, ``k = 60`` and ``96``: peak RSS 354 and 534 MB, i.e.
    ``121 m k`` bytes above a ~300 MB interpreter).
    """
    n, m = int(n), max(int(m), 1)
    dense = 8.0 * 16 * n * n
    if path == "ipm":
        return 2 * 8.0 * m * m + dense
    if path == "clarabel":
        N = n * (n + 1) / 2
        return 2 * 8.0 * N * N + dense
    if path == "scs":
        return dense + 64.0 * m
    from problems import _sdp_first_order as fo

    k = 2 * max(2, min(n // 4, fo.KMAX))
    # dense eigh (n x n blocks) only up to fo.DENSE_EIG_MAX nodes; beyond, sparse blocks of k vectors
    small = dense if n <= fo.DENSE_EIG_MAX else 8.0 * 8 * n * k
    return small + 128.0 * m * k


class SDPSizeError(SDPSolveError, MemoryError):
    """The chosen exact path would need more memory than the machine has (checked before solving)."""


#: A forced exact interior point predicted to take longer than this (seconds) is refused too.
EXACT_MAX_SECONDS = 3600.0


def check_size(kind: str, path: str, n: int, m: int) -> None:
    """Refuse a solve predicted to exhaust memory (or an exact IPM predicted to run for more than
    ``EXACT_MAX_SECONDS``), before allocating anything.

    Raises:
        SDPSizeError (a ``MemoryError``): naming the size, the prediction and the alternatives.
    """
    need = predicted_memory_bytes(path, n, m)
    have = available_memory_bytes()
    secs_ipm = predicted_ipm_cost(n, m)["seconds"]
    if path in ("ipm", "clarabel") and secs_ipm > EXACT_MAX_SECONDS:
        raise SDPSizeError(
            f"{kind.upper()} on a graph with {n} nodes and {m} edges: the exact {path!r} path is predicted to take about "
            f"{secs_ipm:.3g} s and {need / 1e9:.3g} GB (problems._sdp.predicted_ipm_cost / predicted_memory_bytes), past "
            f"{EXACT_MAX_SECONDS:g} s. Use solver='first_order' (certified gap; solver='auto' picks it), or a sparser graph"
        )
    if need > MEMORY_FRACTION * have:
        secs = predicted_ipm_cost(n, m)["seconds"] if path == "ipm" else None
        when = f", about {secs:.3g} s" if secs is not None else ""
        if path == "first_order":
            raise SDPSizeError(
                f"{kind.upper()} on a graph with {n} nodes and {m} edges: even the first-order path would need about "
                f"{need / 1e9:.3g} GB (predicted, problems._sdp.predicted_memory_bytes), more than {MEMORY_FRACTION:g} x "
                f"the {have / 1e9:.3g} GB available; use a sparser graph, or a local rule such as mixing.metropolis(g)"
            )
        raise SDPSizeError(
            f"{kind.upper()} on a graph with {n} nodes and {m} edges: the exact {path!r} path would need about "
            f"{need / 1e9:.3g} GB{when} (predicted, problems._sdp.predicted_memory_bytes), more than "
            f"{MEMORY_FRACTION:g} x the {have / 1e9:.3g} GB available. Use solver='first_order' (certified gap, "
            "O(n^2 + m) memory; solver='auto' picks it), or solver='scs' (first-order ADMM, slower), or a sparser graph"
        )


def choose_method(n: int, m: int) -> str:
    """What ``solver="auto"`` uses: ``"exact"`` while the predicted IPM time is at most
    ``AUTO_IPM_MAX_SECONDS``, else ``"first_order"``."""
    return "exact" if predicted_ipm_cost(n, m)["seconds"] <= AUTO_IPM_MAX_SECONDS else "first_order"


def _solve_first_order(kind, n, ei, ej, tol, t0, return_certificate, time_limit_s, progress=None):
    from problems import _sdp_first_order as fo

    w, s, lb, dual, _info = fo.solve_first_order(kind, n, ei, ej, tol=tol, time_limit_s=time_limit_s, progress=progress)
    W = _weights_to_W(n, ei, ej, w)
    if not return_certificate:
        return W
    cert = SDPCertificate(
        slem=s,
        lower_bound=lb,
        gap=s - lb,
        solver="first_order",
        solve_time_s=time.perf_counter() - t0,
        status="optimal" if s - lb <= tol else "optimal_inaccurate",
        method="first_order",
        dual=dual,
    )
    return W, cert


# ----------------------------------------------------------------------------
# public API
# ----------------------------------------------------------------------------


def _dispatch(kind, n, edges, solver, tol, return_certificate, time_limit_s=None, progress=None):
    t0 = time.perf_counter()
    if not isinstance(solver, str) or solver.lower() not in SOLVERS:
        raise SDPSolveError(f"unknown solver {solver!r}; choose one of {', '.join(repr(s) for s in SOLVERS)}")
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be a callable taking a dict (or None), got {type(progress).__name__}; pass print")
    if not (isinstance(tol, (int, float)) and 0 < tol < 1):
        raise ValueError(f"tol must be a float in (0, 1), got {tol!r}")
    n, ei, ej = _check_input(n, edges)
    solver = solver.lower()
    if n == 1:
        W = np.ones((1, 1))
        if return_certificate:
            return W, SDPCertificate(0.0, 0.0, 0.0, solver, time.perf_counter() - t0, "optimal")
        return W
    if time_limit_s is not None and not (isinstance(time_limit_s, (int, float)) and time_limit_s > 0):
        raise ValueError(f"time_limit_s must be a positive number of seconds or None, got {time_limit_s!r}")
    m = len(ei)
    auto_first_order = solver == "auto" and (
        choose_method(n, m) == "first_order"
        or predicted_memory_bytes("ipm", n, m) > MEMORY_FRACTION * available_memory_bytes()
    )
    if progress is not None:
        path = "first_order" if solver == "first_order" or auto_first_order else ("ipm" if solver == "auto" else solver)
        cost = predicted_ipm_cost(n, m)
        progress(dict(path=path, event="start", n=n, edges=m, predicted_bytes=predicted_memory_bytes(path, n, m),
                      predicted_ipm_seconds=cost["seconds"]))  # fmt: skip
    exact = not (solver == "first_order" or auto_first_order) and solver != "scs"
    predicted_s = predicted_ipm_cost(n, m)["seconds"]
    if progress is None and exact and SLOW_SOLVE_SECONDS < predicted_s <= EXACT_MAX_SECONDS:  # beyond: refused
        warnings.warn(
            f"{kind.upper()} on {n} nodes and {m} edges: the exact interior point is predicted to take about "
            f"{predicted_s:.0f} s (m^3 scaling from a measured reference; it can be several times longer); pass "
            "progress=print to follow it, or solver='first_order' for a certified first-order solve",
            UserWarning,
            stacklevel=4,
        )
    if solver == "first_order" or auto_first_order:
        check_size(kind, "first_order", n, m)
        return _solve_first_order(kind, n, ei, ej, tol, t0, return_certificate, time_limit_s, progress)
    if solver == "ipm":
        check_size(kind, "ipm", n, m)
        return _solve_ipm(kind, n, ei, ej, tol, t0, return_certificate, progress=progress)
    if solver in ("clarabel", "scs"):
        check_size(kind, solver, n, m)
        return _solve_cvxpy_sparse(kind, n, ei, ej, solver, tol, t0, return_certificate)
    # auto (small enough for the exact path): the structured IPM, then cvxpy + Clarabel, then cvxpy + SCS.
    errors = []
    for path in ("ipm", "clarabel", "scs"):
        try:
            if path == "ipm":
                check_size(kind, "ipm", n, m)
                return _solve_ipm(kind, n, ei, ej, tol, t0, return_certificate, progress=progress)
            check_size(kind, path, n, m)
            return _solve_cvxpy_sparse(kind, n, ei, ej, path, tol, t0, return_certificate)
        except SDPSolveError as exc:
            errors.append(f"{path}: {exc}")
    raise SDPSolveError("every SDP solver path failed: " + " | ".join(errors))


def solve_fmmc(
    n: int,
    edges: np.ndarray,
    *,
    solver: str = "auto",
    tol: float = 1e-8,
    return_certificate: bool = False,
    time_limit_s: float | None = None,
    progress=None,
):
    """Fastest mixing Markov chain weights (Boyd, Diaconis & Xiao, SIAM Review 2004).

    Solves ``min ||W - 11^T/n||_2`` over symmetric, nonnegative, stochastic ``W``
    supported on the graph, i.e. ``W = I - A diag(w) A^T`` with ``w >= 0`` and
    ``sum_{e∋i} w_e <= 1``.

    Args:
        n: number of nodes (labelled ``0..n-1``).
        edges: ``(m, 2)`` integer array of edges ``(i, j)`` with ``i < j``; the
            graph must be connected.
        solver: ``"auto"``, ``"ipm"``, ``"clarabel"``, ``"scs"`` or
            ``"first_order"``.  ``"auto"`` picks the method from the predicted
            cost (:func:`choose_method`): the exact structured interior point
            (falling back to cvxpy with Clarabel, then SCS) while its predicted
            time is at most ``AUTO_IPM_MAX_SECONDS`` (about 2,500 edges), else the
            first-order solver (:mod:`problems._sdp_first_order`).  The
            certificate's ``method`` and ``solver`` fields say which ran.
        tol: exact paths: relative duality gap ``(p - d) / (1 + |p| + |d|)``
            and primal/dual infeasibility (``ipm``, Clarabel); ``eps`` of SCS
            (at least 1e-7).  First-order path: the target certified gap
            ``slem - lower_bound``; if it is not reached the best answer is
            returned with status ``"optimal_inaccurate"``.  The certificate
            always reports the achieved, rigorous gap.
        return_certificate: also return an :class:`SDPCertificate`.
        time_limit_s: first-order path only: stop optimising after this many
            seconds and return the best certified point (``None``: no limit).
        progress: ``None`` or a callable receiving a dict: once at the start (the path, the size
            and the predicted memory and IPM time), then per interior-point iteration or per
            first-order stage (the current SLEM and lower bound).

    Returns:
        ``W`` (``(n, n)`` float64), or ``(W, certificate)``.  ``W`` is exactly
        symmetric, nonnegative, supported on the graph, with rows summing to 1.

    Raises:
        SDPSolveError: unknown or unavailable solver, solver failure, or a
            solver answer infeasible beyond tolerance.
        SDPSizeError: an exact path predicted (:func:`predicted_memory_bytes`) to need more
            than ``MEMORY_FRACTION`` of the available memory; refused before solving.
        ValueError: malformed or disconnected edge list.
    """
    return _dispatch("fmmc", n, edges, solver, tol, return_certificate, time_limit_s, progress)


def solve_fdla(
    n: int,
    edges: np.ndarray,
    *,
    solver: str = "auto",
    tol: float = 1e-8,
    return_certificate: bool = False,
    time_limit_s: float | None = None,
    progress=None,
):
    """Fastest distributed linear averaging weights (Xiao & Boyd, Systems & Control Letters 2004).

    Solves ``min ||W - 11^T/n||_2`` over symmetric ``W = I - A diag(w) A^T``
    (rows sum to one, support on the graph); weights and diagonal entries may be
    negative.  The optimum is never worse than the FMMC optimum.

    Args:
        n: number of nodes (labelled ``0..n-1``).
        edges: ``(m, 2)`` integer array of edges ``(i, j)`` with ``i < j``; the
            graph must be connected.
        solver: ``"auto"``, ``"ipm"``, ``"clarabel"``, ``"scs"`` or
            ``"first_order"`` (see :func:`solve_fmmc`).
        tol: see :func:`solve_fmmc` (for ``"first_order"``: the target certified gap).
        return_certificate: also return an :class:`SDPCertificate`.
        time_limit_s: see :func:`solve_fmmc`.

    Returns:
        ``W`` (``(n, n)`` float64), or ``(W, certificate)``.

    Raises:
        SDPSolveError: unknown or unavailable solver or solver failure.
        ValueError: malformed or disconnected edge list.
    """
    return _dispatch("fdla", n, edges, solver, tol, return_certificate, time_limit_s, progress)


def solve_fmmc_naive(n: int, edges: np.ndarray, *, solver: str = "CLARABEL", tol: float = 1e-8, return_certificate: bool = False, timing: dict | None = None):
    """FMMC through the dense textbook cvxpy model (benchmark baseline).

    Same contract as :func:`solve_fmmc`.  If ``timing`` is a dict it receives
    ``compile_s`` (cvxpy canonicalisation, ``Problem.compilation_time``),
    ``solver_s`` (time reported by the solver) and ``solve_call_s``.
    """
    return _solve_naive("fmmc", n, edges, solver, tol, return_certificate, timing)


def solve_fdla_naive(n: int, edges: np.ndarray, *, solver: str = "CLARABEL", tol: float = 1e-8, return_certificate: bool = False, timing: dict | None = None):
    """FDLA through the dense textbook cvxpy model (benchmark baseline); see :func:`solve_fmmc_naive`."""
    return _solve_naive("fdla", n, edges, solver, tol, return_certificate, timing)

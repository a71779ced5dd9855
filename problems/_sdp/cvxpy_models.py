"""cvxpy models of FMMC / FDLA: the sparse reformulation behind ``solver="clarabel"`` / ``"scs"``
(the upper LMI on the mean-free subspace through a BFS spanning tree's incidence vectors) and the
textbook dense model of ``solve_fmmc_naive`` / ``solve_fdla_naive``, kept as the benchmark
baseline (see :mod:`problems._sdp`)."""

from __future__ import annotations

import time
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order

from problems._sdp.checks import SDPSolveError, _check_input
from problems._sdp.certificates import SDPCertificate, _finish


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

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

``"ipm"`` (what ``"auto"`` uses while its predicted time is at most ``AUTO_IPM_MAX_SECONDS``)
    A primal-dual interior-point method written for this problem (HKM
    direction, Mehrotra predictor-corrector, dual-feasible iterates).  Every
    edge's coefficient matrix ``a_e a_e^T`` is rank one, so the Schur complement
    (Newton) matrix is ``(A^T X A) ∘ (A^T S^{-1} A)`` summed over the two LMI
    blocks, an ``m x m`` dense matrix formed by gathers in O(m^2) and factored
    by Cholesky: roughly O(n^3 + m^3) per iteration, 10-25 iterations, with no
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

``"first_order"`` (what ``"auto"`` uses past that, see ``choose_method``)
    Smoothed-SLEM L-BFGS with sparse block eigensolvers and a low-rank dual
    certificate; see :mod:`problems._sdp_first_order`.

Whatever the path, the returned matrix is rebuilt from ``w`` (so it is exactly
symmetric, supported on the graph, with unit row sums up to rounding), the
FMMC weights are projected onto the feasible set (tiny negative weights clipped

The package is split by responsibility (the public names are all re-exported here):

* :mod:`problems._sdp.checks`: the input checks, the weights-to-matrix map and the repair of a
  solver's weights onto the feasible set;
* :mod:`problems._sdp.certificates`: :class:`SDPCertificate` and the rigorous lower bounds built
  from a repaired dual point;
* :mod:`problems._sdp.ipm`: the structured primal-dual interior-point method;
* :mod:`problems._sdp.cvxpy_models`: the sparse and the textbook (naive) cvxpy models;
* :mod:`problems._sdp.size`: each path's predicted time and memory, the size guard, and the
  choice ``solver="auto"`` makes;
* this module: the dispatch over the paths (``solver=``) and the public solve functions.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from problems._sdp.checks import SDPSolveError, _check_input, _weights_to_W
from problems._sdp.certificates import SDPCertificate
from problems._sdp import size as _size
from problems._sdp.size import (
    EXACT_MAX_SECONDS,
    MEMORY_FRACTION,
    SLOW_SOLVE_SECONDS,
    check_size,
    choose_method,
    predicted_ipm_cost,
    predicted_memory_bytes,
)
from problems._sdp.size import (  # noqa: F401  (re-exported)
    AUTO_IPM_MAX_SECONDS, IPM_ITERATION_MODEL, IPM_SECONDS_M2, IPM_SECONDS_M3, IPM_SECONDS_N3, SDPSizeError,
    available_memory_bytes,
    predicted_ipm_iterations,
)
from problems._sdp.ipm import _solve_ipm
from problems._sdp.cvxpy_models import _solve_cvxpy_sparse, _solve_naive
from problems._sdp.certificates import dual_lower_bound  # noqa: F401  (re-exported)
from problems._sdp.checks import _repair_fmmc_weights  # noqa: F401  (used by tests through problems._sdp)


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
        choose_method(n, m, tol, kind) == "first_order"
        or predicted_memory_bytes("ipm", n, m) > MEMORY_FRACTION * _size.available_memory_bytes()
    )
    if progress is not None:
        path = "first_order" if solver == "first_order" or auto_first_order else ("ipm" if solver == "auto" else solver)
        cost = predicted_ipm_cost(n, m, tol, kind)
        progress(dict(path=path, event="start", n=n, edges=m, predicted_bytes=predicted_memory_bytes(path, n, m),
                      predicted_ipm_seconds=cost["seconds"]))  # fmt: skip
    exact = not (solver == "first_order" or auto_first_order) and solver != "scs"
    predicted_s = predicted_ipm_cost(n, m, tol, kind)["seconds"]
    if progress is None and exact and SLOW_SOLVE_SECONDS < predicted_s <= EXACT_MAX_SECONDS:  # beyond: refused
        warnings.warn(
            f"{kind.upper()} on {n} nodes and {m} edges: the exact interior point is predicted to take about "
            f"{predicted_s:.0f} s (a per-iteration model fitted to timed solves, problems._sdp.predicted_ipm_cost; it can be 2x longer); pass "
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
            time at ``tol`` is at most ``AUTO_IPM_MAX_SECONDS`` (about 1,350 geometric or
            1,900 4-regular nodes at ``tol=1e-8`` for FMMC, 1,550 and 2,150 for FDLA), else the
            first-order solver (:mod:`problems._sdp_first_order`).  The
            certificate's ``method`` and ``solver`` fields say which ran.
        tol: ``ipm``: it stops at the first iterate whose certified gap (checked once
            its own gap is within ``ipm.CERTIFY_WITHIN * tol``) is at most ``tol``, or
            whose duality gap ``p - d`` (absolute: both bounds of the SLEM lie in
            [0, 1]) and primal infeasibility are, so the certified gap is ``tol`` up
            to the final weight and dual repairs; Clarabel: its relative
            gap ``(p - d) / (1 + |p| + |d|)`` and infeasibility; ``eps`` of SCS
            (at least 1e-7).  First-order path: the target certified gap
            ``slem - lower_bound``; if it is not reached the best answer is
            returned with status ``"optimal_inaccurate"``.  The certificate
            always reports the achieved, rigorous gap.
        return_certificate: also return an :class:`SDPCertificate`.
        time_limit_s: first-order path only: stop optimising after this many
            seconds and return the best certified point (``None``: no limit).
        progress: ``None`` or a callable receiving a dict: once at the start (the path, the size
            and the predicted memory and IPM time), then per interior-point iteration or per
            first-order stage (the current SLEM and lower bound; for the interior point also
            ``certified_gap``, ``None`` until it is checked).

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

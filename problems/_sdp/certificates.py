"""Certificates of the FMMC / FDLA solves: rigorous lower bounds on the optimal SLEM.


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

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from problems._sdp.checks import SDPSolveError, _incidence, _laplacian, _mean_free, _quad, _repair_fmmc_weights, _slem, _weights_to_W


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


def _edge_gram_solve(n: int, ei: np.ndarray, ej: np.ndarray, r: np.ndarray) -> np.ndarray:
    """``c`` with ``G c = r`` for ``G = (A^T A) ∘ (A^T A)``, the FDLA projection's ``m x m`` Gram matrix
    (``r_e(L(c)) = (G c)_e``), through an ``n x n`` system.

    Two distinct edges of a simple graph share at most one node, so ``A^T A`` has 2 on its diagonal
    and ±1 where two edges meet: its entrywise square is ``2 I + |A|^T |A|`` (``|A|^T |A|`` has 2 on
    the diagonal and 1 where edges meet).  By the push-through identity
    ``(2 I + B^T B)^{-1} = (I - B^T (2 I + B B^T)^{-1} B) / 2`` with ``B = |A|`` and ``B B^T = D + Adj``
    (the signless Laplacian), ``c = (r - |A|^T (2 I + D + Adj)^{-1} |A| r) / 2``.  (A derivation of
    ours, checked against ``G`` from its definition in tests/problems/test_sdp.py.)  The sparse
    ``m x m`` LU of ``G`` used before filled in on dense graphs: 13.6-14.0 s on ``complete(110)``
    (m = 5,995) against 2-3 ms for this form (RESULTS.md 7h)."""
    _, B, Bt = _incidence(n, ei, ej)  # B = |A|
    K = (B @ Bt + 2.0 * sp.identity(n, format="csr")).tocsc()
    from scipy.sparse.linalg import spsolve

    u = spsolve(K, B @ r)
    return 0.5 * (r - Bt @ np.atleast_1d(u))


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
            # Project onto {r_e(Y) = 0}: Y - L(c) with G c = r, G = (A^T A) ∘ (A^T A).
            c = _edge_gram_solve(n, ei, ej, r)
            Y = Y - _laplacian(n, ei, ej, c)
            r = _quad(Y, ei, ej)  # the residual left is what the bound charges, however c was solved
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


def _repaired_W(kind, n, ei, ej, w, viol_limit, solver_name):
    """The mixing matrix of a solver's weights, FMMC weights projected onto their feasible set."""
    if kind == "fmmc":
        w, _ = _repair_fmmc_weights(n, ei, ej, w, viol_limit)
    else:
        w = np.asarray(w, dtype=float)
        if not np.all(np.isfinite(w)):
            raise SDPSolveError(f"solver {solver_name!r} returned non-finite weights; try solver='ipm' or solver='clarabel'")
    return _weights_to_W(n, ei, ej, w)


def _certify(kind, n, ei, ej, w, Y, z, viol_limit, solver_name="ipm"):
    """``(W, slem, lower_bound)``: the repaired mixing matrix, its SLEM and the rigorous lower bound
    from ``Y``, what :func:`_finish` reports (the interior point also calls it, to stop on the
    certified gap)."""
    W = _repaired_W(kind, n, ei, ej, w, viol_limit, solver_name)
    s = _slem(W)
    lb = dual_lower_bound(n, np.stack([ei, ej], axis=1), Y, nonnegative=(kind == "fmmc"), z=z) if Y is not None else 0.0
    return W, s, min(lb, s)  # a valid lower bound never exceeds an achieved value


def _finish(kind, n, ei, ej, w, Y, z, solver_name, status, t0, viol_limit, return_certificate, certified=None):
    """The answer: ``W``, and its :class:`SDPCertificate` if asked.  ``certified``: what
    :func:`_certify` returned for these ``w``, ``Y`` and ``z`` when the solver computed it already."""
    if certified is None:
        if not return_certificate:
            return _repaired_W(kind, n, ei, ej, w, viol_limit, solver_name)
        certified = _certify(kind, n, ei, ej, w, Y, z, viol_limit, solver_name)
    W, s, lb = certified
    if not return_certificate:
        return W
    cert = SDPCertificate(
        slem=s,
        lower_bound=lb,
        gap=s - lb,
        solver=solver_name,
        solve_time_s=time.perf_counter() - t0,
        status=status,
    )
    return W, cert

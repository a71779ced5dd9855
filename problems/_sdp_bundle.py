"""Cluster-model trust-region polish of FMMC / FDLA weights (a spectral-bundle-type method).

The smoothed first-order solver (:mod:`problems._sdp_first_order`) gets within 1e-3 to 5e-2 of the
optimal SLEM on 1,000-node graphs in its budget and then stalls: at the optimum the extreme
eigenvalues of ``W - J`` form clusters (ten eigenvalues within 1e-9 of the SLEM on a random
4-regular graph at n = 1000), and a smooth surrogate of a clustered maximum converges slowly.
This module minimises the SLEM itself with a model that keeps the clusters exactly.

Model.  With ``Q_+`` (n x k_+) and ``Q_-`` orthonormal, centred bases (so ``Q^T J Q = 0``),
``W(w) = I - sum_e w_e a_e a_e^T`` and ``b_e = Q^T a_e`` (= row ``i`` minus row ``j`` of ``Q``),

    model(w) = max( lambda_max(I - sum_e w_e b+_e b+_e^T),  lambda_max(-(I - sum_e w_e b-_e b-_e^T)) )

is a lower model of the SLEM (Cauchy interlacing: ``lambda_max(Q^T M Q) <= lambda_max(M)``), exact
at any point whose extreme eigenvectors lie in the span of the bases. Each iteration minimises it
over the feasible weights (FMMC: ``w >= 0``, ``sum_{e∋i} w_e <= 1``; FDLA: free) inside a box
``|w - w_c| <= delta`` around the centre: a small SDP with two k x k linear matrix inequalities in
``m + 1`` variables, solved by Clarabel through its own API (no modelling layer; the cvxpy version
of the same subproblem took 8-30 s per iteration at n = 1000).

Steps.  The true SLEM is evaluated at the subproblem's solution. A *serious* step (actual decrease
at least ``SERIOUS`` times the model's predicted decrease) moves the centre and may enlarge the box;
a *null* step keeps the centre and halves the box. Either way the new point's extreme eigenvectors
enter the bases next to the centre's (the bundle), so the model improves where it was wrong. This
is our construction (a proximal-bundle / trust-region hybrid in the spirit of Helmberg & Rendl's
spectral bundle method); its constants are ours, chosen by trial on the benchmark graphs. The
result is not certified here: the caller certifies the returned weights with the low-rank dual of
:mod:`problems._sdp_first_order`.
"""

from __future__ import annotations

import math
import time

import numpy as np
import scipy.sparse as sp

__all__ = ["polish", "restricted_dual"]

#: Serious-step test: actual decrease >= SERIOUS x predicted decrease.
SERIOUS = 0.1
#: Vectors per end kept from the centre and from the trial point (the bases have at most twice this).
KEEP = 6
#: Largest basis per end (each LMI is KBASIS x KBASIS, with m KBASIS(KBASIS+1)/2 coefficients).
KBASIS = 12
#: An end of the spectrum whose extreme is more than this below the SLEM (at the centre and at the
#: trial point) is left out of the model: on geometric graphs ``-lambda_n`` is far below ``lambda_2``
#: and its LMI would double the subproblem's size for nothing.
ENDS_WINDOW = 0.05
#: Initial box half-width and its limits.
DELTA0, DELTA_MIN, DELTA_MAX = 1e-2, 1e-9, 0.5
_SQ2 = math.sqrt(2.0)


def _svec_map(B):
    """``(m, k(k+1)/2)``: row ``e`` is Clarabel's scaled upper-triangle vector of ``b_e b_e^T``
    (column-major upper triangle, off-diagonal entries times sqrt 2)."""
    k = B.shape[1]
    rows, cols = [], []
    for j in range(k):
        for i in range(j + 1):
            rows.append(i)
            cols.append(j)
    rows, cols = np.array(rows), np.array(cols)
    scale = np.where(rows == cols, 1.0, _SQ2)
    return B[:, rows] * B[:, cols] * scale, scale


def _near(extreme, slem):
    """Is an end of the spectrum (its extreme ``lambda_2`` or ``-lambda_n``) within ``ENDS_WINDOW`` of the SLEM?"""
    return bool(extreme >= slem - ENDS_WINDOW)


def _smat(v, k):
    """The symmetric k x k matrix of Clarabel's scaled upper-triangle vector ``v``."""
    S = np.zeros((k, k))
    pos = 0
    for j in range(k):
        for i in range(j + 1):
            S[i, j] = S[j, i] = v[pos] if i == j else v[pos] / _SQ2
            pos += 1
    return S


def restricted_dual(n, ei, ej, Qt, Qb, wc, kind):
    """The dual matrices ``(S_t, S_b)`` of the cluster model minimised over *all* feasible weights
    (box far outside the feasible set), i.e. the best dual point ``Y = Q_t S_t Q_t^T - Q_b S_b Q_b^T``
    with ``tr S_t + tr S_b = 1`` on these bases (Helmberg-Rendl's restricted dual); None on failure."""
    m = len(ei)
    inc = sp.csc_matrix((np.ones(2 * m), (np.r_[ei, ej], np.r_[np.arange(m), np.arange(m)])), shape=(n, m))
    out = _subproblem(n, ei, ej, Qt, Qb, wc, 1.0 if kind == "fmmc" else 10.0, kind == "fmmc", inc)
    return None if out is None else out[2]


def _orth(V, tol=1e-8):
    """Orthonormal basis of the centred columns of ``V`` (numerically dependent columns dropped)."""
    V = V - V.mean(axis=0, keepdims=True)
    Q, R = np.linalg.qr(V)
    d = np.abs(np.diag(R))
    keep = d > tol * max(1.0, d.max(initial=0.0))
    Q = Q[:, keep]
    return Q - Q.mean(axis=0, keepdims=True)


def _subproblem(n, ei, ej, Qt, Qb, wc, delta, fmmc, inc):
    """Minimise the cluster model inside the box; returns ``(w, t)`` or None if Clarabel fails."""
    import clarabel

    m = len(ei)
    blocks_A, blocks_b, cones = [], [], []
    for Q, sign in ((Qt, 1.0), (Qb, -1.0)):
        k = Q.shape[1]
        if k == 0:
            continue
        G, scale = _svec_map(Q[ei] - Q[ej])
        eye = np.where(scale == 1.0, 1.0, 0.0)
        # top (sign +1): t I - I + sum w G >= 0  ->  s = b - A x, b = -svec I, A = [-G^T, -svec I]
        # bottom (-1):   t I + I - sum w G >= 0  ->  b = svec I,  A = [ G^T, -svec I]
        A = np.hstack([(-sign) * G.T, -eye[:, None]])
        blocks_A.append(sp.csc_matrix(A))
        blocks_b.append(-sign * eye)
        cones.append(clarabel.PSDTriangleConeT(k))
    lo = wc - delta
    hi = wc + delta
    if fmmc:
        lo = np.maximum(lo, 0.0)
        hi = np.minimum(hi, 1.0)
    I = sp.identity(m, format="csc")
    z1 = sp.csc_matrix((m, 1))
    # box: lo <= w <= hi (s = w - lo >= 0, s = hi - w >= 0)
    blocks_A += [sp.hstack([-I, z1]), sp.hstack([I, z1])]
    blocks_b += [-lo, hi]
    nonneg = 2 * m
    if fmmc:
        blocks_A.append(sp.hstack([inc, sp.csc_matrix((n, 1))]))
        blocks_b.append(np.ones(n))
        nonneg += n
    A = sp.vstack(blocks_A[len(cones):] + blocks_A[: len(cones)], format="csc")
    b = np.concatenate(blocks_b[len(cones):] + blocks_b[: len(cones)])
    cones = [clarabel.NonnegativeConeT(nonneg)] + cones
    P = sp.csc_matrix((m + 1, m + 1))
    q = np.zeros(m + 1)
    q[-1] = 1.0
    settings = clarabel.DefaultSettings()
    settings.verbose = bool(int(__import__("os").environ.get("CLV", "0")))
    settings.tol_gap_abs = settings.tol_gap_rel = 1e-10
    settings.tol_feas = 1e-10
    sol = clarabel.DefaultSolver(P, q, A, b, cones, settings).solve()
    if str(sol.status) not in ("Solved", "AlmostSolved"):
        return None
    x = np.asarray(sol.x)
    z = np.asarray(sol.z)
    # the PSD cones' dual matrices (svec order as above), for the certificate
    duals, off = [], nonneg
    for Q in (Qt, Qb):
        k = Q.shape[1]
        if k == 0:
            duals.append(np.zeros((0, 0)))
            continue
        size = k * (k + 1) // 2
        duals.append(_smat(z[off : off + size], k))
        off += size
    return x[:m], float(x[-1]), duals


def polish(kind, n, ei, ej, w0, spectrum, *, time_limit_s=20.0, tol=1e-7, max_iter=200, progress=None):
    """Trust-region cluster-model descent on the SLEM from the feasible weights ``w0``.

    Args:
        kind: ``"fmmc"`` or ``"fdla"``.
        n, ei, ej: the graph (edge endpoints).
        w0: feasible starting weights (m,).
        spectrum: ``spectrum(w, k) -> (lam_top, V_top, lam_bot, V_bot)``: the ``k`` largest eigenvalues
            of ``W(w) - J`` on ``1^⊥`` (descending) and the ``k`` smallest (ascending), with eigenvectors.
        time_limit_s: stop after this many seconds (the current centre is returned).
        tol: stop once the model's predicted decrease is below ``tol``.

    Returns:
        ``(w, slem, info)``: the best (centre) weights, their SLEM, and a diagnostics dict.
    """
    t0 = time.perf_counter()
    fmmc = kind == "fmmc"
    m = len(ei)
    inc = sp.csc_matrix((np.ones(2 * m), (np.r_[ei, ej], np.r_[np.arange(m), np.arange(m)])), shape=(n, m))
    wc = np.asarray(w0, dtype=float).copy()
    lt, Vt, lb, Vb = spectrum(wc, KEEP)
    fc = max(lt[0], -lb[0])
    none = np.zeros((n, 0))
    Qt = _orth(Vt) if _near(lt[0], fc) else none
    Qb = _orth(Vb) if _near(-lb[0], fc) else none
    delta = DELTA0
    hist = []
    status = "iteration limit"
    for it in range(max_iter):
        if time.perf_counter() - t0 > time_limit_s:
            status = "time limit"
            break
        out = _subproblem(n, ei, ej, Qt, Qb, wc, delta, fmmc, inc)
        if out is None:
            status = "subproblem failed"
            break
        w, t, _ = out
        if fmmc:
            w = np.clip(w, 0.0, None)
            deg = np.bincount(ei, weights=w, minlength=n) + np.bincount(ej, weights=w, minlength=n)
            s = np.maximum(deg, 1.0)
            w = w / np.maximum(s[ei], s[ej])  # exact feasibility after the solver's tolerance
        pred = fc - t
        if pred <= tol:
            status = "converged"
            hist.append(dict(it=it, slem=fc, pred=pred, delta=delta, serious=False, k=(Qt.shape[1], Qb.shape[1])))
            break
        lt2, Vt2, lb2, Vb2 = spectrum(w, KEEP)
        f = max(lt2[0], -lb2[0])
        serious = fc - f >= SERIOUS * pred
        if serious:
            if fc - f >= 0.7 * pred and np.max(np.abs(w - wc)) > 0.9 * delta:
                delta = min(DELTA_MAX, 2.0 * delta)
            wc, fc, lt, Vt, lb, Vb = w, f, lt2, Vt2, lb2, Vb2
        else:
            delta = max(DELTA_MIN, 0.5 * delta)
        # the bundle: the centre's extreme vectors first, then the trial point's, then the old basis
        # an end far below the SLEM at both points is left out of the model (still a lower model;
        # a trial that makes it the maximum is a null step, and the end is back in the next model)
        top = _near(lt[0], fc) or _near(lt2[0], f)
        bot = _near(-lb[0], fc) or _near(-lb2[0], f)
        Qt = _orth(np.hstack([Vt, Vt2, Qt]))[:, :KBASIS] if top else none
        Qb = _orth(np.hstack([Vb, Vb2, Qb]))[:, :KBASIS] if bot else none
        hist.append(dict(it=it, slem=fc, trial=f, pred=pred, delta=delta, serious=bool(serious), k=(Qt.shape[1], Qb.shape[1]),
                         time_s=time.perf_counter() - t0))  # fmt: skip
        if progress is not None:
            progress(hist[-1])
    # the final bases: the centre's extreme vectors first
    Qt = _orth(np.hstack([Vt, Qt]))[:, :KBASIS] if _near(lt[0], fc) else none
    Qb = _orth(np.hstack([Vb, Qb]))[:, :KBASIS] if _near(-lb[0], fc) else none
    return wc, float(fc), dict(status=status, iterations=len(hist), history=hist, time_s=time.perf_counter() - t0,
                               bases=(Qt, Qb))  # fmt: skip

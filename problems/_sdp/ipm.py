"""The structured primal-dual interior-point method for FMMC / FDLA (``solver="ipm"``).

HKM direction, Mehrotra predictor-corrector, dual-feasible iterates. Every edge's coefficient
matrix ``a_e a_e^T`` is rank one, so the Schur complement (Newton) matrix is
``(A^T X A) ∘ (A^T S^{-1} A)`` summed over the two LMI blocks: an ``m x m`` dense matrix formed by
gathers in O(m^2) and factored by Cholesky (see :mod:`problems._sdp`)."""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from problems._sdp.checks import SDPSolveError, _incidence, _laplacian, _quad, _slem, _weights_to_W
from problems._sdp.certificates import _certify, _finish


class _IPMFailure(Exception):
    pass


def _max_step_psd(Xchol_L, dX) -> float:
    """Largest ``a`` with ``X + a dX ⪰ 0`` given the lower Cholesky factor ``L`` of ``X``: ``-1 /
    lambda_min(L^-1 dX L^-T)``.  LAPACK ``sygst`` forms the reduced matrix from ``L`` in one pass
    (49 ms at n = 1,000 with the eigenvalue, against 64 ms for two triangular solves; RESULTS.md 7e)."""
    # dX is symmetric: its transpose is a Fortran-ordered view of the same matrix; sygst reads and
    # writes the lower triangle of a copy.
    dXf = dX.T if dX.flags.c_contiguous else dX
    T, info = _dsygst(dXf, Xchol_L, itype=1, lower=1, overwrite_a=0)
    if info != 0:
        raise np.linalg.LinAlgError(f"sygst failed (info={info})")
    lam = sla.eigh(T, eigvals_only=True, subset_by_index=[0, 0], driver="evr", lower=True, check_finite=False)[0]
    return np.inf if lam >= 0 else -1.0 / lam


#: Try one Cholesky factor of ``X + cap dX`` before the step-length eigenvalue (False: always the
#: eigenvalue, as before 2026-12-07; for benchmarks).
STEP_CHOLESKY_TEST = True


def _max_step_psd_capped(X, Xchol_L, dX, cap: float) -> float:
    """:func:`_max_step_psd`, or ``inf`` when ``X + cap dX`` is positive definite (any step above
    ``cap`` is clipped to it by the caller): one Cholesky attempt first, about 6 ms against 51 ms
    for ``sygst`` + ``eigh`` at n = 1,000 (RESULTS.md 7g).  The interior point's full steps
    (``ad = 1`` in most late iterations) then skip the eigenvalue."""
    if not STEP_CHOLESKY_TEST:
        return _max_step_psd(Xchol_L, dX)
    T = X + cap * dX
    _, info = _dpotrf(T.T if T.flags.c_contiguous else T, lower=1, clean=0, overwrite_a=1)
    if info == 0:
        return np.inf
    return _max_step_psd(Xchol_L, dX)


def _max_step_lp(x, dx) -> float:
    neg = dx < 0
    if not np.any(neg):
        return np.inf
    return float(np.min(-x[neg] / dx[neg]))


# Dense linear algebra in the iteration goes through SciPy's BLAS and LAPACK only.  NumPy's wheel
# bundles its own OpenBLAS, and each library keeps its own thread pool whose threads spin for a
# while after a call: alternating the two on this 2-core machine made a mix of Cholesky factors,
# triangular solves, products and eigenvalue calls 2.3-2.8x slower than the same calls in one
# library (n = 500 and 1,000; 7x at n = 200), measured in RESULTS.md section 7e.
_dgemm = sla.blas.dgemm
_dgemv = sla.blas.dgemv
_ddot = sla.blas.ddot
_dpotrf = sla.lapack.dpotrf
_dsygst = sla.lapack.dsygst


def _mm(A, B):
    """``A @ B`` by SciPy's ``dgemm``: for C-ordered operands, ``(B^T A^T)^T`` needs no copies."""
    return _dgemm(1.0, B.T, A.T).T


def _inner(A, B) -> float:
    """``<A, B> = sum A_ij B_ij`` for two arrays of one shape and one memory order."""
    if not ((A.flags.c_contiguous and B.flags.c_contiguous) or (A.flags.f_contiguous and B.flags.f_contiguous)):
        A, B = np.ascontiguousarray(A), np.ascontiguousarray(B)
    return float(_ddot(A.ravel(order="K"), B.ravel(order="K")))


def _chol(M):
    """Lower Cholesky factor of the symmetric ``M`` (Fortran-ordered), by SciPy's ``potrf``."""
    L, info = _dpotrf(M.T if M.flags.c_contiguous else M, lower=1, clean=1, overwrite_a=0)
    if info != 0:
        raise np.linalg.LinAlgError(f"potrf failed (info={info}): the matrix is not positive definite")
    return L


def _inv_from_chol(L):
    """``(L L^T)^{-1}`` from the lower Cholesky factor (LAPACK ``potri``, about a third of the cost of
    solving against the identity); symmetric to the last bit, C-ordered."""
    inv, info = sla.lapack.dpotri(L, lower=1, overwrite_c=False)
    if info != 0:
        raise np.linalg.LinAlgError(f"potri failed (info={info})")
    lower = np.tril(inv)  # Fortran-ordered like ``inv``
    out = np.ascontiguousarray(lower)
    out += np.triu(lower.T, 1)
    return out


#: Edge count from which the Newton edge block is formed by one fused, jitted float64 XLA kernel
#: instead of sparse-dense SciPy products.  The kernel gathers ``K[ei] - K[ej]`` (``m x n``) for the
#: four ``n x n`` matrices and writes the ``m x m`` block in one pass, with no ``m x m``
#: intermediates.  Measured (RESULTS.md section 7e, ``benchmarks/sdp_auto.py --newton-block``):
#: 3.2-5.4x faster per call from m = 892 to 6,468 (11 ms saved at m = 892, 0.89 s at 6,468), but
#: it compiles once per shape, 0.11-0.29 s.  A solve takes 10-25 iterations, so the kernel pays
#: for its compilation from about 1,000 edges (our threshold; at 892 the two are even).
XLA_NEWTON_MIN_EDGES = 1000

_XLA_EDGE_BLOCK: dict = {}

#: Relative residual ``|rhs - M dy| / |rhs|`` of a Newton solve above which one step of iterative
#: refinement is taken (our choice).  Early iterations solve to 1e-16-1e-13; the step matters late
#: in a tight solve (1e-12-1e-11 there, reduced about 3x by it) and after a regularised factor.
REFINE_RTOL = 1e-12


#: The iterate's own gap ``s - lb`` (``lb = <P, X1 - X2> - 1^T x4``) overstates the certified one: the
#: certificate divides by ``||X1 - X2||_*``, below ``tr X1 + tr X2 = 1`` where the two multipliers
#: overlap, and re-optimises ``z``.  On geometric n = 1,000 at tol 1e-4 (RESULTS.md 7g) the certified
#: gap was 0.24-0.31 of ``s - lb`` for FDLA and 0.35-0.58 for FMMC over the last iterations, so
#: certifying the iterate stops one iteration earlier.  The certificate (a dense ``eigvalsh``, the
#: dual repair, for FMMC an LP) costs 0.13-0.22 s there against 1.9-2.3 s per iteration; it is
#: computed once ``s - lb <= CERTIFY_WITHIN * tol`` (our choice).  0 turns the check off.
CERTIFY_WITHIN = 10.0

#: FMMC only: the ``lambda_n`` block ``S2 = s I + (W - J) ⪰ 0`` leaves the model (its multiplier set to 0)
#: at the first iteration where ``tr X2 <= DROP_BLOCK_TRACE * (tr X1 + tr X2)``; 0 keeps it always.  On
#: geometric graphs FMMC's optimum has ``-lambda_n`` far below ``lambda_2`` (0.86 against 0.993 at
#: n = 1,000; RESULTS.md 7k): the block is inactive, and the share falls below 1e-2 at the fourth to
#: sixth iteration (n = 30-1,000).  Without the block an iteration forms half the Newton edge block and
#: skips the block's factors, inverses and products (RESULTS.md 7l).  ``S2`` still bounds every dual
#: step, so the iterates stay feasible for the full problem and ``Y = X1`` is a dual point of it (the
#: certificate does not change); if ``S2`` is what limits a step, the block comes back for good with
#: the centred ``X2 = mu S2^{-1}``.  FDLA keeps both blocks: without ``S2`` its dual is unbounded below
#: (weights of either sign), so the block is active at every FDLA optimum.  The rule and the threshold
#: are ours.
DROP_BLOCK_TRACE = 1e-2

#: Largest FMMC weight infeasibility the final repair accepts (the iterates are strictly feasible).
_VIOL_LIMIT = 1e-6


def _newton_edge_block_numpy(n, ei, ej, At, absA, absAt, X1, S1i, X2, S2i, d3, d4, out):
    """The ``m x m`` edge block of the Newton matrix, written into ``out`` (SciPy sparse products)."""

    def AKA(K):
        # A^T K A for symmetric K via two sparse-dense products (2 nonzeros per edge).
        return At @ np.ascontiguousarray((At @ K).T)

    m = len(ei)
    np.multiply(AKA(X1), AKA(S1i), out=out)
    if X2 is not None:  # the lambda_n block is in the model
        H = AKA(X2)
        H *= AKA(S2i)
        out += H
        del H
    if d3 is not None:
        out[np.diag_indices(m)] += d3
        Bt = (absAt @ sp.diags(d4) @ absA).tocoo()
        out[Bt.row, Bt.col] += Bt.data
    return out


def _xla_edge_block_kernel(nonneg: bool, two: bool = True):
    fn = _XLA_EDGE_BLOCK.get((nonneg, two))
    if fn is not None:
        return fn
    import jax
    import jax.numpy as jnp

    def block(ei, ej, X1, S1i, X2, S2i, d3, d4):
        def aka(K):
            G = K[ei] - K[ej]  # rows a_e^T K, m x n
            return G[:, ei] - G[:, ej]  # (A^T K A)_{ef}

        M = aka(X1) * aka(S1i)
        if two:
            M = M + aka(X2) * aka(S2i)
        if nonneg:
            # |A|^T diag(d4) |A| has entry sum of d4 over the nodes edges e and f share.
            a, b = ei[:, None], ej[:, None]
            c, e = ei[None, :], ej[None, :]
            da, db = d4[ei][:, None], d4[ej][:, None]
            zero = jnp.zeros((), M.dtype)
            M = M + jnp.where(a == c, da, zero) + jnp.where(a == e, da, zero)
            M = M + jnp.where(b == c, db, zero) + jnp.where(b == e, db, zero)
            M = M + jnp.diag(d3)
        return M

    fn = _XLA_EDGE_BLOCK[(nonneg, two)] = jax.jit(block)
    return fn


def _newton_edge_block_xla(n, ei, ej, X1, S1i, X2, S2i, d3, d4):
    """The same block as :func:`_newton_edge_block_numpy`, from one fused float64 XLA kernel."""
    import jax

    nonneg = d3 is not None
    two = X2 is not None
    with jax.enable_x64(True):
        fn = _xla_edge_block_kernel(nonneg, two)
        if not nonneg:
            d3 = d4 = np.zeros(1)
        if not two:  # the kernel ignores them
            X2 = S2i = np.zeros((1, 1))
        out = fn(ei.astype(np.int32), ej.astype(np.int32), X1, S1i, X2, S2i, d3, d4)
        return np.asarray(out)


def _newton_edge_block(n, ei, ej, At, absA, absAt, X1, S1i, X2, S2i, d3, d4, out=None):
    """``(A^T X1 A) ∘ (A^T S1^-1 A) + (A^T X2 A) ∘ (A^T S2^-1 A)`` plus, for FMMC,
    ``diag(d3) + |A|^T diag(d4) |A|``: the edge block of the Newton matrix (without the ``X2`` term
    when ``X2`` is ``None``: the ``lambda_n`` block left the model, see :data:`DROP_BLOCK_TRACE`)."""
    m = len(ei)
    if m >= XLA_NEWTON_MIN_EDGES:
        return _newton_edge_block_xla(n, ei, ej, X1, S1i, X2, S2i, d3, d4)
    if out is None:
        out = np.empty((m, m))
    return _newton_edge_block_numpy(n, ei, ej, At, absA, absAt, X1, S1i, X2, S2i, d3, d4, out)


def _ipm(n, ei, ej, nonneg: bool, tol: float, max_iter: int = 80, history: list | None = None, progress=None,
         certified: list | None = None):
    """Primal-dual interior point (HKM direction, Mehrotra predictor-corrector).

    Stops at the first iterate whose certificate (:func:`problems._sdp.certificates._certify`,
    checked once ``s - lb <= CERTIFY_WITHIN * tol``) has gap at most ``tol``, or whose own gap
    ``s - lb`` and primal infeasibility are both at most ``tol``.  When the last iterate was certified,
    its ``(W, slem, lower_bound)`` is appended to ``certified`` (if given), for :func:`_finish`.

    Written in SDPT3's dual form  ``max b^T y  s.t.  C - Σ y_k A_k = S ⪰ 0`` with
    ``y = (w, s)``, ``b = (0, -1)`` and blocks
    ``S1 = s I + L(w) - P``, ``S2 = s I - L(w) + P`` (``P = I - J``) and, for FMMC,
    ``S3 = w``, ``S4 = 1 - |A| w``.  Iterates keep ``S`` exactly equal to
    ``C - A^T y`` (dual feasible, starting from lazy Metropolis weights); the
    multipliers ``X = (X1, X2, x3, x4)`` may be infeasible and converge.  For FMMC the
    ``lambda_n`` block may leave the model mid-solve and come back (:data:`DROP_BLOCK_TRACE`);
    ``history`` records ``blocks`` (2 or 1) and ``trace_share_x2`` per iteration.

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
    At, absA, absAt = _incidence(n, ei, ej)
    if not nonneg:
        absA = absAt = None

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
    S1i = _inv_from_chol(_chol(S1))
    S2i = _inv_from_chol(_chol(S2))
    mu0 = 1.0 / (np.trace(S1i) + np.trace(S2i))
    X1, X2 = mu0 * S1i, mu0 * S2i
    X1 = 0.5 * (X1 + X1.T)
    X2 = 0.5 * (X2 + X2.T)
    if nonneg:
        x3, x4 = mu0 / s3, mu0 / s4
    # ``two``: the lambda_n block (X2, S2) is in the model.  Once tr X2 is a small share of the
    # multipliers' trace it leaves (X2 = 0); S2 stays PD through the dual step lengths, and the block
    # comes back, with the centred X2 = mu S2^{-1}, at the first step S2 limits (DROP_BLOCK_TRACE).
    two, readded_at = True, None

    def nu_of(two):
        return (2 if two else 1) * n + ((m + n) if nonneg else 0)

    status = "max_iter"
    it = 0
    diag = np.diag_indices(n)

    def calA(K1, K2, k3, k4):
        """𝒜(K): the edge part and the s part (``K2 = None``: the lambda_n block is out)."""
        ge = -_quad(K1, ei, ej)
        gs = -np.trace(K1)
        if K2 is not None:
            ge = ge + _quad(K2, ei, ej)
            gs = gs - np.trace(K2)
        if nonneg:
            ge = ge - k3 + absAt @ k4
        return ge, gs

    Y = X1 - X2  # the dual matrix returned, re-formed each iteration
    best_merit, best_it, best = np.inf, 0, None
    Fbuf = np.empty((m + 1, m + 1), order="F")  # the factored Newton matrix, overwritten each iteration
    for it in range(1, max_iter + 1):
        # --- leave out the lambda_n block once its multiplier has all but vanished --------------------
        share2 = 0.0
        if two:
            t1, t2 = np.trace(X1), np.trace(X2)
            share2 = float(t2 / (t1 + t2))
            if nonneg and readded_at is None and share2 <= DROP_BLOCK_TRACE:
                two, X2 = False, None
        nu = nu_of(two)
        # --- residuals and gap -------------------------------------------
        ge, gs = calA(X1, X2, x3 if nonneg else None, x4 if nonneg else None)
        Rp_e = -ge
        Rp_s = -1.0 - gs
        gap_xs = _inner(X1, S1) + (_inner(X2, S2) if two else 0.0)
        if nonneg:
            gap_xs += _ddot(x3, s3) + _ddot(x4, s4)
        mu = gap_xs / nu
        Y = X1 - X2 if two else X1
        lb = _inner(P, Y) - (float(x4.sum()) if nonneg else 0.0)
        pinf = max(np.abs(Rp_e).max(initial=0.0), abs(Rp_s))
        relgap = (s - lb) / (1.0 + abs(s) + abs(lb))
        # Stop on the certified gap (near the end) or on the absolute gap s - lb (both bounds of the
        # SLEM lie in [0, 1]), so that ``tol`` is the gap the certificate reports, up to the final
        # weight and dual repairs.
        merit = max(s - lb, pinf)
        got = cgap = None
        if s - lb <= CERTIFY_WITHIN * tol:
            got = _certify("fmmc" if nonneg else "fdla", n, ei, ej, w, Y, x4 if nonneg else None, _VIOL_LIMIT)
            cgap = got[1] - got[2]
        if history is not None:
            history.append(dict(it=it, s=float(s), lb=lb, relgap=float(relgap), pinf=float(pinf), mu=float(mu),
                                certified_gap=cgap, w=w.copy(), blocks=2 if two else 1,
                                trace_share_x2=share2))
            if nonneg:  # the LP pairs (w, x3) and (s4, x4), for strict-complementarity diagnostics
                history[-1].update(x3=x3.copy(), s4=s4.copy(), x4=x4.copy())
        if progress is not None:
            progress(dict(path="ipm", iteration=it, slem=float(s), lower_bound=lb, relgap=float(relgap), pinf=float(pinf),
                          certified_gap=cgap))
        if merit < best_merit:
            best_merit, best_it = merit, it
            best = (w, s, Y, x4 if nonneg else None)
        if (cgap is not None and cgap <= tol) or (s - lb <= tol and pinf <= tol):
            if got is not None and certified is not None:
                certified.append(got)
            status = "optimal"
            break
        if it - best_it >= 4:
            # No progress for several iterations: rounding has taken over.
            status = "stalled"
            break

        # --- Schur complement ----------------------------------------------
        try:
            LX1 = _chol(X1)
            LX2 = _chol(X2) if two else None
            LS1 = _chol(S1)
            LS2 = _chol(S2)
            S1i = _inv_from_chol(LS1)
            S2i = _inv_from_chol(LS2) if two else None
        except (np.linalg.LinAlgError, sla.LinAlgError):
            status = "numerical (Cholesky of an iterate)"
            break

        Mw = _newton_edge_block(
            n, ei, ej, At, absA, absAt if nonneg else None, X1, S1i, X2, S2i,
            x3 / s3 if nonneg else None, x4 / s4 if nonneg else None,
        )
        XS1 = _mm(X1, S1i)
        XS1 = 0.5 * (XS1 + XS1.T)
        mws = _quad(XS1, ei, ej)
        mss = np.trace(XS1)
        if two:
            XS2 = _mm(X2, S2i)
            XS2 = 0.5 * (XS2 + XS2.T)
            mws = mws - _quad(XS2, ei, ej)
            mss = mss + np.trace(XS2)

        def M_times(v):
            out = np.empty(m + 1)
            # Mw is C-ordered: Mw.T is its Fortran-ordered view, and gemv with trans=1 gives Mw v.
            out[:m] = _dgemv(1.0, Mw.T, v[:m], trans=1) + mws * v[m]
            out[m] = _ddot(mws, v[:m]) + mss * v[m]
            return out

        def factor(shift):
            # The full (m+1) x (m+1) matrix in Fortran order: Mw is symmetric, so Mw.T (a Fortran-
            # ordered view) is copied as a stream, and LAPACK factors it in place.
            # One buffer for the whole solve: a fresh (m+1)^2 array each iteration costs its page
            # faults again (0.2 s per iteration at m = 6,468).
            F = Fbuf
            F[:m, :m] = Mw.T
            F[:m, m] = mws
            F[m, :m] = mws
            F[m, m] = mss
            if shift:
                F[np.diag_indices(m + 1)] += shift
            return sla.cho_factor(F, lower=False, overwrite_a=True, check_finite=False)

        try:
            Mf = factor(0.0)
        except (np.linalg.LinAlgError, sla.LinAlgError):
            # Regularise slightly; near the end M can lose definiteness to rounding.
            try:
                Mf = factor(1e-12 * max(np.abs(np.diag(Mw)).max(), abs(mss)))
            except (np.linalg.LinAlgError, sla.LinAlgError):
                status = "numerical (Schur complement)"
                break

        def direction(sigma_mu, corr):
            # R_b = sigma mu S^{-1} - X - Corr S^{-1}
            R1 = sigma_mu * S1i - X1
            R2 = sigma_mu * S2i - X2 if two else None
            if corr is not None:
                C1, C2, c3, c4 = corr
                R1 = R1 - _mm(C1, S1i)
                if two:
                    R2 = R2 - _mm(C2, S2i)
            R1 = 0.5 * (R1 + R1.T)
            if two:
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
            # One step of iterative refinement, taken only where the residual is above REFINE_RTOL
            # (relative): a second solve against the m x m factor costs 39 ms at m = 6,468.
            res = rhs - M_times(dy)
            if np.linalg.norm(res) > REFINE_RTOL * np.linalg.norm(rhs):
                dy += sla.cho_solve(Mf, res, check_finite=False)
            dw, ds = dy[:m], dy[m]
            dLs = (At.T @ sp.diags(dw) @ At).tocsr()  # L(dw), sparse
            dL = dLs.toarray()
            dS1 = dL.copy()
            dS1[diag] += ds
            dS2 = -dL
            dS2[diag] += ds
            # X dS with dS = ±L(dw) + ds I: X L = (L X)^T for symmetric X and L, a sparse product.
            XL1 = (dLs @ X1).T
            dX1 = R1 - _mm(XL1 + ds * X1, S1i)
            dX1 = 0.5 * (dX1 + dX1.T)
            if two:
                XL2 = (dLs @ X2).T
                dX2 = R2 - _mm(ds * X2 - XL2, S2i)
                dX2 = 0.5 * (dX2 + dX2.T)
            else:
                dX2 = None
            if nonneg:
                dS3 = dw
                dS4 = -(absA @ dw)
                dx3 = r3 - x3 * dS3 / s3
                dx4 = r4 - x4 * dS4 / s4
            else:
                dS3 = dS4 = dx3 = dx4 = None
            return dw, ds, dS1, dS2, dS3, dS4, dX1, dX2, dx3, dx4, dLs

        def steps(d, cap):
            # Largest steps keeping the cones, or inf where the step ``cap`` keeps them (the caller
            # clips the steps at ``cap``), and whether S2 alone limits the dual step while the lambda_n
            # block is out of the model.
            dw, ds, dS1, dS2, dS3, dS4, dX1, dX2, dx3, dx4, _ = d
            ap = _max_step_psd_capped(X1, LX1, dX1, cap)
            if two:
                ap = min(ap, _max_step_psd_capped(X2, LX2, dX2, cap))
            ad = _max_step_psd_capped(S1, LS1, dS1, cap)
            ad2 = _max_step_psd_capped(S2, LS2, dS2, cap)
            if nonneg:
                ap = min(ap, _max_step_lp(x3, dx3), _max_step_lp(x4, dx4))
                ad = min(ad, _max_step_lp(s3, dS3), _max_step_lp(s4, dS4))
            binds = not two and np.isfinite(ad2) and ad2 <= ad
            return ap, min(ad, ad2), binds

        # predictor
        d = direction(0.0, None)
        ap, ad, _ = steps(d, 1.0)
        ap1, ad1 = min(1.0, ap), min(1.0, ad)
        dw, ds, dS1, dS2, dS3, dS4, dX1, dX2, dx3, dx4, dLs = d
        mu_aff = _inner(X1 + ap1 * dX1, S1 + ad1 * dS1)
        if two:
            mu_aff += _inner(X2 + ap1 * dX2, S2 + ad1 * dS2)
        if nonneg:
            mu_aff += _ddot(x3 + ap1 * dx3, s3 + ad1 * dS3) + _ddot(x4 + ap1 * dx4, s4 + ad1 * dS4)
        mu_aff /= nu
        # Centering exponent: 3 after full predictor steps, down to 1 after short ones (the adaptive
        # rule SDPT3 uses; the constants 1 and 3 are our choice, tuned on the 1000-node geometric
        # FMMC, where it takes 18 iterations instead of 22).
        expon = max(1.0, 3.0 * min(ap1, ad1) ** 2)
        sigma = min(1.0, max(0.0, mu_aff / mu)) ** expon
        # corrector (second-order Mehrotra term)
        # dX dS with dS = ±L(dw) + ds I, as sparse products (dX symmetric).
        corr = ((dLs @ dX1).T + ds * dX1, ds * dX2 - (dLs @ dX2).T if two else None,
                dx3 * dS3 if nonneg else None, dx4 * dS4 if nonneg else None)
        d = direction(sigma * mu, corr)
        gamma = 0.9 + 0.09 * min(ap1, ad1)
        ap, ad, binds_c = steps(d, 1.0 / gamma)
        ap, ad = min(1.0, gamma * ap), min(1.0, gamma * ad)
        if ap < 1e-10 and ad < 1e-10:
            status = "stalled"
            break
        dw, ds, dS1, dS2, dS3, dS4, dX1, dX2, dx3, dx4, _ = d
        if history is not None:
            history[-1].update(step_primal=float(ap), step_dual=float(ad), sigma=float(sigma),
                               predictor_primal=float(ap1), predictor_dual=float(ad1), mu_aff=float(mu_aff))
        X1 = X1 + ap * dX1
        if two:
            X2 = X2 + ap * dX2
        w = w + ad * dw
        s = s + ad * ds
        if nonneg:
            x3 = x3 + ap * dx3
            x4 = x4 + ap * dx4
        S1, S2, s3, s4 = slacks(w, s)
        if binds_c:
            # S2 limited a step: the lambda_n block is active after all.  Back into the model for good,
            # with the multiplier centred at the current complementarity.
            mu_now = _inner(X1, S1) + ((_ddot(x3, s3) + _ddot(x4, s4)) if nonneg else 0.0)
            mu_now /= nu_of(False)
            X2 = mu_now * _inv_from_chol(_chol(S2))
            two, readded_at = True, it

    if status != "optimal" and best is not None:
        w, s, Y, x4 = best  # an optimal stop breaks right after its iterate's Y is formed
    z = x4 if nonneg else None
    return w, s, Y, z, status, it


def _solve_ipm(kind, n, ei, ej, tol, t0, return_certificate, name="ipm", progress=None):
    nonneg = kind == "fmmc"
    certified = []
    try:
        w, s, Y, z, status, it = _ipm(n, ei, ej, nonneg, tol, progress=progress, certified=certified)
    except MemoryError as exc:
        raise SDPSolveError(
            f"the interior-point solver needs a dense {len(ei)}x{len(ei)} Newton matrix and ran out of memory; "
            "pass solver='clarabel' or solver='scs'"
        ) from exc
    if status != "optimal":
        # Accept an early stop only if the rigorous gap is still small.
        if np.all(np.isfinite(w)):
            certified = [_certify(kind, n, ei, ej, w, Y, z, _VIOL_LIMIT, name)]
        if not (certified and certified[0][1] - certified[0][2] <= max(1e3 * tol, 1e-6)):
            raise SDPSolveError(
                f"the interior-point solver stopped ({status}) after {it} iterations without reaching tol={tol:g}; "
                "pass solver='clarabel' (or 'scs') to use cvxpy instead"
            )
        status = "optimal_inaccurate"
    return _finish(kind, n, ei, ej, w, Y, z, name, status, t0, _VIOL_LIMIT, return_certificate,
                   certified=certified[0] if certified else None)

"""First-order FMMC / FDLA solver for large graphs, with a checkable low-rank dual certificate.

The exact interior point of :mod:`problems._sdp` forms an ``m x m`` Newton
matrix (``m`` edges) and stops being practical near 5-8k edges.  This module
solves the same two problems,

    minimise  SLEM(W) = ||W - J||_2,   W = I - A diag(w) A^T,   J = 11^T/n,
    FMMC:     w >= 0,  sum_{e∋i} w_e <= 1 (W nonnegative and stochastic),
    FDLA:     w free,

touching the graph only through sparse products ``W X`` with a block ``X`` of
``k << n`` vectors, so its memory is O(m + n k).

Algorithm
---------
*Smoothing.*  The SLEM is the largest eigenvalue of ``±(W - J)`` on the
mean-free subspace ``1^⊥``, a nonsmooth function of ``w`` wherever that eigenvalue
is repeated -- which is exactly what happens at the optimum (random regular
graphs have a large cluster of equal eigenvalues there).  It is replaced by the
log-sum-exp of *all* the extreme eigenvalues,

    F_mu(w) = mu log sum_i ( exp(lambda_i / mu) + exp(-lambda_i / mu) ),

``lambda_i`` the eigenvalues of ``W - J`` on ``1^⊥``.  ``SLEM <= F_mu <= SLEM +
mu log(2(n - 1))``, ``F_mu`` is smooth, and its gradient weighs the whole cluster:
with ``v_i`` the eigenvectors and ``p_i, q_i`` the softmax weights of
``+lambda_i`` and ``-lambda_i``,

    dF_mu / dw_e = -r_e(Y_mu),   Y_mu = sum_i (p_i - q_i) v_i v_i^T,
    r_e(Y) = a_e^T Y a_e = Y_ii + Y_jj - 2 Y_ij,

so one gradient needs only the eigenpairs whose weight is not negligible: a
block of extreme eigenvectors at each end of the spectrum (the block is grown
until its last eigenvalue is ``30 mu`` below the extreme one, so the neglected
weights are below ``e^-30``, but to at most ``KMAX`` vectors: for large ``mu``
the window is truncated there and ``F_mu`` is only approximated).  The blocks come from dense ``eigh`` on small
graphs and from LOBPCG on the sparse ``W`` otherwise, warm-started from the
previous block (``eigsh`` as a fallback).  ``mu`` is decreased geometrically
(continuation) and each stage is minimised by L-BFGS(-B), warm-started.

*FMMC constraints*: ``w >= 0`` is a bound L-BFGS-B handles directly; the node
constraints ``sum_{e∋i} w_e <= 1`` enter through an augmented Lagrangian
(Powell-Hestenes-Rockafellar, penalty ``AL_RHO``, ``AL_ROUNDS`` multiplier
updates per stage), so every subproblem stays convex.  (A smooth
always-feasible change of variables ``w = u / smax(1, D_i, D_j)`` was tried
first and rejected: it makes the problem nonconvex and stalled at a point
1.7% above the optimum on a 14-node 4-regular graph.)  The returned weights are
passed through the same feasibility repair as the exact solver's (clipping,
scaling of the nodes whose weights sum past one), so ``W`` is exactly feasible.

Certificate (rigorous lower bound)
----------------------------------
The dual point is low rank: vectors ``v_1..v_k`` (columns of ``V``), signed
coefficients ``c`` and, for FMMC, ``z``; ``Y = sum_k c_k v_k v_k^T``.  For every
``W = I - A diag(w) A^T`` in the feasible family with SLEM ``s``:

1. ``tr(Y W) = tr Y - sum_e w_e r_e(Y)`` (exact, since ``W = I - sum_e w_e a_e a_e^T``).
2. ``tr(Y W) = tr(Y (W - J)) + tr(Y J) <= ||Y||_* s + 1^T Y 1 / n`` (trace
   duality between nuclear and spectral norm), and
   ``||Y||_* <= N := sum_k |c_k| ||v_k||^2`` (triangle inequality; the ``v_k``
   need not be orthonormal, nor exact eigenvectors).  ``1^T Y 1 / n =
   sum_k c_k (1^T v_k)^2 / n`` vanishes when the ``v_k`` are centred; it is kept
   because centring in floating point leaves ~eps.
3. FMMC (``w >= 0``, ``sum_{e∋i} w_e <= 1``): with ``z >= 0`` and the edge
   violations ``x_e = max(0, r_e - z_i - z_j)``,
   ``sum_e w_e r_e <= sum_e w_e (z_i + z_j) + sum_e w_e x_e <= 1^T z + min(sum_e x_e, (n/2) max_e x_e)``
   (``w_e <= 1`` and ``sum_e w_e <= n/2``).  This is the dual of Boyd, Diaconis &
   Xiao (2004), with the normalisation ``||Y||_* <= 1`` replaced by division by
   ``N``, and it needs no exact edge feasibility of ``z``.
4. FDLA (``w`` free): there is no sign or stochasticity multiplier, so the
   ``w``-term must be bounded for the *optimal* ``w*`` only.  ``w = 0`` gives
   SLEM 1, so ``s* <= 1`` and ``||W*||_2 = 1`` (the eigenvalue 1 on ``1``, the rest
   in ``[-s*, s*]``); each row of ``W*`` has Euclidean norm ``<= 1``, hence
   ``sum_{e∋i} w*_e^2 <= 1`` at every node, and by Cauchy-Schwarz per node
   ``|sum_e w*_e r_e| <= (1/2) sum_i ||r_{δ(i)}||_2`` (``δ(i)`` the edges at ``i``).
   At an exact FDLA optimum ``r(Y) = 0`` (Xiao & Boyd 2004); numerically the
   residual enters the bound through this term.

Therefore ``s* >= (tr Y - T - |1^T Y 1| / n) / N`` with ``T`` the term of 3. or 4.
Floating point: every quantity is computed from the ``V, c, z`` stored in the
certificate (not from the solver's internal state), each ``r_e`` is enlarged by
its rounding error bound ``(k + 4) eps sum_k |c_k| (v_ki - v_kj)^2`` (twice, for
safety) before it enters the violation / residual terms, and the final value is
lowered by a margin of ``8 (n + m + k) eps`` times the magnitudes involved.
:func:`certified_lower_bound` performs exactly this computation, so anyone can
re-check a certificate from its ``dual`` field.

*Choosing the dual point.*  After the last stage the extreme eigenvector blocks
``V_+`` (top cluster) and ``V_-`` (bottom cluster) of the returned ``W`` are
computed and centred, and the coefficients are chosen by a small LP (HiGHS):
FMMC ``max c^T ||v||^2 - 1^T z`` over ``c_+ >= 0 >= c_-``, ``z >= 0``,
``sum |c_k| ||v_k||^2 = 1`` and ``r_e <= z_i + z_j`` -- the restricted dual with a
diagonal ``S`` (Helmberg-Rendl spectral bundle style, restricted to the
eigenbasis); FDLA the same with ``||r||_1`` in place of the ``z``-term, and the
softmax weights of ``F_mu`` as a second candidate.  A third candidate drops the
diagonal restriction: ``Y = Q_+ S_+ Q_+^T - Q_- S_- Q_-^T`` with ``Q_±`` orthonormal
bases of (at most ``KPSD`` vectors of) the two clusters and ``S_±`` full PSD
matrices (a small SDP, cvxpy + Clarabel; :func:`_psd_dual`), stored as a low-rank
point through the eigendecompositions of ``S_±``.  Where an extreme eigenvalue is
repeated the eigensolver's basis of its eigenspace is arbitrary, and the optimal
dual is generally not diagonal in it: at exact optima of random 4-regular graphs
(n = 60 and 100, interior point) the diagonal dual leaves certified gaps of 1e-2
to 6e-2 and the full one 2e-6 to 2e-5 (``tests/problems/test_sdp_first_order.py``).
The best of the rigorous bounds is kept.

The upper value ``slem`` of the certificate is the SLEM of the returned ``W``:
``numpy.linalg.eigvalsh`` for ``n <= DENSE_SLEM_MAX`` (as the exact solver), else
the extreme eigenvalues from the converged sparse eigensolver plus their
residual norms (Lanczos/LOBPCG do not prove that no eigenvalue was missed;
the lower bound is rigorous regardless).
"""

from __future__ import annotations

import contextlib
import functools
import math
import time
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

__all__ = ["LowRankDual", "certified_lower_bound", "solve_first_order", "DENSE_SLEM_MAX", "DENSE_EIG_MAX",
           "EIGEN_BLAS_THREADS"]

#: Up to this many nodes the eigenpairs inside the optimiser come from dense ``eigh``.
DENSE_EIG_MAX = 400
#: FMMC node constraints: augmented Lagrangian penalty and rounds per stage
#: (chosen by trial on 150-node geometric graphs: rho = 10 beat 1, 100, 1000).
AL_RHO = 10.0
AL_ROUNDS = 4
#: Largest eigenvector block per end of the spectrum (the smoothing window is truncated there).
KMAX = 48
#: At most this many vectors of each extreme cluster enter the full-PSD restricted dual
#: (:func:`_psd_dual`: its constraint matrix has ``m k(k+1)/2`` entries per cluster).
KPSD = 16
#: Eigensolver block per end inside the polish (:mod:`problems._sdp_bundle`) on large graphs.
POLISH_BLOCK = 16
#: Up to this many nodes the certificate's SLEM is recomputed with dense ``eigvalsh``.
DENSE_SLEM_MAX = 2000
#: BLAS threads inside each sparse extreme-eigenpair call (``lobpcg``, ``eigsh``); ``None`` leaves
#: the process's setting.  LOBPCG does its block products with NumPy and its Rayleigh-Ritz ``eigh``
#: with SciPy, and the two wheels bundle separate OpenBLAS thread pools that spin against each other:
#: on 2 cores, one call at n = 1,000 (geometric, 48-vector block) took 0.57-0.72 s with both pools at
#: 2 threads against 0.18 s pinned to 1 (3.2-4.1x; 2.9-3.1 s against 0.91-0.96 s at n = 5,000), and
#: limiting the pools to 1 thread per call with threadpoolctl matches the pinned time
#: (``python benchmarks/blas_mixing.py --lobpcg``, RESULTS.md section 7f).
EIGEN_BLAS_THREADS: int | None = 1

_EPS = np.finfo(float).eps


@dataclass(frozen=True)
class LowRankDual:
    """A dual point ``Y = V diag(coefs) V^T`` (plus ``z`` for FMMC) certifying a lower bound.

    Attributes:
        vectors: ``(n, k)`` float64 ``V`` (centred extreme eigenvectors of the returned ``W``).
        coefs: ``(k,)`` signed coefficients (positive: top cluster, negative: bottom).
        z: ``(n,)`` nonnegative node multipliers (FMMC), ``None`` for FDLA.
        kind: ``"fmmc"`` or ``"fdla"``.
    """

    vectors: np.ndarray
    coefs: np.ndarray
    z: np.ndarray | None
    kind: str


# ----------------------------------------------------------------------------
# the certificate
# ----------------------------------------------------------------------------


def _edge_quads(V, c, ei, ej):
    """``r_e = sum_k c_k (V_ik - V_jk)^2`` and ``R_e = sum_k |c_k| (V_ik - V_jk)^2``."""
    D2 = (V[ei] - V[ej]) ** 2
    return D2 @ c, D2 @ np.abs(c)


def certified_lower_bound(n: int, edges: np.ndarray, dual: LowRankDual) -> float:
    """Rigorous lower bound on the optimal SLEM certified by a low-rank dual point.

    Implements the module docstring's bound ``(tr Y - T - |1^T Y 1|/n) / N``
    with rounding margins, from the stored ``V``, ``c`` and ``z`` alone.

    Args:
        n: number of nodes.
        edges: ``(m, 2)`` edge list, ``i < j``.
        dual: the certificate's dual point; ``dual.kind`` selects the FMMC or FDLA bound.

    Returns:
        A lower bound on the optimal SLEM of that problem (0 if the dual point is useless).

    Raises:
        ValueError: malformed dual point (shapes, kind, negative ``z``).
    """
    E = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    ei, ej = E[:, 0], E[:, 1]
    V = np.asarray(dual.vectors, dtype=np.float64)
    c = np.asarray(dual.coefs, dtype=np.float64).ravel()
    if dual.kind not in ("fmmc", "fdla"):
        raise ValueError(f"dual.kind must be 'fmmc' or 'fdla', got {dual.kind!r}")
    if V.ndim != 2 or V.shape[0] != n or V.shape[1] != c.size:
        raise ValueError(f"dual.vectors must be (n, k) = ({n}, {c.size}), got shape {V.shape}")
    if not (np.all(np.isfinite(V)) and np.all(np.isfinite(c))):
        return 0.0
    k, m = c.size, len(ei)
    norms2 = np.einsum("ik,ik->k", V, V)
    trY = float(c @ norms2)
    N = float(np.abs(c) @ norms2)
    if not N > 0:
        return 0.0
    ones = V.sum(axis=0)
    tJ = abs(float(c @ (ones * ones))) / n
    r, R = _edge_quads(V, c, ei, ej)
    dr = 2.0 * (k + 4) * _EPS * R  # rounding bound on each r_e
    if dual.kind == "fmmc":
        if dual.z is None:
            raise ValueError("an FMMC dual point needs z (node multipliers)")
        z = np.asarray(dual.z, dtype=np.float64).ravel()
        if z.shape != (n,) or not np.all(np.isfinite(z)):
            raise ValueError(f"dual.z must be a finite ({n},) array")
        if z.min(initial=0.0) < 0:
            raise ValueError("dual.z must be nonnegative")
        x = np.maximum(0.0, r + dr - (z[ei] + z[ej]))
        T = float(z.sum()) + min(float(x.sum()), 0.5 * n * float(x.max(initial=0.0)))
        mag = abs(trY) + float(z.sum()) + float(x.sum()) + tJ + N
    else:
        a = (np.abs(r) + dr) ** 2
        s2 = np.bincount(ei, weights=a, minlength=n) + np.bincount(ej, weights=a, minlength=n)
        T = 0.5 * float(np.sqrt(s2).sum())
        mag = abs(trY) + T + tJ + N
    num = trY - T - tJ
    margin = 8.0 * (n + m + k) * _EPS * mag
    return max(0.0, (num - margin) / N * (1.0 - 4 * _EPS))


# ----------------------------------------------------------------------------
# sparse W and its extreme eigenpairs
# ----------------------------------------------------------------------------


class _SparseW:
    """CSR pattern of ``W = I - A diag(w) A^T`` with in-place value updates."""

    def __init__(self, n, ei, ej):
        self.n, self.ei, self.ej = n, ei, ej
        m = len(ei)
        rows = np.r_[ei, ej, np.arange(n)]
        cols = np.r_[ej, ei, np.arange(n)]
        M = sp.csr_matrix((np.arange(1, 2 * m + n + 1, dtype=float), (rows, cols)), shape=(n, n))
        M.sort_indices()
        pos = np.empty(2 * m + n, dtype=np.int64)
        pos[M.data.astype(np.int64) - 1] = np.arange(2 * m + n)
        self.M = M
        self.pos_ij, self.pos_ji, self.pos_d = pos[:m], pos[m : 2 * m], pos[2 * m :]

    def set(self, w):
        d = np.bincount(self.ei, weights=w, minlength=self.n) + np.bincount(self.ej, weights=w, minlength=self.n)
        data = self.M.data
        data[self.pos_ij] = w
        data[self.pos_ji] = w
        data[self.pos_d] = 1.0 - d
        return self.M


@functools.cache
def _threadpool_controller():
    """threadpoolctl's list of the loaded BLAS libraries, made once (on the first eigensolver call,
    after SciPy's OpenBLAS is loaded)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _eigen_threads():
    """Context limiting the BLAS pools to :data:`EIGEN_BLAS_THREADS` (none when it is ``None``)."""
    if EIGEN_BLAS_THREADS is None:
        return contextlib.nullcontext()
    return _threadpool_controller().limit(limits=int(EIGEN_BLAS_THREADS), user_api="blas")


def _centre(V):
    return V - V.mean(axis=0, keepdims=True)


class _Eigs:
    """Extreme eigenpairs of ``W - J`` on ``1^⊥`` (both ends), warm-started between calls."""

    def __init__(self, n, k0, kmax, seed):
        self.n, self.kmax = n, kmax
        self.kmin = min(k0, kmax)
        self.k = [min(k0, kmax), min(k0, kmax)]
        self.X = [None, None]
        self.rng = np.random.default_rng(seed)
        self.ones = np.ones((n, 1)) / math.sqrt(n)

    def dense(self, M):
        lam, V = np.linalg.eigh(M.toarray() - 1.0 / self.n)
        # drop the eigenvector closest to 1/sqrt(n) (eigenvalue 0 of W - J on span 1)
        j = int(np.argmax(np.abs(V.sum(axis=0))))
        keep = np.arange(self.n) != j
        return lam[keep], V[:, keep], np.zeros(keep.sum())

    def _side(self, M, side, tol, maxiter):
        n, k = self.n, self.k[side]
        X = self.X[side]
        if X is None or X.shape[1] != k:
            Xn = self.rng.standard_normal((n, k))
            if X is not None:
                kk = min(k, X.shape[1])
                Xn[:, :kk] = X[:, :kk]
            X = Xn
        op = M if side == 0 else -M
        lam = V = None
        try:
            with warnings.catch_warnings(), _eigen_threads():
                warnings.simplefilter("ignore")
                lam, V = spla.lobpcg(op, _centre(X), Y=self.ones, largest=True, tol=tol, maxiter=maxiter)
        except Exception:
            lam = None
        if lam is None or not np.all(np.isfinite(lam)):
            with _eigen_threads():
                lam, V = spla.eigsh(spla.aslinearoperator(op), k=k, which="LA", v0=_centre(self.rng.standard_normal(n)))
        order = np.argsort(lam)[::-1]
        lam, V = lam[order], _centre(V[:, order])
        res = np.linalg.norm(op @ V - V * lam, axis=0)
        self.X[side] = V
        return lam, V, res

    def __call__(self, M, mu, tol=1e-9, maxiter=40):
        """Top (+lambda) and bottom (-lambda) blocks; grows a block whose span is < 30 mu."""
        out = []
        for side in (0, 1):
            for _ in range(6):
                lam, V, res = self._side(M, side, tol, maxiter)
                if lam[0] - lam[-1] >= 30 * mu or self.k[side] >= self.kmax:
                    break
                self.k[side] = min(self.kmax, int(math.ceil(1.5 * self.k[side])) + 2)
            # shrink a block whose tail lies far below the smoothing window
            inside = int(np.sum(lam >= lam[0] - 30 * mu))
            if inside + 8 < self.k[side]:
                self.k[side] = max(inside + 8, self.kmin)
            out.append((lam, V, res))
        (lt, Vt, rt), (lb, Vb, rb) = out
        # eigenvalues of W - J: top block lt, bottom block -lb
        return np.r_[lt, -lb], np.hstack([Vt, Vb]), np.r_[rt, rb]


# ----------------------------------------------------------------------------
# smoothed objective
# ----------------------------------------------------------------------------


def _lse_weights(lam, mu):
    """Value of ``mu log sum exp(±lam/mu)`` and signed weights ``p - q``."""
    t = float(np.abs(lam).max())
    ep = np.exp((lam - t) / mu)
    em = np.exp((-lam - t) / mu)
    Z = ep.sum() + em.sum()
    return t + mu * math.log(Z), (ep - em) / Z


# ----------------------------------------------------------------------------
# choosing the dual point
# ----------------------------------------------------------------------------


def _cluster(lam, V, width):
    """Columns of the top and bottom clusters (within ``width`` of each extreme, at most ``KMAX`` each)."""
    top = np.where(lam >= lam.max() - width)[0]
    bot = np.where(-lam >= (-lam).max() - width)[0]
    top = top[np.argsort(-lam[top])][:KMAX]
    bot = bot[np.argsort(lam[bot])][:KMAX]
    return top, bot


def _lp_dual(n, ei, ej, Vt, Vb, kind):
    """Restricted dual LP over diagonal weights on the cluster vectors (see module docstring)."""
    from scipy.optimize import linprog

    m = len(ei)
    V = np.hstack([Vt, Vb])
    kt, kb = Vt.shape[1], Vb.shape[1]
    k = kt + kb
    nrm = np.einsum("ik,ik->k", V, V)
    sgn = np.r_[np.ones(kt), -np.ones(kb)]
    D2 = (V[ei] - V[ej]) ** 2 * sgn  # r = D2 @ a, a >= 0 the |coefs|
    if kind == "fmmc":
        # variables [a (k), z (n)]
        cost = np.r_[-(sgn * nrm), np.ones(n)]
        Zp = sp.csr_matrix((-np.ones(2 * m), (np.r_[np.arange(m), np.arange(m)], np.r_[ei, ej])), shape=(m, n))
        A_ub = sp.hstack([sp.csr_matrix(D2), Zp]).tocsr()
        b_ub = np.zeros(m)
        A_eq = sp.csr_matrix(np.r_[nrm, np.zeros(n)][None, :])
    else:
        # variables [a (k), t (m)], |D2 a| <= t, minimise -tr Y + sum t
        cost = np.r_[-(sgn * nrm), np.ones(m)]
        I = sp.identity(m, format="csr")
        A_ub = sp.vstack([sp.hstack([sp.csr_matrix(D2), -I]), sp.hstack([sp.csr_matrix(-D2), -I])]).tocsr()
        b_ub = np.zeros(2 * m)
        A_eq = sp.csr_matrix(np.r_[nrm, np.zeros(m)][None, :])
    res = linprog(cost, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=[1.0], bounds=(0, None), method="highs")
    if res.status != 0:
        return None
    a = np.maximum(res.x[:k], 0.0)
    z = np.maximum(res.x[k:], 0.0) if kind == "fmmc" else None
    return LowRankDual(V, sgn * a, z, kind)


def _quad_form_map(D):
    """``(m, k(k+1)/2)`` matrix ``C`` with ``C @ [diag(S); upper_tri(S)] = (d_e^T S d_e)_e`` for symmetric ``S``.

    ``d_e^T S d_e = sum_a d_ea^2 S_aa + 2 sum_{a<b} d_ea d_eb S_ab``; the strict upper triangle is in
    ``numpy.triu_indices`` order, which is ``cvxpy.upper_tri``'s.
    """
    ia, ib = np.triu_indices(D.shape[1], 1)
    return np.hstack([D * D, 2.0 * D[:, ia] * D[:, ib]])


def _psd_dual(n, ei, ej, Vt, Vb, kind):
    """Restricted dual over full PSD matrices on the cluster subspaces (see module docstring).

    ``Y = Q_t S_t Q_t^T - Q_b S_b Q_b^T`` with ``Q_t, Q_b`` orthonormal bases of the centred top and
    bottom cluster vectors and ``S_t, S_b`` PSD, ``tr S_t + tr S_b = 1`` (so ``||Y||_* <= 1``):
    FMMC maximises ``tr Y - 1^T z`` subject to ``r_e(Y) <= z_i + z_j``, ``z >= 0``; FDLA
    maximises ``tr Y - ||r(Y)||_1`` (``||r||_1`` bounds the certificate's residual term). Solved
    with cvxpy + Clarabel; the result is written as a :class:`LowRankDual` through the
    eigendecompositions of ``S_t, S_b`` (and FMMC's ``z`` is recomputed for those vectors), so
    :func:`certified_lower_bound` re-checks it like any other candidate. Returns ``None`` when the
    solver fails.

    A diagonal ``S`` (``_lp_dual``) fixes the basis of a repeated eigenvalue's eigenspace to the
    one the eigensolver happened to return; the optimal dual is generally not diagonal in it.
    Measured at exact optima of random 4-regular graphs (interior point): certified gaps 1e-2 to
    6e-2 with the diagonal dual, 2e-6 to 2e-5 with this one (n = 60 and 100, the test), and at
    n = 1000 (``python -m benchmarks.sdp_dual_restriction``, RESULTS.md section 7).
    """
    import cvxpy as cp

    m = len(ei)
    blocks = []
    for V in (Vt, Vb):
        if V.shape[1] == 0:
            blocks.append(None)
            continue
        Q, R = np.linalg.qr(V)
        keep = np.abs(np.diag(R)) > 1e-10 * max(1.0, np.abs(np.diag(R)).max())
        blocks.append(Q[:, keep])
    terms, traces, mats = [], [], []
    for sign, Q in zip((1.0, -1.0), blocks):
        if Q is None or Q.shape[1] == 0:
            mats.append(None)
            continue
        k = Q.shape[1]
        S = cp.Variable((k, k), PSD=True)
        C = _quad_form_map(Q[ei] - Q[ej])
        sv = cp.hstack([cp.diag(S), cp.reshape(cp.upper_tri(S), (k * (k - 1) // 2,), order="F")]) if k > 1 else cp.diag(S)
        terms.append(sign * (C @ sv))
        traces.append((sign, cp.trace(S)))
        mats.append(S)
    if not terms:
        return None
    r = terms[0] if len(terms) == 1 else terms[0] + terms[1]
    trY = sum(sg * t for sg, t in traces)
    cons = [sum(t for _, t in traces) == 1]
    if kind == "fmmc":
        z = cp.Variable(n, nonneg=True)
        cons.append(r <= z[ei] + z[ej])
        obj = trY - cp.sum(z)
    else:
        obj = trY - cp.norm1(r)
    prob = cp.Problem(cp.Maximize(obj), cons)
    try:
        prob.solve(solver="CLARABEL")
    except cp.error.SolverError:
        return None
    if prob.status not in ("optimal", "optimal_inaccurate"):
        return None
    vecs, coefs = [], []
    for sign, Q, S in zip((1.0, -1.0), blocks, mats):
        if S is None:
            continue
        ev, U = np.linalg.eigh(0.5 * (S.value + S.value.T))
        keep = ev > 1e-12 * max(ev.max(initial=0.0), 1e-300)
        vecs.append(Q @ U[:, keep])
        coefs.append(sign * ev[keep])
    if not vecs or sum(v.shape[1] for v in vecs) == 0:
        return None
    V = np.hstack(vecs)
    c = np.concatenate(coefs)
    z = np.maximum(_best_fmmc_z(n, ei, ej, V, c), 0.0) if kind == "fmmc" else None
    return LowRankDual(V, c, z, kind)


def _best_fmmc_z(n, ei, ej, V, c):
    from problems._sdp.certificates import _best_z

    r, _ = _edge_quads(V, c, ei, ej)
    return _best_z(n, ei, ej, r, None)


# ----------------------------------------------------------------------------
# the solver
# ----------------------------------------------------------------------------


def _slem_of(Wsp, n, eigs):
    """SLEM of the returned W: dense eigvalsh when small, else sparse extremes + residuals."""
    if n <= DENSE_SLEM_MAX:
        ev = np.linalg.eigvalsh(Wsp.toarray() - 1.0 / n)
        return float(np.abs(ev).max())
    lam, V, res = eigs(Wsp, 1e-12, tol=1e-10, maxiter=200)
    return float(max(lam.max() + res[lam.argmax()], -lam.min() + res[lam.argmin()]))


def solve_first_order(
    kind: str,
    n: int,
    ei: np.ndarray,
    ej: np.ndarray,
    *,
    tol: float = 1e-4,
    max_stages: int = 8,
    max_iter_per_stage: int = 400,
    time_limit_s: float | None = None,
    seed: int = 0,
    progress=None,
    polish_time_s: float = 0.0,
):
    """Smoothed-SLEM first-order solve of FMMC (``kind="fmmc"``) or FDLA (``"fdla"``).

    Args:
        kind: ``"fmmc"`` or ``"fdla"``.
        n: number of nodes; ``ei, ej``: edge endpoints (validated by the caller).
        tol: target certified gap ``slem - lower_bound``; stages stop once reached.
        max_stages: at most this many continuation stages (``mu`` divided by 10 each).
        max_iter_per_stage: L-BFGS iterations per stage.
        time_limit_s: stop L-BFGS once this many seconds have passed, certify the
            current point and return the best certified one (the certificate's
            own eigensolve and LP come on top).
        seed: seed of the eigensolver's random start block.
        polish_time_s: if positive and the certified gap is still above ``tol`` after the
            stages, this many seconds of the cluster-model trust-region method of
            :mod:`problems._sdp_bundle` on the SLEM itself, from the best point; the polished
            point is certified the same way and kept if its certified gap is smaller.

    Returns:
        ``(w, slem, lower_bound, dual, info)``; ``w`` feasible weights (FMMC repaired),
        ``dual`` a :class:`LowRankDual`, ``info`` a dict of diagnostics.
    """
    from scipy.optimize import minimize

    from problems._sdp.checks import _repair_fmmc_weights

    t0 = time.perf_counter()
    m = len(ei)
    fmmc = kind == "fmmc"
    Wop = _SparseW(n, ei, ej)
    dense = n <= DENSE_EIG_MAX
    eigs = _Eigs(n, k0=min(n - 1, 12), kmax=max(2, min(n // 4, KMAX)), seed=seed)
    deg = np.bincount(ei, minlength=n) + np.bincount(ej, minlength=n)
    w0 = 1.0 / (1.0 + np.maximum(deg[ei], deg[ej]))  # Xiao-Boyd-Lall Metropolis weights
    x = w0.copy()
    nev = [0]
    history = []

    def spectrum(w, mu):
        M = Wop.set(w)
        nev[0] += 1
        if dense:
            return eigs.dense(M)
        return eigs(M, mu)

    zmul = np.zeros(n)  # augmented-Lagrangian multipliers of sum_{e∋i} w_e <= 1 (FMMC)

    def degrees(w):
        return np.bincount(ei, weights=w, minlength=n) + np.bincount(ej, weights=w, minlength=n)

    def objective(w, mu):
        lam, V, _ = spectrum(w, mu)
        F, c = _lse_weights(lam, mu)
        r, _ = _edge_quads(V, c, ei, ej)
        g = -r
        if fmmc:
            h = np.maximum(0.0, degrees(w) - 1.0 + zmul / AL_RHO)
            F = F + 0.5 * AL_RHO * float(h @ h) - 0.5 * float(zmul @ zmul) / AL_RHO
            g = g + AL_RHO * (h[ei] + h[ej])
        return F, g

    def certify(w, mu, psd=True):
        Wsp = Wop.set(w)
        if dense:
            lam, V, _ = eigs.dense(Wsp)
        else:
            lam, V, _ = eigs(Wsp, mu, tol=1e-10, maxiter=200)
        s = _slem_of(Wsp, n, eigs)
        cands = []
        _, csoft = _lse_weights(lam, mu)
        keep = np.abs(csoft) > 1e-14
        Vs, cs = V[:, keep], csoft[keep]
        cands.append(LowRankDual(Vs, cs, _best_fmmc_z(n, ei, ej, Vs, cs) if fmmc else None, kind))
        width = max(40 * mu, 1e-9)
        top, bot = _cluster(lam, V, width)
        try:
            d = _lp_dual(n, ei, ej, V[:, top], V[:, bot], kind)
            if d is not None:
                if fmmc:
                    d = LowRankDual(d.vectors, d.coefs, np.maximum(d.z, 0.0), kind)
                cands.append(d)
        except Exception:  # pragma: no cover - HiGHS failure: keep the softmax candidate
            pass
        pt, pb = top[:KPSD], bot[:KPSD]
        if psd and len(pt) + len(pb) > 1:  # a repeated extreme eigenvalue: the diagonal dual is basis-bound
            d = _psd_dual(n, ei, ej, _centre(V[:, pt]), _centre(V[:, pb]), kind)
            if d is not None:
                cands.append(d)
        bounds = [certified_lower_bound(n, np.stack([ei, ej], axis=1), d) for d in cands]
        j = int(np.argmax(bounds))
        return s, bounds[j], cands[j]

    deadline = None if time_limit_s is None else t0 + time_limit_s

    def stop_at_deadline(intermediate_result):
        if deadline is not None and time.perf_counter() > deadline:
            raise StopIteration

    mu = 1e-2
    best = None
    for stage in range(max_stages):
        nit = 0
        for _ in range(AL_ROUNDS if fmmc else 1):
            res = minimize(
                objective,
                x,
                args=(mu,),
                jac=True,
                method="L-BFGS-B",
                bounds=[(0.0, None)] * m if fmmc else None,
                options=dict(maxcor=30, ftol=0.0, gtol=0.0, maxiter=max_iter_per_stage // (AL_ROUNDS if fmmc else 1), maxls=30),
                callback=stop_at_deadline,
            )
            x = res.x
            nit += int(res.nit)
            if fmmc:
                zmul = np.maximum(0.0, zmul + AL_RHO * (degrees(x) - 1.0))
            if deadline is not None and time.perf_counter() > deadline:
                break
        w = x
        if fmmc:
            w, _ = _repair_fmmc_weights(n, ei, ej, w, 1e-2)
        s, lb, dual = certify(w, mu)
        history.append(dict(stage=stage, mu=mu, iterations=nit, slem=s, lower_bound=lb, time_s=time.perf_counter() - t0))
        if progress is not None:
            progress(dict(path="first_order", **history[-1]))
        if best is None or s - lb < best[1] - best[2]:
            best = (w, s, lb, dual)
        if s - lb <= tol or (time_limit_s is not None and time.perf_counter() - t0 > time_limit_s):
            break
        mu = mu / 10.0
    polished = None
    if polish_time_s > 0 and best[1] - best[2] > tol:
        from problems._sdp_bundle import polish

        def extremes(w, k):
            Wsp = Wop.set(w)
            nev[0] += 1
            if dense:
                lam, V, _ = eigs.dense(Wsp)
                return lam[::-1][:k], V[:, ::-1][:, :k], lam[:k], V[:, :k]
            # a block wider than the optimum's clusters (ten equal eigenvalues on 4-regular graphs at
            # n = 1000): LOBPCG with a block smaller than a cluster converges slowly inside it
            kb = max(k, POLISH_BLOCK)
            eigs.k = [kb, kb]
            lam, V, _ = eigs(Wsp, 0.0, tol=1e-10, maxiter=200)
            return lam[:k], V[:, :k], lam[kb : kb + k], V[:, kb : kb + k]

        from problems._sdp_bundle import restricted_dual

        wp, sp_, pinfo = polish(kind, n, ei, ej, best[0], extremes, time_limit_s=polish_time_s, tol=1e-3 * tol)
        if fmmc:
            wp, _ = _repair_fmmc_weights(n, ei, ej, wp, 1e-2)
        # the full-PSD candidate comes from restricted_dual below (Clarabel's own API): the cvxpy
        # form of the same problem ran out of memory in canonicalization on a 6,468-edge graph
        # with 16 vectors per end (a 251M-entry coefficient tensor)
        s, lb, dual = certify(wp, max(sp_ - best[2], 1e-9) / 40.0, psd=False)
        # the bundle's own dual: the restricted dual on the polish's final bases
        # on a wider basis than the polish's: the centre's KPSD extreme vectors, then the bundle's
        from problems._sdp_bundle import _orth

        from problems._sdp_bundle import _near

        lt_, Vt_, lb_, Vb_ = extremes(wp, KPSD)
        Qt, Qb = pinfo["bases"]
        Qt = _orth(np.hstack([Vt_, Qt]))[:, :KPSD] if _near(lt_[0], sp_) else Qt[:, :0]
        Qb = _orth(np.hstack([Vb_, Qb]))[:, :KPSD] if _near(-lb_[0], sp_) else Qb[:, :0]
        S = restricted_dual(n, ei, ej, Qt, Qb, wp, kind)
        if S is not None:
            vecs, coefs = [], []
            for sign, Q, Sm in ((1.0, Qt, S[0]), (-1.0, Qb, S[1])):
                if Sm.size == 0:
                    continue
                ev, U = np.linalg.eigh(0.5 * (Sm + Sm.T))
                keep = ev > 1e-14 * max(ev.max(initial=0.0), 1e-300)
                vecs.append(Q @ U[:, keep])
                coefs.append(sign * ev[keep])
            if vecs and sum(v.shape[1] for v in vecs):
                V, c = np.hstack(vecs), np.concatenate(coefs)
                d = LowRankDual(V, c, np.maximum(_best_fmmc_z(n, ei, ej, V, c), 0.0) if fmmc else None, kind)
                lb2 = certified_lower_bound(n, np.stack([ei, ej], axis=1), d)
                if lb2 > lb:
                    lb, dual = lb2, d
        history.append(dict(stage="polish", mu=0.0, iterations=pinfo["iterations"], slem=s, lower_bound=lb, time_s=time.perf_counter() - t0))
        if progress is not None:
            progress(dict(path="first_order", **history[-1]))
        if s - lb < best[1] - best[2]:
            best = (wp, s, lb, dual)
        polished = dict(status=pinfo["status"], iterations=pinfo["iterations"], time_s=pinfo["time_s"], slem=sp_)
    w, s, lb, dual = best
    info = dict(evaluations=nev[0], stages=history, block_sizes=tuple(eigs.k), polish=polished)
    return w, s, min(lb, s), dual, info

"""Input checks of the FMMC / FDLA solvers, the weights-to-matrix map, and the repair of a
solver's edge weights onto the feasible set (the overview is in :mod:`problems._sdp`)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components


class SDPSolveError(RuntimeError, ValueError):
    """The SDP could not be solved to a valid answer (failure, unavailable solver, bad option).

    Derives from both :class:`RuntimeError` and :class:`ValueError`, so either
    can be caught.
    """


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


def _incidence(n, ei, ej):
    """``(A^T, |A|, |A|^T)`` as CSR matrices, for the signed incidence matrix ``A`` (``n x m``,
    column ``e`` is ``e_i - e_j``)."""
    m = len(ei)
    rows, cols = np.r_[np.arange(m), np.arange(m)], np.r_[ei, ej]
    At = sp.csr_matrix((np.r_[np.ones(m), -np.ones(m)], (rows, cols)), shape=(m, n))
    absA = sp.csr_matrix((np.ones(2 * m), (cols, rows)), shape=(n, m))
    return At, absA, absA.T.tocsr()

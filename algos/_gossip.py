"""Structured gossip: ``W @ X`` without a dense ``n x n`` matrix.

A :class:`GossipOperator` stands for a mixing matrix ``W`` (as built by
:mod:`problems.mixing`) and applies it to node-stacked iterates ``X`` (n, d):
``op @ X == W @ X``. Three forms, chosen by :func:`from_matrix`:

* ``"dense"``: the matrix itself; ``O(n^2 d)`` per product (best for small or
  dense graphs).
* ``"edges"``: the diagonal plus the off-diagonal nonzeros as an edge list,
  applied with a gather and ``jax.ops.segment_sum``; ``O(nnz(W) d)``.
* ``"circulant"``: ``W`` invariant under cyclic shifts of the node labels on a
  1-D or 2-D grid (ring, torus, exponential graph with uniform weights, e.g.
  Metropolis weights on these regular graphs); ``W @ X`` is a weighted sum of
  ``jnp.roll``'s of ``X``, ``O(k d n)`` for ``k`` distinct offsets, with no
  index arrays at all. On a 2-D grid of ``rows x cols`` nodes labelled
  row-major (``graphs.torus``), ``X`` is viewed as (rows, cols, d) and rolled
  along both grid axes.

The operator is a JAX pytree (weights and indices are leaves, the form and the
offsets are static), so it can sit in an algorithm's ``params`` in place of the
dense ``W``: an update written as ``W @ X`` works unchanged, and sweeps that
``vmap`` over float leaves still do. ``np.asarray(op)`` gives the dense matrix
back, so :func:`problems.mixing.check_mixing` and the spectral functions accept
an operator too.

Example::

    g = graphs.ring(1024)
    op = from_matrix(mixing.metropolis(g))          # -> circulant, offsets (-1, 0, 1)
    Y = op @ X                                      # == W @ X
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["GossipOperator", "from_matrix", "dense", "edges", "circulant", "as_param"]


def as_param(W_given, W_dense):
    """What a factory stores as ``params["W"]``: the operator the caller passed, else the dense matrix.

    Every factory validates ``W`` through its dense form (``W_dense``, a NumPy array) and then keeps
    the caller's :class:`GossipOperator` when one was given, so structured gossip reaches the kernels.
    """
    return W_given if isinstance(W_given, GossipOperator) else jnp.asarray(W_dense)


@jax.tree_util.register_pytree_node_class
class GossipOperator:
    """``W`` as a linear operator on node-stacked arrays; see the module docstring.

    Attributes:
        kind: ``"dense"``, ``"edges"`` or ``"circulant"`` (static).
        n: number of nodes (static).
        arrays: the form's arrays (leaves): dense ``(W,)``; edges ``(diag, rows, cols, weights)``;
            circulant ``(weights,)`` with one weight per offset.
        offsets: circulant only (static): tuple of per-axis shifts, one tuple per weight.
        grid: circulant only (static): the grid shape, ``(n,)`` or ``(rows, cols)``.
    """

    def __init__(self, kind: str, n: int, arrays: tuple, offsets: tuple = (), grid: tuple = ()):
        if kind not in ("dense", "edges", "circulant"):
            raise ValueError(f"unknown gossip form {kind!r}; use 'dense', 'edges' or 'circulant'")
        self.kind, self.n, self.arrays, self.offsets, self.grid = kind, int(n), tuple(arrays), tuple(offsets), tuple(grid)

    # --- pytree -----------------------------------------------------------
    def tree_flatten(self):
        return self.arrays, (self.kind, self.n, self.offsets, self.grid)

    @classmethod
    def tree_unflatten(cls, aux, children):
        kind, n, offsets, grid = aux
        return cls(kind, n, tuple(children), offsets, grid)

    # --- array-like -------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        return (self.n, self.n)

    @property
    def ndim(self) -> int:
        return 2

    @property
    def dtype(self):
        return jnp.result_type(self.arrays[-1] if self.kind != "dense" else self.arrays[0])

    @property
    def nnz(self) -> int:
        """Number of structurally nonzero entries of ``W`` (diagonal included)."""
        if self.kind == "dense":
            return int(np.count_nonzero(np.asarray(self.arrays[0])))
        if self.kind == "edges":
            return self.n + int(np.shape(self.arrays[1])[0])
        return self.n * len(self.offsets)

    def __repr__(self):
        extra = f", offsets={self.offsets}, grid={self.grid}" if self.kind == "circulant" else ""
        return f"GossipOperator(kind={self.kind!r}, n={self.n}, nnz={self.nnz}{extra})"

    def __matmul__(self, X):
        return self.apply(X)

    def __array__(self, dtype=None, copy=None):
        W = self.to_dense()
        return W.astype(dtype) if dtype is not None else W

    # --- the product --------------------------------------------------------
    def apply(self, X):
        """``W @ X`` for ``X`` of shape (n,) or (n, ...)."""
        X = jnp.asarray(X)
        if X.shape[0] != self.n:
            raise ValueError(f"gossip operator on {self.n} nodes applied to an array with leading axis {X.shape[0]}")
        if self.kind == "dense":
            return self.arrays[0] @ X
        if self.kind == "edges":
            diag, rows, cols, w = self.arrays
            wb = w.reshape(w.shape + (1,) * (X.ndim - 1))
            db = diag.reshape(diag.shape + (1,) * (X.ndim - 1))
            return db * X + jax.ops.segment_sum(wb * X[cols], rows, num_segments=self.n, indices_are_sorted=True)
        (w,) = self.arrays
        Xg = X.reshape(self.grid + X.shape[1:])
        axes = tuple(range(len(self.grid)))
        out = None
        for k, off in enumerate(self.offsets):
            shifted = Xg if not any(off) else jnp.roll(Xg, tuple(-o for o in off), axis=axes)
            term = w[k] * shifted
            out = term if out is None else out + term
        return out.reshape(X.shape)

    def to_dense(self) -> np.ndarray:
        """The matrix ``W`` as a NumPy array."""
        if self.kind == "dense":
            return np.asarray(self.arrays[0])
        n = self.n
        W = np.zeros((n, n), dtype=np.result_type(np.asarray(self.arrays[-1]).dtype, np.float32))
        if self.kind == "edges":
            diag, rows, cols, w = (np.asarray(a) for a in self.arrays)
            W[np.arange(n), np.arange(n)] = diag
            W[rows, cols] = w
            return W
        (w,) = (np.asarray(a) for a in self.arrays)
        coords = np.stack(np.unravel_index(np.arange(n), self.grid), axis=1)  # (n, len(grid))
        for k, off in enumerate(self.offsets):
            nbr = np.ravel_multi_index(tuple(((coords[:, a] + off[a]) % self.grid[a]) for a in range(len(self.grid))), self.grid)
            W[np.arange(n), nbr] += w[k]
        return W


# --- constructors -------------------------------------------------------------
def dense(W) -> GossipOperator:
    """The dense form (``W @ X`` as a matrix product)."""
    W = jnp.asarray(W)
    return GossipOperator("dense", W.shape[0], (W,))


def edges(W, atol: float = 0.0) -> GossipOperator:
    """The edge-list form: the diagonal plus every off-diagonal entry with ``|W_ij| > atol``."""
    Wn = np.asarray(W)
    n = Wn.shape[0]
    off = np.abs(Wn) > atol
    np.fill_diagonal(off, False)
    rows, cols = np.nonzero(off)  # row-major: rows sorted
    return GossipOperator(
        "edges",
        n,
        (jnp.asarray(np.diag(Wn).copy()), jnp.asarray(rows.astype(np.int32)), jnp.asarray(cols.astype(np.int32)), jnp.asarray(Wn[rows, cols])),
    )


def _circulant_weights(Wn: np.ndarray, grid: tuple[int, ...], atol: float):
    """(offsets, weights) if ``Wn`` is shift-invariant on ``grid``, else None."""
    n = Wn.shape[0]
    if int(np.prod(grid)) != n:
        return None
    coords = np.stack(np.unravel_index(np.arange(n), grid), axis=1)
    first = Wn[0]
    nz = np.nonzero(np.abs(first) > atol)[0]
    offsets, weights = [], []
    rebuilt = np.zeros_like(Wn)
    for j in nz:
        off = tuple(int(o) for o in np.unravel_index(j, grid))  # offset of node j from node 0
        # a symmetric shift reads better as -1 than as n-1
        off = tuple(o - g if o > g // 2 else o for o, g in zip(off, grid))
        nbr = np.ravel_multi_index(tuple((coords[:, a] + off[a]) % grid[a] for a in range(len(grid))), grid)
        rebuilt[np.arange(n), nbr] += first[j]
        offsets.append(off)
        weights.append(first[j])
    if not np.allclose(rebuilt, Wn, atol=max(atol, 1e-12), rtol=0):
        return None
    return tuple(offsets), np.asarray(weights)


def circulant(W, grid: tuple[int, ...] | None = None, atol: float = 0.0) -> GossipOperator:
    """The roll form; ``W`` must be invariant under cyclic shifts on ``grid`` (default ``(n,)``).

    Raises:
        ValueError: if ``W`` is not shift-invariant on the grid.
    """
    Wn = np.asarray(W)
    grid = (Wn.shape[0],) if grid is None else tuple(int(g) for g in grid)
    found = _circulant_weights(Wn, grid, atol)
    if found is None:
        raise ValueError(
            f"W is not invariant under cyclic shifts on a grid of shape {grid}; "
            "use edges(W) (any sparsity pattern) or dense(W)"
        )
    offsets, w = found
    return GossipOperator("circulant", Wn.shape[0], (jnp.asarray(w),), offsets=offsets, grid=grid)


def from_matrix(W, structure: str = "auto", *, grid: tuple[int, ...] | None = None, atol: float = 0.0) -> GossipOperator:
    """Pick a form for ``W``.

    Args:
        W: (n, n) mixing matrix (e.g. from :mod:`problems.mixing`).
        structure: ``"auto"`` (circulant when ``W`` is shift-invariant on ``grid`` or on
            the 1-D ring of labels; else edges when at most a quarter of the entries are
            nonzero; else dense), or one of ``"dense"``, ``"edges"``, ``"circulant"``.
        grid: grid shape for the circulant form, e.g. ``(rows, cols)`` for ``graphs.torus``.
        atol: entries with ``|W_ij| <= atol`` count as zero.
    """
    if structure == "dense":
        return dense(W)
    if structure == "edges":
        return edges(W, atol)
    if structure == "circulant":
        return circulant(W, grid, atol)
    if structure != "auto":
        raise ValueError(f"unknown structure {structure!r}; use 'auto', 'dense', 'edges' or 'circulant'")
    Wn = np.asarray(W)
    n = Wn.shape[0]
    for g in ([tuple(grid)] if grid is not None else []) + [(n,)]:
        found = _circulant_weights(Wn, g, atol)
        if found is not None and len(found[0]) * 4 <= n:
            offsets, w = found
            return GossipOperator("circulant", n, (jnp.asarray(w),), offsets=offsets, grid=g)
    if np.count_nonzero(np.abs(Wn) > atol) * 4 <= n * n:
        return edges(Wn, atol)
    return dense(Wn)

"""Synthetic decentralized convex problems with known optima and constants.

The global objective is the *average* of the local ones,

    f(x) = (1/n) sum_i f_i(x),   x* = argmin f,   f* = f(x*),

and each local ``f_i`` is ``L``-smooth and ``mu``-strongly convex. Oracles are
node-stacked: ``X`` has shape ``(n_nodes, dim)`` and row ``i`` is node ``i``'s
iterate. Every oracle is derived with JAX autodiff from one scalar local loss
``loss(data_i, x)``.

Heterogeneity is ``zeta^2 = (1/n) sum_i ||grad f_i(x*)||^2``; gradient noise has
``E ||stoch_grad - grad||^2 = sigma^2`` per node.

A :class:`Problem` is a JAX pytree (arrays and constants are leaves; the loss
function and name are static), so it can be passed into jitted functions as an
argument and vmapped over.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["Problem", "quadratic", "check_constants"]


def check_constants(L: float, mu: float) -> None:
    """Raise ``ValueError`` unless ``0 < mu <= L`` (both finite)."""
    if not (np.isfinite(L) and np.isfinite(mu)):
        raise ValueError(f"L and mu must be finite, got L={L}, mu={mu}")
    if mu <= 0:
        raise ValueError(f"mu must be positive (strong convexity), got mu={mu}")
    if mu > L:
        raise ValueError(f"mu={mu} > L={L}: the strong convexity constant cannot exceed the smoothness constant; swap them?")


@dataclasses.dataclass(frozen=True)
class Problem:
    """A decentralized finite-sum problem ``min_x (1/n) sum_i f_i(x)``.

    Attributes:
        data: pytree of node-stacked arrays (leading axis ``n_nodes``) read by ``loss``.
        x_star: (dim,) the minimizer of the average objective.
        f_star: optimal value ``f(x*)``.
        L, mu: smoothness and strong convexity of every local ``f_i``.
        sigma: gradient-noise standard deviation (``E||g - grad f_i||^2 = sigma^2``).
        zeta: heterogeneity ``sqrt((1/n) sum_i ||grad f_i(x*)||^2)``.
        loss: static ``loss(data_i, x) -> scalar`` (module-level function).
        noise: static; "gaussian" (additive) or "minibatch".
        name: static kind of problem ("quadratic", ...). Keep it free of per-instance
            constants: static fields are part of the jit cache key. See :meth:`describe`.
        conj: static; ``conj(data_i, theta) -> grad f_i^*(theta)`` when available, else None.
    """

    data: Any
    x_star: Any
    f_star: Any
    L: Any
    mu: Any
    sigma: Any
    zeta: Any
    loss: Callable = dataclasses.field(metadata=dict(static=True))
    noise: str = dataclasses.field(default="gaussian", metadata=dict(static=True))
    name: str = dataclasses.field(default="problem", metadata=dict(static=True))
    conj: Callable | None = dataclasses.field(default=None, metadata=dict(static=True))

    @property
    def n_nodes(self) -> int:
        return jax.tree_util.tree_leaves(self.data)[0].shape[0]

    @property
    def dim(self) -> int:
        return self.x_star.shape[-1]

    def describe(self) -> str:
        """Human-readable description with the constants."""
        return (
            f"{self.name}(n={self.n_nodes}, d={self.dim}, L={float(self.L):g}, mu={float(self.mu):g}, "
            f"sigma={float(self.sigma):g}, zeta={float(self.zeta):g})"
        )

    @property
    def kappa(self):
        return self.L / self.mu

    # --- oracles (node-stacked) -----------------------------------------
    def value(self, X):
        """(n,) local values ``f_i(x_i)``."""
        return jax.vmap(self.loss)(self.data, X)

    def grad(self, X):
        """(n, dim) local gradients ``grad f_i(x_i)``."""
        return jax.vmap(jax.grad(self.loss, argnums=1))(self.data, X)

    def stoch_grad(self, key, X):
        """(n, dim) stochastic gradients with ``E||g_i - grad f_i(x_i)||^2 = sigma^2``."""
        g = self.grad(X)
        noise = jax.random.normal(key, g.shape, dtype=g.dtype)
        return g + (self.sigma / jnp.sqrt(g.shape[-1])) * noise

    def hvp(self, X, V):
        """(n, dim) Hessian-vector products ``H_i(x_i) v_i``."""
        gi = jax.grad(self.loss, argnums=1)
        return jax.vmap(lambda d, x, v: jax.jvp(lambda z: gi(d, z), (x,), (v,))[1])(self.data, X, V)

    def conj_grad(self, Theta):
        """(n, dim) gradients of the conjugates ``grad f_i^*(theta_i) = argmax_x <theta_i, x> - f_i(x)``."""
        if self.conj is None:
            raise NotImplementedError(
                f"problem {self.name!r} has no closed-form conjugate gradient; dual methods such as MSDA "
                "need quadratic() or least_squares()"
            )
        return jax.vmap(self.conj)(self.data, Theta)

    def objective(self, x):
        """Average objective ``f(x) = (1/n) sum_i f_i(x)`` at one point ``x`` (dim,)."""
        X = jnp.broadcast_to(x, (self.n_nodes, x.shape[-1]))
        return jnp.mean(self.value(X))

    def x0(self):
        """Default starting point: zeros (n, dim)."""
        return jnp.zeros((self.n_nodes, self.dim), dtype=jnp.result_type(self.x_star))


jax.tree_util.register_dataclass(
    Problem,
    data_fields=["data", "x_star", "f_star", "L", "mu", "sigma", "zeta"],
    meta_fields=["loss", "noise", "name", "conj"],
)


# --- quadratic ------------------------------------------------------------------
def _quadratic_loss(d, x):
    return 0.5 * x @ (d["A"] @ x) - d["b"] @ x


def _quadratic_conj(d, theta):
    return d["A_inv"] @ (theta + d["b"])


def _orthogonal(rng: np.random.Generator, dim: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
    return q * np.sign(np.diag(r))


def _zero_mean_directions(rng: np.random.Generator, n: int, dim: int, zeta: float) -> np.ndarray:
    """(n, dim) vectors summing to 0 with (1/n) sum ||g_i||^2 = zeta^2."""
    g = rng.standard_normal((n, dim))
    g -= g.mean(axis=0)
    ms = float(np.mean(np.sum(g**2, axis=1)))
    return g * (zeta / np.sqrt(ms)) if ms > 0 else g * 0.0


def quadratic(
    n_nodes: int,
    dim: int,
    L: float = 10.0,
    mu: float = 1.0,
    key: int = 0,
    heterogeneity: float = 1.0,
    *,
    sigma: float = 0.0,
    shared_eigenvectors: bool = True,
) -> Problem:
    """Quadratics ``f_i(x) = 1/2 x^T A_i x - b_i^T x`` with spectra in ``[mu, L]``.

    Each ``A_i = Q_i diag(lambda^(i)) Q_i^T`` has its smallest eigenvalue exactly
    ``mu`` and largest exactly ``L`` (the rest uniform in between). With
    ``shared_eigenvectors`` (default) all nodes share ``Q`` and put ``mu`` and
    ``L`` on the same eigenvectors, so the average Hessian also has condition
    number exactly ``kappa = L/mu``. The optimum ``x*`` is drawn first and
    ``b_i = A_i x* - g_i`` with ``sum_i g_i = 0`` and ``(1/n) sum ||g_i||^2 =
    heterogeneity^2``: ``x*`` is exact, ``zeta = heterogeneity``.

    Args:
        n_nodes: number of nodes n (>= 1).
        dim: dimension d (>= 2 unless ``L == mu``).
        L, mu: smoothness and strong convexity, ``0 < mu <= L``.
        key: integer seed.
        heterogeneity: zeta >= 0.
        sigma: gradient noise level for ``stoch_grad``.
        shared_eigenvectors: see above.
    """
    check_constants(L, mu)
    if n_nodes < 1 or dim < 1:
        raise ValueError(f"n_nodes and dim must be positive, got {n_nodes}, {dim}")
    if dim < 2 and L != mu:
        raise ValueError("dim must be >= 2 for a spectrum spanning [mu, L] (or pass L == mu)")
    if heterogeneity < 0 or sigma < 0:
        raise ValueError("heterogeneity and sigma must be nonnegative")
    rng = np.random.default_rng(key)
    Q = _orthogonal(rng, dim)
    A = np.empty((n_nodes, dim, dim))
    for i in range(n_nodes):  # data construction, once, in NumPy
        lam = np.sort(rng.uniform(mu, L, size=dim))
        lam[0], lam[-1] = mu, L
        Qi = Q if shared_eigenvectors else _orthogonal(rng, dim)
        A[i] = (Qi * lam) @ Qi.T
        A[i] = 0.5 * (A[i] + A[i].T)
    x_star = rng.standard_normal(dim) / np.sqrt(dim)
    g = _zero_mean_directions(rng, n_nodes, dim, heterogeneity)
    b = np.einsum("nij,j->ni", A, x_star) - g
    A_inv = np.linalg.inv(A)
    f_star = float(np.mean(0.5 * np.einsum("i,nij,j->n", x_star, A, x_star) - b @ x_star))
    data = {"A": jnp.asarray(A), "b": jnp.asarray(b), "A_inv": jnp.asarray(A_inv)}
    return Problem(
        data=data,
        x_star=jnp.asarray(x_star),
        f_star=f_star,
        L=float(L),
        mu=float(mu),
        sigma=float(sigma),
        zeta=float(heterogeneity),
        loss=_quadratic_loss,
        noise="gaussian",
        name="quadratic",
        conj=_quadratic_conj,
    )

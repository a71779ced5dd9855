"""The type of a decentralized convex problem (:class:`Problem`), its constants check and the
argument checks its instances share; the instances themselves are in :mod:`problems.convex`, which
re-exports everything public here.

The node-stacked oracles (``value``, ``grad``, stochastic gradients, ...) come from
:class:`problems._oracles.NodeStackedOracles`; this module adds the fields that make a problem
convex with known constants (``x_star``, ``f_star``, ``L``, ``mu``, ``sigma``, ``zeta``) and the
conjugate oracle of the quadratic-type problems.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from problems import _checks
from problems._oracles import NodeStackedOracles


NOISE_KINDS = ("gaussian", "minibatch")


def check_constants(L: float, mu: float) -> None:
    """Raise ``ValueError`` unless ``0 < mu <= L`` (both finite); ``TypeError`` for a non-number."""
    _checks.real(L, "L")
    _checks.real(mu, "mu")
    if not (np.isfinite(L) and np.isfinite(mu)):
        raise ValueError(f"L and mu must be finite, got L={L}, mu={mu}")
    if mu <= 0:
        raise ValueError(f"mu must be positive (strong convexity), got mu={mu}")
    if mu > L:
        raise ValueError(f"mu={mu} > L={L}: the strong convexity constant cannot exceed the smoothness constant; swap them?")


@dataclasses.dataclass(frozen=True)
class Problem(NodeStackedOracles):
    """A decentralized finite-sum problem ``min_x (1/n) sum_i f_i(x)``.

    Attributes:
        data: pytree of node-stacked arrays (leading axis ``n_nodes``) read by ``loss``.
        x_star: (dim,) the minimizer of the average objective.
        f_star: optimal value ``f(x*)``.
        L, mu: smoothness and strong convexity of every local ``f_i``.
        sigma: gradient-noise level. Gaussian noise: ``E||g_i - grad f_i(x)||^2 = sigma^2``
            everywhere. Minibatch noise: ``sigma^2 = max_i E||g_i - grad f_i(x*)||^2``, the
            variance *at the optimum* (it grows away from it).
        zeta: heterogeneity ``sqrt((1/n) sum_i ||grad f_i(x*)||^2)``.
        loss: static ``loss(data_i, x) -> scalar`` (module-level function).
        noise: static; "gaussian" (additive) or "minibatch".
        name: static kind of problem ("quadratic", ...). Keep it free of per-instance
            constants: static fields are part of the jit cache key. See :meth:`describe`.
        conj: static; ``conj(data_i, theta) -> grad f_i^*(theta)`` when available, else None.
        sample_loss: static; ``sample_loss(data_i, j, x) -> scalar``, the loss of node ``i``'s
            sample ``j`` (regularizer included) with ``loss(data_i, x) = mean_j sample_loss(data_i, j, x)``;
            None for problems without samples. Needed by minibatch noise.
        batch_size: static; samples per node per stochastic gradient (minibatch noise). It is a
            shape, so it has to be static: problems differing only in batch size compile separately.
        summary: averaged data for O(d^2) evaluations of the average objective, or None. The
            quadratic-type problems carry ``{"A_bar": (1/n) sum_i A_i}``: their average objective is
            ``f(x) - f* = 1/2 (x - x*)^T A_bar (x - x*)`` exactly (``A_bar x* = b_bar``), which
            :meth:`suboptimality` uses instead of evaluating all n local losses.
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
    sample_loss: Callable | None = dataclasses.field(default=None, metadata=dict(static=True))
    batch_size: int = dataclasses.field(default=1, metadata=dict(static=True))
    summary: Any = None

    def __post_init__(self):
        if self.noise not in NOISE_KINDS:
            raise ValueError(f"noise must be one of {NOISE_KINDS}, got {self.noise!r}")
        if self.noise == "minibatch" and self.sample_loss is None:
            raise ValueError(f"problem {self.name!r}: minibatch noise needs a sample_loss (a problem built from samples)")
        if not isinstance(self.batch_size, (int, np.integer)) or self.batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {self.batch_size!r}")

    @property
    def n_nodes(self) -> int:
        return jax.tree_util.tree_leaves(self.data)[0].shape[0]

    @property
    def dim(self) -> int:
        return self.x_star.shape[-1]

    @property
    def n_samples(self) -> int | None:
        """Samples per node for data problems (least squares, logistic), else None."""
        if isinstance(self.data, dict) and "M" in self.data:
            return self.data["M"].shape[1]
        return None

    def describe(self) -> str:
        """Human-readable description with the constants."""
        extra = f", m={self.n_samples}, batch={self.batch_size}" if self.noise == "minibatch" else ""
        return (
            f"{self.name}(n={self.n_nodes}, d={self.dim}{extra}, L={float(self.L):g}, mu={float(self.mu):g}, "
            f"sigma={float(self.sigma):g} [{self.noise}], zeta={float(self.zeta):g})"
        )

    @property
    def kappa(self):
        return self.L / self.mu

    @property
    def sigma_bar(self):
        """Node-averaged noise level: ``sqrt((1/n) sum_i E||g_i - grad f_i(x*)||^2)`` (<= ``sigma``).

        Minibatch noise: ``sqrt(mean_i sample_var_i / batch_size)`` (at ``x*``, the ``sigma_bar`` of
        Koloskova et al. 2020); Gaussian noise: ``sigma`` (the same at every node).
        """
        if self.noise == "minibatch":
            return jnp.sqrt(jnp.mean(self.data["sample_var"]) / self.batch_size)
        return self.sigma

    def with_batch_size(self, batch_size: int) -> Problem:
        """The same data problem with another minibatch size (``sigma`` recomputed; a new jit cache entry)."""
        if self.noise != "minibatch":
            raise ValueError(f"with_batch_size: problem {self.name!r} has {self.noise!r} noise, not minibatch")
        if int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
        sigma = jnp.sqrt(jnp.max(self.data["sample_var"]) / batch_size)
        return dataclasses.replace(self, sigma=sigma, batch_size=int(batch_size))

    # --- oracles (node-stacked) -----------------------------------------
    def stoch_grad(self, key, X):
        """(n, dim) unbiased stochastic gradients; the kind is the static field ``noise``.

        * ``"gaussian"``: ``grad f_i(x_i) + (sigma/sqrt(d)) xi_i``, ``E||g_i - grad f_i(x_i)||^2 = sigma^2``.
        * ``"minibatch"``: node ``i`` averages ``grad sample_loss(data_i, j, x_i)`` over ``batch_size``
          indices ``j`` drawn uniformly with replacement from its own samples (independently across
          nodes); ``E||g_i - grad f_i(x_i)||^2 = v_i(x_i)/batch_size`` with ``v_i`` the per-sample
          gradient variance, which equals ``sigma^2`` at most at ``x*``.
        """
        self._check_X(X)
        if self.noise == "gaussian":
            g = self.grad(X)
            noise = jax.random.normal(key, g.shape, dtype=g.dtype)
            return g + (self.sigma / jnp.sqrt(g.shape[-1])) * noise
        if self.noise == "minibatch":
            m = self.n_samples
            idx = jax.random.randint(key, (self.n_nodes, self.batch_size), 0, m)
            sample_loss = self.sample_loss

            def node_grad(d, j, x):
                batch = lambda z: jnp.mean(jax.vmap(lambda jj: sample_loss(d, jj, z))(j))  # noqa: E731
                return jax.grad(batch)(x)

            return jax.vmap(node_grad)(self.data, idx, X)
        raise ValueError(f"unknown noise kind {self.noise!r}")  # unreachable: checked in __post_init__

    def hvp(self, X, V):
        """(n, dim) Hessian-vector products ``H_i(x_i) v_i``."""
        self._check_X(X)
        self._check_X(V, "V")
        gi = jax.grad(self.loss, argnums=1)
        return jax.vmap(lambda d, x, v: jax.jvp(lambda z: gi(d, z), (x,), (v,))[1])(self.data, X, V)

    def conj_grad(self, Theta):
        """(n, dim) gradients of the conjugates ``grad f_i^*(theta_i) = argmax_x <theta_i, x> - f_i(x)``."""
        if self.conj is None:
            raise NotImplementedError(
                f"problem {self.name!r} has no closed-form conjugate gradient; dual methods such as MSDA "
                "need quadratic(), least_squares() or averaging()"
            )
        self._check_X(Theta, "Theta")
        return jax.vmap(self.conj)(self.data, Theta)

    def objective(self, x):
        """Average objective ``f(x) = (1/n) sum_i f_i(x)`` at one point ``x`` (dim,)."""
        if tuple(jnp.shape(x)) != (self.dim,):
            raise ValueError(f"{self.name}: objective takes one point of shape (dim,) = ({self.dim},), got {tuple(jnp.shape(x))}")
        X = jnp.broadcast_to(x, (self.n_nodes, self.dim))
        return jnp.mean(self.value(X))

    def suboptimality(self, x):
        """``f(x) - f*`` at one point ``x`` (dim,).

        Quadratic-type problems (``summary["A_bar"]``): ``1/2 (x - x*)^T A_bar (x - x*)``, O(d^2) and
        free of the cancellation in ``f(x) - f*`` near the optimum; otherwise ``objective(x) - f_star``.
        """
        if isinstance(self.summary, dict) and "A_bar" in self.summary:
            if tuple(jnp.shape(x)) != (self.dim,):
                raise ValueError(f"{self.name}: suboptimality takes one point of shape (dim,) = ({self.dim},), got {tuple(jnp.shape(x))}")
            e = x - self.x_star
            return 0.5 * e @ (self.summary["A_bar"] @ e)
        return self.objective(x) - self.f_star

    def x0(self):
        """Default starting point (n, dim): zeros; for :func:`averaging`, the node values ``a_i``."""
        if self.name == "averaging":
            return jnp.asarray(self.data["b"])
        return jnp.zeros((self.n_nodes, self.dim), dtype=jnp.result_type(self.x_star))


jax.tree_util.register_dataclass(
    Problem,
    data_fields=["data", "x_star", "f_star", "L", "mu", "sigma", "zeta", "summary"],
    meta_fields=["loss", "noise", "name", "conj", "sample_loss", "batch_size"],
)


def _check_sizes(n_nodes: int, dim: int) -> tuple[int, int]:
    """``(n_nodes, dim)`` as Python ints (integer-valued floats accepted), both >= 1."""
    return _checks.integer(n_nodes, "n_nodes"), _checks.integer(dim, "dim")


def _check_noise(noise: str, sigma: float, batch_size: int) -> None:
    if noise not in NOISE_KINDS:
        raise ValueError(f"noise must be one of {NOISE_KINDS}, got {noise!r}")
    if not (np.isfinite(sigma) and sigma >= 0):
        raise ValueError(f"sigma must be finite and nonnegative, got {sigma}")
    if noise == "minibatch" and sigma != 0:
        raise ValueError("sigma is computed from the data for noise='minibatch'; pass sigma only with noise='gaussian'")
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size}")

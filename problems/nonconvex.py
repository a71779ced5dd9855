"""Synthetic smooth non-convex decentralized problems (stochastic oracles with known noise).

The global objective is the average ``f(x) = (1/n) sum_i f_i(x)`` as in :mod:`problems.convex`;
oracles are node-stacked (``X`` has shape ``(n_nodes, dim)``) and derived by JAX autodiff from one
scalar local loss ``loss(data_i, x)``. There is no known minimizer: the problems carry a reference
stationary point ``x_ref`` (computed by gradient descent on the average objective to float64
precision), and a run records the stationarity ``||grad f(x_bar)||^2``.

Problems:

* :func:`logcosh_regression` — robust regression with the log-cosh loss, a negative quadratic and a
  small quartic term (non-convex, coercive, C-infinity);
* :func:`two_layer` — softmax classification with a one-hidden-layer ``tanh`` network on synthetic
  Gaussian-cluster data with a per-node label skew (for the federated methods).

Gradient noise is Gaussian and additive (``noise="gaussian"``, as in :mod:`problems.convex`):
``g_i = grad f_i(x_i) + (sigma/sqrt(d)) xi_i``, so ``E g_i = grad f_i(x_i)`` and
``E||g_i - grad f_i(x_i)||^2 = sigma^2`` exactly at every point (tests/problems/test_nonconvex.py
checks both by Monte Carlo). ``zeta`` is the heterogeneity *at* ``x_ref``,
``sqrt((1/n) sum_i ||grad f_i(x_ref)||^2)`` (``grad f(x_ref) = 0``); the uniform bound that the
non-convex theory assumes (a supremum over x) is not computed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from problems._oracles import NodeStackedOracles
from problems._metrics import Metrics

__all__ = ["Problem", "logcosh_regression", "two_layer", "metrics", "stationary_point"]


@dataclasses.dataclass(frozen=True)
class Problem(NodeStackedOracles):
    """A smooth non-convex decentralized problem ``min_x (1/n) sum_i f_i(x)``.

    Attributes:
        data: pytree of node-stacked arrays (leading axis ``n_nodes``) read by ``loss``.
        x_ref: (dim,) a stationary point of the average objective (``||grad f(x_ref)|| <= 1e-10``).
        f_ref: ``f(x_ref)``.
        L: an upper bound on ``||Hessian f_i||_2`` on the ball ``||x|| <= radius`` (see the builder).
        sigma: Gaussian gradient-noise level, ``E||g_i - grad f_i(x)||^2 = sigma^2``.
        zeta: heterogeneity at ``x_ref`` (module docstring).
        radius: the radius of the ball on which ``L`` holds.
        x_init: (dim,) the default starting point of every node.
        loss: static ``loss(data_i, x) -> scalar`` (module-level function).
        name: static kind of problem.
    """

    data: Any
    x_ref: Any
    f_ref: Any
    L: Any
    sigma: Any
    zeta: Any
    radius: Any
    x_init: Any
    loss: Callable = dataclasses.field(metadata=dict(static=True))
    name: str = dataclasses.field(default="nonconvex", metadata=dict(static=True))

    noise = "gaussian"

    @property
    def n_nodes(self) -> int:
        return jax.tree_util.tree_leaves(self.data)[0].shape[0]

    @property
    def dim(self) -> int:
        return self.x_ref.shape[-1]

    def describe(self) -> str:
        return (f"{self.name}(n={self.n_nodes}, d={self.dim}, L<={float(self.L):.3g} on ||x||<={float(self.radius):g}, "
                f"sigma={float(self.sigma):g}, zeta(x_ref)={float(self.zeta):.3g})")  # fmt: skip

    def stoch_grad(self, key, X):
        """(n, dim) ``grad f_i(x_i) + (sigma/sqrt(d)) xi_i``, ``xi_i`` standard normal (unbiased, variance sigma^2)."""
        g = self.grad(X)
        return g + (self.sigma / jnp.sqrt(g.shape[-1])) * jax.random.normal(key, g.shape, dtype=g.dtype)

    def hvp(self, X, V):
        """(n, dim) Hessian-vector products ``H_i(x_i) v_i`` (forward over reverse autodiff)."""
        self._check_X(X)
        self._check_X(V, "V")
        gi = jax.grad(self.loss, argnums=1)
        return jax.vmap(lambda d, x, v: jax.jvp(lambda z: gi(d, z), (x,), (v,))[1])(self.data, X, V)

    def objective(self, x):
        """Average objective ``f(x)`` at one point ``x`` (dim,)."""
        return jnp.mean(jax.vmap(self.loss, in_axes=(0, None))(self.data, x))

    def objective_grad(self, x):
        """``grad f(x)`` of the average objective at one point ``x`` (dim,)."""
        return jax.grad(self.objective)(x)

    def x0(self):
        """Default start (n, dim): every node at ``x_init``."""
        return jnp.broadcast_to(jnp.asarray(self.x_init), (self.n_nodes, self.dim))


jax.tree_util.register_dataclass(
    Problem,
    data_fields=["data", "x_ref", "f_ref", "L", "sigma", "zeta", "radius", "x_init"],
    meta_fields=["loss", "name"],
)


def stationary_point(loss, data, x0, L: float, *, tol: float = 1e-11, max_iter: int = 200000) -> np.ndarray:
    """A stationary point of ``x -> mean_i loss(data_i, x)`` by gradient descent with step ``1/L`` from ``x0``.

    Raises:
        RuntimeError: when ``||grad f|| > tol`` after ``max_iter`` steps.
    """
    avg = lambda x: jnp.mean(jax.vmap(loss, in_axes=(0, None))(data, x))  # noqa: E731
    g = jax.jit(jax.grad(avg))

    @jax.jit
    def many(x):
        return jax.lax.fori_loop(0, 2000, lambda _, z: z - g(z) / L, x)

    x = jnp.asarray(x0, dtype=jnp.float64)
    for _ in range(max_iter // 2000):
        x = many(x)
        if float(jnp.linalg.norm(g(x))) <= tol:
            return np.asarray(x)
    raise RuntimeError(f"stationary_point: gradient norm {float(jnp.linalg.norm(g(x))):.3g} > {tol} after {max_iter} steps")


def _check_common(n_nodes, dim, sigma, heterogeneity):
    if int(n_nodes) != n_nodes or int(dim) != dim or n_nodes < 1 or dim < 1:
        raise ValueError(f"n_nodes and dim must be positive integers, got n_nodes={n_nodes}, dim={dim}")
    if not (np.isfinite(sigma) and sigma >= 0):
        raise ValueError(f"sigma must be finite and nonnegative, got {sigma}")
    if not (np.isfinite(heterogeneity) and heterogeneity >= 0):
        raise ValueError(f"heterogeneity must be finite and nonnegative, got {heterogeneity}")


# --- log-cosh regression with a double-well regularizer -----------------------------------
def _logcosh(r):
    """``log cosh r`` without overflow: ``|r| + log1p(exp(-2|r|)) - log 2``."""
    a = jnp.abs(r)
    return a + jnp.log1p(jnp.exp(-2.0 * a)) - jnp.log(2.0)


def _logcosh_loss(d, x):
    r = d["M"] @ x - d["y"]
    sq = x @ x
    return jnp.mean(_logcosh(r)) - 0.5 * d["nu"] * sq + 0.25 * d["gamma"] * sq * sq


def logcosh_regression(
    n_nodes: int,
    dim: int,
    samples_per_node: int = 20,
    key: int = 0,
    heterogeneity: float = 1.0,
    *,
    nu: float = 0.5,
    gamma: float = 0.05,
    sigma: float = 0.0,
    radius: float = 5.0,
) -> Problem:
    """``f_i(x) = (1/m) sum_j log cosh(a_ij^T x - y_ij) - (nu/2)||x||^2 + (gamma/4)||x||^4``.

    Features ``a_ij ~ N(0, I/dim)``; labels ``y_ij = a_ij^T w_i + 0.1 e_ij`` from per-node models
    ``w_i = w + heterogeneity v_i`` (``w, v_i ~ N(0, I)``). Non-convex: at ``x = 0`` the Hessian is
    ``(1/m) sum_j sech^2(y_ij) a_ij a_ij^T - nu I``, indefinite when ``nu`` exceeds its smallest
    data eigenvalue (the default ``nu = 0.5`` does on the default data). Smooth: ``log cosh`` has
    derivatives of every order bounded on the real line (``|tanh| <= 1``, ``sech^2 <= 1``, ...), and
    the polynomial part has bounded derivatives on every ball, so derivatives up to order four are
    bounded on ``||x|| <= radius``, where ``||Hessian f_i|| <= lambda_max((1/m) A_i^T A_i) + nu +
    3 gamma radius^2 =: L`` (``sech^2 <= 1``; the quartic's Hessian is ``gamma(||x||^2 I + 2 x x^T)``).

    Args:
        n_nodes, dim, samples_per_node: sizes.
        key: integer seed.
        heterogeneity: spread of the per-node models (0: identical data distributions).
        nu, gamma: the negative quadratic and the quartic weights (``nu >= 0``, ``gamma > 0``).
        sigma: Gaussian gradient-noise level.
        radius: the ball on which ``L`` is stated.
    """
    _check_common(n_nodes, dim, sigma, heterogeneity)
    if not (nu >= 0 and gamma > 0 and radius > 0):
        raise ValueError(f"need nu >= 0, gamma > 0 and radius > 0, got nu={nu}, gamma={gamma}, radius={radius}")
    if int(samples_per_node) != samples_per_node or samples_per_node < 1:
        raise ValueError(f"samples_per_node must be a positive integer, got {samples_per_node}")
    rng = np.random.default_rng(key)
    m = int(samples_per_node)
    M = rng.standard_normal((n_nodes, m, dim)) / np.sqrt(dim)
    w = rng.standard_normal(dim)
    models = w + heterogeneity * rng.standard_normal((n_nodes, dim))
    y = np.einsum("nmd,nd->nm", M, models) + 0.1 * rng.standard_normal((n_nodes, m))
    data = {"M": jnp.asarray(M), "y": jnp.asarray(y), "nu": jnp.full((n_nodes,), float(nu)),
            "gamma": jnp.full((n_nodes,), float(gamma))}  # fmt: skip
    gram_top = max(float(np.linalg.eigvalsh(M[i].T @ M[i] / m)[-1]) for i in range(n_nodes))
    L = gram_top + nu + 3.0 * gamma * radius**2
    x_init = np.zeros(dim)
    x_ref = stationary_point(_logcosh_loss, data, x_init + 0.1 * w / np.linalg.norm(w), L)
    if np.linalg.norm(x_ref) > radius:
        raise ValueError(f"logcosh_regression: the stationary point has norm {np.linalg.norm(x_ref):.3g} > radius={radius}; pass a larger radius")
    G = np.asarray(jax.vmap(jax.grad(_logcosh_loss, argnums=1), in_axes=(0, None))(data, jnp.asarray(x_ref)))
    zeta = float(np.sqrt(np.mean(np.sum(G**2, axis=1))))
    f_ref = float(jnp.mean(jax.vmap(_logcosh_loss, in_axes=(0, None))(data, jnp.asarray(x_ref))))
    return Problem(data=data, x_ref=jnp.asarray(x_ref), f_ref=f_ref, L=float(L), sigma=float(sigma), zeta=zeta,
                   radius=float(radius), x_init=jnp.asarray(x_init), loss=_logcosh_loss, name="logcosh_regression")  # fmt: skip


# --- a two-layer tanh network -------------------------------------------------------------
def _unpack(x, d_in, hidden, classes):
    i = 0
    W1 = x[i : i + d_in * hidden].reshape(d_in, hidden)
    i += d_in * hidden
    b1 = x[i : i + hidden]
    i += hidden
    W2 = x[i : i + hidden * classes].reshape(hidden, classes)
    i += hidden * classes
    b2 = x[i : i + classes]
    return W1, b1, W2, b2


def _two_layer_loss(d, x):
    d_in, hidden, classes = d["shape"].shape[0], d["shape"].shape[1], d["shape"].shape[2]
    W1, b1, W2, b2 = _unpack(x, d_in, hidden, classes)
    logits = jnp.tanh(d["Z"] @ W1 + b1) @ W2 + b2
    logp = logits - jax.scipy.special.logsumexp(logits, axis=1, keepdims=True)
    return -jnp.mean(jnp.sum(d["Y"] * logp, axis=1)) + 0.5 * d["reg"] * (x @ x)


def two_layer(
    n_nodes: int,
    d_in: int = 4,
    hidden: int = 8,
    classes: int = 3,
    samples_per_node: int = 32,
    key: int = 0,
    heterogeneity: float = 0.0,
    *,
    sigma: float = 0.0,
    reg: float = 1e-3,
    ref_tol: float = 1e-5,
) -> Problem:
    """Softmax cross-entropy of ``x -> W2^T tanh(W1^T z + b1) + b2`` on Gaussian clusters, plus ``reg/2 ||x||^2``.

    The parameter vector ``x`` (``dim = d_in*hidden + hidden + hidden*classes + classes``) stacks
    ``W1, b1, W2, b2``. Class ``c`` has centre ``mu_c ~ N(0, 4 I/d_in)`` and points ``mu_c + N(0, I)``.
    Label skew: node ``i`` draws its labels from ``softmax(heterogeneity * s_i)`` with ``s_i`` a
    random permutation of ``0..classes-1`` (``heterogeneity = 0``: uniform labels, iid nodes).
    ``L`` here is a *local estimate*: the largest Hessian eigenvalue of any ``f_i`` at ``x_init`` and
    ``x_ref`` (power iteration with autodiff HVPs) — not a global bound (the network has none).
    ``x_ref`` is a stationary point only to ``||grad f(x_ref)|| <= ref_tol`` (gradient descent from
    ``x_init``; a network's plateaus make float64-precise stationarity slow to reach).
    """
    _check_common(n_nodes, d_in, sigma, heterogeneity)
    rng = np.random.default_rng(key)
    m = int(samples_per_node)
    centres = 2.0 * rng.standard_normal((classes, d_in)) / np.sqrt(d_in)
    Z = np.empty((n_nodes, m, d_in))
    Y = np.zeros((n_nodes, m, classes))
    for i in range(n_nodes):  # data construction, once, in NumPy
        logits = heterogeneity * rng.permutation(classes)
        prob = np.exp(logits - logits.max())
        prob /= prob.sum()
        lab = rng.choice(classes, size=m, p=prob)
        Z[i] = centres[lab] + rng.standard_normal((m, d_in))
        Y[i, np.arange(m), lab] = 1.0
    dim = d_in * hidden + hidden + hidden * classes + classes
    data = {"Z": jnp.asarray(Z), "Y": jnp.asarray(Y), "reg": jnp.full((n_nodes,), float(reg)),
            "shape": jnp.zeros((n_nodes, d_in, hidden, classes))}  # fmt: skip
    x_init = 0.5 * rng.standard_normal(dim) / np.sqrt(hidden)
    L0 = _local_curvature(_two_layer_loss, data, x_init)
    x_ref = stationary_point(_two_layer_loss, data, x_init, 2.0 * L0, tol=ref_tol, max_iter=400000)
    L = max(L0, _local_curvature(_two_layer_loss, data, x_ref))
    G = np.asarray(jax.vmap(jax.grad(_two_layer_loss, argnums=1), in_axes=(0, None))(data, jnp.asarray(x_ref)))
    zeta = float(np.sqrt(np.mean(np.sum(G**2, axis=1))))
    f_ref = float(jnp.mean(jax.vmap(_two_layer_loss, in_axes=(0, None))(data, jnp.asarray(x_ref))))
    return Problem(data=data, x_ref=jnp.asarray(x_ref), f_ref=f_ref, L=float(L), sigma=float(sigma), zeta=zeta,
                   radius=float(np.linalg.norm(x_ref) + np.linalg.norm(x_init)), x_init=jnp.asarray(x_init),
                   loss=_two_layer_loss, name="two_layer")  # fmt: skip


def _local_curvature(loss, data, x, iters: int = 100) -> float:
    """max_i lambda_max(Hessian f_i(x)) by power iteration on autodiff HVPs (|eigenvalue| of largest modulus)."""
    gi = jax.grad(loss, argnums=1)

    @jax.jit
    def power(v):
        def body(_, v):
            hv = jax.vmap(lambda d, u: jax.jvp(lambda z: gi(d, z), (x,), (u,))[1])(data, v)
            return hv / jnp.linalg.norm(hv, axis=1, keepdims=True)

        v = jax.lax.fori_loop(0, iters, body, v)
        hv = jax.vmap(lambda d, u: jax.jvp(lambda z: gi(d, z), (x,), (u,))[1])(data, v)
        return jnp.max(jnp.linalg.norm(hv, axis=1))

    n = jax.tree_util.tree_leaves(data)[0].shape[0]
    v0 = jnp.ones((n, x.shape[0])) / np.sqrt(x.shape[0])
    return float(power(v0))


# --- what a run records ---------------------------------------------------------------------
def _instant(params, state, info) -> dict:
    del info
    p = params["problem"]
    X = state.X
    n = X.shape[0]
    x_bar = jnp.ones((n,), X.dtype) @ X / n
    E = X - x_bar
    g = p.objective_grad(x_bar)
    return {
        "grad_norm_sq": g @ g,
        "consensus_error": jnp.sqrt(jnp.mean(jnp.sum(E * E, axis=1))),
        "loss": p.objective(x_bar),
    }


#: The non-convex family's recorder: ``grad_norm_sq`` = ``||grad f(x_bar)||^2`` (primary),
#: ``consensus_error`` = ``sqrt((1/n) sum_i ||x_i - x_bar||^2)`` and ``loss`` = ``f(x_bar)``.
metrics = Metrics(instant=_instant, primary="grad_norm_sq")

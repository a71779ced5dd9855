"""Decentralized stochastic bilevel problems with node-stacked oracles and exact hypergradients.

The problem (the setting of Chen, Huang, Ma & Balasubramanian, ICML 2023, arXiv:2210.12839, and of
Yang, Zhang & Wang, NeurIPS 2022, arXiv:2206.10870; VERIFIED from their abstracts and PAPERS.md)::

    min_x Phi(x) = (1/n) sum_i f_i(x, y*(x)),   y*(x) = argmin_y g(x, y),   g = (1/n) sum_i g_i,

with every ``g_i(x, .)`` strongly convex. By the implicit-function theorem (textbook: e.g. Ghadimi &
Wang 2018, "Approximation methods for bilevel programming", Lemma 2.1)::

    grad Phi(x) = grad_x f(x, y*) - grad^2_xy g(x, y*) z*,   [grad^2_yy g(x, y*)] z* = grad_y f(x, y*),

with the *averaged* ``f`` and ``g``. ``grad^2_xy g`` here is the ``(dim_x, dim_y)`` matrix whose
product with ``z`` is ``grad_x <grad_y g(x, y), z>``.

Oracles are node-stacked: ``X`` (n, dim_x) and ``Y`` (n, dim_y) hold node ``i``'s copies in row
``i``. Every oracle is derived by JAX autodiff from the two scalar local functions ``f(data_i, x, y)``
and ``g(data_i, x, y)`` of the instance:

* ``grad_f_x(X, Y)`` (n, dim_x), ``grad_f_y(X, Y)`` (n, dim_y), ``grad_g_y(X, Y)`` (n, dim_y);
* ``hvp_g_yy(X, Y, V)`` (n, dim_y): ``grad^2_yy g_i(x_i, y_i) v_i`` (forward-over-reverse, no matrix);
* ``jvp_g_xy(X, Y, V)`` (n, dim_x): ``grad_x <grad_y g_i(x_i, y_i), v_i>`` (a vector-Jacobian
  product of ``grad_y g_i`` in ``x``; the papers call it a Jacobian-vector product);
* ``hess_g_yy(X, Y)`` (n, dim_y, dim_y) and ``jac_g_xy(X, Y)`` (n, dim_x, dim_y): the materialized
  matrices, for the Hessian-gossiping baseline only;
* ``stoch_<oracle>(key, ...)`` (``key``: a ``uint32[2]`` key, or one tagged by :func:`oracle_key`):
  the same plus independent Gaussian noise with
  ``E||noise_i||^2 = sigma^2`` for each node's output (Frobenius norm for matrices): unbiased, with
  known variance ``sigma^2`` per node and call. This noise model is ratebench's choice.

Exact quantities (references for traces and tests, computed with dense linear algebra on the
averaged functions, never used by the decentralized methods): ``y_star(x)`` (Newton's method on
``g(x, .)``: exact in one step when ``g`` is quadratic in ``y``, quadratically convergent otherwise),
``hypergrad(x)`` (the formula above), ``phi(x)`` and ``x_star`` (closed form for
:func:`quadratic`; ``None`` where unknown).

Constants: ``mu_g`` (strong convexity of every ``g_i(x, .)``, hence of ``g``), ``L_g`` (smoothness of
every ``g_i(x, .)`` in ``y``), ``L_f`` (smoothness of ``f_i`` in ``y``), and ``sigma``. Where they
depend on ``x`` the instance docstring says on which set they hold.

Instances:

* :func:`quadratic`: ``g_i = 1/2 y^T A_i y - y^T (B_i x + c_i)``, ``f_i = 1/2 ||y - d_i||^2 +
  (lam/2) ||x||^2``; ``y*(x) = Abar^-1 (Bbar x + cbar)``, ``grad Phi = lam x + Bbar^T Abar^-1 (y* -
  dbar)``, ``x*`` in closed form. The ``A_i`` are heterogeneous (different eigenbases), so the
  average of local inverses ``A_i^-1`` is not ``Abar^-1``: an estimator that uses local inverses is
  biased (:func:`local_inverse_hypergrad`).
* :func:`ridge_hyperparameters`: ridge regression whose per-coordinate regularization
  ``exp(x_j)`` is learned on validation data.
* :func:`hyper_cleaning`: l2-regularized logistic regression with one weight ``sigmoid(x_k)`` per
  training sample, on synthetic data with a fraction of flipped labels; ``f`` is the loss on clean
  validation data.

A :class:`BilevelProblem` is a JAX pytree (data arrays and constants are leaves; the local functions,
sizes and name are static), so it can be passed to jitted functions and vmapped over.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from problems._metrics import Metrics

__all__ = [
    "BilevelProblem",
    "quadratic",
    "ridge_hyperparameters",
    "hyper_cleaning",
    "local_inverse_hypergrad",
    "oracle_key",
    "metrics",
    "metrics_with_optimum",
    "NEWTON_STEPS",
]

#: Newton iterations of the reference solver for ``y*(x)`` (quadratic convergence from the
#: previous iterate; exact after one step on lower levels that are quadratic in ``y``).
NEWTON_STEPS = 25


def _mean_over_nodes(fn, data, x, y):
    vals = jax.vmap(lambda d: fn(d, x, y))(data)
    return jnp.mean(vals)


@dataclasses.dataclass(frozen=True)
class BilevelProblem:
    """A decentralized bilevel instance; see the module docstring.

    Attributes:
        data: dict of node-stacked arrays (leading axis = node) read by ``f`` and ``g``.
        mu_g, L_g, L_f, sigma: constants (leaves).
        L_phi: smoothness of ``Phi`` (exact for :func:`quadratic`; for the other instances the spectral
            norm of the Hessian of ``Phi`` at ``x_init``, a local estimate used only for default step sizes).
        x_star: (dim_x,) the minimizer of ``Phi`` when known, else None.
        f, g: static local functions ``(data_i, x, y) -> scalar``.
        dim_x, dim_y: static sizes. name: static label.
        x_init: (dim_x,) a default starting point (zeros unless the instance says otherwise).
        newton_steps: static, Newton iterations of the reference ``y*`` solver (1 when ``g`` is quadratic
            in ``y``: one step from any point is exact; :data:`NEWTON_STEPS` otherwise).
    """

    data: Any
    mu_g: Any
    L_g: Any
    L_f: Any
    L_phi: Any
    sigma: Any
    x_star: Any
    x_init: Any
    f: Callable = dataclasses.field(metadata=dict(static=True))
    g: Callable = dataclasses.field(metadata=dict(static=True))
    dim_x: int = dataclasses.field(default=1, metadata=dict(static=True))
    dim_y: int = dataclasses.field(default=1, metadata=dict(static=True))
    name: str = dataclasses.field(default="bilevel", metadata=dict(static=True))
    newton_steps: int = dataclasses.field(default=NEWTON_STEPS, metadata=dict(static=True))

    # --- sizes -------------------------------------------------------------
    @property
    def n_nodes(self) -> int:
        return int(np.shape(jax.tree_util.tree_leaves(self.data)[0])[0])

    @property
    def kappa(self):
        return self.L_g / self.mu_g

    def with_sigma(self, sigma: float) -> BilevelProblem:
        """The same instance with oracle noise ``sigma`` (>= 0)."""
        sigma = float(sigma)
        if not (np.isfinite(sigma) and sigma >= 0):
            raise ValueError(f"sigma must be a finite nonnegative noise level, got {sigma}")
        return dataclasses.replace(self, sigma=jnp.asarray(sigma))

    def _check(self, X, Y, V=None, *, v_dim=None):
        n = self.n_nodes
        for name, A, d in (("X", X, self.dim_x), ("Y", Y, self.dim_y)):
            if tuple(np.shape(A)) != (n, d):
                raise ValueError(
                    f"{self.name}: {name} must have shape (n_nodes, dim_{name.lower()}) = ({n}, {d}), got {tuple(np.shape(A))}; "
                    f"stack one row per node"
                )
        if V is not None and tuple(np.shape(V)) != (n, v_dim):
            raise ValueError(f"{self.name}: V must have shape (n_nodes, {v_dim}) = ({n}, {v_dim}), got {tuple(np.shape(V))}")

    # --- local oracles (node-stacked) ------------------------------------
    def grad_f_x(self, X, Y):
        self._check(X, Y)
        return jax.vmap(jax.grad(self.f, argnums=1))(self.data, X, Y)

    def grad_f_y(self, X, Y):
        self._check(X, Y)
        return jax.vmap(jax.grad(self.f, argnums=2))(self.data, X, Y)

    def grad_g_y(self, X, Y):
        self._check(X, Y)
        return jax.vmap(jax.grad(self.g, argnums=2))(self.data, X, Y)

    def hvp_g_yy(self, X, Y, V):
        """``grad^2_yy g_i(x_i, y_i) v_i`` for every node, (n, dim_y); no Hessian is formed."""
        self._check(X, Y, V, v_dim=self.dim_y)
        gy = jax.grad(self.g, argnums=2)

        def one(d, x, y, v):
            return jax.jvp(lambda yy: gy(d, x, yy), (y,), (v,))[1]

        return jax.vmap(one)(self.data, X, Y, V)

    def jvp_g_xy(self, X, Y, V):
        """``grad_x <grad_y g_i(x_i, y_i), v_i>`` for every node, (n, dim_x); no Jacobian is formed."""
        self._check(X, Y, V, v_dim=self.dim_y)
        gy = jax.grad(self.g, argnums=2)

        def one(d, x, y, v):
            return jax.grad(lambda xx: jnp.vdot(gy(d, xx, y), v))(x)

        return jax.vmap(one)(self.data, X, Y, V)

    def hess_g_yy(self, X, Y):
        """The materialized local Hessians ``grad^2_yy g_i``, (n, dim_y, dim_y)."""
        self._check(X, Y)
        return jax.vmap(jax.hessian(self.g, argnums=2))(self.data, X, Y)

    def jac_g_xy(self, X, Y):
        """The materialized local cross-derivatives, (n, dim_x, dim_y): ``jac[i] @ v = jvp_g_xy`` of node i."""
        self._check(X, Y)
        cross = jax.jacfwd(jax.grad(self.g, argnums=2), argnums=1)  # (dim_y, dim_x)
        return jnp.swapaxes(jax.vmap(cross)(self.data, X, Y), 1, 2)

    # --- stochastic versions: unbiased, E||noise_i||^2 = sigma^2 per node ----
    def _noisy(self, key, G):
        size = int(np.prod(G.shape[1:]))
        return G + (self.sigma / np.sqrt(size)) * jax.random.normal(_rbg_key(key), G.shape, G.dtype)

    def stoch_grad_f_x(self, key, X, Y):
        return self._noisy(key, self.grad_f_x(X, Y))

    def stoch_grad_f_y(self, key, X, Y):
        return self._noisy(key, self.grad_f_y(X, Y))

    def stoch_grad_g_y(self, key, X, Y):
        return self._noisy(key, self.grad_g_y(X, Y))

    def stoch_hvp_g_yy(self, key, X, Y, V):
        return self._noisy(key, self.hvp_g_yy(X, Y, V))

    def stoch_jvp_g_xy(self, key, X, Y, V):
        return self._noisy(key, self.jvp_g_xy(X, Y, V))

    def stoch_hess_g_yy(self, key, X, Y):
        H = self._noisy(key, self.hess_g_yy(X, Y))
        return 0.5 * (H + jnp.swapaxes(H, 1, 2))  # a symmetric estimate (E||.||_F^2 of the noise <= sigma^2)

    def stoch_jac_g_xy(self, key, X, Y):
        return self._noisy(key, self.jac_g_xy(X, Y))

    # --- averaged functions and exact references ---------------------------
    def f_bar(self, x, y):
        return _mean_over_nodes(self.f, self.data, x, y)

    def g_bar(self, x, y):
        return _mean_over_nodes(self.g, self.data, x, y)

    def y_star(self, x, y0=None):
        """``argmin_y g(x, y)`` by Newton's method on the averaged lower level (reference solver)."""
        x = jnp.asarray(x)
        if x.shape != (self.dim_x,):
            raise ValueError(f"{self.name}: x must have shape (dim_x,) = ({self.dim_x},), got {x.shape}")
        y = jnp.zeros(self.dim_y, x.dtype) if y0 is None else jnp.asarray(y0)
        grad_y = jax.grad(self.g_bar, argnums=1)
        hess_y = jax.hessian(self.g_bar, argnums=1)

        def newton(_, y):
            return y - jnp.linalg.solve(hess_y(x, y), grad_y(x, y))

        if self.newton_steps == 1:
            return newton(0, y)
        return jax.lax.fori_loop(0, self.newton_steps, newton, y)

    def z_star(self, x, y=None):
        """``[grad^2_yy g(x, y*)]^-1 grad_y f(x, y*)`` (the averaged linear system)."""
        y = self.y_star(x) if y is None else y
        H = jax.hessian(self.g_bar, argnums=1)(x, y)
        return jnp.linalg.solve(H, jax.grad(self.f_bar, argnums=1)(x, y))

    def hypergrad(self, x):
        """The exact ``grad Phi(x)``, (dim_x,)."""
        y = self.y_star(x)
        z = self.z_star(x, y)
        gy = jax.grad(self.g_bar, argnums=1)
        cross = jax.grad(lambda xx: jnp.vdot(gy(xx, y), z))(x)
        return jax.grad(self.f_bar, argnums=0)(x, y) - cross

    def phi(self, x):
        """``Phi(x) = f(x, y*(x))``."""
        return self.f_bar(x, self.y_star(x))


jax.tree_util.register_dataclass(
    BilevelProblem,
    data_fields=["data", "mu_g", "L_g", "L_f", "L_phi", "sigma", "x_star", "x_init"],
    meta_fields=["f", "g", "dim_x", "dim_y", "name", "newton_steps"],
)


def oracle_key(key, *ids):
    """A key for one stochastic oracle call: ``key`` (a raw ``uint32[2]`` or typed key) tagged with up to two
    integer ids (call site, inner-loop index), without hashing.

    The noise is drawn with XLA's ``RngBitGenerator`` (JAX's ``"rbg"`` implementation) seeded by the four
    words ``(key, ids)``: distinct tags give distinct streams. Ours, for compile time: a threefry draw or
    split costs about 1 s of XLA:CPU compilation each, and a DSBO step makes about ten draws.
    """
    data = jax.random.key_data(key) if jax.dtypes.issubdtype(jnp.asarray(key).dtype, jax.dtypes.prng_key) else jnp.asarray(key)
    data = jnp.asarray(data, jnp.uint32).reshape(-1)
    if data.shape[0] == 4:
        if ids:
            raise ValueError("oracle_key: this key is already tagged; tag the parent key instead")
        return data
    if data.shape[0] != 2 or len(ids) > 2:
        raise ValueError(f"oracle_key: expected a uint32[2] key and at most two ids, got shape {data.shape} and {len(ids)} ids")
    tags = [jnp.asarray(i, jnp.uint32).reshape(()) for i in ids] + [jnp.uint32(0)] * (2 - len(ids))
    return jnp.concatenate([data, jnp.stack(tags)])


def _rbg_key(key):
    return jax.random.wrap_key_data(oracle_key(key), impl="rbg")


def local_inverse_hypergrad(problem: BilevelProblem, x) -> jax.Array:
    """The *biased* estimator ``(1/n) sum_i [grad_x f_i - grad^2_xy g_i (grad^2_yy g_i)^-1 grad_y f_i]`` at ``y*(x)``.

    It replaces the inverse of the averaged Hessian by local inverses: correct only when every node has
    the same ``grad^2_yy g_i``. Kept as a reference of that bug (tests show it differs from
    :meth:`BilevelProblem.hypergrad` on the heterogeneous :func:`quadratic`).
    """
    n = problem.n_nodes
    x = jnp.asarray(x)
    y = problem.y_star(x)
    X, Y = jnp.broadcast_to(x, (n, problem.dim_x)), jnp.broadcast_to(y, (n, problem.dim_y))
    H = problem.hess_g_yy(X, Y)
    Z = jnp.linalg.solve(H, problem.grad_f_y(X, Y)[..., None])[..., 0]
    return jnp.mean(problem.grad_f_x(X, Y) - problem.jvp_g_xy(X, Y, Z), axis=0)


# --- argument checks ----------------------------------------------------------
def _int(v, name, minimum=1):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {v!r} ({type(v).__name__})")
    if int(v) < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {v}")
    return int(v)


def _pos(v, name, *, allow_zero=False):
    v = float(v)
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'nonnegative' if allow_zero else 'positive'} and finite, got {v}")
    return v


def _rng(key) -> np.random.Generator:
    from problems.games import _rng as games_rng

    return games_rng(key)


def _orthogonal(rng, d):
    q, r = np.linalg.qr(rng.normal(size=(d, d)))
    return q * np.sign(np.diag(r))


@jax.jit
def _phi_hessian(p, x):
    return jax.jacfwd(p.hypergrad)(x)


def _with_local_L_phi(p: BilevelProblem) -> BilevelProblem:
    """``p`` with ``L_phi`` = the spectral norm of the (symmetrized) Hessian of ``Phi`` at ``x_init``."""
    Hs = np.asarray(_phi_hessian(p, p.x_init))
    L = float(np.abs(np.linalg.eigvalsh(0.5 * (Hs + Hs.T))).max())
    return dataclasses.replace(p, L_phi=jnp.asarray(max(L, 1e-12)))


# --- quadratic ----------------------------------------------------------------
def _quad_g(d, x, y):
    return 0.5 * y @ (d["A"] @ y) - y @ (d["B"] @ x + d["c"])


def _quad_f(d, x, y):
    return 0.5 * jnp.sum((y - d["d"]) ** 2) + 0.5 * d["lam"] * jnp.sum(x**2)


def quadratic(n_nodes: int = 8, dim_x: int = 5, dim_y: int = 5, key=0, *, mu_g: float = 1.0, L_g: float = 10.0,
              lam: float = 0.1, coupling: float = 1.0, sigma: float = 0.0, A=None) -> BilevelProblem:  # fmt: skip
    """The closed-form heterogeneous quadratic bilevel instance.

    ``g_i(x, y) = 1/2 y^T A_i y - y^T (B_i x + c_i)``, ``f_i(x, y) = 1/2 ||y - d_i||^2 + (lam/2) ||x||^2``.
    Each ``A_i = Q_i diag(s_i) Q_i^T`` has its own random orthogonal basis ``Q_i`` and spectrum ``s_i`` in
    ``[mu_g, L_g]`` with both ends attained (so the ``A_i`` are heterogeneous: local inverses do not
    average to ``Abar^-1``). ``B_i`` has i.i.d. ``N(0, coupling^2 / dim_x)`` entries; ``c_i``, ``d_i`` are
    standard normal. With ``M = Abar^-1 Bbar`` and ``m = Abar^-1 cbar``: ``y*(x) = M x + m``,
    ``grad Phi(x) = lam x + M^T (y*(x) - dbar)``, ``x* = -(lam I + M^T M)^-1 M^T (m - dbar)``
    (``Phi`` is ``lam``-strongly convex). Constants: ``mu_g``, ``L_g`` exactly as given, ``L_f = 1``.

    Args:
        n_nodes, dim_x, dim_y: sizes (``n_nodes >= 2``).
        key: int seed or ``jax.random`` key.
        mu_g, L_g: lower-level spectrum bounds, ``0 < mu_g <= L_g``.
        lam: upper-level ridge on ``x`` (> 0 so that ``x*`` is unique).
        coupling: scale of the ``B_i``.
        sigma: oracle noise (``E||noise||^2`` per node and call).
        A: optional (n_nodes, dim_y, dim_y) lower-level matrices (each must be symmetric positive
            definite; ``mu_g``/``L_g`` are then read from their spectra).

    Raises:
        ValueError: sizes < 1 (or n_nodes < 2), ``mu_g <= 0`` or ``mu_g > L_g`` (g not strongly convex),
            an ``A`` of the wrong shape or with an eigenvalue <= 0.
    """
    n, dx, dy = _int(n_nodes, "n_nodes", 2), _int(dim_x, "dim_x"), _int(dim_y, "dim_y")
    sigma = _pos(sigma, "sigma", allow_zero=True)
    lam = _pos(lam, "lam")
    coupling = _pos(coupling, "coupling", allow_zero=True)
    rng = _rng(key)
    if A is None:
        mu_g, L_g = float(mu_g), float(L_g)
        if not (np.isfinite(mu_g) and np.isfinite(L_g)):
            raise ValueError(f"mu_g and L_g must be finite, got mu_g={mu_g}, L_g={L_g}")
        if mu_g <= 0:
            raise ValueError(
                f"mu_g must be positive: the lower level g_i(x, .) must be strongly convex, got mu_g={mu_g}; pass mu_g > 0"
            )
        if mu_g > L_g:
            raise ValueError(f"mu_g={mu_g} > L_g={L_g}: the strong convexity constant cannot exceed the smoothness; swap them?")
        As = []
        for _ in range(n):
            s = rng.uniform(mu_g, L_g, size=dy)
            s[0], s[-1] = mu_g, L_g
            Q = _orthogonal(rng, dy)
            As.append((Q * s) @ Q.T)
        A = np.stack(As)
    else:
        A = np.asarray(A, dtype=np.float64)
        if A.shape != (n, dy, dy):
            raise ValueError(f"A must have shape (n_nodes, dim_y, dim_y) = ({n}, {dy}, {dy}), got {A.shape}")
        if np.abs(A - np.swapaxes(A, 1, 2)).max() > 1e-10:
            raise ValueError("every A_i must be symmetric (it is the Hessian of g_i in y)")
        eig = np.linalg.eigvalsh(A)
        if eig.min() <= 0:
            i = int(np.argmin(eig.min(axis=1)))
            raise ValueError(
                f"g is not strongly convex in y: A[{i}] has eigenvalue {eig[i].min():.3g} <= 0; "
                f"every A_i must be positive definite (add a multiple of the identity)"
            )
        mu_g, L_g = float(eig.min()), float(eig.max())
    B = rng.normal(scale=coupling / np.sqrt(dx), size=(n, dy, dx))
    c = rng.normal(size=(n, dy))
    d = rng.normal(size=(n, dy))
    Abar, Bbar, cbar, dbar = A.mean(0), B.mean(0), c.mean(0), d.mean(0)
    M = np.linalg.solve(Abar, Bbar)
    m = np.linalg.solve(Abar, cbar)
    x_star = -np.linalg.solve(lam * np.eye(dx) + M.T @ M, M.T @ (m - dbar))
    data = {"A": jnp.asarray(A), "B": jnp.asarray(B), "c": jnp.asarray(c), "d": jnp.asarray(d), "lam": jnp.full((n,), lam)}
    L_phi = float(np.linalg.eigvalsh(lam * np.eye(dx) + M.T @ M).max())
    return BilevelProblem(
        data=data, mu_g=jnp.asarray(mu_g), L_g=jnp.asarray(L_g), L_f=jnp.asarray(1.0), L_phi=jnp.asarray(L_phi), sigma=jnp.asarray(sigma),
        x_star=jnp.asarray(x_star), x_init=jnp.zeros(dx), f=_quad_f, g=_quad_g, dim_x=dx, dim_y=dy, name="bilevel_quadratic",
        newton_steps=1,
    )  # fmt: skip


# --- ridge hyperparameters ---------------------------------------------------------
def _ridge_g(d, x, y):
    r = d["Mtr"] @ y - d["btr"]
    return 0.5 * jnp.mean(r**2) + 0.5 * jnp.sum(jnp.exp(x) * y**2)


def _ridge_f(d, x, y):
    r = d["Mval"] @ y - d["bval"]
    return 0.5 * jnp.mean(r**2)


def ridge_hyperparameters(n_nodes: int = 8, dim: int = 10, key=0, *, train_per_node: int = 40, val_per_node: int = 40,
                          noise: float = 0.5, heterogeneity: float = 0.5, x_max: float = 2.0,
                          sigma: float = 0.0) -> BilevelProblem:  # fmt: skip
    """Ridge regression with per-coordinate regularization ``exp(x_j)`` learned on validation data.

    ``g_i(x, y) = 1/(2m) ||M_i y - b_i||^2 + 1/2 sum_j exp(x_j) y_j^2`` (training data of node ``i``),
    ``f_i(x, y) = 1/(2m') ||M'_i y - b'_i||^2`` (validation data), ``dim_x = dim_y = dim``. Data:
    features ``N(s_i, I)`` with a per-node mean shift ``s_i`` of norm ``heterogeneity``, a planted model
    with decaying coordinates (so different coordinates want different regularization), Gaussian label
    noise ``noise``. Lower level quadratic in ``y``: ``y*(x) = (Hbar + diag(e^x))^-1 rbar`` (closed form;
    the reference solver's single Newton step). ``mu_g = min_i lambda_min(M_i^T M_i / m)`` (> 0:
    ``train_per_node > dim`` is required) holds for every ``x``; ``L_g = max_i lambda_max(M_i^T M_i / m)
    + exp(x_max)`` holds on ``{x <= x_max}``. ``Phi`` is nonconvex in general: ``x_star`` is None.

    Raises:
        ValueError: ``train_per_node <= dim`` (then some ``g_i`` is not strongly convex for small
            ``exp(x)``), nonpositive sizes or noise levels.
    """
    n, dim = _int(n_nodes, "n_nodes", 2), _int(dim, "dim")
    m, mv = _int(train_per_node, "train_per_node"), _int(val_per_node, "val_per_node")
    if m <= dim:
        raise ValueError(
            f"train_per_node={m} must exceed dim={dim}: with fewer samples than coordinates g_i(x, .) is not strongly "
            f"convex uniformly in x; pass train_per_node > {dim}"
        )
    noise, heterogeneity, sigma = _pos(noise, "noise", allow_zero=True), _pos(heterogeneity, "heterogeneity", allow_zero=True), _pos(sigma, "sigma", allow_zero=True)
    rng = _rng(key)
    w = rng.normal(size=dim) * np.exp(-np.arange(dim) / max(1.0, dim / 4))
    shifts = rng.normal(size=(n, dim))
    shifts *= heterogeneity / np.maximum(np.linalg.norm(shifts, axis=1, keepdims=True), 1e-300)
    Mtr = rng.normal(size=(n, m, dim)) + shifts[:, None, :]
    Mval = rng.normal(size=(n, mv, dim)) + shifts[:, None, :]
    btr = Mtr @ w + noise * rng.normal(size=(n, m))
    bval = Mval @ w + noise * rng.normal(size=(n, mv))
    H = np.einsum("nmi,nmj->nij", Mtr, Mtr) / m
    eig = np.linalg.eigvalsh(H)
    Hv = np.einsum("nmi,nmj->nij", Mval, Mval) / mv
    data = {"Mtr": jnp.asarray(Mtr), "btr": jnp.asarray(btr), "Mval": jnp.asarray(Mval), "bval": jnp.asarray(bval)}
    p = BilevelProblem(
        data=data, mu_g=jnp.asarray(float(eig.min())), L_g=jnp.asarray(float(eig.max() + np.exp(x_max))),
        L_f=jnp.asarray(float(np.linalg.eigvalsh(Hv).max())), L_phi=jnp.asarray(1.0), sigma=jnp.asarray(sigma), x_star=None,
        x_init=jnp.zeros(dim), f=_ridge_f, g=_ridge_g, dim_x=dim, dim_y=dim, name="bilevel_ridge_hyperparameters", newton_steps=1,
    )  # fmt: skip
    return _with_local_L_phi(p)


# --- hyper-cleaning ------------------------------------------------------------
def _logloss(t, b):
    # log(1 + exp(-b t)) for labels b in {-1, +1}, computed stably
    return jnp.logaddexp(0.0, -b * t)


def _clean_g(d, x, y):
    w = jax.nn.sigmoid(x[d["idx"]])
    return jnp.mean(w * _logloss(d["Mtr"] @ y, d["btr"])) + 0.5 * d["reg"] * jnp.sum(y**2)


def _clean_f(d, x, y):
    return jnp.mean(_logloss(d["Mval"] @ y, d["bval"]))


def hyper_cleaning(n_nodes: int = 4, dim: int = 5, key=0, *, train_per_node: int = 10, val_per_node: int = 20,
                   corruption: float = 0.3, reg: float = 0.1, sigma: float = 0.0) -> BilevelProblem:  # fmt: skip
    """Data hyper-cleaning: logistic regression with a learned weight per training sample.

    Node ``i`` holds ``m = train_per_node`` training samples, a fraction ``corruption`` of them with
    flipped labels, and clean validation samples. The upper variable has one entry per training sample
    of the whole network, ``dim_x = n_nodes * m`` (node ``i`` reads its own slice ``x[idx_i]``):
    ``g_i(x, y) = (1/m) sum_k sigmoid(x_k) log(1 + exp(-b_k a_k^T y)) + (reg/2) ||y||^2``,
    ``f_i(x, y) = (1/m') sum_k log(1 + exp(-b'_k a'^T_k y))`` on the validation samples. Data: features
    ``N(0, I)``, labels ``sign(a^T w*)`` from a planted unit model ``w*``. ``mu_g = reg`` and ``L_g = reg +
    max_i lambda_max(A_i^T A_i) / (4 m)`` hold for every ``x`` (``sigmoid <= 1``, logistic curvature
    ``<= 1/4``); ``L_f = max_i lambda_max(A'^T_i A'_i) / (4 m')``. ``y*(x)`` has no closed form: the reference
    solver runs :data:`NEWTON_STEPS` Newton steps (converged to round-off: checked in the tests).
    ``x_star`` is None (nonconvex). The flipped samples are ``data["flipped"]`` (n, m).

    Raises:
        ValueError: ``reg <= 0`` (then g is not strongly convex), ``corruption`` outside [0, 1), bad sizes.
    """
    n, dim = _int(n_nodes, "n_nodes", 2), _int(dim, "dim")
    m, mv = _int(train_per_node, "train_per_node"), _int(val_per_node, "val_per_node")
    reg = float(reg)
    if not (np.isfinite(reg) and reg > 0):
        raise ValueError(f"reg must be positive: it makes the lower level g_i(x, .) strongly convex, got reg={reg}")
    if not (0.0 <= float(corruption) < 1.0):
        raise ValueError(f"corruption must be a fraction in [0, 1), got {corruption}")
    sigma = _pos(sigma, "sigma", allow_zero=True)
    rng = _rng(key)
    w = rng.normal(size=dim)
    w /= np.linalg.norm(w)
    Mtr, Mval = rng.normal(size=(n, m, dim)), rng.normal(size=(n, mv, dim))
    btr, bval = np.sign(Mtr @ w), np.sign(Mval @ w)
    btr[btr == 0], bval[bval == 0] = 1.0, 1.0
    n_flip = int(round(corruption * m))
    flipped = np.zeros((n, m), dtype=bool)
    for i in range(n):
        flipped[i, rng.choice(m, size=n_flip, replace=False)] = True
    btr = np.where(flipped, -btr, btr)
    idx = np.arange(n * m).reshape(n, m)
    Ltr = max(np.linalg.eigvalsh(Mtr[i].T @ Mtr[i]).max() for i in range(n)) / (4 * m)
    Lval = max(np.linalg.eigvalsh(Mval[i].T @ Mval[i]).max() for i in range(n)) / (4 * mv)
    data = {"Mtr": jnp.asarray(Mtr), "btr": jnp.asarray(btr), "Mval": jnp.asarray(Mval), "bval": jnp.asarray(bval),
            "idx": jnp.asarray(idx, dtype=jnp.int32), "reg": jnp.full((n,), reg), "flipped": jnp.asarray(flipped)}  # fmt: skip
    p = BilevelProblem(
        data=data, mu_g=jnp.asarray(reg), L_g=jnp.asarray(reg + Ltr), L_f=jnp.asarray(Lval), L_phi=jnp.asarray(1.0),
        sigma=jnp.asarray(sigma), x_star=None, x_init=jnp.zeros(n * m), f=_clean_f, g=_clean_g, dim_x=n * m, dim_y=dim,
        name="bilevel_hyper_cleaning",
    )  # fmt: skip
    return _with_local_L_phi(p)


# --- what a bilevel run records ------------------------------------------------------------
def _consensus(A):
    return jnp.sqrt(jnp.mean(jnp.sum((A - jnp.mean(A, axis=0)) ** 2, axis=-1)))


def _instant(params, state, info):
    p = params["problem"]
    x_bar = jnp.mean(state.X, axis=0)
    hg = p.hypergrad(x_bar)
    y_bar = jnp.mean(state.Y, axis=0)
    out = {
        "hypergrad_norm": jnp.linalg.norm(hg),
        "y_error": jnp.linalg.norm(y_bar - p.y_star(x_bar)),
        "consensus_x": _consensus(state.X),
        "consensus_y": _consensus(state.Y),
        "consensus_z": _consensus(state.Z),
    }
    return out


def _instant_opt(params, state, info):
    out = _instant(params, state, info)
    out["dist_to_opt"] = jnp.linalg.norm(jnp.mean(state.X, axis=0) - params["problem"].x_star)
    return out


def _accumulate(params, state, info, t):
    p = params["problem"]
    hg = p.hypergrad(jnp.mean(state.X, axis=0))
    return {"hypergrad_sq_sum": jnp.sum(hg**2)}


#: The bilevel family's recorder: ``hypergrad_norm`` (``||grad Phi(x_bar)||``, exact), ``y_error``
#: (``||y_bar - y*(x_bar)||``), ``consensus_x``/``_y``/``_z`` (root-mean-square distance of the rows to
#: their mean) at each record, and ``hypergrad_sq_sum`` (the sum over every step ``k >= 1`` of
#: ``||grad Phi(x_bar_k)||^2``; divided by ``k`` it is the averaged squared hypergradient norm).
metrics = Metrics(instant=_instant, accumulate=_accumulate, primary="hypergrad_norm")
#: The same plus ``dist_to_opt = ||x_bar - x*||`` (instances with a known ``x*``).
metrics_with_optimum = Metrics(instant=_instant_opt, accumulate=_accumulate, primary="hypergrad_norm")

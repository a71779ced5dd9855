"""Synthetic decentralized convex problems with known optima and constants.

The global objective is the *average* of the local ones,

    f(x) = (1/n) sum_i f_i(x),   x* = argmin f,   f* = f(x*),

and each local ``f_i`` is ``L``-smooth and ``mu``-strongly convex. Oracles are
node-stacked: ``X`` has shape ``(n_nodes, dim)`` and row ``i`` is node ``i``'s
iterate. Every oracle is derived with JAX autodiff from one scalar local loss
``loss(data_i, x)``.

Heterogeneity is ``zeta^2 = (1/n) sum_i ||grad f_i(x*)||^2``. Gradient noise
comes in two kinds (the static field ``noise``):

* ``"gaussian"``: ``g_i = grad f_i(x_i) + (sigma/sqrt(d)) xi_i`` with ``xi_i``
  standard normal, so ``E ||g_i - grad f_i(x_i)||^2 = sigma^2`` at every point;
* ``"minibatch"`` (data problems only): node ``i`` averages the gradients of
  ``batch_size`` of its own samples drawn uniformly *with replacement*; the
  variance depends on the point, and ``sigma`` reports it at ``x*`` (see
  :func:`least_squares`).

Problems:

* :func:`quadratic` — ``1/2 x^T A_i x - b_i^T x`` with spectra exactly in ``[mu, L]``;
* :func:`least_squares` — ridge regression on synthetic Gaussian data with a
  per-node distribution shift;
* :func:`logistic` — l2-regularized logistic regression with labels from a
  planted model with a per-node shift;
* :func:`averaging` — the consensus problem ``1/2 ||x - a_i||^2``.

The quadratic-type problems (``quadratic``, ``least_squares``, ``averaging``)
share the data layout ``data["A"]`` (n, d, d), ``data["b"]`` (n, d),
``data["A_inv"]`` (n, d, d) with ``grad f_i(x) = A_i x - b_i`` exactly, and
have closed-form conjugate gradients (``conj_grad``), so dual methods (MSDA)
and the linear-system analysis of linear methods apply to all three.

A :class:`Problem` is a JAX pytree (arrays and constants are leaves; the loss
functions, the noise kind, the batch size and the name are static), so it can
be passed into jitted functions as an argument and vmapped over: two problems
of the same kind and shapes built from different seeds share one compiled
program.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from problems import _checks
from problems._convex_problem import NOISE_KINDS, Problem, _check_noise, _check_sizes, check_constants  # noqa: F401
from problems._metrics import Metrics
from problems._newton import _logistic_newton, _sigmoid

__all__ = [
    "Problem",
    "quadratic",
    "least_squares",
    "logistic",
    "averaging",
    "check_constants",
    "metrics",
    "consensus_metrics",
    "distance_metrics",
]


# --- quadratic ------------------------------------------------------------------
@jax.custom_jvp
def _quadratic_loss(d, x):
    """``1/2 x^T A x - b^T x`` with ``A`` symmetric.

    The custom JVP uses ``A = A^T``: ``d loss = (A x - b) . dx``, so ``jax.grad`` costs one
    matrix-vector product instead of two (plain reverse mode forms ``A x`` and ``A^T x``);
    measured in benchmarks/RESULTS.md. The rule is itself differentiable, so Hessians and
    Hessian-vector products still come from autodiff.
    """
    return 0.5 * x @ (d["A"] @ x) - d["b"] @ x


@_quadratic_loss.defjvp
def _quadratic_loss_jvp(primals, tangents):
    d, x = primals
    dd, dx = tangents
    Ax = d["A"] @ x
    value = 0.5 * x @ Ax - d["b"] @ x
    # the data tangents (only nonzero when differentiating with respect to the data) in full
    dvalue = (Ax - d["b"]) @ dx + 0.5 * x @ (dd["A"] @ x) - dd["b"] @ x
    return value, dvalue


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

    Stochastic gradients are Gaussian (``noise="gaussian"``) with level ``sigma``.

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
    n_nodes, dim = _check_sizes(n_nodes, dim)
    if dim < 2 and L != mu:
        raise ValueError("dim must be >= 2 for a spectrum spanning [mu, L] (or pass L == mu)")
    heterogeneity = _checks.real(heterogeneity, "heterogeneity", "convex.quadratic", lo=0.0)
    sigma = _checks.real(sigma, "sigma", "convex.quadratic", lo=0.0)
    rng = np.random.default_rng(_checks.seed(key, "key", "convex.quadratic"))
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
        summary={"A_bar": jnp.asarray(A.mean(axis=0))},
    )


# --- synthetic data with a per-node shift ----------------------------------------
def _shifted_features(rng, n_nodes, m, dim, heterogeneity, feature_decay):
    """(n, m, dim) rows ``Sigma^{1/2} z + heterogeneity * c_i`` with ``z ~ N(0, I)``, ``c_i ~ N(0, I/dim)``.

    ``Sigma = diag(j^{-feature_decay})``, j = 1..dim (``feature_decay = 0``: identity).
    """
    scale = np.arange(1, dim + 1, dtype=float) ** (-0.5 * feature_decay)
    shift = heterogeneity * rng.standard_normal((n_nodes, 1, dim)) / np.sqrt(dim)
    return rng.standard_normal((n_nodes, m, dim)) * scale + shift


def _planted_models(rng, n_nodes, dim, heterogeneity, norm):
    """(n, dim) per-node models ``w + heterogeneity * v_i`` around a shared ``w`` of norm ~ ``norm``."""
    w = norm * rng.standard_normal(dim) / np.sqrt(dim)
    return w + heterogeneity * norm * rng.standard_normal((n_nodes, dim)) / np.sqrt(dim)


def _check_data_args(n_nodes, dim, samples_per_node, heterogeneity, reg, feature_decay):
    _check_sizes(n_nodes, dim)
    _checks.integer(samples_per_node, "samples_per_node")
    if int(samples_per_node) != samples_per_node or samples_per_node < 1:
        raise ValueError(f"samples_per_node must be a positive integer, got {samples_per_node}")
    if not (np.isfinite(heterogeneity) and heterogeneity >= 0):
        raise ValueError(f"heterogeneity must be finite and nonnegative, got {heterogeneity}")
    if not (np.isfinite(reg) and reg >= 0):
        raise ValueError(f"reg must be finite and nonnegative, got {reg}")
    if not (np.isfinite(feature_decay) and feature_decay >= 0):
        raise ValueError(f"feature_decay must be finite and nonnegative, got {feature_decay}")


# --- least squares -----------------------------------------------------------------
def _ls_loss(d, x):
    r = d["M"] @ x - d["y"]
    return 0.5 * jnp.mean(r**2) + 0.5 * d["reg"] * (x @ x)


def _ls_gram_loss(d, x):
    """The same loss in its quadratic form ``1/2 x^T A x - b^T x + c`` (``A = M^T M/m + reg I``,
    ``b = M^T y/m``, ``c = ||y||^2/(2m)``): its gradient ``A x - b`` is one d x d product, against two
    m x d products for the data form; :func:`least_squares` uses it when ``d < 2m``."""
    return _quadratic_loss(d, x) + d["c"]


def _ls_sample_loss(d, j, x):
    r = d["M"][j] @ x - d["y"][j]
    return 0.5 * r**2 + 0.5 * d["reg"] * (x @ x)


def least_squares(
    n_nodes: int,
    dim: int,
    samples_per_node: int = 50,
    key: int = 0,
    heterogeneity: float = 1.0,
    reg: float = 0.01,
    noise: str = "minibatch",
    *,
    batch_size: int = 1,
    sigma: float = 0.0,
    label_noise: float = 0.5,
    feature_decay: float = 0.0,
) -> Problem:
    """Ridge regression ``f_i(x) = (1/(2m)) ||M_i x - y_i||^2 + (reg/2) ||x||^2`` on synthetic data.

    Data of node ``i`` (``m = samples_per_node`` rows): features
    ``M_i[j] = Sigma^{1/2} z + h c_i`` (``z ~ N(0, I)``, ``Sigma = diag(k^{-feature_decay})``,
    a node shift ``c_i ~ N(0, I/d)``) and labels ``y_i = M_i w_i + label_noise * eps`` from a
    node model ``w_i = w + h v_i`` (``w, v_i ~ N(0, I/d)``), with ``h = heterogeneity``:
    ``h`` shifts both the feature distribution (covariate shift) and the labelling model
    (concept shift); ``h = 0`` gives i.i.d. nodes (``zeta`` is then small but not 0: finite samples).

    Constants (exact, computed in float64 from the data): with ``H_i = M_i^T M_i / m + reg I``
    (the constant Hessian of ``f_i``), ``L = max_i lambda_max(H_i)`` and
    ``mu = min_i lambda_min(H_i)`` — both attained. ``x*`` solves the averaged normal
    equations ``(1/n) sum_i H_i x = (1/n) sum_i M_i^T y_i / m``; ``f* = f(x*)``;
    ``zeta = sqrt((1/n) sum_i ||grad f_i(x*)||^2)``.

    Layout: ``data`` has ``M`` (n, m, d), ``y`` (n, m), ``reg`` (n,), and the quadratic
    layout ``A = H_i``, ``b = M_i^T y_i / m``, ``A_inv = H_i^{-1}``, so
    ``grad f_i(x) = A_i x - b_i`` and ``grad f_i^*(theta) = H_i^{-1}(theta + b_i)`` (``conj``).
    ``f_i`` differs from the quadratic ``1/2 x^T A_i x - b_i^T x`` by the constant
    ``||y_i||^2/(2m)``. Also ``sample_var`` (n,): the per-sample gradient variance
    ``v_i = (1/m) sum_j ||grad l_ij(x*) - grad f_i(x*)||^2`` at ``x*``, and ``L_sample`` (n,):
    ``max_j ||M_i[j]||^2 + reg``, the smoothness of the single-sample losses ``l_ij``
    (what analyses assuming per-sample smoothness, e.g. Koloskova et al. 2020, call ``L``).

    Noise: ``"minibatch"`` (default) averages ``batch_size`` per-sample gradients drawn with
    replacement; then ``sigma^2 = max_i v_i / batch_size``, the variance at ``x*`` (the
    quantity the D-SGD analyses of Koloskova et al. 2020 put in their sigma term, as an
    assumption at the optimum together with per-sample smoothness and convexity; their
    ``sigma_bar^2`` is the node average ``mean_i v_i / batch_size`` <= ``sigma^2``). Away from
    ``x*`` the variance differs (it is a quadratic in ``x``). ``"gaussian"`` adds isotropic noise
    with ``E||.||^2 = sigma^2`` (pass ``sigma``).

    Args:
        n_nodes: number of nodes n (>= 1).
        dim: dimension d (>= 1).
        samples_per_node: m (>= 1). With ``reg == 0`` every ``M_i`` needs full column rank (m >= d).
        key: integer seed.
        heterogeneity: shift scale ``h >= 0`` (not ``zeta`` itself; read ``problem.zeta``).
        reg: ridge parameter ``>= 0``; ``reg > 0`` guarantees ``mu >= reg``.
        noise: "minibatch" or "gaussian".
        batch_size: samples per stochastic gradient (minibatch noise).
        sigma: Gaussian noise level (noise="gaussian" only).
        label_noise: standard deviation of the label noise ``eps``.
        feature_decay: feature covariance ``diag(k^{-feature_decay})``, k = 1..d; larger values give
            larger ``kappa``.

    Raises:
        ValueError: bad sizes or ranges, or ``mu = 0`` (``reg == 0`` and some ``M_i`` rank deficient).
    """
    _check_data_args(n_nodes, dim, samples_per_node, heterogeneity, reg, feature_decay)
    _check_noise(noise, sigma, batch_size)
    if not (np.isfinite(label_noise) and label_noise >= 0):
        raise ValueError(f"label_noise must be finite and nonnegative, got {label_noise}")
    n, m, d = int(n_nodes), int(samples_per_node), int(dim)
    rng = np.random.default_rng(_checks.seed(key, "key"))
    M = _shifted_features(rng, n, m, d, heterogeneity, feature_decay)
    W = _planted_models(rng, n, d, heterogeneity, 1.0)
    y = np.einsum("nmd,nd->nm", M, W) + label_noise * rng.standard_normal((n, m))

    H = np.einsum("nmi,nmj->nij", M, M) / m + reg * np.eye(d)
    H = 0.5 * (H + np.transpose(H, (0, 2, 1)))
    b = np.einsum("nmi,nm->ni", M, y) / m
    eig = np.linalg.eigvalsh(H)  # (n, d), ascending
    L, mu = float(eig[:, -1].max()), float(eig[:, 0].min())
    if not mu > 1e-10 * L:
        raise ValueError(
            f"least_squares: a local Hessian M_i^T M_i/m + reg I is (numerically) singular (mu={mu:.3g}, L={L:.3g}): "
            f"with reg=0 every node needs samples_per_node >= dim (got m={m}, d={d}) and full-rank features; pass reg > 0"
        )
    H_bar, b_bar = H.mean(axis=0), b.mean(axis=0)
    x_star = np.linalg.solve(H_bar, b_bar)
    x_star += np.linalg.solve(H_bar, b_bar - H_bar @ x_star)  # one step of iterative refinement
    R = M @ x_star - y  # (n, m) residuals at x*
    f_star = float(np.mean(0.5 * np.mean(R**2, axis=1)) + 0.5 * reg * x_star @ x_star)
    return _sample_problem(
        name="least_squares", loss=_ls_gram_loss if d < 2 * m else _ls_loss, sample_loss=_ls_sample_loss, conj=_quadratic_conj,
        M=M, y=y, reg=reg, x_star=x_star, f_star=f_star, L=L, mu=mu,
        per_sample=M * R[..., None] + reg * x_star,
        L_sample=np.max(np.sum(M**2, axis=2), axis=1) + reg,
        noise=noise, batch_size=batch_size, sigma=sigma,
        extra_data={
            "A": jnp.asarray(H), "b": jnp.asarray(b), "A_inv": jnp.asarray(np.linalg.inv(H)),
            "c": jnp.asarray(0.5 * np.mean(y**2, axis=1)),
        },
        summary={"A_bar": jnp.asarray(H_bar)},
    )  # fmt: skip


def _sample_problem(*, name, loss, sample_loss, conj, M, y, reg, x_star, f_star, L, mu, per_sample, L_sample,
                    noise, batch_size, sigma, extra_data, summary=None) -> Problem:  # fmt: skip
    """Assemble a finite-sample :class:`Problem` from its per-sample gradients at ``x*`` ((n, m, d)).

    ``grad f_i(x*)`` is their mean (giving ``zeta``); ``sample_var`` their variance per node; with
    minibatch noise ``sigma^2 = max_i sample_var_i / batch_size``.
    """
    G = per_sample.mean(axis=1)  # grad f_i(x*)
    zeta = float(np.sqrt(np.mean(np.sum(G**2, axis=1))))
    sample_var = np.mean(np.sum((per_sample - G[:, None, :]) ** 2, axis=2), axis=1)
    sig = float(np.sqrt(sample_var.max() / batch_size)) if noise == "minibatch" else float(sigma)
    data = {
        "M": jnp.asarray(M),
        "y": jnp.asarray(y),
        "reg": jnp.full((M.shape[0],), float(reg)),
        **extra_data,
        "sample_var": jnp.asarray(sample_var),
        "L_sample": jnp.asarray(L_sample),
    }
    return Problem(
        data=data, x_star=jnp.asarray(x_star), f_star=float(f_star), L=float(L), mu=float(mu), sigma=sig, zeta=zeta,
        loss=loss, noise=noise, name=name, conj=conj, sample_loss=sample_loss, batch_size=int(batch_size),
        summary=summary,
    )  # fmt: skip


# --- logistic regression -------------------------------------------------------------
def _log1p_exp_neg(z):
    """``log(1 + exp(-z))``, stable for every ``z``: ``max(-z, 0) + log1p(exp(-|z|))``.

    The same function as ``jnp.logaddexp(0, -z)``, written without that function's special cases
    for infinite arguments: on XLA:CPU here it costs 10 us for 6,400 float64 values against 42 us
    for ``logaddexp`` (a one-off probe, 2026-12-05), which made it the dominant cost of ``f(x_bar)``.
    """
    return jnp.maximum(-z, 0.0) + jnp.log1p(jnp.exp(-jnp.abs(z)))


@jax.custom_jvp
def _logistic_loss(d, x):
    """``(1/m) sum_j log(1 + exp(-y_j m_j^T x)) + reg/2 ||x||^2``.

    The custom JVP writes the gradient as ``M^T (y * w) + reg x`` with
    ``w_j = -sigmoid(-z_j)/m``: one product each way, no ``logaddexp`` backward pass.
    Measured (64 nodes, m = 100, d = 50): 194 us per node-stacked gradient against 253 us
    for plain autodiff (NumPy: 214 us). The data tangents are written out in full (XLA
    folds them away when they are zero), and the rule is differentiable, so Hessians and
    Hessian-vector products still come from autodiff.
    """
    z = d["y"] * (d["M"] @ x)
    return jnp.mean(_log1p_exp_neg(z)) + 0.5 * d["reg"] * (x @ x)


@_logistic_loss.defjvp
def _logistic_loss_jvp(primals, tangents):
    d, x = primals
    dd, dx = tangents
    Mx = d["M"] @ x
    z = d["y"] * Mx
    value = jnp.mean(_log1p_exp_neg(z)) + 0.5 * d["reg"] * (x @ x)
    w = -jax.nn.sigmoid(-z) / z.shape[0]  # d value / d z_j
    g = d["M"].T @ (d["y"] * w) + d["reg"] * x  # gradient in x
    dz_data = dd["y"] * Mx + d["y"] * (dd["M"] @ x)
    return value, g @ dx + w @ dz_data + 0.5 * dd["reg"] * (x @ x)


def _logistic_sample_loss(d, j, x):
    z = d["y"][j] * (d["M"][j] @ x)
    # logaddexp here (not _log1p_exp_neg): this loss is differentiated by autodiff, and the
    # |z| form has a wrong second derivative at z = 0 (every sample at x = 0)
    return jnp.logaddexp(0.0, -z) + 0.5 * d["reg"] * (x @ x)




def logistic(
    n_nodes: int,
    dim: int,
    samples_per_node: int = 50,
    key: int = 0,
    heterogeneity: float = 1.0,
    reg: float = 0.1,
    noise: str = "minibatch",
    *,
    batch_size: int = 1,
    sigma: float = 0.0,
    model_norm: float = 3.0,
    feature_decay: float = 0.0,
) -> Problem:
    """l2-regularized logistic regression ``f_i(x) = (1/m) sum_j log(1 + exp(-y_ij M_i[j]^T x)) + (reg/2)||x||^2``.

    Data of node ``i``: features as in :func:`least_squares` (``M_i[j] = Sigma^{1/2} z + h c_i``),
    labels ``y_ij = +1`` with probability ``sigmoid(M_i[j]^T w_i)`` and ``-1`` otherwise, from a
    planted node model ``w_i = w + h v_i`` (``w, v_i ~ N(0, model_norm^2 I/d)``), ``h = heterogeneity``.

    Constants: the Hessian is ``(1/m) M_i^T D M_i + reg I`` with ``D = diag(s_j(1-s_j))``,
    ``0 < s_j(1-s_j) <= 1/4``, so ``L = max_i lambda_max(M_i^T M_i)/(4m) + reg`` (attained at
    ``x = 0`` on the maximizing node) and ``mu = reg`` (the infimum over ``x``: attained everywhere
    when a node's features do not span R^d, e.g. ``m < d``; otherwise only approached as ``||x|| -> inf``). ``x*`` is computed by a centralized damped Newton method in
    float64 on the average objective, to ``||grad f(x*)|| <= 1e-12 s`` with ``s`` the mean
    feature norm ``(1/(nm)) sum_ij ||M_i[j]||`` (the size of a single-sample gradient; else
    ``RuntimeError``); ``f* = f(x*)``; ``zeta`` from ``grad f_i(x*)``. No closed-form conjugate
    (``conj=None``): MSDA does not apply.

    ``data``: ``M`` (n, m, d), ``y`` (n, m) in {-1, +1}, ``reg`` (n,), ``sample_var`` (n,) (per-sample
    gradient variance at ``x*``), ``L_sample`` (n,) = ``max_j ||M_i[j]||^2/4 + reg``. Noise and
    ``sigma`` as in :func:`least_squares` (minibatch: ``sigma^2 = max_i sample_var_i / batch_size``,
    at ``x*``).

    Args:
        n_nodes, dim, samples_per_node, key, heterogeneity, noise, batch_size, sigma, feature_decay:
            as in :func:`least_squares`.
        reg: l2 regularization, ``> 0`` (it is ``mu``).
        model_norm: size of the planted model (larger: more confident labels).
    """
    _check_data_args(n_nodes, dim, samples_per_node, heterogeneity, reg, feature_decay)
    if not reg > 0:
        raise ValueError(f"logistic: reg must be > 0 (it is the strong convexity constant mu), got {reg}")
    _check_noise(noise, sigma, batch_size)
    if not (np.isfinite(model_norm) and model_norm >= 0):
        raise ValueError(f"model_norm must be finite and nonnegative, got {model_norm}")
    n, m, d = int(n_nodes), int(samples_per_node), int(dim)
    rng = np.random.default_rng(_checks.seed(key, "key"))
    M = _shifted_features(rng, n, m, d, heterogeneity, feature_decay)
    Wm = _planted_models(rng, n, d, heterogeneity, model_norm)
    p = _sigmoid(np.einsum("nmd,nd->nm", M, Wm))
    y = np.where(rng.uniform(size=(n, m)) < p, 1.0, -1.0)

    gram_max = np.linalg.eigvalsh(np.einsum("nmi,nmj->nij", M, M))[:, -1]
    L = float(gram_max.max() / (4 * m) + reg)
    mu = float(reg)
    x_star, _, _ = _logistic_newton(M.reshape(n * m, d), y.reshape(n * m), float(reg))

    s = _sigmoid(-y * (M @ x_star))  # (n, m)
    f_star = float(np.mean(np.logaddexp(0.0, -y * (M @ x_star))) + 0.5 * reg * x_star @ x_star)
    return _sample_problem(
        name="logistic", loss=_logistic_loss, sample_loss=_logistic_sample_loss, conj=None,
        M=M, y=y, reg=reg, x_star=x_star, f_star=f_star, L=L, mu=mu,
        per_sample=-(y * s)[..., None] * M + reg * x_star,
        L_sample=np.max(np.sum(M**2, axis=2), axis=1) / 4 + reg,
        noise=noise, batch_size=batch_size, sigma=sigma, extra_data={},
    )  # fmt: skip


# --- averaging (consensus) -----------------------------------------------------------
def _averaging_loss(d, x):
    r = x - d["b"]
    return 0.5 * (r @ r)


def averaging(n_nodes: int, dim: int, key: int = 0, *, scale: float = 1.0, sigma: float = 0.0) -> Problem:
    """The consensus problem ``f_i(x) = 1/2 ||x - a_i||^2``: ``x* = (1/n) sum_i a_i``.

    Node values ``a_i ~ N(0, scale^2 I)``. ``L = mu = 1``; ``f* = (1/(2n)) sum_i ||a_i - x*||^2``;
    ``zeta = sqrt((1/n) sum_i ||x* - a_i||^2)`` (the initial consensus error of gossip).

    Gossip (consensus) methods start from the node values ``X0 = a``: they are ``data["b"]`` (n, d)
    and :meth:`Problem.x0` returns them. The data also follow the quadratic layout
    (``A_i = A_i^{-1} = I``, ``b_i = a_i``, so ``grad f_i(x) = x - a_i`` and
    ``grad f_i^*(theta) = theta + a_i``), so the quadratic code paths apply.

    Args:
        n_nodes: number of nodes n (>= 1).
        dim: dimension d (>= 1).
        key: integer seed.
        scale: standard deviation of the node values.
        sigma: Gaussian gradient-noise level.
    """
    n_nodes, dim = _check_sizes(n_nodes, dim)
    if not (np.isfinite(scale) and scale >= 0):
        raise ValueError(f"scale must be finite and nonnegative, got {scale}")
    _check_noise("gaussian", sigma, 1)
    n, d = int(n_nodes), int(dim)
    a = scale * np.random.default_rng(_checks.seed(key, "key", "convex.averaging")).standard_normal((n, d))
    x_star = a.mean(axis=0)
    dev = np.sum((a - x_star) ** 2, axis=1)
    eye = np.broadcast_to(np.eye(d), (n, d, d))
    data = {"A": jnp.asarray(eye), "b": jnp.asarray(a), "A_inv": jnp.asarray(eye)}
    return Problem(
        data=data,
        x_star=jnp.asarray(x_star),
        f_star=float(0.5 * dev.mean()),
        L=1.0,
        mu=1.0,
        sigma=float(sigma),
        zeta=float(np.sqrt(dev.mean())),
        loss=_averaging_loss,
        noise="gaussian",
        name="averaging",
        conj=_quadratic_conj,
        summary={"A_bar": jnp.eye(d)},
    )


# --- what a run records (the convex family's metrics) ----------------------------------
def _distances(params, X) -> tuple[dict, jax.Array]:
    """``dist_to_opt`` and ``consensus_error`` of node-stacked iterates ``X`` (n, d), and ``x_bar``."""
    p = params["problem"]
    n, d = X.shape
    # The sums are written as matrix-vector products: XLA:CPU lowers a reduction to a scalar
    # loop but a product to a vectorized BLAS-like kernel (measured: 32 vs 54 us for these two
    # metrics at n=256, d=100, each jitted alone; benchmarks/engine.py has the in-run overhead).
    x_bar = jnp.ones((n,), X.dtype) @ X / n
    ones_d = jnp.ones((d,), X.dtype)
    D, E = X - p.x_star, X - x_bar
    return {
        "dist_to_opt": jnp.mean(jnp.sqrt((D * D) @ ones_d)),
        "consensus_error": jnp.sqrt(jnp.mean((E * E) @ ones_d)),
    }, x_bar


def _distance_instant(params, state, info) -> dict:
    """``dist_to_opt`` and ``consensus_error`` of node-stacked iterates ``state.X`` (n, d)."""
    del info
    return _distances(params, state.X)[0]


def _convex_instant(params, state, info) -> dict:
    """The distances and ``x_bar`` (hidden: the input of the deferred ``suboptimality``)."""
    del info
    out, x_bar = _distances(params, state.X)
    out["x_bar"] = x_bar
    return out


def _convex_deferred(params, record) -> dict:
    """``suboptimality`` = ``f(x_bar) - f*`` of one record, evaluated after the run for a block of
    records at once (one matrix-matrix product over the data instead of one product per record)."""
    return {"suboptimality": params["problem"].suboptimality(record["x_bar"])}


#: The convex family's recorder: ``dist_to_opt`` = ``(1/n) sum_i ||x_i - x*||`` (primary: a run is
#: flagged when it becomes non-finite or exceeds ``Metrics.blowup`` times its start),
#: ``consensus_error`` = ``sqrt((1/n) sum_i ||x_i - x_bar||^2)`` (root mean square) and
#: ``suboptimality`` = ``f(x_bar) - f*`` (:meth:`Problem.suboptimality`, O(d^2) on quadratic-type
#: problems). ``params["problem"]`` is the :class:`Problem`; the state has ``X`` (n, d).
#: ``suboptimality`` is a *deferred* metric (:class:`~problems._metrics.Metrics`): the run records
#: ``x_bar`` and evaluates ``f(x_bar) - f*`` after the scan, a block of records at a time. On
#: logistic regression ``f(x_bar)`` reads all ``n m`` samples, as much data as a gradient step;
#: batched over records the pass becomes a matrix-matrix product (``benchmarks/engine.py``).
metrics = Metrics(instant=_convex_instant, deferred=_convex_deferred, hidden=("x_bar",), primary="dist_to_opt")

#: The convex metrics without ``suboptimality`` (``dist_to_opt`` and ``consensus_error`` only):
#: use it with ``algo._replace(metrics=convex.distance_metrics)`` when even the deferred
#: objective pass is too much (very many records of a problem with a large data set).
distance_metrics = Metrics(instant=_distance_instant, primary="dist_to_opt")

#: The consensus family's recorder (gossip, Chebyshev and heavy-ball gossip): ``consensus_error``
#: (primary) and ``dist_to_opt`` (the distance to ``x*``, which is the target of gossip on
#: :func:`averaging` only: gossip converges to the mean of its start).
consensus_metrics = Metrics(instant=_distance_instant, primary="consensus_error")

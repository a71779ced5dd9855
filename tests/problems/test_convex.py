"""Property tests for problems.convex: oracles, optima, constants, noise, pytree behaviour.

Sizes come from a small fixed set (n=4 nodes, d=3, m=20 samples) so that nothing recompiles
between hypothesis examples; hypothesis draws seeds and heterogeneity levels. Monte Carlo tests
use ``derandomize=True`` so that a failure is reproducible and the suite is not flaky.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from problems import convex
from problems.convex import Problem

N, D, M = 4, 3, 20
KINDS = ["quadratic", "quadratic_mixed", "least_squares", "least_squares_noreg", "logistic", "averaging"]
seeds = st.integers(0, 2**20)
hets = st.sampled_from([0.0, 0.5, 2.0])


def make(kind: str, seed: int = 0, het: float = 1.0, **kw) -> Problem:
    if kind == "quadratic":
        return convex.quadratic(N, D, L=7.0, mu=0.5, key=seed, heterogeneity=het, **kw)
    if kind == "quadratic_mixed":
        return convex.quadratic(N, D, L=7.0, mu=0.5, key=seed, heterogeneity=het, shared_eigenvectors=False, **kw)
    if kind == "least_squares":
        return convex.least_squares(N, D, M, key=seed, heterogeneity=het, reg=0.05, **kw)
    if kind == "least_squares_noreg":
        return convex.least_squares(N, D, M, key=seed, heterogeneity=het, reg=0.0, feature_decay=1.0, **kw)
    if kind == "logistic":
        return convex.logistic(N, D, M, key=seed, heterogeneity=het, reg=0.05, **kw)
    if kind == "averaging":
        return convex.averaging(N, D, key=seed, scale=1.0 + het, **kw)
    raise AssertionError(kind)


# Jitted oracles with the problem as an argument: compiled once per problem kind and shape,
# reused across hypothesis examples (eager vmap-of-grad retraces on every call).
_value = jax.jit(lambda p, X: p.value(X))
_grad = jax.jit(lambda p, X: p.grad(X))
_hvp = jax.jit(lambda p, X, V: p.hvp(X, V))
_hess = jax.jit(lambda p, X: jax.vmap(jax.hessian(p.loss, argnums=1))(p.data, X))
_stoch = jax.jit(lambda p, key, X: p.stoch_grad(key, X))
_stoch_many = jax.jit(lambda p, keys, X: jax.vmap(lambda k: p.stoch_grad(k, X))(keys))


def points(p: Problem, seed: int) -> list[jnp.ndarray]:
    """Node-stacked test points: at x*, at 0, random, and far away."""
    rng = np.random.default_rng(seed)
    xs = jnp.broadcast_to(p.x_star, (p.n_nodes, p.dim))
    return [xs, jnp.zeros_like(xs), jnp.asarray(rng.standard_normal(xs.shape)), jnp.asarray(10 * rng.standard_normal(xs.shape))]


def term_scale(p: Problem) -> float:
    """Size of the terms that cancel in grad f(x*): mean_i ||grad f_i(0)|| + L ||x*||."""
    g0 = _grad(p, jnp.zeros((p.n_nodes, p.dim)))
    return float(jnp.mean(jnp.linalg.norm(g0, axis=1)) + p.L * jnp.linalg.norm(p.x_star))


# --- oracles ------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
@settings(deadline=None, max_examples=4)
@given(seed=seeds, het=hets)
def test_grad_and_hvp_match_finite_differences(kind, seed, het):
    p = make(kind, seed, het)
    rng = np.random.default_rng(seed + 1)
    h = 1e-5
    for X in points(p, seed)[1:3]:
        V = jnp.asarray(rng.standard_normal(X.shape))
        fd = (_value(p, X + h * V) - _value(p, X - h * V)) / (2 * h)
        dd = jnp.sum(_grad(p, X) * V, axis=1)
        np.testing.assert_allclose(dd, fd, rtol=1e-7, atol=1e-7 * float(jnp.max(jnp.abs(fd)) + 1))
        fd_g = (_grad(p, X + h * V) - _grad(p, X - h * V)) / (2 * h)
        hv = _hvp(p, X, V)
        np.testing.assert_allclose(hv, fd_g, rtol=1e-6, atol=1e-7 * float(jnp.max(jnp.abs(fd_g)) + 1))
        # and against the explicit Hessian
        Hs = _hess(p, X)
        np.testing.assert_allclose(hv, jnp.einsum("nij,nj->ni", Hs, V), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
@settings(deadline=None, max_examples=4)
@given(seed=seeds, het=hets)
def test_x_star_is_optimal_and_f_star_zeta_consistent(kind, seed, het):
    p = make(kind, seed, het)
    Xs = jnp.broadcast_to(p.x_star, (p.n_nodes, p.dim))
    G = _grad(p, Xs)
    # first-order optimality of the average objective, relative to the terms that cancel
    assert float(jnp.linalg.norm(G.mean(axis=0))) <= 1e-10 * term_scale(p)
    # f* = f(x*)
    np.testing.assert_allclose(float(p.objective(p.x_star)), float(p.f_star), rtol=1e-12, atol=1e-12)
    # zeta^2 = (1/n) sum ||grad f_i(x*)||^2
    np.testing.assert_allclose(float(p.zeta), float(jnp.sqrt(jnp.mean(jnp.sum(G**2, axis=1)))), rtol=1e-10, atol=1e-12)
    # x* is the minimizer, with the quadratic growth mu-strong convexity / L-smoothness give
    rng = np.random.default_rng(seed)
    for r in (1e-2, 1.0):
        delta = r * rng.standard_normal(p.dim)
        gap = float(p.objective(p.x_star + delta) - p.f_star)
        sq = float(delta @ delta)
        assert 0.5 * p.mu * sq * (1 - 1e-6) - 1e-13 <= gap <= 0.5 * p.L * sq * (1 + 1e-6) + 1e-13


@pytest.mark.parametrize("kind", KINDS)
@settings(deadline=None, max_examples=4)
@given(seed=seeds, het=hets)
def test_hessian_spectra_lie_in_mu_L(kind, seed, het):
    p = make(kind, seed, het)
    tol = 1e-9 * p.L
    lo, hi = [], []
    for X in points(p, seed):
        ev = np.linalg.eigvalsh(np.asarray(_hess(p, X)))  # (n, d)
        assert ev.min() >= p.mu - tol and ev.max() <= p.L + tol
        lo.append(ev[:, 0])
        hi.append(ev[:, -1])
    lo, hi = np.array(lo), np.array(hi)  # (points, n)
    if kind in ("quadratic", "quadratic_mixed"):  # every node attains both ends
        np.testing.assert_allclose(lo, p.mu, rtol=1e-10)
        np.testing.assert_allclose(hi, p.L, rtol=1e-10)
    elif kind == "averaging":
        np.testing.assert_allclose(lo, 1.0, rtol=1e-12)
        np.testing.assert_allclose(hi, 1.0, rtol=1e-12)
    elif kind.startswith("least_squares"):  # constant Hessians: extremes attained over nodes
        np.testing.assert_allclose(lo.min(axis=1), p.mu, rtol=1e-10)
        np.testing.assert_allclose(hi.max(axis=1), p.L, rtol=1e-10)
    elif kind == "logistic":
        # L is attained at x = 0 (points[1]); mu = reg is the infimum, approached far away
        np.testing.assert_allclose(hi[1].max(), p.L, rtol=1e-10)
        assert np.all(lo[:2] > p.mu)  # not attained (far away sigmoid' underflows to 0 in floating point)
        u = np.random.default_rng(seed).standard_normal((p.n_nodes, p.dim))
        far = jnp.asarray(1e4 * u / np.linalg.norm(u, axis=1, keepdims=True))
        ev_far = np.linalg.eigvalsh(np.asarray(_hess(p, far)))
        assert ev_far[:, 0].min() <= p.mu + 1e-6 * p.L


@pytest.mark.parametrize("kind", ["quadratic", "quadratic_mixed", "least_squares", "least_squares_noreg", "averaging"])
@settings(deadline=None, max_examples=3)
@given(seed=seeds)
def test_conjugate_gradient_inverts_gradient(kind, seed):
    p = make(kind, seed)
    X = points(p, seed)[2]
    np.testing.assert_allclose(p.conj_grad(p.grad(X)), X, rtol=1e-9, atol=1e-9)
    # the quadratic layout: grad f_i(x) = A_i x - b_i
    np.testing.assert_allclose(p.grad(X), jnp.einsum("nij,nj->ni", p.data["A"], X) - p.data["b"], rtol=1e-10, atol=1e-10)


def test_logistic_has_no_conjugate():
    p = make("logistic")
    assert p.conj is None
    with pytest.raises(NotImplementedError, match="conjugate"):
        p.conj_grad(jnp.zeros((N, D)))


def test_averaging_layout():
    p = convex.averaging(5, 2, key=3)
    a = p.data["b"]
    np.testing.assert_allclose(p.x_star, a.mean(axis=0), rtol=1e-14)
    np.testing.assert_array_equal(p.x0(), a)
    np.testing.assert_array_equal(p.data["A"], jnp.broadcast_to(jnp.eye(2), (5, 2, 2)))
    assert p.L == p.mu == 1.0
    np.testing.assert_allclose(p.zeta, float(jnp.sqrt(jnp.mean(jnp.sum((a - a.mean(0)) ** 2, axis=1)))), rtol=1e-12)


# --- stochastic gradients ---------------------------------------------------------------
def _exact_noise_var(p: Problem, X) -> np.ndarray:
    """(n,) E||g_i - grad f_i(x_i)||^2 from the definition of the noise."""
    if p.noise == "gaussian":
        return np.full(p.n_nodes, float(p.sigma) ** 2)
    return np.asarray(_per_sample_var(p, X)) / p.batch_size


@jax.jit
def _per_sample_var(p: Problem, X):
    """(n,) per-sample gradient variance (1/m) sum_j ||grad l_ij(x_i) - grad f_i(x_i)||^2."""
    gj = jax.grad(p.sample_loss, argnums=2)
    per = jax.vmap(lambda d, x: jax.vmap(lambda j: gj(d, j, x))(jnp.arange(p.n_samples)))(p.data, X)
    return jnp.mean(jnp.sum((per - per.mean(axis=1, keepdims=True)) ** 2, axis=2), axis=1)


STOCH = [
    ("quadratic", dict(sigma=0.7)),
    ("averaging", dict(sigma=0.3)),
    ("least_squares", dict(noise="minibatch", batch_size=1)),
    ("least_squares", dict(noise="minibatch", batch_size=5)),
    ("least_squares", dict(noise="gaussian", sigma=2.0)),
    ("logistic", dict(noise="minibatch", batch_size=3)),
]


@pytest.mark.parametrize("kind,kw", STOCH, ids=[f"{k}-{kw.get('noise', 'gaussian')}-{kw.get('batch_size', '')}" for k, kw in STOCH])
@settings(deadline=None, max_examples=2, derandomize=True)
@given(seed=seeds)
def test_stoch_grad_unbiased_with_stated_variance(kind, kw, seed):
    p = make(kind, seed, **kw)
    K = 4000
    keys = jax.random.split(jax.random.PRNGKey(seed), K)
    if p.noise == "minibatch":  # sigma^2 is the largest per-node variance at x*
        Xs = jnp.broadcast_to(p.x_star, (p.n_nodes, p.dim))
        v_star = _exact_noise_var(p, Xs)
        np.testing.assert_allclose(v_star * p.batch_size, p.data["sample_var"], rtol=1e-9)
        np.testing.assert_allclose(float(p.sigma) ** 2, v_star.max(), rtol=1e-9)
    for X in points(p, seed)[:3]:
        G = _stoch_many(p, keys, X)  # (K, n, d)
        E = np.asarray(G - _grad(p, X))
        v = _exact_noise_var(p, X)
        # unbiased: K ||mean error||^2 / v is a weighted sum of chi^2_1 with weights summing to 1
        # (CLT), so exceeding 25 has probability < 1e-6.
        assert np.all(K * np.sum(E.mean(axis=0) ** 2, axis=1) <= 25 * v + 1e-20)
        # variance: mean of K squared norms vs its expectation, within 6 standard errors
        sq = np.sum(E**2, axis=2)  # (K, n)
        se = sq.std(axis=0) / np.sqrt(K)
        assert np.all(np.abs(sq.mean(axis=0) - v) <= 6 * se + 1e-12 * (v + 1)), (sq.mean(axis=0), v, se)


@pytest.mark.parametrize("kind,kw", STOCH[:1] + STOCH[2:3] + STOCH[5:])
def test_stoch_grad_same_key_same_draws(kind, kw):
    p = make(kind, 3, **kw)
    X = points(p, 0)[2]
    k1, k2 = jax.random.PRNGKey(1), jax.random.PRNGKey(2)
    np.testing.assert_array_equal(_stoch(p, k1, X), _stoch(p, k1, X))
    np.testing.assert_allclose(_stoch(p, k1, X), p.stoch_grad(k1, X), rtol=1e-13)  # same draws jitted or not (to rounding)
    assert not np.allclose(_stoch(p, k1, X), _stoch(p, k2, X))
    # the same seed rebuilds the same problem, bit for bit
    q = make(kind, 3, **kw)
    for a, b in zip(jax.tree_util.tree_leaves(p), jax.tree_util.tree_leaves(q)):
        np.testing.assert_array_equal(a, b)


# --- bad inputs ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "build,match",
    [
        (lambda: convex.quadratic(4, 3, L=1.0, mu=2.0), "mu=2.0 > L=1.0"),
        (lambda: convex.quadratic(0, 3), "n_nodes"),
        (lambda: convex.least_squares(0, 3), "n_nodes"),
        (lambda: convex.logistic(3, 0), "dim"),  # issue 8: the message names the wrong argument
        (lambda: convex.averaging(0, 3), "n_nodes"),
        (lambda: convex.least_squares(4, 5, 3, reg=0.0), "singular"),
        (lambda: convex.least_squares(4, 3, reg=-1.0), "reg"),
        (lambda: convex.logistic(4, 3, reg=0.0), "reg must be > 0"),
        (lambda: convex.least_squares(4, 3, samples_per_node=0), "samples_per_node"),
        (lambda: convex.least_squares(4, 3, batch_size=0), "batch_size"),
        (lambda: convex.least_squares(4, 3, noise="laplace"), "noise"),
        (lambda: convex.least_squares(4, 3, noise="minibatch", sigma=1.0), "sigma"),
        (lambda: convex.logistic(4, 3, heterogeneity=-1.0), "heterogeneity"),
        (lambda: convex.averaging(4, 3, scale=-1.0), "scale"),
        (lambda: Problem(data={"A": jnp.ones((2, 1, 1))}, x_star=jnp.zeros(1), f_star=0.0, L=1.0, mu=1.0, sigma=0.0, zeta=0.0,
                         loss=lambda d, x: 0.0, noise="minibatch"), "sample_loss"),
    ],
)
def test_bad_constructor_arguments_raise(build, match):
    with pytest.raises(ValueError, match=match):
        build()


@pytest.mark.parametrize("kind", ["quadratic", "least_squares", "logistic", "averaging"])
def test_oracles_reject_wrong_shapes(kind):
    p = make(kind)
    bad = [jnp.zeros((N + 1, D)), jnp.zeros((N, D + 1)), jnp.zeros(D), jnp.zeros((1, N, D))]
    good = jnp.zeros((N, D))
    for X in bad:
        for call in (p.value, p.grad, lambda Z: p.stoch_grad(jax.random.PRNGKey(0), Z), lambda Z: p.hvp(Z, Z), lambda Z: p.hvp(good, Z)):
            with pytest.raises(ValueError, match=r"expected|shape \(n_nodes, dim\)"):
                call(X)
    with pytest.raises(ValueError, match="one point"):
        p.objective(good)
    if p.conj is not None:
        with pytest.raises(ValueError, match="shape"):
            p.conj_grad(jnp.zeros((N, D + 1)))
    # shape errors are raised under jit too (shapes are static)
    with pytest.raises(ValueError, match="shape"):
        jax.jit(lambda q, Z: q.grad(Z))(p, jnp.zeros((N, D + 1)))


# --- pytree / jit ---------------------------------------------------------------------
@pytest.mark.parametrize("kind,kw", [("quadratic", {}), ("least_squares", {}), ("logistic", dict(batch_size=2)), ("averaging", {})])
def test_problem_is_a_jit_argument_without_recompiling(kind, kw):
    @jax.jit
    def f(p, key, X):
        return jnp.sum(p.grad(X)) + jnp.sum(p.stoch_grad(key, X)) + p.objective(p.x_star) + p.L / p.mu

    X = jnp.ones((N, D))
    key = jax.random.PRNGKey(0)
    p0, p1 = make(kind, 0, **kw), make(kind, 1, **kw)
    outs = [float(f(p, key, X)) for p in (p0, p1)]
    assert f._cache_size() == 1
    assert outs[0] != outs[1]
    np.testing.assert_allclose(outs[1], float(jnp.sum(p1.grad(X)) + jnp.sum(p1.stoch_grad(key, X)) + p1.f_star + p1.L / p1.mu), rtol=1e-12)
    # vmap over a stack of problems (seeds)
    stacked = jax.tree_util.tree_map(lambda a, b: jnp.stack([jnp.asarray(a), jnp.asarray(b)]), p0, p1)
    fs = jax.vmap(lambda p: p.objective(p.x_star))(stacked)
    np.testing.assert_allclose(fs, [p0.f_star, p1.f_star], rtol=1e-12)


def test_describe_and_properties():
    p = make("least_squares", batch_size=4)
    assert p.n_nodes == N and p.dim == D and p.n_samples == M and p.batch_size == 4
    s = p.describe()
    assert "least_squares" in s and "batch=4" in s and "minibatch" in s
    assert make("quadratic").n_samples is None
    np.testing.assert_allclose(float(p.kappa), p.L / p.mu)


def test_with_batch_size_and_sigma_bar():
    p = make("logistic", 5, batch_size=1)
    q, r = p.with_batch_size(4), make("logistic", 5, batch_size=4)
    assert q.batch_size == 4
    np.testing.assert_allclose(float(q.sigma), float(r.sigma), rtol=1e-12)
    np.testing.assert_allclose(float(q.sigma), float(p.sigma) / 2, rtol=1e-12)
    v = np.asarray(p.data["sample_var"])
    np.testing.assert_allclose(float(r.sigma_bar), np.sqrt(v.mean() / 4), rtol=1e-12)
    assert float(r.sigma_bar) <= float(r.sigma)
    assert float(make("quadratic", sigma=0.3).sigma_bar) == 0.3
    with pytest.raises(ValueError, match="minibatch"):
        make("quadratic").with_batch_size(2)
    with pytest.raises(ValueError, match="batch_size"):
        p.with_batch_size(0)

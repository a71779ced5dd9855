"""problems.bilevel: oracles against closed forms and finite differences, exact hypergradients, noise, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from problems import bilevel

N, DX, DY = 4, 3, 3


@pytest.fixture(scope="module")
def quad():
    return bilevel.quadratic(N, DX, DY, key=1)


@pytest.fixture(scope="module")
def clean():
    return bilevel.hyper_cleaning(3, 3, key=0, train_per_node=4, val_per_node=6)


@pytest.fixture(scope="module")
def ridge():
    return bilevel.ridge_hyperparameters(3, 3, key=0, train_per_node=8, val_per_node=8)


@jax.jit
def _oracles(p, X, Y, V):
    return {"fx": p.grad_f_x(X, Y), "fy": p.grad_f_y(X, Y), "gy": p.grad_g_y(X, Y), "hvp": p.hvp_g_yy(X, Y, V),
            "jvp": p.jvp_g_xy(X, Y, V), "hess": p.hess_g_yy(X, Y), "jac": p.jac_g_xy(X, Y)}  # fmt: skip


def _points(p, seed=0):
    k1, k2, k3 = jax.random.split(jax.random.PRNGKey(seed), 3)
    n = p.n_nodes
    return (0.5 * jax.random.normal(k1, (n, p.dim_x)), jax.random.normal(k2, (n, p.dim_y)), jax.random.normal(k3, (n, p.dim_y)))


def test_quadratic_oracles_equal_closed_forms(quad):
    X, Y, V = _points(quad)
    o = _oracles(quad, X, Y, V)
    A, B, c, d = (np.asarray(quad.data[k]) for k in ("A", "B", "c", "d"))
    X, Y, V = map(np.asarray, (X, Y, V))
    lam = float(quad.data["lam"][0])
    np.testing.assert_allclose(o["fx"], lam * X, atol=1e-13)
    np.testing.assert_allclose(o["fy"], Y - d, atol=1e-13)
    np.testing.assert_allclose(o["gy"], np.einsum("nij,nj->ni", A, Y) - np.einsum("nij,nj->ni", B, X) - c, atol=1e-12)
    np.testing.assert_allclose(o["hvp"], np.einsum("nij,nj->ni", A, V), atol=1e-12)
    np.testing.assert_allclose(o["jvp"], -np.einsum("nji,nj->ni", B, V), atol=1e-12)
    np.testing.assert_allclose(o["hess"], A, atol=1e-12)
    np.testing.assert_allclose(o["jac"], -np.swapaxes(B, 1, 2), atol=1e-12)


@jax.jit
def _fd_second_order(p, X, Y, V, eps):
    """Central differences of grad_y g_i along V (in y) and of <grad_y g_i, V> along each x direction."""
    hvp_fd = (p.grad_g_y(X, Y + eps * V) - p.grad_g_y(X, Y - eps * V)) / (2 * eps)

    def inner(Xs):
        return jnp.sum(p.grad_g_y(Xs, Y) * V, axis=1)

    E = jnp.eye(p.dim_x)
    jvp_fd = jax.vmap(lambda e: (inner(X + eps * e) - inner(X - eps * e)) / (2 * eps), out_axes=1)(E)
    return hvp_fd, jvp_fd


@pytest.mark.parametrize("name", ["clean", "ridge"])
def test_second_order_oracles_equal_finite_differences(name, request):
    p = request.getfixturevalue(name)
    X, Y, V = _points(p, 3)
    o = _oracles(p, X, Y, V)
    hvp_fd, jvp_fd = _fd_second_order(p, X, Y, V, 1e-5)
    np.testing.assert_allclose(o["hvp"], hvp_fd, atol=1e-8)
    np.testing.assert_allclose(o["jvp"], jvp_fd, atol=1e-8)
    # the materialized matrices agree with the products
    np.testing.assert_allclose(np.einsum("nij,nj->ni", o["hess"], V), o["hvp"], atol=1e-12)
    np.testing.assert_allclose(np.einsum("nij,nj->ni", o["jac"], V), o["jvp"], atol=1e-12)


@jax.jit
def _hypergrad_and_fd(p, x, eps):
    hg = p.hypergrad(x)
    E = jnp.eye(p.dim_x)
    fd = jax.vmap(lambda e: (p.phi(x + eps * e) - p.phi(x - eps * e)) / (2 * eps))(E)
    y = p.y_star(x)
    return hg, fd, jax.grad(p.g_bar, argnums=1)(x, y)


@pytest.mark.parametrize("name", ["quad", "clean", "ridge"])
def test_hypergrad_equals_finite_difference_gradient_of_phi(name, request):
    p = request.getfixturevalue(name)
    x = 0.5 * jax.random.normal(jax.random.PRNGKey(7), (p.dim_x,))
    hg, fd, resid = _hypergrad_and_fd(p, x, 1e-5)
    assert np.abs(np.asarray(resid)).max() < 1e-12  # y* solved to round-off (Newton for hyper-cleaning)
    assert np.abs(np.asarray(hg)).max() > 1e-4  # a nontrivial gradient
    np.testing.assert_allclose(hg, fd, atol=1e-7, rtol=0)


def test_quadratic_hypergrad_closed_form_and_optimum(quad):
    A, B, c, d = (np.asarray(quad.data[k]).mean(0) for k in ("A", "B", "c", "d"))
    lam = float(quad.data["lam"][0])
    x = np.linspace(-1, 1, DX)
    y = np.linalg.solve(A, B @ x + c)
    closed = lam * x + B.T @ np.linalg.solve(A, y - d)
    hg, _, _ = _hypergrad_and_fd(quad, jnp.asarray(x), 1e-5)
    np.testing.assert_allclose(hg, closed, atol=1e-12)
    hg_star, _, _ = _hypergrad_and_fd(quad, quad.x_star, 1e-5)
    assert np.abs(np.asarray(hg_star)).max() < 1e-12
    assert float(quad.mu_g) == 1.0 and float(quad.L_g) == 10.0
    eig = np.linalg.eigvalsh(np.asarray(quad.data["A"]))
    assert eig.min() == pytest.approx(1.0) and eig.max() == pytest.approx(10.0)


@jax.jit
def _local_inverse_gap(p, x):
    return bilevel.local_inverse_hypergrad(p, x), p.hypergrad(x)


def test_local_inverse_estimator_is_biased_on_heterogeneous_quadratic_and_exact_on_homogeneous():
    het = bilevel.quadratic(N, DX, DY, key=2)
    x = jnp.ones(DX)
    li, hg = _local_inverse_gap(het, x)
    assert np.linalg.norm(li - hg) > 0.1 * np.linalg.norm(hg)
    # the same instance with identical A_i and d_i (so every local z_i equals z*): then it is exact
    import dataclasses

    same = {k: jnp.repeat(het.data[k][:1], N, axis=0) for k in ("A", "d")}
    hom = dataclasses.replace(het, data={**het.data, **same})
    li, hg = _local_inverse_gap(hom, x)
    np.testing.assert_allclose(li, hg, atol=1e-12)


@jax.jit
def _noise_moments(p, X, Y, V, keys):
    def one(k):
        return (p.stoch_grad_g_y(k, X, Y) - p.grad_g_y(X, Y), p.stoch_hvp_g_yy(bilevel.oracle_key(k, 1), X, Y, V) - p.hvp_g_yy(X, Y, V),
                p.stoch_jac_g_xy(bilevel.oracle_key(k, 2), X, Y) - p.jac_g_xy(X, Y))  # fmt: skip

    e1, e2, e3 = jax.vmap(one)(keys)
    sq = lambda e: jnp.mean(jnp.sum(e.reshape(e.shape[0], e.shape[1], -1) ** 2, axis=-1))  # noqa: E731
    return jnp.abs(jnp.mean(e1, axis=0)).max(), sq(e1), sq(e2), sq(e3), jnp.mean(e1[:, 0] * e2[:, 0])


def test_stochastic_oracles_unbiased_with_known_variance(quad):
    p = quad.with_sigma(0.3)
    X, Y, V = _points(p)
    keys = jax.random.split(jax.random.PRNGKey(0), 4000)
    bias, v1, v2, v3, cross = _noise_moments(p, X, Y, V, keys)
    # 4000 draws x 4 nodes: the mean is within 5 standard errors; E||noise||^2 = sigma^2 within 5%
    assert float(bias) < 5 * 0.3 / np.sqrt(DY * 4000)
    for v in (v1, v2, v3):
        assert float(v) == pytest.approx(0.09, rel=0.05)
    assert abs(float(cross)) < 5 * 0.09 / DY / np.sqrt(4000)  # independent streams for different call tags


def test_bad_inputs_raise_clear_errors(quad):
    with pytest.raises(ValueError, match="strongly convex"):
        bilevel.quadratic(4, 2, 2, mu_g=0.0)
    with pytest.raises(ValueError, match="cannot exceed"):
        bilevel.quadratic(4, 2, 2, mu_g=5.0, L_g=1.0)
    A = np.repeat(np.diag([1.0, -1.0])[None], 4, axis=0)
    with pytest.raises(ValueError, match="not strongly convex"):
        bilevel.quadratic(4, 2, 2, A=A)
    with pytest.raises(ValueError, match="shape"):
        bilevel.quadratic(4, 2, 2, A=np.eye(2)[None])
    with pytest.raises(ValueError, match="X must have shape"):
        quad.grad_f_x(jnp.zeros((N, DX + 1)), jnp.zeros((N, DY)))
    with pytest.raises(ValueError, match="V must have shape"):
        quad.hvp_g_yy(jnp.zeros((N, DX)), jnp.zeros((N, DY)), jnp.zeros((N, DY + 2)))
    with pytest.raises(ValueError, match="x must have shape"):
        quad.y_star(jnp.zeros(DX + 1))
    with pytest.raises(ValueError, match="train_per_node"):
        bilevel.ridge_hyperparameters(3, 5, train_per_node=5)
    with pytest.raises(ValueError, match="reg must be positive"):
        bilevel.hyper_cleaning(3, 3, reg=0.0)
    with pytest.raises(ValueError, match="corruption"):
        bilevel.hyper_cleaning(3, 3, corruption=1.0)
    with pytest.raises(ValueError, match="n_nodes"):
        bilevel.quadratic(1, 2, 2)
    with pytest.raises(ValueError, match="sigma"):
        quad.with_sigma(-1.0)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), mu=st.floats(0.1, 2.0), ratio=st.floats(1.0, 50.0), lam=st.floats(0.01, 1.0))
def test_quadratic_hypergrad_matches_closed_form_and_finite_differences_for_random_constants(seed, mu, ratio, lam):
    p = bilevel.quadratic(N, DX, DY, key=seed, mu_g=mu, L_g=mu * ratio, lam=lam)
    x = jnp.asarray(np.random.default_rng(seed).normal(size=DX))
    hg, fd, _ = _hypergrad_and_fd(p, x, 1e-5)  # same shapes: one compiled program for every example
    A, B, c, d = (np.asarray(p.data[k]).mean(0) for k in ("A", "B", "c", "d"))
    y = np.linalg.solve(A, B @ np.asarray(x) + c)
    closed = lam * np.asarray(x) + B.T @ np.linalg.solve(A, y - d)
    np.testing.assert_allclose(hg, closed, atol=1e-10 * max(1.0, np.abs(closed).max()))
    np.testing.assert_allclose(hg, fd, atol=1e-7 * max(1.0, np.abs(closed).max()))
    eig = np.linalg.eigvalsh(np.asarray(p.data["A"]))
    assert eig.min() >= mu * (1 - 1e-12) and eig.max() <= mu * ratio * (1 + 1e-12)

"""Issue 14: non-convex stochastic oracles, the D-SGD ≈ SAM identity, D-SGD with local steps and changing topology."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import algos
import bounds
from bounds.stochastic.dsgd_local import NEIGHBOURHOOD_EXPONENTS
from problems import convex, graphs, mixing, nonconvex


@pytest.fixture(scope="module")
def prob():
    return nonconvex.logcosh_regression(4, 5, samples_per_node=12, key=0, sigma=0.7)


@pytest.fixture(scope="module")
def floss(prob):
    return jax.jit(prob.objective)


def test_nonconvex_oracle_unbiased_with_stated_variance(prob):
    X = jnp.asarray(np.random.default_rng(0).standard_normal((4, 5)))
    N = 4000
    G = jax.vmap(lambda k: prob.stoch_grad(k, X))(jax.random.split(jax.random.PRNGKey(1), N))
    g = prob.grad(X)
    # coordinates have variance sigma^2 / d: the mean is within 5 standard errors
    se = prob.sigma / np.sqrt(prob.dim) / np.sqrt(N)
    assert np.max(np.abs(np.asarray(G.mean(0) - g))) < 5 * se
    # E||g_i - grad f_i||^2 = sigma^2 (chi-square mean; relative sd sqrt(2/(d n N)) ~ 5e-3)
    var = float(jnp.mean(jnp.sum((G - g) ** 2, axis=-1)))
    assert abs(var / prob.sigma**2 - 1) < 0.03


def test_nonconvex_problem_is_nonconvex_and_x_ref_stationary(prob):
    H0 = jax.jit(jax.hessian(prob.objective))(jnp.zeros(prob.dim))
    assert np.linalg.eigvalsh(np.asarray(H0))[0] < 0  # a negative curvature direction at the origin
    assert float(jnp.linalg.norm(prob.objective_grad(prob.x_ref))) < 1e-9
    # the stated smoothness bound holds at the points we can check
    local_hessians = jax.jit(jax.vmap(jax.hessian(prob.loss, argnums=1), in_axes=(0, None)))
    for x in (jnp.zeros(prob.dim), prob.x_ref):
        Hi = local_hessians(prob.data, x)
        assert np.max(np.abs(np.linalg.eigvalsh(np.asarray(Hi)))) <= prob.L


def _points(seed, m, d, base_scale, x_ref):
    rng = np.random.default_rng(seed)
    w_a = np.asarray(x_ref) + base_scale * rng.standard_normal(d)
    D = rng.standard_normal((m, d))
    D -= D.mean(0)
    return w_a, D / np.sqrt(np.mean(np.sum(D**2, axis=1)))


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 10_000), m=st.sampled_from([3, 4, 5]), base_scale=st.sampled_from([0.0, 0.5, 1.0]))
def test_sam_identity_slopes_on_drawn_points(prob, floss, seed, m, base_scale):
    w_a, D = _points(seed, m, prob.dim, base_scale, prob.x_ref)
    spreads = np.array([2e-3, 6e-3, 2e-2])
    res = [bounds.sam_residuals(floss, w_a + s * D) for s in spreads]
    for field, order in (("with_hessian", 3.0), ("vs_gaussian", 3.0), ("without_hessian", 2.0)):
        slope = bounds.fit_exponent(spreads, [getattr(r, field) for r in res])[0]
        assert abs(slope - order) < 0.1, (field, slope)
    assert all(abs(r.spread - s) < 1e-12 for r, s in zip(res, spreads))


def test_sam_identity_exact_on_quadratic():
    q = convex.quadratic(4, 5, key=3)
    w_a, D = _points(0, 4, 5, 1.0, q.x_star)
    r = bounds.sam_residuals(jax.jit(q.objective), w_a + 0.3 * D)
    scale = 1.0 + float(jnp.linalg.norm(r.mean_grad))
    assert max(r.with_hessian, r.without_hessian, r.vs_gaussian) < 1e-12 * scale
    assert float(jnp.linalg.norm(r.hessian_term)) < 1e-12 * scale


def test_hessian_term_is_half_the_third_derivative_contracted_with_xi(prob, floss):
    w_a, D = _points(7, 4, prob.dim, 0.5, prob.x_ref)
    P = w_a + 0.1 * D
    Xi = np.cov(P.T, bias=True)
    T = jax.jit(jax.jacfwd(jax.hessian(prob.objective)))(jnp.asarray(P.mean(0)))  # (d, d, d), another autodiff route
    expect = 0.5 * jnp.einsum("ijk,jk->i", T, jnp.asarray(Xi))
    np.testing.assert_allclose(np.asarray(bounds.hessian_term(floss, P)), np.asarray(expect), rtol=1e-10, atol=1e-14)


def test_sam_residuals_bad_points(prob):
    with pytest.raises(ValueError, match="m >= 2"):
        bounds.sam_residuals(prob.objective, np.zeros((1, 5)))
    with pytest.raises(ValueError, match="rank"):
        bounds.gaussian_smoothed_grad(prob.objective, np.random.default_rng(0).standard_normal((7, 8)))


# --- D-SGD with local steps and changing topology --------------------------------------------
def test_dsgd_local_with_tau_one_matches_plain_dsgd():
    p = convex.quadratic(6, 3, key=1, sigma=0.3)
    W = mixing.metropolis(graphs.ring(6))
    _, t0 = algos.run(algos.dsgd(p, W, 0.05), 3, 60)
    a1 = algos.dsgd(p, mixing.MixingSequence(W[None]), 0.05)
    assert a1.name == "dsgd_local"
    _, t1 = algos.run(a1, 3, 60)
    np.testing.assert_allclose(np.asarray(t1.dist_to_opt), np.asarray(t0.dist_to_opt), rtol=1e-12, atol=1e-14)


def test_dsgd_local_schedule_costs_and_determinism(prob):
    W = mixing.metropolis(graphs.ring(4))
    a = algos.dsgd(prob, W, 0.05, local_steps=4)
    _, t1 = algos.run(a, 5, 40, record_every=4)
    _, t2 = algos.run(a, 5, 40, record_every=4)
    for f in t1.fields:
        np.testing.assert_array_equal(np.asarray(t1[f]), np.asarray(t2[f]))
    np.testing.assert_array_equal(np.asarray(t1.communications), np.arange(11))  # one gossip per 4 steps
    np.testing.assert_array_equal(np.asarray(t1.gradient_calls), 4 * np.arange(11))
    # noise-free, one step: no gossip yet (a local step)
    a0 = algos.dsgd(nonconvex.logcosh_regression(4, 5, samples_per_node=12, key=0), W, 0.05, local_steps=2,
                    x0=np.random.default_rng(0).standard_normal((4, 5)))  # fmt: skip
    s1, _ = a0.step(jax.random.PRNGKey(0), a0.init(None), 0)
    X0 = a0.params["x0"]
    np.testing.assert_allclose(np.asarray(s1.X), np.asarray(X0 - 0.05 * a0.params["problem"].grad(X0)), rtol=1e-13)


def test_dsgd_changing_topology_uses_the_round_matrix():
    p = convex.quadratic(4, 2, key=0)
    J = np.ones((4, 4)) / 4
    seq = mixing.MixingSequence(np.stack([np.eye(4), J]))
    a = algos.dsgd(p, seq, 0.1, x0=np.arange(8.0).reshape(4, 2))
    s = a.init(None)
    s, _ = a.step(jax.random.PRNGKey(0), s, 0)  # round 0: W_0 = I, rows differ
    assert float(np.ptp(np.asarray(s.X), axis=0).max()) > 0
    s, _ = a.step(jax.random.PRNGKey(0), s, 1)  # round 1: W_1 = J, exact consensus
    assert float(np.ptp(np.asarray(s.X), axis=0).max()) < 1e-12


@pytest.mark.parametrize("bad", [0, -2, 1.5, "2"])
def test_dsgd_bad_local_steps(bad):
    p = convex.quadratic(4, 2, key=0)
    with pytest.raises((ValueError, TypeError), match="local_steps"):
        algos.dsgd(p, mixing.metropolis(graphs.ring(4)), local_steps=bad)


def test_linear_speed_up_in_n():
    """Stationary E f(x_bar) - f* of D-SGD with exact averaging (W = J) has slope -1 in n."""
    alpha, seeds, burn, window = 0.02, 32, 400, 1600
    ns = (2, 4, 8)
    levels = []
    for n in ns:
        p = convex.quadratic(n, 3, 4.0, 1.0, key=0, heterogeneity=0.0, sigma=1.0)
        a = algos.dsgd(p, np.ones((n, n)) / n, alpha, x0=p.x_star)

        def one(key, a=a):
            tr = algos.run(a, key, burn + window, record_every=4)[1]
            return jnp.mean(tr.suboptimality[burn // 4 + 1 :])

        levels.append(float(jnp.mean(jax.jit(jax.vmap(one))(jnp.arange(seeds, dtype=jnp.uint32)))))
    slope = bounds.fit_exponent(ns, levels)[0]
    assert abs(slope - NEIGHBOURHOOD_EXPONENTS["noise (optimality gap)"]["n"]) < 0.1, (slope, levels)


def test_dsgd_local_orders_checks_and_speed_up():
    b = bounds.dsgd_local_orders("nonconvex", L=1.0, sigma=1.0, zeta=0.0, n=4, p=0.5, tau=2)
    b16 = bounds.dsgd_local_orders("nonconvex", L=1.0, sigma=1.0, zeta=0.0, n=16, p=0.5, tau=2)
    eps = 1e-8  # the noise term dominates: steps scale as 1/n
    assert abs(b.complexity["steps"](eps) / b16.complexity["steps"](eps) - 4.0) < 0.05
    assert b.kind == "order" and b.exponents["eps (noise term)"] == -2.0
    for kw, msg in ((dict(p=0.0), "p"), (dict(tau=0), "tau"), (dict(n=0), "n")):
        args = dict(L=1.0, sigma=1.0, zeta=0.0, n=4, p=0.5, tau=2) | kw
        with pytest.raises(ValueError, match=msg):
            bounds.dsgd_local_orders("convex", **args)
    with pytest.raises(ValueError, match="mu"):
        bounds.dsgd_local_orders("strongly_convex", L=1.0, sigma=1.0, zeta=0.0, n=4, p=0.5)

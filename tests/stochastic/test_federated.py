"""Issue 14: DFedAvg/DFedSAM/DFedSAM-MGS, AFA-CD/CS, local SGD (outer Nesterov, delayed) and MoDeST."""

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import algos
import bounds
from algos.federated.local_sgd import sample_mask
from problems import convex, graphs, mixing, nonconvex


@pytest.fixture(scope="module")
def prob():
    return nonconvex.logcosh_regression(6, 4, samples_per_node=10, key=0, sigma=0.2)


@pytest.fixture(scope="module")
def W():
    return mixing.metropolis(graphs.ring(6))


def test_dfedsam_mgs_equals_dfedsam_with_q_one_and_costs(prob, W):
    a1 = algos.dfedsam(prob, W, local_steps=3, rho=0.05)
    a2 = algos.dfedsam_mgs(prob, W, local_steps=3, rho=0.05, gossip_steps=1)
    _, t1 = algos.run(a1, 2, 10)
    _, t2 = algos.run(a2, 2, 10)
    np.testing.assert_array_equal(np.asarray(t1.loss), np.asarray(t2.loss))
    np.testing.assert_array_equal(np.asarray(t1.gradient_calls)[-1], 10 * 3 * 2)  # two gradients per SAM step
    a4 = algos.dfedsam_mgs(prob, W, local_steps=3, gossip_steps=4)
    _, t4 = algos.run(a4, 2, 10)
    assert float(np.asarray(t4.communications)[-1]) == 40.0
    # more gossip, smaller consensus distance (same noise draws)
    assert float(np.mean(np.asarray(t4.consensus_error)[1:])) < float(np.mean(np.asarray(t1.consensus_error)[1:]))


def _model_xi(W, Q, c, b, S):
    """Stationary E||(I - J) X||^2 of X' = W^Q (c X + b + xi), Cov xi = S, solved in node space (no eigenbasis)."""
    from scipy.linalg import solve_discrete_lyapunov

    n = W.shape[0]
    J = np.full((n, n), 1.0 / n)
    A = np.linalg.matrix_power(W, Q) - J  # the round map on deviations (kills the average)
    P = np.eye(n) - J
    m = np.linalg.solve(np.eye(n) - c * A, A @ (P @ b))
    cov = solve_discrete_lyapunov(c * A, A @ P @ S @ P @ A.T)
    return float(m @ m + np.trace(cov))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10**6), st.sampled_from([2, 3, 4]), st.floats(0.2, 1.0), st.sampled_from(["ring", "geometric", "path", "negative"]))
def test_mgs_consensus_ratio_bounds_the_linear_round_model(seed, Q, c, gname):
    rng = np.random.default_rng(seed)
    n = 9
    if gname == "negative":  # doubly stochastic with deviation eigenvalues in [-0.9, 0.1]: drift can grow with Q
        W = 0.5 * mixing.metropolis(graphs.ring(n)) + 0.5 * (1.9 * np.full((n, n), 1.0 / n) - 0.9 * np.eye(n))
    else:
        W = mixing.metropolis({"ring": graphs.ring(n), "path": graphs.path(n), "geometric": graphs.geometric(n, seed=seed % 50)}[gname])
    b = rng.normal(size=n) * rng.uniform(0, 2)
    M = rng.normal(size=(n, n)) * rng.uniform(0, 2)
    S = M @ M.T  # any noise covariance, correlated across nodes
    ratio = _model_xi(W, Q, c, b, S) / _model_xi(W, 1, c, b, S)
    r = bounds.mgs_consensus_ratio(W, Q, contraction=c)
    assert ratio <= r["bound"] * (1 + 1e-9)
    # an interval of contractions bounds every contraction inside it
    assert ratio <= bounds.mgs_consensus_ratio(W, Q, contraction=(min(c, 0.5), 1.0))["bound"] * (1 + 1e-9)


def test_mgs_consensus_ratio_is_attained_on_the_slowest_mode_and_needs_the_contraction():
    W = mixing.metropolis(graphs.ring(16))
    ev, V = np.linalg.eigh(W)
    slow = V[:, np.argsort(np.abs(ev - 1.0))[1]]  # slowest non-average mode (eigenvalue slem)
    for Q in (2, 4):
        r = bounds.mgs_consensus_ratio(W, Q)
        drift = _model_xi(W, Q, 1.0, slow, np.zeros((16, 16))) / _model_xi(W, 1, 1.0, slow, np.zeros((16, 16)))
        noise = _model_xi(W, Q, 1.0, 0 * slow, np.outer(slow, slow)) / _model_xi(W, 1, 1.0, 0 * slow, np.outer(slow, slow))
        assert drift == pytest.approx(r["drift_slowest"], rel=1e-9) and noise == pytest.approx(r["noise_slowest"], rel=1e-9)
        assert r["bound"] == pytest.approx(noise, rel=1e-9) and r["kind"] == "noise"
        # local steps that contract deviations (c = 0.3) make gossip count for less: the c = 1 bound fails
        contracted = _model_xi(W, Q, 0.3, 0 * slow, np.outer(slow, slow)) / _model_xi(W, 1, 0.3, 0 * slow, np.outer(slow, slow))
        assert contracted > r["bound"]
        assert contracted <= bounds.mgs_consensus_ratio(W, Q, contraction=0.3)["bound"] * (1 + 1e-9)
    for bad, msg in ((dict(Q=0), "Q"), (dict(contraction=0.0), "contraction"), (dict(contraction=(0.5, 1.5)), "contraction")):
        with pytest.raises(ValueError, match=msg):
            bounds.mgs_consensus_ratio(W, **{"Q": 2, **bad})
    with pytest.raises(ValueError, match="doubly stochastic"):
        bounds.mgs_consensus_ratio(np.eye(3) * 0.5, 2)
    with pytest.raises(ValueError, match="modulus 1"):
        bounds.mgs_consensus_ratio(np.eye(4), 2)


def test_dfedavg_is_dfedsam_with_rho_zero_in_expectation_free_case(W):
    p = nonconvex.logcosh_regression(6, 4, samples_per_node=10, key=0, sigma=0.0)
    a = algos.dfedavg(p, W, local_steps=2, step_size=0.05)
    b = algos.dfedsam(p, W, local_steps=2, step_size=0.05, rho=0.0)
    _, ta = algos.run(a, 0, 5)
    _, tb = algos.run(b, 0, 5)
    np.testing.assert_allclose(np.asarray(ta.loss), np.asarray(tb.loss), rtol=1e-13)


@pytest.mark.parametrize("kw, msg", [(dict(gossip_steps=0), "gossip_steps"), (dict(gossip_steps=1.5), "gossip_steps"),
                                     (dict(local_steps=0), "local_steps"), (dict(rho=-1.0), "rho")])  # fmt: skip
def test_dfedsam_bad_inputs(prob, W, kw, msg):
    with pytest.raises((ValueError, TypeError), match=msg):
        algos.dfedsam_mgs(prob, W, **kw)


def test_mgs_factor_decreases_and_checks():
    f = [bounds.mgs_factor(0.9, q) for q in (1, 2, 4)]
    assert f[0] > f[1] > f[2]
    with pytest.raises(ValueError, match="Q"):
        bounds.mgs_factor(0.9, 0)
    b = bounds.dfedsam_orders(5, 0.9)
    assert b.kind == "order" and b.envelope(np.array([1e6]))[0] == pytest.approx(1 / np.sqrt(5e6), rel=0.01)


# --- anarchic FL ---------------------------------------------------------------------------
@pytest.mark.parametrize("q", [0.0, -0.1, 1.5, [0.5] * 3])
def test_afa_bad_participation(q):
    p = convex.quadratic(6, 3, key=0)
    with pytest.raises(ValueError, match="participation"):
        algos.afa_cd(p, participation=q)


def test_afa_cs_converges_where_afa_cd_plateaus():
    """Skewed participation on heterogeneous quadratics: CD's plateau is far from x*, CS's is not."""
    out, runners = {}, {}
    for z in (0.5, 2.0):
        p = convex.quadratic(8, 3, 4.0, 1.0, key=0, heterogeneity=z)
        kw = dict(participation=algos.skewed_participation(8, 20.0), local_steps=3, max_staleness=2, eta_local=0.005, eta_server=0.125)
        for f in (algos.afa_cd, algos.afa_cs):
            a = f(p, **kw)
            if a.name not in runners:  # one compiled program per method: the instance is a traced argument
                runners[a.name] = jax.jit(lambda prm, a=a: algos.run(a._replace(params=prm), 0, 1200, record_every=20)[1].dist_to_opt)
            out[(f.__name__, z)] = float(np.mean(np.asarray(runners[a.name](a.params))[30:]))
    for z in (0.5, 2.0):
        assert out[("afa_cs", z)] < 0.1 * out[("afa_cd", z)]
    assert out[("afa_cd", 2.0)] > 3.0 * out[("afa_cd", 0.5)]  # CD's plateau grows with the heterogeneity


def test_afa_determinism_and_full_participation_costs():
    p = convex.quadratic(6, 3, key=0, sigma=0.1)
    a = algos.afa_cs(p, participation=1.0, local_steps=4, max_staleness=1)
    _, t1 = algos.run(a, 9, 30)
    _, t2 = algos.run(a, 9, 30)
    np.testing.assert_array_equal(np.asarray(t1.dist_to_opt), np.asarray(t2.dist_to_opt))
    np.testing.assert_array_equal(np.asarray(t1.uploads), 6 * np.arange(31))
    assert np.all(np.diff(np.asarray(t1.gradient_calls)) >= 6) and np.all(np.diff(np.asarray(t1.gradient_calls)) <= 24)


# --- local SGD, DiLoCo, MoDeST -------------------------------------------------------------
def test_local_sgd_plain_averaging_is_the_workers_mean(prob):
    a = algos.local_sgd(prob, inner_steps=3, inner_lr=0.05, outer_lr=1.0, outer_momentum=0.0, x0=np.ones(4))
    key = jax.random.PRNGKey(0)
    s1, _ = a.step(key, a.init(None), 0)
    from algos.federated.local_sgd import _inner

    Y = _inner(prob, np.ones((6, 4)), 0.05, 3, key)
    np.testing.assert_allclose(np.asarray(s1.x), np.asarray(Y.mean(0)), rtol=1e-13)


def test_local_sgd_nesterov_outer_step_and_delay(prob):
    p = nonconvex.logcosh_regression(6, 4, samples_per_node=10, key=0, sigma=0.0)
    a = algos.local_sgd(p, inner_steps=2, inner_lr=0.05, outer_lr=0.7, outer_momentum=0.9, x0=np.ones(4))
    s0 = a.init(None)
    s1, _ = a.step(jax.random.PRNGKey(0), s0, 0)
    b = algos.local_sgd(p, inner_steps=2, inner_lr=0.05, outer_lr=1.0, outer_momentum=0.0, x0=np.ones(4))
    delta = np.ones(4) - np.asarray(b.step(jax.random.PRNGKey(0), b.init(None), 0)[0].x)
    # first step from m = 0: m = delta, x = x0 - lr (delta + mu delta)
    np.testing.assert_allclose(np.asarray(s1.x), np.ones(4) - 0.7 * 1.9 * delta, rtol=1e-12)
    # delay 2: the first two rounds both use the pseudo-gradient of x0
    d = algos.local_sgd(p, inner_steps=2, inner_lr=0.05, outer_lr=1.0, outer_momentum=0.0, delay=2, x0=np.ones(4))
    s = d.init(None)
    s, _ = d.step(jax.random.PRNGKey(0), s, 0)
    s, _ = d.step(jax.random.PRNGKey(0), s, 1)
    np.testing.assert_allclose(np.asarray(s.x), np.ones(4) - 2 * delta, rtol=1e-12)
    with pytest.raises(ValueError, match="delay"):
        algos.local_sgd(p, delay=-1)
    with pytest.raises(ValueError, match="delayed_nesterov"):
        algos.local_sgd(p, delayed_nesterov=-1)
    # delayed Nesterov with N = 1 is the Nesterov outer step
    e = algos.local_sgd(p, inner_steps=2, inner_lr=0.05, delayed_nesterov=1, x0=np.ones(4))
    _, ta = algos.run(a, 0, 8)
    _, te = algos.run(e, 0, 8)
    np.testing.assert_allclose(np.asarray(te.loss), np.asarray(ta.loss), rtol=1e-13)
    # N = 2: the first round moves by lr Delta / 2 with the momentum frozen at 0
    f = algos.local_sgd(p, inner_steps=2, inner_lr=0.05, outer_lr=0.7, delayed_nesterov=2, x0=np.ones(4))
    sf, _ = f.step(jax.random.PRNGKey(0), f.init(None), 0)
    np.testing.assert_allclose(np.asarray(sf.x), np.ones(4) - 0.7 * delta / 2, rtol=1e-12)
    assert float(np.abs(np.asarray(sf.m)).max()) == 0.0
    with pytest.raises(ValueError, match="inner_steps"):
        algos.local_sgd(p, inner_steps=0)


def test_modest_sample_is_deterministic_and_of_size_s():
    m1 = np.asarray(sample_mask(20, 5, 7))
    assert m1.sum() == 5 and np.array_equal(m1, np.asarray(sample_mask(20, 5, 7)))
    masks = np.stack([np.asarray(sample_mask(20, 5, r)) for r in range(200)])
    assert len({tuple(m) for m in masks}) > 150  # rounds draw different samples
    assert np.all(np.abs(masks.mean(0) - 0.25) < 0.12)  # every node is sampled about s/n of the time


def test_modest_costs_and_bad_sample_size(prob):
    a = algos.modest(prob, sample_size=2, local_steps=3)
    _, tr = algos.run(a, 0, 10)
    assert float(np.asarray(tr.uploads)[-1]) == 20.0 and float(np.asarray(tr.gradient_calls)[-1]) == 60.0
    with pytest.raises(ValueError, match="sample_size"):
        algos.modest(prob, sample_size=7)

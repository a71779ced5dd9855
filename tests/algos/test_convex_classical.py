"""Classical convex methods: DGD, D-SGD, EXTRA, NIDS, exact diffusion, gradient tracking (DIGing).

Properties: exact methods converge to x*; on quadratics the fitted rate equals the exact rate
(spectral radius of the iteration matrix on the excited modes); NIDS is exact diffusion; DGD's
exact rate is the spectral radius of W - alpha H; the step-size limits are the exact worst-case
stability boundaries; determinism, no recompilation, costs, and clear errors on bad input.
"""

from __future__ import annotations

import dataclasses
import importlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _classical_helpers import DIM, N_NODES, build, instances, observable, observed_rate
from hypothesis import HealthCheck, assume, given, settings

from algos._core import _run_impl, run
from algos.convex.dgd import dgd
from algos.convex.dsgd import dsgd
from algos.convex.exact_diffusion import exact_diffusion
from algos.convex.extra import extra
from algos.convex.gradient_tracking import gradient_tracking
from algos.convex.nids import nids
from bounds import StepSizeError
from bounds.convex.exact import exact_rate, exact_spectrum
from problems import convex, graphs, mixing
from problems.mixing import MixingMatrixError

EXACT = {"extra": extra, "nids": nids, "exact_diffusion": exact_diffusion, "gradient_tracking": gradient_tracking}
ALL = {**EXACT, "dgd": dgd, "dsgd": dsgd}
SETTINGS = dict(deadline=None, max_examples=3, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("name", sorted(EXACT))
@settings(**SETTINGS)
@given(inst=instances)
def test_exact_methods_converge_to_x_star(name, inst):
    p, W, x0 = build(inst)
    algo = EXACT[name](p, W, x0=x0)
    r_star = exact_rate(algo)
    assert r_star < 1.0
    T = 20000
    _, tr = run(algo, 0, T, record_every=100)
    d = np.asarray(tr.dist_to_opt)
    assert not bool(tr.diverged)
    d0 = float(np.mean(np.linalg.norm(x0 - np.asarray(p.x_star), axis=1)))
    # at least as fast as the exact rate predicts (up to a constant), down to round-off
    assert d[-1] <= max(1e-8, 1e3 * d0 * r_star**T)


@pytest.mark.parametrize("name", sorted(EXACT) + ["dgd"])
@settings(deadline=None, max_examples=3, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(inst=instances)
def test_fitted_rate_matches_exact_rate(name, inst):
    # Centered instance (x* = 0, zeta = 0): DGD is exact there too.
    p, W, x0 = build(inst, heterogeneity=0.0, centered=True)
    algo = ALL[name](p, W, x0=x0)
    spec = exact_spectrum(algo)
    # A float64 run can only show the asymptotic rate when the slowest excited modes dominate
    # before round-off; otherwise the fit measures a faster neighbouring mode (see the report).
    assume(observable(spec))
    _, tr = run(algo, 0, 20000)
    r = observed_rate(tr.dist_to_opt)
    assert abs(r - spec.rate) <= 0.02 * (1.0 - spec.rate), (r, spec.rate)


def test_reference_ring_measurement():
    """PAPERS.md: n = 16 ring, W = 1/3 weights, kappa = 10; EXTRA at 0.5/L, NIDS at 1/L."""
    W = mixing.metropolis(graphs.ring(16))
    assert np.allclose(W[0, [0, 1, 15]], 1.0 / 3.0)
    p = convex.quadratic(16, 5, L=10.0, mu=1.0, key=0)
    x0 = np.random.default_rng(1).standard_normal((16, 5))
    for f, alpha in [(extra, 0.05), (nids, 0.1)]:
        algo = f(p, W, alpha, x0=x0)
        r_star = exact_rate(algo)
        _, tr = run(algo, 0, 3000)
        r = observed_rate(tr.dist_to_opt)
        assert abs(r - r_star) <= 0.02 * (1.0 - r_star), (f.__name__, r, r_star)
    # From x0 = 0 EXTRA's slowest modes (0.9616) carry only 0.3% of the error next to a 0.95 mode:
    # within float64's range the fit sees a mixture, between the two (the kind of gap PAPERS.md reports).
    spec = exact_spectrum(extra(p, W, 0.05))
    r0 = observed_rate(run(extra(p, W, 0.05), 0, 3000)[1].dist_to_opt)
    assert not observable(spec) and spec.next_modulus - 1e-3 < r0 < spec.rate
    # NIDS at alpha = 1/L: the direction where every node has curvature L gives the root (1 + lambda_2)/2
    assert exact_rate(nids(p, W, 0.1)) == pytest.approx((1.0 + mixing.lambda2(W)) / 2.0, abs=1e-9)
    # DGD at 1/L is outside its range on this ring (lambda_n = -1/3) and does diverge
    with pytest.raises(StepSizeError):
        dgd(p, W, 0.1)
    _, tr = run(dgd(p, W, 0.1, check=False), 0, 2000)
    assert bool(tr.diverged) or float(tr.dist_to_opt[-1]) > 1e3


@settings(**SETTINGS)
@given(inst=instances)
def test_nids_is_exact_diffusion(inst):
    """NIDS from x0 equals exact diffusion from x0 - alpha grad F(x0), one step later."""
    p, W, x0 = build(inst)
    alpha = 1.0 / float(p.L)
    a_nids = nids(p, W, alpha, x0=x0)
    a_ed = exact_diffusion(p, W, alpha, x0=np.asarray(x0 - alpha * p.grad(jnp.asarray(x0))))
    T = 400
    s_n, tr_n = run(a_nids, 0, T + 1)
    s_e, tr_e = run(a_ed, 0, T)
    scale = float(np.abs(np.asarray(s_e.X)).max()) + 1.0
    np.testing.assert_allclose(np.asarray(s_n.X), np.asarray(s_e.X), rtol=0, atol=1e-10 * scale)
    np.testing.assert_allclose(np.asarray(tr_n.dist_to_opt)[1:], np.asarray(tr_e.dist_to_opt), rtol=1e-8, atol=1e-12)
    assert exact_rate(a_nids) == pytest.approx(exact_rate(a_ed), abs=1e-9)


@settings(**SETTINGS)
@given(inst=instances)
def test_dgd_exact_rate_is_spectral_radius_of_W_minus_alpha_H(inst):
    p, W, x0 = build(inst)
    algo = dgd(p, W, x0=x0)
    alpha = algo.hparams["step_size"]
    A = np.asarray(p.data["A"])
    n, d = A.shape[0], A.shape[1]
    H = np.zeros((n * d, n * d))
    for i in range(n):
        H[i * d : (i + 1) * d, i * d : (i + 1) * d] = A[i]
    M = np.kron(W, np.eye(d)) - alpha * H
    rho = float(np.max(np.abs(np.linalg.eigvalsh(M))))
    assert exact_rate(algo) == pytest.approx(rho, abs=1e-9)
    # ratebench's contraction bound max(|1 - alpha mu|, |lambda_n - alpha L|) (Weyl) holds
    q = max(abs(1 - alpha * float(p.mu)), abs(mixing.lambda_min(W) - alpha * float(p.L)))
    assert rho <= q + 1e-12


@pytest.mark.parametrize("name", ["dgd", "extra", "nids", "gradient_tracking"])
def test_step_size_limit_is_worst_case_stability_boundary(name):
    """With every Hessian equal to L I the documented limit is exactly where the method turns unstable."""
    mods = {"dgd": "algos.convex.dgd", "extra": "algos.convex.extra", "nids": "algos.convex.nids",
            "gradient_tracking": "algos.convex.gradient_tracking"}  # fmt: skip
    mod = importlib.import_module(mods[name])
    W = mixing.metropolis(graphs.ring(N_NODES))  # lambda_n = -1/3
    p = convex.quadratic(N_NODES, 1, L=2.0, mu=2.0, key=0)  # H = L I
    limit = mod.step_size_limit(p, W)
    x0 = np.random.default_rng(0).standard_normal((N_NODES, 1))
    below = exact_rate(ALL[name](p, W, 0.97 * limit, x0=x0))
    above = exact_rate(ALL[name](p, W, 1.03 * limit, x0=x0, check=False))
    assert below < 1.0 < above, (below, above)
    with pytest.raises(StepSizeError, match="step_size"):
        ALL[name](p, W, 1.03 * limit)


def test_same_key_same_trace_and_keys_are_used():
    p = convex.quadratic(N_NODES, DIM, L=1.0, mu=0.1, key=3, sigma=0.5)
    W = mixing.metropolis(graphs.ring(N_NODES))
    algo = dsgd(p, W)
    _, t1 = run(algo, 7, 300)
    _, t2 = run(algo, 7, 300)
    _, t3 = run(algo, 8, 300)
    assert np.array_equal(np.asarray(t1.dist_to_opt), np.asarray(t2.dist_to_opt))
    assert not np.array_equal(np.asarray(t1.dist_to_opt), np.asarray(t3.dist_to_opt))
    # deterministic methods: bit for bit too
    a = extra(p, W)
    assert np.array_equal(np.asarray(run(a, 1, 200)[1].dist_to_opt), np.asarray(run(a, 1, 200)[1].dist_to_opt))
    # each step's noise is fresh: two consecutive steps with distinct keys give distinct noise
    init, step = algo.init, algo.step
    s0 = init(jax.random.PRNGKey(0))
    k1, k2 = jax.random.split(jax.random.PRNGKey(1))
    assert not np.allclose(np.asarray(step(k1, s0)[0].X), np.asarray(step(k2, s0)[0].X))


def test_dsgd_noiseless_converges_to_neighbourhood_and_noise_enlarges_it():
    W = mixing.metropolis(graphs.ring(N_NODES))
    p0 = convex.quadratic(N_NODES, DIM, L=1.0, mu=0.2, key=1, heterogeneity=0.0)
    _, tr = run(dsgd(p0, W), 0, 3000)
    assert float(tr.dist_to_opt[-1]) < 1e-10  # zeta = sigma = 0: exact
    p1 = dataclasses.replace(p0, sigma=0.3)
    _, tr1 = run(dsgd(p1, W), 0, 3000)
    tail = float(np.mean(np.asarray(tr1.dist_to_opt)[-500:]))
    assert 1e-4 < tail < 1.0


def test_no_recompilation_on_second_run():
    W = mixing.metropolis(graphs.ring(N_NODES))
    for name, f in ALL.items():
        p1 = convex.quadratic(N_NODES, DIM, L=1.0, mu=0.1, key=1)
        p2 = convex.quadratic(N_NODES, DIM, L=1.0, mu=0.05, key=2)
        run(f(p1, W), 0, 50)
        n = _run_impl._cache_size()
        run(f(p2, W), 1, 50)
        run(f(p1, W, 0.5 * f(p1, W).hparams["step_size"]), 2, 50)
        assert _run_impl._cache_size() == n, name


def test_costs_per_step():
    W = mixing.metropolis(graphs.ring(N_NODES))
    p = convex.quadratic(N_NODES, DIM, L=1.0, mu=0.1, key=1)
    for name, f in ALL.items():
        _, tr = run(f(p, W), 0, 10)
        vectors = 2.0 if name == "gradient_tracking" else 1.0
        np.testing.assert_allclose(np.asarray(tr.communications), vectors * np.arange(0, 11))
        np.testing.assert_allclose(np.asarray(tr.floats_sent), vectors * DIM * np.arange(0, 11))
        np.testing.assert_allclose(np.asarray(tr.gradient_calls), np.arange(0, 11))


def test_traced_step_size_under_vmap():
    W = mixing.metropolis(graphs.ring(N_NODES))
    p = convex.quadratic(N_NODES, DIM, L=1.0, mu=0.1, key=1)

    def final(alpha):
        return run(nids(p, W, alpha), 0, 200)[1].dist_to_opt[-1]

    out = jax.vmap(final)(jnp.array([0.5, 1.0]))
    np.testing.assert_allclose(np.asarray(out), [float(final(0.5)), float(final(1.0))], rtol=1e-10)


def test_bad_inputs_raise_clear_errors():
    W = mixing.metropolis(graphs.ring(N_NODES))
    p = convex.quadratic(N_NODES, DIM, L=1.0, mu=0.1, key=1)
    with pytest.raises(ValueError, match="mu"):
        convex.quadratic(N_NODES, DIM, L=1.0, mu=2.0)
    bad = dataclasses.replace(p, mu=2.0)
    W_big = mixing.metropolis(graphs.ring(N_NODES + 1))
    W_not_stochastic = W.copy()
    W_not_stochastic[0, 0] += 0.1
    for name, f in ALL.items():
        with pytest.raises(ValueError, match="mu"):
            f(bad, W)
        with pytest.raises(ValueError, match="nodes"):
            f(p, W_big)
        with pytest.raises(MixingMatrixError, match="doubly stochastic"):
            f(p, W_not_stochastic)
        with pytest.raises(MixingMatrixError, match="square"):
            f(p, W[:, :-1])
        for alpha in (-0.1, 0.0, 10.0):
            with pytest.raises(StepSizeError, match="outside the range"):
                f(p, W, alpha)
        f(p, W, 10.0, check=False)  # allowed on request
        with pytest.raises(ValueError, match="x0"):
            f(p, W, x0=np.zeros((N_NODES + 1, DIM)))
    with pytest.raises(TypeError):
        extra("not a problem", W)


def test_exact_rate_rejects_non_affine_steps():
    W = mixing.metropolis(graphs.ring(N_NODES))
    logistic = convex.logistic(N_NODES, DIM, samples_per_node=6, key=1)
    with pytest.raises(ValueError, match="not affine"):
        exact_spectrum(extra(logistic, W))  # the logistic gradient is not affine in x
    with pytest.raises(ValueError, match="not affine"):
        exact_spectrum(dgd(logistic, W))
    p = convex.quadratic(N_NODES, DIM, L=1.0, mu=0.1, key=1, sigma=1.0)
    spec = exact_spectrum(dsgd(p, W))  # additive noise with a fixed key: still affine, same J as sigma = 0
    assert spec.rate < 1.0  # (bounds.instance refuses it: the run is random, see tests/bounds)
    # conserved modes: gradient tracking has eigenvalue 1, yet its rate is below 1
    gt = exact_spectrum(gradient_tracking(p, W))
    assert np.min(np.abs(gt.eigenvalues - 1.0)) < 1e-8 and gt.rate < 1.0


@pytest.mark.parametrize("rule", ["metropolis", "best_constant", "lazy"])
def test_dgd_default_step_minimizes_its_contraction_factor(rule):
    # q(alpha) = max(|1 - alpha mu|, |lambda_n - alpha L|) is minimal at (1 + lambda_n)/(L + mu),
    # where it equals 1 - mu (1 + lambda_n)/(L + mu) (the claim of algos/convex/dgd.py)
    g = graphs.erdos_renyi(10, 0.4, seed=3)
    W = {"metropolis": mixing.metropolis, "best_constant": mixing.best_constant,
         "lazy": lambda g: mixing.lazy(mixing.metropolis(g))}[rule](g)  # fmt: skip
    p = convex.quadratic(10, 3, L=7.0, mu=0.5, key=0)
    lam_n = mixing.spectrum(W).lambda_n
    a = dgd(p, W).hparams["step_size"]
    assert a == pytest.approx((1 + lam_n) / 7.5, rel=1e-12)
    q = lambda s: max(abs(1 - s * 0.5), abs(lam_n - s * 7.0))  # noqa: E731
    grid = np.linspace(1e-4, (1 + lam_n) / 7.0, 2001)
    assert q(a) <= min(q(s) for s in grid) + 1e-12
    assert q(a) == pytest.approx(1 - 0.5 * (1 + lam_n) / 7.5, rel=1e-12)

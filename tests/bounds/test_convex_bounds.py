"""Run-by-run bounds of the convex family: DGD's increment contraction, D-SGD's expectation bound,
the instance bound of every linear method, refusals, conditions on the actual hyperparameters,
and sublinear envelopes (synthetic)."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import algos
import bounds
from bounds._check import ArrayTrace
from problems import convex, graphs, mixing

N, D = 8, 2
RULES = ("metropolis", "best_constant", "fastest_averaging", "lazy_metropolis")


def _W(kind, rule, seed):
    g = {"ring": lambda: graphs.ring(N), "path": lambda: graphs.path(N), "star": lambda: graphs.star(N),
         "erdos_renyi": lambda: graphs.erdos_renyi(N, 0.4, seed=seed), "geometric": lambda: graphs.geometric(N, seed=seed)}[kind]()  # fmt: skip
    return mixing.lazy(mixing.metropolis(g)) if rule == "lazy_metropolis" else getattr(mixing, rule)(g)


def _problem(name, kappa, seed):
    if name == "quadratic":
        return convex.quadratic(N, D, L=1.0, mu=1.0 / kappa, key=seed)
    if name == "least_squares":
        return convex.least_squares(N, D, samples_per_node=6, key=seed)
    return convex.logistic(N, D, samples_per_node=6, key=seed)


dgd_instances = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["ring", "path", "star", "erdos_renyi", "geometric"]),
        "rule": st.sampled_from(RULES),
        "problem": st.sampled_from(["quadratic", "least_squares", "logistic"]),
        "kappa": st.floats(2.0, 50.0),
        "seed": st.integers(0, 2**16),
    }
)
# fractions of DGD's stable range (1 + lambda_n)/L, up to 0.99 (near the limit), one batch per instance
FRACTIONS = jnp.asarray([0.05, 0.3, 0.7, 0.9, 0.99])


@settings(deadline=None, max_examples=8, suppress_health_check=[HealthCheck.too_slow])
@given(inst=dgd_instances)
@example(inst={"kind": "star", "rule": "best_constant", "problem": "logistic", "kappa": 10.0, "seed": 1})
@example(inst={"kind": "erdos_renyi", "rule": "fastest_averaging", "problem": "quadratic", "kappa": 50.0, "seed": 3})
@example(inst={"kind": "path", "rule": "fastest_averaging", "problem": "least_squares", "kappa": 5.0, "seed": 7})
def test_dgd_increments_contract_at_every_step(inst):
    """||X_{k+1} - X_k|| <= q ||X_k - X_{k-1}||, q = max(|1 - a mu|, |lambda_n - a L|), on a sweep of step
    sizes up to 0.99 of the limit, negative-eigenvalue weights and logistic (non-quadratic) problems."""
    W = _W(inst["kind"], inst["rule"], inst["seed"])
    p = _problem(inst["problem"], inst["kappa"], inst["seed"])
    x0 = np.random.default_rng(inst["seed"]).standard_normal((N, D)) * 3.0
    limit = (1.0 + mixing.lambda_min(W)) / float(p.L)
    alphas = FRACTIONS * limit
    algo = algos.dgd(p, W, x0=x0)

    def one(a):
        return algos.run(algo._replace(params={**algo.params, "alpha": a}), 0, 300)[1]

    tr = jax.vmap(one)(alphas)
    bs = [bounds.dgd(algos.dgd(p, W, float(a), x0=x0)) for a in np.asarray(alphas)]
    assert all(b.kind == "explicit" and b.valid and b.params["contraction"] for b in bs)
    rep = bounds.compare(tr, bs)
    assert rep.all_hold is True, (inst, str(rep))
    assert all(r.checked_steps > 10 for r in rep)


def test_dgd_increment_bound_is_tight_and_can_fail():
    """Worst-case quadratic (every Hessian I, start on the lambda_n eigenvector): increments decay at exactly q;
    an envelope at 0.99 q is violated."""
    W = mixing.metropolis(graphs.ring(N))
    p = convex.quadratic(N, D, L=1.0, mu=1.0, key=0)  # A_i = I: increments contract by max |eig(W) - alpha|
    v = np.linalg.eigh(W)[1][:, 0]  # lambda_n eigenvector
    x0 = np.outer(v, [1.0, -2.0])
    algo = algos.dgd(p, W, 0.5, x0=x0)
    _, tr = algos.run(algo, 0, 100)
    b = bounds.dgd(algo)
    rep = bounds.compare(tr, b, algo=algo)
    assert rep.holds and abs(rep.empirical_rate - b.rate) < 1e-9  # tight: the increments decay at exactly q
    wrong = dataclasses.replace(b, envelope=lambda k, ref: ref * (0.99 * b.rate) ** (k - 1))
    assert bounds.compare(tr, wrong, algo=algo).holds is False


def test_dgd_bound_uses_the_run_step_size_and_refuses_another():
    W = mixing.metropolis(graphs.ring(N))
    p = convex.quadratic(N, D, L=1.0, mu=0.1, key=0)
    a1, a2 = algos.dgd(p, W, 0.1), algos.dgd(p, W, 0.2)
    assert bounds.dgd(a1).hparams["step_size"] == pytest.approx(0.1)
    assert bounds.dgd(p, W).hparams["step_size"] == pytest.approx(algos.dgd(p, W).hparams["step_size"])
    _, tr = algos.run(a2, 0, 20)
    with pytest.raises(ValueError, match="step_size"):
        bounds.compare(tr, bounds.dgd(a1), algo=a2)
    with pytest.raises(ValueError, match="about algos.gossip"):
        bounds.compare(tr, bounds.gossip(convex.averaging(N, D, key=0), W), algo=a2)
    q2 = convex.quadratic(N, D, L=1.0, mu=0.1, key=1)  # another instance, same shapes
    with pytest.raises(ValueError, match="instance"):
        bounds.compare(tr, bounds.dgd(q2, W, 0.2), algo=a2)
    with pytest.raises(ValueError, match="no field"):
        bounds.compare(tr, dataclasses.replace(bounds.dgd(a2), metric="regret"), algo=a2)


# --- D-SGD: explicit expectation bound, judged on a batch of seeds ----------------------------
def _dsgd_batch(p, W, alpha, x0, seeds=64, steps=400, every=4):
    algo = algos.dsgd(p, W, alpha, x0=x0)
    keys = jax.random.split(jax.random.PRNGKey(7), seeds)
    tr = jax.vmap(lambda k: algos.run(algo, k, steps, record_every=every)[1])(keys)
    return algo, tr


@pytest.mark.parametrize("rule,frac", [("metropolis", 0.25), ("best_constant", 0.9), ("fastest_averaging", 0.5)])
def test_dsgd_expectation_bound_holds_on_seeded_batches(rule, frac):
    W = _W("ring", rule, 0)
    p = convex.quadratic(N, D, L=1.0, mu=0.1, key=2, sigma=1.0)
    x0 = np.full((N, D), 3.0)
    algo, tr = _dsgd_batch(p, W, frac * 2.0, x0)
    b = bounds.dsgd_expectation(algo)
    assert b.kind == "explicit" and b.statistic == "mean" and b.valid
    rep = bounds.compare(tr, b, algo=algo)
    assert isinstance(rep, bounds.Report) and rep.holds is True, str(rep)
    assert 0.2 < rep.worst_ratio <= 1.0  # not vacuous: the mean reaches a fifth of the curve or more


def test_dsgd_expectation_check_flags_a_bound_without_its_noise_term():
    W = mixing.metropolis(graphs.ring(N))
    p = convex.quadratic(N, D, L=1.0, mu=0.1, key=2, sigma=3.0)
    algo, tr = _dsgd_batch(p, W, 0.5, np.full((N, D), 3.0))
    b = bounds.dsgd_expectation(algo)
    pr = b.params
    q, e0, bias = pr["q"], pr["||X_0 - X_fp||_F"], pr["||X_fp - X*||_F"]
    no_noise = dataclasses.replace(b, envelope=lambda k, ref: (q**k * e0 + bias) / np.sqrt(N))
    assert bounds.compare(tr, b, algo=algo).holds
    assert bounds.compare(tr, no_noise, algo=algo).holds is False


def test_dsgd_expectation_conditions():
    W = mixing.metropolis(graphs.ring(N))
    pm = convex.least_squares(N, D, samples_per_node=6, key=0, noise="minibatch")
    assert bounds.dsgd_expectation(pm, W).valid is False  # state-dependent noise: not this statement
    p = convex.quadratic(N, D, L=1.0, mu=0.1, key=2, sigma=1.0)
    assert bounds.dsgd_expectation(p, W, 2.5).valid is False
    with pytest.raises(ValueError, match="batch"):
        _, tr = algos.run(algos.dsgd(p, W), 0, 10)
        bounds.compare(tr, bounds.dsgd_expectation(p, W))


# --- instance bounds: every linear method, two-sided ----------------------------------------
LINEAR = {
    "dgd": 3000, "extra": 3000, "nids": 3000, "exact_diffusion": 3000, "gradient_tracking": 4000,
    "msda": 600, "apapc": 4000, "opapc": 1500, "gossip": 600, "heavy_ball_gossip": 300,
}  # fmt: skip


@pytest.mark.parametrize(
    "method,rule",
    [(m, "metropolis") for m in sorted(LINEAR)]
    + [(m, "fastest_averaging") for m in ("dgd", "extra", "gradient_tracking", "opapc", "heavy_ball_gossip")],
)
def test_instance_bound_holds_two_sided(method, rule):
    W = getattr(mixing, rule)(graphs.ring(9))  # FDLA on a ring has negative eigenvalues
    if "gossip" in method:
        p = convex.averaging(9, 3, key=0)
        algo = getattr(algos, method)(p, W)
    else:
        p = convex.quadratic(9, 3, L=100.0 if method in ("msda", "apapc", "opapc") else 10.0, mu=1.0, key=2)
        kw = {} if method == "msda" else {"x0": np.random.default_rng(0).standard_normal((9, 3))}  # MSDA starts at 0
        algo = getattr(algos, method)(p, W, **kw)
    _, tr = algos.run(algo, 0, LINEAR[method])
    b = bounds.instance(algo)
    rep = bounds.compare(tr, b, algo=algo)
    assert b.kind == "instance" and rep.holds is True, str(rep)
    if rep.two_sided:
        assert abs(rep.empirical_rate - b.instance_rate) <= 0.02 * (1 - b.instance_rate)


def test_instance_bound_on_least_squares_and_refusal_on_logistic():
    W = mixing.metropolis(graphs.ring(N))
    p = convex.least_squares(N, D, samples_per_node=6, key=0)
    algo = algos.extra(p, W, x0=np.ones((N, D)))
    _, tr = algos.run(algo, 0, 4000)
    assert bounds.compare(tr, bounds.instance(algo), algo=algo).holds
    with pytest.raises(ValueError, match="not affine"):
        bounds.instance(algos.extra(convex.logistic(N, D, samples_per_node=6, key=0), W))
    noisy = convex.quadratic(N, D, L=1.0, mu=0.1, key=0, sigma=1.0)
    with pytest.raises(ValueError, match="random numbers"):
        bounds.instance(algos.dsgd(noisy, W))
    with pytest.raises(ValueError, match="not affine"):  # time-varying recurrence
        bounds.instance(algos.chebyshev_gossip(convex.averaging(N, D, key=0), W))


def test_instance_check_can_fail():
    """The same run judged against a rate 5% of the gap off, either way, is violated."""
    W = mixing.metropolis(graphs.ring(N))
    p = convex.quadratic(N, D, L=10.0, mu=1.0, key=0)
    algo = algos.nids(p, W, x0=np.random.default_rng(1).standard_normal((N, D)))
    _, tr = algos.run(algo, 0, 3000)
    b = bounds.instance(algo)
    r = b.instance_rate
    assert bounds.compare(tr, b, algo=algo).holds
    for off in (-0.05, 0.05):
        wrong = dataclasses.replace(b, instance_rate=r + off * (1 - r), instance_weight=None)
        assert bounds.compare(tr, wrong, algo=algo).holds is False


# --- hyperparameters are read from the run, and conditions test them ------------------------
def test_conditions_test_the_actual_hyperparameters():
    W = mixing.metropolis(graphs.ring(9))
    p = convex.quadratic(9, 3, L=100.0, mu=1.0, key=2)
    assert bounds.apapc(p, W).valid and bounds.opapc(p, W).valid and bounds.msda(p, W).valid
    bad = bounds.apapc(p, W, step_size=123.0, tau=0.9, theta=1e6)
    assert not bad.valid and not bad.conditions["0 < eta <= 1/(4 tau L)"] and not bad.conditions["0 < theta <= 1/(eta l_max)"]
    assert not bounds.opapc(p, W, T=1).valid and not bounds.opapc(p, W, theta=1e-3).valid
    assert not bounds.msda(p, W, K=1).valid and not bounds.msda(p, W, momentum=0.5).valid
    a = algos.apapc(p, W, tau=0.5, check=False)
    assert bounds.apapc(a).hparams["tau"] == 0.5 and not bounds.apapc(a).valid
    with pytest.raises(ValueError, match="reads W"):
        bounds.apapc(a, W)
    with pytest.raises(ValueError, match="algos.apapc"):
        bounds.apapc(algos.opapc(p, W))
    # the theorem's conditions fail: holds is None, whatever the run does
    _, tr = algos.run(algos.chebyshev_gossip(convex.averaging(9, 3, key=0), W), 0, 50)
    narrow = bounds.chebyshev_gossip(convex.averaging(9, 3, key=0), W, spectrum=(-0.1, 0.5))
    assert not narrow.valid and bounds.compare(tr, narrow).holds is None


@pytest.mark.parametrize("name", ["extra", "nids", "exact_diffusion", "gradient_tracking", "dgd", "dsgd"])
def test_defaults_come_from_the_factory(name):
    W = mixing.best_constant(graphs.star(N))  # lambda_n < 0: defaults differ from 1/L
    p = convex.quadratic(N, D, L=1.0, mu=0.1, key=0)
    algo = getattr(algos, name)(p, W)
    b = getattr(bounds, name)(p, W)
    assert b.hparams["step_size"] == algo.hparams["step_size"] and b.valid
    assert b.hparams == getattr(bounds, name)(algo).hparams


# --- sublinear envelopes (synthetic traces: the families that use them come later) -----------
def test_power_law_and_regret_envelopes_are_checked_at_every_step():
    k = np.arange(0, 1001)
    kk = np.maximum(k, 1).astype(float)
    env = bounds.envelopes.power_law(3.0, 0.5, 1.0, k0=2)
    b = bounds.Bound(name="toy_sgd", kind="explicit", source="synthetic", metric="grad_norm", envelope=env)
    good = 2.9 * kk**-0.5 * np.log(np.maximum(kk, 2))
    rep = bounds.compare(ArrayTrace(k, grad_norm=good), b)
    assert rep.holds and rep.checked_steps == len(k) - 2 + 0  # k = 0, 1 are before k0 (+inf): never violated
    bad = good.copy()
    bad[500] = 3.1 * 500**-0.5 * np.log(500)
    assert bounds.compare(ArrayTrace(k, grad_norm=bad), b).first_violation == 500
    # regret C sqrt(T log T), batched: one run exceeds it late
    reg = bounds.envelopes.growth(2.0, 0.5, 0.5, k0=2)
    rb = bounds.Bound(name="toy_regret", kind="explicit", source="synthetic", metric="regret", envelope=reg)
    R = np.stack([1.5 * np.sqrt(kk * np.log(np.maximum(kk, 2))), 1.9 * np.sqrt(kk * np.log(np.maximum(kk, 2)))])
    R[1, 900:] *= 1.1
    rep = bounds.compare(ArrayTrace(k, diverged=[False, False], regret=R), rb)
    assert rep.holds == [True, False] and rep[1].first_violation == 900
    with pytest.raises(ValueError, match="k0 >= 2"):
        bounds.envelopes.growth(1.0, 0.5, 0.5, k0=1)


def test_computed_kind_is_checked_by_its_envelope_and_old_kind_is_refused():
    k = np.arange(0, 30)
    b = bounds.Bound(name="pep", kind="computed", source="PEP (synthetic)", metric="m",
                     envelope=bounds.envelopes.geometric(0.8))  # fmt: skip
    assert bounds.compare(ArrayTrace(k, m=0.7**k), b).holds
    assert bounds.compare(ArrayTrace(k, m=0.85**k), b).holds is False
    with pytest.raises(ValueError, match="renamed"):
        bounds.Bound(name="x", kind="exact", source="s", rate=0.5)
    with pytest.raises(ValueError, match="envelope"):
        bounds.Bound(name="x", kind="explicit", source="s", rate=0.5)


def test_instance_check_follows_the_exact_recursion():
    """The instance check divides out the run's exact linear recursion (faster modes, Jordan blocks,
    beating complex pairs), not only r*^k: on MSDA at kappa = 300 on a 16-ring the recursion itself
    fits 3% of the gap slower than r* over the run's window, and the old check reported a false
    FINDING there (convex-rates, full size). The prediction equals the run to round-off, and a run
    that drifts from it by 5% of the gap per step either way is a FINDING."""
    W = mixing.metropolis(graphs.ring(16))
    p = convex.quadratic(16, 5, L=300.0, mu=1.0, key=0)
    algo = algos.msda(p, W)
    _, tr = algos.run(algo, 0, 600)
    b = bounds.instance(algo)
    rep = bounds.compare(tr, b, algo=algo)
    assert rep.holds is True and rep.two_sided, str(rep)
    r = b.instance_rate
    assert abs(rep.empirical_rate - r) <= 1e-4 * (1 - r)
    k = np.arange(150, 400, 7)
    model = bounds.exact_spectrum(algo).model
    d = np.asarray(tr.dist_to_opt)[k]
    # Both sides are float64 computations started at d0 = ||x0 - x*||; the model powers a jacfwd
    # Jacobian, so its prediction carries round-off of order eps * d0, not eps * d_k: at k = 393
    # (d_k = 2.7e-10 d0) it differs from the run by 2.9e-15 d0 (3e-16 d0 before the Chebyshev
    # filter was unrolled in blocks of 4, which changed the Jacobian's rounding, not the run).
    np.testing.assert_allclose(model.records(k, "dist_to_opt"), d, rtol=1e-5,
                               atol=1e-13 * float(tr.dist_to_opt[0]))
    # the old rule, r*^k with only the slowest band divided out, is biased on this window
    steps = np.asarray(tr.steps)
    all_d = np.asarray(tr.dist_to_opt)
    biased, _, _ = bounds.fit_rate(all_d / bounds.exact_spectrum(algo).shape(steps), steps)
    assert biased - r > 0.02 * (1 - r)
    for off in (-0.05, 0.05):
        drift = (1 + off * (1 - r)) ** steps.astype(float)
        fake = bounds.ArrayTrace(steps, dist_to_opt=np.asarray(tr.dist_to_opt) * drift)
        assert bounds.compare(fake, b).holds is False

"""Bounds of the classical convex methods: validity at the defaults, stated orders, DGD's bias, exact rates."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from algos._core import run
from algos.convex.dgd import dgd as dgd_algo
from algos.convex.dsgd import dsgd as dsgd_algo
from algos.convex.exact_diffusion import exact_diffusion as ed_algo
from algos.convex.extra import extra as extra_algo
from algos.convex.gradient_tracking import gradient_tracking as gt_algo
from algos.convex.nids import nids as nids_algo
import bounds as B
from bounds import check_scaling, compare
from bounds.convex.dgd import dgd, dgd_bias
from bounds.convex.dsgd import dsgd
from bounds.convex.exact import exact_rate
from bounds.convex.exact_diffusion import exact_diffusion
from bounds.convex.extra import extra
from bounds.convex.gradient_tracking import gradient_tracking
from bounds.convex.nids import nids
from problems import convex, graphs, mixing

PAIRS = {
    "dgd": (dgd_algo, dgd),
    "dsgd": (dsgd_algo, dsgd),
    "extra": (extra_algo, extra),
    "nids": (nids_algo, nids),
    "exact_diffusion": (ed_algo, exact_diffusion),
    "gradient_tracking": (gt_algo, gradient_tracking),
}
N = 8


def _graph(kind, seed):
    return {
        "ring": lambda: graphs.ring(N),
        "path": lambda: graphs.path(N),
        "grid": lambda: graphs.grid(2, N // 2),
        "erdos_renyi": lambda: graphs.erdos_renyi(N, 0.5, seed=seed),
        "geometric": lambda: graphs.geometric(N, seed=seed),
    }[kind]()


def _weights(rule, g):
    return mixing.lazy(mixing.metropolis(g)) if rule == "lazy" else getattr(mixing, rule)(g)


instances = st.fixed_dictionaries(
    {"kind": st.sampled_from(["ring", "path", "grid", "erdos_renyi", "geometric"]), "kappa": st.floats(2.0, 100.0),
     "rule": st.sampled_from(["metropolis", "best_constant", "fastest_averaging", "lazy"]),
     "seed": st.integers(0, 2**16)}
)  # fmt: skip


@pytest.mark.parametrize("name", sorted(PAIRS))
@settings(deadline=None, max_examples=3, suppress_health_check=[HealthCheck.too_slow])
@given(inst=instances)
@example(inst={"kind": "ring", "kappa": 10.0, "rule": "fastest_averaging", "seed": 0})
@example(inst={"kind": "path", "kappa": 50.0, "rule": "best_constant", "seed": 1})
def test_bounds_hold_at_the_defaults(name, inst):
    """At the factory's defaults the theorem's conditions hold, and every run is judged by a checkable
    bound (DGD: its explicit increment bound; the exact methods: their instance bound) — and holds."""
    W = _weights(inst["rule"], _graph(inst["kind"], inst["seed"]))
    p = convex.quadratic(N, 2, L=1.0, mu=1.0 / inst["kappa"], key=inst["seed"])
    make, bound = PAIRS[name]
    x0 = np.random.default_rng(inst["seed"]).standard_normal((N, 2))
    algo = make(p, W, x0=x0)
    b = bound(algo)
    assert b.valid, b.conditions  # the factory's default satisfies the theorem's conditions
    assert b.params["step_size"] == pytest.approx(algo.hparams["step_size"])  # same default
    for what in ("gradient_calls", "communications"):
        if what in b.complexity and b.kind == "order":
            assert 0 < b.to(1e-3, what) < b.to(1e-6, what) < math.inf
    if name == "dsgd":
        return  # stochastic: judged on seeded batches by bounds.dsgd_expectation (tests/bounds/test_convex_bounds.py)
    _, tr = run(algo, 0, 4000)
    checkable = b if name == "dgd" else B.instance(algo)
    assert checkable.kind in ("explicit", "instance")
    report = compare(tr, checkable, algo=algo)
    assert report.holds is True, str(report)


@pytest.mark.parametrize("name", ["extra", "nids", "exact_diffusion", "gradient_tracking"])
def test_instance_rate_field_matches_exact_rate(name):
    W = mixing.metropolis(graphs.ring(N))
    p = convex.quadratic(N, 2, L=1.0, mu=0.1, key=0)
    make, bound = PAIRS[name]
    assert bound(p, W, with_instance_rate=True).instance_rate == pytest.approx(exact_rate(make(p, W)), abs=1e-12)
    assert bound(p, W).instance_rate is None


def _iterations_per_e_fold(algo) -> float:
    return -1.0 / math.log(exact_rate(algo))


@pytest.mark.parametrize("name", ["extra", "nids", "exact_diffusion", "gradient_tracking"])
def test_kappa_order(name):
    """Iterations grow like kappa (exponent 1) where the network term is negligible (complete graph)."""
    W = mixing.metropolis(graphs.complete(N))
    make, _ = PAIRS[name]
    kappas = [10.0, 30.0, 100.0]
    x0 = np.random.default_rng(0).standard_normal((N, 2))
    its = [_iterations_per_e_fold(make(convex.quadratic(N, 2, L=1.0, mu=1.0 / k, key=0), W, x0=x0)) for k in kappas]
    res = check_scaling(kappas, its, 1.0, mode="tight")
    assert res["holds"], res


@pytest.mark.parametrize("name", ["extra", "nids", "exact_diffusion", "gradient_tracking"])
def test_network_order(name):
    """Iterations grow no faster than the stated expression in the network quantity (rings of 16..64, kappa = 1)."""
    make, bound = PAIRS[name]
    xs, its = [], []
    for n in (16, 32, 64):
        W = mixing.metropolis(graphs.ring(n))
        p = convex.quadratic(n, 1, L=1.0, mu=1.0, key=0)
        b = bound(p, W)
        prm = b.params
        if name == "extra":
            xs.append(prm["kappa"] + 1.0 / (1.0 - prm["slem"]))
        elif name == "gradient_tracking":
            xs.append(prm["kappa"] / (prm["p"] * prm["c"]))
        else:
            xs.append(prm["kappa"] + 1.0 / (1.0 - prm["lambda_2"]))
        x0 = np.random.default_rng(0).standard_normal((n, 1))
        its.append(_iterations_per_e_fold(make(p, W, x0=x0)))
    res = check_scaling(xs, its, 1.0, mode="upper")
    assert res["holds"], res


def test_dgd_bias_is_linear_in_step_size():
    W = mixing.metropolis(graphs.ring(N))
    p = convex.quadratic(N, 2, L=1.0, mu=0.2, key=4)
    a0 = 0.5 * (1.0 + mixing.lambda_min(W)) / float(p.L)  # half the stable range (1/3 here): first-order regime below it
    steps = [a0 / 8, a0 / 4, a0 / 2]
    finals = []
    for a in steps:
        b = dgd_bias(p, W, a)
        assert b.valid and b.exponents["step_size"] == 1.0
        _, tr = run(dgd_algo(p, W, a), 0, 20000, record_every=100)
        finals.append(float(tr.dist_to_opt[-1]))
    res = check_scaling(steps, finals, dgd_bias(p, W, a0).exponents["step_size"], tol=0.15, mode="tight")
    assert res["holds"], res
    # the neighbourhood is not zero and shrinks with the step (DGD is inexact)
    assert finals[0] > 1e-6 and finals[0] < finals[1] < finals[2]


def test_conditions_flag_step_sizes_outside_the_range():
    W = mixing.metropolis(graphs.ring(N))  # lambda_n = -1/3
    p = convex.quadratic(N, 2, L=1.0, mu=0.1, key=0)
    assert not dgd_bias(p, W, 0.7).valid  # (1 + lambda_n)/L = 2/3
    assert dgd(p, W, 0.7).valid and not dgd(p, W, 0.7).params["contraction"]  # the increment bound holds, q >= 1
    assert dgd(p, W, 0.6).params["contraction"]
    assert not extra(p, W, 1.01).valid  # (5 + 3 lambda_n)/(4L) = 1
    assert extra(p, W, 0.99).valid
    assert not nids(p, W, 2.0).valid and nids(p, W, 1.99).valid
    assert not gradient_tracking(p, W, 0.23).valid  # (1 + lambda_n)^2/(2L) = 2/9
    assert not dsgd(p, W, 2.0).valid


def test_dsgd_order_bound():
    W = mixing.metropolis(graphs.ring(N))
    p = convex.quadratic(N, 2, L=1.0, mu=0.1, key=0, sigma=0.5)
    b = dsgd(p, W)
    assert b.valid and b.metric == "suboptimality"
    # the noise term dominates as eps -> 0: count ~ 1/eps
    c1, c2 = b.to(1e-6, "gradient_calls"), b.to(1e-8, "gradient_calls")
    assert 50 < c2 / c1 <= 101

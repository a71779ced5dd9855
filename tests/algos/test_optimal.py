"""Optimal decentralized methods and accelerated consensus.

Covers gossip, Chebyshev gossip, heavy-ball gossip, MSDA, APAPC and OPAPC:
the Chebyshev polynomial against its definition, average preservation,
acceleration on rings, convergence to ``x*`` on random instances, and argument
checks. Scaling laws and bounds are in tests/bounds/test_optimal_bounds.py.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.polynomial import chebyshev as C

import algos
import bounds
from algos.consensus.chebyshev_gossip import (
    _chebyshev_matrix,
    chebyshev_coefficients,
    chebyshev_gossip,
    gossip_spectrum,
    heavy_ball_gossip,
)
from algos.consensus.gossip import gossip
from algos.convex.msda import acc_gossip, acc_gossip_eigenvalues, msda
from algos.convex.opapc import apapc, opapc
from problems import convex, graphs, mixing

GRAPHS = {
    "ring": lambda: graphs.ring(9),
    "path": lambda: graphs.path(9),
    "grid": lambda: graphs.grid(3, 3),
    "geometric": lambda: graphs.geometric(9, seed=3),
}


def _W(name):
    return mixing.metropolis(GRAPHS[name]())


def _iters_to(values, eps):
    """Steps after which ``values / values0`` stays <= eps (entry k is step k); inf if never."""
    v = np.asarray(values, dtype=np.float64)
    above = np.flatnonzero(~(v <= eps))
    if len(above) == 0:
        return 0
    return int(above[-1]) + 1 if above[-1] + 1 < len(v) else np.inf


# --- the Chebyshev polynomial against its definition ------------------------------
def _definition_matrix(W, K):
    """V diag(T_K(c2 (1 - c3 l)) / T_K(c2)) V^T from numpy's T_K on the eigenvalues l of I - W."""
    l_min, l_max = gossip_spectrum(W)
    co = chebyshev_coefficients(l_min, l_max)
    c2, c3 = 1.0 / co["inv_c2"], co["c3"]
    lam, V = np.linalg.eigh(np.eye(W.shape[0]) - W)
    coef = np.zeros(K + 1)
    coef[K] = 1.0
    vals = C.chebval(c2 * (1.0 - c3 * lam), coef) / C.chebval(c2, coef)
    return (V * vals) @ V.T


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_chebyshev_polynomial_matches_definition(name):
    W = _W(name)
    l_min, l_max = gossip_spectrum(W)
    K_opt = int(np.floor(1.0 / np.sqrt(l_min / l_max)))
    for K in sorted({1, 2, 3, K_opt, 10}):
        M = _chebyshev_matrix(W, K)
        np.testing.assert_allclose(M, _definition_matrix(W, K), atol=1e-11, err_msg=f"K={K}")
        # AccGossip = I - filter = P_K(I - W), eigenvalue by eigenvalue.
        lam, V = np.linalg.eigh(np.eye(W.shape[0]) - W)
        P = np.asarray(acc_gossip(jnp.asarray(W), jnp.eye(W.shape[0]), K, *(chebyshev_coefficients(l_min, l_max)[k] for k in ("c3", "inv_c2"))))
        np.testing.assert_allclose(P, (V * acc_gossip_eigenvalues(lam, K, l_min, l_max)) @ V.T, atol=1e-11)
        np.testing.assert_allclose(P @ np.ones(W.shape[0]), 0.0, atol=1e-12)  # kernel = span 1


def test_chebyshev_filter_does_not_overflow_for_large_K():
    W = _W("path")
    M = _chebyshev_matrix(W, 3000)  # T_K(c2) ~ 1e300+ would overflow if formed directly
    n = W.shape[0]
    assert np.isfinite(M).all()
    np.testing.assert_allclose(M, np.full((n, n), 1.0 / n), atol=1e-12)


# --- averaging methods -------------------------------------------------------------
CONSENSUS = {"gossip": gossip, "chebyshev_gossip": chebyshev_gossip, "heavy_ball_gossip": heavy_ball_gossip}


@settings(deadline=None, max_examples=6)
@given(graph=st.sampled_from(sorted(GRAPHS)), method=st.sampled_from(sorted(CONSENSUS)), seed=st.integers(0, 10**6))
def test_consensus_methods_preserve_the_average(graph, method, seed):
    p = convex.averaging(9, 3, key=seed)
    W = _W(graph)
    state, trace = algos.run(CONSENSUS[method](p, W), key=seed, num_steps=40)
    x_bar = np.asarray(jnp.mean(state.X, axis=0))
    np.testing.assert_allclose(x_bar, np.asarray(p.x_star), atol=1e-12)
    assert float(trace.consensus_error[-1]) < float(trace.consensus_error[0])
    assert float(trace.communications[-1]) == 40.0 and float(trace.gradient_calls[-1]) == 0.0


def test_chebyshev_gossip_beats_plain_gossip_by_the_sqrt_factor_on_rings():
    """Rounds to 1e-8 on rings: plain gossip ~ n^2, Chebyshev and heavy ball ~ n; ratio ~ log(c1)/log(slem)."""
    ns, counts = [16, 32, 64], {m: [] for m in CONSENSUS}
    for n in ns:
        p = convex.averaging(n, 2, key=0)
        W = mixing.metropolis(graphs.ring(n))
        for m, f in CONSENSUS.items():
            _, tr = algos.run(f(p, W), key=0, num_steps=7000 if m == "gossip" else 400)
            ce = np.asarray(tr.consensus_error) / float(p.zeta)
            counts[m].append(_iters_to(ce, 1e-8))
        co = chebyshev_coefficients(*gossip_spectrum(W))
        predicted = np.log(co["c1"]) / np.log(mixing.slem(W))  # ratio of asymptotic rounds
        assert abs(counts["gossip"][-1] / counts["chebyshev_gossip"][-1] / predicted - 1) < 0.2
    assert all(np.isfinite(c) for cs in counts.values() for c in cs), counts
    assert abs(bounds.fit_exponent(ns, counts["gossip"])[0] - 2.0) < 0.15
    assert abs(bounds.fit_exponent(ns, counts["chebyshev_gossip"])[0] - 1.0) < 0.15
    assert abs(bounds.fit_exponent(ns, counts["heavy_ball_gossip"])[0] - 1.0) < 0.15
    # PAPERS.md: n = 32 ring, heavy ball ~106 vs plain ~1295 (start-dependent); we require the same order.
    i32 = ns.index(32)
    assert 90 <= counts["chebyshev_gossip"][i32] <= 130 and 90 <= counts["heavy_ball_gossip"][i32] <= 130
    assert 1100 <= counts["gossip"][i32] <= 1500


def test_chebyshev_gossip_is_one_round_per_step_and_time_varying():
    p = convex.averaging(16, 2, key=1)
    state, tr = algos.run(chebyshev_gossip(p, mixing.metropolis(graphs.ring(16))), key=0, num_steps=30)
    assert int(state.t) == 30
    np.testing.assert_allclose(np.asarray(tr.communications), np.arange(0, 31))
    co = chebyshev_coefficients(*gossip_spectrum(mixing.metropolis(graphs.ring(16))))
    assert abs(float(state.omega) - (1.0 + co["c1"] ** 2)) < 1e-6  # omega_k = 2 c2 T_{k-1}/T_k -> 2 c2 c1 = 1 + c1^2


# --- optimal convex methods ----------------------------------------------------------
OPTIMAL = {"msda": (msda, 1500), "apapc": (apapc, 6000), "opapc": (opapc, 2500)}


@settings(deadline=None, max_examples=8)
@given(
    method=st.sampled_from(sorted(OPTIMAL)),
    graph=st.sampled_from(sorted(GRAPHS)),
    kappa=st.floats(2.0, 100.0),
    seed=st.integers(0, 10**6),
)
def test_optimal_methods_converge_to_x_star(method, graph, kappa, seed):
    p = convex.quadratic(9, 3, L=kappa, mu=1.0, key=seed, shared_eigenvectors=bool(seed % 2))
    W = _W(graph)
    factory, steps = OPTIMAL[method]
    algo = factory(p, W)
    state, tr = algos.run(algo, key=seed, num_steps=steps, record_every=50)
    d0 = float(np.mean(np.linalg.norm(np.asarray(p.x0()) - np.asarray(p.x_star), axis=1)))
    assert not bool(tr.diverged)
    assert float(tr.dist_to_opt[-1]) <= 1e-7 * d0, (method, graph, kappa, float(tr.dist_to_opt[-1]) / d0)
    assert float(tr.consensus_error[-1]) <= 1e-7 * d0
    # Cost accounting: one gradient per step; gossip rounds K (MSDA), 1 (APAPC), T (OPAPC).
    rounds = {"msda": algo.hparams.get("K"), "apapc": 1, "opapc": algo.hparams.get("T")}[method]
    assert float(tr.gradient_calls[-1]) == steps
    assert float(tr.communications[-1]) == steps * rounds


def test_msda_needs_a_conjugate_oracle():
    p = convex.logistic(9, 3, key=0)
    with pytest.raises(NotImplementedError, match="conjugate"):
        msda(p, _W("ring"))


@pytest.mark.parametrize(
    "factory, kwargs",
    [
        (msda, {"step_size": 10.0}),
        (msda, {"momentum": 1.5}),
        (apapc, {"step_size": 10.0}),
        (apapc, {"tau": 1.5}),
        (opapc, {"step_size": 10.0}),
        (opapc, {"theta": 1e9}),
        (heavy_ball_gossip, {"step_size": 10.0}),
        (chebyshev_gossip, {"spectrum": (0.0, 0.1)}),
    ],
)
def test_out_of_range_hyperparameters_raise(factory, kwargs):
    p = convex.quadratic(9, 3, L=10.0, mu=1.0, key=0)
    with pytest.raises(bounds.StepSizeError):
        factory(p, _W("ring"), **kwargs)
    factory(p, _W("ring"), check=False, **kwargs)  # allowed on request


@pytest.mark.parametrize("factory", [msda, apapc, opapc])
def test_step_size_can_be_traced_under_vmap(factory):
    p = convex.quadratic(9, 3, L=10.0, mu=1.0, key=0)
    W = _W("ring")
    eta0 = factory(p, W).hparams["step_size"]

    def final(eta):
        _, tr = algos.run(factory(p, W, step_size=eta), key=0, num_steps=600, record_every=600)
        return tr.dist_to_opt[-1]

    out = np.asarray(jax.vmap(final)(jnp.asarray([0.5 * eta0, eta0])))
    assert out.shape == (2,) and np.all(np.isfinite(out)) and np.all(out < 1e-3)


@pytest.mark.parametrize(
    "factory, name, scale",
    [
        (msda, "step_size", (0.5, 1.0, 1.5, 4.0)),
        (msda, "momentum", None),
        (apapc, "step_size", (0.5, 1.0, 1.5, 4.0)),
        (apapc, "tau", None),
        (opapc, "step_size", (0.5, 1.0, 1.5, 4.0)),
        (opapc, "theta", (0.5, 1.0, 1.5, 4.0)),
        (heavy_ball_gossip, "step_size", (0.5, 1.0, 2.5, 4.0)),
        (heavy_ball_gossip, "momentum", None),
    ],
)
def test_traced_hyperparameter_outside_its_range_flags_that_run(factory, name, scale):
    """The traced analogue of StepSizeError: in a vmapped sweep exactly the values outside the
    factory's concrete range are flagged diverged, at step 1; the others equal their concrete runs."""
    W = _W("ring")
    p = convex.averaging(9, 3, key=0) if factory is heavy_ball_gossip else convex.quadratic(9, 3, L=10.0, mu=1.0, key=0)
    base = factory(p, W).hparams[name]
    if scale is None:  # momentum-like parameters: the range is [0, 1) (tau: (0, 1])
        values = [0.5 * base, base, -0.1, 1.5]
    else:
        values = [s * base for s in scale]

    def concrete_ok(v):
        try:
            factory(p, W, **{name: float(v)})
            return True
        except bounds.StepSizeError:
            return False

    expected = np.array([concrete_ok(v) for v in values])
    assert expected.any() and not expected.all(), (name, values, expected)  # the sweep crosses the limit

    def traced(v):
        _, tr = algos.run(factory(p, W, **{name: v}), key=0, num_steps=20, record_every=5)
        return tr.diverged, tr.diverged_at, tr.dist_to_opt[-1]

    div, at, last = jax.vmap(traced)(jnp.asarray(values))
    np.testing.assert_array_equal(~np.asarray(div), expected)
    assert np.all(np.asarray(at)[~expected] == 1)  # flagged at step 1: NaN from the first step
    for v, ok, got in zip(values, expected, np.asarray(last)):
        if ok:  # a valid traced value runs exactly as the concrete one
            _, tr = algos.run(factory(p, W, **{name: float(v)}), key=0, num_steps=20, record_every=5)
            np.testing.assert_allclose(got, float(tr.dist_to_opt[-1]), rtol=1e-10)
    # check=False runs every value as given
    div_unchecked = jax.vmap(lambda v: algos.run(factory(p, W, **{name: v}, check=False), 0, 20, record_every=5)[1].diverged)(
        jnp.asarray(values)
    )
    assert not np.asarray(div_unchecked)[expected].any()

"""Networked bandits: exact regret, bits accounting, confidence sets, the UCB1 bound, errors.

Small instances; few distinct shapes (each new shape is one more compilation).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binom

import algos
import bounds
from algos.bandits.collab_ucb import group_sticky
from algos.bandits.disbe_lucb import batch_grid, quant_bits, quantize
from algos.bandits.gosine import gosine_sticky
from problems import bandits, graphs, mixing


def _mab(**kw):
    return bandits.heterogeneous_mab(6, 2, 8, key=kw.pop("key", 3), r=2, **kw)


# ------------------------------------------------------------------------------- regret is exact
@pytest.mark.parametrize("make", ["ucb", "gosine", "collab_unaware", "collab_partial"])
def test_regret_is_sum_of_gaps_of_pulled_arms(make):
    p = _mab()
    algo = {
        "ucb": lambda: algos.ucb(p),
        "gosine": lambda: algos.gosine(p),
        "collab_unaware": lambda: algos.collab_ucb(p),
        "collab_partial": lambda: algos.collab_ucb(p, scenario="partial"),
    }[make]()
    T = 343  # 7^3: seven phases
    state, tr = algos.run(algo, 5, T, record_every=49)
    # independent of the recorder: gaps from the raw means (numpy), pulls from the final counts
    means = np.asarray(p.means)
    gaps = means.max(axis=1, keepdims=True) - means
    counts = np.asarray(state.counts)
    per_agent = np.sum(gaps[np.asarray(p.assignment)] * counts, axis=1)
    assert counts.sum() == p.n_agents * T == tr.arm_pulls[-1]
    np.testing.assert_allclose(tr.agent_regret[-1], per_agent, rtol=1e-12)
    np.testing.assert_allclose(tr.regret[-1], per_agent.sum(), rtol=1e-12)
    # realized regret: mu* T - total reward, the rewards being the sums in the state
    best = means.max(axis=1)[np.asarray(p.assignment)]
    np.testing.assert_allclose(tr.realized_regret[-1], np.sum(best * T - np.asarray(state.sums).sum(axis=1)), rtol=1e-10)
    assert np.all(np.diff(tr.regret) >= 0)


_LIN = dict(N=4, d=3, K=6, C=5, T=400)


def _lin():
    return bandits.linear_contextual(_LIN["N"], _LIN["d"], _LIN["K"], key=2, n_contexts=_LIN["C"])


def _decbe(p):
    return algos.decbe_lucb(p, mixing.metropolis(graphs.ring(_LIN["N"])), horizon=_LIN["T"])


def test_linear_regret_replayed_step_by_step():
    """DecBE-LUCB's recorded regret and bits equal the gaps and message sizes of its actions, replayed
    with the engine's keys (step t gets fold_in(k_steps, t))."""
    p = _lin()
    T = _LIN["T"]
    algo = _decbe(p)
    _, tr = algos.run(algo, 7, T, record_every=T)
    k_init, k_steps = jax.random.split(jax.random.PRNGKey(7))
    step = jax.jit(algo.step)
    state = algo.init(k_init)
    vals = np.asarray(p.actions) @ np.asarray(p.theta)  # (C, K)
    total, bits = 0.0, 0.0
    for t in range(T):
        state, info = step(jax.random.fold_in(k_steps, t), state, t)
        c, a = np.asarray(info.contexts), np.asarray(info.arms)
        total += float(np.sum(vals.max(axis=1)[c] - vals[c, a]))
        bits += float(info.cost.bits_up)
    np.testing.assert_allclose(tr.regret[-1], total, rtol=1e-12)
    assert tr.bits_up[-1] == bits


# ------------------------------------------------------------------------------- bits accounting
def test_gosine_bits_are_one_index_per_agent_per_phase():
    p = _mab()  # complete graph: every agent asks at every phase end
    _, tr = algos.run(algos.gosine(p), 0, 343, record_every=49)
    phases = 7  # phase ends at t + 1 = 1, 8, 27, 64, 125, 216, 343
    assert tr.comm_rounds[-1] == phases
    assert tr.messages[-1] == phases * 6
    assert tr.bits_up[-1] == phases * 6 * math.ceil(math.log2(8))
    assert tr.bits_down[-1] == 0


def test_disbe_and_decbe_bits_match_message_sizes():
    N, d, T = _LIN["N"], _LIN["d"], _LIN["T"]
    p = _lin()
    ends = batch_grid(T, N, d)
    b = quant_bits(T, N)
    dis = algos.disbe_lucb(p, horizon=T)
    _, tr = algos.run(dis, 0, T, record_every=T)
    n_comm = len(ends) - 1  # nothing is sent after the last batch
    assert tr.bits_up[-1] == n_comm * N * d * b == tr.bits_down[-1]
    assert tr.messages[-1] == n_comm * 2 * N
    W = mixing.metropolis(graphs.ring(N))
    dec = _decbe(p)
    _, tr2 = algos.run(dec, 0, T, record_every=T)
    R = dec.hparams["rounds"]
    assert R == math.ceil(math.log(N * T) / math.log(1 / mixing.slem(W)))
    assert tr2.bits_up[-1] == n_comm * R * (2 * N) * d * b  # ring: 2N directed links
    assert tr2.bits_down[-1] == 0


def test_dislinucb_bits_per_sync():
    N, d, T = _LIN["N"], _LIN["d"], _LIN["T"]
    p = _lin()
    _, tr = algos.run(algos.dislinucb(p, horizon=T, threshold=2.0), 0, T, record_every=T)
    syncs = tr.comm_rounds[-1]
    assert syncs >= 1
    assert tr.bits_up[-1] == syncs * N * (d * d + d) * 64 == tr.bits_down[-1]


def test_quantizer_error_and_grid():
    v = jnp.linspace(-1.3, 1.3, 101)
    q = quantize(v, 1.0, 6)
    inside = jnp.abs(v) <= 1.0
    assert float(jnp.max(jnp.abs(q - v)[inside])) <= 1.0 / (2**6 - 1) + 1e-15
    assert float(jnp.max(jnp.abs(q))) <= 1.0 + 1e-15
    for T, N, d in [(10**4, 8, 5), (10**6, 32, 10), (100, 2, 2)]:
        e = batch_grid(T, N, d)
        assert e[-1] == T and np.all(np.diff(e) > 0)
        assert e[0] == min(T, math.ceil(math.sqrt(d * T / N)))
        assert len(e) <= math.ceil(math.log2(math.log2(T))) + 2


# ------------------------------------------------------------------------------- sticky sets
def test_gosine_sticky_sets_match_official_rule():
    # ronshee/gosine@2c8bc7e: arms[q, p] = mod(p ceil(K/n), K) + q + 1 (minus K past K), minus 1
    n, K = 15, 40
    c = math.ceil(K / n)
    ref = np.zeros((n, c + 2), int)
    for p_ in range(n):
        for q in range(c + 2):
            v = (p_ * c) % K + q + 1
            ref[p_, q] = (v - K if v > K else v) - 1
    np.testing.assert_array_equal(gosine_sticky(n, K), ref)


@settings(max_examples=10, deadline=None)
@given(st.sampled_from([(6, 2, 8), (9, 3, 10), (10, 3, 20)]), st.integers(0, 10**6))
def test_group_sticky_sets_cover_all_arms_in_every_group(sizes, seed):
    p = bandits.heterogeneous_mab(*sizes, key=seed)
    act = group_sticky(p)
    S = act.shape[1] - 2
    for m in range(p.n_bandits):
        covered = set(act[np.asarray(p.assignment) == m, :S].ravel().tolist())
        assert covered == set(range(p.n_arms))
    best = np.asarray(p.best_arm)
    assert len(set(best.tolist())) == p.n_bandits  # heterogeneous: distinct best arms
    gaps = np.sort(np.asarray(p.gaps), axis=1)
    np.testing.assert_allclose(gaps[:, 1], 0.1)  # the set gap


# ------------------------------------------------------------------------------- theory
def test_ucb1_bound_holds_on_the_seed_average_and_needs_ucb1():
    p = bandits.heterogeneous_mab(2, 1, 4, key=0, gap=0.2)
    algo = algos.ucb(p)
    keys = jax.random.split(jax.random.PRNGKey(1), 16)
    tr = jax.vmap(lambda k: algos.run(algo, k, 2000, record_every=50)[1])(keys)
    rep = bounds.compare(tr, bounds.ucb1(algo), algo=algo)
    assert rep.holds is True and rep.checked_steps > 30
    # the constants, computed independently
    g = np.asarray(p.gaps)[0]
    sub = g[g > 0]
    assert bounds.ucb1(algo).params["C_log"] == pytest.approx(2 * np.sum(8 / sub))
    # another index is not UCB1: the theorem is not applied
    other = algos.ucb(p, alpha=4.0, time_offset=1.0)
    assert bounds.ucb1(other).valid is False


def test_ucb1_envelope_fails_a_linear_regret():
    """The check can fail: a batch of runs with linear regret (a constant per step) exceeds the envelope."""
    p = bandits.heterogeneous_mab(2, 1, 4, key=0, gap=0.2)
    algo = algos.ucb(p)
    b = bounds.ucb1(algo)
    steps = np.arange(0, 200001, 1000)
    reg = np.tile(0.2 * 2 * steps, (8, 1)) + np.random.default_rng(0).normal(0, 1, (8, steps.size))
    assert bounds.compare(bounds.ArrayTrace(steps, diverged=np.zeros(8, bool), regret=reg), b).holds is False


def test_linucb_ellipsoid_covers_theta_at_its_frequency_and_regret_bound():
    p = bandits.linear_contextual(1, 3, 6, key=4, n_contexts=5)
    delta = 0.1
    algo = algos.linucb(p, delta=delta)
    T, B = 300, 32
    keys = jax.random.split(jax.random.PRNGKey(2), B)
    tr = jax.vmap(lambda k: algos.run(algo, k, T, record_every=1)[1])(keys)
    covered_always = np.all(np.asarray(tr.covered)[:, 1:] == 1.0, axis=1)
    failures = int(np.sum(~covered_always))
    # P(failure) <= delta per run (Abbasi-Yadkori et al. 2011 Thm. 2): reject at level 1e-3
    assert failures <= binom.ppf(1 - 1e-3, B, delta)
    rep = bounds.compare(tr, bounds.linucb(algo), algo=algo)
    assert sum(h is False for h in rep.holds) <= binom.ppf(1 - 1e-3, B, delta)
    assert np.all(np.asarray(tr.regret)[:, -1] > 0)


def test_order_checks():
    p = bandits.linear_contextual(2, 2, 4, key=0, n_contexts=3)
    b = bounds.disbe_lucb_communication(algos.disbe_lucb(p, horizon=50))
    Ns = [4, 8, 16, 32]
    assert bounds.scaling_check(b, "N", Ns, [n * 3.0 for n in Ns])["holds"]
    assert not bounds.scaling_check(b, "N", Ns, [n**1.5 for n in Ns])["holds"]
    low = bounds.communication_lower_bound("disbe_lucb")
    assert not bounds.scaling_check(low, "N", Ns, [n**0.5 for n in Ns])["holds"]
    Ts = [1e3, 1e4, 1e5]
    assert bounds.log_growth_check(Ts, [np.log(t) for t in Ts])["holds"]
    assert not bounds.log_growth_check(Ts, [np.sqrt(t) for t in Ts])["holds"]


# ------------------------------------------------------------------------------- engine properties
def test_determinism_and_seeds():
    p = _mab()
    algo = algos.collab_ucb(p)
    _, a = algos.run(algo, 11, 343, record_every=49)
    _, b = algos.run(algo, 11, 343, record_every=49)
    _, c = algos.run(algo, 12, 343, record_every=49)
    for f in ("regret", "realized_regret", "bits_up"):
        np.testing.assert_array_equal(np.asarray(a[f]), np.asarray(b[f]))
    assert not np.array_equal(np.asarray(a.realized_regret), np.asarray(c.realized_regret))
    q1, q2 = _mab(key=9), _mab(key=9)
    np.testing.assert_array_equal(np.asarray(q1.means), np.asarray(q2.means))


def test_a_million_rounds_in_bounded_memory():
    p = bandits.heterogeneous_mab(2, 1, 3, key=0, gap=0.3)
    state, tr = algos.run(algos.ucb(p), 0, 10**6, record_every=10**5)
    assert tr.regret.shape == (11,) and tr.agent_regret.shape == (11, 2)
    assert tr.arm_pulls[-1] == 2 * 10**6 and np.all(np.isfinite(tr.regret))
    assert float(tr.regret[-1]) < 0.01 * 2 * 10**6 * 0.3  # sublinear: far below linear regret


# ------------------------------------------------------------------------------- bad input
def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="n_bandits must be < n_agents"):
        bandits.heterogeneous_mab(4, 4, 5)
    with pytest.raises(ValueError, match="gap must lie in"):
        bandits.heterogeneous_mab(4, 2, 5, gap=0.99)
    with pytest.raises(ValueError, match="gap must lie in"):
        bandits.heterogeneous_mab(4, 2, 5, gap=0.0)
    with pytest.raises(ValueError, match="r = 3 exceeds"):
        bandits.heterogeneous_mab(4, 2, 5, r=3)
    with pytest.raises(ValueError, match="reward must be one of"):
        bandits.heterogeneous_mab(4, 2, 5, reward="poisson")
    with pytest.raises(ValueError, match="means must have shape"):
        bandits.heterogeneous_mab(4, 2, 5, means=np.ones((2, 4)) * 0.5)
    with pytest.raises(TypeError, match="n_agents must be an integer"):
        bandits.linear_contextual(2.5, 3, 4)
    p = bandits.linear_contextual(4, 3, 5, key=0)
    with pytest.raises(ValueError, match=r"W must be \(n_agents, n_agents\)"):
        algos.decbe_lucb(p, mixing.metropolis(graphs.ring(5)), horizon=100)
    with pytest.raises(TypeError, match="problems.bandits.linear_contextual"):
        algos.linucb(_mab())
    with pytest.raises(TypeError, match="problems.bandits.heterogeneous_mab"):
        algos.gosine(p)
    with pytest.raises(ValueError, match="scenario must be one of"):
        algos.collab_ucb(_mab(), scenario="full")
    with pytest.raises(ValueError, match="delta must lie in"):
        algos.linucb(p, delta=1.5)
    with pytest.raises(ValueError, match="alpha must be > 0"):
        algos.ucb(_mab(), alpha=-1.0)
    with pytest.raises(ValueError, match="graph has 5 nodes but n_agents = 4"):
        bandits.heterogeneous_mab(4, 2, 5, graph=graphs.ring(5))

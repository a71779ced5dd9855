"""``bounds.dislinucb_syncs``: the counting argument's two facts verified numerically, the bound holds on
runs at several thresholds, and a run that synchronizes more often than its threshold allows violates it."""

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import algos
import bounds
from problems import bandits

jax.config.update("jax_enable_x64", True)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), d=st.integers(1, 6), m=st.integers(1, 80), lam=st.floats(0.1, 5.0))
def test_logdet_am_gm_and_monotone(seed, d, m, lam):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, d)) * rng.uniform(0.1, 2.0, size=(m, 1))
    V = lam * np.eye(d) + X.T @ X
    L = np.linalg.slogdet(V)[1] - d * np.log(lam)
    assert L <= d * np.log1p(np.sum(X**2) / (d * lam)) + 1e-10
    # adding PSD data never lowers log det (the sync raises log det V_sync by at least the trigger's local gain)
    i = rng.integers(0, m)
    assert np.linalg.slogdet(V)[1] >= np.linalg.slogdet(lam * np.eye(d) + np.outer(X[i], X[i]))[1] - 1e-10


@pytest.mark.parametrize("threshold", [None, 0.5, 5.0, 50.0])
def test_dislinucb_sync_bound_holds_run_by_run(threshold):
    p = bandits.linear_contextual(6, 4, 8, key=1)
    algo = algos.dislinucb(p, horizon=600, threshold=threshold)
    _, tr = jax.vmap(lambda k: algos.run(algo, k, 600, record_every=5))(jax.random.split(jax.random.key(0), 4))
    b = bounds.dislinucb_syncs(algo)
    rep = bounds.compare(tr, b, algo=algo)
    assert rep.all_hold is True, str(rep)
    assert max(r.worst_ratio for r in rep) > 0.1  # not vacuous on these runs
    assert np.all(np.asarray(tr.bits_up)[:, -1] == 6 * 64 * (16 + 4) * np.asarray(tr.comm_rounds)[:, -1])


def test_dislinucb_sync_bound_fails_a_run_that_syncs_too_often():
    p = bandits.linear_contextual(6, 4, 8, key=1)
    loose = algos.dislinucb(p, horizon=600, threshold=0.05)
    _, tr = algos.run(loose, 0, 600)
    b = bounds.dislinucb_syncs(algos.dislinucb(p, horizon=600, threshold=50.0))
    rep = bounds.compare(tr, b)
    assert rep.holds is False and "FINDING" in rep.message, str(rep)
    with pytest.raises(ValueError, match="threshold"):
        bounds.compare(tr, b, algo=loose)
    with pytest.raises(TypeError, match="algos.dislinucb"):
        bounds.dislinucb_syncs(algos.linucb(p))

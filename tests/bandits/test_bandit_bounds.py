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


# ----------------------------------------------------------------- anchored agents of insert-eliminate
MEANS = np.array([[0.9, 0.5, 0.4, 0.3, 0.2, 0.1, 0.35, 0.15]])


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), K=st.integers(2, 7), alpha=st.floats(0.05, 8.0), c=st.sampled_from([0.0, 1.0, 3.0]))
def test_ucb_counting_lemma_pathwise(seed, K, alpha, c):
    """The lemma behind bounds.anchored_regret, on a NumPy UCB whose active set changes at random but
    always holds the best arm: on every prefix where the confidence event held, each worse arm's pulls
    are at most 1 + 4 alpha log(t + c) / Delta^2. Small alpha makes the event fail, so both branches run."""
    rng = np.random.default_rng(seed)
    mu = rng.uniform(0.0, 1.0, K)
    mu[0] = min(1.0, mu.max() + rng.uniform(0.01, 0.3))  # arm 0 is the best, always active
    gap = mu[0] - mu
    n, s = np.zeros(K), np.zeros(K)
    active = np.ones(K, bool)
    event = True
    for t in range(600):
        if t % 50 == 0:
            active = rng.random(K) < 0.6
            active[0] = True
        safe = np.maximum(n, 1)
        rad = np.sqrt(alpha * np.log(max(t + c, 1.0)) / safe)
        idx = np.where(n > 0, s / safe + rad, np.inf)
        k = int(np.argmax(np.where(active, idx, -np.inf)))
        if n[k] > 0 and gap[k] > 0 and s[k] / n[k] > mu[k] + rad[k]:
            event = False
        if n[0] > 0 and s[0] / n[0] < mu[0] - rad[0]:
            event = False
        n[k] += 1
        s[k] += float(rng.random() < mu[k])
        if event:
            worse = gap > 0
            assert np.all(n[worse] <= 1 + 4 * alpha * np.log(max(t + c, 1.0)) / gap[worse] ** 2 + 1e-9)


@pytest.mark.parametrize("method", ["gosine", "collab_unaware", "collab_partial"])
def test_anchored_regret_holds_run_by_run(method):
    if method == "gosine":
        algo = algos.gosine(bandits.heterogeneous_mab(4, 1, 8, 0, means=MEANS, r=1))
    else:
        p = bandits.heterogeneous_mab(8, 2, 6, 1, gap=0.3, r=2)
        algo = algos.collab_ucb(p, scenario=method.split("_")[1])
    b = bounds.anchored_regret(algo)
    assert b.kind == "explicit" and b.params["anchored_agents"] >= 1
    _, tr = jax.vmap(lambda k: algos.run(algo, k, 8000, record_every=100))(jax.random.split(jax.random.key(0), 3))
    assert np.all(np.asarray(tr.ucb_event_misses) == 0)
    rep = bounds.compare(tr, b, algo=algo)
    assert rep.all_hold is True, str(rep)
    assert min(r.worst_ratio for r in rep) > 0.1  # not vacuous
    # the anchored agents' regret is part of the group regret
    assert np.all(np.asarray(tr.anchored_regret) <= np.asarray(tr.regret) + 1e-9)


def test_anchored_regret_fails_a_run_that_explores_more():
    """alpha = 256 pulls each worse arm about 64 times as often as alpha = 4; judged against the
    alpha = 4 bound (which allows 4 times the alpha = 4 exploration) it is a FINDING."""
    p = bandits.heterogeneous_mab(4, 1, 8, 0, means=MEANS, r=1)
    b = bounds.anchored_regret(algos.gosine(p))
    _, tr = algos.run(algos.gosine(p, alpha=256.0), 0, 10000, record_every=100)
    assert float(tr.ucb_event_misses[-1]) == 0
    rep = bounds.compare(tr, b)
    assert rep.holds is False and "FINDING" in rep.message, str(rep)


def test_anchored_regret_says_nothing_after_the_event_fails():
    """With alpha = 0.01 the confidence radius is tiny and the event fails early: from the first
    miss on the envelope is +inf, and a run whose event fails before its first record is not judged."""
    p = bandits.heterogeneous_mab(4, 1, 8, 0, means=MEANS, r=1)
    algo = algos.gosine(p, alpha=0.01)
    _, tr = algos.run(algo, 0, 2000, record_every=100)
    misses = np.asarray(tr.ucb_event_misses)
    assert misses[1] > 0  # failed within the first 100 steps
    b = bounds.anchored_regret(algo)
    env = b.curve(np.asarray(tr.steps, float), 0.0, data={"ucb_event_misses": misses})
    assert env[0] == 0.0 and np.all(np.isinf(env[1:]))
    rep = bounds.compare(tr, b, algo=algo)
    assert rep.holds is None and "not judged" in rep.message, str(rep)


def test_anchored_regret_refuses_other_methods():
    p = bandits.heterogeneous_mab(4, 1, 8, 0, means=MEANS, r=1)
    with pytest.raises(TypeError, match="gosine.*collab_ucb"):
        bounds.anchored_regret(algos.ucb(p))


# ------------------------------------------------------------------ DisBE / DecBE elimination certificates
@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), K=st.integers(2, 9), d=st.integers(1, 5), noise=st.floats(0.0, 2.0))
def test_elimination_lemma_pathwise(seed, K, d, noise):
    """The lemma behind bounds.elimination_regret, on random estimates and widths: when every kept
    action's estimate is within its width, the best action survives and every survivor's gap is at
    most 4 max_{survivors} w. With large noise the event often fails (then nothing is claimed)."""
    from algos.bandits.disbe_lucb import _eliminate

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(1, K, d))
    theta = rng.normal(size=d)
    theta_hat = theta + noise * rng.normal(size=d)
    mask = rng.random((1, K)) < 0.8
    best = int(np.argmax(X[0] @ theta))
    mask[0, best] = True
    Linv = np.diag(rng.uniform(0.01, 1.0, d))
    beta = float(rng.uniform(0.1, 3.0))
    new, cert, ok = (np.asarray(v) for v in _eliminate(X, mask, theta_hat, Linv, beta, theta))
    w = beta * np.sqrt(np.einsum("kd,de,ke->k", X[0], Linv, X[0]))
    assert bool(ok) == bool(np.all(np.abs(X[0] @ (theta_hat - theta))[mask[0]] <= w[mask[0]]))
    if ok:
        gap = (X[0] @ theta)[best] - X[0] @ theta
        assert new[0, best]
        assert np.all(gap[new[0]] <= cert[0] + 1e-12) and np.isclose(cert[0], 4 * w[new[0]].max())


def _be(name, p, T):
    if name == "disbe_lucb":
        return algos.disbe_lucb(p, horizon=T)
    from problems import graphs, mixing

    return algos.decbe_lucb(p, mixing.metropolis(graphs.ring(p.n_agents)), horizon=T)


@pytest.mark.parametrize("name", ["disbe_lucb", "decbe_lucb"])
def test_elimination_regret_holds_run_by_run(name):
    p = bandits.linear_contextual(6, 4, 8, key=1)
    algo = _be(name, p, 3000)
    _, tr = jax.vmap(lambda k: algos.run(algo, k, 3000, record_every=50))(jax.random.split(jax.random.key(0), 4))
    assert np.all(np.asarray(tr.elimination_event_misses) == 0)
    b = bounds.elimination_regret(algo)
    assert b.kind == "explicit" and b.method == name
    rep = bounds.compare(tr, b, algo=algo)
    assert rep.all_hold is True, str(rep)
    assert min(r.worst_ratio for r in rep) > 0.1  # not vacuous
    # the certificates shrink: the last batch's per-step certificate is below the first batch's
    g = np.diff(np.asarray(tr.elimination_gap_bound)[0])
    assert g[-1] < 0.5 * g[0]


def test_elimination_regret_fails_when_the_elimination_step_is_skipped(monkeypatch):
    """A kernel whose batch end keeps every action but reports the same certificates: its actions'
    gaps exceed the shrinking certificates, and the bound says FINDING."""
    import importlib

    be = importlib.import_module("algos.bandits.disbe_lucb")  # the module (the package exports a function of that name)
    real = be._eliminate
    monkeypatch.setattr(be, "_eliminate", lambda X, mask, *a: (mask,) + tuple(real(X, mask, *a)[1:]))
    try:
        p = bandits.linear_contextual(6, 4, 8, key=1)
        algo = algos.disbe_lucb(p, horizon=30000)
        _, tr = algos.run(algo, 3, 30000, record_every=600)  # a record count no other test compiles
        assert float(tr.elimination_event_misses[-1]) == 0
        rep = bounds.compare(tr, bounds.elimination_regret(algo))
        assert rep.holds is False and "FINDING" in rep.message, str(rep)
    finally:
        jax.clear_caches()  # the mutant's executable must not serve later runs


def test_elimination_regret_refuses_other_methods():
    p = bandits.linear_contextual(6, 4, 8, key=1)
    with pytest.raises(TypeError, match="disbe_lucb.*decbe_lucb"):
        bounds.elimination_regret(algos.dislinucb(p, horizon=100))

"""algos.stackelberg: accumulated metrics equal sums over the played pairs; determinism; sentinels; bounds."""

import jax
import numpy as np
import pytest

import algos
import bounds
from problems import games


def _played(tr):
    return np.asarray(tr.a)[1:].astype(int), np.asarray(tr.b)[1:].astype(int)


@pytest.mark.parametrize("leader,follower", [("exp3", "fmucb"), ("ucb", "best_response")])
def test_metrics_equal_sums_over_the_played_pairs(leader, follower):
    g = games.random_game(3, 2, key=7)
    T = 400
    algo = algos.stackelberg(g, leader, follower, horizon=T)
    state, tr = algos.run(algo, 1, T)
    a, b = _played(tr)
    ml, mf = g.rewards()
    ta, tb = algo.hparams["target"]
    np.testing.assert_allclose(np.asarray(tr.leader_reward)[1:], np.cumsum(ml[a, b]), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(tr.follower_reward)[1:], np.cumsum(mf[a, b]), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(tr.leader_regret)[1:], np.cumsum(ml[ta, tb] - ml[a, b]), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(np.asarray(tr.follower_regret)[1:], np.cumsum(mf[ta, tb] - mf[a, b]), rtol=1e-10, atol=1e-10)
    F = np.asarray(g.manipulation_response)
    assert np.array_equal(np.asarray(tr.error_rounds)[1:], np.cumsum(b != F[a]))
    counts = np.zeros((3, 2))
    np.add.at(counts, (a, b), 1.0)
    assert np.array_equal(np.asarray(tr.pair_counts)[-1], counts) and np.asarray(tr.pair_counts).shape == (T + 1, 3, 2)
    assert np.array_equal(np.asarray(state.f_counts), counts)
    assert float(tr.rounds[-1]) == T and float(tr.follower_feedback[-1]) == T * (2 if follower == "fmucb" else 1)
    # determinism: the same seed gives the same play, another seed another one
    _, again = algos.run(algo, 1, T)
    assert np.array_equal(np.asarray(again.pair_counts), np.asarray(tr.pair_counts))
    _, other = algos.run(algo, 2, T)
    assert not np.array_equal(_played(other)[0], a)
    assert not bool(tr.diverged)
    if leader == "ucb":  # every action once first (+inf sentinels), a legal state
        assert sorted(a[:3].tolist()) == [0, 1, 2]
        assert np.all(np.isinf(np.asarray(algo.init(jax.random.PRNGKey(0)).l_index)))


def test_leader_bounds_hold_on_seed_averages_and_fbm_reaches_the_manipulation():
    g = games.manipulation_game()
    T = 1500
    keys = jax.random.split(jax.random.PRNGKey(0), 12)
    # (the UCB1 leader's bound is checked the same way in the figure `stackelberg`)
    for leader, bound in (("exp3", bounds.stackelberg_exp3),):
        algo = algos.stackelberg(g, leader, "fbm", horizon=T)
        tr = jax.vmap(lambda k, algo=algo: algos.run(algo, k, T, record_every=10)[1])(keys)
        b = bound(algo)
        assert b.valid and b.statistic == "mean"
        rep = bounds.compare(tr, b, algo=algo)
        assert rep.holds is True and rep.checked_steps == T // 10 + 1, str(rep)
        assert 0.0 < rep.worst_ratio < 1.0
        # the same envelope with the linear exploration term dropped fails for EXP3 (the check can fail)
        if leader == "exp3":
            import dataclasses

            tight = dataclasses.replace(b, envelope=lambda k, ref: 0.02 * np.asarray(k, float))
            assert bounds.compare(tr, tight, algo=algo).holds is False
        pc = np.asarray(tr.pair_counts)[:, -1].sum(0)
        assert np.argmax(pc.ravel()) == 1  # (0, 1) is the best manipulation
        # with a learning follower the theorem's conditions fail: not judged
    algo = algos.stackelberg(g, "exp3", "best_response", horizon=T)
    assert bounds.stackelberg_exp3(algo).valid is False


def test_bad_inputs_are_named():
    g = games.manipulation_game()
    with pytest.raises(ValueError, match="leader must be one of"):
        algos.stackelberg(g, "hedge", "fbm", horizon=10)
    with pytest.raises(ValueError, match="follower must be one of"):
        algos.stackelberg(g, "ucb", "oracle")
    with pytest.raises(ValueError, match="horizon="):
        algos.stackelberg(g, "exp3", "fbm")
    with pytest.raises(ValueError, match="gamma must lie in"):
        algos.stackelberg(g, "exp3", "fbm", gamma=1.5)
    with pytest.raises(TypeError, match="problems.games.Game"):
        algos.stackelberg(np.zeros((2, 2)), "ucb", "fbm")


@pytest.mark.parametrize("key", [0, 5])
def test_fmucb_with_exact_means_and_no_radius_plays_fbms_response(key):
    g = games.random_game(3, 3, key=key, noise="none", min_gap=0.05)
    T = 600
    algo = algos.stackelberg(g, "exp3", "fmucb", horizon=T, confidence=0.0)
    state, tr = algos.run(algo, 3, T)
    a, b = _played(tr)
    F = np.asarray(g.manipulation_response)
    seen = np.zeros((3, 3), bool)
    first_all_seen = None
    for t in range(T):
        seen[a[t], b[t]] = True
        if seen.all():
            first_all_seen = t
            break
    assert first_all_seen is not None and first_all_seen < T // 2
    # after every pair has been seen once the follower's answer is FBM's, every round
    assert np.array_equal(b[first_all_seen + 1:], F[a[first_all_seen + 1:]])
    # and its target is the game's best manipulation
    from algos.games.stackelberg import _fmucb_target

    _, ta, tb, has, *_ = _fmucb_target(state, float(T), 0.0)
    assert bool(has) and (int(ta), int(tb)) == g.best_manipulation


def test_fmucb_error_rounds_stop_growing_on_the_2x2_game():
    # the construction's property behind the figure's claim, at test size: most error rounds are early
    g = games.manipulation_game()
    T = 6000
    algo = algos.stackelberg(g, "ucb", "fmucb")
    keys = jax.random.split(jax.random.PRNGKey(1), 8)
    tr = jax.vmap(lambda k: algos.run(algo, k, T, record_every=T // 2)[1])(keys)
    er = np.asarray(tr.error_rounds).mean(0)
    assert er[2] - er[1] < 0.5 * er[1], er  # the second half adds less than half the first half's count
    pc = np.asarray(tr.pair_counts)[:, -1].mean(0)
    assert np.argmax(pc.ravel()) == 1  # (0, 1), the best manipulation


def test_bad_confidence_is_named():
    g = games.manipulation_game()
    with pytest.raises(ValueError, match="confidence must be a finite number >= 0"):
        algos.stackelberg(g, "ucb", "fmucb", confidence=-1.0)


def test_fmucb_target_uses_the_row_minimum_of_the_estimates_not_the_lcb_argmin():
    # 2x2, leader estimates: row 0 = (0.5, 0.9), row 1 = (0.2 well sampled, 0.6 seen twice). The plug-in
    # worst-response value of row 1 is 0.2, so (0, 0) (0.5 > 0.2) is qualified; the LCB-argmin of row 1
    # is the rarely seen pair (0.6), which would wrongly disqualify (0, 0) (0.5 < 0.6).
    from algos.games.stackelberg import StackelbergState, _fmucb_target

    n = np.array([[400.0, 400.0], [400.0, 2.0]])
    ml = np.array([[0.5, 0.9], [0.2, 0.6]])
    mf = np.array([[0.9, 0.1], [0.3, 0.2]])
    z = np.zeros(2)
    s = StackelbergState(z, z, z, z, n, mf * n, ml * n)
    W, ta, tb, has, q_opt, ucb_f, value = _fmucb_target(jax.tree.map(jax.numpy.asarray, s), 1000.0, 2.0)
    assert int(W[1]) == 1  # the optimistic worst response explores the rarely seen pair
    assert bool(has) and (int(ta), int(tb)) == (0, 0) and float(value) == pytest.approx(0.9)

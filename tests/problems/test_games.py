"""Stackelberg games: exact equilibria and best manipulations against brute force; bad inputs."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from problems import games


def _brute_stackelberg(ml, mf):
    best, pair = -np.inf, None
    for a in range(ml.shape[0]):
        b = max(range(ml.shape[1]), key=lambda j: (mf[a, j], -j))  # best response, ties lowest index
        if ml[a, b] > best:
            best, pair = ml[a, b], (a, b)
    return pair


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), shape=st.sampled_from([(2, 2), (3, 3), (2, 4), (4, 2), (3, 2)]))
def test_equilibrium_and_best_manipulation_match_brute_force(seed, shape):
    g = games.random_game(*shape, key=seed)
    ml, mf = g.rewards()
    assert g.stackelberg_equilibrium == _brute_stackelberg(ml, mf)
    value, pairs = games.brute_force_manipulation(g)
    a, b = g.best_manipulation
    assert mf[a, b] == value and (a, b) in pairs
    # the response function steers the leader to (a, b): a is the unique best action against it
    F = np.asarray(g.manipulation_response)
    vals = ml[np.arange(shape[0]), F]
    assert F[a] == b and np.argmax(vals) == a and np.sum(vals == vals[a]) == 1
    # every steerable pair is qualified and conversely (over all response functions)
    steerable = set()
    for Fn in itertools.product(range(shape[1]), repeat=shape[0]):
        v = ml[np.arange(shape[0]), list(Fn)]
        top = int(np.argmax(v))
        if np.sum(v == v[top]) == 1:
            steerable.add((top, Fn[top]))
    assert steerable == {tuple(x) for x in np.argwhere(g.qualified)}
    # manipulation never pays less than best response when the equilibrium is itself steerable
    ae, be = g.stackelberg_equilibrium
    if g.qualified[ae, be]:
        assert mf[a, b] >= mf[ae, be]


def test_the_2x2_manipulation_game():
    g = games.manipulation_game()
    assert g.stackelberg_equilibrium == (1, 0) and g.best_manipulation == (0, 1)
    assert g.manipulation_pays and g.values(g.best_manipulation) == (0.35, 0.9)
    assert np.asarray(g.manipulation_response).tolist() == [1, 1]
    np.testing.assert_allclose(g.manipulation_margin()[0, 1], 0.15)


def test_a_game_where_manipulation_does_not_pay():
    # the follower's favourite pair (0, 0) already is the Stackelberg equilibrium
    g = games.matrix_game([[0.9, 0.1], [0.2, 0.3]], [[0.9, 0.1], [0.2, 0.8]])
    assert g.stackelberg_equilibrium == (0, 0) == g.best_manipulation
    assert not g.manipulation_pays
    assert games.brute_force_manipulation(g)[0] == 0.9


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="follower_means must have the shape"):
        games.matrix_game(np.zeros((2, 2)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="2-D"):
        games.matrix_game(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        games.matrix_game([[0.5, 1.2]], [[0.1, 0.2]])
    games.matrix_game([[0.5, 1.2]], [[0.1, 0.2]], noise="none")  # fine without Bernoulli draws
    with pytest.raises(ValueError, match="noise must be one of"):
        games.matrix_game([[0.5]], [[0.5]], noise="gauss")
    with pytest.raises(ValueError, match="n_leader must be a positive integer"):
        games.random_game(0, 2)


def _brute_gaps(g):
    """The gaps of Game.gaps() recomputed by loops from their definitions."""
    ml, mf = g.rewards()
    nL, nF = ml.shape

    def second_gap(v):  # best minus second best
        s = sorted(v)
        return s[-1] - s[-2]

    br = [int(np.argmax(mf[a])) for a in range(nL)]
    ws = [min(ml[a]) for a in range(nL)]
    margin = np.array([[ml[a, b] - max(ws[x] for x in range(nL) if x != a) for b in range(nF)] for a in range(nL)])
    value, _ = games.brute_force_manipulation(g)
    bm = g.best_manipulation
    others = [mf[a, b] for a in range(nL) for b in range(nF) if margin[a, b] > 0 and (a, b) != bm]
    tempting = [-margin[a, b] for a in range(nL) for b in range(nF) if margin[a, b] <= 0 and mf[a, b] >= value]
    return {
        "follower_response": min(second_gap(mf[a]) for a in range(nL)),
        "leader_commitment": second_gap([ml[a, br[a]] for a in range(nL)]),
        "leader_worst_response": min(second_gap(-ml[a]) for a in range(nL)),
        "manipulation_margin": margin[bm],
        "manipulation_value": value - max(others) if others else np.inf,
        "unqualified_margin": min(tempting) if tempting else np.inf,
    }


@pytest.mark.parametrize("seed", [0, 3, 11])
def test_gaps_match_their_definitions_and_min_gap_is_the_generators_contract(seed):
    g = games.random_game(3, 3, key=seed)
    got, want = g.gaps(), _brute_gaps(g)
    assert got.keys() == want.keys()
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=0, atol=1e-12, err_msg=k)
    # conditioned draws: every gap >= min_gap, deterministic in the key, and a real restriction
    draws = [games.random_game(4, 4, key=k, min_gap=0.1) for k in range(3)]
    for d in draws:
        assert min(d.gaps().values()) >= 0.1
    again = games.random_game(4, 4, key=1, min_gap=0.1)
    np.testing.assert_array_equal(again.rewards()[0], draws[1].rewards()[0])
    unconditioned = [min(games.random_game(4, 4, key=k).gaps().values()) for k in range(6)]
    assert min(unconditioned) < 0.1  # without the condition small gaps do occur
    with pytest.raises(ValueError, match="min_gap must lie in"):
        games.random_game(2, 2, min_gap=1.0)
    with pytest.raises(ValueError, match="lower min_gap"):
        games.random_game(4, 4, min_gap=0.6, max_draws=50)

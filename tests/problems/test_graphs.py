"""Graph generators and time-varying sequences."""

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from problems import graphs


@pytest.mark.parametrize(
    "g, n, m, degrees",
    [
        (graphs.ring(7), 7, 7, {2}),
        (graphs.path(5), 5, 4, {1, 2}),
        (graphs.star(6), 6, 5, {1, 5}),
        (graphs.complete(5), 5, 10, {4}),
        (graphs.grid(3, 4), 12, 17, {2, 3, 4}),
        (graphs.torus(3, 4), 12, 24, {4}),
        (graphs.hypercube(3), 8, 12, {3}),
        (graphs.exponential(8), 8, 8 * 5 // 2, {5}),  # offsets 1, 2, 4 (4 counted once)
    ],
)
def test_classical_generators(g, n, m, degrees):
    assert g.n == n
    assert g.num_edges == m
    assert set(g.degrees.tolist()) == degrees
    assert g.is_connected()
    assert np.array_equal(g.adjacency, g.adjacency.T)
    assert not g.adjacency.diagonal().any()


def test_hypercube_labels_are_binary_codes():
    g = graphs.hypercube(4)
    for i, j in g.edges:
        assert bin(int(i) ^ int(j)).count("1") == 1


def test_exponential_links_powers_of_two():
    g = graphs.exponential(16)
    offsets = {(int(j) - int(i)) % 16 for i, j in g.edges} | {(int(i) - int(j)) % 16 for i, j in g.edges}
    assert offsets == {1, 2, 4, 8, 15, 14, 12}


def test_graph_is_immutable_value():
    g = graphs.ring(5)
    with pytest.raises(ValueError):
        g.adjacency[0, 1] = False
    assert g == graphs.ring(5) and hash(g) == hash(graphs.ring(5))
    assert g != graphs.path(5)


@settings(deadline=None, max_examples=20)
@given(n=st.sampled_from([6, 10, 20, 40]), seed=st.integers(0, 10_000))
def test_random_generators_are_connected_and_deterministic(n, seed):
    for make in (lambda s: graphs.erdos_renyi(n, 0.25, seed=s), lambda s: graphs.geometric(n, seed=s)):
        g1, g2 = make(seed), make(seed)
        assert g1.is_connected()
        assert g1 == g2


def test_random_generator_raises_when_connectivity_impossible():
    with pytest.raises(graphs.DisconnectedGraphError, match="no connected draw"):
        graphs.erdos_renyi(50, 0.001, seed=1, max_tries=5)


def test_from_networkx_and_from_edges_roundtrip():
    G = nx.petersen_graph()
    g = graphs.from_networkx(G)
    h = graphs.from_edges(10, list(G.edges))
    assert g == h and g.num_edges == 15
    assert nx.is_isomorphic(g.to_networkx(), G)


def test_bad_inputs():
    with pytest.raises(ValueError, match="at least 2 nodes"):
        graphs.ring(1)
    with pytest.raises(ValueError, match="self-loops"):
        graphs.from_edges(3, [(0, 0)])
    with pytest.raises(ValueError, match="symmetric"):
        graphs.Graph(np.triu(np.ones((3, 3), bool), 1))
    with pytest.raises(ValueError, match="endpoints"):
        graphs.from_edges(3, [(0, 5)])
    g = graphs.from_edges(4, [(0, 1), (2, 3)])
    with pytest.raises(graphs.DisconnectedGraphError, match="disconnected"):
        g.require_connected()


def test_relabel_permutes_adjacency():
    g = graphs.path(5)
    perm = [4, 2, 0, 1, 3]
    h = g.relabel(perm)
    for i, j in g.edges:
        assert h.adjacency[perm[i], perm[j]]
    assert h.num_edges == g.num_edges


def test_ring_swaps_changes_four_edges_per_step_and_stays_a_ring():
    seq = graphs.ring_swaps(10, 12)
    assert seq.change_velocity == 4
    assert (seq.edges_changed() == 4).all()
    for t in range(len(seq)):
        g = seq[t]
        assert g.is_connected() and set(g.degrees.tolist()) == {2}


def test_random_edge_activation_subgraphs_and_rate():
    base = graphs.grid(4)
    seq = graphs.random_edge_activation(base, 0.3, 400, seed=3)
    assert not (seq.adjacency & ~base.adjacency).any()
    frac = seq.adjacency.sum() / (2 * base.num_edges * 400)
    assert abs(frac - 0.3) < 0.03  # 9600 Bernoulli(0.3) draws: sd ~ 0.005
    assert seq.change_velocity > 0
    again = graphs.random_edge_activation(base, 0.3, 400, seed=3)
    assert np.array_equal(seq.adjacency, again.adjacency)


def test_markov_switching_follows_transition_matrix():
    gs = [graphs.ring(6), graphs.star(6)]
    P = np.array([[0.9, 0.1], [0.5, 0.5]])
    seq = graphs.markov_switching(gs, P, 4000, seed=0)
    is_ring = np.array([np.array_equal(a, gs[0].adjacency) for a in seq.adjacency])
    # stationary distribution of P: pi_ring = 0.5 / 0.6
    assert abs(is_ring.mean() - 5 / 6) < 0.04
    with pytest.raises(ValueError, match="row-stochastic"):
        graphs.markov_switching(gs, np.ones((2, 2)), 10)


def test_sequence_mixing_is_doubly_stochastic_per_step():
    seq = graphs.random_edge_activation(graphs.ring(8), 0.5, 20, seed=0)
    Ws = seq.mixing()
    assert Ws.shape == (20, 8, 8)
    np.testing.assert_allclose(Ws.sum(axis=2), 1.0, atol=1e-12)
    np.testing.assert_allclose(Ws, Ws.transpose(0, 2, 1))
    assert (Ws >= 0).all()

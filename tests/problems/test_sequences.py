"""Time-varying graph sequences and their weights (problems.graphs / problems.mixing)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from problems import graphs, mixing


def test_sequence_weights_match_the_static_rules_and_the_old_method():
    seq = graphs.random_edge_activation(graphs.ring(8), 0.5, 20, seed=0)
    ms = mixing.sequence_weights(seq)
    assert ms.weights.shape == (20, 8, 8)
    for t in range(20):
        np.testing.assert_array_equal(ms.weights[t], mixing.metropolis_weights(seq.adjacency[t]))
    np.testing.assert_array_equal(seq.mixing(), ms.weights)
    np.testing.assert_allclose(ms.norms, [mixing.slem(W) for W in ms.weights])
    assert ms.product_factors(3)[0] == 1.0
    np.testing.assert_allclose(ms.product_factors(25)[-1], np.prod(ms.norms[np.arange(25) % 20]))


def test_laplacian_weights_have_unit_top_gossip_eigenvalue():
    g = graphs.grid(3)
    W = mixing.laplacian_weights(g.adjacency)
    sp = mixing.spectrum(W)
    assert abs(sp.l_max - 1.0) < 1e-12
    ev = np.linalg.eigvalsh(g.laplacian())
    assert abs(sp.chi - ev[-1] / ev[1]) < 1e-9


@pytest.mark.parametrize("n", [5, 10])
def test_resistance_chis_closed_forms(n):
    # complete graph: L_norm = L / (n(n-1)/2); chi_1 = chi_2 = (n-1)/2 (derived: lambda_2(L) = n,
    # effective resistance of an edge 2/n)
    c = mixing.resistance_chis(graphs.complete(n))
    assert abs(c.chi_1 - (n - 1) / 2) < 1e-9 and abs(c.chi_2 - (n - 1) / 2) < 1e-9
    assert abs(c.rate - math.sqrt(2 * c.chi_1 * c.chi_2)) < 1e-12
    # ring: lambda_2(L) = 2 (1 - cos(2 pi / n)), |E| = n, edge resistance (n-1)/n
    r = mixing.resistance_chis(graphs.ring(n))
    assert abs(r.chi_1 - n / (2 * (1 - math.cos(2 * math.pi / n)))) < 1e-9
    assert abs(r.chi_2 - (n - 1) / 2) < 1e-9
    assert r.chi_2 <= r.chi_1 + 1e-12  # the abstract's chi_2 <= chi_1


def test_resistance_chis_of_a_sequence_is_the_worst_case():
    gs = graphs.markov_switching([graphs.ring(8), graphs.complete(8)], graphs.lazy_transition(2, 0.5), 30, seed=0)
    c = mixing.resistance_chis(gs)
    assert c.chi_1 == mixing.resistance_chis(graphs.ring(8)).chi_1
    with pytest.raises(mixing.DisconnectedGraphError):
        mixing.resistance_chis(graphs.random_edge_activation(graphs.ring(8), 0.3, 10, seed=0))


def test_lazy_transition_and_markov_velocity():
    P = graphs.lazy_transition(4, 0.2)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    assert abs(P[0, 0] - 0.8) < 1e-15
    pool = [graphs.moving_cut(8, [c])[0] for c in range(8)]
    seq = graphs.markov_switching(pool, graphs.lazy_transition(8, 0.1), 3000, seed=1)
    ch = seq.edges_changed()
    assert set(ch.tolist()) <= {0, 2}  # moving the cut changes two edges
    # switching probability 0.1 per step: 2999 Bernoulli draws, sd ~ 0.0055
    assert abs((ch > 0).mean() - 0.1) < 0.025


def test_ring_swaps_every():
    seq = graphs.ring_swaps(8, 30, every=3)
    ch = seq.edges_changed()
    assert (ch[2::3] == 4).all() and (np.delete(ch, np.s_[2::3]) == 0).all()
    assert np.array_equal(graphs.ring_swaps(8, 12).adjacency, graphs.ring_swaps(8, 12, every=1).adjacency)

"""Gossip weights: validity, optimality orderings, closed forms, spectral quantities, errors."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from problems import graphs, mixing

TOL = 1e-6  # SDP solver tolerance in comparisons


def draw_graph(family: str, size: int, seed: int) -> graphs.Graph:
    if family == "ring":
        return graphs.ring(size)
    if family == "path":
        return graphs.path(size)
    if family == "star":
        return graphs.star(size)
    if family == "grid":
        return graphs.grid(max(2, size // 3), 3)
    if family == "erdos_renyi":
        return graphs.erdos_renyi(size, 0.3, seed=seed)
    return graphs.geometric(size, seed=seed)


graph_strategy = st.builds(
    draw_graph,
    st.sampled_from(["ring", "path", "star", "grid", "erdos_renyi", "geometric"]),
    st.sampled_from([5, 8, 12, 16]),
    st.integers(0, 1000),
)

NONNEG_RULES = {"metropolis": mixing.metropolis, "max_degree": mixing.max_degree}


def assert_valid(W, g, nonnegative):
    n = g.n
    assert W.shape == (n, n)
    np.testing.assert_allclose(W, W.T, atol=1e-12)
    np.testing.assert_allclose(W.sum(axis=1), 1.0, atol=1e-9)
    off = ~(g.adjacency | np.eye(n, dtype=bool))
    assert np.abs(W[off]).max(initial=0.0) <= 1e-12
    if nonnegative:
        assert W.min() >= -1e-12


@settings(deadline=None, max_examples=25)
@given(g=graph_strategy)
def test_every_rule_gives_valid_weights_and_optimal_orderings(g):
    Ws = {name: rule(g) for name, rule in NONNEG_RULES.items()}
    Ws["metropolis_hastings"] = mixing.metropolis(g, convention="metropolis_hastings")
    Ws["best_constant"] = mixing.best_constant(g)
    Ws["fmmc"] = mixing.fastest_mixing(g)
    Ws["fdla"] = mixing.fastest_averaging(g)
    for name, W in Ws.items():
        assert_valid(W, g, nonnegative=name not in ("best_constant", "fdla"))
    s = {k: mixing.slem(W) for k, W in Ws.items()}
    assert s["fmmc"] <= s["metropolis"] + TOL
    assert s["fmmc"] <= s["max_degree"] + TOL
    assert s["fmmc"] <= s["metropolis_hastings"] + TOL
    assert s["fdla"] <= s["fmmc"] + TOL
    assert s["fdla"] <= s["best_constant"] + TOL
    alpha_nonneg = np.diag(Ws["best_constant"]).min() >= 0
    if alpha_nonneg:
        assert s["fmmc"] <= s["best_constant"] + TOL
    # best constant is optimal among W = I - alpha L:  slem = (l1 - l_{n-1}) / (l1 + l_{n-1})
    lam = np.linalg.eigvalsh(g.laplacian())
    assert s["best_constant"] == pytest.approx((lam[-1] - lam[1]) / (lam[-1] + lam[1]), abs=1e-10)
    # gossip preserves the average
    x = np.random.default_rng(0).standard_normal((g.n, 3))
    for W in Ws.values():
        np.testing.assert_allclose((W @ x).mean(axis=0), x.mean(axis=0), atol=1e-10)


@settings(deadline=None, max_examples=15)
@given(g=graph_strategy, seed=st.integers(0, 1000))
def test_relabelling_permutes_weights_and_keeps_slem(g, seed):
    perm = np.random.default_rng(seed).permutation(g.n)
    h = g.relabel(perm)
    P = np.eye(g.n)[:, perm]  # P @ e_i = e_{perm[i]}
    for rule in (mixing.metropolis, mixing.max_degree, mixing.best_constant):
        np.testing.assert_allclose(rule(h), P @ rule(g) @ P.T, atol=1e-12)
    for rule in (mixing.fastest_mixing, mixing.fastest_averaging):
        # optimal W need not be unique, the optimal value is
        assert mixing.slem(rule(h)) == pytest.approx(mixing.slem(rule(g)), abs=TOL)


# --- closed forms -------------------------------------------------------------------------
# Uniform weights w on edge-transitive graphs: W = I - w L, eigenvalues 1 - w * lambda(L).
#  * path P_n (Boyd, Diaconis & Xiao 2004): w = 1/2 gives eigenvalues cos(pi k / n): slem cos(pi/n).
#  * even cycle: lambda(L) = 2 - 2 cos(2 pi k/n) in [2 - 2c, 4], c = cos(2 pi/n); balancing
#    1 - w(2 - 2c) = 4w - 1 gives w = 1/(3 - c) <= 1/2 and slem (1 + c)/(3 - c) (FMMC = FDLA).
#  * odd cycle: the most negative eigenvalue is 2 + 2 cos(pi/n); balancing gives
#    slem = 1 - 2(1 - c)/(2 - c + cos(pi/n)) (FMMC; the weight stays <= 1/2).
#  * star S_n (n - 1 leaves): lambda(L) in {0, 1 (x n-2), n}; FMMC needs w <= 1/(n-1) (centre's
#    diagonal), so slem = max(1 - w, |1 - n w|) is minimised at w = 1/(n-1): (n-2)/(n-1).
#    FDLA drops that constraint: w = 2/(n+1), slem (n-1)/(n+1) (= best constant).
#  * hypercube Q_d: lambda(L) = 2k, k = 0..d; w = 1/(d+1) balances 1 - 2w = 2dw - 1: slem (d-1)/(d+1)
#    and satisfies w <= 1/d, so FMMC = FDLA = (d-1)/(d+1).
#  * complete K_n: W = 11^T/n is feasible for both: slem 0.
# Uniform weights are optimal on edge-transitive graphs (and on stars, by their symmetry) because the
# problems are convex and invariant under the automorphism group: averaging an optimal W over the
# group keeps it optimal. Paths are not edge-transitive; their optimum is Boyd et al.'s result.
@pytest.mark.parametrize("n", [4, 7, 12])
def test_closed_form_path(n):
    assert mixing.slem(mixing.fastest_mixing(graphs.path(n))) == pytest.approx(math.cos(math.pi / n), abs=TOL)


@pytest.mark.parametrize("n", [6, 10, 16])
def test_closed_form_even_cycle(n):
    c = math.cos(2 * math.pi / n)
    expect = (1 + c) / (3 - c)
    g = graphs.ring(n)
    assert mixing.slem(mixing.fastest_mixing(g)) == pytest.approx(expect, abs=TOL)
    assert mixing.slem(mixing.fastest_averaging(g)) == pytest.approx(expect, abs=TOL)


@pytest.mark.parametrize("n", [5, 9, 15])
def test_closed_form_odd_cycle(n):
    c = math.cos(2 * math.pi / n)
    expect = 1 - 2 * (1 - c) / (2 - c + math.cos(math.pi / n))
    assert mixing.slem(mixing.fastest_mixing(graphs.ring(n))) == pytest.approx(expect, abs=TOL)


@pytest.mark.parametrize("n", [4, 8, 13])
def test_closed_form_star(n):
    g = graphs.star(n)
    assert mixing.slem(mixing.fastest_mixing(g)) == pytest.approx((n - 2) / (n - 1), abs=TOL)
    assert mixing.slem(mixing.fastest_averaging(g)) == pytest.approx((n - 1) / (n + 1), abs=TOL)
    # best constant beats FMMC on a star (its weights go negative)
    assert mixing.slem(mixing.best_constant(g)) < mixing.slem(mixing.fastest_mixing(g)) - 1e-3


@pytest.mark.parametrize("d", [2, 3, 4])
def test_closed_form_hypercube(d):
    g = graphs.hypercube(d)
    expect = (d - 1) / (d + 1)
    assert mixing.slem(mixing.fastest_mixing(g)) == pytest.approx(expect, abs=TOL)
    assert mixing.slem(mixing.fastest_averaging(g)) == pytest.approx(expect, abs=TOL)


@pytest.mark.parametrize("n", [3, 6])
def test_closed_form_complete(n):
    g = graphs.complete(n)
    for rule in (mixing.fastest_mixing, mixing.fastest_averaging):
        assert mixing.slem(rule(g)) == pytest.approx(0.0, abs=TOL)


def test_metropolis_conventions():
    g = graphs.ring(8)
    W = mixing.metropolis(g)
    assert W[0, 1] == pytest.approx(1 / 3)
    Wmh = mixing.metropolis(g, convention="metropolis_hastings")
    assert Wmh[0, 1] == pytest.approx(1 / 2)
    # periodic on a bipartite regular graph: slem 1, and lazy() repairs it
    assert mixing.slem(Wmh) == pytest.approx(1.0)
    assert mixing.slem(mixing.lazy(Wmh)) < 1.0
    assert mixing.slem(mixing.max_degree(g)) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="convention"):
        mixing.metropolis(g, convention="nope")


# --- spectral quantities -----------------------------------------------------------------
def test_spectral_quantities_on_ring():
    g = graphs.ring(10)
    W = mixing.metropolis(g)  # 1/3 weights: eigenvalues (1 + 2 cos(2 pi k / n)) / 3
    ev = (1 + 2 * np.cos(2 * np.pi * np.arange(10) / 10)) / 3
    lam2, lamn = np.sort(ev)[-2], ev.min()
    assert mixing.lambda2(W) == pytest.approx(lam2)
    assert mixing.lambda_min(W) == pytest.approx(lamn)
    assert mixing.slem(W) == pytest.approx(max(lam2, abs(lamn)))
    assert mixing.spectral_gap(W) == pytest.approx(1 - max(lam2, abs(lamn)))
    assert mixing.chi(W) == pytest.approx((1 - lamn) / (1 - lam2))


@settings(deadline=None, max_examples=10)
@given(g=graph_strategy, eps=st.sampled_from([1e-2, 1e-4, 1e-8]))
def test_consensus_rounds_is_tight(g, eps):
    W = mixing.metropolis(g)
    k = mixing.consensus_rounds(W, eps)
    # worst-case start: the eigenvector of the slem
    ev, V = np.linalg.eigh(W - 1.0 / g.n)
    v = V[:, np.argmax(np.abs(ev))]
    err = lambda k: np.linalg.norm(np.linalg.matrix_power(W, k) @ v)
    assert err(k) <= eps * (1 + 1e-9)
    assert err(k - 1) > eps * (1 - 1e-9)


# --- errors ---------------------------------------------------------------------------------
def test_errors_are_clear():
    disconnected = graphs.from_edges(4, [(0, 1), (2, 3)])
    for rule in (mixing.metropolis, mixing.max_degree, mixing.best_constant, mixing.fastest_mixing, mixing.fastest_averaging):
        with pytest.raises(mixing.DisconnectedGraphError, match="disconnected"):
            rule(disconnected)
    with pytest.raises(TypeError, match="Graph"):
        mixing.metropolis(np.ones((3, 3)))
    g = graphs.ring(5)
    W = mixing.metropolis(g)
    with pytest.raises(mixing.MixingMatrixError, match="symmetric"):
        mixing.check_mixing(W + np.triu(np.full((5, 5), 0.01), 1))
    with pytest.raises(mixing.MixingMatrixError, match="doubly stochastic"):
        mixing.check_mixing(W * 0.9)
    bad = W.copy()
    bad[0, 2] = bad[2, 0] = 0.1
    bad[0, 0] -= 0.1
    bad[2, 2] -= 0.1
    with pytest.raises(mixing.MixingMatrixError, match="not supported"):
        mixing.check_mixing(bad, g)
    with pytest.raises(mixing.MixingMatrixError, match="square"):
        mixing.check_mixing(np.ones((3, 4)) / 4)
    with pytest.raises(mixing.MixingMatrixError, match="n >= 2"):
        mixing.check_mixing(np.ones((1, 1)))
    with pytest.raises(mixing.MixingMatrixError, match="negative"):
        mixing.check_mixing(mixing.best_constant(graphs.star(6)), nonnegative=True)
    with pytest.raises(ValueError, match="does not mix"):
        mixing.consensus_rounds(mixing.max_degree(graphs.ring(6)), 1e-3)

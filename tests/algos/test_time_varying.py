"""Consensus over time-varying networks: sequences in the scan, the product bound, bad inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import algos
import bounds
from algos.consensus.time_varying import adversarial_cuts
from problems import convex, graphs, mixing

N, D, K, T = 10, 2, 120, 60  # every sequence has T snapshots: one compilation per method and run length


def _sequences(seed: int):
    pool = [graphs.moving_cut(N, [c])[0] for c in range(N)]
    static = graphs.GraphSequence(np.broadcast_to(graphs.ring(N).adjacency, (T, N, N)), name="static ring")
    return {
        "static": mixing.sequence_weights(static),
        "markov": mixing.sequence_weights(graphs.markov_switching(pool, graphs.lazy_transition(N, 0.05), T, seed=seed)),
        "activation": mixing.sequence_weights(graphs.random_edge_activation(graphs.grid(2, N // 2), 0.6, T, seed=seed)),
        "ring_swaps": mixing.sequence_weights(graphs.ring_swaps(N, T, seed=seed, every=3)),
        "moving_cut": mixing.sequence_weights(graphs.moving_cut(N, np.arange(T) * 3 % N)),
    }


def _factories(seq):
    kw = {}
    if not seq.connected.all():  # random activation: tune on the expected matrix (our choice, as in the figure)
        sp = mixing.spectrum(seq.weights.mean(axis=0))
        kw = {"spectrum": (sp.lambda_n, sp.lambda_2)}
    return {
        "gossip": lambda p: algos.gossip(p, seq),
        "heavy_ball": lambda p: algos.heavy_ball_gossip(p, seq, check=False, **kw),
        "chebyshev": lambda p: algos.chebyshev_gossip(p, seq, **kw),
    }


def test_every_method_keeps_the_average_on_every_sequence():
    p = convex.averaging(N, D, key=3)
    for kind, seq in _sequences(1).items():
        for name, make in _factories(seq).items():
            state, tr = algos.run(make(p), 0, K)
            X = np.asarray(state.X)
            # round-off relative to the iterates' size (the accelerated methods blow up on activation)
            tol = 1e-12 * max(1.0, float(np.abs(X).max())) * N
            np.testing.assert_allclose(X.mean(axis=0), np.asarray(p.x_star), atol=tol, err_msg=f"{kind}/{name}")


def test_a_static_sequence_is_the_static_method():
    p = convex.averaging(N, D, key=0)
    g = graphs.ring(N)
    W, seq = mixing.metropolis(g), _sequences(0)["static"]
    for static, tv in [
        (algos.gossip(p, W), algos.gossip(p, seq)),
        (algos.heavy_ball_gossip(p, W), algos.heavy_ball_gossip(p, seq)),
        (algos.chebyshev_gossip(p, W), algos.chebyshev_gossip(p, seq)),
    ]:
        _, a = algos.run(static, 0, K)
        _, b = algos.run(tv, 0, K)
        assert tv.name == static.name + "_tv"
        np.testing.assert_allclose(np.asarray(b.consensus_error), np.asarray(a.consensus_error), rtol=1e-10, atol=1e-15)


def test_step_t_uses_snapshot_t_mod_T():
    p = convex.averaging(N, D, key=1)
    seq = _sequences(2)["markov"]
    _, tr = algos.run(algos.gossip(p, seq), 0, K)
    X = np.asarray(p.data["b"])
    errs = [X]
    for t in range(K):
        X = seq.weights[t % seq.num_steps] @ X
        errs.append(X)
    want = [math.sqrt(np.mean(np.sum((x - x.mean(0)) ** 2, axis=1))) for x in errs]
    np.testing.assert_allclose(np.asarray(tr.consensus_error), want, rtol=1e-10)


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 10_000), kind=st.sampled_from(["markov", "activation", "ring_swaps", "moving_cut"]),
       rule=st.sampled_from(["metropolis", "max_degree", "laplacian"]))  # fmt: skip
def test_product_bound_holds_run_by_run_on_drawn_sequences(seed, kind, rule):
    rng = np.random.default_rng(seed)
    if kind == "markov":
        pool = [graphs.erdos_renyi(N, 0.4, seed=int(s)) for s in rng.integers(1000, size=3)]
        gs = graphs.markov_switching(pool, graphs.lazy_transition(3, float(rng.uniform(0, 1))), T, seed=seed)
    elif kind == "activation":
        gs = graphs.random_edge_activation(graphs.complete(N), float(rng.uniform(0.05, 0.9)), T, seed=seed)
    elif kind == "ring_swaps":
        gs = graphs.ring_swaps(N, T, seed=seed, every=int(rng.integers(1, 5)))
    else:
        gs = graphs.moving_cut(N, rng.integers(N, size=T))
    seq = mixing.sequence_weights(gs, rule)
    p = convex.averaging(N, D, key=seed)
    algo = algos.gossip(p, seq)
    _, tr = algos.run(algo, seed, K)
    rep = bounds.compare(tr, bounds.gossip_product(algo), algo=algo)
    assert rep.holds, rep.message


def test_the_product_check_can_fail():
    """A bound with each factor shrunk by 10% must be flagged on a run that follows the true one."""
    seq = _sequences(0)["markov"]
    p = convex.averaging(N, D, key=0)
    algo = algos.gossip(p, seq)
    _, tr = algos.run(algo, 0, K)
    b = bounds.gossip_product(algo)
    shrunk = b.__class__(**{**b.__dict__, "envelope": lambda k, ref: b.envelope(k, ref) * 0.9 ** np.asarray(k)})
    assert bounds.compare(tr, shrunk).holds is False
    assert bounds.compare(tr, b).holds is True


def test_adversarial_cuts_change_two_edges_and_break_acceleration():
    n, steps = N, K
    p = convex.averaging(n, D, key=5)
    x0 = np.asarray(p.data["b"])
    cuts = adversarial_cuts(n, steps, x0, "heavy_ball")  # a sequence of length K (one more compilation)
    gs = graphs.moving_cut(n, cuts)
    assert set(gs.edges_changed().tolist()) <= {0, 2}
    seq = mixing.sequence_weights(gs)
    assert np.ptp(seq.l_min) < 1e-12 and np.ptp(seq.l_max) < 1e-12  # every snapshot is a path: one spectrum
    _, hb = algos.run(algos.heavy_ball_gossip(p, seq), 0, steps)
    _, plain = algos.run(algos.gossip(p, seq), 0, steps)
    hb_err = np.asarray(hb.consensus_error)
    last = hb_err[np.isfinite(hb_err)][-1]
    assert last > np.asarray(plain.consensus_error)[-1]  # no faster than plain gossip here
    # on the static path, heavy ball is much faster than plain gossip
    path = mixing.sequence_weights(graphs.GraphSequence(np.broadcast_to(graphs.path(n).adjacency, (steps, n, n))))
    _, hb_s = algos.run(algos.heavy_ball_gossip(p, path), 0, steps)
    _, pl_s = algos.run(algos.gossip(p, path), 0, steps)
    assert np.asarray(hb_s.consensus_error)[-1] < 1e-6 * np.asarray(pl_s.consensus_error)[-1]


def test_bad_inputs_name_the_argument():
    p = convex.averaging(N, D, key=0)
    wrong = mixing.sequence_weights(graphs.ring(N + 2))
    with pytest.raises(ValueError, match="nodes"):
        algos.gossip(p, wrong)
    disconnected = mixing.sequence_weights(graphs.random_edge_activation(graphs.ring(N), 0.3, 20, seed=0))
    with pytest.raises(mixing.DisconnectedGraphError, match="spectrum="):
        algos.heavy_ball_gossip(p, disconnected)
    with pytest.raises(mixing.DisconnectedGraphError, match="spectrum="):
        algos.chebyshev_gossip(p, disconnected)
    with pytest.raises(ValueError, match="velocity"):
        graphs.lazy_transition(3, -0.1)
    with pytest.raises(ValueError, match="cuts"):
        graphs.moving_cut(N, [N])
    with pytest.raises(ValueError, match="every"):
        graphs.ring_swaps(N, 10, every=0)
    with pytest.raises(ValueError, match="gossip_tv"):
        bounds.gossip_product(algos.gossip(p, mixing.metropolis(graphs.ring(N))))
    with pytest.raises(mixing.MixingMatrixError, match="step 1"):
        mixing.MixingSequence(np.stack([np.eye(N), np.eye(N) * 2]))

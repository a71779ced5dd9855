"""The alpha-beta runtime model (bounds.runtime) against schedules and runs it is derived from."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bounds import runtime
from problems import convex


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 24),
    nbytes=st.floats(0.0, 1e9),
    latency=st.floats(0.0, 1e-3),
    bandwidth=st.floats(1e6, 1e11),
)
def test_ring_allreduce_formula_is_its_schedule(n, nbytes, latency, bandwidth):
    net = runtime.Network(latency, bandwidth)
    t_sim, out = runtime.simulate_ring_allreduce(net, n, nbytes, seed=n)
    assert t_sim == pytest.approx(runtime.ring_allreduce_time(net, n, nbytes), rel=1e-12, abs=1e-300)
    assert out.shape[0] == n


def test_tree_and_gossip_counts():
    net = runtime.Network(2e-6, 1e9)
    m = 1e6
    one = 2e-6 + 1e-3
    assert runtime.tree_allreduce_time(net, 2, m) == pytest.approx(2 * one)
    assert runtime.tree_allreduce_time(net, 5, m) == pytest.approx(6 * one)  # ceil(log2 5) = 3 levels, up and down
    assert runtime.tree_allreduce_time(net, 1, m) == 0.0
    assert runtime.gossip_round_time(net, 3, m, "sequential") == pytest.approx(3 * one)
    assert runtime.gossip_round_time(net, 3, m, "concurrent") == pytest.approx(2e-6 + 3e-3)
    assert runtime.allreduce_time(net, 64, m) == min(runtime.ring_allreduce_time(net, 64, m), runtime.tree_allreduce_time(net, 64, m))


@settings(max_examples=10, deadline=None)
@given(key=st.integers(0, 2**16), kappa=st.floats(1.5, 50.0))
def test_centralized_gd_rate_is_attained(key, kappa):
    """GD with step 2/(lo + hi) on the average Hessian: the error along its extreme eigenvectors
    shrinks by exactly (kappa - 1)/(kappa + 1) per step (the rate is the instance's, not a bound's slack)."""
    p = convex.quadratic(4, 3, L=kappa, mu=1.0, key=key)
    b = runtime.centralized_gd(p)
    A = np.asarray(p.summary["A_bar"])
    ev, V = np.linalg.eigh(A)
    step = b.params["step_size"]
    e = V[:, 0] + V[:, -1]
    for _ in range(20):
        e = e - step * (A @ e)
    assert np.linalg.norm(e) / math.sqrt(2) == pytest.approx(b.instance_rate**20, rel=1e-9)
    assert runtime.iterations(b, 1e-6) == pytest.approx(math.log(1e-6) / math.log(b.instance_rate))


def test_speedup_is_the_ratio_of_times():
    p = convex.quadratic(4, 3, L=10.0, mu=1.0, key=0)
    c = runtime.centralized_gd(p)
    net = runtime.Network(1e-5, 1e10)
    r = runtime.decentralized_vs_allreduce(c, c, net, n=4, degree=2, nbytes=1e3, eps=1e-4, rounds_per_step=2.0)
    k = runtime.iterations(c, 1e-4)
    assert r["time_decentralized"] == pytest.approx(k * 2 * runtime.gossip_round_time(net, 2, 1e3))
    assert r["time_centralized"] == pytest.approx(k * runtime.allreduce_time(net, 4, 1e3))
    assert r["speedup"] == pytest.approx(r["time_centralized"] / r["time_decentralized"])


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: runtime.Network(-1.0, 1e9), "Network.latency"),
        (lambda: runtime.Network(1e-6, 0.0), "Network.bandwidth"),
        (lambda: runtime.Network(float("nan"), 1e9), "Network.latency"),
        (lambda: runtime.gossip_round_time(runtime.Network(0, 1), 2.0, 1.0), "degree"),
        (lambda: runtime.gossip_round_time(runtime.Network(0, 1), 2, 1.0, "broadcast"), "mode"),
        (lambda: runtime.ring_allreduce_time(runtime.Network(0, 1), 0, 1.0), "n must be"),
        (lambda: runtime.ring_allreduce_time(runtime.Network(0, 1), 4, -1.0), "nbytes"),
        (lambda: runtime.iterations(runtime.centralized_gd(convex.quadratic(4, 3, key=0)), 2.0), "eps"),
        (lambda: runtime.centralized_gd(convex.logistic(4, 3, key=0)), "constant average Hessian"),
    ],
)
def test_bad_inputs_name_the_argument(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()

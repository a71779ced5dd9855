"""``bounds.dadao_second_moment``: the exact second-moment recursion of DADAO's event chain against the
Monte-Carlo mean of the kernel's own runs (two-sided, CLT), its sensitivity (the recursion of another
configuration is rejected by the same test), the bound judged by ``compare``, and its refusals."""

import jax
import numpy as np
import pytest
from scipy.stats import norm

import algos
import bounds
from bounds.convex.dadao_moments import DadaoMoments
from problems import convex, graphs

jax.config.update("jax_enable_x64", True)

P = convex.quadratic(4, 2, L=5.0, mu=1.0, key=0)
B, K, EVERY = 1000, 300, 30


def _mc(algo):
    _, tr = jax.vmap(lambda k: algos.run(algo, k, K, record_every=EVERY))(jax.random.split(jax.random.key(0), B))
    V = np.asarray(tr.sq_dist_to_opt)
    return np.arange(V.shape[1]) * EVERY, V.mean(0), V.std(0, ddof=1) / np.sqrt(B)


def test_exact_second_moment_equals_the_monte_carlo_mean_both_ways():
    algo = algos.dadao(P, graphs.ring(4))
    mom = DadaoMoments(algo)
    steps, mean, se = _mc(algo)
    exact = mom.expected(steps)
    assert abs(exact[0] - mean[0]) <= 1e-12 * exact[0]  # the deterministic start
    z = norm.isf(1e-3 / (2 * (len(steps) - 1)))  # two-sided, Bonferroni over the recorded steps
    dev = np.abs(mean[1:] - exact[1:]) / se[1:]
    assert np.all(dev <= z), dev  # measured max 2.7 standard errors (4000 runs, 400 events)
    # sensitive: the recursion of another configuration (half the gossip intensity) is rejected
    other = DadaoMoments(algos.dadao(P, graphs.ring(4), lamb_mix=0.5 * algo.hparams["lamb_mix"]))
    assert np.max(np.abs(mean[1:] - other.expected(steps)[1:]) / se[1:]) > 2 * z
    assert 0.0 < mom.rate < 1.0


def test_second_moment_bound_is_judged_on_a_batch():
    algo = algos.dadao(P, graphs.ring(4))
    b = bounds.dadao_second_moment(algo)
    assert b.kind == "explicit" and b.statistic == "mean" and b.metric == "sq_dist_to_opt"
    _, tr = jax.vmap(lambda k: algos.run(algo, k, 1500, record_every=50))(jax.random.split(jax.random.key(1), 64))
    rep = bounds.compare(tr, b, algo=algo)
    assert rep.holds is True, str(rep)
    # a run of a slower configuration (gradient events ten times rarer) against this bound: FINDING
    slow = algos.dadao(P, graphs.ring(4), lamb_grad=0.4)
    _, tr_slow = jax.vmap(lambda k: algos.run(slow, k, 1500, record_every=50))(jax.random.split(jax.random.key(1), 64))
    bad = bounds.compare(tr_slow, b)
    assert bad.holds is False and "FINDING" in bad.message, str(bad)


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda: algos.dadao(convex.quadratic(5, 2, L=5.0, mu=1.0, key=0), graphs.ring_swaps(5, num_steps=3, seed=0)),
         "static graph"),
        (lambda: algos.dadao(convex.quadratic(4, 2, L=5.0, mu=1.0, key=0, sigma=0.1), graphs.ring(4)), "noise"),
        (lambda: algos.dadao(convex.quadratic(12, 2, L=5.0, mu=1.0, key=0), graphs.ring(12)), "exceeds"),
    ],
)
def test_refusals(make, words):
    with pytest.raises(ValueError, match=words):
        bounds.dadao_second_moment(make())
    with pytest.raises(TypeError, match="algos.dadao"):
        bounds.dadao_second_moment(algos.extra(P, np.eye(4) * 0.5 + 0.5 / 4))

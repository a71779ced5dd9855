"""The run engine: determinism, vmap, compilation cache, divergence, pluggable metrics."""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import algos
from algos import _core
from problems import convex, graphs, mixing

N, D = 8, 3
W = mixing.metropolis(graphs.ring(N))


def problem(seed=0, kappa=10.0, sigma=0.5):
    return convex.quadratic(N, D, L=kappa, mu=1.0, key=seed, sigma=sigma)


def test_same_key_same_trace_bit_for_bit_and_keys_matter():
    algo = algos.dsgd(problem(), W)
    _, t1 = algos.run(algo, key=3, num_steps=200)
    _, t2 = algos.run(algo, key=3, num_steps=200)
    _, t3 = algos.run(algo, key=4, num_steps=200)
    for f in ("dist_to_opt", "consensus_error", "suboptimality"):
        assert np.array_equal(np.asarray(t1[f]), np.asarray(t2[f]))
    assert not np.array_equal(np.asarray(t1.dist_to_opt), np.asarray(t3.dist_to_opt))


def test_vmap_over_keys_equals_python_loop():
    algo = algos.dsgd(problem(), W)
    keys = jax.random.split(jax.random.PRNGKey(0), 4)
    batched = jax.vmap(lambda k: algos.run(algo, k, 100)[1].dist_to_opt)(keys)
    looped = np.stack([np.asarray(algos.run(algo, k, 100)[1].dist_to_opt) for k in keys])
    np.testing.assert_allclose(np.asarray(batched), looped, rtol=1e-12, atol=1e-14)


def test_vmap_over_step_sizes_equals_python_loop():
    p = problem(sigma=0.0)
    alphas = jnp.array([0.01, 0.03, 0.05])
    batched = jax.vmap(lambda a: algos.run(algos.extra(p, W, a), 0, 150)[1].dist_to_opt)(alphas)
    looped = np.stack([np.asarray(algos.run(algos.extra(p, W, float(a)), 0, 150)[1].dist_to_opt) for a in alphas])
    np.testing.assert_allclose(np.asarray(batched), looped, rtol=1e-11, atol=1e-14)


def test_no_recompilation_for_new_instance_of_same_shapes():
    algos.run(algos.nids(problem(seed=0, kappa=5.0), W), 0, 50)
    before = _core._run_impl._cache_size()
    algos.run(algos.nids(problem(seed=1, kappa=20.0), W), 1, 50)
    assert _core._run_impl._cache_size() == before


def test_divergence_is_flagged_and_work_stops():
    p = problem(sigma=0.0)
    algo = algos.dgd(p, W, step_size=5.0, check=False)  # far beyond (1 + lambda_n)/L
    _, tr = algos.run(algo, 0, 2000)
    assert bool(tr.diverged)
    k = int(tr.diverged_at)
    assert 0 < k < 2000
    d = np.asarray(tr.dist_to_opt)
    # metrics may overflow to inf a few steps before the state itself does; from the flagged
    # step on they are NaN
    assert np.isfinite(d[:10]).all() and np.isnan(d[k + 1 :]).all()
    grads = np.asarray(tr.gradient_calls)
    assert grads[-1] <= k + 1  # costs stop accumulating once the run is frozen
    _, ok = algos.run(algos.dgd(p, W), 0, 100)
    assert not bool(ok.diverged) and int(ok.diverged_at) == -1


def test_record_every_subsamples_the_full_trace():
    algo = algos.gradient_tracking(problem(sigma=0.0), W)
    _, full = algos.run(algo, 0, 300)
    _, sub = algos.run(algo, 0, 300, record_every=30)
    assert sub.dist_to_opt.shape == (10,)
    np.testing.assert_allclose(np.asarray(sub.dist_to_opt), np.asarray(full.dist_to_opt)[29::30], rtol=1e-12)
    np.testing.assert_allclose(np.asarray(sub.communications), np.asarray(full.communications)[29::30])
    assert list(sub.steps[:2]) == [30, 60]
    with pytest.raises(ValueError, match="multiple"):
        algos.run(algo, 0, 301, record_every=30)


def test_costs_are_cumulative_per_node():
    algo = algos.gradient_tracking(problem(sigma=0.0), W)
    _, tr = algos.run(algo, 0, 40)
    np.testing.assert_allclose(np.asarray(tr.gradient_calls), np.arange(1, 41))
    np.testing.assert_allclose(np.asarray(tr.communications), 2.0 * np.arange(1, 41))  # X and Y per step
    np.testing.assert_allclose(np.asarray(tr.floats_sent), 2.0 * D * np.arange(1, 41))
    np.testing.assert_allclose(np.asarray(tr.bits_sent), 64 * 2.0 * D * np.arange(1, 41))  # float64 run
    with pytest.raises(AttributeError, match="records"):
        tr.regret


# --- the engine serves other families unchanged: a toy online learner with its own metrics ----
class _OState(NamedTuple):
    x: jax.Array  # (n,)
    regret: jax.Array  # ()


class _OInfo(NamedTuple):
    cost: _core.Cost
    loss: jax.Array


def _online_build(params):
    target, lr = params["target"], params["lr"]

    def init(key):
        return _OState(jnp.zeros_like(target), jnp.zeros(()))

    def step(key, s):
        y = target + jax.random.normal(key, target.shape)
        loss = 0.5 * jnp.sum((s.x - y) ** 2)
        best = 0.5 * jnp.sum((target - y) ** 2)
        return _OState(s.x - lr * (s.x - y), s.regret + loss - best), _OInfo(_core.Cost(grads=1.0), loss)

    return init, step


def _online_metrics(params, state, info):
    return {"regret": state.regret, "loss": info.loss}


def test_pluggable_metrics_serve_another_family():
    params = {"target": jnp.ones(4), "lr": 0.1}
    algo = _core.make_algorithm(_online_build, params, _online_metrics, "toy_online")
    _, tr = algos.run(algo, 0, 500)
    assert set(tr.fields) >= {"regret", "loss", "gradient_calls", "communications"}
    r = np.asarray(tr.regret)
    assert r.shape == (500,) and np.isfinite(r).all()
    assert r[-1] < 0.2 * 500  # regret grows sublinearly relative to the horizon here
    assert np.asarray(tr.communications)[-1] == 0.0


# --- structured gossip: a GossipOperator in place of the dense W gives the same run ----------
@pytest.mark.parametrize("name", ["dgd", "dsgd", "extra", "nids", "exact_diffusion", "gradient_tracking"])
def test_structured_gossip_operator_gives_the_same_trace(name):
    from algos import _gossip

    p = problem(sigma=0.3)
    op = _gossip.circulant(W)  # Metropolis weights on a ring are shift invariant: W X = sum of rolls
    factory = getattr(algos, name)
    _, dense = algos.run(factory(p, W), 0, 200)
    _, structured = algos.run(factory(p, op), 0, 200)
    np.testing.assert_allclose(np.asarray(structured.dist_to_opt), np.asarray(dense.dist_to_opt), rtol=1e-9, atol=1e-13)
    edge_op = _gossip.edges(W)
    _, by_edges = algos.run(factory(p, edge_op), 0, 200)
    np.testing.assert_allclose(np.asarray(by_edges.dist_to_opt), np.asarray(dense.dist_to_opt), rtol=1e-9, atol=1e-13)

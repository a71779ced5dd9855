"""The NumPy baselines of the ``numpy`` benchmark run ratebench's iterations: final iterates and every
recorded metric agree with ratebench's trace to rounding, for all twelve classical methods.

This is what makes the benchmark's timing comparison a comparison of the same computation.

Tolerance: ``rtol = 1e-9`` pointwise, plus ``atol = 1e-12`` times the largest recorded value of the
same quantity. The absolute part is needed and is not a loosening to make a failure pass: a
metric that converges to 0 is a difference of nearly equal numbers (``x_i - x_bar`` once Chebyshev
gossip has reached consensus at ~1e-16; ``f(x_bar) - f*`` on the logistic problem, whose ``f*`` is
O(1)), so its rounding error is O(eps) times the size of the numbers subtracted, not times its own
value; two correct implementations that round differently disagree there in the leading digit.
Measured with this file's setting (60 steps, n = 8, all 20 cases): the largest error
of the final iterate or a metric relative to that quantity's largest recorded value is 6.7e-15; the
largest pointwise relative error over the values above 1e-6 of that largest value is 7.7e-10
(OPAPC on logistic: ``f(x_bar) - f*`` where it is ~1e-6 of its start).
"""

from __future__ import annotations

import numpy as np
import pytest

import algos
from benchmarks import numpy_baselines as nb
from benchmarks.run import FACTORIES, NUMPY_ALGOS
from problems import convex, graphs, mixing

N, STEPS = 8, 60


@pytest.fixture(scope="module")
def setting():
    W = mixing.metropolis(graphs.ring(N))
    problems = {
        "quadratic": convex.quadratic(N, 4, key=0),
        # Gaussian noise with sigma = 0: D-SGD's noise term is 0 * xi in both implementations
        "logistic": convex.logistic(N, 5, samples_per_node=10, key=0, noise="gaussian", sigma=0.0),
        "averaging": convex.averaging(N, 4, key=0),
    }
    return W, problems


CASES = [(m, "averaging") for m in nb.CONSENSUS] + [
    (m, k) for m in nb.CONVEX for k in ("quadratic", "logistic") if not (m in nb.NEEDS_CONJUGATE and k == "logistic")
]


def _close(actual, expected, what):
    expected = np.asarray(expected)
    np.testing.assert_allclose(np.asarray(actual), expected, rtol=1e-9, atol=1e-12 * np.max(np.abs(expected)), err_msg=what)


def test_every_method_has_a_baseline():
    assert set(nb.METHODS) == set(NUMPY_ALGOS) and len(NUMPY_ALGOS) == 12
    assert {m for m, _ in CASES} == set(NUMPY_ALGOS)


@pytest.mark.parametrize("name,kind", CASES)
def test_baseline_matches_ratebench_trace(setting, name, kind):
    W, problems = setting
    p = problems[kind]
    a = FACTORIES[name](p, W)
    hp, X0 = nb.inputs(a)
    state, trace = algos.run(a, 0, STEPS, record_every=1)
    X, rec = nb.run(name, nb.NumpyProblem(p), W, hp, STEPS, record_every=1, X0=X0)
    # the same metrics as the trace records (every field but the costs)
    assert set(rec) == set(trace.fields) - set(trace.cost_fields) - {"bits_sent"}
    assert not trace.diverged
    _close(state.X, X, f"{name} on {kind}: final X")
    for k, v in rec.items():
        assert v.shape == (STEPS + 1,)
        _close(getattr(trace, k), v, f"{name} on {kind}: {k}")


def test_record_every_cadence(setting):
    W, problems = setting
    p = problems["quadratic"]
    a = FACTORIES["dgd"](p, W)
    hp, X0 = nb.inputs(a)
    _, trace = algos.run(a, 0, STEPS, record_every=5)
    _, rec = nb.run("dgd", nb.NumpyProblem(p), W, hp, STEPS, record_every=5, X0=X0)
    for k, v in rec.items():
        assert v.shape == (STEPS // 5 + 1,)
        _close(getattr(trace, k), v, f"dgd record_every=5: {k}")


def test_minibatch_gradient_on_ratebench_indices():
    """D-SGD on the default logistic problem (minibatch noise): NumPy's minibatch gradient equals
    ``Problem.stoch_grad`` on the same sample indices (the draw itself is random in both)."""
    import jax

    p = convex.logistic(N, 5, samples_per_node=10, key=0, batch_size=3)
    X = np.random.default_rng(1).standard_normal((N, 5))
    key = jax.random.PRNGKey(7)
    idx = np.asarray(jax.random.randint(key, (N, 3), 0, 10))  # what stoch_grad draws from this key
    _close(p.stoch_grad(key, X), nb.NumpyProblem(p).minibatch_grad(X, idx), "minibatch gradient")
    g = nb.NumpyProblem(p).stoch_grad(np.random.default_rng(0), X)
    assert g.shape == (N, 5) and np.all(np.isfinite(g))


def test_msda_needs_the_conjugate(setting):
    W, problems = setting
    with pytest.raises(NotImplementedError, match="conjugate"):
        FACTORIES["msda"](problems["logistic"], W)
    with pytest.raises(NotImplementedError, match="conjugate"):
        nb.NumpyProblem(problems["logistic"]).conj_grad(np.zeros((N, 5)))


def test_unknown_method_is_named():
    with pytest.raises(ValueError, match="no NumPy baseline for 'adom'"):
        nb.metric_names("adom")

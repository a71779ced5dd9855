"""Every public algorithm has a ``bounds.<its name>``; for the families whose bounds carry other names it
returns the first registered bound that covers the run's configuration, or says why none does."""

import inspect

import jax
import pytest

import algos
import bounds
from bounds._per_method import PER_METHOD
from problems import bandits, convex, graphs, mixing

jax.config.update("jax_enable_x64", True)

NOT_ALGORITHMS = {"make_algorithm", "run", "enable_compilation_cache", "skewed_participation"}


def test_every_public_algorithm_has_a_bound_named_after_it():
    methods = [n for n in algos.__all__ if callable(getattr(algos, n)) and not inspect.isclass(getattr(algos, n))]
    missing = [n for n in methods if n not in NOT_ALGORITHMS and not callable(getattr(bounds, n, None))]
    assert not missing, missing
    for name, makers in PER_METHOD.items():
        assert name in methods
        for m in makers:
            assert callable(m) or callable(getattr(bounds, m, None)), (name, m)


def test_dispatch_picks_the_run_by_run_bound_and_explains_refusals():
    p = bandits.heterogeneous_mab(4, 1, 8, 0, means=[[0.9, 0.5, 0.4, 0.3, 0.2, 0.1, 0.35, 0.15]], r=1)
    assert bounds.gosine(algos.gosine(p)).name == "anchored_regret"
    assert bounds.ucb(algos.ucb(p)).name == "ucb1"
    q = convex.quadratic(5, 2, L=10.0, mu=1.0, key=3)
    W = mixing.metropolis(graphs.ring(5))
    b = bounds.dfedavg(algos.dfedavg(q, W))
    assert b.kind == "instance" and b.method == "dfedavg"
    with pytest.raises(ValueError, match="no bound covers.*instance: .*not affine"):
        bounds.dfedsam(algos.dfedsam(q, W))  # rho > 0: the SAM step is not affine
    with pytest.raises(TypeError, match="bounds.gosine takes the run's algorithm from algos.gosine"):
        bounds.gosine(algos.ucb(p))

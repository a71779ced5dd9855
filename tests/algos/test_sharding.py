"""``algos.run(..., mesh=)``: the node axis split over 8 (host) devices gives the unsharded trace.

The check runs in a fresh process (``_sharding_check.py``): the number of host devices is fixed
when XLA starts. Every method of ``algos`` runs with a structured ring operator (rolls, which the
SPMD partitioner must turn into neighbour exchange: collective permutes and no all-gather of the
iterates), and two with the dense matrix (a sharded product, which gathers the iterates).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

import algos
from problems import convex, graphs, mixing

METHODS = ("dgd", "dsgd", "extra", "nids", "exact_diffusion", "gradient_tracking", "msda", "apapc", "opapc",
           "gossip", "chebyshev_gossip", "heavy_ball_gossip")  # fmt: skip
SCRIPT = Path(__file__).with_name("_sharding_check.py")


DENSE = ("extra", "gradient_tracking")


@pytest.fixture(scope="module")
def checked():
    runs = [f"{m}/structured" for m in METHODS] + [f"{m}/dense" for m in DENSE]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SCRIPT.parents[2]), os.environ.get("PYTHONPATH", "")])}
    env.pop("XLA_FLAGS", None)
    out = subprocess.run([sys.executable, str(SCRIPT), ",".join(runs), "gossip/structured,extra/dense"],
                         capture_output=True, text=True, env=env, timeout=900)  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_public_methods_are_all_checked():
    assert set(METHODS) <= set(algos.__all__)


def test_sharded_traces_equal_unsharded(checked):
    assert checked["devices"] == 8
    for name in METHODS:
        row = checked["runs"][f"{name}/structured"]
        assert row["state_devices"] == 8, (name, row)
        assert row["max_rel_diff"] <= 1e-12, (name, row)
    ring = checked["runs"]["gossip/structured"]
    assert ring["collective_permute"] and not ring["all_gather"], ring


def test_dense_gossip_is_a_sharded_product(checked):
    for name in DENSE:
        assert checked["runs"][f"{name}/dense"]["max_rel_diff"] <= 1e-12
    assert checked["runs"]["extra/dense"]["all_gather"]


def test_mesh_argument_errors():
    p = convex.quadratic(6, 2, key=0)
    a = algos.extra(p, mixing.metropolis(graphs.ring(6)))
    with pytest.raises(TypeError, match="mesh must be a jax.sharding.Mesh"):
        algos.run(a, 0, 10, mesh="nodes")
    mesh = jax.sharding.Mesh(np.array(jax.devices()[:1]), ("x",))
    with pytest.raises(ValueError, match="axis named 'nodes'"):
        algos.run(a, 0, 10, mesh=mesh)
    one = jax.sharding.Mesh(np.array(jax.devices()[:1]), ("nodes",))
    _, t1 = algos.run(a, 0, 10, mesh=one)
    _, t0 = algos.run(a, 0, 10)
    np.testing.assert_allclose(np.asarray(t1.dist_to_opt), np.asarray(t0.dist_to_opt), rtol=1e-13)

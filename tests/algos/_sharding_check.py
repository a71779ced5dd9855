"""Run by test_sharding.py in a fresh process with 8 host devices (the XLA flag must be set
before JAX starts). Prints one JSON line: per method and gossip form, the largest relative
difference between the sharded and unsharded traces, and which collectives the compiled
sharded program contains."""

import json
import os
import sys

os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"

import jax  # noqa: E402
import numpy as np  # noqa: E402

jax.config.update("jax_enable_x64", True)

import algos  # noqa: E402
from algos import _core, _gossip  # noqa: E402
from problems import convex, graphs, mixing  # noqa: E402

N, D, STEPS, EVERY = 16, 3, 60, 20
RUNS = [tuple(r.split("/")) for r in sys.argv[1].split(",")]  # "method/form", form: dense | structured
HLO = set(sys.argv[2].split(",")) if len(sys.argv) > 2 else set()  # runs whose compiled program is inspected


def build(name, p, Wp):
    x0 = np.random.default_rng(1).standard_normal((N, D))
    if name == "msda":
        return algos.msda(p, Wp)
    return getattr(algos, name)(p, Wp, x0=x0)


def main():
    devices = jax.devices()
    mesh = jax.sharding.Mesh(np.array(devices[:8]), ("nodes",))
    W = mixing.metropolis(graphs.ring(N))
    out = {"devices": len(devices), "runs": {}}
    for name, form in RUNS:
        p = convex.averaging(N, D, key=0) if "gossip" in name else convex.quadratic(N, D, L=5.0, mu=1.0, key=0)
        Wp = _gossip.from_matrix(W) if form == "structured" else W
        a = build(name, p, Wp)
        _, t0 = algos.run(a, 0, STEPS, record_every=EVERY)
        s1, t1 = algos.run(a, 0, STEPS, record_every=EVERY, mesh=mesh)
        diff = 0.0
        for f in t0.fields:
            x, y = np.asarray(getattr(t0, f)), np.asarray(getattr(t1, f))
            scale = max(np.max(np.abs(x)), 1e-300)
            diff = max(diff, float(np.max(np.abs(x - y)) / scale))
        X = jax.tree_util.tree_leaves(s1)[0]
        row = {"max_rel_diff": diff, "state_devices": len(X.sharding.device_set)}
        if f"{name}/{form}" in HLO:
            params, shard = _core._shard_params(a, mesh)
            hlo = _core._run_impl.lower(a.build, a.metrics, a.finite, params, np.uint32(0), STEPS // EVERY, EVERY,
                                        shard=shard).compile().as_text()  # fmt: skip
            row.update({"collective_permute": "collective-permute" in hlo, "all_gather": "all-gather" in hlo})
        out["runs"][f"{name}/{form}"] = row
    print(json.dumps(out))


main()

"""Weak scaling of sharded runs: nodes per device fixed, devices 1, 2, 4, 8 (issue 15 section 3).

``python -m benchmarks.sharding [--per-device 64] [--dim 100] [--steps 200] [--out FILE]``

Runs in one process with 8 XLA host devices (``--xla_force_host_platform_device_count=8``, set
before JAX starts). For each device count ``D``: EXTRA on a quadratic with ``n = per_device * D``
nodes, ring topology as a structured operator (rolls: neighbour exchange), recorded every step,
``algos.run(..., mesh=Mesh(devices[:D], ("nodes",)))``; wall time per step (median of repeats,
the device counts interleaved). On a CPU the "devices" share the machine's cores, so this measures
the partitioned program's overhead, not the speed-up of real devices: on 2 cores the ideal is
time growing like ``n / min(D, cores)``. The numbers name the machine.
"""

from __future__ import annotations

import argparse
import json
import os

os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-device", type=int, default=64)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)

    import jax
    import numpy as np

    from benchmarks._common import interleaved, machine, median, setup_jax

    setup_jax(None)
    import algos
    from problems import convex, graphs, mixing

    devs = jax.devices()
    counts = [c for c in (1, 2, 4, 8) if c <= len(devs)]
    runs = {}
    for c in counts:
        n = args.per_device * c
        p = convex.quadratic(n, args.dim, L=10.0, mu=1.0, key=0)
        a = algos.extra(p, algos.operators.from_matrix(mixing.metropolis(graphs.ring(n))))
        mesh = jax.sharding.Mesh(np.array(devs[:c]), ("nodes",))
        runs[c] = lambda a=a, mesh=mesh: jax.block_until_ready(algos.run(a, 0, args.steps, mesh=mesh)[1].dist_to_opt)
    t = interleaved({str(c): f for c, f in runs.items()}, args.repeats)
    rows = [{"devices": c, "nodes": args.per_device * c, "us_per_step": 1e6 * median(t[str(c)]) / args.steps} for c in counts]
    for r in rows:
        print(f"[sharding] devices {r['devices']}, nodes {r['nodes']}: {r['us_per_step']:.1f} us/step "
              f"({r['us_per_step'] / rows[0]['us_per_step']:.2f}x the 1-device time)", flush=True)  # fmt: skip
    if args.out:
        with open(args.out, "w") as fh:
            json.dump({"machine": machine(), "command": "python -m benchmarks.sharding", "args": vars(args), "rows": rows}, fh, indent=1)


if __name__ == "__main__":
    main()

"""One ratebench experiment in a fresh process, for end-to-end timings (run by ``run.py``).

``python -m benchmarks._e2e --algo dgd --steps 500 [--sweep K] [--cache DIR|none]``
imports JAX and ratebench, builds the decent-bench-shaped problem (20 nodes on a
ring, d = 10, quadratic, Metropolis weights), runs one algorithm (or ``K`` step
sizes in one ``vmap``), waits for the result and prints one JSON line with the
in-process breakdown. The parent times the whole process (interpreter start to
exit) — that is the end-to-end number.
"""

from __future__ import annotations

import argparse
import json
import time

T0 = time.perf_counter()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--algo", default="dgd")
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--sweep", type=int, default=0, help="vmap over this many step sizes (0: one run)")
    ap.add_argument("--step-size", type=float, default=0.01)
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--d", type=int, default=10)
    ap.add_argument("--cache", default="none", help="persistent compilation cache directory, or 'none'")
    args = ap.parse_args()

    from benchmarks._common import setup_jax

    jax = setup_jax(None if args.cache == "none" else args.cache)
    import jax.numpy as jnp

    import algos
    from benchmarks.run import FACTORIES
    from problems import convex, graphs, mixing

    t_import = time.perf_counter() - T0
    p = convex.quadratic(args.n, args.d, key=0)
    W = mixing.metropolis(graphs.ring(args.n))
    factory = FACTORIES[args.algo]
    t_build = time.perf_counter() - T0
    if args.sweep:
        steps = jnp.linspace(0.5, 1.0, args.sweep) * args.step_size

        def one(s):
            return algos.run(factory(p, W, step_size=s), 0, args.steps)[1].dist_to_opt[-1]

        out = jax.block_until_ready(jax.jit(jax.vmap(one))(steps))
        final = float(out[-1])
    else:
        _, trace = algos.run(factory(p, W, step_size=args.step_size), 0, args.steps)
        final = float(jax.block_until_ready(trace.dist_to_opt)[-1])
    t_end = time.perf_counter() - T0
    print(json.dumps({"import_s": t_import, "build_s": t_build - t_import, "run_s": t_end - t_build, "total_in_process_s": t_end, "final_dist": final}))


if __name__ == "__main__":
    main()

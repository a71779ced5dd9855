"""Peak memory of one long run, measured in a fresh process (run by ``run.py``).

``python -m benchmarks._memory --n 256 --d 100 --steps 100000 [--record-every 1]``

Method (Linux):

1. import JAX and ratebench; read the resident set size (``VmRSS``) -> ``rss_import``;
2. build the problem (quadratic, Metropolis weights on a ring) and DGD; compile the
   run ahead of time (``_run_impl.lower(...).compile()``, the exact program
   ``algos.run`` executes) -> ``rss_ready``;
3. reset the kernel's peak-RSS counter (write ``5`` to ``/proc/self/clear_refs``;
   afterwards ``VmHWM`` tracks the peak from now on), execute, wait;
4. read ``VmHWM`` -> ``peak_run``.

Reported: the bytes of the run's inputs (problem arrays + W + x0: "the problem's
own data"), ``peak_run - rss_ready`` (what running costs on top of the resident
inputs and program) and ``peak_run - rss_import`` (stricter: includes the
inputs themselves and the compiled program), plus XLA's own static buffer
assignment for the executable (``compiled.memory_analysis()``: temporaries,
outputs). A trace holds ``num_steps // record_every`` floats per field and
never the iterates, so the run's extra memory is the trace plus a few copies
of the state.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return -1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=256)
    ap.add_argument("--d", type=int, default=100)
    ap.add_argument("--steps", type=int, default=100_000)
    ap.add_argument("--record-every", type=int, default=1)
    ap.add_argument("--algo", default="dgd")
    args = ap.parse_args()

    from benchmarks._common import setup_jax

    jax = setup_jax(None)
    import numpy as np

    from algos._core import _run_impl
    from benchmarks.run import FACTORIES
    from problems import convex, graphs, mixing

    rss_import = _status_kib("VmRSS") * 1024
    p = convex.quadratic(args.n, args.d, key=0)
    W = mixing.metropolis(graphs.ring(args.n))
    a = FACTORIES[args.algo](p, W)
    key = jax.random.PRNGKey(0)
    num_records = args.steps // args.record_every
    compiled = _run_impl.lower(a.build, a.metrics, a.finite, a.params, key, num_records=num_records, every=args.record_every).compile()
    data_bytes = int(sum(np.asarray(x).nbytes for x in jax.tree_util.tree_leaves(a.params)))
    jax.block_until_ready(jax.tree_util.tree_leaves(a.params))
    rss_ready = _status_kib("VmRSS") * 1024
    reset = True
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        reset = False
    hwm_before = _status_kib("VmHWM") * 1024
    out = compiled(a.params, key)
    jax.block_until_ready(out)
    peak_run = _status_kib("VmHWM") * 1024
    state, m, costs, dead, dead_at = out
    trace_bytes = int(sum(np.asarray(v).nbytes for v in {**m, **costs}.values()))
    ma = compiled.memory_analysis()
    static = {}
    if ma is not None:
        for k in ("temp_size_in_bytes", "output_size_in_bytes", "argument_size_in_bytes", "alias_size_in_bytes", "generated_code_size_in_bytes"):
            static[k] = int(getattr(ma, k, -1))
    print(
        json.dumps(
            {
                "n": args.n,
                "d": args.d,
                "steps": args.steps,
                "record_every": args.record_every,
                "algo": args.algo,
                "data_bytes": data_bytes,
                "trace_bytes": trace_bytes,
                "trace_fields": len(m) + len(costs),
                "rss_import": rss_import,
                "rss_ready": rss_ready,
                "hwm_reset": reset,
                "hwm_after_reset": hwm_before,
                "peak_run": peak_run,
                "run_increase": peak_run - rss_ready,
                "increase_since_import": peak_run - rss_import,
                "xla_static": static,
                "finite": bool(np.isfinite(np.asarray(m["dist_to_opt"])).all()),
            }
        )
    )


if __name__ == "__main__":
    main()

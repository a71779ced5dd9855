"""Engine costs: recording metrics every step, factory set-up time, and memory over long horizons.

``python -m benchmarks.engine [--quick] [--out benchmarks/results/engine.json]``

Three measurements (issue 7), each a ratio measured within one run, interleaved:

* **metric overhead**: the same run recorded every step (``record_every=1``) against recorded
  once at the end (``record_every=num_steps``: one metric evaluation in the whole run); the
  overhead is ``t(every step) / t(once) - 1``, per method, on the quadratic problem at
  n = 256, d = 100 and the logistic problem at n = 64, d = 50, m = 100. Target: <= 15%.
* **factory time**: ``algos.extra`` (and the other step-size factories) on a 1024-node ring,
  wall clock of the factory call alone (median of repeats). Target (EXTRA): < 0.5 s.
* **memory**: peak resident memory of a run of 10^7 steps recorded every 10^4 steps against
  a run of 10^4 steps recorded every 10 (both 1,001 entries), in fresh processes
  (``benchmarks/_memory.py``): per-step keys are derived inside the loop, so memory must
  not grow with the horizon.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from benchmarks._common import REPO, interleaved, machine, md_table, median, setup_jax


def metric_overhead(steps: int, repeats: int) -> list[dict]:
    import jax

    import algos
    from problems import convex, graphs, mixing

    rows = []
    cases = [
        ("quadratic n=256 d=100", convex.quadratic(256, 100, L=10.0, mu=1.0, key=0), 256),
        ("logistic n=64 d=50 m=100", convex.logistic(64, 50, samples_per_node=100, key=0), 64),
    ]
    for label, p, n in cases:
        W = mixing.metropolis(graphs.ring(n))
        variants = [(name, getattr(algos, name)(p, W)) for name in ("dgd", "extra", "nids", "gradient_tracking")]
        if p.summary is None:  # the objective is not O(d^2): also without suboptimality
            variants += [(f"{name} (distance_metrics)", a._replace(metrics=convex.distance_metrics)) for name, a in variants]
        for name, a in variants:
            every = lambda a=a: jax.block_until_ready(algos.run(a, 0, steps)[1].dist_to_opt)  # noqa: E731
            once = lambda a=a: jax.block_until_ready(algos.run(a, 0, steps, record_every=steps)[1].dist_to_opt)  # noqa: E731
            t = interleaved({"every": every, "once": once}, repeats)
            te, to = median(t["every"]), median(t["once"])
            rows.append({"problem": label, "algo": name, "steps": steps, "us_per_step_every": 1e6 * te / steps,
                         "us_per_step_once": 1e6 * to / steps, "overhead": te / to - 1.0})  # fmt: skip
            print(f"[overhead] {label} {name}: {100 * (te / to - 1):+.1f}%", flush=True)
    return rows


def factory_time(repeats: int) -> list[dict]:
    import algos
    from problems import convex, graphs, mixing

    g = graphs.ring(1024)
    W = mixing.metropolis(g)
    p = convex.quadratic(1024, 5, key=0)
    rows = []
    for name in ("extra", "dgd", "nids", "gradient_tracking", "exact_diffusion"):
        f = getattr(algos, name)
        f(p, W)  # warm: first-call imports and tracing caches
        ts = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            f(p, W)
            ts.append(time.perf_counter() - t0)
        rows.append({"algo": name, "n": 1024, "seconds": median(ts)})
        print(f"[factory] {name} on ring(1024): {median(ts):.3f} s", flush=True)
    t0 = time.perf_counter()
    mixing.spectrum(W)
    rows.append({"algo": "mixing.spectrum alone", "n": 1024, "seconds": time.perf_counter() - t0})
    return rows


def memory(long_steps: int, long_every: int, short_steps: int, short_every: int) -> list[dict]:
    rows = []
    for steps, every in ((short_steps, short_every), (long_steps, long_every)):
        cmd = [sys.executable, "-m", "benchmarks._memory", "--n", "16", "--d", "8", "--steps", str(steps),
               "--record-every", str(every), "--algo", "dsgd", "--sigma", "0.5"]  # fmt: skip
        t0 = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=True)
        m = json.loads(out.stdout.strip().splitlines()[-1])
        m["wall_s"] = time.perf_counter() - t0
        rows.append(m)
        print(f"[memory] {steps} steps / every {every}: peak {m['peak_run'] / 2**20:.1f} MiB, run increase "
              f"{m['run_increase'] / 2**20:.2f} MiB, XLA temp {m['xla_static'].get('temp_size_in_bytes', -1) / 2**20:.3f} MiB", flush=True)  # fmt: skip
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=None)
    ap.add_argument("--sections", default="overhead,factory,memory", help="comma list of overhead, factory, memory")
    ap.add_argument("--repeats", type=int, default=None, help="overhead: interleaved repeats per pair (default 5; quick 3)")
    args = ap.parse_args(argv)
    sections = set(args.sections.split(","))
    if not sections <= {"overhead", "factory", "memory"}:
        ap.error(f"--sections: unknown {sorted(sections - {'overhead', 'factory', 'memory'})}; choose from overhead, factory, memory")
    setup_jax(None)
    cmd = "python -m benchmarks.engine" + (" --quick" if args.quick else "") + (f" --sections {args.sections}" if sections != {"overhead", "factory", "memory"} else "")
    cmd += f" --repeats {args.repeats}" if args.repeats is not None else ""
    res = {"machine": machine(), "command": cmd, "metric_overhead": []}
    if "overhead" in sections:
        reps = args.repeats if args.repeats is not None else (3 if args.quick else 5)
        res["metric_overhead"] = metric_overhead(200 if args.quick else 2000, reps)
    if "factory" in sections:
        res["factory"] = factory_time(2 if args.quick else 5)
    if "memory" in sections:
        res["memory"] = memory(10**5 if args.quick else 10**7, 10**2 if args.quick else 10**4, 10**3 if args.quick else 10**4, 1 if args.quick else 10)
    print(md_table(["problem", "algo", "us/step recorded every step", "us/step recorded once", "overhead"],
                   [[r["problem"], r["algo"], f"{r['us_per_step_every']:.1f}", f"{r['us_per_step_once']:.1f}", f"{100 * r['overhead']:+.1f}%"]
                    for r in res["metric_overhead"]]))  # fmt: skip
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(res, fh, indent=1)


if __name__ == "__main__":
    main()

"""Scale of the first-order FMMC / FDLA solver: certified gap against time and memory.

Usage::

    python benchmarks/sdp_first_order.py [--configs geo:1000 reg:1000 geo:5000 reg:5000 geo:10000]
                                         [--kinds fmmc fdla] [--tol 1e-4] [--budget 1000:20 5000:60 10000:120]
                                         [--blas-threads 1] [--seed 0] [--eigen-blas-threads 1|none]

Each configuration runs in its own subprocess (so its peak memory is its own)
and calls :func:`problems._sdp_first_order.solve_first_order` directly: it
never forms the dense ``n x n`` ``W`` (``mixing.fastest_mixing`` returns one,
800 MB at n = 10,000).  Graphs: ``geo`` is ``problems.graphs.geometric(n,
seed)``; ``reg`` a random 4-regular graph (``networkx.random_regular_graph(4, n,
seed)`` through ``graphs.from_networkx``).  The solver stops at the certified gap
``--tol`` or when the time budget of its size is spent, whichever comes first;
every row prints the certified gap it reached, the time (graph construction
excluded), the peak resident memory of the subprocess, and the 1-minute load
average before and after (the machine is shared).  BLAS threads are pinned
before numpy is imported.  ``--eigen-blas-threads`` sets the solver's own per-call limit
(``problems._sdp_first_order.EIGEN_BLAS_THREADS``; ``none`` leaves the process's threads, as the
solver did before that limit existed); with ``--blas-threads 2`` it compares the public API's
unpinned setting with and without the limit.
"""

from __future__ import annotations

import os
import sys

if __package__:
    from benchmarks._blas import pin_blas_threads
    from benchmarks._common import peak_rss_mb, sdp_graph
else:  # run as a script: benchmarks/ is on sys.path
    from _blas import pin_blas_threads
    from _common import peak_rss_mb, sdp_graph

_THREADS = pin_blas_threads(sys.argv)

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def _one(family: str, n: int, kind: str, tol: float, budget: float, seed: int, polish: float = 0.0,
         eigen_threads: str = "1") -> dict:  # fmt: skip
    sys.path.insert(0, ROOT)
    import numpy as np

    from problems import _sdp_first_order as fo

    fo.EIGEN_BLAS_THREADS = None if eigen_threads == "none" else int(eigen_threads)

    if family not in ("geo", "reg"):
        raise ValueError(f"unknown graph family {family!r}; use 'geo' or 'reg'")
    g = sdp_graph(family, n, seed)
    E = g.edges
    del g
    t = time.perf_counter()
    w, s, lb, dual, info = fo.solve_first_order(kind, n, E[:, 0], E[:, 1], tol=tol, time_limit_s=budget, seed=seed,
                                                polish_time_s=polish)
    el = time.perf_counter() - t
    check = fo.certified_lower_bound(n, E, dual)  # re-check from the exposed dual point
    return dict(
        family=family, n=n, m=int(len(E)), kind=kind, time_s=el, slem=s, lower_bound=lb, gap=s - lb,
        recheck_ok=bool(min(check, s) == lb), evaluations=info["evaluations"], stages=len(info["stages"]),
        block=list(info["block_sizes"]), peak_rss_mb=peak_rss_mb(),
        dual_rank=int(dual.coefs.size), min_w=float(np.min(w)), polish=info.get("polish"),
        stage_gaps=[(str(h["stage"]), h["slem"] - h["lower_bound"], h["time_s"]) for h in info["stages"]],
    )


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--configs", nargs="+", default=["geo:1000", "reg:1000", "geo:5000", "reg:5000", "geo:10000"])
    ap.add_argument("--kinds", nargs="+", default=["fmmc", "fdla"])
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--budget", nargs="+", default=["1000:20", "5000:60", "10000:120"], help="n:seconds")
    ap.add_argument("--ten-k-kinds", nargs="+", default=["fmmc"], help="kinds run at n >= 10000")
    ap.add_argument("--blas-threads", default=_THREADS)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--polish", type=float, default=0.0,
                    help="seconds of the cluster-model trust-region polish (problems/_sdp_bundle.py) after the budget")
    ap.add_argument("--eigen-blas-threads", default="1", help="the solver's per-call BLAS limit, or 'none'")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        fam, n, kind, tol, budget, seed, polish, eig = args.one.split(",")
        print(json.dumps(_one(fam, int(n), kind, float(tol), float(budget), int(seed), float(polish), eig)))
        return
    budgets = {int(k): float(v) for k, v in (b.split(":") for b in args.budget)}
    print(f"# First-order FMMC / FDLA ({os.cpu_count()} CPUs, BLAS threads {args.blas_threads}, "
          f"eigensolver BLAS limit {args.eigen_blas_threads}, tol {args.tol:g})")
    print()
    head = ["graph", "n", "m", "kind", "budget (s)", "time (s)", "SLEM", "certified lower", "certified gap", "gap <= tol",
            "evals", "dual rank", "peak RSS (MB)", "load before/after"]
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    for cfg in args.configs:
        fam, n = cfg.split(":")
        n = int(n)
        budget = budgets.get(n, max(budgets.values()))
        for kind in args.kinds if n < 10000 else args.ten_k_kinds:
            load0 = os.getloadavg()[0]
            out = subprocess.run(
                [sys.executable, os.path.abspath(__file__), "--blas-threads", args.blas_threads,
                 "--one", f"{fam},{n},{kind},{args.tol},{budget},{args.seed},{args.polish},{args.eigen_blas_threads}"],
                capture_output=True, text=True,
            )
            load1 = os.getloadavg()[0]
            if out.returncode != 0:
                print(f"| {fam} | {n} | – | {kind} | {budget:g} | failed: {out.stderr.strip().splitlines()[-1][:80]} |")
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            assert r["recheck_ok"], "the exposed dual point does not reproduce the reported bound"
            print(f"| {fam} | {n} | {r['m']} | {kind} | {budget:g} | {r['time_s']:.1f} | {r['slem']:.6f} | "
                  f"{r['lower_bound']:.6f} | {r['gap']:.2e} | {'yes' if r['gap'] <= args.tol else 'no'} | "
                  f"{r['evaluations']} | {r['dual_rank']} | {r['peak_rss_mb']:.0f} | {load0:.1f}/{load1:.1f} |", flush=True)
            if r["polish"] is not None:
                print(f"|  | polish: {r['polish']} ; stage gaps (stage, gap, t): {r['stage_gaps']} |", flush=True)


if __name__ == "__main__":
    main()

"""What ``solver="auto"`` does at scale: the public ``fastest_mixing`` / ``fastest_averaging`` end to end.

Usage::

    python benchmarks/sdp_auto.py [--configs geo:1000 reg:1000] [--kinds fmmc fdla] [--tol 1e-4]
                                  [--blas-threads 2] [--seed 0] [--out benchmarks/results/sdp_auto.json]
                                  [--ipm-set CERTIFY_WITHIN=0,STEP_CHOLESKY_TEST=0 default --rounds 2]
    python benchmarks/sdp_auto.py --fit-model [--out ...]   # time the interior point alone, for the cost model
    python benchmarks/sdp_auto.py --newton-block [--out ...]  # the two Newton edge-block paths, interleaved

Each row runs in its own subprocess (its peak memory is its own) and calls
``mixing.fastest_mixing`` (FMMC) or ``mixing.fastest_averaging`` (FDLA) with ``tol`` and
``return_certificate=True`` on ``problems.graphs.geometric(n, seed)`` (``geo``) or a random
4-regular graph (``reg``, ``networkx.random_regular_graph(4, n, seed)``).  A row prints the path
``solver="auto"`` chose (``problems._sdp.choose_method``), the solver that ran, the certified gap
``slem - lower_bound`` of the returned matrix, the wall time (graph construction excluded), the
time the cost model predicted (``problems._sdp.predicted_ipm_cost``), the peak resident memory
and the 1-minute load before and after (the machine is shared).  ``--ipm-set`` sets constants of
``problems._sdp.ipm`` in each row's process (``NAME=VALUE,...``; ``default`` leaves them); with
several variants and ``--rounds``, the variants are interleaved per graph and problem.
``CERTIFY_WITHIN=0,STEP_CHOLESKY_TEST=0`` is the interior point before 2026-12-07.

``--fit-model`` instead times the structured interior point alone (``problems._sdp.ipm._ipm``) on
the graphs and tolerances the cost model of ``problems/_sdp/size.py`` was fitted to, and prints
each solve's iterations and seconds per iteration next to the model's.

``--newton-block`` times the two ways the interior point forms the ``m x m`` edge block of its
Newton matrix (``problems._sdp.ipm``: SciPy sparse-dense products, and the fused XLA kernel used
from ``XLA_NEWTON_MIN_EDGES`` edges) on the same inputs, interleaved, median of 5 after one
warm-up call each; the kernel's first call (its compilation) is reported apart.  The inputs are
random positive definite ``n x n`` matrices on each graph's edges (the block's cost does not
depend on their values).

BLAS threads are pinned before numpy is imported; the default here is 2, both cores (the targets
of issue 15 are on 2 cores, and the dense ``n x n`` and ``m x m`` factorizations use both).
"""

from __future__ import annotations

import os
import sys

if "--blas-threads" not in sys.argv:
    sys.argv[1:1] = ["--blas-threads", "2"]

if __package__:
    from benchmarks._blas import pin_blas_threads
    from benchmarks._common import interleaved, median, peak_rss_mb, sdp_graph
else:  # run as a script: benchmarks/ is on sys.path
    from _blas import pin_blas_threads
    from _common import interleaved, median, peak_rss_mb, sdp_graph

_THREADS = pin_blas_threads(sys.argv)

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")

#: The graphs and tolerances the IPM cost model was fitted to (``--fit-model``).
FIT_CASES = [("complete", 80, (1e-4,)), ("complete", 110, (1e-4,)), ("reg", 1000, (1e-4, 1e-6, 1e-8)),
             ("reg", 1500, (1e-4,)), ("geo", 200, (1e-4, 1e-6, 1e-8)), ("geo", 500, (1e-4, 1e-6, 1e-8)),
             ("geo", 1000, (1e-4,))]


def _one(family: str, n: int, kind: str, tol: float, seed: int, ipm_set: str = "default") -> dict:
    sys.path.insert(0, ROOT)
    from problems import _sdp, mixing
    from problems._sdp import ipm

    for item in ipm_set.split(";") if ipm_set != "default" else []:
        name, value = item.split("=")
        if not hasattr(ipm, name):
            raise SystemExit(f"--ipm-set: problems._sdp.ipm has no {name!r}")
        setattr(ipm, name, type(getattr(ipm, name))(float(value)))
    g = sdp_graph(family, n, seed)
    m = int(len(g.edges))
    solve = mixing.fastest_mixing if kind == "fmmc" else mixing.fastest_averaging
    its = []
    t = time.perf_counter()
    W, cert = solve(g, tol=tol, return_certificate=True, progress=lambda info: its.append(info.get("iteration", 0)))
    el = time.perf_counter() - t
    return dict(
        family=family, n=n, m=m, kind=kind, tol=tol, ipm_set=ipm_set, iterations=max(its),
        choice=_sdp.choose_method(n, m, tol), method=cert.method,
        solver=cert.solver, status=cert.status, time_s=el, predicted_ipm_s=_sdp.predicted_ipm_cost(n, m, tol, kind)["seconds"],
        slem=cert.slem, lower_bound=cert.lower_bound, gap=cert.gap,
        peak_rss_mb=peak_rss_mb(),
    )


def _fit_one(family: str, n: int, kind: str, tol: float, seed: int) -> dict:
    sys.path.insert(0, ROOT)
    from problems import _sdp
    from problems._sdp import ipm

    g = sdp_graph(family, n, seed)
    E = g.edges
    t = time.perf_counter()
    _, slem, _, _, status, iters = ipm._ipm(n, E[:, 0], E[:, 1], kind == "fmmc", tol)
    el = time.perf_counter() - t
    model = _sdp.predicted_ipm_cost(n, len(E), tol, kind)
    return dict(family=family, n=n, m=int(len(E)), kind=kind, tol=tol, status=status, iterations=int(iters),
                seconds=el, per_iter=el / max(int(iters), 1), model_iterations=model["iterations"],
                model_per_iter=model["seconds"] / model["iterations"])


#: Graphs of ``--newton-block``: edge counts from 892 to 6,468 around the switch at 1,500.
BLOCK_CASES = [("geo", 200), ("geo", 300), ("geo", 350), ("reg", 1000), ("geo", 500), ("geo", 1000)]


def _newton_block_rows(seed: int, repeats: int = 5) -> list[dict]:
    sys.path.insert(0, ROOT)
    import numpy as np

    from problems._sdp import ipm

    rows = []
    for fam, n in BLOCK_CASES:
        g = sdp_graph(fam, n, seed)
        ei, ej = g.edges[:, 0], g.edges[:, 1]
        m = len(ei)
        rng = np.random.default_rng(seed)

        def spd():
            B = rng.standard_normal((n, n))
            return B @ B.T / n + np.eye(n)

        Ks = [spd() for _ in range(4)]
        d3, d4 = rng.random(m) + 0.5, rng.random(n) + 0.5
        At, absA, absAt = ipm._incidence(n, ei, ej)
        out = np.empty((m, m))
        t = time.perf_counter()
        ipm._newton_edge_block_xla(n, ei, ej, *Ks, d3, d4)
        first_xla = time.perf_counter() - t
        fns = {
            "numpy": lambda: ipm._newton_edge_block_numpy(n, ei, ej, At, absA, absAt, *Ks, d3, d4, out),
            "xla": lambda: ipm._newton_edge_block_xla(n, ei, ej, *Ks, d3, d4),
        }
        med = {k: median(v) for k, v in interleaved(fns, repeats, warmup=1).items()}
        rows.append(dict(family=fam, n=n, m=m, numpy_s=med["numpy"], xla_s=med["xla"], xla_first_call_s=first_xla,
                         speedup=med["numpy"] / med["xla"], used=("xla" if m >= ipm.XLA_NEWTON_MIN_EDGES else "numpy")))
    return rows


def _sub(args, spec: str) -> dict | str:
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--blas-threads", args.blas_threads, spec],
                         capture_output=True, text=True)
    if out.returncode != 0:
        return "failed: " + (out.stderr.strip().splitlines() or ["?"])[-1][:120]
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--configs", nargs="+", default=["geo:1000", "reg:1000"])
    ap.add_argument("--kinds", nargs="+", default=["fmmc", "fdla"])
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--blas-threads", default=_THREADS)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fit-model", action="store_true", help="time the interior point alone on the model's fit cases")
    ap.add_argument("--newton-block", action="store_true", help="time the two Newton edge-block paths, interleaved")
    ap.add_argument("--ipm-set", nargs="+", default=["default"],
                    help="constants of problems._sdp.ipm per row, NAME=VALUE,... or default (several: interleaved)")
    ap.add_argument("--rounds", type=int, default=1, help="rounds over the --ipm-set variants")
    ap.add_argument("--out", default=None, help="also write the rows as JSON")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--fit-one", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one or args.fit_one:
        if args.one:
            fam, n, kind, tol, seed, variant = args.one.split(",", 5)
            print(json.dumps(_one(fam, int(n), kind, float(tol), int(seed), variant.replace(",", ";"))))
        else:
            fam, n, kind, tol, seed = args.fit_one.split(",")
            print(json.dumps(_fit_one(fam, int(n), kind, float(tol), int(seed))))
        return
    rows = []
    if args.newton_block:
        print(f"# Newton edge block, SciPy products vs the XLA kernel ({os.cpu_count()} CPUs, BLAS threads "
              f"{args.blas_threads}; FMMC form, median of 5 interleaved)\n")
        head = ["graph", "n", "m", "SciPy (s)", "XLA (s)", "SciPy / XLA", "XLA first call (s)", "IPM uses"]
        print("| " + " | ".join(head) + " |\n|" + "|".join("---" for _ in head) + "|")
        rows = _newton_block_rows(args.seed)
        for r in rows:
            print(f"| {r['family']} | {r['n']} | {r['m']} | {r['numpy_s']:.4f} | {r['xla_s']:.4f} | {r['speedup']:.2f} | "
                  f"{r['xla_first_call_s']:.2f} | {r['used']} |")
        if args.out:
            with open(args.out, "w") as fh:
                json.dump(dict(blas_threads=args.blas_threads, cpus=os.cpu_count(), rows=rows), fh, indent=1)
        return
    print(f"# {'IPM cost model fit' if args.fit_model else 'solver=auto end to end'} "
          f"({os.cpu_count()} CPUs, BLAS threads {args.blas_threads})\n")
    if args.fit_model:
        head = ["graph", "n", "m", "kind", "tol", "iterations (model)", "s / iteration", "model s / iteration", "ratio"]
        print("| " + " | ".join(head) + " |\n|" + "|".join("---" for _ in head) + "|")
        for fam, n, tols in FIT_CASES:
            for kind in args.kinds:
                for tol in tols:
                    r = _sub(args, f"--fit-one={fam},{n},{kind},{tol},{args.seed}")
                    if isinstance(r, str):
                        print(f"| {fam} | {n} | – | {kind} | {tol:g} | {r} |", flush=True)
                        continue
                    rows.append(r)
                    print(f"| {fam} | {n} | {r['m']} | {kind} | {tol:g} | {r['iterations']} ({r['model_iterations']:.0f}) | "
                          f"{r['per_iter']:.3f} | {r['model_per_iter']:.3f} | {r['per_iter'] / r['model_per_iter']:.2f} |",
                          flush=True)
    else:
        head = ["graph", "n", "m", "kind", "auto chose", "solver", "ipm constants", "iterations", "time (s)",
                "predicted IPM (s)", "SLEM", "certified gap", f"gap <= {args.tol:g}", "peak RSS (MB)", "load before/after"]
        print("| " + " | ".join(head) + " |\n|" + "|".join("---" for _ in head) + "|")
        for cfg in args.configs:
            fam, n = cfg.split(":")
            for kind in args.kinds:
                for _ in range(args.rounds):
                    for variant in args.ipm_set:
                        load0 = os.getloadavg()[0]
                        r = _sub(args, f"--one={fam},{n},{kind},{args.tol},{args.seed},{variant}")
                        load1 = os.getloadavg()[0]
                        if isinstance(r, str):
                            print(f"| {fam} | {n} | – | {kind} | {r} |", flush=True)
                            continue
                        r.update(load_before=load0, load_after=load1)
                        rows.append(r)
                        print(f"| {fam} | {n} | {r['m']} | {kind} | {r['choice']} | {r['solver']} | {r['ipm_set']} | "
                              f"{r['iterations']} | {r['time_s']:.1f} | {r['predicted_ipm_s']:.0f} | {r['slem']:.6f} | "
                              f"{r['gap']:.2e} | {'yes' if r['gap'] <= args.tol else 'no'} | {r['peak_rss_mb']:.0f} | "
                              f"{load0:.1f}/{load1:.1f} |", flush=True)
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(dict(blas_threads=args.blas_threads, cpus=os.cpu_count(), tol=args.tol, rows=rows), fh, indent=1)


if __name__ == "__main__":
    main()

"""Timing of the exact FMMC / FDLA solvers: fast paths versus the naive cvxpy model.

Usage::

    python benchmarks/sdp_timing.py [--sizes 20 50 100 200] [--naive-limit 60]
                                    [--blas-threads 1] [--repeat 3] [--no-sparse]

For each size ``n`` a connected random geometric graph (radius
``1.6 sqrt(log n / (pi n))``, seeded, retried with derived seeds until
connected) is solved by

* ``ipm``: the structured interior-point method of :mod:`problems._sdp`
  (what ``solver="auto"`` uses), best of ``--repeat`` runs;
* ``cvxpy-sparse``: cvxpy + Clarabel on the sparse tree-basis model
  (``solver="clarabel"``);
* ``naive``: the dense textbook cvxpy model + Clarabel, with its time split
  into cvxpy compilation and solver time.  A size is skipped when the naive
  time extrapolated from the previous size (as ``n^4``) exceeds
  ``--naive-limit`` seconds.

The script prints a markdown table.  BLAS threads are pinned (default 1)
before numpy is imported, because oversubscribed OpenBLAS threads on a shared
machine make timings meaningless.
"""

from __future__ import annotations

import os
import sys

if __package__:
    from benchmarks._blas import pin_blas_threads
else:  # run as a script: benchmarks/ is on sys.path
    from _blas import pin_blas_threads

_THREADS = pin_blas_threads(sys.argv)

import argparse  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from problems import _sdp  # noqa: E402


def geometric_edges(n: int, seed: int) -> np.ndarray:
    """Edges of a connected random geometric graph on ``n`` nodes (seeded retry)."""
    radius = 1.6 * math.sqrt(math.log(n) / (math.pi * n))
    for k in range(200):
        g = nx.random_geometric_graph(n, radius, seed=1000 * seed + k)
        if nx.is_connected(g):
            return np.array(sorted(tuple(sorted(e)) for e in g.edges()))
    raise RuntimeError(f"no connected geometric graph with n={n}")


def _timed(fn, repeat):
    best, out = math.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[20, 50, 100, 200])
    ap.add_argument("--naive-limit", type=float, default=60.0, help="skip naive when its predicted time exceeds this (s)")
    ap.add_argument("--blas-threads", default=_THREADS)
    ap.add_argument("--repeat", type=int, default=3, help="best-of repeats for the fast path")
    ap.add_argument("--no-sparse", action="store_true", help="skip the cvxpy sparse model")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore", UserWarning)

    import clarabel
    import cvxpy

    rows = []
    notes = []
    naive_last = None  # (n, seconds)
    for n in args.sizes:
        E = geometric_edges(n, args.seed)
        m = len(E)
        res = {}
        for kind, fast, naive in (
            ("FMMC", _sdp.solve_fmmc, _sdp.solve_fmmc_naive),
            ("FDLA", _sdp.solve_fdla, _sdp.solve_fdla_naive),
        ):
            t, (_, c) = _timed(lambda: fast(n, E, solver="ipm", return_certificate=True), args.repeat)
            res[("ipm", kind)] = (t, c, "")
            if not args.no_sparse:
                t, (_, c) = _timed(lambda: fast(n, E, solver="clarabel", return_certificate=True), 1)
                res[("cvxpy-sparse (Clarabel)", kind)] = (t, c, "")
            predicted = None if naive_last is None else naive_last[1] * (n / naive_last[0]) ** 4
            if predicted is not None and predicted > args.naive_limit:
                res[("naive cvxpy (Clarabel)", kind)] = None
                notes.append(f"naive {kind} skipped at n={n}: predicted ~{predicted:.0f} s (> {args.naive_limit:.0f} s)")
            else:
                timing = {}
                t, (_, c) = _timed(lambda: naive(n, E, return_certificate=True, timing=timing), 1)
                split = f"compile {timing['compile_s']:.2f} s + solver {timing['solver_s']:.2f} s"
                res[("naive cvxpy (Clarabel)", kind)] = (t, c, split)
                naive_last = (n, max(t, naive_last[1] if naive_last and naive_last[0] == n else 0.0))
        for path in ("ipm", "cvxpy-sparse (Clarabel)", "naive cvxpy (Clarabel)"):
            if (path, "FMMC") not in res:
                continue
            cells = [str(n), str(m), path]
            gaps, splits = [], []
            for kind in ("FMMC", "FDLA"):
                r = res[(path, kind)]
                if r is None:
                    cells += ["skipped", "–"]
                    continue
                t, c, split = r
                cells += [f"{t:.3f}", f"{c.slem:.8f}"]
                gaps.append(c.gap)
                if split:
                    splits.append(f"{kind}: {split}")
            cells.append(f"{max(gaps):.1e}" if gaps else "–")
            cells.append("; ".join(splits))
            rows.append(cells)

    header = ["n", "m", "path", "FMMC time (s)", "FMMC SLEM", "FDLA time (s)", "FDLA SLEM", "max certified gap", "naive split"]
    print(f"# Exact FMMC / FDLA timing ({platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"BLAS threads {args.blas_threads}; numpy {np.__version__}, cvxpy {cvxpy.__version__}, clarabel {clarabel.__version__})")
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    if notes:
        print()
        for note in notes:
            print(f"- {note}")


if __name__ == "__main__":
    main()

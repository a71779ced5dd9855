"""Sizes and solve times of the performance-estimation programs of ``bounds.pep`` (no cache).

Usage::

    python benchmarks/pep_timing.py [--n 3 4 5] [--horizon 5 8] [--blas-threads 1] [--out FILE]

For each method, fixed ``W`` = Metropolis weights on a ring of ``n`` nodes and the spectral class
``[lambda_n, lambda_2]`` of that ``W`` (whose size does not depend on ``n``), and each horizon ``K``:
the program of step ``K`` alone (the largest of the envelope's ``K`` programs) is built and solved
once, uncached (class ``L = 1``, ``mu = 0.1``, step ``0.5 x`` the method's stability limit on that
ring, ``zeta = 0.5``). Reported: Gram size, constraint count, wall time of build + solve, the
solver's own time, the accepted attempt, or REFUSED. Prints a markdown table; ``--out`` writes JSON.
"""

from __future__ import annotations

import sys

if __package__:
    from benchmarks._blas import pin_blas_threads
else:  # run as a script: benchmarks/ is on sys.path
    from _blas import pin_blas_threads

_THREADS = pin_blas_threads(sys.argv)

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

METHODS = ("dgd", "extra", "nids", "exact_diffusion", "gradient_tracking")
LIMITS = {  # the methods' step-size limits (algos/convex/*.py step_size_limit), L = 1
    "dgd": lambda lam_n: 1.0 + lam_n,
    "extra": lambda lam_n: (5.0 + 3.0 * lam_n) / 4.0,
    "nids": lambda lam_n: 2.0,
    "exact_diffusion": lambda lam_n: 2.0,
    "gradient_tracking": lambda lam_n: (1.0 + lam_n) ** 2 / 2.0,
}


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, nargs="+", default=[3, 4, 5])
    ap.add_argument("--horizon", type=int, nargs="+", default=[5, 8])
    ap.add_argument("--blas-threads", default="1")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)

    from bounds.pep import PEPError, _solve_k, worst_case  # noqa: F401
    from problems import graphs, mixing

    rows = []
    for K in args.horizon:
        for n in args.n + ["class"]:
            if n == "class" and rows and any(r["network"] == "class" and r["K"] == K for r in rows):
                continue
            n_ring = args.n[-1] if n == "class" else n
            W = mixing.metropolis(graphs.ring(n_ring))
            spec = mixing.spectrum(W)
            for m in METHODS:
                a = 0.5 * LIMITS[m](spec.lambda_n)
                net = {"eigenvalues": (spec.lambda_n, spec.lambda_2)} if n == "class" else {"W": W}
                inputs = {"method": m, "measure": "dist_to_opt", "mu": 0.1, "alpha": a, "R": 1.0, "zeta": 0.5,
                          "equal_start": True}  # fmt: skip
                netd = {"lo": spec.lambda_n, "hi": spec.lambda_2} if n == "class" else {"W": W}
                t0 = time.perf_counter()
                try:
                    sol = _solve_k(m, K, inputs, netd)
                    rec = {"status": sol.status, "solver": sol.solver, "solver_s": sol.seconds, "size": sol.size,
                           "rel_gap": sol.rel_gap, "residual": sol.residual}  # fmt: skip
                except PEPError as exc:
                    rec = {"status": "REFUSED", "error": str(exc)[:300]}
                rec.update({"method": m, "network": "class" if n == "class" else f"ring({n})", "K": K,
                            "wall_s": time.perf_counter() - t0, "step_size": a})  # fmt: skip
                rows.append(rec)
                print(f"| {m} | {rec['network']} | {K} | {rec.get('size', {})} | {rec['wall_s']:.2f} | "
                      f"{rec.get('solver_s', float('nan')):.2f} | {rec['status']} {rec.get('solver', '')} |", flush=True)  # fmt: skip
    if args.out:
        with open(args.out, "w") as fh:
            json.dump({"blas_threads": _THREADS, "rows": rows}, fh, indent=1, default=float)
    return rows


if __name__ == "__main__":
    print("| method | network | K | size | build+solve s | solver s | status |")
    print("|---|---|---|---|---|---|---|")
    main()

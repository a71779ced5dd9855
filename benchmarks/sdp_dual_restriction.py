"""How much of the first-order FMMC certificate's gap is the dual's, and how much the primal's.

At an exact FMMC optimum (the structured interior point, ``solver="ipm"``) of a random 4-regular
graph, the restricted duals of :mod:`problems._sdp_first_order` are evaluated on the optimum's own
extreme eigenvectors: the diagonal one (``_lp_dual``) and the full-PSD one (``_psd_dual``) with
``k`` vectors of each cluster. Then the first-order solver is run with its benchmark budget and
its SLEM is compared with the exact optimum, which separates the primal error from the dual's.

    python -m benchmarks.sdp_dual_restriction --n 1000 --budget 20     # about 5 minutes here

Prints one line per measurement (certified gaps are ``slem - certified lower bound``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from benchmarks._common import sdp_graph


def main(argv=None) -> None:
    from problems import _sdp_first_order as fo
    from problems import mixing

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ks", type=int, nargs="+", default=[8, 16, 24])
    ap.add_argument("--budget", type=float, default=20.0, help="first-order solver's time limit (s)")
    args = ap.parse_args(argv)
    n = args.n
    g = sdp_graph("reg", n, args.seed)
    E = np.asarray(g.edges)
    ei, ej = E[:, 0], E[:, 1]
    t = time.perf_counter()
    W, cert = mixing.fastest_mixing(g, return_certificate=True, solver="ipm", progress=lambda d: None)
    print(f"exact (ipm): n={n} m={len(ei)} slem={cert.slem:.10f} certified gap={cert.gap:.2e} in {time.perf_counter() - t:.1f} s")
    lam, V = np.linalg.eigh(W - 1.0 / n)
    one = np.argmax(np.abs(V.T @ np.ones(n)))
    mask = np.arange(n) != one
    lam, V = lam[mask], V[:, mask]
    s = float(np.abs(lam).max())
    top, bot = fo._cluster(lam, V, 1e-6)
    print(f"extreme clusters at the optimum (within 1e-6): {len(top)} top, {len(bot)} bottom")
    t = time.perf_counter()
    lb = fo.certified_lower_bound(n, E, fo._lp_dual(n, ei, ej, V[:, top], V[:, bot], "fmmc"))
    print(f"diagonal dual on the cluster: certified gap {s - lb:.2e} ({time.perf_counter() - t:.1f} s)")
    for k in args.ks:
        tk = np.argsort(-lam)[:k]
        bk = np.argsort(lam)[:k]
        t = time.perf_counter()
        lb = fo.certified_lower_bound(n, E, fo._psd_dual(n, ei, ej, fo._centre(V[:, tk]), fo._centre(V[:, bk]), "fmmc"))
        print(f"full-PSD dual, {k} vectors per end: certified gap {s - lb:.2e} ({time.perf_counter() - t:.1f} s)")
    t = time.perf_counter()
    w, s_fo, lb_fo, _dual, info = fo.solve_first_order("fmmc", n, ei, ej, tol=1e-4, time_limit_s=args.budget)
    print(
        f"first-order (budget {args.budget:g} s): slem={s_fo:.6f} lower={lb_fo:.6f} gap={s_fo - lb_fo:.2e} in "
        f"{time.perf_counter() - t:.1f} s, {info['evaluations']} evaluations; primal error slem - exact = "
        f"{s_fo - cert.slem:.2e}, dual error exact - lower = {cert.slem - lb_fo:.2e}"
    )


if __name__ == "__main__":
    main()

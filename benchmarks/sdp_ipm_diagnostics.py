"""Why the structured interior point needs the iterations it does: per-iteration step lengths and, at
the end of a tight solve, which complementary pairs converge strictly.

    python benchmarks/sdp_ipm_diagnostics.py [--configs geo:300 geo:500] [--kinds fmmc fdla] [--tol 1e-7]

For each graph and problem, ``problems._sdp.ipm._ipm`` runs to ``tol`` with its history on (BLAS
threads as the process has them). Printed per iteration: the gap ``s - lb``, its ratio to the previous
one, the predictor's primal and dual step lengths, ``sigma`` and the corrector's steps. At the end:

* FMMC's LP pairs ``(w_e, x3_e)`` (weight >= 0) and ``(s4_i, x4_i)`` (row sum <= 1): over the last
  ``--window`` iterations a component is *kept* when it shrank by less than ``--keep`` (0.8) per
  iteration, i.e. it stays away from 0 while ``mu`` goes to 0. A pair with neither component kept has
  both going to 0: strict complementarity fails there (at this tolerance);
* the two LMI blocks: the numerical rank of the multiplier (eigenvalues of ``Y = X1 - X2`` above
  ``1e-4`` of its largest, by sign) and the nullity of the slack ``S1 = s I - (W - J)`` /
  ``S2 = s I + (W - J)`` (eigenvalues below ``1e-4``), whose sum is ``n`` under strict complementarity;
  and the smallest eigenvalue of each slack (an inactive block keeps it away from 0).

A path-following method converges fast (superlinearly, for Mehrotra's predictor-corrector in practice)
only under strict complementarity (and nondegeneracy); without it the affine (predictor) step stays
short and ``mu`` falls by a fixed factor per iteration. RESULTS.md section 7k.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from _common import sdp_graph  # noqa: E402

from problems._sdp import ipm  # noqa: E402
from problems._sdp.checks import _laplacian  # noqa: E402


def kept(hist, key, window: int, keep: float) -> np.ndarray:
    """Entries of ``hist[i][key]`` that shrank by less than ``keep`` per iteration over the last ``window``."""
    a, b = hist[-1 - window][key], hist[-1][key]
    return (b / a) ** (1.0 / window) > keep


def one(family: str, n: int, kind: str, tol: float, window: int, keep: float):
    g = sdp_graph(family, n, 0)
    E = np.asarray(g.edges)
    ei, ej = E[:, 0], E[:, 1]
    hist: list = []
    t = time.perf_counter()
    w, s, Y, z, status, its = ipm._ipm(n, ei, ej, kind == "fmmc", tol, history=hist)
    dt = time.perf_counter() - t
    print(f"\n{family} n={n} m={len(ei)} {kind} tol={tol:g}: {status} after {its} iterations, {dt:.1f} s")
    print("  it   s - lb     ratio  pred_p pred_d  sigma  step_p step_d")
    prev = None
    for r in hist:
        gap = r["s"] - r["lb"]
        ratio = f"{gap / prev:6.2f}" if prev else "      "
        prev = gap
        if "sigma" in r:
            print(f"  {r['it']:2d} {gap:9.2e} {ratio} {r['predictor_primal']:6.3f} {r['predictor_dual']:6.3f}"
                  f" {r['sigma']:6.3f} {r['step_primal']:6.3f} {r['step_dual']:6.3f}")
        else:
            print(f"  {r['it']:2d} {gap:9.2e} {ratio}")
    if kind == "fmmc" and len(hist) > window:
        wk = kept(hist, "w", window, keep)
        xk = kept(hist, "x3", window, keep)
        sk, zk = kept(hist, "s4", window, keep), kept(hist, "x4", window, keep)
        print(f"  edges: {wk.sum()} weights kept > 0, {xk.sum()} multipliers of w >= 0 kept, "
              f"{(~wk & ~xk).sum()} of {len(wk)} with both -> 0 (not strictly complementary), {(wk & xk).sum()} with both kept")
        print(f"  nodes: {sk.sum()} row-sum slacks kept, {zk.sum()} multipliers kept, "
              f"{(~sk & ~zk).sum()} of {n} with both -> 0")
    L = _laplacian(n, ei, ej, w)
    P = np.eye(n) - 1.0 / n
    S1 = L - P + s * np.eye(n)
    S2 = P - L + s * np.eye(n)
    ey, e1, e2 = np.linalg.eigvalsh(Y), np.linalg.eigvalsh(S1), np.linalg.eigvalsh(S2)
    big = 1e-4 * np.abs(ey).max()
    r1, r2 = int((ey > big).sum()), int((ey < -big).sum())
    k1, k2 = int((e1 < 1e-4).sum()), int((e2 < 1e-4).sum())
    print(f"  LMI block 1 (lambda_2 side): rank X1 ~ {r1}, nullity S1 ~ {k1}, sum {r1 + (n - k1)} of {n} "
          f"as rank X1 + rank S1; smallest eig S1 {e1[0]:.1e}")
    print(f"  LMI block 2 (lambda_n side): rank X2 ~ {r2}, nullity S2 ~ {k2}, sum {r2 + (n - k2)} of {n}; "
          f"smallest eig S2 {e2[0]:.1e}")
    if kind == "fmmc":
        print(f"  weights below 1e-3: {(w < 1e-3).sum()} of {len(w)}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", nargs="+", default=["geo:300", "geo:500"])
    ap.add_argument("--kinds", nargs="+", default=["fmmc", "fdla"])
    ap.add_argument("--tol", type=float, default=1e-7)
    ap.add_argument("--window", type=int, default=3)
    ap.add_argument("--keep", type=float, default=0.8)
    args = ap.parse_args(argv)
    for c in args.configs:
        family, n = c.split(":")
        for kind in args.kinds:
            one(family, int(n), kind, args.tol, args.window, args.keep)
    return 0


if __name__ == "__main__":
    sys.exit(main())

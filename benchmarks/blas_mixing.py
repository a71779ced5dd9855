"""What alternating NumPy's and SciPy's BLAS costs: the same dense work three ways, interleaved.

Usage::

    python benchmarks/blas_mixing.py [--sizes 200 500 1000] [--repeats 7] [--blas-threads 2]
                                     [--out benchmarks/results/blas_mixing.json]
    python benchmarks/blas_mixing.py --lobpcg [--sizes 1000 5000] [--repeats 5]
                                     [--out benchmarks/results/blas_mixing_lobpcg.json]

NumPy's and SciPy's PyPI wheels each bundle their own OpenBLAS, each with its own thread pool.  One
"round" here is a matrix product followed by a Cholesky factor of an ``n x n`` SPD matrix, done
four times:

* ``numpy``: ``a @ b`` and ``numpy.linalg.cholesky`` (NumPy's OpenBLAS only);
* ``scipy``: ``scipy.linalg.blas.dgemm`` and ``scipy.linalg.cholesky`` (SciPy's only);
* ``mixed``: ``a @ b`` (NumPy's) then ``scipy.linalg.cholesky`` (SciPy's), the pattern the SDP
  interior point had before it moved to SciPy's BLAS only (``problems/_sdp/ipm.py``).

The three are timed interleaved, with a 0.3 s pause before each round (an idle OpenBLAS pool spins
for a while before it sleeps, and a round must not pay for the previous round's library); each
number is the median of ``--repeats`` rounds.  The flop
count is the same in all three, so ``mixed`` above the slower of the other two is the cost of
handing the cores from one thread pool to the other.

``--lobpcg`` measures the first-order SDP path's eigensolver call (``problems/_sdp_first_order.py``:
``scipy.sparse.linalg.lobpcg`` on the sparse ``W - J`` of Metropolis weights on
``graphs.geometric(n)``, a 48-vector block, ``largest=True, tol=1e-9, maxiter=40``, deflating the
ones vector).  LOBPCG does its block products with NumPy and its Rayleigh-Ritz ``eigh`` with SciPy:
the mixed pattern.  The thread count is fixed when a process starts, so each round is a fresh
process: one with BLAS pinned to 1 thread (what ``benchmarks/sdp_first_order.py`` uses) and one
left at 2 (what the public API got on this machine unless the caller pinned), and one left at 2
with each call inside the solver's own limit (``_sdp_first_order._eigen_threads``, what it now does
itself), interleaved; each process times 3 calls after one warm-up and reports their median.
"""

from __future__ import annotations

import sys

if "--blas-threads" not in sys.argv:
    sys.argv[1:1] = ["--blas-threads", "2"]

if __package__:
    from benchmarks._blas import pin_blas_threads
    from benchmarks._common import interleaved, median
else:  # run as a script: benchmarks/ is on sys.path
    from _blas import pin_blas_threads
    from _common import interleaved, median

_THREADS = pin_blas_threads(sys.argv)

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import scipy.linalg as sla  # noqa: E402
from scipy.linalg import blas  # noqa: E402


def _rounds(n: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    a = np.asfortranarray(rng.standard_normal((n, n)))
    b = np.asfortranarray(rng.standard_normal((n, n)))
    spd = a @ a.T / n + np.eye(n)

    def numpy_round():
        for _ in range(4):
            c = a @ b
            np.linalg.cholesky(spd)
        return c

    def scipy_round():
        for _ in range(4):
            c = blas.dgemm(1.0, a, b)
            sla.cholesky(spd, lower=True, check_finite=False)
        return c

    def mixed_round():
        for _ in range(4):
            c = a @ b
            sla.cholesky(spd, lower=True, check_finite=False)
        return c

    return {"numpy": numpy_round, "scipy": scipy_round, "mixed": mixed_round}


def _lobpcg_one(n: int, limit: bool) -> float:
    """Median seconds of 3 LOBPCG calls (after one warm-up) in this process, as the solver calls it;
    with ``limit``, each call runs inside the solver's own BLAS limit (one thread)."""
    import contextlib
    import time

    import scipy.sparse as sps
    import scipy.sparse.linalg as spla

    from problems import _sdp_first_order as fo
    from problems import graphs, mixing

    fo.EIGEN_BLAS_THREADS = 1

    W = sps.csr_matrix(mixing.metropolis(graphs.geometric(n, seed=0)))
    ones = np.ones((n, 1)) / np.sqrt(n)
    X0 = np.random.default_rng(0).standard_normal((n, fo.KMAX))  # the solver's largest block
    X0 -= ones @ (ones.T @ X0)
    times = []
    for i in range(4):
        t = time.perf_counter()
        with fo._eigen_threads() if limit else contextlib.nullcontext():
            spla.lobpcg(W, X0.copy(), Y=ones, largest=True, tol=1e-9, maxiter=40)
        if i:
            times.append(time.perf_counter() - t)
    return median(times)


def _lobpcg_main(args) -> None:
    import subprocess
    from pathlib import Path

    here = Path(__file__).resolve()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(here.parents[1]), os.environ.get("PYTHONPATH", "")])}
    print(f"# LOBPCG (48-vector block, maxiter 40) on Metropolis W of geometric(n), BLAS threads 1 vs 2 "
          f"({os.cpu_count()} CPUs; one process per round, {args.repeats} interleaved rounds, median)\n")
    head = ["n", "1 thread (s)", "2 threads (s)", "2 threads, limited to 1 per call (s)", "2 / 1", "limited / 1"]
    print("| " + " | ".join(head) + " |\n|" + "|".join("---" for _ in head) + "|")
    rows = []
    cases = {"1": ("1", []), "2": ("2", []), "2-limited": ("2", ["--limit"])}
    for n in args.sizes:
        got = {k: [] for k in cases}
        for _ in range(args.repeats):
            for name, (threads, extra) in cases.items():
                cmd = [sys.executable, str(here), "--blas-threads", threads, "--lobpcg-one", str(n), *extra]
                out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
                got[name].append(float(out.stdout.strip().splitlines()[-1]))
        one, two, lim = median(got["1"]), median(got["2"]), median(got["2-limited"])
        rows.append(dict(n=n, one_thread_s=one, two_threads_s=two, two_threads_limited_s=lim, raw=got))
        print(f"| {n} | {one:.3f} | {two:.3f} | {lim:.3f} | {two / one:.2f} | {lim / one:.2f} |", flush=True)
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(dict(mode="lobpcg", cpus=os.cpu_count(), numpy=np.__version__, scipy=scipy.__version__,
                           command=(f"python benchmarks/blas_mixing.py --lobpcg --sizes {' '.join(map(str, args.sizes))} "
                                    f"--repeats {args.repeats} --out {args.out}"),
                           rows=rows), fh, indent=1)  # fmt: skip


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", nargs="+", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--blas-threads", default=_THREADS)
    ap.add_argument("--out", default=None)
    ap.add_argument("--lobpcg", action="store_true", help="time the first-order path's LOBPCG call, 1 vs 2 threads")
    ap.add_argument("--lobpcg-one", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--limit", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.lobpcg_one is not None:
        print(_lobpcg_one(args.lobpcg_one, args.limit))
        return
    if args.lobpcg:
        args.sizes = args.sizes or [1000, 5000]
        if min(args.sizes) < 5 * 48:
            ap.error(f"--lobpcg needs sizes >= 240 (LOBPCG wants n >= 5 x its 48-vector block); got {args.sizes}")
        args.repeats = args.repeats or 5
        _lobpcg_main(args)
        return
    args.sizes = args.sizes or [200, 500, 1000]
    args.repeats = args.repeats or 7
    print(f"# NumPy vs SciPy vs mixed BLAS ({os.cpu_count()} CPUs, BLAS threads {args.blas_threads}; "
          f"4 x (product + Cholesky) per round, median of {args.repeats} interleaved)\n")
    head = ["n", "numpy (ms)", "scipy (ms)", "mixed (ms)", "mixed / max(numpy, scipy)"]
    print("| " + " | ".join(head) + " |\n|" + "|".join("---" for _ in head) + "|")
    rows = []
    for n in args.sizes:
        # the pause lets the other library's idle threads stop spinning before a round is timed
        times = interleaved(_rounds(n), args.repeats, warmup=1, pause=0.3)
        med = {k: 1e3 * median(v) for k, v in times.items()}
        ratio = med["mixed"] / max(med["numpy"], med["scipy"])
        rows.append(dict(n=n, numpy_ms=med["numpy"], scipy_ms=med["scipy"], mixed_ms=med["mixed"], ratio=ratio))
        print(f"| {n} | {med['numpy']:.1f} | {med['scipy']:.1f} | {med['mixed']:.1f} | {ratio:.2f} |", flush=True)
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(dict(blas_threads=args.blas_threads, cpus=os.cpu_count(),
                           numpy=np.__version__, scipy=scipy.__version__,
                           rows=rows), fh, indent=1)


if __name__ == "__main__":
    main()

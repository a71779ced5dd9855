"""What alternating NumPy's and SciPy's BLAS costs: the same dense work three ways, interleaved.

Usage::

    python benchmarks/blas_mixing.py [--sizes 200 500 1000] [--repeats 7] [--blas-threads 2]
                                     [--out benchmarks/results/blas_mixing.json]

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


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", nargs="+", type=int, default=[200, 500, 1000])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--blas-threads", default=_THREADS)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
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

"""Pin BLAS threads from ``--blas-threads N`` (default 1) before NumPy is imported.

Oversubscribed OpenBLAS threads on a shared 2-core machine make SDP timings meaningless, so the
SDP benchmark scripts import this module first (it imports nothing but ``os``).
"""

from __future__ import annotations

import os


def pin_blas_threads(argv) -> str:
    """Set the BLAS thread variables from ``--blas-threads`` in ``argv``; returns the value used."""
    threads = "1"
    if "--blas-threads" in argv:
        threads = argv[argv.index("--blas-threads") + 1]
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = threads
    return threads

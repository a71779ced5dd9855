import atexit
import os
import shutil
import tempfile

# One BLAS thread per core for each xdist worker (the README runs two workers on two cores). NumPy's
# and SciPy's wheels each bundle an OpenBLAS whose idle threads spin for a while after a call; two
# workers with two threads per pool kept four or more spinning threads on two cores, the mixed-pool
# slowdown of benchmarks/RESULTS.md 7e-7f. tests/problems with -n 2, interleaved A B A B on this
# 2-core machine: 102-109 s with two threads per pool, 45-52 s with one. The environment variable
# reaches the libraries loaded later and the subprocesses tests start; threadpoolctl limits any
# already loaded. A value the caller set is kept (OPENBLAS_NUM_THREADS=2 gives the old behaviour).
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _WORKERS > 1 and "OPENBLAS_NUM_THREADS" not in os.environ:
    TEST_BLAS_THREADS = max(1, (os.cpu_count() or 1) // _WORKERS)
    os.environ["OPENBLAS_NUM_THREADS"] = str(TEST_BLAS_THREADS)
    from threadpoolctl import threadpool_limits

    threadpool_limits(TEST_BLAS_THREADS, user_api="blas")

import jax
from hypothesis import settings

import algos

jax.config.update("jax_enable_x64", True)

# XLA compilation is most of this suite's time (tests/algos/test_table.py in one process: 147 s of
# its 181 s). Many compiles are of a program this process has already compiled under another Python
# cache key: a structured gossip operator that lowers to the same HLO as its dense matrix, the same
# run under a different enable_x64 context, a factory called inside vmap. JAX's persistent cache is
# keyed by the HLO itself, so it serves those (test_table.py in one process: 181 -> 108 s, 75 of its
# 295 compiles served from the cache). Each test process gets its own fresh folder, removed at exit:
# nothing is kept between runs, and no two processes share one (JAX's cache takes no file lock unless
# it has a size limit, which needs the filelock package; a folder shared by the two xdist workers was
# seen to serve a half-written entry, which JAX survived by compiling again, with a warning).
# RATEBENCH_TEST_JAX_CACHE=0 turns it off.
if os.environ.get("RATEBENCH_TEST_JAX_CACHE", "1") != "0":
    _cache_dir = tempfile.mkdtemp(prefix="ratebench-test-jax-cache-")
    atexit.register(shutil.rmtree, _cache_dir, ignore_errors=True)
    algos.enable_compilation_cache(_cache_dir)

# CI draws the same examples on every run (a red CI then always means a real change);
# local runs keep drawing fresh ones.
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


def pytest_configure(config):
    # pyproject's addopts deselect these in the default run (and so in CI), which stays under 10 minutes
    # on 2 cores; ``python -m pytest -m slow tests`` runs them (and ``-m "slow or not slow"`` everything)
    config.addinivalue_line("markers", "slow: a check that takes tens of seconds; left out of the default run")

import atexit
import os
import shutil
import tempfile

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

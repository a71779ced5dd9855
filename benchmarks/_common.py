"""Shared pieces of the benchmark harness: JAX set-up, timing, machine description.

Timing rules used everywhere (the machine is a shared 2-core VM whose load changes
from second to second):

* every comparison is a *ratio measured within one run*;
* contenders are timed *interleaved* (A, B, A, B, ...) so that a load change
  hits both, and the reported number is the median over the repeats;
* steady-state times exclude compilation (one warm-up call first); end-to-end
  times are wall-clock times of fresh processes (see ``run.py``).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = Path(os.environ.get("RATEBENCH_JAX_CACHE", Path.home() / ".cache" / "ratebench-jax"))
DEFAULT_DB_VENV = Path(os.environ.get("RATEBENCH_DB_VENV", Path.home() / ".cache" / "ratebench" / "decent-bench-venv"))


def setup_jax(cache_dir: str | Path | None = None, x64: bool = True):
    """Configure JAX for benchmarking: float64 and (optionally) the persistent compilation cache.

    The cache thresholds are lowered to zero so that the small programs of a
    benchmark (compiled in well under a second) are cached too: a second
    process running the same experiment loads them instead of compiling.
    """
    import jax

    jax.config.update("jax_enable_x64", x64)
    if cache_dir is not None:
        from algos import enable_compilation_cache

        enable_compilation_cache(cache_dir)
    return jax


def block(x):
    import jax

    return jax.block_until_ready(x)


def median(xs) -> float:
    return float(statistics.median(xs))


def interleaved(fns: dict[str, Callable[[], object]], repeats: int, warmup: int = 1,
                pause: float = 0.0) -> dict[str, list[float]]:
    """Time each zero-argument callable ``repeats`` times, interleaved; returns seconds per call.

    Each callable must block until its work is done (call :func:`block` inside).  ``pause``
    seconds are slept before each timed call (untimed), e.g. so that an idle BLAS thread pool of
    the previous callable stops spinning first.
    """
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    out: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            if pause:
                time.sleep(pause)
            t0 = time.perf_counter()
            fn()
            out[k].append(time.perf_counter() - t0)
    return out


def machine() -> dict:
    """``nproc``, CPU model, memory, load, versions."""
    info = {"nproc": os.cpu_count(), "platform": platform.platform(), "python": sys.version.split()[0]}
    try:
        info["nproc"] = int(subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip())
    except (OSError, subprocess.CalledProcessError, ValueError):
        pass
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["mem_total"] = line.split(":", 1)[1].strip()
        info["loadavg_start"] = Path("/proc/loadavg").read_text().split()[:3]
    except OSError:
        pass
    try:
        import jax
        import jaxlib
        import numpy as np

        info.update(jax=jax.__version__, jaxlib=jaxlib.__version__, numpy=np.__version__, backend=jax.default_backend())
    except ImportError:
        pass
    return info


def loadavg() -> list[str]:
    try:
        return Path("/proc/loadavg").read_text().split()[:3]
    except OSError:
        return []


def dump(path: str | Path, obj) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(obj, indent=1, default=_jsonable))


def _jsonable(x):
    try:
        import numpy as np

        if isinstance(x, np.generic):
            return x.item()
        if isinstance(x, np.ndarray):
            return x.tolist()
    except ImportError:
        pass
    return str(x)


def fmt_time(s: float) -> str:
    """Seconds as a short human string (us / ms / s)."""
    if s != s:  # NaN
        return "n/a"
    if s < 1e-3:
        return f"{s * 1e6:.1f} us"
    if s < 1.0:
        return f"{s * 1e3:.1f} ms"
    return f"{s:.2f} s"


def md_table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def sdp_graph(family: str, n: int, seed: int):
    """The graphs of the SDP benchmarks: ``geo`` (:func:`problems.graphs.geometric`), ``reg`` (a random
    4-regular graph, ``networkx.random_regular_graph(4, n, seed)``) and ``complete``."""
    import networkx as nx

    from problems import graphs

    if family == "geo":
        return graphs.geometric(n, seed=seed)
    if family == "reg":
        return graphs.from_networkx(nx.random_regular_graph(4, n, seed=seed))
    if family == "complete":
        return graphs.complete(n)
    raise ValueError(f"unknown graph family {family!r}; use 'geo', 'reg' or 'complete'")


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MB (``ru_maxrss`` is in kB on Linux)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def relative_difference(a, b) -> float:
    """Of two output trees (NumPy or JAX arrays): 0.0 when they are bit-identical, else the largest
    leaf difference relative to the leaf's largest entry (NaN on one side only counts as 1)."""
    import jax
    import numpy as np

    worst = 0.0
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b), strict=True):
        x, y = np.asarray(x), np.asarray(y)
        if x.shape != y.shape:
            return np.inf
        if x.tobytes() == y.tobytes():
            continue
        if x.dtype.kind not in "fc":
            return np.inf
        if not np.array_equal(np.isnan(x), np.isnan(y)):
            return 1.0
        ok = ~np.isnan(x)
        scale = max(np.max(np.abs(x[ok]), initial=0.0), np.finfo(x.dtype).tiny)
        worst = max(worst, float(np.max(np.abs(x[ok] - y[ok]), initial=0.0) / scale))
    return worst

"""The run engine of the working tree against the engine of a git revision: compile time, kernel
count, step time and outputs of the same run programs.

Both ``algos/_core.py`` files are loaded in one process (the revision's from ``git show
REV:algos/_core.py``, as a separate module); every method of tests/algos/test_table.py on its three
problems (logistic excluded for MSDA), in float64 and float32, 1,500 steps recorded every ``--every``
(default 50), is lowered by
each engine and compiled with ``RUN_COMPILER_OPTIONS``, interleaved (the order alternating per
program). A row counts the XLA fusion kernels of each optimized program and compares every output
leaf (bit-identical, or the largest difference relative to the leaf's largest entry).

``--step-time`` instead times one compiled run per engine per step (a quadratic, ``n`` nodes, ``d``
dimensions, ``record_every`` 1, 10 and 100), interleaved, median of ``--repeats``.

    python benchmarks/compile_engine.py [--against HEAD] [--repeats 1] [--every 50]
    python benchmarks/compile_engine.py --step-time [--against HEAD] [--repeats 15]
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jax
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "algos")]
jax.config.update("jax_enable_x64", True)

from benchmarks._common import relative_difference as difference  # noqa: E402
from benchmarks.compile_options import STATIC, table_programs  # noqa: E402

from algos import _core  # noqa: E402

def engine_at(rev: str):
    """``algos/_core.py`` as it is at git revision ``rev``, loaded as its own module."""
    src = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:algos/_core.py"], check=True, capture_output=True,
                         text=True).stdout
    path = Path(tempfile.mkdtemp()) / "_core_at_rev.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("_core_at_rev", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def kernels(exe) -> int:
    """Fusion kernels in an optimized XLA:CPU program."""
    return len(re.findall(r"kind=k(?:Loop|Input|Output|Custom)", exe.as_text()))


def compile_times(engines: dict, repeats: int, every: int):
    jits = {k: jax.jit(m._run_program, static_argnames=STATIC, compiler_options=_core.RUN_COMPILER_OPTIONS)
            for k, m in engines.items()}
    total = {k: 0.0 for k in engines}
    nk = {k: 0 for k in engines}
    count, identical, worst, worst_at = 0, 0, 0.0, ""
    for label, a, m in table_programs(repeats):
        order = list(engines) if count % 2 == 0 else list(engines)[::-1]
        outs = {}
        for k in order:
            lo = jits[k].trace(a.build, m, a.finite, a.params, np.uint32(0), 1500 // every, every).lower()
            t = time.perf_counter()
            exe = lo.compile()
            total[k] += time.perf_counter() - t
            nk[k] += kernels(exe)
            outs[k] = exe(a.params, np.uint32(0))
        d = difference(*outs.values())
        identical += d == 0.0
        if d > worst:
            worst, worst_at = d, label
        count += 1
    print(f"{count} programs ({repeats} repeats x {count // repeats}), 1500 steps recorded every {every}, jax {jax.__version__}, {jax.devices()[0].platform}")
    for k in engines:
        print(f"  {k:24s} {1e3 * total[k] / count:7.1f} ms per compile (total {total[k]:.1f} s), "
              f"{nk[k] / count:.1f} fusion kernels per program")
    a, b = (total[k] for k in engines)
    print(f"  ratio {list(engines)[0]} / {list(engines)[1]}: {a / b:.2f}x")
    print(f"  outputs bit-identical in {identical} of {count}; largest relative difference {worst:.1e} {worst_at}")
    return 0 if np.isfinite(worst) and worst < 1e-5 else 1


def step_times(engines: dict, repeats: int, n: int, d: int):
    import algos
    from problems import convex, graphs, mixing

    prob = convex.quadratic(n, d, key=0)
    W = mixing.metropolis(graphs.ring(n))
    rows = []
    for name, make in (("dgd", lambda: algos.dgd(prob, W)), ("extra", lambda: algos.extra(prob, W))):
        a = make()
        m = _core.Metrics.of(a.metrics)
        for every, steps in ((1, 2000), (10, 2000), (100, 2000)):
            exes = {}
            for k, mod in engines.items():
                j = jax.jit(mod._run_program, static_argnames=STATIC, compiler_options=_core.RUN_COMPILER_OPTIONS)
                exes[k] = j.trace(a.build, m, a.finite, a.params, np.uint32(0), steps // every, every).lower().compile()
                jax.block_until_ready(exes[k](a.params, np.uint32(0)))
            times = {k: [] for k in engines}
            for r in range(repeats):
                for k in (list(engines) if r % 2 == 0 else list(engines)[::-1]):
                    t = time.perf_counter()
                    jax.block_until_ready(exes[k](a.params, np.uint32(0)))
                    times[k].append((time.perf_counter() - t) / steps)
            med = {k: float(np.median(v)) for k, v in times.items()}
            rows.append((name, every, med))
    ks = list(engines)
    print(f"step time, quadratic n={n} d={d}, ring Metropolis W, median of {repeats} interleaved, jax {jax.__version__}")
    print(f"  {'algo':6s} {'every':>5s} " + " ".join(f"{k:>22s}" for k in ks) + "  ratio")
    for name, every, med in rows:
        print(f"  {name:6s} {every:5d} " + " ".join(f"{1e6 * med[k]:19.2f} us" for k in ks)
              + f"  {med[ks[0]] / med[ks[1]]:.3f}")
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--against", default="HEAD", help="git revision of the engine to compare with (default HEAD)")
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--step-time", action="store_true")
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--d", type=int, default=10)
    ap.add_argument("--every", type=int, default=50, help="record_every of the compiled programs (1,500 steps)")
    args = ap.parse_args(argv)
    engines = {f"engine at {args.against}": engine_at(args.against), "working tree": _core}
    if args.step_time:
        return step_times(engines, args.repeats or 15, args.n, args.d)
    return compile_times(engines, args.repeats or 1, args.every)


if __name__ == "__main__":
    sys.exit(main())

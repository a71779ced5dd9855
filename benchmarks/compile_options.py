"""Compile time of ratebench's run programs with and without ``algos._core.RUN_COMPILER_OPTIONS``.

Every method of tests/algos/test_table.py on its three problems (logistic excluded for MSDA), in float64
and float32, 30 records of 50 steps: each program is lowered once and compiled under both option sets,
interleaved (A B per program, the order alternating), and both executables are run on the same
arguments; the outputs must agree bit for bit. Prints one line per option set and the ratio.

    python benchmarks/compile_options.py [--repeats 2]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

import jax
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "algos")]
jax.config.update("jax_enable_x64", True)

import test_table as T  # noqa: E402  (the table's problems and factories)

from algos import _core  # noqa: E402

STATIC = ("build", "metrics", "finite", "num_records", "every", "shard")
VARIANTS = {"XLA default (fusion emitters on)": {}, "RUN_COMPILER_OPTIONS": dict(_core.RUN_COMPILER_OPTIONS)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args(argv)
    raw = _core._run_program
    jits = {k: jax.jit(raw, static_argnames=STATIC, compiler_options=v or None) for k, v in VARIANTS.items()}
    total = {k: 0.0 for k in VARIANTS}
    count, mismatches = 0, []
    for rep in range(args.repeats):
        for dtype in ("float64", "float32"):
            with jax.enable_x64(dtype == "float64"):
                for name in T.TABLE:
                    for kind in T.PROBLEMS:
                        if name == "msda" and kind == "logistic":
                            continue
                        a = T.build(name, T.make_problem(kind))
                        m = _core.Metrics.of(a.metrics)
                        order = list(VARIANTS) if (count % 2 == 0) else list(VARIANTS)[::-1]
                        digests = {}
                        for k in order:
                            lo = jits[k].trace(a.build, m, a.finite, a.params, np.uint32(0), 30, 50).lower()
                            t = time.perf_counter()
                            exe = lo.compile()
                            total[k] += time.perf_counter() - t
                            h = hashlib.sha256()
                            for leaf in jax.tree_util.tree_leaves(exe(a.params, np.uint32(0))):
                                h.update(np.asarray(leaf).tobytes())
                            digests[k] = h.hexdigest()
                        if len(set(digests.values())) != 1:
                            mismatches.append(f"{name}-{kind}-{dtype}")
                        count += 1
    per = {k: v / count for k, v in total.items()}
    print(f"{count} programs ({args.repeats} repeats x {count // args.repeats}), jax {jax.__version__}, {jax.devices()[0].platform}")
    for k, v in per.items():
        print(f"  {k:34s} {1e3 * v:7.1f} ms per compile (total {total[k]:.1f} s)")
    a, b = per.values()
    print(f"  ratio default / options: {a / b:.2f}x; outputs bit-identical: {not mismatches} {mismatches or ''}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())

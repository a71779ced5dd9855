"""Compile time of ratebench's run programs with and without ``algos._core.RUN_COMPILER_OPTIONS``.

Every method of tests/algos/test_table.py on its three problems (logistic excluded for MSDA), in float64
and float32, 30 records of 50 steps: each program is lowered once and compiled under both option sets,
interleaved (A B per program, the order alternating), and both executables are run on the same
arguments. Prints one line per option set, the ratio, and the programs whose outputs are not
bit-identical with their largest difference relative to the leaf's largest entry; exits 1 when one is
above 1e-5 (more than round-off).

    python benchmarks/compile_options.py [--repeats 2] [--sweep 8]

``--sweep B`` compiles each program as a sweep of ``B`` seeds instead (``jax.vmap`` of the run over
its key, through the engine's batching rule), the program an eager ``vmap`` of ``algos.run`` compiles.
"""

from __future__ import annotations

import argparse
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
from benchmarks._common import relative_difference  # noqa: E402

STATIC = _core._RUN_STATIC


def table_programs(repeats: int = 1):
    """``(label, algorithm, metrics)`` for every method of tests/algos/test_table.py on its three
    problems (logistic excluded for MSDA), in float64 and float32, ``repeats`` times; each is yielded
    inside its precision's ``jax.enable_x64`` context."""
    for _ in range(repeats):
        for dtype in ("float64", "float32"):
            with jax.enable_x64(dtype == "float64"):
                for name in T.TABLE:
                    for kind in T.PROBLEMS:
                        if name == "msda" and kind == "logistic":
                            continue
                        a = T.build(name, T.make_problem(kind))
                        yield f"{name}-{kind}-{dtype}", a, _core.Metrics.of(a.metrics)
VARIANTS = {"XLA default (fusion emitters on)": {}, "RUN_COMPILER_OPTIONS": dict(_core.RUN_COMPILER_OPTIONS)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--sweep", type=int, default=0, help="compile sweeps of this many seeds (0: single runs)")
    args = ap.parse_args(argv)
    raw = _core._run_program
    if args.sweep:
        def raw(build, metrics, finite, params, key, num_records, every, shard=None):
            one = lambda k: _core._run_program(build, metrics, finite, params, k, num_records, every, shard)  # noqa: E731
            return jax.vmap(one)(key + np.arange(args.sweep, dtype=np.uint32))
    jits = {k: jax.jit(raw, static_argnames=STATIC, compiler_options=v or None) for k, v in VARIANTS.items()}
    total = {k: 0.0 for k in VARIANTS}
    count, mismatches, worst = 0, [], 0.0
    for label, a, m in table_programs(args.repeats):
        order = list(VARIANTS) if (count % 2 == 0) else list(VARIANTS)[::-1]
        outs = {}
        for k in order:
            lo = jits[k].trace(a.build, m, a.finite, a.params, np.uint32(0), 30, 50).lower()
            t = time.perf_counter()
            exe = lo.compile()
            total[k] += time.perf_counter() - t
            outs[k] = exe(a.params, np.uint32(0))
        d = relative_difference(*outs.values())
        if d != 0.0:
            mismatches.append(f"{label} ({d:.1e})")
        worst = max(worst, d)
        count += 1
    per = {k: v / count for k, v in total.items()}
    kind = f"sweeps of {args.sweep} seeds" if args.sweep else "single runs"
    print(f"{count} programs, {kind} ({args.repeats} repeats x {count // args.repeats}), jax {jax.__version__}, {jax.devices()[0].platform}")
    for k, v in per.items():
        print(f"  {k:34s} {1e3 * v:7.1f} ms per compile (total {total[k]:.1f} s)")
    a, b = per.values()
    print(f"  ratio default / options: {a / b:.2f}x; outputs bit-identical in {count - len(mismatches)} of {count}")
    if mismatches:
        print("  differing (largest difference relative to the leaf's largest entry): " + ", ".join(mismatches))
    # round-off is expected where XLA fuses differently; anything larger is a failure
    return 1 if not (worst < 1e-5) else 0


if __name__ == "__main__":
    sys.exit(main())

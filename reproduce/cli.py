"""Command-line interface of the reproductions."""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

from reproduce import _io
from reproduce._registry import REGISTRY

# Modules that register figures; importing them fills REGISTRY.
FIGURE_MODULES = (
    "reproduce.gossip_weights",
    "reproduce.convex_rates",
    "reproduce.runtime_model",
    "reproduce.consensus_tv",
    "reproduce.dadao",
    "reproduce.worst_case",
    "reproduce.stackelberg",
    "reproduce.online_delays",
    "reproduce.collab_mab",
    "reproduce.disbe_lucb",
    "reproduce.dsbo",
)

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "paper_figures"
#: Quick runs write here (git-ignored), never over the committed full-size gallery in DEFAULT_OUT.
QUICK_OUT = DEFAULT_OUT / "quick"


def default_out(quick: bool) -> Path:
    """``paper_figures/quick`` for quick runs, ``paper_figures`` (the gallery) for full-size runs."""
    return QUICK_OUT if quick else DEFAULT_OUT


def load_figures() -> dict:
    for mod in FIGURE_MODULES:
        importlib.import_module(mod)
    return REGISTRY


def _progress(name: str):
    start = time.perf_counter()

    def report(msg: str) -> None:
        print(f"  [{name} {time.perf_counter() - start:6.1f}s] {msg}", file=sys.stderr, flush=True)

    return report


def run_figure(name: str, *, quick: bool = False, out_dir: Path | None = None) -> bool:
    """Run one figure, write its PNG and JSON atomically; return True when every claim passes.

    ``out_dir`` defaults to :func:`default_out` (quick runs never overwrite the gallery)."""
    import jax

    jax.config.update("jax_enable_x64", True)
    from algos import enable_compilation_cache

    enable_compilation_cache()  # a second run of a figure loads its programs instead of compiling
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir) if out_dir is not None else default_out(quick)
    if quick and out_dir.resolve() == DEFAULT_OUT.resolve():
        raise SystemExit(
            f"--out {out_dir}: quick results may not overwrite the committed full-size gallery; "
            f"omit --out (quick runs go to {QUICK_OUT}) or pass another folder"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    figs = load_figures()
    if name not in figs:
        raise SystemExit(f"unknown figure {name!r}; `python -m reproduce list` shows the {len(figs)} available")
    fig_def = figs[name]
    print(f"== {name}: {fig_def.paper}{' (quick)' if quick else ''}", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    result = fig_def.fn(quick=quick, progress=_progress(name))
    elapsed = time.perf_counter() - t0
    payload = {
        "figure": name,
        "paper": fig_def.paper,
        "quick": quick,
        "seed": result.seed,
        "config": result.config,
        "versions": _io.versions(),
        "elapsed_s": elapsed,
        "claims": [
            {"name": c.name, "statement": c.statement, "passed": bool(c.passed), "details": c.details} for c in result.claims
        ],
        "all_claims_pass": all(c.passed for c in result.claims),
        "data": result.data,
    }
    _io.write_figure(out_dir / f"{name}.png", result.figure)
    plt.close(result.figure)
    _io.write_json(out_dir / f"{name}.json", payload)
    for c in result.claims:
        print(f"  {'PASS' if c.passed else 'FAIL'}  {c.name}: {c.statement}", file=sys.stderr)
    ok = all(c.passed for c in result.claims)
    print(
        f"== {name}: {'all claims pass' if ok else 'SOME CLAIMS FAIL'} ({elapsed:.1f}s) -> {out_dir / (name + '.png')}",
        file=sys.stderr,
        flush=True,
    )
    return ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reproduce", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="list the figures, their papers and the claims they check")
    p_run = sub.add_parser("run", help="run one figure")
    p_run.add_argument("name")
    p_run.add_argument("--quick", action="store_true", help="small sizes (seconds, not minutes)")
    p_run.add_argument("--out", type=Path, default=None, help="output folder (default: paper_figures, or paper_figures/quick with --quick)")
    p_all = sub.add_parser("all", help="run every figure")
    p_all.add_argument("--quick", action="store_true")
    p_all.add_argument("--out", type=Path, default=None, help="output folder (default: paper_figures, or paper_figures/quick with --quick)")
    args = parser.parse_args(argv)

    if args.cmd == "list":
        for f in load_figures().values():
            print(f"{f.name}\n  paper: {f.paper}")
            for c in f.claims:
                print(f"  claim: {c}")
        return 0
    if args.cmd == "run":
        return 0 if run_figure(args.name, quick=args.quick, out_dir=args.out) else 1
    failed = [n for n in load_figures() if not run_figure(n, quick=args.quick, out_dir=args.out)]
    if failed:
        print(f"claims failed in: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0

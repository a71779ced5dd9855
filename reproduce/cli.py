"""Command-line interface of the reproductions.

``python -m reproduce list | run NAME [--quick] [--out DIR] | all [--quick] [--out DIR]
| plot NAME [--quick] [--out DIR] | report [--quick] [--out DIR]``

* ``run`` computes a figure and writes ``NAME.png`` and ``NAME.json`` into the output folder
  (``paper_figures/``, the committed gallery; ``paper_figures/quick/``, git-ignored, with ``--quick``);
  the exit code is 1 when a checked claim fails.
* ``all`` runs every figure; a figure that stops with an error is reported and skipped (its
  previous pair is untouched) and the others still run; exit code 2 when one stopped, else 1 when a
  claim failed, else 0.
* ``plot`` redraws ``NAME.png`` from ``NAME.json`` without recomputing (figures registered with ``plot=``).
* ``report`` writes ``index.html`` into the output folder: every figure, its paper, each claim with
  its status and details, the configuration and the provenance (commit, command, backend).
"""

from __future__ import annotations

import argparse
import datetime
import difflib
import importlib
import os
import subprocess
import sys
import time
import traceback
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
    "reproduce.sam_identity",
    "reproduce.dsgd_rates",
    "reproduce.dfedsam",
    "reproduce.anarchic_fl",
    "reproduce.local_updates",
    "reproduce.dsbo",
)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "paper_figures"
#: Quick runs write here (git-ignored), never over the committed full-size gallery in DEFAULT_OUT.
QUICK_OUT = DEFAULT_OUT / "quick"
#: Version of the result-file layout (2: provenance, png_sha256, null for non-finite, plot from JSON).
FORMAT = 2
QUICK_MARK = "QUICK RUN (small sizes): not the paper-size result"


class CliError(SystemExit):
    """A bad command-line input or an unusable output folder: ``main`` prints it as one line, exit code 2
    (a SystemExit, so a caller of ``run_figure`` that does not catch it still stops with the message)."""


def default_out(quick: bool) -> Path:
    """``paper_figures/quick`` for quick runs, ``paper_figures`` (the gallery) for full-size runs."""
    return QUICK_OUT if quick else DEFAULT_OUT


def load_figures() -> dict:
    for mod in FIGURE_MODULES:
        importlib.import_module(mod)
    return REGISTRY


def _figure(name: str):
    figs = load_figures()
    if name not in figs:
        close = difflib.get_close_matches(name, list(figs), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise CliError(f"unknown figure {name!r}; {hint}`python -m reproduce list` shows the {len(figs)} available: {', '.join(figs)}")
    return figs[name]


def _progress(name: str):
    start = time.perf_counter()

    def report(msg: str) -> None:
        print(f"  [{name} {time.perf_counter() - start:6.1f}s] {msg}", file=sys.stderr, flush=True)

    return report


def resolve_out(out_dir, quick: bool) -> Path:
    out = Path(out_dir) if out_dir is not None else default_out(quick)
    if quick and out.resolve() == DEFAULT_OUT.resolve():
        raise CliError(
            f"--out {out}: quick results may not overwrite the committed full-size gallery; "
            f"omit --out (quick runs go to {QUICK_OUT}) or pass another folder"
        )
    return out


def check_out_dir(out: Path) -> Path:
    """Make sure ``out`` is (or can be made) a writable folder, before anything is computed."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise CliError(f"--out {out}: is a file, not a folder; pass a folder (it is created if missing)")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CliError(f"--out {out}: cannot create this folder ({e.strerror or e}); pass a folder you can write to") from None
    probe = out / f".rbtmp-{os.getpid()}-probe.tmp"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise CliError(f"--out {out}: folder is not writable ({e.strerror or e}); pass a folder you can write to") from None
    for line in _io.recover(out):
        print(f"  [{out}] {line}", file=sys.stderr)
    return out


def _setup_jax():
    """float64, and the persistent compilation cache (a warning, not a failure, when it cannot be made)."""
    import jax

    jax.config.update("jax_enable_x64", True)
    from algos import enable_compilation_cache

    try:
        enable_compilation_cache()  # a second run of a figure loads its programs instead of compiling
    except OSError as e:
        where = os.environ.get("RATEBENCH_JAX_CACHE") or "~/.cache/ratebench/jax"
        print(
            f"warning: JAX compilation cache folder {where} cannot be made ({e.strerror or e}); running without it "
            "(set RATEBENCH_JAX_CACHE to a writable folder, or to an empty string to turn the cache off)",
            file=sys.stderr,
        )
    import matplotlib

    matplotlib.use("Agg")


def git_state(root: Path = REPO_ROOT) -> dict:
    """Commit of ``root`` and whether tracked files outside ``paper_figures/`` differ from it."""
    def git(*args):
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30)

    try:
        head = git("rev-parse", "HEAD")
        if head.returncode != 0:
            return {"commit": None, "dirty": None, "error": head.stderr.strip() or "not a git repository"}
        st = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)paper_figures")
        changed = [ln[3:] for ln in st.stdout.splitlines() if ln.strip()]
        return {"commit": head.stdout.strip(), "dirty": bool(changed), "changed": changed[:50], "error": None}
    except (OSError, subprocess.SubprocessError) as e:
        return {"commit": None, "dirty": None, "error": f"git unavailable: {e}"}


def provenance(argv) -> dict:
    import jax

    x64 = bool(jax.config.read("jax_enable_x64"))
    return {
        "git": git_state(),
        "command": " ".join(["python -m reproduce", *argv]) if argv is not None else " ".join(sys.argv),
        "timestamp_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "jax": {"backend": jax.default_backend(), "devices": [str(d) for d in jax.devices()], "x64": x64,
                "precision": "float64" if x64 else "float32"},
    }


def _mark_quick(fig) -> None:
    fig.text(0.5, 1.0, QUICK_MARK, ha="center", va="bottom", fontsize=13, fontweight="bold", color="white",
             bbox={"facecolor": "#c62828", "edgecolor": "none", "pad": 4})


def _render(fig_def, payload: dict, fig=None) -> bytes:
    """PNG of a figure: new style drawn from the JSON payload, old style from the figure given."""
    import matplotlib.pyplot as plt

    if fig_def.plot is not None:
        fig = fig_def.plot(payload)
    if payload.get("quick"):
        _mark_quick(fig)
    try:
        return _io.figure_png(fig)
    finally:
        plt.close(fig)


def _module_config(fig_def):
    mod = sys.modules.get(getattr(fig_def.fn, "__module__", ""), None)
    return getattr(mod, "CONFIG", None)


def run_figure(name: str, *, quick: bool = False, out_dir: Path | None = None, argv=None) -> bool:
    """Run one figure, write its PNG and JSON as one pair; return True when every claim passes.

    ``out_dir`` defaults to :func:`default_out` (quick runs never overwrite the gallery). The output
    folder is checked before anything is computed."""
    fig_def = _figure(name)
    out_dir = check_out_dir(resolve_out(out_dir, quick))
    _setup_jax()
    if argv is None:
        argv = ["run", name, *(["--quick"] if quick else []), *(["--out", str(out_dir)] if out_dir != default_out(quick) else [])]
    print(f"== {name}: {fig_def.paper}{' (quick)' if quick else ''}", file=sys.stderr, flush=True)
    prov = provenance(argv)  # the code as it was when the computation started
    t0 = time.perf_counter()
    result = fig_def.fn(quick=quick, progress=_progress(name))
    elapsed = time.perf_counter() - t0
    payload = {
        "format": FORMAT,
        "figure": name,
        "paper": fig_def.paper,
        "quick": quick,
        "seed": result.seed,
        "config": result.config,
        "module_config": _module_config(fig_def),
        "provenance": prov,
        "versions": _io.versions(),
        "elapsed_s": elapsed,
        "claims": [
            {"name": c.name, "statement": c.statement, "passed": bool(c.passed), "details": c.details} for c in result.claims
        ],
        "all_claims_pass": all(c.passed for c in result.claims),
        "replottable": fig_def.plot is not None,
        "data": result.data,
    }
    import json

    payload = json.loads(_io.dumps(payload))  # the plot sees exactly what the file holds
    try:
        png = _render(fig_def, payload, result.figure)
    except Exception:
        # keep the computed result (minutes of work) beside, never in place of, the current pair
        kept = out_dir / f"{name}.unplotted.json"
        _io.write_json(kept, payload)
        traceback.print_exc()
        raise CliError(f"the plot of {name} failed (traceback above); its computed result is kept in {kept}: fix the plot, then "
                       f"python -m reproduce plot {name} --json {kept}{' --quick' if quick else ''}") from None
    payload["png_sha256"] = _io.sha256(png)
    _io.write_pair(out_dir, name, png, _io.dumps(payload))
    for c in result.claims:
        print(f"  {'PASS' if c.passed else 'FAIL'}  {c.name}: {c.statement}", file=sys.stderr)
    ok = payload["all_claims_pass"]
    print(
        f"== {name}: {'all claims pass' if ok else 'SOME CLAIMS FAIL'} ({elapsed:.1f}s) -> {out_dir / (name + '.png')}",
        file=sys.stderr,
        flush=True,
    )
    return ok


def read_result(path: Path) -> dict:
    import json

    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise CliError(f"{path}: no result file; run the figure first (`python -m reproduce run NAME`)") from None
    except (OSError, ValueError) as e:
        raise CliError(f"{path}: cannot read it as a result file ({e})") from None


def plot_figure(name: str, *, quick: bool = False, out_dir: Path | None = None, json_path: Path | None = None) -> Path:
    """Redraw ``NAME.png`` from ``NAME.json`` in the output folder (or from ``json_path``), without recomputing."""
    fig_def = _figure(name)
    out_dir = check_out_dir(resolve_out(out_dir, quick))
    if fig_def.plot is None:
        raise CliError(
            f"figure {name!r} draws its plot inside its computation (registered without plot=), so it cannot "
            f"be redrawn from its JSON; run it again: python -m reproduce run {name}"
        )
    path = Path(json_path) if json_path is not None else out_dir / f"{name}.json"
    payload = read_result(path)
    if payload.get("figure", name) != name:
        raise CliError(f"--json {path}: is a result of figure {payload.get('figure')!r}, not {name!r}")
    if payload.get("format", 1) < FORMAT or not payload.get("replottable"):
        raise CliError(f"{path}: written by an older version of reproduce (no plot data); run it again: python -m reproduce run {name}")
    import matplotlib

    matplotlib.use("Agg")
    png = _render(fig_def, payload)
    payload["png_sha256"] = _io.sha256(png)
    _io.write_pair(out_dir, name, png, _io.dumps(payload))
    print(f"== {name}: redrawn from {path} -> {out_dir / (name + '.png')}", file=sys.stderr)
    return out_dir / f"{name}.png"


def report(*, quick: bool = False, out_dir: Path | None = None) -> Path:
    """Write ``index.html`` (the gallery page) into the output folder."""
    from reproduce import _report

    out_dir = check_out_dir(resolve_out(out_dir, quick))
    figs = load_figures()
    dest = out_dir / "index.html"
    _io.write_text(dest, _report.render(out_dir, figs, git_state()))
    print(f"== report -> {dest}", file=sys.stderr)
    return dest


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m reproduce", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True, metavar="{list,run,all,plot,report}")
    sub.add_parser("list", help="list the figures, their papers and the claims they check")
    out_help = "output folder (default: paper_figures, or paper_figures/quick with --quick)"
    for cmd, help_ in (("run", "run one figure"), ("all", "run every figure"),
                       ("plot", "redraw one figure from its JSON, without recomputing"),
                       ("report", "write index.html: every figure with its claims, configuration and commit")):
        p = sub.add_parser(cmd, help=help_)
        if cmd in ("run", "plot"):
            p.add_argument("name", help="figure name (see `python -m reproduce list`)")
        p.add_argument("--quick", action="store_true", help="small sizes (seconds, not minutes); results go to paper_figures/quick")
        p.add_argument("--out", type=Path, default=None, help=out_help)
        if cmd == "plot":
            p.add_argument("--json", type=Path, default=None, help="result file to draw from (default: NAME.json in the output folder)")
    return parser


def _main(argv) -> int:
    args = _parser().parse_args(argv)
    if args.cmd == "list":
        for f in load_figures().values():
            print(f"{f.name}\n  paper: {f.paper}")
            for c in f.claims:
                print(f"  claim: {c}")
        return 0
    if args.cmd == "run":
        return 0 if run_figure(args.name, quick=args.quick, out_dir=args.out, argv=argv) else 1
    if args.cmd == "plot":
        plot_figure(args.name, quick=args.quick, out_dir=args.out, json_path=args.json)
        return 0
    if args.cmd == "report":
        report(quick=args.quick, out_dir=args.out)
        return 0
    out = check_out_dir(resolve_out(args.out, args.quick))  # checked once, before the first figure
    failed, crashed = [], []
    for n in list(load_figures()):
        # one figure's error must not cost the others: report it, keep going, exit non-zero at the end
        try:
            if not run_figure(n, quick=args.quick, out_dir=out, argv=argv):
                failed.append(n)
        except Exception as e:  # KeyboardInterrupt is not an Exception: Ctrl-C still stops the whole run
            if not isinstance(e, CliError):
                traceback.print_exc()
            print(f"== {n}: ERROR, no result written for it ({type(e).__name__}: {e}); continuing with the next figure",
                  file=sys.stderr, flush=True)  # fmt: skip
            crashed.append(n)
    if failed:
        print(f"claims failed in: {', '.join(failed)}", file=sys.stderr)
    if crashed:
        print(f"figures that stopped with an error (no new result; rerun each with `python -m reproduce run NAME`): "
              f"{', '.join(crashed)}", file=sys.stderr)  # fmt: skip
        return 2
    return 1 if failed else 0


def main(argv=None) -> int:
    """Entry point: bad inputs are one line on stderr (exit 2), Ctrl-C one line (exit 130)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return _main(argv)
    except CliError as e:
        print(f"python -m reproduce: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("python -m reproduce: interrupted (Ctrl-C); the figure being computed was not written, "
              "files already written are unchanged", file=sys.stderr)
        return 130


"""The committed gallery (paper_figures/*.json): a stale result is visible as such.

* A result that records the commit it was computed at: that commit must be an ancestor of HEAD
  (a result from a branch that was never merged, or from a rewritten history, fails).
* A result that records no commit (written before provenance was kept) must be one of
  ``LEGACY_NO_COMMIT``, the figures not regenerated since, too expensive to recompute here; they are
  reported by name (a warning in the test summary), never passed silently, and the list may only shrink.
* Every committed pair is consistent: the JSON's ``png_sha256`` is the PNG's, and the JSON is strict
  (no NaN/Infinity tokens, no "nan" strings where a number belongs) once it has a format.
"""

import json
import subprocess
import warnings
from pathlib import Path

import pytest

from reproduce import _io

ROOT = Path(__file__).resolve().parent.parent
#: Results computed before provenance was recorded and not regenerated yet (empty since issue 8 regenerated all ten).
LEGACY_NO_COMMIT: set[str] = set()


def _git(*args):
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=60)


def _committed_results() -> dict:
    r = _git("ls-files", "paper_figures/*.json")
    if r.returncode != 0:
        pytest.skip(f"not a git checkout ({r.stderr.strip()}): the committed gallery cannot be listed")
    files = [ROOT / f for f in r.stdout.split() if "/quick/" not in f]
    assert files, "no committed result in paper_figures/"
    return {p.stem: json.loads(p.read_text()) for p in files}


def _commit(res: dict):
    return ((res.get("provenance") or {}).get("git") or {}).get("commit")


def test_recorded_commits_are_ancestors_of_head():
    results = {n: c for n, r in _committed_results().items() if (c := _commit(r))}
    if _git("rev-parse", "--is-shallow-repository").stdout.strip() == "true":
        missing = [n for n, c in results.items() if _git("cat-file", "-e", f"{c}^{{commit}}").returncode != 0]
        if missing:
            pytest.skip(f"shallow clone: the recorded commits of {', '.join(missing)} are not in it")
    not_ancestor = [f"{n} ({c[:10]})" for n, c in results.items() if _git("merge-base", "--is-ancestor", c, "HEAD").returncode != 0]
    assert not not_ancestor, f"results computed at commits that are not ancestors of HEAD (stale or from another history): {not_ancestor}"


def test_results_without_a_commit_are_exactly_the_listed_legacy_ones():
    without = {n for n, r in _committed_results().items() if not _commit(r)}
    assert without <= LEGACY_NO_COMMIT, f"results committed without provenance: {sorted(without - LEGACY_NO_COMMIT)}; regenerate them"
    assert LEGACY_NO_COMMIT <= without, f"now regenerated, drop from LEGACY_NO_COMMIT: {sorted(LEGACY_NO_COMMIT - without)}"
    if without:
        warnings.warn(f"committed results with no recorded commit (stale until regenerated): {', '.join(sorted(without))}", stacklevel=1)


def test_committed_pairs_are_consistent_and_strict():
    for name, res in _committed_results().items():
        if res.get("format", 1) < 2:
            continue  # legacy layout: listed above
        png = ROOT / "paper_figures" / f"{name}.png"
        assert res["png_sha256"] == _io.sha256(png.read_bytes()), f"{name}: PNG and JSON are from different runs"
        text = (ROOT / "paper_figures" / f"{name}.json").read_text()
        json.loads(text, parse_constant=lambda tok, name=name: pytest.fail(f"{name}.json holds the non-JSON constant {tok}"))
        assert res["quick"] is False, f"{name}: a quick result in the committed gallery"
        assert res["provenance"]["git"]["dirty"] is False, f"{name}: computed from a modified tree ({res['provenance']['git']['changed']})"


def test_every_registered_figure_keeps_config_as_data_and_plots_from_its_json():
    """The contract of reproduce._registry, for every figure of cli.FIGURE_MODULES (issue 8 converted the
    first ten, issue 8c the other six; register() refuses a new one without plot= or CONFIG)."""
    import sys

    from reproduce import cli

    figs = cli.load_figures()
    by_module = {}
    for name, f in figs.items():
        if f.fn.__module__ in cli.FIGURE_MODULES:
            by_module.setdefault(f.fn.__module__, []).append(name)
    assert set(by_module) == set(cli.FIGURE_MODULES), f"modules that register no figure: {sorted(set(cli.FIGURE_MODULES) - set(by_module))}"
    for mod, names in by_module.items():
        assert isinstance(getattr(sys.modules[mod], "CONFIG", None), dict), f"{mod}: no CONFIG dict in the module"
        for name in names:
            assert callable(figs[name].plot), f"{name}: registered without plot="


def test_committed_results_redraw_from_their_json(tmp_path):
    import shutil

    from reproduce import cli

    redrawn = []
    for name, res in _committed_results().items():
        if res.get("format", 1) < 2 or not res.get("replottable"):
            continue
        shutil.copy(ROOT / "paper_figures" / f"{name}.json", tmp_path / f"{name}.json")
        png = cli.plot_figure(name, out_dir=tmp_path)
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        redrawn.append(name)
    if not redrawn:
        pytest.skip("no committed result in the current format yet")

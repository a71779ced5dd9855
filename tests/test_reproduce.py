"""The reproduce CLI: listing, atomic results files, exit codes."""

import json
import os

import pytest

import reproduce
from reproduce import _io, cli
from reproduce._registry import REGISTRY, Claim, FigureResult


def test_list_shows_every_figure_with_paper_and_claims(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for name, fig in reproduce.load_figures().items():
        assert name in out and fig.paper in out
        assert fig.claims, f"{name} checks no claim"


def test_gossip_weights_quick_writes_png_and_json(tmp_path):
    assert cli.run_figure("gossip-weights", quick=True, out_dir=tmp_path)
    png, js = tmp_path / "gossip-weights.png", tmp_path / "gossip-weights.json"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads(js.read_text())
    assert data["all_claims_pass"] is True
    assert {"config", "versions", "seed", "data", "claims"} <= set(data)
    assert data["versions"]["jax"] and data["versions"]["numpy"]
    assert all(c["passed"] for c in data["claims"])
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    assert data["provenance"]["jax"]["precision"] == "float64" and data["png_sha256"] == _io.sha256(png.read_bytes())
    # the image is drawn from the JSON alone: redrawing it without computing gives the same bytes
    before = png.read_bytes()
    cli.plot_figure("gossip-weights", quick=True, out_dir=tmp_path)
    assert png.read_bytes() == before


def test_failing_claim_gives_nonzero_exit_and_interrupted_write_keeps_old_file(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def failing(quick=False, progress=None):
        fig = plt.figure()
        return FigureResult(fig, {"x": [1, 2]}, {}, [Claim("c", "always false here", False)])

    monkeypatch.setitem(REGISTRY, "test-failing", reproduce.Figure("test-failing", "none", ("c",), failing))
    assert cli.main(["run", "test-failing", "--out", str(tmp_path)]) == 1
    js = tmp_path / "test-failing.json"
    before = js.read_text()
    assert json.loads(before)["all_claims_pass"] is False

    class Boom(Exception):
        pass

    def boom(*a, **k):
        raise Boom

    monkeypatch.setattr(_io.json, "dumps", boom)
    with pytest.raises(Boom):
        _io.write_json(js, {"new": 1})
    assert js.read_text() == before  # the earlier result survives an interrupted write
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_unknown_figure_is_a_clear_error():
    with pytest.raises(SystemExit, match="unknown figure"):
        cli.run_figure("no-such-figure")


def test_convex_rates_fails_when_fewer_runs_are_judged_than_plotted():
    from reproduce.convex_rates import run_by_run_claim

    good = {10.0: {"extra": {"run_by_run": {"holds": True}}, "dgd": {"run_by_run": {"holds": True}}}}
    ok, info = run_by_run_claim([good])
    assert ok and info["runs_plotted"] == info["runs_judged"] == 2
    unjudged = {10.0: {"extra": {"run_by_run": {"holds": None, "message": "order only"}}, "dgd": {"run_by_run": {"holds": True}}}}
    ok, info = run_by_run_claim([unjudged])
    assert not ok and info["runs_judged"] == 1 and info["not_judged"]
    missing = {10.0: {"extra": {}}}
    assert not run_by_run_claim([missing])[0]
    violated = {10.0: {"extra": {"run_by_run": {"holds": False, "message": "FINDING"}}}}
    ok, info = run_by_run_claim([violated])
    assert not ok and info["violated"]


def test_quick_runs_never_write_the_gallery():
    from reproduce import cli

    assert cli.default_out(True) == cli.QUICK_OUT and cli.default_out(False) == cli.DEFAULT_OUT
    assert cli.QUICK_OUT != cli.DEFAULT_OUT and cli.QUICK_OUT.parent == cli.DEFAULT_OUT
    with pytest.raises(SystemExit, match="gallery"):
        cli.run_figure("gossip-weights", quick=True, out_dir=cli.DEFAULT_OUT)
    assert cli.main(["run", "gossip-weights", "--quick", "--out", str(cli.DEFAULT_OUT)]) == 2


def test_register_requires_plot_and_config(monkeypatch):
    """A figure cannot skip the contract: register() needs plot= and a CONFIG dict in the module."""
    import types

    from reproduce._registry import register

    def fn(quick=False, progress=None):
        return None

    mod = types.ModuleType("ratebench_test_contract")
    monkeypatch.setitem(__import__("sys").modules, mod.__name__, mod)
    fn.__module__ = mod.__name__
    with pytest.raises(TypeError, match="has no CONFIG dict"):
        register("test-contract", paper="none", claims=("c",), plot=lambda result: None)(fn)
    mod.CONFIG = {"quick": {}, "full": {}}
    with pytest.raises(TypeError, match=r"register\(\.\.\., plot=\) got None"):
        register("test-contract", paper="none", claims=("c",))(fn)
    assert "test-contract" not in REGISTRY
    try:
        register("test-contract", paper="none", claims=("c",), plot=lambda result: None)(fn)
        assert REGISTRY["test-contract"].plot is not None
    finally:
        REGISTRY.pop("test-contract", None)

"""The reproduce runner: PNG/JSON pairs that survive kills, --out checked first, Ctrl-C, provenance, re-plot.

Uses the fake figures of tests/_fake_figures.py (fast); child processes are killed for real (SIGKILL,
SIGINT) at the write points of ``reproduce._io.KILL_POINTS``.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import _fake_figures
from reproduce import _io, cli

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


@pytest.fixture
def fake_figures(monkeypatch):
    for name, fig in _fake_figures.FIGURES.items():
        monkeypatch.setitem(cli.REGISTRY, name, fig)
    _fake_figures.CALLS.clear()
    return _fake_figures


def _child(code: str, env_extra: dict, **kw):
    env = {**os.environ, "PYTHONPATH": f"{TESTS}{os.pathsep}{ROOT}", **env_extra}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, **kw)


def _listing(folder: Path) -> set:
    return set(os.listdir(folder))


def _pair(folder: Path, name="f"):
    return (folder / f"{name}.png").read_bytes(), json.loads((folder / f"{name}.json").read_text())


@pytest.mark.parametrize("point", _io.KILL_POINTS)
def test_sigkill_at_any_write_point_leaves_old_or_new_pair_and_no_temp(tmp_path, point):
    _io.write_pair(tmp_path, "f", b"PNG-old", json.dumps({"v": "old"}))
    code = (
        "import json, sys; from reproduce import _io; "
        f"_io.write_pair({str(tmp_path)!r}, 'f', b'PNG-new', json.dumps({{'v': 'new'}}))"
    )
    r = _child(code, {"RATEBENCH_TEST_KILL_AT": point})
    assert r.returncode == -signal.SIGKILL, r.stderr
    _io.recover(tmp_path)  # what every command does first in its output folder
    png, js = _pair(tmp_path)
    committed = _io.KILL_POINTS.index(point) >= _io.KILL_POINTS.index("committed")
    expect = "new" if committed else "old"
    assert (png, js["v"]) == (f"PNG-{expect}".encode(), expect)
    assert _listing(tmp_path) == {"f.png", "f.json"}  # no pending folder, no temp file
    assert all(os.stat(tmp_path / f).st_mode & 0o777 == 0o644 for f in ("f.png", "f.json"))


def test_recover_removes_stray_temp_files_but_not_those_of_a_live_writer(tmp_path):
    (tmp_path / ".gossip-weights.json.ab12cd34.json.tmp").write_text("x")  # left by the earlier writer
    (tmp_path / ".rbtmp-999999999-aa-x.png.png.tmp").write_text("x")  # pid that cannot exist
    live = tmp_path / f".rbtmp-{os.getppid()}-bb-x.json.json.tmp"
    live.write_text("x")
    done = _io.recover(tmp_path)
    assert len(done) == 2 and _listing(tmp_path) == {live.name}


def test_cli_killed_between_png_and_json_is_completed_by_the_next_command(tmp_path, fake_figures):
    assert cli.main(["run", "test-fake", "--out", str(tmp_path)]) == 1  # one claim fails by design
    old_png, old_js = _pair(tmp_path, "test-fake")
    code = (
        "import sys, _fake_figures; from reproduce import cli; cli.FIGURE_MODULES = (); _fake_figures.install(); "
        f"sys.exit(cli.main(['run', 'test-fake', '--out', {str(tmp_path)!r}]))"
    )
    r = _child(code, {"RATEBENCH_TEST_KILL_AT": "png_moved", "RATEBENCH_TEST_TOKEN": "b"})
    assert r.returncode == -signal.SIGKILL, r.stderr
    assert (tmp_path / "test-fake.png").read_bytes() != old_png  # killed after the PNG moved...
    assert json.loads((tmp_path / "test-fake.json").read_text())["data"]["token"] == "a"  # ...before the JSON
    assert cli.main(["report", "--out", str(tmp_path)]) == 0  # any command recovers the folder first
    png, js = _pair(tmp_path, "test-fake")
    assert js["data"]["token"] == "b" and js["png_sha256"] == _io.sha256(png)
    assert _listing(tmp_path) == {"test-fake.png", "test-fake.json", "index.html"}


def test_ctrl_c_is_one_line_and_keeps_earlier_files(tmp_path, fake_figures):
    out = tmp_path / "out"
    assert cli.main(["run", "test-fake", "--out", str(out)]) == 1
    before = {f: (out / f).read_bytes() for f in os.listdir(out)}
    marker = tmp_path / "computing"
    code = (
        "import sys, _fake_figures; from reproduce import cli; cli.FIGURE_MODULES = (); _fake_figures.install(); "
        f"sys.exit(cli.main(['run', 'test-fake', '--out', {str(out)!r}]))"
    )
    env = {**os.environ, "PYTHONPATH": f"{TESTS}{os.pathsep}{ROOT}", "RATEBENCH_TEST_SLEEP": str(marker), "RATEBENCH_TEST_TOKEN": "b"}
    p = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 90
    while not marker.exists() and p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), "the child never started computing"
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if "interrupted" in ln]
    assert len(lines) == 1 and err.rstrip().splitlines()[-1] == lines[0]
    assert {f: (out / f).read_bytes() for f in os.listdir(out)} == before


def _file(path: Path) -> Path:
    path.write_text("x")
    return path


@pytest.mark.parametrize(
    "make_out, expect",
    [
        (lambda t: _file(t / "afile"), "is a file, not a folder"),
        (lambda t: _file(t / "afile") / "sub", "cannot create this folder"),
        (lambda t: Path("/proc"), "folder is not writable"),  # read-only even for root
    ],
    ids=["file", "under-a-file", "read-only"],
)
def test_out_is_checked_before_anything_is_computed(tmp_path, fake_figures, capsys, make_out, expect):
    out = make_out(tmp_path)
    if str(out) == "/proc" and not out.is_dir():
        pytest.skip("no /proc on this system")
    assert cli.main(["run", "test-fake", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"--out {out}" in err[0] and expect in err[0] and "pass a folder" in err[0]
    assert fake_figures.CALLS == []  # nothing computed


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a mode-0555 folder; the /proc case covers read-only folders")
def test_out_read_only_folder_by_mode(tmp_path, fake_figures, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    assert cli.main(["run", "test-fake", "--out", str(ro)]) == 2
    assert "not writable" in capsys.readouterr().err and fake_figures.CALLS == []


@pytest.mark.parametrize("env", [{"RATEBENCH_JAX_CACHE": "/proc/x"}, {"RATEBENCH_JAX_CACHE": None, "HOME": "/proc/x"}])
def test_uncreatable_jax_cache_is_a_warning(monkeypatch, capsys, env):
    for k, v in env.items():
        if v is None:
            monkeypatch.delenv(k, raising=False)
        else:
            monkeypatch.setenv(k, v)
    cli._setup_jax()
    err = capsys.readouterr().err
    assert err.startswith("warning: JAX compilation cache folder") and "running without it" in err


def test_result_file_records_provenance_and_keeps_numbers_numbers(tmp_path, fake_figures):
    assert cli.main(["run", "test-fake", "--quick", "--out", str(tmp_path)]) == 1
    text = (tmp_path / "test-fake.json").read_text()

    def no_constants(tok):
        raise AssertionError(f"non-JSON constant {tok} in the result file")

    res = json.loads(text, parse_constant=no_constants)
    assert res["data"]["y"] == [1.0, None, None, 2.0]  # NaN and inf are null, not strings
    assert {float(k): v for k, v in res["data"]["by_kappa"].items()} == {10.0: 1.5, 1000.0: 2.5}
    assert {int(k): v for k, v in res["data"]["by_n"].items()} == {8: 1, 16: 2}
    prov = res["provenance"]
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert prov["git"]["commit"] == head and isinstance(prov["git"]["dirty"], bool)
    assert prov["command"] == f"python -m reproduce run test-fake --quick --out {tmp_path}"
    assert prov["timestamp_utc"].endswith("+00:00")
    assert prov["jax"]["backend"] == "cpu" and prov["jax"]["precision"] == "float64"
    assert res["config"] == {"n": 3, "seed": 7} and res["module_config"] == _fake_figures.CONFIG and res["seed"] == 7
    assert res["quick"] is True and res["format"] == cli.FORMAT
    assert res["png_sha256"] == _io.sha256((tmp_path / "test-fake.png").read_bytes())
    assert [c["passed"] for c in res["claims"]] == [True, False] and res["all_claims_pass"] is False


def test_quick_figures_are_marked_on_the_image(tmp_path, fake_figures, monkeypatch):
    texts = []
    real = _io.figure_png
    monkeypatch.setattr(_io, "figure_png", lambda fig: texts.append([t.get_text() for t in fig.texts]) or real(fig))
    cli.run_figure("test-fake", quick=True, out_dir=tmp_path / "q")
    cli.run_figure("test-fake", quick=False, out_dir=tmp_path / "f")
    cli.run_figure("test-old-style", quick=True, out_dir=tmp_path / "q")
    assert texts == [[cli.QUICK_MARK], [], [cli.QUICK_MARK]]
    assert "QUICK" in cli.QUICK_MARK


def test_plot_redraws_from_the_json_without_computing(tmp_path, fake_figures):
    cli.run_figure("test-fake", out_dir=tmp_path)
    js = tmp_path / "test-fake.json"
    res = json.loads(js.read_text())
    old_png = (tmp_path / "test-fake.png").read_bytes()
    res["data"]["token"] = "edited"  # the plot must use the file, not a recomputation
    js.write_text(json.dumps(res))
    fake_figures.CALLS.clear()
    assert cli.main(["plot", "test-fake", "--out", str(tmp_path)]) == 0
    assert fake_figures.CALLS == []
    png, new = _pair(tmp_path, "test-fake")
    assert png != old_png and new["png_sha256"] == _io.sha256(png) and new["data"]["token"] == "edited"


def test_plot_errors_are_one_line(tmp_path, fake_figures, capsys):
    cli.run_figure("test-old-style", out_dir=tmp_path)
    assert cli.main(["plot", "test-old-style", "--out", str(tmp_path)]) == 2
    assert "registered without plot=" in capsys.readouterr().err
    assert cli.main(["plot", "test-fake", "--out", str(tmp_path / "empty")]) == 2
    assert "no result file" in capsys.readouterr().err
    (tmp_path / "test-fake.json").write_text(json.dumps({"figure": "test-fake", "data": {}}))  # format 1
    assert cli.main(["plot", "test-fake", "--out", str(tmp_path)]) == 2
    assert "older version" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, expect",
    [
        (["run", "gossip-weight"], "did you mean 'gossip-weights'"),
        (["plot", "nope"], "unknown figure 'nope'"),
        (["run", "gossip-weights", "--fast"], "unrecognized arguments: --fast"),
        (["run"], "the following arguments are required: name"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_bad_cli_inputs_are_clear_errors(capsys, argv, expect):
    with pytest.raises(SystemExit) as e:
        assert cli.main(argv) == 2
        raise SystemExit(2)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert expect in err and "Traceback" not in err


def test_a_failing_plot_keeps_the_computed_result_and_the_old_pair(tmp_path, fake_figures, monkeypatch, capsys):
    cli.run_figure("test-fake", out_dir=tmp_path)
    before = {f: (tmp_path / f).read_bytes() for f in os.listdir(tmp_path)}

    def broken(result):
        raise RuntimeError("plot bug")

    monkeypatch.setitem(cli.REGISTRY, "test-fake", cli.REGISTRY["test-fake"].__class__(
        "test-fake", "Fake et al. 2000", ("holds", "fails"), _fake_figures.fake, broken))
    monkeypatch.setenv("RATEBENCH_TEST_TOKEN", "b")
    assert cli.main(["run", "test-fake", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "RuntimeError: plot bug" in err and "python -m reproduce plot test-fake --json" in err.splitlines()[-1]
    kept = tmp_path / "test-fake.unplotted.json"
    assert json.loads(kept.read_text())["data"]["token"] == "b"
    assert {f: (tmp_path / f).read_bytes() for f in before} == before  # the previous pair is untouched
    monkeypatch.setitem(cli.REGISTRY, "test-fake", _fake_figures.FIGURES["test-fake"])  # plot fixed
    assert cli.main(["plot", "test-fake", "--out", str(tmp_path), "--json", str(kept)]) == 0
    png, js = _pair(tmp_path, "test-fake")
    assert js["data"]["token"] == "b" and js["png_sha256"] == _io.sha256(png)


def test_all_keeps_going_after_a_figure_that_raises(tmp_path, fake_figures, monkeypatch, capsys):
    """``reproduce all``: a figure whose computation raises is reported, the others still run and
    write their pairs, and the exit code is 2 (found when collab-mab stopped the quick gallery)."""
    def boom(quick=False, progress=lambda m: None):
        raise ValueError("compute bug")

    monkeypatch.setattr(cli, "FIGURE_MODULES", ())
    for name in list(cli.REGISTRY):
        if name not in fake_figures.FIGURES:
            monkeypatch.delitem(cli.REGISTRY, name)
    Fig = cli.REGISTRY["test-fake"].__class__
    monkeypatch.setitem(cli.REGISTRY, "test-aaa-broken", Fig("test-aaa-broken", "Broken 2001", ("c",), boom))
    old_style = cli.REGISTRY.pop("test-old-style")  # re-inserted after the broken one (dicts keep insertion order)
    monkeypatch.setitem(cli.REGISTRY, "test-old-style", old_style)
    order = list(cli.REGISTRY)
    assert order.index("test-aaa-broken") < len(order) - 1  # a figure runs after the broken one
    assert cli.main(["all", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "ValueError: compute bug" in err and "test-aaa-broken: ERROR" in err
    assert "figures that stopped with an error" in err.splitlines()[-1]
    assert (tmp_path / "test-fake.json").exists() and (tmp_path / "test-old-style.json").exists()
    assert not (tmp_path / "test-aaa-broken.json").exists()

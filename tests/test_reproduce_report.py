"""``python -m reproduce report``: the gallery page, checked in a real headless Chromium.

The browser test needs Chromium (Debian package ``chromium``) and the Python package ``playwright``
(driving that Chromium through ``executable_path``; no browser download). ``.ci/run`` installs both
when they are missing; the test skips, saying which is missing, only where they could not be installed.
"""

import json
import os
import shutil
from pathlib import Path

import pytest

import _fake_figures
from reproduce import cli

CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


@pytest.fixture
def gallery(tmp_path, monkeypatch):
    for name, fig in _fake_figures.FIGURES.items():
        monkeypatch.setitem(cli.REGISTRY, name, fig)
    out = tmp_path / "gallery"
    cli.run_figure("test-fake", out_dir=out)
    cli.run_figure("test-old-style", quick=True, out_dir=out / "q")  # a quick result among full ones
    for f in ("test-old-style.png", "test-old-style.json"):
        shutil.move(out / "q" / f, out / f)
    assert cli.main(["report", "--out", str(out)]) == 0
    return out


def _results(out: Path) -> dict:
    return {p.stem: json.loads(p.read_text()) for p in out.glob("*.json")}


def test_report_lists_every_figure_claim_config_and_commit(gallery):
    page = (gallery / "index.html").read_text()
    assert os.stat(gallery / "index.html").st_mode & 0o777 == 0o644
    for name, res in _results(gallery).items():
        assert f'id="{name}"' in page and res["paper"] in page and f'src="{name}.png"' in page
        assert res["provenance"]["git"]["commit"] in page and res["provenance"]["command"] in page
        for c in res["claims"]:
            st = "pass" if c["passed"] else "fail"
            assert f'data-figure="{name}" data-claim="{c["name"]}" data-status="{st}"' in page
    assert "QUICK run" in page  # test-old-style was a quick run
    assert "Registered but not run in this folder" in page  # the real figures are not in this folder


def test_report_flags_a_png_that_does_not_match_its_json(gallery):
    (gallery / "test-fake.png").write_bytes((gallery / "test-old-style.png").read_bytes())
    cli.report(out_dir=gallery)
    assert "PNG does not match this JSON" in (gallery / "index.html").read_text()


def _browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("browser test: the Python package playwright is not installed (.ci/run installs it; it could not here)")
    exe = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
    if exe is None:
        pytest.skip("browser test: no Chromium on this machine (.ci/run installs Debian's chromium; it could not here)")
    return sync_playwright, exe


def test_report_page_in_headless_chromium(gallery):
    sync_playwright, exe = _browser()
    errors = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
            page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
            page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
            page.goto((gallery / "index.html").as_uri(), wait_until="load")
            images = page.eval_on_selector_all("img", "els => els.map(e => [e.getAttribute('src'), e.complete, e.naturalWidth])")
            rows = page.eval_on_selector_all(
                "tr.claim", "els => els.map(e => [e.dataset.figure, e.dataset.claim, e.dataset.status, e.querySelector('.badge').textContent])"
            )
            # the one script on the page: hide figures whose claims all pass
            page.check("#only-failing")
            visible = page.eval_on_selector_all("section.fig", "els => els.filter(e => e.offsetParent !== null).map(e => e.id)")
            page.screenshot(path=str(gallery / "screenshot.png"), full_page=False)
        finally:
            browser.close()
    assert errors == []
    results = _results(gallery)
    assert sorted(src for src, _, _ in images) == sorted(f"{n}.png" for n in results)
    assert all(done and width > 0 for _, done, width in images), images
    expected = sorted(
        (n, c["name"], "pass" if c["passed"] else "fail", "PASS" if c["passed"] else "FAIL") for n, r in results.items() for c in r["claims"]
    )
    assert sorted(tuple(r) for r in rows) == expected
    assert visible == ["test-fake"]  # the only figure with a failing claim

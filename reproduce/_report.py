"""The gallery page: ``python -m reproduce report`` writes ``index.html`` beside the figures.

One static page (no network, no external script or style): for every result file ``NAME.json`` in
the folder, the figure, its paper, each claim with PASS/FAIL and its details, the configuration and
the provenance (commit, whether it is an ancestor of the current HEAD, command line, time, backend);
registered figures without a result in the folder are listed as not run. Each claim row carries
``data-figure``, ``data-claim`` and ``data-status`` attributes (the browser test reads them).
"""

from __future__ import annotations

import hashlib
import html
import json
import subprocess
from pathlib import Path

CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1300px;padding:0 1em;color:#222}
h1{margin-bottom:.2em} .meta{color:#555;font-size:.9em}
.fig{border-top:2px solid #ddd;margin-top:2em;padding-top:.5em}
.fig img{max-width:100%;border:1px solid #eee}
.badge{display:inline-block;white-space:nowrap;padding:.1em .5em;border-radius:.3em;font-size:.85em;font-weight:bold;color:#fff}
.pass{background:#2e7d32} .fail{background:#c62828} .warn{background:#ef6c00} .info{background:#546e7a}
table{border-collapse:collapse;width:100%;font-size:.9em} td,th{border:1px solid #ddd;padding:.3em;vertical-align:top;text-align:left}
pre{background:#f6f6f6;padding:.5em;overflow:auto;max-height:30em;font-size:.8em}
#toc td{border:none;padding:.1em .5em} #toc td:first-child{white-space:nowrap}
"""

SCRIPT = """
document.getElementById('only-failing').addEventListener('change', function (e) {
  document.querySelectorAll('.fig').forEach(function (el) {
    el.style.display = (e.target.checked && el.dataset.allPass === 'true') ? 'none' : '';
  });
});
"""


def _e(x) -> str:
    return html.escape(str(x), quote=True)


def _pre(obj) -> str:
    return f"<pre>{_e(json.dumps(obj, indent=1))}</pre>"


def _is_ancestor(commit: str | None, root: Path) -> bool | None:
    if not commit:
        return None
    try:
        r = subprocess.run(["git", "-C", str(root), "merge-base", "--is-ancestor", commit, "HEAD"], capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return {0: True, 1: False}.get(r.returncode)


def _figure_section(name: str, res: dict, png: Path, registered: bool, root: Path) -> str:
    claims = res.get("claims", [])
    n_fail = sum(not c.get("passed") for c in claims)
    badges = [f'<span class="badge {"pass" if n_fail == 0 else "fail"}">'
              f'{"all " + str(len(claims)) + " claims pass" if n_fail == 0 else f"{n_fail} of {len(claims)} claims fail"}</span>']
    if res.get("quick"):
        badges.append('<span class="badge warn">QUICK run (small sizes)</span>')
    prov = res.get("provenance") or {}
    gitinfo = prov.get("git") or {}
    commit = gitinfo.get("commit")
    if not commit:
        badges.append('<span class="badge warn">no commit recorded (written before provenance was kept)</span>')
    else:
        anc = _is_ancestor(commit, root)
        if anc is False:
            badges.append('<span class="badge warn">recorded commit is not an ancestor of HEAD</span>')
        if gitinfo.get("dirty"):
            badges.append('<span class="badge warn">computed from a modified tree</span>')
    if png.exists():
        sha = res.get("png_sha256")
        if sha and hashlib.sha256(png.read_bytes()).hexdigest() != sha:
            badges.append('<span class="badge fail">PNG does not match this JSON</span>')
        img = f'<img src="{_e(png.name)}" alt="figure {_e(name)}">'
    else:
        img = '<p><span class="badge fail">PNG missing</span></p>'
    if not registered:
        badges.append('<span class="badge info">not a registered figure</span>')
    rows = []
    for c in claims:
        st = "pass" if c.get("passed") else "fail"
        rows.append(
            f'<tr class="claim" data-figure="{_e(name)}" data-claim="{_e(c.get("name"))}" data-status="{st}">'
            f'<td><span class="badge {st}">{st.upper()}</span></td><td><code>{_e(c.get("name"))}</code></td>'
            f'<td>{_e(c.get("statement", ""))}<details><summary>details</summary>{_pre(c.get("details"))}</details></td></tr>'
        )
    jax_info = prov.get("jax") or {}
    prov_rows = [
        ("commit", f"{commit or 'not recorded'}" + (" (modified tree)" if gitinfo.get("dirty") else "")),
        ("command", prov.get("command", "not recorded")),
        ("time (UTC)", prov.get("timestamp_utc", "not recorded")),
        ("JAX backend / precision", f"{jax_info.get('backend', '?')} / {jax_info.get('precision', '?')}" if jax_info else "not recorded"),
        ("compute time", f"{res['elapsed_s']:.1f} s" if isinstance(res.get("elapsed_s"), (int, float)) else "?"),
        ("seed", res.get("seed")),
    ]
    prov_html = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in prov_rows)
    return (
        f'<section class="fig" id="{_e(name)}" data-all-pass="{str(n_fail == 0).lower()}">'
        f"<h2>{_e(name)}</h2><p><b>Paper:</b> {_e(res.get('paper', ''))}</p><p>{' '.join(badges)}</p>{img}"
        f'<h3>Claims</h3><table><tr><th>status</th><th>claim</th><th>statement</th></tr>{"".join(rows)}</table>'
        f"<h3>Configuration</h3><details><summary>configuration used</summary>{_pre(res.get('config'))}</details>"
        + (f"<details><summary>module CONFIG</summary>{_pre(res.get('module_config'))}</details>" if res.get("module_config") is not None else "")
        + f"<h3>Provenance</h3><table>{prov_html}</table>"
        f"<details><summary>package versions</summary>{_pre(res.get('versions'))}</details></section>"
    )


def render(out_dir: Path, figures: dict, head_state: dict, root: Path | None = None) -> str:
    """The HTML text of the gallery of ``out_dir`` (``figures``: the registry)."""
    from reproduce.cli import REPO_ROOT

    root = root or REPO_ROOT
    out_dir = Path(out_dir)
    results = {}
    bad = []
    for js in sorted(out_dir.glob("*.json")):
        try:
            res = json.loads(js.read_text())
        except (OSError, ValueError) as e:
            bad.append(f"{js.name}: unreadable ({e})")
            continue
        if isinstance(res, dict) and "claims" in res:
            results[res.get("figure", js.stem)] = (js, res)
    order = [n for n in figures if n in results] + [n for n in results if n not in figures]
    toc, sections = [], []
    for name in order:
        js, res = results[name]
        n_fail = sum(not c.get("passed") for c in res.get("claims", []))
        st = "pass" if n_fail == 0 else "fail"
        toc.append(f'<tr><td><a href="#{_e(name)}">{_e(name)}</a></td><td><span class="badge {st}">{"PASS" if st == "pass" else f"{n_fail} FAIL"}</span></td>'
                   f"<td>{_e(res.get('paper', ''))}</td></tr>")
        sections.append(_figure_section(name, res, js.with_suffix(".png"), name in figures, root))
    missing = [n for n in figures if n not in results]
    head = head_state.get("commit") or "unknown"
    body = (
        f"<h1>ratebench: paper reproductions</h1><p class='meta'>Folder <code>{_e(out_dir)}</code>; page written at "
        f"commit <code>{_e(head)}</code>{' (modified tree)' if head_state.get('dirty') else ''}. "
        f"{len(results)} figures, {sum(not c.get('passed') for _, r in results.values() for c in r.get('claims', []))} failing claims. "
        "Each figure's own commit is in its provenance.</p>"
        "<p><label><input type='checkbox' id='only-failing'> show only figures with failing claims</label></p>"
        f"<table id='toc'>{''.join(toc)}</table>"
        + (f"<p class='meta'>Registered but not run in this folder: {_e(', '.join(missing))}</p>" if missing else "")
        + (f"<p class='meta'>Skipped: {_e('; '.join(bad))}</p>" if bad else "")
        + "".join(sections)
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>ratebench gallery</title>"
        f"<style>{CSS}</style></head><body>{body}<script>{SCRIPT}</script></body></html>\n"
    )

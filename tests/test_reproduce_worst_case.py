"""The worst-case figure runs quick, writes its results and its claims pass (fresh PEP cache)."""

import json

from reproduce import cli


def test_worst_case_quick_writes_png_and_json(tmp_path, monkeypatch):
    monkeypatch.setenv("RATEBENCH_PEP_CACHE", str(tmp_path / "pep"))
    assert cli.run_figure("worst-case", quick=True, out_dir=tmp_path / "out")
    data = json.loads((tmp_path / "out" / "worst-case.json").read_text())
    assert data["all_claims_pass"] is True
    names = {c["name"] for c in data["claims"]}
    assert {"solved", "runs_under_envelope", "class>=fixed", "pep>=exact_quadratic", "best_step"} <= names
    assert data["data"]["solve_seconds"]["count"] > 0

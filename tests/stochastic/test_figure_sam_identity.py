"""Smoke test of the ``sam-identity`` figure (quick: about 15 s, mostly compilation)."""

import json

import pytest

from reproduce import cli


@pytest.mark.slow  # `python -m reproduce all --quick` runs the same claims
def test_sam_identity_quick_passes_its_claims(tmp_path):
    assert cli.run_figure("sam-identity", quick=True, out_dir=tmp_path)
    data = json.loads((tmp_path / "sam-identity.json").read_text())
    names = {c["name"]: c for c in data["claims"]}
    assert set(names) == {"slope3_with_hessian", "slope2_without_hessian", "quadratic_zero", "dsgd_iterates"}
    assert all(c["passed"] for c in data["claims"])
    png = tmp_path / "sam-identity.png"
    before = png.read_bytes()
    assert before[:4] == b"\x89PNG" and data["replottable"] is True
    cli.plot_figure("sam-identity", quick=True, out_dir=tmp_path)  # drawn from the JSON alone: the same bytes
    assert png.read_bytes() == before

"""Smoke test of the performance harness: ``python -m benchmarks.run --quick`` runs and its numbers are well formed.

No timing thresholds (CI machines vary); only that every section ran and produced
finite, positive times, ratios that are the quotients of those times, and
baselines that agree with ratebench's iterates.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent


def _pos(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "quick.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--only", "numpy,sweep,scaling,memory", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text()), proc.stdout


def test_machine_and_command_recorded(quick):
    res, _ = quick
    assert res["command"].startswith("python -m benchmarks.run --quick")
    assert res["machine"]["nproc"] >= 1


def test_numpy_section_well_formed(quick):
    res, md = quick
    cases = res["numpy"]["cases"]
    assert {c["algo"] for c in cases} == {"dgd", "extra"}
    for c in cases:
        assert _pos(c["rb_per_iter_s"]) and _pos(c["np_per_iter_s"])
        assert c["speedup"] == pytest.approx(c["np_per_iter_s"] / c["rb_per_iter_s"])
        # the NumPy baseline runs the same iteration: final iterates agree to rounding
        assert c["max_abs_diff_final_X"] < 1e-8
    assert "vs vectorized NumPy" in md


def test_sweep_and_scaling_well_formed(quick):
    res, _ = quick
    for c in res["sweep"]["cases"]:
        assert _pos(c["sequential_s"]) and _pos(c["vmap_s"])
        assert c["throughput_ratio"] == pytest.approx(c["sequential_s"] / c["vmap_s"])
    forms = {c["form"] for c in res["scaling"]["cases"]}
    assert forms == {"dense", "circulant", "edges"}
    for c in res["scaling"]["cases"]:
        assert _pos(c["per_iter_s"]) and c["nnz"] <= c["n"] ** 2
        assert c["max_abs_diff_vs_dense"] < 1e-10  # structured gossip computes the same iterates


def test_memory_well_formed(quick):
    res, _ = quick
    m = res["memory"]
    assert m["data_bytes"] > 0 and m["finite"]
    # the trace holds per-step metrics only: 9 float64 fields per recorded step (3 metrics, 6 costs)
    # float64 fields, one entry at step 0 and one per record
    assert m["trace_bytes"] == m["trace_fields"] * 8 * (m["steps"] // m["record_every"] + 1)
    assert m["peak_run"] >= m["rss_ready"] > 0
    assert np.isfinite(m["ratio_run_increase_to_data"])

"""bounds.pep, spectral class: the reduced formulation solves the programs the earlier one could not, same values.

The two programs of the ``worst-case`` figure refused by every solver attempt before (DIGing on the
Metropolis 4-ring, spectral class ``[-1/3, 1/3]``, at 0.2 and 0.4 of its step limit, steps 4 and 5)
must now be accepted under the unchanged rule (gap <= 1e-6, residuals <= 1e-7), and the reduction
(docs/VERIFICATION.md section 12, "Conditioning") must not change the value of any program that
the earlier formulation solved.
"""

from __future__ import annotations

import numpy as np
import pytest

from bounds import pep
from bounds.pep import _program, _solve_k
from bounds.pep._methods import basis_size

# The figure's normalized inputs (reproduce/worst_case.py, full config: logistic(4, 3, 20 samples,
# key 0) gives L = 0.63835..., mu = 0.1, zeta = 0.38484..., ||x*|| = 0.62157...; the DIGing limit on the
# Metropolis ring is 0.34812 / L): mu / L, alpha_limit * L, zeta / (L R0), the ring's [lambda_n, lambda_2].
MU = 0.15665382264642636
ALPHA_LIMIT = 0.22222222222222243
ZETA = 0.9699145477772974
RING4 = {"lo": -1.0 / 3.0, "hi": 1.0 / 3.0}
RING4_W = np.array([[1, 1, 0, 1], [1, 1, 1, 0], [0, 1, 1, 1], [1, 0, 1, 1]]) / 3.0


@pytest.fixture(autouse=True)
def _tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RATEBENCH_PEP_CACHE", str(tmp_path / "pep"))


def _inputs(method, alpha):
    return {"method": method, "measure": "dist_to_opt", "mu": MU, "alpha": alpha, "R": 1.0, "zeta": ZETA,
            "equal_start": True}  # fmt: skip


def _accepted(s):
    return s.rel_gap <= pep.REL_GAP_TOL and s.residual <= _program.RESIDUAL_TOL


@pytest.mark.parametrize("frac,k", [(0.2, 4), (0.4, 5)])
def test_formerly_refused_digings_programs_now_solve(frac, k):
    """The smallest refused program of each of the two refused entries; checked against the fixed 4-ring."""
    inputs = _inputs("gradient_tracking", frac * ALPHA_LIMIT)
    s = _solve_k("gradient_tracking", k, inputs, RING4)
    assert _accepted(s), s
    assert s.size["mixes_eliminated"] >= 2  # W x^0 (x^0 has no deviation) and W x^1 (a multiple of W y^0's input)
    # the ring is in its class: the class's worst case dominates the ring's (fixed-W program, unchanged)
    fixed = _solve_k("gradient_tracking", k, inputs, {"W": RING4_W})
    assert _accepted(fixed)
    assert s.value >= fixed.value * (1 - pep.REL_GAP_TOL)


@pytest.mark.parametrize(
    "method,frac,k",
    [("gradient_tracking", 0.6, 3), ("gradient_tracking", 0.2, 3), ("dgd", 0.5, 3), ("extra", 0.4, 3),
     ("nids", 0.4, 3)],
)
def test_reduced_and_earlier_formulations_agree(method, frac, k):
    """Same optimal value (to the accepted accuracy) where the earlier formulation solved."""
    inputs = _inputs(method, frac * ALPHA_LIMIT)
    new = _solve_k(method, k, inputs, RING4)
    old = _solve_k(method, k, inputs, RING4, reduced=False)
    assert _accepted(new) and _accepted(old)
    assert new.value == pytest.approx(old.value, rel=2e-6)
    assert new.size["spectral_lmi"] <= old.size["spectral_lmi"]


def test_elimination_is_exact_on_coefficients():
    """Every eliminated gossip input's deviation is the combination that gives its z, to round-off."""
    from bounds.pep import symbolic_run
    from bounds.pep._program import SpectralSpace

    s = SpectralSpace(-0.5, 0.5, basis_size("gradient_tracking", 1, 6, True))
    symbolic_run("gradient_tracking", s, 6, 0.3, equal_start=True, zeta_free=True)
    t = SpectralSpace(-0.5, 0.5, basis_size("gradient_tracking", 1, 6, True), reduced=False)
    symbolic_run("gradient_tracking", t, 6, 0.3, equal_start=True, zeta_free=True)
    assert s.mixes_eliminated > 0 and t.mixes_eliminated == 0
    assert len(s.pairs) + s.mixes_eliminated == len(t.pairs)
    # the kept inputs' deviations are linearly independent (no face left from this source)
    A = np.stack([s._dev(a) for a, _ in s.pairs], axis=1)
    assert np.linalg.matrix_rank(A) == A.shape[1]


def test_regularized_attempt_is_accurate_on_the_program_itself(monkeypatch):
    """The attempt with static regularization 1e-6 alone, on a K = 8 spectral-class program (the defaults stall
    there at "AlmostSolved", residual ~1e-5, benchmarks/RESULTS.md section 9): accepted, and re-solved with
    those settings, cvxpy's own constraint violation and the PSD blocks' smallest eigenvalues are at
    round-off — the accepted point is feasible for the program itself, not only for the regularized one."""
    import cvxpy as cp

    lo, hi = -0.20601132958329832, 0.5393446629166316  # Metropolis ring(5): lambda_n, lambda_2
    inputs = {"method": "extra", "measure": "dist_to_opt", "mu": 0.1, "alpha": 0.5 * (5.0 + 3.0 * lo) / 4.0,
              "R": 1.0, "zeta": 0.5, "equal_start": True}  # fmt: skip
    reg = [a for a in _program.ATTEMPTS if a[1] == {"static_regularization_constant": 1e-6}]
    assert len(reg) == 1
    monkeypatch.setattr(_program, "ATTEMPTS", tuple(reg))
    captured = {}
    real = _program._solve

    def capture(prob, size, solver):
        captured["prob"] = prob
        return real(prob, size, solver)

    monkeypatch.setattr(_program, "_solve", capture)
    s = _solve_k("extra", 8, inputs, {"lo": lo, "hi": hi})
    assert _accepted(s) and s.size["attempts"] == 1
    prob = captured["prob"]
    prob.solve(solver=cp.CLARABEL, **reg[0][1])
    assert max(float(np.max(c.violation())) for c in prob.constraints) <= 1e-7
    for v in prob.variables():
        if v.attributes.get("PSD"):
            assert np.linalg.eigvalsh(v.value).min() >= -1e-7
    assert prob.value == pytest.approx(s.value, rel=1e-6)


def test_progress_is_a_callback_of_dicts(tmp_path, monkeypatch):
    """``progress`` receives one dict per computed solve (nothing is printed by the library);
    a non-callable is refused by name."""
    import pytest

    from bounds import pep

    monkeypatch.setenv("RATEBENCH_PEP_CACHE", str(tmp_path))
    got = []
    from problems import graphs, mixing

    W = mixing.metropolis(graphs.ring(4))
    wc = pep.worst_case("gossip", horizon=2, W=W, use_cache=False, progress=got.append)
    assert len(got) == 2 and all({"label", "value", "solver", "rel_gap", "seconds", "size"} <= set(d) for d in got)
    assert [d["value"] for d in got] == pytest.approx([float(v) for v in wc.values[1:]], rel=1e-6, abs=1e-9)
    with pytest.raises(TypeError, match="progress"):
        pep.worst_case("gossip", horizon=1, W=W, use_cache=False, progress=True)

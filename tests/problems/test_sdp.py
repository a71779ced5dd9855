"""Exact FMMC / FDLA SDP solvers: closed forms, certificates, solver paths, repair, errors."""

import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from problems import _sdp
from problems._sdp import SDPCertificate, SDPSolveError, solve_fdla, solve_fmmc

# ----------------------------------------------------------------------------
# graphs as plain edge lists
# ----------------------------------------------------------------------------


def path_edges(n):
    return np.array([(i, i + 1) for i in range(n - 1)])


def cycle_edges(n):
    return np.array(sorted((min(i, (i + 1) % n), max(i, (i + 1) % n)) for i in range(n)))


def complete_edges(n):
    return np.array([(i, j) for i in range(n) for j in range(i + 1, n)])


def star_edges(n):
    return np.array([(0, j) for j in range(1, n)])


def hypercube_edges(d):
    n = 2**d
    return np.array([(i, i ^ (1 << k)) for i in range(n) for k in range(d) if i < i ^ (1 << k)])


def geometric_edges(n, seed):
    """Connected random geometric graph (seeded; retries with derived seeds until connected)."""
    radius = 1.6 * math.sqrt(math.log(n) / (math.pi * n))
    for k in range(200):
        g = nx.random_geometric_graph(n, radius, seed=1000 * seed + k)
        if nx.is_connected(g):
            return np.array(sorted(tuple(sorted(e)) for e in g.edges()))
    raise RuntimeError("no connected geometric graph found")


def assert_valid(W, n, edges, *, nonnegative):
    assert W.shape == (n, n) and W.dtype == np.float64
    assert np.array_equal(W, W.T)
    np.testing.assert_allclose(W.sum(axis=1), 1.0, atol=1e-12)
    support = np.eye(n, dtype=bool)
    support[edges[:, 0], edges[:, 1]] = True
    support[edges[:, 1], edges[:, 0]] = True
    assert np.all(W[~support] == 0.0)
    if nonnegative:
        assert W.min() >= 0.0  # exactly: repaired, not merely approximately


# ----------------------------------------------------------------------------
# closed forms
# ----------------------------------------------------------------------------


def _c(n):
    return math.cos(2 * math.pi / n)


# (name, n, edges, FMMC optimum, FDLA optimum or None when unknown in closed form)
CLOSED_FORMS = [
    ("path5", 5, path_edges(5), math.cos(math.pi / 5), None),
    ("path12", 12, path_edges(12), math.cos(math.pi / 12), None),
    ("cycle8", 8, cycle_edges(8), (1 + _c(8)) / (3 - _c(8)), (1 + _c(8)) / (3 - _c(8))),
    (
        "cycle7",
        7,
        cycle_edges(7),
        1 - 2 * (1 - _c(7)) / (2 - _c(7) + math.cos(math.pi / 7)),
        1 - 2 * (1 - _c(7)) / (2 - _c(7) + math.cos(math.pi / 7)),
    ),
    ("K5", 5, complete_edges(5), 0.0, 0.0),
    # Star with n nodes: equal weights w by symmetry; spectrum of W is 1, 1 - w (n-2 times), 1 - n w.
    # FMMC (w <= 1/(n-1)): w = 1/(n-1), SLEM (n-2)/(n-1).  FDLA: 1 - w = n w - 1, SLEM (n-1)/(n+1).
    ("star7", 7, star_edges(7), 5 / 6, 6 / 8),
    # Hypercube Q_d: edge-transitive, equal weights w; spectrum 1 - 2 k w, k = 0..d.
    # Balance 1 - 2w = 2dw - 1: w = 1/(d+1), SLEM (d-1)/(d+1) (feasible for FMMC too).
    ("hypercube3", 8, hypercube_edges(3), 2 / 4, 2 / 4),
    ("hypercube4", 16, hypercube_edges(4), 3 / 5, 3 / 5),
]


@pytest.mark.parametrize("name,n,edges,fmmc,fdla", CLOSED_FORMS, ids=[c[0] for c in CLOSED_FORMS])
def test_closed_forms(name, n, edges, fmmc, fdla):
    W, cert = solve_fmmc(n, edges, return_certificate=True)
    assert_valid(W, n, edges, nonnegative=True)
    assert cert.slem == pytest.approx(fmmc, abs=1e-7)
    assert cert.lower_bound <= fmmc + 1e-12  # a rigorous bound never exceeds the true optimum
    assert cert.gap < 1e-6
    W2, cert2 = solve_fdla(n, edges, return_certificate=True)
    assert_valid(W2, n, edges, nonnegative=False)
    if fdla is not None:
        assert cert2.slem == pytest.approx(fdla, abs=1e-7)
        assert cert2.lower_bound <= fdla + 1e-12
    assert cert2.gap < 1e-6
    assert cert2.slem <= cert.slem + 1e-7


def test_complete_graph_gives_exact_average():
    n = 6
    W = solve_fmmc(n, complete_edges(n))
    np.testing.assert_allclose(W, np.full((n, n), 1 / n), atol=1e-7)


def test_tiny_graphs():
    W, cert = solve_fmmc(1, np.zeros((0, 2), dtype=int), return_certificate=True)
    assert W.shape == (1, 1) and W[0, 0] == 1.0 and cert.slem == 0.0
    W = solve_fmmc(2, np.array([[0, 1]]))
    np.testing.assert_allclose(W, np.full((2, 2), 0.5), atol=1e-8)
    W = solve_fdla(2, np.array([[0, 1]]))
    np.testing.assert_allclose(W, np.full((2, 2), 0.5), atol=1e-8)


# ----------------------------------------------------------------------------
# certificates, orderings, solver paths
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_path_matches_cvxpy_clarabel(seed):
    n = 18 + 4 * seed
    E = geometric_edges(n, seed)
    for solve in (solve_fmmc, solve_fdla):
        W_fast, c_fast = solve(n, E, return_certificate=True)
        W_ref, c_ref = solve(n, E, solver="clarabel", return_certificate=True)
        assert c_fast.solver == "ipm" and c_ref.solver == "clarabel"
        assert isinstance(c_fast, SDPCertificate)
        assert c_fast.slem == pytest.approx(c_ref.slem, abs=1e-6)
        # each path's lower bound is valid for the other's value
        assert c_fast.lower_bound <= c_ref.slem + 1e-12
        assert c_ref.lower_bound <= c_fast.slem + 1e-12
        assert c_fast.gap < 1e-6 and c_fast.lower_bound <= c_fast.slem
        assert c_fast.slem == pytest.approx(np.max(np.abs(np.linalg.eigvalsh(W_fast - 1 / n))), abs=1e-12)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(8, 45), fmmc=st.booleans(), log_tol=st.floats(-6.0, -2.0))
def test_ipm_stops_on_the_absolute_gap_and_certifies_tol(seed, n, fmmc, log_tol):
    # The interior point stops at its first iterate whose certified gap is at most tol (checked
    # exactly where its own gap s - lb is within CERTIFY_WITHIN * tol) or whose duality gap s - lb and
    # primal infeasibility are both at most tol (not on a relative gap, which allows up to 3 tol); the
    # returned certificate's gap is at most tol, and is the one checked when that check stopped it,
    # on random connected graphs of every density drawn.
    from problems._sdp import ipm

    tol = 10.0**log_tol
    rng = np.random.default_rng(seed)
    g = nx.gnp_random_graph(n, float(rng.uniform(0.1, 0.6)), seed=int(rng.integers(2**31)))
    g.add_edges_from((i, i + 1) for i in range(n - 1))  # connected
    E = np.array(sorted(tuple(sorted(e)) for e in g.edges()))
    seen = []
    _, cert = (solve_fmmc if fmmc else solve_fdla)(n, E, solver="ipm", tol=tol, return_certificate=True,
                                                  progress=seen.append)
    its = [d for d in seen if "iteration" in d]
    assert [d["certified_gap"] is not None for d in its] == [
        d["slem"] - d["lower_bound"] <= ipm.CERTIFY_WITHIN * tol for d in its
    ]
    done = [
        (d["certified_gap"] is not None and d["certified_gap"] <= tol)
        or (d["slem"] - d["lower_bound"] <= tol and d["pinf"] <= tol)
        for d in its
    ]
    assert done[-1] and not any(done[:-1])
    assert cert.status == "optimal" and 0.0 <= cert.gap <= tol
    if its[-1]["certified_gap"] is not None:
        assert cert.gap == its[-1]["certified_gap"]


@pytest.mark.parametrize("fmmc", [True, False])
def test_ipm_stops_earlier_on_its_certificate_and_the_bound_holds(monkeypatch, fmmc):
    # The certificate of an iterate is tighter than the iterate's own gap, so checking it stops the
    # interior point in fewer iterations at the same tol; the certified interval still contains the
    # optimum (from a solve at tol 1e-10).  At tol 1e-4 on geometric_edges(n, seed), n in (40, 60,
    # 80), seeds 0-3, FMMC and FDLA, it saved an iteration in 20 of the 24 solves (1-2 of 8-14).
    from problems._sdp import ipm

    n = 40
    E = geometric_edges(n, 1)
    solve = solve_fmmc if fmmc else solve_fdla
    _, exact = solve(n, E, solver="ipm", tol=1e-10, return_certificate=True)
    runs = {}
    for within in (0.0, ipm.CERTIFY_WITHIN):
        monkeypatch.setattr(ipm, "CERTIFY_WITHIN", within)
        seen = []
        _, cert = solve(n, E, solver="ipm", tol=1e-4, return_certificate=True, progress=seen.append)
        runs[within] = (sum("iteration" in d for d in seen), cert)
    (k_off, c_off), (k_on, c_on) = runs[0.0], runs[ipm.CERTIFY_WITHIN]
    assert k_on < k_off
    for c in (c_off, c_on):
        assert c.status == "optimal" and c.gap <= 1e-4
        assert c.lower_bound <= exact.slem + 1e-10 and exact.lower_bound - 1e-10 <= c.slem


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(3, 30), fmmc=st.booleans())
def test_newton_edge_block_both_paths_match_the_dense_definition(seed, n, fmmc):
    # Both ways of forming the Newton edge block (SciPy sparse products and the fused XLA kernel)
    # equal the definition written with the dense incidence matrix A (n x m, columns e_i - e_j):
    # (A^T X1 A) o (A^T S1 A) + (A^T X2 A) o (A^T S2 A) [+ diag(d3) + |A|^T diag(d4) |A| for FMMC],
    # on random graphs of every density, with random symmetric (not only PSD) matrices.
    import scipy.sparse as sp

    from problems._sdp import ipm

    rng = np.random.default_rng(seed)
    g = nx.gnp_random_graph(n, float(rng.uniform(0.05, 1.0)), seed=int(rng.integers(2**31)))
    g.add_edges_from((i, i + 1) for i in range(n - 1))
    E = np.array(sorted(tuple(sorted(e)) for e in g.edges()))
    ei, ej = E[:, 0], E[:, 1]
    m = len(ei)
    A = np.zeros((n, m))
    A[ei, np.arange(m)] = 1.0
    A[ej, np.arange(m)] = -1.0
    Ks = [(lambda B: B + B.T)(rng.standard_normal((n, n))) for _ in range(4)]
    d3 = rng.random(m) if fmmc else None
    d4 = rng.random(n) if fmmc else None
    want = (A.T @ Ks[0] @ A) * (A.T @ Ks[1] @ A) + (A.T @ Ks[2] @ A) * (A.T @ Ks[3] @ A)
    if fmmc:
        want += np.diag(d3) + np.abs(A).T @ np.diag(d4) @ np.abs(A)
    At = sp.csr_matrix(A.T)
    absA = sp.csr_matrix(np.abs(A))
    got_np = ipm._newton_edge_block_numpy(n, ei, ej, At, absA, absA.T.tocsr(), *Ks, d3, d4, np.empty((m, m)))
    got_xla = ipm._newton_edge_block_xla(n, ei, ej, *Ks, d3, d4)
    scale = np.abs(want).max()
    np.testing.assert_allclose(got_np, want, rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(got_xla, want, rtol=0, atol=1e-12 * scale)
    # with the lambda_n block out of the model (X2 = None): the first product alone
    want1 = want - (A.T @ Ks[2] @ A) * (A.T @ Ks[3] @ A)
    got_np1 = ipm._newton_edge_block_numpy(n, ei, ej, At, absA, absA.T.tocsr(), Ks[0], Ks[1], None, None, d3, d4,
                                           np.empty((m, m)))
    got_xla1 = ipm._newton_edge_block_xla(n, ei, ej, Ks[0], Ks[1], None, None, d3, d4)
    np.testing.assert_allclose(got_np1, want1, rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(got_xla1, want1, rtol=0, atol=1e-12 * scale)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40), cond=st.floats(0.0, 8.0))
def test_psd_step_length_is_the_boundary_of_the_cone(seed, n, cond):
    # The interior point's step length a* for X + a dX ⪰ 0 is where the cone's boundary is met:
    # X + a dX is positive definite just below a* and has a negative eigenvalue just above it, for
    # X of condition number up to 1e8 and directions of either sign.
    from problems._sdp import ipm

    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    X = (Q * np.logspace(0, -cond, n)) @ Q.T
    X = 0.5 * (X + X.T)
    B = rng.standard_normal((n, n))
    dX = B + B.T - (rng.uniform(0, 3) * X if rng.random() < 0.5 else 0.0)
    a = ipm._max_step_psd(ipm._chol(X), dX)
    lam = np.linalg.eigvalsh(np.linalg.solve(np.linalg.cholesky(X), np.linalg.solve(np.linalg.cholesky(X), dX).T))
    # The capped form: inf where the step `cap` keeps X + cap dX positive definite, else a itself.
    cap = float(rng.uniform(0.2, 3.0)) * (a if np.isfinite(a) else 1.0)
    capped = ipm._max_step_psd_capped(X, ipm._chol(X), dX, cap)
    if a > cap * (1 + 1e-6):
        assert capped == np.inf
    elif a < cap * (1 - 1e-6):
        assert capped == a
    if lam.min() >= 0:
        assert a == np.inf
        return
    assert a == pytest.approx(-1.0 / lam.min(), rel=1e-6)
    L = np.linalg.cholesky(X)
    for t, sign in ((1 - 1e-4, 1), (1 + 1e-4, -1)):
        M = np.linalg.solve(L, np.linalg.solve(L, X + t * a * dX).T)
        assert sign * np.linalg.eigvalsh(0.5 * (M + M.T)).min() > 0


@pytest.mark.parametrize("fmmc", [True, False])
def test_ipm_cut_short_is_accepted_only_with_a_small_certified_gap(monkeypatch, fmmc):
    # An interior point stopped by its iteration limit before tol raises SDPSolveError while the
    # certified gap of its best iterate exceeds 1e3 tol, and returns "optimal_inaccurate" with that
    # certified gap once it is within 1e3 tol; the certified interval contains the optimum.
    from problems._sdp import ipm

    n, tol = 30, 1e-7
    E = geometric_edges(n, 2)
    solve = solve_fmmc if fmmc else solve_fdla
    _, exact = solve(n, E, solver="ipm", tol=1e-10, return_certificate=True)
    plain = ipm._ipm
    outcomes = []
    for k in range(1, 40):
        monkeypatch.setattr(ipm, "_ipm", lambda *a, k=k, **kw: plain(*a, **kw, max_iter=k))
        try:
            _, cert = solve(n, E, solver="ipm", tol=tol, return_certificate=True)
        except SDPSolveError as exc:
            assert "stopped (max_iter)" in str(exc)
            outcomes.append("raised")
            continue
        outcomes.append(cert.status)
        assert cert.gap <= (tol if cert.status == "optimal" else 1e3 * tol)
        assert cert.lower_bound <= exact.slem + 1e-10 and exact.lower_bound - 1e-10 <= cert.slem
        if cert.status == "optimal":
            break
    assert outcomes[0] == "raised" and "optimal_inaccurate" in outcomes and outcomes[-1] == "optimal"
    first = outcomes.index("optimal_inaccurate")
    assert set(outcomes[:first]) == {"raised"}


@pytest.mark.parametrize("fmmc", [True, False])
def test_ipm_step_lengths_with_the_cholesky_test_take_the_same_path(monkeypatch, fmmc):
    # Trying a Cholesky factor of X + cap dX before the step-length eigenvalue changes no step:
    # the same iteration count, SLEM and lower bound to rounding.
    from problems._sdp import ipm

    n = 40
    E = geometric_edges(n, 5)
    solve = solve_fmmc if fmmc else solve_fdla
    plain = ipm._ipm
    runs = []
    for test in (False, True):
        monkeypatch.setattr(ipm, "STEP_CHOLESKY_TEST", test)
        hist = []
        monkeypatch.setattr(ipm, "_ipm", lambda *a, hist=hist, **k: plain(*a, **k, history=hist))
        _, cert = solve(n, E, solver="ipm", tol=1e-8, return_certificate=True)
        runs.append((hist, cert))
    (h0, c0), (h1, c1) = runs
    assert len(h0) == len(h1)
    for a, b in zip(h0, h1):
        assert b.get("step_primal") == pytest.approx(a.get("step_primal"), abs=1e-9)
        assert b.get("step_dual") == pytest.approx(a.get("step_dual"), abs=1e-9)
    assert c1.slem == pytest.approx(c0.slem, abs=1e-9)
    assert c1.lower_bound == pytest.approx(c0.lower_bound, abs=1e-9)
    assert any(d.get("step_dual") == 1.0 or d.get("step_primal") == 1.0 for d in h1)


@pytest.mark.parametrize("fmmc", [True, False])
def test_ipm_with_the_xla_newton_block_takes_the_same_path(monkeypatch, fmmc):
    # Forcing the XLA Newton block at every size leaves the interior point's path unchanged: the
    # same iteration count and the same SLEM and lower bound to rounding.
    from problems._sdp import ipm

    n = 40
    E = geometric_edges(n, 11)
    solve = solve_fmmc if fmmc else solve_fdla
    runs = []
    for threshold in (10**9, 0):
        monkeypatch.setattr(ipm, "XLA_NEWTON_MIN_EDGES", threshold)
        seen = []
        _, cert = solve(n, E, solver="ipm", tol=1e-8, return_certificate=True, progress=seen.append)
        runs.append((sum("iteration" in d for d in seen), cert))
    (k_np, c_np), (k_xla, c_xla) = runs
    assert k_np == k_xla
    assert c_xla.status == c_np.status == "optimal"
    assert c_xla.slem == pytest.approx(c_np.slem, abs=1e-9)
    assert c_xla.lower_bound == pytest.approx(c_np.lower_bound, abs=1e-9)


def _ipm_with_history(monkeypatch, solve, n, E, tol):
    from problems._sdp import ipm

    plain = ipm._ipm
    hist = []
    monkeypatch.setattr(ipm, "_ipm", lambda *a, **k: plain(*a, **k, history=hist))
    _, cert = solve(n, E, solver="ipm", tol=tol, return_certificate=True)
    monkeypatch.setattr(ipm, "_ipm", plain)
    return "".join(str(h["blocks"]) for h in hist), cert


@pytest.mark.parametrize("n, seed", [(40, 2), (60, 3), (80, 2)])
def test_fmmc_ipm_leaves_out_the_inactive_lambda_n_block_and_certifies_the_same_optimum(monkeypatch, n, seed):
    # On geometric graphs FMMC's lambda_n block is inactive at the optimum: its multiplier's share of
    # the trace falls below DROP_BLOCK_TRACE within a few iterations and the block leaves the model
    # for good (the dual steps still keep S2 PD, and S2 never limits one).  The answer is certified
    # to tol for the full problem, and its certified interval meets the one of the solve that keeps
    # the block.  (At tol 1e-4 on geometric_edges(n, seed), n in 30-80, seeds 0-3, the block left at
    # iteration 4-6 in all 16 solves, with the same iteration count in 13 and one more in 3.)
    from problems._sdp import ipm

    E = geometric_edges(n, seed)
    tol = 1e-4
    monkeypatch.setattr(ipm, "DROP_BLOCK_TRACE", 0.0)
    kept, c_kept = _ipm_with_history(monkeypatch, solve_fmmc, n, E, tol)
    monkeypatch.setattr(ipm, "DROP_BLOCK_TRACE", 1e-2)
    blocks, c = _ipm_with_history(monkeypatch, solve_fmmc, n, E, tol)
    assert set(kept) == {"2"}
    assert blocks.startswith("22") and "1" in blocks and "21" in blocks and "12" not in blocks
    for cert in (c, c_kept):
        assert cert.status == "optimal" and 0.0 <= cert.gap <= tol
    assert c.lower_bound <= c_kept.slem + 1e-12 and c_kept.lower_bound <= c.slem + 1e-12


@pytest.mark.parametrize("n", [20, 30, 40])
def test_fmmc_ipm_brings_an_active_lambda_n_block_back(monkeypatch, n):
    # On a random 4-regular graph both ends of FMMC's spectrum are active.  Forced out of the model at
    # the first iteration (DROP_BLOCK_TRACE = 1), the lambda_n block comes back at the first step S2
    # limits and stays; the solve still certifies tol, and its interval meets the full solve's.
    from problems._sdp import ipm

    g = nx.random_regular_graph(4, n, seed=1)
    E = np.array(sorted(tuple(sorted(e)) for e in g.edges()))
    tol = 1e-4
    monkeypatch.setattr(ipm, "DROP_BLOCK_TRACE", 0.0)
    _, c_kept = _ipm_with_history(monkeypatch, solve_fmmc, n, E, tol)
    monkeypatch.setattr(ipm, "DROP_BLOCK_TRACE", 1.0)
    blocks, c = _ipm_with_history(monkeypatch, solve_fmmc, n, E, tol)
    assert blocks.startswith("1") and blocks.endswith("2") and "21" not in blocks
    for cert in (c, c_kept):
        assert cert.status == "optimal" and 0.0 <= cert.gap <= tol
    assert c.lower_bound <= c_kept.slem + 1e-12 and c_kept.lower_bound <= c.slem + 1e-12


def test_fdla_ipm_keeps_both_blocks(monkeypatch):
    # Without the lambda_n block FDLA's dual is unbounded below (weights of either sign), so the block
    # is active at every FDLA optimum and never leaves, whatever DROP_BLOCK_TRACE says.
    from problems._sdp import ipm

    n = 40
    E = geometric_edges(n, 2)
    monkeypatch.setattr(ipm, "DROP_BLOCK_TRACE", 1.0)
    blocks, c = _ipm_with_history(monkeypatch, solve_fdla, n, E, 1e-4)
    assert set(blocks) == {"2"} and c.status == "optimal" and c.gap <= 1e-4


@pytest.mark.parametrize("seed", [3, 4])
def test_fdla_never_worse_than_fmmc(seed):
    n = 30
    E = geometric_edges(n, seed)
    _, c_mc = solve_fmmc(n, E, return_certificate=True)
    _, c_la = solve_fdla(n, E, return_certificate=True)
    assert c_la.slem <= c_mc.slem + 1e-7
    assert c_la.lower_bound <= c_mc.slem


def test_naive_formulation_agrees():
    n = 12
    E = geometric_edges(n, 5)
    timing = {}
    W_n, c_n = _sdp.solve_fmmc_naive(n, E, return_certificate=True, timing=timing)
    assert_valid(W_n, n, E, nonnegative=True)
    assert set(timing) >= {"compile_s", "solver_s"}
    _, c = solve_fmmc(n, E, return_certificate=True)
    assert c_n.slem == pytest.approx(c.slem, abs=1e-6)
    _, c_n2 = _sdp.solve_fdla_naive(n, E, return_certificate=True)
    _, c2 = solve_fdla(n, E, return_certificate=True)
    assert c_n2.slem == pytest.approx(c2.slem, abs=1e-6)


@pytest.mark.parametrize("tol", [1e-8, 1e-3])
def test_scs_path_returns_valid_matrix(tol):
    # SCS is a first-order method: its raw answers may have slightly negative
    # weights or diagonals; the repaired W must be exactly valid regardless.
    n = 14
    E = geometric_edges(n, 6)
    W, cert = solve_fmmc(n, E, solver="SCS", tol=tol, return_certificate=True)
    assert_valid(W, n, E, nonnegative=True)
    assert cert.solver == "scs" and cert.lower_bound <= cert.slem
    _, exact = solve_fmmc(n, E, return_certificate=True)
    assert cert.slem >= exact.lower_bound
    assert cert.slem == pytest.approx(exact.slem, abs=50 * max(tol, 1e-6))
    W2 = solve_fdla(n, E, solver="scs", tol=tol)
    assert_valid(W2, n, E, nonnegative=False)


def test_auto_falls_back_when_ipm_fails(monkeypatch):
    def broken(*args, **kwargs):
        raise SDPSolveError("simulated failure")

    monkeypatch.setattr(_sdp, "_solve_ipm", broken)
    n = 10
    W, cert = solve_fmmc(n, cycle_edges(n), return_certificate=True)
    assert cert.solver == "clarabel"
    assert cert.slem == pytest.approx((1 + _c(n)) / (3 - _c(n)), abs=1e-6)


# ----------------------------------------------------------------------------
# repair and certificate internals
# ----------------------------------------------------------------------------


def test_fmmc_weight_repair_projects_onto_feasible_set():
    n = 4
    E = cycle_edges(n)
    ei, ej = E[:, 0], E[:, 1]
    raw = np.array([0.5 + 1e-9, 0.5 + 1e-9, -3e-10, 0.5])
    w, viol = _sdp._repair_fmmc_weights(n, ei, ej, raw, viol_limit=1e-6)
    assert viol == pytest.approx(2e-9, rel=1e-3)
    assert w.min() >= 0.0
    W = _sdp._weights_to_W(n, ei, ej, w)
    assert np.diag(W).min() >= 0.0 and W.min() >= 0.0
    with pytest.raises(SDPSolveError, match="violate feasibility"):
        _sdp._repair_fmmc_weights(n, ei, ej, np.array([0.9, 0.9, 0.0, 0.0]), viol_limit=1e-6)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), nonnegative=st.booleans())
def test_lower_bound_from_any_matrix_is_valid(seed, nonnegative):
    # Whatever (garbage) dual matrix is fed in, the repaired bound stays below the optimum.
    n = 9
    rng = np.random.default_rng(seed)
    Y = rng.standard_normal((n, n))
    optimum = 1 - 2 * (1 - _c(n)) / (2 - _c(n) + math.cos(math.pi / n))  # odd cycle, FMMC = FDLA
    lb = _sdp.dual_lower_bound(n, cycle_edges(n), Y, nonnegative=nonnegative)
    assert 0.0 <= lb <= optimum + 1e-12


@pytest.mark.parametrize(
    "edges",
    [complete_edges(12), geometric_edges(40, 1), cycle_edges(7), star_edges(6), path_edges(5), hypercube_edges(4)],
    ids=["complete", "geometric", "cycle", "star", "path", "hypercube"],
)
def test_fdla_projection_solve_equals_the_edge_gram_system(edges):
    # the n x n form of the FDLA projection solves the m x m system G c = r, G = (A^T A) ∘ (A^T A),
    # built here from its definition
    from problems._sdp.certificates import _edge_gram_solve

    n, m = int(edges.max()) + 1, len(edges)
    A = np.zeros((n, m))
    A[edges[:, 0], np.arange(m)], A[edges[:, 1], np.arange(m)] = 1.0, -1.0
    G = (A.T @ A) ** 2
    r = np.random.default_rng(m).standard_normal(m)
    c = _edge_gram_solve(n, edges[:, 0], edges[:, 1], r)
    np.testing.assert_allclose(G @ c, r, rtol=0, atol=1e-12 * np.abs(r).max())


# ----------------------------------------------------------------------------
# errors
# ----------------------------------------------------------------------------


def test_bad_solver_name():
    with pytest.raises(SDPSolveError, match="unknown solver 'mosek-ish'.*'auto'"):
        solve_fmmc(4, cycle_edges(4), solver="mosek-ish")
    with pytest.raises(ValueError):  # SDPSolveError is also a ValueError
        solve_fdla(4, cycle_edges(4), solver="nope")


def test_unavailable_solver_message(monkeypatch):
    import cvxpy as cp

    monkeypatch.setattr(cp, "installed_solvers", lambda: ["SCS"])
    with pytest.raises(SDPSolveError, match="install it.*solver='ipm'"):
        solve_fmmc(4, cycle_edges(4), solver="clarabel")


def test_bad_edge_lists():
    with pytest.raises(ValueError, match="disconnected"):
        solve_fmmc(4, np.array([[0, 1], [2, 3]]))
    with pytest.raises(ValueError, match="i < j"):
        solve_fmmc(3, np.array([[1, 0], [1, 2]]))
    with pytest.raises(ValueError, match="duplicate"):
        solve_fdla(3, np.array([[0, 1], [0, 1], [1, 2]]))
    with pytest.raises(ValueError, match="shape"):
        solve_fdla(3, np.array([0, 1, 2]))

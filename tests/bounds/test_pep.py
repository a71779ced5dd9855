"""bounds.pep: certified worst cases by performance estimation, pinned to closed forms and to runs.

Every solve here is tiny (n <= 3 agents, K <= 5 steps); a temporary cache directory keeps the
tests from reading results computed elsewhere.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest

import algos
import bounds
from bounds import pep
from bounds.pep import _program
from bounds.pep._methods import basis_size
from problems import convex, graphs, mixing

CONVEX = ("dgd", "extra", "nids", "exact_diffusion", "gradient_tracking")


@pytest.fixture(autouse=True)
def _tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RATEBENCH_PEP_CACHE", str(tmp_path / "pep"))


def _W3():
    return mixing.metropolis(graphs.path(3))  # eigenvalues 1, 2/3, 0


# --- closed forms -----------------------------------------------------------------------------
@pytest.mark.parametrize("alpha", [0.5, 1.5, 1.9])
def test_one_node_dgd_is_gradient_descent_tight_rate(alpha):
    """W = [[1]]: DGD is gradient descent, worst ||x_K - x*||^2 = max(|1 - a mu|, |1 - a L|)^(2K) (tight)."""
    L, mu, K = 1.0, 0.1, 4
    rho = max(abs(1 - alpha * mu), abs(1 - alpha * L))
    wc = pep.worst_case("dgd", horizon=K, step_size=alpha, L=L, mu=mu, W=np.eye(1), measure="mean_sq_dist")
    expected = rho ** (2 * np.arange(K + 1))
    np.testing.assert_allclose(wc.values, expected, rtol=5e-6)
    for s in wc.solves:
        assert s.rel_gap <= pep.REL_GAP_TOL and s.residual <= _program.RESIDUAL_TOL
    # the trace's measure (a norm, not its square) is the square root, and scales with R0 and L
    wc1 = pep.worst_case("dgd", horizon=K, step_size=alpha / 3.0, L=3.0 * L, mu=3.0 * mu, W=np.eye(1), R0=2.0)
    np.testing.assert_allclose(wc1.values, 2.0 * rho ** np.arange(K + 1), rtol=5e-6)


def test_one_node_rate_equals_the_exact_lti_rate_on_the_worst_quadratic():
    """The PEP K-step rate of GD is at least (here: equal to) bounds.exact_rate on a quadratic with Hessians in [mu, L].

    The engine needs n >= 2: two disconnected nodes (W = I) without heterogeneity run gradient descent each.
    """
    L, mu, K = 4.0, 1.0, 4
    p = convex.quadratic(2, 2, L=L, mu=mu, key=0, heterogeneity=0.0)  # spectra {mu, L}
    algo = algos.dgd(p, np.eye(2), step_size=0.45, check=False)  # W = I does not mix: allowed only with check=False
    r_exact = bounds.exact_rate(algo)
    b = pep.dgd(algo, horizon=K)
    assert b.rate >= r_exact * (1 - 1e-6)
    assert b.rate == pytest.approx(max(abs(1 - 0.45 * mu), abs(1 - 0.45 * L)), rel=5e-6)


def test_gossip_closed_forms_fixed_and_spectral():
    W = _W3()
    K = 4
    wc = pep.worst_case("gossip", horizon=K, W=W)
    np.testing.assert_allclose(wc.values, mixing.slem(W) ** np.arange(K + 1), rtol=1e-5)
    ws = pep.worst_case("gossip", horizon=K, eigenvalues=(-0.2, 0.6))
    np.testing.assert_allclose(ws.values, 0.6 ** np.arange(K + 1), rtol=1e-5)


def test_dgd_without_heterogeneity_is_below_its_explicit_contraction():
    """zeta = 0: ||X_k - X*||_F <= q^k ||X_0 - X*||_F (bounds.dgd's q), so the PEP worst case is <= q^k R0."""
    W = _W3()
    lam_n = mixing.spectrum(W).lambda_n
    L, mu, a, K = 1.0, 0.2, 0.6, 4
    q = max(abs(1 - a * mu), abs(lam_n - a * L))
    wc = pep.worst_case("dgd", horizon=K, step_size=a, L=L, mu=mu, W=W, zeta=0.0, equal_start=False)
    qk = q ** np.arange(1, K + 1)
    # the envelope carries the accepted solver accuracy (1 + REL_GAP_TOL) on top of the solve's own error
    assert np.all(wc.values[1:] <= qk * (1 + 3 * pep.REL_GAP_TOL))
    # and it is attained (x along the consensual direction, Hessian mu there): the PEP is tight here
    assert np.all(wc.values[1:] >= qk * (1 - 1e-5))


# --- the symbolic methods are the engine's methods ---------------------------------------------
def _realize(space, X_coef, problem, X0):
    """Substitute actual vectors into the coefficients: basis vectors in creation order."""
    xs = np.asarray(problem.x_star)
    d = xs.shape[0]
    V = np.zeros((space.n_max, d))
    grad_i = jax.jit(problem.grad)
    Gs = np.asarray(grad_i(np.tile(xs, (problem.n_nodes, 1))))
    for j, lab in enumerate(space.labels):
        if lab[0] == "x0":
            V[j] = X0[0 if lab[1] == "all" else lab[1]] - xs
        elif lab[0] == "gstar":
            V[j] = Gs[lab[1]]
        else:  # ("grad", call, i): the gradient of f_i at its recorded point
            i = lab[2]
            (x,) = [pt[0] for pt in space.points[i] if pt[1][j] == 1.0 and pt[2] is not None]
            Xall = np.tile(xs, (problem.n_nodes, 1))
            Xall[i] = xs + x @ V
            V[j] = np.asarray(grad_i(Xall))[i]
    return [xs + C @ V for C in X_coef]


@pytest.mark.parametrize("method", CONVEX)
def test_symbolic_run_reproduces_the_engine(method):
    p = convex.logistic(3, 2, samples_per_node=8, key=4)
    W = _W3()
    X0 = np.asarray(jax.random.normal(jax.random.PRNGKey(1), (3, 2)))
    algo = getattr(algos, method)(p, W, x0=X0)
    alpha = algo.hparams["step_size"]
    K = 4
    space = _program.FixedSpace(W, basis_size(method, 3, K, False))
    X_coef, _ = pep.symbolic_run(method, space, K, alpha, equal_start=False, zeta_free=True)
    got = _realize(space, X_coef, p, X0)
    s = algo.init(jax.random.PRNGKey(0))
    for k in range(K + 1):
        np.testing.assert_allclose(got[k], np.asarray(s.X), atol=1e-12, rtol=1e-10)
        s, _ = algo.step(jax.random.PRNGKey(0), s)


# --- runs lie under their envelopes; a mis-specified one does not --------------------------------
@pytest.mark.parametrize(
    "method,kind",
    [("dgd", "logistic"), ("extra", "quadratic"), ("nids", "least_squares"), ("exact_diffusion", "logistic"),
     ("gradient_tracking", "quadratic")],
)  # fmt: skip
def test_runs_lie_under_the_pep_envelope(method, kind):
    make = {
        "quadratic": lambda: convex.quadratic(3, 2, L=4.0, mu=1.0, key=1),
        "least_squares": lambda: convex.least_squares(3, 2, samples_per_node=10, key=2),
        "logistic": lambda: convex.logistic(3, 2, samples_per_node=10, key=3),
    }
    p = make[kind]()
    algo = getattr(algos, method)(p, _W3())
    b = getattr(pep, method)(algo, horizon=4)
    assert b.kind == "computed" and b.metric == "dist_to_opt"
    assert all(s["rel_gap"] <= pep.REL_GAP_TOL for s in b.params["solves"])
    _, tr = algos.run(algo, key=0, num_steps=8)
    r = bounds.compare(tr, b, algo=algo)
    assert r.holds is True, r.message
    assert r.checked_steps == 5  # k = 0..4 judged, later steps are not covered by the statement


def test_misspecified_run_violates_the_envelope():
    """L understated 4x: the step is inside the stated class's range but outside the true one; the run leaves the envelope."""
    p = convex.quadratic(3, 2, L=4.0, mu=1.0, key=1)
    algo = algos.dgd(p, _W3(), step_size=0.45, check=False)  # true range: alpha < (1 + 0)/4
    b = pep.dgd(algo, horizon=5, L=1.0, mu=0.25)
    assert b.params["class_contains_problem"] is False
    _, tr = algos.run(algo, key=0, num_steps=5)
    r = bounds.compare(tr, b, algo=algo)
    assert r.holds is False and r.first_violation is not None


def test_spectral_class_dominates_the_fixed_network():
    """Fixed W is one member of its spectral class [lambda_n, lambda_2]: the class's bound is at least W's."""
    p = convex.quadratic(3, 2, L=4.0, mu=1.0, key=1)
    W = _W3()
    spec = mixing.spectrum(W)
    algo = algos.extra(p, W)
    b_fix = pep.extra(algo, horizon=3)
    b_cls = pep.extra(algo, horizon=3, eigenvalues=(spec.lambda_n, spec.lambda_2))
    assert b_cls.valid
    k = np.arange(4)
    assert np.all(b_cls.curve(k) >= b_fix.curve(k) * (1 - 1e-6))
    # a class that does not contain W is not judged against its runs
    b_out = pep.extra(algo, horizon=2, eigenvalues=(0.1, 0.5))
    assert not b_out.valid
    _, tr = algos.run(algo, key=0, num_steps=3)
    assert bounds.compare(tr, b_out, algo=algo).holds is None


# --- solver accuracy, cache, errors --------------------------------------------------------------
def test_inaccurate_solve_is_refused(monkeypatch):
    monkeypatch.setattr(_program, "ATTEMPTS", (("CLARABEL", {"max_iter": 2}), ("SCS", {"max_iters": 5})))
    with pytest.raises(pep.PEPError, match="not solved accurately"):
        pep.worst_case("dgd", horizon=2, step_size=0.5, L=1.0, mu=0.1, W=_W3(), zeta=1.0, use_cache=False)


def test_cache_is_keyed_by_every_input():
    kw = dict(horizon=2, step_size=0.5, L=1.0, mu=0.1, zeta=0.5)
    a = pep.worst_case("extra", W=_W3(), **kw)
    assert not any(s.cached for s in a.solves)
    b = pep.worst_case("extra", W=_W3(), **kw)
    assert all(s.cached for s in b.solves)
    np.testing.assert_array_equal(a.values, b.values)
    W2 = mixing.metropolis(graphs.ring(3))
    c = pep.worst_case("extra", W=W2, **kw)
    assert not any(s.cached for s in c.solves)
    d = pep.worst_case("extra", W=_W3(), **dict(kw, zeta=0.6))
    assert not any(s.cached for s in d.solves)


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="method"):
        pep.worst_case("adam", horizon=1, step_size=0.1, mu=0.1, W=np.eye(1))
    with pytest.raises(ValueError, match="horizon"):
        pep.worst_case("dgd", horizon=-1, step_size=0.1, mu=0.1, W=np.eye(1))
    with pytest.raises(ValueError, match="mu < L"):
        pep.worst_case("dgd", horizon=1, step_size=0.1, mu=2.0, W=np.eye(1))
    with pytest.raises(ValueError, match="exactly one of W"):
        pep.worst_case("dgd", horizon=1, step_size=0.1, mu=0.1)
    with pytest.raises(ValueError, match="eigenvalues"):
        pep.worst_case("dgd", horizon=1, step_size=0.1, mu=0.1, eigenvalues=(0.5, 0.2))
    with pytest.raises(ValueError, match="step_size"):
        pep.worst_case("dgd", horizon=1, step_size=-1.0, mu=0.1, W=np.eye(1))

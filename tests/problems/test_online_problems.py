"""Online problems: the exact best fixed point in hindsight against a numerical minimiser; bad inputs."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from problems import online


def _numeric_best(p, k):
    V = np.asarray(p.data)[:k]
    R = float(p.radius)
    if p.loss == "linear":
        f = lambda x: float(np.sum(V @ x))  # noqa: E731
    else:
        f = lambda x: float(0.5 * np.sum((x[None, :] - V) ** 2))  # noqa: E731
    best = np.inf
    for x0 in np.random.default_rng(0).uniform(-R / 2, R / 2, size=(4, p.dim)):
        if p.domain == "ball":
            cons = [{"type": "ineq", "fun": lambda x: R**2 - x @ x}]
            res = minimize(f, x0, constraints=cons, method="SLSQP", options={"ftol": 1e-12, "maxiter": 500})
        else:
            res = minimize(f, x0, bounds=[(-R, R)] * p.dim, method="L-BFGS-B", options={"ftol": 1e-14})
        best = min(best, res.fun)
    return best


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), loss=st.sampled_from(online.LOSSES), domain=st.sampled_from(online.DOMAINS),
       kind=st.sampled_from(online.KINDS), k=st.sampled_from([1, 7, 30]))  # fmt: skip
def test_best_prefix_is_the_exact_minimum(seed, loss, domain, kind, k):
    p = online.make(loss, 3, 30, kind=kind, domain=domain, radius=0.7, period=9.0, key=seed)
    exact = float(np.asarray(p.best_prefix)[k])
    numeric = _numeric_best(p, k)
    assert exact <= numeric + 1e-7 * max(1.0, abs(numeric))  # nothing beats the closed form
    assert numeric <= exact + 1e-5 * max(1.0, abs(exact))  # and the solver gets there
    # x_star attains the whole-horizon minimum and lies in the set
    xs, V = np.asarray(p.x_star), np.asarray(p.data)
    val = float(np.sum(V @ xs)) if loss == "linear" else float(0.5 * np.sum((xs - V) ** 2))
    np.testing.assert_allclose(val, float(np.asarray(p.best_prefix)[-1]), rtol=1e-10, atol=1e-12)
    assert (np.linalg.norm(xs) if domain == "ball" else np.abs(xs).max()) <= 0.7 * (1 + 1e-12)


def test_gradient_bound_and_processes():
    p = online.quadratic(2, 50, kind="adversarial", domain="box", n_agents=3, max_delay=4, delay="uniform", key=3)
    d = np.asarray(p.delays)
    assert d.shape == (50, 3) and d.min() >= 0 and d.max() <= 4 and len(np.unique(d)) > 1
    assert set(np.asarray(p.active).tolist()) <= {0, 1, 2}
    # G is the largest gradient norm over the box: attained at a corner
    V = np.asarray(p.data)
    corners = np.array([[sx, sy] for sx in (-1, 1) for sy in (-1, 1)], float)
    G = max(np.linalg.norm(c - v) for c in corners for v in V)
    np.testing.assert_allclose(float(p.G), G, rtol=1e-12)
    assert online.make("linear", 2, 10, key=5).data.tolist() == online.make("linear", 2, 10, key=5).data.tolist()


def test_adversarial_blocks_repeat_the_loss():
    p = online.linear(3, 40, kind="adversarial", block=5, key=1)
    V = np.asarray(p.data).reshape(8, 5, 3)
    assert np.all(V == V[:, :1, :])


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="max_delay must be a nonnegative integer"):
        online.linear(2, 10, max_delay=-1)
    with pytest.raises(ValueError, match="delays must be nonnegative"):
        online.linear(2, 3, max_delay=2, delay=np.array([[0], [-1], [2]]))
    with pytest.raises(ValueError, match="shape"):
        online.linear(2, 3, max_delay=2, delay=np.zeros((3, 2), int))
    with pytest.raises(ValueError, match="exceed max_delay"):
        online.linear(2, 3, max_delay=1, delay=np.array([[0], [3], [1]]))
    with pytest.raises(ValueError, match="kind must be one of"):
        online.linear(2, 10, kind="random")
    with pytest.raises(ValueError, match="domain must be one of"):
        online.linear(2, 10, domain="simplex")
    with pytest.raises(ValueError, match="radius must be positive"):
        online.linear(2, 10, radius=-1.0)

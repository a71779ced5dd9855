"""Delayed dual averaging: the engine's regret equals an independent plain-numpy replay of the protocol."""

import numpy as np
import pytest

import algos
from problems import online


def _replay(p, mode, alpha=None, eta=None):
    """Plain numpy: lists of the feedback each agent has received, no ring buffer."""
    V, act, delays = np.asarray(p.data), np.asarray(p.active), np.asarray(p.delays)
    T, dim = V.shape
    N, d, G, R = delays.shape[1], p.max_delay, float(p.G), float(p.radius)
    produced = []  # (round, g, err)
    regrets, total = [], 0.0
    best = np.asarray(p.best_prefix)
    for t in range(T):
        i = int(act[t])
        got = [(s, g, e) for (s, g, e) in produced if s + 1 + delays[s, i] <= t]
        S = sum((g for _, g, _ in got), np.zeros(dim))
        Q = sum(e for _, _, e in got)
        if mode == "constant":
            step = eta
        else:
            ge = 2 * G if mode == "optimistic" else G
            step = alpha / np.sqrt((d + 1) * ge**2 + Q)
        m = max(got, key=lambda z: z[0])[1] if (mode == "optimistic" and got) else np.zeros(dim)
        y = -step * (S + m)
        x = y * min(1.0, R / max(np.linalg.norm(y), 1e-300)) if p.domain == "ball" else np.clip(y, -R, R)
        g = V[t] if p.loss == "linear" else x - V[t]
        loss = V[t] @ x if p.loss == "linear" else 0.5 * np.sum((x - V[t]) ** 2)
        produced.append((t, g, float(np.sum((g - m) ** 2)) if mode == "optimistic" else float(g @ g)))
        total += loss - (best[t + 1] - best[t])
        regrets.append(total)
    return np.array(regrets)


@pytest.mark.parametrize("factory,mode", [(algos.delayed_dual_averaging, "adaptive"),
                                          (algos.optimistic_dual_averaging, "optimistic"),
                                          (algos.tuned_dual_averaging, "constant")])  # fmt: skip
def test_regret_equals_an_independent_replay(factory, mode):
    p = online.quadratic(2, 200, kind="drifting", domain="ball", n_agents=3, max_delay=3, delay="uniform",
                         period=20.0, noise=0.2, key=4)  # fmt: skip
    algo = factory(p)
    _, tr = algos.run(algo, 0, 200)
    ref = _replay(p, mode, alpha=algo.hparams["alpha"], eta=algo.hparams["step_size"])
    np.testing.assert_allclose(np.asarray(tr.regret)[1:], ref, rtol=1e-9, atol=1e-10)
    assert float(tr.gradient_calls[-1]) == 200 and float(tr.feedback_messages[-1]) == 600
    # outstanding feedback never exceeds the delay bound
    assert np.asarray(tr.missing).max() <= 3


def test_same_seed_same_trace_and_undelayed_agents_agree():
    zero = np.zeros((200, 3), dtype=int)
    p = online.linear(2, 200, kind="stationary", n_agents=3, max_delay=3, delay=zero, key=2)
    a = algos.delayed_dual_averaging(p)
    t1, t2 = algos.run(a, 0, 200)[1], algos.run(a, 0, 200)[1]
    assert np.array_equal(np.asarray(t1.regret), np.asarray(t2.regret))
    # without actual delays every agent holds the same sums: who is active does not matter
    q = online.linear(2, 200, kind="stationary", n_agents=3, max_delay=3, delay=zero, activation="round_robin", key=2)
    assert not np.array_equal(np.asarray(q.active), np.asarray(p.active))
    np.testing.assert_allclose(np.asarray(algos.run(algos.delayed_dual_averaging(q), 0, 200)[1].regret),
                               np.asarray(t1.regret), rtol=1e-12, atol=1e-12)  # fmt: skip
    # with delays it does
    r = online.linear(2, 200, kind="stationary", n_agents=3, max_delay=3, delay="uniform", key=2)
    assert not np.allclose(np.asarray(algos.run(algos.delayed_dual_averaging(r), 0, 200)[1].regret), np.asarray(t1.regret))


def test_bad_inputs_are_named():
    p = online.linear(2, 20)
    with pytest.raises(ValueError, match="alpha must be positive"):
        algos.delayed_dual_averaging(p, alpha=-1.0)
    with pytest.raises(ValueError, match="step_size must be positive"):
        algos.tuned_dual_averaging(p, step_size=0.0)
    with pytest.raises(TypeError, match="OnlineProblem"):
        algos.optimistic_dual_averaging(np.zeros(3))

"""``bounds.instance`` on the federated and bilevel methods whose noise-free runs are linear and
time-invariant on quadratic problems (issue 7: every method has a bound judged run by run).

For each: the exact rate holds on the method's own run (two-sided, 2% of the gap); a *wrong run*
(the same method with one hyperparameter changed by 20%, judged against the first run's bound
without ``algo=``, which would refuse it) is a FINDING; ``compare`` refuses the bound for another
method's trace. The configurations that are not one linear time-invariant recursion are refused
with a clear error (random participation or local-step counts, a round-dependent sample, a
periodic momentum update, the SAM normalization). (Gossip-DSBO, whose gossiped Hessian estimates
multiply z, is refused as not affine too; not tested here: its linearization compiles for ~20 s.)
"""

import jax
import numpy as np
import pytest

import algos
import bounds
from problems import bilevel, convex, graphs, mixing

jax.config.update("jax_enable_x64", True)

N, D = 5, 2
P = convex.quadratic(N, D, L=10.0, mu=1.0, key=3)
W = mixing.metropolis(graphs.ring(N))
PB = bilevel.quadratic(n_nodes=6, dim_x=3, dim_y=3, key=0)
WB = mixing.metropolis(graphs.ring(6))

# method -> (factory of kwargs -> algorithm, the hyperparameter halved for the wrong run, steps). The wrong
# run's fitted rate must be at least 5% of the gap 1 - r* away from r* (2.5 times the 2% tolerance), so
# the FINDING is not decided at the tolerance's edge; measured shifts: 8% of the gap (local_sgd, inner_lr)
# to 20-50% (the others). Every case is ~10-30 s (compilation of the linearization and of the run).
SLOW = pytest.mark.slow
FAST = ("dfedavg",)  # one federated case in the default run; the rest, the bilevel ones included, run with -m slow (the suite limit)
CASES = {
    "dfedavg": (lambda **kw: algos.dfedavg(P, W, **kw), "step_size", 600),
    "local_sgd": (lambda **kw: algos.local_sgd(P, **kw), "inner_lr", 600),
    "modest": (lambda **kw: algos.modest(P, sample_size=N, **kw), "step_size", 600),
    "afa_cd": (lambda **kw: algos.afa_cd(P, local_steps=1, **kw), "eta_server", 600),
    "afa_cs": (lambda **kw: algos.afa_cs(P, local_steps=1, **kw), "eta_server", 600),
    # rho = 0: no SAM perturbation (with rho > 0 the step is not affine); judges the local steps and W^Q
    "dfedsam_mgs": (lambda **kw: algos.dfedsam_mgs(P, W, rho=0.0, gossip_steps=3, **kw), "step_size", 600),
    "dsbo": (lambda **kw: algos.dsbo(PB, WB, **kw), "step_size", 300),
    "ma_dsbo": (lambda **kw: algos.ma_dsbo(PB, WB, **kw), "step_size", 300),
    "exact_dsbo": (lambda **kw: algos.exact_dsbo(PB, WB, **kw), "step_size", 200),
}


@pytest.mark.parametrize(
    "method", [m if m in FAST else pytest.param(m, marks=SLOW) for m in sorted(CASES)]
)
def test_instance_rate_holds_on_the_run_and_fails_on_a_wrong_run(method):
    make, hp, steps = CASES[method]
    algo = make()
    b = bounds.instance(algo)
    assert b.kind == "instance" and b.method == algo.name and b.valid
    _, tr = algos.run(algo, 0, steps)
    rep = bounds.compare(tr, b, algo=algo)
    assert rep.holds is True and rep.two_sided, str(rep)
    r = b.instance_rate
    assert abs(rep.empirical_rate - r) <= 0.02 * (1 - r)
    # a wrong run: the same method with one hyperparameter halved
    wrong = make(**{hp: 0.5 * float(algo.hparams[hp])})
    _, tr_wrong = algos.run(wrong, 0, steps)
    bad = bounds.compare(tr_wrong, b)
    assert bad.holds is False and "FINDING" in bad.message, str(bad)
    assert abs(bad.empirical_rate - r) > 0.05 * (1 - r), str(bad)  # far off, not at the tolerance's edge
    with pytest.raises(ValueError, match="hparams|computed for"):
        bounds.compare(tr_wrong, b, algo=wrong)


def test_instance_bound_refuses_another_methods_trace():
    b = bounds.instance(algos.dfedavg(P, W))
    _, tr = algos.run(algos.modest(P, sample_size=N), 0, 20)
    with pytest.raises(ValueError, match="algos.dfedavg.*algos.modest"):
        bounds.compare(tr, b)


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda: algos.modest(P, sample_size=2), "time-varying"),  # hash-chosen sample per round
        (lambda: algos.local_sgd(P, delayed_nesterov=2), "time-varying"),  # momentum every N-th round
        (lambda: algos.afa_cd(P, local_steps=3), "random numbers"),  # K_i ~ Uniform{1..K}
        (lambda: algos.afa_cs(P, participation=0.5, local_steps=1), "random numbers"),  # random arrivals
        (lambda: algos.dfedsam(P, W), "not affine"),  # x + rho g/||g||
        (lambda: algos.dadao(P, graphs.ring(N)), "random numbers"),  # Poisson gradient / gossip events
        (lambda: algos.dfedavg(convex.quadratic(N, D, L=10.0, mu=1.0, key=3, sigma=0.1), W), "random numbers"),
    ],
)
def test_configurations_without_one_linear_recursion_are_refused(make, words):
    with pytest.raises(ValueError, match=words):
        bounds.instance(make())


def test_delayed_outer_momentum_has_an_exact_rate_above_one():
    """local_sgd with the OpenDiLoCo outer optimizer and a 2-round delay: the exact rate exceeds 1
    (the stale pseudo-gradient destabilizes Nesterov momentum), the run diverges at that rate, and
    the instance bound's condition ``r* < 1`` fails (holds is None, not a verdict on a converging run)."""
    algo = algos.local_sgd(P, delay=2)
    b = bounds.instance(algo)
    assert b.instance_rate > 1.0 and not b.valid
    _, tr = algos.run(algo, 0, 120)
    inc = np.asarray(tr.increment_norm)
    fitted, _, _ = bounds.fit_rate(inc[1:], np.asarray(tr.steps)[1:])
    assert abs(fitted - b.instance_rate) <= 0.02 * (b.instance_rate - 1.0) + 1e-3


def test_adom_plus_instance_rate_reads_only_the_modes_its_metric_sees():
    """ADOM+ on a static ring: the consensus part of its dual state drifts along a Jordan block at 1
    that the run excites, so the state's rate is 1, but x never sees that block. The rate restricted
    to the modes dist_to_opt reads (exact_spectrum(observe=...)) is below 1; the run follows its exact
    recursion (the model's prediction, with d's part on the drifting block split off along the
    Schur form, matches the run) and is judged two-sided. The same method on a path (a different
    iteration matrix) judged against that bound is a FINDING."""
    seq = mixing.sequence_weights(graphs.ring(N), "laplacian")
    algo = algos.adom_plus(P, seq)
    assert bounds.exact_spectrum(algo).rate > 1.0 - 1e-9  # the state drifts
    b = bounds.instance(algo)
    r = b.instance_rate
    assert b.valid and r < 1.0
    _, tr = algos.run(algo, 0, 2500)
    rep = bounds.compare(tr, b, algo=algo)
    assert rep.holds is True and rep.two_sided, str(rep)
    assert abs(rep.empirical_rate - r) <= 0.02 * (1 - r)
    d = np.asarray(tr.dist_to_opt)
    model = bounds.exact_spectrum(algo, observe="dist_to_opt").model
    k = np.arange(50, 2500, 150)
    # the model is exact up to its predicted limit's round-off, which it reports as its floor
    # (measured 1.6e-13, 2e-13 d0 on stop 21's machine and 1.0e-12 d0 (4500 eps d0) on stop 23's, the
    # same code: the floor is round-off of the Schur form, which depends on the LAPACK build; the bound
    # below asks for round-off level, 1e4 eps d0, and the model-vs-run comparison is the real check)
    floor = model.floor("dist_to_opt")
    assert floor < 1e4 * np.finfo(float).eps * d[0]
    np.testing.assert_allclose(model.records(k, "dist_to_opt"), d[k], rtol=1e-5, atol=10 * floor)
    wrong = algos.adom_plus(P, mixing.sequence_weights(graphs.path(N), "laplacian"))  # a slower network
    _, tr_wrong = algos.run(wrong, 0, 2500)
    bad = bounds.compare(tr_wrong, b)
    assert bad.holds is False and "FINDING" in bad.message, str(bad)
    assert abs(bad.empirical_rate - r) > 0.05 * (1 - r), str(bad)


def test_observe_names_a_recorded_metric():
    with pytest.raises(ValueError, match="observe='nope'.*dist_to_opt"):
        bounds.exact_spectrum(algos.extra(P, W), observe="nope")

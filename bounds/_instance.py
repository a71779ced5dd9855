"""The ``"instance"`` bound of any linear time-invariant method on an affine problem.

On quadratic and least-squares problems (gradients affine in ``x``, no gradient noise) one step
of DGD, EXTRA, NIDS, exact diffusion, gradient tracking, MSDA, APAPC, OPAPC, gossip or heavy-ball
gossip is an affine map of the state. :func:`bounds.exact_rate` gives the exact asymptotic rate
``r*`` of the run: the spectral radius of the iteration matrix on the modes the run excites.
:func:`instance` turns it into a :class:`Bound` of kind ``"instance"``, judged run by run by
:func:`bounds.compare`: two-sided, the rate fitted on the run must lie within ``tol (1 - r*)``
of ``r*`` (default ``tol = 0.02``, 2% of the gap: the tolerance at which the classical methods'
fitted rates are tested against the exact rate in tests/algos, and larger than the Theil–Sen
fit's scatter on these runs, measured below 0.5% of the gap).

Before fitting, ``compare`` divides out the run's exact transient: the instance's
:class:`bounds.convex.exact.LinearModel` predicts what the run records from the linear recursion
``s_k = s_inf + J^(k-m) e_m`` (faster modes, Jordan blocks of critically damped accelerated
methods, beating complex pairs), and the fit is of ``metric_k / (prediction_k / r*^k)``. A run
that follows its recursion then fits ``r*`` to round-off over any window, so the check is always
two-sided. (Dividing out only the slowest band, as before, left finite-window fits biased by
the faster modes: MSDA at kappa = 300 on a 16-ring fitted 3% of the gap slower than ``r*``, a
false FINDING in the full-size ``convex-rates`` figure; tests/bounds/test_convex_bounds.py.)

Which metric: ``dist_to_opt`` for the exact methods (the error converges to 0 at ``r*``);
``increment_norm`` for DGD (its iterates converge to a biased fixed point, not to ``x*``, and
the increments decay at ``r*``); ``consensus_error`` for gossip methods.

Other families (issue 7). The mechanism needs nothing family-specific: any factory whose noise-free
step is affine and time-invariant on an affine problem gets its instance rate. Steps that read the
step index ``t`` (the engine's third argument) are linearized at ``t = warmup`` and first checked to
be the same map at five later indices (``bounds.convex.exact._TIME_PROBES``); a time-varying step
raises ``ValueError``. Covered, on quadratic problems with ``sigma = 0``:

* ``dfedavg`` (``K`` local GD steps then gossip), ``local_sgd`` (any outer lr / momentum /
  Nesterov / delay ``D``; not ``delayed_nesterov >= 2``, a periodic update) and ``modest`` with
  ``sample_size = n`` (with ``s < n`` the hash-chosen sample changes every round): metric
  ``increment_norm``, the round's move (their iterates converge to a client-drift-biased point);
* ``afa_cd`` / ``afa_cs`` with full participation (``q = 1``), ``local_steps = 1`` and
  ``max_staleness = 0`` (otherwise the step draws arrivals, ``K_i`` or staleness: random);
* ``dsbo``, ``ma_dsbo``, ``exact_dsbo`` on ``problems.bilevel.quadratic`` (noise-free oracles):
  ``dist_to_opt`` of ``x_bar``.

``dfedsam`` / ``dfedsam_mgs`` only with ``rho = 0``, where no SAM perturbation is taken (the
check then judges the ``K`` local steps and the ``W^Q`` gossip, not SAM).

Not covered (refused with the reason): ``dfedsam`` / ``dfedsam_mgs`` with ``rho > 0`` (the SAM
perturbation ``rho g/||g||`` is not affine), ``gossip_dsbo`` (gossiped Hessian estimates multiply
``z``: bilinear), ``dadao`` (random Poisson events), any ``sigma > 0`` run. ``local_sgd`` with a
delay and the default outer Nesterov momentum has ``r* > 1`` (condition fails, ``holds`` None: the
run diverges at that rate, tests/bounds/test_instance_families.py).

``adom_plus`` on a static network (one Laplacian; a switching sequence is time-varying and
refused): its ``M`` state has a (numerically split) Jordan block at 1 that the run excites, the
consensus part of ``M`` drifts linearly while ``x`` converges, so the state's rate is 1. The rate
is therefore taken on the modes the bound's metric reads (``exact_spectrum(observe=metric)``, for
every method: where the metric sees every excited mode, as for all the methods above, it is the
state's rate), which for ADOM+ is the next modulus, judged two-sided
(``test_adom_plus_instance_rate_reads_only_the_modes_its_metric_sees``).
"""

from __future__ import annotations

import functools

from bounds._check import Bound, signature

__all__ = ["instance", "DEFAULT_METRIC", "INSTANCE_TOL"]

INSTANCE_TOL = 0.02
DEFAULT_METRIC = {
    "dgd": "increment_norm",
    # local steps between communications: the iterates converge to a biased fixed point (client drift),
    # the rounds' moves converge to 0 at the exact rate (as DGD's increments)
    "dfedavg": "increment_norm",
    "dfedsam": "increment_norm",  # affine only with rho = 0 (no SAM perturbation)
    "dfedsam_mgs": "increment_norm",
    "local_sgd": "increment_norm",
    "modest": "increment_norm",
    "gossip": "consensus_error",
    "heavy_ball_gossip": "consensus_error",
    "chebyshev_gossip": "consensus_error",
}


def _is_stochastic(algo) -> bool:
    """Does one step depend on its key? (Two keys, same state: different results means randomness.)"""
    import jax
    import numpy as np

    from bounds.convex.exact import _step_at

    init, step = algo.build(algo.params)
    s = init(jax.random.PRNGKey(0))
    a = jax.tree_util.tree_leaves(_step_at(step, jax.random.PRNGKey(1), s, 0)[0])
    b = jax.tree_util.tree_leaves(_step_at(step, jax.random.PRNGKey(2), s, 0)[0])
    return any(not np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(a, b))


def instance(algo, *, metric: str | None = None, tol: float = INSTANCE_TOL, key=0) -> Bound:
    """Exact asymptotic rate of ``algo`` on its (affine) problem, as a two-sided ``"instance"`` bound.

    Args:
        algo: the run's :class:`algos.Algorithm`.
        metric: the trace field (default per method: see the module docstring).
        tol: two-sided tolerance as a fraction of ``1 - r*``.
        key: fixed key for the linearization (deterministic methods ignore it).

    Raises:
        ValueError: the step is not affine in the state (logistic problem, a time-varying
            recurrence such as Chebyshev gossip), or it is random (gradient noise: with a fixed key
            a noisy step is still affine, but the run is not that one linear recursion): there is
            no instance rate.
    """
    from bounds.convex.exact import exact_spectrum

    if _is_stochastic(algo):
        raise ValueError(
            f"bounds.instance: algos.{algo.name} draws random numbers in its step (gradient noise); its runs are "
            "not the linear recursion whose rate exact_rate computes. Use an expectation bound (e.g. bounds.dsgd_expectation)"
        )
    metric = metric or DEFAULT_METRIC.get(algo.name, "dist_to_opt")
    spec = exact_spectrum(algo, key=key, observe=metric)
    problem = algo.params["problem"]
    W = algo.params.get("W")
    r = float(spec.rate)
    # exact transient of the whole recursion for this metric (two-sided wherever it is usable);
    # the slowest band's transient where the model's accuracy floor leaves too few points
    shape = functools.partial(spec.model.shape, metric=metric) if spec.model is not None else None
    hparams = {k: v for k, v in (algo.hparams or {}).items() if isinstance(v, float)}
    return Bound(
        name=f"{algo.name}_instance",
        kind="instance",
        method=algo.name,
        source=(
            "ratebench: spectral radius of the method's iteration matrix on the modes the run excites and "
            "the metric reads (bounds.exact_spectrum(observe=metric), jacfwd of one step + real Schur form); "
            "exact for this instance"
        ),
        metric=metric,
        x_axis="steps",
        instance_rate=r,
        instance_tol=float(tol),
        instance_shape=spec.shape,
        instance_model_shape=shape,
        instance_weight=spec.band_weight,
        instance_next_modulus=spec.band_next_modulus,
        signature=signature(problem, W),
        hparams=hparams,
        conditions={"exact rate below 1 (the run converges)": r < 1.0},
        params={"state_dim": spec.state_dim, "affine_residual": spec.affine_residual, "weight": spec.weight,
                "next_modulus": spec.next_modulus},  # fmt: skip
        notes=(
            f"Two-sided: fitted rate within {tol:g} (1 - r*) of r* = {r:.6f}; one-sided (fitted <= r* + tol) "
            "when the slowest excited modes cannot show within the run's float64 range."
        ),
    )

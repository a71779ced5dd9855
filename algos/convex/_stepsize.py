"""Step-size resolution shared by the classical convex methods (DGD, D-SGD, EXTRA, NIDS, DIGing).

Each factory knows two numbers for its step size: a *default* (a documented
choice derived from ``L`` and the spectrum of ``W``) and a *limit* (the range in
which the method's guarantee, or its worst-case stability on quadratics, holds).
This module turns ``step_size=None`` into the default and rejects concrete step
sizes outside ``(0, limit)`` with :class:`bounds.StepSizeError` unless the
caller passes ``check=False``. Traced step sizes (inside ``jax.vmap``) cannot
raise, their value being unknown at trace time: with ``check=True`` one outside
``(0, limit)`` is replaced by NaN, so that run is flagged ``diverged`` at step 1
(its own flag in a vmapped batch) while the others run; ``check=False`` runs
every value as given.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from algos._core import is_concrete  # noqa: F401  (re-exported)
from algos._errors import StepSizeError, concrete_scalar, nan_unless_valid  # noqa: F401  (concrete_scalar re-exported)
from problems import mixing
from problems.convex import check_constants


Spectrum = mixing.Spectrum


def spectrum(W) -> Spectrum:
    """:class:`problems.mixing.Spectrum` of ``W`` (one eigendecomposition); a ``Spectrum`` is returned as is.

    The default and limit functions of the step-size methods accept either, so a factory computes
    the spectrum once and hands it to both (and to ``Algorithm.spectrum`` for the bounds).
    """
    if isinstance(W, Spectrum):
        return W
    return mixing.spectrum(W)


def constants(problem, fn: str) -> tuple[float, float]:
    """``(L, mu)`` of ``problem`` as Python floats, validated (``0 < mu <= L``).

    Raises:
        ValueError: if ``mu > L`` (or either is non-positive / non-finite), or if the constants are
            traced (then the caller must pass ``step_size`` explicitly).
    """
    if not (is_concrete(problem.L) and is_concrete(problem.mu)):
        raise ValueError(
            f"algos.{fn}: the problem's L and mu are traced (inside jit/vmap), so the default step size "
            "cannot be computed; pass step_size explicitly"
        )
    L, mu = float(problem.L), float(problem.mu)
    check_constants(L, mu)
    return L, mu


def check_problem_constants(problem) -> None:
    """Validate ``0 < mu <= L`` when the constants are concrete (no-op under tracing)."""
    if is_concrete(problem.L) and is_concrete(problem.mu):
        check_constants(float(problem.L), float(problem.mu))


def resolve(step_size, *, default: float, limit: float, fn: str, rule: str, check: bool):
    """Return the step size to use: ``default`` when ``step_size`` is None, else ``step_size`` (validated).

    Args:
        step_size: None, a Python/NumPy float, or a traced scalar.
        default: the factory's default (already inside ``(0, limit)``).
        limit: supremum of the admissible range ``(0, limit)``.
        fn: factory name, for messages.
        rule: the admissible range in words, e.g. ``"alpha < (1 + lambda_n(W)) / L"``.
        check: raise on a concrete out-of-range step size when True.

    Returns:
        A float64 JAX scalar (concrete input) or the traced input unchanged.
    """
    if step_size is None:
        return jnp.asarray(float(default))
    if not is_concrete(step_size):
        return step_size
    value = concrete_scalar(step_size, "step_size", fn)
    if check and not (0.0 < value < limit):
        raise StepSizeError(
            f"algos.{fn}: step_size={value:.6g} is outside the range (0, {limit:.6g}) in which the theory holds "
            f"({rule}). Use a step size in that range (the default is {default:.6g}), "
            "or pass check=False to run it anyway"
        )
    return jnp.asarray(value)


def initial_point(problem, x0, fn: str):
    """Node-stacked starting point: ``problem.x0()`` (zeros) by default; validates the shape of ``x0``."""
    if x0 is None:
        return problem.x0()
    X0 = jnp.asarray(x0)
    n, d = problem.n_nodes, problem.dim
    if X0.shape == (d,):
        X0 = jnp.broadcast_to(X0, (n, d))
    if X0.shape != (n, d):
        raise ValueError(
            f"algos.{fn}: x0 must have shape (n_nodes, dim) = ({n}, {d}) or (dim,), got {X0.shape}; pass an array of that shape"
        )
    if is_concrete(X0) and not bool(jnp.all(jnp.isfinite(X0))):
        raise ValueError(f"algos.{fn}: x0 must be finite, but it has NaN or inf entries; pass a finite starting point (or None for zeros)")
    return X0.astype(jnp.result_type(problem.x_star))


def as_float(x):
    """Python float when concrete, else None (for ``Algorithm.hparams``)."""
    return float(np.asarray(x)) if is_concrete(x) else None


def step_size_factory(build, name: str, problem, W, step_size, x0, *, check: bool, rule: str, default_fn, limit_fn,
                      finite=None):  # fmt: skip
    """The whole factory of a one-step-size method (DGD, D-SGD, EXTRA, NIDS, exact diffusion, DIGing).

    ``W`` may be a dense matrix or an :class:`algos._gossip.GossipOperator` (structured
    gossip: ring/torus rolls or an edge list); it is validated through its dense form and,
    if an operator, kept as one in ``params``. Validates the problem and ``W``, resolves the step size (``default_fn(problem, W)`` when
    omitted, else checked against ``(0, limit_fn(problem, W))``), the starting point, and
    returns ``make_algorithm(build, {"problem", "W", "alpha", "x0"}, convex_metrics, name)``.
    """
    from algos._core import make_algorithm
    from algos._gossip import GossipOperator
    from algos.convex._common import check_problem_and_W, convex_metrics

    op = W if isinstance(W, GossipOperator) else None  # structured gossip: kept as the operator
    W = check_problem_and_W(problem, W, name, mixes=check)
    check_problem_constants(problem)
    spec = spectrum(W)  # once per factory: the default, the limit and the bounds read it
    if check:  # check=False runs a W that does not mix too (e.g. W = I: every node runs alone)
        mixing.check_mixes(W, name, spectrum=spec, extra=" (or check=False to run it anyway)")
    if step_size is None or (check and is_concrete(step_size)):
        default, limit = default_fn(problem, spec), limit_fn(problem, spec)
    elif check and is_concrete(problem.L) and is_concrete(problem.mu):  # traced step size, concrete constants
        default, limit = None, limit_fn(problem, spec)
    else:  # check=False, or the constants are traced too (a vmap over problems): nothing to compare with
        default = limit = None
    alpha = resolve(step_size, default=default, limit=limit, fn=name, rule=rule, check=check)
    if limit is not None:  # a traced step size outside (0, limit) becomes NaN: flagged diverged at step 1
        alpha = nan_unless_valid(alpha, lambda: (alpha > 0) & (alpha < limit), alpha, check=check)
    W_param = op if op is not None else jnp.asarray(W)
    params = {"problem": problem, "W": W_param, "alpha": alpha, "x0": initial_point(problem, x0, name)}
    return make_algorithm(
        build, params, convex_metrics, name, hparams={"step_size": as_float(alpha)}, finite=finite, spectrum=spec
    )

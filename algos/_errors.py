"""Errors and argument checks shared by every algorithm family (``StepSizeError`` is public as
``algos.StepSizeError`` and ``bounds.StepSizeError``).

One validation mechanism for the factories: :func:`check_problem_and_W` (the problem and a static
``W``, which must mix: :func:`problems.mixing.check_mixes`) and the scalar checks of
:mod:`problems._checks` (``integer``, ``real``, ``seed``), re-exported here.
"""

from __future__ import annotations

import numpy as np

from problems._checks import integer, real, seed  # noqa: F401  (re-exported for the families)

__all__ = [
    "StepSizeError", "check_problem_and_W", "concrete_scalar", "scalars", "nan_unless_valid", "integer", "real", "seed"
]


class StepSizeError(ValueError):
    """A hyperparameter lies outside the range in which the method (or its theorem) is valid."""


def concrete_scalar(value, name: str, fn: str) -> float:
    """A concrete hyperparameter as a float: a real scalar (not a string, not an array of several
    values: sweeps go through ``jax.vmap``), finite (``StepSizeError`` for NaN or inf)."""
    if isinstance(value, (str, bytes, bool)) or value is None:
        raise TypeError(f"algos.{fn}: {name} must be a number, got {type(value).__name__} {value!r}; pass a float such as 0.01")
    arr = np.asarray(value)
    if arr.ndim != 0:
        raise TypeError(
            f"algos.{fn}: {name} must be a scalar, got an array of shape {arr.shape}; to sweep several values, "
            f"jax.vmap over the factory and run (README: sweeps), e.g. jax.vmap(lambda a: algos.run(algos.{fn}(p, W, a), 0, 500))(values)"
        )
    if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise TypeError(f"algos.{fn}: {name} must be a real number, got dtype {arr.dtype}; pass a float such as 0.01")
    v = float(arr)
    if not np.isfinite(v):
        raise StepSizeError(f"algos.{fn}: {name} must be finite, got {v}; pass a finite positive number (or None for the default)")
    return v


def scalars(fn: str, **values) -> tuple:
    """The factory's scalar hyperparameters, in the order given: ``None`` and traced values unchanged,
    concrete ones through :func:`concrete_scalar` (a string, an array or NaN is refused by name)."""
    from algos._core import is_concrete

    return tuple(v if v is None or not is_concrete(v) else concrete_scalar(v, k, fn) for k, v in values.items())


def nan_unless_valid(target, valid, *values, check: bool = True):
    """The traced analogue of :class:`StepSizeError`: ``target`` where ``valid()`` holds, NaN elsewhere.

    A concrete hyperparameter outside its range raises in the factory; a traced one (a ``jax.vmap`` or
    ``jit`` sweep) has no value at trace time, so it cannot. The factories then pass the hyperparameter
    that enters every step as ``target``, every hyperparameter the range depends on as ``values`` and
    the range itself as ``valid`` (a callable returning a JAX boolean, evaluated only when one of
    ``values`` is traced). A run whose hyperparameters lie outside the range therefore computes NaN
    from its first step and is flagged ``trace.diverged`` with ``trace.diverged_at == 1`` (in a
    vmapped batch, only that run), while the others run as given. With every value concrete (already
    checked) or ``check=False``, ``target`` is returned unchanged.
    """
    import jax.numpy as jnp

    from algos._core import is_concrete

    if not check or all(v is None or is_concrete(v) for v in values):
        return target
    return jnp.where(valid(), target, jnp.nan)


def check_problem_and_W(problem, W, fn: str, *, mixes: bool = True) -> np.ndarray:
    """Validate the (problem, W) pair of a factory; returns W as float64 NumPy.

    ``problem`` must be a :class:`problems.convex.Problem`; ``W`` a symmetric doubly stochastic
    matrix (or a structured :class:`algos.operators.GossipOperator`) on ``problem.n_nodes``
    nodes whose support is connected (:func:`problems.mixing.check_mixes`; skipped with
    ``mixes=False``, what the step-size methods pass for ``check=False``).
    """
    from problems import mixing
    from problems.convex import Problem

    if not isinstance(problem, Problem):
        raise TypeError(
            f"algos.{fn} expects a problems.convex.Problem as problem, got {type(problem).__name__}; "
            "build one with e.g. problems.convex.quadratic(n_nodes, dim)"
        )
    # a GossipOperator converts to its dense matrix; a Graph or a networkx graph is refused by name
    dtype = getattr(W, "dtype", None)
    # validated at the precision it was given in (a float32 operator's rows sum to 1 within ~1e-7)
    atol = 1e-6 if dtype is not None and np.dtype(dtype) == np.float32 else 1e-9
    W = mixing.check_mixing(W, atol=atol)
    if W.shape[0] != problem.n_nodes:
        raise ValueError(
            f"algos.{fn}: W is {W.shape[0]}x{W.shape[0]} but the problem has {problem.n_nodes} nodes; "
            "build W on a graph with one node per local function"
        )
    if mixes:
        mixing.check_mixes(W, fn)
    return W

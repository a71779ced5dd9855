"""How a bound gets the run's actual hyperparameters: from the Algorithm, or by building it.

Every bound function accepts either the run's :class:`algos.Algorithm` (``bounds.extra(algo)``)
or the factory's own arguments (``bounds.extra(problem, W, step_size=0.05)``). In the second form
the bound builds the algorithm with the factory (``check=False``, so that out-of-range values
reach the bound, whose conditions then say they fail), so the defaults come from one place, the
factory's default functions in ``algos/``, and the bound reads the resolved values from
``algo.hparams``.
"""

from __future__ import annotations

import inspect

import numpy as np

from algos import Algorithm
from problems import mixing

__all__ = ["as_algorithm", "dense_W", "spectrum_of", "hp"]


def as_algorithm(method: str, factory, problem_or_algo, W=None, /, **hyper) -> Algorithm:
    """The algorithm a bound is about (see the module docstring).

    Raises:
        ValueError: an Algorithm of another method, or an Algorithm together with W/hyperparameters.
    """
    if isinstance(problem_or_algo, Algorithm):
        algo = problem_or_algo
        if algo.name != method:
            raise ValueError(
                f"bounds.{method} is about algos.{method}; got an algorithm {algo.name!r}: pass an algos.{method}(...) "
                f"algorithm, or use the bound of the method that ran (bounds.instance(algo) works for every linear method)"
            )
        given = {k: v for k, v in hyper.items() if v is not None}
        if W is not None or given:
            raise ValueError(
                f"bounds.{method}(algo) reads W and the hyperparameters from the algorithm; do not pass them "
                f"again (got {'W, ' if W is not None else ''}{', '.join(given)})"
            )
        return algo
    if W is None:
        raise TypeError(f"bounds.{method} takes an algorithm, or (problem, W, hyperparameters...)")
    kwargs = {k: v for k, v in hyper.items() if v is not None}
    if "check" in inspect.signature(factory).parameters:
        kwargs["check"] = False
    return factory(problem_or_algo, W, **kwargs)


def dense_W(algo) -> np.ndarray:
    """The algorithm's mixing matrix as a float64 array (a structured operator converts)."""
    return np.asarray(algo.params["W"], dtype=np.float64)


def spectrum_of(algo):
    """``(lambda_2, lambda_n, slem)`` of the algorithm's W: its ``spectrum`` field when the factory
    computed one, else one eigendecomposition here."""
    spec = getattr(algo, "spectrum", None)
    if spec is not None:
        return float(spec.lambda_2), float(spec.lambda_n), float(spec.slem)
    W = dense_W(algo)
    return mixing.lambda2(W), mixing.lambda_min(W), mixing.slem(W)


def hp(algo, key: str) -> float | None:
    """A resolved hyperparameter of the run as a float (None when traced or absent)."""
    v = (algo.hparams or {}).get(key)
    return None if v is None else float(v)

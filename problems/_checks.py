"""Argument checks shared by every public entry point (problems, graphs, mixing, algos, bounds).

One mechanism, so that every bad input gets the same kind of answer: the function, the argument,
what was wrong and what to pass instead. ``algos._errors`` re-exports these for the factories.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["integer", "real", "seed"]


def _where(fn: str | None) -> str:
    return f"{fn}: " if fn else ""


def integer(value, name: str, fn: str | None = None, *, minimum: int | None = 1) -> int:
    """``value`` as a Python int (an integer-valued float such as ``16.0`` is accepted).

    Raises:
        TypeError: not a number, a bool, or a float with a fractional part.
        ValueError: below ``minimum``.
    """
    what = "a positive integer" if minimum == 1 else ("an integer" if minimum is None else f"an integer >= {minimum}")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        if isinstance(value, np.ndarray) and value.ndim == 0 and np.issubdtype(value.dtype, np.number):
            value = value.item()
        else:
            raise TypeError(f"{_where(fn)}{name} must be {what}, got {value!r} ({type(value).__name__}); pass an int")
    if not isinstance(value, numbers.Integral):
        v = float(value)
        if not (math.isfinite(v) and v.is_integer()):
            raise TypeError(f"{_where(fn)}{name} must be {what}, got {value!r}; pass an int such as {int(v) if math.isfinite(v) else 1}")
        value = int(v)
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{_where(fn)}{name} must be {what}, got {value}; pass {name} >= {minimum}")
    return value


def real(value, name: str, fn: str | None = None, *, lo: float | None = None, hi: float | None = None,
         lo_open: bool = False, hi_open: bool = False, finite: bool = True) -> float:  # fmt: skip
    """``value`` as a Python float, finite (unless ``finite=False``) and inside ``[lo, hi]``
    (open ends with ``lo_open`` / ``hi_open``).

    Raises:
        TypeError: not a real scalar (a string, an array of several values, None).
        ValueError: NaN, infinite, or outside the range.
    """
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{_where(fn)}{name} must be a real number, got a bool; pass a float")
    if not isinstance(value, numbers.Real):
        arr = np.asarray(value) if isinstance(value, (np.ndarray, np.generic)) or hasattr(value, "__array__") else None
        if arr is None or arr.ndim != 0 or not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
            shape = f" of shape {arr.shape}" if arr is not None else ""
            raise TypeError(f"{_where(fn)}{name} must be a real number (a scalar), got {type(value).__name__}{shape}; pass a float")
        value = arr.item()
    v = float(value)
    rng = _range_text(lo, hi, lo_open, hi_open)
    if math.isnan(v) or (finite and math.isinf(v)):
        raise ValueError(f"{_where(fn)}{name} must be finite, got {v}; pass a finite number{' in ' + rng if rng else ''}")
    bad_lo = lo is not None and (v <= lo if lo_open else v < lo)
    bad_hi = hi is not None and (v >= hi if hi_open else v > hi)
    if bad_lo or bad_hi:
        raise ValueError(f"{_where(fn)}{name} must lie in {rng}, got {v:.6g}; pass a value in that range")
    return v


def _range_text(lo, hi, lo_open, hi_open) -> str:
    if lo is None and hi is None:
        return ""
    if hi is None:
        return f"{'(' if lo_open else '['}{lo:g}, inf)" if lo != 0 or lo_open else "[0, inf) (nonnegative)"
    left = "(-inf" if lo is None else f"{'(' if lo_open else '['}{lo:g}"
    return f"{left}, {hi:g}{')' if hi_open else ']'}"


def seed(value, name: str = "seed", fn: str | None = None) -> int:
    """A NumPy seed: a nonnegative Python int (what ``np.random.default_rng`` accepts)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(
            f"{_where(fn)}{name} must be a nonnegative integer seed, got {value!r} ({type(value).__name__}); pass an int such as 0"
        )
    if int(value) < 0:
        raise ValueError(f"{_where(fn)}{name} must be a nonnegative integer seed (>= 0), got {int(value)}; pass an int such as 0")
    return int(value)

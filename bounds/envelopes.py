"""Guaranteed curves (``envelope(k, ref)``) of the usual shapes, for building :class:`bounds.Bound` s.

Each constructor returns a function ``envelope(k, ref) -> array`` of the recorded step numbers
``k`` (an array) and the run's metric ``ref`` at the bound's reference step. ``relative=True``
multiplies the curve by ``ref`` (statements of the form ``metric_k <= f(k) metric_0``);
``relative=False`` states an absolute curve (``metric_k <= f(k)``, e.g. a regret bound with the
problem's constants in ``C``). Before ``k0`` a curve is ``+inf`` (the statement says nothing there,
e.g. ``log k`` at ``k = 1``), so those steps are never judged violated.

* :func:`geometric`: ``C k^p rate^k`` (linear rates, with a Jordan-block polynomial factor);
* :func:`power_law`: ``C k^-a (log k)^b`` (sublinear rates: stochastic methods, hypergradient norms);
* :func:`growth`: ``C k^a (log k)^b`` (regret and communication curves: ``C sqrt(T log T)`` is
  ``growth(C, 0.5, 0.5)``).

All are checked the same way by :func:`bounds.compare` (every recorded step, round-off floor).
"""

from __future__ import annotations

import numpy as np

__all__ = ["geometric", "power_law", "growth"]


def _check(C, k0):
    if not (np.isfinite(C) and C >= 0):
        raise ValueError(f"the constant C must be finite and nonnegative, got {C}")
    if k0 < 0:
        raise ValueError(f"k0 must be >= 0, got {k0}")


def geometric(rate: float, C: float = 1.0, p: float = 0.0, *, relative: bool = True, k0: int = 0):
    """``C k^p rate^k`` (times ``ref`` when relative), with ``k^p`` read as 1 at ``k = 0``."""
    _check(C, k0)
    if not 0.0 <= rate:
        raise ValueError(f"rate must be >= 0, got {rate}")

    def envelope(k, ref):
        k = np.asarray(k, dtype=np.float64)
        with np.errstate(under="ignore"):
            out = C * np.power(np.maximum(k, 1.0), p) * np.power(rate, k)
        out = out * ref if relative else out
        return np.where(k >= k0, out, np.inf)

    return envelope


def _log_power(C: float, a: float, b: float, relative: bool, k0: int):
    """``C k^a (log k)^b`` for ``k >= k0`` (``+inf`` before), shared by :func:`power_law` and :func:`growth`."""
    _check(C, k0)
    if b > 0 and k0 < 2:
        raise ValueError("with a log factor (b > 0) the curve vanishes at k = 1: state it from k0 >= 2")

    def envelope(k, ref):
        k = np.asarray(k, dtype=np.float64)
        kk = np.maximum(k, max(k0, 1))
        out = C * np.power(kk, a) * np.power(np.log(kk), b)
        out = out * ref if relative else out
        return np.where(k >= k0, out, np.inf)

    return envelope


def power_law(C: float, a: float, b: float = 0.0, *, relative: bool = False, k0: int = 1):
    """``C k^-a (log k)^b`` for ``k >= k0`` (``+inf`` before; ``k0 >= 2`` when ``b > 0``)."""
    return _log_power(C, -a, b, relative, k0)


def growth(C: float, a: float, b: float = 0.0, *, relative: bool = False, k0: int = 1):
    """``C k^a (log k)^b`` for ``k >= k0`` (``+inf`` before): regret or cumulative-cost curves."""
    return _log_power(C, a, b, relative, k0)

"""Helpers shared by the classical convex bounds."""

from __future__ import annotations


def maybe_instance_rate(with_instance_rate: bool, algo) -> float | None:
    """The exact asymptotic rate of ``algo`` (:func:`bounds.exact_rate`) when asked and the problem is affine, else None.

    Information beside an order bound; the run-by-run check is :func:`bounds.instance`.
    """
    if not with_instance_rate:
        return None
    from bounds.convex.exact import exact_rate  # local import: exact.py builds algorithms

    try:
        return float(exact_rate(algo))
    except ValueError:
        return None

"""Helpers shared by the classical convex bounds."""

from __future__ import annotations

from collections.abc import Callable


def maybe_exact_rate(exact: bool, problem, make_algo: Callable) -> float | None:
    """The exact asymptotic rate of ``make_algo()`` when ``exact`` and the problem is quadratic, else None."""
    if not exact or getattr(problem, "name", "") != "quadratic":
        return None
    from bounds.convex.exact import exact_rate  # local import: exact.py builds algorithms

    return exact_rate(make_algo())

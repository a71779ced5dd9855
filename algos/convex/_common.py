"""Shared pieces of the convex family (the metrics live in :mod:`problems.convex`; the argument
checks, shared by every family, in :mod:`algos._errors`)."""

from __future__ import annotations

from algos._errors import check_problem_and_W  # noqa: F401  (kept importable from here)
from problems.convex import Problem  # noqa: F401
from problems.convex import metrics as convex_metrics  # noqa: F401  (the family's recorder)

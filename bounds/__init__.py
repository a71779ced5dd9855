"""The papers' theorems as pure functions of constants, and their comparison with runs."""

from bounds._check import Bound, Report, StepSizeError, check_scaling, compare, fit_exponent, fit_rate

__all__ = ["Bound", "Report", "StepSizeError", "check_scaling", "compare", "fit_exponent", "fit_rate"]

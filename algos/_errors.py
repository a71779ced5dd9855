"""Errors shared by algorithm factories (re-exported by :mod:`bounds`)."""


class StepSizeError(ValueError):
    """A hyperparameter lies outside the range in which the method (or its theorem) is valid."""

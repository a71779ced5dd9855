"""What a run records: the recorder a problem family gives the run engine.

Metrics belong to the problem family, not to one algorithm: every convex
method records the convex metrics of :mod:`problems.convex`, every bandit
method the regret of its bandit instance. A family describes them with one
:class:`Metrics` value (a module-level constant, so that :func:`algos.run`
compiles one program per family and shapes, not per call):

* ``instant(params, state, info) -> dict`` — quantities of the current state,
  evaluated at step 0 and at every record (distance to the optimum,
  consensus error, suboptimality, the current arm's index...);
* ``accumulate(params, state, info, t) -> dict`` — per-step amounts that the
  engine sums over *every* step, whatever ``record_every`` is (per-step
  regret, reward, loss, samples). ``state`` and ``info`` are those returned by
  step ``t`` (0-based). The trace holds the running sums (0 at step 0). No
  evaluator state is needed inside the algorithm's ``State``.
* ``primary`` — the metric that says whether a run is broken: a run whose
  primary metric becomes non-finite, or exceeds ``blowup`` times its step-0
  value (when that value is positive), is flagged ``diverged`` at that record.
  With ``primary=None`` every recorded metric must stay finite and no growth
  test is made (regret starts at 0 and grows by design).

``params`` is the algorithm's ``params`` pytree (``params["problem"]`` is the
instance). Values are scalars (or arrays of a fixed shape, e.g. one value per
agent); they are recorded in the run's floating-point precision.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

__all__ = ["Metrics", "DEFAULT_BLOWUP"]

#: Default growth factor over the step-0 value of the primary metric beyond which a run
#: counts as diverged. A stable method's transient stays within a few orders of magnitude of
#: its start; 1e8 is far past any transient measured in this project (the largest, EXTRA near
#: its step-size limit, stays below 1e2) and far below float64 overflow, so a diverging run is
#: caught hundreds of steps before its state overflows.
DEFAULT_BLOWUP = 1e8


@dataclasses.dataclass(frozen=True)
class Metrics:
    """A problem family's recorder; see the module docstring.

    Attributes:
        instant: ``(params, state, info) -> dict[str, array]`` evaluated at step 0 and at each record.
        accumulate: ``(params, state, info, t) -> dict[str, array]`` summed over every step, or None.
        primary: name of the metric watched for divergence, or None (then every metric must stay finite).
        blowup: growth factor of ``primary`` over its step-0 value that counts as divergence
            (``math.inf`` turns the growth test off).
    """

    instant: Callable | None = None
    accumulate: Callable | None = None
    primary: str | None = None
    blowup: float = DEFAULT_BLOWUP

    def __post_init__(self):
        if self.instant is None and self.accumulate is None:
            raise ValueError("Metrics needs an instant or an accumulate function (or both)")
        for name in ("instant", "accumulate"):
            fn = getattr(self, name)
            if fn is not None and not callable(fn):
                raise TypeError(f"Metrics.{name} must be callable, got {type(fn).__name__}")
        if not self.blowup > 1.0:
            raise ValueError(f"Metrics.blowup must be > 1 (a growth factor), got {self.blowup}")

    @classmethod
    def of(cls, metrics) -> Metrics:
        """``metrics`` as a :class:`Metrics`: a plain ``(params, state, info) -> dict`` function becomes ``instant``."""
        if isinstance(metrics, cls):
            return metrics
        if callable(metrics):
            return cls(instant=metrics)
        raise TypeError(
            f"metrics must be a problems Metrics value or a function (params, state, info) -> dict, "
            f"got {type(metrics).__name__}"
        )

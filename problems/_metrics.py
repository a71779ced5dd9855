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
* ``deferred(params, record) -> dict`` — quantities evaluated *after* the run,
  once for all records together, from what ``instant`` recorded (``record``
  is the dict of one record's instant values; the engine vectorizes the
  function over the records). For a metric whose cost is a pass over the
  problem's data (``f(x_bar)`` on logistic regression reads all ``n m``
  samples, as a gradient step does), evaluating it for a block of records
  turns ``B`` matrix-vector products into one matrix-matrix product, so the
  data is read once per block instead of once per record. ``hidden`` names
  instant entries that only feed ``deferred`` (e.g. ``x_bar``); they are not
  kept in the trace. Deferred metrics are not watched for divergence (the
  engine cannot see them during the run), so ``primary`` must be an instant
  or accumulated metric.
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
        deferred: ``(params, record: dict) -> dict[str, array]`` evaluated after the run for every
            record (step 0 included) from the record's instant values, or None.
        hidden: names of instant entries used only by ``deferred`` (not kept in the trace).
        primary: name of the metric watched for divergence, or None (then every metric must stay finite).
        blowup: growth factor of ``primary`` over its step-0 value that counts as divergence
            (``math.inf`` turns the growth test off).
    """

    instant: Callable | None = None
    accumulate: Callable | None = None
    primary: str | None = None
    blowup: float = DEFAULT_BLOWUP
    deferred: Callable | None = None
    hidden: tuple = ()

    def __post_init__(self):
        if self.instant is None and self.accumulate is None:
            raise ValueError("Metrics needs an instant or an accumulate function (or both)")
        for name in ("instant", "accumulate", "deferred"):
            fn = getattr(self, name)
            if fn is not None and not callable(fn):
                raise TypeError(f"Metrics.{name} must be callable, got {type(fn).__name__}")
        if not self.blowup > 1.0:
            raise ValueError(f"Metrics.blowup must be > 1 (a growth factor), got {self.blowup}")
        if self.deferred is not None and self.instant is None:
            raise ValueError("Metrics.deferred reads the instant values of a record: pass an instant function too")
        if isinstance(self.hidden, str) or not all(isinstance(h, str) for h in tuple(self.hidden)):
            raise TypeError(f"Metrics.hidden must be a tuple of metric names (str), got {self.hidden!r}")
        object.__setattr__(self, "hidden", tuple(self.hidden))
        if self.hidden and self.deferred is None:
            raise ValueError(f"Metrics.hidden={self.hidden!r} names inputs of a deferred stage, but deferred is None")
        if self.primary is not None and self.primary in self.hidden:
            raise ValueError(f"Metrics.primary={self.primary!r} is hidden (not kept in the trace); watch a kept metric")

    def evaluate(self, params, state, info) -> dict:
        """Every instant and deferred metric of one state, as the trace would hold them (hidden
        entries dropped; accumulated metrics are not included: they need the whole run)."""
        out = dict(self.instant(params, state, info)) if self.instant is not None else {}
        if self.deferred is not None:
            later = self.deferred(params, out)
            out = {k: v for k, v in out.items() if k not in self.hidden}
            out.update(later)
        return out

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

"""A theorem's guarantee as a value (:class:`Bound`), and its comparison with runs (:func:`compare`).

A :class:`Bound` never looks at a run: it is computed from the problem's
constants, the network's spectral quantities and the run's hyperparameters.
It says what kind of statement it is (``Bound.kind``):

* ``"explicit"``: a theorem with explicit constants (read in a paper or a
  textbook, or derived by ratebench and verified numerically; the source says
  which). It carries its guaranteed curve ``envelope(k, ref)``: the metric at
  step ``k`` is at most ``envelope(k, ref)``, where ``ref`` is the run's metric
  at the step the theorem is stated from (``Bound.ref_step``, usually 0). A
  data-dependent guarantee (a regret bound in the run's own gradient variation, a
  communication bound in its own Gram determinant) names the trace fields it
  reads in ``Bound.envelope_uses``; its curve is then ``envelope(k, ref, data)``,
  with ``data[name]`` that run's recorded values at the same steps.
* ``"computed"``: a certified worst case over a function class (a
  performance-estimation program). Checked exactly like ``"explicit"``: it has
  an envelope.
* ``"instance"``: computed for this one instance, e.g. the exact asymptotic rate
  of a linear method on a quadratic (:func:`bounds.exact_rate`). Checked run by
  run, two-sided: the rate fitted on the run agrees with ``instance_rate``
  within ``instance_tol`` of the gap ``1 - instance_rate`` (see :func:`compare`).
* ``"order"``: only the O(.) is known. It records the scaling law (``exponents``)
  and is checked on exponents across runs (:func:`check_scaling`); ``compare``
  says ``holds=None``.
* ``"lower"``: a lower bound. With a ``rate`` it is checked on the fitted rate
  (no run of the class is faster); with exponents only, across runs.

How :func:`compare` judges an envelope (``explicit``/``computed``), at every
recorded step ``k >= ref_step`` including ``k = 0``:

    violated at k  iff  metric_k > envelope_k (1 + ROUNDOFF_REL) + FLOOR_REL * max(ref, bound.scale)

``ROUNDOFF_REL = 1e-10`` covers the relative rounding of a float64 run and of
the envelope's own evaluation (about ``k`` machine epsilons after ``k`` steps:
``1e-11`` at ``k = 1e5``); ``FLOOR_REL = 1e-12`` is the round-off floor: an
iterate ``X`` is known to about ``1e-16 ||X||`` per step, so metrics of the
size ``1e-12`` times the reference (or times ``bound.scale``, the size of the
iterates where the bound states it, e.g. ``||x*||``) are rounding noise and are
not judged. Both are documented float64 facts, the same for every bound, never
tuned per bound. The fitted rate is reported beside the verdict, as information.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import numpy as np

from algos import StepSizeError  # defined once (algos._errors): algos.StepSizeError is bounds.StepSizeError

__all__ = [
    "Bound",
    "Report",
    "BatchReport",
    "ArrayTrace",
    "compare",
    "fit_rate",
    "fit_exponent",
    "check_scaling",
    "signature",
    "StepSizeError",
    "PrecisionWarning",
    "KINDS",
    "ROUNDOFF_REL",
    "FLOOR_REL",
    "CONFIDENCE",
]

Kind = Literal["explicit", "order", "lower", "instance", "computed"]
KINDS = ("explicit", "order", "lower", "instance", "computed")
ENVELOPE_KINDS = ("explicit", "computed")

ROUNDOFF_REL = 1e-10
FLOOR_REL = 1e-12
#: The same two float64 facts at float32 precision (a run without ``jax_enable_x64``): scaled by the
#: ratio of the machine epsilons, ``2^-23 / 2^-52``, not tuned: ``ROUNDOFF_REL32 ~ 5.4e-2``,
#: ``FLOOR_REL32 ~ 5.4e-4``. A float32 rate check that reaches this floor warns (:class:`PrecisionWarning`).
_EPS_RATIO = float(np.finfo(np.float32).eps / np.finfo(np.float64).eps)
ROUNDOFF_REL32 = ROUNDOFF_REL * _EPS_RATIO
FLOOR_REL32 = FLOOR_REL * _EPS_RATIO


class PrecisionWarning(UserWarning):
    """A rate check ran at float32 precision and the run reached the float32 round-off floor."""
MIN_FIT_POINTS = 30  # recorded points an instance check needs in its fit window
CONFIDENCE = 1e-3  # family-wise false-alarm probability of an expectation check over all judged steps


def signature(problem, W=None) -> str:
    """Identity of a (problem, W) pair: kind, sizes, constants and a hash of ``x*``, the data and ``W``.

    Two problems with the same signature are the same instance to float64 precision; a bound
    records it, and :func:`compare` refuses a bound whose signature differs from the run's algorithm.
    """
    import jax

    h = hashlib.sha1()
    h.update(str(getattr(problem, "name", type(problem).__name__)).encode())
    for leaf in jax.tree_util.tree_leaves((getattr(problem, "data", None), getattr(problem, "x_star", None))):
        a = np.asarray(leaf)
        h.update(str(a.shape).encode())
        h.update(np.ascontiguousarray(a, dtype=np.float64).tobytes())
    for c in ("L", "mu", "sigma"):
        v = getattr(problem, c, None)
        if v is not None:
            h.update(repr(float(np.asarray(v))).encode())
    h.update(str(getattr(problem, "noise", "")).encode())
    if W is not None:
        Wd = np.asarray(W, dtype=np.float64)
        h.update(str(Wd.shape).encode())
        h.update(np.ascontiguousarray(Wd).tobytes())
    n = getattr(problem, "n_nodes", "?")
    d = getattr(problem, "dim", "?")
    return f"{getattr(problem, 'name', '?')}(n={n}, d={d})#{h.hexdigest()[:16]}"


@dataclasses.dataclass(frozen=True)
class Bound:
    """One theorem's guarantee for one algorithm on one instance.

    Attributes:
        name: name of the statement (``"extra"``, ``"dgd_increments"``, ...).
        kind: ``"explicit"``, ``"computed"``, ``"instance"``, ``"order"`` or ``"lower"`` (module docstring).
        source: paper and theorem, or the derivation (and where it is verified).
        method: the algorithm the statement is about (``algos.<method>``); defaults to ``name``.
            :func:`compare` with ``algo=`` refuses a bound for another method.
        metric: the trace field the statement bounds (``"dist_to_opt"``, ``"consensus_error"``, ...).
        x_axis: unit of ``rate`` and of the fitted rate: ``"steps"``, ``"communications"``, ``"gradient_calls"``.
        rate: asymptotic per-unit contraction (explicit: guaranteed; lower: best possible); None if none.
        constant: ``C`` in ``metric_k <= C k^p rate^k ref`` when stated (information; the envelope is the check).
        poly_degree: ``p`` above (e.g. heavy-ball gossip's Jordan blocks); the fitted rate divides ``k^p`` out.
        envelope: ``envelope(k, ref) -> array``, the guaranteed curve at steps ``k`` (an array of step
            numbers) given the run's metric ``ref`` at ``ref_step``. Required for explicit/computed bounds.
        envelope_uses: trace fields a data-dependent envelope reads (module docstring): with any,
            the curve is ``envelope(k, ref, data)``, ``data[name]`` the run's values at steps ``k``.
            Only for per-run statements (``statistic="each"``).
        ref_step: the step the statement starts from (0 usually; 1 for DGD's increments).
        shift_invariant: the statement holds from any step on (a one-step contraction), so when
            ``ref_step`` is not recorded the first recorded step after it may serve as the reference.
        statistic: ``"each"`` (every run satisfies it) or ``"mean"`` (a statement on the expectation over
            the algorithm's randomness: checked on a batch of seeded runs; see :func:`compare`).
        scale: size of the iterates the metric is computed from, known from the problem (e.g.
            ``||x*||``); sets the round-off floor together with ``ref``. 0 if the reference suffices.
        instance_rate: for ``instance`` bounds, the exact asymptotic rate on this instance.
        instance_tol: two-sided tolerance of the instance check, as a fraction of ``1 - instance_rate``.
        instance_shape: ``shape(steps) -> array``: the exact transient of the slowest modes (their
            Jordan/near-Jordan polynomial growth, ``||T^k z|| / rate^k``); divided out before fitting.
        instance_model_shape: ``shape(steps) -> array``: the run's whole exact transient (the
            prediction of its linear recursion over ``r*^k``; NaN where the prediction is not
            accurate), used in preference to ``instance_shape`` (see :func:`compare`).
        instance_weight, instance_next_modulus: the slowest excited modes' share of the error and the
            next modulus below them (decides whether a float64 run can show the rate; :func:`compare`).
        signature: :func:`signature` of the (problem, W) the bound was computed for, or None.
        hparams: the hyperparameters the bound was computed for (compared with ``algo.hparams``).
        complexity: ``what -> (eps -> count)`` functions, e.g. ``{"gradient_calls": f}``.
        exponents: for order/lower bounds, the scaling law: quantity -> exponent.
        conditions: the theorem's validity conditions, each ``name -> bool``.
        params: the constants the bound was computed from (for reports).
        notes: anything a reader should know.
    """

    name: str
    kind: Kind
    source: str
    method: str = ""
    metric: str = "dist_to_opt"
    x_axis: str = "steps"
    rate: float | None = None
    constant: float | None = None
    poly_degree: float = 0.0
    envelope: Callable | None = None
    envelope_uses: tuple[str, ...] = ()
    ref_step: int = 0
    shift_invariant: bool = False
    statistic: str = "each"
    scale: float = 0.0
    instance_rate: float | None = None
    instance_tol: float = 0.02
    instance_shape: Callable | None = None
    instance_model_shape: Callable | None = None
    instance_weight: float | None = None
    instance_next_modulus: float | None = None
    signature: str | None = None
    hparams: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    complexity: Mapping[str, Callable[[float], float]] = dataclasses.field(default_factory=dict)
    exponents: Mapping[str, float] = dataclasses.field(default_factory=dict)
    conditions: Mapping[str, bool] = dataclasses.field(default_factory=dict)
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    notes: str = ""

    def __post_init__(self):
        if self.kind == "exact":
            raise ValueError(
                "kind 'exact' was renamed: use 'explicit' (a theorem's constants, with an envelope) or "
                "'instance' (computed for this instance, e.g. bounds.exact_rate)"
            )
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if not self.method:
            object.__setattr__(self, "method", self.name)
        if self.kind in ENVELOPE_KINDS and self.envelope is None:
            raise ValueError(f"an {self.kind!r} bound needs an envelope(k, ref): the guaranteed curve")
        if self.kind == "instance" and self.instance_rate is None:
            raise ValueError("an 'instance' bound needs instance_rate")
        if self.kind in ("order", "lower") and self.rate is None and not (self.complexity or self.exponents):
            raise ValueError(f"a {self.kind!r} bound needs a rate, a complexity or exponents")
        if self.statistic not in ("each", "mean"):
            raise ValueError(f"statistic must be 'each' or 'mean', got {self.statistic!r}")
        object.__setattr__(self, "envelope_uses", tuple(self.envelope_uses))
        if self.envelope_uses and (self.envelope is None or self.statistic != "each"):
            raise ValueError("envelope_uses needs an envelope(k, ref, data) and a per-run statement (statistic 'each')")

    @property
    def valid(self) -> bool:
        """True when every validity condition of the theorem holds for these constants."""
        return all(bool(v) for v in self.conditions.values())

    def curve(self, k, ref: float = 1.0, data: Mapping[str, Any] | None = None) -> np.ndarray:
        """The guaranteed curve at steps ``k``: ``envelope(k, ref)``, else ``C k^p rate^k ref`` (C = 1 if unstated).

        A data-dependent bound (``envelope_uses``) also needs ``data``: the run's values of those
        fields at the steps ``k`` (e.g. ``{"prediction_error": trace.prediction_error}``)."""
        k = np.asarray(k, dtype=np.float64)
        if self.envelope is not None:
            return np.asarray(_call_envelope(self, k, ref, data), dtype=np.float64)
        if self.rate is None:
            raise ValueError(f"{self.kind!r} bound {self.name!r} has no envelope and no rate")
        c = 1.0 if self.constant is None else self.constant
        return c * ref * np.power(np.maximum(k, 1.0), self.poly_degree) * np.power(self.rate, k)

    def to(self, eps: float, what: str = "steps") -> float:
        """Count (of ``what``) the bound needs to reach relative accuracy ``eps``."""
        if what in self.complexity:
            return float(self.complexity[what](eps))
        if what == self.x_axis and self.rate is not None:
            c = 1.0 if self.constant is None else self.constant
            return math.log(eps / c) / math.log(self.rate) if 0 < self.rate < 1 else math.inf
        raise KeyError(f"bound {self.name!r} states no complexity in {what!r}; it has {sorted(self.complexity)}")


@dataclasses.dataclass(frozen=True)
class Report:
    """Result of :func:`compare` for one run (or, for an expectation bound, for one batch).

    Attributes:
        holds: True / False: the verdict; None: not judged on one run (order bound, or the theorem's
            conditions fail, or no usable data). ``valid`` tells which.
        checked_steps: number of recorded steps the envelope was judged at (envelope bounds).
        worst_ratio: max of ``metric_k / envelope_k`` over the steps after the reference where the
            envelope is at least ``1e4`` times the round-off floor (1 = tight).
        first_violation: first step where the envelope is exceeded, else None.
        empirical_rate: fitted asymptotic rate per unit of ``x_axis`` (information, and the instance check).
        instance_rate: the instance's exact rate when known.
        two_sided: for instance bounds, whether the two-sided check applied (False: the slowest excited
            modes cannot show within this run's float64 range, and only ``empirical <= instance (+tol)`` is judged).
    """

    name: str
    kind: str
    metric: str
    x_axis: str
    empirical_rate: float | None
    stated_rate: float | None
    instance_rate: float | None
    holds: bool | None
    slack: float | None
    fit_window: tuple[int, int]
    fit_r2: float
    valid: bool
    source: str
    message: str
    checked_steps: int = 0
    worst_ratio: float | None = None
    first_violation: int | None = None
    two_sided: bool | None = None

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    def __str__(self):
        def f(x):
            return "n/a" if x is None else f"{x:.6f}"

        verdict = {True: "HOLDS", False: "VIOLATED", None: "not judged on this run"}[self.holds]
        lines = [f"{self.name} [{self.kind} bound on {self.metric} per {self.x_axis}] — {verdict}"]
        if self.checked_steps:
            lines.append(
                f"  envelope judged at {self.checked_steps} recorded steps; worst metric/envelope = {f(self.worst_ratio)}"
                + ("" if self.first_violation is None else f"; first exceeded at step {self.first_violation}")
            )
        lines += [
            f"  empirical rate {f(self.empirical_rate)} (fit over entries {self.fit_window[0]}..{self.fit_window[1]}, r2={self.fit_r2:.4f})",
            f"  stated rate    {f(self.stated_rate)}",
            f"  instance rate  {f(self.instance_rate)}",
        ]
        if self.slack is not None:
            lines.append(f"  slack          {self.slack:.3f}  (log stated / log empirical; 1 = tight)")
        if not self.valid:
            lines.append("  the theorem's conditions do not hold for these constants (holds is None)")
        lines.append(f"  source: {self.source}")
        if self.message:
            lines.append(f"  {self.message}")
        return "\n".join(lines)


@dataclasses.dataclass(frozen=True)
class BatchReport(Sequence):
    """Result of :func:`compare` on a batch of runs (a ``vmap``-ped sweep): one :class:`Report` per run.

    It is a sequence of reports (``batch[i]``, ``len(batch)``, iteration). ``holds`` is the list of
    verdicts; ``all_hold`` is True when every run holds, False when one is violated, None when none
    could be judged; ``violated`` lists the indices of the violated runs.
    """

    reports: tuple[Report, ...]

    def __getitem__(self, i):
        return self.reports[i]

    def __len__(self):
        return len(self.reports)

    @property
    def holds(self) -> list[bool | None]:
        return [r.holds for r in self.reports]

    @property
    def all_hold(self) -> bool | None:
        h = self.holds
        if any(x is False for x in h):
            return False
        if h and all(x is True for x in h):
            return True
        return None

    @property
    def violated(self) -> list[int]:
        return [i for i, r in enumerate(self.reports) if r.holds is False]

    def as_dict(self) -> dict:
        return {"all_hold": self.all_hold, "holds": self.holds, "reports": [r.as_dict() for r in self.reports]}

    def __str__(self):
        h = self.holds
        first = self.reports[0] if self.reports else None
        head = f"{first.name} [{first.kind} bound on {first.metric}]" if first else "empty batch"
        n_t, n_f, n_n = sum(x is True for x in h), sum(x is False for x in h), sum(x is None for x in h)
        lines = [f"{head}: {len(h)} runs — {n_t} hold, {n_f} violated, {n_n} not judged"]
        for i in self.violated[:5]:
            lines.append(f"  run {i}: {self.reports[i].message}")
        return "\n".join(lines)


class ArrayTrace:
    """A trace made of arrays, for tests and for other families' synthetic checks.

    ``ArrayTrace(steps, diverged=False, **fields)``: ``steps`` (K+1,) step numbers (0 first), each
    field ``(K+1,)`` (or ``(B, K+1)`` for a batch, with ``diverged`` of shape ``(B,)``).
    """

    def __init__(self, steps, diverged=False, diverged_at=-1, **fields):
        self._steps = np.asarray(steps)
        self._fields = {k: np.asarray(v, dtype=np.float64) for k, v in fields.items()}
        self.diverged = np.asarray(diverged)
        self.diverged_at = np.asarray(diverged_at)
        self.record_every = int(self._steps[1] - self._steps[0]) if len(self._steps) > 1 else 1

    @property
    def steps(self):
        return self._steps

    @property
    def fields(self):
        return tuple(sorted(self._fields))

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._fields[name]
        except KeyError:
            raise AttributeError(f"this trace has no field {name!r}; it records {sorted(self._fields)}") from None


def fit_rate(
    values,
    x=None,
    *,
    floor_rel: float = 1e-13,
    min_points: int = 8,
    plateau_span: float = 1e-9,
    plateau_margin: float = 1e3,
) -> tuple[float, tuple[int, int], float]:
    """Fit the asymptotic linear rate of a sequence converging to zero.

    Robust fit over the asymptotic linear phase: when the sequence spans more
    than ``1/plateau_span`` (it reached round-off, where errors drift instead of
    decaying), cut it where it first comes within ``plateau_margin`` of its
    minimum; drop non-finite entries and those below ``floor_rel * max(values)``; keep the last
    contiguous run of valid entries, take its second half (the transient has
    died out there), and fit ``log value = a + x log(rate)`` with the
    Theil–Sen estimator (median of pairwise slopes; insensitive to the
    oscillation of accelerated methods).

    Args:
        values: (K,) nonnegative metric values.
        x: (K,) abscissa (steps, communications, gradient calls); default 1..K.

    Returns:
        ``(rate, (start, stop), r2)`` — the rate per unit of ``x``, the index
        window used, and the R^2 of the log-linear fit.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    xs = np.arange(1, len(v) + 1, dtype=np.float64) if x is None else np.asarray(x, dtype=np.float64).ravel()
    if len(xs) != len(v):
        raise ValueError("values and x must have the same length")
    start, stop = _fit_window(v, floor_rel=floor_rel, min_points=min_points, plateau_span=plateau_span,
                              plateau_margin=plateau_margin)  # fmt: skip
    sel = _fit_points(start, stop)
    slope, r2 = _theil_sen(xs[sel], np.log(v[sel]))
    return math.exp(slope), (start, stop), r2


def _fit_window(v, *, floor_rel=1e-13, min_points=8, plateau_span=1e-9, plateau_margin=1e3) -> tuple[int, int]:
    """The index window ``[start, stop)`` :func:`fit_rate` fits over (see its docstring)."""
    finite = np.isfinite(v) & (v > 0)
    if not finite.any():
        raise ValueError("no finite positive values to fit (the run diverged or hit zero at once)")
    vmax = np.nanmax(np.where(finite, v, np.nan))
    vmin = np.nanmin(np.where(finite, v, np.nan))
    floor = floor_rel * vmax
    n = len(v)
    i_max = int(np.nanargmax(np.where(finite, v, np.nan)))
    i_min = int(np.nanargmin(np.where(finite, v, np.nan)))
    if vmin < plateau_span * vmax and i_min > i_max:  # a converging run (a blow-up is fitted as it is)
        # The run reached round-off: there the error stops decaying and drifts, and a fit
        # over it would report a rate near 1. Cut where it first comes within
        # ``plateau_margin`` of its minimum.
        n = int(np.flatnonzero(finite & (v <= plateau_margin * vmin))[0])
    ok = finite[:n] & (v[:n] > floor)
    idx = np.flatnonzero(ok)
    if len(idx) == 0:
        raise ValueError("every value lies below the round-off floor")
    # last contiguous run of valid entries
    breaks = np.flatnonzero(np.diff(idx) > 1)
    run_start = idx[breaks[-1] + 1] if len(breaks) else idx[0]
    run_stop = idx[-1] + 1
    start = run_start + (run_stop - run_start) // 2
    if run_stop - start < min_points:
        start = max(run_start, run_stop - min_points)
    if run_stop - start < 3:
        raise ValueError(f"too few points in the asymptotic phase to fit a rate ({run_stop - start})")
    return int(start), int(run_stop)


def _fit_points(start: int, stop: int, most: int = 600) -> np.ndarray:
    """Indices of the window the fit uses: all of them, or ``most`` evenly spaced (Theil-Sen is O(m^2))."""
    m = stop - start
    return start + (np.unique(np.linspace(0, m - 1, most).astype(int)) if m > most else np.arange(m))


def _theil_sen(xx, yy) -> tuple[float, float]:
    """Median of pairwise slopes of ``yy`` against ``xx``, and the R^2 of that line."""
    i, j = np.triu_indices(len(xx), 1)
    dx = xx[j] - xx[i]
    keep = dx > 0
    slope = float(np.median((yy[j] - yy[i])[keep] / dx[keep]))
    intercept = float(np.median(yy - slope * xx))
    resid = yy - (intercept + slope * xx)
    ss = float(np.sum((yy - yy.mean()) ** 2))
    r2 = 1.0 - float(np.sum(resid**2)) / ss if ss > 0 else 1.0
    return slope, r2


_X_AXIS_FIELDS = {"steps": None, "communications": "communications", "gradient_calls": "gradient_calls"}


# --- reading traces ------------------------------------------------------------------------
def _field(trace, name: str) -> np.ndarray:
    try:
        return np.asarray(getattr(trace, name), dtype=np.float64)
    except AttributeError:
        fields = getattr(trace, "fields", None)
        raise ValueError(
            f"the trace has no field {name!r} (the bound is on {name!r}); it records {list(fields) if fields else '?'}"
        ) from None


def _steps(trace, length: int) -> np.ndarray:
    """Step numbers of the recorded entries, for a field of ``length`` entries (batched traces too)."""
    try:
        s = np.asarray(trace.steps)
    except Exception:  # noqa: BLE001 - a batched engine Trace may not compute steps from a 2-D field
        s = None
    if s is not None and s.ndim == 1 and len(s) == length:
        return s.astype(np.int64)
    every = int(getattr(trace, "record_every", 1))
    return np.arange(length, dtype=np.int64) * every  # the engine's convention: step 0 first


def _unbatch(trace, metric: str, x_field: str | None):
    """``(values (B, K+1), x (B, K+1) or None, diverged (B,), diverged_at (B,), steps (K+1,), batched)``."""
    v = _field(trace, metric)
    batched = v.ndim == 2
    V = v if batched else v[None, :]
    steps = _steps(trace, V.shape[1])
    X = None
    if x_field is not None:
        x = _field(trace, x_field)
        X = x if x.ndim == 2 else x[None, :]
    div = np.asarray(trace.diverged).reshape(-1)
    div_at = np.asarray(getattr(trace, "diverged_at", np.full(div.shape, -1))).reshape(-1)
    if div.size == 1 and V.shape[0] > 1:
        div = np.repeat(div, V.shape[0])
    if div_at.size == 1 and V.shape[0] > 1:
        div_at = np.repeat(div_at, V.shape[0])
    return V, X, div.astype(bool), div_at, steps, batched


# --- the checks --------------------------------------------------------------------------
def _call_envelope(bound: Bound, k, ref, data):
    """``bound.envelope`` at steps ``k``, with the run's ``data`` when the bound reads any."""
    if not bound.envelope_uses:
        return bound.envelope(k, ref)
    missing = [n for n in bound.envelope_uses if data is None or n not in data]
    if missing:
        raise ValueError(f"bound {bound.name!r} is data-dependent: its curve reads the run's {missing} "
                         f"(pass data={{name: values at the steps k}}, or judge a trace with bounds.compare)")  # fmt: skip
    cols = {n: np.asarray(data[n], dtype=np.float64) for n in bound.envelope_uses}
    for n, v in cols.items():
        if v.shape != np.shape(k):
            raise ValueError(f"bound {bound.name!r}: data[{n!r}] has shape {v.shape}, the steps k have {np.shape(k)}")
    return bound.envelope(k, ref, cols)


def _reference(bound: Bound, steps: np.ndarray) -> tuple[int, int]:
    """``(index of the reference entry, shift)``: the envelope is evaluated at ``steps - shift``."""
    hit = np.flatnonzero(steps == bound.ref_step)
    if len(hit):
        return int(hit[0]), 0
    if bound.shift_invariant:
        after = np.flatnonzero(steps > bound.ref_step)
        if len(after):
            i = int(after[0])
            return i, int(steps[i] - bound.ref_step)
    raise ValueError(
        f"bound {bound.name!r} is stated from step {bound.ref_step}, which this trace does not record "
        f"(steps {steps[:3].tolist()}...); record it (the engine records step 0; use record_every=1 for step 1)"
    )


def _judge_envelope(values, steps, bound: Bound, float32: bool = False, data=None):
    """Envelope check of one run: ``(holds, checked, worst_ratio, first_violation, message)``.
    ``data``: that run's values of ``bound.envelope_uses`` at ``steps`` (a data-dependent bound)."""
    FLOOR, ROUNDOFF = (FLOOR_REL32, ROUNDOFF_REL32) if float32 else (FLOOR_REL, ROUNDOFF_REL)
    i0, shift = _reference(bound, steps)
    ref = float(values[i0])
    if not np.isfinite(ref):
        return False, 0, None, int(steps[i0]), "the metric is not finite at the reference step"
    v = values[i0:]
    k = (steps[i0:] - shift).astype(np.float64)
    cols = None if data is None else {n: np.asarray(v)[i0:] for n, v in data.items()}
    env = np.asarray(_call_envelope(bound, k, ref, cols), dtype=np.float64)
    floor = FLOOR * max(abs(ref), float(bound.scale))
    allowed = env * (1.0 + ROUNDOFF) + floor
    bad = ~(v <= allowed)  # NaN (a diverged run) counts as exceeding the envelope
    judged = ~((v <= floor) & (env <= floor)) & np.isfinite(env)  # +inf: the statement says nothing there
    # worst_ratio is reported where the envelope is 4 decades above the floor (below, rounding dominates it)
    clear = judged & (env >= 1e4 * floor) & np.isfinite(env)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = np.where(clear, v / env, np.where(bad, np.inf, 0.0))
    after = ratio[1:] if ratio.size > 1 else ratio  # the reference itself is tight by definition
    worst = float(np.nanmax(after)) if after.size else None
    if np.any(np.isnan(v)):
        worst = math.inf
    if not bad.any() and not np.isfinite(env[1:]).any() and env.size > 1:
        # the statement says nothing at any recorded step after the reference (e.g. the event it is
        # conditioned on failed on this run): not a verdict
        return None, 0, None, None, "not judged: the envelope is +inf (vacuous) at every recorded step after the reference"
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        step = int(steps[i0 + j])
        return False, int(judged.sum()), worst, step, (
            f"FINDING: {bound.metric} = {v[j]:.6g} exceeds the guaranteed {env[j]:.6g} at step {step}"
        )
    return True, int(judged.sum()), worst, None, ""


def _fit(values, x, steps, bound: Bound, float32: bool = False):
    """``(rate, window, r2, exact)``: ``exact`` when the run's whole exact transient was divided out."""
    xs = steps.astype(np.float64) if x is None else x
    # float32: entries within 10x of the float32 floor are rounding noise (and drift): not fitted
    opts = dict(floor_rel=10 * FLOOR_REL32, plateau_span=10 * FLOOR_REL32, plateau_margin=10.0) if float32 else {}
    if bound.kind == "instance" and bound.instance_model_shape is not None:
        # The window is chosen on the run's values; the exact transient is evaluated only at the
        # points the fit uses (it costs one predicted state per point) and divided out there.
        try:
            start, stop = _fit_window(values, **opts)
        except ValueError:
            return None, (0, 0), 0.0, False
        sel = _fit_points(start, stop)
        sh = np.asarray(bound.instance_model_shape(steps[sel]), dtype=np.float64)
        ok = np.isfinite(sh) & (sh > 0) & np.isfinite(values[sel]) & (values[sel] > 0)
        if ok.sum() >= MIN_FIT_POINTS or (ok.sum() >= 8 and ok.sum() == len(sel)):
            slope, r2 = _theil_sen(xs[sel][ok], np.log(values[sel][ok]) - np.log(sh[ok]))
            return math.exp(slope), (start, stop), r2, True
    vals = values
    if bound.kind == "instance" and bound.instance_shape is not None:
        vals = values / np.maximum(np.asarray(bound.instance_shape(steps), dtype=np.float64), 1e-300)
    elif bound.poly_degree:
        vals = values / np.power(np.maximum(steps.astype(np.float64), 1.0), bound.poly_degree)
    try:
        return (*fit_rate(vals, xs, **opts), False)
    except ValueError:
        return None, (0, 0), 0.0, False


def _observable(bound: Bound, window: tuple[int, int], steps: np.ndarray, margin: float = 30.0) -> bool:
    """Can this run show ``instance_rate``? Its slowest excited modes must outgrow the next modulus
    by ``margin`` by the middle of the fit window (from their weight in the error at the start)."""
    r, nxt, w = bound.instance_rate, bound.instance_next_modulus, bound.instance_weight
    if r is None or nxt is None or w is None or nxt <= 0.0 or r <= 0.0:
        return True
    if w <= 0.0:
        return False
    k_mid = float(steps[min(max((window[0] + window[1]) // 2, 0), len(steps) - 1)])
    return math.log(w) + k_mid * math.log(r / nxt) >= math.log(margin)


def _every_step(steps, window) -> bool:
    """Is every step of the fit window recorded (so nothing more could be recorded there)?"""
    w = steps[window[0] : window[1]]
    return len(w) >= 8 and bool(np.all(np.diff(w) == 1))


def _float32_floor(values, steps, bound) -> str | None:
    """When a float32 run reaches the float32 round-off floor: the sentence that says so."""
    v = np.asarray(values, dtype=np.float64)
    fin = np.isfinite(v)
    if not fin.any():
        return None
    top = float(np.max(np.abs(v[fin])))
    floor = FLOOR_REL32 * max(top, float(bound.scale))
    j = int(np.argmin(np.where(fin, v, np.inf)))
    if not v[j] <= 100 * floor:
        return None
    return (f"float32: this rate check ran at float32 precision and the run reached the float32 round-off floor "
            f"({bound.metric} = {v[j]:.3g}, {v[j] / top:.2g} of its largest value, at step {int(steps[j])}); entries "
            f"within 10x of the floor ({FLOOR_REL32:.1e} relative) are rounding noise, excluded from the fit, and the "
            "envelope is judged with float32 round-off allowances. Rerun with "
            "jax.config.update('jax_enable_x64', True) for a float64 rate check")  # fmt: skip


def _one_report(bound, values, x, steps, diverged, diverged_at, precision: str = "float64", data=None) -> Report:
    float32 = precision == "float32"
    base = dict(name=bound.name, kind=bound.kind, metric=bound.metric, x_axis=bound.x_axis,
                stated_rate=bound.rate, instance_rate=bound.instance_rate, valid=bound.valid, source=bound.source)  # fmt: skip
    finite = np.isfinite(values)
    r_emp, window, r2, exact = (_fit(np.where(finite, values, np.nan), None if x is None else x, steps, bound, float32)
                                if finite.any() else (None, (0, 0), 0.0, False))  # fmt: skip
    holds, slack, msg = None, None, ""
    checked, worst, first, two_sided = 0, None, None, None
    if not bound.valid:
        msg = "the theorem's conditions fail for these constants: not judged (" + ", ".join(
            k for k, v in bound.conditions.items() if not v
        ) + ")"
    elif bound.kind in ENVELOPE_KINDS:
        holds, checked, worst, first, msg = _judge_envelope(values, steps, bound, float32, data)
        if diverged and holds is False:
            msg += f" (the run diverged at step {int(diverged_at)})"
    elif bound.kind == "instance":
        r_star, tol = bound.instance_rate, bound.instance_tol
        if diverged:
            holds, msg = False, f"FINDING: the run diverged at step {int(diverged_at)}; the instance rate is {r_star:.6f}"
        elif r_emp is None:
            msg = "no usable data to fit a rate (the metric is zero or below round-off from the start)"
        elif window[1] - window[0] < MIN_FIT_POINTS and not _every_step(steps, window):
            msg = (f"not judged: only {window[1] - window[0]} recorded points in the asymptotic window (< {MIN_FIT_POINTS}); "
                   "a rate is not fitted to 2% of the gap from so few samples of an oscillating error: record more often")  # fmt: skip
        else:
            two_sided = True if exact else _observable(bound, window, steps)
            lo, hi = r_star - tol * (1.0 - r_star), r_star + tol * (1.0 - r_star)
            holds = bool(lo <= r_emp <= hi) if two_sided else bool(r_emp <= hi)
            if not holds:
                msg = (f"FINDING: fitted rate {r_emp:.6f} is outside [{lo:.6f}, {hi:.6f}] around the instance's exact "
                       f"rate {r_star:.6f}") if two_sided else (
                       f"FINDING: fitted rate {r_emp:.6f} is slower than the instance's exact rate {r_star:.6f} (+tol)")  # fmt: skip
            elif not two_sided:
                msg = ("one-sided: the slowest excited modes carry too little of the error to show within this run's "
                       "float64 range; judged empirical <= instance rate (+tol) only")  # fmt: skip
    elif bound.kind == "lower" and bound.rate is not None:
        if r_emp is not None and not diverged:
            holds = bool(r_emp >= bound.rate - 1e-3 * (1.0 - bound.rate))
            if not holds:
                msg = f"FINDING: the run is faster ({r_emp:.6f}) than the lower bound allows ({bound.rate:.6f})"
    else:
        msg = "order-only statement: check its exponents across runs with bounds.check_scaling"
    note = _float32_floor(values, steps, bound) if float32 and not diverged else None
    if note is not None:
        import warnings

        warnings.warn(f"bounds.compare({bound.name}): {note}", PrecisionWarning, stacklevel=3)
        msg = note + (" | " + msg if msg else "")
    ref_rate = bound.rate if bound.rate is not None else bound.instance_rate
    if r_emp is not None and ref_rate is not None and 0 < r_emp < 1 and 0 < ref_rate < 1:
        slack = math.log(ref_rate) / math.log(r_emp)
    return Report(**base, empirical_rate=r_emp, holds=holds, slack=slack, fit_window=window, fit_r2=r2, message=msg,
                  checked_steps=checked, worst_ratio=worst, first_violation=first, two_sided=two_sided)  # fmt: skip


def _judge_mean(bound, V, steps, diverged) -> Report:
    """Expectation envelope on a batch of B seeded runs (one-sided CLT test, Bonferroni over steps).

    At each judged step the sample mean ``m_k`` of the metric over the B runs is compared with the
    envelope: violated iff ``m_k > envelope_k (1 + ROUNDOFF_REL) + FLOOR_REL * max(ref, scale) + z s_k / sqrt(B)``
    with ``s_k`` the sample standard deviation and ``z = Phi^{-1}(1 - CONFIDENCE / K)`` for K judged
    steps: a true bound is reported violated with probability at most ``CONFIDENCE`` (1e-3) when the
    normal approximation of the mean holds. ``ref`` is the mean metric at the reference step (the
    start is deterministic in ratebench's stochastic methods, so every run has the same ``ref``).
    """
    from scipy.stats import norm

    B = V.shape[0]
    base = dict(name=bound.name, kind=bound.kind, metric=bound.metric, x_axis=bound.x_axis,
                stated_rate=bound.rate, instance_rate=bound.instance_rate, valid=bound.valid, source=bound.source)  # fmt: skip
    if not bound.valid:
        return Report(**base, empirical_rate=None, holds=None, slack=None, fit_window=(0, 0), fit_r2=0.0,
                      message="the theorem's conditions fail for these constants: not judged")  # fmt: skip
    if B < 8:
        raise ValueError(f"an expectation bound is judged on a batch of seeded runs; got {B} run(s), need at least 8")
    i0, shift = _reference(bound, steps)
    mean = np.mean(V, axis=0)
    sd = np.std(V, axis=0, ddof=1)
    ref = float(mean[i0])
    k = (steps[i0:] - shift).astype(np.float64)
    env = np.asarray(bound.envelope(k, ref), dtype=np.float64)
    m, s = mean[i0:], sd[i0:]
    floor = FLOOR_REL * max(abs(ref), float(bound.scale))
    K = len(k)
    z = float(norm.isf(CONFIDENCE / K))
    allowed = env * (1.0 + ROUNDOFF_REL) + floor + z * s / math.sqrt(B)
    bad = ~(m <= allowed)
    if diverged.any():
        bad[:] = True
    worst = float(np.max(m / np.where(env > 0, env, np.inf)))
    msg = f"mean over {B} runs, z = {z:.2f} (family-wise false-alarm <= {CONFIDENCE:g} under the CLT)"
    first = None
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        first = int(steps[i0 + j])
        msg = (f"FINDING: the mean {bound.metric} over {B} runs, {m[j]:.6g}, exceeds the guaranteed {env[j]:.6g} "
               f"by more than {z:.2f} standard errors at step {first}")  # fmt: skip
    return Report(**base, empirical_rate=None, holds=not bool(bad.any()), slack=None, fit_window=(0, 0), fit_r2=0.0,
                  message=msg, checked_steps=K, worst_ratio=worst, first_violation=first)  # fmt: skip


def _check_trace_method(trace, bound: Bound) -> None:
    """An engine trace knows which algorithm ran (``Trace.algorithm``): a bound judged on one run
    (an envelope or an instance rate) must be about it. Order and lower bounds are statements about
    a method class or a scaling, never judged against a single run's curve: not checked here."""
    if bound.kind in ("order", "lower"):
        return
    ran = getattr(trace, "algorithm", "") if not isinstance(trace, ArrayTrace) else ""
    if isinstance(ran, str) and ran and bound.method and ran != bound.method:
        raise ValueError(
            f"this bound is about algos.{bound.method}, but the trace is a run of algos.{ran}: pass a bound of the method that ran, "
            f"e.g. bounds.instance(algo) or bounds.{ran}(algo) for the algo that ran"
        )


def _check_against_algo(bound: Bound, algo) -> None:
    name = getattr(algo, "name", None)
    if name is not None and bound.method and name != bound.method:
        raise ValueError(f"this bound is about algos.{bound.method}, but the run's algorithm is {name!r}")
    params = getattr(algo, "params", None)
    if bound.signature is not None and isinstance(params, Mapping) and "problem" in params:
        sig = signature(params["problem"], params.get("W"))
        if sig != bound.signature:
            raise ValueError(
                f"this bound was computed for the instance {bound.signature}, but the run's algorithm solves {sig}: "
                "recompute the bound from the run's algorithm, e.g. bounds.<method>(algo)"
            )
    hp = getattr(algo, "hparams", None) or {}
    for key, value in bound.hparams.items():
        if value is None or hp.get(key) is None:
            continue
        a, b = float(value), float(hp[key])
        if not abs(a - b) <= 1e-12 * max(abs(a), abs(b), 1e-300):
            raise ValueError(f"this bound was computed for {key} = {a:.9g}, but the run uses {key} = {b:.9g}")


def compare(trace, bound: Bound, *, algo=None):
    """Compare a run (or a batch of runs) with a theorem's guarantee.

    * ``explicit`` / ``computed`` bounds: ``metric_k <= envelope(k, ref)`` at every recorded step
      from ``bound.ref_step`` on (step 0 included), with the round-off floor of the module docstring;
      the fitted rate is information. A run that diverged violates it.
    * ``explicit`` bounds on an expectation (``bound.statistic == "mean"``): judged on a batch of
      seeded runs by the sample mean, with a one-sided confidence rule (:func:`_judge_mean`).
    * ``instance`` bounds: two-sided on the fitted rate, with the run's exact transient
      ``instance_model_shape`` (the prediction of its linear recursion, over ``r*^k``) divided out
      at the fit's points: ``|r_emp - r*| <= instance_tol (1 - r*)``. Where the prediction's
      accuracy floor leaves fewer than ``MIN_FIT_POINTS`` usable points (very non-normal iteration
      matrices), only the slowest band's transient ``instance_shape`` is divided out, and when the slowest excited modes carry too
      little of the error to show before round-off, only ``r_emp <= r* + tol (1 - r*)`` is
      judged and the report says ``two_sided=False``. With fewer than ``MIN_FIT_POINTS = 30``
      recorded points in the fit window (coarse ``record_every`` on a fast method) ``holds`` is
      None, unless every step of the window is recorded (then the window is the whole phase above
      round-off and at least the fit's 8 points): measured, 8 points of EXTRA's oscillating error every 10 steps fit 3.8% of the gap off.
    * ``lower`` bounds with a rate: the fitted rate is no faster than the rate.
    * ``order`` bounds, or a bound whose conditions fail: ``holds`` is None.

    Args:
        trace: an :class:`algos.Trace` (or :class:`ArrayTrace`); a batched trace (every field with a
            leading batch axis, from ``jax.vmap`` of ``algos.run``) is judged run by run.
        bound: the :class:`Bound`, or a list of bounds, one per run of a batch (a sweep over a
            hyperparameter, where each run has its own bound).
        algo: the run's :class:`algos.Algorithm`. When given, the bound must be about the same method,
            instance (``bound.signature``) and hyperparameters (``bound.hparams``), else ``ValueError``.

    Returns:
        A :class:`Report` for one run; a :class:`BatchReport` (one report per run) for a batch; a
        single :class:`Report` for an expectation bound on a batch.
    """
    if isinstance(bound, (list, tuple)):
        return _compare_each(trace, list(bound), algo)
    if not isinstance(bound, Bound):
        raise TypeError(
            f"bounds.compare expects a bounds.Bound as bound (or a list of them), got {type(bound).__name__}; "
            "build one from the run's algorithm, e.g. bounds.instance(algo) or bounds.extra(algo)"
        )
    _check_trace_method(trace, bound)
    if algo is not None:
        _check_against_algo(bound, algo)
    precision = str(getattr(trace, "precision", "float64"))
    field = _X_AXIS_FIELDS.get(bound.x_axis, bound.x_axis)
    V, X, div, div_at, steps, batched = _unbatch(trace, bound.metric, field)
    if bound.statistic == "mean":
        return _judge_mean(bound, V, steps, div)
    data = _uses(trace, bound, V.shape)
    reports = tuple(
        _one_report(bound, V[i], None if X is None else X[i], steps, bool(div[i]), int(div_at[i]), precision,
                    None if data is None else {n: v[i] for n, v in data.items()})
        for i in range(V.shape[0])
    )
    return BatchReport(reports) if batched else reports[0]


def _uses(trace, bound: Bound, shape) -> dict | None:
    """The trace fields a data-dependent envelope reads, each as ``(B, K+1)`` like the metric."""
    if not bound.envelope_uses:
        return None
    out = {}
    for n in bound.envelope_uses:
        v = _field(trace, n)
        v = v if v.ndim == 2 else v[None, :]
        if v.shape != tuple(shape):
            raise ValueError(f"bound {bound.name!r} reads the trace field {n!r} per recorded step; it has shape "
                             f"{v.shape}, the metric {bound.metric!r} has {tuple(shape)}")  # fmt: skip
        out[n] = v
    return out


def _compare_each(trace, bounds_list, algo) -> BatchReport:
    """A batch of runs with one bound per run (a sweep over hyperparameters: each run has its own bound)."""
    if not bounds_list:
        raise ValueError("an empty list of bounds")
    bad = [type(b).__name__ for b in bounds_list if not isinstance(b, Bound)]
    if bad:
        raise TypeError(f"bounds.compare: every entry of a list of bounds must be a bounds.Bound, got {bad[0]}; pass one Bound per run")
    kinds = {(b.metric, b.x_axis, b.statistic) for b in bounds_list}
    if len(kinds) != 1 or bounds_list[0].statistic != "each":
        raise ValueError("a list of bounds must share metric and x_axis, and be per-run statements (statistic 'each')")
    b0 = bounds_list[0]
    field = _X_AXIS_FIELDS.get(b0.x_axis, b0.x_axis)
    V, X, div, div_at, steps, batched = _unbatch(trace, b0.metric, field)
    if V.shape[0] != len(bounds_list):
        raise ValueError(f"{len(bounds_list)} bounds for a batch of {V.shape[0]} runs: give one bound per run")
    out = []
    for i, b in enumerate(bounds_list):
        _check_trace_method(trace, b)
        if algo is not None:
            _check_against_algo(b, algo)
        data = _uses(trace, b, V.shape)
        out.append(_one_report(b, V[i], None if X is None else X[i], steps, bool(div[i]), int(div_at[i]),
                               str(getattr(trace, "precision", "float64")),
                               None if data is None else {n: v[i] for n, v in data.items()}))  # fmt: skip
    return BatchReport(tuple(out))


def fit_exponent(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float]:
    """Least-squares slope and intercept of ``log y`` against ``log x`` (a power law ``y = c x^p``)."""
    lx, ly = np.log(np.asarray(xs, float)), np.log(np.asarray(ys, float))
    p, c = np.polyfit(lx, ly, 1)
    return float(p), float(c)


def check_scaling(
    xs: Sequence[float], counts: Sequence[float], exponent: float, *, tol: float = 0.15, mode: str = "tight"
) -> dict:
    """Check an order-only statement: does ``counts`` grow like ``xs ** exponent``?

    ``mode="tight"`` (the order is attained, e.g. optimal methods on worst-case
    instances): ``|fitted - exponent| <= tol``. ``mode="upper"`` (an O(.) upper
    bound that an instance may beat): ``fitted <= exponent + tol``.
    ``mode="lower"`` (an Omega(.) statement): ``fitted >= exponent - tol``.

    Args:
        xs: the varied quantity (e.g. kappa).
        counts: measured counts (e.g. iterations to eps) at each x.
        exponent: the stated exponent (e.g. 0.5 for sqrt(kappa)).
        tol: allowed absolute deviation of the fitted exponent.

    Returns:
        dict with the fitted exponent, the stated one, ``holds`` and ``tol``.
    """
    p, _ = fit_exponent(xs, counts)
    if mode == "tight":
        holds = abs(p - exponent) <= tol
    elif mode == "upper":
        holds = p <= exponent + tol
    elif mode == "lower":
        holds = p >= exponent - tol
    else:
        raise ValueError(f"mode must be 'tight', 'upper' or 'lower', got {mode!r}")
    return {"fitted_exponent": p, "stated_exponent": exponent, "tol": tol, "mode": mode, "holds": bool(holds)}

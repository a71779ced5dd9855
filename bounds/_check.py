"""A theorem's guarantee as a value (:class:`Bound`), and its comparison with a run.

A :class:`Bound` never looks at a run: it is computed from the problem's
constants, the network's spectral quantities and the hyperparameters. It says
what kind of statement it is:

* ``"exact"``: the theorem gives explicit constants — a guaranteed per-step
  contraction ``rate`` of ``metric`` (``metric_k <= C rate^k``), possibly with
  the constant ``C``;
* ``"lower"``: a lower bound — no method of the class can converge faster than
  ``rate`` per unit of ``x_axis`` (gradient calls or communication rounds);
* ``"order"``: only the order (``O(.)``) is stated; the bound records the
  scaling law (``exponents``, e.g. ``{"kappa": 0.5}``) and is checked on the
  exponent across runs (:func:`check_scaling`), never as an absolute value.

:func:`compare` fits the empirical asymptotic rate of a trace (a robust fit of
``log metric`` against ``x_axis`` over the asymptotic linear phase) and says
whether the guarantee holds and how loose it is.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import numpy as np

from algos._errors import StepSizeError

__all__ = ["Bound", "Report", "compare", "fit_rate", "fit_exponent", "check_scaling", "StepSizeError"]

Kind = Literal["exact", "order", "lower"]


@dataclasses.dataclass(frozen=True)
class Bound:
    """One theorem's guarantee for one algorithm on one instance.

    Attributes:
        name: method name (``"extra"``, ...).
        kind: ``"exact"``, ``"order"`` or ``"lower"`` (see module docstring).
        source: paper, theorem number (and where the constants were checked).
        metric: the trace field the statement bounds (``"dist_to_opt"``, ...).
        x_axis: the unit the rate is per: ``"steps"``, ``"communications"`` or ``"gradient_calls"``.
        rate: guaranteed (``exact``) or best-possible (``lower``) contraction factor
            per unit of ``x_axis``; None for ``order`` bounds.
        constant: ``C`` in ``metric_k <= C rate^k metric_0`` when the theorem states it, else None.
        poly_degree: ``p`` when the guarantee is ``metric_k <= C k^p rate^k`` (double roots,
            e.g. heavy-ball gossip at its extreme modes); :func:`compare` divides ``k^p``
            out before fitting, so a finite window is not biased by the polynomial factor.
        exact_rate: the exact asymptotic rate for this instance when known
            (spectral radius of the iteration on quadratics), else None.
        complexity: dict of ``eps -> count`` functions, e.g. ``{"gradient_calls": f, "communications": g}``.
        exponents: for ``order`` bounds, the scaling law: quantity -> exponent.
        conditions: the theorem's validity conditions, each ``name -> bool`` (all True if valid).
        params: the constants the bound was computed from (for reports).
        notes: anything a reader should know (e.g. which metric the theorem's norm differs from).
    """

    name: str
    kind: Kind
    source: str
    metric: str = "dist_to_opt"
    x_axis: str = "steps"
    rate: float | None = None
    constant: float | None = None
    poly_degree: float = 0.0
    exact_rate: float | None = None
    complexity: Mapping[str, Callable[[float], float]] = dataclasses.field(default_factory=dict)
    exponents: Mapping[str, float] = dataclasses.field(default_factory=dict)
    conditions: Mapping[str, bool] = dataclasses.field(default_factory=dict)
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    notes: str = ""

    def __post_init__(self):
        if self.kind not in ("exact", "order", "lower"):
            raise ValueError(f"kind must be 'exact', 'order' or 'lower', got {self.kind!r}")
        if self.kind == "exact" and self.rate is None and not self.complexity:
            raise ValueError("an 'exact' bound needs a rate or a complexity")
        if self.kind in ("order", "lower") and self.rate is None and not (self.complexity or self.exponents):
            raise ValueError(f"a {self.kind!r} bound needs a rate, a complexity or exponents")

    @property
    def valid(self) -> bool:
        """True when every validity condition of the theorem holds for these constants."""
        return all(bool(v) for v in self.conditions.values())

    def curve(self, k, metric0: float = 1.0) -> np.ndarray:
        """Guaranteed ``C rate^k metric0`` at ``k`` (units of ``x_axis``); C = 1 if unstated."""
        if self.rate is None:
            raise ValueError(f"{self.kind!r} bound {self.name!r} has no rate")
        c = 1.0 if self.constant is None else self.constant
        k = np.asarray(k, dtype=np.float64)
        return c * metric0 * np.power(np.maximum(k, 1.0), self.poly_degree) * np.power(self.rate, k)

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
    """Result of :func:`compare`: empirical vs stated (vs exact) rate."""

    name: str
    kind: str
    metric: str
    x_axis: str
    empirical_rate: float
    stated_rate: float | None
    exact_rate: float | None
    holds: bool | None
    slack: float | None
    fit_window: tuple[int, int]
    fit_r2: float
    valid: bool
    source: str
    message: str

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    def __str__(self):
        def f(x):
            return "n/a" if x is None else f"{x:.6f}"

        verdict = {True: "HOLDS", False: "VIOLATED", None: "not checkable on one run"}[self.holds]
        lines = [
            f"{self.name} [{self.kind} bound on {self.metric} per {self.x_axis}] — {verdict}",
            f"  empirical rate {f(self.empirical_rate)} (fit over entries {self.fit_window[0]}..{self.fit_window[1]}, r2={self.fit_r2:.4f})",
            f"  stated rate    {f(self.stated_rate)}",
            f"  exact rate     {f(self.exact_rate)}",
        ]
        if self.slack is not None:
            lines.append(f"  slack          {self.slack:.3f}  (log stated / log empirical; 1 = tight)")
        if not self.valid:
            lines.append("  WARNING: the theorem's conditions do not hold for these constants")
        lines.append(f"  source: {self.source}")
        if self.message:
            lines.append(f"  {self.message}")
        return "\n".join(lines)


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
    finite = np.isfinite(v) & (v > 0)
    if not finite.any():
        raise ValueError("no finite positive values to fit (the run diverged or hit zero at once)")
    vmax = np.nanmax(np.where(finite, v, np.nan))
    vmin = np.nanmin(np.where(finite, v, np.nan))
    floor = floor_rel * vmax
    if vmin < plateau_span * vmax:
        # The run reached round-off: there the error stops decaying and drifts, and a fit
        # over it would report a rate near 1. Cut where it first comes within
        # ``plateau_margin`` of its minimum.
        first_near = int(np.flatnonzero(finite & (v <= plateau_margin * vmin))[0])
        v = v[:first_near]
        xs = xs[:first_near]
        finite = finite[:first_near]
    ok = finite & (v > floor)
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
    xx, yy = xs[start:run_stop], np.log(v[start:run_stop])
    m = len(xx)
    if m > 600:  # subsample for the O(m^2) Theil-Sen
        sel = np.unique(np.linspace(0, m - 1, 600).astype(int))
        xx, yy = xx[sel], yy[sel]
    i, j = np.triu_indices(len(xx), 1)
    dx = xx[j] - xx[i]
    keep = dx > 0
    slope = float(np.median((yy[j] - yy[i])[keep] / dx[keep]))
    intercept = float(np.median(yy - slope * xx))
    resid = yy - (intercept + slope * xx)
    ss = float(np.sum((yy - yy.mean()) ** 2))
    r2 = 1.0 - float(np.sum(resid**2)) / ss if ss > 0 else 1.0
    return math.exp(slope), (int(start), int(run_stop)), r2


_X_AXIS_FIELDS = {"steps": None, "communications": "communications", "gradient_calls": "gradient_calls"}


def compare(trace, bound: Bound, *, algo=None, rtol: float = 1e-3) -> Report:
    """Compare a run with a theorem's guarantee.

    Pass the run's ``algo`` to show the exact asymptotic rate beside the
    empirical and stated ones when the bound does not carry it: on a quadratic,
    a linear method's exact rate is the spectral radius of its one-step map on
    the error subspace (:func:`bounds.exact_rate`); for a method that is not
    affine in its state it is left out.

    * ``exact`` bound: holds when the fitted empirical rate is no slower than
      the stated rate, ``r_emp <= rate + rtol (1 - rate)``; ``slack = log(rate)
      / log(r_emp)`` (1 = tight, < 1 = the run converges faster than promised).
    * ``lower`` bound: holds when the run is no faster than the lower bound,
      ``r_emp >= rate - rtol (1 - rate)``, per unit of ``bound.x_axis``.
    * ``order`` bound: ``holds`` is None — an order is checked across runs
      with :func:`check_scaling`.

    ``rtol`` is relative to the gap ``1 - rate`` and covers fit noise only.
    """
    exact = bound.exact_rate
    if exact is None and algo is not None:
        from bounds.convex.exact import exact_rate

        try:
            exact = float(exact_rate(algo))
        except (ValueError, NotImplementedError):
            exact = None
    if bool(np.asarray(trace.diverged)):
        return Report(
            bound.name, bound.kind, bound.metric, bound.x_axis, math.inf, bound.rate, exact,
            False if bound.kind == "exact" else None, None, (0, 0), 0.0, bound.valid, bound.source,
            f"the run diverged at step {int(np.asarray(trace.diverged_at))}",
        )  # fmt: skip
    values = np.asarray(getattr(trace, bound.metric), dtype=np.float64)
    field = _X_AXIS_FIELDS.get(bound.x_axis, bound.x_axis)
    x = np.asarray(trace.steps, dtype=np.float64) if field is None else np.asarray(getattr(trace, field))
    if bound.poly_degree:
        # metric_k <= C k^p r^k: fit the rate of metric_k / k^p (same asymptotic rate, no window bias)
        values = values / np.power(np.asarray(trace.steps, dtype=np.float64), bound.poly_degree)
    r_emp, window, r2 = fit_rate(values, x)
    holds, slack, msg = None, None, ""
    if bound.kind == "exact" and bound.rate is not None:
        holds = bool(r_emp <= bound.rate + rtol * (1.0 - bound.rate))
        slack = math.log(bound.rate) / math.log(r_emp) if 0 < r_emp < 1 and 0 < bound.rate < 1 else None
        if not holds:
            msg = f"FINDING: the run converges more slowly ({r_emp:.6f}) than the theorem guarantees ({bound.rate:.6f})"
    elif bound.kind == "lower" and bound.rate is not None:
        holds = bool(r_emp >= bound.rate - rtol * (1.0 - bound.rate))
        slack = math.log(r_emp) / math.log(bound.rate) if 0 < r_emp < 1 and 0 < bound.rate < 1 else None
        if not holds:
            msg = f"FINDING: the run is faster ({r_emp:.6f}) than the lower bound allows ({bound.rate:.6f})"
    else:
        msg = "order-only statement: check its exponents across runs with bounds.check_scaling"
    return Report(
        bound.name, bound.kind, bound.metric, bound.x_axis, r_emp, bound.rate, exact, holds, slack,
        window, r2, bound.valid, bound.source, msg,
    )  # fmt: skip


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

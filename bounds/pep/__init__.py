"""Certified worst cases of decentralized methods by performance estimation (``kind="computed"``).

For DGD, EXTRA, NIDS, exact diffusion, gradient tracking (DIGing) and gossip, ``bounds.pep.<method>``
computes the exact worst case, over a whole function class, of the quantity the trace records,
for every step ``k = 0..K``, as a semidefinite program (performance estimation, PEP), and returns
it as a :class:`bounds.Bound` whose envelope :func:`bounds.compare` checks run by run.

Function class: every local ``f_i`` is ``L``-smooth and ``mu``-strongly convex (``0 < mu < L``;
``L`` and ``mu`` default to the problem's), in any dimension.

Initial conditions (read from the algorithm, never from a run): ``(1/n) sum_i ||x_i^0 - x*||^2 <=
R0^2`` with ``R0`` the algorithm's own starting point's value; every agent starts at the same point
when the algorithm's ``x0`` has equal rows (the default ``x0 = 0``); heterogeneity
``(1/n) sum_i ||grad f_i(x*)||^2 <= zeta^2`` with ``zeta = problem.zeta``; the methods' own
initializations (``U^0 = 0`` for EXTRA, ``Y^0 = grad F(X^0)`` for DIGing, NIDS's and exact
diffusion's first steps) are part of the method. Gossip: ``consensus_error_0 <= ref``.

Performance measure = the trace's metric, exactly: ``dist_to_opt = (1/n) sum_i ||x_i^k - x*||``
(a concave function of the Gram matrix, maximized as a second-order cone: no inequality between
measures is needed), and for gossip ``consensus_error = sqrt((1/n) sum_i ||x_i^k - x_bar||^2)``.

Network: a fixed ``W`` (exact worst case for this network; the program grows with ``n``, keep
``n`` small), or ``eigenvalues=(lo, hi)``: the spectral class of every symmetric ``W`` with
``W 1 = 1`` whose other eigenvalues lie in ``[lo, hi]`` (agent-symmetric relaxed formulation: an
upper bound on that class's worst case, independent of ``n``; docs/VERIFICATION.md, "Performance
estimation").

Tightness: for a fixed ``W`` the value is attained by some instance of the class (in dimension
at most the Gram size), so the envelope is tight at each ``k`` separately; in the spectral class
it is an upper bound (tightness not claimed). The envelope holds for ``k = 0..K`` only (``+inf``
after ``K``: not judged).

Solver: Clarabel through cvxpy (other Clarabel settings, then SCS, as fallbacks). A solve is
accepted only when its relative duality gap is at most ``REL_GAP_TOL = 1e-6`` and its primal and
dual residuals at most ``RESIDUAL_TOL = 1e-7`` (judged on these numbers, not on the solver's label:
Clarabel ends many PEPs at "AlmostSolved" with residuals ~1e-8); otherwise :class:`PEPError` is
raised and no bound is returned. The envelope is ``max(primal, dual) * (1 + REL_GAP_TOL)``: the
accepted solver accuracy, stated once for every bound. Each result carries every solve's status,
gap, residual, time and size (``Bound.params["solves"]``). Solves are cached on disk
(:func:`cache_dir`, ``$RATEBENCH_PEP_CACHE``), keyed by every input; ``progress=callable`` (e.g. ``print``) receives one dict per solve
(label, value, solver, gap, seconds, size).

Why not PEPit: PEPit (0.5.1 on PyPI) ships no decentralized method, its performance metrics are
linear in the Gram matrix (``dist_to_opt``, a mean of norms, is not), and ratebench needs each
solve's status and duality gap to refuse inaccurate ones; the program here is small enough to be
written directly in cvxpy (docs/VERIFICATION.md says how it was checked).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from bounds.pep._methods import RUNS, basis_size
from bounds.pep._program import (
    FORMAT_VERSION,
    REL_GAP_TOL,
    FixedSpace,
    PEPError,
    Solve,
    SpectralSpace,
    cache_dir,
    cached,
    solve_program,
)

__all__ = [
    "WorstCase",
    "PEPError",
    "Solve",
    "worst_case",
    "symbolic_run",
    "cache_dir",
    "REL_GAP_TOL",
    "METHODS",
    "dgd",
    "extra",
    "nids",
    "exact_diffusion",
    "gradient_tracking",
    "gossip",
]

METHODS = tuple(RUNS)
MEASURES = ("dist_to_opt", "mean_sq_dist", "consensus_error")


@dataclasses.dataclass(frozen=True)
class WorstCase:
    """Worst case of a method's measure at steps ``0..K`` (in the caller's units).

    Attributes:
        method, measure, horizon: what was computed.
        values: (K+1,) certified worst case at each step (``values[0]`` is the initial condition's).
        solves: one :class:`Solve` per step ``k = 1..K``.
        inputs: the normalized inputs of the programs (the cache keys' content).
    """

    method: str
    measure: str
    horizon: int
    values: np.ndarray
    solves: tuple
    inputs: dict

    def rate(self, k: int | None = None) -> float:
        """``(values[k] / values[0])^(1/k)`` (``k = K`` by default): the average per-step factor over ``k`` steps."""
        k = self.horizon if k is None else int(k)
        if k <= 0 or self.values[0] <= 0:
            return math.nan
        return float((self.values[k] / self.values[0]) ** (1.0 / k))

    @property
    def seconds(self) -> float:
        return float(sum(s.seconds for s in self.solves))


def _check_interval(eigenvalues):
    try:
        lo, hi = (float(v) for v in eigenvalues)
    except (TypeError, ValueError):
        raise TypeError(f"eigenvalues must be a pair (lo, hi) of floats, got {eigenvalues!r}") from None
    if not (-1.0 <= lo <= hi <= 1.0):
        raise ValueError(
            f"eigenvalues=(lo, hi) must satisfy -1 <= lo <= hi <= 1 (the non-unit eigenvalues of W), got ({lo}, {hi})"
        )
    return lo, hi


def symbolic_run(method: str, space, horizon: int, step_size: float, *, equal_start: bool, zeta_free: bool):
    """Run ``method`` for ``horizon`` steps on symbolic vectors; returns ``(X_list, Gstar)``."""
    X0 = space.start(equal_start)
    Gs = space.gstar() if zeta_free else None
    space.add_optimum(Gs)
    X = RUNS[method](space, X0, step_size, horizon)
    return X, Gs


def worst_case(
    method: str,
    *,
    horizon: int,
    step_size: float | None = None,
    L: float = 1.0,
    mu: float | None = None,
    W=None,
    eigenvalues=None,
    R0: float = 1.0,
    zeta: float = 0.0,
    equal_start: bool = True,
    measure: str | None = None,
    use_cache: bool = True,
    progress=None,
    solver: str = "CLARABEL",
) -> WorstCase:
    """The certified worst case of ``method`` at steps ``0..horizon`` (module docstring).

    Args:
        method: one of :data:`METHODS`.
        horizon: ``K >= 0``; one program per ``k = 1..K`` (sizes grow with ``k``).
        step_size: ``alpha > 0`` (ignored by gossip).
        L, mu: the class ``F_{mu,L}`` of every local function, ``0 < mu < L``.
        W: a fixed (n, n) mixing matrix with rows summing to 1; or
        eigenvalues: ``(lo, hi)``, the spectral class (exactly one of ``W`` / ``eigenvalues``).
        R0: initial ``sqrt((1/n) sum_i ||x_i^0 - x*||^2)`` (gossip: the initial ``consensus_error``).
        zeta: heterogeneity ``sqrt((1/n) sum_i ||grad f_i(x*)||^2)``.
        equal_start: every agent starts at the same point.
        measure: ``"dist_to_opt"`` (default; gossip: ``"consensus_error"``) or ``"mean_sq_dist"``.

    Returns:
        :class:`WorstCase`. Raises :class:`PEPError` when a solve is inaccurate.
    """
    if method not in RUNS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if not isinstance(horizon, (int, np.integer)) or isinstance(horizon, bool) or horizon < 0:
        raise ValueError(f"horizon must be an integer >= 0 (the number of steps K), got {horizon!r}")
    horizon = int(horizon)
    gossip_ = method == "gossip"
    measure = measure or ("consensus_error" if gossip_ else "dist_to_opt")
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES}, got {measure!r}")
    if gossip_ != (measure == "consensus_error"):
        raise ValueError("gossip is measured by 'consensus_error', and only gossip is (pass measure=None)")
    if (W is None) == (eigenvalues is None):
        raise ValueError("pass exactly one of W (a fixed mixing matrix) and eigenvalues=(lo, hi) (the spectral class)")
    if not gossip_:
        if mu is None or not (math.isfinite(L) and math.isfinite(mu) and 0.0 < mu < L):
            raise ValueError(f"the class needs 0 < mu < L (finite), got L={L}, mu={mu}")
        if step_size is None or not (math.isfinite(step_size) and step_size > 0.0):
            raise ValueError(f"step_size must be a positive float, got {step_size!r}")
        if not (math.isfinite(zeta) and zeta >= 0.0):
            raise ValueError(f"zeta must be finite and >= 0, got {zeta}")
    if not (math.isfinite(R0) and R0 >= 0.0):
        raise ValueError(f"R0 must be finite and >= 0, got {R0}")
    if W is not None:
        W = np.asarray(W, dtype=np.float64)
        if W.ndim != 2 or W.shape[0] != W.shape[1]:
            raise ValueError(f"W must be a square (n, n) matrix, got shape {W.shape}")
        if not np.allclose(W.sum(axis=1), 1.0, atol=1e-9) or not np.allclose(W.sum(axis=0), 1.0, atol=1e-9):
            raise ValueError("W must be doubly stochastic in the generalized sense (rows and columns sum to 1)")
        if W.shape[0] > 16:
            raise ValueError(f"a fixed-W program grows with n; n = {W.shape[0]} > 16: use eigenvalues=(lo, hi)")
        net = {"W": W}
    else:
        lo, hi = _check_interval(eigenvalues)
        net = {"lo": lo, "hi": hi}

    # normalization (module docstring of _program): L = 1, initial distance 1
    if gossip_:
        s = R0
        inputs = {"method": method, "measure": measure, "R": 1.0 if s > 0 else 0.0, **net}
    else:
        s = R0 if R0 > 0 else zeta / L
        inputs = {
            "method": method, "measure": measure, "mu": mu / L, "alpha": step_size * L,
            "R": (R0 / s) if s > 0 else 0.0, "zeta": (zeta / (L * s)) if s > 0 else 0.0,
            "equal_start": bool(equal_start), **net,
        }  # fmt: skip
    inputs.update({"solver": solver, "rel_gap_tol": REL_GAP_TOL, "format": FORMAT_VERSION})
    unit = s * s if measure == "mean_sq_dist" else s
    values = np.zeros(horizon + 1)
    if s == 0.0:  # the start is optimal/consensual and nothing moves it
        return WorstCase(method, measure, horizon, values, (), inputs)
    values[0] = 1.0
    solves = []
    for k in range(1, horizon + 1):
        key = dict(inputs, k=k)
        sol = cached(key, lambda k=k: _solve_k(method, k, inputs, net), use_cache=use_cache, progress=progress,
                     label=f"{method} k={k}")  # fmt: skip
        solves.append(sol)
        values[k] = sol.value * (1.0 + REL_GAP_TOL)  # the accepted solver accuracy
    return WorstCase(method, measure, horizon, values * unit, tuple(solves), inputs)


def _solve_k(method, k, inputs, net, *, reduced: bool = True):
    """The program of step ``k``; ``reduced=False``: the earlier spectral-class formulation (checks only)."""
    symmetric = "W" not in net
    n = 1 if symmetric else net["W"].shape[0]
    n_max = basis_size(method, n, k, symmetric)
    space = SpectralSpace(net["lo"], net["hi"], n_max, reduced=reduced) if symmetric else FixedSpace(net["W"], n_max)
    if method == "gossip":
        X0 = space.start(False)
        X = RUNS[method](space, X0, 0.0, k)
        init = [(space.dev_sq(X0), "dev", inputs["R"] ** 2)]
        return solve_program(space, "consensus_error", X[-1], init, mu=0.0, L=1.0)
    zeta_free = inputs["zeta"] > 0.0
    has_start = inputs["R"] > 0.0
    if has_start:
        X, Gs = symbolic_run(method, space, k, inputs["alpha"], equal_start=inputs["equal_start"], zeta_free=zeta_free)
        init = [(space.mean_sq(X[0]), "agent", inputs["R"] ** 2)]
    else:  # x^0 = x*: no start vector
        Gs = space.gstar() if zeta_free else None
        space.add_optimum(Gs)
        X = RUNS[method](space, space.zeros(), inputs["alpha"], k)
        init = []
    if zeta_free:
        init.append((space.mean_sq(Gs), "agent", inputs["zeta"] ** 2))
    return solve_program(space, inputs["measure"], X[-1], init, mu=inputs["mu"], L=1.0)


from bounds.pep._bounds import dgd, exact_diffusion, extra, gossip, gradient_tracking, nids  # noqa: E402

"""Performance-estimation programs (PEP) for decentralized first-order methods, built in cvxpy.

A method's first ``K`` steps are run *symbolically*: every vector is a coefficient array over a
basis of "free" vectors (the starting points, the local gradients at ``x*``, every gradient the
method evaluates, and, in the spectral class, every output of a gossip product), and every
number the performance measure and the constraints need is a linear function of the Gram matrix
of that basis and of the function values (Drori & Teboulle 2014; Taylor, Hendrickx & Glineur,
"Smooth strongly convex interpolation and exact worst-case performance of first-order methods",
Math. Program. 2017, Thm. 4 for the interpolation conditions of ``F_{mu,L}``). The worst case is
the maximum of the measure over Gram matrices that satisfy the interpolation conditions of every
local function (one function per agent), the consensus steps and the initial conditions: a
semidefinite program. Its value is the exact worst case over the function class in any
dimension ``d >= `` the Gram size (every PSD Gram matrix is realized by vectors of that
dimension, and every set of interpolation data satisfying the conditions extends to a function
of the class), so it bounds every run of dimension ``d`` from above.

Two ways to handle the network (docs/VERIFICATION.md, "Performance estimation"):

* :class:`FixedSpace`, a fixed ``W`` (n agents): a basis vector belongs to one agent, a
  node-stacked quantity is an ``(n, N)`` coefficient array and a gossip product is ``W @ C``.
  Exact worst case for this network.
* :class:`SpectralSpace`, the spectral class: every symmetric ``W`` with ``W 1 = 1`` whose other
  eigenvalues lie in ``[lo, hi]``. By symmetry between agents the worst case can be taken with
  every agent alike (Colla & Hendrickx, arXiv:2403.11724), so a quantity is one coefficient
  vector ``(N,)`` and the Gram matrix splits into the Gram of the agents' *average* ``G_C`` and
  the agent-averaged Gram of the *deviations* ``G_D`` (both PSD, independent of ``n``); a gossip
  product ``y = W x`` is ``x + z`` with a fresh zero-mean vector ``z``, constrained by the
  necessary conditions of a symmetric operator with spectrum in ``[lo, hi]`` (contracted over
  agents and coordinates): ``A^T G_D B`` symmetric and ``(B - lo A)^T G_D (hi A - B) >= 0``. This
  is a relaxation of the class, so its value is an upper bound on the class's worst case (a
  valid certificate, not claimed tight).

Normalization: the program is solved for ``L = 1`` and an initial distance ``1`` (the worst case
is homogeneous: scaling ``x`` by ``s`` and ``f`` by ``L s^2`` maps the class ``F_{mu,L}`` onto
``F_{mu/L,1}``, step ``alpha`` to ``alpha L``, heterogeneity ``zeta`` to ``zeta / (L s)``, distances by
``1/s``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

__all__ = [
    "FixedSpace",
    "SpectralSpace",
    "Solve",
    "PEPError",
    "solve_program",
    "cache_dir",
    "REL_GAP_TOL",
    "RESIDUAL_TOL",
    "FORMAT_VERSION",
]

#: Largest relative duality gap ``|primal - dual| / max(|primal|, |dual|, 1e-12)`` accepted.
REL_GAP_TOL = 1e-6
#: Largest primal and dual residual accepted (Clarabel's relative residuals ``r_prim``, ``r_dual``;
#: SCS's ``res_pri``, ``res_dual``). Clarabel often ends PEPs at "AlmostSolved" (insufficient progress
#: near its 1e-8 defaults) with residuals ~1e-8, and SCS at "solved (inaccurate - reached max_iters)"
#: with residuals ~1e-8 at its 1e-9 targets: such a solve is accepted when it meets these tolerances
#: and the gap tolerance, and refused otherwise, whatever its label (NumericalError, infeasible... are
#: always refused).
RESIDUAL_TOL = 1e-7
#: Part of every cache key: bump it when the formulation changes.
FORMAT_VERSION = "pep-v2"
#: Relative residual under which a gossip input's deviation counts as a combination of earlier ones
#: (the coefficients are exact linear algebra on small integers and step sizes: round-off ~1e-15).
_DEP_TOL = 1e-10


class PEPError(RuntimeError):
    """A performance-estimation program was not solved accurately (no bound is returned)."""


# ---------------------------------------------------------------------------------------------
# symbolic spaces
# ---------------------------------------------------------------------------------------------
class _Space:
    """Common bookkeeping: basis labels, interpolation points, function values."""

    def __init__(self, n_max: int):
        self.n_max = n_max
        self.labels: list[tuple] = []
        self.mean_ok: list[bool] = []
        self.dev_ok: list[bool] = []
        self.points: list[list[tuple]] = []  # per agent: (x coeff, g coeff, f index or None)
        self.n_f = 0
        self.grad_calls = 0
        self.mix_calls = 0

    def _new(self, label, mean_ok=True, dev_ok=True) -> int:
        j = len(self.labels)
        if j >= self.n_max:
            raise RuntimeError("internal: basis larger than allocated")
        self.labels.append(label)
        self.mean_ok.append(mean_ok)
        self.dev_ok.append(dev_ok)
        return j

    def _e(self, j) -> np.ndarray:
        v = np.zeros(self.n_max)
        v[j] = 1.0
        return v

    @property
    def N(self) -> int:
        return len(self.labels)


class FixedSpace(_Space):
    """A fixed mixing matrix ``W`` (n x n): node-stacked quantities are ``(n, N)`` coefficient arrays."""

    symmetric = False

    def __init__(self, W: np.ndarray, n_max: int):
        super().__init__(n_max)
        self.W = np.asarray(W, dtype=np.float64)
        self.n = self.W.shape[0]
        self.points = [[] for _ in range(self.n)]

    def zeros(self) -> np.ndarray:
        return np.zeros((self.n, self.n_max))

    def start(self, equal_start: bool) -> np.ndarray:
        """``X^0 - x*`` (x* = 0): one shared basis vector when every agent starts at the same point."""
        X = self.zeros()
        if equal_start:
            X[:, self._new(("x0", "all"))] = 1.0
        else:
            for i in range(self.n):
                X[i, self._new(("x0", i))] = 1.0
        return X

    def gstar(self) -> np.ndarray:
        """``grad f_i(x*)``: n - 1 free vectors, the last agent's is minus their sum (they sum to 0)."""
        G = self.zeros()
        for i in range(self.n - 1):
            G[i, self._new(("gstar", i))] = 1.0
        G[self.n - 1] = -G[: self.n - 1].sum(axis=0)
        return G

    def add_optimum(self, Gs: np.ndarray | None):
        for i in range(self.n):
            g = np.zeros(self.n_max) if Gs is None else Gs[i]
            self.points[i].append((np.zeros(self.n_max), g, None))  # x* = 0, f_i(x*) = 0

    def grad(self, X: np.ndarray) -> np.ndarray:
        G = self.zeros()
        for i in range(self.n):
            j = self._new(("grad", self.grad_calls, i))
            G[i, j] = 1.0
            self.points[i].append((X[i].copy(), G[i].copy(), self.n_f))
            self.n_f += 1
        self.grad_calls += 1
        return G

    def mix(self, X: np.ndarray) -> np.ndarray:
        self.mix_calls += 1
        return self.W @ X

    # quadratic functionals: lists of (coefficient matrix over the basis, agent weight)
    def mean_sq(self, X: np.ndarray) -> np.ndarray:
        """``(1/n) sum_i ||x_i||^2`` as a coefficient matrix."""
        Xn = X[:, : self.N]
        return Xn.T @ Xn / self.n

    def dev_sq(self, X: np.ndarray) -> np.ndarray:
        """``(1/n) sum_i ||x_i - x_bar||^2`` as a coefficient matrix."""
        Xn = X[:, : self.N]
        D = Xn - Xn.mean(axis=0, keepdims=True)
        return D.T @ D / self.n

    def agent_sq(self, X: np.ndarray) -> list[np.ndarray]:
        Xn = X[:, : self.N]
        return [np.outer(Xn[i], Xn[i]) for i in range(self.n)]


class SpectralSpace(_Space):
    """The spectral class ``[lo, hi]``, agent-symmetric: quantities are ``(N,)`` coefficient vectors."""

    symmetric = True

    def __init__(self, lo: float, hi: float, n_max: int, *, reduced: bool = True):
        super().__init__(n_max)
        self.lo, self.hi = float(lo), float(hi)
        self.n = 1
        self.points = [[]]
        self.pairs: list[tuple[np.ndarray, np.ndarray]] = []  # (x coeff, z coeff) with W x = x + z
        #: Eliminate gossip inputs whose deviation is a linear combination of earlier inputs' (see :meth:`mix`).
        #: ``reduced=False`` is the earlier formulation (one fresh ``z`` per product), kept to check equivalence.
        self.reduced = bool(reduced)
        self.mixes_eliminated = 0

    def zeros(self) -> np.ndarray:
        return np.zeros(self.n_max)

    def start(self, equal_start: bool) -> np.ndarray:
        return self._e(self._new(("x0",), mean_ok=True, dev_ok=not equal_start))

    def gstar(self) -> np.ndarray:
        return self._e(self._new(("gstar",), mean_ok=False, dev_ok=True))

    def add_optimum(self, gs: np.ndarray | None):
        g = np.zeros(self.n_max) if gs is None else gs
        self.points[0].append((np.zeros(self.n_max), g, None))

    def grad(self, x: np.ndarray) -> np.ndarray:
        g = self._e(self._new(("grad", self.grad_calls)))
        self.points[0].append((x.copy(), g.copy(), self.n_f))
        self.n_f += 1
        self.grad_calls += 1
        return g

    def _dev(self, x: np.ndarray) -> np.ndarray:
        """The coefficients of ``x``'s deviation part (its entries on the basis vectors that can deviate)."""
        mask = np.zeros(self.n_max)
        mask[[j for j in range(self.N) if self.dev_ok[j]]] = 1.0
        return x * mask

    def mix(self, x: np.ndarray) -> np.ndarray:
        """``W x = x + z`` with ``z = S dev(x)`` zero-mean.

        Reduced formulation (the default): when ``dev(x)`` is a linear combination ``sum_j c_j dev(a_j)``
        of earlier gossip inputs' deviations (coefficients over the basis, up to round-off), then
        ``z = sum_j c_j z_j`` exactly (``S`` is linear; ``dev(x) = 0`` gives ``z = 0``) and no basis vector
        or LMI column is added. This is the same program: in the unreduced one, ``v = (c, -1)`` has
        ``A v = 0``, so ``v^T M v = -||B v||_{G_D}^2 >= 0`` forces ``B v = 0`` in every feasible Gram, i.e.
        the fresh ``z`` equals the combination; conversely the unreduced constraints are the reduced
        ones seen through ``[I, c]`` (``M_full = [I c]^T M [I c]``, PSD and symmetric). Keeping such a
        ``z`` puts every feasible point on a proper face of the PSD cone (no strictly feasible point),
        which is what made interior-point solvers fail (docs/VERIFICATION.md, section 12).
        """
        self.mix_calls += 1
        if self.reduced:
            d = self._dev(x)
            if self.pairs:
                A = np.stack([self._dev(a) for a, _ in self.pairs], axis=1)
                c, *_ = np.linalg.lstsq(A, d, rcond=None)
                resid = float(np.linalg.norm(A @ c - d))
            else:
                c, resid = None, float(np.linalg.norm(d))
            if resid <= _DEP_TOL * max(1.0, float(np.linalg.norm(d))):
                self.mixes_eliminated += 1
                z = np.zeros(self.n_max) if c is None else sum(cj * zj for cj, (_, zj) in zip(c, self.pairs))
                return x + z
        z = self._e(self._new(("mix", self.mix_calls - 1), mean_ok=False, dev_ok=True))
        self.pairs.append((x.copy(), z))
        return x + z

    def mean_sq(self, x: np.ndarray) -> np.ndarray:
        xn = x[: self.N]
        return np.outer(xn, xn)

    def dev_sq(self, x: np.ndarray) -> np.ndarray:  # marker: evaluated on G_D only
        xn = x[: self.N]
        return np.outer(xn, xn)

    def agent_sq(self, x: np.ndarray) -> list[np.ndarray]:
        return [self.mean_sq(x)]


# ---------------------------------------------------------------------------------------------
# the semidefinite program
# ---------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Solve:
    """One solved program: the certified value and how it was obtained.

    Attributes:
        value: the certified worst case, ``max(primal, dual)`` objective (the dual objective of the
            solver's dual point bounds the worst case from above up to its feasibility tolerance;
            taking the larger of the two is the conservative choice).
        primal, dual: the solver's primal and dual objective values.
        rel_gap: ``|primal - dual| / max(|primal|, |dual|, 1e-12)``.
        status: the solver's status string.
        residual: the larger of the solver's primal and dual residuals (accepted: <= ``RESIDUAL_TOL``).
        solver: ``"CLARABEL"`` or ``"SCS"``.
        seconds: wall time of the solve (0 when read from the cache).
        size: Gram size(s) and number of scalar constraints.
        cached: read from the disk cache.
    """

    value: float
    primal: float
    dual: float
    rel_gap: float
    status: str
    solver: str
    seconds: float
    size: dict
    cached: bool = False
    residual: float = 0.0

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _interp_rows(pts, mu: float, L: float):
    """Interpolation conditions of ``F_{mu,L}`` between every ordered pair of points of one function.

    Returns a list of (coefficient matrix over the basis, f coefficients dict) with
    ``<M, G> + sum_c f_c F_c <= 0``. Condition (Taylor, Hendrickx & Glineur 2017, Thm. 4):
    ``f_i >= f_j + <g_j, x_i - x_j> + 1/(2(1 - mu/L)) (|g_i - g_j|^2/L + mu |x_i - x_j|^2
    - 2 (mu/L) <g_j - g_i, x_j - x_i>)``.
    """
    c = 1.0 / (2.0 * (1.0 - mu / L))
    out = []
    for a, (xi, gi, fi) in enumerate(pts):
        for b, (xj, gj, fj) in enumerate(pts):
            if a == b:
                continue
            dx = xi - xj
            dg = gi - gj
            M = 0.5 * (np.outer(gj, dx) + np.outer(dx, gj))
            M += c * (np.outer(dg, dg) / L + mu * np.outer(dx, dx) - (mu / L) * (np.outer(dg, dx) + np.outer(dx, dg)))
            f = {}
            if fj is not None:
                f[fj] = f.get(fj, 0.0) + 1.0
            if fi is not None:
                f[fi] = f.get(fi, 0.0) - 1.0
            out.append((M, f))
    return out


def _sym(M):
    return 0.5 * (M + M.T)


def solve_program(space, objective: str, X_final, init: dict, mu: float, L: float = 1.0, *, solver: str = "CLARABEL"):
    """Assemble and solve the PEP of ``space`` (a symbolic run already done).

    Args:
        space: a :class:`FixedSpace` or :class:`SpectralSpace` after the symbolic run.
        objective: ``"dist_to_opt"`` (mean over agents of ``||x_i - x*||``), ``"mean_sq_dist"``
            (``(1/n) sum_i ||x_i - x*||^2``) or ``"consensus_error"`` (``sqrt((1/n) sum_i ||x_i - x_bar||^2)``).
        X_final: the coefficient array of the measured iterate.
        init: list of ``(coefficient matrix, kind, bound)`` initial constraints ``<M, G_kind> <= bound``,
            kind ``"agent"`` (per-agent Gram) or ``"dev"`` (deviation Gram).
        mu, L: the function class (normalized: ``L = 1``).

    Returns:
        :class:`Solve`. Raises :class:`PEPError` when the solver does not report an accurate optimum.
    """
    import cvxpy as cp

    N = space.N
    if N == 0:
        return Solve(0.0, 0.0, 0.0, 0.0, "trivial", "none", 0.0, {"gram": 0})
    cons = []
    if space.symmetric:
        ic = [j for j in range(N) if space.mean_ok[j]]
        idv = [j for j in range(N) if space.dev_ok[j]]
        Ec = np.zeros((len(ic), N))
        Ec[np.arange(len(ic)), ic] = 1.0
        Ed = np.zeros((len(idv), N))
        Ed[np.arange(len(idv)), idv] = 1.0
        C = cp.Variable((len(ic), len(ic)), PSD=True) if ic else None
        D = cp.Variable((len(idv), len(idv)), PSD=True) if idv else None
        GD = Ed.T @ D @ Ed if D is not None else None
        parts = [p for p in ((Ec.T @ C @ Ec) if C is not None else None, GD) if p is not None]
        G_agent = parts[0] if len(parts) == 1 else parts[0] + parts[1]
        size = {"gram_mean": len(ic), "gram_dev": len(idv)}
    else:
        G = cp.Variable((N, N), PSD=True)
        G_agent = G
        GD = G
        size = {"gram": N}
    F = cp.Variable(space.n_f) if space.n_f else None

    def lin(M, G_):
        return cp.sum(cp.multiply(_sym(M[:N, :N]), G_))

    # interpolation conditions, stacked into one sparse linear system
    rows, frows = [], []
    for pts in space.points:
        for M, f in _interp_rows(pts, mu, L):
            rows.append(_sym(M[:N, :N]).ravel(order="F"))
            fr = np.zeros(max(space.n_f, 1))
            for k, v in f.items():
                fr[k] += v
            frows.append(fr)
    n_interp = len(rows)
    if rows:
        A = sp.csr_matrix(np.vstack(rows))
        expr = A @ cp.vec(G_agent, order="F")
        if F is not None:
            expr = expr + sp.csr_matrix(np.vstack(frows)) @ F
        cons.append(expr <= 0)
    # initial conditions
    for M, kind, bound in init:
        cons.append(lin(M, G_agent if kind == "agent" else GD) <= bound)
    # gossip products of the spectral class: W x = x + z, z zero-mean (built into the basis)
    n_lmi = 0
    if space.symmetric and space.pairs:
        Acoef = np.stack([p[0][:N] for p in space.pairs], axis=1)  # N x m
        Zcoef = np.stack([p[1][:N] for p in space.pairs], axis=1)
        Bcoef = Acoef + Zcoef
        lo, hi = space.lo, space.hi
        S = Acoef.T @ GD @ Bcoef
        m = Acoef.shape[1]
        Msp = (hi + lo) * 0.5 * (S + S.T) - Bcoef.T @ GD @ Bcoef - lo * hi * (Acoef.T @ GD @ Acoef)
        if getattr(space, "reduced", True):
            # each condition once: S_ij = S_ji for i < j only (the diagonal is 0 = 0 and (j, i) repeats
            # (i, j): linearly dependent equality rows), and the PSD cone on the symmetric expression
            # itself (no auxiliary matrix tied to it by m^2 equalities, half of them repeated)
            if m > 1:
                iu, ju = np.triu_indices(m, 1)
                cons.append(cp.hstack([S[int(i), int(j)] - S[int(j), int(i)] for i, j in zip(iu, ju)]) == 0)
            cons.append(0.5 * (Msp + Msp.T) >> 0)
        else:  # the earlier formulation (kept to check that both give the same value)
            if m > 1:
                cons.append(S - S.T == 0)
            T = cp.Variable((m, m), symmetric=True)
            cons += [T == 0.5 * (Msp + Msp.T), T >> 0]
        n_lmi = m
    # objective
    if objective == "dist_to_opt":
        qs = [lin(M, G_agent) for M in space.agent_sq(X_final)]
        obj = sum(cp.sqrt(q) for q in qs) / len(qs)
    elif objective == "mean_sq_dist":
        obj = lin(space.mean_sq(X_final), G_agent)
    elif objective == "consensus_error":
        obj = cp.sqrt(lin(space.dev_sq(X_final), GD))
    else:
        raise ValueError(f"objective must be 'dist_to_opt', 'mean_sq_dist' or 'consensus_error', got {objective!r}")
    prob = cp.Problem(cp.Maximize(obj), cons)
    size.update({"interpolation_constraints": n_interp, "spectral_lmi": n_lmi, "function_values": space.n_f})
    if space.symmetric:
        size["mixes_eliminated"] = space.mixes_eliminated
    return _solve(prob, size, solver)


#: Solver attempts, in order: Clarabel with its defaults, then with settings that help on the
#: degenerate programs PEPs often are (the canonicalized program's ordering varies between
#: processes, and Clarabel occasionally stops at "AlmostSolved" on one ordering), then SCS.
ATTEMPTS = (
    ("CLARABEL", {}),
    # a larger static regularization of the KKT systems (default 1e-8): measured on the K = 8 programs of
    # benchmarks/pep_timing.py, it ends at "Solved" (residuals ~1e-9) where the defaults stall at
    # "AlmostSolved" with residuals 1e-7 - 1e-4 (benchmarks/RESULTS.md section 9). The residuals judged
    # are the iterate's on the program itself, so the acceptance rule is unchanged.
    ("CLARABEL", {"static_regularization_constant": 1e-6}),
    ("CLARABEL", {"static_regularization_constant": 1e-10}),
    ("CLARABEL", {"equilibrate_enable": False}),
    ("CLARABEL", {"direct_solve_method": "faer"}),
    ("SCS", {"eps_abs": 1e-9, "eps_rel": 1e-9, "max_iters": 20000}),
)


def _solve(prob, size, solver):
    import cvxpy as cp

    attempts = [a for a in ATTEMPTS if a[0] == solver] + [a for a in ATTEMPTS if a[0] != solver]
    errors = []
    data_of = {}
    for name, opts in attempts:
        t0 = time.perf_counter()
        try:
            if name not in data_of:
                data_of[name] = prob.get_problem_data(getattr(cp, name))[:2]
            data, chain = data_of[name]
            raw = chain.solve_via_data(prob, data, warm_start=False, verbose=False, solver_opts=dict(opts))
        except Exception as exc:  # noqa: BLE001 - a solver failure is reported, then the next attempt is made
            errors.append(f"{name}{opts or ''}: {type(exc).__name__}: {exc}")
            continue
        secs = time.perf_counter() - t0
        if name == "CLARABEL":
            status = str(raw.status)
            res = max(float(raw.r_prim), float(raw.r_dual))
            ok = status in ("Solved", "AlmostSolved") and res <= RESIDUAL_TOL
            p, d = -float(raw.obj_val), -float(raw.obj_val_dual)  # cvxpy hands the solver min(-objective)
        else:
            status = str(raw["info"]["status"])
            res = max(float(raw["info"]["res_pri"]), float(raw["info"]["res_dual"]))
            ok = status.startswith("solved") and res <= RESIDUAL_TOL  # judged by residuals and gap, not by the label
            p, d = -float(raw["info"]["pobj"]), -float(raw["info"]["dobj"])
        gap = abs(p - d) / max(abs(p), abs(d), 1e-12)
        if ok and math.isfinite(p) and math.isfinite(d) and gap <= REL_GAP_TOL:
            label = name + (" " + json.dumps(opts, sort_keys=True) if opts else "")
            return Solve(max(p, d), p, d, gap, status, label, secs, dict(size, attempts=len(errors) + 1), residual=res)
        errors.append(f"{name}{opts or ''}: status {status!r}, primal {p:.6g}, dual {d:.6g}, relative gap {gap:.2e}, "
                      f"residual {res:.1e}")  # fmt: skip
    raise PEPError(
        "the performance-estimation program was not solved accurately (no bound is returned): " + "; ".join(errors)
    )


# ---------------------------------------------------------------------------------------------
# disk cache
# ---------------------------------------------------------------------------------------------
def cache_dir() -> Path:
    """``$RATEBENCH_PEP_CACHE``, else ``$XDG_CACHE_HOME/ratebench/pep`` (``~/.cache/ratebench/pep``)."""
    env = os.environ.get("RATEBENCH_PEP_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ratebench" / "pep"


def cache_key(inputs: dict) -> str:
    """SHA-256 of every input of a program (floats written exactly, W as its float64 bytes)."""
    h = hashlib.sha256()
    h.update(FORMAT_VERSION.encode())
    for k in sorted(inputs):
        v = inputs[k]
        if isinstance(v, np.ndarray):
            a = np.ascontiguousarray(v, dtype=np.float64)
            h.update(f"{k}:{a.shape}:".encode())
            h.update(a.tobytes())
        else:
            h.update(f"{k}={v!r};".encode())
    return h.hexdigest()


def cached(inputs: dict, compute, *, use_cache: bool = True, progress=None, label: str = "") -> Solve:
    """Read the program's :class:`Solve` from the disk cache, or compute and store it.

    ``progress``: None, or a callable receiving one dict per computed solve (``label``, ``value``,
    ``solver``, ``rel_gap``, ``seconds``, ``size``), as ``mixing.fastest_mixing(progress=)`` does;
    e.g. ``progress=print``. The same numbers are kept in every :class:`Solve`."""
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be None or a callable receiving one dict per solve (e.g. progress=print), "
                        f"got {progress!r}")  # fmt: skip
    key = cache_key(inputs)
    path = cache_dir() / f"{key}.json"
    if use_cache and path.exists():
        try:
            rec = json.loads(path.read_text())
            rec["cached"] = True
            return Solve(**rec)
        except (OSError, ValueError, TypeError):
            pass  # unreadable entry: recompute (and overwrite it)
    t0 = time.perf_counter()
    res = compute()
    if progress is not None:
        progress(dict(label=label, value=res.value, solver=res.solver, rel_gap=res.rel_gap,
                      seconds=time.perf_counter() - t0, size=res.size))  # fmt: skip
    if use_cache:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".tmp{os.getpid()}")
            rec = res.as_dict()
            rec["cached"] = False
            tmp.write_text(json.dumps(rec))
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only cache never stops a bound
    return res

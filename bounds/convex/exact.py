"""Exact asymptotic rate of a linear time-invariant method on a quadratic problem.

On a quadratic problem one step of EXTRA, NIDS, exact diffusion, gradient
tracking, DGD, MSDA, OPAPC or Chebyshev gossip is an *affine* map of the
state, ``s+ = J s + c``. Its linear part ``J`` (the iteration matrix) is
obtained exactly with ``jax.jacfwd`` of ``algo.step`` (fixed key) on the
flattened floating-point leaves of the state
(``jax.flatten_util.ravel_pytree``); non-floating leaves (flags, counters) are
held fixed. The Jacobian is taken after ``warmup`` steps so that special first
steps (EXTRA's, NIDS's) are behind.

Which eigenvalues count. ``J`` usually has eigenvalues equal to 1 that the run
never sees: EXTRA, NIDS and gradient tracking conserve sums (``1^T Y =
1^T grad F(X)`` for DIGing; ``1^T(X - X_prev) + alpha 1^T G_prev`` for EXTRA),
and their fixed points form an affine family of which the initialization
selects one. The spectral radius of ``J`` over *all* modes is then 1 and says
nothing. The rate a run actually exhibits is the spectral radius of ``J``
restricted to the smallest ``J``-invariant subspace containing its error.

How we identify it. (1) We use the one-step increment ``d = s_{m+1} - s_m``
(m = ``warmup``) rather than ``s_m - s*``: increments obey ``d_{k+1} = J d_k``
exactly, need no fixed point (not unique when sums are conserved, and not
``x*`` for DGD), and ``d = (J - I)(s_m - s_inf)`` has no component on the
conserved modes (``l^T d = 0`` for every conserved functional ``l``), so they
drop out without being named. (2) The smallest invariant subspace containing
``d`` is found with invariant subspaces of the real Schur form, not with
eigenvectors (which are ill-posed for repeated, clustered or defective
eigenvalues, e.g. critically damped heavy-ball or Chebyshev modes) and not
with a Krylov/Arnoldi basis (whose round-off grows with every step on these
non-normal matrices and re-creates the conserved modes as spurious Ritz
values): for a modulus level ``rho`` the Schur form is reordered (LAPACK
``dtrsen``) so the eigenvalues with ``|lambda| <= rho`` lead; ``d`` lies in
their invariant subspace iff its trailing Schur coordinates vanish (``<= tol
||d||``). Bisection over the distinct moduli gives the smallest such ``rho``
— the largest modulus among the excited modes, which is the exact asymptotic
rate: the trailing coordinate of that mode evolves exactly as ``lambda^k``.
Modes excited below ``tol`` relative (round-off level, invisible to any
float64 run as well) count as not excited.

Which modes a metric sees. With ``observe=metric`` the rate is further restricted to the modes
that metric reads. ADOM+ on a static network is the case that needs it: the consensus part of its
dual state drifts linearly (a Jordan block at 1, excited by the run), while ``x`` converges at the
next modulus, so the state rate is 1 and says nothing about ``dist_to_opt``. A modulus level ``rho``
is passed over when the modes above it are *unobservable* in the metric: reorder the Schur form so
they lead; their leading Schur vectors ``Q`` span their invariant subspace, and the metric is
evaluated after one step from the warm state ``s_m`` and from ``s_m + eps Q c`` for four random
unit ``c``. If ``C Q = 0`` for the linear read-out ``C`` the metric depends on (``x - x*``,
``X - mean X``, the increment), every such evaluation equals the base one to round-off, and the
modes are invisible at every later step, since ``J`` maps that subspace into itself. The test is a
ratio: the largest change over ``eps`` must be below ``1e-6`` of the change along random directions
of the whole state. The bisection is unchanged; a level is accepted when ``d`` lies in the faster
modes' subspace *or* the slower modes are unobservable (both monotone in ``rho``).

This is the rate at which the iterates converge to their limit: for exact
methods the limit is ``x*`` (so it is the asymptotic rate of
``trace.dist_to_opt``); for DGD it is DGD's biased fixed point.

The map must be affine: a random perturbation ``delta`` is checked to satisfy
``f(s + delta) - f(s) = J delta`` to ``affine_tol``; otherwise ``ValueError``
(e.g. a logistic problem, or a stochastic method with noise).

Works for state dimensions N (n * d * number of state arrays) up to a few
thousand: O(N^2) memory, one real Schur decomposition (O(N^3)) and about
log2(N) reorderings; N = 2000 takes tens of seconds on two cores.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import math

import numpy as np
import scipy.linalg
from jax.flatten_util import ravel_pytree
from scipy.linalg import lapack

__all__ = ["exact_rate", "exact_spectrum", "ExactSpectrum", "LinearModel"]

# Moduli closer than this (relative) are one level: a defective (Jordan) eigenvalue, e.g. a critically
# damped heavy-ball mode, is computed only to about sqrt(machine epsilon) = 1.5e-8, split into a pair,
# and a selection boundary between the two halves makes LAPACK's reordering fail (dtrsen info=1).
_MERGE = 1e-7


class ExactSpectrum(NamedTuple):
    """Spectral data of a method's iteration matrix on one instance.

    Attributes:
        rate: spectral radius of ``J`` on the smallest invariant subspace containing the run's
            increments (what a run sees).
        eigenvalues: (N,) complex eigenvalues of ``J`` (all modes).
        state_dim: dimension ``N`` of the flattened state.
        nonunit_rate: max ``|lambda|`` over the eigenvalues of ``J`` not within 1e-6 of 1
            (ignores excitation; for comparison).
        affine_residual: relative error of the affine check.
        weight: ``d``'s component (relative to ``||d||``) outside the invariant subspace of
            the modes faster than ``rate``: how strongly the slowest excited modes are excited.
        next_modulus: the largest eigenvalue modulus below ``rate`` (excited or not). A run in
            float64 (about 13 decades above round-off) shows ``rate`` only when
            ``weight * (rate / next_modulus)^k`` outgrows the faster modes within its range.
    """

    rate: float
    eigenvalues: np.ndarray
    state_dim: int
    nonunit_rate: float
    affine_residual: float
    weight: float
    next_modulus: float
    band_T: np.ndarray | None = None
    band_z: np.ndarray | None = None
    band_weight: float | None = None
    band_next_modulus: float | None = None
    model: "LinearModel | None" = None

    def shape(self, steps) -> np.ndarray:
        """``||T_b^k z_b|| / (rate^k ||z_b||)`` at ``steps``: the exact transient of the slowest modes.

        ``T_b`` is the trailing block of a real Schur form of ``J`` reordered so that the *band* of
        eigenvalues with modulus in ``[rate - 0.02 (1 - rate), rate]`` comes last, and ``z_b`` the
        trailing Schur coordinates of the run's increment. Trailing Schur coordinates evolve on
        their own, ``y_{k+1} = T_b y_k``, so this is exactly how the slowest modes' part of the
        error grows relative to ``rate^k`` (``k`` for a Jordan block of size 2, bounded for
        semisimple modes, a ``(1 - (r1/r2)^k)``-type transient for nearly equal roots), as a running
        maximum over ``steps`` (so the bounded oscillation of complex pairs is not divided out).
        """
        k = np.asarray(steps, dtype=np.int64)
        if self.band_T is None or self.rate <= 0.0 or not len(k):
            return np.ones(k.shape)
        M = self.band_T / self.rate
        z = self.band_z / np.linalg.norm(self.band_z)
        order = np.argsort(k)
        out = np.empty(len(k))
        cur, at = z, 0
        for i in order:
            step = int(max(k[i], 0))
            if step > at:
                cur = np.linalg.matrix_power(M, step - at) @ cur
                at = step
            out[i] = np.linalg.norm(cur)
        # running maximum over the given steps: keeps the polynomial (Jordan) growth and drops the
        # oscillation a non-normal 2x2 block (complex pair) adds to the norm, which the trace's
        # metric (another norm) does not share
        out[order] = np.maximum.accumulate(out[order])
        return out


def _step_at(step, key, state, t: int):
    """One step of a built kernel at step index ``t`` (kernels that do not read ``t`` ignore it)."""
    from algos._core import takes_step_index

    return step(key, state, t) if takes_step_index(step) else step(key, state)


#: Step indices (after the warm-up) at which a step that reads ``t`` is compared with the step at
#: ``t = warmup``: a time-varying step (a schedule, a periodic update, a hash-chosen sample) differs at
#: one of them, and then no single iteration matrix describes the run.
_TIME_PROBES = (1, 2, 3, 5, 1000)


def _partition(state):
    leaves, treedef = jax.tree_util.tree_flatten(state)
    inexact = tuple(bool(jnp.issubdtype(jnp.result_type(x), jnp.inexact)) for x in leaves)
    return leaves, treedef, inexact


@functools.partial(jax.jit, static_argnames=("build", "warmup"))
def _linearize(build, params, key, warmup: int):
    init, step = build(params)
    k_init, k_step, k_delta, k_other = jax.random.split(key, 4)
    s = init(k_init)
    for i in range(warmup):  # a small fixed number of steps, unrolled at trace time
        s, _ = _step_at(step, k_step, s, i)
    leaves, treedef, inexact = _partition(s)
    flat, unravel = ravel_pytree([x for x, m in zip(leaves, inexact) if m])

    def f(v):
        it = iter(unravel(v))
        full = [next(it) if m else x for x, m in zip(leaves, inexact)]
        s2, _ = _step_at(step, k_step, jax.tree_util.tree_unflatten(treedef, full), warmup)
        l2 = jax.tree_util.tree_leaves(s2)
        return ravel_pytree([x for x, m in zip(l2, inexact) if m])[0]

    J = jax.jacfwd(f)(flat)
    f0 = f(flat)
    delta = jax.random.normal(k_delta, flat.shape, flat.dtype) * (1.0 + jnp.abs(flat))
    f1 = f(flat + delta)
    affine_residual = jnp.linalg.norm(f1 - f0 - J @ delta) / (jnp.linalg.norm(J @ delta) + jnp.linalg.norm(delta))
    # a stochastic step (gradient noise) is affine for each fixed key, but its map changes with the key
    s_other, _ = _step_at(step, k_other, s, warmup)
    other = ravel_pytree([x for x, m in zip(jax.tree_util.tree_leaves(s_other), inexact) if m])[0]
    scale = jnp.linalg.norm(f0) + jnp.linalg.norm(flat) + 1e-300
    key_residual = jnp.linalg.norm(other - f0) / scale
    # a step that reads its index t must be the same map at every t (same key, same state)
    time_residual = jnp.zeros((), f0.dtype)
    for j in _TIME_PROBES:
        s_t, _ = _step_at(step, k_step, s, warmup + j)
        at_t = ravel_pytree([x for x, m in zip(jax.tree_util.tree_leaves(s_t), inexact) if m])[0]
        time_residual = jnp.maximum(time_residual, jnp.linalg.norm(at_t - f0) / scale)
    return J, flat, f0, affine_residual, key_residual, time_residual


def _tail_fraction(T, Z, d, select) -> float:
    """``||Z_tail^T d|| / ||d||`` after reordering the selected eigenvalues to the front."""
    k = int(select.sum())
    if k == len(select):
        return 0.0
    if k == 0:
        return 1.0
    _, qs, _, _, m, _, _, info = lapack.dtrsen(select.astype(np.int32), T, Z, job="N")
    if info == 1:
        # LAPACK could not swap two blocks: the eigenvalues on either side of this modulus level
        # are too close to separate (e.g. a numerically split Jordan block, as heavy-ball gossip
        # has at its extreme modes). They form one cluster, so ``d`` is not inside the subspace of
        # the lower part alone: report it as outside, and the bisection moves to the higher level.
        return 1.0
    if info != 0:
        raise np.linalg.LinAlgError(f"dtrsen failed to reorder the Schur form (info={info})")
    return float(np.linalg.norm(qs[:, int(m) :].T @ d) / np.linalg.norm(d))


def _in_invariant_subspace(T, Z, d, select, tol) -> bool:
    """Is ``d`` (numerically) inside the invariant subspace of the selected eigenvalues of ``J = Z T Z^T``?

    Reorders the real Schur form so the selected eigenvalues lead (LAPACK ``dtrsen``); the
    leading Schur vectors then span their invariant subspace and the trailing coordinates
    ``Z_tail^T d`` measure the distance of ``d`` from it.
    """
    return _tail_fraction(T, Z, d, select) <= tol


def _excited_rate(J: np.ndarray, d: np.ndarray, tol: float, unobservable=None) -> tuple[float, np.ndarray, float, float]:
    """Largest ``|lambda|`` among the eigenvalues of ``J`` whose modes ``d`` excites; and all eigenvalues.

    The smallest ``rho`` such that ``d`` lies in the invariant subspace of the eigenvalues
    with ``|lambda| <= rho`` is found by bisection over the distinct moduli (each test one
    Schur reordering). Working with invariant subspaces rather than eigenvectors keeps
    defective (Jordan) and clustered eigenvalues well posed. With ``unobservable`` (a test
    ``(T, Z, mod, rho) -> bool``: are the modes above ``rho`` invisible to the metric?) a level is
    also accepted when the modes above it cannot be seen.
    """
    T, Z = scipy.linalg.schur(J, output="real")
    # eigenvalues from the quasi-triangular form (2x2 blocks give conjugate pairs)
    eig = _schur_eigs(T)
    if not np.isfinite(d).all():
        return math.inf, eig, 1.0, 0.0
    if np.linalg.norm(d) == 0.0:
        return 0.0, eig, 0.0, 0.0
    mod = np.abs(eig)
    levels = np.unique(mod)
    # merge moduli equal to rounding (conjugate pairs, numerically split Jordan blocks)
    merged = [levels[0]]
    for v in levels[1:]:
        if v - merged[-1] > _MERGE * max(1.0, v):
            merged.append(v)
        else:
            merged[-1] = v
    levels = np.asarray(merged)
    lo, hi = -1, len(levels) - 1  # inside(levels[hi]) is True; find the smallest such index
    while hi - lo > 1:
        mid = (lo + hi) // 2
        rho = levels[mid]
        if _in_invariant_subspace(T, Z, d, _select(T, mod, rho), tol) or (
            unobservable is not None and unobservable(T, Z, mod, rho)
        ):
            hi = mid
        else:
            lo = mid
    rate = float(levels[hi])
    if hi == 0:
        return rate, eig, 1.0, 0.0
    # weight of the slowest excited modes: d's part outside the invariant subspace of all faster modes
    weight = _tail_fraction(T, Z, d, _select(T, mod, levels[hi - 1]))
    return rate, eig, weight, float(levels[hi - 1])


def _band(J: np.ndarray, d: np.ndarray, rate: float, band_tol: float = 0.02):
    """Trailing Schur block of the band ``rate - band_tol (1 - rate) <= |lambda| <= rate`` and ``d``'s
    coordinates in it; plus ``d``'s weight outside the faster modes and the next modulus below the band."""
    T, Z = scipy.linalg.schur(J, output="real")
    eig = _schur_eigs(T)
    mod = np.abs(eig)
    lo = rate - band_tol * (1.0 - rate)
    in_band = (mod >= lo * (1.0 - _MERGE)) & (mod <= rate * (1.0 + _MERGE) + 1e-300)
    lead = _select_mask(T, ~in_band)
    m = int(lead.sum())
    if m == len(lead):
        return None, None, 0.0, 0.0
    Ts, qs, _, _, mm, _, _, info = lapack.dtrsen(lead.astype(np.int32), T, Z, job="N")
    if info != 0:
        raise np.linalg.LinAlgError(f"dtrsen failed to reorder the Schur form (info={info})")
    mm = int(mm)
    Tb = np.array(Ts[mm:, mm:])
    zb = qs[:, mm:].T @ d
    below = mod[mod < lo * (1.0 - _MERGE)]
    next_mod = float(below.max()) if below.size else 0.0
    weight = float(np.linalg.norm(zb) / np.linalg.norm(d))
    return Tb, zb, weight, next_mod


def _select_mask(T: np.ndarray, sel: np.ndarray) -> np.ndarray:
    """``sel`` with 2x2 blocks (conjugate pairs) selected together."""
    sel = sel.copy()
    n = T.shape[0]
    i = 0
    while i < n:
        if i + 1 < n and T[i + 1, i] != 0.0:
            both = bool(sel[i] or sel[i + 1])
            sel[i] = sel[i + 1] = both
            i += 2
        else:
            i += 1
    return sel


def _schur_eigs(T: np.ndarray) -> np.ndarray:
    """Eigenvalues of a real quasi-upper-triangular ``T``, in diagonal order."""
    n = T.shape[0]
    out = np.empty(n, dtype=complex)
    i = 0
    while i < n:
        if i + 1 < n and T[i + 1, i] != 0.0:
            out[i : i + 2] = np.linalg.eigvals(T[i : i + 2, i : i + 2])
            i += 2
        else:
            out[i] = T[i, i]
            i += 1
    return out


def _select(T: np.ndarray, mod: np.ndarray, rho: float) -> np.ndarray:
    """Selection vector for ``dtrsen``: eigenvalues with ``|lambda| <= rho`` (pairs selected together)."""
    return _select_mask(T, mod <= rho * (1.0 + _MERGE) + 1e-300)


def exact_spectrum(algo, *, key=0, warmup: int = 2, tol: float = 1e-9, affine_tol: float = 1e-7,
                   require_deterministic: bool = False, observe: str | None = None) -> ExactSpectrum:  # fmt: skip
    """Iteration-matrix spectrum of ``algo`` on its (quadratic) problem; see the module docstring.

    Args:
        algo: an :class:`algos.Algorithm` built by a factory (needs ``build`` and ``params``).
        key: key or int seed for ``init``/``step`` (a fixed key; deterministic methods ignore it).
        warmup: steps taken before linearizing (past any special first step).
        tol: a mode counts as excited when ``d``'s component off the invariant subspace of the
            faster modes exceeds ``tol * ||d||``.
        affine_tol: maximal relative residual of the affine check.
        observe: a recorded metric (e.g. ``"dist_to_opt"``): the rate is then the largest modulus
            among the modes that are excited *and* seen by that metric (see the module docstring);
            ``None`` (default) gives the rate of the state.

    Raises:
        ValueError: if the step is not affine in the state (non-quadratic problem), or, with
            ``require_deterministic`` (what :func:`exact_rate` passes), depends on the random key
            (gradient noise: D-SGD on a problem with ``sigma > 0``; with a fixed key such a step is
            still affine, with the noise-free ``J``, which is what this function returns otherwise).
        TypeError: ``algo`` is not an :class:`algos.Algorithm`.
    """
    from algos import Algorithm

    if not isinstance(algo, Algorithm):
        raise TypeError(
            f"exact_rate expects an algos.Algorithm (algo), got {type(algo).__name__}; pass the run's algorithm, "
            "e.g. bounds.exact_rate(algos.extra(p, W, step_size=0.05))"
        )
    if algo.build is None:
        raise ValueError("algo has no build function; create algorithms with their factory (e.g. algos.extra)")
    if isinstance(key, (int, np.integer)):
        key = jax.random.PRNGKey(int(key))
    # linearized in float64 whatever the run's precision: a float32 Jacobian is known to ~1e-7 only,
    # which blurs the modes near 1 that set the rate (measured: EXTRA's float32 exact rate came out 1.000000)
    with jax.enable_x64(True):
        params64 = jax.tree_util.tree_map(
            lambda x: x.astype(jnp.float64) if hasattr(x, "dtype") and jnp.issubdtype(x.dtype, jnp.floating) else x,
            algo.params,
        )
        J, s, f_s, resid, key_resid, time_resid = _linearize(algo.build, params64, key, int(warmup))
        J, s, f_s, resid, key_resid = (np.asarray(J, dtype=np.float64), np.asarray(s, dtype=np.float64),
                                       np.asarray(f_s, dtype=np.float64), float(resid), float(key_resid))  # fmt: skip
        time_resid = float(time_resid)
    J = np.asarray(J, dtype=np.float64)
    resid = float(resid)
    if require_deterministic and not float(key_resid) <= affine_tol:
        sigma = getattr((algo.params or {}).get("problem"), "sigma", None)
        raise ValueError(
            f"exact_rate: one step of {algo.name!r} depends on its random key (relative change {float(key_resid):.3g} "
            f"between two keys): the method is stochastic (gradient noise, problem sigma = {sigma}), and the exact rate "
            "is defined for deterministic linear methods; use a noise-free problem (sigma=0) for the rate of the mean "
            "recursion, or judge the noisy runs with an expectation bound"
        )
    if not time_resid <= affine_tol:
        raise ValueError(
            f"exact_rate: one step of {algo.name!r} is time-varying: from the same state and key it depends on the step "
            f"index t (relative change {time_resid:.3g} between t = {int(warmup)} and later t), e.g. a sample chosen by "
            "round (algos.modest with sample_size < n) or a periodic update (local_sgd's delayed_nesterov); no single "
            "iteration matrix describes the run, so there is no exact rate: use a time-invariant configuration"
        )
    if not resid <= affine_tol:
        raise ValueError(
            f"exact_rate: one step of {algo.name!r} is not affine in its state (relative residual {resid:.3g}); "
            "the exact rate is defined for linear methods on quadratic problems without gradient noise"
        )
    if not np.isfinite(J).all():
        raise ValueError(f"exact_rate: the iteration matrix of {algo.name!r} has non-finite entries")
    d = np.asarray(f_s, dtype=np.float64) - np.asarray(s, dtype=np.float64)
    unobservable = _Unobservable(algo, key, int(warmup), observe, d, tol) if observe is not None else None
    rate, eig, weight, next_mod = _excited_rate(J, d, tol, unobservable)
    keep = np.abs(eig - 1.0) > 1e-6
    nonunit = float(np.max(np.abs(eig[keep]))) if keep.any() else 0.0
    Tb = zb = bw = bn = None
    if 0.0 < rate < 1.0 and np.linalg.norm(d) > 0:
        Tb, zb, bw, bn = _band(J, d, rate)
    model = LinearModel(algo, key, warmup, J, d, rate) if 0.0 < rate < 1.0 and np.linalg.norm(d) > 0 else None
    return ExactSpectrum(rate, eig, int(J.shape[0]), nonunit, resid, weight, next_mod, Tb, zb, bw, bn, model)


def exact_rate(algo, *, key=0, warmup: int = 2, tol: float = 1e-9) -> float:
    """Exact asymptotic rate of ``algo`` on a quadratic problem (per step).

    The spectral radius of the method's iteration matrix restricted to the
    smallest invariant subspace containing the run's error (conserved modes
    excluded); see the module docstring.

    Example:
        >>> p = convex.quadratic(16, 5, L=10.0, mu=1.0, key=0)
        >>> W = mixing.metropolis(graphs.ring(16))
        >>> r_star = exact_rate(algos.extra(p, W, step_size=0.05))

    Raises:
        ValueError: the step is not affine in the state (a non-quadratic problem), or it is
            stochastic (depends on its random key: D-SGD on a problem with ``sigma > 0``), where no
            exact rate of the run exists.
        TypeError: ``algo`` is not an :class:`algos.Algorithm`.
    """
    return exact_spectrum(algo, key=key, warmup=warmup, tol=tol, require_deterministic=True).rate


# --- the run's exact linear recursion, for the instance check -----------------------------------
@functools.partial(jax.jit, static_argnames=("build", "warmup"))
def _warm_state(build, params, key, warmup: int):
    """The state after ``warmup`` steps, exactly as :func:`_linearize` reaches it."""
    init, step = build(params)
    k_init, k_step, _ = jax.random.split(key, 3)
    s = init(k_init)
    for i in range(warmup):
        s, _ = _step_at(step, k_step, s, i)
    return s


def _unflatten(flat, others, treedef, inexact, shapes):
    """A state from its flat floating-point leaves ``flat`` and its other leaves ``others``."""
    offsets = np.cumsum([0] + [math.prod(s) for s in shapes])
    it = iter(others)
    leaves, j = [], 0
    for m in inexact:
        if m:
            leaves.append(flat[offsets[j] : offsets[j + 1]].reshape(shapes[j]))
            j += 1
        else:
            leaves.append(next(it))
    return jax.tree_util.tree_unflatten(treedef, leaves)


def _flatten(state, inexact):
    leaves = jax.tree_util.tree_leaves(state)
    return jnp.concatenate([jnp.ravel(x) for x, m in zip(leaves, inexact) if m])


@functools.partial(jax.jit, static_argnames=("build", "metrics", "metric", "treedef", "inexact", "shapes"))
def _predicted_records(build, metrics, metric, treedef, inexact, shapes, params, key, others, flats):
    """The recorded ``metric`` after one step from each of the states ``flats`` (B, N), as the engine
    records it: the family's instant metrics of the new state plus the scalar ``Info`` fields."""
    _, step = build(params)
    _, k_step, _ = jax.random.split(key, 3)

    def one(flat):
        # the step is time-invariant (checked by exact_spectrum): any index gives the same map
        s2, info = _step_at(step, k_step, _unflatten(flat, others, treedef, inexact, shapes), 0)
        rec = {}
        if metrics is not None:
            rec.update(metrics.evaluate(params, s2, info))
        if hasattr(info, "_asdict"):
            rec.update({k: v for k, v in info._asdict().items() if k != "cost" and jnp.ndim(v) == 0})
        return jnp.asarray(rec[metric], flat.dtype)

    return jax.vmap(one)(flats)


def _spectral_part(Ts: np.ndarray, qs: np.ndarray, m: int, d: np.ndarray, strict: bool = False):
    """Coordinates in ``qs[:, :m]`` of ``d``'s part on the invariant subspace of the leading ``m``
    Schur modes, along the invariant subspace of the others (``T11 X - X T22 = -T12``; then
    ``Q1 X + Q2`` spans the latter). Equals ``Q1^T d`` when ``d`` has no part on the trailing modes
    (conserved sums); differs when it has (a Jordan block at 1 that the run drifts along, ADOM+).
    With ``strict``, returns ``None`` instead of falling back when the two groups are too close to
    separate (the Sylvester solution is non-finite or above 1e8); otherwise falls back to ``Q1^T d``."""
    y = qs.T @ d
    if m == len(y):
        return y
    X = scipy.linalg.solve_sylvester(Ts[:m, :m], -Ts[m:, m:], -Ts[:m, m:])
    if not np.isfinite(X).all() or np.abs(X).max() > 1e8:
        return None if strict else y[:m]
    return y[:m] - X @ y[m:]


class _WarmState:
    """The warm state ``s_m`` split as :func:`_linearize` splits it: flat floating leaves and the rest."""

    def __init__(self, algo, key, warmup: int):
        s = _warm_state(algo.build, algo.params, key, int(warmup))
        leaves, treedef, inexact = _partition(s)
        self.treedef, self.inexact = treedef, inexact
        self.shapes = tuple(tuple(np.shape(x)) for x, m in zip(leaves, inexact) if m)
        self.others = tuple(x for x, m in zip(leaves, inexact) if not m)
        self.dtype = np.result_type(*[np.asarray(x).dtype for x, m in zip(leaves, inexact) if m])
        self.flat = np.concatenate([np.asarray(x, dtype=np.float64).ravel() for x, m in zip(leaves, inexact) if m])

    def record_names(self, algo, key) -> set:
        """The scalar fields the engine records after one step (the family's instant metrics and
        the scalar ``Info`` fields), found by abstract evaluation."""
        _, step = algo.build(algo.params)
        _, k_step, _ = jax.random.split(key, 3)
        state = _unflatten(jnp.asarray(self.flat, self.dtype), self.others, self.treedef, self.inexact, self.shapes)

        def names(s):
            s2, info = _step_at(step, k_step, s, 0)
            rec = {}
            if algo.metrics is not None:
                rec.update(algo.metrics.evaluate(algo.params, s2, info))
            if hasattr(info, "_asdict"):
                rec.update({k: v for k, v in info._asdict().items() if k != "cost"})
            return rec

        shapes = jax.eval_shape(names, state)
        return {k for k, v in shapes.items() if len(v.shape) == 0}

    def records(self, algo, key, metric: str, flats: np.ndarray) -> np.ndarray:
        # The batch is padded (with copies of its first row) to a power of two, at least 8, so that
        # the few batch sizes one instance check asks for share compiled programs: each new size was
        # a fresh XLA compile (0.1-0.4 s; 5 of the 36 compiles of bounds.instance on OPAPC, 9 nodes).
        flats = np.atleast_2d(np.asarray(flats))
        b = len(flats)
        size = max(8, 1 << max(b - 1, 0).bit_length())
        if size > b:
            flats = np.concatenate([flats, np.repeat(flats[:1], size - b, axis=0)])
        vals = _predicted_records(
            algo.build, algo.metrics, metric, self.treedef, self.inexact, self.shapes,
            algo.params, key, self.others, jnp.asarray(flats, dtype=self.dtype),
        )  # fmt: skip
        return np.asarray(vals, dtype=np.float64)[:b]


class _Unobservable:
    """``(T, Z, mod, rho) -> bool``: is ``metric`` blind to the run's modes of ``J = Z T Z^T`` above ``rho``?

    The metric's read-out ``y`` of the state moves by ``C J^k d`` per step, so the part of the
    increment ``d`` on the modes above ``rho`` is invisible when ``C`` vanishes on the smallest
    invariant subspace containing it. With the Schur form reordered so those modes lead
    (``T = [[T11, T12], [0, T22]]``), that part is ``Q1 z``, ``z = y1 - X y2`` with ``y = Q^T d`` and
    ``T11 X - X T22 = -T12`` (``Q1 X + Q2`` spans the faster modes' subspace), and the subspace is
    the Krylov space of ``T11`` at ``z``. The metric is evaluated after one step from ``s_m`` and
    from ``s_m + eps Q1 v`` for each normalized Krylov vector ``v``; it is blind when the largest
    change over ``eps`` is below ``RATIO`` of the change along four random directions of the whole state.
    """

    PROBES = 4
    RATIO = 1e-6
    MAX_KRYLOV = 256

    def __init__(self, algo, key, warmup: int, metric: str, d: np.ndarray, tol: float):
        self.algo, self.key, self.metric, self.d, self.tol = algo, key, metric, d, tol
        self.warm = _WarmState(algo, key, warmup)
        names = self.warm.record_names(algo, key)
        if metric not in names:
            raise ValueError(f"exact_spectrum: observe={metric!r} is not a scalar metric that algos.{algo.name} records; "
                             f"pass one of {sorted(names)}")  # fmt: skip
        base = self.warm.flat
        self.eps = 1e-3 * max(float(np.linalg.norm(base)), 1.0)
        probe = np.random.default_rng(0).standard_normal((self.PROBES, len(base)))
        probe /= np.linalg.norm(probe, axis=1, keepdims=True)
        vals = self._records(np.vstack([base[None, :], base + self.eps * probe]))
        self.base = vals[0]
        self.scale = float(np.max(np.abs(vals[1:] - vals[0]))) / self.eps

    def _records(self, flats):
        return self.warm.records(self.algo, self.key, self.metric, flats)

    def __call__(self, T, Z, mod, rho) -> bool:
        slow = _select_mask(T, ~(mod <= rho * (1.0 + _MERGE) + 1e-300))
        m = int(slow.sum())
        if m == 0:
            return True
        Ts, qs, _, _, mm, _, _, info = lapack.dtrsen(slow.astype(np.int32), T, Z, job="N")
        if info != 0:
            return False  # the level cannot be separated from the modes below it: treat as seen
        m = int(mm)
        z = _spectral_part(Ts, qs, m, self.d, strict=True)
        if z is None:
            return False  # ill-separated levels: the projection is not reliable, treat as seen
        if np.linalg.norm(z) <= self.tol * np.linalg.norm(self.d):
            return True  # those modes are not excited
        if m > self.MAX_KRYLOV:
            return False  # too many probes: count the modes as seen (the state's rate, as without observe)
        vs, v = [], z
        for _ in range(m):
            v = v / np.linalg.norm(v)
            vs.append(v)
            v = Ts[:m, :m] @ v
            if not np.linalg.norm(v) > 0:
                break
        dirs = np.asarray(vs) @ qs[:, :m].T
        vals = self._records(self.warm.flat + self.eps * dirs)
        change = float(np.max(np.abs(vals - self.base))) / self.eps
        return bool(np.isfinite(change)) and change <= self.RATIO * self.scale


class LinearModel:
    """The exact linear recursion a run of a linear method follows: ``s_k = s_inf + J^(k-m) e_m``.

    ``m`` is ``warmup``; ``e_m = s_m - s_inf`` is recovered from the increment ``d = (J - I) e_m``
    on the invariant subspace of the non-unit modes (real Schur form reordered so those lead:
    ``J = Q1 T11 Q1^T`` there, and ``e_m = Q1 (T11 - I)^{-1} Q1^T d``). Conserved (unit) modes
    stay as the run's state has them. The predicted limit is accurate to about
    ``eps cond(T11 - I)``; :meth:`floor` is what the metric reads there, and predictions within
    1e4 of it are not used. :meth:`records` evaluates what the engine records on the
    predicted states, so the instance check compares a run with its own exact recursion, faster
    modes, Jordan blocks and the beating of complex pairs included, instead of with ``r*^k``
    alone (which a finite fit window biases: MSDA at kappa = 300 on a 16-ring fits 3% of the gap
    slower than ``r*`` on the exact recursion itself, measured).
    """

    def __init__(self, algo, key, warmup: int, J: np.ndarray, d: np.ndarray, rate: float):
        self.algo, self.key, self.warmup, self.rate = algo, key, int(warmup), float(rate)
        warm = _WarmState(algo, key, int(warmup))
        self._warm = warm
        flat = warm.flat
        T, Z = scipy.linalg.schur(J, output="real")
        eig = _schur_eigs(T)
        lead = _select_mask(T, np.abs(eig - 1.0) > 1e-6)
        Ts, qs, _, _, mm, _, _, info = lapack.dtrsen(lead.astype(np.int32), T, Z, job="N")
        if info != 0:
            raise np.linalg.LinAlgError(f"dtrsen failed to reorder the Schur form (info={info})")
        mm = int(mm)
        self._Q1, T11 = qs[:, :mm], np.array(Ts[:mm, :mm])
        y0 = np.linalg.solve(T11 - np.eye(mm), _spectral_part(Ts, qs, mm, d))
        # The solve is ill-conditioned on non-normal iteration matrices (cond(T11 - I) = 5.5e7 for
        # NIDS at kappa = 1000 on a 16-ring): the predicted limit then misses the run's by ~1e-8
        # relative, through its conserved components (iterating the method's own step from it
        # does not remove that). :meth:`floor` measures it; :meth:`shape` is NaN below 1e4 times it.
        s_inf = flat - self._Q1 @ y0
        self._s_inf = s_inf
        self._M = T11 / self.rate if self.rate > 0 else T11
        self._y0 = y0
        self._powers: dict[int, np.ndarray] = {}
        self._floors: dict[str, float] = {}

    def _power(self, k: int) -> np.ndarray:
        if k not in self._powers:
            if len(self._powers) > 64:
                self._powers.clear()
            self._powers[k] = np.linalg.matrix_power(self._M, k)
        return self._powers[k]

    def states(self, steps) -> np.ndarray:
        """Predicted flat states after ``steps`` steps (each ``>= warmup``), shape (len(steps), N)."""
        k = np.asarray(steps, dtype=np.int64)
        out = np.empty((len(k), len(self._s_inf)))
        order = np.argsort(k)
        cur, at = self._y0, self.warmup
        for i in order:
            step = int(k[i])
            if step < self.warmup:
                raise ValueError(f"the linear model starts after the warm-up ({self.warmup} steps); got step {step}")
            cur = self._power(step - at) @ cur
            at = step
            scale = self.rate ** (step - self.warmup) if self.rate > 0 else 1.0
            out[i] = self._s_inf + scale * (self._Q1 @ cur)
        return out

    def records(self, steps, metric: str) -> np.ndarray:
        """What a run records for ``metric`` after each of ``steps`` steps (each ``> warmup``), predicted."""
        k = np.asarray(steps, dtype=np.int64)
        return self._warm.records(self.algo, self.key, metric, self.states(k - 1))

    def floor(self, metric: str) -> float:
        """The metric at the predicted limit: the model's accuracy floor (0 for an exact limit)."""
        if metric not in self._floors:
            self._floors[metric] = abs(float(self._warm.records(self.algo, self.key, metric, self._s_inf[None, :])[0]))
        return self._floors[metric]

    def shape(self, steps, metric: str, margin: float = 1e4) -> np.ndarray:
        """``records(steps) / rate^steps``: the exact transient around the asymptotic rate; NaN at
        steps the model does not cover (``<= warmup``) and where the prediction is within
        ``margin`` of :meth:`floor` (there the predicted limit's error shows)."""
        k = np.asarray(steps, dtype=np.int64)
        out = np.full(len(k), np.nan)
        ok = k > self.warmup
        if ok.any():
            rec = self.records(k[ok], metric)
            rec = np.where(rec > margin * self.floor(metric), rec, np.nan)
            with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
                out[ok] = rec / (self.rate ** (k[ok].astype(np.float64)) if self.rate > 0 else 1.0)
        return out

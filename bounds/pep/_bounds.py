"""``bounds.pep.<method>``: the certified worst case as a :class:`bounds.Bound` (``kind="computed"``).

See :mod:`bounds.pep` for the function class, initial conditions, measure, tightness and solver.
"""

from __future__ import annotations

import math

import numpy as np

from algos.consensus.gossip import gossip as _gossip_algo
from algos.convex.dgd import dgd as _dgd_algo
from algos.convex.exact_diffusion import exact_diffusion as _ed_algo
from algos.convex.extra import extra as _extra_algo
from algos.convex.gradient_tracking import gradient_tracking as _gt_algo
from algos.convex.nids import nids as _nids_algo
from bounds._args import as_algorithm, dense_W, hp, spectrum_of
from bounds._check import Bound, signature

__all__ = ["dgd", "extra", "nids", "exact_diffusion", "gradient_tracking", "gossip"]

_FACTORIES = {
    "dgd": _dgd_algo,
    "extra": _extra_algo,
    "nids": _nids_algo,
    "exact_diffusion": _ed_algo,
    "gradient_tracking": _gt_algo,
}

_SOURCE = (
    "certified worst case by performance estimation (ratebench's cvxpy formulation of Colla & Hendrickx, "
    "'Automatic Performance Estimation for Decentralized Optimization', IEEE TAC 2023, arXiv:2203.05963, and "
    "arXiv:2403.11724 for the agent-symmetric spectral class; F_{mu,L} interpolation: Taylor, Hendrickx & Glineur, "
    "Math. Program. 2017, Thm. 4); docs/VERIFICATION.md, 'Performance estimation'"
)


def _envelope_from(values: np.ndarray, relative: bool):
    vals = np.asarray(values, dtype=np.float64).copy()
    K = len(vals) - 1

    def envelope(k, ref, vals=vals, K=K):
        k = np.asarray(k, dtype=np.float64)
        idx = np.rint(k).astype(np.int64)
        ok = (idx >= 0) & (idx <= K) & (np.abs(k - idx) < 1e-9)
        out = np.where(ok, vals[np.clip(idx, 0, K)], np.inf)
        return out * ref if relative else out

    return envelope


def _in_class(algo, eigenvalues) -> bool:
    lam2, lamn, _ = spectrum_of(algo)
    lo, hi = (float(v) for v in eigenvalues)
    W = dense_W(algo)
    sym = bool(np.allclose(W, W.T, atol=1e-12))
    return sym and lo - 1e-12 <= lamn and lam2 <= hi + 1e-12


def _convex_bound(method, problem_or_algo, W, step_size, *, horizon, eigenvalues, x0, L, mu, use_cache, progress):
    from bounds import pep

    algo = as_algorithm(method, _FACTORIES[method], problem_or_algo, W, step_size=step_size, x0=x0)
    p = algo.params["problem"]
    alpha = hp(algo, "step_size")
    if alpha is None:
        raise ValueError(f"bounds.pep.{method} needs a concrete step size (the algorithm's is traced)")
    L_ = float(p.L) if L is None else float(L)
    mu_ = float(p.mu) if mu is None else float(mu)
    X0 = np.asarray(algo.params["x0"], dtype=np.float64)
    xs = np.asarray(p.x_star, dtype=np.float64)
    R0 = float(np.sqrt(np.mean(np.sum((X0 - xs) ** 2, axis=1))))
    equal_start = bool(np.all(X0 == X0[0]))
    zeta = float(p.zeta)
    Wd = dense_W(algo)
    net = {"eigenvalues": tuple(float(v) for v in eigenvalues)} if eigenvalues is not None else {"W": Wd}
    wc = pep.worst_case(method, horizon=horizon, step_size=alpha, L=L_, mu=mu_, R0=R0, zeta=zeta,
                        equal_start=equal_start, use_cache=use_cache, progress=progress, **net)  # fmt: skip
    conditions = {"0 < mu < L": 0.0 < mu_ < L_}
    if eigenvalues is not None:
        conditions["W is symmetric with non-unit eigenvalues in the class's interval"] = _in_class(algo, eigenvalues)
    lam2, lamn, slem = spectrum_of(algo)
    network = (f"spectral class [{net['eigenvalues'][0]:.6g}, {net['eigenvalues'][1]:.6g}]"
               if eigenvalues is not None else f"fixed W (n = {Wd.shape[0]})")  # fmt: skip
    return Bound(
        name=f"pep_{method}",
        method=method,
        kind="computed",
        source=_SOURCE,
        metric="dist_to_opt",
        x_axis="steps",
        rate=wc.rate() if horizon > 0 else None,
        envelope=_envelope_from(wc.values, relative=False),
        ref_step=0,
        scale=float(np.linalg.norm(X0) / math.sqrt(X0.shape[0]) + np.linalg.norm(xs)),
        signature=signature(p, Wd),
        hparams={"step_size": alpha},
        conditions=conditions,
        params={
            "horizon": horizon, "network": network, "L": L_, "mu": mu_, "step_size": alpha, "R0": R0,
            "zeta": zeta, "equal_start": equal_start, "worst_case": wc.values.tolist(),
            "class_contains_problem": bool(L_ >= float(p.L) and mu_ <= float(p.mu)),
            "solves": [s.as_dict() for s in wc.solves], "solve_seconds": wc.seconds,
            "lambda_2": lam2, "lambda_n": lamn, "beta": slem,
        },  # fmt: skip
        notes=(
            f"worst case of dist_to_opt = (1/n) sum_i ||x_i^k - x*|| over every L-smooth mu-strongly convex local "
            f"functions, {network}, from (1/n) sum_i ||x_i^0 - x*||^2 <= R0^2"
            f"{' (equal starts)' if equal_start else ''} and (1/n) sum_i ||grad f_i(x*)||^2 <= zeta^2; "
            f"envelope for k = 0..{horizon} (+inf after: not judged); rate = (envelope_K / envelope_0)^(1/K) is "
            "information, not a per-step guarantee"
        ),
    )


def _doc(method):
    return f"""Certified worst case of ``algos.{method}`` for ``k = 0..horizon`` (``kind="computed"``).

    Args:
        problem_or_algo: the run's :class:`algos.Algorithm`, or the problem (then ``W``, ``step_size``, ``x0``
            as in :func:`algos.{method}`).
        horizon: ``K``; the envelope is stated for ``k = 0..K`` (``+inf`` after).
        eigenvalues: ``(lo, hi)`` for the spectral class (upper bound over every symmetric ``W`` with
            ``W 1 = 1`` and non-unit eigenvalues in ``[lo, hi]``); default: the algorithm's fixed ``W``
            (exact worst case; ``n <= 16``). The condition "W in the class" is checked.
        L, mu: the class's constants (default the problem's; passing other values states the bound for
            that class, e.g. a deliberately understated ``L``).
        use_cache, progress: disk cache of the solves; ``progress``: None or a callable receiving one dict per solve (e.g. ``print``).

    Returns:
        ``Bound(kind="computed", metric="dist_to_opt")`` with an absolute envelope (the initial distance
        ``R0`` and heterogeneity ``zeta`` are the algorithm's and problem's, not the run's);
        ``params["solves"]`` holds each solve's status, duality gap, time and size.

    Raises:
        bounds.pep.PEPError: a solve was not accurate (no bound is returned).
    """


def dgd(problem_or_algo, W=None, step_size=None, *, horizon, eigenvalues=None, x0=None, L=None, mu=None,
        use_cache=True, progress=None) -> Bound:  # fmt: skip
    return _convex_bound("dgd", problem_or_algo, W, step_size, horizon=horizon, eigenvalues=eigenvalues, x0=x0,
                         L=L, mu=mu, use_cache=use_cache, progress=progress)  # fmt: skip


def extra(problem_or_algo, W=None, step_size=None, *, horizon, eigenvalues=None, x0=None, L=None, mu=None,
          use_cache=True, progress=None) -> Bound:  # fmt: skip
    return _convex_bound("extra", problem_or_algo, W, step_size, horizon=horizon, eigenvalues=eigenvalues, x0=x0,
                         L=L, mu=mu, use_cache=use_cache, progress=progress)  # fmt: skip


def nids(problem_or_algo, W=None, step_size=None, *, horizon, eigenvalues=None, x0=None, L=None, mu=None,
         use_cache=True, progress=None) -> Bound:  # fmt: skip
    return _convex_bound("nids", problem_or_algo, W, step_size, horizon=horizon, eigenvalues=eigenvalues, x0=x0,
                         L=L, mu=mu, use_cache=use_cache, progress=progress)  # fmt: skip


def exact_diffusion(problem_or_algo, W=None, step_size=None, *, horizon, eigenvalues=None, x0=None, L=None,
                    mu=None, use_cache=True, progress=None) -> Bound:  # fmt: skip
    return _convex_bound("exact_diffusion", problem_or_algo, W, step_size, horizon=horizon, eigenvalues=eigenvalues,
                         x0=x0, L=L, mu=mu, use_cache=use_cache, progress=progress)  # fmt: skip


def gradient_tracking(problem_or_algo, W=None, step_size=None, *, horizon, eigenvalues=None, x0=None, L=None,
                      mu=None, use_cache=True, progress=None) -> Bound:  # fmt: skip
    return _convex_bound("gradient_tracking", problem_or_algo, W, step_size, horizon=horizon,
                         eigenvalues=eigenvalues, x0=x0, L=L, mu=mu, use_cache=use_cache, progress=progress)  # fmt: skip


for _f in (dgd, extra, nids, exact_diffusion, gradient_tracking):
    _f.__doc__ = _doc(_f.__name__)


def gossip(problem_or_algo, W=None, *, horizon, eigenvalues=None, x0=None, use_cache=True, progress=None) -> Bound:
    """Certified worst case of plain gossip's ``consensus_error`` for ``k = 0..horizon``, relative to step 0.

    No function class: the program maximizes ``consensus_error_k`` over starts with
    ``consensus_error_0 <= 1`` (fixed ``W``: its value is ``slem(W)^k``, the classical tight bound, which
    tests/bounds/test_pep.py checks) or over the spectral class ``eigenvalues=(lo, hi)`` (value
    ``max(|lo|, |hi|)^k``). Envelope ``worst_case_k * ref`` with ``ref`` the run's ``consensus_error_0``.
    """
    from bounds import pep

    algo = as_algorithm("gossip", _gossip_algo, problem_or_algo, W, x0=x0)
    p = algo.params["problem"]
    Wd = dense_W(algo)
    net = {"eigenvalues": tuple(float(v) for v in eigenvalues)} if eigenvalues is not None else {"W": Wd}
    wc = pep.worst_case("gossip", horizon=horizon, R0=1.0, use_cache=use_cache, progress=progress, **net)
    conditions = {}
    if eigenvalues is not None:
        conditions["W is symmetric with non-unit eigenvalues in the class's interval"] = _in_class(algo, eigenvalues)
    return Bound(
        name="pep_gossip",
        method="gossip",
        kind="computed",
        source=_SOURCE,
        metric="consensus_error",
        x_axis="steps",
        rate=wc.rate() if horizon > 0 else None,
        envelope=_envelope_from(wc.values, relative=True),
        shift_invariant=False,
        signature=signature(p, Wd),
        conditions=conditions,
        params={"horizon": horizon, "worst_case": wc.values.tolist(), "solves": [s.as_dict() for s in wc.solves],
                "solve_seconds": wc.seconds},  # fmt: skip
        notes=f"relative envelope for k = 0..{horizon} (+inf after: not judged)",
    )

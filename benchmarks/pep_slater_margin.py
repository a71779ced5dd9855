"""Slater margins of the spectral-class PEP programs: how close every feasible point is to the PSD cone's boundary.

Usage::

    python benchmarks/pep_slater_margin.py [--method gradient_tracking] [--k 4] [--alpha 0.0444 0.2 0.8]

For the ``worst-case`` figure's normalized class (mu / L = 0.15665, zeta / (L R0) = 0.96991, Metropolis
4-ring spectrum [-1/3, 1/3], equal start), each step ``alpha`` (``alpha L``) and both formulations
(``reduced=False``: the earlier one; ``reduced=True``: the current one), the program's constraints are
kept and the objective is replaced by ``max t`` with, in turn:

* ``all``: every inequality with margin ``t`` and every PSD block ``>= t I``;
* ``dev``: the deviation Gram ``G_D >= t I`` (other constraints as they are);
* ``lmi``: the spectral LMI ``>= t I``.

``t = 0`` (to solver accuracy, ~1e-8) means no strictly feasible point: every feasible point lies on a
proper face of the cone (docs/VERIFICATION.md section 12, "Conditioning"); ``nan``: Clarabel failed on the
margin program. Prints one line per case.
"""

from __future__ import annotations

import argparse

MU, ZETA, LO, HI = 0.15665382264642636, 0.9699145477772974, -1.0 / 3.0, 1.0 / 3.0


def margins(method, k, alpha, reduced):
    import cvxpy as cp
    import numpy as np

    from bounds.pep import _program, _solve_k

    captured = {}

    def capture(prob, size, solver):
        captured["prob"] = prob
        raise _program.PEPError("captured (not solved)")

    real, _program._solve = _program._solve, capture
    try:
        _solve_k(method, k, {"method": method, "measure": "dist_to_opt", "mu": MU, "alpha": alpha, "R": 1.0,
                             "zeta": ZETA, "equal_start": True}, {"lo": LO, "hi": HI}, reduced=reduced)  # fmt: skip
    except _program.PEPError:
        pass
    finally:
        _program._solve = real
    prob = captured["prob"]
    psd_vars = [v for v in prob.variables() if v.attributes.get("PSD")]
    out = {}
    for which in ("all", "dev", "lmi"):
        t = cp.Variable()
        cons = []
        for c in prob.constraints:
            if isinstance(c, cp.constraints.Inequality) and which == "all":
                cons.append(c.expr + t <= 0)
            elif isinstance(c, cp.constraints.PSD) and which in ("all", "lmi"):
                cons.append(c.expr - t * np.eye(c.expr.shape[0]) >> 0)
            else:
                cons.append(c)
        if which == "lmi" and not reduced:  # the earlier form puts the LMI on an auxiliary PSD variable
            cons += [v - t * np.eye(v.shape[0]) >> 0 for v in psd_vars[2:]]
        blocks = psd_vars if which == "all" else (psd_vars[1:2] if which == "dev" else [])
        cons += [v - t * np.eye(v.shape[0]) >> 0 for v in blocks]
        p = cp.Problem(cp.Maximize(t), cons + [t <= 1])
        try:
            p.solve(solver=cp.CLARABEL)
            out[which] = float(t.value) if t.value is not None else float("nan")
        except cp.error.SolverError:  # the margin program can be as ill-posed as the program itself
            out[which] = float("nan")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--method", default="gradient_tracking")
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument("--alpha", type=float, nargs="+", default=[0.2 * 0.22222222222222243, 0.2, 0.8])
    args = ap.parse_args(argv)
    for alpha in args.alpha:
        for reduced in (False, True):
            m = margins(args.method, args.k, alpha, reduced)
            print(f"{args.method} k={args.k} alpha L={alpha:.4g} {'reduced' if reduced else 'earlier'}: "
                  + ", ".join(f"{w} {v:.2e}" for w, v in m.items()), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()

"""Figure ``worst-case``: certified worst-case rates (performance estimation) versus the step size.

For EXTRA, NIDS, DIGing gradient tracking and DGD, on a ring and on a random geometric graph
(Metropolis weights), at a grid of step sizes (fractions of each method's stability limit on this
network), four rates per step:

* the PEP worst case for this fixed ``W`` (``bounds.pep.<method>(algo, horizon=K)``) as the
  ``K``-step average rate ``(w_K / w_0)^(1/K)``;
* the PEP worst case over the spectral class ``[lambda_n(W), lambda_2(W)]`` (same form);
* the exact asymptotic rate on a quadratic instance of the class (``bounds.exact_rate``; spectra
  exactly ``[mu, L]``);
* the empirical asymptotic rate on a logistic instance (``bounds.fit_rate`` on a long run).

The function class is that of the logistic instance (its ``L``, ``mu``), with its own initial
distance and heterogeneity ``zeta``; the quadratic instance is drawn with the same ``L``, ``mu``,
``zeta``.

Claims checked:
* every logistic run lies under its fixed-W PEP envelope at k = 0..K (``bounds.compare``);
* the spectral-class worst case is at least the fixed-W worst case at every k (W is in its class);
* the fixed-W K-step worst-case rate is at least the exact rate on the quadratic instance for
  the exact methods (EXTRA, NIDS, DIGing). Not a theorem for a finite K (the K-step average of a
  worst case against an asymptotic rate of one instance): a failure is reported as a finding;
* per method and graph, the step size of the grid minimizing the spectral-class worst-case rate,
  and that this minimal worst-case rate is below 1 (a certified K-step contraction exists).
"""

from __future__ import annotations

import math

import numpy as np

import algos
import bounds
from bounds import pep
from problems import convex, graphs, mixing
from reproduce._registry import Claim, FigureResult, register
from reproduce._style import METHOD_STYLE

METHODS = ("extra", "nids", "gradient_tracking", "dgd")
EXACT = ("extra", "nids", "gradient_tracking")
TOL = 1e-6  # relative: the accepted solver accuracy (bounds.pep.REL_GAP_TOL)


#: Quick / full settings (seed: the instance keys and the geometric graph's seed; runs use key 0).
CONFIG = {
    "quick": {"n": 4, "horizon": 3, "fractions": [0.3, 0.7], "graphs": ["ring"], "dim": 2, "samples": 10,
              "run_steps": 600, "seed": 0, "run_key": 0, "methods": ["extra", "dgd"]},
    "full": {"n": 4, "horizon": 5, "fractions": [0.2, 0.4, 0.6, 0.8], "graphs": ["ring", "geometric"], "dim": 3,
             "samples": 20, "run_steps": 3000, "seed": 0, "run_key": 0, "methods": list(METHODS)},
}  # fmt: skip


def _config(quick: bool) -> dict:
    return dict(CONFIG["quick" if quick else "full"])


def plot(result: dict):
    """Draw the figure from its result file (``result``: the JSON payload)."""
    import matplotlib.pyplot as plt

    cfg, rows = result["config"], result["data"]["rows"]
    n, K = cfg["n"], cfg["horizon"]

    def val(v):
        return math.nan if v is None else v

    fig, axes = plt.subplots(len(cfg["graphs"]), len(cfg["methods"]), figsize=(4.2 * len(cfg["methods"]), 3.6 * len(cfg["graphs"])),
                             squeeze=False)  # fmt: skip
    for gi, gname in enumerate(cfg["graphs"]):
        for mi, m in enumerate(cfg["methods"]):
            ax = axes[gi][mi]
            sel = [r for r in rows if r["graph"] == gname and r["method"] == m]
            x = [r["fraction"] for r in sel]
            col = METHOD_STYLE[m]["color"]
            ax.plot(x, [r["pep_class_rate"] for r in sel], "-", color=col, marker="o", label="PEP, spectral class")
            ax.plot(x, [r["pep_fixed_rate"] for r in sel], "--", color=col, marker="s", label="PEP, this W")
            ax.plot(x, [r["exact_quadratic_rate"] for r in sel], ":", color="k", marker="^", label="exact, quadratic")
            if m != "dgd":
                ax.plot(x, [val(r["empirical_logistic_rate"]) for r in sel], color="#999999", marker="x", ls="none",
                        label="empirical, logistic")  # fmt: skip
            ax.axhline(1.0, color="#cccccc", lw=0.8)
            ax.set_title(f"{METHOD_STYLE[m]['label']} on {gname} (n={n})", fontsize=9)
            ax.set_xlabel("step size / stability limit")
            if mi == 0:
                ax.set_ylabel(f"rate per step ({K}-step PEP average)")
            ax.legend(fontsize=6)
    fig.tight_layout()
    return fig



def _graph(name, n, seed):
    return graphs.ring(n) if name == "ring" else graphs.geometric(n, seed=seed)


def _limit(method, p, W):
    mod = {"extra": algos.convex.extra, "nids": algos.convex.nids, "gradient_tracking": algos.convex.gradient_tracking,
           "dgd": algos.convex.dgd}[method]  # fmt: skip
    return float(mod.step_size_limit(p, W))


@register(
    "worst-case",
    paper="Colla & Hendrickx, 'Automatic Performance Estimation for Decentralized Optimization' (IEEE TAC 2023); "
    "performance estimation (Drori & Teboulle 2014; Taylor, Hendrickx & Glineur 2017)",
    claims=(
        "every program solved accurately (refused solves are reported)",
        "every logistic run lies under its fixed-W PEP envelope (k = 0..K)",
        "spectral-class worst case >= fixed-W worst case",
        "fixed-W K-step worst-case rate >= exact rate on a quadratic of the class (EXTRA, NIDS, DIGing)",
        "the step size minimizing the worst-case rate, per method (a certified contraction exists)",
    ),
    plot=plot,
)
def worst_case_figure(quick: bool = False, progress=lambda msg: None) -> FigureResult:
    import jax

    jax.config.update("jax_enable_x64", True)
    cfg = _config(quick)
    n, K, seed = cfg["n"], cfg["horizon"], cfg["seed"]
    p_log = convex.logistic(n, cfg["dim"], samples_per_node=cfg["samples"], key=seed)
    L, mu, zeta = float(p_log.L), float(p_log.mu), float(p_log.zeta)
    p_quad = convex.quadratic(n, cfg["dim"], L=L, mu=mu, key=seed, heterogeneity=zeta)
    rows = []
    under_fail, order_fail, lti_fail, solve_times, refused = [], [], [], [], []
    for gname in cfg["graphs"]:
        W = mixing.metropolis(_graph(gname, n, seed))
        spec = mixing.spectrum(W)
        interval = (spec.lambda_n, spec.lambda_2)
        for m in cfg["methods"]:
            lim = _limit(m, p_log, W)
            for frac in cfg["fractions"]:
                a = frac * lim
                progress(f"{gname} {m} step {frac:.2f} x limit")
                algo = getattr(algos, m)(p_log, W, step_size=a)
                try:
                    b_fix = getattr(pep, m)(algo, horizon=K)
                    b_cls = getattr(pep, m)(algo, horizon=K, eigenvalues=interval)
                except pep.PEPError as exc:  # refused (inaccurate): reported, never plotted as a bound
                    refused.append(f"{gname} {m} alpha={a:.4g}: {exc}")
                    continue
                solve_times += [s["seconds"] for s in b_fix.params["solves"] + b_cls.params["solves"] if not s["cached"]]
                w_fix = np.asarray(b_fix.params["worst_case"])
                w_cls = np.asarray(b_cls.params["worst_case"])
                _, tr = algos.run(algo, key=cfg["run_key"], num_steps=cfg["run_steps"])
                rep = bounds.compare(tr, b_fix, algo=algo)
                if rep.holds is not True:
                    under_fail.append(f"{gname} {m} alpha={a:.4g}: {rep.message}")
                if np.any(w_cls < w_fix * (1 - TOL)):
                    order_fail.append(f"{gname} {m} alpha={a:.4g}")
                d = np.asarray(tr.dist_to_opt)
                try:
                    emp = bounds.fit_rate(d)[0] if m != "dgd" else math.nan
                except ValueError:
                    emp = math.nan
                r_exact = float(bounds.exact_rate(getattr(algos, m)(p_quad, W, step_size=a)))
                r_fix = float((w_fix[K] / w_fix[0]) ** (1.0 / K))
                r_cls = float((w_cls[K] / w_cls[0]) ** (1.0 / K))
                if m in EXACT and r_fix < r_exact * (1 - TOL):
                    lti_fail.append(f"{gname} {m} alpha={a:.4g}: PEP {r_fix:.5f} < exact {r_exact:.5f}")
                rows.append({"graph": gname, "method": m, "fraction": frac, "step_size": a, "pep_fixed_rate": r_fix,
                             "pep_class_rate": r_cls, "exact_quadratic_rate": r_exact, "empirical_logistic_rate": emp,
                             "pep_fixed": w_fix.tolist(), "pep_class": w_cls.tolist(), "run_holds": rep.holds,
                             "run_worst_ratio": rep.worst_ratio,
                             "solve_status": sorted({s["status"] for s in b_fix.params["solves"] + b_cls.params["solves"]}),
                             "max_rel_gap": max(s["rel_gap"] for s in b_fix.params["solves"] + b_cls.params["solves"])})  # fmt: skip
    best, no_contraction = {}, []
    for gname in cfg["graphs"]:
        for m in cfg["methods"]:
            sel = [r for r in rows if r["graph"] == gname and r["method"] == m]
            if not sel:
                no_contraction.append(f"{gname}/{m} (every program refused)")
                continue
            r0 = min(sel, key=lambda r: r["pep_class_rate"])
            best[f"{gname}/{m}"] = {"fraction_of_limit": r0["fraction"], "step_size": r0["step_size"],
                                    "worst_case_rate": r0["pep_class_rate"]}  # fmt: skip
            if not r0["pep_class_rate"] < 1.0:
                no_contraction.append(f"{gname}/{m}")
    claims = [
        Claim("solved", "every program was solved accurately (gap <= 1e-6, residuals <= 1e-7); refused ones are listed",
              not refused, {"refused": refused}),
        Claim("runs_under_envelope", "every logistic run lies under its fixed-W PEP envelope at k = 0..K",
              not under_fail, {"failed": under_fail, "runs": len(rows)}),
        Claim("class>=fixed", "spectral-class worst case >= fixed-W worst case at every k (relative tol 1e-6)",
              not order_fail, {"failed": order_fail}),
        Claim("pep>=exact_quadratic", "fixed-W K-step worst-case rate >= exact rate on a quadratic of the class "
              "(EXTRA, NIDS, DIGing; finite K: a failure is a finding)", not lti_fail, {"failed": lti_fail}),
        Claim("best_step", "the grid step minimizing the spectral-class worst-case rate, per method and graph; "
              "that rate is < 1", not no_contraction, {"best": best, "no_contraction": no_contraction}),
    ]  # fmt: skip

    config = dict(cfg, L=L, mu=mu, zeta=zeta, mixing="metropolis (xiao_boyd_lall)")
    data = {"rows": rows, "best_step": best,
            "solve_seconds": {"count": len(solve_times), "max": max(solve_times, default=0.0),
                              "total": float(sum(solve_times))}}  # fmt: skip
    return FigureResult(figure=None, data=data, config=config, claims=claims, seed=seed)

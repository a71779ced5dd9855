"""Figure ``sam-identity``: D-SGD's averaged gradient is the N(0, Xi)-smoothed gradient up to O(spread^3).

Zhu, He, Chen, Song, Tao, "Decentralized SGD and Average-direction SAM are Asymptotically Equivalent"
(ICML 2023): the main theorem as read on the official poster (../shared/papers/, §10 of
convex-timevarying-async-stochastic.md), checked with :func:`bounds.sam_residuals` (autodiff only).

Loss: the global objective ``f`` of :func:`problems.nonconvex.logcosh_regression` (non-convex,
C-infinity). Every worker's gradient is ``grad f(w_j)`` (the expectation over the data of the
poster's ``grad L^{mu_j}``; ratebench's reading, the poster does not say whether ``L`` is the
global or the local loss).

Panel A (drawn points): ``m`` workers at ``w_a + s D / rms(D)``, ``D`` a random mean-free direction
set, ``w_a`` random around the reference stationary point, ``s`` on a log grid. Residuals of the
averaged gradient against ``grad f(w_a) + (1/2) grad tr(H Xi)`` (slope 3 in ``s``), against the
Gaussian average ``E grad f(w_a + eps)`` (slope 3), and against ``grad f(w_a)`` alone (slope 2).
Panel B: the same on a quadratic (:func:`problems.convex.quadratic`): all residuals are round-off.
Panel C: actual D-SGD iterates (ring of ``m`` nodes, Gaussian noise) after ``steps`` steps from
next to ``x_ref`` at several step sizes and seeds: residual versus the measured spread.

Claims (tolerances are ratebench's, fixed in CONFIG before the runs):
* panel A: for every draw, the fitted slope with the Hessian term and against the Gaussian average
  is ``3 +- slope_tol`` and without it ``2 +- slope_tol``;
* panel B: every residual is below ``quad_tol`` times ``1 + ||mean gradient||``;
* panel C: the slopes fitted over all D-SGD snapshots are ``3 +- dsgd_tol`` and ``2 +- dsgd_tol``
  (random directions scatter the constants, hence the wider tolerance), and at every snapshot the
  Hessian term reduces the residual.
"""

from __future__ import annotations

import numpy as np

from reproduce._registry import Claim, FigureResult, register

CONFIG = {
    "quick": {"draws": 3, "spreads": (1e-3, 1e-2, 1e-1), "step_sizes": (0.003, 0.03), "seeds": 3},
    "full": {"draws": 12, "spreads": tuple(np.logspace(-3, -1, 9).tolist()), "step_sizes": (0.001, 0.003, 0.01, 0.03, 0.1),
             "seeds": 8},  # fmt: skip
    "workers": 4,
    "dim": 6,
    "samples_per_node": 20,
    "heterogeneity": 1.0,
    "problem_seed": 0,
    "base_scale": 0.5,
    "sigma": 1.0,
    "steps": 200,
    "slope_tol": 0.1,
    "dsgd_tol": 0.3,
    "quad_tol": 1e-12,
    "quadrature_points": 6,
    "draw_seed": 1,  # NumPy seed of the panel A/B draws (base points and directions)
    "start_offset": 0.01,  # panel C: D-SGD starts at x_ref + start_offset / sqrt(dim) (every coordinate)
}
NAMES = ("with_hessian", "vs_gaussian", "without_hessian")
STYLE = {"with_hessian": ("#d62728", "with Hessian term"), "vs_gaussian": ("#1f77b4", "vs Gaussian average"),
         "without_hessian": ("#7f7f7f", "without Hessian term")}  # fmt: skip


def _rms(D):
    return float(np.sqrt(np.mean(np.sum(D**2, axis=1))))


def plot(result: dict):
    """Draw the figure from its result file (``result``: the JSON payload)."""
    import matplotlib.pyplot as plt

    cfg, data = result["config"], result["data"]
    m, steps = cfg["workers"], cfg["steps"]
    spreads = np.asarray(data["spreads"], dtype=float)
    draws, snaps = data["draws"], data["dsgd"]
    all_slopes = {nm: np.asarray([dr["slopes"][nm] for dr in draws], dtype=float) for nm in NAMES}
    sp = np.asarray(snaps["spread"], dtype=float)

    def f_(v):
        return np.asarray(v, dtype=float)  # null (non-finite) -> nan

    fig, axes = plt.subplots(1, 3, figsize=(16, 5))
    for nm in NAMES:
        col, lab = STYLE[nm]
        for j, dr in enumerate(draws):
            axes[0].loglog(spreads, f_(dr["residuals"][nm]), "-" if nm != "vs_gaussian" else "--", color=col, lw=0.7, alpha=0.7,
                           label=f"{lab} (median slope {np.median(all_slopes[nm]):.3f})" if j == 0 else None)  # fmt: skip
    ref = f_(draws[0]["residuals"]["with_hessian"])[-1]
    axes[0].loglog(spreads, ref * (spreads / spreads[-1]) ** 3, "k:", lw=1, label="slope 3")
    ref = f_(draws[0]["residuals"]["without_hessian"])[-1]
    axes[0].loglog(spreads, ref * (spreads / spreads[-1]) ** 2, "k-.", lw=1, label="slope 2")
    axes[0].set(title="A: log-cosh + double well, drawn points", xlabel="spread sqrt(tr Xi)", ylabel="residual norm")
    qa = f_(data["quadratic"])
    for i, nm in enumerate(("with_hessian", "without_hessian", "vs_gaussian")):
        axes[1].loglog(qa[:, 0], np.maximum(qa[:, 1 + i], 1e-20), "o", ms=3, color=STYLE[nm][0], label=STYLE[nm][1])
    axes[1].set(title=f"B: quadratic (worst relative {data['quadratic_worst_relative']:.1e})", xlabel="spread", ylabel="residual norm",
                ylim=(1e-20, 1e-10))  # fmt: skip
    for nm in NAMES:
        axes[2].loglog(sp, f_(snaps[nm]), "o", ms=3, color=STYLE[nm][0], label=f"{STYLE[nm][1]} (slope {snaps['slopes'][nm]:.2f})")
    axes[2].set(title=f"C: D-SGD iterates (ring, m={m}, {steps} steps)", xlabel="measured spread", ylabel="residual norm")
    for ax in axes:
        ax.legend(fontsize=7)
    fig.suptitle("D-SGD ≈ average-direction SAM: residual orders" + (" (quick)" if result.get("quick") else ""))
    fig.tight_layout()
    return fig


@register(
    "sam-identity",
    paper="Zhu, He, Chen, Song, Tao, Decentralized SGD and Average-direction SAM are Asymptotically Equivalent (ICML 2023)",
    claims=(
        "averaged gradient minus (grad f + 1/2 grad tr(H Xi)) scales as spread^3 (slope 3), also against the Gaussian average",
        "without the Hessian term the residual scales as spread^2 (slope 2)",
        "on a quadratic every residual is round-off",
        "on D-SGD iterates the same slopes hold and the Hessian term always helps",
    ),
    plot=plot,
)
def sam_identity(quick: bool = False, progress=lambda msg: None) -> FigureResult:
    import jax

    import algos
    import bounds
    from problems import convex, graphs, mixing, nonconvex

    cfg = CONFIG["quick" if quick else "full"]
    m, d = CONFIG["workers"], CONFIG["dim"]
    p = nonconvex.logcosh_regression(m, d, CONFIG["samples_per_node"], key=CONFIG["problem_seed"],
                                     heterogeneity=CONFIG["heterogeneity"], sigma=CONFIG["sigma"])  # fmt: skip
    q = convex.quadratic(m, d, key=CONFIG["problem_seed"])
    rng = np.random.default_rng(CONFIG["draw_seed"])
    spreads = np.asarray(cfg["spreads"], float)
    loss = jax.jit(p.objective)
    qloss = q.objective
    names = NAMES
    expected = {"with_hessian": 3.0, "vs_gaussian": 3.0, "without_hessian": 2.0}
    draws, quad, fail_a = [], [], []
    quad_worst = 0.0
    for k in range(cfg["draws"]):
        w_a = np.asarray(p.x_ref) + CONFIG["base_scale"] * rng.standard_normal(d)
        D = rng.standard_normal((m, d))
        D -= D.mean(0)
        D /= _rms(D)
        res = {nm: [] for nm in names}
        for s in spreads:
            r = bounds.sam_residuals(loss, w_a + s * D, points_per_dim=CONFIG["quadrature_points"])
            for nm in names:
                res[nm].append(getattr(r, nm))
            rq = bounds.sam_residuals(qloss, w_a + s * D, points_per_dim=CONFIG["quadrature_points"])
            scale = 1.0 + float(np.linalg.norm(rq.mean_grad))
            quad_worst = max(quad_worst, max(rq.with_hessian, rq.without_hessian, rq.vs_gaussian) / scale)
            quad.append([s, rq.with_hessian, rq.without_hessian, rq.vs_gaussian])
        slopes = {nm: bounds.fit_exponent(spreads, res[nm])[0] for nm in names}
        for nm in names:
            if abs(slopes[nm] - expected[nm]) > CONFIG["slope_tol"]:
                fail_a.append(f"draw {k} {nm}: slope {slopes[nm]:.3f}")
        draws.append({"residuals": res, "slopes": slopes})
    progress(f"panel A/B: {cfg['draws']} draws done")

    # panel C: D-SGD iterates
    W = mixing.metropolis(graphs.ring(m))
    # start next to x_ref (not on it: the engine flags growth of ||grad f||^2 past 1e8 x its start)
    algo = algos.dsgd(p, W, cfg["step_sizes"][0], x0=np.asarray(p.x_ref) + CONFIG["start_offset"] / np.sqrt(d))
    steps = CONFIG["steps"]

    def final_state(alpha, key):
        a = algo._replace(params={**algo.params, "alpha": alpha})
        return algos.run(a, key, steps, record_every=steps)[0].X

    alphas = np.repeat(np.asarray(cfg["step_sizes"], float), cfg["seeds"])
    keys = np.tile(np.arange(cfg["seeds"], dtype=np.uint32), len(cfg["step_sizes"]))
    Xs = np.asarray(jax.jit(jax.vmap(final_state))(alphas, keys))
    snaps = {"alpha": alphas.tolist(), "spread": [], "with_hessian": [], "without_hessian": [], "vs_gaussian": []}
    for X in Xs:
        r = bounds.sam_residuals(loss, X, points_per_dim=CONFIG["quadrature_points"])
        snaps["spread"].append(r.spread)
        for nm in names:
            snaps[nm].append(getattr(r, nm))
    sp = np.asarray(snaps["spread"])
    dsgd_slopes = {nm: bounds.fit_exponent(sp, snaps[nm])[0] for nm in names}
    fail_c = [f"{nm}: slope {dsgd_slopes[nm]:.3f}" for nm in names if abs(dsgd_slopes[nm] - expected[nm]) > CONFIG["dsgd_tol"]]
    helps = bool(np.all(np.asarray(snaps["with_hessian"]) < np.asarray(snaps["without_hessian"])))
    progress(f"panel C: {len(Xs)} D-SGD snapshots, spreads {sp.min():.2e}..{sp.max():.2e}")

    all_slopes = {nm: [dr["slopes"][nm] for dr in draws] for nm in names}
    claims = [
        Claim("slope3_with_hessian", f"every draw: slope of the residual with the Hessian term and vs the Gaussian average is 3 +- {CONFIG['slope_tol']}",
              not [f for f in fail_a if "without" not in f], {"slopes": {k: all_slopes[k] for k in ("with_hessian", "vs_gaussian")},
                                                              "failed": [f for f in fail_a if "without" not in f]}),
        Claim("slope2_without_hessian", f"every draw: slope of the residual without the Hessian term is 2 +- {CONFIG['slope_tol']}",
              not [f for f in fail_a if "without" in f], {"slopes": all_slopes["without_hessian"], "failed": [f for f in fail_a if "without" in f]}),
        Claim("quadratic_zero", f"quadratic: every residual <= {CONFIG['quad_tol']:g} (1 + ||mean grad||)", quad_worst <= CONFIG["quad_tol"],
              {"worst_relative": quad_worst}),
        Claim("dsgd_iterates", f"D-SGD snapshots: slopes 3 and 2 +- {CONFIG['dsgd_tol']}, Hessian term reduces every residual",
              (not fail_c) and helps, {"slopes": dsgd_slopes, "failed": fail_c, "hessian_term_always_helps": helps}),
    ]  # fmt: skip

    data = {"spreads": spreads.tolist(), "draws": draws, "quadratic": quad, "quadratic_worst_relative": quad_worst,
            "dsgd": {**snaps, "slopes": dsgd_slopes}}
    config = {**{k: v for k, v in CONFIG.items() if k not in ("quick", "full")}, **cfg, "problem": p.describe()}
    return FigureResult(figure=None, data=data, config=config, claims=claims, seed=0)

"""Figure ``dsbo``: decentralized stochastic bilevel optimization, DSBO / MA-DSBO against Gossip-DSBO.

Chen, Huang, Ma & Balasubramanian, "Decentralized Stochastic Bilevel Optimization with Improved
per-Iteration Complexity" (ICML 2023): the claims of its abstract (VERIFIED: only first-order,
Hessian-vector and Jacobian-vector oracles, hence a better per-iteration cost than methods that form
Hessians or Jacobians, such as Gossip-DSBO of Yang, Zhang & Wang, NeurIPS 2022), on ratebench's
implementation (``algos/bilevel/``; the algorithm details are ours, see its docstrings) and instance
(``problems.bilevel.quadratic``, heterogeneous lower levels).

Panels: ``||grad Phi(x_bar)||`` versus samples and versus floats sent per node, for DSBO, MA-DSBO,
Gossip-DSBO and exact averaging (``W = 11^T/n``), on a ring and a random geometric graph (Metropolis
weights), for each ``dim_y`` in ``CONFIG``; the averaged squared hypergradient norm versus the horizon
``K`` (outer step ``c / sqrt(K)``); the measured floats per iteration versus ``dim_y``.

Claims (thresholds are ours, in ``CONFIG``):

* ``slope``: the fitted exponent of the seed-averaged ``(1/K) sum_k ||grad Phi(x_bar_k)||^2`` over the
  horizons is ``-1/2 +- slope_tol`` for DSBO and MA-DSBO (the order of ``bounds.dsbo_rate``);
* ``costs_explicit``: every run's cost fields equal ``k`` times the per-iteration counts of
  ``bounds.dsbo_costs`` at every recorded step;
* ``floats_order``: measured floats per iteration (from the traces) are ``Theta(dim_x + dim_y)`` for DSBO
  (between 1 and ``2 (T_y + T_z) + 2`` times ``dim_x + dim_y``) and ``Theta(dim_y^2 + dim_x dim_y)`` for
  Gossip-DSBO (between 1 and 2 times ``dim_y^2 + dim_x dim_y``), and their ratio grows with ``dim_y``
  (the log-log slopes over the two largest ``dim_y`` are reported, not judged);
* ``fewer_floats``: at ``compare_dim_y`` (80, quick and full), on each graph, with oracle noise ``sigma``, the seed-averaged
  curve of DSBO (``seeds`` runs) first reaches the level ``target_margin * max(floor_DSBO, floor_Gossip)``
  with fewer floats sent than Gossip-DSBO's; a method's floor is the mean of its seed-averaged
  ``||grad Phi(x_bar)||`` over the last quarter of the records (a level both methods reach). The same
  comparison at every other ``dims_y`` is reported, not judged: the advantage is a per-iteration one that
  grows with ``dim_y``, so at small ``dim_y`` Gossip-DSBO, which needs fewer iterations, can win;
* ``fewer_floats_deterministic``: the same with deterministic oracles (``sigma = 0``), single runs, and the
  level ``det_target_rel * ||grad Phi(x_0)||``.

History of ``fewer_floats`` (docs/VERIFICATION.md §15). Until stop 22 it compared single runs against
``target_margin * max(min_k ||grad Phi||)``: the minimum of a noisy trajectory is an extreme of its
stationary noise, so the first hit of a level just above it is the time of a record low, decided by the
noise rather than by the method, and the claim failed on the geometric graph. The criterion now uses the
seed average and the late-window mean (a statistic of the floor, not of its extremes); the single-run
minimum-based comparison is still computed and reported (``fewer_floats_single_run_min`` in the data),
not judged. The change was made after seeing that failure, and is reported as such. The two floors
differ: DSBO's is higher than Gossip-DSBO's at the same step sizes (reported as a finding).
"""

from __future__ import annotations

import numpy as np

import algos
import bounds
from problems import bilevel, graphs, mixing
from reproduce._registry import Claim, FigureResult, register

CONFIG = {
    "quick": {"dims_y": (5, 20), "steps": 800, "record_every": 5, "horizons": (100, 400, 1600), "seeds": 4},
    "full": {"dims_y": (5, 20, 80), "steps": 1000, "record_every": 5, "horizons": (256, 1024, 4096, 16384), "seeds": 8},
    "n_nodes": 8,
    "dim_x": 5,
    "sigma": 0.05,  # oracle noise of the comparison panels
    "graphs": ("ring", "geometric"),
    "geometric_seed": 0,
    "slope_dim_y": 5,
    "slope_sigma": 0.5,
    "slope_c": 20.0,  # outer step c / sqrt(K), capped at the default 1/(2 L_phi)
    "slope_tol": 0.15,
    "target_margin": 1.5,
    "compare_dim_y": 80,  # the dim_y at which fewer_floats is judged (quick and full); every dims_y is reported
    "det_target_rel": 1e-6,
    "instance_key": 0,
    "run_seed": 0,  # key of the single runs (comparison panels, deterministic panel)
    "slope_seed": 1,  # jax.random.PRNGKey(slope_seed) is split into the seeds of the K^-1/2 panel
}
METHODS = ("dsbo", "ma_dsbo", "gossip_dsbo", "exact_dsbo")
STYLE = {"dsbo": ("#1f77b4", "DSBO"), "ma_dsbo": ("#2ca02c", "MA-DSBO"), "gossip_dsbo": ("#d62728", "Gossip-DSBO"),
         "exact_dsbo": ("#7f7f7f", "exact averaging")}  # fmt: skip


def _graph(name, n):
    g = graphs.ring(n) if name == "ring" else graphs.geometric(n, seed=CONFIG["geometric_seed"])
    return mixing.metropolis(g)


def _make(name, p, W, **kw):
    if name == "exact_dsbo":
        return algos.exact_dsbo(p, **kw)
    return getattr(algos, name)(p, W, **kw)


def _first_reach(values, x, target):
    hit = np.nonzero(np.asarray(values) <= target)[0]
    return float(np.asarray(x)[hit[0]]) if hit.size else float("inf")


def plot(result: dict):
    """Draw the figure from its result file (``result``: the JSON payload)."""
    import matplotlib.pyplot as plt

    cfg, data = result["config"], result["data"]
    dx, det = cfg["dim_x"], data["deterministic"]
    dmax = cfg["dims_y"][-1]

    def f_(v):
        return np.asarray(v, dtype=float)  # null (non-finite) -> nan

    dims = f_(cfg["dims_y"])
    ncol = len(cfg["dims_y"])
    fig, axes = plt.subplots(3, max(ncol, 3), figsize=(5 * max(ncol, 3), 13), squeeze=False)
    for j, dy in enumerate(cfg["dims_y"]):
        for gname, ls in zip(cfg["graphs"], ("-", "--")):
            for m in METHODS:
                key = f"{m}|{gname}|{dy}"
                if key not in data["runs"]:
                    continue
                r = data["runs"][key]
                col, lab = STYLE[m]
                lab = f"{lab} ({gname})" if m != "exact_dsbo" else lab
                h = f_(r["hypergrad_norm"])[1:]
                axes[0, j].loglog(np.maximum(f_(r["samples"])[1:], 1), h, ls, color=col, label=lab, lw=1)
                axes[1, j].loglog(np.maximum(f_(r["floats_sent"])[1:], 1), h, ls, color=col, label=lab, lw=1)
        axes[0, j].set(title=f"dim_y={dy}: ||grad Phi(x_bar)|| vs samples/node", xlabel="samples per node")
        axes[1, j].set(title=f"dim_y={dy}: vs floats sent/node", xlabel="floats sent per node")
        axes[0, j].legend(fontsize=6)
    for ax in axes[:2, ncol:].ravel():
        ax.axis("off")
    for m in ("dsbo", "ma_dsbo"):
        s = data["slope"][m]
        axes[2, 0].loglog(f_(s["horizons"]), f_(s["avg_sq_hypergrad"]), "o-", color=STYLE[m][0], label=f"{STYLE[m][1]} (fit {s['fitted_exponent']:.2f})")
    H = f_(cfg["horizons"])
    s0 = data["slope"]["dsbo"]["avg_sq_hypergrad"][0]
    axes[2, 0].loglog(H, s0 * np.sqrt(H[0] / H), "k--", lw=0.8, label="K^-1/2")
    axes[2, 0].set(title="(1/K) sum ||grad Phi||^2, step c/sqrt(K), mean over seeds", xlabel="K")
    axes[2, 0].legend(fontsize=7)
    for m in ("dsbo", "gossip_dsbo"):
        axes[2, 1].loglog(dims, f_([data["floats_per_iteration"][m][str(int(d))] for d in dims]), "o-", color=STYLE[m][0], label=STYLE[m][1])
    axes[2, 1].loglog(dims, dims**2 + dx * dims, "k:", lw=0.8, label="dim_y^2 + dim_x dim_y")
    axes[2, 1].loglog(dims, dx + dims, "k--", lw=0.8, label="dim_x + dim_y")
    axes[2, 1].set(title="floats per iteration and node (measured)", xlabel="dim_y")
    axes[2, 1].legend(fontsize=7)
    for gname, ls in zip(cfg["graphs"], ("-", "--")):
        for m in ("dsbo", "gossip_dsbo"):
            r = det[gname][m]
            axes[2, 2].loglog(np.maximum(f_(r["floats_sent"])[1:], 1), f_(r["hypergrad_norm"])[1:], ls, color=STYLE[m][0],
                              label=f"{STYLE[m][1]} ({gname})", lw=1)  # fmt: skip
    axes[2, 2].set(title=f"deterministic oracles, dim_y={dmax}: vs floats sent/node", xlabel="floats sent per node")
    axes[2, 2].legend(fontsize=7)
    for ax in axes[2, 3:]:
        ax.axis("off")
    fig.suptitle("Decentralized stochastic bilevel: DSBO / MA-DSBO (HVP, JVP) vs Gossip-DSBO (matrices)" + (" (quick)" if result.get("quick") else ""))
    fig.tight_layout()
    return fig


@register(
    "dsbo",
    paper="Chen, Huang, Ma, Balasubramanian, Decentralized Stochastic Bilevel Optimization with Improved per-Iteration "
    "Complexity (ICML 2023); baseline Gossip-DSBO (Yang, Zhang, Wang, NeurIPS 2022)",
    claims=(
        "averaged squared hypergradient norm decays as K^-1/2 (fitted exponent, DSBO and MA-DSBO)",
        "per-iteration communication and oracle counts equal the explicit counts, run by run",
        "floats per iteration O(dim_x + dim_y) for DSBO vs Theta(dim_y^2 + dim_x dim_y) for Gossip-DSBO (from traces)",
        "DSBO reaches the same hypergradient norm with fewer floats than Gossip-DSBO at the largest dim_y",
    ),
    plot=plot,
)
def dsbo_figure(quick: bool = False, progress=lambda msg: None) -> FigureResult:
    import jax

    cfg = CONFIG["quick" if quick else "full"]
    n, dx = CONFIG["n_nodes"], CONFIG["dim_x"]
    steps, every = cfg["steps"], cfg["record_every"]
    data = {"runs": {}, "slope": {}, "floats_per_iteration": {}}
    cost_fail = []
    for dy in cfg["dims_y"]:
        p = bilevel.quadratic(n, dx, dy, key=CONFIG["instance_key"], sigma=CONFIG["sigma"])
        for gname in CONFIG["graphs"]:
            W = _graph(gname, n)
            for m in METHODS:
                if m == "exact_dsbo" and gname != CONFIG["graphs"][0]:
                    continue  # exact averaging does not depend on the graph
                algo = _make(m, p, W)
                _, tr = algos.run(algo, CONFIG["run_seed"], steps, record_every=every)
                chk = bounds.check_dsbo_costs(tr, algo)
                if not chk["holds"]:
                    cost_fail.append(f"{m} dim_y={dy} {gname}: {chk['failed']}")
                data["runs"][f"{m}|{gname}|{dy}"] = {
                    "steps": np.asarray(tr.steps).tolist(), "hypergrad_norm": np.asarray(tr.hypergrad_norm).tolist(),
                    "samples": np.asarray(tr.samples).tolist(), "floats_sent": np.asarray(tr.floats_sent).tolist(),
                    "consensus_x": np.asarray(tr.consensus_x).tolist(), "diverged": bool(tr.diverged),
                    "floats_per_iteration_measured": float(tr.floats_sent[-1]) / steps,
                    "samples_per_iteration_measured": float(tr.samples[-1]) / steps,
                }  # fmt: skip
            progress(f"dim_y={dy} {gname} done")
        for m in METHODS:
            data["floats_per_iteration"].setdefault(m, {})[str(dy)] = data["runs"][f"{m}|{CONFIG['graphs'][0]}|{dy}"]["floats_per_iteration_measured"]

    # --- the K^-1/2 order on the averaged squared hypergradient norm ---
    ps = bilevel.quadratic(n, dx, CONFIG["slope_dim_y"], key=CONFIG["instance_key"], sigma=CONFIG["slope_sigma"])
    Ws = _graph("ring", n)
    keys = jax.random.split(jax.random.PRNGKey(CONFIG["slope_seed"]), cfg["seeds"])
    slope_fail, slopes = [], {}
    for m in ("dsbo", "ma_dsbo"):
        avg = []
        for K in cfg["horizons"]:
            default = 0.5 / float(ps.L_phi)
            algo = _make(m, ps, Ws, step_size=min(default, CONFIG["slope_c"] / np.sqrt(K)))
            tr = jax.vmap(lambda k, a=algo, K=K: algos.run(a, k, K, record_every=K // 4)[1])(keys)
            avg.append(float(np.mean(np.asarray(tr.hypergrad_sq_sum)[:, -1])) / K)
        b = bounds.dsbo_rate(algo)
        chk = bounds.check_scaling(cfg["horizons"], avg, b.exponents["K"], tol=CONFIG["slope_tol"], mode="tight")
        slopes[m] = chk["fitted_exponent"]
        # the sample-complexity order (bounds.dsbo_sample_complexity, eps^-2): samples = K x (samples per
        # iteration), so the fitted exponent of samples against the reached level is 1 / slope (information)
        per = bounds.dsbo_costs(algo)["samples"]
        sc = bounds.fit_exponent(avg, [per * K for K in cfg["horizons"]])[0]
        data["slope"][m] = {"horizons": list(cfg["horizons"]), "avg_sq_hypergrad": avg, **chk,
                            "samples_per_iteration": per, "sample_complexity_exponent_fitted": sc,
                            "sample_complexity_exponent_stated": bounds.dsbo_sample_complexity(algo).exponents["eps"]}  # fmt: skip
        if not chk["holds"]:
            slope_fail.append(f"{m}: fitted {chk['fitted_exponent']:.3f}")
        progress(f"slope {m}: {chk['fitted_exponent']:.3f}")

    # --- floats per iteration versus dim_y, measured ---
    dims = np.array(cfg["dims_y"], float)
    fd = np.array([data["floats_per_iteration"]["dsbo"][str(int(d))] for d in dims])
    fg = np.array([data["floats_per_iteration"]["gossip_dsbo"][str(int(d))] for d in dims])
    hp0 = _make("dsbo", bilevel.quadratic(n, dx, int(dims[-1]), key=CONFIG["instance_key"]), _graph("ring", n)).hparams
    T_sum = hp0["T_y"] + hp0["T_z"]  # the default inner lengths on this instance
    lin_ratio = fd / (dx + dims)
    quad_ratio = fg / (dims**2 + dx * dims)
    e_d = bounds.fit_exponent(dims[-2:], fd[-2:])[0]
    e_g = bounds.fit_exponent(dims[-2:], fg[-2:])[0]
    gap = fg / fd
    floats_ok = bool(np.all((lin_ratio >= 1) & (lin_ratio <= 2 * T_sum + 2)) and np.all((quad_ratio >= 1) & (quad_ratio <= 2))
                     and np.all(np.diff(gap) > 0))  # fmt: skip

    # --- fewer floats to the same hypergradient norm (seed-averaged, noisy oracles): judged at compare_dim_y ---
    dmax = cfg["dims_y"][-1]
    dcmp = CONFIG["compare_dim_y"]
    seed_keys = np.arange(cfg["seeds"], dtype=np.uint32)
    by_dim, fewer_single = {}, {}
    for dy in sorted(set(cfg["dims_y"]) | {dcmp}):
        pdy = bilevel.quadratic(n, dx, dy, key=CONFIG["instance_key"], sigma=CONFIG["sigma"])
        for gname in CONFIG["graphs"]:
            W = _graph(gname, n)
            avg = {}
            for m in ("dsbo", "gossip_dsbo"):
                algo = _make(m, pdy, W)
                tr = jax.jit(jax.vmap(lambda k, a=algo: algos.run(a, k, steps, record_every=every)[1]))(seed_keys)
                h = np.asarray(tr.hypergrad_norm).mean(0)
                avg[m] = {"hypergrad_norm": h, "floats_sent": np.asarray(tr.floats_sent)[0], "floor": float(h[3 * len(h) // 4:].mean())}
            target = CONFIG["target_margin"] * max(v["floor"] for v in avg.values())
            f_d = _first_reach(avg["dsbo"]["hypergrad_norm"], avg["dsbo"]["floats_sent"], target)
            f_g = _first_reach(avg["gossip_dsbo"]["hypergrad_norm"], avg["gossip_dsbo"]["floats_sent"], target)
            by_dim.setdefault(str(dy), {})[gname] = {
                "target": target, "floor_dsbo": avg["dsbo"]["floor"], "floor_gossip_dsbo": avg["gossip_dsbo"]["floor"],
                "floats_dsbo": f_d, "floats_gossip_dsbo": f_g, "seeds": cfg["seeds"], "holds": bool(np.isfinite(f_d) and f_d < f_g)}  # fmt: skip
            if dy == dcmp:
                data["runs"][f"seed_mean|{gname}|{dy}"] = {m: {"hypergrad_norm": v["hypergrad_norm"].tolist(), "floats_sent": v["floats_sent"].tolist()}
                                                           for m, v in avg.items()}  # fmt: skip
            progress(f"seed-averaged comparison dim_y={dy} {gname}: floors {avg['dsbo']['floor']:.4g} / {avg['gossip_dsbo']['floor']:.4g}, "
                     f"floats {f_d:.4g} / {f_g:.4g}")  # fmt: skip
    fewer = by_dim[str(dcmp)]
    for gname in CONFIG["graphs"]:
        # the former criterion (single run, 1.5 x the larger trajectory minimum, largest dims_y): reported, not judged
        r_d, r_g = data["runs"][f"dsbo|{gname}|{dmax}"], data["runs"][f"gossip_dsbo|{gname}|{dmax}"]
        t1 = CONFIG["target_margin"] * max(min(r_d["hypergrad_norm"]), min(r_g["hypergrad_norm"]))
        s_d, s_g = _first_reach(r_d["hypergrad_norm"], r_d["floats_sent"], t1), _first_reach(r_g["hypergrad_norm"], r_g["floats_sent"], t1)
        fewer_single[gname] = {"dim_y": dmax, "target": t1, "floats_dsbo": s_d, "floats_gossip_dsbo": s_g,
                               "dsbo_fewer": bool(np.isfinite(s_d) and s_d < s_g)}  # fmt: skip

    # --- the same comparison with deterministic oracles (sigma = 0): a fixed relative accuracy ---
    pdet = bilevel.quadratic(n, dx, dmax, key=CONFIG["instance_key"], sigma=0.0)
    det = {}
    for gname in CONFIG["graphs"]:
        W = _graph(gname, n)
        row = {}
        for m in ("dsbo", "gossip_dsbo"):
            _, tr = algos.run(_make(m, pdet, W), CONFIG["run_seed"], steps, record_every=every)
            h, fl = np.asarray(tr.hypergrad_norm), np.asarray(tr.floats_sent)
            row[m] = {"hypergrad_norm": h.tolist(), "floats_sent": fl.tolist(),
                      "floats_to_target": _first_reach(h, fl, CONFIG["det_target_rel"] * h[0])}  # fmt: skip
        row["holds"] = bool(np.isfinite(row["dsbo"]["floats_to_target"]) and row["dsbo"]["floats_to_target"] < row["gossip_dsbo"]["floats_to_target"])
        det[gname] = row
    data["deterministic"] = det
    progress("deterministic comparison done")

    claims = [
        Claim("slope", f"fitted exponent of the averaged squared hypergradient norm in K is -0.5 +- {CONFIG['slope_tol']}",
              not slope_fail, {"fitted": slopes, "failed": slope_fail,
                               "sample_complexity_exponent_fitted": {m: data["slope"][m]["sample_complexity_exponent_fitted"] for m in slopes}}),
        Claim("costs_explicit", "every cost field equals k times the explicit per-iteration count, every run",
              not cost_fail, {"failed": cost_fail}),
        Claim("floats_order", "floats/iteration (measured): DSBO in [1, 2(T_y+T_z)+2] x (dim_x+dim_y); Gossip-DSBO in "
              "[1, 2] x (dim_y^2 + dim_x dim_y); their ratio grows with dim_y", floats_ok,
              {"dims_y": dims.tolist(), "dsbo": fd.tolist(), "gossip_dsbo": fg.tolist(), "dsbo_over_dx_plus_dy": lin_ratio.tolist(),
               "gossip_over_dy2_plus_dxdy": quad_ratio.tolist(), "gossip_over_dsbo": gap.tolist(), "dsbo_slope_last_two_dims": e_d, "gossip_slope_last_two_dims": e_g}),
        Claim("fewer_floats", f"at dim_y={dcmp}, seed-averaged over {cfg['seeds']} runs, DSBO first reaches {CONFIG['target_margin']} x "
              "the larger of the two methods' noise floors (late-window means) with fewer floats than Gossip-DSBO, on every graph",
              all(v["holds"] for v in fewer.values()),
              {**fewer, "every_dim_y_reported": by_dim, "single_run_min_criterion_not_judged": fewer_single}),
        Claim("fewer_floats_deterministic", f"with deterministic oracles at dim_y={dmax} DSBO reaches "
              f"{CONFIG['det_target_rel']:g} x the initial hypergradient norm with fewer floats than Gossip-DSBO, on every graph",
              all(v["holds"] for v in det.values()),
              {g: {m: v[m]["floats_to_target"] for m in ("dsbo", "gossip_dsbo")} for g, v in det.items()}),
    ]  # fmt: skip
    data["fewer_floats"] = fewer
    data["fewer_floats_by_dim_y"] = by_dim
    data["fewer_floats_single_run_min"] = fewer_single

    config = {**{k: v for k, v in CONFIG.items() if k not in ("quick", "full")}, **cfg}
    return FigureResult(figure=None, data=data, config=config, claims=claims, seed=0)

"""Figure ``anarchic-fl``: under skewed participation AFA-CD plateaus at a level growing with the heterogeneity; AFA-CS converges.

Yang, Zhang, Khanduri, Liu, "Anarchic Federated Learning" (ICML 2022): AFA-CS removes AFA-CD's
non-vanishing error term (SECONDARY, a review; the abstract VERIFIES the two variants and the
anarchic setting). Methods: :mod:`algos.federated.anarchic` (update rules ours, see there).
Instance: strongly convex quadratics (:func:`problems.convex.quadratic`, known ``x*``, heterogeneity
``zeta``, no gradient noise: the randomness is the anarchy), ``n`` workers with geometric
participation from 1 down to ``1/skew`` (:func:`algos.skewed_participation`), ``K_i`` uniform on
``1..K``, staleness uniform on ``0..S``.

Measured: the plateau ``||x - x*||`` (mean over the second half of the rounds and over seeds).
Claims (thresholds ratebench's, fixed in CONFIG before the runs):
* AFA-CD's plateau grows with zeta, with exponent ``1 +- exp_tol`` (DERIVED, ours: on quadratics the
  arrival-weighted minimizer is offset from ``x*`` linearly in the heterogeneity vectors);
* AFA-CS's plateau is below ``cs_ratio`` times AFA-CD's at every zeta;
* linear speed-up in the workers (abstract, VERIFIED): with gradient noise, no heterogeneity and uniform
  participation ``speedup_participation``, AFA-CS's stationary ``E||x - x*||^2`` has exponent
  ``-1 +- exp_tol`` in the number of workers m (each m is a new quadratic instance with the same
  spectrum law);
* AFA-CS's remaining error is the local drift: it scales with the local step, exponent ``1 +- exp_tol`` in
  ``eta_local`` (DERIVED, ours), i.e. it vanishes with the step, unlike AFA-CD's.
"""

from __future__ import annotations

import numpy as np

from reproduce._registry import Claim, FigureResult, register

CONFIG = {
    "quick": {"rounds": 2000, "seeds": 2, "zetas": (0.5, 2.0), "eta_scales": (1.0, 0.25), "speedup_ms": (4, 8), "speedup_rounds": 1500},
    "full": {"rounds": 4000, "seeds": 4, "zetas": (0.25, 0.5, 1.0, 2.0, 4.0), "eta_scales": (1.0, 0.5, 0.25, 0.125),
             "speedup_ms": (4, 8, 16, 32), "speedup_rounds": 3000},  # fmt: skip
    "n": 16,
    "dim": 5,
    "L": 4.0,
    "mu": 1.0,
    "skew": 20.0,
    "local_steps": 5,
    "max_staleness": 3,
    "eta_local": 0.005,
    "eta_server": 0.125,
    "drift_zeta": 1.0,
    "record_every": 20,
    "exp_tol": 0.15,
    "cs_ratio": 0.1,
    "problem_seed": 0,
    "speedup_sigma": 1.0,
    "speedup_participation": 0.5,
    "speedup_seeds": 8,
}


def plot(result: dict):
    """Draw the figure from its result file (``result``: the JSON payload)."""
    import matplotlib.pyplot as plt

    C, data = result["config"], result["data"]
    fits = data["fits"]

    def f_(v):
        return np.asarray(v, dtype=float)  # null (non-finite) -> nan

    fig, axes = plt.subplots(1, 4, figsize=(21, 5))
    st = f_(data["steps"])
    cmap = plt.get_cmap("viridis")
    for j, z in enumerate(data["zetas"]):
        col = cmap(j / max(1, len(data["zetas"]) - 1))
        axes[0].semilogy(st, f_(data["curves"][f"afa_cd zeta={z}"]), "-", color=col, label=f"AFA-CD zeta={z}")
        axes[0].semilogy(st, f_(data["curves"][f"afa_cs zeta={z}"]), "--", color=col, label=f"AFA-CS zeta={z}")
    axes[0].set(title=f"||x - x*|| vs rounds (participation 1 .. 1/{C['skew']:g}, K<= {C['local_steps']}, staleness <= {C['max_staleness']})",
                xlabel="round")  # fmt: skip
    zs, cd, cs = f_(data["zetas"]), f_(data["afa_cd"]), f_(data["afa_cs"])
    axes[1].loglog(zs, cd, "o-", label=f"AFA-CD plateau (fit {fits['afa_cd_zeta']:.2f})")
    axes[1].loglog(zs, cs, "s-", label="AFA-CS plateau")
    axes[1].loglog(zs, cd[0] * zs / zs[0], "k:", label="slope 1")
    axes[1].set(title="plateau vs heterogeneity", xlabel="zeta")
    etas = f_(data["drift"]["eta_local"])
    axes[2].loglog(etas, f_(data["drift"]["afa_cs"]), "s-", label=f"AFA-CS (fit {fits['afa_cs_eta_local']:.2f})")
    axes[2].loglog(etas, f_(data["drift"]["afa_cd"]), "o-", label="AFA-CD")
    axes[2].set(title=f"plateau vs local step (zeta={C['drift_zeta']})", xlabel="eta_local")
    msa, sq = f_(data["speedup"]["m"]), f_(data["speedup"]["afa_cs_mean_sq_dist"])
    axes[3].loglog(msa, sq, "s-", label=f"AFA-CS noise level (fit {fits['afa_cs_workers']:.2f})")
    axes[3].loglog(msa, sq[0] * msa[0] / msa, "k:", label="slope -1")
    axes[3].set(title=f"speed-up: E||x - x*||^2 vs workers (sigma={C['speedup_sigma']}, zeta=0)", xlabel="m")
    for ax in axes:
        ax.legend(fontsize=7)
    fig.suptitle("Anarchic FL: AFA-CD vs AFA-CS under skewed participation" + (" (quick)" if result.get("quick") else ""))
    fig.tight_layout()
    return fig


@register(
    "anarchic-fl",
    paper="Yang, Zhang, Khanduri, Liu, Anarchic Federated Learning (ICML 2022)",
    claims=(
        "AFA-CD's plateau under skewed participation grows linearly with the heterogeneity",
        "AFA-CS's plateau is at least 10x below AFA-CD's at every heterogeneity level",
        "AFA-CS's remaining error vanishes with the local step (exponent 1 in eta_local)",
        "linear speed-up: AFA-CS's noise level has exponent -1 in the number of workers",
    ),
    plot=plot,
)
def anarchic_fl(quick: bool = False, progress=lambda msg: None) -> FigureResult:
    import jax

    import algos
    import bounds
    from problems import convex

    cfg = CONFIG["quick" if quick else "full"]
    C = CONFIG
    q = algos.skewed_participation(C["n"], C["skew"])
    T, every, seeds = cfg["rounds"], C["record_every"], cfg["seeds"]
    kw = dict(participation=q, local_steps=C["local_steps"], max_staleness=C["max_staleness"], eta_server=C["eta_server"])

    runners = {}

    def plateau(algo):
        # one compiled program per method: the instance and the step sizes are traced params
        if algo.name not in runners:
            runners[algo.name] = jax.jit(jax.vmap(lambda prm, k, a=algo: algos.run(a._replace(params=prm), k, T, record_every=every)[1],
                                                  in_axes=(None, 0)))  # fmt: skip
        tr = runners[algo.name](algo.params, np.arange(seeds, dtype=np.uint32))
        dist = np.asarray(tr.dist_to_opt)
        return float(dist[:, dist.shape[1] // 2 :].mean()), dist.mean(0)

    data = {"zetas": list(cfg["zetas"]), "afa_cd": [], "afa_cs": [], "curves": {}}
    for z in cfg["zetas"]:
        p = convex.quadratic(C["n"], C["dim"], C["L"], C["mu"], key=C["problem_seed"], heterogeneity=z)
        for name, f in (("afa_cd", algos.afa_cd), ("afa_cs", algos.afa_cs)):
            lev, curve = plateau(f(p, eta_local=C["eta_local"], **kw))
            data[name].append(lev)
            data["curves"][f"{name} zeta={z}"] = curve.tolist()
        progress(f"zeta {z}: CD {data['afa_cd'][-1]:.4g}, CS {data['afa_cs'][-1]:.4g}")
    pd = convex.quadratic(C["n"], C["dim"], C["L"], C["mu"], key=C["problem_seed"], heterogeneity=C["drift_zeta"])
    etas = [C["eta_local"] * s for s in cfg["eta_scales"]]
    data["drift"] = {"eta_local": etas, "afa_cs": [plateau(algos.afa_cs(pd, eta_local=e, **kw))[0] for e in etas],
                     "afa_cd": [plateau(algos.afa_cd(pd, eta_local=e, **kw))[0] for e in etas]}  # fmt: skip
    progress(f"drift: CS {data['drift']['afa_cs']}")
    data["steps"] = (np.arange(T // every + 1) * every).tolist()
    # linear speed-up in the workers (noise only)
    ms = cfg["speedup_ms"]
    TS = cfg["speedup_rounds"]
    sq = []
    for m in ms:
        pm = convex.quadratic(m, C["dim"], C["L"], C["mu"], key=C["problem_seed"], heterogeneity=0.0, sigma=C["speedup_sigma"])
        a = algos.afa_cs(pm, participation=C["speedup_participation"], local_steps=C["local_steps"], max_staleness=C["max_staleness"],
                         eta_local=C["eta_local"], eta_server=C["eta_server"], x0=np.asarray(pm.x_star))  # fmt: skip
        tr = jax.jit(jax.vmap(lambda k, a=a: algos.run(a, k, TS, record_every=every)[1]))(np.arange(C["speedup_seeds"], dtype=np.uint32))
        dist = np.asarray(tr.dist_to_opt)
        sq.append(float(np.mean(dist[:, dist.shape[1] // 4 :] ** 2)))
    data["speedup"] = {"m": list(ms), "afa_cs_mean_sq_dist": sq}
    progress(f"speed-up: {sq}")
    zs = np.asarray(cfg["zetas"], float)
    cd_fit = bounds.check_scaling(zs, data["afa_cd"], 1.0, tol=C["exp_tol"], mode="tight")
    ratios = (np.asarray(data["afa_cs"]) / np.asarray(data["afa_cd"])).tolist()
    drift_fit = bounds.check_scaling(etas, data["drift"]["afa_cs"], 1.0, tol=C["exp_tol"], mode="tight")
    orders = {v: bounds.afa_orders(v, m=C["n"], K=C["local_steps"], zeta=1.0).params for v in ("afa_cd", "afa_cs")}
    speed_fit = bounds.check_scaling(np.asarray(ms, float), sq, -1.0, tol=C["exp_tol"], mode="tight")
    claims = [
        Claim("cd_plateau_grows_with_zeta", f"AFA-CD plateau exponent in zeta is 1 +- {C['exp_tol']}", bool(cd_fit["holds"]), cd_fit),
        Claim("cs_below_cd", f"AFA-CS plateau <= {C['cs_ratio']} x AFA-CD plateau at every zeta",
              all(r <= C["cs_ratio"] for r in ratios), {"ratios": ratios}),
        Claim("cs_error_vanishes_with_eta_local", f"AFA-CS plateau exponent in eta_local is 1 +- {C['exp_tol']}",
              bool(drift_fit["holds"]), {**drift_fit, "afa_cd_levels": data["drift"]["afa_cd"]}),
        Claim("cs_linear_speedup_in_workers", f"AFA-CS noise level E||x - x*||^2 exponent in m is -1 +- {C['exp_tol']}",
              bool(speed_fit["holds"]), {**speed_fit, "m": list(ms), "levels": sq}),
    ]  # fmt: skip
    data["fits"] = {"afa_cd_zeta": cd_fit["fitted_exponent"], "afa_cs_eta_local": drift_fit["fitted_exponent"],
                    "afa_cs_workers": speed_fit["fitted_exponent"]}  # fmt: skip
    config = {**{k: v for k, v in C.items() if k not in ("quick", "full")}, **cfg, "participation": q.tolist(), "orders": orders}
    return FigureResult(figure=None, data=data, config=config, claims=claims, seed=0)

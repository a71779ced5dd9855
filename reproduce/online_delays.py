"""Figure ``online-delays``: regret of delayed (multi-agent) dual averaging versus T and the delay.

Hsieh, Iutzeler, Malick & Mertikopoulos, "Multi-Agent Online Optimization with Delays: Asynchronicity,
Adaptivity, and Optimism" (JMLR 2022): the claims of its abstract (VERIFIED), on ratebench's
construction of the methods (``algos/online/dual_averaging.py``) and instances (``problems/online.py``).

Panel A (delay levels): linear losses on the unit ball, ``n_agents = 2`` with uniform activation,
every feedback delayed by exactly ``d`` rounds, losses from the classical delay construction
(random signs held over blocks of ``d + 1`` rounds), mean over ``instances`` random instances.
Panel B (optimism): quadratic losses ``1/2 ||x - c_t||^2`` with centres rotating slowly (period
``period``) on the unit ball, ``n_agents = 4``, delays uniform on ``{0, ..., d}``.

Claims (thresholds are ratebench's, in ``CONFIG``):
* at every delay, the log-log slope of the mean regret over T (from T/64 to T) of the adaptive and the
  optimistic methods is ``0.5 +- slope_tol``;
* the final mean regret grows with the delay: its exponent in ``d + 1`` is ``0.5 +- delay_tol`` (the
  order ``sqrt((d + 1) T)``, attained on this construction) and it increases with ``d``;
* the explicit bounds hold run by run: undelayed adaptive DA and optimistic DA (``d = 0``; the
  optimistic one is data-dependent, in each run's own prediction errors, and is also judged on the
  drifting losses at ``d = 0``) and the tuned constant step (every ``d``), all derived in
  ``bounds/online/dual_averaging.py``;
* on the slowly drifting losses the optimistic variant's mean regret is below the adaptive one's at
  every delay level.
"""

from __future__ import annotations

import numpy as np

import algos
import bounds
from problems import online
from reproduce._registry import Claim, FigureResult, register

CONFIG = {
    "quick": {"T": 4096, "instances": 24, "delays": (0, 7), "drift_T": 4096, "drift_delays": (7,)},
    "full": {"T": 65536, "instances": 48, "delays": (0, 3, 15, 63), "drift_T": 32768, "drift_delays": (0, 4, 16)},
    "records": 256,
    "dim": 2,
    "n_agents": 2,
    "drift_agents": 4,
    "period": 500.0,
    "slope_from_fraction": 1 / 64,
    "slope_tol": 0.1,
    "delay_tol": 0.15,
    "instance_key0": 0,  # adversarial instances: keys instance_key0 + 0..instances-1
    "drift_key0": 100,  # drifting instances: keys drift_key0 + 0..instances-1
}
METHODS = {"delayed_dual_averaging": algos.delayed_dual_averaging, "optimistic_dual_averaging": algos.optimistic_dual_averaging,
           "tuned_dual_averaging": algos.tuned_dual_averaging}  # fmt: skip
STYLE = {"delayed_dual_averaging": ("#1f77b4", "adaptive DA"), "optimistic_dual_averaging": ("#d62728", "optimistic DA"),
         "tuned_dual_averaging": ("#7f7f7f", "tuned constant step")}  # fmt: skip


def _judge(b, tr, steps, where, failed):
    """Judge a batch of runs against an explicit bound (run by run); a data-dependent bound's curve is each
    run's own, and the mean of those curves is what the plot draws."""
    rep = bounds.compare(tr, b)
    if b.envelope_uses:
        curves = [b.curve(steps, data={n: np.asarray(getattr(tr, n))[i] for n in b.envelope_uses})
                  for i in range(np.asarray(tr.regret).shape[0])]  # fmt: skip
        curve = np.mean(curves, axis=0)
    else:
        curve = b.curve(steps)
    if rep.all_hold is not True:
        failed.append(f"{b.name} {where}: runs {rep.violated}")
    return {"name": b.name, "all_hold": rep.all_hold, "worst_ratio": max(r.worst_ratio for r in rep),
            "data_dependent": bool(b.envelope_uses), "curve": curve.tolist()}  # fmt: skip


def _stack(problems):
    import jax

    return jax.tree_util.tree_map(lambda *xs: np.stack([np.asarray(x) for x in xs]), *problems)


def _batched_run(factory, problems, T, every):
    """One compiled program for all instances of a shape: vmap over the stacked problem pytree."""
    import jax

    algo = factory(problems[0])
    stacked = _stack([factory(p).params for p in problems])
    tr = jax.vmap(lambda prm: algos.run(algo._replace(params=prm), 0, T, record_every=every)[1])(stacked)
    return algo, tr


def plot(result: dict):
    """Draw the figure from its result file (``result``: the JSON payload)."""
    import matplotlib.pyplot as plt

    cfg, data = result["config"], result["data"]
    fit, T = data["delay_fit"], cfg["T"]
    ds, finals = np.array(fit["delays"], float), np.array(fit["finals"], float)

    def f_(v):
        return np.asarray(v, dtype=float)  # null (non-finite) -> nan

    fig, axes = plt.subplots(1, 3, figsize=(16, 5))
    cmap = plt.get_cmap("viridis")
    for j, d in enumerate(cfg["delays"]):
        col = cmap(j / max(1, len(cfg["delays"]) - 1))
        for name, ls in (("delayed_dual_averaging", "-"), ("optimistic_dual_averaging", "--"), ("tuned_dual_averaging", ":")):
            r = data["delays"][str(d)][name]
            st = np.asarray(r["steps"][1:])
            axes[0].loglog(st, np.maximum(f_(r["mean_regret"])[1:], 1e-3), ls, color=col, label=f"d={d} {STYLE[name][1]}")
            if "bound" in r:
                axes[0].loglog(st, f_(r["bound"]["curve"])[1:], ls, color=col, lw=0.5)
    st = np.asarray(data["delays"][str(cfg["delays"][0])]["delayed_dual_averaging"]["steps"][1:], float)
    axes[0].loglog(st, np.sqrt(st), color="k", lw=0.8, label="sqrt(T)")
    axes[0].set(title="A: mean regret vs T (thin: explicit bounds; optimistic: mean of the runs' own curves)", xlabel="T", ylabel="regret")
    axes[1].loglog(ds + 1, finals, "o-", label="adaptive DA, final mean regret")
    axes[1].loglog(ds + 1, finals[0] * np.sqrt(ds + 1), "k--", lw=0.8, label="sqrt(d + 1) (order)")
    axes[1].set(title=f"A: regret at T = {T} vs delay (fitted exponent {fit['fitted_exponent']:.2f})", xlabel="d + 1")
    for j, d in enumerate(cfg["drift_delays"]):
        col = cmap(j / max(1, len(cfg["drift_delays"]) - 1))
        for name, ls in (("delayed_dual_averaging", "-"), ("optimistic_dual_averaging", "--")):
            r = data["drift"][str(d)][name]
            axes[2].plot(f_(r["steps"]), f_(r["mean_regret"]), ls, color=col, label=f"d<={d} {STYLE[name][1]}")
            if "bound" in r:
                axes[2].plot(f_(r["steps"]), f_(r["bound"]["curve"]), ls, color=col, lw=0.5)
    axes[2].set(title="B: slowly drifting quadratics (regret < 0: tracking beats the fixed point)", xlabel="T", ylabel="regret")
    for ax in axes:
        ax.legend(fontsize=6)
    fig.suptitle("Delayed multi-agent dual averaging" + (" (quick)" if result.get("quick") else ""))
    fig.tight_layout()
    return fig


@register(
    "online-delays",
    paper="Hsieh, Iutzeler, Malick, Mertikopoulos, Multi-Agent Online Optimization with Delays (JMLR 2022)",
    claims=(
        "regret slope about 1/2 in log-log at fixed delay (adaptive and optimistic)",
        "regret grows with the delay as sqrt(d + 1) (the order's exponent)",
        "explicit bounds hold run by run (undelayed adaptive and optimistic DA; tuned constant step at every delay)",
        "optimism lowers regret on slowly drifting losses",
    ),
    plot=plot,
)
def online_delays(quick: bool = False, progress=lambda msg: None) -> FigureResult:
    cfg = CONFIG["quick" if quick else "full"]
    T, every, n_inst = cfg["T"], cfg["T"] // CONFIG["records"], cfg["instances"]
    data = {"delays": {}, "drift": {}}
    slope_fail, bound_fail = [], []
    for d in cfg["delays"]:
        probs = [online.linear(CONFIG["dim"], T, kind="adversarial", block=d + 1, n_agents=CONFIG["n_agents"],
                               max_delay=d, delay="fixed", key=CONFIG["instance_key0"] + s) for s in range(n_inst)]  # fmt: skip
        row = {}
        for name, factory in METHODS.items():
            algo, tr = _batched_run(factory, probs, T, every)
            reg = np.asarray(tr.regret)
            steps = np.arange(reg.shape[1]) * every
            mean = reg.mean(0)
            lo = int(np.searchsorted(steps, CONFIG["slope_from_fraction"] * T))
            slope = float(bounds.fit_exponent(steps[lo:], np.maximum(mean[lo:], 1e-300))[0]) if np.all(mean[lo:] > 0) else None
            entry = {"steps": steps.tolist(), "mean_regret": mean.tolist(), "final": float(mean[-1]), "slope": slope,
                     "final_sd": float(reg[:, -1].std(ddof=1))}  # fmt: skip
            b = None
            if name == "tuned_dual_averaging":
                b = bounds.tuned_dual_averaging(algo)
            elif name == "delayed_dual_averaging" and d == 0:
                b = bounds.delayed_dual_averaging(algo)
            elif name == "optimistic_dual_averaging" and d == 0:
                b = bounds.optimistic_dual_averaging(algo)
            if b is not None:
                entry["bound"] = _judge(b, tr, steps, f"d={d}", bound_fail)
            if name != "tuned_dual_averaging" and (slope is None or abs(slope - 0.5) > CONFIG["slope_tol"]):
                slope_fail.append(f"{name} d={d}: {slope}")
            row[name] = entry
        data["delays"][str(d)] = row
        progress(f"delay {d} done: adaptive regret {row['delayed_dual_averaging']['final']:.1f}")
    ds = np.array(cfg["delays"], float)
    finals = np.array([data["delays"][str(d)]["delayed_dual_averaging"]["final"] for d in cfg["delays"]])
    scal = bounds.check_scaling(ds + 1.0, finals, 0.5, tol=CONFIG["delay_tol"], mode="tight")
    increasing = bool(np.all(np.diff(finals) > 0))

    drift_fail = []
    TD = cfg["drift_T"]
    for d in cfg["drift_delays"]:
        probs = [online.quadratic(CONFIG["dim"], TD, kind="drifting", period=CONFIG["period"], noise=0.0,
                                  n_agents=CONFIG["drift_agents"], max_delay=d, delay="uniform", key=CONFIG["drift_key0"] + s)
                 for s in range(n_inst)]  # fmt: skip
        row = {}
        for name in ("delayed_dual_averaging", "optimistic_dual_averaging"):
            algo, tr = _batched_run(METHODS[name], probs, TD, TD // CONFIG["records"])
            reg = np.asarray(tr.regret)
            steps = np.arange(reg.shape[1]) * (TD // CONFIG["records"])
            row[name] = {"steps": steps.tolist(),
                         "mean_regret": reg.mean(0).tolist(), "final": float(reg[:, -1].mean()),
                         "final_sd": float(reg[:, -1].std(ddof=1))}  # fmt: skip
            if d == 0:
                b = (bounds.delayed_dual_averaging if name == "delayed_dual_averaging" else bounds.optimistic_dual_averaging)(algo)
                row[name]["bound"] = _judge(b, tr, steps, f"drifting d={d}", bound_fail)
        if not row["optimistic_dual_averaging"]["final"] < row["delayed_dual_averaging"]["final"]:
            drift_fail.append(f"d={d}: optimistic {row['optimistic_dual_averaging']['final']:.2f} >= adaptive "
                              f"{row['delayed_dual_averaging']['final']:.2f}")  # fmt: skip
        data["drift"][str(d)] = row
        progress(f"drift delay {d} done")

    claims = [
        Claim("slope_half", f"log-log slope of the mean regret over T is 0.5 +- {CONFIG['slope_tol']} at every delay",
              not slope_fail, {"failed": slope_fail, "slopes": {d: {m: r["slope"] for m, r in row.items()} for d, row in data["delays"].items()}}),
        Claim("delay_growth", f"final regret increases with d and its exponent in d + 1 is 0.5 +- {CONFIG['delay_tol']}",
              bool(scal["holds"]) and increasing, {**scal, "increasing": increasing, "finals": finals.tolist()}),
        Claim("explicit_bounds", "undelayed adaptive and optimistic DA and tuned-step bounds hold for every run", not bound_fail, {"failed": bound_fail}),
        Claim("optimism_helps", "optimistic DA's mean regret < adaptive DA's on slowly drifting losses, every delay",
              not drift_fail, {"failed": drift_fail}),
    ]  # fmt: skip

    data["delay_fit"] = {"delays": list(cfg["delays"]), "finals": finals.tolist(), "fitted_exponent": scal["fitted_exponent"]}
    config = {**{k: v for k, v in CONFIG.items() if k not in ("quick", "full")}, **cfg}
    return FigureResult(figure=None, data=data, config=config, claims=claims, seed=0)

"""Figure ``runtime-model``: where a decentralized method beats all-reduce gradient descent.

The question of "From promise to practice: realizing high-performance decentralized training"
(a seed paper whose own model cannot be read here), answered with the classical alpha-beta model
of :mod:`bounds.runtime`: time to relative accuracy ``eps`` = iterations x (compute + communication
per iteration). Iterations come from the bounds layer, on the same quadratic instances for both
sides: NIDS's exact instance rate (``bounds.instance``) on a ring and on an exponential graph
(Metropolis weights), and gradient descent's exact rate (``bounds.runtime.centralized_gd``) with
one all-reduce (the faster of ring and binomial tree) per iteration. The plot shows, per
topology and latency, the speed-up time(all-reduce) / time(gossip) over the number of nodes and
the message size (red: decentralized wins).

Claims checked:
* the ring all-reduce formula ``2 (n-1) alpha + 2 (n-1)/n m / beta`` equals the time of its
  schedule played step by step (which also has to produce the sum on every node), to 1e-12;
* the model's iteration counts are those of the runs: each run of NIDS reaches ``eps`` within a
  factor 2 of ``log(eps) / log(r*)`` steps, and each run's instance bound holds run by run
  (``bounds.compare``);
* bandwidth-bound regime (zero latency): all-reduce wins at every size, message and topology
  (per iteration it moves ``2 (n-1)/n m`` bytes per node, gossip ``Delta m``, and it needs fewer
  iterations);
* latency-bound regime (largest latency, smallest message): gossip on the exponential graph
  wins at every n >= 16 (its rounds cost one latency, the all-reduce's ``2 ceil(log2 n)``).
"""

from __future__ import annotations

import math

import numpy as np

import algos
import bounds
from bounds import runtime
from problems import convex, graphs, mixing
from reproduce._registry import Claim, FigureResult, register

#: The figure's configuration (data, not literals inside the computation).
CONFIG = {
    "method": "nids",
    "topologies": ("ring", "exponential"),
    "sizes": (4, 8, 16, 32, 64),
    "sizes_quick": (8, 16),
    "problem": {"dim": 2, "L": 10.0, "mu": 1.0, "key": 0},
    "eps": 1e-6,
    "latencies_s": (0.0, 1e-6, 1e-5, 1e-4),
    "bandwidth_bytes_per_s": 12.5e9,  # 100 Gb/s
    "message_bytes": tuple(float(v) for v in np.logspace(2, 9, 29)),
    "compute_s": 0.0,  # communication only: the regions where communication decides
    "gossip_mode": "concurrent",
    "iteration_factor": 2.0,  # claim 2's tolerance on measured / model iterations, fixed in advance
}


def _instances(sizes, progress):
    out = {}
    pc = CONFIG["problem"]
    for topo in CONFIG["topologies"]:
        for n in sizes:
            g = getattr(graphs, topo)(n)
            W = mixing.metropolis(g)
            p = convex.quadratic(n, pc["dim"], L=pc["L"], mu=pc["mu"], key=pc["key"])
            algo = getattr(algos, CONFIG["method"])(p, W)
            progress(f"{topo}({n}): exact rate of {CONFIG['method']}")
            out[(topo, n)] = {"graph": g, "problem": p, "algo": algo, "bound": bounds.instance(algo),
                              "central": runtime.centralized_gd(p)}  # fmt: skip
    return out


def _measure(inst, eps, progress):
    """Run each instance long enough and find the first step with dist_to_opt <= eps dist_0."""
    rows = {}
    for (topo, n), v in inst.items():
        k_model = runtime.iterations(v["bound"], eps)
        steps = int(math.ceil(3 * k_model / 10) * 10) + 10
        progress(f"{topo}({n}): {steps} steps of {CONFIG['method']}")
        _, tr = algos.run(v["algo"], 0, steps)
        d = np.asarray(tr.dist_to_opt)
        hit = np.flatnonzero(d <= eps * d[0])
        k_run = int(tr.steps[hit[0]]) if len(hit) else None
        rep = bounds.compare(tr, v["bound"], algo=v["algo"])
        rows[f"{topo}({n})"] = {"model_iterations": k_model, "run_iterations": k_run, "holds": rep.holds,
                                "instance_rate": v["bound"].instance_rate, "report": str(rep)}  # fmt: skip
    return rows


def _speedups(inst, sizes, latency):
    net = runtime.Network(latency=latency, bandwidth=CONFIG["bandwidth_bytes_per_s"])
    out = {}
    for topo in CONFIG["topologies"]:
        grid = np.empty((len(sizes), len(CONFIG["message_bytes"])))
        for i, n in enumerate(sizes):
            v = inst[(topo, n)]
            rounds = float(np.asarray(algos.run(v["algo"], 0, 1)[1].communications)[-1])
            for j, m in enumerate(CONFIG["message_bytes"]):
                r = runtime.decentralized_vs_allreduce(
                    v["bound"], v["central"], net, n=n, degree=int(v["graph"].degrees.max()), nbytes=m,
                    eps=CONFIG["eps"], compute=CONFIG["compute_s"], rounds_per_step=rounds, mode=CONFIG["gossip_mode"],
                )  # fmt: skip
                grid[i, j] = r["speedup"]
        out[topo] = grid
    return out


def plot(result: dict):
    """Draw the figure from its result file (``result``: the JSON payload)."""
    import matplotlib.pyplot as plt

    cfg, data = result["config"], result["data"]
    sizes, speed, eps = data["sizes"], data["speedup"], cfg["eps"]
    lats = cfg["latencies_s"]
    topos = cfg["topologies"]
    fig, axes = plt.subplots(len(topos), len(lats), figsize=(3.6 * len(lats), 3.2 * len(topos)), squeeze=False)
    msg = np.asarray(cfg["message_bytes"], dtype=float)
    im = None
    for r, topo in enumerate(topos):
        for c, la in enumerate(lats):
            ax = axes[r, c]
            z = np.log10(np.asarray(speed[f"{la:g}"][topo], dtype=float))
            im = ax.pcolormesh(np.log10(msg), np.arange(len(sizes)), z, cmap="RdBu_r", vmin=-2, vmax=2, shading="nearest")
            if (z > 0).any() and (z < 0).any():
                ax.contour(np.log10(msg), np.arange(len(sizes)), z, levels=[0.0], colors="k", linewidths=1)
            ax.set_yticks(np.arange(len(sizes)), [str(n) for n in sizes])
            ax.set_title(f"{topo}, latency {la:g} s", fontsize=9)
            if r == len(topos) - 1:
                ax.set_xlabel("log10 message bytes")
            if c == 0:
                ax.set_ylabel("nodes n")
    fig.colorbar(im, ax=axes, label="log10 time(all-reduce GD) / time(NIDS gossip)  (>0: decentralized wins)")
    fig.suptitle(f"Time to eps={eps:g} (alpha-beta model, {cfg['bandwidth_bytes_per_s'] / 1e9:g} GB/s, iteration counts from the bounds)",
                 fontsize=10)  # fmt: skip

    return fig


@register(
    "runtime-model",
    "alpha-beta model (Hockney 1994; ring all-reduce: Patarasuk & Yuan 2009; tree: Thakur et al. 2005) "
    "with iteration counts from ratebench's bounds; question of 'From promise to practice' (decentralized training)",
    (
        "ring all-reduce formula equals its simulated schedule",
        "model iteration counts within 2x of the runs; instance bounds hold run by run",
        "zero latency: all-reduce wins everywhere",
        "largest latency, smallest message: gossip on the exponential graph wins for n >= 16",
    ),
    plot=plot,
)
def runtime_model(quick: bool = False, progress=lambda msg: None) -> FigureResult:
    sizes = CONFIG["sizes_quick"] if quick else CONFIG["sizes"]
    eps = CONFIG["eps"]
    claims = []

    # 1. the closed form against the schedule
    net = runtime.Network(latency=1e-5, bandwidth=CONFIG["bandwidth_bytes_per_s"])
    sched = {}
    for n in sorted(set(sizes) | {2, 3, 7}):
        for m in (1e3, 1e6):
            t_sim, _ = runtime.simulate_ring_allreduce(net, n, m)
            t_formula = runtime.ring_allreduce_time(net, n, m)
            sched[f"n={n}, m={m:g}"] = {"simulated": t_sim, "formula": t_formula}
    bad = {k: v for k, v in sched.items() if abs(v["simulated"] - v["formula"]) > 1e-12 * v["formula"]}
    claims.append(Claim("ring_allreduce_schedule", "ring all-reduce formula equals its simulated schedule (rel. 1e-12)",
                        not bad, {"mismatches": bad, "checked": len(sched)}))  # fmt: skip

    # 2. iteration counts of the model against runs
    inst = _instances(sizes, progress)
    runs = _measure(inst, eps, progress)
    f = CONFIG["iteration_factor"]
    off = {k: v for k, v in runs.items()
           if v["run_iterations"] is None or not (1 / f <= v["run_iterations"] / v["model_iterations"] <= f)}  # fmt: skip
    broken = {k: v["report"] for k, v in runs.items() if v["holds"] is not True}
    claims.append(Claim(
        "iterations_from_bounds",
        f"each run reaches eps={eps:g} within a factor {f:g} of log(eps)/log(r*) steps, and its instance bound holds",
        not off and not broken,
        {"runs": {k: {kk: vv for kk, vv in v.items() if kk != "report"} for k, v in runs.items()},
         "off": list(off), "bound_not_holding": broken},
    ))  # fmt: skip

    # 3./4. regions
    speed = {lat: _speedups(inst, sizes, lat) for lat in CONFIG["latencies_s"]}
    zero = speed[0.0]
    dec_wins_at_zero = {t: int((g >= 1.0).sum()) for t, g in zero.items()}
    claims.append(Claim("bandwidth_bound", "zero latency: all-reduce faster at every size, message and topology",
                        all(v == 0 for v in dec_wins_at_zero.values()),
                        {"cells_where_decentralized_wins": dec_wins_at_zero,
                         "max_speedup": {t: float(g.max()) for t, g in zero.items()}}))  # fmt: skip
    lat = max(CONFIG["latencies_s"])
    corner = {n: float(speed[lat]["exponential"][i, 0]) for i, n in enumerate(sizes) if n >= 16}
    claims.append(Claim(
        "latency_bound",
        f"latency {lat:g} s, {CONFIG['message_bytes'][0]:g}-byte messages: gossip on the exponential graph faster for n >= 16",
        bool(corner) and all(v > 1.0 for v in corner.values()),
        {"speedup": corner, "ring_speedup": {n: float(speed[lat]["ring"][i, 0]) for i, n in enumerate(sizes)}},
    ))  # fmt: skip

    data = {
        "sizes": list(sizes),
        "speedup": {f"{la:g}": {t: g.tolist() for t, g in speed[la].items()} for la in CONFIG["latencies_s"]},
        "runs": claims[1].details["runs"],
        "schedule": sched,
    }
    config = {k: (list(v) if isinstance(v, tuple) else v) for k, v in CONFIG.items()}
    return FigureResult(figure=None, data=data, config=config, claims=claims, seed=0)

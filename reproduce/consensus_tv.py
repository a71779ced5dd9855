"""Figure ``consensus-tv``: does consensus acceleration survive a changing graph?

Metelev, Rogozin, Kovalev & Gasnikov (ICML 2023; extended, arXiv:2307.12562; abstracts only):
for randomly changing networks with the Markov property acceleration is possible (with their
consensus algorithm, not readable, not implemented); under deterministic worst-case changes it
is impossible even if only two edges change per step. We run plain, heavy-ball and Chebyshev
consensus (:mod:`algos.consensus.time_varying`) on four sequence kinds over one family of graphs,
the n-ring minus one edge (paths; every snapshot has the same spectrum, so the accelerated methods
are tuned on it exactly):

* ``static``: the cut never moves;
* ``markov``: the cut jumps to a uniformly drawn other edge with probability ``velocity`` per step
  (a slowly changing Markov sequence; each jump changes two edges);
* ``activation``: each edge of the ring active independently with probability ``p`` per step
  (snapshots disconnected; the accelerated methods are tuned on the interval of the expected matrix
  ``E[W_t]``, our choice);
* ``worst``: the cut moved at every step by a greedy adversary against the accelerated method
  (:func:`algos.consensus.time_varying.adversarial_cuts`; two edges change per step), one sequence
  built against heavy ball and one against Chebyshev; plain gossip runs on both.

Claims: the product bound ``||X_K - x_bar|| <= prod ||W_k - J|| ||X_0 - x_bar||`` holds at every step
of every plain-gossip run; acceleration survives the slow Markov sequence (both accelerated methods
reach the accuracy ``EPS`` at least ``SPEEDUP`` times sooner than plain gossip on the same
sequence); it is lost under the two-edge worst case (the accelerated method built against does
not reach ``EPS`` sooner than plain gossip on that sequence, or never reaches it). A sweep over ring
sizes is recorded as information: the greedy adversary is not a certified worst case (measured:
at n = 12 Chebyshev still beats plain gossip on the sequence built against it, 169 vs 201 rounds).
"""

from __future__ import annotations

import numpy as np

import algos
import bounds
from algos.consensus.time_varying import adversarial_cuts
from problems import convex, graphs, mixing
from reproduce._registry import Claim, FigureResult, register
from reproduce._style import METHOD_STYLE

EPS = 1e-6
SPEEDUP = 3.0
METHODS = ("gossip", "heavy_ball_gossip", "chebyshev_gossip")


#: Sizes (quick / full) and the settings every run shares (seed: the instance key and the Markov seeds).
CONFIG = {
    "quick": {"n": 16, "worst_case_sweep_n": [10, 12, 16], "velocity_sweep": [0.001, 0.1, 0.5], "steps": 800},
    "full": {"n": 24, "worst_case_sweep_n": [10, 12, 16, 20, 24], "velocity_sweep": [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 0.5, 1.0], "steps": 4000},
    "shared": {
        "dim": 3,
        "velocity": 0.01,
        "activation_p": 0.7,
        "rule": "metropolis",
        "eps": EPS,
        "speedup": SPEEDUP,
        "seed": 0,
    },
}


def config(quick: bool) -> dict:
    return {**CONFIG["quick" if quick else "full"], **CONFIG["shared"]}


def _rounds_to(err, eps):
    hit = np.flatnonzero(np.asarray(err) <= eps * err[0])
    return int(hit[0]) if hit.size else None


def _sequences(cfg, x0):
    n, K, seed = cfg["n"], cfg["steps"], cfg["seed"]
    pool = [graphs.moving_cut(n, [c])[0] for c in range(n)]
    out = {
        "static": graphs.moving_cut(n, np.zeros(K, dtype=int)),
        "markov": graphs.markov_switching(pool, graphs.lazy_transition(n, cfg["velocity"]), K, seed=seed),
        "activation": graphs.random_edge_activation(graphs.ring(n), cfg["activation_p"], K, seed=seed),
        "worst_vs_heavy_ball": graphs.moving_cut(n, adversarial_cuts(n, K, x0, "heavy_ball", rule=cfg["rule"])),
        "worst_vs_chebyshev": graphs.moving_cut(n, adversarial_cuts(n, K, x0, "chebyshev", rule=cfg["rule"])),
    }
    return {k: mixing.sequence_weights(v, cfg["rule"]) for k, v in out.items()}, {k: v.edges_changed() for k, v in out.items()}


def _run(method, p, seq, K):
    kw = {}
    if method != "gossip" and not seq.connected.all():
        sp = mixing.spectrum(seq.weights.mean(axis=0))
        kw = {"spectrum": (sp.lambda_n, sp.lambda_2)}
        if method == "heavy_ball_gossip":
            kw["check"] = False
    algo = getattr(algos, method)(p, seq, **kw)
    _, tr = algos.run(algo, 0, K)
    return algo, tr


def plot(result: dict):
    """Draw the figure from its result file (``result``: the JSON payload; curves every ``curve_stride`` rounds)."""
    import matplotlib.pyplot as plt

    data = result["data"]
    curves, stride, K, n = data["curves"], data["curve_stride"], data["steps"], data["n"]
    kinds = list(curves)
    fig, axes = plt.subplots(1, len(kinds), figsize=(4.0 * len(kinds), 4.0), sharey=True)
    k = np.arange(0, K + 1, stride)
    for ax, kind in zip(axes, kinds):
        for m in METHODS:
            st = METHOD_STYLE[m]
            c = np.asarray(curves[kind][m], dtype=float)
            ax.semilogy(k, c / c[0], color=st["color"], label=st["label"])
        ax.semilogy(k, np.asarray(curves[kind]["product_bound"], dtype=float) / curves[kind]["gossip"][0], color="k", ls=":", lw=0.8, label="∏‖W_t − J‖ (bound)")
        ax.set_title(kind.replace("_", " "), fontsize=10)
        ax.set_xlabel("gossip rounds")
        ax.set_ylim(1e-16, 1e4)
    axes[0].set_ylabel("consensus error / initial")
    axes[0].legend(fontsize=7)
    fig.suptitle(f"Consensus over ring-minus-one-edge paths, n = {n} (accelerated runs cut at blow-up: NaN)", fontsize=10)
    fig.tight_layout()
    return fig


@register(
    "consensus-tv",
    paper="Metelev et al., Is Consensus Acceleration Possible ... Slowly Time-Varying Networks? (ICML 2023; arXiv:2307.12562)",
    claims=(
        "product bound prod_k ||W_k - J|| holds at every step of every plain-gossip run",
        "acceleration survives the slow Markov sequence (heavy ball and Chebyshev reach eps >= 3x sooner than gossip)",
        "acceleration is lost under the two-edge deterministic worst case (no faster than plain gossip)",
    ),
    plot=plot,
)
def consensus_tv(quick: bool = False, progress=lambda m: None) -> FigureResult:
    cfg = config(quick)
    n, K = cfg["n"], cfg["steps"]
    p = convex.averaging(n, cfg["dim"], key=cfg["seed"])
    x0 = np.asarray(p.data["b"])
    progress("building sequences (the adversary simulates the methods)")
    seqs, changed = _sequences(cfg, x0)
    curves, summary, product = {}, {}, {}
    for kind, seq in seqs.items():
        progress(f"running {kind}")
        curves[kind], summary[kind] = {}, {}
        for m in METHODS:
            algo, tr = _run(m, p, seq, K)
            err = np.asarray(tr.consensus_error)
            curves[kind][m] = err
            final = err[np.isfinite(err)][-1]
            summary[kind][m] = {
                "rounds_to_eps": _rounds_to(np.nan_to_num(err, nan=np.inf), cfg["eps"]),
                "final_error": float(err[-1]) if np.isfinite(err[-1]) else None,
                "last_finite_error": float(final),
                "diverged": bool(tr.diverged),
            }
            if m == "gossip":
                rep = bounds.compare(tr, bounds.gossip_product(algo), algo=algo)
                product[kind] = {"holds": rep.holds, "message": rep.message, "worst_ratio": rep.worst_ratio}
                curves[kind]["product_bound"] = err[0] * seq.product_factors(K)
        summary[kind]["edges_changed_per_step"] = {"mean": float(changed[kind].mean()), "max": int(changed[kind].max())}

    claims = []
    ok = all(v["holds"] is True for v in product.values())
    claims.append(Claim("product_bound", "plain gossip: ||X_k - x_bar|| <= prod_{t<k} ||W_t - J||_2 ||X_0 - x_bar|| at every step, every sequence", ok, product))

    def speedup(kind, m):
        g, a = summary[kind]["gossip"]["rounds_to_eps"], summary[kind][m]["rounds_to_eps"]
        if a is None:
            return 0.0
        if g is None:
            return float("inf")
        return g / max(a, 1)

    sp = {kind: {m: speedup(kind, m) for m in METHODS[1:]} for kind in ("static", "markov")}
    ok = all(v >= cfg["speedup"] for v in sp["markov"].values())
    claims.append(Claim("acceleration_survives_markov", f"slow Markov sequence (velocity {cfg['velocity']}): heavy ball and Chebyshev reach eps={cfg['eps']:g} at least {cfg['speedup']:g}x sooner than gossip", ok, sp))

    lost = {}
    for kind, m in (("worst_vs_heavy_ball", "heavy_ball_gossip"), ("worst_vs_chebyshev", "chebyshev_gossip")):
        g, a = summary[kind]["gossip"], summary[kind][m]
        not_sooner = a["rounds_to_eps"] is None or (g["rounds_to_eps"] is not None and a["rounds_to_eps"] >= g["rounds_to_eps"])
        lost[kind] = {"method": m, "not_sooner": bool(not_sooner), "accelerated": a, "gossip": g}
    ok = all(v["not_sooner"] for v in lost.values())
    claims.append(Claim("acceleration_lost_worst_case", "two-edge deterministic worst case: the accelerated method it is built against is no faster than plain gossip", ok, lost))

    # speed-up against the Markov velocity (information: the regimes of change velocity)
    vel = {}
    pool = [graphs.moving_cut(n, [c])[0] for c in range(n)]
    for v in cfg["velocity_sweep"]:
        progress(f"velocity sweep v = {v}")
        sv = mixing.sequence_weights(graphs.markov_switching(pool, graphs.lazy_transition(n, v), K, seed=cfg["seed"]), cfg["rule"])
        r = {m: _rounds_to(np.nan_to_num(np.asarray(_run(m, p, sv, K)[1].consensus_error), nan=np.inf), cfg["eps"]) for m in METHODS}
        # gossip not at eps within K rounds: the speed-up is at least K / rounds (flagged)
        g_r = r["gossip"] if r["gossip"] is not None else K
        vel[str(v)] = {"rounds_to_eps": r, "speedup_is_lower_bound": r["gossip"] is None,
                       "speedup": {m: (None if r[m] is None else g_r / max(r[m], 1)) for m in METHODS[1:]}}  # fmt: skip
    claims.append(Claim("velocity_sweep_information", "information (not a paper claim): rounds to eps and speed-up over gossip against the Markov switching probability", True, vel))

    # worst case across ring sizes (information: the greedy adversary is not a certified worst case)
    sweep = {}
    for n2 in cfg["worst_case_sweep_n"]:
        progress(f"worst-case sweep n = {n2}")
        p2 = convex.averaging(n2, cfg["dim"], key=cfg["seed"])
        x2 = np.asarray(p2.data["b"])
        sweep[n2] = {}
        for against, m in (("heavy_ball", "heavy_ball_gossip"), ("chebyshev", "chebyshev_gossip")):
            seq2 = mixing.sequence_weights(graphs.moving_cut(n2, adversarial_cuts(n2, K, x2, against, rule=cfg["rule"])), cfg["rule"])
            r = {}
            for mm in ("gossip", m):
                e = np.nan_to_num(np.asarray(_run(mm, p2, seq2, K)[1].consensus_error), nan=np.inf)
                r[mm] = _rounds_to(e, cfg["eps"])
            sweep[n2][against] = r
    exceptions = [f"n={n2} vs {a}: {r}" for n2, v in sweep.items() for a, r in v.items()
                  if r[[k for k in r if k != "gossip"][0]] is not None and (r["gossip"] is None or r[[k for k in r if k != "gossip"][0]] < r["gossip"])]  # fmt: skip
    claims.append(Claim("worst_case_sweep_information", "information (not a paper claim): sizes where the greedy two-edge adversary fails to make the accelerated method slower than gossip", True,
                        {"rounds_to_eps": {str(k): v for k, v in sweep.items()}, "exceptions": exceptions}))  # fmt: skip

    stride = max(1, K // 500)  # the results file (and so the plot) keeps every stride-th round
    data = {"n": n, "steps": K, "velocity_sweep": vel, "worst_case_sweep": {str(k): v for k, v in sweep.items()}, "curve_stride": stride,
            "curves": {kk: {m: v[::stride].tolist() for m, v in c.items()} for kk, c in curves.items()}, "summary": summary, "product_bound": product}
    return FigureResult(figure=None, data=data, config=cfg, claims=claims, seed=cfg["seed"])

"""Figure ``stackelberg``: best response versus manipulation in repeated Stackelberg games.

Yu & Chen, "Decentralized Online Learning in General-Sum Stackelberg Games" (UAI 2024): the claims of
its abstract (VERIFIED) checked on ratebench's construction of the setting (``algos/games/stackelberg.py``
says which rule comes from where). Games: the 2x2 game of :func:`problems.games.manipulation_game` (manipulation pays) and random 4x4
games drawn under the minimum-gap assumption (:func:`problems.games.random_game` with ``min_gap``:
every identification gap of :meth:`problems.games.Game.gaps` at least ``min_gap``, a contract of the
generator fixed before any run was judged); leaders EXP3 (Auer et al. 2002, Corollary 3.2's gamma for
the horizon) and UCB1; followers best response (UCB1 on its own rewards), FBM and FMUCB. Every run is
repeated over seeds (``jax.vmap``); numbers are seed means. A few unconditioned random games
(``min_gap=0``) are run too and reported as information, never judged (their gaps can be arbitrarily
small: no finite horizon serves them all).

Horizon. ``T`` is chosen for ``min_gap`` (``delta``) a priori, so that the exploration a learner needs
at gap ``delta`` is at most ``T / 8`` (checked by :func:`horizon_check`, recorded in the results; a
configuration that violates it is refused): a UCB1 learner with ``K`` arms pulls each suboptimal arm
about ``2 ln T / delta^2`` times (the noise-free scale of its index ``sqrt(2 ln n / n_a)``); EXP3 with
rate ``gamma`` needs about ``K / (gamma delta)`` rounds for its log-weights to separate by one unit at
gap ``delta`` (the mean-field scale of its update ``gamma x_hat / K``) and spends ``gamma T / K`` rounds
per arm exploring. These are scales (ratebench's, not bounds), used only to size the runs.

Claims (thresholds are ratebench's choices, in ``CONFIG``):
* under best response, play concentrates on the Stackelberg equilibrium: in the last quarter of the
  rounds its pair is the most frequent and has frequency > 1/2 (the 2x2 game and every gap-conditioned
  random game, both leaders; the unconditioned games are information);
* under FBM and FMUCB, play concentrates on the best manipulation (same test), with a higher follower
  reward than under best response on every game where manipulation pays (games where it does not
  are reported, not judged);
* FMUCB's error rounds (the follower does not play its best manipulation) grow sublinearly: the exponent
  of the mean error-round count fitted over T (log-log, from T/10 to T) is below ``sublinear_max``;
* the leader's classical explicit bounds hold on the seed means where their conditions do (FBM
  follower): EXP3 (Auer et al. 2002, Thm 3.1) and UCB1 (Auer et al. 2002, Thm 1).
"""

from __future__ import annotations

import numpy as np

import algos
import bounds
from problems import games
from reproduce._registry import Claim, FigureResult, register

CONFIG = {
    "quick": {"T": 25000, "seeds": 8, "n_random": 2, "min_gap": 0.15, "n_unconditioned": 0, "records": 100},
    "full": {"T": 80000, "seeds": 12, "n_random": 6, "min_gap": 0.1, "n_unconditioned": 2, "records": 200},
    "random_shape": (4, 4),
    "exploration_fraction_max": 0.125,  # horizon_check: predicted exploration <= T / 8
    "last_fraction": 0.25,
    "concentration_min": 0.5,
    "sublinear_max": 0.9,
    "fit_from_fraction": 0.1,
    "run_key": 0,  # jax.random.PRNGKey(run_key) split into one key per seed
    "random_game_key0": 0,  # random games use keys random_game_key0 + 0..n_random-1
}
LEADERS = ("exp3", "ucb")
FOLLOWERS = ("best_response", "fbm", "fmucb")
STYLE = {"best_response": ("#1f77b4", "best response"), "fbm": ("#d62728", "FBM"), "fmucb": ("#2ca02c", "FMUCB")}


def horizon_check(T: int, delta: float, n_leader: int, n_follower: int) -> dict:
    """Predicted exploration (rounds) at gap ``delta`` against ``T``: the scales of the module docstring.

    ``ucb_follower = (n_follower - 1) 2 ln T / delta^2`` (one leader row), ``ucb_leader = (n_leader - 1)
    2 ln T / delta^2``, ``exp3_leader = K / (gamma delta) + gamma T / K`` with Corollary 3.2's ``gamma``;
    ``ok`` when each is at most ``exploration_fraction_max * T``.
    """
    from algos.games.stackelberg import exp3_gamma

    g = exp3_gamma(n_leader, T) if n_leader >= 2 else 1.0
    pred = {
        "ucb_follower": float((n_follower - 1) * 2.0 * np.log(T) / delta**2),
        "ucb_leader": float((n_leader - 1) * 2.0 * np.log(T) / delta**2),
        "exp3_leader": n_leader / (g * delta) + g * T / n_leader,
    }
    cap = CONFIG["exploration_fraction_max"] * T
    return {"T": T, "delta": delta, "predicted": pred, "cap": cap, "ok": bool(all(v <= cap for v in pred.values()))}


def _batch(algo, T, every, seeds):
    import jax

    keys = jax.random.split(jax.random.PRNGKey(CONFIG["run_key"]), seeds)
    return jax.vmap(lambda k: algos.run(algo, k, T, record_every=every)[1])(keys)


def _one_game(g, cfg, progress, label, judged=True):
    T, every, S = cfg["T"], cfg["T"] // cfg["records"], cfg["seeds"]
    out = {"stackelberg_equilibrium": g.stackelberg_equilibrium, "best_manipulation": g.best_manipulation,
           "manipulation_pays": g.manipulation_pays, "gaps": g.gaps(), "judged": judged, "leader_means": g.rewards()[0].tolist(),
           "follower_means": g.rewards()[1].tolist(), "runs": {}}  # fmt: skip
    for leader in LEADERS:
        for follower in FOLLOWERS:
            algo = algos.stackelberg(g, leader, follower, horizon=T)
            tr = _batch(algo, T, every, S)
            pc = np.asarray(tr.pair_counts)  # (S, R+1, nL, nF)
            steps = np.asarray(tr.steps) if np.ndim(tr.steps) == 1 else np.arange(pc.shape[1]) * every
            j0 = int(round((1 - CONFIG["last_fraction"]) * (pc.shape[1] - 1)))
            last = (pc[:, -1] - pc[:, j0]).mean(0)
            last = last / last.sum()
            target = algo.hparams["target"]
            er = np.asarray(tr.error_rounds).mean(0)
            run = {
                "target": target,
                "last_quarter_freq": last.tolist(),
                "target_freq_last": float(last[target]),
                "target_is_mode": bool(np.argmax(last.ravel()) == target[0] * last.shape[1] + target[1]),
                "follower_reward_per_round": float(np.asarray(tr.follower_reward)[:, -1].mean() / T),
                "leader_reward_per_round": float(np.asarray(tr.leader_reward)[:, -1].mean() / T),
                "steps": steps.tolist(),
                "follower_reward_curve": (np.asarray(tr.follower_reward).mean(0) / np.maximum(steps, 1)).tolist(),
                "error_rounds": er.tolist(),
                "leader_regret": np.asarray(tr.leader_regret).mean(0).tolist(),
                "target_freq_curve": _window_freq(pc, target).tolist(),
            }
            if follower == "fmucb":
                lo = int(np.searchsorted(steps, CONFIG["fit_from_fraction"] * T))
                sel = slice(max(lo, 1), None)
                ok = er[sel] > 0
                run["error_exponent"] = (
                    float(bounds.fit_exponent(steps[sel][ok], er[sel][ok])[0]) if ok.sum() >= 3 else None
                )
                # information: rounds off the target pair (the leader avoiding a* is not an "error round")
                off = np.asarray(tr.off_target_rounds).mean(0)
                ok2 = off[sel] > 0
                run["off_target_exponent"] = (
                    float(bounds.fit_exponent(steps[sel][ok2], off[sel][ok2])[0]) if ok2.sum() >= 3 else None
                )
            if follower == "fbm":
                b = bounds.stackelberg_exp3(algo) if leader == "exp3" else bounds.stackelberg_ucb(algo)
                rep = bounds.compare(tr, b, algo=algo)
                run["leader_bound"] = {"name": b.name, "holds": rep.holds, "worst_ratio": rep.worst_ratio,
                                       "envelope": b.curve(steps).tolist(), "message": rep.message}  # fmt: skip
            out["runs"][f"{leader}/{follower}"] = run
        progress(f"{label}: {leader} done")
    return out


def _window_freq(pc, target):
    """Per-record frequency of the target pair among the rounds since the previous record (seed mean)."""
    d = np.diff(pc, axis=1).mean(0)  # (R, nL, nF)
    tot = d.reshape(d.shape[0], -1).sum(1)
    return np.concatenate([[np.nan], d[:, target[0], target[1]] / np.maximum(tot, 1e-300)])


def plot(result: dict):
    """Draw the figure from its result file (``result``: the JSON payload)."""
    import matplotlib.pyplot as plt

    data = result["data"]

    def f_(v):
        return np.asarray(v, dtype=float)  # null (non-finite) -> nan

    fig, axes = plt.subplots(2, 3, figsize=(16, 9))
    g2 = data["2x2"]
    for leader, ls in (("exp3", "-"), ("ucb", "--")):
        for f in FOLLOWERS:
            r = g2["runs"][f"{leader}/{f}"]
            c, lab = STYLE[f]
            axes[0, 0].plot(f_(r["steps"]), f_(r["target_freq_curve"]), ls, color=c, label=f"{leader} / {lab} -> {tuple(r['target'])}")
            axes[0, 1].plot(f_(r["steps"])[1:], f_(r["follower_reward_curve"])[1:], ls, color=c, label=f"{leader} / {lab}")
            if f == "fmucb":
                st = np.asarray(r["steps"][1:])
                axes[0, 2].loglog(st, np.maximum(f_(r["error_rounds"])[1:], 1e-1), ls, color=c, label=f"{leader} / FMUCB")
            if f == "fbm":
                axes[1, 2].plot(f_(r["steps"]), f_(r["leader_regret"]), ls, color="k", label=f"{leader} leader regret (FBM)")
                axes[1, 2].plot(f_(r["steps"]), f_(r["leader_bound"]["envelope"]), ls, color="grey", label=f"{r['leader_bound']['name']}")
    st = np.asarray(g2["runs"]["exp3/fmucb"]["steps"][1:], float)
    axes[0, 2].loglog(st, st, ":", color="grey", label="slope 1")
    axes[0, 0].set(title="2x2: frequency of each rule's target pair", xlabel="round", ylabel="frequency (window)")
    axes[0, 1].axhline(g2["follower_means"][g2["best_manipulation"][0]][g2["best_manipulation"][1]], color="#d62728", lw=0.6)
    axes[0, 1].axhline(g2["follower_means"][g2["stackelberg_equilibrium"][0]][g2["stackelberg_equilibrium"][1]], color="#1f77b4", lw=0.6)
    axes[0, 1].set(title="2x2: follower's average reward", xlabel="round", ylabel="cumulative / t")
    axes[0, 2].set(title="2x2: FMUCB error rounds", xlabel="round", ylabel="rounds without best manipulation")
    axes[1, 2].set(title="2x2: leader regret vs explicit bound (seed mean)", xlabel="round", yscale="symlog")
    names = [n for n in data if n != "2x2"]
    x = np.arange(len(names))
    for i, f in enumerate(FOLLOWERS):
        c, lab = STYLE[f]
        axes[1, 0].bar(x + (i - 1) * 0.27, [data[n]["runs"][f"exp3/{f}"]["follower_reward_per_round"] for n in names], 0.27, color=c, label=lab)
        axes[1, 1].bar(x + (i - 1) * 0.27, [data[n]["runs"][f"exp3/{f}"]["target_freq_last"] for n in names], 0.27, color=c, label=lab)
    for ax in (axes[1, 0], axes[1, 1]):
        ax.set_xticks(x, [n.replace("unconditioned4x4", "u").replace("random4x4", "4x4") + ("" if data[n]["manipulation_pays"] else "*") for n in names], fontsize=7)
    axes[1, 0].set(title="4x4, EXP3: follower reward/round (*: no gain; u: not judged)")
    axes[1, 1].set(title="4x4, EXP3: target-pair freq., last quarter", ylim=(0, 1))
    for ax in axes.ravel():
        ax.legend(fontsize=6)
    fig.suptitle("Stackelberg learning: best response vs manipulation" + (" (quick)" if result.get("quick") else ""))
    fig.tight_layout()
    return fig


@register(
    "stackelberg",
    paper="Yu & Chen, Decentralized Online Learning in General-Sum Stackelberg Games (UAI 2024); "
    "Auer et al. 2002 (EXP3, UCB1) for the leader's explicit bounds",
    claims=(
        "best response: play concentrates on the Stackelberg equilibrium",
        "FBM and FMUCB: play concentrates on the best manipulation",
        "manipulation gives the follower a higher reward than best response (games where it pays)",
        "FMUCB's error rounds grow sublinearly (fitted exponent over T below 0.9)",
        "EXP3 (Thm 3.1) and UCB1 (Thm 1) regret bounds hold on seed means for the leader against FBM",
    ),
    plot=plot,
)
def stackelberg(quick: bool = False, progress=lambda msg: None) -> FigureResult:
    cfg = CONFIG["quick" if quick else "full"]
    shape = CONFIG["random_shape"]
    hc = horizon_check(cfg["T"], cfg["min_gap"], *shape)
    if not hc["ok"]:
        raise ValueError(f"stackelberg: T={cfg['T']} is too short for min_gap={cfg['min_gap']}: {hc}")
    k0 = CONFIG["random_game_key0"]
    game_list = [("2x2", games.manipulation_game(), True)]
    game_list += [(f"random4x4#{k}", games.random_game(*shape, key=k0 + k, min_gap=cfg["min_gap"]), True) for k in range(cfg["n_random"])]
    game_list += [(f"unconditioned4x4#{k}", games.random_game(*shape, key=k0 + k), False) for k in range(cfg["n_unconditioned"])]
    data = {name: _one_game(g, cfg, progress, name, judged) for name, g, judged in game_list}
    information = {n: {"gaps": d["gaps"], **{k: {"target_freq_last": r["target_freq_last"], "error_exponent": r.get("error_exponent"),
                   "follower_reward_per_round": r["follower_reward_per_round"]} for k, r in d["runs"].items()}}
                   for n, d in data.items() if not d["judged"]}  # fmt: skip

    conc_br, conc_m, reward_fail, reward_judged, not_paying, sub_fail, bound_fail = [], [], [], 0, [], [], []
    exponents = {}
    for name, gd in data.items():
        if not gd["judged"]:
            continue
        if not gd["manipulation_pays"]:
            not_paying.append(name)
        for leader in LEADERS:
            runs = {f: gd["runs"][f"{leader}/{f}"] for f in FOLLOWERS}
            for f, r in runs.items():
                ok = r["target_is_mode"] and r["target_freq_last"] > CONFIG["concentration_min"]
                if not ok:
                    (conc_br if f == "best_response" else conc_m).append(f"{name} {leader}/{f}: {r['target_freq_last']:.3f}")
            if gd["manipulation_pays"]:
                reward_judged += 1
                br = runs["best_response"]["follower_reward_per_round"]
                for f in ("fbm", "fmucb"):
                    if not runs[f]["follower_reward_per_round"] > br:
                        reward_fail.append(f"{name} {leader}/{f}: {runs[f]['follower_reward_per_round']:.4f} <= {br:.4f}")
            e = runs["fmucb"].get("error_exponent")
            exponents[f"{name} {leader}"] = e
            if e is not None and not e < CONFIG["sublinear_max"]:
                sub_fail.append(f"{name} {leader}: {e:.3f}")
            lb = runs["fbm"]["leader_bound"]
            if lb["holds"] is not True:
                bound_fail.append(f"{name} {leader}: {lb['message']}")

    claims = [
        Claim("br_concentrates_on_equilibrium", "under best response the Stackelberg pair is the most frequent, freq > 1/2, "
              f"in the last quarter (the 2x2 game and every random game, drawn with every gap >= {cfg['min_gap']}; both leaders)",
              not conc_br, {"failed": conc_br}),
        Claim("manipulation_concentrates", "under FBM and FMUCB the best-manipulation pair is the most frequent, freq > 1/2, "
              "in the last quarter (same games)", not conc_m, {"failed": conc_m}),
        Claim("manipulation_pays", "FBM and FMUCB give the follower a higher mean reward than best response wherever the "
              "best manipulation is worth more than the equilibrium", not reward_fail and reward_judged > 0,
              {"failed": reward_fail, "judged_game_leader_pairs": reward_judged, "games_where_it_does_not_pay": not_paying}),
        Claim("error_rounds_sublinear", f"FMUCB's mean error rounds: exponent fitted over T < {CONFIG['sublinear_max']}",
              not sub_fail and all(v is not None for v in exponents.values()), {"exponents": exponents, "failed": sub_fail}),
        Claim("leader_explicit_bounds", "EXP3 Thm 3.1 / UCB1 Thm 1 envelopes hold for the seed-mean leader regret "
              "against FBM (every game)", not bound_fail, {"failed": bound_fail}),
    ]  # fmt: skip

    config = {**{k: v for k, v in CONFIG.items() if k not in ("quick", "full")}, **cfg, "leaders": LEADERS, "followers": FOLLOWERS,
              "horizon_check": hc, "unconditioned_games_not_judged": information}  # fmt: skip
    return FigureResult(figure=None, data=data, config=config, claims=claims, seed=0)

"""Figure ``dsgd-rates``: D-SGD's constant-step neighbourhood versus step size, sigma^2, n, p and tau.

Koloskova, Loizou, Boreiri, Jaggi, Stich, "A Unified Theory of Decentralized SGD with Changing
Topology and Local Updates" (ICML 2020): the orders of its three terms (RECALLED, abstract verified;
:mod:`bounds.stochastic.dsgd_local`), checked as log-log slopes of the stationary level of
:func:`algos.dsgd` (``local_steps=tau``; a :class:`problems.mixing.MixingSequence` for the changing
topology) on strongly convex quadratics (:func:`problems.convex.quadratic`, Gaussian noise).

Gossip matrices ``W_gamma = (1 - gamma) I + gamma 11^T/n`` (every non-consensus eigenvalue is
``1 - gamma``, so ``p = 1 - (1 - gamma)^2`` is set exactly and does not change with n; ratebench's
choice to separate n from p). Stationary levels: the mean of the recorded metric over the last
``window`` steps (a multiple of tau and of the sequence length) after ``burn`` steps, averaged over
``seeds`` runs (noise-free runs are deterministic and converge to a periodic orbit).

Panels and stated exponents (``NEIGHBOURHOOD_EXPONENTS``):
* A: ``E f(x_bar) - f*`` vs alpha (``zeta = 0``): 1; B: vs sigma^2: 1;
* C: vs n (fixed p): -1, the linear speed-up;
* D: consensus distance ``Xi`` vs p: -1 (noise only), -2 (heterogeneity only);
* E: ``Xi`` vs tau: 1 (noise only), 2 (heterogeneity only);
* G: the non-convex regime (:func:`problems.nonconvex.logcosh_regression`, started at its reference
  stationary point, offset by 0.1): ``E||grad f(x_bar)||^2`` vs alpha: 1, vs n: -1 (the noise term, linear
  speed-up). Each n is a new data set, with its own Hessian at ``x_ref``; the n panel divides the level by
  the instance constant ``c(H) = (1/d) sum_k lam_k/(2 - alpha lam_k)`` of the linearization at ``x_ref``
  (ours), which the order hides; the raw slope is reported beside it (``raw_fitted``);
* F: changing topology (random ring swaps, metropolis weights): ``Xi`` and ``f(x_bar) - f*`` vs alpha,
  heterogeneity only: 2 and 2.
Claim per panel: ``|fitted - stated| <= slope_tol`` (ratebench's tolerance, fixed before the runs).

Regime. The orders are the leading terms for ``alpha L << p`` (a step small against the mixing): the
gradient contraction ``(1 - alpha lambda)`` of each local step also shrinks the deviations, so with
``alpha L`` comparable to ``p`` (or ``alpha tau L`` to ``p``) the consensus distance is smaller than
the order and the fitted slopes flatten (a first version of this figure, with alpha = 0.01 in D
and 0.005 in E, measured -0.36, -0.76, 0.71 and 1.38 instead of -1, -2, 1, 2). The consensus panels
therefore use ``alpha L <= 0.004 p``-scale steps, start at ``x*`` (so only the consensus transient,
of length about ``1/p``, has to pass), and panel F uses ``mu = 2`` and a long burn-in ``det_burn``
for its noise-free runs, whose optimality gap approaches its ``alpha^2`` level at rate ``alpha mu``.
"""

from __future__ import annotations

import numpy as np

from reproduce._registry import Claim, FigureResult, register

CONFIG = {
    "quick": {"seeds": 8, "burn": 3000, "window": 2048, "points": 3},
    "full": {"seeds": 24, "burn": 6000, "window": 4096, "points": 4},
    "n": 16,
    "dim": 5,
    "L": 4.0,
    "mu": 1.0,
    "sigma": 1.0,
    "zeta": 1.0,
    "gamma": 0.5,
    "alphas": (0.004, 0.008, 0.016, 0.032),
    "alpha": 0.01,
    "sigmas": (0.25, 0.5, 1.0, 2.0),
    "ns": (4, 8, 16, 32),
    "gammas": (0.005, 0.01, 0.02, 0.04),
    "cons_alpha": 0.0001,
    "taus": (1, 2, 4, 8),
    "tau_gamma": 0.05,
    "tau_alpha": 0.0001,
    "tv_mu": 2.0,
    "tv_alphas": (0.0003, 0.0006, 0.0012, 0.0024),
    "tv_period": 16,
    "det_burn": 20000,
    "nc_dim": 4,
    "nc_samples": 20,
    "record_every": 8,
    "slope_tol": 0.15,
    "problem_seed": 0,
    "tv_seed": 0,  # seed of the random ring swaps (panel F)
    "nc_offset": 0.1,  # panel G: start at x_ref + nc_offset / sqrt(nc_dim) (every coordinate)
}
#: The panels of the figure, in drawing order (one axis per group).
GROUPS = (("A_alpha",), ("B_sigma2",), ("C_n",), ("D_p_noise", "D_p_heterogeneity"), ("E_tau_noise", "E_tau_heterogeneity"),
          ("F_tv_xi", "F_tv_subopt"), ("G_nc_alpha",), ("G_nc_n",))  # fmt: skip


def _W(n, gamma):
    return (1.0 - gamma) * np.eye(n) + gamma * np.ones((n, n)) / n


def _stationary(algo, alphas, taus, seeds, burn, window, every, fields):
    """Mean over seeds and over the last ``window`` steps of each field, for each (alpha, tau) pair."""
    import jax

    import algos

    total = burn + window

    def one(alpha, tau, key):
        a = algo._replace(params={**algo.params, "alpha": alpha, **({"tau": tau} if "tau" in algo.params else {})})
        tr = algos.run(a, key, total, record_every=every)[1]
        k0 = burn // every + 1
        return {f: jax.numpy.mean(tr[f][k0:]) for f in fields}

    alphas = np.asarray(alphas, float)
    taus = np.asarray(taus, np.int32)
    A = np.repeat(alphas, seeds)
    T = np.repeat(taus, seeds)
    K = np.tile(np.arange(seeds, dtype=np.uint32), len(alphas))
    out = jax.jit(jax.vmap(one))(A, T, K)
    return {f: np.asarray(out[f]).reshape(len(alphas), seeds).mean(1) for f in fields}


def plot(result: dict):
    """Draw the figure from its result file (``result``: the JSON payload)."""
    import matplotlib.pyplot as plt

    panels = result["data"]["panels"]
    fig, axes = plt.subplots(2, 4, figsize=(19, 9))
    for ax, grp in zip(axes.ravel(), GROUPS):
        for j, nm in enumerate(grp):
            pn = panels[nm]
            x, y = np.asarray(pn["x"], dtype=float), np.asarray(pn["y"], dtype=float)  # null (non-finite) -> nan
            col = ("#1f77b4", "#d62728")[j]
            ax.loglog(x, y, "o-", color=col, label=f"{pn['term']}: {pn['ylabel']} (fit {pn['fitted']:.2f}, order {pn['stated']:g})")
            ax.loglog(x, y[0] * (x / x[0]) ** pn["stated"], ":", color=col, lw=1)
            ax.set(xlabel=pn["xlabel"])
        ax.set_title(grp[0].split("_")[0] + ": " + ", ".join(panels[nm]["ylabel"] for nm in grp[:1]) + f" vs {panels[grp[0]]['xlabel']}", fontsize=9)
        ax.legend(fontsize=7)
    fig.suptitle("D-SGD (local steps, changing topology): stationary levels vs the orders (dotted)" + (" (quick)" if result.get("quick") else ""))
    fig.tight_layout()
    return fig


@register(
    "dsgd-rates",
    paper="Koloskova, Loizou, Boreiri, Jaggi, Stich, A Unified Theory of Decentralized SGD with Changing Topology and Local Updates (ICML 2020)",
    claims=(
        "noise level of f(x_bar) - f* has slope 1 in alpha and in sigma^2 and -1 in n (linear speed-up)",
        "consensus distance has slope -1 (noise) and -2 (heterogeneity) in p",
        "consensus distance has slope 1 (noise) and 2 (heterogeneity) in tau",
        "changing topology: heterogeneity terms have slope 2 in alpha",
        "non-convex regime: E||grad f||^2 noise level has slope 1 in alpha and -1 in n",
    ),
    plot=plot,
)
def dsgd_rates(quick: bool = False, progress=lambda msg: None) -> FigureResult:
    import algos
    import bounds
    from bounds.stochastic.dsgd_local import NEIGHBOURHOOD_EXPONENTS as NE
    from problems import convex, graphs, mixing

    cfg = CONFIG["quick" if quick else "full"]
    k = cfg["points"]
    C = CONFIG
    n, d, L, mu = C["n"], C["dim"], C["L"], C["mu"]
    seeds, burn, window, every = cfg["seeds"], cfg["burn"], cfg["window"], C["record_every"]
    sub = lambda xs: tuple(xs[:k])  # noqa: E731
    panels = {}

    def quad(nn, sigma, zeta):
        return convex.quadratic(nn, d, L, mu, key=C["problem_seed"], heterogeneity=zeta, sigma=sigma)

    def add(name, x, xlabel, y, ylabel, stated, term):
        fit = bounds.check_scaling(np.asarray(x, float), np.asarray(y, float), stated, tol=C["slope_tol"], mode="tight")
        panels[name] = {"x": list(map(float, x)), "y": list(map(float, y)), "xlabel": xlabel, "ylabel": ylabel,
                        "stated": stated, "term": term, "fitted": fit["fitted_exponent"], "holds": fit["holds"]}  # fmt: skip
        progress(f"{name}: fitted {fit['fitted_exponent']:.3f} vs stated {stated}")

    # A: alpha (noise only)
    p = quad(n, C["sigma"], 0.0)
    algo = algos.dsgd(p, _W(n, C["gamma"]), C["alpha"], local_steps=2)  # the general kernel (tau traced)
    al = sub(C["alphas"])
    r = _stationary(algo, al, [1] * k, seeds, burn, window, every, ("suboptimality",))
    add("A_alpha", al, "alpha", r["suboptimality"], "E f(x_bar) - f*", NE["noise (optimality gap)"]["alpha"], "noise")
    # B: sigma^2 (separate problems: sigma is a leaf, one compiled program)
    ys = []
    for s in sub(C["sigmas"]):
        a = algos.dsgd(quad(n, s, 0.0), _W(n, C["gamma"]), C["alpha"], local_steps=2)
        ys.append(_stationary(a, [C["alpha"]], [1], seeds, burn, window, every, ("suboptimality",))["suboptimality"][0])
    add("B_sigma2", np.square(sub(C["sigmas"])), "sigma^2", ys, "E f(x_bar) - f*", NE["noise (optimality gap)"]["sigma^2"], "noise")
    # C: n at fixed p
    ys = []
    for nn in sub(C["ns"]):
        a = algos.dsgd(quad(nn, C["sigma"], 0.0), _W(nn, C["gamma"]), C["alpha"], local_steps=2)
        ys.append(_stationary(a, [C["alpha"]], [1], seeds, burn, window, every, ("suboptimality",))["suboptimality"][0])
    add("C_n", sub(C["ns"]), "n", ys, "E f(x_bar) - f*", NE["noise (optimality gap)"]["n"], "noise (linear speed-up)")
    # D: p (noise only / heterogeneity only): consensus distance Xi = consensus_error^2 (mean of squares)
    gs = sub(C["gammas"])
    ps = [1.0 - (1.0 - g) ** 2 for g in gs]
    for label, sigma, zeta, key in (("noise", C["sigma"], 0.0, "consensus noise (Xi)"), ("heterogeneity", 0.0, C["zeta"], "consensus heterogeneity (Xi)")):
        ys = []
        for g in gs:
            pq = quad(n, sigma, zeta)
            a = algos.dsgd(pq, _W(n, g), C["cons_alpha"], local_steps=2, x0=pq.x_star)
            ys.append(_stationary_xi(a, [C["cons_alpha"]], [1], seeds if sigma > 0 else 1, burn, window)[0])
        add(f"D_p_{label}", ps, "p = 1 - (1 - gamma)^2", ys, "consensus distance Xi", NE[key]["p"], label)
    # E: tau
    ts = sub(C["taus"])
    for label, sigma, zeta, key in (("noise", C["sigma"], 0.0, "consensus noise (Xi)"), ("heterogeneity", 0.0, C["zeta"], "consensus heterogeneity (Xi)")):
        pq = quad(n, sigma, zeta)
        a = algos.dsgd(pq, _W(n, C["tau_gamma"]), C["tau_alpha"], local_steps=2, x0=pq.x_star)
        ys = _stationary_xi(a, [C["tau_alpha"]] * k, ts, seeds if sigma > 0 else 1, burn, window)
        add(f"E_tau_{label}", ts, "tau (local steps)", ys, "consensus distance Xi", NE[key]["tau"], label)
    # F: changing topology
    seq = mixing.sequence_weights(graphs.ring_swaps(n, C["tv_period"], seed=C["tv_seed"]))
    pt = convex.quadratic(n, d, L, C["tv_mu"], key=C["problem_seed"], heterogeneity=C["zeta"])
    a = algos.dsgd(pt, seq, C["tv_alphas"][0], x0=pt.x_star)
    tal = sub(C["tv_alphas"])
    xi = _stationary_xi(a, tal, [1] * k, 1, C["det_burn"], window)
    add("F_tv_xi", tal, "alpha", xi, "consensus distance Xi", NE["consensus heterogeneity (Xi)"]["alpha"], "heterogeneity, changing topology")
    r = _stationary(a, tal, [1] * k, 1, C["det_burn"], window, every, ("suboptimality",))
    add("F_tv_subopt", tal, "alpha", r["suboptimality"], "f(x_bar) - f*", NE["heterogeneity (optimality gap, quadratics)"]["alpha"],
        "heterogeneity, changing topology")  # fmt: skip

    # G: the non-convex regime (log-cosh regression with a double well), noise term of E||grad f(x_bar)||^2
    from problems import nonconvex

    import jax

    ys, raw = [], []
    for nn in sub(C["ns"]):
        pn = nonconvex.logcosh_regression(nn, C["nc_dim"], C["nc_samples"], key=C["problem_seed"], heterogeneity=0.0, sigma=C["sigma"])
        # start near (not at) x_ref: the engine flags growth of the primary metric past 1e8 x its start
        a = algos.dsgd(pn, _W(nn, C["gamma"]), C["alpha"], local_steps=2, x0=pn.x_ref + C["nc_offset"] / np.sqrt(C["nc_dim"]))
        lev = _stationary(a, [C["alpha"]], [1], seeds, burn, window, every, ("grad_norm_sq",))["grad_norm_sq"][0]
        # the instance constant the order hides (linearization at x_ref, ours): for SGD on x_bar with noise
        # variance sigma^2/(n d) per coordinate, E||grad f||^2 = (alpha sigma^2 / (n d)) sum_k lam_k / (2 - alpha lam_k)
        lam = np.linalg.eigvalsh(np.asarray(jax.hessian(pn.objective)(pn.x_ref)))
        const = float(np.sum(lam / (2.0 - C["alpha"] * lam))) / C["nc_dim"]
        raw.append(lev)
        ys.append(lev / const)
    panels_raw = bounds.fit_exponent(sub(C["ns"]), raw)[0]
    add("G_nc_n", sub(C["ns"]), "n", ys, "E||grad f||^2 / c(H)", NE["noise (optimality gap)"]["n"], "non-convex noise (linear speed-up)")
    panels["G_nc_n"]["raw_levels"] = list(map(float, raw))
    panels["G_nc_n"]["raw_fitted"] = panels_raw
    r = _stationary(a, al, [1] * k, seeds, burn, window, every, ("grad_norm_sq",))
    add("G_nc_alpha", al, "alpha", r["grad_norm_sq"], "E||grad f(x_bar)||^2", NE["noise (optimality gap)"]["alpha"], "non-convex noise")

    def ok(*names):
        return all(panels[nm]["holds"] for nm in names)

    def det(*names):
        return {nm: {"fitted": panels[nm]["fitted"], "stated": panels[nm]["stated"]} for nm in names}

    claims = [
        Claim("noise_term", f"f(x_bar) - f* noise level: slopes 1 (alpha), 1 (sigma^2), -1 (n) within {C['slope_tol']}",
              ok("A_alpha", "B_sigma2", "C_n"), det("A_alpha", "B_sigma2", "C_n")),
        Claim("p_dependence", f"consensus distance: slope -1 (noise) and -2 (heterogeneity) in p within {C['slope_tol']}",
              ok("D_p_noise", "D_p_heterogeneity"), det("D_p_noise", "D_p_heterogeneity")),
        Claim("tau_dependence", f"consensus distance: slope 1 (noise) and 2 (heterogeneity) in tau within {C['slope_tol']}",
              ok("E_tau_noise", "E_tau_heterogeneity"), det("E_tau_noise", "E_tau_heterogeneity")),
        Claim("nonconvex_regime", f"non-convex: E||grad f(x_bar)||^2 slopes 1 (alpha) and -1 (n) within {C['slope_tol']}",
              ok("G_nc_alpha", "G_nc_n"), det("G_nc_alpha", "G_nc_n")),
        Claim("changing_topology", f"changing topology: slope 2 in alpha of Xi and of f(x_bar) - f* within {C['slope_tol']}",
              ok("F_tv_xi", "F_tv_subopt"), det("F_tv_xi", "F_tv_subopt")),
    ]  # fmt: skip

    config = {**{kk: v for kk, v in CONFIG.items() if kk not in ("quick", "full")}, **cfg}
    return FigureResult(figure=None, data={"panels": panels}, config=config, claims=claims, seed=0)


def _stationary_xi(algo, alphas, taus, seeds, burn, window):
    """Stationary consensus distance ``Xi = (1/n) sum_i ||x_i - x_bar||^2`` (time mean of ``consensus_error^2``,
    recorded at every step, local steps included) for each (alpha, tau) pair, averaged over seeds."""
    import jax

    import algos

    def one(alpha, tau, key):
        a = algo._replace(params={**algo.params, "alpha": alpha, "tau": tau})
        tr = algos.run(a, key, burn + window, record_every=1)[1]
        return jax.numpy.mean(tr.consensus_error[burn + 1 :] ** 2)

    A = np.repeat(np.asarray(alphas, float), seeds)
    T = np.repeat(np.asarray(taus, np.int32), seeds)
    K = np.tile(np.arange(seeds, dtype=np.uint32), len(alphas))
    return np.asarray(jax.jit(jax.vmap(one))(A, T, K)).reshape(len(alphas), seeds).mean(1)

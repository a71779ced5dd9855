"""Earlier versus reduced spectral-class PEP formulation, on the ``worst-case`` figure's programs (no cache).

Usage::

    python benchmarks/pep_conditioning.py [--horizon 5] [--only-k] [--out FILE]

For the figure's full configuration (reproduce/worst_case.py: logistic(4, 3, 20 samples, key 0),
Metropolis ring and geometric graph on 4 nodes, EXTRA, NIDS, DIGing, DGD at 0.2, 0.4, 0.6, 0.8 of the
step limit), every spectral-class program ``k = 1..K`` (``--only-k``: ``k = K`` alone) is solved with the
earlier formulation (``reduced=False``: one fresh ``z`` per gossip product, ``S - S^T == 0`` on all
``m^2`` entries, an auxiliary PSD matrix tied to the LMI by ``m^2`` equalities) and with the reduced one
(the default; docs/VERIFICATION.md section 12, "Conditioning"), under the same acceptance rule.
Prints one line per program and a summary: refused counts, the largest relative difference of the
values where both were accepted, attempts needed, times.
"""

from __future__ import annotations

import argparse
import json
import time


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--horizon", type=int, default=5)
    ap.add_argument("--only-k", action="store_true")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)

    import jax

    jax.config.update("jax_enable_x64", True)
    import numpy as np

    from bounds import pep
    from bounds.pep import _solve_k
    from problems import convex, mixing
    from reproduce.worst_case import CONFIG, _graph, _limit

    cfg = CONFIG["full"]
    n = cfg["n"]
    p = convex.logistic(n, cfg["dim"], samples_per_node=cfg["samples"], key=cfg["seed"])
    L, mu, zeta = float(p.L), float(p.mu), float(p.zeta)
    R0 = float(np.sqrt(np.mean(np.sum(np.atleast_2d(np.asarray(p.x_star)) ** 2, axis=-1))))
    ks = [args.horizon] if args.only_k else list(range(1, args.horizon + 1))
    rows = []
    for gname in cfg["graphs"]:
        W = mixing.metropolis(_graph(gname, n, cfg["seed"]))
        spec = mixing.spectrum(W)
        net = {"lo": spec.lambda_n, "hi": spec.lambda_2}
        for m in cfg["methods"]:
            lim = _limit(m, p, W)
            for frac in cfg["fractions"]:
                inputs = {"method": m, "measure": "dist_to_opt", "mu": mu / L, "alpha": frac * lim * L, "R": 1.0,
                          "zeta": zeta / (L * R0), "equal_start": True}  # fmt: skip
                for k in ks:
                    rec = {"graph": gname, "method": m, "fraction": frac, "k": k}
                    for name, red in (("earlier", False), ("reduced", True)):
                        t0 = time.perf_counter()
                        try:
                            s = _solve_k(m, k, inputs, net, reduced=red)
                            rec[name] = {"value": s.value, "attempts": s.size["attempts"], "residual": s.residual,
                                         "rel_gap": s.rel_gap, "lmi": s.size["spectral_lmi"]}  # fmt: skip
                        except pep.PEPError:
                            rec[name] = {"refused": True}
                        rec[name]["seconds"] = time.perf_counter() - t0
                    o, r = rec["earlier"], rec["reduced"]
                    both = "value" in o and "value" in r
                    rec["rel_diff"] = abs(o["value"] - r["value"]) / o["value"] if both else None
                    rows.append(rec)

                    def show(x):
                        return "REFUSED" if "refused" in x else f"{x['value']:.9f} (attempt {x['attempts']})"

                    print(f"{gname} {m} {frac} k={k}: earlier {show(o)}, reduced {show(r)}", flush=True)
    diffs = [r["rel_diff"] for r in rows if r["rel_diff"] is not None]
    summary = {"programs": len(rows)}
    for name in ("earlier", "reduced"):
        ok = [r[name] for r in rows if "value" in r[name]]
        refused = [f"{r['graph']} {r['method']} {r['fraction']} k={r['k']}" for r in rows if "refused" in r[name]]
        summary[name] = {"refused": refused,
                         "needed_a_fallback_attempt": sum(o["attempts"] > 1 for o in ok),
                         "max_residual": max((o["residual"] for o in ok), default=None),
                         "seconds": sum(r[name]["seconds"] for r in rows)}  # fmt: skip
    summary["max_rel_diff_where_both_accepted"] = max(diffs, default=None)
    summary["compared"] = len(diffs)
    print(json.dumps(summary, indent=1))
    if args.out:
        with open(args.out, "w") as fh:
            json.dump({"summary": summary, "rows": rows}, fh, indent=1)
    return summary


if __name__ == "__main__":
    main()

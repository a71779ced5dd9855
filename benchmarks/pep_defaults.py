"""Certified worst case at each method's default step size beside its exact quadratic rate (issue 9).

``python -m benchmarks.pep_defaults [--horizon 5]``

Metropolis ring(4), ``convex.quadratic(4, 3, L=1, mu=0.1, key=0)``; for DGD, EXTRA, NIDS, exact
diffusion and gradient tracking at their factory defaults: ``bounds.pep.<method>(algo, horizon=K)``
(fixed W; ``Bound.rate`` is the K-step average ``(w_K / w_0)^(1/K)``) and ``bounds.exact_rate(algo)``.
"""

from __future__ import annotations

import argparse
import time


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--horizon", type=int, default=5)
    args = ap.parse_args(argv)

    import jax

    jax.config.update("jax_enable_x64", True)
    import algos
    import bounds
    from problems import convex, graphs, mixing

    W = mixing.metropolis(graphs.ring(4))
    p = convex.quadratic(4, 3, L=1.0, mu=0.1, key=0)
    print(f"| method | default step | PEP fixed W, {args.horizon}-step average rate | exact quadratic rate | seconds |")
    print("|---|---|---|---|---|")
    for m in ("dgd", "extra", "nids", "exact_diffusion", "gradient_tracking"):
        a = getattr(algos, m)(p, W)
        t = time.perf_counter()
        try:
            rate = f"{getattr(bounds.pep, m)(a, horizon=args.horizon, use_cache=False).rate:.4f}"
        except bounds.pep.PEPError as e:  # an inaccurate solve is refused, never returned
            rate = f"refused ({e})"
        sec = time.perf_counter() - t
        print(f"| {m} | {a.hparams['step_size']:.4f} | {rate} | {bounds.exact_rate(a):.4f} | {sec:.1f} |", flush=True)


if __name__ == "__main__":
    main()

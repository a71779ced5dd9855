"""The exact mean decay behind test_dadao.py's CONVERGE_EVENTS (not a test; about 100 s per seed).

``python tests/algos/_dadao_mean_decay.py SEED [SEED ...]`` prints ``E[sq_dist_to_opt_K] / sq_0``
for the test's instance (6 nodes, d = 2, complete graph) at L = 20, from the exact second-moment
recursion of bounds.convex.dadao_moments with its size guard (6 n d <= 60) lifted.
"""

import sys
import time

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

import algos  # noqa: E402
import bounds.convex.dadao_moments as dm  # noqa: E402
from problems import convex, graphs  # noqa: E402

N, DIM, L = 6, 2, 20.0
EVENTS = np.array([0, 1000, 2000, 3000, 4000, 5000, 6000])

if __name__ == "__main__":
    dm.MAX_STATE = 6 * N * DIM
    for seed in [int(s) for s in sys.argv[1:]] or [147]:
        t0 = time.time()
        algo = algos.dadao(convex.quadratic(N, DIM, L=L, mu=1.0, key=seed), graphs.complete(N))
        e = dm.DadaoMoments(algo).expected(EVENTS)
        cols = "  ".join(f"{k}: {v:.3g}" for k, v in zip(EVENTS, e / e[0]))
        print(f"seed {seed}, L = {L}: {cols}   ({time.time() - t0:.0f} s)", flush=True)

"""The FDLA certificate's projection solve, two ways, interleaved (3 calls each, min-max printed):

the sparse ``m x m`` LU of ``G = (A^T A) ∘ (A^T A)`` used before 2026-12-07, and its ``n x n`` form
(``problems._sdp.certificates._edge_gram_solve``).  Usage: ``python benchmarks/fdla_projection.py``."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, ".."), HERE]
import time  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from scipy.sparse.linalg import spsolve  # noqa: E402
from _common import sdp_graph  # noqa: E402
from problems._sdp.certificates import _edge_gram_solve  # noqa: E402
for fam, n in [("complete", 110), ("complete", 80), ("geo", 1000), ("reg", 1000)]:
    g = sdp_graph(fam, n, 0); E = np.asarray(g.edges); ei, ej = E[:, 0], E[:, 1]; m = len(ei)
    r = np.random.default_rng(0).standard_normal(m)
    def old():
        A = sp.csc_matrix((np.r_[np.ones(m), -np.ones(m)], (np.r_[ei, ej], np.r_[np.arange(m), np.arange(m)])), shape=(n, m))
        AtA = (A.T @ A).tocsc(); G = AtA.multiply(AtA).tocsc(); return spsolve(G, r)
    def new(): return _edge_gram_solve(n, ei, ej, r)
    to, tn = [], []
    for _ in range(3):
        t = time.perf_counter(); c1 = old(); to.append(time.perf_counter() - t)
        t = time.perf_counter(); c2 = new(); tn.append(time.perf_counter() - t)
    print(f"{fam} n={n} m={m}: sparse m x m LU {min(to):.3f}-{max(to):.3f} s, n x n form {min(tn):.4f}-{max(tn):.4f} s, max|dc|={np.abs(c1-c2).max():.1e}")

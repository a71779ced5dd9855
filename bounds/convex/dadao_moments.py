"""Exact second moment of DADAO on a quadratic problem over a static graph (derived; checked on runs).

One engine step of :func:`algos.dadao` is one event of the superposed Poisson process: every node
follows the linear ODE ``ds/dt = M s`` for an ``Exp(lambda)`` waiting time ``tau``
(``lambda = lambda_grad + lambda_mix``), then, independently of ``tau``, either a gradient event at a
uniformly drawn node (probability ``lambda_grad / lambda``) or a gossip event on a uniformly drawn
edge. On a quadratic problem (``grad f_i(x) = H_i x + g_i``) every event map is affine, so in the
augmented state ``s~ = (s, 1)`` one step is ``s~' = G_w F(tau) s~`` with ``F(tau) = expm(M~ tau)``,
``M~ = blockdiag(M (x) I, 0)``. The second moment ``S = E[s~ s~^T]`` therefore obeys the exact linear
recursion ``vec S_{k+1} = P Phi vec S_k`` with

* ``Phi = E[F(tau) (x) F(tau)] = lambda (lambda I - (M~ (+) M~))^{-1}`` (the Laplace transform of
  ``expm((M~ (+) M~) tau)`` at ``lambda``; ``(+)`` the Kronecker sum, whose eigenvalues are sums of two
  of ``M~``'s, real parts <= 0 < lambda), and
* ``P = sum_w p_w G_w (x) G_w`` over the ``n`` gradient events and the ``|E|`` gossip events.

The start is deterministic, so ``S_0 = s~_0 s~_0^T`` and ``E[sq_dist_to_opt_k] = (1/n) sum_i
E||x_i,k - x*||^2`` is a linear functional of ``S_k``: the exact expectation of what every run records
at every step (:func:`dadao_second_moment`, an expectation statement judged on a batch of seeded
runs by :func:`bounds.compare`). The event maps are written out here from the algorithm's documented
law (``algos/convex/dadao.py``); the Monte-Carlo mean of the kernel's own runs is tested against the
recursion, both ways (``tests/bounds/test_dadao_moments.py``). Sizes: the recursion has dimension
``(6 n d + 1)^2``, so it is meant for small instances (``6 n d <= 60``).
"""

from __future__ import annotations

import math

import numpy as np

from bounds._check import Bound

__all__ = ["dadao_second_moment", "DadaoMoments", "MAX_STATE"]

#: Largest ``6 n d`` the exact recursion is built for (its matrices are ``(6 n d + 1)^2`` square).
MAX_STATE = 60


class DadaoMoments:
    """The exact second-moment recursion of one DADAO configuration (module docstring).

    Attributes:
        T: ``P Phi``, the ``(N + 1)^2`` square recursion matrix (``N = 6 n d``).
        rate (property): spectral radius of ``T`` on its non-unit modes: the asymptotic per-event rate of
            ``E[sq_dist_to_opt]`` (the unit mode carries the limit ``x*``'s constant part).
    """

    def __init__(self, algo):
        import jax
        import jax.numpy as jnp

        hp, params = algo.hparams, algo.params
        p = params["problem"]
        if int(hp["num_graphs"]) != 1:
            raise ValueError("bounds.dadao_second_moment: the exact recursion needs a static graph (one snapshot); "
                             "this run switches between graphs by its continuous time, so no single P describes it")  # fmt: skip
        if getattr(p, "sigma", 0.0):
            raise ValueError("bounds.dadao_second_moment: the problem has gradient noise (sigma > 0); use sigma = 0")
        n, d = int(p.n_nodes), int(p.dim)
        N = 6 * n * d
        if N > MAX_STATE:
            raise ValueError(f"bounds.dadao_second_moment: 6 n d = {N} exceeds {MAX_STATE}; the recursion has dimension "
                             f"(6 n d + 1)^2 = {(N + 1) ** 2}: use a smaller instance")  # fmt: skip
        c = params["c"]
        grad = jax.grad(p.loss, argnums=1)
        data = [jax.tree_util.tree_map(lambda a, i=i: a[i], p.data) for i in range(n)]
        x = jnp.zeros(d, dtype=jnp.float64)
        H = [np.asarray(jax.jacfwd(lambda v, di=di: grad(di, v))(x), dtype=np.float64) for di in data]
        g0 = [np.asarray(grad(di, x), dtype=np.float64) for di in data]
        # affine check: the gradient at a random point equals H x + g0 (a quadratic problem)
        z = np.random.default_rng(0).standard_normal(d)
        for di, Hi, gi in zip(data, H, g0):
            if not np.allclose(np.asarray(grad(di, jnp.asarray(z))), Hi @ z + gi, rtol=1e-9, atol=1e-9):
                raise ValueError("bounds.dadao_second_moment: the local gradients are not affine in x (not a quadratic "
                                 "problem); the exact second-moment recursion needs grad f_i(x) = H_i x + g_i")  # fmt: skip

        def idx(var, node, comp):  # position in the flattened (6, n, d) state
            return (var * n + node) * d + comp

        X, XT, Y, YT, Z, ZT = range(6)
        D = N + 1  # the augmented constant sits last
        eye_d = np.eye(d)
        events, probs = [], []
        lam_g, lam_m = float(params["lamb_grad"]), float(params["lamb_mix"])
        lam = lam_g + lam_m
        for i in range(n):  # gradient event at node i: g = (H_i - nu I) x_i - y~_i + g0_i
            G = np.eye(D)
            Gmap = np.zeros((d, D))  # g as a row block acting on the augmented state
            for a in range(d):
                for b in range(d):
                    Gmap[a, idx(X, i, b)] += H[i][a, b] - c["nu"] * eye_d[a, b]
                Gmap[a, idx(YT, i, a)] -= 1.0
                Gmap[a, N] += g0[i][a]
            for a in range(d):
                G[idx(X, i, a)] -= c["gamma"] * Gmap[a]
                G[idx(XT, i, a)] -= c["gamma_t"] * Gmap[a]
                G[idx(YT, i, a)] += (c["delta"] + c["delta_t"]) * Gmap[a]
            events.append(G)
            probs.append(lam_g / lam / n)
        edges = np.asarray(params["edges"])[0][: int(np.asarray(params["counts"])[0])]
        for a_, b_ in edges:  # gossip event on edge (a, b): m = (y_a + z_a) - (y_b + z_b)
            G = np.eye(D)
            for k in range(d):
                m = np.zeros(D)
                m[idx(Y, a_, k)] += 1.0
                m[idx(Z, a_, k)] += 1.0
                m[idx(Y, b_, k)] -= 1.0
                m[idx(Z, b_, k)] -= 1.0
                G[idx(Z, a_, k)] -= c["beta"] * m
                G[idx(Z, b_, k)] += c["beta"] * m
                G[idx(ZT, a_, k)] -= c["beta_t"] * m
                G[idx(ZT, b_, k)] += c["beta_t"] * m
            events.append(G)
            probs.append(lam_m / lam / len(edges))
        Mt = np.zeros((D, D))
        Mt[:N, :N] = np.kron(np.asarray(params["M"], dtype=np.float64), np.eye(n * d))
        K = np.kron(Mt, np.eye(D)) + np.kron(np.eye(D), Mt)
        Phi = lam * np.linalg.inv(lam * np.eye(D * D) - K)
        P = sum(pw * np.kron(G, G) for pw, G in zip(probs, events))
        self.T = P @ Phi
        s0 = np.concatenate([np.asarray(params["x0"], dtype=np.float64).ravel(), np.zeros(5 * n * d), [1.0]])
        self._v0 = np.outer(s0, s0).ravel()
        # E[(1/n) sum_i ||x_i - x*||^2] = (1/n) sum (E[x x] - 2 x* E[x] + x*^2) over the x coordinates
        xs = np.broadcast_to(np.asarray(p.x_star, dtype=np.float64), (n, d))  # x* is shared: (d,)
        w = np.zeros((D, D))
        for i in range(n):
            for a in range(d):
                r = idx(X, i, a)
                w[r, r] += 1.0 / n
                w[r, N] -= xs[i, a] / n
                w[N, r] -= xs[i, a] / n
                w[N, N] += xs[i, a] ** 2 / n
        self._w = w.ravel()
        self.state_dim = N
        self._cache: dict[int, float] = {}

    @property
    def rate(self) -> float:
        """Spectral radius of ``T`` off its unit modes (computed on first use: one dense eigensolve)."""
        if not hasattr(self, "_rate"):
            ev = np.linalg.eigvals(self.T)
            far = np.abs(ev - 1.0) > 1e-8
            self._rate = float(np.max(np.abs(ev[far]))) if far.any() else 0.0
        return self._rate

    def expected(self, steps) -> np.ndarray:
        """``E[sq_dist_to_opt]`` after each of ``steps`` events (exact up to round-off)."""
        k = np.asarray(steps)
        if k.size and (np.any(k < 0) or np.any(k != np.round(k))):
            raise ValueError("DadaoMoments.expected: steps must be non-negative integers (event counts)")
        k = k.astype(np.int64)
        out = np.empty(k.shape, dtype=np.float64)
        if not k.size:
            return out
        v, at = self._v0, 0
        for j in np.argsort(k, kind="stable").tolist():
            kk = int(k.flat[j])
            while at < kk:
                v = self.T @ v
                at += 1
            out.flat[j] = float(self._w @ v)
        return out


def dadao_second_moment(algo) -> Bound:
    """Exact ``E[sq_dist_to_opt_k]`` of :func:`algos.dadao` on a quadratic problem over a static graph
    (module docstring), as an expectation statement judged on a batch of seeded runs.

    Raises:
        TypeError: ``algo`` is not a run of ``algos.dadao``.
        ValueError: a switching graph, gradient noise, a non-quadratic problem, or an instance too
            large for the recursion (``6 n d > 60``); each message names the reason.
    """
    if getattr(algo, "name", None) != "dadao":
        raise TypeError(f"bounds.dadao_second_moment takes the run's algorithm from algos.dadao(...), "
                        f"got {getattr(algo, 'name', type(algo).__name__)!r}")  # fmt: skip
    mom = DadaoMoments(algo)

    def envelope(k, ref):
        del ref
        return mom.expected(np.round(np.asarray(k, dtype=np.float64)))

    hp = algo.hparams
    return Bound(
        name="dadao_second_moment", kind="explicit", method="dadao", metric="sq_dist_to_opt", envelope=envelope,
        statistic="mean",
        hparams={k: float(hp[k]) for k in ("lamb_grad", "lamb_mix")},
        conditions={"static graph": int(hp["num_graphs"]) == 1},
        params={"state_dim": mom.state_dim},
        source=("ratebench derivation: exact second-moment recursion of the event chain, vec S' = P Phi vec S with "
                "Phi = lambda (lambda I - M (+) M)^-1 (bounds/convex/dadao_moments.py; tests/bounds/test_dadao_moments.py)"),
        notes=("the exact expectation, so the statement is tight: judged one-sided by the CLT test on the seed mean; "
               "the test file checks it two-sided at moderate k"),
    )  # fmt: skip

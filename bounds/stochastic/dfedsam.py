"""DFedSAM and DFedSAM-MGS: the orders of the ICML 2023 non-convex rates.

Source: Shi, Shen, Wei, Sun, Yuan, Wang, Tao, "Improving the Model Consistency of Decentralized Federated
Learning", ICML 2023, arXiv:2302.04083 — the ICML abstract (VERIFIED, ../shared/papers/ §7):

* DFedSAM: ``O(1/sqrt(K T) + 1/T + 1/(K^{1/2} T^{3/2} (1 - lambda)^2))``;
* DFedSAM-MGS: ``O(1/sqrt(K T) + 1/T + (lambda^Q + 1)/(K^{1/2} T^{3/2} (1 - lambda^Q)^2))``,

with ``1 - lambda`` the spectral gap of the gossip matrix, ``Q`` the gossip steps, ``T`` the rounds and ``K``
(presumably) the local steps (the abstract does not define K and T; a guess marked as such in the notes).
The ICLR'23 version states different rates; the ICML ones are used. Orders only (constants NOT FOUND).

What ratebench takes from them: the Q-dependent factor of the last (consensus) term,
``F(Q) = (lambda^Q + 1)/(1 - lambda^Q)^2`` (:func:`mgs_factor`), which decreases in Q. It is a factor of an
upper bound, so it does not bound the ratio of the measured consensus distances; that ratio is bounded
by :func:`mgs_consensus_ratio` below (DERIVED, ours).

Derivation of :func:`mgs_consensus_ratio` (ours, verified numerically in
``tests/stochastic/test_federated.py`` against a Lyapunov solve in node space). A round is
``X' = W^Q (X + U)`` with ``U`` the local steps' displacement. Write the deviations from the average in the
eigenbasis of the symmetric ``W`` (eigenvalues ``mu_j``, ``mu_1 = 1`` for the average). The linear model takes
the deviation part of ``U`` as ``c e + b + xi_t`` per mode: a contraction ``c`` of the deviation by the local
steps (``c = 1``: the displacement does not depend on the deviation), a constant heterogeneity drift ``b``
and a zero-mean noise ``xi_t``, independent across rounds, the same statistics for every Q. Each mode then
obeys ``e' = mu^Q (c e + b + xi)``, whose stationary second moment is::

    E e^2 = mu^(2Q) b^2 / (1 - c mu^Q)^2  +  mu^(2Q) s / (1 - c^2 mu^(2Q))        (s = E xi^2)

(cross-mode noise correlations do not enter the trace). ``Xi = E ||(I - J) X||_F^2`` is the sum of these
terms, all non-negative, so ``Xi(Q)/Xi(1)`` is at most the largest term-wise ratio over the modes
``mu != 1`` (``mu = 0`` contributes nothing) and the two kinds of term. Each ratio is monotone in ``c``, so
over an interval of contractions the maximum is at an end. On the slowest mode with ``c = 1`` and
``Q = 2`` the two ratios are ``lambda^2/(1 + lambda^2)`` (noise) and ``lambda^2/(1 + lambda)^2`` (drift);
with ``c -> 0`` both tend to ``lambda^(2Q-2)``, the largest value the model allows.
"""

from __future__ import annotations

import math

from bounds._check import Bound

__all__ = ["dfedsam_orders", "mgs_factor", "mgs_consensus_ratio"]


def mgs_factor(lam: float, Q: int) -> float:
    """``(lambda^Q + 1)/(1 - lambda^Q)^2``, the consensus factor of DFedSAM-MGS's last term (Q = 1: DFedSAM's up to the +1)."""
    if not (0.0 <= lam < 1.0):
        raise ValueError(f"lambda (slem of W) must lie in [0, 1), got {lam}")
    if isinstance(Q, bool) or int(Q) != Q or Q < 1:
        raise ValueError(f"Q (gossip steps) must be a positive integer, got {Q!r}")
    lq = lam ** int(Q)
    return (lq + 1.0) / (1.0 - lq) ** 2


def dfedsam_orders(K: int, lam: float, Q: int | None = None) -> Bound:
    """The ICML 2023 order of DFedSAM (``Q=None``) or DFedSAM-MGS (``Q >= 1``) as ``envelope(T)`` with unit constants.

    Returns:
        ``Bound(kind="order", metric="grad_norm_sq", x_axis="rounds")``: ``envelope(T)`` is the O(.) expression
        (a scaling law in T, K, lambda, Q; never a guaranteed curve), ``exponents`` the T-exponents of its terms.
    """
    if isinstance(K, bool) or int(K) != K or K < 1:
        raise ValueError(f"K (local steps) must be a positive integer, got {K!r}")
    last = (1.0 / (1.0 - lam) ** 2) if Q is None else mgs_factor(lam, Q)
    if Q is None and not (0.0 <= lam < 1.0):
        raise ValueError(f"lambda (slem of W) must lie in [0, 1), got {lam}")

    def envelope(T, ref=None):
        import numpy as np

        T = np.asarray(T, dtype=float)
        return 1.0 / np.sqrt(K * T) + 1.0 / T + last / (math.sqrt(K) * T**1.5)

    return Bound(
        name="dfedsam" if Q is None else "dfedsam_mgs",
        method="dfedsam" if Q is None else "dfedsam_mgs",
        kind="order",
        source="Shi et al., ICML 2023 (arXiv:2302.04083), abstract (VERIFIED): non-convex rates, orders only",
        metric="grad_norm_sq",
        x_axis="rounds",
        envelope=envelope,
        exponents={"T (leading)": -0.5, "K (leading)": -0.5, "T (last)": -1.5},
        params={"K": K, "lambda": lam, "Q": Q, "consensus factor": last},
        notes="K and T read as local steps and rounds (not defined in the abstract).",
    )


def _mode_ratios(mu, Q: int, c: float):
    """The drift and noise term ratios ``term(Q)/term(1)`` of the linear model, per eigenvalue ``mu`` (module docstring)."""
    import numpy as np

    mu = np.asarray(mu, dtype=float)
    mq = mu**Q
    drift = mu ** (2 * Q - 2) * (1.0 - c * mu) ** 2 / (1.0 - c * mq) ** 2
    noise = mu ** (2 * Q - 2) * (1.0 - c**2 * mu**2) / (1.0 - c**2 * mq**2)
    return drift, noise


def mgs_consensus_ratio(W, Q: int, *, contraction=1.0, tol: float = 1e-9) -> dict:
    """Upper bound on ``Xi(Q)/Xi(1)``, the stationary consensus distance with ``Q`` gossip steps per round over one.

    DERIVED (ours, module docstring): exact for the linear round model ``e' = mu^Q (c e + b + xi)`` on every
    eigenmode of ``W``, with drift ``b`` and noise ``xi`` whose statistics do not depend on Q; it is the largest
    term-wise ratio over the modes of ``W`` other than the average. Not a statement of the paper.

    Args:
        W: symmetric doubly stochastic ``(n, n)`` gossip matrix whose eigenvalues other than the single 1 lie
            in ``(-1, 1)``.
        Q: gossip steps per round, a positive integer.
        contraction: ``c`` in ``(0, 1]``, the factor by which a round's local steps shrink a deviation
            (``1``: they do not), or a pair ``(c_lo, c_hi)`` for the largest ratio over that range.
        tol: tolerance of the symmetry and stochasticity checks.

    Returns:
        ``{"bound", "mu", "kind", "drift_slowest", "noise_slowest", "slem"}``: the bound, the eigenvalue and
        the kind of term (``"drift"`` or ``"noise"``) attaining it, and both ratios on the slowest mode.

    Raises:
        ValueError: ``W`` not square, symmetric and doubly stochastic, a second eigenvalue at modulus 1,
            ``Q`` not a positive integer, or a contraction outside ``(0, 1]``.
    """
    import numpy as np

    if isinstance(Q, bool) or int(Q) != Q or Q < 1:
        raise ValueError(f"mgs_consensus_ratio: Q (gossip steps) must be a positive integer, got {Q!r}")
    Q = int(Q)
    Wd = np.asarray(W, dtype=float)
    if Wd.ndim != 2 or Wd.shape[0] != Wd.shape[1]:
        raise ValueError(f"mgs_consensus_ratio: W must be a square (n, n) matrix, got shape {Wd.shape}")
    if not np.allclose(Wd, Wd.T, atol=tol) or not np.allclose(Wd.sum(1), 1.0, atol=tol):
        raise ValueError("mgs_consensus_ratio: W must be symmetric and doubly stochastic (e.g. problems.mixing.metropolis(graph))")
    cs = tuple(contraction) if isinstance(contraction, (tuple, list)) else (contraction,)
    if len(cs) not in (1, 2) or not all(isinstance(c, (int, float, np.floating)) and 0.0 < float(c) <= 1.0 for c in cs):
        raise ValueError(f"mgs_consensus_ratio: contraction must be a number in (0, 1] or a pair of them, got {contraction!r}")
    ev = np.linalg.eigvalsh(Wd)
    i1 = int(np.argmin(np.abs(ev - 1.0)))
    mu = np.delete(ev, i1)
    if mu.size and np.max(np.abs(mu)) >= 1.0 - tol:
        raise ValueError("mgs_consensus_ratio: W has a second eigenvalue of modulus 1 (disconnected graph or bipartite oscillation); "
                         "pass a connected graph's lazy weights")  # fmt: skip
    mu = mu[np.abs(mu) > tol]  # modes at 0 carry no deviation after one gossip step
    slem = float(np.max(np.abs(mu))) if mu.size else 0.0
    best = (0.0, None, None)
    for c in cs:
        drift, noise = _mode_ratios(mu, Q, float(c))
        for kind, r in (("drift", drift), ("noise", noise)):
            if r.size and float(r.max()) > best[0]:
                j = int(np.argmax(r))
                best = (float(r[j]), float(mu[j]), kind)
    d_s, n_s = _mode_ratios(np.array([slem]), Q, float(cs[-1])) if slem else (np.zeros(1), np.zeros(1))
    return {"bound": best[0], "mu": best[1], "kind": best[2], "drift_slowest": float(d_s[0]), "noise_slowest": float(n_s[0]), "slem": slem}

"""DFedSAM and DFedSAM-MGS: the orders of the ICML 2023 non-convex rates.

Source: Shi, Shen, Wei, Sun, Yuan, Wang, Tao, "Improving the Model Consistency of Decentralized Federated
Learning", ICML 2023, arXiv:2302.04083 — the ICML abstract (VERIFIED, ../shared/papers/ §7):

* DFedSAM: ``O(1/sqrt(K T) + 1/T + 1/(K^{1/2} T^{3/2} (1 - lambda)^2))``;
* DFedSAM-MGS: ``O(1/sqrt(K T) + 1/T + (lambda^Q + 1)/(K^{1/2} T^{3/2} (1 - lambda^Q)^2))``,

with ``1 - lambda`` the spectral gap of the gossip matrix, ``Q`` the gossip steps, ``T`` the rounds and ``K``
(presumably) the local steps (the abstract does not define K and T; a guess marked as such in the notes).
The ICLR'23 version states different rates; the ICML ones are used. Orders only (constants NOT FOUND).

What ratebench derives from them (ours): the Q-dependent factor of the last (consensus) term,
``F(Q) = (lambda^Q + 1)/(1 - lambda^Q)^2``, decreases in Q; :mod:`reproduce.dfedsam` checks that the
measured consensus distance improves with Q at least as fast as ``F`` (an upper-bound reading:
``Xi(Q)/Xi(1) <= F(Q)/F(1)``).
"""

from __future__ import annotations

import math

from bounds._check import Bound

__all__ = ["dfedsam_orders", "mgs_factor"]


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

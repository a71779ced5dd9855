"""AFA-CD and AFA-CS (Anarchic Federated Learning, ICML 2022): what is stated, as orders.

Source: Yang, Zhang, Khanduri, Liu, ICML 2022 (arXiv:2108.09875). VERIFIED (abstract): both algorithms
reach the best known FL rate with a linear speed-up in the number of workers and of local steps, under
"mild anarchic assumptions". SECONDARY (a review): AFA-CS removes AFA-CD's non-vanishing error term.
NOT FOUND: the theorems, constants and step-size conditions.

Stated here (orders only, unit constants; the exact form of the leading term is the standard FL rate
``1/sqrt(m K T)`` for ``m`` workers, ``K`` local steps and ``T`` rounds, our reading of "best known FL rate
with linear speed-up"):

* AFA-CD: ``O(1/sqrt(m K T)) + O(zeta^2)``, the second term not vanishing with T (under skewed participation);
* AFA-CS: ``O(1/sqrt(m K T))`` plus terms vanishing with T.

:mod:`reproduce.anarchic_fl` checks the contrast: AFA-CD plateaus at a level growing with the heterogeneity
zeta, AFA-CS does not.
"""

from __future__ import annotations

import math

import numpy as np

from bounds._check import Bound

__all__ = ["afa_orders"]


def afa_orders(variant: str, *, m: int, K: int, zeta: float = 0.0) -> Bound:
    """The stated order of ``variant`` in ``("afa_cd", "afa_cs")`` as a function of rounds T (unit constants)."""
    if variant not in ("afa_cd", "afa_cs"):
        raise ValueError(f"variant must be 'afa_cd' or 'afa_cs', got {variant!r}")
    for name, v in (("m", m), ("K", K)):
        if isinstance(v, bool) or int(v) != v or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    floor = zeta**2 if variant == "afa_cd" else 0.0

    def envelope(T, ref=None):
        T = np.asarray(T, dtype=float)
        return 1.0 / np.sqrt(m * K * T) + floor

    return Bound(
        name=f"{variant}_order", method=variant, kind="order",
        source="Yang, Zhang, Khanduri, Liu, ICML 2022 (arXiv:2108.09875): abstract (VERIFIED) and a review (SECONDARY); orders only",
        metric="grad_norm_sq", x_axis="rounds", envelope=envelope,
        exponents={"T (leading)": -0.5, "m (leading)": -0.5, "K (leading)": -0.5, "zeta^2 (non-vanishing, CD only)": 1.0 if floor else 0.0},
        params={"m": m, "K": K, "zeta": zeta, "non-vanishing term": floor, "sqrt(mK)": math.sqrt(m * K)},
        notes="Order only: a scaling law, never a guaranteed curve.",
    )  # fmt: skip

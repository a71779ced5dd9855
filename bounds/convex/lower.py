"""Lower bounds for decentralized smooth strongly convex optimization (Scaman et al., ICML 2017).

Verified (abstract of arXiv:1702.08704): in the decentralized setting, any
black-box procedure that uses a gossip matrix with normalized eigengap ``gamma``
needs time ``Omega(sqrt(kappa_l) (1 + tau / sqrt(gamma)) ln(1/eps))``. That is
``Omega(sqrt(kappa) ln 1/eps)`` gradient steps and
``Omega(sqrt(kappa / gamma) ln 1/eps) = Omega(sqrt(kappa chi) ln 1/eps)``
communication rounds. MSDA attains it ("optimal").

The theorem's constants are NOT verified here. docs/VERIFICATION.md §5
recalls, at low confidence, a statement of the form
``||theta_t - theta*||^2 >= C (1 - c/sqrt(kappa))^{1 + t/(1 + tau/(c' sqrt(gamma)))} ||theta_0 - theta*||^2``
with small absolute constants. None of them is used. The statement is for a
worst-case *constructed* instance and graph. On any fixed instance (e.g.
ratebench's quadratics) a method may converge faster than the worst case. So
even a verified constant could not be checked against runs on arbitrary
instances.

This bound is therefore ``kind="lower"`` with exponents only (no rate):
``bounds.compare`` reports it as not checkable on one run, and
``bounds.check_scaling(..., mode="lower")`` checks that counts grow at least
with the stated exponents.
"""

from __future__ import annotations

import numpy as np

from algos.consensus.chebyshev_gossip import gossip_spectrum
from bounds._check import Bound

__all__ = ["scaman_lower_bound"]


def scaman_lower_bound(problem, W=None, *, x_axis: str = "gradient_calls") -> Bound:
    """Scaman et al. (2017) lower bound, order only.

    Args:
        problem: the problem (for ``kappa = L / mu``).
        W: the mixing matrix. ``gamma = 1/chi`` is the eigengap ratio of ``I - W``.
        x_axis: ``"gradient_calls"`` (``Omega(sqrt(kappa) ln 1/eps)``: exponents ``{"kappa": 0.5}``)
            or ``"communications"`` (``Omega(sqrt(kappa chi) ln 1/eps)``: ``{"kappa": 0.5, "chi": 0.5}``).

    Returns:
        ``Bound(kind="lower")`` with exponents and no rate. An optimal method's
        counts should scale with these exponents (``bounds.check_scaling``).
    """
    if x_axis not in ("gradient_calls", "communications"):
        raise ValueError(f"x_axis must be 'gradient_calls' or 'communications', got {x_axis!r}")
    if hasattr(problem, "params") and hasattr(problem, "hparams"):  # an Algorithm
        problem, W = problem.params["problem"], problem.params["W"]
    l_min, l_max = gossip_spectrum(np.asarray(W, dtype=np.float64))
    kappa = float(problem.L) / float(problem.mu)
    exps = {"kappa": 0.5} if x_axis == "gradient_calls" else {"kappa": 0.5, "chi": 0.5}
    return Bound(
        name="scaman_lower_bound",
        kind="lower",
        source=(
            "Scaman et al., ICML 2017 (arXiv:1702.08704), abstract (verified): Omega(sqrt(kappa_l)(1 + tau/sqrt(gamma)) ln 1/eps); "
            "theorem constants not verified (docs/VERIFICATION.md §5)"
        ),
        metric="dist_to_opt",
        x_axis=x_axis,
        exponents=exps,
        conditions={"mixes": l_min > 0},
        params={"direction": "lower", "kappa": kappa, "chi": l_max / l_min, "gamma": l_min / l_max},
        notes=(
            "LOWER bound, order only (Omega): worst case over instances and graphs with these kappa, gamma; "
            "not a per-instance rate. Constants unverified: exponents only."
        ),
    )

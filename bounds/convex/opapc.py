"""APAPC and OPAPC guarantees (Kovalev, Salim & Richtárik, NeurIPS 2020, arXiv:2006.11773).

Verified (NeurIPS abstract): OPAPC is optimal in both communication rounds and
gradient computations. With the lower bounds of Scaman et al. (2017) that means
``O(sqrt(kappa chi) log 1/eps)`` communications and ``O(sqrt(kappa) log 1/eps)``
gradients. The theorems' constants could not be read. docs/VERIFICATION.md §6
recalls APAPC's Theorem 1 as ``Psi^k <= (1 + 1/4 min{1/sqrt(kappa chi), 1/chi})^{-k} Psi^0``
for a Lyapunov function ``Psi`` (medium confidence, weights not verified). Hence
these bounds are ``kind="order"``, checked on exponents across runs. The
recalled rate is recorded in ``params`` for reference and used in no check.
"""

from __future__ import annotations

import math

from algos.consensus.chebyshev_gossip import gossip_spectrum
from bounds._check import Bound

__all__ = ["apapc", "opapc"]

_SOURCE = (
    "Kovalev, Salim & Richtarik, NeurIPS 2020 (arXiv:2006.11773), abstract (verified): OPAPC optimal in communications "
    "O(sqrt(kappa chi) log 1/eps) and gradients O(sqrt(kappa) log 1/eps); theorem constants not verified "
    "(docs/VERIFICATION.md §6)"
)


def _recalled_apapc_rate(kappa: float, chi: float) -> float:
    """The recalled (unverified) Lyapunov contraction of APAPC's Theorem 1, per iteration."""
    return 1.0 / (1.0 + 0.25 * min(1.0 / math.sqrt(kappa * chi), 1.0 / chi))


def _check_axis(x_axis):
    if x_axis not in ("gradient_calls", "communications", "steps"):
        raise ValueError(f"x_axis must be 'gradient_calls', 'communications' or 'steps', got {x_axis!r}")


def apapc(problem, W, *, step_size=None, tau=None, theta=None, x0=None, check: bool = True, x_axis: str = "communications") -> Bound:
    """APAPC: ``O((sqrt(kappa chi) + chi) log 1/eps)`` iterations, each one gradient and one gossip round.

    Statement (order; from the recalled Theorem 1, whose order agrees with the
    abstract's optimality claim for OPAPC once ``𝐖`` is replaced by ``P_T(𝐖)``):
    with ``tau = min(1, sqrt(chi/kappa)/2)``, ``eta = 1/(4 tau L)`` and
    ``theta = 1/(eta l_max)``, the iteration count is
    ``O(max(sqrt(kappa chi), chi) log 1/eps)``. Gradients and communications are
    each one per iteration, so every axis has the same exponents:
    ``{"kappa": 0.5, "chi": 0.5}`` in the regime ``kappa >= chi`` (condition
    ``"kappa >= chi"``). For ``chi > kappa`` the count is ``chi log 1/eps``.

    Metric: ``dist_to_opt`` of ``x^k``. The theorem bounds a Lyapunov function
    that contains ``||x^k - x*||^2 / eta``.
    """
    del step_size, tau, theta, x0, check
    _check_axis(x_axis)
    l_min, l_max = gossip_spectrum(W)
    chi = l_max / l_min
    kappa = float(problem.L) / float(problem.mu)
    return Bound(
        name="apapc",
        kind="order",
        source=_SOURCE,
        metric="dist_to_opt",
        x_axis=x_axis,
        exponents={"kappa": 0.5, "chi": 0.5},
        conditions={"kappa >= chi": kappa >= chi, "mixes": l_min > 0},
        params={"kappa": kappa, "chi": chi, "recalled Lyapunov rate (unverified)": _recalled_apapc_rate(kappa, chi)},
        notes="Order only; one gradient and one gossip round per iteration. For chi > kappa the order is chi log(1/eps).",
    )


def opapc(problem, W, *, T=None, step_size=None, tau=None, theta=None, x0=None, check: bool = True, x_axis: str = "communications") -> Bound:
    """OPAPC: ``O(sqrt(kappa chi) log 1/eps)`` communications and ``O(sqrt(kappa) log 1/eps)`` gradients.

    Statement (order, abstract-verified optimality): with ``T = floor(sqrt(chi))``
    Chebyshev rounds per iteration and the constants of :func:`algos.opapc`, the
    iteration count (= gradient calls) is ``O(sqrt(kappa) log 1/eps)``. The
    communication count (``T`` per iteration) is ``O(sqrt(kappa chi) log 1/eps)``.

    Args:
        x_axis: ``"gradient_calls"`` or ``"steps"`` (exponents ``{"kappa": 0.5}``), or
            ``"communications"`` (``{"kappa": 0.5, "chi": 0.5}``).

    Metric: ``dist_to_opt`` of ``x^k``.
    """
    del step_size, tau, theta, x0, check
    _check_axis(x_axis)
    l_min, l_max = gossip_spectrum(W)
    chi = l_max / l_min
    kappa = float(problem.L) / float(problem.mu)
    T_def = max(1, int(math.floor(math.sqrt(chi) + 1e-12)))
    exps = {"kappa": 0.5, "chi": 0.5} if x_axis == "communications" else {"kappa": 0.5}
    return Bound(
        name="opapc",
        kind="order",
        source=_SOURCE,
        metric="dist_to_opt",
        x_axis=x_axis,
        exponents=exps,
        conditions={"T = floor(sqrt(chi))": T is None or int(T) == T_def, "mixes": l_min > 0},
        params={"kappa": kappa, "chi": chi, "T": T_def if T is None else int(T)},
        notes="Order only; T = floor(sqrt(chi)) gossip rounds and one gradient per iteration.",
    )

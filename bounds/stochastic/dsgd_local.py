"""Orders of D-SGD with local steps and changing topology (Koloskova et al. 2020): three regimes.

Source: Koloskova, Loizou, Boreiri, Jaggi, Stich, "A Unified Theory of Decentralized SGD with Changing
Topology and Local Updates", ICML 2020, arXiv:2003.10422. Readable: the abstract only (VERIFIED: rates
for smooth convex and non-convex problems, interpolating between heterogeneous and iid data, local
SGD and changing topologies covered). Theorem 2's statement is NOT readable; the orders below are
RECALLED (as in docs/VERIFICATION.md §7 and :func:`bounds.dsgd`, extended with ``tau``), with unit
constants. ``p`` is the expected consensus contraction of one communication round
(``E||X W - X_bar||^2 <= (1 - p)||X - X_bar||^2``; for a fixed symmetric ``W``, ``p = 1 - slem(W)^2``),
``tau`` the number of local steps per round, ``sigma^2`` the gradient-noise variance, ``zeta^2`` the
heterogeneity, ``n`` the number of nodes. Iterations to accuracy ``eps``:

* strongly convex (``E f(x_bar) - f* <= eps``, weighted average):
  ``sigma^2/(mu n eps) + sqrt(L)(zeta tau + sigma sqrt(p tau))/(mu p sqrt(eps)) + L tau/(mu p) log(1/eps)``;
* convex: ``sigma^2/(n eps^2) + sqrt(L)(zeta tau + sigma sqrt(p tau))/(p eps^{3/2}) + L tau/(p eps)`` (times ``R_0^2``);
* non-convex (``(1/T) sum_t E||grad f(x_bar_t)||^2 <= eps``):
  ``L sigma^2/(n eps^2) + L(zeta tau + sigma sqrt(p tau))/(p eps^{3/2}) + L tau/(p eps)`` (times ``f_0 - f*``).

The first term is the centralized mini-batch SGD term with the **linear speed-up in n**.

Constant-step neighbourhood (DERIVED here from the three terms, ours, not a statement of the paper):
with a constant step ``alpha`` D-SGD stalls at a level whose leading parts are

* ``alpha sigma^2 / n`` (the noise term; in ``E f(x_bar) - f*``, or ``E||grad f||^2`` times ``L``),
* ``alpha^2 (sigma^2 tau / p + zeta^2 tau^2 / p^2)`` in the consensus distance
  ``Xi = (1/n) sum_i ||x_i - x_bar||^2`` (the quantity the proof's consensus lemma bounds), which
  enters the optimality gap multiplied by ``L`` (times the Hessian heterogeneity, on quadratics).

Each neighbourhood term, solved for ``alpha`` at level ``eps``, gives back the iteration count of the
matching complexity term (``alpha ~ 1/(mu T)``), which is how the exponents below are derived. They are
what :mod:`reproduce.dsgd_rates` checks (log-log slopes).
"""

from __future__ import annotations

import math

import numpy as np

from bounds._check import Bound

__all__ = ["dsgd_local_orders", "NEIGHBOURHOOD_EXPONENTS", "COMPLEXITY_EXPONENTS"]

#: term -> variable -> exponent of the constant-step neighbourhood (module docstring; DERIVED).
NEIGHBOURHOOD_EXPONENTS = {
    "noise (optimality gap)": {"alpha": 1.0, "sigma^2": 1.0, "n": -1.0},
    "consensus noise (Xi)": {"alpha": 2.0, "sigma^2": 1.0, "tau": 1.0, "p": -1.0},
    "consensus heterogeneity (Xi)": {"alpha": 2.0, "zeta^2": 1.0, "tau": 2.0, "p": -2.0},
    "heterogeneity (optimality gap, quadratics)": {"alpha": 2.0, "zeta^2": 1.0, "tau": 2.0, "p": -2.0},
}

#: regime -> term -> exponent of eps in the iteration count (RECALLED, module docstring).
COMPLEXITY_EXPONENTS = {
    "strongly_convex": {"noise": -1.0, "consensus": -0.5, "linear": 0.0},
    "convex": {"noise": -2.0, "consensus": -1.5, "linear": -1.0},
    "nonconvex": {"noise": -2.0, "consensus": -1.5, "linear": -1.0},
}

_REGIMES = tuple(COMPLEXITY_EXPONENTS)


def dsgd_local_orders(regime: str, *, L: float, sigma: float, zeta: float, n: int, p: float, tau: int = 1,
                      mu: float | None = None, scale: float = 1.0) -> Bound:  # fmt: skip
    """Koloskova et al.'s order for one regime, with unit constants (module docstring).

    Args:
        regime: ``"strongly_convex"``, ``"convex"`` or ``"nonconvex"``.
        L, sigma, zeta, n, p, tau: the constants (``0 < p <= 1``, ``tau >= 1``, ``n >= 1``).
        mu: strong convexity (``regime="strongly_convex"`` only).
        scale: ``R_0^2`` (convex) or ``f_0 - f*`` (non-convex); unused for the strongly convex regime.

    Returns:
        ``Bound(kind="order")`` with ``complexity["steps"](eps)`` and the exponents
        (``COMPLEXITY_EXPONENTS[regime]`` and the constant-step ``NEIGHBOURHOOD_EXPONENTS``).
    """
    if regime not in _REGIMES:
        raise ValueError(f"regime must be one of {_REGIMES}, got {regime!r}")
    if not (0.0 < p <= 1.0):
        raise ValueError(f"p (the consensus contraction of one round) must lie in (0, 1], got {p}")
    if isinstance(tau, bool) or int(tau) != tau or tau < 1:
        raise ValueError(f"tau (local steps per round) must be a positive integer, got {tau!r}")
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if regime == "strongly_convex" and not (mu is not None and 0.0 < mu <= L):
        raise ValueError(f"regime='strongly_convex' needs 0 < mu <= L, got mu={mu}, L={L}")
    cons = zeta * tau + sigma * math.sqrt(p * tau)

    def steps(eps):
        eps = float(eps)
        if regime == "strongly_convex":
            return sigma**2 / (mu * n * eps) + math.sqrt(L) * cons / (mu * p * math.sqrt(eps)) + L * tau / (mu * p) * math.log(1.0 / eps)
        a = L if regime == "nonconvex" else 1.0
        c = L if regime == "nonconvex" else math.sqrt(L)
        return scale * (a * sigma**2 / (n * eps**2) + c * cons / (p * eps**1.5) + L * tau / (p * eps))

    exps = {f"eps ({k} term)": v for k, v in COMPLEXITY_EXPONENTS[regime].items()}
    for term, table in NEIGHBOURHOOD_EXPONENTS.items():
        for var, e in table.items():
            exps[f"{term}: {var}"] = e
    return Bound(
        name=f"dsgd_local_{regime}",
        method="dsgd_local",
        kind="order",
        source=("Koloskova, Loizou, Boreiri, Jaggi, Stich, ICML 2020 (arXiv:2003.10422), Theorem 2 RECALLED "
                "(abstract verified; constants and step sizes not found); constant-step neighbourhood exponents "
                "derived by ratebench (bounds/stochastic/dsgd_local.py)"),  # fmt: skip
        metric="suboptimality" if regime != "nonconvex" else "grad_norm_sq",
        complexity={"steps": steps, "gradient_calls": steps, "communications": lambda eps: steps(eps) / tau},
        exponents=exps,
        conditions={"0 < p <= 1": 0.0 < p <= 1.0, "tau >= 1": tau >= 1},
        params={"regime": regime, "L": L, "mu": mu, "sigma": sigma, "zeta": zeta, "n": n, "p": p, "tau": tau},
        notes="Order only (unit constants): checked on exponents across runs, never as a curve.",
    )


def consensus_p(W) -> float:
    """``p = 1 - slem(W)^2`` of a fixed symmetric ``W`` (one round's consensus contraction)."""
    from problems import mixing

    return 1.0 - mixing.slem(np.asarray(W)) ** 2

"""Order statements for DADAO and ADOM+ (time-varying and asynchronous networks).

Only the orders are known (abstracts); the constants of the theorems are not readable, so both
bounds are ``kind="order"``: scaling laws whose exponents :func:`bounds.check_scaling` checks
across runs (figure ``dadao``). ``complexity`` is not given (no constant to evaluate).
"""

from __future__ import annotations

from bounds._check import Bound

__all__ = ["dadao", "adom_plus"]


def dadao(algo) -> Bound:
    """DADAO (Nabli & Oyallon, ICML 2023, abstract, verified): ``O(n sqrt(L/mu) log 1/eps)`` local
    gradients and ``O(n sqrt(chi_1 chi_2) sqrt(L/mu) log 1/eps)`` communications ("up to logarithmic
    terms"), with ``chi_1 = 1 / lambda_2^+`` of the edge Laplacian and ``chi_2`` its maximal resistance.

    Consequence checked on runs (derived): at fixed ``n`` and graph the decay rate of the error per
    local gradient scales as ``sqrt(mu/L)`` (exponent ``-1/2`` of the gradients-per-log-decade in
    ``kappa``), and edge activations per gradient are ``lambda_mix / lambda_grad = sqrt(2 chi_1 chi_2) / n``
    by construction.
    """
    if getattr(algo, "name", None) != "dadao":
        raise ValueError(f"bounds.dadao is about algos.dadao; got {getattr(algo, 'name', type(algo).__name__)!r}")
    hp = algo.hparams
    return Bound(
        name="dadao",
        kind="order",
        source="Nabli & Oyallon, DADAO, ICML 2023 / arXiv:2208.00779 v3, abstract (orders only)",
        metric="sq_dist_to_opt",
        x_axis="gradient_calls",
        exponents={"gradients_vs_kappa": 0.5, "communications_vs_kappa": 0.5, "communications_vs_sqrt_chi1_chi2": 1.0},
        params={"chi_1": hp["chi_1"], "chi_2": hp["chi_2"], "lamb_mix": hp["lamb_mix"], "lamb_grad": hp["lamb_grad"]},
        notes="orders only; counts to a fixed accuracy scale as kappa^0.5 (gradients and communications)",
    )


def adom_plus(algo) -> Bound:
    """ADOM+ (Kovalev, Gasanov, Gasnikov & Richtárik, NeurIPS 2021): optimal over time-varying networks.

    Readable (abstract): lower bounds on communications and computations over time-varying networks
    exist and ADOM+ attains them; their formulas are NOT readable. The orders recorded here are the
    project reading list's (PAPERS.md: ``O(chi sqrt(kappa) log 1/eps)`` communications,
    ``O(sqrt(kappa) log 1/eps)`` gradients), marked unverified; the figure checks only the kappa exponent.
    """
    if getattr(algo, "name", None) not in ("adom_plus", "adom_plus_mc"):
        raise ValueError(f"bounds.adom_plus is about algos.adom_plus; got {getattr(algo, 'name', type(algo).__name__)!r}")
    return Bound(
        name="adom_plus",
        method=algo.name,
        kind="order",
        source="Kovalev et al. 2021 (abstract: optimal, formulas not readable); orders as recalled in PAPERS.md (unverified)",
        metric="dist_to_opt",
        x_axis="gradient_calls",
        exponents={"gradients_vs_kappa": 0.5, "communications_vs_kappa": 0.5, "communications_vs_chi": 1.0},
        params={"chi": algo.hparams["chi"], "Q": algo.hparams["Q"]},
        notes="orders only, unverified form",
    )

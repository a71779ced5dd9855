"""NIDS's guarantee: network-independent step ``alpha < 2/L`` and separated rates (order only).

Statements used (see docs/VERIFICATION.md §2):

* Li, Shi, Yan, IEEE TSP 67(17) 2019 (arXiv:1704.07807) — ABSTRACT-VERIFIED:
  the stable step sizes are independent of the network and as large as
  gradient descent's; under strong convexity (no nonsmooth term) convergence
  is linear and "the dependence of the convergence rate on the objective
  functions and the network are separated" — as good as the slower of
  gradient descent's and consensus averaging's rates. Recorded as the order
  ``O((kappa + 1/(1 - lambda_2(W))) log 1/eps)`` iterations (equivalently
  ``max(kappa, 1/(1 - lambda_2))`` up to a factor 2). The theorem's explicit
  rho (``max{1 - alpha mu (2 - alpha L), 1 - c lambda_{n-1}(I - W) ...}``)
  was only recalled, its network term not recovered: not used.
* Step-size condition ``0 < alpha < 2/L``: MATH-VERIFIED as the exact worst-case
  stability boundary on quadratics for ``W_bar = (I + W)/2`` (any ``W`` with
  ``lambda_n >= -1``); Li & Yan (arXiv:1906.07225, abstract) say the same.

Metric: ``dist_to_opt`` per step (one gradient and one communication per step).
"""

from __future__ import annotations

import math

from algos.convex import _stepsize
from algos.convex._common import check_problem_and_W
from algos.convex.nids import default_step_size
from algos.convex.nids import nids as _nids_algo
from bounds._check import Bound
from bounds.convex._shared import maybe_exact_rate

__all__ = ["nids"]

SOURCE = (
    "Li, Shi, Yan, 'A decentralized proximal-gradient method with network independent step-sizes and "
    "separated convergence rates', IEEE TSP 67(17) 2019 (arXiv:1704.07807): abstract-verified order; "
    "step range 2/L math-verified (docs/VERIFICATION.md §2)"
)


def separated_order_bound(name, problem, W, step_size, default, make_algo, source, exact) -> Bound:
    """The NIDS / exact diffusion order bound (shared by :mod:`bounds.convex.exact_diffusion`)."""
    W = check_problem_and_W(problem, W, name)
    L, mu = _stepsize.constants(problem, name)
    spec = _stepsize.spectrum(W)
    alpha = default(problem, W) if step_size is None else float(step_size)
    kappa = L / mu
    gap2 = 1.0 - spec.lambda_2

    def iterations(eps):
        return (kappa + 1.0 / gap2) * math.log(1.0 / eps) if gap2 > 0 else math.inf

    return Bound(
        name=name,
        kind="order",
        source=source,
        metric="dist_to_opt",
        x_axis="steps",
        complexity={"steps": iterations, "gradient_calls": iterations, "communications": iterations},
        exponents={"kappa": 1.0, "1/(1-lambda_2)": 1.0},
        conditions={
            "step_size > 0": alpha > 0.0,
            "step_size < 2 / L": alpha < 2.0 / L,
            "W connected (lambda_2 < 1)": gap2 > 0.0,
        },
        params={"step_size": alpha, "L": L, "mu": mu, "kappa": kappa, "lambda_2": spec.lambda_2},
        exact_rate=maybe_exact_rate(exact, problem, lambda: make_algo(problem, W, alpha, check=False)),
        notes=(
            "Order only: iterations ~ kappa + 1/(1 - lambda_2) (network and function terms separated). "
            "The complexity functions carry the unknown absolute constant set to 1. compare() returns holds=None; "
            "check exponents with bounds.check_scaling."
        ),
    )


def nids(problem, W, step_size=None, *, exact: bool = False) -> Bound:
    """NIDS (``W_bar = (I + W)/2``): order of its complexity and the step-size condition ``alpha < 2/L``.

    Args:
        problem: the :class:`problems.convex.Problem`.
        W: mixing matrix.
        step_size: ``alpha``; default ``1/L`` as in :func:`algos.convex.nids.nids`.
        exact: also compute the exact rate (spectral radius, quadratics only) into ``exact_rate``.

    Returns:
        ``Bound(kind="order")``, exponents ``{"kappa": 1, "1/(1-lambda_2)": 1}``.
    """
    return separated_order_bound("nids", problem, W, step_size, default_step_size, _nids_algo, SOURCE, exact)

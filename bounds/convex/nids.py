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

from algos.convex.nids import nids as _nids_algo
from bounds._args import as_algorithm, dense_W, hp, spectrum_of
from bounds._check import Bound, signature
from bounds.convex._shared import maybe_instance_rate

__all__ = ["nids"]

SOURCE = (
    "Li, Shi, Yan, 'A decentralized proximal-gradient method with network independent step-sizes and "
    "separated convergence rates', IEEE TSP 67(17) 2019 (arXiv:1704.07807): abstract-verified order; "
    "step range 2/L math-verified (docs/VERIFICATION.md §2)"
)


def separated_order_bound(name, problem_or_algo, W, step_size, x0, make_algo, source, with_instance_rate) -> Bound:
    """The NIDS / exact diffusion order bound (shared by :mod:`bounds.convex.exact_diffusion`)."""
    algo = as_algorithm(name, make_algo, problem_or_algo, W, step_size=step_size, x0=x0)
    problem = algo.params["problem"]
    L, mu = float(problem.L), float(problem.mu)
    lam2, _, _ = spectrum_of(algo)
    alpha = hp(algo, "step_size")
    kappa = L / mu
    gap2 = 1.0 - lam2

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
        params={"step_size": alpha, "L": L, "mu": mu, "kappa": kappa, "lambda_2": lam2},
        instance_rate=maybe_instance_rate(with_instance_rate, algo),
        signature=signature(problem, dense_W(algo)),
        hparams={"step_size": alpha},
        notes=(
            "Order only: iterations ~ kappa + 1/(1 - lambda_2) (network and function terms separated). "
            "The complexity functions carry the unknown absolute constant set to 1. compare() returns holds=None; "
            "check exponents with bounds.check_scaling."
        ),
    )


def nids(problem_or_algo, W=None, step_size=None, *, x0=None, with_instance_rate: bool = False) -> Bound:
    """NIDS (``W_bar = (I + W)/2``): order of its complexity and the step-size condition ``alpha < 2/L``.

    Args:
        problem_or_algo: the run's :class:`algos.Algorithm`, or the problem (then ``W``, ``step_size``
            as in :func:`algos.nids`; the default ``1/L`` comes from the factory).
        with_instance_rate: also compute the exact rate into ``instance_rate`` (information).

    Returns:
        ``Bound(kind="order")``, exponents ``{"kappa": 1, "1/(1-lambda_2)": 1}``.
    """
    return separated_order_bound("nids", problem_or_algo, W, step_size, x0, _nids_algo, SOURCE, with_instance_rate)

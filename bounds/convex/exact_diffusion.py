"""Exact diffusion's guarantee (Yuan, Ying, Zhao, Sayed 2019): the NIDS statement (order only).

With symmetric doubly stochastic ``W``, ``W_bar = (I + W)/2`` and a uniform
step, exact diffusion is the NIDS recursion (ratebench tests that the iterates
coincide up to the first step), so it inherits
:func:`bounds.convex.nids.nids`: iterations ``O((kappa + 1/(1 - lambda_2)) log 1/eps)``,
stable for ``alpha < 2/L``. Part II (IEEE TSP 2019, arXiv:1702.05142;
abstract verified) proves linear convergence and a wider stability range than
EXTRA; its explicit constants were not read.
"""

from __future__ import annotations

from algos.convex.exact_diffusion import exact_diffusion as _ed_algo
from bounds._check import Bound
from bounds.convex.nids import separated_order_bound

__all__ = ["exact_diffusion"]

SOURCE = (
    "Yuan, Ying, Zhao, Sayed, 'Exact diffusion for distributed optimization and learning', Parts I-II, "
    "IEEE TSP 2019 (arXiv:1702.05122, 1702.05142), abstract-verified linear convergence; identical to NIDS "
    "(Li, Shi, Yan 2019) for W_bar = (I+W)/2, whose abstract-verified order is used; step range 2/L "
    "math-verified (docs/VERIFICATION.md §2)"
)


def exact_diffusion(problem_or_algo, W=None, step_size=None, *, x0=None, with_instance_rate: bool = False) -> Bound:
    """Exact diffusion: order of its complexity and the step-size condition ``alpha < 2/L`` (takes the algorithm too)."""
    return separated_order_bound(
        "exact_diffusion", problem_or_algo, W, step_size, x0, _ed_algo, SOURCE, with_instance_rate
    )

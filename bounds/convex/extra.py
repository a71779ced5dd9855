"""EXTRA's guarantee: linear convergence, O((kappa + 1/(1 - sigma_2)) log(1/(eps (1 - sigma_2)))) (order only).

Statements used (see docs/VERIFICATION.md §1 for what was verified):

* Li & Lin, "Revisiting EXTRA for smooth distributed optimization", SIAM J.
  Optim. 2020 (arXiv:2002.10110) — ABSTRACT-VERIFIED: for L-smooth,
  mu-strongly convex problems EXTRA needs
  ``O((L/mu + 1/(1 - sigma_2(W))) log(1/(eps (1 - sigma_2(W)))))`` gradient
  computations and communication rounds; ``sigma_2(W)`` is the second largest
  singular value, ``= slem(W)`` for symmetric ``W``. The step size and the
  explicit per-iteration rate inside their theorem were NOT FOUND, so this is an
  ``order`` bound: iterations scale like ``kappa + 1/(1 - slem)`` (exponent 1 in
  each, when it dominates).
* Shi, Ling, Wu, Yin 2015 (SIAM J. Optim. 25(2), arXiv:1404.6264), abstract
  verified: R-linear convergence under (restricted) strong convexity. Their
  explicit contraction (Thm 3.7) was recalled only; not used.
* Step-size condition: ``0 < alpha < (5 + 3 lambda_n(W)) / (4L)`` —
  MATH-VERIFIED as the exact stability boundary on the worst-case quadratic
  (every Hessian ``L I``), recalled as the range of Li & Yan, "On the linear
  convergence of two decentralized algorithms" (arXiv:1906.07225, JOTA 2021).

Metric: ``dist_to_opt`` per step (one gradient and one communication round
per step).
"""

from __future__ import annotations

import math

from algos.convex.extra import extra as _extra_algo
from bounds._args import as_algorithm, dense_W, hp, spectrum_of
from bounds._check import Bound, signature
from bounds.convex._shared import maybe_instance_rate

__all__ = ["extra"]


def extra(problem_or_algo, W=None, step_size=None, *, x0=None, with_instance_rate: bool = False) -> Bound:
    """EXTRA (``W~ = (I + W)/2``): the order of its complexity and the step-size condition.

    Args:
        problem_or_algo: the run's :class:`algos.Algorithm`, or the problem (then ``W``, ``step_size``
            as in :func:`algos.extra`; the default step comes from the factory).
        with_instance_rate: also compute the exact rate (quadratics/least squares) into ``instance_rate``
            (information; the run-by-run check is ``bounds.instance(algo)``).

    Returns:
        ``Bound(kind="order")`` with ``exponents`` ``{"kappa": 1, "1/(1-slem)": 1}`` and
        ``complexity`` (gradient calls = communications = iterations) equal to the O(.)
        expression ``(kappa + 1/(1-slem)) log(1/(eps (1-slem)))`` with its unknown absolute
        constant set to 1 — a scaling law, not a count.
    """
    algo = as_algorithm("extra", _extra_algo, problem_or_algo, W, step_size=step_size, x0=x0)
    problem = algo.params["problem"]
    L, mu = float(problem.L), float(problem.mu)
    _, lam_n, slem = spectrum_of(algo)
    alpha = hp(algo, "step_size")
    kappa = L / mu
    gap = 1.0 - slem

    def iterations(eps):
        return (kappa + 1.0 / gap) * math.log(1.0 / (eps * gap)) if gap > 0 else math.inf

    return Bound(
        name="extra",
        kind="order",
        source=(
            "Li & Lin, 'Revisiting EXTRA for smooth distributed optimization', SIAM J. Optim. 2020 "
            "(arXiv:2002.10110), abstract-verified complexity; Shi et al. SIAM J. Optim. 2015 (linear rate); "
            "step range (5 + 3 lambda_n)/(4L): math-verified worst case (docs/VERIFICATION.md §1), recalled as Li & Yan 2021"
        ),
        metric="dist_to_opt",
        x_axis="steps",
        complexity={"steps": iterations, "gradient_calls": iterations, "communications": iterations},
        exponents={"kappa": 1.0, "1/(1-slem)": 1.0},
        conditions={
            "step_size > 0": alpha > 0.0,
            "step_size < (5 + 3 lambda_n(W)) / (4L)": alpha < (5.0 + 3.0 * lam_n) / (4.0 * L),
            "W mixes (slem < 1)": gap > 0.0,
        },
        params={"step_size": alpha, "L": L, "mu": mu, "kappa": kappa, "slem": slem, "lambda_n": lam_n},
        instance_rate=maybe_instance_rate(with_instance_rate, algo),
        signature=signature(problem, dense_W(algo)),
        hparams={"step_size": alpha},
        notes=(
            "Only the order is verified: the theorem's step size and per-iteration rate were not recovered. "
            "Check exponents across runs (bounds.check_scaling); compare() returns holds=None; bounds.instance(algo) is the run-by-run check on quadratics."
        ),
    )

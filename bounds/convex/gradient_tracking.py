"""Gradient tracking (DIGing)'s guarantee: O(kappa / (p c) log 1/eps) iterations (order only).

Statements used (see docs/VERIFICATION.md §3):

* Nedić, Olshevsky, Shi, SIAM J. Optim. 27(4) 2017 (arXiv:1607.03218) —
  ABSTRACT-VERIFIED: R-linear convergence for step sizes below some upper
  bound; the explicit small-gain estimate was only recalled (and is very
  loose): not used.
* Koloskova, Lin, Stich, NeurIPS 2021 (arXiv:2202.03836) — ABSTRACT-VERIFIED:
  the noiseless dependence on the network improves to ``O(1/(p c))``;
  RECALLED: noiseless strongly convex complexity ``O~((L/mu) / (p c) log 1/eps)``.
  Here ``p = 1 - slem(W)^2`` (their mixing parameter for a fixed ``W``:
  ``||X W - X_bar||^2 <= (1 - p)||X - X_bar||^2``) and ``c`` relates to the
  negative eigenvalues of ``W``; we record ``c = (1 + lambda_n(W)) / 2``
  (1 for nonnegative spectra) as a label, not a verified constant. Order
  bound: iterations ~ ``kappa`` (exponent 1) and ~ ``1/p`` (exponent 1).
* Step-size condition ``0 < alpha < (1 + lambda_n(W))^2 / (2L)`` — the exact
  stability boundary on the worst-case quadratic, derived by ratebench (Jury
  conditions of ``z^2 - (2 lambda - alpha h) z + lambda^2 - alpha h``); not a
  paper's constant (the papers' sufficient conditions are much smaller).

Metric: ``dist_to_opt`` per step; each step sends two vectors per node.
"""

from __future__ import annotations

import math

from algos.convex.gradient_tracking import gradient_tracking as _gt_algo
from bounds._args import as_algorithm, dense_W, hp, spectrum_of
from bounds._check import Bound, signature
from bounds.convex._shared import maybe_instance_rate

__all__ = ["gradient_tracking"]


def gradient_tracking(problem_or_algo, W=None, step_size=None, *, x0=None, with_instance_rate: bool = False) -> Bound:
    """DIGing: order of its complexity and the (worst-case quadratic) step-size condition.

    Args:
        problem_or_algo: the run's :class:`algos.Algorithm`, or the problem (then ``W``, ``step_size``
            as in :func:`algos.gradient_tracking`; the default step comes from the factory).
        with_instance_rate: also compute the exact rate into ``instance_rate`` (information).

    Returns:
        ``Bound(kind="order")``, exponents ``{"kappa": 1, "1/p": 1}``; ``complexity`` gives
        iterations = gradient calls, communications = 2 x iterations (unit constant; a scaling law).
    """
    algo = as_algorithm("gradient_tracking", _gt_algo, problem_or_algo, W, step_size=step_size, x0=x0)
    problem = algo.params["problem"]
    L, mu = float(problem.L), float(problem.mu)
    _, lam_n, slem = spectrum_of(algo)
    alpha = hp(algo, "step_size")
    kappa = L / mu
    p = 1.0 - slem**2
    c = (1.0 + lam_n) / 2.0

    def iterations(eps):
        return kappa / (p * c) * math.log(1.0 / eps) if p > 0 and c > 0 else math.inf

    return Bound(
        name="gradient_tracking",
        kind="order",
        source=(
            "Koloskova, Lin, Stich, 'An improved analysis of gradient tracking for decentralized machine "
            "learning', NeurIPS 2021 (arXiv:2202.03836): abstract-verified 1/(p c) network dependence, recalled "
            "kappa/(p c) log(1/eps); Nedic, Olshevsky, Shi 2017 (linear convergence); step range "
            "(1 + lambda_n)^2/(2L): ratebench's worst-case quadratic stability boundary"
        ),
        metric="dist_to_opt",
        x_axis="steps",
        complexity={
            "steps": iterations,
            "gradient_calls": iterations,
            "communications": lambda eps: 2.0 * iterations(eps),
        },
        exponents={"kappa": 1.0, "1/p": 1.0},
        conditions={
            "step_size > 0": alpha > 0.0,
            "step_size < (1 + lambda_n(W))^2 / (2L)": alpha < (1.0 + lam_n) ** 2 / (2.0 * L),
            "W mixes (p > 0)": p > 0.0,
        },
        params={"step_size": alpha, "L": L, "mu": mu, "kappa": kappa, "p": p, "c": c, "lambda_n": lam_n},
        instance_rate=maybe_instance_rate(with_instance_rate, algo),
        signature=signature(problem, dense_W(algo)),
        hparams={"step_size": alpha},
        notes=(
            "Order only (the complexity is recalled, its constants unknown; c is a label). "
            "compare() returns holds=None; check the kappa exponent with bounds.check_scaling."
        ),
    )

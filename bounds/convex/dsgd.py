"""D-SGD's guarantee (Koloskova et al. 2020, Theorem 2, strongly convex case; order only).

Statement (Koloskova, Loizou, Boreiri, Jaggi, Stich, "A unified theory of
decentralized SGD with changing topology and local updates", ICML 2020,
arXiv:2003.10422; abstract verified, theorem RECALLED with medium confidence
and consistent with PAPERS.md — docs/VERIFICATION.md §7): for mu-strongly
convex, L-smooth ``f_i``, noise ``sigma^2`` and heterogeneity ``zeta^2`` at the
optimum, and a mixing parameter ``p`` (for a fixed ``W``, ``tau = 1`` and
``p = 1 - slem(W)^2``), D-SGD reaches accuracy ``eps`` after

    O~( sigma^2 / (mu n eps) + sqrt(L) (zeta + sigma sqrt(p)) / (mu p sqrt(eps)) + L / (mu p) log(1/eps) )

iterations (one stochastic gradient and one communication per iteration), on
a weighted average of ``E f(x_bar) - f*``. The step-size constant (``alpha <=
p / (c L)``) was NOT FOUND; the theorem uses tuned (not constant) steps.
"""

from __future__ import annotations

import math

from algos.convex import _stepsize
from algos.convex._common import check_problem_and_W
from algos.convex.dsgd import default_step_size
from bounds._check import Bound

__all__ = ["dsgd"]


def dsgd(problem, W, step_size=None) -> Bound:
    """D-SGD: the order of its complexity (Koloskova et al. 2020, Thm 2).

    Returns:
        ``Bound(kind="order", metric="suboptimality")``: ``complexity`` is the O~(.) expression with
        unit constants (a scaling law); ``exponents`` the dominant ``eps`` exponents: ``-1`` when
        ``sigma > 0`` (noise term), ``-1/2`` for the heterogeneity term, and ``1/p`` exponent 1 in the
        linear term. ``conditions`` records the noiseless stability range ``alpha < 2/L`` of the factory.
    """
    W = check_problem_and_W(problem, W, "dsgd")
    L, mu = _stepsize.constants(problem, "dsgd")
    spec = _stepsize.spectrum(W)
    alpha = default_step_size(problem, W) if step_size is None else float(step_size)
    n = W.shape[0]
    sigma, zeta = float(problem.sigma), float(problem.zeta)
    p = 1.0 - spec.slem**2

    def iterations(eps):
        if p <= 0:
            return math.inf
        return (
            sigma**2 / (mu * n * eps)
            + math.sqrt(L) * (zeta + sigma * math.sqrt(p)) / (mu * p * math.sqrt(eps))
            + L / (mu * p) * math.log(1.0 / eps)
        )

    return Bound(
        name="dsgd",
        kind="order",
        source=(
            "Koloskova, Loizou, Boreiri, Jaggi, Stich, ICML 2020 (arXiv:2003.10422), Theorem 2 (recalled, "
            "consistent with PAPERS.md; docs/VERIFICATION.md §7); constants and step size not found"
        ),
        metric="suboptimality",
        x_axis="steps",
        complexity={"steps": iterations, "gradient_calls": iterations, "communications": iterations},
        exponents={"eps (noise term)": -1.0, "eps (heterogeneity term)": -0.5, "1/p (linear term)": 1.0},
        conditions={"step_size > 0": alpha > 0.0, "step_size < 2 / L": alpha < 2.0 / L, "W mixes (p > 0)": p > 0.0},
        params={"step_size": alpha, "L": L, "mu": mu, "sigma": sigma, "zeta": zeta, "p": p, "n": n},
        notes=(
            "Order only. With a constant step D-SGD stalls at a neighbourhood whose size grows with "
            "alpha sigma^2 / n and alpha^2 zeta^2 / p^2; the theorem's rate needs its tuned step sequence."
        ),
    )

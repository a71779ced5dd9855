"""DGD (Yuan, Ling, Yin 2016): stability condition, linear convergence to a neighbourhood, and its bias.

Statement (K. Yuan, Q. Ling, W. Yin, "On the convergence of decentralized
gradient descent", SIAM J. Optim. 26(3), 2016, arXiv:1310.7063; abstract
verified, explicit condition recalled with medium-high confidence — see
docs/VERIFICATION.md §4): with ``W`` symmetric doubly stochastic, every
``f_i`` L-smooth, the average (restricted) strongly convex and
``alpha < (1 + lambda_n(W)) / L``, the iterates of DGD converge linearly to an
``O(alpha / (1 - beta))`` neighbourhood of ``x*`` (``beta = slem(W)``); more
precisely the consensus error is ``O(alpha D / (1 - beta))`` with ``D`` a
bound on the gradients. The constant of the neighbourhood was NOT FOUND, so
both statements are ``order`` bounds.

What ratebench adds (MATH-VERIFIED, not the paper's): on any instance with
local Hessians in ``[mu, L]`` the DGD map ``X -> W X - alpha grad F(X)`` is a
contraction in the Frobenius norm with factor
``q = max(|1 - alpha mu|, |lambda_n(W) - alpha L|)`` (the symmetric matrix
``W - alpha H`` has its spectrum in ``[lambda_n - alpha L, 1 - alpha mu]``);
so the iterates converge to DGD's fixed point at rate ``<= q`` — recorded in
``params["fixed_point_contraction"]``, not as ``rate``, because the trace
metric ``dist_to_opt`` measures the distance to ``x*``, which DGD does not reach.
"""

from __future__ import annotations

import math

from algos.convex import _stepsize
from algos.convex._common import check_problem_and_W
from algos.convex.dgd import default_step_size
from algos.convex.dgd import dgd as _dgd_algo
from bounds._check import Bound
from bounds.convex._shared import maybe_exact_rate

__all__ = ["dgd", "dgd_bias"]

_SOURCE = (
    "Yuan, Ling, Yin, 'On the convergence of decentralized gradient descent', SIAM J. Optim. 26(3) 2016 "
    "(arXiv:1310.7063); abstract verified, step condition recalled (docs/VERIFICATION.md §4); constants not found"
)


def _resolve(problem, W, step_size):
    W = check_problem_and_W(problem, W, "dgd")
    L, mu = _stepsize.constants(problem, "dgd")
    spec = _stepsize.spectrum(W)
    alpha = default_step_size(problem, W) if step_size is None else float(step_size)
    return W, L, mu, spec, alpha


def dgd(problem, W, step_size=None, *, exact: bool = False) -> Bound:
    """DGD's guarantee: linear convergence to an ``O(alpha/(1 - beta))`` neighbourhood (order only).

    Args:
        problem: the :class:`problems.convex.Problem` (its ``L``, ``mu``, ``zeta`` are read).
        W: mixing matrix.
        step_size: ``alpha``; default resolved exactly as :func:`algos.convex.dgd.dgd` does.
        exact: also compute the exact rate (spectral radius, quadratics only) into ``exact_rate``.

    Returns:
        ``Bound(kind="order")``: ``exponents`` is the neighbourhood's scaling law
        (``step_size``: 1, ``1/(1-beta)``: 1); ``complexity["steps"]`` is the order
        ``log(1/eps) / (alpha mu)`` of the linear phase (absolute constant unknown, set to 1);
        ``conditions`` holds the step-size condition ``0 < alpha < (1 + lambda_n)/L``.
    """
    W, L, mu, spec, alpha = _resolve(problem, W, step_size)
    q = max(abs(1.0 - alpha * mu), abs(spec.lambda_n - alpha * L))

    def steps(eps):
        return math.log(1.0 / eps) / (alpha * mu)

    return Bound(
        name="dgd",
        kind="order",
        source=_SOURCE,
        metric="dist_to_opt",
        x_axis="steps",
        complexity={"steps": steps, "gradient_calls": steps, "communications": steps},
        exponents={"step_size": 1.0, "1/(1-beta)": 1.0},
        conditions={
            "step_size > 0": alpha > 0.0,
            "step_size < (1 + lambda_n(W)) / L": alpha < (1.0 + spec.lambda_n) / L,
        },
        params={
            "step_size": alpha, "L": L, "mu": mu, "lambda_n": spec.lambda_n, "beta": spec.slem,
            "fixed_point_contraction": q,
        },  # fmt: skip
        exact_rate=maybe_exact_rate(exact, problem, lambda: _dgd_algo(problem, W, alpha, check=False)),
        notes=(
            "DGD converges to a biased fixed point, not to x*: dist_to_opt levels off at the bias "
            "(see dgd_bias). The exact rate (if computed) is the rate of convergence to that fixed point. "
            "fixed_point_contraction = max(|1 - alpha mu|, |lambda_n - alpha L|) is a ratebench derivation "
            "(Frobenius-norm contraction of W - alpha H), valid for any local Hessians in [mu, L]."
        ),
    )


def dgd_bias(problem, W, step_size=None) -> Bound:
    """The size of DGD's neighbourhood: ``||x_i(inf) - x*|| = O(alpha zeta / (1 - beta))`` (order only).

    ``params["scale"]`` is ``alpha * zeta / (1 - beta)``, the O(.) expression with its unknown
    constant set to 1 (Yuan et al. bound the gradients by ``D`` along the run; ratebench uses
    the heterogeneity at the optimum ``zeta``, the usual refinement, as the scale). Check the
    exponent across step sizes with :func:`bounds.check_scaling` (exponent 1 in ``step_size``),
    never the value.
    """
    W, L, mu, spec, alpha = _resolve(problem, W, step_size)
    zeta = float(problem.zeta)
    gap = 1.0 - spec.slem
    return Bound(
        name="dgd_bias",
        kind="order",
        source=_SOURCE,
        metric="dist_to_opt",
        x_axis="steps",
        exponents={"step_size": 1.0, "zeta": 1.0, "1/(1-beta)": 1.0},
        conditions={
            "step_size > 0": alpha > 0.0,
            "step_size < (1 + lambda_n(W)) / L": alpha < (1.0 + spec.lambda_n) / L,
            "W mixes (beta < 1)": gap > 0.0,
        },
        params={
            "step_size": alpha, "zeta": zeta, "beta": spec.slem,
            "scale": alpha * zeta / gap if gap > 0 else math.inf,
        },  # fmt: skip
        notes=(
            "Order statement for the final value of dist_to_opt (the limit of DGD), which is linear in the "
            "step size for small steps; the absolute constant was not found. PAPERS.md writes 1 - lambda_2; "
            "the paper uses 1 - beta with beta = slem(W)."
        ),
    )

"""MSDA's guarantee (Scaman, Bach, Bubeck, Lee & Massoulié, ICML 2017, arXiv:1702.08704).

Only the order is verified: the abstract says MSDA reaches precision eps in time
``O(sqrt(kappa_l) (1 + tau / sqrt(gamma)) ln(1/eps))``, with one unit per
gradient step and ``tau`` per communication round. That is
``O(sqrt(kappa) ln 1/eps)`` gradient steps and
``O(sqrt(kappa / gamma) ln 1/eps) = O(sqrt(kappa chi) ln 1/eps)``
communication rounds. The rate theorem's constants could not be read (see
docs/VERIFICATION.md §5, "NOT FOUND"), so this bound is ``kind="order"``. It
is checked on exponents across runs (``bounds.check_scaling``), never as a value.
"""

from __future__ import annotations

import math

from algos.consensus.chebyshev_gossip import chebyshev_coefficients
from algos.convex.msda import msda as _msda_algo
from algos.convex.msda import msda_constants
from bounds._args import as_algorithm, dense_W, hp
from bounds._check import Bound, signature
from bounds.convex._shared import maybe_instance_rate

__all__ = ["msda"]

_SOURCE = (
    "Scaman et al., ICML 2017 (arXiv:1702.08704), abstract (verified): MSDA time O(sqrt(kappa_l)(1 + tau/sqrt(gamma)) ln 1/eps); "
    "theorem constants not verified (docs/VERIFICATION.md §5)"
)


def _close(a, b, rel=1e-9) -> bool:
    return a is not None and b is not None and abs(float(a) - float(b)) <= rel * max(abs(float(b)), 1e-300)


def msda(problem_or_algo, W=None, *, K=None, step_size=None, momentum=None, x_axis: str = "gradient_calls",
         with_instance_rate: bool = False) -> Bound:  # fmt: skip
    """MSDA: ``O(sqrt(kappa) log 1/eps)`` gradients and ``O(sqrt(kappa chi) log 1/eps)`` communications.

    Statement (order only, abstract-verified): with ``K = floor(1/sqrt(gamma))``
    Chebyshev gossip rounds per step and the default ``eta`` and ``m``, MSDA
    needs ``O(sqrt(kappa) log 1/eps)`` gradient (conjugate-oracle) steps and
    ``O(sqrt(kappa / gamma) log 1/eps)`` communication rounds, where
    ``gamma = 1/chi``, the eigengap ratio of ``I - W``. Scaman et al. prove a
    matching lower bound (:func:`bounds.convex.lower.scaman_lower_bound`).

    Metric: ``dist_to_opt`` of the primal iterate ``grad F^*(x_t)``. Scaman et
    al. state the bound on ``||theta_{i,t} - theta*||``.

    Args:
        problem_or_algo: the run's :class:`algos.Algorithm`, or the problem (then ``W``, ``K``,
            ``step_size``, ``momentum`` as in :func:`algos.msda`; defaults from the factory).
        x_axis: ``"gradient_calls"`` (exponents ``{"kappa": 0.5}``) or ``"communications"``
            (``{"kappa": 0.5, "chi": 0.5}``).

    Conditions (on the run's actual values, ``algo.hparams``): ``K``, ``eta`` and ``m`` are the
    paper's (the statement is about them), ``0 < eta`` and ``0 <= m < 1``.

    Not from the paper: the step and momentum are Nesterov's constant-momentum
    method on the dual. Its condition number is
    ``kappa_dual = kappa ((1 + c1^K) / (1 - c1^K))^2`` (docs/VERIFICATION.md §5,
    math-verified). It is recorded in ``params`` for reference and used in no check.
    """
    if x_axis not in ("gradient_calls", "communications"):
        raise ValueError(f"x_axis must be 'gradient_calls' or 'communications', got {x_axis!r}")
    algo = as_algorithm("msda", _msda_algo, problem_or_algo, W, K=K, step_size=step_size, momentum=momentum)
    problem = algo.params["problem"]
    hpv = algo.hparams
    l_min, l_max = float(hpv["l_min"]), float(hpv["l_max"])
    co = chebyshev_coefficients(l_min, l_max)
    kappa = float(problem.L) / float(problem.mu)
    chi = l_max / l_min
    K_def = max(1, int(math.floor(1.0 / math.sqrt(co["gamma"]) + 1e-12)))
    K_used = int(hpv["K"])
    eta0, m0 = msda_constants(kappa, float(problem.mu), co["c1"], K_used)
    eta, m = hp(algo, "step_size"), hp(algo, "momentum")
    cK = co["c1"] ** K_used
    exps = {"kappa": 0.5} if x_axis == "gradient_calls" else {"kappa": 0.5, "chi": 0.5}
    return Bound(
        name="msda",
        kind="order",
        source=_SOURCE,
        metric="dist_to_opt",
        x_axis=x_axis,
        exponents=exps,
        instance_rate=maybe_instance_rate(with_instance_rate, algo),
        signature=signature(problem, dense_W(algo)),
        hparams={"step_size": eta, "momentum": m},
        conditions={
            "K = floor(1/sqrt(gamma))": K_used == K_def,
            "eta = mu (1 + c1^2K) / (1 + c1^K)^2": _close(eta, eta0),
            "m = paper's momentum for this K": _close(m, m0),
            "0 <= m < 1": m is not None and 0.0 <= m < 1.0,
            "mixes": l_min > 0,
        },
        params={
            "kappa": kappa,
            "chi": chi,
            "gamma": co["gamma"],
            "K": K_used,
            "step_size": eta,
            "momentum": m,
            "kappa_dual (derived)": kappa * ((1 + cK) / (1 - cK)) ** 2 if cK < 1 else math.inf,
        },
        notes=(
            "Order only: iterations ~ sqrt(kappa) log(1/eps), communications = K x iterations ~ sqrt(kappa chi) log(1/eps). "
            "Constants of Scaman et al.'s Theorem 4 not verified; bounds.instance(algo) is the run-by-run check."
        ),
    )

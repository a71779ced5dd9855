"""APAPC and OPAPC guarantees (Kovalev, Salim & Richtárik, NeurIPS 2020, arXiv:2006.11773).

Verified (NeurIPS abstract): OPAPC is optimal in both communication rounds and
gradient computations. With the lower bounds of Scaman et al. (2017) that means
``O(sqrt(kappa chi) log 1/eps)`` communications and ``O(sqrt(kappa) log 1/eps)``
gradients. The theorems' constants could not be read. docs/VERIFICATION.md §6
recalls APAPC's Theorem 1 as ``Psi^k <= (1 + 1/4 min{1/sqrt(kappa chi), 1/chi})^{-k} Psi^0``
for a Lyapunov function ``Psi`` (medium confidence, weights not verified). Hence
these bounds are ``kind="order"``, checked on exponents across runs. The
recalled rate is recorded in ``params`` for reference and used in no check.
"""

from __future__ import annotations

import math

from algos.convex.opapc import apapc as _apapc_algo
from algos.convex.opapc import apapc_constants, opapc_constants
from algos.convex.opapc import opapc as _opapc_algo
from bounds._args import as_algorithm, dense_W, hp
from bounds._check import Bound, signature
from bounds.convex._shared import maybe_instance_rate

__all__ = ["apapc", "opapc"]

_SOURCE = (
    "Kovalev, Salim & Richtarik, NeurIPS 2020 (arXiv:2006.11773), abstract (verified): OPAPC optimal in communications "
    "O(sqrt(kappa chi) log 1/eps) and gradients O(sqrt(kappa) log 1/eps); theorem constants not verified "
    "(docs/VERIFICATION.md §6)"
)


def _recalled_apapc_rate(kappa: float, chi: float) -> float:
    """The recalled (unverified) Lyapunov contraction of APAPC's Theorem 1, per iteration."""
    return 1.0 / (1.0 + 0.25 * min(1.0 / math.sqrt(kappa * chi), 1.0 / chi))


def _check_axis(x_axis):
    if x_axis not in ("gradient_calls", "communications", "steps"):
        raise ValueError(f"x_axis must be 'gradient_calls', 'communications' or 'steps', got {x_axis!r}")


def _close(a, b, rel=1e-9) -> bool:
    return a is not None and b is not None and abs(float(a) - float(b)) <= rel * max(abs(float(b)), 1e-300)


def apapc(problem_or_algo, W=None, *, step_size=None, tau=None, theta=None, x0=None, x_axis: str = "communications",
          with_instance_rate: bool = False) -> Bound:  # fmt: skip
    """APAPC: ``O((sqrt(kappa chi) + chi) log 1/eps)`` iterations, each one gradient and one gossip round.

    Statement (order; from the recalled Theorem 1, whose order agrees with the
    abstract's optimality claim for OPAPC once ``𝐖`` is replaced by ``P_T(𝐖)``):
    with ``tau = min(1, sqrt(chi/kappa)/2)``, ``eta = 1/(4 tau L)`` and
    ``theta = 1/(eta l_max)``, the iteration count is
    ``O(max(sqrt(kappa chi), chi) log 1/eps)``. Gradients and communications are
    each one per iteration, so every axis has the same exponents:
    ``{"kappa": 0.5, "chi": 0.5}`` in the regime ``kappa >= chi`` (condition
    ``"kappa >= chi"``). For ``chi > kappa`` the count is ``chi log 1/eps``.

    Conditions test the run's actual ``tau``, ``eta`` (``step_size``) and ``theta``
    (``algo.hparams``): the theorem's ranges ``0 < tau <= 1``, ``0 < eta <= 1/(4 tau L)``,
    ``0 < theta <= 1/(eta l_max)``, and the theorem's own choice of the three (the statement
    is about it). ``bounds.apapc(p, W, step_size=123.0, tau=0.9, theta=1e6)`` is therefore not valid.

    Metric: ``dist_to_opt`` of ``x^k``. The theorem bounds a Lyapunov function
    that contains ``||x^k - x*||^2 / eta``.
    """
    _check_axis(x_axis)
    algo = as_algorithm("apapc", _apapc_algo, problem_or_algo, W, step_size=step_size, tau=tau, theta=theta, x0=x0)
    problem = algo.params["problem"]
    hpv = algo.hparams
    l_min, l_max = float(hpv["l_min"]), float(hpv["l_max"])
    chi = l_max / l_min
    L, mu = float(problem.L), float(problem.mu)
    kappa = L / mu
    t, eta, th = hp(algo, "tau"), hp(algo, "step_size"), hp(algo, "theta")
    c = apapc_constants(L, mu, chi, l_max)
    in_range = {
        "0 < tau <= 1": t is not None and 0.0 < t <= 1.0,
        "0 < eta <= 1/(4 tau L)": t is not None and eta is not None and 0.0 < eta <= (1 + 1e-9) / (4.0 * t * L),
        "0 < theta <= 1/(eta l_max)": eta is not None and th is not None and eta > 0 and 0.0 < th <= (1 + 1e-9) / (eta * l_max),
    }
    theorem = {
        "tau = min(1, sqrt(chi/kappa)/2)": _close(t, c["tau"]),
        "eta = 1/(4 tau L)": t is not None and _close(eta, 1.0 / (4.0 * t * L)),
        "theta = 1/(eta l_max)": eta is not None and eta > 0 and _close(th, 1.0 / (eta * l_max)),
    }
    return Bound(
        name="apapc",
        kind="order",
        source=_SOURCE,
        metric="dist_to_opt",
        x_axis=x_axis,
        exponents={"kappa": 0.5, "chi": 0.5},
        instance_rate=maybe_instance_rate(with_instance_rate, algo),
        signature=signature(problem, dense_W(algo)),
        hparams={"tau": t, "step_size": eta, "theta": th},
        conditions={**in_range, **theorem, "kappa >= chi": kappa >= chi, "mixes": l_min > 0},
        params={"kappa": kappa, "chi": chi, "tau": t, "step_size": eta, "theta": th,
                "recalled Lyapunov rate (unverified)": _recalled_apapc_rate(kappa, chi)},  # fmt: skip
        notes="Order only; one gradient and one gossip round per iteration. For chi > kappa the order is chi log(1/eps).",
    )


def opapc(problem_or_algo, W=None, *, T=None, step_size=None, tau=None, theta=None, x0=None,
          x_axis: str = "communications", with_instance_rate: bool = False) -> Bound:  # fmt: skip
    """OPAPC: ``O(sqrt(kappa chi) log 1/eps)`` communications and ``O(sqrt(kappa) log 1/eps)`` gradients.

    Statement (order, abstract-verified optimality): with ``T = floor(sqrt(chi))``
    Chebyshev rounds per iteration and the constants of :func:`algos.opapc`, the
    iteration count (= gradient calls) is ``O(sqrt(kappa) log 1/eps)``. The
    communication count (``T`` per iteration) is ``O(sqrt(kappa chi) log 1/eps)``.
    Conditions test the run's actual ``T``, ``tau``, ``eta``, ``theta`` against those constants.

    Args:
        x_axis: ``"gradient_calls"`` or ``"steps"`` (exponents ``{"kappa": 0.5}``), or
            ``"communications"`` (``{"kappa": 0.5, "chi": 0.5}``).

    Metric: ``dist_to_opt`` of ``x^k``.
    """
    _check_axis(x_axis)
    algo = as_algorithm("opapc", _opapc_algo, problem_or_algo, W, T=T, step_size=step_size, tau=tau, theta=theta, x0=x0)
    problem = algo.params["problem"]
    hpv = algo.hparams
    l_min, l_max = float(hpv["l_min"]), float(hpv["l_max"])
    chi = l_max / l_min
    L, mu = float(problem.L), float(problem.mu)
    kappa = L / mu
    T_def = max(1, int(math.floor(math.sqrt(chi) + 1e-12)))
    T_used = int(hpv["T"])
    c = opapc_constants(L, mu, chi, T_used)
    cT = c["c1"] ** T_used
    t, eta, th = hp(algo, "tau"), hp(algo, "step_size"), hp(algo, "theta")
    exps = {"kappa": 0.5, "chi": 0.5} if x_axis == "communications" else {"kappa": 0.5}
    return Bound(
        name="opapc",
        kind="order",
        source=_SOURCE,
        metric="dist_to_opt",
        x_axis=x_axis,
        exponents=exps,
        instance_rate=maybe_instance_rate(with_instance_rate, algo),
        signature=signature(problem, dense_W(algo)),
        hparams={"tau": t, "step_size": eta, "theta": th},
        conditions={
            "T = floor(sqrt(chi))": T_used == T_def,
            "tau = min(1, (1 + c1^T) / (2 sqrt(kappa) (1 - c1^T)))": _close(t, c["tau"]),
            "eta = 1/(4 tau L)": t is not None and t > 0 and _close(eta, 1.0 / (4.0 * t * L)),
            "theta = (1 + c1^2T) / (eta (1 + c1^T)^2)": eta is not None and eta > 0 and _close(th, (1 + cT**2) / (eta * (1 + cT) ** 2)),
            "mixes": l_min > 0,
        },
        params={"kappa": kappa, "chi": chi, "T": T_used, "tau": t, "step_size": eta, "theta": th},
        notes="Order only; T = floor(sqrt(chi)) gossip rounds and one gradient per iteration.",
    )

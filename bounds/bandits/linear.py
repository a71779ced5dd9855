"""Orders of the distributed contextual linear bandits' regret and communication (constants NOT FOUND).

Only the abstracts are readable (../shared/papers), so each statement is an ``"order"`` (or
``"lower"``) :class:`Bound` carrying its scaling law as ``exponents`` (quantity -> power), checked
across runs with :func:`bounds.check_scaling` (``log`` factors are divided out by the caller, who
states which). Sources:

* DisBE-LUCB (Amani, Lattimore, György, Yang, ICML 2023, abstract): regret ``O~(sqrt(d N T))``,
  communication ``O~(d N)`` bits, and ``Omega(d N)`` bits for any regret-optimal algorithm
  (the lower bound also covers DecBE-LUCB's setting, which the abstract gives similar bounds);
* DisLinUCB (Wang, Hu, Chen, Wang, ICLR 2020, v1 abstract): near-optimal regret (the issue's
  ``O(d sqrt(N T) log^2 T)``) and ``O(N^1.5 d^3)`` communicated numbers.
"""

from __future__ import annotations

from bounds._check import Bound

__all__ = [
    "disbe_lucb_regret",
    "disbe_lucb_communication",
    "communication_lower_bound",
    "dislinucb_regret",
    "dislinucb_communication",
    "scaling_check",
]

_AMANI = "Amani, Lattimore, Gyorgy & Yang (ICML 2023), abstract"
_WANG = "Wang, Hu, Chen & Wang (ICLR 2020), v1 abstract"


def _method(algo, allowed):
    name = getattr(algo, "name", algo)
    if name not in allowed:
        raise ValueError(f"this bound is about {' / '.join('algos.' + a for a in allowed)}, got {name!r}")
    return name


def disbe_lucb_regret(algo) -> Bound:
    """``regret = O~(sqrt(d N T))`` for DisBE-LUCB / DecBE-LUCB (order)."""
    m = _method(algo, ("disbe_lucb", "decbe_lucb"))
    return Bound(name="disbe_lucb_regret", kind="order", method=m, source=_AMANI + ": regret O~(sqrt(dNT))",
                 metric="regret", exponents={"T": 0.5, "N": 0.5, "d": 0.5}, notes="up to polylog factors")  # fmt: skip


def disbe_lucb_communication(algo) -> Bound:
    """``bits = O~(d N)`` (up and down) for DisBE-LUCB / DecBE-LUCB (order)."""
    m = _method(algo, ("disbe_lucb", "decbe_lucb"))
    return Bound(name="disbe_lucb_communication", kind="order", method=m, source=_AMANI + ": communication O~(dN)",
                 metric="bits_up", exponents={"N": 1.0, "d": 1.0}, notes="up to polylog factors")  # fmt: skip


def communication_lower_bound(algo) -> Bound:
    """``Omega(d N)`` bits for any regret-optimal algorithm (lower, on exponents)."""
    m = getattr(algo, "name", algo)
    return Bound(name="communication_lower_bound", kind="lower", method=m, source=_AMANI + ": Omega(dN) communication lower bound",
                 metric="bits_up", exponents={"N": 1.0, "d": 1.0}, notes="for regret-optimal algorithms")  # fmt: skip


def dislinucb_regret(algo) -> Bound:
    """``regret = O(d sqrt(N T) log^2 T)`` for DisLinUCB (order)."""
    m = _method(algo, ("dislinucb",))
    return Bound(name="dislinucb_regret", kind="order", method=m, source=_WANG + ": near-optimal regret, O(d sqrt(NT) log^2 T)",
                 metric="regret", exponents={"T": 0.5, "N": 0.5, "d": 1.0}, notes="log^2 T factor")  # fmt: skip


def dislinucb_communication(algo) -> Bound:
    """``O(N^1.5 d^3)`` communicated numbers for DisLinUCB (order)."""
    m = _method(algo, ("dislinucb",))
    return Bound(name="dislinucb_communication", kind="order", method=m, source=_WANG + ": O(M^1.5 d^3) communication",
                 metric="bits_up", exponents={"N": 1.5, "d": 3.0})  # fmt: skip


def scaling_check(bound: Bound, quantity: str, xs, values, *, tol: float = 0.15, mode: str | None = None) -> dict:
    """Check ``values ~ xs ** bound.exponents[quantity]`` (``mode`` default: ``"upper"`` for orders,
    ``"lower"`` for lower bounds), via :func:`bounds.check_scaling`."""
    from bounds._check import check_scaling

    if quantity not in bound.exponents:
        raise ValueError(f"bound {bound.name!r} states exponents for {sorted(bound.exponents)}, not {quantity!r}")
    mode = mode or ("lower" if bound.kind == "lower" else "upper")
    out = check_scaling(xs, values, bound.exponents[quantity], tol=tol, mode=mode)
    out.update(bound=bound.name, quantity=quantity)
    return out

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

Explicit (derived here, checked run by run): :func:`dislinucb_syncs`, the number of synchronizations
of :func:`algos.dislinucb` after ``k`` rounds. A sync ends an epoch of ``l`` rounds because some agent
has ``l log(det V_i / det V_sync) >= D``. Since ``V_sync' = V_sync + sum_j dV_j >= V_sync + dV_i``, that
sync raises ``log det V_sync`` by at least ``D / l``. For any ``a > 0``, at most ``k / a`` epochs have
``l >= a`` (their lengths sum to at most ``k``), and the others each raise ``log det V_sync`` by more
than ``D / a``, which in total rises by at most ``L_k = log(det V_k / lam^d) <= d log(1 + N k X^2 / (d lam))``
(AM-GM on the eigenvalues; ``X`` the largest action norm). So ``syncs_k <= k / a + a L_k / D``, and at
``a = sqrt(k D / L_k)``: ``syncs_k <= 2 sqrt(k L_k / D)``. Every sync costs each agent
``64 (d^2 + d)`` bits up and down, so the bits follow. (This is the counting argument of the DisLinUCB
analysis as far as it can be rebuilt; the paper's own constants are NOT FOUND.)

Explicit, pathwise and data-dependent (derived here): :func:`elimination_regret`, for DisBE-LUCB and
DecBE-LUCB (our elimination rule, ``algos/bandits/disbe_lucb.py``). At a batch end an agent keeps ``x``
of context ``c`` iff ``e(x) + w(x) >= max_{x' kept} e(x') - w(x')``, with ``e = <theta_hat, .>``. Its
confidence event is ``|e(x) - <theta*, x>| <= w(x)`` on every action it kept before the batch end. On
it: (i) a kept best action ``x*`` survives, since ``e(x*) + w(x*) >= <theta*, x*> >= <theta*, x'> >=
e(x') - w(x')``; (ii) a surviving ``x`` has ``<theta*, x> + 2 w(x) >= e(x) + w(x) >= e(x*) - w(x*) >=
<theta*, x*> - 2 w(x*)``, so its gap is at most ``2 w(x) + 2 w(x*) <= 4 max_{x' surviving} w(x')``, the
context's certificate. Before the first batch end the certificate is the context's largest gap. By
induction over batches, as long as no event has failed, every action played at step ``t`` by agent
``i`` in context ``c`` has gap at most the certificate in force, so ``regret_k <= sum_{t < k} sum_i
cert_t(c_{i,t})``: the run's own ``elimination_gap_bound``. From the first failed event on
(``elimination_event_misses > 0``) the statement says nothing (envelope ``+inf``). This checks the
elimination rule's guarantee on each run, not the paper's ``sqrt(d N T)`` rate (an order, above).
"""

from __future__ import annotations

import math

import numpy as np

from bounds._check import Bound

__all__ = [
    "dislinucb_syncs",
    "elimination_regret",
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


def dislinucb_syncs(algo) -> Bound:
    """Explicit: ``comm_rounds_k <= 2 sqrt(k d log(1 + N k X^2 / (d lam)) / D)`` for :func:`algos.dislinucb`
    (module docstring), judged run by run on the trace's ``comm_rounds``."""
    if getattr(algo, "name", None) != "dislinucb":
        raise TypeError(f"bounds.dislinucb_syncs takes the run's algorithm from algos.dislinucb(...), got {getattr(algo, 'name', type(algo).__name__)!r}")
    p = algo.params["problem"]
    N, d = int(p.n_agents), int(p.dim)
    lam, D = float(algo.hparams["lam"]), float(algo.hparams["threshold"])
    X2 = float(np.max(np.sum(np.asarray(p.actions, dtype=np.float64) ** 2, axis=-1)))

    def envelope(k, ref):
        del ref
        k = np.asarray(k, dtype=np.float64)
        return 2.0 * np.sqrt(k * d * np.log1p(N * k * X2 / (d * lam)) / D)

    return Bound(
        name="dislinucb_syncs", kind="explicit", method="dislinucb", metric="comm_rounds", envelope=envelope,
        constant=2.0 / math.sqrt(D), hparams={"lam": lam, "threshold": D},
        conditions={"threshold > 0": D > 0, "lam > 0": lam > 0},
        params={"N": N, "d": d, "lam": lam, "threshold": D, "max_action_norm_sq": X2},
        source=("ratebench derivation (math-verified, tests/bandits/test_bandit_bounds.py): epochs of length >= a number "
                "at most k/a, shorter ones each raise log det V_sync by > D/a; log det V_k/lam^d <= d log(1 + N k X^2/(d lam))"),
        notes="bits_up = bits_down = N * 64 (d^2 + d) * comm_rounds",
    )  # fmt: skip


def elimination_regret(algo) -> Bound:
    """Explicit, on the run's confidence events: ``regret_k <= elimination_gap_bound_k`` for
    :func:`algos.disbe_lucb` and :func:`algos.decbe_lucb` (module docstring), judged run by run."""
    name = getattr(algo, "name", None)
    if name not in ("disbe_lucb", "decbe_lucb"):
        raise TypeError("bounds.elimination_regret takes the run's algorithm from algos.disbe_lucb(...) or "
                        f"algos.decbe_lucb(...), got {name or type(algo).__name__!r}")  # fmt: skip

    def envelope(k, ref, data):
        del k, ref
        cert = np.asarray(data["elimination_gap_bound"], dtype=np.float64)
        return np.where(np.asarray(data["elimination_event_misses"]) > 0, np.inf, cert)

    beta = float(algo.hparams["beta"])
    return Bound(
        name="elimination_regret", kind="explicit", method=name, metric="regret", envelope=envelope,
        envelope_uses=("elimination_gap_bound", "elimination_event_misses"), constant=4.0,
        hparams={"beta": beta}, conditions={"beta > 0": beta > 0},
        source=("ratebench derivation (bounds/bandits/linear.py; tests/bandits/test_bandit_bounds.py): on each batch's "
                "confidence event a surviving action's gap is at most 4 max_kept w; the regret is at most the run's "
                "summed certificates"),
        notes="+inf (not judged) from the first failed confidence event on",
    )  # fmt: skip


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

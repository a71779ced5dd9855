"""Guarantees for consensus over a time-varying network (:mod:`algos.consensus.time_varying`).

:func:`gossip_product` is the explicit product bound of plain gossip on a weight sequence. The
accelerated methods (heavy ball, Chebyshev) have no guarantee under changes: acceleration is
impossible in the deterministic worst case even with two edges changing per step (Metelev,
Rogozin, Kovalev & Gasnikov, arXiv:2307.12562, abstract; their bounds' formulas are not readable).
"""

from __future__ import annotations

import numpy as np

from bounds._check import Bound, signature

__all__ = ["gossip_product"]


def gossip_product(algo) -> Bound:
    """Plain gossip on a sequence: ``||X_K - x_bar||_F <= prod_{t<K} ||W_t - J||_2 ||X_0 - x_bar||_F``.

    Statement: for symmetric ``W_t`` with ``W_t 1 = 1`` and ``J = 11^T/n``,
    ``W_t X - 1 x_bar^T = (W_t - J)(X - 1 x_bar^T)`` (the average is preserved), so
    ``X_K - 1 x_bar^T = (W_{K-1} - J) ... (W_0 - J)(X_0 - 1 x_bar^T)`` and the Frobenius norm is at
    most the product of the operator norms times ``||X_0 - 1 x_bar^T||_F`` (submultiplicativity,
    ``||A B||_F <= ||A||_2 ||B||_F``). A disconnected snapshot has ``||W_t - J||_2 = 1``: the bound
    then does not decrease at that step. Metric: ``consensus_error`` (the Frobenius norm over
    ``sqrt(n)``; the factor cancels). Envelope: ``ref * prod_{t<k} ||W_{t mod T} - J||_2``, exactly the
    factors of the run's own sequence (``MixingSequence.product_factors``). Not tight in general
    (it ignores that consecutive products need not align their worst directions); tight on a static
    sequence for an eigenvector start. Source: a linear-algebra fact, derived here; every recorded
    step of every run is checked (tests/algos/test_time_varying.py, figure ``consensus-tv``).

    Args:
        algo: the run's algorithm, ``algos.gossip(problem, seq)`` with a
            :class:`problems.mixing.MixingSequence` ``seq``.
    """
    if getattr(algo, "name", None) != "gossip_tv":
        raise ValueError(
            "bounds.gossip_product is about plain gossip on a MixingSequence (algos.gossip(problem, seq), "
            f"named 'gossip_tv'); got an algorithm {getattr(algo, 'name', type(algo).__name__)!r}"
        )
    Ws = np.asarray(algo.params["W"], dtype=np.float64)
    n = Ws.shape[1]
    J = np.full((n, n), 1.0 / n)
    norms = np.linalg.norm(Ws - J, ord=2, axis=(1, 2))

    def envelope(k, ref, norms=norms):
        k = np.asarray(k, dtype=np.int64)
        kmax = int(k.max()) if k.size else 0
        idx = np.arange(kmax) % norms.size
        with np.errstate(under="ignore"):
            cum = np.concatenate([[1.0], np.cumprod(norms[idx])])
        return ref * cum[k]

    return Bound(
        name="gossip_product",
        method="gossip_tv",
        kind="explicit",
        source="Linear algebra: X_K - x_bar = prod (W_t - J)(X_0 - x_bar), ||.||_F submultiplicative (derived, checked run by run)",
        metric="consensus_error",
        x_axis="steps",
        rate=float(np.exp(np.mean(np.log(np.maximum(norms, 1e-300))))),
        constant=1.0,
        envelope=envelope,
        shift_invariant=False,
        signature=signature(algo.params["problem"], Ws),
        conditions={"W_t symmetric with W_t 1 = 1 (checked by MixingSequence)": True},
        params={"T": int(Ws.shape[0]), "max_norm": float(norms.max()), "min_norm": float(norms.min())},
        notes="rate = geometric mean of ||W_t - J||_2 over one period (information).",
    )

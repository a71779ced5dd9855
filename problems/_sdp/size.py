"""What each FMMC / FDLA path is predicted to cost (time and memory), the size guard that refuses a
solve before it allocates, and the path ``solver="auto"`` chooses."""

from __future__ import annotations

import math

from problems._sdp.checks import SDPSolveError


#: Per-iteration cost model of the exact interior point (seconds on this project's 2-core machine,
#: BLAS on both cores): ``IPM_SECONDS_N3 * n^3 + IPM_SECONDS_M3 * m^3 + IPM_SECONDS_M2 * m^2``.
#: The ``n^3`` term is the dense ``n x n`` block work (four Cholesky factors, two inverses, the
#: ``X S^-1`` products, two search directions, eight step-length eigenvalue problems); the ``m^3``
#: term the Cholesky factor of the ``m x m`` Newton matrix (0.69-0.73 s at m = 6,468, profiled);
#: the ``m^2`` term forming that matrix (the edge block, by the XLA kernel from
#: ``XLA_NEWTON_MIN_EDGES`` edges) and the solves against it.  ``IPM_SECONDS_M3`` is the profiled
#: Cholesky time; the other two are a least-squares fit (relative error) of 26 timed solves,
#: 2026-12-06, after the XLA edge block and SciPy-only BLAS: random geometric graphs with 200, 500
#: and 1,000 nodes, random 4-regular with 1,000 and 1,500, complete with 80 and 110, FMMC and FDLA,
#: tol 1e-4 to 1e-8 (benchmarks/results/sdp_ipm_model_xla_20261206.json, RESULTS.md section 7e).
#: On 500-1,500 nodes the measured time per iteration is 0.89-1.38x the model's (4-regular
#: 0.89-0.98x, geometric 1.09-1.38x at 500 nodes and 0.91-0.94x at 1,000); on complete graphs
#: 0.68-0.86x; on 200 nodes (under 2 s in all) 4.1-4.6x, from per-iteration overheads of small
#: matrices the model leaves out.
IPM_SECONDS_N3 = 6.7e-10


IPM_SECONDS_M3 = 2.55e-12


IPM_SECONDS_M2 = 1.56e-8


#: Iteration model ``a + b log10(1 / tol)`` of the exact interior point, per problem: an upper
#: envelope (ours) of the counts measured with the certified-gap stop (2026-12-07,
#: ``benchmarks/results/sdp_ipm_model_certify_20261207.json``, ``sdp_auto.py --fit-model``): random
#: geometric 200, 500, 1,000 and random 4-regular 1,000, 1,500 nodes at tol 1e-4 to 1e-8.  FMMC
#: (unchanged from 2026-12-06): 14-19 iterations at 1e-4, 18-22 at 1e-6, 20-25 at 1e-8, 0-4 below
#: the model except geometric 500 nodes at 1e-6 and 1e-8 and 1,000 nodes at 1e-4 (1 above).  FDLA: 9-10 at 1e-4, 10-13 at 1e-6,
#: 12-16 at 1e-8, 0-4 below its model (the FMMC model over-predicted them by 8-12).  Complete graphs
#: take 3-4 iterations.
IPM_ITERATION_MODEL = {"fmmc": (12.0, 1.5), "fdla": (6.0, 1.25)}


def predicted_ipm_iterations(tol: float = 1e-8, kind: str = "fmmc") -> float:
    """Iterations the exact interior point is predicted to need for a certified gap ``tol``:
    ``IPM_ITERATION_MODEL[kind]``, FMMC ``12 + 1.5 log10(1 / tol)`` (18 at 1e-4, 24 at 1e-8) and FDLA
    ``6 + 1.25 log10(1 / tol)`` (11 at 1e-4, 16 at 1e-8)."""
    a, b = IPM_ITERATION_MODEL[_kind(kind)]
    tol = min(max(float(tol), 1e-14), 0.5)
    return a + b * math.log10(1.0 / tol)


def _kind(kind: str) -> str:
    if kind not in IPM_ITERATION_MODEL:
        raise ValueError(f"kind must be 'fmmc' or 'fdla', got {kind!r}")
    return kind


#: Policy of ``solver="auto"``: use the exact interior point while its predicted time is at most
#: this many seconds, else the first-order solver of :mod:`problems._sdp_first_order`.  At the
#: tolerances the first-order path can reach, the exact path is the better one up to here: on the
#: 1,000-node geometric graph (predicted 36 s at tol 1e-4, 48 s at 1e-8) FMMC certifies a gap of
#: 5.4e-5 in 38-43 s where the first-order solver certified 2.2e-3 in 128 s (RESULTS.md 7c, 7e).
#: With the default ``tol=1e-8`` this is, for FMMC, about 1,900 nodes on a 4-regular graph and 1,350 on
#: the geometric graphs of :func:`problems.graphs.geometric` (m = 9,084 edges, a 0.66 GB Newton
#: matrix); for FDLA (``IPM_ITERATION_MODEL``) about 2,150 and 1,550 (m = 10,700, 0.92 GB).
AUTO_IPM_MAX_SECONDS = 120.0


def predicted_ipm_cost(n: int, m: int, tol: float = 1e-8, kind: str = "fmmc") -> dict:
    """Predicted cost of the exact interior point on a graph with ``n`` nodes and ``m`` edges.

    Returns:
        ``{"seconds": ..., "iterations": ..., "newton_bytes": ...}``: the per-iteration model
        (``IPM_SECONDS_*``) times :func:`predicted_ipm_iterations`, and the size of the dense
        ``m x m`` float64 Newton matrix.
    """
    n, m = max(int(n), 1), max(int(m), 1)
    iters = predicted_ipm_iterations(tol, kind)
    per_iter = IPM_SECONDS_N3 * n**3 + IPM_SECONDS_M3 * m**3 + IPM_SECONDS_M2 * m**2
    return {"seconds": iters * per_iter, "iterations": iters, "newton_bytes": 8.0 * m * m}


#: An exact solve predicted to take longer than this (seconds) warns when no ``progress`` is given.
SLOW_SOLVE_SECONDS = 10.0


#: Fraction of the machine's available memory an exact path may be predicted to use before
#: :func:`check_size` refuses it (the rest is left to the process and the system).
MEMORY_FRACTION = 0.5


def available_memory_bytes() -> float:
    """``MemAvailable`` of ``/proc/meminfo`` (Linux), else the physical memory, else +inf."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024.0
    except OSError:
        pass
    try:
        import os

        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return math.inf


def predicted_memory_bytes(path: str, n: int, m: int) -> float:
    """Predicted peak memory of an exact path (ratebench's estimate from the data structures).

    ``"ipm"``: the dense ``m x m`` float64 Newton matrix and its Cholesky factor (``2 * 8 m^2``)
    plus the dense ``n x n`` blocks. ``"clarabel"``: an interior point on two PSD cones of side
    ``~n``, whose Nesterov–Todd scalings are dense ``N x N`` with ``N = n(n+1)/2`` (``2 * 8 N^2``).
    ``"scs"`` (first-order ADMM): a few dense ``n x n`` arrays and the sparse data. ``"first_order"``:
    dominated by the certificate's LP over the cluster vectors, ``O(m k)`` with at most
    ``k = 2 max(2, min(n // 4, KMAX))`` vectors (``problems._sdp_first_order``, ``KMAX = 48``), plus dense
    ``n x n`` blocks; modelled as ``128 m k`` bytes, the slope of two measurements here (FMMC on
    ``complete(120)`` and ``complete(200)``, ``k = 60`` and ``96``: peak RSS 354 and 534 MB, i.e.
    ``121 m k`` bytes above a ~300 MB interpreter).
    """
    n, m = int(n), max(int(m), 1)
    dense = 8.0 * 16 * n * n
    if path == "ipm":
        return 2 * 8.0 * m * m + dense
    if path == "clarabel":
        N = n * (n + 1) / 2
        return 2 * 8.0 * N * N + dense
    if path == "scs":
        return dense + 64.0 * m
    from problems import _sdp_first_order as fo

    k = 2 * max(2, min(n // 4, fo.KMAX))
    # dense eigh (n x n blocks) only up to fo.DENSE_EIG_MAX nodes; beyond, sparse blocks of k vectors
    small = dense if n <= fo.DENSE_EIG_MAX else 8.0 * 8 * n * k
    return small + 128.0 * m * k


class SDPSizeError(SDPSolveError, MemoryError):
    """The chosen exact path would need more memory than the machine has (checked before solving)."""


#: A forced exact interior point predicted to take longer than this (seconds) is refused too.
EXACT_MAX_SECONDS = 3600.0


def check_size(kind: str, path: str, n: int, m: int) -> None:
    """Refuse a solve predicted to exhaust memory (or an exact IPM predicted to run for more than
    ``EXACT_MAX_SECONDS``), before allocating anything.

    Raises:
        SDPSizeError (a ``MemoryError``): naming the size, the prediction and the alternatives.
    """
    need = predicted_memory_bytes(path, n, m)
    have = available_memory_bytes()
    secs_ipm = predicted_ipm_cost(n, m, kind=kind)["seconds"]
    if path in ("ipm", "clarabel") and secs_ipm > EXACT_MAX_SECONDS:
        raise SDPSizeError(
            f"{kind.upper()} on a graph with {n} nodes and {m} edges: the exact {path!r} path is predicted to take about "
            f"{secs_ipm:.3g} s and {need / 1e9:.3g} GB (problems._sdp.predicted_ipm_cost / predicted_memory_bytes), past "
            f"{EXACT_MAX_SECONDS:g} s. Use solver='first_order' (certified gap; solver='auto' picks it), or a sparser graph"
        )
    if need > MEMORY_FRACTION * have:
        secs = predicted_ipm_cost(n, m, kind=kind)["seconds"] if path == "ipm" else None
        when = f", about {secs:.3g} s" if secs is not None else ""
        if path == "first_order":
            raise SDPSizeError(
                f"{kind.upper()} on a graph with {n} nodes and {m} edges: even the first-order path would need about "
                f"{need / 1e9:.3g} GB (predicted, problems._sdp.predicted_memory_bytes), more than {MEMORY_FRACTION:g} x "
                f"the {have / 1e9:.3g} GB available; use a sparser graph, or a local rule such as mixing.metropolis(g)"
            )
        raise SDPSizeError(
            f"{kind.upper()} on a graph with {n} nodes and {m} edges: the exact {path!r} path would need about "
            f"{need / 1e9:.3g} GB{when} (predicted, problems._sdp.predicted_memory_bytes), more than "
            f"{MEMORY_FRACTION:g} x the {have / 1e9:.3g} GB available. Use solver='first_order' (certified gap, "
            "O(n^2 + m) memory; solver='auto' picks it), or solver='scs' (first-order ADMM, slower), or a sparser graph"
        )


def choose_method(n: int, m: int, tol: float = 1e-8, kind: str = "fmmc") -> str:
    """What ``solver="auto"`` uses: ``"exact"`` while the predicted IPM time at ``tol``
    (:func:`predicted_ipm_cost`) is at most ``AUTO_IPM_MAX_SECONDS``, else ``"first_order"``."""
    return "exact" if predicted_ipm_cost(n, m, tol, kind)["seconds"] <= AUTO_IPM_MAX_SECONDS else "first_order"

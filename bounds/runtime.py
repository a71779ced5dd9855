"""When does a decentralized method beat all-reduce? A runtime model on top of the bounds.

The seed paper "From promise to practice: realizing high-performance decentralized training"
motivates the question; its own model cannot be read here, so this is the classical
latency-bandwidth (alpha-beta, Hockney) model of message passing, cited as such:

* one message of ``m`` bytes between two nodes costs ``alpha + m / beta`` (Hockney, "The
  communication challenge for MPP: Intel Paragon and Meiko CS-2", Parallel Computing 20, 1994);
  links are full duplex (a node sends and receives at the same time);
* **ring all-reduce** (reduce-scatter then all-gather over a ring, ``2 (n - 1)`` steps each
  moving a chunk of ``m / n`` bytes): ``2 (n - 1) alpha + 2 (n - 1) / n * m / beta``, the
  bandwidth-optimal algorithm (Patarasuk & Yuan, "Bandwidth optimal all-reduce algorithms for
  clusters of workstations", JPDC 69, 2009); :func:`simulate_ring_allreduce` re-derives it by
  playing the schedule step by step;
* **tree all-reduce** (binomial-tree reduce to a root, then broadcast back, whole messages):
  ``2 ceil(log2 n) (alpha + m / beta)`` (Thakur, Rabenseifner & Gropp, "Optimization of
  collective communication operations in MPICH", IJHPCA 19, 2005, Sec. 4);
* **a gossip round** on a graph of maximum degree ``Delta``: every node sends its ``m``-byte vector
  to each neighbour. Two variants, both ours (the reference above models collectives, not
  gossip): ``"concurrent"`` (the ``Delta`` sends are issued at once, their latencies overlap and
  they share the node's bandwidth: ``alpha + Delta m / beta``; the default, the same assumptions
  as the all-reduce formulas, where a node sends one chunk per step) and ``"sequential"`` (one
  send after the other: ``Delta (alpha + m / beta)``). The slowest node (maximum degree) sets the
  round's time, since a synchronous method waits for it.

Time to accuracy ``eps`` = iterations(eps) x (compute time + communication time per iteration).
The iteration counts come from the bounds layer: :func:`iterations` reads a :class:`Bound`
(``to(eps)`` of an explicit or order bound; for an ``"instance"`` bound, the exact asymptotic rate
``r*`` of this instance: ``log(1/eps) / log(1/r*)``, which leaves out the constant in front of
``r*^k``). A decentralized method spends ``rounds_per_step`` gossip rounds per iteration (NIDS
1, gradient tracking 2: its ``communications`` cost). The centralized baseline is gradient
descent on the average function with one all-reduce of the gradient per iteration; its iteration
count on a quadratic instance is the exact rate of GD with step ``2 / (lambda_min + lambda_max)``
of the average Hessian, ``(kappa - 1) / (kappa + 1)`` (Nesterov, "Introductory Lectures on Convex
Optimization", 2004, Theorem 2.1.15; on a quadratic it is attained by the extreme eigenvectors,
so it is the instance's exact rate): :func:`centralized_gd`.

What the model leaves out (documented, not hidden): overlap of computation with communication,
contention in the network fabric, stragglers, compression, and the constant in front of the
rates.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from bounds._check import Bound

__all__ = [
    "Network",
    "message_time",
    "gossip_round_time",
    "ring_allreduce_time",
    "tree_allreduce_time",
    "allreduce_time",
    "simulate_ring_allreduce",
    "iterations",
    "centralized_gd",
    "time_to_accuracy",
    "decentralized_vs_allreduce",
]

GOSSIP_MODES = ("concurrent", "sequential")


def _positive(value, name: str, *, allow_zero: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}") from None
    ok = v >= 0 if allow_zero else v > 0
    if not math.isfinite(v) or not ok:
        need = "a finite number >= 0" if allow_zero else "a finite number > 0"
        raise ValueError(f"{name} must be {need}, got {value!r}")
    return v


def _count(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if isinstance(value, float) and value.is_integer():
            raise TypeError(f"{name} must be an int, got the float {value!r}: pass {int(value)}")
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


@dataclasses.dataclass(frozen=True)
class Network:
    """An alpha-beta (Hockney) network: ``latency`` alpha in seconds per message, ``bandwidth``
    beta in bytes per second per node (full duplex)."""

    latency: float
    bandwidth: float

    def __post_init__(self):
        object.__setattr__(self, "latency", _positive(self.latency, "Network.latency", allow_zero=True))
        object.__setattr__(self, "bandwidth", _positive(self.bandwidth, "Network.bandwidth"))


def message_time(net: Network, nbytes: float) -> float:
    """One point-to-point message of ``nbytes``: ``alpha + nbytes / beta``."""
    return net.latency + _positive(nbytes, "nbytes", allow_zero=True) / net.bandwidth


def gossip_round_time(net: Network, degree: int, nbytes: float, mode: str = "concurrent") -> float:
    """One gossip round: each node sends ``nbytes`` to each of its neighbours (``degree`` = the
    graph's maximum degree). ``mode``: ``"concurrent"`` ``alpha + degree nbytes / beta`` or
    ``"sequential"`` ``degree (alpha + nbytes / beta)`` (module docstring)."""
    degree = _count(degree, "degree")
    nbytes = _positive(nbytes, "nbytes", allow_zero=True)
    if mode == "concurrent":
        return net.latency + degree * nbytes / net.bandwidth
    if mode == "sequential":
        return degree * (net.latency + nbytes / net.bandwidth)
    raise ValueError(f"mode must be one of {GOSSIP_MODES}, got {mode!r}")


def ring_allreduce_time(net: Network, n: int, nbytes: float) -> float:
    """Ring all-reduce of ``nbytes`` over ``n`` nodes: ``2 (n-1) alpha + 2 (n-1)/n nbytes / beta``."""
    n = _count(n, "n")
    nbytes = _positive(nbytes, "nbytes", allow_zero=True)
    if n == 1:
        return 0.0
    return 2 * (n - 1) * net.latency + 2 * (n - 1) / n * nbytes / net.bandwidth


def tree_allreduce_time(net: Network, n: int, nbytes: float) -> float:
    """Binomial-tree reduce + broadcast: ``2 ceil(log2 n) (alpha + nbytes / beta)``."""
    n = _count(n, "n")
    if n == 1:
        return 0.0
    return 2 * math.ceil(math.log2(n)) * message_time(net, nbytes)


def allreduce_time(net: Network, n: int, nbytes: float) -> float:
    """The faster of ring and tree all-reduce for this size (what a collective library would pick)."""
    return min(ring_allreduce_time(net, n, nbytes), tree_allreduce_time(net, n, nbytes))


def simulate_ring_allreduce(net: Network, n: int, nbytes: float, *, seed: int = 0) -> tuple[float, np.ndarray]:
    """Play the ring all-reduce schedule on ``n`` random vectors and return (time, result).

    Each node's vector is cut into ``n`` chunks; in reduce-scatter step ``s`` node ``i`` sends chunk
    ``(i - s) mod n`` to node ``i + 1``, which adds it to its own; after ``n - 1`` steps node ``i``
    holds the full sum of chunk ``(i + 1) mod n``; all-gather passes the finished chunks around in
    ``n - 1`` more steps. Every step's messages go in parallel, so a step costs one message of the
    largest chunk. The result (every node's final vector) must equal the sum of the inputs: the
    schedule, not the closed form, is what is timed here.
    """
    n = _count(n, "n")
    nbytes = _positive(nbytes, "nbytes", allow_zero=True)
    rng = np.random.default_rng(seed)
    chunk_len = 3  # values per chunk in the simulation; the timing uses the real chunk size
    data = rng.normal(size=(n, n, chunk_len))  # node, chunk, values
    buf = data.copy()
    chunk_bytes = nbytes / n
    t = 0.0
    for s in range(n - 1):  # reduce-scatter
        sent = {(i + 1) % n: ((i - s) % n, buf[i, (i - s) % n].copy()) for i in range(n)}
        for j, (c, v) in sent.items():
            buf[j, c] += v
        t += message_time(net, chunk_bytes)
    for s in range(n - 1):  # all-gather: node i owns chunk (i + 1 - s) mod n, fully reduced
        sent = {(i + 1) % n: ((i + 1 - s) % n, buf[i, (i + 1 - s) % n].copy()) for i in range(n)}
        for j, (c, v) in sent.items():
            buf[j, c] = v
        t += message_time(net, chunk_bytes)
    total = data.sum(axis=0)
    if not np.allclose(buf, total[None], rtol=1e-12, atol=1e-12):
        raise AssertionError("ring all-reduce schedule did not produce the sum on every node")
    return t, buf


def iterations(bound: Bound, eps: float) -> float:
    """Iterations the bound needs to reach relative accuracy ``eps`` (module docstring)."""
    eps = _positive(eps, "eps")
    if not eps < 1:
        raise ValueError(f"eps must lie in (0, 1) (a relative accuracy), got {eps!r}")
    if not isinstance(bound, Bound):
        raise TypeError(f"bound must be a bounds.Bound, got {type(bound).__name__}")
    if bound.kind == "instance":
        r = float(bound.instance_rate)
        return math.log(eps) / math.log(r) if 0 < r < 1 else (0.0 if r == 0 else math.inf)
    return bound.to(eps, "steps")


def centralized_gd(problem) -> Bound:
    """Gradient descent on the average function, step ``2 / (lambda_min + lambda_max)`` of the
    average Hessian, as an ``"instance"`` bound: rate ``(kappa - 1) / (kappa + 1)`` (Nesterov 2004,
    Theorem 2.1.15; attained on quadratics). Needs a problem whose Hessian is constant
    (``problem.summary["A_bar"]``: quadratic, least squares, averaging)."""
    summary = getattr(problem, "summary", None)
    if not summary or "A_bar" not in summary:
        raise ValueError(
            "centralized_gd needs a problem with a constant average Hessian (problem.summary['A_bar']: "
            f"convex.quadratic, least_squares, averaging); got {getattr(problem, 'name', type(problem).__name__)!r}"
        )
    ev = np.linalg.eigvalsh(np.asarray(summary["A_bar"], dtype=np.float64))
    lo, hi = float(ev[0]), float(ev[-1])
    rate = (hi - lo) / (hi + lo)
    return Bound(
        name="centralized_gd",
        kind="instance",
        method="gd",
        source="Nesterov (2004), Introductory Lectures on Convex Optimization, Thm 2.1.15: GD with step 2/(mu+L)",
        instance_rate=rate,
        conditions={"average Hessian positive definite": lo > 0},
        params={"lambda_min": lo, "lambda_max": hi, "step_size": 2.0 / (lo + hi)},
    )


def time_to_accuracy(bound: Bound, eps: float, seconds_per_iteration: float) -> float:
    """``iterations(bound, eps) * seconds_per_iteration``."""
    return iterations(bound, eps) * _positive(seconds_per_iteration, "seconds_per_iteration", allow_zero=True)


def decentralized_vs_allreduce(
    bound_dec: Bound,
    bound_central: Bound,
    net: Network,
    *,
    n: int,
    degree: int,
    nbytes: float,
    eps: float = 1e-6,
    compute: float = 0.0,
    rounds_per_step: float = 1.0,
    mode: str = "concurrent",
) -> dict:
    """Time to accuracy of a decentralized method against all-reduce gradient descent.

    Args:
        bound_dec: the decentralized method's bound (its iteration count).
        bound_central: the centralized method's bound (e.g. :func:`centralized_gd`).
        net: the network.
        n, degree: number of nodes and maximum degree of the gossip graph.
        nbytes: size of one vector (the model or gradient) in bytes.
        eps: relative accuracy.
        compute: seconds of local computation per iteration (the same for both).
        rounds_per_step: gossip rounds per iteration of the decentralized method.
        mode: gossip round model (:func:`gossip_round_time`).

    Returns:
        dict with both iteration counts, per-iteration times, times to accuracy, the all-reduce
        variant used, and ``speedup`` = time(all-reduce) / time(decentralized) (> 1: decentralized wins).
    """
    compute = _positive(compute, "compute", allow_zero=True)
    rounds = _positive(rounds_per_step, "rounds_per_step")
    k_dec, k_c = iterations(bound_dec, eps), iterations(bound_central, eps)
    t_gossip = rounds * gossip_round_time(net, degree, nbytes, mode)
    ring, tree = ring_allreduce_time(net, n, nbytes), tree_allreduce_time(net, n, nbytes)
    t_ar = min(ring, tree)
    dec, cen = k_dec * (compute + t_gossip), k_c * (compute + t_ar)
    return {
        "iterations_decentralized": k_dec,
        "iterations_centralized": k_c,
        "seconds_per_iteration_decentralized": compute + t_gossip,
        "seconds_per_iteration_centralized": compute + t_ar,
        "allreduce": "ring" if ring <= tree else "tree",
        "time_decentralized": dec,
        "time_centralized": cen,
        "speedup": cen / dec if dec > 0 else math.inf,
    }

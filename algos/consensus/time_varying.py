"""Consensus over a time-varying network: plain, heavy-ball and Chebyshev gossip on a weight sequence.

The network is a :class:`problems.mixing.MixingSequence` (stacked ``W_t``, built by
:func:`problems.mixing.sequence_weights` from a :class:`problems.graphs.GraphSequence`); step
``t`` of a run gossips with ``W_{t mod T}``, read from the stack inside the jitted scan. The
factories are the static ones, :func:`algos.gossip`, :func:`algos.heavy_ball_gossip` and
:func:`algos.chebyshev_gossip`, called with a ``MixingSequence`` in place of ``W``; their
algorithms are named ``gossip_tv``, ``heavy_ball_gossip_tv`` and ``chebyshev_gossip_tv``.

Updates (one gossip round per step, ``W_t`` symmetric with ``W_t 1 = 1``, so every method keeps
the average ``x_bar`` of ``X_0``):

* plain: ``X_{t+1} = W_t X_t``. Then ``X_K - 1 x_bar^T = prod_t (W_t - J) (X_0 - 1 x_bar^T)`` with
  ``J = 11^T / n``, hence the explicit product bound
  ``||X_K - x_bar||_F <= prod_{t<K} ||W_t - J||_2 ||X_0 - x_bar||_F``
  (:func:`bounds.gossip_product`; submultiplicativity of the operator norm).
* heavy ball: ``X_{t+1} = X_t - h (I - W_t) X_t + b (X_t - X_{t-1})`` with Polyak's ``(h, b)`` for
  one spectral interval ``[l_min, l_max]`` of every ``I - W_t``.
* Chebyshev: ``X_{t+1} = omega_{t+1} (I - c3 (I - W_t)) X_t + (1 - omega_{t+1}) X_{t-1}``, the
  static recurrence of :mod:`algos.consensus.chebyshev_gossip` with ``W_t`` in place of ``W``.

Our choices (not from a paper): the accelerated methods are tuned on the interval
``[min_t l_min(t), max_t l_max(t)]`` (:meth:`MixingSequence.interval`), valid at every step; on
sequences with disconnected snapshots (random edge activation) no such interval exists and the
caller passes ``spectrum=(lambda_n, lambda_2)`` (the reproduction uses the expected matrix's).
On a static sequence these are the static methods exactly. Under changes, neither accelerated
method has a guarantee: Metelev et al. (arXiv:2307.12562, abstract) show that acceleration is
impossible in the deterministic worst case even with two edges changing per step, and possible
for Markov-changing networks with *their* consensus algorithm, which is not readable and is not
implemented here. :func:`adversarial_cuts` builds a two-edge-per-step worst case against a given
method (greedy, one step ahead).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from algos._core import Cost, make_algorithm
from algos._errors import StepSizeError
from algos.consensus.chebyshev_gossip import (
    ChebyshevState,
    HeavyBallState,
    _next_omega,
    chebyshev_coefficients,
    heavy_ball_constants,
)
from algos.consensus.gossip import GossipState, default_x0
from problems import mixing
from problems.convex import Problem, consensus_metrics

__all__ = ["check_sequence", "resolve_interval", "gossip_sequence", "heavy_ball_sequence", "chebyshev_sequence",
           "adversarial_cuts", "SequenceInfo"]  # fmt: skip


class SequenceInfo(NamedTuple):
    cost: Cost


def check_sequence(problem, seq, fn: str) -> mixing.MixingSequence:
    """Validate a (problem, MixingSequence) pair."""
    if not isinstance(problem, Problem):
        raise TypeError(f"algos.{fn} expects a problems.convex.Problem, got {type(problem).__name__}")
    if not isinstance(seq, mixing.MixingSequence):
        raise TypeError(
            f"algos.{fn}: the network must be a problems.mixing.MixingSequence (mixing.sequence_weights(seq)), "
            f"got {type(seq).__name__}"
        )
    if seq.n != problem.n_nodes:
        raise ValueError(
            f"algos.{fn}: the mixing sequence has {seq.n} nodes per snapshot but the problem has "
            f"{problem.n_nodes} nodes; build the sequence on graphs with one node per local function"
        )
    return seq


def resolve_interval(seq: mixing.MixingSequence, spectrum, fn: str) -> tuple[float, float]:
    """``(l_min, l_max)`` of ``I - W_t`` used to tune an accelerated method on a sequence."""
    if spectrum is None:
        try:
            return seq.interval()
        except mixing.DisconnectedGraphError as e:
            raise mixing.DisconnectedGraphError(f"algos.{fn}: {e}") from None
    lam_n, lam_2 = (float(v) for v in spectrum)
    if not (-1.0 - 1e-12 <= lam_n <= lam_2 < 1.0):
        raise ValueError(f"algos.{fn}: spectrum=(lambda_n, lambda_2) must satisfy -1 <= lambda_n <= lambda_2 < 1, got {spectrum}")
    return 1.0 - lam_2, 1.0 - lam_n


def _W_at(Ws, t):
    return jax.lax.dynamic_index_in_dim(Ws, t % Ws.shape[0], axis=0, keepdims=False)


def _cost(d):
    return SequenceInfo(cost=Cost(communications=1.0, floats_sent=float(d)))


def _build_gossip(params):
    Ws, X0 = params["W"], params["x0"]

    def init(key):
        del key
        return GossipState(X=X0)

    def step(key, state, t):
        del key
        return GossipState(X=_W_at(Ws, t) @ state.X), _cost(X0.shape[1])

    return init, step


def _build_heavy_ball(params):
    Ws, X0, h, b = params["W"], params["x0"], params["h"], params["b"]

    def init(key):
        del key
        return HeavyBallState(X=X0, X_prev=X0)

    def step(key, state, t):
        del key
        X = state.X
        X_new = X - h * (X - _W_at(Ws, t) @ X) + b * (X - state.X_prev)
        return HeavyBallState(X=X_new, X_prev=X), _cost(X0.shape[1])

    return init, step


def _build_chebyshev(params):
    Ws, X0, c3, inv_c2 = params["W"], params["x0"], params["c3"], params["inv_c2"]

    def init(key):
        del key
        return ChebyshevState(X=X0, X_prev=X0, omega=jnp.ones((), X0.dtype), t=jnp.zeros((), jnp.int32))

    def step(key, state, t):
        del key
        om = _next_omega(state.t, state.omega, inv_c2)
        W = _W_at(Ws, t)
        X = om * ((1.0 - c3) * state.X + c3 * (W @ state.X)) + (1.0 - om) * state.X_prev
        return ChebyshevState(X=X, X_prev=state.X, omega=om, t=state.t + 1), _cost(X0.shape[1])

    return init, step


def _hp(seq):
    return {"T": seq.num_steps}


def gossip_sequence(problem, seq, *, x0=None):
    """Plain gossip on a sequence (what ``algos.gossip(problem, seq)`` returns)."""
    seq = check_sequence(problem, seq, "gossip")
    params = {"problem": problem, "W": jnp.asarray(seq.weights), "x0": default_x0(problem, x0, "gossip")}
    algo = make_algorithm(_build_gossip, params, consensus_metrics, "gossip_tv", hparams=_hp(seq))
    return algo._replace(spectrum=None)


def heavy_ball_sequence(problem, seq, *, x0=None, step_size=None, momentum=None, spectrum=None, check: bool = True):
    """Heavy-ball gossip on a sequence (what ``algos.heavy_ball_gossip(problem, seq)`` returns)."""
    seq = check_sequence(problem, seq, "heavy_ball_gossip")
    lo, hi = resolve_interval(seq, spectrum, "heavy_ball_gossip")
    h0, b0 = heavy_ball_constants(lo, hi)
    h = h0 if step_size is None else float(step_size)
    b = b0 if momentum is None else float(momentum)
    if check and not (0.0 <= b < 1.0 and 0.0 < h * float(seq.l_max.max()) < 2.0 * (1.0 + b)):
        raise StepSizeError(
            f"algos.heavy_ball_gossip: (h, b) = ({h:.6g}, {b:.6g}) is unstable on some snapshot (needs 0 <= b < 1 and "
            f"0 < h < 2 (1 + b) / max_t l_max(t) = {2 * (1 + b) / float(seq.l_max.max()):.6g}); use the defaults, or check=False"
        )
    params = {"problem": problem, "W": jnp.asarray(seq.weights), "x0": default_x0(problem, x0, "heavy_ball_gossip"), "h": h, "b": b}
    hp = {**_hp(seq), "l_min": lo, "l_max": hi, "step_size": h, "momentum": b}
    return make_algorithm(_build_heavy_ball, params, consensus_metrics, "heavy_ball_gossip_tv", hparams=hp)


def chebyshev_sequence(problem, seq, *, x0=None, spectrum=None):
    """Chebyshev gossip on a sequence (what ``algos.chebyshev_gossip(problem, seq)`` returns)."""
    seq = check_sequence(problem, seq, "chebyshev_gossip")
    lo, hi = resolve_interval(seq, spectrum, "chebyshev_gossip")
    co = chebyshev_coefficients(lo, hi)
    params = {
        "problem": problem,
        "W": jnp.asarray(seq.weights),
        "x0": default_x0(problem, x0, "chebyshev_gossip"),
        "c3": co["c3"],
        "inv_c2": co["inv_c2"],
    }
    hp = {**_hp(seq), "l_min": lo, "l_max": hi, "gamma": co["gamma"], "c1": co["c1"], "c3": co["c3"], "inv_c2": co["inv_c2"]}
    return make_algorithm(_build_chebyshev, params, consensus_metrics, "chebyshev_gossip_tv", hparams=hp)


# --- a deterministic worst case changing two edges per step ---------------------------------
def adversarial_cuts(n: int, num_steps: int, x0, method: str, *, rule: str = "metropolis"):
    """Cut positions of :func:`problems.graphs.moving_cut` chosen greedily against ``method``.

    Every snapshot is the ring C_n minus one edge (a path), so every ``W_t`` has the same spectrum
    and the accelerated methods are tuned on it exactly. At each step the adversary knows the
    method's state and picks, among the ``n`` cut positions, the one whose next iterate has the
    largest consensus energy ``||X_{t+1} - x_bar||_F^2 + ||X_{t+1} - X_t||_F^2`` (the momentum part
    counts: it is what an accelerated method will carry forward). Moving the cut changes two edges.
    Ours: the greedy one-step rule and the energy are our construction of the worst case (Metelev
    et al.'s is not readable); the figure checks what it achieves.

    Args:
        n: ring size (>= 4).
        num_steps: length of the sequence.
        x0: (n, d) start of the method (the adversary simulates the run from it).
        method: ``"gossip"``, ``"heavy_ball"`` or ``"chebyshev"``.
        rule: the weight rule of :func:`problems.mixing.sequence_weights`.

    Returns:
        (num_steps,) int array of cut positions.
    """
    from problems import graphs

    if method not in ("gossip", "heavy_ball", "chebyshev"):
        raise ValueError(f"method must be 'gossip', 'heavy_ball' or 'chebyshev', got {method!r}")
    X = np.asarray(x0, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] != n:
        raise ValueError(f"x0 must have shape ({n}, d), got {X.shape}")
    cands = mixing.sequence_weights(graphs.moving_cut(n, range(n)), rule)
    Wc = np.asarray(cands.weights)  # (n, n, n): W for each cut position
    lo, hi = cands.interval()
    h, b = heavy_ball_constants(lo, hi)
    co = chebyshev_coefficients(lo, hi)
    c3, inv_c2 = co["c3"], co["inv_c2"]
    xbar = X.mean(axis=0)
    X_prev, omega = X.copy(), 1.0
    cuts = np.empty(int(num_steps), dtype=np.int64)
    for t in range(int(num_steps)):  # the adversary is sequential by nature (factory time, NumPy)
        WX = Wc @ X  # (n_cuts, n, d)
        if method == "gossip":
            nxt = WX
            om = omega
        elif method == "heavy_ball":
            nxt = X - h * (X - WX) + b * (X - X_prev)
            om = omega
        else:
            om = 1.0 if t == 0 else (1.0 / (1.0 - 0.5 * inv_c2**2) if t == 1 else 1.0 / (1.0 - 0.25 * omega * inv_c2**2))
            nxt = om * ((1.0 - c3) * X + c3 * WX) + (1.0 - om) * X_prev
        energy = ((nxt - xbar) ** 2).sum(axis=(1, 2)) + ((nxt - X) ** 2).sum(axis=(1, 2))
        c = int(np.argmax(energy))
        cuts[t] = c
        X_prev, X, omega = X, nxt[c], om
    return cuts

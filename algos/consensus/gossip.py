"""Plain gossip averaging: ``X+ = W X``.

Problem class: average consensus. Every node holds a vector ``x_i`` and the
network must agree on the average ``x_bar = (1/n) sum_i x_i``. In ratebench
this is the convex quadratic with ``A_i = I``, ``f_i(x) = 1/2 ||x||^2 - b_i^T x``.
Its minimizer is ``x* = mean(b)``, and gossip starts from ``X_0 = b``.

Update rule (one gossip round per step)::

    X_{k+1} = W X_k

``W`` is symmetric with ``W 1 = 1``, so the average of the rows never changes.
The mean-free part contracts by at least ``slem(W)`` per step in the Frobenius
norm: ``||X_k - 1 x_bar^T||_F <= slem(W)^k ||X_0 - 1 x_bar^T||_F``. Equality
holds for the worst-case start (an eigenvector of the eigenvalue of largest
modulus). Classical; see Xiao & Boyd, "Fast linear iterations for distributed
averaging", Systems & Control Letters 2004.

Matching bound: :func:`bounds.consensus.gossip.gossip`, an exact bound on the
``consensus_error`` metric.

On a general quadratic (``A_i != I``), gossip still converges to the mean of
``X_0``, but that mean is not ``x*``. Read ``consensus_error`` there; do not
read ``dist_to_opt``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from algos import _gossip
from algos._core import Cost, make_algorithm
from problems import mixing
from algos._errors import check_problem_and_W
from problems.convex import consensus_metrics

__all__ = ["gossip", "GossipState", "GossipInfo", "default_x0"]


class GossipState(NamedTuple):
    X: jax.Array  # (n, d) node values


class GossipInfo(NamedTuple):
    cost: Cost


def default_x0(problem, x0, fn: str) -> jax.Array:
    """Starting values of a consensus method.

    Uses ``x0`` when given. Otherwise it uses ``problem.data["b"]``, the node
    values of the averaging problem (quadratic with ``A_i = I``).
    """
    n, d = problem.n_nodes, problem.dim
    if x0 is None:
        data = problem.data
        b = data.get("b") if isinstance(data, dict) else None
        if b is None or tuple(jnp.shape(b)) != (n, d):
            raise ValueError(
                f"algos.{fn}: pass x0 of shape ({n}, {d}); the default start is problem.data['b'] "
                "(the averaging problem's node values), which this problem does not have"
            )
        x0 = b
    x0 = jnp.asarray(x0, dtype=jnp.result_type(problem.x_star))
    if x0.shape != (n, d):
        raise ValueError(f"algos.{fn}: x0 must have shape (n_nodes, dim) = ({n}, {d}), got {x0.shape}")
    return x0


def _build(params):
    W, X0 = params["W"], params["x0"]
    d = X0.shape[1]

    def init(key):
        del key
        return GossipState(X=X0)

    def step(key, state):
        del key
        return GossipState(X=W @ state.X), GossipInfo(cost=Cost(communications=1.0, floats_sent=float(d)))

    return init, step


def gossip(problem, W, *, x0=None):
    """Plain gossip ``X+ = W X``.

    Args:
        problem: a :class:`problems.convex.Problem`. For average consensus this is
            the quadratic with ``A_i = I``, whose ``x_star`` is ``mean(b)``.
        W: (n, n) symmetric mixing matrix with ``W 1 = 1``, or a :class:`problems.mixing.MixingSequence`
            (time-varying network: step t uses ``W_{t mod T}``; see :mod:`algos.consensus.time_varying`).
        x0: (n, d) starting values. Defaults to ``problem.data["b"]``.

    Returns:
        An :class:`algos.Algorithm`. Its state has ``X`` (n, d). Each step sends
        one vector per node and computes no gradients.

    Example:
        >>> algo = gossip(p, mixing.metropolis(graphs.ring(32)))
        >>> _, trace = algos.run(algo, key=0, num_steps=2000)
        >>> trace.consensus_error  # decays like slem(W)^k
    """
    if isinstance(W, mixing.MixingSequence):  # time-varying network: algos/consensus/time_varying.py
        from algos.consensus.time_varying import gossip_sequence

        return gossip_sequence(problem, W, x0=x0)
    W_in, W = W, check_problem_and_W(problem, W, "gossip")
    params = {"problem": problem, "W": _gossip.as_param(W_in, W), "x0": default_x0(problem, x0, "gossip")}
    return make_algorithm(_build, params, consensus_metrics, "gossip", hparams={}, spectrum=mixing.spectrum(W))

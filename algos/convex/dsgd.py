"""D-SGD: decentralized stochastic gradient descent (adapt-then-combine form).

Problem class: ``min_x (1/n) sum_i f_i(x)``, ``f_i`` L-smooth and mu-strongly
convex, stochastic gradients ``g_i`` with ``E g_i = grad f_i`` and
``E||g_i - grad f_i||^2 <= sigma^2`` (``problem.stoch_grad``); ``W`` symmetric
doubly stochastic.

Update (Koloskova et al. 2020, Algorithm 1 with one local step and a fixed ``W``)::

    X^{k+1} = W (X^k - alpha g(X^k; xi^k))

Randomness: the step key given by :func:`algos.run` (a fresh subkey per step,
split from the run's key) is used exactly once, for the gradient noise of that
step; the same run key gives the same trace bit for bit.

Reference: A. Koloskova, N. Loizou, S. Boreiri, M. Jaggi, S. U. Stich, "A
unified theory of decentralized SGD with changing topology and local updates",
ICML 2020 (arXiv:2003.10422), Theorem 2 (strongly convex case; order only is
verified here, see docs/VERIFICATION.md §7).

Step size: ``0 < alpha < 2/L``. In that range the noiseless map
``X -> W(X - alpha grad F(X))`` is a contraction towards its fixed point
(``||W|| <= 1`` and ``||I - alpha H|| < 1``); the theorem itself needs a
smaller step ``alpha <= c p / L`` whose constant ``c`` was not recovered.
Default ``alpha = 1/(2L)`` (ratebench's choice, not the paper's). With a
constant step D-SGD reaches a neighbourhood of ``x*`` whose size grows with
``alpha sigma^2`` and the heterogeneity ``zeta``.

Matching bound: :func:`bounds.convex.dsgd.dsgd` (order-only complexity).

Local steps and changing topology (Koloskova et al. 2020's framework; ``local_steps=tau > 1``, or
``W`` a :class:`problems.mixing.MixingSequence`, or a :class:`problems.nonconvex.Problem`): the
algorithm is named ``dsgd_local`` and runs::

    Y^t     = X^t - alpha g(X^t; xi^t)
    X^{t+1} = W_r Y^t   if (t + 1) mod tau == 0 (r = t // tau, the communication round)
            = Y^t       otherwise (a local step),

with ``W_r = weights[r mod T]`` read from the stacked sequence (a fixed ``W`` is a sequence of
length 1). ``tau = 1`` with a fixed ``W`` is the plain update above. The schedule (gossip after
the tau-th local step of each round, round r using the r-th matrix of a deterministic periodic
sequence) is ratebench's reading of the abstract's "local updates" and "changing topology"; the
paper's own Algorithm box (which allows random ``W^{(t)}`` with ``W^{(t)} = I`` between
communications) is NOT FOUND beyond the abstract. Cost per step: ``gradient_calls = 1``,
``communications = 1`` on gossip steps and 0 on local steps. The bounds of
:func:`bounds.dsgd` / :func:`bounds.dsgd_expectation` are about the plain method only; the orders
of the general method are :func:`bounds.dsgd_local_orders`.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from algos._core import Cost
from algos.convex import _stepsize
from problems import mixing

__all__ = ["dsgd", "default_step_size", "step_size_limit", "State", "Info", "check_local_steps"]


class State(NamedTuple):
    X: jax.Array  # (n, d) node-stacked iterates


class Info(NamedTuple):
    cost: Cost


def step_size_limit(problem, W) -> float:
    """``2/L``: beyond it the noiseless D-SGD map stops being a contraction."""
    L, _ = _stepsize.constants(problem, "dsgd")
    return 2.0 / L


def default_step_size(problem, W) -> float:
    """``1/(2L)``."""
    L, _ = _stepsize.constants(problem, "dsgd")
    return 0.5 / L


def _build(params):
    p, W, alpha, X0 = params["problem"], params["W"], params["alpha"], params["x0"]

    def init(key):
        del key
        return State(X=X0)

    def step(key, state):
        X = state.X
        G = p.stoch_grad(key, X)  # the step's key, used once
        X_new = W @ (X - alpha * G)
        d = X.shape[-1]
        return State(X=X_new), Info(cost=Cost(communications=1.0, floats_sent=float(d), gradient_calls=1.0))

    return init, step


def check_local_steps(local_steps, fn: str = "dsgd") -> int:
    """``local_steps`` (tau) as a Python int >= 1, else a clear error."""
    if isinstance(local_steps, bool) or not isinstance(local_steps, (int, np.integer)):
        if isinstance(local_steps, (float, np.floating)) and float(local_steps).is_integer():
            local_steps = int(local_steps)
        else:
            raise TypeError(f"algos.{fn}: local_steps (tau) must be a positive integer, got {local_steps!r}; pass 1 to gossip every step")
    if int(local_steps) < 1:
        raise ValueError(f"algos.{fn}: local_steps (tau) must be >= 1 (the number of local steps per communication), "
                         f"got {local_steps}; pass 1 to gossip every step")  # fmt: skip
    return int(local_steps)


def _build_local(params):
    p, Ws, alpha, X0, tau = params["problem"], params["weights"], params["alpha"], params["x0"], params["tau"]

    def init(key):
        del key
        return State(X=X0)

    def step(key, state, t):
        X = state.X
        Y = X - alpha * p.stoch_grad(key, X)  # the step's key, used once
        gossip = (t + 1) % tau == 0
        W_r = Ws[(t // tau) % Ws.shape[0]]
        X_new = jnp.where(gossip, W_r @ Y, Y)
        d = X.shape[-1]
        comm = jnp.where(gossip, 1.0, 0.0)
        return State(X=X_new), Info(cost=Cost(communications=comm, floats_sent=comm * d, gradient_calls=1.0))

    return init, step


def _dsgd_local(problem, W, step_size, x0, check, tau):
    from algos._core import make_algorithm
    from problems import convex, nonconvex

    if isinstance(problem, convex.Problem):
        metrics = convex.metrics
        L = float(problem.L)
    elif isinstance(problem, nonconvex.Problem):
        metrics = nonconvex.metrics
        L = float(problem.L)
    else:
        raise TypeError(f"algos.dsgd expects a problems.convex.Problem or problems.nonconvex.Problem, got {type(problem).__name__}")
    if isinstance(W, mixing.MixingSequence):
        Ws = np.asarray(W.weights, dtype=np.float64)
    else:
        Wd = np.asarray(W)  # a GossipOperator converts to its dense matrix
        Ws = mixing.check_mixing(Wd, atol=1e-9 if Wd.dtype != np.float32 else 1e-6)[None]
    if Ws.shape[1] != problem.n_nodes:
        raise ValueError(f"algos.dsgd: W is {Ws.shape[1]}x{Ws.shape[1]} but the problem has {problem.n_nodes} nodes; "
                         "build W on a graph with one node per local function")  # fmt: skip
    alpha = _stepsize.resolve(step_size, default=0.5 / L, limit=2.0 / L, fn="dsgd", rule="alpha < 2 / L", check=check)
    if x0 is None:
        X0 = problem.x0()
    else:
        X0 = jnp.asarray(x0)
        if X0.shape == (problem.dim,):
            X0 = jnp.broadcast_to(X0, (problem.n_nodes, problem.dim))
        if X0.shape != (problem.n_nodes, problem.dim):
            raise ValueError(f"algos.dsgd: x0 must have shape (n_nodes, dim) = ({problem.n_nodes}, {problem.dim}) or (dim,), got {X0.shape}")
    params = {"problem": problem, "weights": jnp.asarray(Ws), "alpha": alpha, "x0": jnp.asarray(X0, dtype=jnp.result_type(float)),
              "tau": jnp.asarray(tau, dtype=jnp.int32)}  # fmt: skip
    hparams = {"step_size": _stepsize.as_float(alpha), "local_steps": tau, "sequence_length": int(Ws.shape[0])}
    return make_algorithm(_build_local, params, metrics, "dsgd_local", hparams)


def dsgd(problem, W, step_size=None, *, x0=None, check: bool = True, local_steps: int = 1):
    """Decentralized SGD ``X+ = W (X - alpha g(X))`` with ``problem.stoch_grad``.

    Args:
        problem: a :class:`problems.convex.Problem` (its ``sigma`` sets the gradient noise), or a
            :class:`problems.nonconvex.Problem` (then the algorithm is ``dsgd_local``).
        W: (n, n) symmetric doubly stochastic mixing matrix, or a :class:`problems.mixing.MixingSequence`
            (changing topology: communication round ``r`` uses ``W_{r mod T}``).
        step_size: ``alpha``; default ``1/(2L)``; must lie in ``(0, 2/L)`` (checked when concrete).
        x0: starting point, (n, d) or (d,); default zeros.
        check: raise :class:`bounds.StepSizeError` for a step size outside the range.
        local_steps: ``tau >= 1``, local steps per communication (Koloskova et al.'s ``tau``).

    Returns:
        An :class:`algos.Algorithm`; cost per step: 1 vector sent, 1 stochastic gradient (``dsgd``), or
        1 stochastic gradient and a vector every ``tau`` steps (``dsgd_local``, module docstring).
    """
    from problems import convex

    tau = check_local_steps(local_steps)
    if tau > 1 or isinstance(W, mixing.MixingSequence) or not isinstance(problem, convex.Problem):
        return _dsgd_local(problem, W, step_size, x0, check, tau)
    return _stepsize.step_size_factory(
        _build, "dsgd", problem, W, step_size, x0, check=check, rule="alpha < 2 / L",
        default_fn=default_step_size, limit_fn=step_size_limit,
    )  # fmt: skip

"""Shared pieces of the decentralized bilevel methods: costs, argument checks, the tracked inner loops."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from problems import bilevel, mixing

__all__ = ["BilevelCost", "check_problem_and_W", "check_positive", "check_length", "y_loop", "metrics_for"]


class BilevelCost(NamedTuple):
    """What one outer iteration of a bilevel method spends, per node (trace names; cumulative in the trace).

    Attributes:
        communications: messages sent (a vector or a matrix each; rounds x messages per round).
        floats_sent: floating-point numbers sent.
        gradient_calls: stochastic gradient oracle calls (``grad_f_x``, ``grad_f_y``, ``grad_g_y``).
        hvp_calls: Hessian-vector products ``grad^2_yy g_i v``.
        jvp_calls: Jacobian-vector products ``grad^2_xy g_i v``.
        matrix_calls: materialized second-order matrices (a Hessian ``grad^2_yy g_i`` or a Jacobian
            ``grad^2_xy g_i``), each one oracle call.
        samples: stochastic oracle calls of every kind above; each draws one fresh sample.
    """

    communications: Any = 0.0
    floats_sent: Any = 0.0
    gradient_calls: Any = 0.0
    hvp_calls: Any = 0.0
    jvp_calls: Any = 0.0
    matrix_calls: Any = 0.0
    samples: Any = 0.0


def check_problem_and_W(problem, W, method: str) -> np.ndarray:
    """Validate the problem type and ``W`` (square, symmetric, doubly stochastic, mixing); return dense ``W``."""
    if not isinstance(problem, bilevel.BilevelProblem):
        raise TypeError(
            f"algos.{method} needs a problems.bilevel.BilevelProblem (e.g. bilevel.quadratic(8, 5, 5)), got {type(problem).__name__}"
        )
    Wd = mixing.check_mixing(np.asarray(W))
    if Wd.shape[0] != problem.n_nodes:
        raise ValueError(
            f"algos.{method}: W is {Wd.shape[0]}x{Wd.shape[0]} but the problem has {problem.n_nodes} nodes; "
            f"pass an (n_nodes, n_nodes) mixing matrix"
        )
    gap = mixing.spectrum(Wd).gap
    if not gap > 1e-12:
        raise mixing.MixingMatrixError(
            f"algos.{method}: W does not mix (spectral gap {gap:.3g}: the graph is disconnected or W is periodic); "
            "use a connected graph and e.g. mixing.metropolis(g), or mixing.lazy(W) on a bipartite graph"
        )
    if not float(problem.mu_g) > 0:
        raise ValueError(f"algos.{method}: the lower level must be strongly convex (mu_g > 0), got mu_g={float(problem.mu_g)}")
    return Wd


def check_positive(value, name: str, method: str, *, upper: float | None = None) -> float:
    v = float(value)
    if not (np.isfinite(v) and v > 0):
        raise ValueError(f"algos.{method}: {name} must be positive and finite, got {value!r}")
    if upper is not None and v > upper:
        raise ValueError(f"algos.{method}: {name} must be <= {upper:g}, got {v:g}")
    return v


def check_length(value, name: str, method: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < 1:
        raise ValueError(f"algos.{method}: {name} must be a positive integer (an inner-loop length), got {value!r}")
    return int(value)


def y_loop(p, W, beta, T_y, key, X, Y, SY, GY):
    """``T_y`` gradient-tracking steps on ``y`` for the lower levels ``g_i(x_i, .)`` (x fixed).

    Adapt-then-combine tracking: ``Y+ = W (Y - beta SY)``, ``SY+ = W (SY + G(Y+) - G(Y))`` with ``G`` the
    stochastic ``grad_y g_i``; the
    tracker and the last gradient are carried across outer iterations (so ``mean(SY) = mean(GY)`` always).
    """

    def body(t, carry):
        Y, SY, GY = carry
        Y_new = W @ (Y - beta * SY)
        G_new = p.stoch_grad_g_y(bilevel.oracle_key(key, 5, t), X, Y_new)
        SY = W @ (SY + G_new - GY)
        return Y_new, SY, G_new

    return jax.lax.fori_loop(0, T_y, body, (Y, SY, GY))


def metrics_for(problem):
    """The family's recorder: with ``dist_to_opt`` when the instance knows ``x*``."""
    return bilevel.metrics if problem.x_star is None else bilevel.metrics_with_optimum


def broadcast_x0(problem, x0, method: str):
    n, dx = problem.n_nodes, problem.dim_x
    x0 = problem.x_init if x0 is None else jnp.asarray(x0)
    if x0.shape == (dx,):
        return jnp.broadcast_to(x0, (n, dx))
    if x0.shape == (n, dx):
        return x0
    raise ValueError(f"algos.{method}: x0 must have shape (dim_x,) = ({dx},) or (n_nodes, dim_x) = ({n}, {dx}), got {x0.shape}")


def default_steps(problem, W) -> dict:
    """Our defaults: inner steps ``1/(2 L_g)`` for y and z, outer step ``1/(2 L_phi)``.

    The inner loops are adapt-then-combine gradient tracking; at ``1/(2 L_g)`` (and at ``1/L_g``) its linear
    iteration on the heterogeneous quadratic has spectral radius 1 on the invariant (tracking) modes and
    below 1 elsewhere on 8- and 16-node rings and an 8-node geometric graph (computed;
    ``tests/algos/test_bilevel.py`` checks the ring). The combine-then-adapt form
    ``Y+ = W Y - beta S`` is marginally unstable at ``1/(2 L_g)`` even with exact averaging (a mode
    ``lambda^2 + beta a lambda - beta a = 0`` reaches ``-1`` at ``beta a = 1/2``), which is why we use ATC.
    """
    del W
    return {"beta": 0.5 / float(problem.L_g), "gamma": 0.5 / float(problem.L_g), "alpha": 0.5 / float(problem.L_phi)}


def default_length(problem) -> int:
    """Our default inner-loop length: ``max(2, ceil(kappa_g / 5))`` steps for ``y`` and for ``z``.

    With exact averaging a tracked inner step at ``1/(2 L_g)`` contracts by ``1 - 1/(2 kappa_g)``, so
    ``kappa_g / 5`` steps contract by about ``exp(-1/10)`` per outer iteration whatever ``kappa_g`` is.
    Measured reason: on ``ridge_hyperparameters(4, 3)`` (``kappa_g = 53``) DSBO with 2 steps did not
    decrease ``||grad Phi||`` in 400 iterations, with 10 it matched Gossip-DSBO (1.7e-5).
    """
    return max(2, int(np.ceil(float(problem.L_g) / float(problem.mu_g) / 5.0 - 1e-12)))

"""Gossip-DSBO baseline: decentralized bilevel optimization that gossips Hessian and Jacobian estimates.

Reference: S. Yang, X. Zhang, M. Wang, "Decentralized Gossip-Based Stochastic Bilevel Optimization over
Communication Networks", NeurIPS 2022 (arXiv:2206.10870). **From the paper (abstract, VERIFIED):**
gossip-based, a single timescale, first- and (SECONDARY, from a review) second-order stochastic
information, with neighbours gossiping to estimate the averaged gradients **and Hessians**. The
algorithm box, step sizes and the number of inverse-Hessian estimators are NOT FOUND.

**Ours:** the same outer structure as :mod:`algos.bilevel.dsbo` (the same tracked ``y`` loop and the
same gossip step on ``x``), so that the comparison isolates how ``z`` is obtained. Per outer iteration::

    y loop: T_y tracked steps (as in DSBO)
    local samples:  Hl_i = grad^2_yy g_i, Jl_i = grad^2_xy g_i (materialized), vl_i = grad_y f_i
    tracking:       Hs+ = W Hs + Hl - Hl_prev,  Js+ = W Js + Jl - Jl_prev,  Vs+ = W Vs + vl - vl_prev
    z_i = Hs_i^-1 Vs_i      (a local dense solve)
    h_i = grad_x f_i - Js_i z_i,   S_x+ = W (S_x + H+ - H),   X+ = W (X - alpha S_x+)   (as DSBO)

so each node sends ``dim_y^2`` (Hessian) ``+ dim_x dim_y`` (Jacobian) ``+ dim_y`` (``Vs``) floats per
iteration on top of the ``y`` loop and ``x`` (the Hessian is sent in full, not its triangle; ours).
Defaults as DSBO: ``T_y = max(2, ceil(kappa_g / 5))``, ``beta = 1/(2 L_g)``, ``alpha = 1/(2 L_phi)``.

Per outer iteration and node (exact, ``bounds.dsbo_costs``): messages ``2 T_y + 5``, floats
``2 dim_y T_y + dim_y^2 + dim_x dim_y + dim_y + 2 dim_x``, gradient calls ``T_y + 2``, matrix calls
``2``, samples ``T_y + 4``.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp

from algos._core import make_algorithm
from algos._gossip import as_param
from algos.bilevel import _common
from algos.bilevel._common import BilevelCost
from problems.bilevel import oracle_key

__all__ = ["gossip_dsbo", "State", "Info", "per_iteration_cost"]


class State(NamedTuple):
    X: jax.Array  # (n, dim_x)
    Y: jax.Array  # (n, dim_y)
    Z: jax.Array  # (n, dim_y) local solves Hs_i^-1 Vs_i
    SY: jax.Array  # (n, dim_y) tracker of grad_y g_i
    GY: jax.Array  # (n, dim_y)
    Hs: jax.Array  # (n, dim_y, dim_y) tracked average Hessian
    Hl: jax.Array  # (n, dim_y, dim_y) last local Hessian sample
    Js: jax.Array  # (n, dim_x, dim_y) tracked average Jacobian
    Jl: jax.Array  # (n, dim_x, dim_y)
    Vs: jax.Array  # (n, dim_y) tracked average grad_y f
    Vl: jax.Array  # (n, dim_y)
    U: jax.Array  # (n, dim_x) last local hypergradient estimate
    SX: jax.Array  # (n, dim_x) its tracker


class Info(NamedTuple):
    cost: BilevelCost


def per_iteration_cost(dim_x: int, dim_y: int, T_y: int) -> BilevelCost:
    return BilevelCost(
        communications=2.0 * T_y + 5, floats_sent=2.0 * dim_y * T_y + dim_y**2 + dim_x * dim_y + dim_y + 2 * dim_x,
        gradient_calls=T_y + 2.0, matrix_calls=2.0, samples=T_y + 4.0,
    )  # fmt: skip


def _mix(W, A):
    """``W @ A`` for node-stacked matrices (n, a, b)."""
    n = A.shape[0]
    return (W @ A.reshape(n, -1)).reshape(A.shape)


@functools.lru_cache(maxsize=None)
def _builder(T_y: int):
    def build(params):
        p, W, alpha, beta, X0 = params["problem"], params["W"], params["alpha"], params["beta"], params["x0"]
        n, dx, dy = p.n_nodes, p.dim_x, p.dim_y
        cost = per_iteration_cost(dx, dy, T_y)

        def init(key):
            k1, k2, k3, k4, k5 = (oracle_key(key, 100, j) for j in range(5))
            Y0 = jnp.zeros((n, dy), X0.dtype)
            GY = p.stoch_grad_g_y(k1, X0, Y0)
            Hl = p.stoch_hess_g_yy(k2, X0, Y0)
            Jl = p.stoch_jac_g_xy(k3, X0, Y0)
            Vl = p.stoch_grad_f_y(k4, X0, Y0)
            U0 = p.stoch_grad_f_x(k5, X0, Y0)
            return State(X=X0, Y=Y0, Z=jnp.zeros((n, dy), X0.dtype), SY=GY, GY=GY, Hs=Hl, Hl=Hl, Js=Jl, Jl=Jl, Vs=Vl, Vl=Vl,
                         U=U0, SX=U0)  # fmt: skip

        def step(key, s):
            kh, kj, kv, kx = (oracle_key(key, j) for j in (7, 8, 1, 3))
            X = s.X
            Y, SY, GY = _common.y_loop(p, W, beta, T_y, key, X, s.Y, s.SY, s.GY)
            Hl = p.stoch_hess_g_yy(kh, X, Y)
            Jl = p.stoch_jac_g_xy(kj, X, Y)
            Vl = p.stoch_grad_f_y(kv, X, Y)
            Hs = _mix(W, s.Hs) + Hl - s.Hl
            Js = _mix(W, s.Js) + Jl - s.Jl
            Vs = W @ s.Vs + Vl - s.Vl
            Z = jnp.linalg.solve(Hs, Vs[..., None])[..., 0]
            H = p.stoch_grad_f_x(kx, X, Y) - jnp.einsum("nij,nj->ni", Js, Z)
            SX = W @ (s.SX + H - s.U)
            X_new = W @ (X - alpha * SX)
            return State(X=X_new, Y=Y, Z=Z, SY=SY, GY=GY, Hs=Hs, Hl=Hl, Js=Js, Jl=Jl, Vs=Vs, Vl=Vl, U=H, SX=SX), Info(cost=cost)

        return init, step

    return build


def gossip_dsbo(problem, W, *, step_size=None, inner_step_y=None, T_y: int | None = None, x0=None):
    """Gossip-DSBO baseline (module docstring): gossips Hessian and Jacobian estimates.

    Args:
        problem: a :class:`problems.bilevel.BilevelProblem`.
        W: (n, n) symmetric doubly stochastic mixing matrix with a spectral gap.
        step_size: outer step (default ``1/(2 L_phi)``). inner_step_y: ``beta`` (default ``1/(2 L_g)``).
        T_y: ``y`` steps per outer iteration (default ``max(2, ceil(kappa_g / 5))``, as DSBO). x0: as :func:`algos.dsbo`.
    """
    from problems import mixing

    name = "gossip_dsbo"
    Wd = _common.check_problem_and_W(problem, W, name)
    T_y = _common.check_length(_common.default_length(problem) if T_y is None else T_y, "T_y", name)
    d = _common.default_steps(problem, Wd)
    alpha = _common.check_positive(d["alpha"] if step_size is None else step_size, "step_size", name)
    beta = _common.check_positive(d["beta"] if inner_step_y is None else inner_step_y, "inner_step_y", name)
    X0 = _common.broadcast_x0(problem, x0, name)
    params = {"problem": problem, "W": as_param(W, Wd), "alpha": alpha, "beta": beta, "x0": X0}
    hp = {"step_size": alpha, "inner_step_y": beta, "T_y": T_y, "dim_x": problem.dim_x, "dim_y": problem.dim_y,
          "sigma": float(problem.sigma)}  # fmt: skip
    return make_algorithm(_builder(T_y), params, _common.metrics_for(problem), name, hp, spectrum=mixing.spectrum(Wd))

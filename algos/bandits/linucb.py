"""LinUCB / OFUL: one agent, optimism over a confidence ellipsoid (the regret reference over N*T rounds).

Problem class: :func:`problems.bandits.linear_contextual`, played by ONE agent (one action per
step): ``num_steps = N * T`` matches the ``N T`` actions of ``N`` agents over ``T`` rounds
("an optimal single agent playing NT rounds", Amani et al. 2023, abstract).

Rule at step ``t`` (``V_t = lam I + sum_{s<t} x_s x_s^T``, ``theta_hat_t = V_t^{-1} sum x_s r_s``)::

    x_t = argmax_{x in A_t}  <x, theta_hat_t> + beta_t ||x||_{V_t^{-1}}
    beta_t = R sqrt(2 log(1/delta) + log(det V_t / lam^d)) + sqrt(lam) S

the self-normalized confidence radius of Abbasi-Yadkori, Pál & Szepesvári, "Improved algorithms
for linear stochastic bandits", NeurIPS 2011, Thm. 2 (also Lattimore & Szepesvári, *Bandit
Algorithms*, 2020, Thm. 20.5): with probability ``1 - delta``, for all ``t``,
``||theta_hat_t - theta*||_{V_t} <= beta_t`` when the noise is ``R``-sub-Gaussian and
``||theta*|| <= S``. Here ``R = problem.sigma`` (Gaussian noise), ``S = 1`` (``theta*`` on the sphere).
``V^{-1}`` is kept by Sherman–Morrison, ``log det`` by the matrix determinant lemma.

Info diagnostic ``covered``: 1 when ``theta*`` lies in the ellipsoid used at this step.

Matching bound: :func:`bounds.bandits.linucb.linucb` (explicit, high probability).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from algos._core import make_algorithm
from algos.bandits._common import BanditCost, check_linear, check_positive
from problems.bandits import linear_metrics, linear_rewards

__all__ = ["linucb", "LinUCBState", "LinUCBInfo", "oful_radius"]


class LinUCBState(NamedTuple):
    V: jax.Array  # (d, d) V_t
    Vinv: jax.Array  # (d, d) V_t^{-1}
    b: jax.Array  # (d,) sum x r
    logdet: jax.Array  # () log det V_t - d log lam


class LinUCBInfo(NamedTuple):
    contexts: jax.Array  # (1,)
    arms: jax.Array  # (1,)
    rewards: jax.Array  # (1,)
    covered: jax.Array  # () 1.0 when theta* is inside this step's ellipsoid
    cost: BanditCost


def oful_radius(logdet, R, lam, S, delta):
    """``R sqrt(2 log(1/delta) + logdet) + sqrt(lam) S`` (Abbasi-Yadkori et al. 2011, Thm. 2)."""
    return R * jnp.sqrt(2.0 * jnp.log(1.0 / delta) + logdet) + jnp.sqrt(lam) * S


def _build(params):
    p = params["problem"]
    lam, delta, S = params["lam"], params["delta"], params["S"]
    d, C = p.dim, p.n_contexts
    dtype = p.actions.dtype

    def init(key):
        del key
        return LinUCBState(V=lam * jnp.eye(d, dtype=dtype), Vinv=jnp.eye(d, dtype=dtype) / lam, b=jnp.zeros(d, dtype), logdet=jnp.zeros((), dtype))

    def step(key, state, t):
        del t
        k_ctx, k_r = jax.random.split(key)
        c = jax.random.randint(k_ctx, (), 0, C)
        X = p.actions[c]  # (K, d)
        theta_hat = state.Vinv @ state.b
        beta = oful_radius(state.logdet, p.sigma, lam, S, delta)
        width = jnp.sqrt(jnp.maximum(jnp.sum((X @ state.Vinv) * X, axis=1), 0.0))
        a = jnp.argmax(X @ theta_hat + beta * width)
        x = X[a]
        r = linear_rewards(p, k_r, x)
        err = theta_hat - p.theta
        covered = (err @ state.V @ err <= beta**2).astype(dtype)
        Vx = state.Vinv @ x
        q = x @ Vx
        new = LinUCBState(V=state.V + jnp.outer(x, x), Vinv=state.Vinv - jnp.outer(Vx, Vx) / (1.0 + q), b=state.b + r * x, logdet=state.logdet + jnp.log1p(q))
        info = LinUCBInfo(contexts=c[None], arms=a[None], rewards=r[None], covered=covered,
                          cost=BanditCost(arm_pulls=jnp.ones((), dtype)))  # fmt: skip
        return new, info

    return init, step


def linucb(problem, *, lam: float = 1.0, delta: float = 0.01, S: float = 1.0):
    """LinUCB/OFUL on ``problem`` as one agent (run it for ``N * T`` steps).

    Args:
        problem: a :func:`problems.bandits.linear_contextual` instance.
        lam: ridge regularization ``lambda > 0``.
        delta: confidence level in (0, 1).
        S: known bound on ``||theta*||`` (default 1: ``theta*`` is on the unit sphere).
    """
    fn = "linucb"
    check_linear(problem, fn)
    lam = check_positive(lam, "lam", fn)
    delta = check_positive(delta, "delta", fn)
    if not delta < 1.0:
        raise ValueError(f"algos.{fn}: delta must lie in (0, 1), got {delta}")
    S = check_positive(S, "S", fn)
    params = {"problem": problem, "lam": lam, "delta": delta, "S": S}
    hp = {"lam": lam, "delta": delta, "S": S, "R": float(problem.sigma)}
    return make_algorithm(_build, params, linear_metrics, "linucb", hparams=hp)

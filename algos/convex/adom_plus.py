"""ADOM+ (Kovalev, Gasanov, Gasnikov & Richtárik, NeurIPS 2021) over a time-varying network.

Problem class: ``min_x sum_i f_i(x)`` (ratebench averages the ``f_i``: same minimizer), each ``f_i``
``L``-smooth and ``mu``-strongly convex, primal gradients, a sequence of gossip matrices
``𝐖(k)``. The paper's own statement is not readable (abstract only: lower bounds over
time-varying networks, attained by ADOM with multi-consensus and by ADOM+). The iteration,
the constants and the multi-consensus rule below are those of the DADAO authors'
re-implementation, ``AdelNabli/DADAO@eed1ed1b21a66da393f55433c26f7920b465eabe``
(``optimizers.py:ADOMplus_optimizer``, ``run_optimizers.py:run_ADOMplus``), which cites the
paper's eq. 18 and eq. 20; they are that code's choices.

Constants (``kappa = L / mu``, ``chi`` the worst-case condition number of the gossip matrices):
``tau_1 = 1 / (sqrt(kappa) + 1/2)``, ``tau_2 = sqrt(1/kappa)``, ``sigma_2 = tau_2 / (16 chi)``,
``sigma_1 = 1 / (1/sigma_2 + 1/2)``, ``eta = 1 / (L tau_2)``, ``alpha = nu = mu / 2``,
``beta = 1 / (2L)``, ``delta = 1 / (17 L)``, ``gamma = nu / (14 sigma_2 chi^2)``,
``theta = nu / (4 sigma_2)``, ``zeta = 1/2``.

One iteration with ``W = I - 𝐖(k)`` (``G = I - W = 𝐖(k)``)::

    x_g = tau_1 x + (1 - tau_1) x_f,  g = grad F(x_g)
    y_g = sigma_1 y + (1 - sigma_1) y_f,  z_g = sigma_1 z + (1 - sigma_1) z_f
    y+  = c1 (y + c2 g - c3 x_g - c4 x - (theta / nu)(y_g + z_g))
    x+  = (x + eta alpha x_g - eta (g - nu x_g - y+)) / (1 + eta alpha)
    z+  = z + gamma delta (z_g - z) - G ((gamma / nu)(y_g + z_g) + m)
    m+  = W ((gamma / nu)(y_g + z_g) + m)
    x_f+ = x_g + tau_2 (x+ - x),  y_f+ = y_g + sigma_2 (y+ - y),  z_f+ = z_g - zeta G (y_g + z_g)

with ``c1 = (1 + eta alpha) / ((1 + theta beta)(1 + eta alpha) + theta eta)``,
``c2 = theta beta + theta eta / (1 + eta alpha)``,
``c3 = theta (beta nu + eta (nu + alpha) / (1 + eta alpha))``, ``c4 = theta / (1 + eta alpha)``
(the closed form of the implicit x/y pair). Start: ``x = x0``, ``m, y ~ N(0, I)`` (drawn from
the init key, as the code draws them), ``z = 0``, ``(x_f, y_f, z_f) = (x, y, z)``.

Multi-consensus (``multi_consensus=True``): ``W`` is the product of ``Q = ceil(chi ln 2)``
consecutive matrices ``I - 𝐖(k)`` of the sequence, and then ``chi = 2`` in the constants
(the code's reading of eq. 18 and eq. 20); with ``Q = 1`` nothing changes.

Gossip matrices (our choice where the code has none): ``𝐖(k) = (I - W_k) / l_max`` with
``W_k`` the sequence's mixing matrices (:class:`problems.mixing.MixingSequence`) and
``l_max = max_k lambda_max(I - W_k)``; ``chi = l_max / min_k lambda_2^+(I - W_k)``. With the code's
weights, ``mixing.sequence_weights(seq, "laplacian")`` (``W_k = I - L_k / lambda_max(L_k)``), this is
exactly the code's ``𝐖(k) = L_k / lambda_max(L_k)`` and its ``chi``. Every snapshot must be connected.

Cost per iteration and node: one gradient, ``Q`` gossip rounds of one ``2d`` message (the two
vectors ``(gamma/nu)(y_g + z_g) + m`` and ``y_g + z_g`` go through the same matrices);
``edge_activations`` counts the network's edges of each matrix used (the code's count).
Complexity (not readable; the project's reading list, PAPERS.md, recalls O(chi sqrt(kappa) log 1/eps)
communications and O(sqrt(kappa) log 1/eps) gradients): :func:`bounds.adom_plus`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from algos._core import make_algorithm
from algos.consensus.time_varying import check_sequence
from problems import mixing
from problems.convex import metrics as convex_metrics

__all__ = ["adom_plus", "ADOMPlusState", "ADOMPlusInfo", "adom_plus_constants", "SOURCE"]

SOURCE = "AdelNabli/DADAO@eed1ed1b21a66da393f55433c26f7920b465eabe"


class ADOMPlusState(NamedTuple):
    X: jax.Array  # (n, d) x
    Y: jax.Array  # (n, d) y
    Z: jax.Array  # (n, d) z
    M: jax.Array  # (n, d) m
    Xf: jax.Array  # (n, d) x_f
    Yf: jax.Array  # (n, d) y_f
    Zf: jax.Array  # (n, d) z_f


class ADOMPlusInfo(NamedTuple):
    cost: dict


def adom_plus_constants(L: float, mu: float, chi: float) -> dict:
    """The re-implementation's constants (``optimizers.py:ADOMplus_optimizer.initialize``) and c1..c5."""
    tau_1 = 1.0 / (math.sqrt(L / mu) + 0.5)
    tau_2 = math.sqrt(mu / L)
    sigma_2 = tau_2 / (16.0 * chi)
    sigma_1 = 1.0 / (1.0 / sigma_2 + 0.5)
    eta = 1.0 / (L * tau_2)
    alpha = nu = mu / 2.0
    beta, delta = 1.0 / (2.0 * L), 1.0 / (17.0 * L)
    gamma = nu / (14.0 * sigma_2 * chi**2)
    theta = nu / (4.0 * sigma_2)
    ea = 1.0 + eta * alpha
    return {
        "tau_1": tau_1, "tau_2": tau_2, "sigma_1": sigma_1, "sigma_2": sigma_2, "eta": eta, "alpha": alpha,
        "nu": nu, "beta": beta, "delta": delta, "gamma": gamma, "theta": theta, "zeta": 0.5,
        "c1": ea / ((1.0 + theta * beta) * ea + theta * eta),
        "c2": theta * beta + eta * theta / ea,
        "c3": theta * (beta * nu + eta * (nu + alpha) / ea),
        "c4": theta / ea,
        "c5": 1.0 / ea,
    }  # fmt: skip


def _build(params):
    p, c, G, x0 = params["problem"], params["c"], params["G"], params["x0"]
    counts = params["edge_counts"]
    Q = params["Q"]
    T = G.shape[0]
    n, d = x0.shape

    def init(key):
        km, ky = jax.random.split(key)
        m = jax.random.normal(km, x0.shape, x0.dtype)
        y = jax.random.normal(ky, x0.shape, x0.dtype)
        z = jnp.zeros_like(x0)
        return ADOMPlusState(X=x0, Y=y, Z=z, M=m, Xf=x0, Yf=y, Zf=z)

    def step(key, s, t):
        del key
        x_g = c["tau_1"] * s.X + (1.0 - c["tau_1"]) * s.Xf
        g = p.grad(x_g)
        y_g = c["sigma_1"] * s.Y + (1.0 - c["sigma_1"]) * s.Yf
        z_g = c["sigma_1"] * s.Z + (1.0 - c["sigma_1"]) * s.Zf
        y_new = c["c1"] * (s.Y + c["c2"] * g - c["c3"] * x_g - c["c4"] * s.X - (c["theta"] / c["nu"]) * (y_g + z_g))
        x_new = c["c5"] * (s.X + c["eta"] * c["alpha"] * x_g - c["eta"] * (g - c["nu"] * x_g - y_new))
        A = (c["gamma"] / c["nu"]) * (y_g + z_g) + s.M
        B = y_g + z_g
        # W = prod_q (I - G_{tQ+q}); as in the code's W_final = I (I - G_0)(I - G_1)..., the last factor acts first
        msg = jnp.concatenate([A, B], axis=1)

        def apply(j, V):
            k = (t * Q + (Q - 1 - j)) % T
            Gk = jax.lax.dynamic_index_in_dim(G, k, axis=0, keepdims=False)
            return V - Gk @ V

        WV = jax.lax.fori_loop(0, Q, apply, msg)
        WA, WB = WV[:, :d], WV[:, d:]
        z_new = s.Z + c["gamma"] * c["delta"] * (z_g - s.Z) - (A - WA)
        m_new = WA
        new = ADOMPlusState(
            X=x_new, Y=y_new, Z=z_new, M=m_new,
            Xf=x_g + c["tau_2"] * (x_new - s.X), Yf=y_g + c["sigma_2"] * (y_new - s.Y), Zf=z_g - c["zeta"] * (B - WB),
        )  # fmt: skip
        edges_used = jax.lax.fori_loop(0, Q, lambda j, acc: acc + counts[(t * Q + j) % T], jnp.zeros((), counts.dtype))
        cost = {
            "communications": 1.0 * Q,
            "floats_sent": 2.0 * d * Q,
            "gradient_calls": jnp.asarray(1.0),
            "edge_activations": edges_used.astype(x0.dtype),
        }
        return new, ADOMPlusInfo(cost=cost)

    return init, step


def adom_plus(problem, seq, *, multi_consensus: bool = False, x0=None):
    """ADOM+ on a sequence of mixing matrices (module docstring), optionally with multi-consensus.

    Args:
        problem: a :class:`problems.convex.Problem`.
        seq: a :class:`problems.mixing.MixingSequence` of connected snapshots (a static network is a
            sequence of length 1: ``mixing.sequence_weights(graph, "laplacian")``). Iteration ``t`` uses
            snapshot ``t mod T`` (``t Q + q`` with multi-consensus).
        multi_consensus: multiply ``Q = ceil(chi ln 2)`` consecutive matrices per iteration and use
            ``chi = 2`` in the constants (the code's eq. 18 / eq. 20).
        x0: (n, d) start; default ``problem.x0()``.

    Returns:
        An :class:`algos.Algorithm` (state ``ADOMPlusState``); ``hparams`` has ``chi``, ``Q`` and the constants.

    Raises:
        DisconnectedGraphError: a snapshot is disconnected (``chi`` infinite).
    """
    seq = check_sequence(problem, seq, "adom_plus")
    if not seq.connected.all():
        t = int(np.argmin(seq.connected))
        raise mixing.DisconnectedGraphError(
            f"algos.adom_plus: snapshot {t} of {seq.name!r} is disconnected, so chi = l_max / l_min is infinite and the "
            "constants are undefined; use a sequence of connected graphs"
        )
    l_max = float(seq.l_max.max())
    chi = l_max / float(seq.l_min.min())
    Q = int(math.ceil(chi * math.log(2.0) - 1e-12)) if multi_consensus else 1
    chi_used = 2.0 if Q > 1 else chi
    L, mu = float(problem.L), float(problem.mu)
    c = adom_plus_constants(L, mu, chi_used)
    n = seq.n
    G = (np.eye(n)[None] - np.asarray(seq.weights)) / l_max
    counts = np.array([int(np.count_nonzero(np.triu(np.abs(W - np.diag(np.diag(W))) > 0, 1))) for W in seq.weights])
    if x0 is None:
        x0 = problem.x0()
    x0 = jnp.asarray(x0, dtype=jnp.result_type(problem.x_star))
    if x0.shape != (problem.n_nodes, problem.dim):
        raise ValueError(f"algos.adom_plus: x0 must have shape (n_nodes, dim) = ({problem.n_nodes}, {problem.dim}), got {x0.shape}")
    params = {"problem": problem, "c": c, "G": jnp.asarray(G), "x0": x0, "edge_counts": jnp.asarray(counts), "Q": Q}
    hp = {"chi": chi, "chi_used": chi_used, "Q": Q, "l_max": l_max, "multi_consensus": float(bool(multi_consensus)), **c}
    name = "adom_plus_mc" if multi_consensus else "adom_plus"
    return make_algorithm(_build, params, convex_metrics, name, hparams=hp)

"""The D-SGD ≈ average-direction SAM identity (Zhu, He, Chen, Song, Tao, ICML 2023), as a numerical check.

Statement (the official poster as paraphrased in ../shared/papers/convex-timevarying-async-stochastic.md
§10; the poster itself was not re-read for this module): for a loss ``L`` with
continuous fourth-order partial derivatives and D-SGD iterates ``w_1..w_m`` with average ``w_a`` and
covariance ``Xi = (1/m) sum_j (w_j - w_a)(w_j - w_a)^T``, the averaged gradient of the workers is the
gradient of ``L`` smoothed by ``N(0, Xi)``,

    (1/m) sum_j grad L(w_j) = E_{eps ~ N(0, Xi)} grad L(w_a + eps) + O(E||eps||^3 + (1/m) sum_j ||w_j - w_a||^3).

Equivalent second-order form (DERIVED here, Taylor's theorem; not a statement of the paper): with
``delta_j = w_j - w_a`` (``sum_j delta_j = 0``) and ``T = D^3 L(w_a)``,
``grad L(w_a + delta) = grad L + H delta + (1/2) T[delta, delta] + O(||delta||^3)``, and averaging kills
the linear term, so ``(1/m) sum_j grad L(w_j) = grad L(w_a) + (1/2) T[Xi] + O(s^3)``, where
``T[Xi] = grad_w tr(H(w) Xi)|_{w_a}`` and ``s`` is the spread (the RMS distance of the ``w_j`` to
``w_a``). The Gaussian average has the same expansion up to ``O(s^4)`` (odd Gaussian moments vanish).
Hence, scaling the spread by ``s`` at fixed directions:

* the residual *with* the Hessian term, ``|| mean_j grad L(w_j) - grad L(w_a) - (1/2) grad tr(H Xi) ||``,
  is ``O(s^3)`` (log-log slope 3; exactly ``(1/6)||(1/m) sum_j D^4 L[delta_j^3]|| s^3`` at leading order);
* so is the residual against the Gaussian average ``E_eps grad L(w_a + eps)``;
* the residual *without* it, ``|| mean_j grad L(w_j) - grad L(w_a) ||``, is ``(1/2)||T[Xi]|| + O(s^3)``
  (slope 2) wherever ``T[Xi] != 0``;
* on a quadratic ``L`` every residual is exactly 0 (the gradient is affine).

Everything here is autodiff of the one scalar ``L``: ``tr(H(w) Xi) = (1/m) sum_j delta_j^T H(w) delta_j``
is a mean of forward-over-reverse second directional derivatives, and its gradient is reverse mode of
that — no Hessian or third-derivative formula is written by hand. The Gaussian average is exact
Gauss–Hermite quadrature on the rank-``r`` support of ``Xi`` (``r <= m - 1``; ``points`` nodes per
direction, exact for polynomials of degree ``< 2 points``).
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["SamResiduals", "sam_residuals", "hessian_term", "gaussian_smoothed_grad", "spread"]


class SamResiduals(NamedTuple):
    """The pieces of the identity at one set of points (all (d,) arrays except the scalars)."""

    mean_grad: jax.Array  # (1/m) sum_j grad L(w_j)
    grad_at_mean: jax.Array  # grad L(w_a)
    hessian_term: jax.Array  # (1/2) grad_w tr(H(w) Xi) at w_a
    gaussian_grad: jax.Array | None  # E_{eps ~ N(0, Xi)} grad L(w_a + eps), or None
    with_hessian: float  # ||mean_grad - grad_at_mean - hessian_term||
    without_hessian: float  # ||mean_grad - grad_at_mean||
    vs_gaussian: float | None  # ||mean_grad - gaussian_grad||
    spread: float  # sqrt(tr Xi)


def spread(points) -> float:
    """``sqrt(tr Xi) = sqrt((1/m) sum_j ||w_j - w_a||^2)``, the RMS consensus distance of ``points`` (m, d)."""
    P = np.asarray(points, dtype=np.float64)
    return float(np.sqrt(np.mean(np.sum((P - P.mean(0)) ** 2, axis=1))))


def _check(loss, points):
    if not callable(loss):
        raise TypeError(f"loss must be a function w (d,) -> scalar, got {type(loss).__name__}")
    P = jnp.asarray(points)
    if P.ndim != 2 or P.shape[0] < 2:
        raise ValueError(f"points must be node-stacked (m, d) with m >= 2 workers, got shape {tuple(P.shape)}")
    return P


def hessian_term(loss, points):
    """``(1/2) grad_w tr(H(w) Xi)`` at ``w_a`` for ``points`` (m, d), by autodiff of ``loss`` only."""
    P = _check(loss, points)
    w_a = jnp.mean(P, axis=0)
    D = P - w_a
    g = jax.grad(loss)

    def trace_H_Xi(w):
        second = jax.vmap(lambda v: v @ jax.jvp(g, (w,), (v,))[1])(D)  # delta_j^T H(w) delta_j
        return jnp.mean(second)

    return 0.5 * jax.grad(trace_H_Xi)(w_a)


def gaussian_smoothed_grad(loss, points, *, points_per_dim: int = 6, max_rank: int = 4):
    """``E_{eps ~ N(0, Xi)} grad L(w_a + eps)`` by Gauss–Hermite quadrature on the support of ``Xi``.

    Raises:
        ValueError: when ``Xi`` has rank above ``max_rank`` (the tensor grid has ``points_per_dim^rank``
            nodes); pass fewer workers or a larger ``max_rank``.
    """
    P = _check(loss, points)
    Pn = np.asarray(P, dtype=np.float64)
    w_a = Pn.mean(0)
    D = Pn - w_a
    m = D.shape[0]
    # Xi = (1/m) D^T D = U diag(s) U^T with U from the SVD of D / sqrt(m)
    _, sv, Vt = np.linalg.svd(D / np.sqrt(m), full_matrices=False)
    keep = sv > 1e-9 * max(sv.max(initial=0.0), 1e-300)  # round-off of P - mean(P) is ~1e-16 |w_a|
    sv, Vt = sv[keep], Vt[keep]
    r = sv.shape[0]
    if r > max_rank:
        raise ValueError(f"gaussian_smoothed_grad: Xi has rank {r} > max_rank={max_rank}; the quadrature grid would have "
                         f"{points_per_dim}^{r} nodes. Use at most {max_rank + 1} workers or raise max_rank")  # fmt: skip
    g = jax.grad(loss)
    if r == 0:
        return g(jnp.asarray(w_a))
    z, wq = np.polynomial.hermite_e.hermegauss(int(points_per_dim))  # weight exp(-z^2/2)
    wq = wq / wq.sum()
    nodes = np.array(list(itertools.product(z, repeat=r)))  # (k^r, r)
    weights = np.prod(np.array(list(itertools.product(wq, repeat=r))), axis=1)
    eps = (nodes * sv) @ Vt  # (k^r, d): eps = U diag(sqrt(s)) z, sqrt(s) = sv
    G = jax.vmap(g)(jnp.asarray(w_a + eps))
    return jnp.asarray(weights) @ G


def sam_residuals(loss, points, *, gaussian: bool = True, points_per_dim: int = 6) -> SamResiduals:
    """Evaluate both sides of the identity at ``points`` (m, d) for the scalar ``loss`` (module docstring).

    Args:
        loss: ``w (d,) -> scalar`` (e.g. ``jax.jit(problem.objective)``; a jitted loss makes repeated calls
            fast), differentiable four times.
        points: (m, d) the workers' iterates ``w_j`` (m >= 2).
        gaussian: also compute the Gaussian-smoothed gradient (needs ``rank Xi <= 4``).
        points_per_dim: Gauss–Hermite nodes per direction.
    """
    P = _check(loss, points)
    g = jax.grad(loss)
    mean_grad = jnp.mean(jax.vmap(g)(P), axis=0)
    w_a = jnp.mean(P, axis=0)
    g_a = g(w_a)
    h = hessian_term(loss, P)
    gg = gaussian_smoothed_grad(loss, P, points_per_dim=points_per_dim) if gaussian else None
    return SamResiduals(
        mean_grad=mean_grad, grad_at_mean=g_a, hessian_term=h, gaussian_grad=gg,
        with_hessian=float(jnp.linalg.norm(mean_grad - g_a - h)),
        without_hessian=float(jnp.linalg.norm(mean_grad - g_a)),
        vs_gaussian=None if gg is None else float(jnp.linalg.norm(mean_grad - gg)),
        spread=spread(P),
    )  # fmt: skip

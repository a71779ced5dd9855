"""The reference solver of the logistic instance: damped Newton in float64, to round-off.

:func:`problems.convex.logistic` calls it once per instance to get ``x*`` (the Newton iterates
are not JAX: the optimum is data of the problem, computed before any run).
"""

from __future__ import annotations

import numpy as np


def _sigmoid(t):
    return 0.5 * (1.0 + np.tanh(0.5 * t))


def _logistic_newton(M, y, reg, rtol=1e-12, max_iter=100):
    """Minimize ``mean_j log(1 + exp(-y_j m_j^T x)) + reg/2 ||x||^2`` over all samples (float64).

    Damped Newton (Armijo backtracking). Stops when ``||grad|| <= rtol * scale`` with
    ``scale = (1/N) sum_j ||m_j||``, the size of a single-sample gradient of the data term (it
    bounds ``2 ||grad(0)||`` and ``reg ||x*||``, the two terms that cancel at ``x*``, so float64
    rounding leaves ``||grad||`` near ``1e-16 * scale`` and the test is scale-free).
    Returns ``(x, ||grad(x)||, scale)``; raises ``RuntimeError`` if not reached.
    """
    N, d = M.shape

    def fval(x):
        return float(np.mean(np.logaddexp(0.0, -y * (M @ x))) + 0.5 * reg * x @ x)

    def grad_hess(x):
        z = y * (M @ x)
        s = _sigmoid(-z)  # = -d/dz log(1+e^{-z})
        g = -(M.T @ (y * s)) / N + reg * x
        w = s * (1.0 - s)
        Hm = (M.T * w) @ M / N + reg * np.eye(d)
        return g, Hm

    x = np.zeros(d)
    g, Hm = grad_hess(x)
    scale = float(np.mean(np.linalg.norm(M, axis=1)))
    gn = float(np.linalg.norm(g))
    if scale == 0.0:
        return x, gn, scale
    for _ in range(max_iter):
        if gn <= rtol * scale:
            return x, gn, scale
        p = -np.linalg.solve(Hm, g)
        f0, slope, t = fval(x), float(g @ p), 1.0
        while True:
            # Accept on sufficient decrease of f, or (near x*, where differences of f drown in
            # rounding) on halving the gradient norm; Newton's full steps pass the latter there.
            g_new, H_new = grad_hess(x + t * p)
            gn_new = float(np.linalg.norm(g_new))
            if fval(x + t * p) <= f0 + 1e-4 * t * slope or gn_new <= 0.5 * gn:
                break
            t *= 0.5
            if t < 1e-12:
                break
        x, g, Hm, gn = x + t * p, g_new, H_new, gn_new
    if gn <= rtol * scale:
        return x, gn, scale
    raise RuntimeError(
        f"logistic: Newton did not reach ||grad f|| <= {rtol:g} * scale in {max_iter} iterations "
        f"(||grad f|| = {gn:.3g}, scale = mean_j ||m_j|| = {scale:.3g}); try a larger reg"
    )

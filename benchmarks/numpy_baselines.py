"""Vectorized NumPy versions of DGD, EXTRA, NIDS and gradient tracking (DIGing).

The baseline a careful researcher would write by hand: node-stacked arrays,
one ``W @ X`` per gossip round, batched gradients, no Python loop over nodes,
and the same metrics as ratebench recorded at the same cadence
(``dist_to_opt``, ``consensus_error``, ``suboptimality``). The updates are
exactly ratebench's (``algos/convex/*.py``), so final iterates agree to
rounding (``run.py`` checks it).

Gradients for the two problem kinds used in the benchmarks, read from the
arrays of a :class:`problems.convex.Problem`:

* quadratic-type (``data["A"]``, ``data["b"]``): ``grad f_i(x) = A_i x - b_i``
  (one batched matrix-vector product, ``np.matmul``);
* logistic: ``grad f_i(x) = -(1/m) M_i^T (y_i * sigmoid(-y_i * M_i x)) + reg x``.
"""

from __future__ import annotations

import numpy as np


def _sigmoid(t):
    return 0.5 * (1.0 + np.tanh(0.5 * t))  # overflow-free


class NumpyProblem:
    """The arrays of a ratebench problem as NumPy, with gradient, value and metrics."""

    def __init__(self, problem):
        d = problem.data
        self.kind = "logistic" if problem.name == "logistic" else "quadratic"
        if self.kind == "logistic":
            self.M, self.y = np.asarray(d["M"]), np.asarray(d["y"])
            self.reg = float(np.asarray(d["reg"])[0])
        else:
            self.A, self.b = np.asarray(d["A"]), np.asarray(d["b"])
        self.x_star = np.asarray(problem.x_star)
        self.f_star = float(problem.f_star)

    def grad(self, X):
        if self.kind == "logistic":
            z = self.y * np.matmul(self.M, X[:, :, None])[:, :, 0]  # (n, m)
            s = _sigmoid(-z) * self.y
            m = self.M.shape[1]
            return -np.matmul(self.M.transpose(0, 2, 1), s[:, :, None])[:, :, 0] / m + self.reg * X
        return np.matmul(self.A, X[:, :, None])[:, :, 0] - self.b

    def objective(self, x):
        if self.kind == "logistic":
            z = self.y * (self.M @ x)
            return float(np.mean(np.logaddexp(0.0, -z)) + 0.5 * self.reg * x @ x)
        return float(np.mean(0.5 * np.einsum("i,nij,j->n", x, self.A, x) - self.b @ x))

    def metrics(self, X):
        x_bar = X.mean(axis=0)
        return (
            float(np.mean(np.linalg.norm(X - self.x_star, axis=1))),
            float(np.sqrt(np.mean(np.sum((X - x_bar) ** 2, axis=1)))),
            self.objective(x_bar) - self.f_star,
        )


def run(algo: str, P: NumpyProblem, W: np.ndarray, alpha: float, num_steps: int, record_every: int = 1, X0=None):
    """Run one method for ``num_steps`` steps; returns ``(X, metrics (num_steps // record_every, 3))``."""
    n = W.shape[0]
    X = np.zeros((n, P.x_star.shape[0])) if X0 is None else np.array(X0, dtype=float)
    rec = np.empty((num_steps // record_every, 3))
    if algo == "dgd":
        for t in range(num_steps):
            X = W @ X - alpha * P.grad(X)
            if (t + 1) % record_every == 0:
                rec[t // record_every] = P.metrics(X)
    elif algo == "extra":
        W_tilde = 0.5 * (np.eye(n) + W)
        G_prev = P.grad(X)
        X_prev = X
        X = W @ X - alpha * G_prev
        if record_every == 1:
            rec[0] = P.metrics(X)
        for t in range(1, num_steps):
            G = P.grad(X)
            X, X_prev, G_prev = X + W @ X - W_tilde @ X_prev - alpha * (G - G_prev), X, G
            if (t + 1) % record_every == 0:
                rec[t // record_every] = P.metrics(X)
    elif algo == "nids":
        W_bar = 0.5 * (np.eye(n) + W)
        G_prev = P.grad(X)
        X_prev = X
        X = X - alpha * G_prev
        if record_every == 1:
            rec[0] = P.metrics(X)
        for t in range(1, num_steps):
            G = P.grad(X)
            X, X_prev, G_prev = W_bar @ (2.0 * X - X_prev - alpha * (G - G_prev)), X, G
            if (t + 1) % record_every == 0:
                rec[t // record_every] = P.metrics(X)
    elif algo == "gradient_tracking":
        G = P.grad(X)
        Y = G
        for t in range(num_steps):
            X = W @ X - alpha * Y
            G_new = P.grad(X)
            Y = W @ Y + G_new - G
            G = G_new
            if (t + 1) % record_every == 0:
                rec[t // record_every] = P.metrics(X)
    else:
        raise ValueError(f"no NumPy baseline for {algo!r}")
    return X, rec

"""Vectorized NumPy versions of ratebench's twelve classical methods, for the ``numpy`` benchmark.

The baseline a careful researcher would write by hand: node-stacked ``(n, d)`` arrays, one
``W @ X`` per gossip round, batched gradients (one ``np.matmul`` over the node axis), no Python
loop over nodes. Each update is a transliteration of ratebench's (``algos/convex/*.py``,
``algos/consensus/*.py``): the same operations in the same order, from the same hyperparameters
(read from the ratebench algorithm's ``hparams`` and ``params["x0"]``, see :func:`inputs`), so the
iterates agree to rounding; ``tests/test_numpy_baselines.py`` checks the final iterate and every
recorded metric against ratebench's trace.

Methods (:data:`METHODS`):

* convex (decentralized optimization): ``dgd``, ``dsgd``, ``extra``, ``nids``,
  ``exact_diffusion``, ``gradient_tracking``, ``msda``, ``apapc``, ``opapc``;
* consensus (gossip averaging, run on :func:`problems.convex.averaging`): ``gossip``,
  ``chebyshev_gossip``, ``heavy_ball_gossip``.

Metrics, recorded like ratebench's trace (at step 0 and after every ``record_every`` steps):

* convex: ``dist_to_opt`` = ``(1/n) sum_i ||x_i - x*||``, ``consensus_error`` =
  ``sqrt((1/n) sum_i ||x_i - x_bar||^2)``, ``suboptimality`` = ``f(x_bar) - f*`` (on quadratic-type
  problems ``1/2 (x_bar - x*)^T A_bar (x_bar - x*)``, as :meth:`problems.convex.Problem.suboptimality`);
  DGD also records its ``increment_norm`` ``||X^{k+1} - X^k||_F`` (a diagnostic field of its
  ``Info``; 0 at step 0, as the engine's zero ``Info``);
* consensus: ``consensus_error`` and ``dist_to_opt`` (no suboptimality: ``problems.convex.consensus_metrics``).

Gradients, read from the arrays of a :class:`problems.convex.Problem`:

* quadratic-type (``data["A"]``, ``data["b"]``; quadratic, least squares, averaging):
  ``grad f_i(x) = A_i x - b_i`` and the conjugate gradient ``grad f_i^*(theta) = A_i^{-1} (theta + b_i)``;
* logistic: ``grad f_i(x) = -(1/m) M_i^T (y_i * sigmoid(-y_i * M_i x)) + reg x`` (no conjugate: MSDA
  does not apply, as in ratebench, which raises ``NotImplementedError``).

D-SGD draws its gradient noise from NumPy's generator, of the problem's kind: Gaussian
(``sigma/sqrt(d)`` times a standard normal ``(n, d)`` array, the variance of ``Problem.stoch_grad``)
or, on the logistic problem (whose default noise is ``"minibatch"``, ``batch_size = 1``), uniform
sample indices with replacement. Its iterates therefore follow other random draws than ratebench's
JAX keys (same distribution, same amount of work), except with Gaussian noise and ``sigma = 0``:
then the noise term is ``0 * xi`` in both and the iterates agree to rounding (the test runs that
case, and checks the minibatch gradient on ratebench's own indices).
"""

from __future__ import annotations

import numpy as np

CONVEX = ("dgd", "dsgd", "extra", "nids", "exact_diffusion", "gradient_tracking", "msda", "apapc", "opapc")
CONSENSUS = ("gossip", "chebyshev_gossip", "heavy_ball_gossip")
METHODS = CONVEX + CONSENSUS
#: Methods that need the conjugate-gradient oracle (quadratic-type problems only).
NEEDS_CONJUGATE = ("msda",)


def _sigmoid(t):
    return 0.5 * (1.0 + np.tanh(0.5 * t))  # overflow-free


class NumpyProblem:
    """The arrays of a ratebench problem as NumPy, with gradients, conjugate gradients and metrics."""

    def __init__(self, problem):
        d = problem.data
        self.name = problem.name
        self.kind = "logistic" if problem.name == "logistic" else "quadratic"
        if self.kind == "logistic":
            self.M, self.y = np.asarray(d["M"]), np.asarray(d["y"])
            self.reg = float(np.asarray(d["reg"])[0])
            self.A_inv = None
        else:
            self.A, self.b = np.asarray(d["A"]), np.asarray(d["b"])
            self.A_inv = np.asarray(d["A_inv"]) if "A_inv" in d else None
        summary = problem.summary if isinstance(problem.summary, dict) else {}
        self.A_bar = np.asarray(summary["A_bar"]) if "A_bar" in summary else None
        self.x_star = np.asarray(problem.x_star)
        self.f_star = float(problem.f_star)
        self.mu = float(problem.mu)
        self.sigma = float(problem.sigma)
        self.noise, self.batch_size = problem.noise, problem.batch_size

    # --- oracles (node-stacked) ---------------------------------------------------------
    def grad(self, X):
        if self.kind == "logistic":
            z = self.y * np.matmul(self.M, X[:, :, None])[:, :, 0]  # (n, m)
            s = _sigmoid(-z) * self.y
            m = self.M.shape[1]
            return -np.matmul(self.M.transpose(0, 2, 1), s[:, :, None])[:, :, 0] / m + self.reg * X
        return np.matmul(self.A, X[:, :, None])[:, :, 0] - self.b

    def stoch_grad(self, rng, X):
        """Unbiased stochastic gradients of the problem's noise kind, as ``Problem.stoch_grad``.

        Gaussian: ``grad F(X) + (sigma / sqrt(d)) xi``, ``xi`` standard normal (n, d). Minibatch
        (logistic only): node ``i`` averages the gradients of ``batch_size`` of its own samples,
        drawn uniformly with replacement (:meth:`minibatch_grad`).
        """
        if self.noise == "gaussian":
            G = self.grad(X)
            return G + (self.sigma / np.sqrt(G.shape[-1])) * rng.standard_normal(G.shape)
        if self.noise == "minibatch" and self.kind == "logistic":
            return self.minibatch_grad(X, rng.integers(0, self.M.shape[1], size=(X.shape[0], self.batch_size)))
        raise NotImplementedError(f"no NumPy stochastic gradient for {self.noise!r} noise on {self.name!r}")

    def minibatch_grad(self, X, idx):
        """Logistic: ``(1/B) sum_b grad l(x_i; M_i[idx_ib], y_i[idx_ib]) + reg x_i`` for indices ``idx`` (n, B)."""
        rows = np.arange(X.shape[0])[:, None]
        Ms, ys = self.M[rows, idx], self.y[rows, idx]  # (n, B, d), (n, B)
        s = _sigmoid(-ys * np.matmul(Ms, X[:, :, None])[:, :, 0]) * ys
        return -np.matmul(Ms.transpose(0, 2, 1), s[:, :, None])[:, :, 0] / idx.shape[1] + self.reg * X

    def conj_grad(self, Z):
        if self.A_inv is None:
            raise NotImplementedError(f"problem {self.name!r} has no closed-form conjugate gradient (MSDA needs one)")
        return np.matmul(self.A_inv, (Z + self.b)[:, :, None])[:, :, 0]

    # --- metrics ------------------------------------------------------------------------
    def objective(self, x):
        if self.kind == "logistic":
            z = self.y * (self.M @ x)
            return float(np.mean(np.logaddexp(0.0, -z)) + 0.5 * self.reg * x @ x)
        return float(np.mean(0.5 * np.einsum("i,nij,j->n", x, self.A, x) - self.b @ x))

    def suboptimality(self, x):
        if self.A_bar is not None:
            e = x - self.x_star
            return float(0.5 * e @ (self.A_bar @ e))
        return self.objective(x) - self.f_star

    def distances(self, X):
        """``(dist_to_opt, consensus_error, x_bar)``."""
        x_bar = X.mean(axis=0)
        D, E = X - self.x_star, X - x_bar
        return float(np.mean(np.sqrt(np.sum(D * D, axis=1)))), float(np.sqrt(np.mean(np.sum(E * E, axis=1)))), x_bar


def metric_names(name: str) -> tuple[str, ...]:
    """The fields ratebench's trace records for method ``name`` (besides the costs)."""
    if name in CONSENSUS:
        return ("consensus_error", "dist_to_opt")
    if name == "dgd":
        return ("dist_to_opt", "consensus_error", "suboptimality", "increment_norm")
    if name in CONVEX:
        return ("dist_to_opt", "consensus_error", "suboptimality")
    raise ValueError(f"no NumPy baseline for {name!r}; choose from {', '.join(METHODS)}")


def inputs(algo) -> tuple[dict, np.ndarray | None]:
    """``(hparams, X0)`` of a ratebench algorithm: the numbers a baseline needs, nothing else."""
    x0 = algo.params.get("x0") if isinstance(algo.params, dict) else None
    return dict(algo.hparams), (None if x0 is None else np.asarray(x0))


def _chebyshev_constants(l_min: float, l_max: float) -> tuple[float, float]:
    """``(c3, 1/c2)`` of the Chebyshev polynomial on ``[l_min, l_max]``: ``gamma = l_min / l_max``,
    ``1/c2 = (1 - gamma)/(1 + gamma)``, ``c3 = 2 / ((1 + gamma) l_max)`` (module docstring of
    ``algos/consensus/chebyshev_gossip.py``)."""
    gamma = l_min / l_max
    return 2.0 / ((1.0 + gamma) * l_max), (1.0 - gamma) / (1.0 + gamma)


def _next_omega(t: int, omega: float, inv_c2: float) -> float:
    s2 = inv_c2 * inv_c2
    if t == 0:
        return 1.0
    if t == 1:
        return 1.0 / (1.0 - 0.5 * s2)
    return 1.0 / (1.0 - 0.25 * omega * s2)


def chebyshev_filter(W, X, K: int, c3: float, inv_c2: float):
    """``T_K(c2 (I - c3 (I - W))) X / T_K(c2)``: K gossip rounds of the three-term recurrence."""
    prev, cur = X, (1.0 - c3) * X + c3 * (W @ X)
    omega = 1.0
    for t in range(1, K):
        omega = _next_omega(t, omega, inv_c2)
        prev, cur = cur, omega * ((1.0 - c3) * cur + c3 * (W @ cur)) + (1.0 - omega) * prev
    return cur


def _method(name: str, P: NumpyProblem, W, hp: dict, X0, rng):
    """``(state0, step)``: ``state[0]`` is the reported iterate ``X``; ``step(state, t) -> (state, diag)``."""
    n, d = W.shape[0], P.x_star.shape[0]
    if X0 is None:
        X0 = np.zeros((n, d))
    X0 = np.array(X0, dtype=float)
    alpha = hp.get("step_size")
    none = {}

    if name == "dgd":

        def step(s, t):
            X = s[0]
            X_new = W @ X - alpha * P.grad(X)
            return (X_new,), {"increment_norm": float(np.linalg.norm(X_new - X))}

        return (X0,), step
    if name == "dsgd":

        def step(s, t):
            X = s[0]
            return (W @ (X - alpha * P.stoch_grad(rng, X)),), none

        return (X0,), step
    if name == "extra":  # state (X, U), U += (W~ - W) X with W~ - W = (I - W)/2

        def step(s, t):
            X, U = s
            WX = W @ X
            return (WX - alpha * P.grad(X) - U, U + 0.5 * (X - WX)), none

        return (X0, np.zeros_like(X0)), step
    if name == "nids":  # state (X, X_prev, G_prev); the first step is X - alpha G

        def step(s, t):
            X, X_prev, G_prev = s
            G = P.grad(X)
            if t == 0:
                return (X - alpha * G, X, G), none
            Y = 2.0 * X - X_prev - alpha * G + alpha * G_prev
            return (0.5 * (Y + W @ Y), X, G), none

        return (X0, X0, P.grad(X0)), step
    if name == "exact_diffusion":  # state (X, psi_prev), psi_{-1} = X0

        def step(s, t):
            X, psi_prev = s
            psi = X - alpha * P.grad(X)
            phi = psi + X - psi_prev
            return (0.5 * (phi + W @ phi), psi), none

        return (X0, X0), step
    if name == "gradient_tracking":  # state (X, Y, G)

        def step(s, t):
            X, Y, G = s
            X_new = W @ X - alpha * Y
            G_new = P.grad(X_new)
            return (X_new, W @ Y + G_new - G, G_new), none

        G0 = P.grad(X0)
        return (X0, G0, G0), step
    if name == "msda":  # state (X = grad F^*(Z), Z, Y), Z_0 = Y_0 = 0
        K, eta, m = int(hp["K"]), hp["step_size"], hp["momentum"]
        c3, inv_c2 = _chebyshev_constants(hp["l_min"], hp["l_max"])

        def step(s, t):
            X, Z, Y = s
            Y_new = Z - eta * (X - chebyshev_filter(W, X, K, c3, inv_c2))
            Z_new = (1.0 + m) * Y_new - m * Y
            return (P.conj_grad(Z_new), Z_new, Y_new), none

        Z0 = np.zeros((n, d))
        return (P.conj_grad(Z0), Z0, Z0), step
    if name in ("apapc", "opapc"):  # state (X, Xf, Y), Xf_0 = X_0, Y_0 = 0
        tau, eta, theta, a = hp["tau"], hp["step_size"], hp["theta"], P.mu
        if name == "apapc":

            def op(V):  # (I - W) V
                return V - W @ V

        else:
            T = int(hp["T"])
            c3, inv_c2 = _chebyshev_constants(hp["l_min"], hp["l_max"])

            def op(V):  # P_T(I - W) V
                return V - chebyshev_filter(W, V, T, c3, inv_c2)

        scale = 1.0 / (1.0 + eta * a)
        ratio = 2.0 * tau / (2.0 - tau)

        def step(s, t):
            X, Xf, Y = s
            Xg = tau * X + (1.0 - tau) * Xf
            D = P.grad(Xg) - a * Xg
            X_half = scale * (X - eta * (D + Y))
            Y_new = Y + theta * op(X_half)
            X_new = scale * (X - eta * (D + Y_new))
            return (X_new, Xg + ratio * (X_new - X), Y_new), none

        return (X0, X0, np.zeros_like(X0)), step
    if name == "gossip":

        def step(s, t):
            return (W @ s[0],), none

        return (X0,), step
    if name == "chebyshev_gossip":  # state (X, X_prev, omega)
        c3, inv_c2 = hp["c3"], hp["inv_c2"]

        def step(s, t):
            X, X_prev, omega = s
            om = _next_omega(t, omega, inv_c2)
            return (om * ((1.0 - c3) * X + c3 * (W @ X)) + (1.0 - om) * X_prev, X, om), none

        return (X0, X0, 1.0), step
    if name == "heavy_ball_gossip":  # state (X, X_prev), X_{-1} = X0
        h, b = hp["step_size"], hp["momentum"]

        def step(s, t):
            X, X_prev = s
            return (X - h * (X - W @ X) + b * (X - X_prev), X), none

        return (X0, X0), step
    raise ValueError(f"no NumPy baseline for {name!r}; choose from {', '.join(METHODS)}")


def run(name: str, P: NumpyProblem, W, hparams: dict, num_steps: int, record_every: int = 1, X0=None, seed: int = 0):
    """Run method ``name`` for ``num_steps`` steps, recording its metrics like ratebench's trace.

    Args:
        name: one of :data:`METHODS`.
        P: the problem's arrays (:class:`NumpyProblem`).
        W: (n, n) dense mixing matrix (NumPy).
        hparams: the ratebench algorithm's ``hparams`` (``step_size``, ``momentum``, ``K``, ``T``,
            ``tau``, ``theta``, ``l_min``, ``l_max``, ``c3``, ``inv_c2``: whichever the method uses).
        num_steps: a multiple of ``record_every``.
        record_every: record after every ``record_every`` steps (and at step 0).
        X0: (n, d) start (ratebench's ``params["x0"]``); default zeros. MSDA ignores it (it starts
            from the dual point 0, as ratebench's).
        seed: seed of D-SGD's NumPy noise generator.

    Returns:
        ``(X, metrics)``: the final iterate (n, d) and a dict of arrays of
        ``num_steps // record_every + 1`` entries, one per name of :func:`metric_names`.
    """
    if num_steps % record_every:
        raise ValueError(f"num_steps={num_steps} must be a multiple of record_every={record_every}")
    W = np.asarray(W, dtype=float)
    names = metric_names(name)
    state, step = _method(name, P, W, hparams, X0, np.random.default_rng(seed))
    rec = {k: np.empty(num_steps // record_every + 1) for k in names}
    convex = name in CONVEX

    def record(i, X, diag):
        dist, cons, x_bar = P.distances(X)
        rec["dist_to_opt"][i] = dist
        rec["consensus_error"][i] = cons
        if convex:
            rec["suboptimality"][i] = P.suboptimality(x_bar)
        for k, v in diag.items():
            rec[k][i] = v

    record(0, state[0], {k: 0.0 for k in names if k == "increment_norm"})
    for t in range(num_steps):
        state, diag = step(state, t)
        if (t + 1) % record_every == 0:
            record((t + 1) // record_every, state[0], diag)
    return state[0], rec

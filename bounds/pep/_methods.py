"""The methods' first ``K`` steps, written once on symbolic vectors (coefficient arrays of a PEP space).

Each ``run_<method>(space, X0, alpha, K)`` returns ``[X^0, ..., X^K]`` (coefficients of ``x_i^k - x*``)
and uses only linear combinations, ``space.mix`` (one gossip product ``W X``) and ``space.grad``
(one local gradient per agent). They are the update rules of ``algos/convex/*.py`` and
``algos/consensus/gossip.py`` line by line (same first steps, same state); tests/bounds/test_pep.py
checks that substituting a run's actual vectors into the coefficients reproduces the engine's
iterates to round-off.
"""

from __future__ import annotations

__all__ = ["RUNS", "basis_size"]


def run_dgd(s, X0, alpha, K):
    """``X+ = W X - alpha grad F(X)`` (algos/convex/dgd.py)."""
    X = [X0]
    for _ in range(K):
        X.append(s.mix(X[-1]) - alpha * s.grad(X[-1]))
    return X


def run_extra(s, X0, alpha, K):
    """Summed form of algos/convex/extra.py: ``X+ = W X - alpha grad F(X) - U``, ``U+ = U + (X - W X)/2``, ``U^0 = 0``."""
    X, U = [X0], 0.0 * X0
    for _ in range(K):
        x = X[-1]
        WX = s.mix(x)
        X.append(WX - alpha * s.grad(x) - U)
        U = U + 0.5 * (x - WX)
    return X


def run_nids(s, X0, alpha, K):
    """algos/convex/nids.py: ``X^1 = X^0 - alpha G^0``; ``X+ = W_bar (2X - X_prev - alpha G + alpha G_prev)``."""
    X = [X0]
    G_prev = None
    for k in range(K):
        x = X[-1]
        G = s.grad(x)
        if k == 0:
            X.append(x - alpha * G)
        else:
            Y = 2.0 * x - X[-2] - alpha * G + alpha * G_prev
            X.append(0.5 * (Y + s.mix(Y)))
        G_prev = G
    return X


def run_exact_diffusion(s, X0, alpha, K):
    """algos/convex/exact_diffusion.py: ``psi = X - alpha G``, ``phi = psi + X - psi_prev`` (``psi_prev^0 = X^0``), ``X+ = W_bar phi``."""
    X, psi_prev = [X0], X0
    for _ in range(K):
        x = X[-1]
        psi = x - alpha * s.grad(x)
        phi = psi + x - psi_prev
        X.append(0.5 * (phi + s.mix(phi)))
        psi_prev = psi
    return X


def run_gradient_tracking(s, X0, alpha, K):
    """algos/convex/gradient_tracking.py (DIGing): ``X+ = W X - alpha Y``, ``Y+ = W Y + G+ - G``, ``Y^0 = G^0``.

    The tracker of the last step is not formed: ``X^K`` does not depend on it (and the gradient at
    ``X^K`` it would need adds nothing to the worst case of a measure of ``X^K``).
    """
    if K == 0:
        return [X0]
    G = s.grad(X0)
    X, Y = [X0], G
    for k in range(K):
        X.append(s.mix(X[-1]) - alpha * Y)
        if k + 1 < K:
            G_new = s.grad(X[-1])
            Y = s.mix(Y) + G_new - G
            G = G_new
    return X


def run_gossip(s, X0, alpha, K):
    """``X+ = W X`` (algos/consensus/gossip.py); ``alpha`` unused."""
    del alpha
    X = [X0]
    for _ in range(K):
        X.append(s.mix(X[-1]))
    return X


RUNS = {
    "dgd": run_dgd,
    "extra": run_extra,
    "nids": run_nids,
    "exact_diffusion": run_exact_diffusion,
    "gradient_tracking": run_gradient_tracking,
    "gossip": run_gossip,
}


def basis_size(method: str, n_agents: int, K: int, symmetric: bool) -> int:
    """An upper bound on the number of basis vectors of a ``K``-step program (for allocation)."""
    per = 1 if symmetric else n_agents
    grads = K + 1
    mixes = 2 * K + 1 if symmetric else 0
    return per * (1 + grads + 1) + mixes + 2

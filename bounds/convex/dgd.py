"""DGD: an explicit contraction of its increments (ratebench, math-verified), and the order of its bias.

:func:`dgd` (``kind="explicit"``, derived and verified by ratebench, not a paper's constant).
For ``X_{k+1} = W X_k - alpha grad F(X_k)`` with ``W`` symmetric (``W 1 = 1``, eigenvalues
``lambda_n <= ... <= lambda_1 = 1``) and every ``f_i`` twice differentiable with
``mu I <= Hessian <= L I``:

    ||X_{k+1} - X_k||_F <= q ||X_k - X_{k-1}||_F,   q = max(|1 - alpha mu|, |lambda_n(W) - alpha L|).

Derivation. Write ``D_k = X_k - X_{k-1}``. Then
``D_{k+1} = W D_k - alpha (grad F(X_k) - grad F(X_{k-1})) = (W (x) I_d - alpha Hbar_k) vec(D_k)`` with
``Hbar_k = int_0^1 Hess F(X_{k-1} + t D_k) dt``, the Hessian integrated along the segment
(fundamental theorem of calculus). ``Hbar_k`` is block diagonal (node ``i``'s block is the
integral of ``f_i``'s Hessians), each block symmetric with spectrum in ``[mu, L]``; on a quadratic
it is the Hessian itself. ``M = W (x) I_d - alpha Hbar_k`` is symmetric, so
``||M||_2 = max |eig(M)|``, and Weyl's inequality gives
``lambda_max(M) <= lambda_max(W) + lambda_max(-alpha Hbar) = 1 - alpha mu`` and
``lambda_min(M) >= lambda_min(W) - alpha lambda_max(Hbar) >= lambda_n - alpha L``. Hence
``||D_{k+1}||_F <= ||M||_2 ||D_k||_F <= q ||D_k||_F``, and by induction
``||D_k||_F <= q^{k-1} ||D_1||_F`` for ``k >= 1``: the envelope, stated from step 1 (``ref`` =
the run's ``increment_norm`` at step 1), shift-invariant (it holds from any step on). The bound
holds for every ``alpha > 0``. It is a contraction (``q < 1``) iff ``0 < alpha < (1 + lambda_n)/L``:
``|1 - alpha mu| < 1`` iff ``alpha < 2/mu``, ``|lambda_n - alpha L| < 1`` iff
``alpha < (1 + lambda_n)/L`` (for ``alpha > 0``), and ``(1 + lambda_n)/L <= 2/L <= 2/mu`` — DGD's
step condition. Tight on quadratics whose Hessians are ``mu I`` or ``L I`` along
the extreme eigenvectors of ``W``. Verified numerically in tests/bounds/test_convex_bounds.py
(random instances incl. logistic problems and negative-eigenvalue weights, every step) and
docs/VERIFICATION.md §4. Metric: ``increment_norm`` (recorded by the engine for DGD).

:func:`dgd_bias` (``kind="order"``): Yuan, Ling, Yin, "On the convergence of decentralized
gradient descent", SIAM J. Optim. 26(3), 2016 (arXiv:1310.7063; abstract verified, step
condition recalled with medium-high confidence — docs/VERIFICATION.md §4): with
``alpha < (1 + lambda_n(W))/L`` DGD converges linearly to an ``O(alpha/(1 - beta))``
neighbourhood of ``x*`` (``beta = slem(W)``). The constant of the neighbourhood was NOT FOUND.
"""

from __future__ import annotations

import math

import numpy as np

from algos.convex.dgd import dgd as _dgd_algo
from bounds._args import as_algorithm, dense_W, hp, spectrum_of
from bounds._check import Bound, signature

__all__ = ["dgd", "dgd_bias"]

_SOURCE = (
    "Yuan, Ling, Yin, 'On the convergence of decentralized gradient descent', SIAM J. Optim. 26(3) 2016 "
    "(arXiv:1310.7063); abstract verified, step condition recalled (docs/VERIFICATION.md §4); constants not found"
)
_SOURCE_INC = (
    "ratebench derivation (math-verified; bounds/convex/dgd.py, docs/VERIFICATION.md §4): increments of DGD "
    "contract by q = max(|1 - alpha mu|, |lambda_n(W) - alpha L|) (integrated Hessian + Weyl's inequality)"
)


def dgd(problem_or_algo, W=None, step_size=None, *, x0=None) -> Bound:
    """DGD's increments contract: ``increment_norm_k <= q^(k-1) increment_norm_1`` (explicit; module docstring).

    Args:
        problem_or_algo: the run's :class:`algos.Algorithm`, or the problem (then ``W`` and
            ``step_size`` as in :func:`algos.dgd`; the default step comes from the factory).

    Returns:
        ``Bound(kind="explicit", metric="increment_norm", ref_step=1)``; ``rate = q``;
        ``conditions``: ``step_size > 0``. ``params["contraction"]`` says whether ``q < 1``.
        ``complexity["steps"]``: steps until the increments fall below ``eps`` times the first.
    """
    algo = as_algorithm("dgd", _dgd_algo, problem_or_algo, W, step_size=step_size, x0=x0)
    p = algo.params["problem"]
    alpha = hp(algo, "step_size")
    L, mu = float(p.L), float(p.mu)
    lam2, lam_n, slem = spectrum_of(algo)
    q = max(abs(1.0 - alpha * mu), abs(lam_n - alpha * L))

    def envelope(k, ref, q=q):
        k = np.asarray(k, dtype=np.float64)
        with np.errstate(under="ignore", over="ignore"):
            return ref * np.power(q, k - 1.0)

    def steps(eps, q=q):
        return 1.0 + math.log(eps) / math.log(q) if 0.0 < q < 1.0 else (1.0 if q == 0.0 else math.inf)

    X0 = np.asarray(algo.params["x0"], dtype=np.float64)
    scale = float(np.linalg.norm(X0) + math.sqrt(p.n_nodes) * np.linalg.norm(np.asarray(p.x_star)))
    return Bound(
        name="dgd",
        kind="explicit",
        source=_SOURCE_INC,
        metric="increment_norm",
        x_axis="steps",
        rate=q,
        constant=1.0,
        envelope=envelope,
        ref_step=1,
        shift_invariant=True,
        scale=scale,
        signature=signature(p, dense_W(algo)),
        hparams={"step_size": alpha},
        complexity={"steps": steps, "gradient_calls": steps, "communications": steps},
        conditions={"step_size > 0": alpha > 0.0},
        params={
            "step_size": alpha, "L": L, "mu": mu, "lambda_n": lam_n, "lambda_2": lam2, "beta": slem, "q": q,
            "contraction": q < 1.0, "stable range (1 + lambda_n)/L": (1.0 + lam_n) / L,
        },  # fmt: skip
        notes=(
            "DGD converges to a biased fixed point, not to x*: dist_to_opt levels off (see dgd_bias); the increments "
            "converge to 0 at rate <= q. Ratebench's derivation, valid for any local Hessians in [mu, L]."
        ),
    )


def dgd_bias(problem_or_algo, W=None, step_size=None) -> Bound:
    """The size of DGD's neighbourhood: ``||x_i(inf) - x*|| = O(alpha zeta / (1 - beta))`` (order only).

    ``params["scale"]`` is ``alpha * zeta / (1 - beta)``, the O(.) expression with its unknown
    constant set to 1 (Yuan et al. bound the gradients by ``D`` along the run; ratebench uses
    the heterogeneity at the optimum ``zeta``, the usual refinement, as the scale). Check the
    exponent across step sizes with :func:`bounds.check_scaling` (exponent 1 in ``step_size``),
    never the value.
    """
    algo = as_algorithm("dgd", _dgd_algo, problem_or_algo, W, step_size=step_size)
    problem = algo.params["problem"]
    alpha = hp(algo, "step_size")
    L = float(problem.L)
    _, lam_n, slem = spectrum_of(algo)
    zeta = float(problem.zeta)
    gap = 1.0 - slem
    return Bound(
        name="dgd_bias",
        method="dgd",
        kind="order",
        source=_SOURCE,
        metric="dist_to_opt",
        x_axis="steps",
        exponents={"step_size": 1.0, "zeta": 1.0, "1/(1-beta)": 1.0},
        signature=signature(problem, dense_W(algo)),
        hparams={"step_size": alpha},
        conditions={
            "step_size > 0": alpha > 0.0,
            "step_size < (1 + lambda_n(W)) / L": alpha < (1.0 + lam_n) / L,
            "W mixes (beta < 1)": gap > 0.0,
        },
        params={
            "step_size": alpha, "zeta": zeta, "beta": slem,
            "scale": alpha * zeta / gap if gap > 0 else math.inf,
        },  # fmt: skip
        notes=(
            "Order statement for the final value of dist_to_opt (the limit of DGD), which is linear in the "
            "step size for small steps; the absolute constant was not found. PAPERS.md writes 1 - lambda_2; "
            "the paper uses 1 - beta with beta = slem(W)."
        ),
    )

"""Changes proposed outside benchmarks/, measured here before they are adopted.

``quadratic_loss_one_product``: the quadratic-type problems of
``problems/convex.py`` (quadratic, least squares, averaging) define
``loss(d, x) = 1/2 x^T A x - b^T x`` and take gradients with ``jax.grad``.
Reverse-mode differentiation of ``x @ (A @ x)`` computes both ``A x`` and
``A^T x``: two batched matrix-vector products per gradient, where ``A x - b``
needs one because ``A`` is symmetric. This version has the same value and a
custom JVP, ``d loss = (A x - b) . dx``, so ``jax.grad`` produces ``A x - b``
with a single product (the JVP is linear in the tangent, so reverse mode and
``jax.hessian``/``hvp`` still work). Swapping it in is one line in
``problems/convex.py``; ``run.py --proposed`` measures the effect.
"""

from __future__ import annotations

import dataclasses

import jax


@jax.custom_jvp
def quadratic_loss_one_product(d, x):
    return 0.5 * x @ (d["A"] @ x) - d["b"] @ x


@quadratic_loss_one_product.defjvp
def _quadratic_loss_jvp(primals, tangents):
    d, x = primals
    dd, dx = tangents
    Ax = d["A"] @ x
    value = 0.5 * x @ Ax - d["b"] @ x
    # derivative in x uses A = A^T; the data tangent (rarely needed) is written out in full
    dvalue = (Ax - d["b"]) @ dx + 0.5 * x @ (dd["A"] @ x) - dd["b"] @ x
    return value, dvalue


def with_one_product_gradient(problem):
    """The same problem with :func:`quadratic_loss_one_product` as its loss (quadratic-type problems only)."""
    if not (isinstance(problem.data, dict) and "A" in problem.data and "b" in problem.data and "M" not in problem.data):
        raise ValueError("only quadratic-type problems (data A, b) have this loss")
    return dataclasses.replace(problem, loss=quadratic_loss_one_product)

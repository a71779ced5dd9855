"""Node-stacked oracles shared by the problem types whose local loss is ``loss(data_i, x_i)``."""

from __future__ import annotations

import jax
import jax.numpy as jnp


class NodeStackedOracles:
    """``value`` / ``grad`` of ``loss(data_i, x_i)`` over node-stacked iterates ``X`` (n, dim).

    Used by :class:`problems.convex.Problem` and :class:`problems.nonconvex.Problem`; the class
    using it has ``data`` (node-stacked pytree), ``loss``, ``name``, ``n_nodes`` and ``dim``.
    """

    def _check_X(self, X, what: str = "X"):
        """Raise ``ValueError`` unless ``X`` has shape ``(n_nodes, dim)`` (shapes are known even under jit)."""
        shape = tuple(jnp.shape(X))
        want = (self.n_nodes, self.dim)
        if shape != want:
            raise ValueError(
                f"{self.name}: {what} must be node-stacked with shape (n_nodes, dim) = {want}, got {shape}; "
                "row i is node i's iterate (use jnp.broadcast_to(x, (n, d)) for one shared point)"
            )

    def value(self, X):
        """(n,) local values ``f_i(x_i)``."""
        self._check_X(X)
        return jax.vmap(self.loss)(self.data, X)

    def grad(self, X):
        """(n, dim) local gradients ``grad f_i(x_i)``."""
        self._check_X(X)
        return jax.vmap(jax.grad(self.loss, argnums=1))(self.data, X)

"""Structured gossip operators: ``W @ X`` without a dense ``n x n`` matrix (public module).

Pass an operator wherever a factory takes ``W`` (``algos.extra(p, operators.from_matrix(W))``):
rolls on rings and tori, an edge list otherwise; the factory validates it through its dense form
and keeps it structured. See :mod:`algos._gossip` for the three forms and their costs.

Example::

    from algos import operators
    op = operators.from_matrix(mixing.metropolis(graphs.ring(1024)))   # circulant: 3 rolls
    algo = algos.extra(p, op)
"""

from algos._gossip import GossipOperator, circulant, dense, edges, from_matrix

__all__ = ["GossipOperator", "from_matrix", "dense", "edges", "circulant"]

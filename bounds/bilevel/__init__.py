"""Guarantees for the decentralized stochastic bilevel methods (order of the hypergradient norm, explicit costs)."""

from bounds.bilevel.dsbo import check_dsbo_costs, dsbo_costs, dsbo_rate, dsbo_sample_complexity, floats_bound

__all__ = ["dsbo_rate", "dsbo_sample_complexity", "dsbo_costs", "check_dsbo_costs", "floats_bound"]

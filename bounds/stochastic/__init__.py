"""Stochastic and federated methods: the D-SGD ≈ SAM identity and the orders of D-SGD's regimes."""

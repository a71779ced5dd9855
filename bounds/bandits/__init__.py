"""Guarantees of the networked-bandit methods (see each module)."""

"""Decentralized methods for smooth strongly convex finite sums."""

"""Theorems for online convex optimization with delays."""

"""Theorems for the convex family."""

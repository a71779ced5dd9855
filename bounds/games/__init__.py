"""Theorems for Stackelberg-game learners."""

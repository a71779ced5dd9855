"""Theorems for consensus / gossip."""

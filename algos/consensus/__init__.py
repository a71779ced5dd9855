"""Gossip / consensus methods."""

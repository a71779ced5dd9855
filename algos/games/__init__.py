"""Stackelberg-game learners (leader and follower rules)."""

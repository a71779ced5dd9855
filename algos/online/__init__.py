"""Online convex optimization with delays."""

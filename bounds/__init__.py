"""The papers' theorems as pure functions of constants, and their comparison with runs."""

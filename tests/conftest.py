import os

import jax
from hypothesis import settings

jax.config.update("jax_enable_x64", True)

# CI draws the same examples on every run (a red CI then always means a real change);
# local runs keep drawing fresh ones.
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


def pytest_configure(config):
    # ``-m "not slow"`` skips the checks that take tens of seconds each (CI runs them all)
    config.addinivalue_line("markers", "slow: a check that takes tens of seconds (deselect with -m 'not slow')")

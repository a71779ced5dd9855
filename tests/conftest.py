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
    # pyproject's addopts deselect these in the default run (and so in CI), which stays under 10 minutes
    # on 2 cores; ``python -m pytest -m slow tests`` runs them (and ``-m "slow or not slow"`` everything)
    config.addinivalue_line("markers", "slow: a check that takes tens of seconds; left out of the default run")

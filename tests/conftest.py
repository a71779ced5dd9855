import os

import jax
from hypothesis import settings

jax.config.update("jax_enable_x64", True)

# CI draws the same examples on every run (a red CI then always means a real change);
# local runs keep drawing fresh ones.
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

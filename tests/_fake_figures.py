"""Small fake figures for the tests of the reproduce runner (never in FIGURE_MODULES).

``install()`` registers them; a test uses the ``fake_figures`` fixture of the test module, a child
process calls ``install()`` itself. ``RATEBENCH_TEST_TOKEN`` is written into the data (and on the
image), so a test can tell which run wrote a file; ``RATEBENCH_TEST_SLEEP=MARKER`` makes the compute
step write MARKER and then sleep (for the Ctrl-C test).
"""

import math
import os
import time
from pathlib import Path

import numpy as np

from reproduce._registry import REGISTRY, Claim, Figure, FigureResult

CONFIG = {"quick": {"n": 3}, "full": {"n": 5}, "seed": 7}
CALLS = []


def plot(result: dict):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3, 2))
    ys = np.asarray(result["data"]["y"], dtype=float)  # null -> nan
    ax.plot(ys, marker="o")
    ax.set_title(f"token {result['data']['token']}")
    return fig


def fake(quick: bool = False, progress=lambda m: None) -> FigureResult:
    CALLS.append(quick)
    marker = os.environ.get("RATEBENCH_TEST_SLEEP")
    if marker:
        Path(marker).write_text("computing")
        time.sleep(120)
    cfg = {**CONFIG["quick" if quick else "full"], "seed": CONFIG["seed"]}
    data = {
        "token": os.environ.get("RATEBENCH_TEST_TOKEN", "a"),
        "y": np.array([1.0, math.nan, math.inf, 2.0]),
        "by_kappa": {10.0: 1.5, 1000.0: 2.5},
        "by_n": {8: 1, 16: 2},
    }
    claims = [Claim("holds", "a statement that holds", True, {"value": 1.0}), Claim("fails", "a statement that fails here", False, {"why": "test"})]
    return FigureResult(None, data, cfg, claims, seed=CONFIG["seed"])


def old_style(quick: bool = False, progress=lambda m: None) -> FigureResult:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    CALLS.append(quick)
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([1, 2, 3])
    return FigureResult(fig, {"x": [1, 2, 3]}, {"n": 3}, [Claim("c", "passes", True)], seed=0)


FIGURES = {
    "test-fake": Figure("test-fake", "Fake et al. 2000", ("holds", "fails"), fake, plot),
    "test-old-style": Figure("test-old-style", "Old et al. 1999", ("c",), old_style),
}


def install(registry=REGISTRY) -> None:
    registry.update(FIGURES)

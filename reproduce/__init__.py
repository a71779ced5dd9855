"""One command per paper figure: ``python -m reproduce list | run NAME [--quick] | all [--quick]``.

Each figure writes ``paper_figures/NAME.png`` and ``paper_figures/NAME.json``
(configuration, package versions, seed, data, and each checked claim with
pass/fail), atomically.
"""

from reproduce._registry import REGISTRY, Claim, Figure, FigureResult, register
from reproduce.cli import load_figures, main, run_figure

__all__ = ["REGISTRY", "Claim", "Figure", "FigureResult", "load_figures", "main", "register", "run_figure"]

"""The figure registry, and the contract a figure module follows.

A figure module ``reproduce/NAME.py`` (listed in ``reproduce.cli.FIGURE_MODULES``):

1. keeps its configuration as data at the top of the module, in ``CONFIG`` (grids, sizes, seeds,
   tolerances; usually ``CONFIG = {"quick": {...}, "full": {...}, ...shared keys}``). The runner records
   ``CONFIG`` in the result file (``module_config``) beside the ``config`` the figure reports it used;
2. registers a compute function with :func:`register`::

       @register("my-figure", paper="...", claims=("...",), plot=plot)
       def my_figure(quick: bool = False, progress=lambda msg: None) -> FigureResult: ...

   ``fn(quick, progress)`` computes and returns a :class:`FigureResult` with ``data`` (everything the
   plot needs), ``config`` (every hyperparameter and instance seed actually used), ``claims`` and
   ``seed``. Values may be NumPy/JAX arrays and scalars: the runner turns them into JSON;
3. passes ``plot=`` (mandatory: :func:`register` refuses a figure without it, or whose module has no
   ``CONFIG`` dict when ``register`` runs, i.e. ``CONFIG`` must come before the decorated function): a
   function ``plot(result: dict) -> matplotlib Figure`` that draws the figure from the *result file
   only*: ``result`` is the JSON payload as read back from ``NAME.json`` (keys ``data``, ``config``,
   ``claims``, ``quick``, ``provenance``, ...). The runner always draws figures from the round-tripped
   JSON, so what is on the PNG is what is in the JSON, and ``python -m reproduce plot NAME`` redraws it
   without recomputing (to the same bytes). In the JSON, ``null`` in a numeric field or array means a
   non-finite value (NaN or +-inf; JSON has neither); ``np.asarray(values, dtype=float)`` turns the
   nulls back into NaN. Dictionary keys are strings; numeric keys are written so that ``float(key)``
   (or ``int(key)``) recovers them. ``fn`` returns ``FigureResult(figure=None, ...)``;
4. (old style, kept only for :class:`Figure` objects built by hand, as the runner's tests do; no
   registered figure uses it since issue 8c) a ``Figure`` without ``plot`` whose ``fn`` returns the
   drawn matplotlib figure in ``FigureResult.figure``. It runs and is written as before, but cannot be
   re-plotted from its JSON (``reproduce plot`` says so).

Whatever the style, the runner (``reproduce.cli.run_figure``) checks the output folder before
computing, marks quick figures on the image, records provenance (git commit and dirty flag, command
line, timestamp, JAX backend and precision, package versions) and writes the PNG and the JSON as one
pair: an interrupted or killed run leaves the previous pair or the new pair, never a mix.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from typing import Any


@dataclasses.dataclass(frozen=True)
class Claim:
    """One checked statement of a paper, with its outcome on this run."""

    name: str
    statement: str
    passed: bool
    details: Any = None


@dataclasses.dataclass
class FigureResult:
    """What a figure function returns: the data, the configuration, the claims (and, old style, the figure)."""

    figure: Any
    data: dict
    config: dict
    claims: list[Claim]
    seed: int = 0


@dataclasses.dataclass(frozen=True)
class Figure:
    """A registered reproduction.

    Attributes:
        name: CLI name (``python -m reproduce run NAME``).
        paper: the paper(s) reproduced.
        claims: one-line descriptions of the claims checked.
        fn: ``fn(quick: bool, progress: Callable[[str], None]) -> FigureResult``.
        plot: ``plot(result: dict) -> matplotlib Figure`` drawing from the JSON payload; required by
            :func:`register`. None only in Figures built by hand (old style: ``fn`` returns the drawn figure).
    """

    name: str
    paper: str
    claims: tuple[str, ...]
    fn: Callable[..., FigureResult]
    plot: Callable[[dict], Any] | None = None


REGISTRY: dict[str, Figure] = {}


def register(name: str, paper: str, claims: tuple[str, ...], plot: Callable[[dict], Any] | None = None):
    """Decorator registering a figure function under ``name`` (``plot``: see the module docstring).

    Raises TypeError when ``plot`` is missing or not callable, or when the function's module has no
    ``CONFIG`` dict (defined above the decorated function): the contract of the module docstring."""

    def deco(fn):
        if name in REGISTRY:
            raise ValueError(f"figure {name!r} registered twice")
        if not callable(plot):
            raise TypeError(
                f"figure {name!r}: register(..., plot=) got {plot!r}; pass plot=FUNCTION, a function plot(result: dict) -> "
                "matplotlib Figure that draws from the JSON payload only (see the docstring of reproduce._registry)"
            )
        module = sys.modules.get(getattr(fn, "__module__", None) or "")
        if not isinstance(getattr(module, "CONFIG", None), dict):
            raise TypeError(
                f"figure {name!r}: module {getattr(fn, '__module__', None)!r} has no CONFIG dict when register() runs; "
                "put the grids, sizes and seeds in CONFIG = {...} at the top of the module, above the figure function"
            )
        REGISTRY[name] = Figure(name, paper, tuple(claims), fn, plot)
        return fn

    return deco

"""The figure registry: each figure is a function returning data, a plot and checked claims."""

from __future__ import annotations

import dataclasses
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
    """What a figure function returns: a matplotlib figure, the data, the configuration, the claims."""

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
    """

    name: str
    paper: str
    claims: tuple[str, ...]
    fn: Callable[..., FigureResult]


REGISTRY: dict[str, Figure] = {}


def register(name: str, paper: str, claims: tuple[str, ...]):
    """Decorator registering a figure function under ``name``."""

    def deco(fn):
        if name in REGISTRY:
            raise ValueError(f"figure {name!r} registered twice")
        REGISTRY[name] = Figure(name, paper, tuple(claims), fn)
        return fn

    return deco

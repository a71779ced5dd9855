"""Atomic writing of figures and results files.

Everything is written to a temporary file in the destination folder and moved
into place with ``os.replace``: an interrupted run never leaves a half-written
file and never destroys the previous one.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import sys
import tempfile
from importlib import metadata
from pathlib import Path

import numpy as np

PACKAGES = ("ratebench", "jax", "jaxlib", "numpy", "scipy", "cvxpy", "clarabel", "networkx", "matplotlib")


def versions() -> dict:
    """Versions of Python and of the packages a result depends on."""
    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


@contextlib.contextmanager
def atomic_path(dest: Path, suffix: str):
    """Yield a temporary path next to ``dest``; on success move it onto ``dest``."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=suffix + ".tmp", dir=dest.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def to_jsonable(obj):
    """Convert NumPy / JAX values (and non-finite floats) to plain JSON."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if hasattr(obj, "__array__") and not isinstance(obj, (str, bytes)):
        arr = np.asarray(obj)
        if arr.ndim == 0:
            return to_jsonable(arr.item())
        return [to_jsonable(v) for v in arr.tolist()]
    if isinstance(obj, float):
        if math.isnan(obj):
            return "nan"
        if math.isinf(obj):
            return "inf" if obj > 0 else "-inf"
        return obj
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return to_jsonable(float(obj))
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    return obj


def write_json(dest: Path, payload: dict) -> None:
    with atomic_path(dest, ".json") as tmp:
        tmp.write_text(json.dumps(to_jsonable(payload), indent=1, sort_keys=False))


def write_figure(dest: Path, fig) -> None:
    with atomic_path(dest, ".png") as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")

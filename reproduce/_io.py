"""Writing results: JSON conversion, provenance, and the PNG/JSON pair written as one.

A figure's ``NAME.png`` and ``NAME.json`` are replaced together (:func:`write_pair`):

1. both files are written and flushed into a pending folder ``.NAME.pending-PID-XXXX`` inside the
   output folder (same file system, so the moves below are renames);
2. a manifest is written there and renamed to ``MANIFEST``: this rename is the commit point;
3. the PNG, then the JSON, are renamed onto their final names; the manifest and the folder are removed.

:func:`recover` runs before anything reads or writes an output folder: a pending folder of a dead
process with a ``MANIFEST`` is rolled forward (its remaining files are moved into place), one without
is deleted, and so are stray temporary files. A kill at any point therefore leaves, once the next
command has started, either the old pair or the new pair, and no temporary file. The JSON also records
the SHA-256 of its PNG (``png_sha256``), so a mismatch made by hand is visible (the report flags it).
Files are made ``0644``.

For tests, ``RATEBENCH_TEST_KILL_AT=<point>`` SIGKILLs the process at one of :data:`KILL_POINTS`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import platform
import re
import secrets
import shutil
import signal
import sys
from importlib import metadata
from pathlib import Path

import numpy as np

PACKAGES = ("ratebench", "jax", "jaxlib", "numpy", "scipy", "cvxpy", "clarabel", "networkx", "matplotlib")
FILE_MODE = 0o644
#: Where ``RATEBENCH_TEST_KILL_AT`` may kill the writer (in this order during :func:`write_pair`).
KILL_POINTS = ("pending_created", "png_written", "json_written", "manifest_part", "committed", "png_moved", "json_moved")
_PENDING = re.compile(r"^\.(?P<name>.+)\.pending-(?P<pid>\d+)-[0-9a-f]+$")
_TMP_NEW = re.compile(r"^\.rbtmp-(?P<pid>\d+)-.*\.tmp$")
_TMP_LEGACY = re.compile(r"^\..+\.(png|json|html)\.tmp$")  # written by earlier versions (no pid)


def versions() -> dict:
    """Versions of Python and of the packages a result depends on."""
    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _hook(point: str) -> None:
    if os.environ.get("RATEBENCH_TEST_KILL_AT") == point:
        os.kill(os.getpid(), signal.SIGKILL)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # our own leftovers (an earlier call in this process that raised) are stale
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_bytes(path: Path, blob: bytes) -> None:
    with open(path, "wb") as f:
        f.write(blob)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(path, FILE_MODE)


@contextlib.contextmanager
def atomic_path(dest: Path, suffix: str):
    """Yield a temporary path next to ``dest``; on success move it onto ``dest`` (mode 0644)."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.parent / f".rbtmp-{os.getpid()}-{secrets.token_hex(4)}-{dest.name}{suffix}.tmp"
    try:
        yield tmp
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def json_key(k) -> str:
    """How a dictionary key is written in a result file (numbers: ``float(key)``/``int(key)`` read them back)."""
    if isinstance(k, (bool, np.bool_)):
        return str(bool(k)).lower()
    if isinstance(k, (int, np.integer)):
        return str(int(k))
    if isinstance(k, (float, np.floating)):
        return repr(float(k))  # float(key) gives the number back
    return str(k)


def to_jsonable(obj):
    """Convert NumPy / JAX values to plain JSON; non-finite floats become ``None`` (JSON ``null``)."""
    if isinstance(obj, dict):
        return {json_key(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if hasattr(obj, "__array__") and not isinstance(obj, (str, bytes)):
        arr = np.asarray(obj)
        if arr.ndim == 0:
            return to_jsonable(arr.item())
        return [to_jsonable(v) for v in arr.tolist()]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        obj = float(obj)
        return obj if math.isfinite(obj) else None
    return obj


def dumps(payload: dict) -> str:
    """JSON text of ``payload`` (strict JSON: no NaN/Infinity tokens)."""
    return json.dumps(to_jsonable(payload), indent=1, sort_keys=False, allow_nan=False)


def write_json(dest: Path, payload: dict) -> None:
    """Write one JSON file atomically (used for lone files; figures use :func:`write_pair`)."""
    with atomic_path(dest, ".json") as tmp:
        tmp.write_text(dumps(payload))


def write_text(dest: Path, text: str) -> None:
    with atomic_path(dest, Path(dest).suffix) as tmp:
        tmp.write_text(text)


def figure_png(fig) -> bytes:
    """The PNG bytes of a matplotlib figure (as the gallery stores them)."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, dpi=110, bbox_inches="tight", format="png")
    return buf.getvalue()


def write_figure(dest: Path, fig) -> None:
    with atomic_path(dest, ".png") as tmp:
        tmp.write_bytes(figure_png(fig))


def sha256(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


def _roll_forward(pending: Path, out_dir: Path) -> None:
    manifest = json.loads((pending / "MANIFEST").read_text())
    for fname in manifest["order"]:
        src = pending / fname
        if src.exists():  # absent: already moved before the interruption
            os.replace(src, out_dir / fname)
    _fsync_dir(out_dir)
    (pending / "MANIFEST").unlink()
    shutil.rmtree(pending, ignore_errors=True)


def recover(out_dir: Path) -> list[str]:
    """Finish or undo interrupted writes in ``out_dir``; return what was done (one line each)."""
    out_dir = Path(out_dir)
    done = []
    if not out_dir.is_dir():
        return done
    for entry in sorted(out_dir.iterdir()):
        m = _PENDING.match(entry.name)
        if m and entry.is_dir():
            if _alive(int(m["pid"])):
                continue  # another run is writing it now
            if (entry / "MANIFEST").exists():
                _roll_forward(entry, out_dir)
                done.append(f"completed the interrupted write of {m['name']}")
            else:
                shutil.rmtree(entry, ignore_errors=True)
                done.append(f"removed an unfinished write of {m['name']} (the previous files are kept)")
            continue
        t = _TMP_NEW.match(entry.name)
        if (t and not _alive(int(t["pid"]))) or (not t and _TMP_LEGACY.match(entry.name)):
            with contextlib.suppress(OSError):
                entry.unlink()
                done.append(f"removed a stray temporary file {entry.name}")
    return done


@contextlib.contextmanager
def _signals_deferred():
    """Hold SIGINT/SIGTERM while the pair is being committed (delivered right after)."""
    sigs = {signal.SIGINT, signal.SIGTERM}
    try:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    except (AttributeError, ValueError, OSError):  # not the main thread / not POSIX
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def write_pair(out_dir: Path, name: str, png: bytes, json_text: str) -> tuple[Path, Path]:
    """Replace ``out_dir/name.png`` and ``out_dir/name.json`` together (see the module docstring)."""
    out_dir = Path(out_dir)
    files = {f"{name}.png": png, f"{name}.json": json_text.encode()}
    pending = out_dir / f".{name}.pending-{os.getpid()}-{secrets.token_hex(4)}"
    pending.mkdir()
    try:
        _hook("pending_created")
        _write_bytes(pending / f"{name}.png", files[f"{name}.png"])
        _hook("png_written")
        _write_bytes(pending / f"{name}.json", files[f"{name}.json"])
        _hook("json_written")
        manifest = {"order": list(files), "sha256": {k: sha256(v) for k, v in files.items()}}
        _write_bytes(pending / "MANIFEST.part", json.dumps(manifest).encode())
        _hook("manifest_part")
        _fsync_dir(pending)
    except BaseException:
        shutil.rmtree(pending, ignore_errors=True)
        raise
    with _signals_deferred():
        os.replace(pending / "MANIFEST.part", pending / "MANIFEST")  # commit point
        _fsync_dir(pending)
        _hook("committed")
        os.replace(pending / f"{name}.png", out_dir / f"{name}.png")
        _hook("png_moved")
        os.replace(pending / f"{name}.json", out_dir / f"{name}.json")
        _hook("json_moved")
        _fsync_dir(out_dir)
        (pending / "MANIFEST").unlink()
        shutil.rmtree(pending, ignore_errors=True)
    return out_dir / f"{name}.png", out_dir / f"{name}.json"

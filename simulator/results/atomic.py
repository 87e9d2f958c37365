"""Atomic writes: a file written whole or not at all, and what a killed writer leaves.

:func:`atomic_write` writes a file under a hidden temporary name and renames
it into place; :func:`write_json` writes a JSON record (a run's manifest, an
experiment's record) that way. The temporaries match :data:`TEMPORARY_GLOB`
so that :func:`remove_temporaries` can clear what a killed process left.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

__all__ = ["TEMPORARY_GLOB", "atomic_write", "remove_temporaries", "write_json"]


def atomic_write(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Write one file atomically: ``write(tmp)`` to a hidden temporary file, then rename.

    A reader sees the old file or the whole new one, never part of it; if
    ``write`` raises, nothing is left behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path



def write_json(path: str | Path, data: dict, *, final_newline: bool = False) -> Path:
    """Write ``data`` as indented UTF-8 JSON (non-ASCII kept), atomically.

    Values JSON cannot hold are written as their ``str``. ``final_newline``
    ends the file with a newline (experiment records; manifests have none).
    """
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    if final_newline:
        text += "\n"
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


#: Glob of the temporary files and directories this module writes (``.<name>.tmp-<pid>...``).
TEMPORARY_GLOB = ".*.tmp-*"


def remove_temporaries(directory: str | Path) -> list[Path]:
    """Remove every temporary file or directory left under ``directory`` by a killed process.

    Only call it while holding the directory's :class:`DirectoryLock` (a
    running writer's temporaries look the same). Returns what was removed.
    """
    removed = []
    for stale in sorted(Path(directory).rglob(TEMPORARY_GLOB), key=lambda p: -len(p.parts)):
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)
        removed.append(stale)
    return removed

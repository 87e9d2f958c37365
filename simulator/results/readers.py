"""Checked readers of single results files: an error names the file, never a traceback.

Plot, report and card read results through these: a missing file, one that
cannot be read or decoded, a JSON file that holds no object, or a Parquet
file lacking a column is a :class:`~simulator.scenario.ScenarioError` naming
it (the command line reports it in one line and exits with status 2).
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from simulator.scenario import ScenarioError

__all__ = ["parquet_columns", "read_json_record", "read_text_file", "require_file"]


def require_file(path: str | Path) -> Path:
    """Return ``path`` if the file is there; ScenarioError naming it if it is missing."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(f"incomplete results directory: {path.name} is missing", file=path)
    return path


def read_text_file(path: str | Path) -> str:
    """Return a results file's text (UTF-8); ScenarioError naming it if missing or unreadable."""
    path = require_file(path)
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"cannot read {path.name}: {exc}", file=path) from None


def read_json_record(path: str | Path) -> dict:
    """Return the JSON object in ``path`` (a manifest, an experiment record).

    Raises
    ------
    ScenarioError
        Naming the file, if it is missing or unreadable or holds no JSON object.
    """
    path = Path(path)
    try:
        data = json.loads(read_text_file(path))
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"cannot read {path.name}: {exc}", file=path) from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{path.name} does not hold a JSON object", file=path)
    return data


def parquet_columns(path: str | Path, required: tuple[str, ...] = ()) -> list[str]:
    """Return the column names of the Parquet file ``path``, from its schema alone.

    Raises
    ------
    ScenarioError
        Naming the file, if it is missing, is not a readable Parquet file or
        lacks a column of ``required``.
    """
    path = require_file(path)
    try:
        columns = pq.read_schema(path).names
    except (OSError, pa.ArrowException) as exc:
        raise ScenarioError(f"cannot read {path.name}: {exc}", file=path) from None
    missing = [c for c in required if c not in columns]
    if missing:
        raise ScenarioError(f"{path.name} lacks column{'s' if len(missing) > 1 else ''} "
                            f"{', '.join(missing)}", file=path)
    return columns


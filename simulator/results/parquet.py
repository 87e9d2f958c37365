"""Results tables in Parquet: written with page checksums, read with them verified.

:func:`write_parquet` writes zstd-compressed tables with a CRC in every data
page; :func:`read_parquet_file` verifies them, so a damaged page is an error
naming the file. :func:`read_metrics_table` reads a run's tidy metrics
(:data:`METRICS_COLUMNS`) and :func:`numeric_columns` checks that columns
meant for numbers hold numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa

from simulator.results.readers import parquet_columns, require_file
from simulator.scenario import ScenarioError

__all__ = ["METRICS_COLUMNS", "numeric_columns", "read_metrics_table", "read_parquet_file",
           "write_parquet"]

#: Columns of every run's tidy metrics table (``metrics.parquet``).
METRICS_COLUMNS: tuple[str, ...] = (
    "year", "month", "scenario", "replication", "group", "metric", "value",
)


def numeric_columns(table: pd.DataFrame, columns: Sequence[str], path: Path) -> pd.DataFrame:
    """Return ``table`` after checking that ``columns`` hold numbers (or are empty).

    Raises
    ------
    ScenarioError
        Naming the file, the column and the first value that is not a number.
    """
    for column in columns:
        values = table[column]
        if pd.api.types.is_numeric_dtype(values) or values.isna().all():
            continue
        numbers = pd.to_numeric(values, errors="coerce")
        bad = values[numbers.isna() & values.notna()]
        if len(bad):
            raise ScenarioError(f"{path.name}: column {column!r} holds {bad.iloc[0]!r}, not "
                                "a number", file=path)
        raise ScenarioError(f"{path.name}: column {column!r} holds text (e.g. "
                            f"{values.dropna().iloc[0]!r}), not numbers", file=path)
    return table


def read_metrics_table(path: str | Path) -> pd.DataFrame:
    """Read a tidy metrics table, checking that its numeric columns hold numbers.

    Raises
    ------
    ScenarioError
        Naming the file (and the column): unreadable pages, a missing column,
        text where numbers belong.
    """
    path = Path(path)
    parquet_columns(path, METRICS_COLUMNS)
    return numeric_columns(read_parquet_file(path), ("year", "month", "replication", "value"),
                           path)


def write_parquet(table: pd.DataFrame, path: str | Path) -> None:
    """Write a results table as Parquet: zstd, with a CRC checksum in every data page."""
    table.to_parquet(path, index=False, compression="zstd", write_page_checksum=True)


def read_parquet_file(path: str | Path, **kwargs) -> pd.DataFrame:
    """``pandas.read_parquet`` with a damaged file an error naming it (ScenarioError).

    Page checksums, where the writer stored them (:func:`write_parquet`), are
    verified, so a damaged page is an error even without the manifest's
    checksum of the whole file.
    """
    path = require_file(path)
    try:
        return pd.read_parquet(path, page_checksum_verification=True, **kwargs)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise ScenarioError(f"cannot read {path.name}: {_first_line(exc)}", file=path) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


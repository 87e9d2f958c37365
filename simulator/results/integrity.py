"""Checksums of results files: taken when written, verified before reading.

Each run's ``manifest.json`` lists the SHA-256 of every file of the run
(taken at commit; :func:`record_redrawn` updates them after figures are drawn
again) and an experiment's ``experiment.json`` lists its tables and figures
(taken when it finishes). :func:`check_run_directory` and
:func:`check_experiment_directory` verify a directory before it is read;
:func:`verify_file` verifies one file (``firms.parquet`` when it is read);
:func:`read_run` reads a run's manifest and metrics, checked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from simulator.results.atomic import write_json
from simulator.results.parquet import METRICS_COLUMNS, read_metrics_table
from simulator.results.readers import parquet_columns, read_json_record, require_file
from simulator.scenario import ScenarioError

__all__ = ["check_experiment_directory", "check_run_directory", "digests", "file_digest",
           "read_run", "record_redrawn", "recorded_files", "verify_file"]


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes, as hex (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def digests(directory: str | Path, *, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Return ``{relative path: SHA-256}`` of the files under ``directory``.

    Hidden files (locks, temporaries) and the top-level entries named in
    ``skip`` (the record holding the digests, ``runs/`` of an experiment) are
    left out.
    """
    directory = Path(directory)
    out = {}
    for path in sorted(directory.rglob("*")):
        rel = path.relative_to(directory)
        if rel.parts[0] in skip or any(p.startswith(".") for p in rel.parts) \
                or not path.is_file():
            continue
        out[rel.as_posix()] = file_digest(path)
    return out


def recorded_files(record: dict, path: Path) -> dict[str, str]:
    """Return the ``files`` digests of a manifest or experiment record (``{}`` if none)."""
    files = record.get("files", {})
    if not isinstance(files, dict):
        raise ScenarioError("its 'files' entry is not a mapping of names to checksums",
                            file=path)
    return files


def verify_file(path: str | Path, record: dict, *, record_path: Path) -> Path:
    """Check ``path`` against the checksum its directory's record lists; return ``path``.

    ``record`` is the content of ``record_path``, the manifest or experiment
    record of the directory holding ``path`` (the names it lists are
    relative to that directory). A file the record does not list (written
    by a version before checksums) is not checked.

    Raises
    ------
    ScenarioError
        Naming the file: missing, or damaged (its SHA-256 differs from the
        recorded one: changed or truncated since it was written).
    """
    path = require_file(path)
    name = path.relative_to(record_path.parent).as_posix()
    expected = recorded_files(record, record_path).get(name)
    if expected is not None and file_digest(path) != expected:
        raise ScenarioError(f"{name} is damaged: its SHA-256 checksum differs from the one "
                            f"{record_path.name} recorded when it was written", file=path)
    return path


def check_run_directory(run_dir: str | Path) -> dict:
    """Check that ``run_dir`` holds an intact run; return its manifest.

    Reads ``manifest.json``, verifies the checksum of every file it lists
    except ``firms.parquet`` (verified by :func:`verify_file` when read: it
    can be large) and reads the schema of ``metrics.parquet``.

    Raises
    ------
    ScenarioError
        Naming the file: no such directory, a file missing, unreadable or
        damaged (its checksum differs from the manifest's), a manifest that
        is not a JSON object, or metrics lacking a column of
        :data:`METRICS_COLUMNS`. The command line reports it in one line and
        exits with status 2.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ScenarioError("not a results directory (no such directory)", file=run_dir)
    manifest = read_json_record(run_dir / "manifest.json")
    for name in recorded_files(manifest, run_dir / "manifest.json"):
        if name == "firms.parquet" or (name.startswith("figures/")
                                       and not (run_dir / name).exists()):
            continue  # firms.parquet when read; a missing figure is drawn again
        verify_file(run_dir / name, manifest, record_path=run_dir / "manifest.json")
    parquet_columns(run_dir / "metrics.parquet", METRICS_COLUMNS)
    return manifest


def read_run(run_dir: str | Path) -> tuple[dict, pd.DataFrame]:
    """Read a run's manifest and metrics table, checked (:func:`check_run_directory`)."""
    manifest = check_run_directory(run_dir)
    return manifest, read_metrics_table(Path(run_dir) / "metrics.parquet")


def check_experiment_directory(directory: str | Path) -> dict:
    """Check an experiment directory's record and the files it lists; return the record.

    Raises
    ------
    ScenarioError
        Naming the file: the record missing or unreadable, or a file it lists
        missing or damaged (checksum).
    """
    record_path = Path(directory) / "experiment.json"
    record = read_json_record(record_path)
    for name in recorded_files(record, record_path):
        if name.startswith("figures/") and not (Path(directory) / name).exists():
            continue  # a missing figure is not shown
        verify_file(Path(directory) / name, record, record_path=record_path)
    return record


def record_redrawn(directory: str | Path, paths: Sequence[Path]) -> None:
    """Update the checksums of files drawn again (figures) in ``directory``'s manifest.

    Nothing if the directory has no manifest listing checksums (a run being
    written: its checksums are taken when it is committed).
    """
    path = Path(directory) / "manifest.json"
    if not path.is_file():
        return
    manifest = read_json_record(path)
    files = recorded_files(manifest, path)
    if not files:
        return
    for drawn in paths:
        files[Path(drawn).relative_to(directory).as_posix()] = file_digest(drawn)
    manifest["files"] = dict(sorted(files.items()))
    write_json(path, manifest)


"""Run directories: manifest + Parquet tables, written atomically.

A run is written into a hidden temporary directory next to its final place
and renamed into place only when everything is written, so a reader never
sees a half-written run. Layout of a finished run::

    results/<scenario>/<timestamp>/
        manifest.json      resolved scenario, seed, version, git revision, timings
        scenario.yaml      the resolved scenario (re-runnable as is)
        metrics.parquet    tidy metrics (see simulator.metrics)
        firms.parquet      one row per firm and year (if output.firm_snapshots)
        figures/           made by simulator.plots from the files above
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import platform
import shutil
import socket
import subprocess
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import TracebackType
from uuid import uuid4

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from simulator.scenario import Scenario, ScenarioError

__all__ = ["METRICS_COLUMNS", "TEMPORARY_GLOB", "DirectoryLock", "ExperimentFailedError",
           "RunDirectory", "atomic_write", "check_experiment_directory", "check_run_directory",
           "digests", "file_digest", "git_revision", "numeric_columns", "package_version",
           "parquet_columns", "read_json_record", "read_metrics_table", "read_parquet_file",
           "read_run", "read_text_file", "record_redrawn", "recorded_files",
           "remove_temporaries", "require_file", "stamped_path", "verify_file", "write_parquet"]

#: Columns of every run's tidy metrics table (``metrics.parquet``).
METRICS_COLUMNS: tuple[str, ...] = (
    "year", "month", "scenario", "replication", "group", "metric", "value",
)


class ExperimentFailedError(RuntimeError):
    """Some runs of an experiment raised; the finished ones are kept for a rerun."""


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


class DirectoryLock:
    """One writer per output directory: an exclusive lock on ``<directory>/.lock``.

    The lock is an advisory ``flock`` held for the life of the process, so the
    operating system releases it when its holder dies, however it dies (a lock
    left by a killed process is stale and taken over at once). The file
    records the holder (pid, host, command, start time) for the message a
    second writer gets. Use as a context manager.

    Raises
    ------
    ScenarioError
        If another process holds the lock, naming it (exit status 2).
    """

    NAME = ".lock"

    def __init__(self, directory: str | Path, command: str = "mujun"):
        self.directory = Path(directory)
        self.command = command
        self._fd: int | None = None

    def acquire(self) -> DirectoryLock:
        """Take the lock (creating the directory), or raise ScenarioError naming its holder."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / self.NAME
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        if not _try_lock(fd):
            holder = _read_holder(fd)
            os.close(fd)
            raise ScenarioError(
                f"output directory is in use by {holder.get('command', 'another command')} "
                f"(pid {holder.get('pid', '?')} on {holder.get('host', '?')}, since "
                f"{holder.get('started', '?')}); wait for it to finish or choose another --out",
                file=self.directory)
        record = json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                             "command": self.command,
                             "started": datetime.now(UTC).isoformat(timespec="seconds")})
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, record.encode("utf-8"))
        self._fd = fd
        return self

    def release(self) -> None:
        """Let the lock go (nothing if not held)."""
        if self._fd is not None:
            os.ftruncate(self._fd, 0)  # the holder is gone; the (unlocked) file stays
            os.close(self._fd)  # closing releases the lock
            self._fd = None

    def __enter__(self) -> DirectoryLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _try_lock(fd: int) -> bool:
    """Take an exclusive, non-blocking lock on ``fd``; False if another process holds it."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _read_holder(fd: int) -> dict:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        data = json.loads(os.read(fd, 4096).decode("utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def package_version() -> str:
    """Installed version of the ``mujun`` distribution."""
    try:
        return version("mujun")
    except PackageNotFoundError:
        return "0+unknown"


def git_revision() -> str | None:
    """Git revision of the source tree, or None outside a checkout."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                             text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    rev = out.stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                           capture_output=True, text=True, timeout=5, check=False)
    return rev + ("-dirty" if dirty.stdout.strip() else "")


class RunDirectory:
    """A run directory being written; use as a context manager.

    Parameters
    ----------
    final : Path
        Where the finished run will be. Must not exist yet.
    suffix_if_taken : bool
        If another process takes ``final`` before this run is committed, commit
        to ``<final>-1``, ``-2``... instead of failing (stamped default names;
        a name the user gave is never changed).

    Examples
    --------
    >>> with RunDirectory(Path("results/x/1")) as run:       # doctest: +SKIP
    ...     run.write_metrics(frame)
    ... # renamed into place here; removed if the block raised
    """

    def __init__(self, final: Path, *, suffix_if_taken: bool = False):
        self.final = Path(final)
        self._stamp = self.final.name if suffix_if_taken else None
        if self.final.exists():
            raise FileExistsError(f"run directory already exists: {self.final}")
        # The directories made for it (deepest first), removed again if the run fails.
        self._made = [d for d in (self.final.parent, *self.final.parent.parents)
                      if not d.exists()]
        self.final.parent.mkdir(parents=True, exist_ok=True)
        # Unique (two runs of one process in the same second do not share it) and
        # matching TEMPORARY_GLOB, so that a resume removes it if this process dies.
        self.tmp = self.final.parent / f".{self.final.name}.tmp-{os.getpid()}-{uuid4().hex[:8]}"
        self.tmp.mkdir()
        self._snapshots: pq.ParquetWriter | None = None

    @classmethod
    def new(cls, root: Path, scenario_name: str) -> RunDirectory:
        """Open ``root/<scenario>/<UTC timestamp>`` (suffixed if taken)."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        base = Path(root) / scenario_name
        run = cls(_free_name(base, stamp), suffix_if_taken=True)
        run._stamp = stamp  # suffixes count from the stamp itself
        return run

    def __enter__(self) -> RunDirectory:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()

    def write_snapshot(self, table: pa.Table) -> None:
        """Append one year of per-firm rows to ``firms.parquet`` (streamed)."""
        if self._snapshots is None:
            self._snapshots = pq.ParquetWriter(self.tmp / "firms.parquet", table.schema,
                                               compression="zstd", write_page_checksum=True)
        self._snapshots.write_table(table)

    def write_metrics(self, metrics: pd.DataFrame) -> None:
        """Write the tidy metrics table."""
        write_parquet(metrics, self.tmp / "metrics.parquet")

    def write_scenario(self, scenario: Scenario) -> None:
        """Write the resolved scenario as YAML."""
        data = scenario.model_dump(mode="json")
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
        (self.tmp / "scenario.yaml").write_text(text, encoding="utf-8")

    def write_manifest(self, manifest: dict) -> None:
        """Write ``manifest.json``."""
        (self.tmp / "manifest.json").write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False, default=str), encoding="utf-8")

    def close_writers(self) -> None:
        """Finish ``firms.parquet`` (before drawing figures from it)."""
        if self._snapshots is not None:
            self._snapshots.close()
            self._snapshots = None

    def commit(self) -> Path:
        """Close writers and rename the directory into place.

        A directory opened by :meth:`new` whose name another process took in
        the meantime (two runs in the same second) gets the next free suffix.
        """
        self.close_writers()
        manifest = self.tmp / "manifest.json"
        if manifest.is_file():  # every file's checksum, verified when read
            record = json.loads(manifest.read_text(encoding="utf-8"))
            record["files"] = digests(self.tmp, skip=("manifest.json",))
            self.write_manifest(record)
        while True:
            try:
                os.replace(self.tmp, self.final)
                return self.final
            except OSError as exc:
                if self._stamp is None or exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
                self.final = _free_name(self.final.parent, self._stamp)

    def abort(self) -> None:
        """Remove the temporary directory, and the directories made for it if now empty."""
        try:
            self.close_writers()
        except (OSError, pa.ArrowException):  # an interrupted write; the file goes anyway
            self._snapshots = None
        shutil.rmtree(self.tmp, ignore_errors=True)
        for directory in self._made:
            try:
                directory.rmdir()  # only if empty: another run may have written there since
            except OSError:
                break


def stamped_path(base: str | Path) -> Path:
    """Return ``base/<UTC timestamp>``, suffixed ``-1``, ``-2``... if taken (runs, fits)."""
    return _free_name(Path(base), datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"))


def _free_name(base: Path, stamp: str) -> Path:
    """Return ``base/stamp``, or ``base/stamp-k`` with the first free ``k``."""
    final, k = base / stamp, 1
    while final.exists():
        final = base / f"{stamp}-{k}"
        k += 1
    return final


def manifest_for(scenario: Scenario, *, replications: int, wall_time_s: float,
                 started: datetime, firms: int) -> dict:
    """Build the manifest dictionary of a run."""
    return {
        "scenario": scenario.model_dump(mode="json"),
        "scenario_name": scenario.name,
        "seed": scenario.seed,
        "replications": replications,
        "firms": firms,
        "version": package_version(),
        "git_revision": git_revision(),
        "python": platform.python_version(),
        "started": started.isoformat(timespec="seconds"),
        "wall_time_s": round(wall_time_s, 3),
    }


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
        raise ScenarioError(f"{path.name} lacks column(s) {', '.join(missing)}", file=path)
    return columns


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
    atomic_write(path, lambda p: p.write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False, default=str), encoding="utf-8"))


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


# ------------------------------------------------------------------ checksums


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

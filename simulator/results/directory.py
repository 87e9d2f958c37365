"""Run directories: written into a hidden temporary directory, renamed into place.

A run is written into a hidden temporary directory next to its final place
and renamed into place only when everything is written, so a reader never
sees a half-written run (:class:`RunDirectory`; the next free ``-k`` suffix if
another run took a stamped name, :func:`stamped_path`). One process at a time
writes an output directory (:class:`DirectoryLock`). A run's manifest records
the scenario, seed, version and git revision (:func:`manifest_for`).
"""

from __future__ import annotations

import errno
import json
import os
import platform
import shutil
import socket
import subprocess
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import TracebackType
from uuid import uuid4

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from simulator.results.atomic import write_json
from simulator.results.integrity import digests
from simulator.results.parquet import write_parquet
from simulator.scenario import Scenario, ScenarioError

__all__ = ["DirectoryLock", "ExperimentFailedError", "RunDirectory", "git_revision",
           "manifest_for", "package_version", "stamped_path"]


class ExperimentFailedError(RuntimeError):
    """Some runs of an experiment raised; the finished ones are kept for a rerun."""


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
        write_json(self.tmp / "manifest.json", manifest)

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

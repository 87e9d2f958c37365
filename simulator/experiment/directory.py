"""Experiment directories: resumable, locked, their record written first.

Comparisons and sweeps write into an :class:`ExperimentDirectory` whose path
does not depend on the time, so that rerunning the same command resumes: each
finished run is a directory renamed into place when complete (``runs/<id>``),
and a rerun skips those and runs the rest. The directory's record,
``experiment.json``, holds the experiment's :func:`fingerprint` (what makes
two experiments the same) and, once finished, the checksums of its tables
and figures.
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from simulator import faults
from simulator.experiment.executors import (
    DEFAULT_RETRIES,
    RunFailure,
    RunOutput,
    RunTask,
    run_tasks,
)
from simulator.results import (
    DirectoryLock,
    ExperimentFailedError,
    RunDirectory,
    atomic_write,
    digests,
    git_revision,
    package_version,
    read_json_record,
    read_run,
    remove_temporaries,
    write_json,
)
from simulator.scenario import ScenarioError, safe_name

__all__ = ["ExperimentDirectory", "Progress", "fingerprint", "slug"]

log = logging.getLogger("simulator.experiment")  # the package's logger

#: ``progress(runs_done, runs_total, runs_failed)`` for experiments of several runs.
Progress = Callable[[int, int, int], None]


def fingerprint(*parts: Any) -> str:
    """Return a stable hash of JSON-able parts (what makes two experiments the same)."""
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class ExperimentDirectory:
    """A resumable directory of runs: ``experiment.json`` and ``runs/<run id>/``.

    The directory's record, ``experiment.json``, is written (atomically)
    before anything else the experiment writes, so a directory is
    recognisable as an experiment's from its first byte; the only files that
    can precede it are its lock and the record's own temporary file. Each run
    is written by :class:`~simulator.results.RunDirectory` (a hidden temporary
    directory renamed into place), so a run directory exists only once
    complete; a process killed at any point leaves at most temporary files,
    which the next open removes. The experiment's fingerprint (its
    scenarios, design, seed and replications) is kept in the record:
    reopening the directory for a different experiment is an error unless
    ``force`` starts over. One process at a time writes the directory
    (:class:`~simulator.results.DirectoryLock`, released by :meth:`close`, or
    at the end of a ``with`` block).

    Parameters
    ----------
    path : Path
        The directory (created if missing).
    info : dict
        ``experiment.json`` content; must hold ``kind`` and ``fingerprint``.
    force : bool
        Delete what ``path`` holds first (an experiment's directory only: a
        directory with other files is never deleted).

    Raises
    ------
    ScenarioError
        If ``path`` is a file or a directory that is not an experiment's, holds a
        different experiment (without ``force``) or an unreadable record, or
        another process is writing it.
    """

    RECORD = "experiment.json"

    def __init__(self, path: Path | str, info: dict, *, force: bool = False) -> None:
        self.path = Path(path)
        self.runs = self.path / "runs"
        self.info = dict(info)
        # Everything the record needs is known before the first byte is written.
        self.info.update(version=package_version(), git_revision=git_revision(),
                         python=platform.python_version(), finished=False)
        if self.path.exists() and not self.path.is_dir():
            raise ScenarioError("output path exists and is not a directory; choose another "
                                "--out", file=self.path)
        if self.path.is_dir():
            _check_ours(self.path)  # before the lock file is put into someone else's directory
        self._lock = DirectoryLock(self.path, f"mujun {info.get('kind', 'experiment')}")
        self._lock.acquire()
        try:
            self._open(force)
        except BaseException:
            self.close()
            raise

    def _open(self, force: bool) -> None:
        record = self.path / self.RECORD
        _check_ours(self.path)  # again, now that no other writer can change it
        if force or not record.exists():
            _clear(self.path)  # an earlier experiment, or what a kill left before its record
        else:
            old = read_json_record(record)  # a damaged record: an error naming it (--force clears)
            if old.get("fingerprint") != self.info["fingerprint"]:
                raise ScenarioError(
                    f"output directory holds a different {old.get('kind', '')} experiment "
                    f"({old.get('name', '?')}); use --force to start over or another --out",
                    file=self.path)
            self.info["created"] = old.get("created")
            remove_temporaries(self.path)  # of any kind: runs, tables, figures
        # Made by this call: removed again if no run can start (see execute).
        self._new = not record.exists()
        self.info.setdefault("created", datetime.now(UTC).isoformat(timespec="seconds"))
        faults.point("experiment.record")
        write_json(record, self.info, final_newline=True)  # first, then the runs
        faults.point("experiment.runs")
        self.runs.mkdir(exist_ok=True)

    def close(self) -> None:
        """Release the directory's lock (the record stays)."""
        self._lock.release()

    def __enter__(self) -> ExperimentDirectory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def finished(self) -> set[str]:
        """Ids of the runs already complete."""
        return {str(p.parent.relative_to(self.runs))
                for p in self.runs.rglob("manifest.json")}

    def run_dir(self, run_id: str) -> Path:
        """Directory of run ``run_id``."""
        return self.runs / run_id

    def write_run(self, out: RunOutput, manifest: dict) -> None:
        """Write one finished run (metrics, per-firm rows, manifest), atomically."""
        with RunDirectory(self.run_dir(out.run_id)) as run:
            if out.snapshots is not None:
                run.write_snapshot(out.snapshots)
            run.write_metrics(out.metrics)
            faults.point("run.write", out.run_id)
            run.write_manifest({"run_id": out.run_id, "firms": out.firms,
                                "wall_time_s": round(out.wall_time_s, 3), **manifest})

    def read_metrics(self, run_ids: Iterable[str]) -> pd.DataFrame:
        """Concatenate the metrics of ``run_ids``, in that order."""
        return pd.concat([read_run(self.run_dir(r))[1] for r in run_ids], ignore_index=True)

    def write_csv(self, name: str, frame: pd.DataFrame) -> Path:
        """Write ``frame`` as ``name`` in the directory, atomically."""
        def write(path: Path) -> None:
            frame.to_csv(path, index=False, float_format="%.10g")
            faults.point("table.write", name)

        return atomic_write(self.path / name, write)

    def write_text(self, name: str, text: str) -> Path:
        """Write ``text`` as ``name`` (under the directory), atomically."""
        return atomic_write(self.path / name, lambda p: p.write_text(text, encoding="utf-8"))

    def execute(self, tasks: Sequence[RunTask], manifests: dict[str, dict], *,
                progress: Progress | None, executor: str, workers: int | None,
                scheduler: str | None, retries: int = DEFAULT_RETRIES) -> None:
        """Run the tasks not yet finished, writing each as it completes.

        Raises
        ------
        ExperimentFailedError
            If runs failed (after every other run finished and was written).
        """
        started = time.perf_counter()
        done = self.finished()
        todo = [t for t in tasks if t.run_id not in done]
        if done:
            log.info("%s: %d of %d runs already finished; running the other %d",
                     self.path, len(tasks) - len(todo), len(tasks), len(todo))
        count = {"done": len(tasks) - len(todo), "failed": 0}
        failures: list[RunFailure] = []

        def on_done(outcome: RunOutput | RunFailure) -> None:
            if isinstance(outcome, RunFailure):
                failures.append(outcome)
                count["failed"] += 1
                log.error("run %s failed:\n%s", outcome.run_id, outcome.error)
            else:
                self.write_run(outcome, manifests[outcome.run_id])
                count["done"] += 1
            if progress is not None:
                progress(count["done"], len(tasks), count["failed"])

        if progress is not None:
            progress(count["done"], len(tasks), 0)
        try:
            run_tasks(todo, on_done=on_done, executor=executor, workers=workers,
                      scheduler=scheduler, retries=retries)
        except ScenarioError:  # e.g. the Dask scheduler does not answer
            if self._new and not self.finished():
                shutil.rmtree(self.path, ignore_errors=True)  # leave nothing behind
            raise
        self.info.update(runs=len(tasks), executor=executor,
                         wall_time_s=round(self.info.get("wall_time_s", 0.0)
                                           + time.perf_counter() - started, 3))
        if failures:
            self.info["failed"] = sorted(f.run_id for f in failures)
            write_json(self.path / "experiment.json", self.info, final_newline=True)
            first = failures[0]
            raise ExperimentFailedError(
                f"{len(failures)} of {len(tasks)} runs failed (first: {first.run_id}: "
                f"{first.error.strip().splitlines()[-1]}); the other runs are saved in "
                f"{self.path}: rerun the same command to retry the failed ones")
        self.info.pop("failed", None)

    def finish(self) -> None:
        """Mark the experiment complete (after its tables and figures are written).

        The record lists the checksum of every file of the experiment but the
        runs (each run's manifest lists its own), verified when read.
        """
        self.info["finished"] = True
        self.info["files"] = digests(self.path, skip=(self.RECORD, "runs"))
        write_json(self.path / self.RECORD, self.info, final_newline=True)


def _check_ours(path: Path) -> None:
    """Raise ScenarioError unless ``path`` is an experiment's directory (or holds nothing).

    An experiment's directory holds its record, or, when a process was killed
    before the record was written, only hidden files (the lock, temporaries)
    and a ``runs/`` without a finished run (older versions made ``runs/``
    first). Anything else is someone else's and is never written or deleted.
    """
    if (path / ExperimentDirectory.RECORD).exists():
        return
    for entry in path.iterdir():
        if entry.name.startswith("."):
            continue
        if entry.name == "runs" and entry.is_dir() and not any(entry.rglob("manifest.json")):
            continue
        raise ScenarioError("output directory exists and is not an experiment directory (no "
                            f"{ExperimentDirectory.RECORD}); choose another --out", file=path)


def _clear(path: Path) -> None:
    """Delete what ``path`` holds except its lock file."""
    for entry in path.iterdir():
        if entry.name == DirectoryLock.NAME:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def slug(text: str, limit: int = 80) -> str:
    """Return ``text`` as a directory name (an experiment's default ``--out``)."""
    return safe_name(text)[:limit] or "experiment"

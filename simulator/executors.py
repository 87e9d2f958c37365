"""Where runs execute: this process, a local process pool, or a Dask cluster.

A run is a :class:`RunTask` (a scenario and a replication index) and its
result a :class:`RunOutput` (tidy metrics and, if asked, the per-firm
tables). :func:`execute` does one run; it depends on nothing but its task,
so a run gives the same numbers in any process on any machine, and an
experiment's results do not depend on the executor or the number of workers.

:func:`run_tasks` hands the tasks to an executor and calls ``on_done`` in the
calling process as each run finishes (in completion order, which varies), so
the caller can write each run to disk at once and hold nothing else. The
local executor is :class:`concurrent.futures.ProcessPoolExecutor` with the
``spawn`` start method (no state inherited from the parent); the Dask
executor submits the same function to a ``distributed`` scheduler. Workers
only compute: every file is written by the calling process, so cluster
workers need no access to the results directory.
"""

from __future__ import annotations

import os
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import get_context

import pandas as pd
import pyarrow as pa

from simulator.engine import simulate
from simulator.scenario import Scenario, ScenarioError

__all__ = ["EXECUTORS", "RunFailure", "RunOutput", "RunTask", "default_workers", "execute",
           "run_tasks"]

EXECUTORS = ("local", "dask")


@dataclass(frozen=True)
class RunTask:
    """One run: ``scenario`` in replication ``replication``, known as ``run_id``."""

    run_id: str
    scenario: Scenario
    replication: int = 0
    snapshots: bool = False  # also return the per-firm tables


@dataclass(frozen=True)
class RunOutput:
    """What a run returns to the process that writes it."""

    run_id: str
    metrics: pd.DataFrame
    snapshots: pa.Table | None
    wall_time_s: float
    firms: int


@dataclass(frozen=True)
class RunFailure:
    """A run that raised: its id and the formatted exception."""

    run_id: str
    error: str


def execute(task: RunTask) -> RunOutput:
    """Simulate one run and return its metrics (and per-firm tables if asked)."""
    tables: list[pa.Table] = []
    result = simulate(task.scenario, replication=task.replication,
                      on_snapshot=tables.append if task.snapshots else None)
    snapshots = pa.concat_tables(tables) if tables else None
    return RunOutput(run_id=task.run_id, metrics=result.metrics, snapshots=snapshots,
                     wall_time_s=result.wall_time_s, firms=result.firms.n)


def _execute_safely(task: RunTask) -> RunOutput | RunFailure:
    try:
        return execute(task)
    except Exception:  # noqa: BLE001  (reported as a failed run; the others go on)
        return RunFailure(run_id=task.run_id, error=traceback.format_exc())


def _exit_with_parent(parent: int, every_s: float = 1.0) -> None:
    """Pool worker initializer: end the worker once the process that started it is gone.

    A parent killed outright (``kill -9``) cannot stop its pool; its workers
    would idle on, holding their memory. Each watches its parent id and
    exits when it changes (the orphan was adopted by another process).
    """
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every_s)
        os._exit(1)

    threading.Thread(target=watch, name="mujun-parent-watch", daemon=True).start()


def default_workers() -> int:
    """Worker processes by default: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def run_tasks(tasks: Sequence[RunTask], *,
              on_done: Callable[[RunOutput | RunFailure], None],
              executor: str = "local", workers: int | None = None,
              scheduler: str | None = None) -> None:
    """Run ``tasks``, calling ``on_done`` here as each one finishes or fails.

    Parameters
    ----------
    tasks : sequence of RunTask
        The runs; their order is the submission order.
    on_done : callable
        Called in this process with each :class:`RunOutput` or :class:`RunFailure`.
    executor : {"local", "dask"}
        ``local``: this process when ``workers == 1``, else a process pool.
        ``dask``: a ``distributed`` scheduler at ``scheduler``.
    workers : int, optional
        Local worker processes (default: :func:`default_workers`). Ignored by Dask,
        whose cluster decides.
    scheduler : str, optional
        Address of the Dask scheduler, e.g. ``tcp://10.0.0.5:8786``.

    Raises
    ------
    ScenarioError
        For an unknown executor, a bad worker count, a Dask run without a
        scheduler address or without the ``dask`` extra installed.
    """
    check_executor(executor, workers, scheduler)
    if not tasks:
        return
    if executor == "dask":
        _run_dask(tasks, on_done, scheduler)
        return
    workers = default_workers() if workers is None else int(workers)
    workers = min(workers, len(tasks))
    if workers == 1:
        for task in tasks:
            on_done(_execute_safely(task))
        return
    _run_pool(tasks, on_done, workers)


def check_executor(executor: str = "local", workers: int | None = None,
                   scheduler: str | None = None) -> None:
    """Check the executor options without running anything (before any output is written).

    Raises
    ------
    ScenarioError
        For an unknown executor, fewer than one worker, a Dask run without a
        scheduler address or without the ``dask`` extra installed. (Whether
        the scheduler answers is known only when :func:`run_tasks` connects.)
    """
    if executor not in EXECUTORS:
        raise ScenarioError(f"unknown executor {executor!r}; expected one of {EXECUTORS}",
                            field="--executor")
    if executor == "dask":
        if not scheduler:
            raise ScenarioError("--executor dask needs --scheduler ADDRESS (e.g. "
                                "tcp://127.0.0.1:8786)", field="--scheduler")
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise ScenarioError("--executor dask needs the dask extra: pip install -e "
                                "\".[dask]\"", field="--executor") from None
    elif workers is not None and int(workers) < 1:
        raise ScenarioError(f"--workers must be at least 1; got {workers}", field="--workers")


def _run_pool(tasks: Sequence[RunTask], on_done, workers: int) -> None:
    # At most a few runs in flight per worker: a long sweep never queues every
    # scenario in the pipe at once, and a failure shows early.
    pending: set[Future] = set()
    queue = iter(tasks)
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"),
                             initializer=_exit_with_parent, initargs=(os.getpid(),)) as pool:
        def fill() -> None:
            for task in queue:
                pending.add(pool.submit(_execute_safely, task))
                if len(pending) >= 2 * workers:
                    return

        fill()
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                pending.discard(future)
                on_done(future.result())
            fill()


def _run_dask(tasks: Sequence[RunTask], on_done, scheduler: str) -> None:
    from distributed import Client, as_completed  # there: check_executor
    started = time.perf_counter()
    try:
        client = Client(scheduler, timeout="30s")
    except OSError as exc:
        raise ScenarioError(f"cannot reach the Dask scheduler at {scheduler}: {exc}",
                            field="--scheduler") from None
    try:
        futures = [client.submit(_execute_safely, task, key=f"mujun-{task.run_id}-{started}",
                                 pure=False) for task in tasks]
        for future in as_completed(futures):
            on_done(future.result())
            future.release()
    finally:
        client.close()

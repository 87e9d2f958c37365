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
import signal
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import get_context

import pandas as pd
import pyarrow as pa

from simulator import faults
from simulator.engine import simulate
from simulator.scenario import Scenario, ScenarioError

__all__ = ["DEFAULT_RETRIES", "EXECUTORS", "RunFailure", "RunOutput", "RunTask",
           "default_workers", "execute", "run_tasks"]

EXECUTORS = ("local", "dask")
#: Times a run is tried again after the process running it died (killed, out of memory,
#: crashed); a run that raises is not retried (it would raise again).
DEFAULT_RETRIES = 1


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
    faults.point("run.start", task.run_id)
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
              scheduler: str | None = None, retries: int = DEFAULT_RETRIES) -> None:
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
    retries : int
        Times a run is tried again when the worker process running it dies
        (``SIGKILL``, the out-of-memory killer, a crash). When a local pool's
        worker dies, the pool breaks and every run in flight is suspect: each
        is then run alone in a fresh process, so only the run that kills its
        process fails (:class:`RunFailure` naming the signal), and the other
        runs go on in a new pool. In this process (one worker) a dying run
        takes the process with it; a rerun of an experiment resumes.

    Raises
    ------
    ScenarioError
        For an unknown executor, a bad worker or retry count, a Dask run
        without a scheduler address or without the ``dask`` extra installed.
    """
    check_executor(executor, workers, scheduler)
    if retries < 0:
        raise ScenarioError(f"--retries must be at least 0; got {retries}", field="--retries")
    if not tasks:
        return
    if executor == "dask":
        _run_dask(tasks, on_done, scheduler, retries)
        return
    workers = default_workers() if workers is None else int(workers)
    workers = min(workers, len(tasks))
    if workers == 1:
        for task in tasks:
            on_done(_execute_safely(task))
        return
    _run_pool(tasks, on_done, workers, retries)


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


def _run_pool(tasks: Sequence[RunTask], on_done, workers: int, retries: int) -> None:
    queue = deque(tasks)
    while queue:
        # The runs in flight when a worker died: one of them killed it (or the system
        # killed it while running them); each is run alone to find out.
        for task in _pool_pass(queue, on_done, workers):
            on_done(_run_alone(task, retries))


def _pool_pass(queue: deque[RunTask], on_done, workers: int) -> list[RunTask]:
    """Run tasks from ``queue`` in a process pool until it is empty or a worker dies.

    Returns the tasks that were in flight when the pool broke (none if it did not).
    """
    # At most a few runs in flight per worker: a long sweep never queues every
    # scenario in the pipe at once, and a failure shows early.
    pending: dict[Future, RunTask] = {}
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"),
                             initializer=_exit_with_parent, initargs=(os.getpid(),)) as pool:
        def fill() -> None:
            while queue and len(pending) < 2 * workers:
                future = pool.submit(_execute_safely, queue[0])  # a broken pool raises here
                pending[future] = queue.popleft()

        try:
            fill()
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    outcome = future.result()  # BrokenProcessPool if a worker died
                    del pending[future]
                    on_done(outcome)
                fill()
        except BrokenProcessPool:
            # Runs that finished before the break are reported; the others are suspects.
            suspects = []
            for future, task in pending.items():
                if future.done() and future.exception() is None:
                    on_done(future.result())
                else:
                    suspects.append(task)
            return suspects
    return []


def _run_alone(task: RunTask, retries: int) -> RunOutput | RunFailure:
    """Run ``task`` in a process of its own, up to ``1 + retries`` times while the process dies."""
    context = get_context("spawn")
    deaths = []
    for _ in range(1 + retries):
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=_alone_main, args=(task, send, os.getpid()),
                                  name=f"mujun-run-{task.run_id}")
        process.start()
        send.close()
        try:
            outcome = receive.recv()  # EOFError once the process is gone without an answer
        except EOFError:
            outcome = None
        finally:
            receive.close()
        process.join()
        if outcome is not None:
            return outcome
        deaths.append(_death(process.exitcode))
    return RunFailure(run_id=task.run_id,
                      error=f"the worker process running it died "
                            f"{'once' if len(deaths) == 1 else f'{len(deaths)} times'}: "
                            f"{deaths[-1]}")


def _alone_main(task: RunTask, send, parent: int) -> None:
    _exit_with_parent(parent)
    send.send(_execute_safely(task))
    send.close()


def _death(exitcode: int | None) -> str:
    """Describe how a worker process ended without an answer."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = " (as the out-of-memory killer does)" if -exitcode == signal.SIGKILL else ""
        return f"killed by {name}{hint}"
    return f"exited with status {exitcode} without a result"


def _run_dask(tasks: Sequence[RunTask], on_done, scheduler: str, retries: int) -> None:
    from distributed import Client, as_completed  # there: check_executor
    started = time.perf_counter()
    try:
        client = Client(scheduler, timeout="30s")
    except OSError as exc:
        raise ScenarioError(f"cannot reach the Dask scheduler at {scheduler}: {exc}",
                            field="--scheduler") from None
    try:
        # Dask reschedules a task whose worker died, ``retries`` times; then its result
        # raises (KilledWorker): a failed run like any other.
        futures = {client.submit(_execute_safely, task, key=f"mujun-{task.run_id}-{started}",
                                 pure=False, retries=retries): task for task in tasks}
        for future in as_completed(futures):
            try:
                outcome = future.result()
            except Exception as exc:  # noqa: BLE001  (the worker died, not the run)
                outcome = RunFailure(run_id=futures[future].run_id,
                                     error=f"{type(exc).__name__}: {exc}")
            on_done(outcome)
            future.release()
    finally:
        client.close()

"""Runs of one scenario: ``replications`` times into one run directory, written atomically.

:func:`run_scenario` simulates a scenario (the replication index selecting
the random streams) and writes a complete run directory
(:class:`~simulator.results.RunDirectory`): metrics, per-firm rows, the
resolved scenario, the manifest and, inside it before the rename, the
figures. Several replications run through :mod:`simulator.experiment.executors` and are
written in replication order as they finish.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from simulator.engine import simulate
from simulator.experiment.directory import Progress
from simulator.experiment.executors import (
    DEFAULT_RETRIES,
    RunFailure,
    RunOutput,
    RunTask,
    check_executor,
    run_tasks,
)
from simulator.results import ExperimentFailedError, RunDirectory, manifest_for
from simulator.scenario import Scenario, ScenarioError

__all__ = ["run_scenario"]

log = logging.getLogger("simulator.experiment")  # the package's logger


def run_scenario(scenario: Scenario, *, out: Path | str = "results", replication: int = 0,
                 replications: int = 1, figures: bool = True, lang: str = "en",
                 progress: Callable[[int, int], None] | None = None,
                 run_progress: Progress | None = None, executor: str = "local",
                 workers: int | None = 1, scheduler: str | None = None,
                 retries: int = DEFAULT_RETRIES,
                 before_writing: Callable[[], None] | None = None) -> Path:
    """Simulate ``scenario`` and write a complete run directory.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario.
    out : Path or str
        Results root; the run goes to ``out/<scenario name>/<UTC timestamp>``.
    replication : int
        Index of the first replication (with the seed it selects the random streams).
    replications : int
        Number of replications: ``replication, replication + 1, ...``. Their
        metrics and per-firm rows share the run's files, told apart by the
        ``replication`` column; the figures show means with 95% intervals.
    figures : bool
        Make the figure set after writing the data.
    lang : {"en", "zh"}
        Language of figure labels.
    progress : callable, optional
        ``progress(months_done, months_total)`` (a single replication).
    run_progress : callable, optional
        ``run_progress(runs_done, runs_total, runs_failed)`` (several replications).
    executor, workers, scheduler, retries
        Where replications run and how often a replication whose worker died is
        tried again (see :func:`simulator.experiment.executors.run_tasks`); one
        replication always runs in this process.
    before_writing : callable, optional
        Called once every replication has run, before the metrics and figures
        are written (a command line's status line).

    Returns
    -------
    Path
        The finished run directory.
    """
    if replications < 1:
        raise ScenarioError(f"--replications must be at least 1; got {replications}",
                            field="--replications")
    if replications > 1:
        check_executor(executor, workers, scheduler)
    started = datetime.now(UTC)
    with RunDirectory.new(Path(out), scenario.name) as run:
        if replications == 1:
            result = simulate(scenario, replication=replication,
                              on_snapshot=run.write_snapshot, progress=progress)
            metrics, wall, firms = result.metrics, result.wall_time_s, result.firms.n
        else:
            metrics, wall, firms = _replications_into(
                run, scenario, range(replication, replication + replications),
                progress=run_progress, executor=executor, workers=workers,
                scheduler=scheduler, retries=retries)
        if before_writing is not None:
            before_writing()
        run.write_metrics(metrics)
        run.write_scenario(scenario)
        run.write_manifest(manifest_for(scenario, replications=replications,
                                        wall_time_s=wall, started=started, firms=firms))
        if figures:  # inside: the run directory appears with its figures or not at all
            from simulator.plots import make_figures

            run.close_writers()
            make_figures(run.tmp, lang=lang)
    log.info("run written to %s", run.final)
    return run.final


def _replications_into(run: RunDirectory, scenario: Scenario, replications: range, *,
                       progress: Progress | None, executor: str, workers: int | None,
                       scheduler: str | None, retries: int) -> tuple[pd.DataFrame, float, int]:
    """Run the replications and write them into ``run`` in replication order."""
    snapshots = scenario.output.firm_snapshots
    tasks = [RunTask(run_id=str(k), scenario=scenario, replication=k, snapshots=snapshots)
             for k in replications]
    waiting: dict[int, RunOutput] = {}  # finished out of order, written when their turn comes
    written: list[pd.DataFrame] = []
    state = {"next": replications.start, "wall": 0.0, "firms": 0, "done": 0}

    def on_done(outcome: RunOutput | RunFailure) -> None:
        if isinstance(outcome, RunFailure):
            log.error("replication %s failed:\n%s", outcome.run_id, outcome.error)
            raise ExperimentFailedError(f"replication {outcome.run_id} failed "
                                        f"({outcome.error.strip().splitlines()[-1]}); "
                                        "nothing was written")
        waiting[int(outcome.run_id)] = outcome
        while state["next"] in waiting:
            out = waiting.pop(state["next"])
            if out.snapshots is not None:
                run.write_snapshot(out.snapshots)
            written.append(out.metrics)
            state["wall"] += out.wall_time_s
            state["firms"] = out.firms
            state["next"] += 1
        state["done"] += 1
        if progress is not None:
            progress(state["done"], len(tasks), 0)

    if progress is not None:
        progress(0, len(tasks), 0)
    run_tasks(tasks, on_done=on_done, executor=executor, workers=workers, scheduler=scheduler,
              retries=retries)
    return pd.concat(written, ignore_index=True), state["wall"], state["firms"]


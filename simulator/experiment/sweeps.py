"""Parameter sweeps: a sweep file's design run in an experiment directory, one row per run.

:func:`sweep` runs the design of a sweep file (grid, Latin hypercube or
Sobol'/Saltelli, see :mod:`simulator.sweep`), writes ``outputs.csv`` (the
outputs of every run) and, for Sobol designs, ``sobol.csv`` (first-order and
total indices), then the figures.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import yaml

from simulator.experiment.directory import ExperimentDirectory, Progress, fingerprint, slug
from simulator.experiment.executors import DEFAULT_RETRIES, RunTask, check_executor
from simulator.results import read_run

if TYPE_CHECKING:
    from simulator.sweep import SweepProblem

__all__ = ["sweep"]


def sweep(spec: Any, *, out: Path | str | None = None, force: bool = False,
          figures: bool = True, lang: str = "en", executor: str = "local",
          workers: int | None = None, scheduler: str | None = None,
          retries: int = DEFAULT_RETRIES, progress: Progress | None = None,
          before_writing: Callable[[], None] | None = None) -> pd.DataFrame:
    """Run a sweep file's design and return one row per run.

    Parameters
    ----------
    spec : str, Path or simulator.sweep.SweepProblem
        The sweep file (see :mod:`simulator.sweep`) or a loaded one.
    out : Path or str, optional
        Experiment directory (default ``results/sweep/<name>``). Rerunning
        the same sweep resumes it; each run is written as it finishes.
    force : bool
        Start over, deleting what ``out`` holds.
    executor, workers, scheduler
        Where runs execute (see :func:`simulator.experiment.executors.run_tasks`).
    progress : callable, optional
        ``progress(runs_done, runs_total, runs_failed)``.
    before_writing : callable, optional
        Called once every run is done, before the outputs and figures are written.

    Returns
    -------
    pandas.DataFrame
        Columns ``sample, replication``, one per parameter (dotted path) and
        one per output, sorted by sample and replication; also written to
        ``outputs.csv``. Sobol designs also write ``sobol.csv``
        (:func:`simulator.sweep.sobol_indices`).
    """
    from simulator.sweep import SweepProblem, load_sweep, sobol_indices

    problem = spec if isinstance(spec, SweepProblem) else load_sweep(spec)  # logs its warnings
    check_executor(executor, workers, scheduler)  # before anything is written
    spec_ = problem.spec
    out = Path(out) if out is not None else Path("results") / "sweep" / slug(problem.name)
    design = problem.design
    with ExperimentDirectory(out, {
        "kind": "sweep", "name": problem.name, "design": spec_.design,
        "parameters": problem.parameters, "outputs": problem.outputs,
        "samples": len(design), "replications": spec_.replications,
        "seed": problem.scenario.seed,
        "fingerprint": fingerprint("sweep", problem.scenario.model_dump(mode="json"),
                                   design.to_dict(orient="list"), spec_.replications,
                                   problem.outputs,
                                   [o.model_dump(mode="json") for o in spec_.outputs]),
    }, force=force) as exp:
        exp.write_text("sweep.yaml", problem.file.read_text(encoding="utf-8"))
        exp.write_text("scenarios/base.yaml", yaml.safe_dump(
            problem.scenario.model_dump(mode="json"), allow_unicode=True, sort_keys=False))
        exp.write_csv("design.csv", design)

        tasks, manifests = _sweep_runs(problem)
        exp.execute(tasks, manifests, progress=progress, executor=executor, workers=workers,
                    scheduler=scheduler, retries=retries)

        if before_writing is not None:
            before_writing()
        outputs = _sweep_outputs(exp, problem, tasks, manifests)
        exp.write_csv("outputs.csv", outputs)
        if spec_.design == "sobol":
            exp.write_csv("sobol.csv", sobol_indices(problem, outputs))
        if figures:
            from simulator.plots.sweep import sweep_figures

            sweep_figures(exp.path, lang=lang)  # Sobol indices when sobol.csv exists
        exp.finish()  # after the figures: an interrupted experiment is not finished
        outputs.attrs["path"] = str(exp.path)
        return outputs


def _sweep_runs(problem: SweepProblem) -> tuple[list[RunTask], dict[str, dict]]:
    """Return the sweep's runs (a task per sample and replication) and their manifests."""
    spec_, design = problem.spec, problem.design
    tasks, manifests = [], {}
    values = design.set_index("sample")
    # Per-firm tables of every run only when the sweep file asks for them (a thousand runs
    # of a county would otherwise write gigabytes the outputs do not need).
    snapshots = spec_.overrides.get("output.firm_snapshots") is True
    for sample in design["sample"]:
        scenario = problem.scenario_for(int(sample))
        params = {p: _plain(values.at[sample, p]) for p in problem.parameters}
        for k in range(spec_.replications):
            run_id = f"s{int(sample):05d}-r{k:02d}"
            tasks.append(RunTask(run_id=run_id, scenario=scenario, replication=k,
                                 snapshots=snapshots))
            manifests[run_id] = {"sample": int(sample), "replication": k,
                                 "seed": scenario.seed, "parameters": params}
    return tasks, manifests


def _sweep_outputs(exp: ExperimentDirectory, problem: SweepProblem, tasks: list[RunTask],
                   manifests: dict[str, dict]) -> pd.DataFrame:
    """Return one row per run: sample, replication, parameters and outputs (from its files)."""
    from simulator.sweep import output_values

    rows = []
    for task in tasks:  # one run's metrics at a time: memory stays small
        manifest = manifests[task.run_id]
        metrics = read_run(exp.run_dir(task.run_id))[1]
        rows.append({"sample": manifest["sample"], "replication": manifest["replication"],
                     **manifest["parameters"], **output_values(problem, metrics)})
    return pd.DataFrame(rows, columns=["sample", "replication", *problem.parameters,
                                       *problem.outputs])


def _plain(value: Any) -> Any:
    """Return a numpy scalar as a plain Python number (for JSON)."""
    return value.item() if hasattr(value, "item") else value

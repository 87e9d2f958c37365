"""Experiments: runs, replications, scenario comparisons and parameter sweeps.

* :func:`run_scenario` simulates a scenario (``replications`` times, with the
  replication index selecting the random streams) into one run directory,
  written atomically.
* :func:`compare` runs several scenarios with the same seed and replications
  (common random numbers: replication ``k`` of every scenario sees the same
  shocks), then writes each scenario's means with 95% intervals, the paired
  differences to the first scenario, a table of key outcomes and figures.
* :func:`sweep` runs a sweep file's design (grid, Latin hypercube or
  Sobol'/Saltelli, see :mod:`simulator.sweep`) and returns one row per run;
  Sobol designs also get first-order and total indices.

Comparisons and sweeps write into an :class:`ExperimentDirectory` whose path
does not depend on the time, so that rerunning the same command resumes: each
finished run is a directory renamed into place when complete (``runs/<id>``),
and a rerun skips those and runs the rest. Runs are computed by
:mod:`simulator.executors` (this process, a local process pool or a Dask
cluster) and written here as each one finishes, so memory holds one run at a
time; every summary is computed from the files, sorted by run, so results do
not depend on the executor, the number of workers or interruptions.
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
import yaml

from simulator import catalogue, faults
from simulator.engine import simulate
from simulator.executors import (
    DEFAULT_RETRIES,
    RunFailure,
    RunOutput,
    RunTask,
    check_executor,
    run_tasks,
)
from simulator.results import (
    DirectoryLock,
    ExperimentFailedError,
    RunDirectory,
    atomic_write,
    digests,
    git_revision,
    manifest_for,
    package_version,
    read_json_record,
    read_run,
    remove_temporaries,
    write_parquet,
)
from simulator.scenario import Scenario, ScenarioError, apply_changes, safe_name
from simulator.stats import paired_differences, summarise

__all__ = ["ExperimentDirectory", "ExperimentFailedError", "compare", "key_outcomes",
           "run_scenario", "summary_table", "sweep"]

log = logging.getLogger(__name__)

#: ``progress(runs_done, runs_total, runs_failed)`` for experiments of several runs.
Progress = Callable[[int, int, int], None]
#: Indicators shown in the run summary: metric, group, label (the catalogue's key indicators).
SUMMARY_ROWS: tuple[tuple[str, str, str], ...] = catalogue.key_indicators("en")


def run_scenario(scenario: Scenario, *, out: Path | str = "results", replication: int = 0,
                 replications: int = 1, figures: bool = True, lang: str = "en",
                 progress: Callable[[int, int], None] | None = None,
                 run_progress: Progress | None = None, executor: str = "local",
                 workers: int | None = 1, scheduler: str | None = None,
                 retries: int = DEFAULT_RETRIES) -> Path:
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
        tried again (see :func:`simulator.executors.run_tasks`); one
        replication always runs in this process.

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


def summary_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """Key indicators in the first and last year of a run, mean over replications.

    Returns
    -------
    pandas.DataFrame
        Index: indicator labels; for the first and the last year a column
        ``"<year>"`` (the mean) and, with several replications, ``"<year> ci_low"``
        and ``"<year> ci_high"`` (its t-based 95% interval).
    """
    summary = summarise(metrics)
    first, last = int(summary["year"].min()), int(summary["year"].max())
    several = metrics["replication"].nunique() > 1
    keyed = summary.set_index(["metric", "group", "year"])
    rows = {}
    for metric, group, label in SUMMARY_ROWS:
        row = {}
        for year in (first, last):
            hit = keyed.loc[(metric, group, year)] if (metric, group, year) in keyed.index \
                else None
            row[str(year)] = float("nan") if hit is None else hit["mean"]
            if several:
                row[f"{year} ci_low"] = float("nan") if hit is None else hit["ci_low"]
                row[f"{year} ci_high"] = float("nan") if hit is None else hit["ci_high"]
        rows[label] = row
    return pd.DataFrame.from_dict(rows, orient="index")


# ------------------------------------------------------------- experiment directories


def _write_json(path: Path, data: dict) -> None:
    atomic_write(path, lambda p: p.write_text(
        json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"))


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
        _write_json(record, self.info)  # first, then the runs
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
            _write_json(self.path / "experiment.json", self.info)
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
        _write_json(self.path / self.RECORD, self.info)


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


def _slug(text: str, limit: int = 80) -> str:
    return safe_name(text)[:limit] or "experiment"


# --------------------------------------------------------------------------- compare


def key_outcomes(summary: pd.DataFrame, differences: pd.DataFrame) -> pd.DataFrame:
    """Return the key indicators in the last year: each scenario's mean and paired difference.

    Returns
    -------
    pandas.DataFrame
        Tidy: ``indicator, metric, group, year, scenario, n, mean, ci_low,
        ci_high, diff, diff_ci_low, diff_ci_high`` (the differences are NaN
        for the reference scenario).
    """
    year = int(summary["year"].max())
    rows = []
    keyed = summary[summary["year"] == year].set_index(["metric", "group", "scenario"])
    diffs = (differences[differences["year"] == year].set_index(["metric", "group", "scenario"])
             if len(differences) else None)
    scenarios = list(pd.unique(summary["scenario"]))
    for metric, group, label in SUMMARY_ROWS:
        for name in scenarios:
            if (metric, group, name) not in keyed.index:
                continue
            s = keyed.loc[(metric, group, name)]
            row = {"indicator": label, "metric": metric, "group": group, "year": year,
                   "scenario": name, "n": int(s["n"]), "mean": s["mean"],
                   "ci_low": s["ci_low"], "ci_high": s["ci_high"],
                   "diff": float("nan"), "diff_ci_low": float("nan"),
                   "diff_ci_high": float("nan")}
            if diffs is not None and (metric, group, name) in diffs.index:
                d = diffs.loc[(metric, group, name)]
                row.update(diff=d["mean"], diff_ci_low=d["ci_low"], diff_ci_high=d["ci_high"])
            rows.append(row)
    return pd.DataFrame(rows)


def compare(scenarios: Sequence[Scenario], *, replications: int = 1, seed: int | None = None,
            out: Path | str | None = None, force: bool = False, figures: bool = True,
            lang: str = "en", executor: str = "local", workers: int | None = None,
            scheduler: str | None = None, retries: int = DEFAULT_RETRIES,
            progress: Progress | None = None) -> Path:
    """Run scenarios with common random numbers and write their comparison.

    Every scenario runs with the same seed (``seed``, else the first
    scenario's) and replications ``0 .. replications - 1``, so replication
    ``k`` of each sees the same shocks and differences are paired.

    Parameters
    ----------
    scenarios : sequence of Scenario
        Two or more scenarios with distinct names; the first is the reference.
    replications : int
        Replications per scenario.
    out : Path or str, optional
        Experiment directory (default ``results/compare/<a>-vs-<b>...``). Rerunning
        with the same scenarios resumes it.
    force : bool
        Start over, deleting what ``out`` holds.

    Returns
    -------
    Path
        The experiment directory: ``experiment.json``, ``scenarios/<name>.yaml``,
        ``runs/<name>/r<k>/``, ``metrics.parquet``, ``summary.csv``,
        ``differences.csv``, ``table.csv`` and ``figures/``.
    """
    if len(scenarios) < 1:
        raise ScenarioError("compare needs at least one scenario")
    if replications < 1:
        raise ScenarioError(f"--replications must be at least 1; got {replications}",
                            field="--replications")
    check_executor(executor, workers, scheduler)  # before anything is written
    names = [s.name for s in scenarios]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ScenarioError(f"scenarios to compare need distinct names; {repeated} appears "
                            "more than once (set `name:` in the files)", field="name")
    seed = scenarios[0].seed if seed is None else int(seed)
    scenarios = [apply_changes(s, {"seed": seed}) if s.seed != seed else s for s in scenarios]
    dumps = [s.model_dump(mode="json") for s in scenarios]
    out = Path(out) if out is not None else Path("results") / "compare" / _slug("-vs-".join(names))
    with ExperimentDirectory(out, {
        "kind": "compare", "name": out.name, "scenarios": names, "reference": names[0],
        "replications": replications, "seed": seed,
        "fingerprint": fingerprint("compare", dumps, replications),
    }, force=force) as exp:
        for scenario in scenarios:
            exp.write_text(f"scenarios/{scenario.name}.yaml",
                           yaml.safe_dump(scenario.model_dump(mode="json"), allow_unicode=True,
                                          sort_keys=False))
        tasks, manifests = [], {}
        for scenario in scenarios:
            for k in range(replications):
                run_id = f"{scenario.name}/r{k:03d}"
                tasks.append(RunTask(run_id=run_id, scenario=scenario, replication=k,
                                     snapshots=scenario.output.firm_snapshots))
                manifests[run_id] = {"scenario_name": scenario.name, "seed": seed, "replication": k,
                                     "scenario_file": f"../../../scenarios/{scenario.name}.yaml"}
        exp.execute(tasks, manifests, progress=progress, executor=executor, workers=workers,
                    scheduler=scheduler, retries=retries)

        metrics = exp.read_metrics(t.run_id for t in tasks)
        atomic_write(exp.path / "metrics.parquet",
                     lambda p: write_parquet(metrics, p))
        summary = summarise(metrics)
        differences = paired_differences(metrics, names[0])
        exp.write_csv("summary.csv", summary)
        exp.write_csv("differences.csv", differences)
        exp.write_csv("table.csv", key_outcomes(summary, differences))
        if figures:
            from simulator.plots.compare import compare_figures

            compare_figures(exp.path, lang=lang)
        exp.finish()  # after the figures: an interrupted experiment is not finished
        return exp.path


# ----------------------------------------------------------------------------- sweeps


def sweep(spec: Any, *, out: Path | str | None = None, force: bool = False,
          figures: bool = True, lang: str = "en", executor: str = "local",
          workers: int | None = None, scheduler: str | None = None,
          retries: int = DEFAULT_RETRIES, progress: Progress | None = None) -> pd.DataFrame:
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
        Where runs execute (see :func:`simulator.executors.run_tasks`).
    progress : callable, optional
        ``progress(runs_done, runs_total, runs_failed)``.

    Returns
    -------
    pandas.DataFrame
        Columns ``sample, replication``, one per parameter (dotted path) and
        one per output, sorted by sample and replication; also written to
        ``outputs.csv``. Sobol designs also write ``sobol.csv``
        (:func:`simulator.sweep.sobol_indices`).
    """
    from simulator.sweep import SweepProblem, load_sweep, output_values, sobol_indices

    problem = spec if isinstance(spec, SweepProblem) else load_sweep(spec)  # logs its warnings
    check_executor(executor, workers, scheduler)  # before anything is written
    spec_ = problem.spec
    out = Path(out) if out is not None else Path("results") / "sweep" / _slug(problem.name)
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
        exp.execute(tasks, manifests, progress=progress, executor=executor, workers=workers,
                    scheduler=scheduler, retries=retries)

        rows = []
        for task in tasks:  # one run's metrics at a time: memory stays small
            manifest = manifests[task.run_id]
            metrics = read_run(exp.run_dir(task.run_id))[1]
            rows.append({"sample": manifest["sample"], "replication": manifest["replication"],
                         **manifest["parameters"], **output_values(problem, metrics)})
        outputs = pd.DataFrame(rows, columns=["sample", "replication", *problem.parameters,
                                              *problem.outputs])
        exp.write_csv("outputs.csv", outputs)
        if spec_.design == "sobol":
            exp.write_csv("sobol.csv", sobol_indices(problem, outputs))
        if figures:
            from simulator.plots.sweep import sobol_figures, sweep_scatter

            sweep_scatter(exp.path, lang=lang)
            if spec_.design == "sobol":
                sobol_figures(exp.path, lang=lang)
        exp.finish()  # after the figures: an interrupted experiment is not finished
        outputs.attrs["path"] = str(exp.path)
        return outputs


def _plain(value: Any) -> Any:
    """Return a numpy scalar as a plain Python number (for JSON)."""
    return value.item() if hasattr(value, "item") else value

"""Scenario comparisons: common random numbers, paired differences, a table and figures.

:func:`compare` runs several scenarios with the same seed and replications
(replication ``k`` of every scenario sees the same shocks) in an
:class:`~simulator.experiment.directory.ExperimentDirectory`, then writes
each scenario's means with 95% intervals (``summary.csv``), the paired
differences to the first scenario (``differences.csv``), the key outcomes
(``table.csv``) and the figures.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import yaml

from simulator.experiment.directory import ExperimentDirectory, Progress, fingerprint, slug
from simulator.experiment.executors import DEFAULT_RETRIES, RunTask, check_executor
from simulator.results import atomic_write, write_parquet
from simulator.results.stats import paired_differences, summarise
from simulator.results.summary import key_outcomes
from simulator.scenario import Scenario, ScenarioError, apply_changes
from simulator.scenario.specfiles import DEFAULT_REPLICATIONS

__all__ = ["compare"]



def compare(scenarios: Sequence[Scenario], *, replications: int = DEFAULT_REPLICATIONS,
            seed: int | None = None,
            out: Path | str | None = None, force: bool = False, figures: bool = True,
            lang: str = "en", executor: str = "local", workers: int | None = None,
            scheduler: str | None = None, retries: int = DEFAULT_RETRIES,
            progress: Progress | None = None,
            before_writing: Callable[[], None] | None = None) -> Path:
    """Run scenarios with common random numbers and write their comparison.

    Every scenario runs with the same seed (``seed``, else the first
    scenario's) and replications ``0 .. replications - 1``, so replication
    ``k`` of each sees the same shocks and differences are paired.

    Parameters
    ----------
    scenarios : sequence of Scenario
        Two or more scenarios with distinct names; the first is the reference.
    replications : int
        Replications per scenario (default 5: enough for a paired 95% interval
        of each difference; use 10 or more for intervals worth quoting).
    out : Path or str, optional
        Experiment directory (default ``results/compare/<a>-vs-<b>...``). Rerunning
        with the same scenarios resumes it.
    force : bool
        Start over, deleting what ``out`` holds.
    before_writing : callable, optional
        Called once every run is done, before the tables and figures are written.

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
    out = Path(out) if out is not None else Path("results") / "compare" / slug("-vs-".join(names))
    with ExperimentDirectory(out, {
        "kind": "compare", "name": out.name, "scenarios": names, "reference": names[0],
        "replications": replications, "seed": seed,
        "fingerprint": fingerprint("compare", dumps, replications),
    }, force=force) as exp:
        for scenario in scenarios:
            exp.write_text(f"scenarios/{scenario.name}.yaml",
                           yaml.safe_dump(scenario.model_dump(mode="json"), allow_unicode=True,
                                          sort_keys=False))
        tasks, manifests = _runs(scenarios, replications, seed)
        exp.execute(tasks, manifests, progress=progress, executor=executor, workers=workers,
                    scheduler=scheduler, retries=retries)

        if before_writing is not None:
            before_writing()
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



def _runs(scenarios: Sequence[Scenario], replications: int,
          seed: int) -> tuple[list[RunTask], dict[str, dict]]:
    """Return the comparison's runs (a task per scenario and replication) and manifests."""
    tasks, manifests = [], {}
    for scenario in scenarios:
        for k in range(replications):
            run_id = f"{scenario.name}/r{k:03d}"
            tasks.append(RunTask(run_id=run_id, scenario=scenario, replication=k,
                                 snapshots=scenario.output.firm_snapshots))
            manifests[run_id] = {"scenario_name": scenario.name, "seed": seed, "replication": k,
                                 "scenario_file": f"../../../scenarios/{scenario.name}.yaml"}
    return tasks, manifests

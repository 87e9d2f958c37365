"""Commands that run experiments: ``run`` (the default), ``compare`` and ``sweep``.

Every input error is raised before anything runs or is written (the memory
estimate of ``run`` included); the simulation modules are imported on first
use.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from simulator.cli.output import (
    plural,
    print_comparison,
    print_summary,
    run_bar,
    status_of,
    warn,
)
from simulator.experiment import resources
from simulator.scenario import ScenarioError, default_scenario_path, load_scenario

__all__ = ["compare_command", "run_command", "sweep_command"]


def run_command(args: argparse.Namespace) -> int:
    """Run a scenario; print its summary and warnings (``run``, the default command)."""
    from simulator.experiment import run_scenario, summary_table
    from simulator.results import read_run

    path = Path(args.scenario) if args.scenario else default_scenario_path()
    overrides = {"seed": args.seed} if args.seed is not None else None
    scenario = load_scenario(path, overrides=overrides)
    n_firms = None
    if scenario.population.source == "file":
        from simulator.population import read_firm_table

        n_firms = len(read_firm_table(scenario.population.file))
    resources.check_fits(  # before anything is allocated or written
        resources.estimate_run(scenario, n_firms=n_firms, replications=args.replications,
                               workers=args.workers, executor=args.executor,
                               figures=not args.no_figures), file=path, force=args.force)
    kwargs = {"out": args.out, "figures": not args.no_figures, "lang": args.lang,
              "replications": args.replications, **_executor_kwargs(args)}
    if args.replications > 1:
        with run_bar(scenario.name, args.quiet) as bar:
            run_dir = run_scenario(scenario, run_progress=bar, before_writing=status_of(bar),
                                   **kwargs)
    else:
        with run_bar(scenario.name, args.quiet, unit="months") as bar:
            run_dir = run_scenario(scenario, progress=bar.months if bar else None,
                                   before_writing=status_of(bar), **kwargs)
    manifest, metrics = read_run(run_dir)
    if not args.quiet:
        print_summary(scenario.name, manifest, summary_table(metrics))
        print(f"results: {run_dir}")
        if not args.no_figures:
            print(f"figures: {run_dir / 'figures'}")
    from simulator.reporting.diagnostics import market_warnings

    warn(market_warnings(metrics))
    return 0


def compare_command(args: argparse.Namespace) -> int:
    """Run scenarios with the same seeds; print the paired differences (``compare``)."""
    from simulator.experiment import compare

    scenarios = [load_scenario(p) for p in args.scenarios]  # every input error before any run
    title = " vs ".join(s.name for s in scenarios)
    with run_bar(title, args.quiet) as bar:
        out = compare(scenarios, replications=args.replications, seed=args.seed, out=args.out,
                      force=args.force, figures=not args.no_figures, lang=args.lang,
                      progress=bar, before_writing=status_of(bar), **_executor_kwargs(args))
    if not args.quiet:
        import pandas as pd

        print_comparison(pd.read_csv(out / "table.csv"), args.replications)
        print(f"results: {out}")
    return 0


def sweep_command(args: argparse.Namespace) -> int:
    """Run a sweep file's design (resumable); say where its outputs are (``sweep``)."""
    from simulator.experiment import sweep
    from simulator.sweep import load_sweep

    problem = load_sweep(args.sweep)  # input errors before any run; logs its warnings
    if args.replications is not None:
        if args.replications < 1:
            raise ScenarioError(f"--replications must be at least 1; got {args.replications}",
                                field="--replications")
        problem = dataclasses.replace(problem, spec=problem.spec.model_copy(
            update={"replications": args.replications}))
    with run_bar(problem.name, args.quiet) as bar:
        outputs = sweep(problem, out=args.out, force=args.force, figures=not args.no_figures,
                        lang=args.lang, progress=bar, before_writing=status_of(bar),
                        **_executor_kwargs(args))
    if not args.quiet:
        out = Path(outputs.attrs["path"])
        print(f"{plural(len(outputs), 'run')} ({problem.spec.design} design, "
              f"{plural(problem.spec.replications, 'replication')} per point); outputs: "
              f"{out / 'outputs.csv'}")
        if (out / "sobol.csv").exists():
            print(f"Sobol indices: {out / 'sobol.csv'}")
        print(f"results: {out}")
    return 0


def _executor_kwargs(args: argparse.Namespace) -> dict:
    kwargs = {"executor": args.executor, "workers": args.workers, "scheduler": args.scheduler}
    if args.retries is not None:  # else the library's default (executors.DEFAULT_RETRIES)
        kwargs["retries"] = args.retries
    return kwargs

"""Commands that study a scenario: ``evaluate``, ``calibrate``, ``backtest`` and ``caps``.

``evaluate`` scores a real firm table with a scenario's rules, ``calibrate``
fits parameters to observed aggregates, ``backtest`` compares a history
run with what was observed, and ``caps`` prices a market's cap before a
run. Their modules are imported on first use.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from simulator.cli.output import plural, print_backtest, print_calibration
from simulator.cli.parser import EXIT_FAILED
from simulator.results import stamped_path
from simulator.scenario import ScenarioError, default_scenario_path, load_scenario

__all__ = ["backtest_command", "calibrate_command", "caps_command", "evaluate_command"]


def evaluate_command(args: argparse.Namespace) -> int:
    """Score a firm table with a scenario's rules; write the scores (``evaluate``)."""
    from simulator.evaluation import evaluate_table
    from simulator.population import read_firm_table
    from simulator.results.tables import table_format, write_table

    table_format(args.out)  # a wrong suffix before any work
    scenario = load_scenario(args.scenario or default_scenario_path())
    table = read_firm_table(args.table)
    scored = evaluate_table(table, scenario, sectors=args.sectors)
    out = write_table(scored, args.out, sheet="scores")
    counts = scored["class"].value_counts().reindex(["A", "B", "C", "D", "U"], fill_value=0)
    print(f"scored {plural(len(scored), 'firm')} with {scenario.name!r} rules: "
          + ", ".join(f"{k} {v}" for k, v in counts.items()) + f" -> {out}")
    return 0


def calibrate_command(args: argparse.Namespace) -> int:
    """Fit a calibration file's parameters; write and print the fit (``calibrate``)."""
    from simulator.calibration import calibrate, load_calibration, write_fitted

    problem = load_calibration(args.calibration)  # input errors before any simulation
    out = (Path(args.out) if args.out
           else stamped_path(Path("results") / "calibrate" / problem.name))
    if out.exists():
        raise ScenarioError("output directory already exists", file=out)
    if sys.stderr.isatty() and not args.quiet:
        from rich.progress import BarColumn, Progress, TextColumn

        with Progress(TextColumn(f"[bold]{problem.name}[/bold]"), BarColumn(),
                      TextColumn("{task.completed}/{task.total} evaluations"),
                      transient=True) as bar:
            task = bar.add_task("fit", total=problem.spec.max_evaluations)
            result = calibrate(problem,
                               progress=lambda k, n: bar.update(task, completed=k))
    else:
        result = calibrate(problem)
    run_dir = write_fitted(result, out, suffix_if_taken=not args.out)
    print_calibration(result)
    print(f"fitted scenario: {run_dir / 'fitted.yaml'}")
    return 0


def backtest_command(args: argparse.Namespace) -> int:
    """Run a history and compare it with what was observed (``backtest``)."""
    from simulator.calibration.backtest import backtest, failures, load_backtest, write_backtest

    problem = load_backtest(args.file)  # input errors before any simulation
    name = problem.scenario.name
    out = Path(args.out) if args.out else stamped_path(Path("results") / "backtest" / name)
    if out.exists():
        raise ScenarioError("output directory already exists", file=out)
    result = backtest(problem, replications=args.replications)
    out = write_backtest(result, out, figures=not args.no_figures, lang=args.lang, title=name,
                         suffix_if_taken=not args.out)  # two in one second: two directories
    print_backtest(result.table, f"{name} ({plural(result.replications, 'replication')})")
    print(f"results: {out}")
    missed = failures(result.table)
    if args.check and len(missed):
        print(f"check failed: {plural(len(missed), 'checked series year')} outside their "
              "tolerance: "
              + ", ".join(f"{r.series} {r.year}" for r in missed.itertuples()),
              file=sys.stderr)
        return EXIT_FAILED
    return 0


def caps_command(args: argparse.Namespace) -> int:
    """Print each year's least-cost price of a market's cap, or a target price's cap (``caps``)."""
    from simulator.markets.cycle import enabled_markets
    from simulator.markets.planning import plan_caps, project_market, scaled_to

    if args.out:
        from simulator.results.tables import table_format

        table_format(args.out)  # a wrong suffix before any work
    scenario = load_scenario(args.scenario or default_scenario_path())
    on = enabled_markets(scenario)
    markets = args.market or on
    for quota in markets:
        if quota not in on:
            raise ScenarioError(f"market {quota!r} is not switched on in {scenario.name!r}; "
                                f"one of {', '.join(on) or 'none'}", field="--market")
    prices = _year_values(args.price, "--price")
    caps = _year_values(args.cap, "--cap")
    import pandas as pd

    used = None
    if args.from_run:
        from simulator.results import read_run

        _, metrics = read_run(args.from_run)
        used = metrics[metrics["month"].isna() & (metrics["metric"] == "quota_unabated_use")]
    tables = []
    for quota in markets:
        projection = project_market(scenario, quota)
        if used is not None:
            rows = used[used["group"] == f"market={quota}"]
            projection = scaled_to(projection, rows.groupby("year")["value"].mean().to_dict())
        table = plan_caps(projection, target_prices=prices, caps=caps)
        table.insert(0, "market", quota)
        tables.append(table)
    table = pd.concat(tables, ignore_index=True)
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(table.to_string(index=False, float_format=lambda v: f"{v:,.4g}"))
    print("projected at potential output, with growth and intensity change; "
          + ("use scaled to the run's unabated use. " if used is not None else
             "no turnover, upgrades or shocks (an upper bound: see --from-run). ")
          + "firm_rights = cap less the reserve's share; price: least-cost, 0 if the cap "
          "does not bind, inf if abatement cannot close the gap")
    if args.out:
        from simulator.results.tables import write_table

        print(f"table: {write_table(table, args.out, sheet='caps')}")
    return 0


def _year_values(items: list[str], option: str) -> dict[int, float]:
    """Parse ``YEAR=VALUE`` options."""
    out = {}
    for item in items:
        year, eq, value = item.partition("=")
        try:
            out[int(year)] = float(value)
        except ValueError:
            raise ScenarioError(f"expected YEAR=VALUE, got {item!r}", field=option) from None
        if not eq or out[int(year)] != out[int(year)]:
            raise ScenarioError(f"expected YEAR=VALUE, got {item!r}", field=option)
    return out

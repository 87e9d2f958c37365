"""Command line: ``python run.py [COMMAND] ...`` (also installed as ``mujun``).

The CLI alone decides what a user sees. Input errors print one line naming
the file, line and field and exit with status 2, without a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from simulator import resources
from simulator.results import ExperimentFailedError, atomic_write
from simulator.scenario import ScenarioError, default_scenario_path, json_schema, load_scenario

__all__ = ["main"]

EXIT_INPUT = 2
COMMANDS = ("run", "compare", "sweep", "validate", "schema", "evaluate", "plot", "report", "card",
            "calibrate", "backtest", "caps")
EXIT_FAILED = 1


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mujun",
        description="Mujun: differential resource-pricing simulator of the 亩均论英雄 reform. "
                    "With no command, runs the embedded default scenario.",
    )
    sub = p.add_subparsers(dest="command")

    r = sub.add_parser("run", help="run a scenario end to end (default: the embedded baseline)")
    r.add_argument("scenario", nargs="?", help="scenario YAML (default: embedded baseline.yaml)")
    r.add_argument("--seed", type=int, help="override the scenario seed")
    r.add_argument("--out", default="results", help="results root (default: results)")
    r.add_argument("--no-figures", action="store_true", help="write data only")
    r.add_argument("--lang", choices=("en", "zh"), default="en", help="figure labels")
    r.add_argument("--replications", type=int, default=1, metavar="R",
                   help="replications (seeds spawned from the scenario seed; default 1)")
    r.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    r.add_argument("--force", action="store_true",
                   help="run even if the estimated peak memory exceeds what is available")
    _executor_options(r)

    cmp = sub.add_parser("compare", help="run scenarios with the same seeds; paired differences")
    cmp.add_argument("scenarios", nargs="+", help="scenario YAML files; the first is the reference")
    cmp.add_argument("--replications", type=int, default=1, metavar="R",
                     help="replications per scenario (default 1; use 10 or more for CIs)")
    cmp.add_argument("--seed", type=int, help="seed of every scenario (default: the first's)")
    _experiment_options(cmp, "results/compare/<a>-vs-<b>")

    sw = sub.add_parser("sweep", help="run a sweep file (grid, LHS, Sobol); resumable")
    sw.add_argument("sweep", help="sweep YAML (see scenarios/sweep_*.yaml)")
    _experiment_options(sw, "results/sweep/<name>")

    v = sub.add_parser("validate", help="check a scenario or sweep file (exit 2 on error)")
    v.add_argument("scenario")
    v.add_argument("--project", action="store_true",
                   help="also project each quota market before running: warn when its cap is "
                        "projected never to bind or its price to sit at the floor or ceiling")
    v.add_argument("--force", action="store_true",
                   help="accept a scenario whose estimated peak memory exceeds what is available")

    s = sub.add_parser("schema", help="print the JSON Schema of scenario files")
    s.add_argument("--out", help="write to this file instead of standard output")

    e = sub.add_parser("evaluate", help="score a real firm table with a scenario's rules")
    e.add_argument("table", help="firm table (.csv or .xlsx)")
    e.add_argument("--scenario", help="scenario whose evaluation rules apply (default: baseline)")
    e.add_argument("--out", required=True, help="output CSV of scores and classes")

    pl = sub.add_parser("plot", help="(re)make the figures of a results directory")
    pl.add_argument("run_dir")
    pl.add_argument("--lang", choices=("en", "zh"), default="en")

    rp = sub.add_parser("report", help="write a self-contained HTML brief of a results directory")
    rp.add_argument("directory", help="a run directory, or a compare or sweep directory")
    rp.add_argument("--out", help="HTML file (default: DIR/brief.html)")
    rp.add_argument("--lang", choices=("en", "zh"), default="en")

    cd = sub.add_parser("card", help="one firm's report card (一企一单) from a run directory")
    cd.add_argument("directory", help="a run directory with firms.parquet")
    cd.add_argument("--firm", type=int, required=True, help="firm id")
    cd.add_argument("--replication", type=int, default=None,
                    help="replication (default: the run's only one, else 0)")
    cd.add_argument("--out", help="HTML file (default: DIR/cards/firm_<ID>.html)")
    cd.add_argument("--lang", choices=("en", "zh"), default="en")

    c = sub.add_parser("calibrate", help="fit scenario parameters to targets; write fitted.yaml")
    c.add_argument("calibration", help="calibration YAML (parameters, targets, method)")
    c.add_argument("--out", help="directory to write (default: "
                                 "results/calibrate/<name>/<UTC timestamp>)")
    c.add_argument("--quiet", action="store_true", help="no progress bar")

    b = sub.add_parser("backtest", help="run the reform's history and compare it with what "
                                        "was observed (fitted and held-out series apart)")
    b.add_argument("file", nargs="?", help="backtest YAML, or a history scenario to compare "
                                           "with the default backtest's series (default: "
                                           "scenarios/backtest/zhejiang_history.yaml)")
    b.add_argument("--replications", type=int, metavar="R",
                   help="replications (default: the file's)")
    b.add_argument("--check", action="store_true",
                   help="exit 1 if a checked series misses its tolerance")
    b.add_argument("--out", help="directory to write (default: "
                                 "results/backtest/<name>/<UTC timestamp>)")
    b.add_argument("--no-figures", action="store_true", help="write tables only")
    b.add_argument("--lang", choices=("en", "zh"), default="en", help="figure labels")

    cp = sub.add_parser("caps", help="before a run: each year's least-cost price of a market's "
                                     "cap, and the cap that gives a target price")
    cp.add_argument("scenario", nargs="?", help="scenario YAML (default: embedded baseline)")
    cp.add_argument("--market", action="append", metavar="QUOTA",
                    help="energy, cod, nh3n, so2 or nox (repeat; default: every market on)")
    cp.add_argument("--price", action="append", default=[], metavar="YEAR=PRICE",
                    help="target price in a year, yuan per unit (repeat): gives its cap")
    cp.add_argument("--cap", action="append", default=[], metavar="YEAR=CAP",
                    help="a cap to price instead of the scenario's, units (repeat)")
    cp.add_argument("--from-run", metavar="RUN_DIR",
                    help="scale each year's projected use to a run's unabated use (the run "
                         "has turnover and upgrades, the projection does not)")
    cp.add_argument("--out", help="also write the table as CSV")
    return p


def _experiment_options(p: argparse.ArgumentParser, default_out: str) -> None:
    p.add_argument("--out", help=f"experiment directory (default: {default_out}); "
                                 "rerunning the same command resumes it")
    p.add_argument("--force", action="store_true", help="start over, deleting --out first")
    p.add_argument("--no-figures", action="store_true", help="write data only")
    p.add_argument("--lang", choices=("en", "zh"), default="en", help="figure labels")
    p.add_argument("--quiet", action="store_true", help="no progress bar or table")
    _executor_options(p)


def _executor_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=int, metavar="N",
                   help="local worker processes (default: all CPUs)")
    p.add_argument("--executor", choices=("local", "dask"), default="local",
                   help="local process pool (default) or a Dask distributed cluster")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler address, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--retries", type=int, metavar="N",
                   help="times a run is tried again when its worker process dies (killed, "
                        "out of memory, crashed; default 1)")


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help")):
        argv = ["run", *argv]
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        return _dispatch(args)
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except ExperimentFailedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        if args.command in ("compare", "sweep"):
            print("interrupted; the finished runs are kept: run the same command again to "
                  "carry on", file=sys.stderr)
        else:
            print("interrupted; nothing was written", file=sys.stderr)
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "validate":
        if _is_sweep_file(Path(args.scenario)):
            from simulator.sweep import load_sweep

            sweep = load_sweep(args.scenario)
            print(f"{args.scenario}: valid sweep {sweep.name!r} ({sweep.spec.design} design, "
                  f"{sweep.n_points} points x {sweep.spec.replications} replication(s) = "
                  f"{sweep.n_runs} runs)")
            return 0
        scenario = load_scenario(args.scenario)
        n_firms = None
        if scenario.population.source == "file":  # the firms it runs on are part of it
            from simulator.population import firms_from_table, read_firm_table

            n_firms = firms_from_table(read_firm_table(scenario.population.file), scenario).n
        estimate = resources.estimate_run(scenario, n_firms=n_firms)
        resources.check_fits(estimate, file=args.scenario, force=args.force)
        print(f"{args.scenario}: valid scenario {scenario.name!r} "
              f"({scenario.run.start} to {scenario.run.end}, {len(scenario.timeline)} "
              f"timeline change(s)), {estimate.describe()}")
        if args.project:
            from simulator.diagnostics import projected_warnings

            _warn(projected_warnings(scenario))
        return 0
    if args.command == "schema":
        text = json.dumps(json_schema(), indent=2, ensure_ascii=False)
        if args.out:
            Path(args.out).write_text(text + "\n", encoding="utf-8")
        else:
            print(text)
        return 0
    if args.command == "evaluate":
        return _evaluate(args)
    if args.command == "plot":
        from simulator.plots import make_figures
        from simulator.results import check_run_directory

        run_dir = Path(args.run_dir)
        check_run_directory(run_dir)
        for path in make_figures(run_dir, lang=args.lang):
            print(path)
        return 0
    if args.command == "calibrate":
        return _calibrate(args)
    if args.command == "backtest":
        return _backtest(args)
    if args.command == "caps":
        return _caps(args)
    if args.command == "compare":
        return _compare(args)
    if args.command == "sweep":
        return _sweep(args)
    if args.command == "report":
        from simulator.report import write_report

        print(write_report(args.directory, out=args.out, lang=args.lang))
        return 0
    if args.command == "card":
        from simulator.card import write_card

        print(write_card(args.directory, args.firm, out=args.out,
                         replication=args.replication, lang=args.lang))
        return 0
    return _run(args)


@contextmanager
def _run_bar(title: str, quiet: bool) -> Iterator[Callable[[int, int, int], None] | None]:
    """Progress of an experiment's runs (done, ETA, failures); None when quiet or not a tty."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn(f"[bold]{title}[/bold]"), BarColumn(),
                  TextColumn("{task.completed}/{task.total} runs"),
                  TextColumn("{task.fields[failed]}"), TimeRemainingColumn(),
                  transient=True) as bar:
        task = bar.add_task("runs", total=None, failed="")

        def update(done: int, total: int, failed: int) -> None:
            bar.update(task, completed=done, total=total,
                       failed=f"[red]{failed} failed[/red]" if failed else "")

        yield update


def _executor_kwargs(args: argparse.Namespace) -> dict:
    kwargs = {"executor": args.executor, "workers": args.workers, "scheduler": args.scheduler}
    if args.retries is not None:  # else the library's default (executors.DEFAULT_RETRIES)
        kwargs["retries"] = args.retries
    return kwargs


def _is_sweep_file(path: Path) -> bool:
    """Whether ``path`` looks like a sweep file (``base:`` and ``parameters:``), not a scenario."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False  # load_scenario reports it
    return isinstance(data, dict) and "base" in data and "parameters" in data


def _run(args: argparse.Namespace) -> int:
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
    interactive = sys.stderr.isatty() and not args.quiet
    if args.replications > 1:
        with _run_bar(scenario.name, args.quiet) as update:
            run_dir = run_scenario(scenario, run_progress=update, **kwargs)
    elif interactive:
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(TextColumn(f"[bold]{scenario.name}[/bold]"), BarColumn(),
                      TextColumn("{task.completed}/{task.total} months"),
                      TimeRemainingColumn(), transient=True) as bar:
            task = bar.add_task("run", total=scenario.run.n_months)
            run_dir = run_scenario(scenario,
                                   progress=lambda k, n: bar.update(task, completed=k), **kwargs)
    else:
        run_dir = run_scenario(scenario, **kwargs)
    manifest, metrics = read_run(run_dir)
    if not args.quiet:
        _print_summary(scenario.name, manifest, summary_table(metrics))
        print(f"results: {run_dir}")
        if not args.no_figures:
            print(f"figures: {run_dir / 'figures'}")
    from simulator.diagnostics import market_warnings

    _warn(market_warnings(metrics))
    return 0


def _stamped(base: Path) -> Path:
    """Return ``base/<UTC timestamp>``, suffixed ``-1``, ``-2``... if taken."""
    from simulator.results import stamped_path

    return stamped_path(base)


def _warn(lines: list[str]) -> None:
    """Print warnings to standard error, one line each."""
    for line in lines:
        print(f"warning: {line}", file=sys.stderr)


def _compare(args: argparse.Namespace) -> int:
    from simulator.experiment import compare

    scenarios = [load_scenario(p) for p in args.scenarios]  # every input error before any run
    title = " vs ".join(s.name for s in scenarios)
    with _run_bar(title, args.quiet) as update:
        out = compare(scenarios, replications=args.replications, seed=args.seed, out=args.out,
                      force=args.force, figures=not args.no_figures, lang=args.lang,
                      progress=update, **_executor_kwargs(args))
    if not args.quiet:
        import pandas as pd

        _print_comparison(pd.read_csv(out / "table.csv"), args.replications)
        print(f"results: {out}")
    return 0


def _print_comparison(table, replications: int) -> None:
    from rich.console import Console
    from rich.table import Table

    from simulator.report import fmt_ci

    scenarios = list(dict.fromkeys(table["scenario"]))
    year = int(table["year"].max()) if len(table) else ""
    t = Table(title=f"{year}: mean [95% CI] over {replications} replication(s); "
                    f"difference to {scenarios[0]} paired by seed")
    t.add_column("indicator")
    for name in scenarios:
        t.add_column(name, justify="right")
    for name in scenarios[1:]:
        t.add_column(f"{name} − {scenarios[0]}", justify="right")
    for label, rows in table.groupby("indicator", sort=False):
        by = rows.set_index("scenario")
        cells = [fmt_ci(*by.loc[n, ["mean", "ci_low", "ci_high"]]) if n in by.index else ""
                 for n in scenarios]
        cells += [fmt_ci(*by.loc[n, ["diff", "diff_ci_low", "diff_ci_high"]], signed=True)
                  if n in by.index else "" for n in scenarios[1:]]
        t.add_row(label, *cells)
    Console(width=160).print(t)


def _sweep(args: argparse.Namespace) -> int:
    from simulator.experiment import sweep
    from simulator.sweep import load_sweep

    problem = load_sweep(args.sweep)  # input errors before any run; logs its warnings
    with _run_bar(problem.name, args.quiet) as update:
        outputs = sweep(problem, out=args.out, force=args.force, figures=not args.no_figures,
                        lang=args.lang, progress=update, **_executor_kwargs(args))
    if not args.quiet:
        out = Path(outputs.attrs["path"])
        print(f"{len(outputs)} runs ({problem.spec.design} design); outputs: "
              f"{out / 'outputs.csv'}")
        if (out / "sobol.csv").exists():
            print(f"Sobol indices: {out / 'sobol.csv'}")
        print(f"results: {out}")
    return 0


def _print_summary(name: str, manifest: dict, table) -> None:
    from rich.console import Console
    from rich.table import Table

    from simulator.report import fmt_ci

    replications = manifest.get("replications", 1)
    t = Table(title=f"{name}: {manifest['firms']} firms, seed {manifest['seed']}, "
                    f"{manifest['wall_time_s']:.1f} s"
                    + (f"; mean [95% CI] over {replications} replications"
                       if replications > 1 else ""))
    years = [c for c in table.columns if " " not in c]
    t.add_column("indicator")
    for year in years:
        t.add_column(year, justify="right")
    nan = float("nan")
    for label, row in table.iterrows():
        t.add_row(label, *(fmt_ci(row[year], row.get(f"{year} ci_low", nan),
                                  row.get(f"{year} ci_high", nan)) for year in years))
    Console(width=120).print(t)


def _evaluate(args: argparse.Namespace) -> int:
    from simulator.evaluation import evaluate_table
    from simulator.population import read_firm_table

    scenario = load_scenario(args.scenario or default_scenario_path())
    table = read_firm_table(args.table)
    scored = evaluate_table(table, scenario)
    out = atomic_write(args.out,
                       lambda tmp: scored.to_csv(tmp, index=False, encoding="utf-8-sig"))
    counts = scored["class"].value_counts().reindex(["A", "B", "C", "D", "U"], fill_value=0)
    print(f"scored {len(scored)} firms with {scenario.name!r} rules: "
          + ", ".join(f"{k} {v}" for k, v in counts.items()) + f" -> {out}")
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from simulator.calibration import calibrate, load_calibration, write_fitted

    problem = load_calibration(args.calibration)  # input errors before any simulation
    out = Path(args.out) if args.out else _stamped(Path("results") / "calibrate" / problem.name)
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

    t = Table(title=f"{problem.name}: {problem.spec.method}, {result.evaluations} evaluations, "
                    f"{result.wall_time_s:.1f} s")
    for col in ("target", "group", "year", "observed", "before", "after", "error before",
                "error after"):
        t.add_column(col, justify="left" if col in ("target", "group") else "right")
    def pct(share: float) -> str:
        return f"{round(share, 4) + 0.0:+.2%}"  # + 0.0: no "-0.00%"

    for row in result.targets.itertuples():
        t.add_row(row.metric, row.group, str(row.year), f"{row.target:.4g}",
                  f"{row.simulated_start:.4g}", f"{row.simulated_fitted:.4g}",
                  pct(row.rel_error_start), pct(row.rel_error_fitted))
    p = Table()
    for col in ("parameter", "start", "fitted", "bounds"):
        p.add_column(col, justify="left" if col == "parameter" else "right")
    for spec, (path, row) in zip(result.problem.spec.parameters, result.parameters.iterrows(),
                                 strict=True):
        p.add_row(path, f"{row.start:.4g}", f"{row.fitted:.4g}",
                  f"[{row.lower:g}, {row.upper:g}]")
        for tied, factor in spec.tied.items():
            p.add_row(f"  {tied} (x {factor:g})", f"{row.start * factor:.4g}",
                      f"{row.fitted * factor:.4g}", "tied")
    console = Console(width=110)
    console.print(t)
    console.print(p)
    print(f"{'converged' if result.success else 'NOT converged'}: {result.message}")
    print(f"fitted scenario: {run_dir / 'fitted.yaml'}")
    return 0


def _backtest(args: argparse.Namespace) -> int:
    from simulator.backtest import backtest, failures, load_backtest, write_backtest

    problem = load_backtest(args.file)  # input errors before any simulation
    name = problem.scenario.name
    out = Path(args.out) if args.out else _stamped(Path("results") / "backtest" / name)
    if out.exists():
        raise ScenarioError("output directory already exists", file=out)
    result = backtest(problem, replications=args.replications)
    out = write_backtest(result, out, figures=not args.no_figures, lang=args.lang, title=name,
                         suffix_if_taken=not args.out)  # two in one second: two directories
    _print_backtest(result.table, f"{name} ({result.replications} replications)")
    print(f"results: {out}")
    missed = failures(result.table)
    if args.check and len(missed):
        print(f"check failed: {len(missed)} checked series year(s) outside their tolerance: "
              + ", ".join(f"{r.series} {r.year}" for r in missed.itertuples()),
              file=sys.stderr)
        return EXIT_FAILED
    return 0


def _print_backtest(table, name: str) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=150)
    for role, title in (("fitted", "fitted by calibrate"), ("held_out", "held out")):
        rows = table[table["role"] == role]
        if not len(rows):
            continue
        t = Table(title=f"{name}: series {title}")
        for col in ("series", "year", "observed", "simulated [95% CI]", "error", "tolerance",
                    ""):
            t.add_column(col, justify="left" if col in ("series", "") else "right")
        for r in rows.itertuples():
            sim = f"{r.simulated:.4g}" + (f" [{r.ci_low:.4g}, {r.ci_high:.4g}]"
                                          if r.ci_low == r.ci_low else "")
            kind = {"relative": "rel", "absolute": "abs", "factor": "x"}[r.tolerance_kind]
            mark = "ok" if r.within else ("MISS" if r.checked else "miss (reported only)")
            t.add_row(r.label, str(r.year), f"{r.observed:.4g}", sim,
                      f"{r.error:.3g} {kind}", f"{r.tolerance:g} {kind}", mark)
        console.print(t)


def _caps(args: argparse.Namespace) -> int:
    from simulator.markets.cycle import enabled_markets
    from simulator.markets.planning import plan_caps, project_market, scaled_to

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
        atomic_write(args.out, lambda tmp: table.to_csv(tmp, index=False))
        print(f"table: {args.out}")
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

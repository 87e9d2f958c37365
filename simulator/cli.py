"""Command line: ``python run.py [COMMAND] ...`` (also installed as ``mujun``).

The CLI alone decides what a user sees. Input errors print one line naming
the file, line and field and exit with status 2, without a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from simulator.scenario import ScenarioError, default_scenario_path, json_schema, load_scenario

__all__ = ["main"]

EXIT_INPUT = 2
COMMANDS = ("run", "validate", "schema", "evaluate", "plot", "calibrate")


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
    r.add_argument("--quiet", action="store_true", help="no progress bar or summary")

    v = sub.add_parser("validate", help="check a scenario file (exit 2 on error)")
    v.add_argument("scenario")

    s = sub.add_parser("schema", help="print the JSON Schema of scenario files")
    s.add_argument("--out", help="write to this file instead of standard output")

    e = sub.add_parser("evaluate", help="score a real firm table with a scenario's rules")
    e.add_argument("table", help="firm table (.csv or .xlsx)")
    e.add_argument("--scenario", help="scenario whose evaluation rules apply (default: baseline)")
    e.add_argument("--out", required=True, help="output CSV of scores and classes")

    pl = sub.add_parser("plot", help="(re)make the figures of a results directory")
    pl.add_argument("run_dir")
    pl.add_argument("--lang", choices=("en", "zh"), default="en")

    c = sub.add_parser("calibrate", help="fit scenario parameters to targets; write fitted.yaml")
    c.add_argument("calibration", help="calibration YAML (parameters, targets, method)")
    c.add_argument("--out", help="directory to write (default: "
                                 "results/calibrate/<name>/<UTC timestamp>)")
    c.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


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
    except KeyboardInterrupt:
        print("interrupted; nothing was written", file=sys.stderr)
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "validate":
        scenario = load_scenario(args.scenario)
        print(f"{args.scenario}: valid scenario {scenario.name!r} "
              f"({scenario.run.start} to {scenario.run.end}, {len(scenario.timeline)} "
              f"timeline change(s))")
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

        run_dir = Path(args.run_dir)
        if not (run_dir / "metrics.parquet").exists():
            raise ScenarioError("not a results directory (no metrics.parquet)", file=run_dir)
        for path in make_figures(run_dir, lang=args.lang):
            print(path)
        return 0
    if args.command == "calibrate":
        return _calibrate(args)
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    from simulator.experiment import run_scenario, summary_table
    from simulator.results import read_run

    path = Path(args.scenario) if args.scenario else default_scenario_path()
    overrides = {"seed": args.seed} if args.seed is not None else None
    scenario = load_scenario(path, overrides=overrides)
    interactive = sys.stderr.isatty() and not args.quiet
    if interactive:
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(TextColumn(f"[bold]{scenario.name}[/bold]"), BarColumn(),
                      TextColumn("{task.completed}/{task.total} months"),
                      TimeRemainingColumn(), transient=True) as bar:
            task = bar.add_task("run", total=scenario.run.n_months)
            run_dir = run_scenario(scenario, out=args.out, figures=not args.no_figures,
                                   lang=args.lang,
                                   progress=lambda k, n: bar.update(task, completed=k))
    else:
        run_dir = run_scenario(scenario, out=args.out, figures=not args.no_figures,
                               lang=args.lang)
    if not args.quiet:
        manifest, metrics = read_run(run_dir)
        _print_summary(scenario.name, manifest, summary_table(metrics))
        print(f"results: {run_dir}")
        if not args.no_figures:
            print(f"figures: {run_dir / 'figures'}")
    return 0


def _print_summary(name: str, manifest: dict, table) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"{name}: {manifest['firms']} firms, seed {manifest['seed']}, "
                    f"{manifest['wall_time_s']:.1f} s")
    t.add_column("indicator")
    for col in table.columns:
        t.add_column(col, justify="right")
    for label, row in table.iterrows():
        t.add_row(label, *(f"{v:,.4g}" if abs(v) < 1e4 else f"{v:,.0f}" for v in row))
    Console(width=100).print(t)


def _evaluate(args: argparse.Namespace) -> int:
    from simulator.evaluation import evaluate_table
    from simulator.population import read_firm_table

    scenario = load_scenario(args.scenario or default_scenario_path())
    table = read_firm_table(args.table)
    scored = evaluate_table(table, scenario)
    out = Path(args.out)
    tmp = out.with_name(f".{out.name}.tmp")
    scored.to_csv(tmp, index=False, encoding="utf-8-sig")
    tmp.replace(out)
    counts = scored["class"].value_counts().reindex(["A", "B", "C", "D", "U"], fill_value=0)
    print(f"scored {len(scored)} firms with {scenario.name!r} rules: "
          + ", ".join(f"{k} {v}" for k, v in counts.items()) + f" -> {out}")
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from simulator.calibration import calibrate, load_calibration, write_fitted

    problem = load_calibration(args.calibration)  # input errors before any simulation
    if args.out:
        out = Path(args.out)
    else:
        from datetime import UTC, datetime

        base = Path("results") / "calibrate" / problem.name
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        out, k = base / stamp, 1
        while out.exists():
            out, k = base / f"{stamp}-{k}", k + 1
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
    run_dir = write_fitted(result, out)

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
    for path, row in result.parameters.iterrows():
        p.add_row(path, f"{row.start:.4g}", f"{row.fitted:.4g}",
                  f"[{row.lower:g}, {row.upper:g}]")
    console = Console(width=110)
    console.print(t)
    console.print(p)
    print(f"{'converged' if result.success else 'NOT converged'}: {result.message}")
    print(f"fitted scenario: {run_dir / 'fitted.yaml'}")
    return 0

"""What the command line prints: progress bars, warnings and the terminal tables.

Every table is a :mod:`rich` table written to standard output; warnings go
to standard error, one line each. :mod:`rich` is imported on first use.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["print_backtest", "print_calibration", "print_comparison", "print_summary",
           "run_bar", "warn"]


@contextmanager
def run_bar(title: str, quiet: bool) -> Iterator[Callable[[int, int, int], None] | None]:
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


def warn(lines: list[str]) -> None:
    """Print warnings to standard error, one line each."""
    for line in lines:
        print(f"warning: {line}", file=sys.stderr)


def print_summary(name: str, manifest: dict, table) -> None:
    """Print a run's summary table (indicators by year, with intervals over replications)."""
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


def print_comparison(table, replications: int) -> None:
    """Print a comparison's last year: each scenario's mean and its difference to the first."""
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


def print_calibration(result) -> None:
    """Print a calibration's targets and parameters, before and after, and whether it converged.

    ``result`` is a :class:`simulator.calibration.CalibrationResult`.
    """
    from rich.console import Console
    from rich.table import Table

    problem = result.problem
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


def print_backtest(table, name: str) -> None:
    """Print a backtest's series, fitted and held out apart, against their tolerances."""
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

"""What the command line prints: progress bars, warnings and the terminal tables.

Every table is a :mod:`rich` table written to standard output; warnings go
to standard error, one line each. :mod:`rich` is imported on first use.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["WRITING", "Bar", "plural", "print_backtest", "print_calibration",
           "print_comparison", "print_summary", "run_bar", "status_of", "warn"]


class Bar:
    """A live progress bar: call it with ``(done, total, failed)``; :meth:`status` says more."""

    def __init__(self, progress, task) -> None:
        self._progress = progress
        self._task = task

    def __call__(self, done: int, total: int, failed: int = 0) -> None:
        """Show ``done`` of ``total`` runs (months), and the failures if any."""
        self._progress.update(self._task, completed=done, total=total,
                              failed=f"[red]{failed} failed[/red]" if failed else "")

    def months(self, done: int, total: int) -> None:
        """Show ``done`` of ``total`` months (a single replication)."""
        self(done, total)

    def status(self) -> None:
        """Say that results and figures are being written (after the runs are done)."""
        self._progress.update(self._task, status=WRITING)


#: The status shown once the runs are done, while files are written.
WRITING = "Writing results and figures…"


@contextmanager
def run_bar(title: str, quiet: bool, unit: str = "runs") -> Iterator[Bar | None]:
    """Progress of an experiment's runs (done, ETA, failures); None when quiet or not a tty.

    The bar shows :data:`WRITING` once :meth:`Bar.status` is called.
    """
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn(f"[bold]{title}[/bold]"), BarColumn(),
                  TextColumn(f"{{task.completed}}/{{task.total}} {unit}"),
                  TextColumn("{task.fields[failed]}"), TimeRemainingColumn(),
                  TextColumn("{task.fields[status]}"), transient=True) as progress:
        task = progress.add_task(unit, total=None, failed="", status="")
        yield Bar(progress, task)


def status_of(bar: Bar | None) -> Callable[[], None] | None:
    """Return the bar's :meth:`Bar.status` (None without a bar)."""
    return bar.status if bar is not None else None


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """Return ``"1 replication"``, ``"3 replications"`` (``plural_form`` if not noun + s)."""
    return f"{count:,} {noun if count == 1 else plural_form or noun + 's'}"


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
    if replications < 2:
        print("one replication: no intervals (run with --replications 5 or more for 95% "
              "intervals)")


def print_comparison(table, replications: int) -> None:
    """Print a comparison's last year: each scenario's mean and its difference to the first.

    Every number of a row has the same decimals (enough for four significant
    digits of the row's largest value); a difference whose 95% interval
    excludes zero is marked ``*`` (a legend line says so).
    """
    from rich.console import Console
    from rich.table import Table

    scenarios = list(dict.fromkeys(table["scenario"]))
    year = int(table["year"].max()) if len(table) else ""
    t = Table(title=f"{year}: mean [95% CI] over {plural(replications, 'replication')}; "
                    f"difference to {scenarios[0]} paired by seed")
    t.add_column("indicator")
    for name in scenarios:
        t.add_column(name, justify="right")
    for name in scenarios[1:]:
        t.add_column(f"{name} − {scenarios[0]}", justify="right")
    marked = False
    for label, rows in table.groupby("indicator", sort=False):
        by = rows.set_index("scenario")
        numbers = by[["mean", "ci_low", "ci_high", "diff", "diff_ci_low", "diff_ci_high"]]
        decimals = row_decimals(numbers.to_numpy(dtype=float).ravel())
        cells = [_fmt_ci(*by.loc[n, ["mean", "ci_low", "ci_high"]], decimals=decimals)
                 if n in by.index else "" for n in scenarios]
        for n in scenarios[1:]:
            if n not in by.index:
                cells.append("")
                continue
            diff, low, high = by.loc[n, ["diff", "diff_ci_low", "diff_ci_high"]]
            significant = bool(low > 0 or high < 0)  # False for a NaN interval
            marked |= significant
            cells.append(_fmt_ci(diff, low, high, decimals=decimals, signed=True)
                         + (" *" if significant else "  "))
        t.add_row(label, *cells)
    Console(width=160).print(t)
    if replications < 2:
        print("one replication: no intervals; run 5 or more (--replications) for paired 95% "
              "intervals")
    elif marked:
        print("* the paired difference's 95% interval excludes zero")


def row_decimals(values) -> int:
    """Return the decimals that give the largest finite ``values`` four significant digits."""
    import math

    finite = [abs(v) for v in values if v == v and math.isfinite(v)]
    largest = max(finite, default=0.0)
    if largest == 0:
        return 0
    return min(max(3 - math.floor(math.log10(largest)), 0), 4)


def _fmt_ci(mean: float, low: float, high: float, *, decimals: int,
            signed: bool = False) -> str:
    """Return ``mean [low, high]`` with ``decimals`` decimals (the mean alone without interval)."""
    def fmt(v: float, sign: bool = False) -> str:
        if v != v:
            return "—"
        text = f"{round(v, decimals) + 0.0:{'+' if sign else ''},.{decimals}f}"  # no "-0"
        return text

    if low != low or high != high:
        return fmt(mean, signed)
    return f"{fmt(mean, signed)} [{fmt(low)}, {fmt(high)}]"


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

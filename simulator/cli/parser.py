"""The command line's interface: its commands, options, help texts and exit statuses.

:func:`build_parser` returns the :mod:`argparse` parser of ``mujun`` (and
``python run.py``), the one definition of every command, option and help
text (the CLI reference is generated from it).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

__all__ = ["COMMANDS", "EXIT_FAILED", "EXIT_INPUT", "build_parser"]

#: Exit status of an input error (a file, line and field named on one line).
EXIT_INPUT = 2
COMMANDS = ("run", "compare", "sweep", "validate", "schema", "evaluate", "plot", "report", "card",
            "calibrate", "backtest", "caps", "explore")
#: Exit status of a failure after the input was accepted (failed runs, a missed check).
EXIT_FAILED = 1

#: ``add_parser`` of the parser's subcommands: adds one command and returns its parser.
AddParser = Callable[..., argparse.ArgumentParser]


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of every command (``run`` is the default command)."""
    p = argparse.ArgumentParser(
        prog="mujun",
        description="Mujun: differential resource-pricing simulator of the 亩均论英雄 reform. "
                    "With no command, runs the embedded default scenario.",
    )
    sub = p.add_subparsers(dest="command")

    _add_experiment_commands(sub.add_parser)
    _add_file_commands(sub.add_parser)
    _add_analysis_commands(sub.add_parser)
    _add_explore_command(sub.add_parser)
    return p


def _add_experiment_commands(add_parser: AddParser) -> None:
    """Add ``run``, ``compare`` and ``sweep``."""
    r = add_parser("run", help="run a scenario end to end (default: the embedded baseline)")
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

    cmp = add_parser("compare", help="run scenarios with the same seeds; paired differences")
    cmp.add_argument("scenarios", nargs="+", help="scenario YAML files; the first is the reference")
    cmp.add_argument("--replications", type=int, default=1, metavar="R",
                     help="replications per scenario (default 1; use 10 or more for CIs)")
    cmp.add_argument("--seed", type=int, help="seed of every scenario (default: the first's)")
    _experiment_options(cmp, "results/compare/<a>-vs-<b>")

    sw = add_parser("sweep", help="run a sweep file (grid, LHS, Sobol); resumable")
    sw.add_argument("sweep", help="sweep YAML (see scenarios/sweep_*.yaml)")
    _experiment_options(sw, "results/sweep/<name>")


def _add_file_commands(add_parser: AddParser) -> None:
    """Add ``validate``, ``schema``, ``evaluate`` (input files), ``plot``, ``report``, ``card``."""
    v = add_parser("validate", help="check a scenario or sweep file (exit 2 on error)")
    v.add_argument("scenario")
    v.add_argument("--project", action="store_true",
                   help="also project each quota market before running: warn when its cap is "
                        "projected never to bind or its price to sit at the floor or ceiling")
    v.add_argument("--force", action="store_true",
                   help="accept a scenario whose estimated peak memory exceeds what is available")

    s = add_parser("schema", help="print the JSON Schema of scenario files")
    s.add_argument("--out", help="write to this file instead of standard output")

    e = add_parser("evaluate", help="score a real firm table with a scenario's rules")
    e.add_argument("table", help="firm table (.csv or .xlsx)")
    e.add_argument("--scenario", help="scenario whose evaluation rules apply (default: baseline)")
    e.add_argument("--out", required=True, help="output CSV of scores and classes")

    pl = add_parser("plot", help="(re)make the figures of a results directory")
    pl.add_argument("run_dir")
    pl.add_argument("--lang", choices=("en", "zh"), default="en")

    rp = add_parser("report", help="write a self-contained HTML brief of a results directory")
    rp.add_argument("directory", help="a run directory, or a compare or sweep directory")
    rp.add_argument("--out", help="HTML file (default: DIR/brief.html)")
    rp.add_argument("--lang", choices=("en", "zh"), default="en")

    cd = add_parser("card", help="one firm's report card (一企一单) from a run directory")
    cd.add_argument("directory", help="a run directory with firms.parquet")
    cd.add_argument("--firm", type=int, required=True, help="firm id")
    cd.add_argument("--replication", type=int, default=None,
                    help="replication (default: the run's only one, else 0)")
    cd.add_argument("--out", help="HTML file (default: DIR/cards/firm_<ID>.html)")
    cd.add_argument("--lang", choices=("en", "zh"), default="en")


def _add_analysis_commands(add_parser: AddParser) -> None:
    """Add ``calibrate``, ``backtest`` and ``caps``."""
    c = add_parser("calibrate", help="fit scenario parameters to targets; write fitted.yaml")
    c.add_argument("calibration", help="calibration YAML (parameters, targets, method)")
    c.add_argument("--out", help="directory to write (default: "
                                 "results/calibrate/<name>/<UTC timestamp>)")
    c.add_argument("--quiet", action="store_true", help="no progress bar")

    b = add_parser("backtest", help="run the reform's history and compare it with what "
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

    cp = add_parser("caps", help="before a run: each year's least-cost price of a market's "
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


def _add_explore_command(add_parser: AddParser) -> None:
    """Add ``explore``: the interactive explorer (a local web app; needs the ``explore`` extra)."""
    x = add_parser(
        "explore", help="move policy levers in a local web app and see the variant answer",
        description="Start the interactive explorer: move the class surcharges, evaluation "
                    "weights, quota caps and auction reserve prices of a scenario, see the "
                    "variant's differences to the baseline (run once at a small size), and "
                    "save the variant as a scenario file. Needs Dash: "
                    'pip install -e ".[explore]".',
        epilog="example: python run.py explore scenarios/small_county.yaml --lang zh")
    x.add_argument("scenario", nargs="?",
                   help="scenario YAML the levers start from (default: embedded baseline.yaml)")
    x.add_argument("--port", type=int, default=8050, help="port to serve on (default 8050)")
    x.add_argument("--host", default="127.0.0.1",
                   help="address to serve on (default 127.0.0.1: this machine only)")
    x.add_argument("--no-browser", action="store_true", help="do not open a browser window")
    x.add_argument("--lang", choices=("en", "zh"), default="en",
                   help="language of the page and the figures (default en)")
    x.add_argument("--firms", type=int, default=1000, metavar="N",
                   help="firms in the explorer's runs: a larger synthetic population is "
                        "scaled down to N (default 1000)")
    x.add_argument("--replications", type=int, default=3, metavar="R",
                   help="replications of each run, paired with the baseline's (default 3)")


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

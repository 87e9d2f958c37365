"""The command line's interface: its commands, options, help texts and exit statuses.

:func:`build_parser` returns the :mod:`argparse` parser of ``mujun`` (and
``python run.py``), the one definition of every command, option and help
text (the CLI reference is generated from it).
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable

from simulator.scenario.specfiles import DEFAULT_REPLICATIONS  # the library's default

__all__ = ["COMMANDS", "DEFAULT_REPLICATIONS", "EXAMPLES", "EXIT_FAILED", "EXIT_INPUT",
           "build_parser", "commands", "version_text"]

#: Exit status of an input error (a file, line and field named on one line).
EXIT_INPUT = 2
COMMANDS = ("run", "compare", "sweep", "validate", "schema", "evaluate", "plot", "report", "card",
            "calibrate", "backtest", "caps", "export", "firms", "explore")
#: Exit status of a failure after the input was accepted (failed runs, a missed check).
EXIT_FAILED = 1

#: ``add_parser`` of the parser's subcommands: adds one command and returns its parser.
AddParser = Callable[..., argparse.ArgumentParser]


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of every command (``run`` is the default command).

    Each command's help ends with an example (:data:`EXAMPLES`); ``--version``
    prints the package version and the git revision of a checkout.
    """
    p = argparse.ArgumentParser(
        prog="mujun",
        description="Mujun: differential resource-pricing simulator of the 亩均论英雄 reform. "
                    "With no command, runs the embedded default scenario.",
        epilog="examples:\n  python run.py\n  python run.py compare scenarios/baseline.yaml "
               "scenarios/strict_d_2019.yaml\n  python run.py COMMAND --help",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action=_VersionAction,
                   help="print the version (and git revision of a checkout) and exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND",
                           help="what to do (default: run); `COMMAND --help` gives its options")
    add_parser = functools.partial(sub.add_parser,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)

    _add_experiment_commands(add_parser)
    _add_file_commands(add_parser)
    _add_analysis_commands(add_parser)
    _add_table_commands(add_parser)
    _add_explore_command(add_parser)
    for name, command in sub.choices.items():
        if name in EXAMPLES and not command.epilog:
            command.epilog = "example:\n" + "\n".join(f"  {line}" for line in EXAMPLES[name])
        for action in command._actions:  # argparse has no public view of its arguments
            if action.dest == "lang" and not action.help:
                action.help = "language: en (English, default) or zh (Chinese)"
    return p


def commands(parser: argparse.ArgumentParser) -> list[str]:
    """Return the names of ``parser``'s commands, in the order of its help."""
    for action in parser._actions:  # argparse has no public view of its subcommands
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []


class _VersionAction(argparse.Action):
    """``--version``: the package version and git revision (looked up only when asked)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0,
                         help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        print(version_text())
        parser.exit()


def version_text() -> str:
    """Return ``"mujun <version>"``, with ``" (git <revision>)"`` in a git checkout."""
    from simulator.results import git_revision, package_version

    revision = git_revision()
    return f"mujun {package_version()}" + (f" (git {revision[:12]}"
                                           + (", modified)" if revision.endswith("-dirty")
                                              else ")") if revision else "")


def _add_experiment_commands(add_parser: AddParser) -> None:
    """Add ``run``, ``compare`` and ``sweep``."""
    r = add_parser("run", help="run a scenario end to end (default: the embedded baseline)")
    r.add_argument("scenario", nargs="?", metavar="SCENARIO",
                   help="scenario YAML file (default: the embedded scenarios/baseline.yaml)")
    r.add_argument("--seed", type=int, help="override the scenario seed")
    r.add_argument("--out", default="results",
                   help="results root; the run goes to OUT/<scenario>/<UTC timestamp> "
                        "(default: results)")
    r.add_argument("--no-figures", action="store_true", help="write data only")
    _lang_option(r, "language of figure labels")
    r.add_argument("--replications", type=int, default=1, metavar="R",
                   help="replications, seeds spawned from the scenario seed (default 1: no "
                        "interval; 5 or more give 95%% intervals)")
    r.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    r.add_argument("--force", action="store_true",
                   help="run even if the estimated peak memory exceeds what is available")
    _executor_options(r)

    cmp = add_parser("compare", help="run scenarios with the same seeds; paired differences")
    cmp.add_argument("scenarios", nargs="+", metavar="SCENARIO",
                     help="scenario YAML files (two or more); the first is the reference")
    cmp.add_argument("--replications", type=int, default=DEFAULT_REPLICATIONS, metavar="R",
                     help=f"replications per scenario (default {DEFAULT_REPLICATIONS}, enough "
                          "for a paired 95%% interval; 10 or more for intervals worth quoting)")
    cmp.add_argument("--seed", type=int, help="seed of every scenario (default: the first's)")
    _experiment_options(cmp, "results/compare/<a>-vs-<b>", table=True)

    sw = add_parser("sweep", help="run a sweep file (grid, LHS, Sobol); resumable")
    sw.add_argument("sweep", metavar="SWEEP", help="sweep YAML file (see scenarios/sweep_*.yaml)")
    sw.add_argument("--replications", type=int, metavar="R",
                    help="replications per design point (default: the file's `replications`, "
                         f"whose default is {DEFAULT_REPLICATIONS})")
    _experiment_options(sw, "results/sweep/<name>", table=False)


def _add_file_commands(add_parser: AddParser) -> None:
    """Add ``validate``, ``schema``, ``evaluate`` (input files), ``plot``, ``report``, ``card``."""
    v = add_parser("validate", help="check a scenario or sweep file (exit 2 on error)")
    v.add_argument("scenario", metavar="FILE", help="scenario or sweep YAML file to check")
    v.add_argument("--project", action="store_true",
                   help="also project each quota market before running: warn when its cap is "
                        "projected never to bind or its price to sit at the floor or ceiling")
    v.add_argument("--force", action="store_true",
                   help="accept a scenario whose estimated peak memory exceeds what is available")

    s = add_parser("schema", help="print the JSON Schema of scenario files")
    s.add_argument("--out", help="write to this file instead of standard output")

    e = add_parser("evaluate", help="score a real firm table with a scenario's rules")
    e.add_argument("table", metavar="TABLE",
                   help="firm table (.csv or .xlsx), one row per firm; Chinese or English "
                        "headers (see docs: how-to/real-firm-table)")
    e.add_argument("--scenario", help="scenario whose evaluation rules apply (default: baseline)")
    e.add_argument("--sectors", metavar="MAP",
                   help="sector mapping file (.csv with columns name,sector, or .yaml "
                        "name: sector) for sector names the scenario does not know")
    e.add_argument("--out", required=True,
                   help="scores and classes, one row per firm: .xlsx (Excel) or .csv")

    pl = add_parser("plot", help="(re)make the figures of a results directory")
    pl.add_argument("run_dir", metavar="RUN_DIR", help="a run directory (with manifest.json)")
    _lang_option(pl, "language of figure labels")

    rp = add_parser("report", help="write the policy brief of a results directory (HTML or PDF)")
    rp.add_argument("directory", help="a run directory, or a compare or sweep directory")
    rp.add_argument("--out", help="file to write (default: DIR/brief.html, DIR/brief.pdf; "
                                  "in Chinese DIR/brief_zh.html, DIR/brief_zh.pdf)")
    rp.add_argument("--lang", choices=("en", "zh"), default="en",
                    help="language of the brief and its figures (default en)")
    rp.add_argument("--format", choices=("html", "pdf"), default=None,
                    help="html (one self-contained file, the default) or pdf (A4, needs "
                         'WeasyPrint: pip install -e ".[pdf]")')
    rp.add_argument("--pdf", action="store_true", help="the same as --format pdf")
    rp.add_argument("--appendix", action="store_true",
                    help="print the appendix too (provenance, full scenarios); in HTML it is "
                         "always there, collapsed")

    cd = add_parser("card", help="one firm's report card (一企一单) from a run directory")
    cd.add_argument("directory", metavar="RUN_DIR", help="a run directory with firms.parquet")
    cd.add_argument("--firm", type=int, required=True,
                    help="firm id (list them with `firms RUN_DIR`)")
    cd.add_argument("--replication", type=int, default=None,
                    help="replication (default: the run's only one, else 0)")
    cd.add_argument("--out", help="HTML file (default: DIR/cards/firm_<ID>.html)")
    _lang_option(cd, "language of the card")


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
    _lang_option(b, "language of figure labels")

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
    cp.add_argument("--out", help="also write the table to this .csv or .xlsx file")


def _add_table_commands(add_parser: AddParser) -> None:
    """Add ``export`` (result tables to Excel or CSV), ``firms`` and ``crosstab``."""
    x = add_parser("export", help="write a results directory's tables to Excel or CSV")
    x.add_argument("directory", metavar="DIR",
                   help="a run directory, or a compare or sweep directory")
    x.add_argument("--out", required=True,
                   help="an .xlsx workbook (a sheet per table and a Notes sheet), a .csv file "
                        "(one table: choose it with --table) or a directory (a CSV per table)")
    x.add_argument("--table", action="append", metavar="NAME",
                   help="a table to write (repeat); default: all but the large ones. A run: "
                        "summary, annual, monthly, firms; a comparison: key_outcomes, "
                        "summary, differences, metrics; a sweep: outputs, design, sobol")
    _lang_option(x, "language of sheet names, notes, metric labels and units")

    f = add_parser("firms", help="list a run's firms (class, sector, region, score) to pick "
                                 "one for `card`")
    f.add_argument("directory", metavar="RUN_DIR", help="a run directory with firms.parquet")
    f.add_argument("--class", dest="klass", action="append", metavar="CLASS",
                   choices=("A", "B", "C", "D", "U"),
                   help="evaluation class A, B, C, D or U (unrated); repeat for several")
    f.add_argument("--sector", action="append", metavar="SECTOR",
                   help="sector name (repeat for several)")
    f.add_argument("--region", action="append", metavar="REGION",
                   help="region name (repeat for several)")
    f.add_argument("--scale", choices=("above", "below", "services"),
                   help="above-scale industry, below-scale industry or services")
    f.add_argument("--year", type=int, metavar="Y", help="year (default: the run's last)")
    f.add_argument("--replication", type=int, metavar="K",
                   help="replication (default: the run's first)")
    f.add_argument("--sort", default="class", metavar="COLUMN",
                   help="class (default: A first, each class by score from the highest down, "
                        "as the evaluation ranks) or a column to sort by, smallest first: "
                        "score, tax_per_mu, land_mu, employees, firm_id...")
    f.add_argument("--descending", action="store_true", help="sort from the largest down")
    f.add_argument("--limit", type=int, default=20, metavar="N",
                   help="firms to print (default 20; 0 prints all)")
    f.add_argument("--out", help="also write every matching firm to this .csv or .xlsx file")

    c = add_parser("crosstab", help="a cross-table of a run's firms: any quantity or bill by "
                                    "class, sector, region, scale or park")
    c.add_argument("directory", metavar="RUN_DIR", help="a run directory with firms.parquet")
    c.add_argument("--by", nargs="+", required=True, metavar="DIM",
                   choices=("class", "sector", "region", "scale", "park"),
                   help="one or more of class, sector, region, scale, park (region/park); the "
                        "last one becomes the columns")
    c.add_argument("--value", required=True, metavar="VALUE",
                   help="a column of firms.parquet, summed (tax_wan_yuan, "
                        "electricity_bill_yuan, energy_tce...; firms counts firms), a ratio "
                        "of sums a/b (tax_wan_yuan/land_mu) or an indicator (tax_per_mu, "
                        "va_per_mu, va_per_tce, labour_productivity, rd_share...), a ratio "
                        "of the group's sums")
    c.add_argument("--year", type=int, metavar="Y", help="year (default: the run's last)")
    c.add_argument("--replication", type=int, metavar="K",
                   help="replication (default: the run's first)")
    c.add_argument("--no-margins", dest="margins", action="store_false",
                   help="leave out the totals (all) over each dimension")
    c.add_argument("--out", help="also write the table to this .csv or .xlsx file")


def _lang_option(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--lang", choices=("en", "zh"), default="en",
                   help=f"{what}: en (English, default) or zh (Chinese)")


def _add_explore_command(add_parser: AddParser) -> None:
    """Add ``explore``: the interactive explorer (a local web app; needs the ``explore`` extra)."""
    x = add_parser(
        "explore", help="move policy levers in a local web app and see the variant answer",
        description="Start the interactive explorer: move the class surcharges, evaluation "
                    "weights, quota caps and auction reserve prices of a scenario, see the "
                    "variant's differences to the baseline (run once at a small size), and "
                    "save the variant as a scenario file. Needs Dash: "
                    'pip install -e ".[explore]".')
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


def _experiment_options(p: argparse.ArgumentParser, default_out: str, *, table: bool) -> None:
    p.add_argument("--out", help=f"experiment directory (default: {default_out}); "
                                 "rerunning the same command resumes it")
    p.add_argument("--force", action="store_true", help="start over, deleting --out first")
    p.add_argument("--no-figures", action="store_true", help="write data only")
    _lang_option(p, "language of figure labels")
    p.add_argument("--quiet", action="store_true",
                   help="no progress bar or table" if table
                   else "no progress bar or summary of the outputs' paths")
    _executor_options(p)


#: An example of each command, shown at the end of its ``--help`` and in the CLI reference.
EXAMPLES: dict[str, tuple[str, ...]] = {
    "run": ("python run.py run scenarios/small_county.yaml --replications 5",),
    "compare": ("python run.py compare scenarios/baseline.yaml scenarios/strict_d_2019.yaml",),
    "sweep": ("python run.py sweep scenarios/sweep_class_surcharges.yaml --workers 4",),
    "validate": ("python run.py validate scenarios/strict_d_2019.yaml --project",),
    "schema": ("python run.py schema --out scenario.schema.json",),
    "evaluate": ("python run.py evaluate firms.xlsx --sectors sectors.csv --out scored.xlsx",),
    "plot": ("python run.py plot results/baseline/20250101T000000Z --lang zh",),
    "report": ("python run.py report results/compare/baseline-vs-strict_d_2019",),
    "card": ("python run.py card results/baseline/20250101T000000Z --firm 17",),
    "calibrate": ("python run.py calibrate scenarios/calibration/calibrate_2017.yaml",),
    "backtest": ("python run.py backtest --check",),
    "caps": ("python run.py caps --market energy --price 2025=300",),
    "export": ("python run.py export results/compare/baseline-vs-strict_d_2019 "
               "--out tables.xlsx",),
    "firms": ("python run.py firms results/baseline/20250101T000000Z --class D --year 2030",),
    "crosstab": ("python run.py crosstab results/region_steering/20250101T000000Z "
                 "--by class region --value tax_per_mu --out tax_per_mu.xlsx",),
    "explore": ("python run.py explore scenarios/small_county.yaml --lang zh",),
}


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

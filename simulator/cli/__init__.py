"""Command line: ``python run.py [COMMAND] ...`` (also installed as ``mujun``).

The CLI alone decides what a user sees. Input errors print one line naming
the file, line and field and exit with status 2, without a traceback.

Modules
-------
parser
    :func:`build_parser`: every command, option and help text; the exit statuses.
experiments
    ``run`` (the default), ``compare``, ``sweep``.
files
    ``validate``, ``schema``, ``plot``, ``report``, ``card``.
analysis
    ``evaluate``, ``calibrate``, ``backtest``, ``caps``.
tables
    ``export`` (result tables to Excel or CSV), ``firms`` (a run's firms, to pick one) and
    ``crosstab`` (a quantity or bill by class, sector, region, scale or park).
explore
    ``explore``: the interactive explorer (a local web app).
output
    Progress bars, warnings and the terminal tables.
"""

from __future__ import annotations

import argparse
import difflib
import logging
import sys
from collections.abc import Callable

from simulator.cli.analysis import (
    backtest_command,
    calibrate_command,
    caps_command,
    evaluate_command,
)
from simulator.cli.experiments import compare_command, run_command, sweep_command
from simulator.cli.explore import explore_command
from simulator.cli.files import (
    card_command,
    plot_command,
    report_command,
    schema_command,
    validate_command,
)
from simulator.cli.parser import EXIT_FAILED, EXIT_INPUT, build_parser, commands
from simulator.cli.tables import crosstab_command, export_command, firms_command
from simulator.results import ExperimentFailedError
from simulator.scenario import ScenarioError

__all__ = ["build_parser", "main"]

#: What each command runs: its parsed arguments -> exit status.
COMMAND_FUNCTIONS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": run_command,
    "compare": compare_command,
    "sweep": sweep_command,
    "validate": validate_command,
    "schema": schema_command,
    "evaluate": evaluate_command,
    "plot": plot_command,
    "report": report_command,
    "card": card_command,
    "calibrate": calibrate_command,
    "backtest": backtest_command,
    "caps": caps_command,
    "export": export_command,
    "firms": firms_command,
    "crosstab": crosstab_command,
    "explore": explore_command,
}


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit status.

    A first argument that is not a command runs it as ``run``'s (``python
    run.py scenarios/x.yaml``, ``python run.py --seed 3``), unless it looks like
    a mistyped command (a word that is no file): that is an error with the
    nearest command names (exit status 2).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    names = commands(parser)
    if not argv or (argv[0] not in names and argv[0] not in ("-h", "--help", "--version")):
        if argv and _mistyped_command(argv[0]):
            close = difflib.get_close_matches(argv[0], names, n=3, cutoff=0.5)
            hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
            print(f"error: unknown command {argv[0]!r}{hint}; commands: {', '.join(names)}. "
                  "A scenario file to run is a path (e.g. scenarios/x.yaml).", file=sys.stderr)
            return EXIT_INPUT
        argv = ["run", *argv]
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        return COMMAND_FUNCTIONS.get(args.command, run_command)(args)
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


def _mistyped_command(word: str) -> bool:
    """Whether ``word`` (the first argument, not a command) cannot be a scenario for ``run``.

    An option or anything that names a file or looks like a path (a directory
    part, a suffix) goes to ``run``; a bare word that is no file does not.
    """
    from pathlib import Path

    if word.startswith("-") or Path(word).exists():
        return False
    return not (Path(word).suffix or "/" in word or "\\" in word)

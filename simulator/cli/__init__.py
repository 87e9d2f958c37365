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
explore
    ``explore``: the interactive explorer (a local web app).
output
    Progress bars, warnings and the terminal tables.
"""

from __future__ import annotations

import argparse
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
from simulator.cli.parser import COMMANDS, EXIT_FAILED, EXIT_INPUT, build_parser
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
    "explore": explore_command,
}


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help")):
        argv = ["run", *argv]
    args = build_parser().parse_args(argv)
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

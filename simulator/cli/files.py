"""Commands on files: ``validate`` and ``schema`` (input files), ``plot``, ``report``, ``card``.

``validate`` checks a scenario (with its memory estimate and, on request,
the projected markets) or a sweep file without running it; ``schema``
prints the JSON Schema of scenario files. ``plot``, ``report`` and ``card``
(re)make figures, the HTML brief and a firm's report card from a results
directory.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from simulator.cli.output import plural, warn
from simulator.experiment import resources
from simulator.scenario import json_schema, load_scenario

__all__ = ["card_command", "plot_command", "report_command", "schema_command",
           "validate_command"]


def validate_command(args: argparse.Namespace) -> int:
    """Check a scenario or sweep file without running it; say what it is (``validate``)."""
    if _is_sweep_file(Path(args.scenario)):
        from simulator.sweep import load_sweep

        sweep = load_sweep(args.scenario)
        print(f"{args.scenario}: valid sweep {sweep.name!r} ({sweep.spec.design} design, "
              f"{plural(sweep.n_points, 'point')} x "
              f"{plural(sweep.spec.replications, 'replication')} = "
              f"{plural(sweep.n_runs, 'run')})")
        return 0
    scenario = load_scenario(args.scenario)
    n_firms = None
    if scenario.population.source == "file":  # the firms it runs on are part of it
        from simulator.population import firms_from_table, read_firm_table

        n_firms = firms_from_table(read_firm_table(scenario.population.file), scenario).n
    estimate = resources.estimate_run(scenario, n_firms=n_firms)
    resources.check_fits(estimate, file=args.scenario, force=args.force)
    print(f"{args.scenario}: valid scenario {scenario.name!r} "
          f"({scenario.run.start} to {scenario.run.end}, "
          f"{plural(len(scenario.timeline), 'timeline change')}), {estimate.describe()}")
    if args.project:
        from simulator.reporting.diagnostics import projected_warnings

        warn(projected_warnings(scenario))
    return 0


def _is_sweep_file(path: Path) -> bool:
    """Whether ``path`` looks like a sweep file (``base:`` and ``parameters:``), not a scenario."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False  # load_scenario reports it
    return isinstance(data, dict) and "base" in data and "parameters" in data


def schema_command(args: argparse.Namespace) -> int:
    """Print (or write) the JSON Schema of scenario files (``schema``)."""
    text = json.dumps(json_schema(), indent=2, ensure_ascii=False)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return 0


def plot_command(args: argparse.Namespace) -> int:
    """Make a run directory's figures again; print their paths (``plot``)."""
    from simulator.plots import make_figures
    from simulator.results import check_run_directory

    run_dir = Path(args.run_dir)
    check_run_directory(run_dir)
    for path in make_figures(run_dir, lang=args.lang):
        print(path)
    return 0


def report_command(args: argparse.Namespace) -> int:
    """Write the policy brief (HTML or PDF) of a results directory; print its path (``report``)."""
    from simulator.report import write_report
    from simulator.scenario import ScenarioError

    if args.pdf and args.format not in (None, "pdf"):
        raise ScenarioError(f"--pdf and --format {args.format} contradict each other",
                            field="--format")
    fmt = "pdf" if args.pdf else (args.format or "html")
    print(write_report(args.directory, out=args.out, lang=args.lang, format=fmt,
                       appendix=args.appendix))
    return 0


def card_command(args: argparse.Namespace) -> int:
    """Write one firm's report card (一企一单); print its path (``card``)."""
    from simulator.card import write_card

    print(write_card(args.directory, args.firm, out=args.out,
                     replication=args.replication, lang=args.lang))
    return 0

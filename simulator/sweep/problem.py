"""A loaded sweep: :func:`load_sweep` checks a sweep file against its base scenario.

:func:`load_sweep` reads a sweep file (:mod:`simulator.sweep.spec`), applies
its ``overrides`` (and ``seed``) to the base scenario, makes the design
(:mod:`simulator.sweep.designs`) and checks what the file means for that
scenario: a range lies on a numeric field and whole-number fields say
``integer: true``; each output's year lies in the run and its group's values
exist in the base scenario; every corner of the parameter box, and every
design point of designs up to :data:`MAX_CHECKED_POINTS` points, gives a
valid scenario. The result, a :class:`SweepProblem`, gives the scenario of
each design point and the outputs to read from each run.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from simulator.dynamics import EXIT_REASONS
from simulator.firms import CLASS_LABELS
from simulator.scenario import (
    INVESTMENT_OPTIONS,
    Scenario,
    ScenarioError,
    apply_changes,
    did_you_mean,
    load_scenario,
    safe_name,
)
from simulator.scenario.specfiles import apply_section, load_spec, value_at
from simulator.sweep.designs import design_table
from simulator.sweep.spec import (
    SweepParameter,
    SweepSpec,
    is_number,
    paths_overlap,
    sweep_error,
)

__all__ = [
    "MAX_CHECKED_POINTS",
    "MAX_CORNERS",
    "RESERVED_NAMES",
    "SweepProblem",
    "load_sweep",
]

log = logging.getLogger(__name__)

#: Designs up to this many points have every point checked when loaded (~0.3 ms each).
MAX_CHECKED_POINTS = 5_000
#: Most corners of the parameter box checked jointly; beyond, each parameter alone.
MAX_CORNERS = 4_096
#: Column names of the runner's results table that outputs cannot take.
RESERVED_NAMES = frozenset({"sample", "replication", "scenario", "seed"})


@dataclass(frozen=True)
class SweepProblem:
    """A loaded, checked sweep file and its design.

    Attributes
    ----------
    spec : SweepSpec
        The validated file.
    file : Path
        The sweep file.
    base_path : Path
        The base scenario file (absolute).
    scenario : Scenario
        Base + ``overrides`` (+ ``seed``): what every run starts from.
    design : pandas.DataFrame
        One row per design point: ``sample`` (0..n-1, also the index), then one
        column per parameter path in file order, holding the values as applied.
    warnings : tuple of str
        What the user should know (e.g. ``samples`` rounded up to a power of two).
    lines : mapping
        Field path tuple -> line in ``file`` (for error messages).
    """

    spec: SweepSpec
    file: Path
    base_path: Path
    scenario: Scenario
    design: pd.DataFrame
    warnings: tuple[str, ...]
    lines: Mapping[tuple, int]

    @property
    def name(self) -> str:
        """Name of the sweep: ``name`` in the file, else the file stem (made name-safe)."""
        if self.spec.name:
            return self.spec.name
        return safe_name(self.file.stem)

    @property
    def parameters(self) -> list[str]:
        """Swept paths, in file order."""
        return [p.path for p in self.spec.parameters]

    @property
    def outputs(self) -> list[str]:
        """Output names, in file order: the given name or ``<metric>[<group>]@<year>``."""
        return list(self.output_keys)

    @property
    def output_keys(self) -> dict[str, tuple[str, str, int]]:
        """Output name -> (metric, group, calendar year), ``year: last`` resolved."""
        return dict(_output_items(self.spec, self.scenario.years))

    @property
    def seed(self) -> int:
        """Seed of every run, of the LHS/Sobol' sampling and of the Sobol' bootstrap."""
        return self.scenario.seed

    @property
    def n_points(self) -> int:
        """Number of design points."""
        return len(self.design)

    @property
    def n_runs(self) -> int:
        """Number of runs: design points x replications."""
        return self.n_points * self.spec.replications

    def changes(self, sample: int) -> dict[str, Any]:
        """Return the dotted path -> value changes of design point ``sample``."""
        if not 0 <= sample < self.n_points:
            raise IndexError(f"sample {sample} is outside the design (0..{self.n_points - 1})")
        return {p.path: p.typed(self.design.at[sample, p.path]) for p in self.spec.parameters}

    def scenario_for(self, sample: int) -> Scenario:
        """Return the scenario of design point ``sample``, named ``<sweep>-s<sample:05d>``."""
        return apply_changes(self.scenario, {**self.changes(sample),
                                             "name": f"{self.name}-s{sample:05d}"})

    def error(self, message: str, loc: tuple) -> ScenarioError:
        """Return a ScenarioError naming this file, the line of ``loc`` and the field."""
        return sweep_error(self.file, self.lines, message, loc)


def load_sweep(path: str | Path) -> SweepProblem:
    """Load and check a sweep file against its base scenario, and make its design.

    Parameters
    ----------
    path : str or Path
        The sweep YAML file.

    Returns
    -------
    SweepProblem
        The checked sweep, with the scenario every run starts from and the design.

    Raises
    ------
    ScenarioError
        Naming the file, line and field of the first problem found.
    """
    path = Path(path)
    spec, lines, base_path = load_spec(path, SweepSpec, "base", sweep_error)
    scenario = apply_section(path, lines, load_scenario(base_path), "overrides", spec.overrides)
    if spec.seed is not None:
        scenario = apply_changes(scenario, {"seed": spec.seed})
    _check_base_values(path, lines, spec, scenario)
    warnings: list[str] = []
    design = design_table(path, lines, spec, scenario.seed, warnings)
    problem = SweepProblem(spec, path, base_path, scenario, design, (), lines)
    _check_outputs(problem)
    _check_corners(problem)
    if problem.n_points <= MAX_CHECKED_POINTS:
        _check_points(problem)
    warnings += _timeline_warnings(spec, scenario)
    for warning in warnings:
        log.warning("%s: %s", path, warning)
    return SweepProblem(spec, path, base_path, scenario, design, tuple(warnings), lines)


def _base_value(dump: dict, path: str) -> tuple[Any, bool]:
    """Return (value, found) at ``path``; a new key of a mapping field is (None, False)."""
    try:
        return value_at(dump, path), True
    except KeyError as exc:
        error = exc
    parts = path.split(".")
    for k in range(len(parts) - 1, -1, -1):
        try:
            node = value_at(dump, ".".join(parts[:k])) if k else dump
        except KeyError:
            continue
        if isinstance(node, dict):
            return None, False
        break
    raise error


def _check_base_values(file: Path, lines: Mapping[tuple, int], spec: SweepSpec,
                       scenario: Scenario) -> None:
    """Check that a range is on a numeric field, and an integer field has ``integer: true``."""
    dump = scenario.model_dump(mode="python")
    for i, p in enumerate(spec.parameters):
        loc = ("parameters", i, "path")
        try:
            value, found = _base_value(dump, p.path)
        except KeyError as exc:
            raise sweep_error(file, lines, exc.args[0], loc) from None
        if p.values is not None or not found or value is None:
            continue
        if not is_number(value):
            raise sweep_error(file, lines, f"{p.path!r} holds {value!r}, not a number: give "
                                           "values (a list) instead of a range", loc)
        if isinstance(value, int) and not p.integer:
            raise sweep_error(file, lines, f"{p.path!r} takes whole numbers (it is {value!r}): "
                                           "add integer: true", loc)


def _check_outputs(problem: SweepProblem) -> None:
    years = problem.scenario.years
    reserved = RESERVED_NAMES | set(problem.parameters)
    seen: set[str] = set()
    known = _group_values(problem.scenario)
    items = _output_items(problem.spec, years)
    for i, (o, (name, (_, _, year))) in enumerate(zip(problem.spec.outputs, items, strict=True)):
        loc = ("outputs", i)
        if year not in years:
            raise problem.error(f"year {year} is outside the run ({years[0]} to {years[-1]})",
                                (*loc, "year"))
        field = "name" if o.name else "metric"
        if name in seen:
            raise problem.error(f"duplicate output {name!r}", (*loc, field))
        if name in reserved:
            raise problem.error(f"output name {name!r} is taken by a column of the results",
                                (*loc, field))
        seen.add(name)
        dimension, eq, value = o.group.partition("=")
        if "->" in o.group:
            dimension, value = "class transition", o.group
            allowed = [f"{a}->{b}" for a in CLASS_LABELS for b in CLASS_LABELS]
        elif eq:
            if dimension not in known:
                raise problem.error(
                    f"unknown group dimension {dimension!r}"
                    f"{did_you_mean(dimension, list(known))}; one of {', '.join(known)}",
                    (*loc, "group"))
            allowed = known[dimension]
        else:
            continue  # "all"
        if value not in allowed:
            shown = ", ".join(allowed[:12]) + (", ..." if len(allowed) > 12 else "")
            raise problem.error(f"unknown {dimension} {value!r} in the base scenario"
                                f"{did_you_mean(value, list(allowed))}; one of {shown}",
                                (*loc, "group"))


def _group_values(scenario: Scenario) -> dict[str, list[str]]:
    """Return the values each group dimension of the metrics takes in ``scenario``'s runs."""
    return {"class": list(CLASS_LABELS), "scale": ["above", "below"],
            "sector": list(scenario.sector_names()),
            "region": [r.name for r in scenario.population.regions],
            "park": [f"{r.name}/{k}" for r in scenario.population.regions
                     for k in range(r.parks)],  # units of evaluation.regions
            "market": list(scenario.quota_names()), "option": list(INVESTMENT_OPTIONS),
            "reason": list(EXIT_REASONS), "kind": ["services"],
            # the initial state's years in D (from 1) and loss years (from 0)
            "years": [str(k) for k in range(max(scenario.initial_state.years_in_d.max,
                                                scenario.initial_state.loss_years.max) + 1)]}


def _output_items(spec: SweepSpec, years: list[int]) -> list[tuple[str, tuple[str, str, int]]]:
    """(name, (metric, group, year)) of each output in file order, duplicates kept."""
    out = []
    for o in spec.outputs:
        year = years[-1] if o.year == "last" else int(o.year)
        out.append((o.name or f"{o.metric}[{o.group}]@{year}", (o.metric, o.group, year)))
    return out


def _extremes(p: SweepParameter) -> list[tuple[Any, tuple]]:
    """Each parameter's extreme values with where they are written (loc below the parameter)."""
    if p.values is None:
        return [(p.typed(p.lower), ("lower",)), (p.typed(p.upper), ("upper",))]
    if all(is_number(v) for v in p.values):
        lo = min(range(len(p.values)), key=lambda k: p.values[k])
        hi = max(range(len(p.values)), key=lambda k: p.values[k])
        return [(p.typed(p.values[k]), ("values", k)) for k in sorted({lo, hi})]
    return [(p.typed(v), ("values", k)) for k, v in enumerate(p.values)]


def _culprit(problem: SweepProblem, field: str | None) -> int | None:
    """Index of the parameter the scenario field lies on (or below, or above), if any."""
    for i, path in enumerate(problem.parameters):
        if field and paths_overlap(path, field):
            return i
    return None


def _check_corners(problem: SweepProblem) -> None:
    """Apply every corner of the parameter box (or each extreme alone if there are too many)."""
    extremes = [_extremes(p) for p in problem.spec.parameters]
    paths = problem.parameters
    if math.prod(len(e) for e in extremes) <= MAX_CORNERS:
        corners = itertools.product(*extremes)
    else:
        base = [None] * len(paths)
        corners = ([*base[:i], e, *base[i + 1:]] for i, ex in enumerate(extremes) for e in ex)
    for corner in corners:
        changes = {path: c[0] for path, c in zip(paths, corner, strict=True) if c is not None}
        try:
            apply_changes(problem.scenario, changes)
        except ScenarioError as exc:
            i = _culprit(problem, exc.field)
            if i is None:
                raise problem.error(f"the values {changes} together give an invalid scenario: "
                                    f"{exc.field}: {exc.message}", ("parameters",)) from None
            others = {k: v for k, v in changes.items() if k != paths[i]}
            context = "" if exc.field == paths[i] or not others else f" (with {others})"
            where = () if corner[i] is None else corner[i][1]
            raise problem.error(f"{exc.field}: {exc.message}{context}",
                                ("parameters", i, *where)) from None


def _check_points(problem: SweepProblem) -> None:
    for sample in range(problem.n_points):
        changes = problem.changes(sample)
        try:
            apply_changes(problem.scenario, changes)
        except ScenarioError as exc:
            i = _culprit(problem, exc.field)
            loc = ("parameters",) if i is None else ("parameters", i)
            raise problem.error(f"design point {sample} {changes} gives an invalid scenario: "
                                f"{exc.field}: {exc.message}", loc) from None


def _timeline_warnings(spec: SweepSpec, scenario: Scenario) -> list[str]:
    out = []
    for change in scenario.timeline:
        for path in change.set:
            for p in spec.parameters:
                if paths_overlap(p.path, path):
                    out.append(f"{p.path} is also set by the base scenario's timeline from "
                               f"{change.date}: the swept value holds only before then")
    return out


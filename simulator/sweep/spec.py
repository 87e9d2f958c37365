"""Parameter sweeps (参数扫描): experiment designs over scenario fields, and Sobol' indices.

A sweep file names a base scenario, changes applied to every run
(``overrides``), the swept parameters (dotted scenario paths, each a list of
values or a range), a design and the scalar outputs to read from each run::

    base: baseline.yaml
    overrides: {population.n_industrial: 2000, output.firm_snapshots: false}
    parameters:                 # each a list of values, or a range
      - {path: tariffs.electricity.class_surcharge_yuan_per_kwh.D, values: [0.1, 0.3, 0.5]}
      - {path: dynamics.exit.forced_exit_share_per_year, lower: 0, upper: 0.05, steps: 3}
    design: grid
    replications: 2
    outputs:
      - {metric: tax_per_mu_wan_yuan, group: scale=above, year: last}

Designs (one row of :attr:`SweepProblem.design` per point):

``grid``
    The Cartesian product of each parameter's values (a ``values`` list, or
    ``steps`` evenly spaced points from ``lower`` to ``upper``), the first
    parameter varying slowest. ``samples`` is not used and is an error.
``lhs``
    ``samples`` points of a Latin hypercube (:class:`scipy.stats.qmc.LatinHypercube`):
    each range is cut into ``samples`` equal strata and every stratum holds
    one point. A ``values`` list is a discrete uniform parameter, picked by
    index (value *k* of *m* where the point falls in the *k*-th *m*-th).
``sobol``
    Saltelli's scheme for first- and total-order Sobol' indices
    (``SALib.sample.sobol.sample``, ``calc_second_order=False``):
    ``samples`` * (D + 2) points for D parameters. Ranges only. ``samples``
    must be a power of two for the Sobol' sequence's balance; another value
    is rounded up to the next power of two, with a warning.

``integer: true`` makes a range take whole numbers: in ``lhs`` and ``sobol``
each of ``lower .. upper`` is equally likely; in a grid the ``steps`` points
are rounded to the nearest whole number. A whole-number scenario field needs it.

Every point's runs use the same seed (the sweep's ``seed`` or the base
scenario's), so replication *k* draws the same random streams in every point
(common random numbers) and differences between points are the parameters'
effect rather than fresh noise. The seed also seeds the LHS and Sobol' sampling
and the bootstrap of the Sobol' confidence intervals, so a sweep file always
gives the same design and indices.

The file is checked as a whole when it is loaded: unknown keys, paths and
metrics, inconsistent ranges, and parameter values that make an invalid
scenario (every corner of the parameter box, and every design point of designs
up to :data:`MAX_CHECKED_POINTS` points) are :class:`~simulator.scenario.ScenarioError`
naming the file, line and field. The runner (``simulator.experiment``) runs
:meth:`SweepProblem.scenario_for` for each point and replication, reads
:func:`output_values` from each run, and :func:`sobol_indices` analyses a
``sobol`` design.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import (
    BeforeValidator,
    Field,
    FiniteFloat,
    field_validator,
    model_validator,
)
from scipy.stats import qmc

from simulator.dynamics import EXIT_REASONS
from simulator.firms import CLASS_LABELS
from simulator.scenario import (
    INVESTMENT_OPTIONS,
    LocatedError,
    Scenario,
    ScenarioError,
    apply_changes,
    check_path,
    did_you_mean,
    load_scenario,
    safe_name,
)
from simulator.scenario.specfiles import (
    MetricName,
    SpecModel,
    apply_section,
    load_spec,
    spec_error,
    value_at,
)

__all__ = [
    "SweepOutput",
    "SweepParameter",
    "SweepProblem",
    "SweepSpec",
    "lhs_unit",
    "load_sweep",
    "output_values",
    "sobol_indices",
    "sobol_unit",
]

log = logging.getLogger(__name__)

#: Most design points a sweep may have (a guard against a mistyped grid).
MAX_POINTS = 1_000_000
#: Designs up to this many points have every point checked when loaded (~0.3 ms each).
MAX_CHECKED_POINTS = 5_000
#: Most corners of the parameter box checked jointly; beyond, each parameter alone.
MAX_CORNERS = 4_096
#: Column names of the runner's results table that outputs cannot take.
RESERVED_NAMES = frozenset({"sample", "replication", "scenario", "seed"})
_GROUP_FORM = re.compile(r"^(all|[a-z_]+=\S+|\w+->\w+)$")


# ------------------------------------------------------------------ file schema


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_whole(value: Any) -> bool:
    return _is_number(value) and math.isfinite(value) and float(value).is_integer()


def _parse_year(value: Any) -> int | str:
    if value == "last" or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise ValueError(f"year must be a calendar year or 'last', got {value!r}")


class SweepParameter(SpecModel):
    """A swept scenario field: a list of values, or a range (``lower``, ``upper``)."""

    path: str = Field(description="dotted scenario path, e.g. dynamics.exit.loss_years")
    values: list[Any] | None = Field(None, description="the values to take (grid, lhs)")
    lower: FiniteFloat | None = None
    upper: FiniteFloat | None = None
    steps: int | None = Field(None, ge=2, le=10_000,
                              description="grid only: evenly spaced points from lower to upper")
    integer: bool = Field(False, description="whole numbers only (needed by integer fields)")

    @field_validator("path")
    @classmethod
    def _known_path(cls, v: str) -> str:
        root = v.split(".")[0]
        if root == "seed":
            raise ValueError("the seed is not swept: replications vary the random streams "
                             "(set the sweep's own seed: to change them all)")
        if root == "name":
            raise ValueError("runs are named after the sweep and the design point")
        if root == "run":
            raise ValueError("every run has the same calendar: set run.* in overrides")
        check_path(Scenario, v, ())
        return v

    @model_validator(mode="after")
    def _values_or_range(self) -> SweepParameter:
        if self.values is not None:
            self._check_values()
            return self
        if self.lower is None and self.upper is None:
            raise LocatedError((), "give values (a list) or a range (lower and upper)")
        for bound in ("lower", "upper"):
            if getattr(self, bound) is None:
                raise LocatedError((bound,), f"{bound} is missing: a range needs lower and upper")
        if not self.lower < self.upper:
            raise LocatedError(("upper",), f"upper ({self.upper:g}) must be greater than "
                                           f"lower ({self.lower:g})")
        if self.integer:
            for bound in ("lower", "upper"):
                if not _is_whole(getattr(self, bound)):
                    raise LocatedError((bound,), f"{getattr(self, bound):g} is not a whole "
                                                 "number (integer: true)")
            count = int(self.upper - self.lower) + 1
            if self.steps is not None and self.steps > count:
                raise LocatedError(("steps",), f"{self.steps} steps would repeat whole numbers "
                                               f"in {self.lower:g}..{self.upper:g}: use at most "
                                               f"{count}")
        return self

    def _check_values(self) -> None:
        if self.lower is not None or self.upper is not None:
            raise LocatedError(("values",), "give values or a range (lower, upper), not both")
        if self.steps is not None:
            raise LocatedError(("steps",), "steps spaces a range; a values list is used as given")
        if not self.values:
            raise LocatedError(("values",), "values is empty: give at least one value")
        for k, value in enumerate(self.values):
            if any(value == earlier for earlier in self.values[:k]):
                raise LocatedError(("values", k), f"duplicate value {value!r}")
            if self.integer and not _is_whole(value):
                raise LocatedError(("values", k), f"{value!r} is not a whole number "
                                                  "(integer: true)")

    def typed(self, value: Any) -> Any:
        """Return ``value`` as it is applied: a Python int for integer parameters."""
        if isinstance(value, np.generic):
            value = value.item()
        return int(value) if self.integer else value


class SweepOutput(SpecModel):
    """A scalar output of each run: an annual metric of one group in one year."""

    name: str | None = Field(None, min_length=1,
                             description='default: "<metric>[<group>]@<year>"')
    metric: MetricName = Field(description="a name from simulator.metrics.METRICS")
    group: str = Field("all", description='"all", "<dimension>=<value>" or "<from>-><to>"')
    year: Annotated[int | str, BeforeValidator(_parse_year)] = Field(
        "last", description='a calendar year of the run, or "last"')

    @field_validator("group")
    @classmethod
    def _group_form(cls, v: str) -> str:
        if not _GROUP_FORM.match(v):
            raise ValueError(f"group must be 'all', '<dimension>=<value>' (e.g. scale=above) "
                             f"or '<from>-><to>' (e.g. B->D), got {v!r}")
        return v  # its values: against the base scenario (_check_outputs)


class SweepSpec(SpecModel):
    """A sweep file: base scenario, overrides, parameters, design, replications, outputs."""

    name: str | None = Field(None, pattern=r"^[A-Za-z0-9_.-]+$",
                             description="default: the file stem")
    base: str = Field(description="base scenario file, relative to the sweep file")
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="dotted path -> value applied to every run")
    parameters: list[SweepParameter] = Field(min_length=1)
    design: Literal["grid", "lhs", "sobol"] = "grid"
    samples: int | None = Field(None, ge=2, le=MAX_POINTS,
                                description="lhs: points; sobol: base sample N (a power of 2)")
    replications: int = Field(1, ge=1, le=10_000, description="runs per design point")
    seed: int | None = Field(None, ge=0, description="default: the base scenario's")
    outputs: list[SweepOutput] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> SweepSpec:
        for path in self.overrides:
            check_path(Scenario, path, ("overrides", path))
        if "seed" in self.overrides and self.seed is not None:
            raise LocatedError(("overrides", "seed"), "the seed is also given as seed: "
                                                      "set it once")
        for i, p in enumerate(self.parameters):
            loc = ("parameters", i, "path")
            for q in self.parameters[:i]:
                if _overlap(p.path, q.path):
                    raise LocatedError(loc, f"duplicate parameter {p.path!r}" if p.path == q.path
                                       else f"{p.path!r} overlaps parameter {q.path!r}")
            for path in self.overrides:
                if _overlap(p.path, path):
                    raise LocatedError(loc, f"{p.path!r} is also set in overrides ({path!r})")
        self._check_design()
        return self

    def _check_design(self) -> None:
        if self.design == "grid":
            if self.samples is not None:
                raise LocatedError(("samples",), "samples is not used by the grid design: its "
                                                 "points are all combinations of the values")
            for i, p in enumerate(self.parameters):
                if p.values is None and p.steps is None:
                    raise LocatedError(("parameters", i), "a grid needs values or steps for "
                                                          "each parameter")
            return
        if self.samples is None:
            raise LocatedError(("samples",), f"the {self.design} design needs samples "
                                             "(the number of points)")
        for i, p in enumerate(self.parameters):
            if p.steps is not None:
                raise LocatedError(("parameters", i, "steps"),
                                   f"steps is for the grid design; {self.design} draws from "
                                   "the whole range")
            if self.design == "sobol" and p.values is not None:
                raise LocatedError(("parameters", i, "values"),
                                   "the sobol design needs ranges (lower, upper), "
                                   "not values lists")


def _overlap(a: str, b: str) -> bool:
    """Whether one dotted path is the other or lies below it."""
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


# ------------------------------------------------------------------ the problem


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
        return _error(self.file, self.lines, message, loc)


def _error(file: Path, lines: Mapping[tuple, int], message: str, loc: tuple) -> ScenarioError:
    # A missing samples: is reported at the design: line that asks for it.
    at = ("design",) if loc == ("samples",) and loc not in lines else loc
    line = spec_error(file, lines, message, at).line
    return ScenarioError(message, file=file, line=line, field=".".join(str(p) for p in loc))


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
    spec, lines, base_path = load_spec(path, SweepSpec, "base", _error)
    scenario = apply_section(path, lines, load_scenario(base_path), "overrides", spec.overrides)
    if spec.seed is not None:
        scenario = apply_changes(scenario, {"seed": spec.seed})
    _check_base_values(path, lines, spec, scenario)
    warnings: list[str] = []
    design = _design(path, lines, spec, scenario.seed, warnings)
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
            raise _error(file, lines, exc.args[0], loc) from None
        if p.values is not None or not found or value is None:
            continue
        if not _is_number(value):
            raise _error(file, lines, f"{p.path!r} holds {value!r}, not a number: give values "
                                      "(a list) instead of a range", loc)
        if isinstance(value, int) and not p.integer:
            raise _error(file, lines, f"{p.path!r} takes whole numbers (it is {value!r}): add "
                                      "integer: true", loc)


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


# ------------------------------------------------------------------ designs


def lhs_unit(d: int, n: int, *, seed: int) -> np.ndarray:
    """Latin hypercube of ``n`` points in ``[0, 1)^d``: one point per stratum of each axis."""
    return qmc.LatinHypercube(d, seed=seed).random(n)


def sobol_unit(d: int, n: int, *, seed: int) -> np.ndarray:
    """Saltelli's first/total-order sample of ``[0, 1]^d``: ``n * (d + 2)`` rows.

    ``n`` should be a power of two; see :func:`SALib.sample.sobol.sample`.
    """
    from SALib.sample import sobol

    problem = {"num_vars": d, "names": [f"x{i}" for i in range(d)], "bounds": [[0.0, 1.0]] * d}
    return sobol.sample(problem, n, calc_second_order=False, seed=seed)


def _scale(u: np.ndarray, p: SweepParameter) -> list[Any]:
    """Map unit coordinates to a parameter's values (uniform on the range, or on its values)."""
    if p.values is not None:
        index = np.minimum((u * len(p.values)).astype(int), len(p.values) - 1)
        return [p.typed(p.values[k]) for k in index]
    if p.integer:
        lower, upper = int(p.lower), int(p.upper)
        return (lower + np.minimum(np.floor(u * (upper - lower + 1)), upper - lower)
                ).astype(np.int64).tolist()
    return (p.lower + u * (p.upper - p.lower)).tolist()


def _grid_values(p: SweepParameter) -> list[Any]:
    if p.values is not None:
        return [p.typed(v) for v in p.values]
    points = np.linspace(p.lower, p.upper, p.steps)
    if p.integer:
        return np.floor(points + 0.5).astype(np.int64).tolist()
    return [float(f"{x:.12g}") for x in points]  # 0.3, not 0.30000000000000004


def _design(file: Path, lines: Mapping[tuple, int], spec: SweepSpec, seed: int,
            warnings: list[str]) -> pd.DataFrame:
    """Make the design table; append warnings (e.g. samples rounded up)."""
    params = spec.parameters
    if spec.design == "grid":
        axes = [_grid_values(p) for p in params]
        n = math.prod(len(a) for a in axes)
        if n > MAX_POINTS:
            raise _error(file, lines, f"the grid has {n:,} points; at most {MAX_POINTS:,}",
                         ("parameters",))
        columns = list(zip(*itertools.product(*axes), strict=True))
    else:
        if spec.design == "lhs":
            u = lhs_unit(len(params), spec.samples, seed=seed)
        else:
            u = sobol_unit(len(params), _sobol_base_n(file, lines, spec, warnings), seed=seed)
        columns = [_scale(u[:, j], p) for j, p in enumerate(params)]
        n = u.shape[0]
    table = {"sample": np.arange(n)}
    table.update({p.path: list(col) for p, col in zip(params, columns, strict=True)})
    return pd.DataFrame(table)


def _sobol_base_n(file: Path, lines: Mapping[tuple, int], spec: SweepSpec,
                  warnings: list[str]) -> int:
    n = spec.samples
    rounded = 1 << (n - 1).bit_length()
    if rounded != n:
        warnings.append(f"samples {n} rounded up to {rounded}: Saltelli's scheme needs a power "
                        f"of two; {rounded * (len(spec.parameters) + 2)} design points")
    if rounded * (len(spec.parameters) + 2) > MAX_POINTS:
        raise _error(file, lines, f"the sobol design has {rounded * (len(spec.parameters) + 2):,}"
                                  f" points; at most {MAX_POINTS:,}", ("samples",))
    return rounded


# ------------------------------------------------------------------ checking the values


def _extremes(p: SweepParameter) -> list[tuple[Any, tuple]]:
    """Each parameter's extreme values with where they are written (loc below the parameter)."""
    if p.values is None:
        return [(p.typed(p.lower), ("lower",)), (p.typed(p.upper), ("upper",))]
    if all(_is_number(v) for v in p.values):
        lo = min(range(len(p.values)), key=lambda k: p.values[k])
        hi = max(range(len(p.values)), key=lambda k: p.values[k])
        return [(p.typed(p.values[k]), ("values", k)) for k in sorted({lo, hi})]
    return [(p.typed(v), ("values", k)) for k, v in enumerate(p.values)]


def _culprit(problem: SweepProblem, field: str | None) -> int | None:
    """Index of the parameter the scenario field lies on (or below, or above), if any."""
    for i, path in enumerate(problem.parameters):
        if field and _overlap(path, field):
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
                if _overlap(p.path, path):
                    out.append(f"{p.path} is also set by the base scenario's timeline from "
                               f"{change.date}: the swept value holds only before then")
    return out


# ------------------------------------------------------------------ outputs and analysis


def output_values(problem: SweepProblem, metrics: pd.DataFrame) -> dict[str, float]:
    """Return each output's value in one run's tidy metrics (NaN where the run has none).

    Parameters
    ----------
    problem : SweepProblem
        The sweep.
    metrics : pandas.DataFrame
        One run's metrics: columns ``year``, ``month`` (null for annual rows),
        ``group``, ``metric``, ``value`` (others are ignored). Annual rows are
        used; several rows of one output (e.g. replications) are averaged.

    Returns
    -------
    dict
        Output name -> value, in file order.
    """
    keys = problem.output_keys
    annual = metrics[metrics["month"].isna()
                     & metrics["metric"].isin({m for m, _, _ in keys.values()})]
    means = annual.groupby(["metric", "group", "year"])["value"].mean()
    return {name: float(means.get(key, np.nan)) for name, key in keys.items()}


def _salib_problem(problem: SweepProblem) -> dict[str, Any]:
    params = problem.spec.parameters
    return {"num_vars": len(params), "names": [p.path for p in params],
            "bounds": [[p.lower, p.upper] for p in params]}


def sobol_indices(problem: SweepProblem, outputs: pd.DataFrame) -> pd.DataFrame:
    """First-order and total Sobol' indices of each output, with 95% bootstrap intervals.

    Outputs are averaged over replications per design point, then analysed with
    :func:`SALib.analyze.sobol.analyze` (``calc_second_order=False``, bootstrap
    seeded with the sweep's seed). An output with a missing (NaN) value or no
    variance gets NaN indices.

    Parameters
    ----------
    problem : SweepProblem
        A sweep with the ``sobol`` design.
    outputs : pandas.DataFrame
        One row per run: columns ``sample``, ``replication`` and the output names.

    Returns
    -------
    pandas.DataFrame
        Columns ``output``, ``parameter``, ``S1``, ``S1_conf``, ``ST``, ``ST_conf``;
        outputs and parameters in file order.

    Raises
    ------
    ValueError
        If the design is not ``sobol``, or an output column or a design point is missing.
    """
    if problem.spec.design != "sobol":
        raise ValueError(f"Sobol' indices need the sobol design; sweep {problem.name!r} has "
                         f"{problem.spec.design!r}")
    names = problem.outputs
    absent = [c for c in ("sample", *names) if c not in outputs.columns]
    if absent:
        raise ValueError(f"outputs lack the column(s) {', '.join(map(repr, absent))}")
    means = outputs.groupby("sample")[names].mean()
    expected = pd.RangeIndex(problem.n_points)
    missing = expected.difference(means.index)
    if len(missing):
        raise ValueError(f"outputs lack {len(missing)} of the {problem.n_points} design points "
                         f"(first: {', '.join(str(s) for s in missing[:5])})")
    if len(unknown := means.index.difference(expected)):
        raise ValueError(f"outputs have samples outside the design (first: {unknown[0]})")
    means = means.loc[expected]

    from SALib.analyze import sobol

    salib = _salib_problem(problem)
    nan = np.full(len(problem.parameters), np.nan)
    frames = []
    for name in names:
        y = means[name].to_numpy(dtype=float)
        if not np.isfinite(y).all() or np.var(y) == 0:
            log.warning("output %s is %s: its Sobol' indices are NaN", name,
                        "missing in some runs" if not np.isfinite(y).all() else "constant")
            si = {"S1": nan, "S1_conf": nan, "ST": nan, "ST_conf": nan}
        else:
            si = sobol.analyze(salib, y, calc_second_order=False, conf_level=0.95,
                               seed=problem.seed, print_to_console=False)
        frames.append(pd.DataFrame({"output": name, "parameter": problem.parameters,
                                    **{k: np.asarray(si[k], dtype=float)
                                       for k in ("S1", "S1_conf", "ST", "ST_conf")}}))
    return pd.concat(frames, ignore_index=True)

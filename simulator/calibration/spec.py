"""Calibration files: free parameters, targets and optimiser; :func:`load_calibration`.

:class:`CalibrationSpec` is a calibration file: the base scenario, ``fixed``
values (part of the fitted model) and ``overrides`` (evaluations only), the
free :class:`ParameterSpec` list (dotted paths with bounds, a start and tied
paths), the :class:`TargetSpec` list (a metric of one group in one year, its
observed value) and the optimiser's settings. :func:`load_calibration` checks
a file against its base scenario (real-valued fields, bounds that make valid
scenarios, target years within the run) and gives the
:class:`CalibrationProblem` every evaluation starts from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import (
    Field,
    FiniteFloat,
    field_validator,
    model_validator,
)

from simulator.scenario import (
    LocatedError,
    Scenario,
    ScenarioError,
    apply_changes,
    check_path,
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
    "CalibrationProblem",
    "CalibrationSpec",
    "ParameterSpec",
    "TargetSpec",
    "load_calibration",
]


class ParameterSpec(SpecModel):
    """A free parameter: a real-valued scenario field, its bounds and start."""

    path: str = Field(description="dotted scenario path, e.g. population.sectors.x.tax_share_of_va")
    lower: FiniteFloat
    upper: FiniteFloat
    start: FiniteFloat | None = Field(None, description="default: the scenario's value")
    tied: dict[str, FiniteFloat] = Field(
        default_factory=dict,
        description="other dotted paths set to this parameter's value times a factor, e.g. "
                    "a later period's rate as a sourced multiple of the fitted one")

    @field_validator("path")
    @classmethod
    def _known_path(cls, v: str) -> str:
        check_path(Scenario, v, ())
        return v

    @field_validator("tied")
    @classmethod
    def _known_tied(cls, v: dict[str, float]) -> dict[str, float]:
        for path in v:
            check_path(Scenario, path, (path,))
        return v

    def changes(self, value: float) -> dict[str, float]:
        """Return the scenario changes this parameter makes at ``value`` (its path and the tied)."""
        return {self.path: value, **{path: value * f for path, f in self.tied.items()}}

    @model_validator(mode="after")
    def _ordered(self) -> ParameterSpec:
        if not self.lower < self.upper:
            raise LocatedError(("upper",), f"upper ({self.upper:g}) must be greater than "
                                           f"lower ({self.lower:g})")
        if self.start is not None and not self.lower <= self.start <= self.upper:
            raise LocatedError(("start",), f"start {self.start:g} is outside the bounds "
                                           f"[{self.lower:g}, {self.upper:g}]")
        return self


class TargetSpec(SpecModel):
    """An observed aggregate: a metric of one group in one year."""

    metric: MetricName = Field(description="a name from simulator.metrics.METRICS")
    group: str = Field("all", description='"all" or "<dimension>=<value>", e.g. scale=above')
    year: int = Field(ge=1900, le=2200)
    value: FiniteFloat = Field(description="observed value, in the metric's unit (non-zero); "
                                           "with base_year, the ratio to that year's value")
    weight: FiniteFloat = Field(1.0, gt=0, description="weight of the relative error")
    base_year: int | None = Field(
        None, ge=1900, le=2200,
        description="compare the metric's ratio year / base_year instead of its level (for "
                    "totals of a sample that stands for the province: an index)")

    @field_validator("value")
    @classmethod
    def _non_zero(cls, v: float) -> float:
        if v == 0:
            raise ValueError("target value must be non-zero (errors are relative to it)")
        return v


class CalibrationSpec(SpecModel):
    """A calibration file: base scenario, free parameters, targets and optimiser."""

    scenario: str = Field(description="base scenario file, relative to the calibration file")
    fixed: dict[str, Any] = Field(
        default_factory=dict,
        description="dotted path -> value: part of the fitted model, written to fitted.yaml")
    overrides: dict[str, Any] = Field(
        default_factory=dict,
        description="dotted path -> value applied to every evaluation only (small and fast)")
    parameters: list[ParameterSpec] = Field(min_length=1)
    targets: list[TargetSpec] = Field(min_length=1)
    method: Literal["least_squares", "nelder_mead"] = "least_squares"
    error: Literal["relative", "log"] = Field(
        "relative", description="the residual: relative error (simulated - target) / target, "
                                "or the log ratio ln(simulated / target) (positive targets; "
                                "symmetric for values that span an order of magnitude)")
    max_evaluations: int = Field(100, ge=1, le=100_000,
                                 description="objective evaluations, finite differences included")
    seed_replications: int = Field(1, ge=1, le=1000,
                                   description="replications averaged per evaluation")
    diff_step: float = Field(0.05, gt=0, le=0.5,
                             description="finite-difference step, share of (upper - lower)")

    @model_validator(mode="after")
    def _paths(self) -> CalibrationSpec:
        for section in ("fixed", "overrides"):
            for path in getattr(self, section):
                check_path(Scenario, path, (section, path))
        if both := sorted(set(self.fixed) & set(self.overrides)):
            raise LocatedError(("overrides", both[0]), "also set in fixed")
        seen: set[str] = set()
        for i, p in enumerate(self.parameters):
            for path, loc in [(p.path, ("parameters", i, "path")),
                              *((t, ("parameters", i, "tied", t)) for t in p.tied)]:
                if path in seen:
                    raise LocatedError(loc, f"{path!r} is set by two parameters")
                if path in self.fixed or path in self.overrides:
                    raise LocatedError(loc, "a free or tied parameter cannot also be in "
                                            "fixed or overrides")
                seen.add(path)
        if self.error == "log":
            for i, t in enumerate(self.targets):
                if t.value <= 0:
                    raise LocatedError(("targets", i, "value"),
                                       "error: log needs positive target values")
        return self


# ------------------------------------------------------------------ the problem


@dataclass(frozen=True)
class CalibrationProblem:
    """A loaded, checked calibration file.

    Attributes
    ----------
    spec : CalibrationSpec
        The validated file.
    file : Path
        The calibration file.
    base_path : Path
        The base scenario file (absolute).
    scenario : Scenario
        Base + ``fixed`` + ``overrides``: what every evaluation starts from.
    start : numpy.ndarray
        Start value of each parameter.
    lines : dict
        Field path tuple -> line in ``file`` (for error messages).
    """

    spec: CalibrationSpec
    file: Path
    base_path: Path
    scenario: Scenario
    start: np.ndarray
    lines: Mapping[tuple, int]

    @property
    def name(self) -> str:
        """Name of the calibration: the file stem, usable as a scenario name."""
        return safe_name(self.file.stem)

    def error(self, message: str, loc: tuple) -> ScenarioError:
        """Return a ScenarioError naming this file, the line of ``loc`` and the field."""
        return spec_error(self.file, self.lines, message, loc)


def load_calibration(path: str | Path) -> CalibrationProblem:
    """Load and check a calibration file against its base scenario.

    Parameters
    ----------
    path : str or Path
        The calibration YAML file.

    Returns
    -------
    CalibrationProblem
        The checked problem, with the scenario every evaluation starts from.

    Raises
    ------
    ScenarioError
        Naming the file, line and field of the first problem found.
    """
    path = Path(path)
    spec, lines, base_path = load_spec(path, CalibrationSpec, "scenario")
    scenario = load_scenario(base_path)
    scenario = apply_section(path, lines, scenario, "fixed", spec.fixed)
    scenario = apply_section(path, lines, scenario, "overrides", spec.overrides)

    dump = scenario.model_dump(mode="python")
    start = []
    for i, p in enumerate(spec.parameters):
        loc = ("parameters", i)
        try:
            value = value_at(dump, p.path)
        except KeyError as exc:
            raise spec_error(path, lines, exc.args[0], (*loc, "path")) from None
        if not isinstance(value, float):
            raise spec_error(path, lines, f"{p.path!r} is not a real-valued field "
                                          f"(its value is {value!r})", (*loc, "path"))
        for bound in ("lower", "upper"):
            try:
                apply_changes(scenario, p.changes(getattr(p, bound)))
            except ScenarioError as exc:
                raise spec_error(path, lines, f"{exc.field}: {exc.message}",
                                 (*loc, bound)) from None
        if p.start is None and not p.lower <= value <= p.upper:
            raise spec_error(path, lines, f"the scenario's value {value:g} is outside the "
                                          "bounds; give a start", loc)
        start.append(value if p.start is None else p.start)
    years = scenario.years
    for i, t in enumerate(spec.targets):
        for field in ("year", "base_year"):
            year = getattr(t, field)
            if year is not None and year not in years:
                raise spec_error(path, lines, f"year {year} is outside the evaluated run "
                                              f"({years[0]} to {years[-1]})",
                                 ("targets", i, field))
    return CalibrationProblem(spec, path, base_path, scenario, np.array(start, dtype=float),
                              lines)


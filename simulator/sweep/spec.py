"""The sweep file's schema: swept parameters, outputs and the file as a whole (pydantic).

:class:`SweepSpec` is a sweep file: base scenario, ``overrides``, the swept
:class:`SweepParameter` list (a list of values, or a range), the design,
``samples``, ``replications``, ``seed`` and the :class:`SweepOutput` list.
What a file says is checked here on its own (unknown keys and paths,
inconsistent ranges, overlapping paths, what the design needs); what it means
against its base scenario is checked when it is loaded
(:mod:`simulator.sweep.problem`). :func:`sweep_error` locates an error in the
file. The format is described in :mod:`simulator.sweep`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    BeforeValidator,
    Field,
    FiniteFloat,
    field_validator,
    model_validator,
)

from simulator.scenario import LocatedError, Scenario, ScenarioError, check_path
from simulator.scenario.specfiles import DEFAULT_REPLICATIONS, MetricName, SpecModel, spec_error

__all__ = [
    "MAX_POINTS",
    "SweepOutput",
    "SweepParameter",
    "SweepSpec",
    "is_number",
    "paths_overlap",
    "sweep_error",
]

#: Most design points a sweep may have (a guard against a mistyped grid).
MAX_POINTS = 1_000_000
_GROUP_FORM = re.compile(r"^(all|[a-z_]+=\S+|\w+->\w+)$")


def is_number(value: Any) -> bool:
    """Whether ``value`` is an int or a float (not a bool)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_whole(value: Any) -> bool:
    return is_number(value) and math.isfinite(value) and float(value).is_integer()


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
        return v  # its values: against the base scenario (simulator.sweep.problem)


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
    replications: int = Field(DEFAULT_REPLICATIONS, ge=1, le=10_000,
                              description="runs per design point (default 5: enough for a paired "
                                          "95% interval per point; est)")
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
                if paths_overlap(p.path, q.path):
                    raise LocatedError(loc, f"duplicate parameter {p.path!r}" if p.path == q.path
                                       else f"{p.path!r} overlaps parameter {q.path!r}")
            for path in self.overrides:
                if paths_overlap(p.path, path):
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


def paths_overlap(a: str, b: str) -> bool:
    """Whether one dotted path is the other or lies below it."""
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def sweep_error(file: Path, lines: Mapping[tuple, int], message: str,
                loc: tuple) -> ScenarioError:
    """Return a ScenarioError naming ``file``, the line of ``loc`` and the field."""
    # A missing samples: is reported at the design: line that asks for it.
    at = ("design",) if loc == ("samples",) and loc not in lines else loc
    line = spec_error(file, lines, message, at).line
    return ScenarioError(message, file=file, line=line, field=".".join(str(p) for p in loc))

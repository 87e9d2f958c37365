"""What calibration, sweep and backtest files share: a YAML spec on a base scenario.

A spec file is a YAML mapping validated by a :class:`SpecModel` (unknown
keys are errors) that names a base scenario file relative to itself.
:func:`load_spec` reads and validates it and resolves the base; errors found
later name the spec file, the line of a field and its path
(:func:`spec_error`). :func:`apply_section` applies a section of dotted
changes (``fixed``, ``overrides``) to the scenario, reporting a bad one at
its line; :func:`value_at` reads a dotted path of a scenario dump.
:data:`MetricName` (re-exported from :mod:`simulator.catalogue`) is a metric
name checked against the catalogue.

Not imported by ``simulator.scenario`` itself, which does not read the
metric catalogue.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from simulator.catalogue import MetricName
from simulator.scenario.changes import apply_changes
from simulator.scenario.errors import ScenarioError, describe, did_you_mean
from simulator.scenario.loading import locate, read_yaml
from simulator.scenario.paths import valid_keys_at
from simulator.scenario.root import Scenario

__all__ = ["DEFAULT_REPLICATIONS", "ErrorAt", "MetricName", "SpecModel", "apply_section",
           "load_spec", "spec_error", "value_at"]

#: Replications per scenario of a comparison, and per point of a sweep file, by default
#: (est: the fewest with a usable paired 95% t-interval; t(0.975, 4 df) = 2.78 against 4.30
#: at 3 replications; a convention of this project, not a sourced value).
DEFAULT_REPLICATIONS = 5


class SpecModel(BaseModel):
    """Base of the models of spec files: unknown keys are errors; values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


Spec = TypeVar("Spec", bound=SpecModel)


def spec_error(file: Path, lines: Mapping[tuple, int], message: str,
               loc: tuple) -> ScenarioError:
    """Return a ScenarioError naming ``file``, the line of ``loc`` (or a parent's) and the field."""
    _, line = locate(loc, {k: (file, v) for k, v in lines.items()}, file)
    return ScenarioError(message, file=file, line=line, field=".".join(str(p) for p in loc))


#: How a spec file makes its errors: ``error(file, lines, message, loc)``.
ErrorAt = Callable[[Path, Mapping[tuple, int], str, tuple], ScenarioError]


def load_spec(path: Path, model: type[Spec], base_field: str,
              error: ErrorAt = spec_error) -> tuple[Spec, Mapping[tuple, int], Path]:
    """Read and validate a YAML file of ``model``; resolve its base scenario file.

    Shared by calibration, sweep and backtest files. Returns the spec, the
    line of every field path and the base file (``base_field``, relative to
    the file). Errors come from ``error``, naming the file, line and field.
    """
    data, lines = read_yaml(path)
    try:
        spec = model.model_validate(data)
    except ValidationError as exc:
        loc, msg = describe(exc, lambda loc: valid_keys_at(loc, model))
        raise error(path, lines, msg, loc) from None
    base_path = (path.parent / getattr(spec, base_field)).resolve()
    if not base_path.is_file():
        raise error(path, lines, f"file not found: {base_path}", (base_field,))
    return spec, lines, base_path


def value_at(data: Any, path: str) -> Any:
    """Return the value at a dotted path of a scenario dump; KeyError names the bad step."""
    for part in path.split("."):
        if isinstance(data, list):
            if not (part.isdigit() and int(part) < len(data)):
                raise KeyError(f"no item {part!r} in a list of {len(data)}")
            data = data[int(part)]
        elif isinstance(data, dict):
            if part not in data and part.isdigit() and int(part) in data:
                part = int(part)  # a calendar year's key
            if part not in data:
                raise KeyError(f"no {part!r} in the scenario{did_you_mean(part, list(data))}")
            data = data[part]
        else:
            raise KeyError(f"{part!r} is below a value, not a field")
    return data


def apply_section(file: Path, lines: Mapping[tuple, int], scenario: Scenario, section: str,
                  changes: Mapping[str, Any]) -> Scenario:
    """Apply a section's changes, re-raising errors at the section's lines."""
    try:
        return apply_changes(scenario, changes)
    except ScenarioError as exc:
        if exc.field in changes:
            raise spec_error(file, lines, exc.message, (section, exc.field)) from None
        raise spec_error(file, lines, f"{exc.field}: {exc.message}", (section,)) from None

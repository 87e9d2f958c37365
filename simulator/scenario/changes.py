"""Changing a scenario by dotted path: :func:`apply_changes`.

Used by sweeps, calibration, ``--seed`` and the timeline's tests: every
path is checked against the scenario's fields first, then the changed
scenario is validated again as a whole.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from simulator.scenario.errors import LocatedError, ScenarioError, describe
from simulator.scenario.paths import check_path, set_path
from simulator.scenario.root import Scenario, scenario_keys

__all__ = ["apply_changes"]


def apply_changes(scenario: Scenario, changes: Mapping[str, Any], *,
                  name: str | None = None) -> Scenario:
    """Return a new Scenario with fields set by dotted path, validated again.

    This is the low-level setter (timelines, sweeps, calibration, ``--seed``):
    the scenario keeps its name unless ``name`` or a ``"name"`` change sets
    one. :func:`simulator.apply_changes` makes a *variant*, named as one by
    default.

    Parameters
    ----------
    scenario : Scenario
        The scenario to change (it is not modified).
    changes : mapping of str to value
        Dotted path -> new value, e.g.
        ``{"tariffs.electricity.class_surcharge_yuan_per_kwh.D": 0.4}``.
    name : str, optional
        The changed scenario's name (ASCII letters, digits, ``_.-``).

    Returns
    -------
    Scenario
        The changed scenario.

    Raises
    ------
    ScenarioError
        If a path is unknown or a value is invalid.
    """
    data = scenario.model_dump(mode="python")
    if name is not None:
        changes = {**changes, "name": name}
    for path, value in changes.items():
        try:
            check_path(Scenario, path, (path,))
        except LocatedError as exc:
            raise ScenarioError(str(exc), field=path) from None
        set_path(data, path, copy.deepcopy(value))
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        loc, msg = describe(exc, scenario_keys)
        raise ScenarioError(msg, field=".".join(str(p) for p in loc)) from None

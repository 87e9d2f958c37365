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


def apply_changes(scenario: Scenario, changes: Mapping[str, Any]) -> Scenario:
    """Return a new Scenario with fields set by dotted path, validated again.

    Parameters
    ----------
    scenario : Scenario
        The scenario to change (it is not modified).
    changes : mapping of str to value
        Dotted path -> new value, e.g.
        ``{"tariffs.electricity.class_surcharge_yuan_per_kwh.D": 0.4}``.

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

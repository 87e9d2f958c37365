"""Variants of a scenario from Python: changed by dotted path, named as a variant.

:func:`apply_changes` is the Python API's way to make a policy variant
(``simulator.apply_changes``): the changes of
:func:`simulator.scenario.apply_changes`, and a name that is never the base
scenario's, so a variant's results are not written to, or labelled as, the
baseline's.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from simulator.scenario import Scenario, ScenarioError, safe_name
from simulator.scenario import apply_changes as set_fields

__all__ = ["apply_changes", "variant_name"]

#: Longest name a variant gets by default (characters).
_MAX_NAME = 80


def apply_changes(base: Scenario, changes: Mapping[str, Any], *,
                  name: str | None = None) -> Scenario:
    """Return a variant of ``base``: fields set by dotted path, validated, named as a variant.

    Parameters
    ----------
    base : Scenario
        The scenario to change (it is not modified).
    changes : mapping of str to value
        Dotted path -> new value, e.g.
        ``{"tariffs.electricity.class_surcharge_yuan_per_kwh.D": 0.5}``.
    name : str, optional
        The variant's name. Default: a ``"name"`` in ``changes``, else
        :func:`variant_name` (``<base>-variant-...``, derived from the changes).

    Returns
    -------
    Scenario
        The variant.

    Raises
    ------
    ScenarioError
        If a path is unknown, a value invalid, or ``name`` is the base's name.

    Examples
    --------
    >>> from simulator import apply_changes, load_scenario
    >>> base = load_scenario("scenarios/small_county.yaml")
    >>> apply_changes(base, {"tariffs.electricity.class_surcharge_yuan_per_kwh.D": 0.5}).name
    'small_county-variant-D-0.5'
    """
    if name is None:
        name = changes.get("name") or variant_name(base.name, changes)
    if name == base.name and dict(changes).keys() - {"name"}:
        raise ScenarioError(f"a variant needs a name of its own, not its base's {name!r}: its "
                            "results would be written and labelled as the base's", field="name")
    return set_fields(base, {k: v for k, v in changes.items() if k != "name"}, name=name)


def variant_name(base: str, changes: Mapping[str, Any]) -> str:
    """Return the default name of a variant: ``<base>-variant-<what changed>``.

    One change of a number or a word gives its last path part and value
    (``baseline-variant-D-0.5``); other changes a short hash of them
    (``baseline-variant-3f2a9c``), the same for the same changes.
    """
    items = {k: v for k, v in changes.items() if k != "name"}
    stem = base if "-variant" in base else f"{base}-variant"  # a variant of a variant: once
    if len(items) == 1:
        (path, value), = items.items()
        if isinstance(value, (int, float, str)) and not isinstance(value, bool):
            tail = safe_name(f"{path.rsplit('.', 1)[-1]}-{value}")
            if len(stem) + len(tail) + 1 <= _MAX_NAME:
                return f"{stem}-{tail}"
    digest = hashlib.sha256(json.dumps(items, sort_keys=True, default=str).encode("utf-8"))
    return f"{stem[:_MAX_NAME - 7]}-{digest.hexdigest()[:6]}"

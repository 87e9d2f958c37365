"""The explorer's levers: which scenario fields a researcher moves, their ranges and units.

A :class:`Lever` is one slider. Most set one scenario field by its dotted
path (a class surcharge, an evaluation weight, a first-year cap, a price
floor); the cap's tightening is a derived lever that scales a market's whole
cap path (its index by year, explicit caps and decline after the plan) by
``(1 - d)`` per year since the run's first year, so that it acts inside the
run's horizon whatever the path looks like. :func:`levers_for` lists the
levers of a scenario, :func:`lever_changes` turns lever values into the
dotted changes of :func:`simulator.scenario.apply_changes`, and
:func:`read_levers` reads them back from a changed scenario.

Examples
--------
>>> from simulator.scenario import default_scenario_path, load_scenario
>>> base = load_scenario(default_scenario_path())
>>> levers = {lv.key: lv for lv in levers_for(base)}
>>> levers["electricity.D"].path, levers["electricity.D"].base_value
('tariffs.electricity.class_surcharge_yuan_per_kwh.D', 0.3)
>>> lever_changes(base, list(levers.values()), {"electricity.D": 0.5})
{'tariffs.electricity.class_surcharge_yuan_per_kwh.D': 0.5}
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from simulator.scenario import CLASSES, Scenario, apply_changes
from simulator.scenario.markets import QuotaMarketSpec

__all__ = ["GROUPS", "Lever", "apply_levers", "clamp", "lever_changes", "levers_for",
           "market_path", "read_levers", "timeline_notes"]

#: Lever groups in the order the explorer shows them (``market:<quota>`` after these).
GROUPS: tuple[str, ...] = ("electricity", "water", "weights")
#: The evaluation's above-scale indicators, in the order of the schema.
WEIGHT_INDICATORS: tuple[str, ...] = ("tax_per_mu", "va_per_mu", "va_per_tce",
                                      "va_per_emission", "labour_productivity", "rd_share")
#: Digits kept in derived values (cap indices), so a saved file reads back the same.
DIGITS = 8


@dataclass(frozen=True)
class Lever:
    """One slider of the explorer: a scenario field (or a cap path), its range and unit."""

    key: str
    """Stable identifier, e.g. ``"electricity.D"`` or ``"cap_share.energy"``."""
    group: str
    """``"electricity"``, ``"water"``, ``"weights"`` or ``"market:<quota>"``."""
    kind: Literal["field", "cap_tightening"]
    """``field`` sets ``path``; ``cap_tightening`` scales the cap path below ``path``."""
    path: str
    """Dotted scenario path (of the cap for ``cap_tightening``)."""
    unit: str
    """Unit symbol (catalogue unit words), e.g. ``"yuan/kWh"``."""
    minimum: float
    maximum: float
    step: float
    base_value: float
    """The value in the base scenario (0 for the tightening: none)."""
    subject: str = ""
    """What the label names: the class, indicator or quota."""


def market_path(quota: str) -> str:
    """Return the dotted path of a quota market: ``markets.energy`` or ``markets.emissions.<p>``."""
    return "markets.energy" if quota == "energy" else f"markets.emissions.{quota}"


def _nice_step(span: float) -> float:
    """Return a round step (1, 2 or 5 x 10^k) giving about 50 steps over ``span``."""
    if span <= 0:
        return 1.0
    exponent = math.floor(math.log10(span / 50))
    for factor in (1, 2, 5, 10):
        step = factor * 10.0 ** exponent
        if span / step <= 50:
            return step
    return 10.0 ** (exponent + 1)


def _field(key: str, group: str, path: str, unit: str, low: float, high: float, step: float,
           value: float, subject: str) -> Lever:
    """Return a field lever whose range is widened to hold the base value."""
    high = max(high, math.ceil(value / step) * step)
    low = min(low, math.floor(value / step) * step)
    return Lever(key=key, group=group, kind="field", path=path, unit=unit,
                 minimum=_round(low, step), maximum=_round(high, step), step=step,
                 base_value=float(value), subject=subject)


def _market_levers(quota: str, spec: QuotaMarketSpec) -> list[Lever]:
    """Return the cap share, cap tightening and price-floor levers of one market."""
    path = market_path(quota)
    unit = "yuan/tce" if quota == "energy" else "yuan/t"
    group = f"market:{quota}"
    share = spec.cap.first_year_share_of_baseline
    # The floor must stay below every release trigger and at most the ceiling.
    limits = [r.trigger_price_yuan_per_unit for r in spec.reserve.releases]
    upper = min([*limits, spec.price.ceiling_yuan_per_unit])
    step = _nice_step(upper)
    top = math.floor(upper / step) * step
    if limits and top >= min(limits):
        top -= step
    floor = spec.price.floor_yuan_per_unit
    return [
        _field(f"cap_share.{quota}", group, f"{path}.cap.first_year_share_of_baseline", "share",
               0.5, 1.5, 0.01, share, quota),
        Lever(key=f"cap_tightening.{quota}", group=group, kind="cap_tightening",
              path=f"{path}.cap", unit="%/year", minimum=0.0, maximum=10.0, step=0.5,
              base_value=0.0, subject=quota),
        Lever(key=f"floor.{quota}", group=group, kind="field",
              path=f"{path}.price.floor_yuan_per_unit", unit=unit, minimum=0.0,
              maximum=max(top, floor), step=step, base_value=float(floor), subject=quota),
    ]


def levers_for(scenario: Scenario) -> list[Lever]:
    """Return the explorer's levers for ``scenario``, in display order.

    Class surcharges on electricity (yuan/kWh) and water (yuan/m³) for A-D;
    the weights of the above-scale evaluation (points); and for each quota
    market switched on, its first-year cap (share of the firms' baseline use),
    an extra tightening of its cap path (% a year) and its price floor, the
    reserve price at which the government auctions unallocated rights and
    buys rights back (yuan per tce or t).
    """
    elec = scenario.tariffs.electricity.class_surcharge_yuan_per_kwh
    water = scenario.tariffs.water.class_sewage_surcharge_yuan_per_m3
    weights = scenario.evaluation.weights_above_scale
    out = [_field(f"electricity.{c}", "electricity",
                  f"tariffs.electricity.class_surcharge_yuan_per_kwh.{c}", "yuan/kWh",
                  0.0, 1.0, 0.01, getattr(elec, c), c) for c in CLASSES]
    out += [_field(f"water.{c}", "water", f"tariffs.water.class_sewage_surcharge_yuan_per_m3.{c}",
                   "yuan/m³", 0.0, 3.0, 0.05, getattr(water, c), c) for c in CLASSES]
    out += [_field(f"weight.{i}", "weights", f"evaluation.weights_above_scale.{i}", "points",
                   0.0, 60.0, 1.0, weights.get(i, 0.0), i) for i in WEIGHT_INDICATORS]
    markets = scenario.markets
    if markets.energy.enabled:
        out += _market_levers("energy", markets.energy)
    for quota in scenario.pollutant_names():
        spec = markets.emissions.get(quota)
        if spec is not None and spec.enabled:
            out += _market_levers(quota, spec)
    return out


def _round(value: float, step: float) -> float:
    """Return ``value`` on the grid of ``step`` (as few decimals as the step has)."""
    decimals = max(0, -math.floor(math.log10(step))) if step < 1 else 0
    return round(round(value / step) * step, decimals + 2)


def clamp(lever: Lever, value: Any) -> float:
    """Return ``value`` on the lever's grid within its range; None or junk gives the base value.

    A value within half a step of the base value is the base value, so that a
    base off the grid (a fitted 0.8786 on a slider of 0.01 steps) is kept
    unless the lever moves.

    Examples
    --------
    >>> lv = Lever("x", "g", "field", "a.b", "yuan", 0.0, 1.0, 0.05, 0.31)
    >>> clamp(lv, 7), clamp(lv, -1), clamp(lv, 0.38), clamp(lv, 0.3), clamp(lv, None)
    (1.0, 0.0, 0.4, 0.31, 0.31)
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        return lever.base_value
    if not math.isfinite(number):
        return lever.base_value
    number = min(max(number, lever.minimum), lever.maximum)
    if abs(number - lever.base_value) < lever.step / 2:
        return lever.base_value
    return _round(number, lever.step)


def _get(data: Any, path: str) -> Any:
    """Return the value at dotted ``path`` of a model dump (None where absent)."""
    for part in path.split("."):
        if not isinstance(data, Mapping) or part not in data:
            return None
        data = data[part]
    return data


def _tightened_cap(cap: Mapping[str, Any], first_year: int, share: float) -> dict[str, Any]:
    """Return the cap fields that scale a cap path by ``(1 - share)`` a year from ``first_year``.

    The index by year gets the first year added (on its path, so the path is
    unchanged) and every listed year multiplied; the decline after the last
    listed year and explicit yearly caps follow. Values are rounded to
    :data:`DIGITS` so that a saved file reads back the same scenario.
    """
    factor = 1.0 - share
    decline = 1.0 - (1.0 - cap["annual_decline"]) * factor
    out: dict[str, Any] = {"annual_decline": round(decline, DIGITS)}
    index = dict(cap["index_by_year"])
    if index:
        from simulator.markets.allocation import cap_index
        from simulator.scenario.markets import CapSpec

        spec = CapSpec.model_validate(cap)
        index.setdefault(first_year, cap_index(spec, first_year))
        out["index_by_year"] = {y: round(v * factor ** (y - first_year), DIGITS)
                                for y, v in sorted(index.items())}
    if cap["yearly"]:
        out["yearly"] = {y: round(v * factor ** (y - first_year), DIGITS)
                         for y, v in sorted(cap["yearly"].items())}
    return out


def lever_changes(base: Scenario, levers: Sequence[Lever],
                  values: Mapping[str, Any]) -> dict[str, Any]:
    """Return the dotted changes to ``base`` that lever ``values`` (by key) make.

    Values are clamped to the levers' ranges (:func:`clamp`); a lever at its
    base value, or not in ``values``, changes nothing. A cap tightening comes
    after the same market's first-year share, as whole ``cap`` fields.
    """
    dump = base.model_dump(mode="python")
    changes: dict[str, Any] = {}
    for lever in levers:
        if lever.key not in values:
            continue
        value = clamp(lever, values[lever.key])
        if lever.kind == "cap_tightening":
            if value != 0:
                cap = _get(dump, lever.path)
                tightened = _tightened_cap(cap, base.run.first_year, value / 100.0)
                changes.update({f"{lever.path}.{k}": v for k, v in tightened.items()})
        elif value != lever.base_value:
            changes[lever.path] = value
    return changes


def apply_levers(base: Scenario, levers: Sequence[Lever], values: Mapping[str, Any]) -> Scenario:
    """Return ``base`` with the lever ``values`` applied (validated again).

    Raises
    ------
    ScenarioError
        If the changed scenario is invalid (e.g. every evaluation weight at 0).
    """
    return apply_changes(base, lever_changes(base, levers, values))


def read_levers(scenario: Scenario, levers: Sequence[Lever], base: Scenario) -> dict[str, float]:
    """Return the lever values that turn ``base`` into ``scenario`` (by key).

    The inverse of :func:`lever_changes` for the scenarios it makes: a field
    lever reads its path, a cap tightening the ratio of the two scenarios'
    decline factors after the plan.
    """
    dump, base_dump = scenario.model_dump(mode="python"), base.model_dump(mode="python")
    out = {}
    for lever in levers:
        if lever.kind == "cap_tightening":
            after = _get(dump, f"{lever.path}.annual_decline")
            before = _get(base_dump, f"{lever.path}.annual_decline")
            value = 100.0 * (1.0 - (1.0 - after) / (1.0 - before))
        else:
            value = _get(dump, lever.path)
            value = 0.0 if value is None else float(value)
        out[lever.key] = clamp(lever, value)
    return out


def timeline_notes(scenario: Scenario, levers: Sequence[Lever]) -> dict[str, list[tuple[str, Any]]]:
    """Return, by lever key, the timeline's later settings of the lever's field: (date, value).

    A lever sets its field from the run's start; a dated change of the same
    field (or of a mapping holding it) in the scenario's timeline still
    applies from its date, and the explorer says so next to the lever.
    """
    out: dict[str, list[tuple[str, Any]]] = {}
    for change in sorted(scenario.timeline, key=lambda c: c.date):
        for path, value in change.set.items():
            for lever in levers:
                if lever.path == path or lever.path.startswith(path + ".") \
                        or path.startswith(lever.path + "."):
                    shown = value
                    if lever.path.startswith(path + "."):
                        shown = _get(value, lever.path[len(path) + 1:])
                    out.setdefault(lever.key, []).append((change.date, shown))
    return out

"""The explorer's words: lever labels with their units, group titles, numbers and the run size.

Every text comes from the ``explore`` section of the catalogue's locale files
(and the catalogue's indicator labels and unit words), so the app and the
files it saves read the same in English and Chinese.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from simulator import catalogue
from simulator.explore.levers import Lever
from simulator.explore.runs import RunSize
from simulator.scenario import Scenario

__all__ = ["group_title", "lever_label", "lever_number", "lever_unit", "number", "size_text",
           "texts"]


def texts(lang: str) -> Mapping[str, str]:
    """Return the explorer's texts in ``lang``."""
    return catalogue.text(lang, "explore")


def group_title(group: str, scenario: Scenario, lang: str) -> str:
    """Return the title of a lever group (a market's name for ``market:<quota>``).

    >>> from simulator.scenario import default_scenario_path, load_scenario
    >>> group_title("market:cod", load_scenario(default_scenario_path()), "zh")
    '化学需氧量排污权'
    """
    t = texts(lang)
    if not group.startswith("market:"):
        return t[f"group.{group}"]
    quota = group.removeprefix("market:")
    if f"market.{quota}" in t:
        return t[f"market.{quota}"]
    spec = scenario.pollutant_specs()[quota]
    name = (spec.label_zh if lang == "zh" else spec.label) or spec.label or quota
    return t["market.other"].format(pollutant=name)


def lever_label(lever: Lever, lang: str) -> str:
    """Return the label of ``lever`` without its unit (the class, indicator or cap setting)."""
    t = texts(lang)
    if lever.group in ("electricity", "water"):
        return t["lever.class"].format(klass=lever.subject)
    if lever.group == "weights":
        return catalogue.label(f"ind_{lever.subject}", lang)
    return t[f"lever.{lever.key.split('.')[0]}"]


def lever_unit(lever: Lever, lang: str) -> str:
    """Return the unit of ``lever`` in ``lang`` (the catalogue's unit words).

    >>> lever_unit(Lever("x", "water", "field", "p", "yuan/m³", 0, 3, 0.05, 0.6), "zh")
    '元/立方米'
    """
    if lever.unit == "%/year":
        return texts(lang)["unit.percent_per_year"]
    return catalogue.unit_text(lever.unit, lang)


def number(value: float, *, signed: bool = False) -> str:
    """Return ``value`` with digits that suit its size (thousands separated); "—" for NaN.

    >>> number(41234567.8), number(12.345), number(-0.01234, signed=True), number(float("nan"))
    ('41,234,568', '12.35', '-0.0123', '—')
    """
    if value is None or not math.isfinite(value):
        return "—"
    sign = "+" if signed and value > 0 else ""
    size = abs(value)
    if size >= 1000:
        text = f"{value:,.0f}"
    elif size >= 1 or size == 0:
        text = f"{value:,.2f}"
    else:
        text = f"{value:.3g}"
    return sign + text


def lever_number(lever: Lever, value: float) -> str:
    """Return a lever's value with the decimals of its step (and of an off-grid base value).

    >>> lv = Lever("x", "water", "field", "p", "yuan/m³", 0, 3, 0.05, 0.6)
    >>> lever_number(lv, 0.6), lever_number(lv, 3), lever_number(lv, 0.8786)
    ('0.60', '3.00', '0.8786')
    """
    decimals = max(0, -math.floor(math.log10(lever.step) + 1e-9))
    text = f"{value:,.{decimals}f}"
    if float(text.replace(",", "")) != value:  # a base value off the grid: all its digits
        text = f"{value:,.10f}".rstrip("0").rstrip(".")
    return text


def size_text(size: RunSize, full_firms: int, lang: str) -> str:
    """Return the run size as the page states it, e.g. "1000 firms (...), 2017–2030, 3 ..."."""
    t = texts(lang)
    parts = [t["size"].format(firms=f"{size.firms:,}", industrial=f"{size.industrial:,}",
                              services=f"{size.services:,}", first=size.first_year,
                              last=size.last_year)]
    parts.append(t["size.one"] if size.replications == 1
                 else t["size.many"].format(n=size.replications))
    if size.scaled:
        parts.append(t["size.scaled"].format(full=f"{full_firms:,}"))
    return t["size.join"].join(parts)

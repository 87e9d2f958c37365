"""The policy difference in words (政策差异说明): scenario fields and timelines to sentences.

A decision maker reads "From January 2019, class D firms pay 0.3 yuan/kWh
more", not a table of dotted paths. :func:`describe_difference` compares two
resolved scenarios *over time* (each field's value at the start, then as
their timelines change it) and says where and from when they differ;
:func:`describe_timeline` says what a scenario's own timeline changes.

Words come from the ``brief`` section of the locales: ``field.<path>`` names
a scenario field (class letters and list positions left out of the path,
e.g. ``field.tariffs.electricity.class_surcharge_yuan_per_kwh``), ``who.<path>``
names who pays a field of a list item. A field without a name still gets a
readable sentence: its path in words, its unit read from the name's suffix
(``_yuan_per_kwh`` is yuan/kWh).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from simulator.reporting.sections import text

__all__ = ["Change", "changes_between", "clause", "describe_difference", "describe_timeline",
           "field_unit", "field_words", "month_words"]

CLASSES = ("A", "B", "C", "D", "U")
#: Fields that are not policy: left out of the description.
_SKIP = ("name", "description", "timeline", "extends", "output.")
# Unit suffixes of field names, longest first: suffix -> the catalogue's unit symbol
# (in words by simulator.catalogue.unit_text).
_UNITS: tuple[tuple[str, str], ...] = (
    ("_yuan_per_kwh", "yuan/kWh"),
    ("_yuan_per_m3", "yuan/m³"),
    ("_yuan_per_tce", "yuan/tce"),
    ("_yuan_per_t", "yuan/t"),
    ("_wan_yuan_per_mu", "万元/mu"),
    ("_wan_yuan", "万元"),
    ("_yuan", "yuan"),
    ("_mu", "mu"),
    ("_tce", "tce"),
    ("_kwh", "kWh"),
)


@dataclass(frozen=True)
class Change:
    """One field whose value differs: before (or in the reference) and after (in the variant).

    ``start`` and ``end`` are the months (``"YYYY-MM"``) the difference holds
    from and until (exclusive); None is the run's start or end.
    """

    path: str
    old: Any
    new: Any
    start: str | None = None
    end: str | None = None


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Return dotted path -> leaf value of nested mappings (a list is a leaf)."""
    if isinstance(data, Mapping):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): data}


def _skipped(path: str) -> bool:
    return any(path == s or (s.endswith(".") and path.startswith(s)) for s in _SKIP)


def _schedule(scenario: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, dict]]]:
    """Return the fields at the start and the timeline as sorted (month, {path: value})."""
    base = flatten({k: v for k, v in scenario.items() if k != "timeline"})
    steps = []
    for change in sorted(scenario.get("timeline") or [], key=lambda c: str(c.get("date", ""))):
        values: dict[str, Any] = {}
        for path, value in (change.get("set") or {}).items():
            values.update(flatten(value, f"{path}.") if isinstance(value, Mapping)
                          else {path: value})
        steps.append((str(change.get("date", "")), values))
    return base, steps


def _value_at(base: dict[str, Any], steps: list[tuple[str, dict]], path: str,
              month: str | None) -> Any:
    value = base.get(path)
    for date, values in steps:
        if month is not None and date <= month and path in values:
            value = values[path]
    return value


def changes_between(reference: Mapping[str, Any], variant: Mapping[str, Any]) -> list[Change]:
    """Return where ``variant`` differs from ``reference``, field by field and over time.

    Each field's value is followed through both timelines; consecutive
    months with the same pair of values make one :class:`Change`.

    Examples
    --------
    >>> ref = {"tariffs": {"d": 0.3}}
    >>> var = {"tariffs": {"d": 0.3}, "timeline": [{"date": "2019-01", "set": {"tariffs.d": 0.6}}]}
    >>> changes_between(ref, var)
    [Change(path='tariffs.d', old=0.3, new=0.6, start='2019-01', end=None)]
    """
    ref_base, ref_steps = _schedule(reference)
    var_base, var_steps = _schedule(variant)
    paths = sorted(set(ref_base) | set(var_base)
                   | {p for _, v in (*ref_steps, *var_steps) for p in v})
    out = []
    for path in paths:
        if _skipped(path):
            continue
        dates = sorted({d for d, v in (*ref_steps, *var_steps) if path in v})
        starts: list[str | None] = [None, *dates]
        pairs = [(_value_at(ref_base, ref_steps, path, s), _value_at(var_base, var_steps, path, s))
                 for s in starts]
        k = 0
        while k < len(starts):
            j = k
            while j + 1 < len(starts) and pairs[j + 1] == pairs[k]:
                j += 1
            old, new = pairs[k]
            if old != new:
                end = starts[j + 1] if j + 1 < len(starts) else None
                out.extend(_split_lists(Change(path, old, new, starts[k], end)))
            k = j + 1
    return out


def _split_lists(change: Change) -> list[Change]:
    """Split a changed list of mappings of one length into one change per item field."""
    old, new = change.old, change.new
    if not (isinstance(old, list) and isinstance(new, list) and len(old) == len(new)
            and all(isinstance(x, Mapping) for x in (*old, *new))):
        return [change]
    out = []
    for i, (a, b) in enumerate(zip(old, new, strict=True)):
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                out.append(Change(f"{change.path}.{i}.{key}", a.get(key), b.get(key),
                                  change.start, change.end))
    return out if out else [change]


def describe_difference(reference: Mapping[str, Any], variant: Mapping[str, Any], lang: str, *,
                        reference_name: str = "", limit: int = 8) -> list[str]:
    """Return sentences saying how ``variant`` differs from ``reference``, timelines included.

    Parameters
    ----------
    reference, variant : mapping
        Resolved scenarios (as stored in an experiment's ``scenarios/``).
    lang : {"en", "zh"}
        Language.
    reference_name : str
        The reference's name, for the sentence saying there is no difference.
    limit : int
        Most sentences; a last one says how many more differences there are.

    Examples
    --------
    >>> ref = {"run": {"start": "2017-01"},
    ...        "tariffs": {"electricity": {"class_surcharge_yuan_per_kwh": {"D": 0.3}}}}
    >>> var = {**ref, "timeline": [{"date": "2019-01", "set": {
    ...     "tariffs.electricity.class_surcharge_yuan_per_kwh.D": 0.6}}]}
    >>> describe_difference(ref, var, "en")  # doctest: +NORMALIZE_WHITESPACE
    ['From January 2019, class D firms pay 0.3 yuan/kWh more: the electricity class
      surcharge is 0.6 instead of 0.3 yuan/kWh.']
    """
    t = text(lang)
    changes = changes_between(reference, variant)
    if not changes:
        return [t["policy.same"].format(reference=reference_name)]
    items = [_phrase(c, t, lang, _item(reference, variant, c)) for c in changes]
    if len(items) > limit:
        items = [*items[:limit], t["policy.more"].format(n=len(items) - limit)]
    return items


def describe_timeline(scenario: Mapping[str, Any], lang: str, *, limit: int = 8) -> list[str]:
    """Return sentences saying what the scenario's timeline changes, in date order."""
    t = text(lang)
    base, steps = _schedule(scenario)
    changes = []
    for date, values in steps:
        for path, value in values.items():
            before = _value_at(base, steps, path, _month_before(date))
            if before != value and not _skipped(path):
                changes.extend(_split_lists(Change(path, before, value, date)))
    if not changes:
        return [t["no_timeline"]]
    items = [_phrase(c, t, lang, _item(scenario, scenario, c)) for c in changes]
    if len(items) > limit:
        items = [*items[:limit], t["policy.more"].format(n=len(items) - limit)]
    return items


def _month_before(month: str) -> str:
    year, mon = (int(x) for x in month.split("-")[:2])
    return f"{year - 1}-12" if mon == 1 else f"{year}-{mon - 1:02d}"


def _item(reference: Mapping[str, Any], variant: Mapping[str, Any], change: Change) -> dict:
    """Return the list item a change belongs to (its fields qualify the sentence), or {}."""
    m = re.match(r"^(.*)\.(\d+)\.(\w+)$", change.path)
    if not m:
        return {}
    for scenario in (variant, reference):
        base, steps = _schedule(scenario)
        items = _value_at(base, steps, m.group(1), change.start)
        if isinstance(items, list) and int(m.group(2)) < len(items):
            return dict(items[int(m.group(2))])
    return {}


def clause(sentence: str, lang: str) -> str:
    """Return a sentence as a clause to go on from: no closing stop, lower case first (en).

    Examples
    --------
    >>> clause("From January 2019, D firms pay more.", "en")
    'from January 2019, D firms pay more'
    """
    if sentence and unicodedata.category(sentence[-1]) == "Po":
        sentence = sentence[:-1]
    return sentence[:1].lower() + sentence[1:] if lang == "en" else sentence


def month_words(month: str, lang: str) -> str:
    """Return ``"2019-01"`` as "January 2019" (en) or "2019 年 1 月" (zh)."""
    try:
        year, mon = (int(x) for x in str(month).split("-")[:2])
    except ValueError:
        return str(month)
    if not 1 <= mon <= 12:
        return str(month)
    t = text(lang)
    return t["date"].format(month=t[f"month.{mon}"], year=year)


def field_unit(name: str, lang: str) -> tuple[str, str]:
    """Return a field name without its unit suffix, and the unit in words ("" if none).

    Examples
    --------
    >>> field_unit("class_surcharge_yuan_per_kwh", "en")
    ('class_surcharge', 'yuan/kWh')
    """
    from simulator.catalogue import unit_text

    for suffix, symbol in _UNITS:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], unit_text(symbol, lang)
    return name, ""


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _show(value: Any, t: dict[str, str]) -> str:
    from simulator.reporting.html import fmt

    if isinstance(value, bool):
        return t["policy.on"] if value else t["policy.off"]
    if value is None:
        return t["policy.none"]
    if _number(value):
        return fmt(value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {_show(v, t)}" for k, v in value.items())
    if isinstance(value, Sequence) and not isinstance(value, str):
        shown = "; ".join(_show(v, t) for v in value[:4])
        return f"[{shown}{'; …' if len(value) > 4 else ''}]" if value else t["policy.empty"]
    return str(value)


def field_words(path: str, lang: str) -> tuple[str, str]:
    """Return a scenario field in words and its unit, e.g. for a sweep's parameter.

    Examples
    --------
    >>> field_words("tariffs.electricity.class_surcharge_yuan_per_kwh.D", "en")
    ('electricity class surcharge, class D firms', 'yuan/kWh')
    """
    t = text(lang)
    what, who, unit = _what_who(path.split("."), t, lang, {})
    return (t["policy.field_of"].format(what=what, who=who) if who else what), unit


def _what_who(parts: list[str], t: dict[str, str], lang: str,
              qualifier: dict[str, str]) -> tuple[str, str | None, str]:
    """Return a field path in words, whom it applies to (None: no one), and its unit."""
    cls = parts[-1] if parts[-1] in CLASSES else None
    field_parts = parts[:-1] if cls else parts
    key = ".".join(p for p in field_parts if not p.isdigit())
    name, unit = field_unit(field_parts[-1], lang)
    what = t.get(f"field.{key}")
    parent = key.rpartition(".")[0]
    if what is None and f"field.{parent}" in t:  # a family of fields, e.g. evaluation weights
        what = t[f"field.{parent}"].replace("{leaf}", _leaf_label(field_parts[-1], lang))
        unit = ""  # the leaf names an indicator or a pollutant, not a unit
    if what is None:  # no name: the path in words
        words = name.replace("_", " ")
        where = ".".join(p for p in field_parts[:-1] if not p.isdigit())
        what = t["policy.field"].format(field=words, section=where) if where else words
    what = what.format_map(_Default(qualifier))
    who_key = ".".join(p for p in field_parts[:-1] if not p.isdigit())
    who = (t["policy.class"].format(cls=cls) if cls
           else t[f"who.{who_key}"].format_map(_Default(qualifier))
           if f"who.{who_key}" in t else None)
    return what, who, unit


def _phrase(change: Change, t: dict[str, str], lang: str, item: dict) -> str:
    """Return one sentence for one change."""
    qualifier = {k: _show(v, t) for k, v in item.items()}
    what, who, unit = _what_who(change.path.split("."), t, lang, qualifier)
    when = _when(change, t, lang)
    fields = {"when": when, "When": when[:1].upper() + when[1:], "what": what, "who": who or "",
              "unit": unit, "unit_s": f" {unit}" if unit else "",
              "old": _show(change.old, t), "new": _show(change.new, t)}
    if _number(change.old) and _number(change.new):
        delta = change.new - change.old
        fields["delta"] = _show(abs(delta), t)
        up = delta > 0
        if who and _is_price(change.path):
            return t["policy.pays"].format(more=t["policy.more_" + ("up" if up else "down")],
                                           **fields)
        template = "policy.rises" if up else "policy.falls"
        return t[template + (".who" if who else "")].format(**fields)
    return t["policy.set" + (".who" if who else "")].format(**fields)


def _is_price(path: str) -> bool:
    """Whether a field is a price per unit (yuan per kWh, m³, t, tce): then firms "pay"."""
    parts = [p for p in path.split(".") if p not in CLASSES and not p.isdigit()]
    return any(parts[-1].endswith(suffix) for suffix, symbol in _UNITS
               if symbol.startswith("yuan/"))


def _when(change: Change, t: dict[str, str], lang: str) -> str:
    if change.start is None and change.end is None:
        return t["policy.throughout"]
    if change.end is None:
        return t["policy.from"].format(date=month_words(change.start, lang))
    last = month_words(_month_before(change.end), lang)  # the end is the first month without
    if change.start is None:
        return t["policy.until"].format(date=last)
    return t["policy.between"].format(start=month_words(change.start, lang), end=last)


def _leaf_label(name: str, lang: str) -> str:
    """Return an indicator's or a pollutant's catalogue label, else the name in words."""
    from simulator import catalogue

    for candidate in (f"ind_{name}", f"emissions_{name}_t"):
        try:
            label = catalogue.label(candidate, lang)
            return label[:1].lower() + label[1:] if lang == "en" and label[1:2].islower() \
                else label
        except KeyError:
            continue
    return name.replace("_", " ")


class _Default(dict):
    """format_map that leaves an unknown {field} as it is."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"

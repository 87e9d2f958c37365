"""The entries of the catalogue, read once from ``entries.yaml`` and checked.

``entries.yaml`` holds ``groupings`` (the group codes of metrics), ``key_indicators``
(the rows of the summaries) and ``sections``: each a heading, optional ``defaults``
for its entries, and ``entries`` (name -> fields). :func:`catalogue` reads it on
first use and raises :class:`CatalogueError` naming the entry and field of any
mistake.
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

import yaml

__all__ = ["KINDS", "OUTPUTS", "POLLUTANT_PLACEHOLDER", "Catalogue", "CatalogueError", "Entry",
           "Formula", "catalogue", "did_you_mean", "entry", "family_match", "family_of",
           "read_yaml"]

HERE = Path(__file__).resolve().parent
#: The kinds of entry.
KINDS: tuple[str, ...] = ("quantity", "bill", "indicator", "metric")
#: Where an entry is written: the tidy metrics table, the firm snapshots.
OUTPUTS: tuple[str, ...] = ("metrics", "firms")
#: Fields an entry may have (after its section's defaults), and those it must have.
_FIELDS = frozenset({"kind", "unit", "definition", "computed_in", "outputs", "groups",
                     "period", "formula", "tiers", "sum_of", "when"})
_REQUIRED = ("kind", "unit", "definition", "computed_in", "outputs")
_PERIODS = ("annual", "annual and monthly", "monthly", "per auction")
#: The placeholder of a family entry: one entry for every pollutant a scenario declares
#: besides the four standard ones (``emissions_<pollutant>_t``, ``<pollutant>_t``).
POLLUTANT_PLACEHOLDER = "<pollutant>"
#: Prefix of the indicators' firm columns: entry ``ind_<indicator>``.
INDICATOR_PREFIX = "ind_"
#: libyaml's loader when PyYAML has it (the catalogue is read at every start).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CatalogueError(ValueError):
    """A catalogue or locale file is malformed."""


class Formula(NamedTuple):
    """``scale * numerator / denominator`` of catalogue quantities (denominator None: 1)."""

    numerator: str
    denominator: str | None
    scale: float


@dataclass(frozen=True)
class Entry:
    """One quantity, bill, indicator or metric of the catalogue.

    Parameters
    ----------
    name : str
        The name in the outputs: a metric name of ``metrics.parquet`` and/or a
        column of ``firms.parquet`` (indicators: ``ind_<indicator>``).
    kind : {"quantity", "bill", "indicator", "metric"}
        A firm's amount, a firm's charge or payment, an evaluation indicator
        of a firm, or a group-level outcome.
    unit : str
        Unit symbol (``万元`` is 10^4 yuan); words per language in the locales.
    definition : str
        What it is, in English (the metric reference of the documentation).
    computed_in : str
        ``module:qualname`` of the code that computes it.
    section : str
        The heading it is listed under.
    outputs : tuple of str
        Where it is written: ``"metrics"``, ``"firms"``; empty for a quantity
        used only inside formulas.
    groups : tuple of str
        Metrics: codes of the groups it is recorded for (``groupings``).
    period : str or None
        Metrics: ``annual``, ``annual and monthly``, ``monthly`` or ``per auction``.
    column : str or None
        The ``firms.parquet`` column (the name itself) when written there.
    formula : Formula or None
        Indicators and ratio metrics: ``scale * numerator / denominator``
        (of a firm, or of the group's sums).
    tiers : tuple of int
        Indicators: the evaluation tiers they are defined for.
    sum_of : tuple of str
        Sums: the firm quantities added (``-name``: subtracted), in order.
    when : str or None
        The scenario switch (a dotted path to a boolean) without which it is
        not written, for a mechanism that is off unless a scenario enables it
        (e.g. ``tariffs.gas.enabled``); None: written whenever its mechanism runs.
    """

    name: str
    kind: str
    unit: str
    definition: str
    computed_in: str
    section: str
    outputs: tuple[str, ...]
    groups: tuple[str, ...] = ()
    period: str | None = None
    column: str | None = None
    formula: Formula | None = None
    tiers: tuple[int, ...] = ()
    sum_of: tuple[str, ...] = ()
    when: str | None = None

    @property
    def is_metric(self) -> bool:
        """Whether it is recorded in the tidy metrics table."""
        return "metrics" in self.outputs


@dataclass(frozen=True)
class Catalogue:
    """The parsed ``entries.yaml``: entries in file order, group codes, key indicators."""

    entries: MappingProxyType
    groupings: MappingProxyType
    key_indicators: tuple[tuple[str, str], ...]


def did_you_mean(word: str, candidates: list[str]) -> str:
    """Return `` (did you mean 'x'?)`` for the closest candidate, or ""."""
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def read_yaml(path: Path) -> dict[str, Any]:
    """Return a catalogue file's top-level mapping; CatalogueError if it is not one."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CatalogueError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise CatalogueError(f"{path} does not hold a mapping")
    return data


@functools.cache
def catalogue() -> Catalogue:
    """Return the catalogue, read from ``entries.yaml`` on first use."""
    data = read_yaml(HERE / "entries.yaml")
    groupings = data.get("groupings") or {}
    entries: dict[str, Entry] = {}
    for section in data.get("sections") or []:
        heading = str(section.get("section", ""))
        defaults = section.get("defaults") or {}
        for name, fields in (section.get("entries") or {}).items():
            if name in entries:
                raise CatalogueError(f"entry {name!r} is declared twice")
            entries[name] = _entry(name, heading, {**defaults, **(fields or {})})
    for item in entries.values():
        _check(item, entries, groupings)
    keys = []
    for key in data.get("key_indicators") or []:
        metric, _, group = str(key).partition("[")
        if metric not in entries or not entries[metric].is_metric or not group.endswith("]"):
            raise CatalogueError(f"key indicator {key!r} is not '<metric>[<group>]' of a "
                                 "catalogue metric")
        keys.append((metric, group[:-1]))
    return Catalogue(MappingProxyType(entries), MappingProxyType(dict(groupings)), tuple(keys))


def _entry(name: str, section: str, fields: dict[str, Any]) -> Entry:
    unknown = sorted(set(fields) - _FIELDS)
    if unknown:
        raise CatalogueError(f"entry {name!r}: unknown field {unknown[0]!r}"
                             f"{did_you_mean(unknown[0], sorted(_FIELDS))}")
    missing = [f for f in _REQUIRED if f not in fields]
    if missing:
        raise CatalogueError(f"entry {name!r} lacks {', '.join(missing)}")
    formula = fields.get("formula")
    if formula is not None:
        try:
            formula = Formula(str(formula["numerator"]),
                              None if formula.get("denominator") is None
                              else str(formula["denominator"]),
                              float(formula.get("scale", 1.0)))
        except (KeyError, TypeError, ValueError, AttributeError):
            raise CatalogueError(f"entry {name!r}: formula needs numerator, denominator "
                                 "(or null) and a numeric scale") from None
    outputs = tuple(fields["outputs"])
    return Entry(
        name=name, kind=str(fields["kind"]), unit=str(fields["unit"]),
        definition=str(fields["definition"]), computed_in=str(fields["computed_in"]),
        section=section, outputs=outputs, groups=tuple(fields.get("groups") or ()),
        period=fields.get("period"), column=name if "firms" in outputs else None,
        formula=formula, tiers=tuple(int(t) for t in fields.get("tiers") or ()),
        sum_of=tuple(fields.get("sum_of") or ()), when=fields.get("when"))


def _check(e: Entry, entries: dict[str, Entry], groupings: dict[str, str]) -> None:
    """Raise CatalogueError if ``e`` contradicts the catalogue's rules."""
    def fail(message: str) -> None:
        raise CatalogueError(f"entry {e.name!r}: {message}")

    if e.kind not in KINDS:
        fail(f"kind {e.kind!r} is not one of {', '.join(KINDS)}")
    if not set(e.outputs) <= set(OUTPUTS):
        fail(f"outputs {list(e.outputs)} are not among {', '.join(OUTPUTS)}")
    if ":" not in e.computed_in:
        fail("computed_in is not 'module:qualname'")
    if e.is_metric != bool(e.groups) or e.is_metric != (e.period is not None):
        fail("a metric (outputs: metrics) has groups and a period, other entries neither")
    if e.period is not None and e.period not in _PERIODS:
        fail(f"period {e.period!r} is not one of {', '.join(_PERIODS)}")
    for code in e.groups:
        if code not in groupings:
            fail(f"group code {code!r} is not in groupings{did_you_mean(code, list(groupings))}")
    indicator = e.kind == "indicator"
    if indicator != e.name.startswith(INDICATOR_PREFIX) or indicator != bool(e.tiers):
        fail(f"indicators, and they alone, are named {INDICATOR_PREFIX}<indicator> and "
             "have tiers")
    if indicator and e.formula is None:
        fail("an indicator has a formula")
    operands = [*e.sum_of] if e.formula is None else [e.formula.numerator,
                                                      e.formula.denominator]
    for operand in operands:
        name = None if operand is None else operand.removeprefix("-")
        if name is not None and (name not in entries
                                 or entries[name].kind not in ("quantity", "bill")):
            fail(f"{name!r} is not a quantity or bill of the catalogue")


def family_match(name: str) -> tuple[Entry, str] | None:
    """Return the family entry ``name`` is a member of and the pollutant it names, or None.

    Examples
    --------
    >>> family, pollutant = family_match("emissions_vocs_t")
    >>> family.name, pollutant
    ('emissions_<pollutant>_t', 'vocs')
    """
    for e in _families():
        prefix, _, suffix = e.name.partition(POLLUTANT_PLACEHOLDER)
        if len(name) <= len(prefix) + len(suffix):
            continue
        middle = name[len(prefix):len(name) - len(suffix)]
        if (name.startswith(prefix) and name.endswith(suffix) and middle.isidentifier()
                and middle == middle.lower()):
            return e, middle
    return None


def family_of(name: str) -> Entry | None:
    """Return the family entry (``...<pollutant>...``) that ``name`` is a member of, or None."""
    match = family_match(name)
    return None if match is None else match[0]


@functools.cache
def _families() -> tuple[Entry, ...]:
    """Return the family entries, the most specific pattern (longest fixed part) first."""
    found = [e for e in catalogue().entries.values() if POLLUTANT_PLACEHOLDER in e.name]
    return tuple(sorted(found, key=lambda e: -len(e.name)))


def entry(name: str) -> Entry:
    """Return the catalogue entry ``name`` (or its family's); KeyError if there is none."""
    entries = catalogue().entries
    if name not in entries:
        family = family_of(name)
        if family is not None:
            return family
        raise KeyError(f"{name!r} is not in the catalogue{did_you_mean(name, list(entries))}")
    return entries[name]

"""The catalogue (目录): every quantity, bill, indicator and metric, declared once.

Files
-----
``entries.yaml``
    Each entry: name, kind, unit, English definition, where it is computed
    (``module:qualname``), the groups and period a metric is recorded for,
    and for indicators and ratio metrics the formula ``scale * numerator /
    denominator`` over catalogue quantities. Also the group codes
    (``groupings``) and the rows of the summaries (``key_indicators``).
``locales/en.yaml``, ``locales/zh.yaml``
    Every text a user reads, in English and Chinese: the label of every
    entry, unit words, the key indicators' labels, and the text of the
    figures, the policy brief, the firm card and the backtest figure.

Readers: :mod:`simulator.metrics` (``METRICS``, hence the recorder's check
and the metric names of calibration targets and sweep outputs),
:mod:`simulator.evaluation` and :mod:`simulator.reporting.lift` (indicator
formulas and tiers), :mod:`simulator.experiment` (the key indicators),
:mod:`simulator.plots` and :mod:`simulator.reporting` (every text). The
engine's ratio metrics are :func:`ratio_terms`; :data:`MetricName` is the
check for spec files' metric names.

Examples
--------
>>> entry("tax_per_mu_wan_yuan").formula
Formula(numerator='tax_wan_yuan', denominator='land_mu', scale=1.0)
>>> indicator_formulas()["tax_per_kwh"]
Formula(numerator='tax_wan_yuan', denominator='electricity_kwh', scale=10000.0)
>>> label("ind_tax_per_mu", "zh"), unit("ind_tax_per_mu", "zh")
('亩均税收', '万元/亩')
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import AfterValidator

from simulator.catalogue._entries import (
    INDICATOR_PREFIX,
    KINDS,
    OUTPUTS,
    CatalogueError,
    Entry,
    Formula,
    catalogue,
    did_you_mean,
    entry,
    family_of,
)
from simulator.catalogue._locale import (
    LANGUAGES,
    SECTIONS,
    check_language,
    key_indicators,
    label,
    text,
    unit,
    unit_text,
)

__all__ = [
    "KINDS",
    "LANGUAGES",
    "OUTPUTS",
    "SECTIONS",
    "CatalogueError",
    "Entry",
    "Formula",
    "MetricName",
    "check_language",
    "check_metric",
    "entries",
    "entry",
    "family_of",
    "groupings",
    "indicator_formulas",
    "indicators",
    "key_indicators",
    "label",
    "metric_names",
    "ratio_formulas",
    "ratio_terms",
    "text",
    "unit",
    "unit_text",
]


def entries(kind: str | None = None) -> tuple[Entry, ...]:
    """Return every entry in file order, or those of one ``kind``."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    return tuple(e for e in catalogue().entries.values() if kind in (None, e.kind))


def groupings() -> Mapping[str, str]:
    """Return the group codes of metrics and what each stands for."""
    return catalogue().groupings


@functools.cache
def metric_names() -> tuple[str, ...]:
    """Return the names of the metrics (``metrics.parquet``), in catalogue order."""
    return tuple(e.name for e in catalogue().entries.values() if e.is_metric)


@functools.cache
def indicators() -> Mapping[str, Entry]:
    """Return the evaluation's indicators, name (without ``ind_``) -> entry, in column order."""
    return MappingProxyType({e.name.removeprefix(INDICATOR_PREFIX): e
                             for e in entries("indicator")})


@functools.cache
def indicator_formulas() -> Mapping[str, Formula]:
    """Return each evaluation indicator's formula over a firm's quantities.

    The value of indicator ``i`` for a firm is ``scale * numerator /
    denominator`` of that firm (denominator None: 1); its group benchmark
    divides the group's sums. Operands are catalogue quantities, named as
    the ``firms.parquet`` columns, and ``weighted_emissions_t`` (the
    pollutants weighted by ``evaluation.emission_weights``).
    """
    return MappingProxyType({name: e.formula for name, e in indicators().items()})


@functools.cache
def ratio_formulas(groups: str | None = None) -> Mapping[str, Formula]:
    """Return the ratio metrics' formulas (over the group's sums), optionally of one group code.

    Parameters
    ----------
    groups : str, optional
        A group code (:func:`groupings`), e.g. ``"evaluated"`` (the
        performance ratios, by the class this year's evaluation gave) or
        ``"charged"`` (the cost burdens, by the class in force).
    """
    return MappingProxyType({e.name: e.formula for e in catalogue().entries.values()
                             if e.is_metric and e.formula is not None
                             and (groups is None or groups in e.groups)})


def ratio_terms(groups: str, quantities: Mapping[str, Any]) -> dict[str, tuple[Any, Any, float]]:
    """Return ``metric -> (numerator, denominator, scale)`` of the ratio metrics of ``groups``.

    The engine records each as ``scale * sum(numerator) / sum(denominator)``
    per group. The arrays are the very objects of ``quantities`` (per-firm
    values by catalogue quantity name), in catalogue order; a ratio whose
    operands are not all given is left out (the quota cost without markets).

    Examples
    --------
    >>> import numpy as np
    >>> tax, land = np.array([2.0, 4.0]), np.array([1.0, 1.0])
    >>> ratio_terms("evaluated", {"tax_wan_yuan": tax, "land_mu": land})
    {'tax_per_mu_wan_yuan': (array([2., 4.]), array([1., 1.]), 1.0)}
    """
    return {name: (quantities[f.numerator], quantities[f.denominator], f.scale)
            for name, f in ratio_formulas(groups).items()
            if f.numerator in quantities and f.denominator in quantities}


def check_metric(name: str) -> str:
    """Return ``name`` if it is a catalogue metric; ValueError (with the closest name) if not."""
    family = family_of(name) if name not in _metric_set() else None
    if name not in _metric_set() and not (family is not None and family.is_metric):
        raise ValueError(f"unknown metric {name!r}{did_you_mean(name, sorted(_metric_set()))}")
    return name


@functools.cache
def _metric_set() -> frozenset[str]:
    return frozenset(metric_names())


#: A metric name, checked against the catalogue (calibration targets, sweep outputs).
MetricName = Annotated[str, AfterValidator(check_metric)]

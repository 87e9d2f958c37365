"""Evaluation tables: a result as one row per firm, and the scoring of real firm tables.

:func:`scored_frame` lays an :class:`~simulator.evaluation.EvaluationResult`
out as a table (region, sector, tier, group, every indicator, score, rank,
class). :func:`evaluate_table` scores a real firm table (CSV or Excel read by
:func:`simulator.population.read_firm_table`) with a scenario's evaluation
rules, on the figures as reported (``mujun evaluate``).
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import numpy as np
import pandas as pd

from simulator.evaluation.inputs import (
    INDICATORS,
    TIER_LABELS,
    EvaluationInput,
    EvaluationResult,
    tier_codes,
)
from simulator.evaluation.rules import Adjustments, fails_entry_standards
from simulator.evaluation.scoring import evaluate
from simulator.firms import CLASS_LABELS, Firms
from simulator.scenario import EvaluationSpec, Scenario, ScenarioError

__all__ = ["evaluate_table", "scored_frame"]

#: Column of a firm table -> the indicators that need it (checked where weighted).
_COLUMN_NEEDS: dict[str, tuple[str, ...]] = {
    "va_wan_yuan": ("va_per_mu", "va_per_tce", "va_per_emission", "labour_productivity"),
    "energy_tce": ("va_per_tce",),
    "employees": ("labour_productivity",),
    "revenue_wan_yuan": ("rd_share", "sales", "sales_per_kwh"),
    "electricity_kwh": ("tax_per_kwh", "sales_per_kwh"),
}


def scored_frame(
    inp: EvaluationInput,
    result: EvaluationResult,
    *,
    sector_names: list[str],
    region_names: list[str],
) -> pd.DataFrame:
    """Return the evaluation as a table, one row per firm (input order).

    Parameters
    ----------
    inp : EvaluationInput
        The input that was evaluated.
    result : EvaluationResult
        What :func:`evaluate` returned for ``inp``.
    sector_names : list of str
        Sector name per sector code (``Scenario.sector_names()``).
    region_names : list of str
        Region name per region code.

    Returns
    -------
    pandas.DataFrame
        Columns ``firm_id``, ``region``, ``park``, ``sector``, ``tier``
        (``TIER_LABELS``), ``group``, one column per indicator in
        ``INDICATORS`` (units in ``INDICATOR_UNITS``), ``score`` (points),
        ``rank``, ``group_size`` and ``class`` ("A".."D", "U" out of scope).
        Region, sector, tier and class are categoricals.
    """
    tier_codes = np.where(result.tier >= 0, result.tier, len(TIER_LABELS) - 1)
    columns: dict[str, object] = {
        "firm_id": np.asarray(inp.firm_id),
        "region": pd.Categorical.from_codes(np.asarray(inp.region), categories=region_names),
        "park": np.asarray(inp.park),
        "sector": pd.Categorical.from_codes(np.asarray(inp.sector), categories=sector_names),
        "tier": pd.Categorical.from_codes(tier_codes, categories=list(TIER_LABELS)),
        "group": result.group,
    }
    columns.update({name: result.indicators[name] for name in INDICATORS})
    columns["score"] = result.score
    columns["rank"] = result.rank
    columns["group_size"] = result.group_size
    columns["class"] = pd.Categorical.from_codes(result.klass, categories=list(CLASS_LABELS))
    return pd.DataFrame(columns)


def evaluate_table(table: pd.DataFrame, scenario: Scenario, *,
                   sectors: str | Path | None = None) -> pd.DataFrame:
    """Score a real firm table (one year) with a scenario's evaluation rules.

    Parameters
    ----------
    table : pandas.DataFrame
        Canonical firm table from :func:`simulator.population.read_firm_table`
        (at least ``land_mu`` and ``tax_wan_yuan``; other indicators' columns
        as the scenario's weights need them).
    scenario : Scenario
        Gives ``evaluation`` (rules), sectors and regions.
    sectors : str or Path, optional
        A sector mapping file (``.csv`` ``name,sector`` or ``.yaml``
        ``name: sector``; :func:`simulator.population.sectors.read_sector_map`)
        for sector names that are not the scenario's names, labels or aliases.

    Returns
    -------
    pandas.DataFrame
        :func:`scored_frame` columns, with the table's ``name`` first when it
        has one. ``firm_id`` is the table's: integers, or text (credit codes)
        as written.

    Raises
    ------
    ScenarioError
        If a column that a weighted indicator needs is missing, or a sector is
        unknown (naming its line and column).

    Notes
    -----
    Of the further rules (:mod:`~simulator.evaluation.rules`), the entry
    standards at review (``evaluation.standards_review``) and
    ``protection_excludes_penalised`` apply; deduction items are drawn in runs
    only, and a table's firms are not protected.

    Examples
    --------
    >>> from simulator import load_scenario, read_firm_table
    >>> scored = evaluate_table(read_firm_table("firms.xlsx"),       # doctest: +SKIP
    ...                         load_scenario("scenarios/baseline.yaml"),
    ...                         sectors="sectors.csv")
    """
    from simulator.population import firms_from_table, table_regions
    from simulator.population.sectors import SectorMatcher

    spec = scenario.evaluation
    matcher = SectorMatcher.for_scenario(scenario, mapping_file=sectors)
    firms = firms_from_table(table, scenario, sectors=matcher)
    _check_needed_columns(table, firms, spec)
    inp = _reported_input(table, firms, scenario.pollutant_names())
    adjust = None
    if spec.standards_review.enabled:  # the entry standards, on the figures as reported
        adjust = dataclasses.replace(Adjustments.none(inp.n), fails_standards=fails_entry_standards(
            inp, tier_codes(inp, spec), scenario.dynamics.entry.standards, spec,
            scenario.pollutant_names()))
    result = evaluate(inp, params=spec, pollutants=scenario.pollutant_names(), adjust=adjust)
    regions = [r.name for r in table_regions(table, scenario.population)]
    frame = scored_frame(inp, result, sector_names=scenario.sector_names(), region_names=regions)
    if table["firm_id"].dtype == object:  # text ids (credit codes): the table's own
        frame["firm_id"] = table["firm_id"].to_numpy(dtype=object)
    if "name" in table.columns:
        frame.insert(1, "name", table["name"].to_numpy())
    return frame


def _check_needed_columns(table: pd.DataFrame, firms: Firms, spec: EvaluationSpec) -> None:
    """Raise ScenarioError for a missing column that a weighted indicator needs.

    Only the tiers present in the table count: a table of below-scale firms only
    need not report what only above-scale firms are scored on.
    """
    industrial = ~firms.is_services
    tiers = ((spec.weights_above_scale, (industrial & firms.above_scale).any()),
             (spec.weights_below_scale, (industrial & ~firms.above_scale).any()),
             (spec.weights_services, firms.is_services.any()))
    weighted = {k for w, present in tiers if present for k, v in w.items() if v > 0}
    for column, indicators in _COLUMN_NEEDS.items():
        used = sorted(weighted.intersection(indicators))
        if used and column not in table.columns:
            raise ScenarioError(f"missing column {column} (needed for {', '.join(used)})",
                                file=table.attrs.get("file"), field=column)


def _reported(table: pd.DataFrame, n: int, column: str, absent: float = np.nan) -> np.ndarray:
    """Return the table's own figures (blank: NaN, not reported); ``absent`` if no column.

    Scored as reported: the simulation's fill-ins (VA from revenue and the
    sector's share, quantities rebuilt from intensities) would change a
    firm's published figures, e.g. the tax of a firm reporting no VA.
    """
    if column in table.columns:
        return table[column].to_numpy(dtype=float)
    return np.full(n, absent)


def _reported_input(table: pd.DataFrame, firms: Firms,
                    pollutants: tuple[str, ...]) -> EvaluationInput:
    """Return the evaluation input of a firm table: its figures, the firms' attributes."""
    reported = functools.partial(_reported, table, firms.n)
    return EvaluationInput(
        firm_id=firms.firm_id,
        tax_wan_yuan=reported("tax_wan_yuan"),
        va_wan_yuan=reported("va_wan_yuan"),
        revenue_wan_yuan=reported("revenue_wan_yuan"),
        rd_wan_yuan=reported("rd_wan_yuan"),
        land_mu=reported("land_mu"),
        employees=reported("employees"),
        energy_tce=reported("energy_tce"),
        electricity_kwh=reported("electricity_kwh"),
        # A pollutant the table has no column for: none discharged (tables report some).
        emissions_t=np.column_stack([reported(f"{p}_t", 0.0) for p in pollutants]),
        above_scale=firms.above_scale,
        is_services=firms.is_services,
        sector=firms.sector,
        region=firms.region,
        park=firms.park,
        high_tech=firms.high_tech,
        listed=firms.listed,
        brand=firms.brand,
        vetoed=firms.vetoed,
        protected=np.zeros(firms.n, dtype=bool),
    )

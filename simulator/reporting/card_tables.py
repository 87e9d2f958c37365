"""The report card's tables (一企一单): what each table of the card holds.

Functions here turn a firm's firms.parquet rows into the parts of the card's
template (``templates/card.html.j2``): ``{"kind": "years"}`` tables of
indicators by year, split into blocks of at most :data:`MAX_YEARS_PER_TABLE`
years (:func:`year_blocks`); ``{"kind": "table"}`` tables (score breakdown,
lift); ``{"kind": "facts"}`` two-column facts; ``{"kind": "para"}`` paragraphs.
Cells are formatted text; the template escapes them.

Units: money in 万元, electricity in 10⁴ kWh, counts (persons) whole, so no
number is wider than 8 characters and six years fit an A4 portrait page.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from simulator import catalogue
from simulator.evaluation import INDICATOR_UNITS, INDICATORS
from simulator.reporting.html import fmt
from simulator.reporting.lift import CLASSES, ClassLift, tier_weights
from simulator.scenario import DEFAULT_POLLUTANTS, INVESTMENT_OPTIONS, EvaluationSpec

__all__ = ["MAX_YEARS_PER_TABLE", "bill_rows", "breakdown_parts", "counts", "evaluation_rows",
           "firm_facts", "investments_sentence", "lift_parts", "para", "production_rows",
           "quota_parts", "rules_facts", "run_pollutants", "section", "year_blocks",
           "years_part"]

#: Most years side by side in one table: with money in 万元 and electricity in
#: 10⁴ kWh no cell is over 8 characters, so 6 years and a label column fit A4
#: portrait (17.8 cm between margins) at 9.5 pt; tests/test_card.py checks it in Chromium.
MAX_YEARS_PER_TABLE = 6
#: yuan → 万元, kWh → 10⁴ kWh.
_WAN = 1e-4


def _indicator_name(name: str, lang: str) -> str:
    """Return an evaluation indicator's label in ``lang``."""
    return catalogue.label(f"ind_{name}", lang)


def _indicator_unit(name: str) -> tuple[str, float]:
    """Return an indicator's unit on the card and the factor from its stored value.

    Shares (R&D / revenue) are shown in percent: 4.1 reads better than 0.041.
    """
    unit = INDICATOR_UNITS[name]
    return ("%", 100.0) if unit.startswith("share") else (unit, 1.0)


def _unit(unit: str, lang: str) -> str:
    """Return ``unit`` in ``lang`` (units are written in English in the code)."""
    return catalogue.unit_text(unit, lang)


def year_blocks(years: list[int], max_years: int = MAX_YEARS_PER_TABLE) -> list[list[int]]:
    """Split ``years`` into the fewest blocks of at most ``max_years``, as even as possible.

    Earlier blocks take the extra year when they cannot all be the same length.

    Examples
    --------
    >>> year_blocks(list(range(2017, 2020)))
    [[2017, 2018, 2019]]
    >>> [(b[0], b[-1]) for b in year_blocks(list(range(2017, 2032)))]
    [(2017, 2021), (2022, 2026), (2027, 2031)]
    >>> [len(b) for b in year_blocks(list(range(13)))]
    [5, 4, 4]
    """
    if max_years < 1:
        raise ValueError(f"The 'max_years' parameter must be at least 1. Got {max_years}.")
    n_blocks = max(1, math.ceil(len(years) / max_years))
    size, extra = divmod(len(years), n_blocks)
    blocks, start = [], 0
    for k in range(n_blocks):
        stop = start + size + (1 if k < extra else 0)
        blocks.append(list(years[start:stop]))
        start = stop
    return blocks


def section(heading: str, parts: list[dict[str, Any]], level: int = 2) -> dict[str, Any]:
    """Return a section of the card: a heading of ``level`` and its parts."""
    return {"heading": heading, "level": level, "parts": parts}


def para(text: str, cls: str | None = None) -> dict[str, Any]:
    """Return a paragraph part (of class ``cls``)."""
    return {"kind": "para", "text": text, "cls": cls}


def _row(label: str, unit: str, cells: list[str], t: dict[str, str], *,
         text: bool = False) -> dict[str, Any]:
    """Return a table row: its label (a leading indent marks an "of which" row) and unit."""
    shown = _unit(unit, t["lang"]) if unit else ""
    return {"label": label.strip(), "sub": label.startswith(" "), "text": text,
            "unit": t["unit_paren"].format(unit=shown) if shown else "", "cells": cells,
            "strong": False}


def years_part(years: list[int], rows: list[dict[str, Any]], t: dict[str, str]) -> dict[str, Any]:
    """Return rows of indicators by year as a part: one table per block of years.

    Each block (:func:`year_blocks`) repeats the label column; when there is
    more than one, each has its span of years as caption.
    """
    blocks = []
    start = 0
    for block in year_blocks(years):
        stop = start + len(block)
        caption = (t["years_span"].format(first=block[0], last=block[-1])
                   if len(block) < len(years) else "")
        blocks.append({"caption": caption, "years": block,
                       "rows": [{**row, "cells": row["cells"][start:stop]} for row in rows]})
        start = stop
    return {"kind": "years", "item": t["item"], "blocks": blocks}


def firm_facts(mine: pd.DataFrame, run_years: list[int], scenario: dict[str, Any],
               t: dict[str, str]) -> list[tuple[str, str]]:
    """Return the firm's facts (id, sector, region, park, scale, years in the run)."""
    years = [int(y) for y in mine["year"]]
    last = mine.iloc[-1]
    first_year, last_year = years[0], years[-1]
    if years == run_years:
        presence = t["present"].format(first=first_year, last=last_year)
    else:
        parts = [t["years_span"].format(first=first_year, last=last_year)]
        if first_year > run_years[0]:
            parts.append(t["entered"].format(year=first_year))
        if last_year < run_years[-1]:
            parts.append(t["exited"].format(year=last_year))
        gaps = [y for y in run_years if first_year < y < last_year and y not in years]
        if gaps:
            parts.append(t["not_in"].format(years=t["list_sep"].join(map(str, gaps))))
        presence = t["clause_sep"].join(parts)
    sector = str(last["sector"])
    if t["lang"] == "zh":
        spec = ((scenario.get("population") or {}).get("sectors") or {}).get(sector) or {}
        sector = spec.get("label_zh") or sector
    return [(t["firm_id"], str(int(last["firm_id"]))), (t["sector"], sector),
            (t["region"], str(last["region"])), (t["park"], str(int(last["park"]))),
            (t["scale"], t.get(f"scale.{last['scale']}", str(last["scale"]))),
            (t["years"], presence)]


def _values(mine: pd.DataFrame, column: str, *, scale: float = 1.0) -> list[str]:
    if column not in mine.columns:
        return ["—"] * len(mine)
    return [fmt(v * scale) for v in mine[column].to_numpy(dtype=float)]


def counts(values: np.ndarray) -> list[str]:
    """Format counts (persons, firms) as whole numbers, rounding half up; "—" for NaN.

    Employees are fractional in the model (full-time equivalents scaled by
    growth and calibration); a card shows whole persons.
    """
    return ["—" if not math.isfinite(v) else f"{math.floor(v + 0.5):,d}"
            for v in np.asarray(values, dtype=float)]


def evaluation_rows(mine: pd.DataFrame, run_years: list[int], t: dict[str, str],
                    lang: str) -> list[dict[str, Any]]:
    """Return the evaluation's rows: classes, score, rank, veto, years in D, indicators."""
    years = [int(y) for y in mine["year"]]
    status = []
    for y in years:
        marks = []
        if y == years[0] and y > run_years[0]:
            marks.append(t["status.entered"])
        if y == years[-1] and y < run_years[-1]:
            marks.append(t["status.exits"])
        status.append(t["list_sep"].join(marks))
    rated = mine["rank"].to_numpy() > 0
    rows = [_row(t["status"], "", status, t, text=True)] if any(status) else []
    rows += [
        _row(t["class_in_force"], "", [str(c) for c in mine["class_in_force"]], t),
        _row(t["class"], "", [str(c) for c in mine["class"]], t),
        _row(t["score"], "points", [fmt(s) if r else t["not_rated"]
                                    for s, r in zip(mine["score"], rated, strict=True)], t),
        _row(t["rank"], "", [t["rank_of"].format(rank=int(r), n=int(n)) if ok else "—"
                             for r, n, ok in zip(mine["rank"], mine["group_size"], rated,
                                                 strict=True)], t),
        _row(t["vetoed"], "", [t["yes"] if v else t["no"] for v in mine["vetoed"]], t),
        _row(t["consecutive_d"], "", counts(mine["consecutive_d_years"].to_numpy()), t),
    ]
    for name in INDICATORS:
        column = f"ind_{name}"
        if column in mine.columns and mine[column].notna().any():
            unit, scale = _indicator_unit(name)
            rows.append(_row(_indicator_name(name, lang), unit,
                             _values(mine, column, scale=scale), t))
    return rows


def run_pollutants(scenario: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Return the run's pollutants (name -> spec) from its resolved scenario."""
    return {**DEFAULT_POLLUTANTS, **(scenario.get("pollutants") or {})}


def _pollutant_label(name: str, spec: dict[str, Any], t: dict[str, str], lang: str) -> str:
    """Return a pollutant's name: the card's text for the four, else the scenario's label."""
    return t.get(f"pollutant.{name}") or str(spec.get("label_zh" if lang == "zh" else "label",
                                                       name))


def production_rows(mine: pd.DataFrame, t: dict[str, str],
                    pollutants: dict[str, dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Return the rows of output and resources: money, land, staff, energy, water, emissions."""
    rows = [_row(t[key], "万元", _values(mine, column), t) for key, column in (
        ("va", "va_wan_yuan"), ("revenue", "revenue_wan_yuan"), ("tax", "tax_wan_yuan"),
        ("profit", "profit_wan_yuan"), ("rd", "rd_wan_yuan"), ("cash", "cash_wan_yuan"))]
    rows += [_row(t["land"], "mu", _values(mine, "land_mu"), t),
             _row(t["employees"], "persons", counts(mine["employees"].to_numpy()), t),
             _row(t["energy"], "tce", _values(mine, "energy_tce"), t),
             _row(t["electricity"], t["u.wan_kwh"], _values(mine, "electricity_kwh",
                                                            scale=_WAN), t),
             _row(t["water"], "m³", _values(mine, "water_m3"), t)]
    rows += [_row(_pollutant_label(p, spec, t, lang), "t", _values(mine, f"{p}_t"), t)
             for p, spec in pollutants.items()]
    return rows


def investments_sentence(mine: pd.DataFrame, t: dict[str, str]) -> str:
    """Return the sentence naming each investment the firm decided, with its first year."""
    bits = mine["invested_options"].to_numpy(dtype=int)
    years = mine["year"].to_numpy(dtype=int)
    taken = []
    for k, option in enumerate(INVESTMENT_OPTIONS):
        held = years[(bits >> k & 1).astype(bool)]
        if held.size:
            taken.append(t["inv.item"].format(option=t[f"inv.{option}"], year=int(held.min())))
    return (t["investments"].format(items=t["list_sep"].join(taken)) if taken
            else t["investments_none"])


def bill_rows(mine: pd.DataFrame, t: dict[str, str],
              pollutants: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the rows of bills (万元), the resource bill per 万元 VA and quota costs."""
    rows = [_row(t[key], "万元", _values(mine, column, scale=_WAN), t) for key, column in (
        ("elec_bill", "electricity_bill_yuan"), ("elec_sur", "electricity_surcharge_yuan"),
        ("water_bill", "water_bill_yuan"), ("water_sur", "water_surcharge_yuan"),
        ("pollution", "pollution_charge_yuan"), ("pollution_sur", "pollution_surcharge_yuan"),
        ("land_tax", "land_tax_yuan"), ("land_relief", "land_tax_relief_yuan"),
        ("subsidy", "subsidy_yuan"))]
    total = sum(mine[c].to_numpy(dtype=float) for c in (
        "electricity_bill_yuan", "water_bill_yuan", "pollution_charge_yuan", "land_tax_yuan"))
    va = mine["va_wan_yuan"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_va = np.where(va > 0, total / va, np.nan)
    rows += [_row(t["resource_bill"], "万元", [fmt(v * _WAN) for v in total], t),
             _row(t["per_va"], "yuan/万元", [fmt(v) for v in per_va], t)]
    quota_costs = [c for q in ("energy", *pollutants)
                   for c in (f"{q}_net_paid_yuan", f"{q}_abatement_cost_yuan") if c in mine.columns]
    if quota_costs:
        cost = sum(mine[c].to_numpy(dtype=float) for c in quota_costs)
        rows.append(_row(t["quota_cost"], "万元", [fmt(v * _WAN) for v in cost], t))
    return rows


def quota_parts(mine: pd.DataFrame, years: list[int], t: dict[str, str],
                pollutants: dict[str, dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Return a heading and a table by year for each quota market the firm took part in."""
    parts: list[dict[str, Any]] = []
    for quota in ("energy", *pollutants):
        if f"{quota}_allocated" not in mine.columns:
            continue
        numbers = [f"{quota}_{k}" for k in ("allocated", "held", "shortfall", "net_paid_yuan",
                                            "abatement_cost_yuan")]
        involved = mine[f"{quota}_covered"].any() or any(
            (mine[c].to_numpy(dtype=float) != 0).any() for c in numbers if c in mine.columns)
        if not involved:
            continue
        unit = "tce" if quota == "energy" else "t"
        rows = [_row(t["q.covered"], "", [t["yes"] if v else t["no"]
                                          for v in mine[f"{quota}_covered"]], t)]
        rows += [_row(t[f"q.{key}"], unit, _values(mine, f"{quota}_{key}"), t)
                 for key in ("allocated", "held", "use", "shortfall")]
        rows += [_row(t[f"q.{key}"], "万元", _values(mine, f"{quota}_{key}_yuan", scale=_WAN), t)
                 for key in ("net_paid", "abatement_cost")]
        rows.append(_row(t["q.abatement_share"], "%",
                         _values(mine, f"{quota}_abatement_share", scale=100.0), t))
        heading = t.get(f"market.{quota}") or _pollutant_label(quota, pollutants[quota], t, lang)
        parts.append({"kind": "heading", "text": heading, "level": 3})
        parts.append(years_part(years, rows, t))
    return parts or [para(t["no_quotas"], "note")]


def _table(header: list[str], rows: list[dict[str, Any]], *,
           text_from: int | None = None) -> dict[str, Any]:
    """Return a table part: numbers from the second column on, text from ``text_from``."""
    return {"kind": "table", "header": header, "rows": rows,
            "text_from": len(header) if text_from is None else text_from}


def breakdown_parts(lift: ClassLift, spec: EvaluationSpec, t: dict[str, str],
                    lang: str) -> list[dict[str, Any]]:
    """Return how the last score is made up: a table of points per indicator and a note."""
    if not lift.terms:
        return [para(t["lift.unrated"].format(year=lift.year), "note")]
    total = sum(term.weight for term in lift.terms)
    rows = []
    for term in lift.terms:
        ratio = term.value / term.benchmark if term.has and term.benchmark > 0 else math.nan
        unit, scale = _indicator_unit(term.name)
        rows.append(_row(_indicator_name(term.name, lang), unit, [
            fmt(term.value * scale) if term.has else t["no_data_cell"],
            fmt(term.benchmark * scale), fmt(ratio),
            fmt(term.weight), fmt(term.points),
            fmt(100.0 * term.weight * spec.indicator_cap / total)], t))
    rows.append(_row(t["bonus"], "", ["", "", "", "", fmt(lift.bonus), ""], t))
    rows.append({**_row(t["total"], "", ["", "", "", "", fmt(lift.score), ""], t),
                 "strong": True})
    note = t["breakdown_note"].format(cap=fmt(spec.indicator_cap), total=fmt(total),
                                      benchmark=t[f"bench.{spec.benchmark}"])
    header = [t["indicator"], t["value"], t["benchmark"], t["ratio"], t["weight"],
              t["points_col"], t["max_points"]]
    return [_table(header, rows), para(note, "note")]


def lift_parts(lift: ClassLift, spec: EvaluationSpec, t: dict[str, str],
               lang: str) -> list[dict[str, Any]]:
    """Return what would lift the class: the gap, each indicator's rise, all together."""
    if lift.status in ("unrated", "top", "veto", "no_place"):
        return [para(t[f"lift.{lift.status}"].format(year=lift.year, next=lift.next_class,
                                                      n=lift.group_size))]
    key = "lift.shares" if lift.method == "shares" else "lift.thresholds"
    intro = t[key].format(year=lift.year, score=fmt(lift.score), rank=lift.rank,
                          n=lift.group_size, klass=lift.klass, next=lift.next_class,
                          cut=lift.target_rank, target_firm=lift.target_firm_id,
                          target=fmt(lift.target_score), gap=fmt(max(lift.gap, 0.0)))
    rows = []
    for item in lift.lifts:
        name = _indicator_name(item.indicator, lang)
        unit, scale = _indicator_unit(item.indicator)
        if item.status in ("ok", "reached"):
            rows.append(_row(name, unit, [
                fmt(item.value * scale), fmt(item.required * scale),
                fmt(item.rise * scale, signed=True), fmt(item.rise_pct), ""], t))
            continue
        note = t[f"st.{item.status}"].format(cap=fmt(spec.indicator_cap),
                                             points=fmt(item.max_points))
        rows.append(_row(name, unit, [fmt(item.value * scale), "—", "—", "—", note], t))
    table = _table([t["indicator"], t["value"], t["needed"], t["rise"], t["rise_pct"],
                    t["note"]], rows, text_from=5)
    if math.isnan(lift.uniform_rise_pct):
        together = t["lift.together_never"]
    else:
        together = t["lift.together"].format(pct=fmt(lift.uniform_rise_pct))
    return [para(intro), para(t["lift.method"], "note"), table, para(together)]


def rules_facts(lift: ClassLift, spec: EvaluationSpec, t: dict[str, str],
                lang: str) -> dict[str, Any]:
    """Return the scenario's evaluation rules that apply to the firm, as facts."""
    rows = []
    if lift.tier is not None:
        rows.append((t["r.tier"], t[f"tier.{lift.tier}"]))
        rows.append((t["r.weights"], t["list_sep"].join(
            f"{_indicator_name(k, lang) if k in INDICATOR_UNITS else k} {fmt(v)}"
            for k, v in tier_weights(spec, lift.tier).items())))
    keys = " × ".join(t[f"key.{k}"] for k in spec.group_by) or "—"
    rows.append((t["r.groups"], t["r.by"].format(keys=keys)))
    rows.append((t["r.benchmark"], t[f"bench.{spec.benchmark}"]))
    rows.append((t["r.cap"], fmt(spec.indicator_cap)))
    c = spec.classification
    if c.method == "shares":
        shares = t["list_sep"].join(f"{k} {100 * v:g}%" for k, v in zip(
            CLASSES, c.shares.as_tuple(), strict=True))
        rows.append((t["r.method"], t["r.shares"].format(shares=shares)))
    else:
        th = c.thresholds
        rows.append((t["r.method"], t["r.thresholds"].format(
            thresholds=f"A ≥ {fmt(th.A)}, B ≥ {fmt(th.B)}, C ≥ {fmt(th.C)}")))
    extra = ((t["r.veto_emission"] if spec.veto.emission_violation else "")
             + (t["r.veto_energy"] if spec.veto.energy_task_missed else ""))
    rows.append((t["r.veto"], t["r.veto_text"].format(
        p=fmt(spec.veto.accident_probability_per_year), extra=extra)))
    b = spec.bonus
    rows.append((t["r.bonus"], t["r.bonus_text"].format(
        high_tech=fmt(b.high_tech), listed=fmt(b.listed), brand=fmt(b.brand))))
    rows.append((t["r.protect"], t["r.protect_text"].format(years=spec.protect_new_firms_years)))
    return {"kind": "facts", "rows": rows}

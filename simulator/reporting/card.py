"""Firm report card (一企一单): one firm's evaluation, bills and quotas, year by year.

:func:`write_card` reads a run's ``firms.parquet`` (one row per firm and
year) and ``scenario.yaml`` (the evaluation rules) and writes one
self-contained HTML page for one firm: each year's indicators, score, rank
and class; its bills by resource; its quotas and payments per market; how its
last score is made up; and which changes would lift its class.

The computation of what would lift the class is in :mod:`simulator.reporting.lift`.
"""

from __future__ import annotations

import html
import math
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulator import catalogue
from simulator.evaluation import INDICATOR_UNITS, INDICATORS
from simulator.reporting.html import Markup, fmt, html_page, html_table, para, write_html
from simulator.reporting.lift import CLASSES, ClassLift, class_lift, tier_weights
from simulator.reporting.sections import read_run_scenario
from simulator.results import parquet_columns, read_json_record, read_parquet_file, verify_file
from simulator.scenario import (
    DEFAULT_POLLUTANTS,
    INVESTMENT_OPTIONS,
    EvaluationSpec,
    ScenarioError,
)

__all__ = ["read_firm_years", "write_card"]

#: firms.parquet columns a card picks its rows by.
_KEY_COLUMNS: tuple[str, ...] = ("replication", "year", "firm_id")
#: Every firms.parquet column the card reads (checked before reading).
_COLUMNS: tuple[str, ...] = (
    *_KEY_COLUMNS, "sector", "scale", "region", "park", "class", "class_in_force", "score",
    "rank", "group_size", "vetoed", "consecutive_d_years", "invested_options", "va_wan_yuan",
    "revenue_wan_yuan", "tax_wan_yuan", "profit_wan_yuan", "rd_wan_yuan", "cash_wan_yuan",
    "employees", "land_mu", "energy_tce", "electricity_kwh", "water_m3",
    "electricity_bill_yuan", "electricity_surcharge_yuan", "water_bill_yuan",
    "water_surcharge_yuan", "land_tax_yuan", "land_tax_relief_yuan", "pollution_charge_yuan",
    "pollution_surcharge_yuan", "subsidy_yuan",
)


def read_firm_years(run_dir: str | Path, *, replication: int | None = 0) -> pd.DataFrame:
    """Return firms.parquet rows of one replication, raising ScenarioError if there are none.

    ``replication=None``: the only replication the file holds, else 0 (a run
    inside a comparison holds the one replication it ran).
    """
    run_dir = Path(run_dir)
    manifest = read_json_record(run_dir / "manifest.json")  # a run has one
    path = run_dir / "firms.parquet"
    if not path.is_file():
        raise ScenarioError("no firm snapshots (firms.parquet) in this run: set "
                            "output.firm_snapshots and run again", file=path)
    verify_file(path, manifest, record_path=run_dir / "manifest.json")
    parquet_columns(path, _COLUMNS)  # readable, with every column the card reads
    if replication is None:
        held = read_parquet_file(path, columns=["replication"])["replication"].unique()
        replication = int(held[0]) if held.size == 1 else 0
    firms = read_parquet_file(path, filters=[("replication", "=", int(replication))])
    if firms.empty:
        held = sorted(read_parquet_file(path, columns=["replication"])["replication"].unique())
        raise ScenarioError(f"replication {replication} is not in firms.parquet (it holds "
                            f"{', '.join(map(str, held)) or 'none'})", file=path)
    return firms


def _read_rules(run_dir: Path, firm_id: int) -> tuple[dict[str, Any], EvaluationSpec]:
    """Return the run's resolved scenario (as a dict) and its evaluation rules."""
    manifest = read_json_record(run_dir / "manifest.json")
    found = read_run_scenario(run_dir, manifest)
    if found is None:
        raise ScenarioError(f"no scenario.yaml, so no evaluation rules for the card of firm "
                            f"{firm_id}", file=run_dir / "scenario.yaml")
    data = found[0]
    try:
        spec = EvaluationSpec.model_validate(data.get("evaluation") or {})
    except ValueError as exc:
        raise ScenarioError(f"invalid evaluation rules: {exc}", file=run_dir / "scenario.yaml",
                            field="evaluation") from None
    return data, spec


def _text(lang: str) -> dict[str, str]:
    """Return the card's text in ``lang``: the locale's ``card`` section."""
    return dict(catalogue.text(catalogue.check_language(lang), "card"))


def _indicator_name(name: str, lang: str) -> str:
    """Return an evaluation indicator's label in ``lang``."""
    return catalogue.label(f"ind_{name}", lang)


def _unit(unit: str, lang: str) -> str:
    """Return ``unit`` in ``lang`` (units are written in English in the code)."""
    return catalogue.unit_text(unit, lang)


def write_card(run_dir: str | Path, firm_id: int, *, out: str | Path | None = None,
               replication: int | None = None, lang: str = "en") -> Path:
    """Write one firm's report card (一企一单) as a self-contained HTML file.

    Parameters
    ----------
    run_dir : str or Path
        A run directory with ``firms.parquet`` and ``scenario.yaml``.
    firm_id : int
        The firm.
    out : str or Path, optional
        The HTML file; default ``<run_dir>/cards/firm_<id>.html``.
    replication : int, optional
        Which replication's firms to show; default the run's only one, else 0.
    lang : {"en", "zh"}
        Language of the text.

    Returns
    -------
    Path
        The card, written atomically.

    Raises
    ------
    ScenarioError
        If the run has no firms.parquet or the firm is not in it.
    """
    t = _text(lang)
    run_dir = Path(run_dir)
    firm_id = int(firm_id)
    if not run_dir.is_dir():
        raise ScenarioError(f"not a results directory (no such directory); cannot make the "
                            f"card of firm {firm_id}", file=run_dir)
    if (run_dir / "experiment.json").is_file() and (run_dir / "runs").is_dir():
        example = next((p.parent for p in sorted((run_dir / "runs").rglob("firms.parquet"))),
                       run_dir / "runs" / "<run>")
        raise ScenarioError(f"this is an experiment directory; a card is made from one of its "
                            f"runs, e.g. {example}", file=run_dir)
    if not (run_dir / "firms.parquet").is_file():
        raise ScenarioError(f"no firm snapshots in this run, so no card for firm {firm_id}: "
                            "run again with output.firm_snapshots: true",
                            file=run_dir / "firms.parquet")
    firms = read_firm_years(run_dir, replication=replication)
    replication = int(firms["replication"].iloc[0])
    mine = firms[firms["firm_id"].to_numpy() == firm_id].sort_values("year")
    if mine.empty:
        raise ScenarioError(f"firm {firm_id} is not in firms.parquet (replication "
                            f"{replication}; firm ids {int(firms['firm_id'].min())}–"
                            f"{int(firms['firm_id'].max())})", file=run_dir / "firms.parquet",
                            field="firm_id")
    scenario, spec = _read_rules(run_dir, firm_id)
    run_years = sorted(int(y) for y in firms["year"].unique())
    last_year = int(mine["year"].iloc[-1])
    pollutants = _pollutants(scenario)
    lift = class_lift(firms[firms["year"].to_numpy() == last_year], firm_id, spec,
                      tuple(pollutants))

    name = str(scenario.get("name") or run_dir.name)
    title = t["title"].format(firm=firm_id)
    meta = t["meta"].format(scenario=name, replication=replication,
                            today=date.today().isoformat(), path=run_dir)
    years = [int(y) for y in mine["year"]]
    body = [f"<h1>{html.escape(title)}</h1>", f'<p class="meta">{html.escape(meta)}</p>',
            _h2(t["firm"]), _firm_facts(mine, run_years, scenario, t),
            _h2(t["evaluation"]), _evaluation_table(mine, run_years, t, lang),
            _h2(t["production"]), _production_table(mine, years, t, pollutants, lang),
            _h2(t["bills"]), _bills_table(mine, years, t, pollutants),
            _h2(t["quotas"]), _quota_tables(mine, years, t, pollutants, lang),
            _h2(t["breakdown"].format(year=last_year)), _breakdown(lift, spec, t, lang),
            _h2(t["lift"].format(year=last_year)), _lift_section(lift, spec, t, lang),
            _h2(t["rules"]), _rules(lift, spec, t, lang)]
    out = Path(out) if out is not None else run_dir / "cards" / f"firm_{firm_id}.html"
    return write_html(out, html_page(title, "\n".join(body), lang=lang))


def _h2(title: str) -> str:
    return f"<h2>{html.escape(title)}</h2>"


def _firm_facts(mine: pd.DataFrame, run_years: list[int], scenario: dict[str, Any],
                t: dict[str, str]) -> str:
    years = [int(y) for y in mine["year"]]
    last = mine.iloc[-1]
    first_year, last_year = years[0], years[-1]
    if years == run_years:
        presence = t["present"].format(first=first_year, last=last_year)
    else:
        parts = [f"{first_year}–{last_year}"]
        if first_year > run_years[0]:
            parts.append(t["entered"].format(year=first_year))
        if last_year < run_years[-1]:
            parts.append(t["exited"].format(year=last_year))
        gaps = [y for y in run_years if first_year < y < last_year and y not in years]
        if gaps:
            parts.append(t["not_in"].format(years=", ".join(map(str, gaps))))
        presence = "; ".join(parts)
    sector = str(last["sector"])
    if t["lang"] == "zh":
        spec = ((scenario.get("population") or {}).get("sectors") or {}).get(sector) or {}
        sector = spec.get("label_zh") or sector
    rows = [(t["firm_id"], int(last["firm_id"])), (t["sector"], sector),
            (t["region"], last["region"]), (t["park"], int(last["park"])),
            (t["scale"], t.get(f"scale.{last['scale']}", str(last["scale"]))),
            (t["years"], presence)]
    return html_table([t["item"], t["value_col"]], rows, numeric_from=99)


def _year_table(mine: pd.DataFrame, years: list[int], rows: list[tuple[str, str, list[str]]],
                t: dict[str, str]) -> str:
    return html_table([t["item"], t["unit"], *map(str, years)],
                      [(label, _unit(unit, t["lang"]), *cells) for label, unit, cells in rows],
                      numeric_from=2)


def _values(mine: pd.DataFrame, column: str, *, scale: float = 1.0) -> list[str]:
    if column not in mine.columns:
        return ["—"] * len(mine)
    return [fmt(v * scale) for v in mine[column].to_numpy(dtype=float)]


def _evaluation_table(mine: pd.DataFrame, run_years: list[int], t: dict[str, str],
                      lang: str) -> str:
    years = [int(y) for y in mine["year"]]
    status = []
    for y in years:
        marks = []
        if y == years[0] and y > run_years[0]:
            marks.append(t["status.entered"])
        if y == years[-1] and y < run_years[-1]:
            marks.append(t["status.exits"])
        status.append(", ".join(marks) or "")
    rated = mine["rank"].to_numpy() > 0
    rows: list[tuple[str, str, list[str]]] = []
    if any(status):
        rows.append((t["status"], "", status))
    rows += [
        (t["class_in_force"], "", [str(c) for c in mine["class_in_force"]]),
        (t["class"], "", [str(c) for c in mine["class"]]),
        (t["score"], "points", [fmt(s) if r else t["not_rated"]
                                   for s, r in zip(mine["score"], rated, strict=True)]),
        (t["rank"], "", [t["rank_of"].format(rank=int(r), n=int(n)) if ok else "—"
                         for r, n, ok in zip(mine["rank"], mine["group_size"], rated,
                                             strict=True)]),
        (t["vetoed"], "", [t["yes"] if v else t["no"] for v in mine["vetoed"]]),
        (t["consecutive_d"], "", [str(int(v)) for v in mine["consecutive_d_years"]]),
    ]
    for name in INDICATORS:
        column = f"ind_{name}"
        if column in mine.columns and mine[column].notna().any():
            rows.append((_indicator_name(name, lang), INDICATOR_UNITS[name],
                         _values(mine, column)))
    return _year_table(mine, years, rows, t)


def _pollutants(scenario: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Return the run's pollutants (name -> spec) from its resolved scenario."""
    return {**DEFAULT_POLLUTANTS, **(scenario.get("pollutants") or {})}


def _pollutant_label(name: str, spec: dict[str, Any], t: dict[str, str], lang: str) -> str:
    """Return a pollutant's name: the card's text for the four, else the scenario's label."""
    return t.get(f"pollutant.{name}") or str(spec.get("label_zh" if lang == "zh" else "label",
                                                       name))


def _production_table(mine: pd.DataFrame, years: list[int], t: dict[str, str],
                      pollutants: dict[str, dict[str, Any]], lang: str) -> str:
    rows = [(t[key], unit, _values(mine, column)) for key, unit, column in (
        ("va", "万元", "va_wan_yuan"), ("revenue", "万元", "revenue_wan_yuan"),
        ("tax", "万元", "tax_wan_yuan"), ("profit", "万元", "profit_wan_yuan"),
        ("rd", "万元", "rd_wan_yuan"), ("cash", "万元", "cash_wan_yuan"),
        ("land", "mu", "land_mu"), ("employees", "persons", "employees"),
        ("energy", "tce", "energy_tce"), ("electricity", "kWh", "electricity_kwh"),
        ("water", "m³", "water_m3"))]
    for p, spec in pollutants.items():
        rows.append((_pollutant_label(p, spec, t, lang), "t", _values(mine, f"{p}_t")))
    if "invested_options" in mine.columns:
        cells = []
        for bits in mine["invested_options"].to_numpy(dtype=int):
            taken = [t[f"inv.{o}"] for k, o in enumerate(INVESTMENT_OPTIONS) if bits >> k & 1]
            cells.append(", ".join(taken) or "—")
        rows.append((t["investments"], "", cells))
    return _year_table(mine, years, rows, t)


def _bills_table(mine: pd.DataFrame, years: list[int], t: dict[str, str],
                 pollutants: dict[str, dict[str, Any]]) -> str:
    rows = [(t[key], "yuan", _values(mine, column)) for key, column in (
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
    rows += [(t["resource_bill"], "yuan", [fmt(v) for v in total]),
             (t["per_va"], "yuan/万元", [fmt(v) for v in per_va])]
    quota_costs = [c for q in ("energy", *pollutants)
                   for c in (f"{q}_net_paid_yuan", f"{q}_abatement_cost_yuan") if c in mine.columns]
    if quota_costs:
        cost = sum(mine[c].to_numpy(dtype=float) for c in quota_costs)
        rows.append((t["quota_cost"], "yuan", [fmt(v) for v in cost]))
    return _year_table(mine, years, rows, t)


def _quota_tables(mine: pd.DataFrame, years: list[int], t: dict[str, str],
                  pollutants: dict[str, dict[str, Any]], lang: str) -> str:
    parts = []
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
        rows = [(t["q.covered"], "", [t["yes"] if v else t["no"]
                                      for v in mine[f"{quota}_covered"]])]
        rows += [(t[f"q.{key}"], u, _values(mine, f"{quota}_{column}")) for key, u, column in (
            ("allocated", unit, "allocated"), ("held", unit, "held"), ("use", unit, "use"),
            ("shortfall", unit, "shortfall"), ("net_paid", "yuan", "net_paid_yuan"),
            ("abatement_cost", "yuan", "abatement_cost_yuan"))]
        rows.append((t["q.abatement_share"], "share", _values(mine, f"{quota}_abatement_share")))
        heading = t.get(f"market.{quota}") or _pollutant_label(quota, pollutants[quota], t, lang)
        parts.append(f"<h3>{html.escape(heading)}</h3>"
                     + _year_table(mine, years, rows, t))
    return "\n".join(parts) if parts else para(t["no_quotas"], "note")


def _breakdown(lift: ClassLift, spec: EvaluationSpec, t: dict[str, str], lang: str) -> str:
    if not lift.terms:
        return para(t["lift.unrated"].format(year=lift.year), "note")
    total = sum(term.weight for term in lift.terms)
    rows = []
    for term in lift.terms:
        ratio = term.value / term.benchmark if term.has and term.benchmark > 0 else math.nan
        rows.append((_indicator_name(term.name, lang),
                     fmt(term.value) if term.has else t["no_data_cell"],
                     fmt(term.benchmark), fmt(ratio), fmt(term.weight), fmt(term.points),
                     fmt(100.0 * term.weight * spec.indicator_cap / total)))
    rows.append((t["bonus"], "", "", "", "", fmt(lift.bonus), ""))
    rows.append((Markup(f"<b>{html.escape(t['total'])}</b>"), "", "", "", "",
                 Markup(f"<b>{html.escape(fmt(lift.score))}</b>"), ""))
    note = t["breakdown_note"].format(cap=fmt(spec.indicator_cap), total=fmt(total),
                                      benchmark=t[f"bench.{spec.benchmark}"])
    return (html_table([t["indicator"], t["value"], t["benchmark"], t["ratio"], t["weight"],
                        t["points_col"], t["max_points"]], rows) + para(note, "note"))


def _lift_section(lift: ClassLift, spec: EvaluationSpec, t: dict[str, str], lang: str) -> str:
    if lift.status in ("unrated", "top", "veto", "no_place"):
        return para(t[f"lift.{lift.status}"].format(year=lift.year, next=lift.next_class,
                                                    n=lift.group_size))
    key = "lift.shares" if lift.method == "shares" else "lift.thresholds"
    intro = t[key].format(year=lift.year, score=fmt(lift.score), rank=lift.rank,
                          n=lift.group_size, klass=lift.klass, next=lift.next_class,
                          cut=lift.target_rank, target_firm=lift.target_firm_id,
                          target=fmt(lift.target_score), gap=fmt(max(lift.gap, 0.0)))
    rows = []
    for item in lift.lifts:
        name = _indicator_name(item.indicator, lang)
        unit = _unit(INDICATOR_UNITS[item.indicator], lang)
        if item.status in ("ok", "reached"):
            rows.append((name, unit, fmt(item.value), fmt(item.required),
                         fmt(item.rise, signed=True), fmt(item.rise_pct), ""))
            continue
        note = t[f"st.{item.status}"].format(cap=fmt(spec.indicator_cap),
                                             points=fmt(item.max_points))
        rows.append((name, unit, fmt(item.value), "—", "—", "—", note))
    table = html_table([t["indicator"], t["unit"], t["value"], t["needed"], t["rise"],
                        t["rise_pct"], t["note"]], rows, numeric_from=2)
    if math.isnan(lift.uniform_rise_pct):
        together = t["lift.together_never"]
    else:
        together = t["lift.together"].format(pct=fmt(lift.uniform_rise_pct))
    return para(intro) + para(t["lift.method"], "note") + table + para(together)


def _rules(lift: ClassLift, spec: EvaluationSpec, t: dict[str, str], lang: str) -> str:
    rows = []
    if lift.tier is not None:
        rows.append((t["r.tier"], t[f"tier.{lift.tier}"]))
        rows.append((t["r.weights"], ", ".join(
            f"{_indicator_name(k, lang) if k in INDICATOR_UNITS else k} {fmt(v)}"
            for k, v in tier_weights(spec, lift.tier).items())))
    keys = " × ".join(t[f"key.{k}"] for k in spec.group_by) or "—"
    rows.append((t["r.groups"], t["r.by"].format(keys=keys)))
    rows.append((t["r.benchmark"], t[f"bench.{spec.benchmark}"]))
    rows.append((t["r.cap"], fmt(spec.indicator_cap)))
    c = spec.classification
    if c.method == "shares":
        shares = ", ".join(f"{k} {100 * v:g}%" for k, v in zip(CLASSES, c.shares.as_tuple(),
                                                                strict=True))
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
    return html_table([t["item"], t["value_col"]], rows, numeric_from=99)

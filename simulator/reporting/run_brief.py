"""The brief of a run: its policy timeline in words, how the key indicators moved, the markets.

The findings are the key indicators' change from the first to the last
year, largest relative to its uncertainty first (relative change with one
replication); the quota markets are said in words.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from simulator.reporting.describe import clause, describe_timeline, month_words
from simulator.reporting.findings import amount
from simulator.reporting.html import fmt
from simulator.reporting.mechanisms import mechanism_candidates
from simulator.reporting.sections import (
    ci_cell,
    key_indicator_rows,
    page_meta,
    provenance,
    read_run_scenario,
    record_text,
    replications_words,
    select_figures,
)
from simulator.results import read_run

#: Between the sentences of a paragraph.
_SEP = {"en": " ", "zh": ""}
__all__ = ["run_context"]

#: Changes written as sentences (the rest are in the table).
MAX_SENTENCES = 6


def run_context(directory: Path, t: dict[str, str], lang: str) -> dict[str, Any]:
    """Return the variables of ``run.html.j2`` for a run directory."""
    from simulator.catalogue import entry

    manifest, metrics = read_run(directory)
    scenario, scenario_text = read_run_scenario(directory, manifest) or ({}, "")
    name = str(manifest.get("scenario_name") or scenario.get("name", directory.name))

    annual = metrics[metrics["month"].isna()]
    years = sorted(int(y) for y in annual["year"].unique())
    replications = int(annual["replication"].nunique()) if len(annual) else 0
    run = scenario.get("run", {}) or {}
    period = {"start": month_words(run.get("start", years[0] if years else "?"), lang),
              "end": month_words(run.get("end", years[-1] if years else "?"), lang)}
    changes = _changes(annual, years, _rows(scenario, annual, lang)) if years else []
    ranked = sorted(changes, key=_rank)
    sentences = [{"kind": c["kind"], "text": _sentence(c, t, lang, entry)}
                 for c in ranked[:MAX_SENTENCES]]
    policy = describe_timeline(scenario, lang) if scenario else [t["no_timeline"]]
    firms = manifest.get("firms")
    reps = replications_words(replications, t)
    summary = t["exec.run"].format(name=name, firms=fmt(firms) if firms else "—", reps=reps,
                                   **period)
    if scenario.get("timeline"):
        first_change = clause(policy[0], lang)
        summary += _SEP[lang] + t["exec.run_policy"].format(policy=first_change)
    if sentences:
        summary += _SEP[lang] + t["exec.run_changes"].format(
            first=years[0], last=years[-1], changes=t["list_sep"].join(
                _short(c, lang, entry) for c in ranked[:3]))
    blocks = [{"title": t["resolved"].format(name=name), "text": scenario_text},
              {"title": t["record"].format(file="manifest.json"), "text": record_text(manifest)}]
    first, last = (years[0], years[-1]) if years else ("", "")
    return {
        "kind": "run", "title": t["title.run"].format(name=name),
        "meta": page_meta(t, what=t["meta.run"].format(
            firms=fmt(firms) if firms else "—", reps=reps, **period)),
        "summary": [summary], "description": scenario.get("description", ""),
        "policy": policy, "findings": sentences,
        "warning": "" if replications > 1 else t["single_note"],
        "table_title": t["key_indicators"],
        "header": [t["indicator"], str(first), str(last),
                   t["change"].format(first=first, last=last), t["change_pct"]],
        "rows": [c["row"] for c in changes],
        "table_note": (t["ci_note"].format(n=replications) if replications > 1
                       else t["single_note_table"]),
        "markets": _markets_in_words(metrics, t),
        "figures": select_figures(directory, "run", lang, t),
        "provenance": provenance(manifest, t, directory, [
            (t["scenario"], name), (t["firms"], firms),
            (t["replications"], manifest.get("replications", replications))]),
        "appendix_blocks": blocks,
    }


def _rank(change: dict[str, Any]) -> tuple[int, float]:
    """Clear changes first, largest relative to their interval (or in %, without one)."""
    order = {"effect": 0, "change": 0, "none": 1, "flat": 2}[change["kind"]]
    strength = change["strength"] if math.isfinite(change["strength"]) else 0.0
    return order, -strength


def _rows(scenario: dict[str, Any], annual: pd.DataFrame,
          lang: str) -> list[tuple[str, str, str]]:
    """Return the key indicators, then the outputs of the mechanisms the scenario uses."""
    keys = key_indicator_rows(lang)
    pairs = annual[["metric", "group"]].drop_duplicates().itertuples(index=False, name=None)
    extra = mechanism_candidates([scenario], pairs, exclude=[(m, g) for m, g, _ in keys])
    return [*keys, *((m, g, _row_label(m, g, lang)) for m, g in extra)]


def _row_label(metric: str, group: str, lang: str) -> str:
    """Return a row's label as the key indicators' are: capitalised, with its unit."""
    from simulator.catalogue import unit
    from simulator.reporting.findings import metric_label

    label = metric_label(metric, group, lang)
    return f"{label[:1].upper()}{label[1:]} ({unit(metric, lang)})"


def _changes(annual: pd.DataFrame, years: list[int],
             rows: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    """Each row's level in the first and last year and its change, with intervals."""
    from simulator.results.stats import mean_ci

    first, last = years[0], years[-1]
    out = []
    for metric, group, label in rows:
        sel = annual[(annual["metric"] == metric) & (annual["group"] == group)]
        if sel.empty:
            continue
        wide = sel.pivot_table(index="year", columns="replication", values="value",
                               aggfunc="first")
        if first not in wide.index or last not in wide.index:
            continue
        a, b = mean_ci(wide.loc[[first]]).iloc[0], mean_ci(wide.loc[[last]]).iloc[0]
        change = mean_ci(pd.DataFrame(wide.loc[[last]].to_numpy()
                                      - wide.loc[[first]].to_numpy())).iloc[0]
        base = float(a["mean"])
        pct = 100 * float(change["mean"]) / abs(base) if base else math.nan
        half = (change["ci_high"] - change["ci_low"]) / 2
        if pd.isna(half):
            kind, strength = ("flat" if change["mean"] == 0 else "change"), abs(pct) \
                if math.isfinite(pct) else 0.0
        elif half == 0:
            kind, strength = ("flat" if change["mean"] == 0 else "change"), math.inf
        else:
            clear = change["ci_low"] > 0 or change["ci_high"] < 0
            kind, strength = ("effect" if clear else "none"), abs(change["mean"]) / half
        out.append({"metric": metric, "group": group, "kind": kind, "strength": strength,
                    "first": first, "last": last, "a": float(a["mean"]), "b": float(b["mean"]),
                    "change": change, "pct": pct,
                    "row": (label, ci_cell(a), ci_cell(b), ci_cell(change, signed=True),
                            f"{pct:+.1f}%" if math.isfinite(pct) else "—")})
    return out


def _sentence(c: dict[str, Any], t: dict[str, str], lang: str, entry: Any) -> str:
    from simulator.reporting.findings import metric_label

    unit = entry(c["metric"]).unit
    label = metric_label(c["metric"], c["group"], lang)
    fields = {"label": label, "Label": label[:1].upper() + label[1:], "first": c["first"],
              "last": c["last"], "a": amount(c["a"], unit, lang), "b": amount(c["b"], unit, lang),
              "pct": f"{c['pct']:+.0f}%" if math.isfinite(c["pct"]) else "",
              "low": amount(c["change"]["ci_low"], unit, lang, signed=True),
              "high": amount(c["change"]["ci_high"], unit, lang, signed=True)}
    if c["kind"] == "flat":
        return t["run.flat"].format(**fields)
    direction = "rise" if c["b"] > c["a"] else "fall"
    if c["kind"] == "none":
        return t["run.none"].format(**fields)
    key = f"run.{direction}" + (".ci" if c["kind"] == "effect" else "")
    return t[key].format(**fields)


def _short(c: dict[str, Any], lang: str, entry: Any) -> str:
    from simulator.reporting.findings import metric_label

    label = metric_label(c["metric"], c["group"], lang)
    pct = f" ({c['pct']:+.0f}%)" if math.isfinite(c["pct"]) else ""
    return f"{label} {amount(c['b'] - c['a'], entry(c['metric']).unit, lang, signed=True)}{pct}"


def _markets_in_words(metrics: pd.DataFrame, t: dict[str, str]) -> list[dict[str, Any]]:
    """Say what each quota market did: when its cap bound, who set its prices, compliance."""
    from simulator.reporting.diagnostics import ADMINISTRATIVE_LIMIT, market_summary

    summary = market_summary(metrics)
    out = []
    for m in summary.itertuples():
        n = m.last_year - m.first_year + 1
        bound = (t["markets.bound"].format(k=len(m.binding_years), n=n,
                                           first=m.binding_years[0], last=m.binding_years[-1])
                 if m.binding_years else t["markets.never"].format(n=n))
        line = t["markets.line"].format(
            market=t.get(f"market.{m.market}", m.market), bound=bound,
            admin=f"{100 * m.administrative_share:.0f}", low=f"{m.price_min:,.0f}",
            high=f"{m.price_max:,.0f}", compliance=f"{100 * m.compliance_min:.1f}")
        warn = (not m.binding_years or m.administrative_share > ADMINISTRATIVE_LIMIT)
        out.append({"text": line, "warn": warn})
    return out

"""The brief of a comparison: end-year outcomes, paired differences, differing parameters.

Each scenario's end-year outcomes, the paired differences to the reference
with their intervals, and what differs in the scenarios' parameters.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulator.reporting.html import Markup, fmt, html_table, para
from simulator.reporting.sections import (
    SIGNIFICANT,
    appendix_yaml,
    ci_cell,
    facts_table,
    figures,
    header,
    key_indicator_rows,
    parse_stored_scenario,
    read_table,
    record_facts,
    show,
    unfinished,
)
from simulator.results import read_text_file
from simulator.scenario import ScenarioError

__all__ = ["compare_brief"]

_SUMMARY_COLUMNS = ("scenario", "group", "metric", "year", "mean", "ci_low", "ci_high")
_DIFFERENCE_COLUMNS = ("scenario", "reference", "group", "metric", "year", "mean", "ci_low",
                       "ci_high")
_MAX_DIFF_ROWS = 60


def compare_brief(directory: Path, record: dict[str, Any], t: dict[str, str],
                  lang: str) -> tuple[str, str]:
    """Return the title and body of a comparison's brief."""
    summary = read_table(directory / "summary.csv", _SUMMARY_COLUMNS)
    differences = read_table(directory / "differences.csv", _DIFFERENCE_COLUMNS)
    scenarios = [str(s) for s in record.get("scenarios") or pd.unique(summary["scenario"])]
    if not scenarios:
        raise ScenarioError("experiment.json names no scenarios",
                            file=directory / "experiment.json")
    reference = str(record.get("reference") or scenarios[0])
    if reference in scenarios:  # the reference comes first in every table
        scenarios = [reference, *(s for s in scenarios if s != reference)]
    yamls = _scenario_texts(directory, scenarios)
    parsed = {name: parse_stored_scenario(text_, directory / "scenarios" / f"{name}.yaml")
              for name, text_ in yamls.items()}
    name = str(record.get("name", directory.name))
    title = t["title.compare"].format(name=name)
    year = int(summary["year"].max()) if len(summary) else None
    replications = record.get("replications")

    scenario_rows = [(s + (t["reference_mark"] if s == reference else ""),
                      parsed.get(s, {}).get("description", "")) for s in scenarios]
    run = parsed.get(reference, {}).get("run") or {}
    facts = [
        (t["reference"], reference),
        (t["period"], f"{run.get('start', '?')} – {run.get('end', '?')}" if run else None),
        (t["replications"], replications),
        *record_facts(record, t),
    ]
    body = [header(title, directory, str(record.get("version", "?")), t),
            unfinished(record, t),
            f"<h2>{html.escape(t['what'])}</h2>",
            html_table([t["scenario"], t["description"]], scenario_rows, numeric_from=99),
            facts_table(facts, t)]
    for other in scenarios[1:]:
        body.append(_what_differs(parsed.get(reference, {}), parsed.get(other, {}),
                                  other, reference, t))
    body.append(f"<h2>{html.escape(t['findings'])}</h2>")
    if year is not None:
        body.append(_compare_findings(summary, differences, scenarios, year,
                                      int(replications or 0), t, lang))
    body += [f"<h2>{html.escape(t['figures'])}</h2>", figures(directory, t, lang),
             f"<h2>{html.escape(t['appendix'])}</h2>"]
    body += [appendix_yaml(t["resolved"].format(name=s), text_) for s, text_ in yamls.items()]
    body.append(appendix_yaml(t["record"].format(file="experiment.json"),
                              json.dumps(record, indent=2, ensure_ascii=False)))
    return title, "\n".join(body)


def _scenario_texts(directory: Path, names: Sequence[str]) -> dict[str, str]:
    texts = {}
    for name in names:
        path = directory / "scenarios" / f"{name}.yaml"
        if path.is_file():
            texts[name] = read_text_file(path)
    return texts


def _pick(table: pd.DataFrame, **keys: object) -> pd.Series | None:
    mask = np.ones(len(table), dtype=bool)
    for column, value in keys.items():
        mask &= (table[column] == value).to_numpy()
    rows = table[mask]
    return None if rows.empty else rows.iloc[0]


def _compare_findings(summary: pd.DataFrame, differences: pd.DataFrame, scenarios: list[str],
                      year: int, replications: int, t: dict[str, str], lang: str) -> str:
    reference, others = scenarios[0], scenarios[1:]
    key_rows = [r for r in key_indicator_rows(lang)
                if ((summary["metric"] == r[0]) & (summary["group"] == r[1])).any()]
    outcome_rows, difference_rows, sentences = [], [], []
    for metric, group, label in key_rows:
        cells = []
        ref_mean = float("nan")
        for s in scenarios:
            row = _pick(summary, scenario=s, metric=metric, group=group, year=year)
            cells.append("—" if row is None else ci_cell(row))
            if s == reference and row is not None:
                ref_mean = float(row["mean"])
        outcome_rows.append((label, *cells))
        diff_cells: list[object] = []
        for s in others:
            row = _pick(differences, scenario=s, reference=reference, metric=metric,
                        group=group, year=year)
            if row is None:
                diff_cells.append("—")
                continue
            shown = ci_cell(row, signed=True)
            excludes_zero = (pd.notna(row["ci_low"]) and pd.notna(row["ci_high"])
                             and (row["ci_low"] > 0 or row["ci_high"] < 0))
            if excludes_zero:
                diff_cells.append(Markup(f'<span class="sig">{html.escape(shown)} '
                                         f"{SIGNIFICANT}</span>"))
                sentences.append(_significant_sentence(label, s, reference, row, ref_mean,
                                                       year, t))
            else:
                diff_cells.append(shown)
        difference_rows.append((label, *diff_cells))

    parts = [f"<h3>{html.escape(t['end_year'].format(year=year))}</h3>",
             html_table([t["indicator"], *scenarios], outcome_rows),
             para(t["end_year_note"].format(year=year), "note")]
    if others:
        parts += [f"<h3>{html.escape(t['differences'].format(reference=reference, year=year))}"
                  "</h3>",
                  html_table([t["indicator"], *others], difference_rows),
                  para(t["differences_note"].format(reference=reference, mark=SIGNIFICANT),
                       "note")]
        if replications < 2:
            parts.append(para(t["no_ci_note"], "note"))
        if sentences:
            parts.append("<ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in sentences)
                         + "</ul>")
        else:
            parts.append(para(t["no_significant"].format(year=year)))
    return "\n".join(parts)


def _significant_sentence(label: str, scenario: str, reference: str, row: pd.Series,
                          ref_mean: float, year: int, t: dict[str, str]) -> str:
    diff = float(row["mean"])
    pct = (f"{100 * diff / abs(ref_mean):+.1f}%" if math.isfinite(ref_mean) and ref_mean != 0
           else "—")
    return t["significant"].format(
        year=year, label=label, scenario=scenario, reference=reference,
        direction=t["higher"] if diff > 0 else t["lower"], diff=fmt(abs(diff)), pct=pct,
        low=fmt(row["ci_low"]), high=fmt(row["ci_high"]))


def _flatten(data: object, prefix: str = "") -> dict[str, object]:
    """Dotted path -> leaf value (lists are leaves)."""
    if isinstance(data, dict):
        out: dict[str, object] = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): data}


def _what_differs(reference: dict[str, Any], other: dict[str, Any], name: str,
                  reference_name: str, t: dict[str, str]) -> str:
    heading = f"<h3>{html.escape(t['what_differs'].format(reference=reference_name))}: " \
              f"{html.escape(name)}</h3>"
    if not reference or not other:
        return ""
    a, b = _flatten(reference), _flatten(other)
    skip = {"name", "description"}
    paths = [p for p in sorted(set(a) | set(b)) if p not in skip and a.get(p) != b.get(p)]
    if not paths:
        return heading + para(t["no_difference"].format(scenario=name, reference=reference_name))
    rows = [(p, show(a.get(p, "—")), show(b.get(p, "—"))) for p in paths[:_MAX_DIFF_ROWS]]
    parts = [heading, html_table([t["path"], reference_name, name], rows, numeric_from=99),
             para(t["what_differs_note"], "note")]
    if len(paths) > _MAX_DIFF_ROWS:
        parts.append(para(t["more_rows"].format(n=len(paths) - _MAX_DIFF_ROWS), "note"))
    return "\n".join(parts)

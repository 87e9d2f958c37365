"""The brief of a comparison: the policy difference in words, the findings, the figures.

For every scenario besides the reference: what differs in its policy
(:mod:`~simulator.reporting.describe`), its findings in the end year, strongest
relative to their uncertainty first (:mod:`~simulator.reporting.findings`),
and a table of every indicator considered. The executive summary says it in
one paragraph; the appendix holds the provenance, the differing fields by
path and the resolved scenarios.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from markupsafe import escape

from simulator.reporting.describe import (
    changes_between,
    clause,
    describe_difference,
    month_words,
)
from simulator.reporting.findings import (
    Finding,
    amount,
    default_candidates,
    finding_sentence,
    findings,
    metric_unit,
    number,
    scale_for,
)
from simulator.reporting.html import Markup, fmt
from simulator.reporting.mechanisms import mechanism_candidates
from simulator.reporting.sections import (
    SIGNIFICANT,
    page_meta,
    parse_stored_scenario,
    provenance,
    read_table,
    record_text,
    select_figures,
    show,
    unfinished,
)
from simulator.results import read_text_file
from simulator.scenario import ScenarioError

#: Between the sentences of a paragraph.
_SEP = {"en": " ", "zh": ""}
__all__ = ["compare_context"]

_SUMMARY_COLUMNS = ("scenario", "group", "metric", "year", "mean", "ci_low", "ci_high")
_DIFFERENCE_COLUMNS = ("scenario", "reference", "group", "metric", "year", "mean", "ci_low",
                       "ci_high")
#: Findings written as sentences (the rest are in the table).
MAX_SENTENCES = 6
_MAX_PATHS = 40
#: Indicators without a detectable effect named in the text (the table has them all).
_MAX_QUIET = 5


def compare_context(directory: Path, record: dict[str, Any], t: dict[str, str],
                    lang: str) -> dict[str, Any]:
    """Return the variables of ``compare.html.j2`` for a comparison directory."""
    summary = read_table(directory / "summary.csv", _SUMMARY_COLUMNS)
    differences = read_table(directory / "differences.csv", _DIFFERENCE_COLUMNS)
    scenarios = [str(s) for s in record.get("scenarios") or pd.unique(summary["scenario"])]
    if not scenarios:
        raise ScenarioError("experiment.json names no scenarios",
                            file=directory / "experiment.json")
    reference = str(record.get("reference") or scenarios[0])
    if reference in scenarios:  # the reference comes first in every table
        scenarios = [reference, *(s for s in scenarios if s != reference)]
    texts = _scenario_texts(directory, scenarios)
    parsed = {name: parse_stored_scenario(text_, directory / "scenarios" / f"{name}.yaml")
              for name, text_ in texts.items()}
    year = int(summary["year"].max()) if len(summary) else None
    replications = int(record.get("replications") or 0)
    run = (parsed.get(reference) or {}).get("run") or {}
    period = {"start": month_words(run.get("start", "?"), lang),
              "end": month_words(run.get("end", "?"), lang)}
    variants = [_variant(name, reference, parsed, summary, differences, year, replications,
                         t, lang) for name in scenarios[1:]]
    others = ", ".join(scenarios[1:]) or reference
    title = t["title.compare"].format(scenarios=others, reference=reference)
    firms = (parsed.get(reference) or {}).get("population") or {}
    n_firms = sum(int(firms.get(k) or 0) for k in ("n_industrial", "n_services"))
    meta = page_meta(t, what=t["meta.compare"].format(
        n=len(scenarios), replications=replications, firms=fmt(n_firms) if n_firms else "—",
        **period))
    summary_paragraphs = [p for p in (unfinished(record, t),) if p]
    summary_paragraphs += [_executive_summary(v, reference, year, replications, period, t,
                                              lang) for v in variants]
    if not variants:
        summary_paragraphs.append(t["no_variant"].format(reference=reference))
    blocks = [{"title": t["resolved"].format(name=s), "text": text_}
              for s, text_ in texts.items()]
    blocks.append({"title": t["record"].format(file="experiment.json"),
                   "text": record_text(record)})
    return {
        "kind": "compare", "title": title, "meta": meta, "summary": summary_paragraphs,
        "variants": variants,
        "figures": select_figures(directory, "compare", lang, t),
        "provenance": provenance(record, t, directory, [
            (t["reference"], reference), (t["replications"], replications)]),
        "appendix_blocks": blocks,
    }


def _scenario_texts(directory: Path, names: Sequence[str]) -> dict[str, str]:
    texts = {}
    for name in names:
        path = directory / "scenarios" / f"{name}.yaml"
        if path.is_file():
            texts[name] = read_text_file(path)
    return texts


def _variant(name: str, reference: str, parsed: dict[str, dict], summary: pd.DataFrame,
             differences: pd.DataFrame, year: int | None, replications: int,
             t: dict[str, str], lang: str) -> dict[str, Any]:
    """One scenario against the reference: its policy difference, findings and table."""
    ref, var = parsed.get(reference) or {}, parsed.get(name) or {}
    policy = (describe_difference(ref, var, lang, reference_name=reference)
              if ref and var else [t["no_scenario_file"]])
    found = ([] if year is None else
             findings(differences, summary, scenario=name, reference=reference, year=year,
                      lang=lang, candidates=_candidates(differences, [ref, var], lang)))
    n = max([f.n for f in found], default=replications)
    warning = t["few_replications"].format(n=n) if n < 2 else ""
    stated = [f for f in found if f.kind in ("effect", "constant")][:MAX_SENTENCES]
    if n < 2:
        stated = []
    quiet = [f.label for f in found if f.kind in ("none", "zero")]
    no_effect = ""
    if quiet and n >= 2:
        no_effect = (t["no_effect_list"].format(year=year, labels=_join(quiet, t))
                     if len(quiet) <= _MAX_QUIET else
                     t["no_effect_many"].format(year=year, k=len(quiet),
                                                labels=t["list_sep"].join(quiet[:_MAX_QUIET])))
    if n >= 2 and not stated:
        no_effect = t["no_significant"].format(year=year, reference=reference) + (
            " " + no_effect if no_effect else "")
    mechanism = _mechanism_rows(summary, differences, name, var, year, lang)
    paths = [(c.path + (f" ({month_words(c.start, lang)})" if c.start else ""),
              show(c.old), show(c.new)) for c in changes_between(ref, var)][:_MAX_PATHS]
    return {
        "name": name, "description": var.get("description", ""), "policy": policy,
        "warning": warning, "no_effect": no_effect, "found": found,
        "findings": [{"kind": f.kind, "text": finding_sentence(f, t, lang)} for f in stated],
        "table_title": t["differences"].format(reference=reference, scenario=name, year=year),
        "header": [t["indicator"], reference, name, t["difference"], t["interval"]],
        "rows": [_row(f, lang) for f in found],
        "row_classes": [f.kind for f in found],
        "table_note": t["differences_note"].format(reference=reference, mark=SIGNIFICANT,
                                                    n=n),
        "mechanism_title": t["mechanism_title"].format(scenario=name, reference=reference,
                                                       year=year),
        "mechanism_header": [t["mechanism_header"], t["level"].format(scenario=name),
                             t["interval"]],
        "mechanism_rows": mechanism,
        "mechanism_note": t["mechanism_note"].format(scenario=name, reference=reference,
                                                     n=replications),
        "paths_title": t["what_differs"].format(reference=reference, scenario=name),
        "paths_header": [t["path"], reference, name], "paths": paths,
    }


def _candidates(differences: pd.DataFrame, scenarios: Sequence[dict[str, Any]],
                lang: str) -> tuple[tuple[str, str], ...]:
    """Return the default indicators, then the outputs of mechanisms either scenario uses."""
    keys = default_candidates(lang)
    pairs = differences[["metric", "group"]].drop_duplicates().itertuples(index=False, name=None)
    return (*keys, *mechanism_candidates(scenarios, pairs, exclude=keys))


def _mechanism_rows(summary: pd.DataFrame, differences: pd.DataFrame, name: str,
                    scenario: dict[str, Any], year: int | None,
                    lang: str) -> list[tuple[str, str, str]]:
    """Rows of the outputs of mechanisms ``name`` switches on and its reference lacks.

    They have no paired difference (the reference records nothing): the
    table gives their level in ``name`` in ``year``, mean and 95% interval.
    """
    from simulator.reporting.findings import metric_label

    if year is None or not scenario:
        return []
    own = summary[(summary["scenario"] == name) & (summary["year"] == year)]
    paired = differences[(differences["scenario"] == name) & (differences["year"] == year)]
    pairs = own[["metric", "group"]].itertuples(index=False, name=None)
    done = list(paired[["metric", "group"]].itertuples(index=False, name=None))
    levels = own.set_index(["metric", "group"])
    rows = []
    for metric, group in mechanism_candidates([scenario], pairs, exclude=done):
        row = levels.loc[(metric, group)]
        unit = metric_unit(metric)
        size, words = scale_for(abs(float(row["mean"])), unit, lang)
        label = metric_label(metric, group, lang)
        interval = ("—" if pd.isna(row["ci_low"]) else
                    f"{number(row['ci_low'] / size)} … {number(row['ci_high'] / size)}")
        rows.append((f"{label} ({words})" if words else label, number(row["mean"] / size),
                     interval))
    return rows


def _row(f: Finding, lang: str) -> tuple[object, ...]:
    """Return a finding as a table row: label (unit), both levels, difference, interval."""
    ref = f.reference_mean
    size, words = scale_for(max(abs(ref), abs(f.diff)) if pd.notna(ref) else f.diff, f.unit,
                            lang)
    pct = "" if pd.isna(f.percent) else f" ({_percent(f.percent)})"
    diff = number(f.diff / size, signed=True) + pct
    if f.kind == "effect":
        diff = Markup(f'<span class="sig">{escape(diff)} {SIGNIFICANT}</span>')
    interval = ("—" if f.kind == "no_interval" else
                f"{number(f.low / size, signed=True)} … {number(f.high / size, signed=True)}")
    level = ((number(ref / size), number((ref + f.diff) / size)) if pd.notna(ref)
             else ("—", "—"))
    shown_unit = words if words and f.unit != "firms" else ""  # "number of firms (firms)"
    return (f"{f.label} ({shown_unit})" if shown_unit else f.label, *level, diff, interval)


def _percent(value: float) -> str:
    """Return a percentage with one decimal and its sign, 0.0% without one."""
    shown = f"{value:+.1f}%"
    return "0.0%" if shown in ("+0.0%", "-0.0%") else shown


def _join(labels: Sequence[str], t: dict[str, str]) -> str:
    if len(labels) <= 1:
        return "".join(labels)
    return t["list_sep"].join(labels[:-1]) + t["list_and"] + labels[-1]


def _executive_summary(variant: dict[str, Any], reference: str, year: int | None,
                       replications: int, period: dict[str, str], t: dict[str, str],
                       lang: str) -> str:
    """One paragraph: what differs, what it does, what it does not do."""
    found: list[Finding] = variant["found"]
    parts = [t["exec.compare"].format(scenario=variant["name"], reference=reference,
                                      n=replications, **period)]
    policy = variant["policy"]
    if policy:
        first = clause(policy[0], lang)
        key = {1: "exec.policy", 2: "exec.policy_one_more"}.get(len(policy), "exec.policy_more")
        parts.append(t[key].format(policy=first, k=len(policy) - 1))
    effects = [f for f in found if f.kind == "effect"]
    if variant["warning"]:
        parts.append(variant["warning"])
    elif effects:
        top = [t["exec.effect"].format(label=f.label,
                                       signed=amount(f.diff, f.unit, lang, signed=True),
                                       pct=_percent(f.percent) if pd.notna(f.percent) else "")
               for f in effects[:3]]
        parts.append(t["exec.effects"].format(year=year, k=len(effects), m=len(found),
                                              top=t["list_sep"].join(top)))
        quiet = [f.label for f in found if f.kind in ("none", "zero")][:4]
        if quiet:
            parts.append(t["exec.quiet"].format(labels=_join(quiet, t)))
    else:
        parts.append(t["exec.nothing"].format(year=year, m=len(found), reference=reference))
    return _SEP[lang].join(parts)

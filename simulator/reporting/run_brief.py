"""The brief of a run: what was run, key indicators, quota markets, figures, appendix.

The key indicators are shown in the first and last year, the quota markets
in words.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import pandas as pd

from simulator.reporting.html import html_table, para
from simulator.reporting.sections import (
    appendix_yaml,
    ci_cell,
    facts_table,
    figures,
    header,
    key_indicator_rows,
    read_run_scenario,
    show,
)
from simulator.results import read_run

__all__ = ["run_brief"]


def run_brief(directory: Path, t: dict[str, str], lang: str) -> tuple[str, str]:
    """Return the title and body of a run directory's brief."""
    from simulator.plots import make_figures

    manifest, metrics = read_run(directory)
    scenario, scenario_text = read_run_scenario(directory, manifest) or ({}, "")
    name = str(manifest.get("scenario_name") or scenario.get("name", directory.name))
    figures_dir = directory / "figures"
    if not figures_dir.is_dir() or not any(figures_dir.glob("*.png")):
        make_figures(directory, lang=lang)

    annual = metrics[metrics["month"].isna()]
    years = sorted(int(y) for y in annual["year"].unique())
    replications = int(annual["replication"].nunique()) if len(annual) else 0
    run = scenario.get("run", {}) or {}
    title = t["title.run"].format(name=name)
    facts = [
        (t["scenario"], name),
        (t["description"], scenario.get("description", "")),
        (t["period"], f"{run.get('start', years[0] if years else '?')} – "
                      f"{run.get('end', years[-1] if years else '?')}"),
        (t["firms"], manifest.get("firms")),
        (t["seed"], manifest.get("seed")),
        (t["replications"], manifest.get("replications", replications)),
        (t["version"], manifest.get("version")),
        (t["git"], manifest.get("git_revision")),
        (t["python"], manifest.get("python")),
        (t["started"], manifest.get("started")),
        (t["wall"], manifest.get("wall_time_s")),
    ]
    body = [header(title, directory, str(manifest.get("version", "?")), t),
            f"<h2>{html.escape(t['what'])}</h2>", facts_table(facts, t),
            f"<h3>{html.escape(t['timeline'])}</h3>", _timeline(scenario, t),
            f"<h2>{html.escape(t['findings'])}</h2>"]
    if years:
        body.append(_run_findings(annual, years, replications, t, lang))
    body.append(_markets_in_words(metrics, t))
    body += [f"<h2>{html.escape(t['figures'])}</h2>", figures(directory, t, lang),
             f"<h2>{html.escape(t['appendix'])}</h2>",
             appendix_yaml(t["resolved"].format(name=name), scenario_text)]
    record = {k: v for k, v in manifest.items() if k != "scenario"}
    body.append(appendix_yaml(t["record"].format(file="manifest.json"),
                              json.dumps(record, indent=2, ensure_ascii=False)))
    body.append(para(t["record_note"], "note"))
    return title, "\n".join(body)


def _markets_in_words(metrics: pd.DataFrame, t: dict[str, str]) -> str:
    """Say what each quota market did: when its cap bound, who set its prices, compliance."""
    from simulator.reporting.diagnostics import ADMINISTRATIVE_LIMIT, market_summary

    summary = market_summary(metrics)
    if summary.empty:
        return ""
    out = [f"<h3>{html.escape(t['markets'])}</h3>"]
    for m in summary.itertuples():
        n = m.last_year - m.first_year + 1
        bound = (t["markets.bound"].format(k=len(m.binding_years), n=n,
                                           first=m.binding_years[0], last=m.binding_years[-1])
                 if m.binding_years else t["markets.never"].format(n=n))
        text = t["markets.line"].format(
            market=t.get(f"market.{m.market}", m.market), bound=bound,
            admin=f"{100 * m.administrative_share:.0f}", low=f"{m.price_min:,.0f}",
            high=f"{m.price_max:,.0f}", compliance=f"{100 * m.compliance_min:.1f}")
        warn = (not m.binding_years or m.administrative_share > ADMINISTRATIVE_LIMIT)
        out.append(para(text, "warn" if warn else None))
    return "\n".join(out)


def _timeline(scenario: dict[str, Any], t: dict[str, str]) -> str:
    changes = scenario.get("timeline") or []
    if not changes:
        return para(t["no_timeline"], "note")
    rows = []
    for change in sorted(changes, key=lambda c: str(c.get("date", ""))):
        for path, value in (change.get("set") or {}).items():
            rows.append((change.get("date", ""), path, show(value)))
    return html_table(["", t["path"], t["value"]], rows, numeric_from=99)


def _run_findings(annual: pd.DataFrame, years: list[int], replications: int,
                  t: dict[str, str], lang: str) -> str:
    from simulator.results.stats import mean_ci

    first, last = years[0], years[-1]
    rows = []
    for metric, group, label in key_indicator_rows(lang):
        sel = annual[(annual["metric"] == metric) & (annual["group"] == group)]
        if sel.empty:
            continue
        wide = sel.pivot_table(index="year", columns="replication", values="value",
                               aggfunc="first")
        cells = []
        for year in (first, last):
            row = wide.loc[[year]] if year in wide.index else None
            cells.append("—" if row is None else ci_cell(mean_ci(row).iloc[0]))
        if first in wide.index and last in wide.index:
            change = mean_ci(pd.DataFrame(wide.loc[[last]].to_numpy()
                                          - wide.loc[[first]].to_numpy())).iloc[0]
            base = float(wide.loc[first].mean())
            cells.append(ci_cell(change, signed=True))
            cells.append(f"{100 * change['mean'] / abs(base):+.1f}%" if base else "—")
        else:
            cells += ["—", "—"]
        rows.append((label, *cells))
    note = (t["ci_note"].format(n=replications) if replications > 1 else t["single_note"])
    table = html_table([t["indicator"], str(first), str(last),
                        t["change"].format(first=first, last=last), t["change_pct"]], rows)
    return f"{table}\n{para(note, 'note')}"

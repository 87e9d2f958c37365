"""The brief of a parameter sweep: the parameters varied, the outputs, their sensitivity.

Each output's range, its sensitivity to the parameters (Sobol indices or
rank correlations), and the figures.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulator.reporting.html import fmt, html_table, para
from simulator.reporting.sections import (
    appendix_yaml,
    ci_cell,
    facts_table,
    figures,
    header,
    read_table,
    record_facts,
    unfinished,
)
from simulator.results import numeric_columns, read_text_file

__all__ = ["sweep_brief"]


def sweep_brief(directory: Path, record: dict[str, Any], t: dict[str, str],
                lang: str) -> tuple[str, str]:
    """Return the title and body of a sweep's brief."""
    outputs_table = read_table(directory / "outputs.csv", ("sample",))
    parameters = [p for p in record.get("parameters") or [] if p in outputs_table.columns]
    outputs = [o for o in record.get("outputs") or [] if o in outputs_table.columns]
    if not outputs:
        outputs = [c for c in outputs_table.columns
                   if c not in ("sample", "replication", *parameters)]
    numeric_columns(outputs_table, [*parameters, *outputs], directory / "outputs.csv")
    name = str(record.get("name", directory.name))
    title = t["title.sweep"].format(name=name)
    facts = [
        (t["design"], record.get("design")),
        (t["samples"], record.get("samples", outputs_table["sample"].nunique())),
        (t["replications"], record.get("replications")),
        *record_facts(record, t),
    ]
    # One row per sample: parameters, and each output's mean over replications.
    per_sample = outputs_table.groupby("sample", sort=True)
    means = per_sample[[*parameters, *outputs]].mean()
    sobol = None
    if (directory / "sobol.csv").is_file():
        sobol = read_table(directory / "sobol.csv", ("output", "parameter", "S1", "ST"))

    param_rows = [(p, fmt(means[p].min()), fmt(means[p].max()), int(means[p].nunique()))
                  for p in parameters]
    output_rows = [(o, fmt(means[o].mean()), fmt(means[o].std(ddof=1)), fmt(means[o].min()),
                    fmt(means[o].max())) for o in outputs]
    body = [header(title, directory, str(record.get("version", "?")), t),
            unfinished(record, t),
            f"<h2>{html.escape(t['what'])}</h2>", facts_table(facts, t),
            f"<h3>{html.escape(t['parameters'])}</h3>",
            html_table([t["parameter"], t["minimum"], t["maximum"], t["distinct"]], param_rows),
            f"<h2>{html.escape(t['findings'])}</h2>",
            _sweep_sentences(means, parameters, outputs, sobol, t),
            f"<h3>{html.escape(t['outputs'])}</h3>",
            html_table([t["output"], t["mean"], t["sd"], t["minimum"], t["maximum"]],
                       output_rows),
            para(t["samples_note"], "note"),
            f"<h3>{html.escape(t['sensitivity'])}</h3>",
            _sensitivity(means, parameters, outputs, sobol, t)]
    if record.get("design") == "grid" and len(means) <= 50:
        body.append(_grid_table(outputs_table, parameters, outputs, t))
    body += [f"<h2>{html.escape(t['figures'])}</h2>", figures(directory, t, lang, outputs),
             f"<h2>{html.escape(t['appendix'])}</h2>"]
    for file, label in (("sweep.yaml", t["sweep_file"]), ("scenarios/base.yaml", t["base"])):
        path = directory / file
        if path.is_file():
            body.append(appendix_yaml(label, read_text_file(path)))
    body.append(appendix_yaml(t["record"].format(file="experiment.json"),
                              json.dumps(record, indent=2, ensure_ascii=False)))
    return title, "\n".join(body)


def _spearman(means: pd.DataFrame, parameters: list[str], outputs: list[str]) -> pd.DataFrame:
    """Rank correlation, parameters (rows) x outputs (columns); NaN where a column is constant."""
    ranks = means[[*parameters, *outputs]].rank()
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = ranks.corr()
    return corr.loc[parameters, outputs]


def _sweep_sentences(means: pd.DataFrame, parameters: list[str], outputs: list[str],
                     sobol: pd.DataFrame | None, t: dict[str, str]) -> str:
    rho = _spearman(means, parameters, outputs) if parameters else None
    items = []
    for o in outputs:
        line = t["sweep_range"].format(output=o, low=fmt(means[o].min()), high=fmt(means[o].max()),
                                       mean=fmt(means[o].mean()), n=len(means))
        rows = sobol[sobol["output"] == o] if sobol is not None else None
        if rows is not None and len(rows) and rows["ST"].notna().any():
            best = rows.loc[rows["ST"].idxmax()]
            line += t["most_st"].format(parameter=best["parameter"], st=fmt(best["ST"]))
        elif rho is not None and rho[o].notna().any():
            p = rho[o].abs().idxmax()
            line += t["most_rho"].format(parameter=p, rho=f"{rho.loc[p, o]:+.2f}")
        else:
            line += "."
        items.append(f"<li>{html.escape(line)}</li>")
    return "<ul>" + "".join(items) + "</ul>"


def _sensitivity(means: pd.DataFrame, parameters: list[str], outputs: list[str],
                 sobol: pd.DataFrame | None, t: dict[str, str]) -> str:
    if sobol is not None and len(sobol):
        def pm(value: object, conf: object) -> str:
            return fmt(value) if pd.isna(conf) else f"{fmt(value)} ± {fmt(conf)}"

        rows = [(r["output"], r["parameter"], pm(r["S1"], r.get("S1_conf")),
                 pm(r["ST"], r.get("ST_conf"))) for _, r in sobol.iterrows()]
        return (html_table([t["output"], t["parameter"], "S1", "ST"], rows, numeric_from=2)
                + para(t["sobol_note"], "note"))
    if not parameters:
        return ""
    rho = _spearman(means, parameters, outputs)
    rows = [(p, *(f"{v:+.2f}" if pd.notna(v) else "—" for v in rho.loc[p])) for p in parameters]
    return html_table([t["parameter"], *outputs], rows) + para(t["spearman_note"], "note")


def _grid_table(table: pd.DataFrame, parameters: list[str], outputs: list[str],
                t: dict[str, str]) -> str:
    from simulator.results.stats import mean_ci

    rows = []
    for sample, part in table.groupby("sample", sort=True):
        cells = [fmt(part[p].iloc[0]) for p in parameters]
        for o in outputs:
            stats = mean_ci(part[[o]].T.reset_index(drop=True)).iloc[0]
            cells.append(ci_cell(stats))
        rows.append((sample, *cells))
    return (f"<h3>{html.escape(t['grid'])}</h3>"
            + html_table([t["sample"], *parameters, *outputs], rows))

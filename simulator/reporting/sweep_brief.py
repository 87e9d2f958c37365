"""The brief of a parameter sweep: which parameters matter, for which outputs.

It leads with the parameters that matter: for a Sobol' design, by their
total index ST with its 95% bootstrap interval (``sobol.csv``); for a grid,
by the share of the output's variance their main effect explains (η², no
interval); for a Latin hypercube, by the Spearman rank correlation with its
95% (Fisher z) interval. Outputs that barely vary across the design
(relative range under :data:`FLAT_RANGE`) are named and left out: a strong
sensitivity of a quantity that does not move is not a finding.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from simulator.reporting.describe import field_words
from simulator.reporting.findings import amount, metric_label
from simulator.reporting.html import fmt
from simulator.reporting.sections import (
    ci_cell,
    page_meta,
    provenance,
    read_table,
    record_text,
    replications_words,
    select_figures,
    unfinished,
)
from simulator.results import numeric_columns, read_text_file

#: Between the sentences of a paragraph.
_SEP = {"en": " ", "zh": ""}
__all__ = ["FLAT_RANGE", "MATTERS", "eta_squared", "relative_range", "spearman_interval",
           "sweep_context"]

#: An output whose (max - min) / |mean| across the design is below this barely varies
#: (est: a convention of this project; 1% is below what a brief's rounded figures show).
FLAT_RANGE = 0.01
#: A parameter matters for an output when its index (its interval's lower end, where it has
#: one) reaches this share of the output's variance.
MATTERS = 0.05
_MAX_GRID_ROWS = 60
#: Fewer design points than this: rank correlations are rough (said in the brief).
_FEW_POINTS = 10
_AUTO_NAME = re.compile(r"^(\w+)(?:\[(.+)\])?@(\d+)$")


def relative_range(values: pd.Series) -> float:
    """Return (max - min) / |mean| (inf when the mean is 0 and the values differ; 0 if equal)."""
    low, high, mean = float(values.min()), float(values.max()), float(values.mean())
    if high == low:
        return 0.0
    return (high - low) / abs(mean) if mean else math.inf


def eta_squared(x: pd.Series, y: pd.Series) -> float:
    """Return the share of ``y``'s variance explained by the mean of ``y`` at each value of ``x``.

    The main-effect share of a full-factorial grid (a first-order index
    without an interval).

    Examples
    --------
    >>> eta_squared(pd.Series([0, 0, 1, 1]), pd.Series([1.0, 1.0, 3.0, 3.0]))
    1.0
    """
    total = float(((y - y.mean()) ** 2).sum())
    if total == 0:
        return math.nan
    means = y.groupby(x).transform("mean")
    return float(((means - y.mean()) ** 2).sum()) / total


def spearman_interval(rho: float, n: int) -> tuple[float, float]:
    """Return the 95% interval of a rank correlation over ``n`` points (NaN if n < 4).

    Fisher's z with the variance 1.06 / (n - 3) of a rank correlation
    (Fieller, Hartley and Pearson 1957); a correlation of ±1 is taken as
    ±0.99, so that a perfect order among a few points keeps a width.

    Examples
    --------
    >>> low, high = spearman_interval(0.5, 103)
    >>> round(low, 3), round(high, 3)
    (0.334, 0.636)
    """
    if n < 4 or not math.isfinite(rho):
        return math.nan, math.nan
    z, half = math.atanh(max(min(rho, 0.99), -0.99)), 1.959964 * math.sqrt(1.06 / (n - 3))
    return math.tanh(z - half), min(1.0, math.tanh(z + half)) if rho < 1 else 1.0


def sweep_context(directory: Path, record: dict[str, Any], t: dict[str, str],
                  lang: str) -> dict[str, Any]:
    """Return the variables of ``sweep.html.j2`` for a sweep directory."""
    table = read_table(directory / "outputs.csv", ("sample",))
    parameters = [p for p in record.get("parameters") or [] if p in table.columns]
    outputs = [o for o in record.get("outputs") or [] if o in table.columns]
    if not outputs:
        outputs = [c for c in table.columns if c not in ("sample", "replication", *parameters)]
    numeric_columns(table, [*parameters, *outputs], directory / "outputs.csv")
    name = str(record.get("name", directory.name))
    design = str(record.get("design", "?"))
    means = table.groupby("sample", sort=True)[[*parameters, *outputs]].mean()
    labels = _output_labels(directory, outputs, lang, t)
    plabel = {p: field_words(p, lang) for p in parameters}
    ranges = {o: relative_range(means[o]) for o in outputs}
    varying = [o for o in outputs if ranges[o] >= FLAT_RANGE and means[o].notna().all()]
    flat = [o for o in outputs if o not in varying]
    sobol = None
    if (directory / "sobol.csv").is_file():
        sobol = read_table(directory / "sobol.csv", ("output", "parameter", "S1", "ST"))
    scores, method = _scores(means, parameters, varying, sobol, design)
    findings_, matter = _findings(scores, varying, parameters, labels, plabel, method, t)
    summary = t["exec.sweep"].format(name=name, p=len(parameters), n=len(means),
                                     design=t.get(f"design.{design}", design))
    if matter:
        summary += _SEP[lang] + t["exec.sweep_matter"].format(
            k=len(matter), p=len(parameters),
            params=t["list_sep"].join(plabel[p][0] for p in matter))
    elif varying:
        summary += _SEP[lang] + t["exec.sweep_none"].format(threshold=fmt(MATTERS))
    if flat:
        summary += _SEP[lang] + t["flat_outputs"].format(
            outputs=t["list_sep"].join(labels[o][0] for o in flat), pct=fmt(100 * FLAT_RANGE))
    warning = unfinished(record, t)
    if method == "spearman" and len(means) < _FEW_POINTS:
        warning = " ".join(w for w in (warning, t["few_points"].format(n=len(means))) if w)
    extra = []
    if sobol is not None:
        from simulator.plots.sweep import figure_stems

        stems = figure_stems(outputs)
        extra = [(stems[o], t["fig.sobol"].format(output=labels[o][0])) for o in varying]
    return {
        "kind": "sweep", "title": t["title.sweep"].format(name=name),
        "meta": page_meta(t, what=t["meta.sweep"].format(
            design=t.get(f"design.{design}", design), n=len(means),
            reps=replications_words(record.get("replications", "—"), t))),
        "summary": [summary], "warning": warning, "findings": findings_,
        "flat": "", "method_note": t[f"method.{method}"],
        "sens_header": [t["parameter"], *(labels[o][0] for o in varying)],
        "sens_rows": [(plabel[p][0], *(scores.get((o, p), ("—",))[0] for o in varying))
                      for p in _order(scores, parameters, varying)],
        "param_header": [t["parameter"], t["unit"], t["minimum"], t["maximum"], t["distinct"]],
        "param_rows": [(plabel[p][0], plabel[p][1], fmt(means[p].min()), fmt(means[p].max()),
                        int(means[p].nunique())) for p in parameters],
        "output_header": [t["output"], t["minimum"], t["maximum"], t["mean"],
                          t["relative_range"]],
        "output_rows": [(labels[o][0], amount(means[o].min(), labels[o][1], lang),
                         amount(means[o].max(), labels[o][1], lang),
                         amount(means[o].mean(), labels[o][1], lang),
                         f"{100 * ranges[o]:.1f}%" + ("" if o in varying else t["barely"]))
                        for o in outputs],
        "grid_header": [t["sample"], *parameters, *outputs],
        "grid_rows": _grid_rows(table, parameters, outputs) if design == "grid" else [],
        "figures": select_figures(directory, "sweep", lang, t, extra=extra),
        "provenance": provenance(record, t, directory, [
            (t["design"], design), (t["samples"], record.get("samples", len(means))),
            (t["replications"], record.get("replications"))]),
        "appendix_blocks": _appendix(directory, record, t),
    }


def _output_labels(directory: Path, outputs: list[str], lang: str,
                   t: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Each output's words and unit: from the sweep file's metric, group and year, or its name.

    An output without a ``name:`` is called ``<metric>[<group>]@<year>``
    (:attr:`simulator.sweep.SweepProblem.outputs`); that is read back too.
    """
    specs: dict[str, dict] = {}
    path = directory / "sweep.yaml"
    if path.is_file():
        try:
            data = yaml.safe_load(read_text_file(path)) or {}
        except yaml.YAMLError:
            data = {}
        for spec in data.get("outputs") or [] if isinstance(data, dict) else []:
            if isinstance(spec, dict) and "name" in spec:
                specs[str(spec["name"])] = spec
    from simulator import catalogue

    out = {}
    for o in outputs:
        spec = specs.get(o)
        auto = _AUTO_NAME.match(o)
        if spec is not None:
            metric, group, year = spec.get("metric"), spec.get("group", "all"), spec.get("year")
        elif auto is not None:
            metric, group, year = auto.group(1), auto.group(2) or "all", auto.group(3)
        else:
            metric = group = year = None
        try:
            words = metric_label(str(metric), str(group), lang)
            unit = catalogue.entry(str(metric)).unit
        except (KeyError, catalogue.CatalogueError):
            out[o] = (o, "")
            continue
        if year is not None and str(year).isdigit():
            words = t["output_in_year"].format(output=words, year=year)
        out[o] = (words, unit)
    return out


def _scores(means: pd.DataFrame, parameters: list[str], outputs: list[str],
            sobol: pd.DataFrame | None, design: str) -> tuple[dict, str]:
    """(output, parameter) -> (cell text, index, lower end of its interval); and the method."""
    scores: dict[tuple[str, str], tuple[str, float, float]] = {}
    if sobol is not None and len(sobol):
        for r in sobol.itertuples():
            if r.output in outputs and pd.notna(r.ST):
                conf = getattr(r, "ST_conf", math.nan)
                conf = float(conf) if pd.notna(conf) else math.nan
                low = r.ST - conf if math.isfinite(conf) else r.ST
                cell = (f"{r.ST:.2f} [{max(low, 0):.2f}, {r.ST + conf:.2f}]"
                        if math.isfinite(conf) else f"{r.ST:.2f}")
                scores[(r.output, r.parameter)] = (cell, float(r.ST), float(low))
        return scores, "sobol"
    if design == "grid":
        for o in outputs:
            for p in parameters:
                eta = eta_squared(means[p], means[o])
                if math.isfinite(eta):
                    scores[(o, p)] = (f"{eta:.2f}", eta, eta)
        return scores, "eta"
    n = len(means)
    for o in outputs:
        ranks = means[[*parameters, o]].rank()
        for p in parameters:
            with np.errstate(invalid="ignore", divide="ignore"):
                rho = float(ranks[p].corr(ranks[o]))
            if math.isfinite(rho):
                lo, hi = spearman_interval(rho, n)
                weakest = min(abs(lo), abs(hi)) if lo * hi > 0 else 0.0
                cell = f"{rho:+.2f}" + (f" [{lo:+.2f}, {hi:+.2f}]" if math.isfinite(lo) else "")
                scores[(o, p)] = (cell, abs(rho), weakest)
    return scores, "spearman"


def _order(scores: dict, parameters: list[str], outputs: list[str]) -> list[str]:
    """Parameters by their largest index over the outputs, largest first."""
    best = {p: max((scores[(o, p)][1] for o in outputs if (o, p) in scores), default=-1.0)
            for p in parameters}
    return sorted(parameters, key=lambda p: -best[p])


def _findings(scores: dict, outputs: list[str], parameters: list[str], labels: dict,
              plabel: dict, method: str, t: dict[str, str]) -> tuple[list[dict], list[str]]:
    """One sentence per varying output naming what drives it; the parameters that matter."""
    items, matter = [], []
    for o in outputs:
        ranked = sorted((p for p in parameters if (o, p) in scores),
                        key=lambda p: -scores[(o, p)][1])
        drivers = [p for p in ranked if scores[(o, p)][2] >= MATTERS]
        if not drivers:
            items.append({"kind": "none", "strength": 0.0, "text": t[f"sweep.none.{method}"]
                          .format(output=labels[o][0], threshold=fmt(MATTERS))})
            continue
        matter += [p for p in drivers if p not in matter]
        named = [t[f"sweep.driver.{method}"].format(parameter=plabel[p][0],
                                                     value=scores[(o, p)][0])
                 for p in drivers[:3]]
        items.append({"kind": "effect", "strength": scores[(o, drivers[0])][1],
                      "text": t["sweep.drivers"].format(output=_capital(labels[o][0]),
                                                        drivers=t["list_sep"].join(named))})
    strength = {p: max(scores[(o, p)][1] for o in outputs if (o, p) in scores) for p in matter}
    items.sort(key=lambda item: (item["kind"] != "effect", -item["strength"]))
    return items, sorted(matter, key=lambda p: -strength[p])


def _capital(words: str) -> str:
    return words[:1].upper() + words[1:]


def _grid_rows(table: pd.DataFrame, parameters: list[str], outputs: list[str]) -> list[tuple]:
    from simulator.results.stats import mean_ci

    rows = []
    for sample, part in table.groupby("sample", sort=True):
        cells = [fmt(part[p].iloc[0]) for p in parameters]
        for o in outputs:
            cells.append(ci_cell(mean_ci(part[[o]].T.reset_index(drop=True)).iloc[0]))
        rows.append((sample, *cells))
    return rows[:_MAX_GRID_ROWS]


def _appendix(directory: Path, record: dict[str, Any], t: dict[str, str]) -> list[dict]:
    blocks = []
    for file, label in (("sweep.yaml", t["sweep_file"]), ("scenarios/base.yaml", t["base"])):
        path = directory / file
        if path.is_file():
            blocks.append({"title": label, "text": read_text_file(path)})
    blocks.append({"title": t["record"].format(file="experiment.json"),
                   "text": record_text(record)})
    return blocks

"""Summaries of results: the key indicators, a run's summary table, a comparison's outcomes.

:data:`SUMMARY_ROWS` holds the catalogue's key indicators (metric, group,
English label; :func:`simulator.catalogue.key_indicators`) that the run
summary (:func:`summary_table`), a comparison's table (:func:`key_outcomes`)
and its figures (:mod:`simulator.plots.compare`) show. The functions are
pure: tables in, tables out. Both the experiments and the figures import this
module (neither imports the other for it).
"""

from __future__ import annotations

import pandas as pd

from simulator import catalogue
from simulator.results.stats import summarise

__all__ = ["SUMMARY_ROWS", "key_outcomes", "summary_table"]

#: Indicators shown in the run summary: metric, group, label (the catalogue's key indicators).
SUMMARY_ROWS: tuple[tuple[str, str, str], ...] = catalogue.key_indicators("en")


def summary_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """Key indicators in the first and last year of a run, mean over replications.

    Returns
    -------
    pandas.DataFrame
        Index: indicator labels; for the first and the last year a column
        ``"<year>"`` (the mean) and, with several replications, ``"<year> ci_low"``
        and ``"<year> ci_high"`` (its t-based 95% interval).
    """
    summary = summarise(metrics)
    first, last = int(summary["year"].min()), int(summary["year"].max())
    several = metrics["replication"].nunique() > 1
    keyed = summary.set_index(["metric", "group", "year"])
    rows = {}
    for metric, group, label in SUMMARY_ROWS:
        row = {}
        for year in (first, last):
            hit = keyed.loc[(metric, group, year)] if (metric, group, year) in keyed.index \
                else None
            row[str(year)] = float("nan") if hit is None else hit["mean"]
            if several:
                row[f"{year} ci_low"] = float("nan") if hit is None else hit["ci_low"]
                row[f"{year} ci_high"] = float("nan") if hit is None else hit["ci_high"]
        rows[label] = row
    return pd.DataFrame.from_dict(rows, orient="index")

def key_outcomes(summary: pd.DataFrame, differences: pd.DataFrame) -> pd.DataFrame:
    """Return the key indicators in the last year: each scenario's mean and paired difference.

    Returns
    -------
    pandas.DataFrame
        Tidy: ``indicator, metric, group, year, scenario, n, mean, ci_low,
        ci_high, diff, diff_ci_low, diff_ci_high`` (the differences are NaN
        for the reference scenario).
    """
    year = int(summary["year"].max())
    rows = []
    keyed = summary[summary["year"] == year].set_index(["metric", "group", "scenario"])
    diffs = (differences[differences["year"] == year].set_index(["metric", "group", "scenario"])
             if len(differences) else None)
    scenarios = list(pd.unique(summary["scenario"]))
    for metric, group, label in SUMMARY_ROWS:
        for name in scenarios:
            if (metric, group, name) not in keyed.index:
                continue
            s = keyed.loc[(metric, group, name)]
            row = {"indicator": label, "metric": metric, "group": group, "year": year,
                   "scenario": name, "n": int(s["n"]), "mean": s["mean"],
                   "ci_low": s["ci_low"], "ci_high": s["ci_high"],
                   "diff": float("nan"), "diff_ci_low": float("nan"),
                   "diff_ci_high": float("nan")}
            if diffs is not None and (metric, group, name) in diffs.index:
                d = diffs.loc[(metric, group, name)]
                row.update(diff=d["mean"], diff_ci_low=d["ci_low"], diff_ci_high=d["ci_high"])
            rows.append(row)
    return pd.DataFrame(rows)


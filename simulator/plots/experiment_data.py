"""Experiment directories for the figures: reading them, and the data the comparison draws.

A comparison's experiment directory holds ``experiment.json`` (kind, name,
scenarios in order with the reference first, replications, seed, version,
git revision), ``summary.csv`` (each scenario's mean over replications with
its t-based 95% CI, by group, metric and year) and ``differences.csv`` (each
scenario minus the reference, replication by replication on the same seeds,
with the t-based 95% CI of that paired difference).

:func:`read_experiment`, :func:`read_experiment_table`, :func:`check_unique`
and :func:`experiment_source_line` read any experiment directory (the sweep
figures use them too); :func:`key_indicators`, :func:`percent_differences`
and :func:`difference_paths`, :func:`identical_indicators` and
:func:`class_effects` prepare what the comparison figures
(:mod:`simulator.plots.compare`) draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulator.plots._labels import labels_for
from simulator.plots.data import CLASSES, read_record, replications_words
from simulator.results.summary import SUMMARY_ROWS

__all__ = [
    "BY_CLASS_METRICS",
    "DIFFERENCE_COLUMNS",
    "SUMMARY_COLUMNS",
    "Indicator",
    "check_unique",
    "class_effects",
    "difference_paths",
    "experiment_source_line",
    "has_ci",
    "identical_indicators",
    "key_indicators",
    "percent_differences",
    "read_experiment",
    "read_experiment_table",
    "replication_count",
    "scenario_order",
    "significant",
]

#: Columns of ``summary.csv``.
SUMMARY_COLUMNS: tuple[str, ...] = (
    "scenario", "group", "metric", "year", "n", "mean", "sd", "ci_low", "ci_high")
#: Columns of ``differences.csv``.
DIFFERENCE_COLUMNS: tuple[str, ...] = ("scenario", "reference", *SUMMARY_COLUMNS[1:])

Indicator = tuple[str, str, str]  # metric, group, label (as results.summary.SUMMARY_ROWS)


# ---------------------------------------------------------------- reading


def read_experiment(exp_dir: str | Path) -> dict[str, Any]:
    """Return an experiment directory's ``experiment.json`` as a dict.

    Raises
    ------
    FileNotFoundError
        If ``experiment.json`` is missing.
    """
    return read_record(Path(exp_dir) / "experiment.json", "experiment record")


def read_experiment_table(exp_dir: str | Path, name: str,
                          columns: Sequence[str]) -> pd.DataFrame:
    """Return the CSV table ``<exp_dir>/<name>``, checking that it has ``columns``.

    Raises
    ------
    FileNotFoundError
        If the file is missing.
    ValueError
        If a required column is missing.
    """
    path = Path(exp_dir) / name
    if not path.is_file():
        raise FileNotFoundError(f"No {name}: {path} does not exist.")
    table = pd.read_csv(path)
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{path} lacks column(s) {missing}; it has {list(table.columns)}.")
    for column in ("scenario", "reference", "group", "metric"):
        if column in table.columns:
            table[column] = table[column].astype(str)
    return table


def check_unique(table: pd.DataFrame, keys: Sequence[str], name: str) -> None:
    """Raise ValueError naming the first row of ``table`` whose ``keys`` repeat."""
    repeated = table[table.duplicated(list(keys), keep=False)]
    if len(repeated):
        first = repeated.iloc[0][list(keys)].to_dict()
        raise ValueError(f"{name} has several rows for {first}; expected one.")


def experiment_source_line(experiment: dict[str, Any], *, lang: str = "en") -> str:
    """Return the provenance line printed under every experiment figure.

    Example: ``"Mujun 0.2.0 · experiment strict_d · revision 1a2b3c4d5e6f · seed 42
    · 20 replications"`` (the git revision shortened to 12 characters).
    """
    labels = labels_for(lang)
    revision = experiment.get("git_revision")
    return labels["experiment_source"].format(
        version=experiment.get("version", "?"), name=experiment.get("name", "?"),
        revision=str(revision)[:12] if revision else labels["revision.unknown"],
        seed=experiment.get("seed", "?"),
        replications=replications_words(experiment.get("replications"), labels))


# ---------------------------------------------------------------- preparing the data


def scenario_order(experiment: dict[str, Any], table: pd.DataFrame) -> list[str]:
    """Return the scenarios of ``experiment.json`` in order, then any others in ``table``."""
    listed = [str(s) for s in experiment.get("scenarios", [])]
    return [*listed, *(s for s in pd.unique(table["scenario"]) if s not in listed)]


def key_indicators(summary: pd.DataFrame,
                   rows: Sequence[Indicator] | None = None) -> list[Indicator]:
    """Return the key indicators that have at least one mean in ``summary``, in order.

    ``rows`` defaults to ``simulator.results.summary.SUMMARY_ROWS`` (metric, group, label).
    """
    if rows is None:
        rows = SUMMARY_ROWS
    present = set(map(tuple, summary.loc[summary["mean"].notna(), ["metric", "group"]]
                      .drop_duplicates().to_numpy()))
    return [row for row in rows if (row[0], row[1]) in present]


def percent_differences(summary: pd.DataFrame, differences: pd.DataFrame, *, reference: str,
                        year: int, indicators: Sequence[Indicator]) -> pd.DataFrame:
    """Return each scenario's paired difference to the reference in ``year``, in %.

    The difference, its CI bounds and the reference's mean come from the CSV
    tables; the percentages divide them by the absolute reference mean, so
    that a positive value is an increase. The reference's mean is taken as
    known: the CI is that of the difference, rescaled.

    Parameters
    ----------
    summary, differences : pandas.DataFrame
        ``summary.csv`` and ``differences.csv`` of a comparison.
    reference : str
        The reference scenario.
    year : int
        Year compared, usually the last.
    indicators : sequence of (metric, group, label)
        Indicators in the order wanted.

    Returns
    -------
    pandas.DataFrame
        One row per indicator and scenario with a difference, in the order of
        ``indicators`` then of ``differences``: metric, group, label,
        scenario, n, reference_mean, difference, ci_low, ci_high (same units
        as the metric), pct, pct_low, pct_high (% of the reference's mean;
        NaN when that mean is 0 or missing, CI bounds NaN for n < 2).

    Raises
    ------
    ValueError
        If ``differences`` has rows against another reference.
    """
    _check_reference(differences, reference)
    ref = (summary[(summary["scenario"] == reference) & (summary["year"] == year)]
           .set_index(["metric", "group"])["mean"])
    diffs = differences[(differences["year"] == year) & (differences["scenario"] != reference)]
    records = []
    for metric, group, label in indicators:
        rows = diffs[(diffs["metric"] == metric) & (diffs["group"] == group)]
        ref_mean = float(ref.get((metric, group), np.nan))
        scale = 100.0 / abs(ref_mean) if np.isfinite(ref_mean) and ref_mean != 0 else np.nan
        for row in rows.itertuples(index=False):
            records.append({
                "metric": metric, "group": group, "label": label, "scenario": row.scenario,
                "n": int(row.n), "reference_mean": ref_mean, "difference": row.mean,
                "ci_low": row.ci_low, "ci_high": row.ci_high, "pct": row.mean * scale,
                "pct_low": row.ci_low * scale, "pct_high": row.ci_high * scale,
            })
    columns = ["metric", "group", "label", "scenario", "n", "reference_mean", "difference",
               "ci_low", "ci_high", "pct", "pct_low", "pct_high"]
    return pd.DataFrame.from_records(records, columns=columns)


def difference_paths(differences: pd.DataFrame, *, reference: str,
                     indicators: Sequence[Indicator]) -> pd.DataFrame:
    """Return each scenario's paired difference to the reference, year by year, per indicator.

    The difference of replication k is value(scenario, k) - value(reference,
    k) on the same seeds; ``differences.csv`` holds their mean and its
    t-based 95% interval (:func:`simulator.results.stats.paired_differences`).

    Parameters
    ----------
    differences : pandas.DataFrame
        ``differences.csv`` of a comparison.
    reference : str
        The reference scenario (the first of ``experiment.json``).
    indicators : sequence of (metric, group, label)
        Indicators in the order wanted.

    Returns
    -------
    pandas.DataFrame
        Columns metric, group, label, scenario, year, n, difference,
        ci_low, ci_high (the metric's unit) and significant: True where the
        interval excludes zero, False where it includes zero or there is
        none (n < 2). Rows in the order of ``indicators``, then scenario
        (as in ``differences``), then year.

    Raises
    ------
    ValueError
        If ``differences`` has rows against another reference.
    """
    _check_reference(differences, reference)
    records = []
    rows = differences[differences["scenario"] != reference]
    for metric, group, label in indicators:
        sub = rows[(rows["metric"] == metric) & (rows["group"] == group)]
        for scenario in pd.unique(sub["scenario"]):
            for row in sub[sub["scenario"] == scenario].sort_values("year").itertuples():
                records.append({"metric": metric, "group": group, "label": label,
                                "scenario": scenario, "year": int(row.year), "n": int(row.n),
                                "difference": float(row.mean), "ci_low": float(row.ci_low),
                                "ci_high": float(row.ci_high)})
    columns = ["metric", "group", "label", "scenario", "year", "n", "difference", "ci_low",
               "ci_high"]
    table = pd.DataFrame.from_records(records, columns=columns)
    table["significant"] = significant(table)
    return table


def significant(table: pd.DataFrame) -> pd.Series:
    """Return, row by row, whether the 95% interval (ci_low, ci_high) excludes zero.

    A row without an interval (NaN bounds, one replication) is not significant.
    """
    low = table["ci_low"].astype(float)
    high = table["ci_high"].astype(float)
    return ((low > 0) | (high < 0)).astype(bool)


def identical_indicators(differences: pd.DataFrame, *, reference: str,
                         indicators: Sequence[Indicator]) -> list[Indicator]:
    """Return the indicators on which every scenario equals the reference in every replication.

    Such an indicator is identical by construction (the firm counts by class,
    fixed by grading on quantiles), so a figure of its difference is empty.
    """
    rows = differences[differences["scenario"] != reference]
    out = []
    for metric, group, label in indicators:
        sub = rows[(rows["metric"] == metric) & (rows["group"] == group)]
        values = sub[["mean", "ci_low", "ci_high"]].to_numpy(dtype=float)
        if len(sub) and np.all(values[np.isfinite(values)] == 0) and np.isfinite(
                sub["mean"].to_numpy(dtype=float)).all():
            out.append((metric, group, label))
    return out


#: Metrics of the by-class comparison: what the class's firms pay (the differential
#: prices' incidence) and what they yield per mu.
BY_CLASS_METRICS: tuple[str, ...] = ("resource_bill_yuan_per_wan_yuan_va", "va_per_mu_wan_yuan",
                                     "tax_per_mu_wan_yuan")


def class_effects(differences: pd.DataFrame, *, reference: str, year: int,
                  metrics: Sequence[str] = BY_CLASS_METRICS) -> pd.DataFrame:
    """Return each scenario's paired difference to the reference by class A-D in ``year``.

    The class shares themselves cannot differ (grading by quantiles fixes
    them), but who is charged what, and what the firms of a class yield, can.

    Returns
    -------
    pandas.DataFrame
        Columns metric, klass, scenario, n, difference, ci_low, ci_high,
        significant; metrics in the order given (those without rows left
        out), classes A-D.
    """
    _check_reference(differences, reference)
    rows = differences[(differences["year"] == year) & (differences["scenario"] != reference)]
    records = []
    for metric in metrics:
        for c in CLASSES:
            sub = rows[(rows["metric"] == metric) & (rows["group"] == f"class={c}")]
            for row in sub.itertuples():
                records.append({"metric": metric, "klass": c, "scenario": row.scenario,
                                "n": int(row.n), "difference": float(row.mean),
                                "ci_low": float(row.ci_low), "ci_high": float(row.ci_high)})
    table = pd.DataFrame.from_records(records, columns=["metric", "klass", "scenario", "n",
                                                        "difference", "ci_low", "ci_high"])
    table["significant"] = significant(table)
    return table


def _check_reference(differences: pd.DataFrame, reference: str) -> None:
    others = sorted(set(differences["reference"]) - {reference})
    if others:
        raise ValueError(f"differences.csv has differences to {others}; expected to "
                         f"{reference!r}, the first scenario of experiment.json.")


def replication_count(table: pd.DataFrame) -> str:
    """Return the number of replications behind ``table``'s rows: ``"20"`` or ``"10–20"``."""
    counts = table["n"].dropna().astype(int)
    if counts.empty:
        return "?"
    low, high = counts.min(), counts.max()
    return str(low) if low == high else f"{low}–{high}"


def has_ci(table: pd.DataFrame) -> bool:
    """Return whether any row of ``table`` rests on two or more replications (so has a CI)."""
    return bool((table["n"] >= 2).any())


"""Results a figure is drawn from: reading a run directory and summarising its metrics.

Pure pandas, no drawing: the tidy metrics table in, small tables out.
Values are averaged over replications, with the t-based 95% confidence
interval of that mean.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulator.plots._labels import labels_for
from simulator.results import METRICS_COLUMNS, read_metrics_table
from simulator.results.stats import mean_ci

__all__ = [
    "CLASSES",
    "MARKETS",
    "auction_summary",
    "is_annual",
    "market_names",
    "read_manifest",
    "read_metrics",
    "replication_summary",
    "replications_words",
    "source_line",
    "transition_matrix",
    "on_years",
    "summary_years",
    "yearly_summary",
]

CLASSES: tuple[str, ...] = ("A", "B", "C", "D")
#: Row/column order of the transition matrix; "U" = unrated (outside the evaluation).
TRANSITION_CLASSES: tuple[str, ...] = (*CLASSES, "U")
TRANSITION_METRIC = "class_transition_firms"
#: Quota markets in panel order: energy-use rights (用能权, tce), then emission
#: rights (排污权, t) by pollutant. Their metric rows have group "market=<name>".
MARKETS: tuple[str, ...] = ("energy", "cod", "nh3n", "so2", "nox")
MARKET_GROUP_PREFIX = "market="
REQUIRED_COLUMNS: tuple[str, ...] = METRICS_COLUMNS


# ---------------------------------------------------------------- reading results


def read_metrics(run_dir: str | Path) -> pd.DataFrame:
    """Return the run's tidy metrics table (``metrics.parquet``).

    Parameters
    ----------
    run_dir : str or Path
        Run directory written by the engine.

    Returns
    -------
    pandas.DataFrame
        Columns year, month (NA = annual value), scenario, replication, group,
        metric, value.

    Raises
    ------
    FileNotFoundError
        If ``metrics.parquet`` is missing.
    ValueError
        A ScenarioError naming the file: unreadable, damaged pages, a required
        column missing or holding text.
    """
    path = Path(run_dir) / "metrics.parquet"
    if not path.is_file():
        raise FileNotFoundError(f"No metrics table: {path} does not exist.")
    return read_metrics_table(path)


def read_manifest(run_dir: str | Path) -> dict[str, Any]:
    """Return the run's manifest (``manifest.json``) as a dict.

    Raises
    ------
    FileNotFoundError
        If ``manifest.json`` is missing.
    """
    return read_record(Path(run_dir) / "manifest.json", "run manifest")


def read_record(path: Path, what: str) -> dict[str, Any]:
    """Return a JSON record (a run's manifest, an experiment's ``experiment.json``).

    Raises
    ------
    FileNotFoundError
        If ``path`` is missing; the message names ``what`` it should hold.
    """
    if not path.is_file():
        raise FileNotFoundError(f"No {what}: {path} does not exist.")
    return json.loads(path.read_text(encoding="utf-8"))


def source_line(manifest: dict[str, Any], *, lang: str = "en") -> str:
    """Return the provenance line printed under every figure.

    Example: ``"Mujun 0.1.0 · scenario baseline · seed 42 · 2 replications"``.
    """
    scenario = manifest.get("scenario") or {}
    labels = labels_for(lang)
    return labels["source"].format(
        version=manifest.get("version", "?"),
        scenario=scenario.get("name", "?") if isinstance(scenario, dict) else scenario,
        seed=manifest.get("seed", "?"),
        replications=replications_words(manifest.get("replications"), labels),
    )


def replications_words(n: object, labels: Mapping[str, str]) -> str:
    """Return "1 replication", "5 replications" (重复运行 5 次); "?" replications if unknown.

    >>> replications_words(1, {"replications.one": "1 replication",
    ...                        "replications.many": "{n} replications"})
    '1 replication'
    """
    return labels["replications.one"] if n == 1 else labels["replications.many"].format(
        n="?" if n is None else n)


# ---------------------------------------------------------------- aggregation


def replication_summary(
    metrics: pd.DataFrame,
    metric: str,
    *,
    groups: Sequence[str],
    fill_value: float | None = None,
) -> pd.DataFrame:
    """Return the mean across replications and its t-based 95% CI, per group and year.

    Parameters
    ----------
    metrics : pandas.DataFrame
        Tidy metrics table for one scenario (see :func:`read_metrics`).
    metric : str
        Annual metric to summarise (rows with ``month`` NA).
    groups : sequence of str
        Groups to keep, e.g. ``["class=A", "all"]``.
    fill_value : float, optional
        Value for a (group, year, replication) with no row; use 0 for counts.
        By default missing values are left out of the mean.

    Returns
    -------
    pandas.DataFrame
        Columns group, year, mean, ci_low, ci_high, n (replications used).
        ``ci_low``/``ci_high`` are NaN when ``n < 2``.
    """
    _check_one_scenario(metrics)
    rows = metrics[is_annual(metrics) & (metrics["metric"] == metric)
                   & metrics["group"].isin(list(groups))]
    replications = np.sort(metrics["replication"].unique())
    if rows.duplicated(["group", "year", "replication"]).any():
        raise ValueError(f"metrics has several annual {metric!r} rows for one group, year "
                         "and replication; expected one.")
    wide = rows.pivot(index=["group", "year"], columns="replication", values="value")
    wide = wide.reindex(columns=replications)
    if fill_value is not None:
        years = np.sort(rows["year"].unique())
        full = pd.MultiIndex.from_product([list(groups), years], names=["group", "year"])
        wide = wide.reindex(full).fillna(fill_value)
    return _mean_ci(wide).reset_index()


def yearly_summary(metrics: pd.DataFrame, metric: str, group: str) -> pd.DataFrame:
    """Return one group's yearly mean and 95% CI over replications, years in order.

    A (year, replication) without a row counts as 0 (counts and flows of a
    mechanism record nothing in a year it did nothing).
    """
    summary = replication_summary(metrics, metric, groups=[group], fill_value=0.0)
    return summary.sort_values("year", ignore_index=True)


def summary_years(*summaries: pd.DataFrame) -> np.ndarray:
    """Return the sorted years found in any of the summaries."""
    found = {int(y) for summary in summaries for y in summary["year"]}
    return np.array(sorted(found), dtype=int)


def on_years(summary: pd.DataFrame, years: np.ndarray) -> np.ndarray:
    """Return the summary's means on ``years``, 0 where it has no row."""
    return summary.set_index("year")["mean"].reindex(years, fill_value=0.0).to_numpy()


def auction_summary(
    metrics: pd.DataFrame,
    metric: str,
    *,
    market: str,
    fill_value: float | None = None,
) -> pd.DataFrame:
    """Return one market's per-auction metric, mean across replications with its 95% CI.

    Parameters
    ----------
    metrics : pandas.DataFrame
        Tidy metrics table for one scenario (see :func:`read_metrics`).
    metric : str
        Per-auction metric (rows with ``month`` 1..12), e.g.
        ``"quota_price_yuan_per_unit"`` or ``"quota_volume"``.
    market : str
        Market name, e.g. ``"energy"`` or ``"cod"`` (rows of group ``"market=<name>"``).
    fill_value : float, optional
        Value for a missing or NaN (auction, replication) value; use 0 for
        volumes. By default NaN (e.g. the price of an auction without trade) is
        left out of the mean, so the mean price is over replications that traded.

    Returns
    -------
    pandas.DataFrame
        Columns year, month, x (fractional year ``year + (month - 0.5) / 12``),
        mean, ci_low, ci_high, n; one row per auction month, in time order.
        ``mean`` is NaN when no replication has a value.

    Raises
    ------
    ValueError
        If the table holds several scenarios, or several rows for one auction
        month and replication.
    """
    _check_one_scenario(metrics)
    rows = metrics[~is_annual(metrics) & (metrics["metric"] == metric)
                   & (metrics["group"] == f"{MARKET_GROUP_PREFIX}{market}")]
    if rows.duplicated(["year", "month", "replication"]).any():
        raise ValueError(f"metrics has several {metric!r} rows for market {market!r} in one "
                         "month and replication; expected one per auction.")
    replications = np.sort(metrics["replication"].unique())
    wide = (rows.assign(month=rows["month"].astype(int))
            .pivot(index=["year", "month"], columns="replication", values="value")
            .reindex(columns=replications).sort_index())
    if fill_value is not None:
        wide = wide.fillna(fill_value)
    summary = _mean_ci(wide).reset_index()
    summary.insert(2, "x", summary["year"] + (summary["month"] - 0.5) / 12.0)
    return summary


def market_names(metrics: pd.DataFrame) -> list[str]:
    """Return the quota markets that have rows in ``metrics``, in panel order.

    Known markets come in the order of :data:`MARKETS` (energy, cod, nh3n,
    so2, nox); any other ``market=<name>`` group follows, sorted.
    """
    groups = metrics["group"].astype(str)
    found = set(groups[groups.str.startswith(MARKET_GROUP_PREFIX)]
                .str.removeprefix(MARKET_GROUP_PREFIX))
    return [*(m for m in MARKETS if m in found), *sorted(found - set(MARKETS))]


def transition_matrix(metrics: pd.DataFrame) -> pd.DataFrame:
    """Return firms moving between classes, summed over years, mean over replications.

    Parameters
    ----------
    metrics : pandas.DataFrame
        Tidy metrics table with ``class_transition_firms`` rows whose group is
        ``"<from>-><to>"``, e.g. ``"A->B"``.

    Returns
    -------
    pandas.DataFrame
        Counts; index ``from`` and columns ``to`` in the order A, B, C, D, U
        (U only when present), then any other letters found.
    """
    _check_one_scenario(metrics)
    rows = metrics[is_annual(metrics) & (metrics["metric"] == TRANSITION_METRIC)]
    pairs = rows["group"].str.split("->", n=1, expand=True)
    if len(rows) and (pairs.shape[1] != 2 or pairs.isna().any().any()):
        bad = rows["group"][~rows["group"].str.contains("->", regex=False)].iloc[0]
        raise ValueError(f"{TRANSITION_METRIC} group must be '<from>-><to>'. Got {bad!r}.")
    n_replications = max(metrics["replication"].nunique(), 1)
    if len(rows):
        totals = (rows.assign(**{"from": pairs[0], "to": pairs[1]})
                  .groupby(["from", "to"])["value"].sum() / n_replications)
        letters = set(totals.index.get_level_values(0)) | set(totals.index.get_level_values(1))
    else:
        totals, letters = pd.Series(dtype=float), set()
    order = [*CLASSES, *(["U"] if "U" in letters else []),
             *sorted(letters - set(TRANSITION_CLASSES))]
    matrix = totals.unstack("to") if len(totals) else pd.DataFrame(dtype=float)
    matrix = matrix.reindex(index=order, columns=order).fillna(0.0)
    matrix.index.name, matrix.columns.name = "from", "to"
    return matrix


def is_annual(metrics: pd.DataFrame) -> pd.Series:
    """Return a boolean mask of the annual rows (``month`` NA)."""
    return metrics["month"].isna()


def _mean_ci(wide: pd.DataFrame) -> pd.DataFrame:
    """Mean over the columns (replications) and its t-based 95% CI, row by row."""
    return mean_ci(wide)[["mean", "ci_low", "ci_high", "n"]]


def _check_one_scenario(metrics: pd.DataFrame) -> None:
    scenarios = sorted(metrics["scenario"].unique())
    if len(scenarios) > 1:
        raise ValueError(f"Plots need the metrics of one scenario. Got {scenarios}.")

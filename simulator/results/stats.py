"""Replication statistics: means with t-based confidence intervals, paired differences.

Replications of a scenario are independent draws of its random streams, so
the mean of an outcome over ``n`` replications has the Student-t interval

    mean ± t_{0.975, n-1} · sd / sqrt(n).

Scenarios compared with the same seed share their streams replication by
replication (common random numbers), so their difference is estimated from the
``n`` paired differences, whose spread excludes the shocks both runs share;
the interval of a paired difference is usually much narrower than the two
scenarios' own intervals suggest.

All functions take the tidy metrics table (``year, month, scenario,
replication, group, metric, value``) and use its annual rows (``month`` NA).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as _stats

__all__ = ["CONFIDENCE", "mean_ci", "paired_differences", "summarise"]

#: Confidence level of every interval.
CONFIDENCE = 0.95

_KEYS = ["group", "metric", "year"]


def mean_ci(wide: pd.DataFrame) -> pd.DataFrame:
    """Mean over the columns (replications) and its t-based interval, row by row.

    Parameters
    ----------
    wide : pandas.DataFrame
        One column per replication; missing values are left out.

    Returns
    -------
    pandas.DataFrame
        Same index; columns ``mean, ci_low, ci_high, n, sd``. The interval is
        NaN where fewer than two replications have a value.
    """
    n = wide.notna().sum(axis=1)
    mean = wide.mean(axis=1)
    sd = wide.std(axis=1, ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = _stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * sd / np.sqrt(n)  # NaN for n < 2
    return pd.DataFrame({"mean": mean, "ci_low": mean - half, "ci_high": mean + half,
                         "n": n, "sd": sd})


def _wide(metrics: pd.DataFrame, index: Sequence[str]) -> pd.DataFrame:
    annual = metrics[metrics["month"].isna()]
    dup = annual.duplicated([*index, "replication"])
    if dup.any():
        row = annual[dup].iloc[0]
        raise ValueError(f"metrics has several annual rows for {row[list(index)].to_dict()} "
                         f"in replication {row['replication']}; expected one")
    return annual.pivot(index=list(index), columns="replication", values="value")


def summarise(metrics: pd.DataFrame) -> pd.DataFrame:
    """Return each scenario's mean and 95% interval of every annual metric.

    Returns
    -------
    pandas.DataFrame
        Columns ``scenario, group, metric, year, n, mean, sd, ci_low,
        ci_high``, sorted by scenario (in order of appearance), group,
        metric and year.
    """
    order = list(pd.unique(metrics["scenario"]))
    out = mean_ci(_wide(metrics, ["scenario", *_KEYS])).reset_index()
    out = out[out["n"] > 0]
    out["scenario"] = pd.Categorical(out["scenario"], categories=order, ordered=True)
    out = out.sort_values(["scenario", *_KEYS], kind="stable")
    out["scenario"] = out["scenario"].astype(str)
    out["year"] = out["year"].astype(int)
    return out[["scenario", *_KEYS, "n", "mean", "sd", "ci_low", "ci_high"]].reset_index(
        drop=True)


def paired_differences(metrics: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Return every other scenario's paired difference to ``reference``, with its interval.

    The difference of replication ``k`` is ``value(scenario, k) -
    value(reference, k)``; replications that one of the two lacks are left out.

    Returns
    -------
    pandas.DataFrame
        Columns ``scenario, reference, group, metric, year, n, mean, sd,
        ci_low, ci_high``.
    """
    scenarios = list(pd.unique(metrics["scenario"]))
    if reference not in scenarios:
        raise ValueError(f"reference scenario {reference!r} is not in the metrics; "
                         f"got {scenarios}")
    wide = _wide(metrics, ["scenario", *_KEYS])
    base = wide.xs(reference, level="scenario")
    parts = []
    for name in scenarios:
        if name == reference:
            continue
        diff = wide.xs(name, level="scenario") - base  # aligned by row and replication
        part = mean_ci(diff).reset_index()
        part.insert(0, "reference", reference)
        part.insert(0, "scenario", name)
        parts.append(part[part["n"] > 0])
    columns = ["scenario", "reference", *_KEYS, "n", "mean", "sd", "ci_low", "ci_high"]
    if not parts:
        return pd.DataFrame(columns=columns)
    out = pd.concat(parts, ignore_index=True)
    out["year"] = out["year"].astype(int)
    return out[columns]

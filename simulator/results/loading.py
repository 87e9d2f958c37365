"""Results in one call: a run, comparison or sweep as a tidy table or an xarray Dataset.

:func:`load_results` returns every metric of a results directory as one tidy
DataFrame (one row per scenario, replication, year, month, group and
metric); :func:`load_dataset` returns its annual metrics as an
:class:`xarray.Dataset` with dimensions ``scenario`` x ``replication`` x
``year`` x ``metric``, for arithmetic across scenarios and replications.
Both check every file they read (a damaged directory is an error naming the
file).

Examples
--------
>>> from simulator import load_dataset                                  # doctest: +SKIP
>>> ds = load_dataset("results/compare/baseline-vs-strict_d_2019")  # doctest: +SKIP
>>> strict, base = ds.value.sel(scenario="strict_d_2019"), ds.value.sel(  # doctest: +SKIP
...     scenario="baseline")
>>> (strict - base).sel(metric="firms[class=D]").mean("replication")  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from simulator import catalogue
from simulator.results.integrity import check_experiment_directory, read_run
from simulator.results.parquet import METRICS_COLUMNS, read_metrics_table
from simulator.results.readers import read_json_record
from simulator.scenario import ScenarioError

if TYPE_CHECKING:
    import xarray

__all__ = ["load_dataset", "load_results", "metric_key"]

_DIMS = ("scenario", "replication", "year", "metric")


def metric_key(metric: str, group: str) -> str:
    """Return the ``metric`` coordinate of a metric and group: ``"<metric>[<group>]"``."""
    return f"{metric}[{group}]"


def load_results(path: str | Path) -> pd.DataFrame:
    """Return every metric of a run, comparison or sweep directory as one tidy DataFrame.

    Parameters
    ----------
    path : str or Path
        A run directory (``manifest.json``), or a ``compare`` or ``sweep``
        experiment directory (``experiment.json``).

    Returns
    -------
    pandas.DataFrame
        Columns ``scenario, replication, year, month, group, metric, value``
        (``month`` is missing, ``<NA>``, on annual rows); a sweep's rows also
        ``sample`` (its scenario is ``<sweep>-s<sample>``) and one column per
        swept parameter. ``attrs["kind"]`` is ``"run"``, ``"compare"`` or
        ``"sweep"``.

    Raises
    ------
    ScenarioError
        Naming the file: not a results directory, or a file missing or damaged.
    """
    path = Path(path)
    kind, record = _kind(path)
    if kind == "run":
        frame = read_run(path)[1]
    elif kind == "compare":
        frame = read_metrics_table(path / "metrics.parquet")
    else:
        frame = _sweep_metrics(path, record)
    columns = ["scenario", "replication", "year", "month", "group", "metric", "value"]
    extra = [c for c in frame.columns if c not in columns and c not in METRICS_COLUMNS]
    frame = frame[columns + extra].reset_index(drop=True)
    frame["scenario"] = frame["scenario"].astype(str)
    frame.attrs["kind"] = kind
    return frame


def load_dataset(path: str | Path) -> xarray.Dataset:
    """Return the annual metrics of a run, comparison or sweep as an :class:`xarray.Dataset`.

    Parameters
    ----------
    path : str or Path
        As for :func:`load_results`.

    Returns
    -------
    xarray.Dataset
        One variable, ``value``, with dimensions ``scenario`` x ``replication``
        x ``year`` x ``metric`` (NaN where a scenario lacks a metric). The
        ``metric`` coordinate is ``"<metric>[<group>]"`` (:func:`metric_key`,
        e.g. ``"firms[class=D]"``), with the coordinates ``metric_name``,
        ``group`` and ``unit`` along it; a sweep's ``scenario`` dimension has
        the coordinates ``sample`` and one per swept parameter.

    Raises
    ------
    ScenarioError
        As :func:`load_results`.
    """
    import xarray as xr

    tidy = load_results(path)
    annual = tidy[tidy["month"].isna()]
    keys = [metric_key(m, g) for m, g in zip(annual["metric"], annual["group"], strict=True)]
    annual = annual.assign(metric_key=keys)
    scenarios = list(pd.unique(annual["scenario"]))
    metrics = sorted(pd.unique(annual["metric_key"]))
    dup = annual.duplicated(["scenario", "replication", "year", "metric_key"])
    if dup.any():
        row = annual[dup].iloc[0]
        raise ScenarioError(f"several annual values of {row['metric_key']} in {row['year']}, "
                            f"replication {row['replication']}: expected one", file=path)
    value = (annual.set_index(["scenario", "replication", "year", "metric_key"])["value"]
             .to_xarray().rename(metric_key="metric"))
    value = value.reindex(scenario=scenarios, metric=metrics)
    ds = xr.Dataset({"value": value.transpose(*_DIMS)})
    first = annual.drop_duplicates("metric_key").set_index("metric_key")
    ds = ds.assign_coords(
        metric_name=("metric", [first.at[k, "metric"] for k in metrics]),
        group=("metric", [first.at[k, "group"] for k in metrics]),
        unit=("metric", [_unit(first.at[k, "metric"]) for k in metrics]))
    if tidy.attrs["kind"] == "sweep":
        per = tidy.drop_duplicates("scenario").set_index("scenario")
        extra = [c for c in tidy.columns if c not in (*METRICS_COLUMNS, "sample")]
        ds = ds.assign_coords(sample=("scenario", [int(per.at[s, "sample"]) for s in scenarios]),
                              **{c: ("scenario", [per.at[s, c] for s in scenarios])
                                 for c in extra})
    ds.attrs.update(kind=tidy.attrs["kind"], source=str(path))
    return ds


def _unit(metric: str) -> str:
    try:
        return catalogue.entry(metric).unit
    except (KeyError, ValueError, catalogue.CatalogueError):
        return ""


def _kind(path: Path) -> tuple[str, dict]:
    """Return ``("run" | "compare" | "sweep", record)`` of a results directory, checked."""
    if (path / "experiment.json").is_file():
        record = check_experiment_directory(path)
        kind = record.get("kind")
        if kind not in ("compare", "sweep"):
            raise ScenarioError(f"experiment.json: unknown experiment kind {kind!r}",
                                file=path / "experiment.json")
        return kind, record
    if not path.is_dir():
        raise ScenarioError("not a results directory (no such directory)", file=path)
    if not (path / "manifest.json").is_file():
        raise ScenarioError("not a results directory (no manifest.json or experiment.json)",
                            file=path)
    return "run", {}


def _sweep_metrics(path: Path, record: dict) -> pd.DataFrame:
    """Return every sweep run's metrics with its sample and parameter values."""
    parts = []
    runs = sorted(p.parent for p in (path / "runs").glob("*/manifest.json"))
    if not runs:
        raise ScenarioError("the sweep has no finished runs", file=path / "runs")
    for run_dir in runs:
        manifest = read_json_record(run_dir / "manifest.json")
        metrics = read_run(run_dir)[1]
        metrics = metrics.assign(sample=int(manifest.get("sample", -1)),
                                 **{k: v for k, v in (manifest.get("parameters") or {}).items()})
        parts.append(metrics)
    return pd.concat(parts, ignore_index=True)

"""History validation (backtest): the reform's history scenario against what was observed.

A backtest file names a history scenario, the file of observed series
(``data/observed/zhejiang.csv``: one row per series and year, with unit,
status and source), the calibration file whose targets were fitted, and the
series to compare. Each series maps an observed series to a metric of one
group, compared as

- ``level``: the metric itself (ratios such as tax per mu, prices);
- ``growth``: its change from the year before, ``v(y) / v(y-1) - 1``;
- ``average_growth``: its yearly average change since ``base_year``,
  ``(v(y) / v(base)) ** (1 / (y - base)) - 1``;
- ``share``: the metric divided by a ``denominator`` metric (a count per
  above-scale firm, say), for totals of a synthetic county that stands for a
  sample of the province (the observed share is computed the same way from
  observed rows, see the file).

Totals of the synthetic county are never compared as levels with the
province's: only ratios, changes and shares are. Every series and year is
simulated over ``replications`` (mean and 95% interval) and compared with its
tolerance: ``relative`` (``|sim / obs - 1|``), ``absolute`` (``|sim - obs|``,
for changes in shares) or ``factor`` (``max(sim / obs, obs / sim)``); a
series' ``check`` says which of its years ``--check`` holds to it (all, only
the fitted ones, or none: reported only). A series
year is *fitted* if the calibration file has a target of the same metric,
group and year (in any of the calibration files named), else *held out*;
the two are reported apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, FiniteFloat, model_validator

from simulator.calibration import load_calibration
from simulator.results.stats import mean_ci
from simulator.scenario import (
    LocatedError,
    Scenario,
    ScenarioError,
    did_you_mean,
    load_scenario,
    read_yaml,
)
from simulator.scenario.specfiles import MetricName, SpecModel, load_spec, spec_error

__all__ = ["OBSERVED_COLUMNS", "BacktestResult", "BacktestSpec", "SeriesSpec", "backtest",
           "default_backtest_path", "failures", "load_backtest", "read_observed",
           "write_backtest"]

#: Columns of an observed-series file.
OBSERVED_COLUMNS: tuple[str, ...] = ("series", "year", "value", "unit", "status", "source",
                                     "note")


class Denominator(SpecModel):
    """The metric a ``share`` series divides by."""

    metric: MetricName
    group: str = "all"


class SeriesSpec(SpecModel):
    """One observed series and the simulated metric it is compared with."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="the series' name in outputs")
    observed: str = Field(description="series id in the observed file")
    metric: MetricName
    group: str = Field("all", description='"all" or "<dimension>=<value>"')
    transform: Literal["level", "growth", "average_growth", "share"] = "level"
    base_year: int | None = Field(None, description="average_growth: the year it starts from")
    denominator: Denominator | None = Field(None, description="share: divide by this metric")
    observed_scale: FiniteFloat = Field(
        1.0, description="multiplies the observed values (e.g. 1e4 for 万 units, or 1 / an "
                         "observed denominator for a share)")
    years: list[int] | None = Field(None, description="compare these years only (default: "
                                                      "every observed year in the run)")
    tolerance: FiniteFloat = Field(gt=0, description="largest error accepted")
    tolerance_kind: Literal["relative", "absolute", "factor"] = "relative"
    check: Literal["all", "fitted", "none"] = Field(
        "all", description="which years --check checks: all, only the fitted ones, or none "
                           "(reported only: say why in a comment)")
    label: str = Field("", description="what it is, for tables and the figure")

    @model_validator(mode="after")
    def _transform_fields(self) -> SeriesSpec:
        if self.transform == "average_growth" and self.base_year is None:
            raise LocatedError(("base_year",), "average_growth needs a base_year")
        if self.transform == "share" and self.denominator is None:
            raise LocatedError(("denominator",), "share needs a denominator")
        if self.tolerance_kind == "factor" and self.tolerance <= 1:
            raise LocatedError(("tolerance",), "a factor tolerance must be above 1")
        return self


class BacktestSpec(SpecModel):
    """A backtest file: the history scenario, observed data, calibration and series."""

    scenario: str = Field(description="history scenario, relative to this file")
    observed: str = Field(description="observed series (CSV), relative to this file")
    calibration: list[str] = Field(
        default_factory=list,
        description="calibration files (relative to this file) whose targets are the fitted "
                    "series years")
    replications: int = Field(5, ge=1, le=1000)
    series: list[SeriesSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> BacktestSpec:
        seen: set[str] = set()
        for i, s in enumerate(self.series):
            if s.name in seen:
                raise LocatedError(("series", i, "name"), f"duplicate series {s.name!r}")
            seen.add(s.name)
        return self


@dataclass(frozen=True)
class BacktestProblem:
    """A loaded backtest: the spec, the scenario, the observed rows and the fitted targets."""

    spec: BacktestSpec
    file: Path
    scenario: Scenario
    observed: pd.DataFrame
    fitted: frozenset[tuple[str, str, int]]
    """(metric, group, year) of every calibration target."""


def default_backtest_path() -> Path:
    """Return the packaged backtest of the reform's history."""
    return Path(__file__).resolve().parents[1] / "scenarios" / "backtest" / "zhejiang_history.yaml"


def read_observed(path: str | Path) -> pd.DataFrame:
    """Read an observed-series CSV, checked: one row per series and year, numeric values.

    Raises
    ------
    ScenarioError
        Naming the file (and row) of a missing column, a bad value or a duplicate.
    """
    path = Path(path)
    if not path.is_file():
        raise ScenarioError("file not found", file=path)
    try:
        data = pd.read_csv(path, dtype={"series": str, "unit": str, "status": str})
    except (ValueError, pd.errors.ParserError) as exc:
        raise ScenarioError(f"not a readable CSV: {exc}", file=path) from None
    missing = [c for c in OBSERVED_COLUMNS if c not in data.columns]
    if missing:
        raise ScenarioError(f"missing column(s) {', '.join(missing)}", file=path)
    for column in ("year", "value"):
        values = pd.to_numeric(data[column], errors="coerce")
        bad = values.isna() | ~np.isfinite(values)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ScenarioError(f"{column} {data[column].iloc[row]!r} is not a finite number",
                                file=path, line=row + 2, field=column)
        data[column] = values
    data["year"] = data["year"].astype(int)
    bad_status = ~data["status"].isin(["src", "der", "est"])
    if bad_status.any():
        row = int(np.flatnonzero(bad_status.to_numpy())[0])
        raise ScenarioError(f"status {data['status'].iloc[row]!r} is not src, der or est",
                            file=path, line=row + 2, field="status")
    dup = data.duplicated(["series", "year"])
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0])
        raise ScenarioError(f"a second row for {data['series'].iloc[row]} "
                            f"{data['year'].iloc[row]}", file=path, line=row + 2)
    return data


def load_backtest(path: str | Path | None = None) -> BacktestProblem:
    """Load and check a backtest file (default: :func:`default_backtest_path`).

    A scenario file may be given instead: the default backtest's series are
    then compared with that scenario.
    """
    path = Path(path) if path is not None else default_backtest_path()
    scenario_override: Scenario | None = None
    if path.suffix.lower() in (".yaml", ".yml") and path.is_file() and _is_scenario(path):
        scenario_override = load_scenario(path)
        path = default_backtest_path()
    spec, lines, scenario_path = load_spec(path, BacktestSpec, "scenario")
    scenario = scenario_override or load_scenario(scenario_path)
    observed = read_observed((path.parent / spec.observed).resolve())
    fitted: set[tuple[str, str, int]] = set()
    for file in spec.calibration:
        problem = load_calibration((path.parent / file).resolve())
        fitted |= {(t.metric, t.group, t.year) for t in problem.spec.targets}
    known = set(observed["series"])
    years = set(scenario.years)
    for i, s in enumerate(spec.series):
        if s.observed not in known:
            raise spec_error(path, lines, f"no series {s.observed!r} in {spec.observed}"
                                          f"{did_you_mean(s.observed, sorted(known))}",
                             ("series", i, "observed"))
        if s.base_year is not None and s.base_year not in years:
            raise spec_error(path, lines, f"base year {s.base_year} is outside the run "
                                          f"({min(years)} to {max(years)})",
                             ("series", i, "base_year"))
    return BacktestProblem(spec=spec, file=path, scenario=scenario, observed=observed,
                           fitted=frozenset(fitted))


def _is_scenario(path: Path) -> bool:
    """Whether a YAML file is a scenario (not a backtest file)."""
    data, _ = read_yaml(path)
    return isinstance(data, dict) and "series" not in data


def _transformed(series: SeriesSpec, values: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """Return the series' compared value per year (rows) and replication (columns).

    ``values`` is the metric (and the denominator's, for shares) per year and
    replication.
    """
    v = values["metric"]
    if series.transform == "level":
        out = v
    elif series.transform == "growth":
        out = v / v.shift(1) - 1.0
    elif series.transform == "average_growth":
        base = v.loc[series.base_year]
        gaps = pd.Series(v.index - series.base_year, index=v.index, dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = (v / base).pow(1.0 / gaps.replace(0, np.nan), axis=0) - 1.0
    else:  # share
        out = v / values["denominator"]
    return out.reindex(years)


@dataclass(frozen=True)
class BacktestResult:
    """A backtest's comparison table and the simulated paths of its series."""

    table: pd.DataFrame
    """One row per series and observed year (see :func:`backtest`)."""
    paths: pd.DataFrame
    """One row per series and simulated year: ``series, label, year, simulated, ci_low,
    ci_high`` (the compared quantity in every year of the run)."""
    replications: int


def backtest(problem: BacktestProblem, *, replications: int | None = None,
             simulate_fn=None) -> BacktestResult:
    """Run the history scenario and compare every series year with its observation.

    Parameters
    ----------
    problem : BacktestProblem
        From :func:`load_backtest`.
    replications : int, optional
        Replications (default: the file's).
    simulate_fn : callable, optional
        ``simulate_fn(scenario, replication) -> metrics`` (default: the engine's).
        Replications run in this process, one after another.

    Returns
    -------
    BacktestResult
        ``table``: one row per series and observed year: ``series, label,
        year, role`` (fitted or held_out), ``observed``, ``simulated`` (mean
        over replications), ``ci_low, ci_high`` (95%), ``error`` (of the
        tolerance's kind), ``tolerance, tolerance_kind, within, checked,
        transform, unit, status, source``; ``paths``: the simulated quantity
        in every year.
    """
    simulate_fn = simulate_fn or _default_simulate
    spec = problem.spec
    n = replications or spec.replications
    scenario = problem.scenario
    runs = [simulate_fn(scenario, k) for k in range(n)]
    annual = pd.concat(runs, ignore_index=True)
    annual = annual[annual["month"].isna()]
    years = scenario.years
    rows, paths = [], []
    for s in spec.series:
        obs = problem.observed[problem.observed["series"] == s.observed].set_index("year")
        wanted = [y for y in (s.years or obs.index.tolist()) if y in years and y in obs.index]
        values = {"metric": _pivot(annual, s.metric, s.group, years)}
        if s.denominator is not None:
            values["denominator"] = _pivot(annual, s.denominator.metric, s.denominator.group,
                                           years)
        sim = mean_ci(_transformed(s, pd.concat(values, axis=1), years))
        path = sim[["mean", "ci_low", "ci_high"]].rename(columns={"mean": "simulated"})
        paths.append(path.rename_axis("year").reset_index().assign(
            series=s.name, label=s.label or s.name))
        wanted = [y for y in wanted if np.isfinite(sim.loc[y, "mean"])
                  or s.transform in ("level", "share")]
        for year in wanted:
            observed = float(obs.loc[year, "value"]) * s.observed_scale
            m = sim.loc[year]
            error = _error_of(float(m["mean"]), observed, s.tolerance_kind)
            role = "fitted" if (s.metric, s.group, year) in problem.fitted else "held_out"
            rows.append({
                "series": s.name, "label": s.label or s.name, "year": year, "role": role,
                "observed": observed, "simulated": float(m["mean"]),
                "ci_low": float(m["ci_low"]), "ci_high": float(m["ci_high"]),
                "error": error, "tolerance": s.tolerance, "tolerance_kind": s.tolerance_kind,
                "within": bool(error <= s.tolerance) if math.isfinite(error) else False,
                "checked": s.check == "all" or (s.check == "fitted" and role == "fitted"),
                "transform": s.transform,
                "unit": str(obs.loc[year, "unit"]), "status": str(obs.loc[year, "status"]),
                "source": str(obs.loc[year, "source"]),
            })
    path_table = pd.concat(paths, ignore_index=True)[
        ["series", "label", "year", "simulated", "ci_low", "ci_high"]]
    return BacktestResult(table=pd.DataFrame(rows), paths=path_table, replications=n)


def write_backtest(result: BacktestResult, out: str | Path, *, figures: bool = True,
                   lang: str = "en", title: str = "", suffix_if_taken: bool = False) -> Path:
    """Write ``backtest.csv``, ``backtest.parquet``, ``paths.parquet`` and the figure.

    The directory is written under a temporary name and renamed when complete
    (with ``suffix_if_taken``, to ``<out>-1``, ``-2``... if another process took
    ``out`` meanwhile); returns where it is.
    """
    from simulator.results import RunDirectory, write_parquet

    with RunDirectory(Path(out), suffix_if_taken=suffix_if_taken) as run:
        result.table.to_csv(run.tmp / "backtest.csv", index=False, encoding="utf-8")
        write_parquet(result.table, run.tmp / "backtest.parquet")
        write_parquet(result.paths, run.tmp / "paths.parquet")
        if figures:
            from simulator.plots import figure_dir
            from simulator.plots.backtest import plot_backtest

            plot_backtest(result, figure_dir(run.tmp, lang), lang=lang, title=title)
    return run.final


def _default_simulate(scenario: Scenario, replication: int) -> pd.DataFrame:
    """Return one replication's metrics from the engine."""
    from simulator.engine import simulate

    return simulate(scenario, replication=replication).metrics


def _pivot(annual: pd.DataFrame, metric: str, group: str, years: list[int]) -> pd.DataFrame:
    """Return a metric of one group by year (rows) and replication (columns)."""
    rows = annual[(annual["metric"] == metric) & (annual["group"] == group)]
    return rows.pivot_table(index="year", columns="replication", values="value",
                            aggfunc="first").reindex(years)


def _error_of(simulated: float, observed: float, kind: str) -> float:
    """Return the error of ``simulated`` against ``observed`` in the tolerance's terms."""
    if not (math.isfinite(simulated) and math.isfinite(observed)):
        return math.inf
    if kind == "absolute":
        return abs(simulated - observed)
    if kind == "factor":
        if simulated <= 0 or observed <= 0:
            return math.inf
        return max(simulated / observed, observed / simulated)
    return abs(simulated / observed - 1.0) if observed else math.inf


def failures(table: pd.DataFrame) -> pd.DataFrame:
    """Return the checked series years that miss their tolerance."""
    if table.empty:
        return table
    return table[table["checked"] & ~table["within"]]

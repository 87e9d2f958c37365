"""The explorer's runs: a scenario made small enough to answer in seconds, and its comparison.

:func:`explorer_size` chooses the run size from the scenario's own fields
(a synthetic population scaled down to at most ``firms`` firms, industrial
and services in the base's proportion; the run's horizon kept, so dated
policies and cap paths still fall inside it). :class:`Explorer` holds the
base scenario made small, computes its runs once, and runs each variant
with the same seed and replications (common random numbers), returning the
comparison tables the brief's figures draw from. Nothing is written to disk.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from simulator.explore.levers import Lever, apply_levers, lever_changes, levers_for
from simulator.results.stats import paired_differences, summarise
from simulator.scenario import Scenario, apply_changes

__all__ = ["DEFAULT_FIRMS", "DEFAULT_REPLICATIONS", "Comparison", "Explorer", "RunSize",
           "explorer_size", "key_table", "small_scenario", "variant_name"]

#: Firms in the explorer's runs unless told otherwise (est: chosen for response time, one
#: run of the baseline's 2017-2030 takes about 0.3 s at this size; benchmarks in
#: docs/how-to/explore.md).
DEFAULT_FIRMS = 1000
#: Replications of each run (est: the fewest with a paired 95% interval of every
#: difference, chosen for response time).
DEFAULT_REPLICATIONS = 3
#: Variant runs kept in memory, so that moving a lever back answers at once.
CACHE_SIZE = 32


@dataclass(frozen=True)
class RunSize:
    """The size of the explorer's runs (stated on the page)."""

    industrial: int
    services: int
    first_year: int
    last_year: int
    replications: int
    scaled: bool
    """Whether the population was scaled down from the scenario's."""

    @property
    def firms(self) -> int:
        """Firms at the start of a run."""
        return self.industrial + self.services


def explorer_size(scenario: Scenario, *, firms: int = DEFAULT_FIRMS,
                  replications: int = DEFAULT_REPLICATIONS) -> RunSize:
    """Return the run size of the explorer for ``scenario``.

    A synthetic population larger than ``firms`` is scaled down to ``firms``,
    keeping the industrial/services proportion (each kind keeps at least one
    firm if it had any); a firm table (``source: file``) keeps its firms.

    Examples
    --------
    >>> from simulator.scenario import default_scenario_path, load_scenario
    >>> size = explorer_size(load_scenario(default_scenario_path()), firms=200)
    >>> size.industrial, size.services, size.first_year, size.last_year, size.scaled
    (154, 46, 2017, 2030, True)
    """
    if firms < 2:
        raise ValueError(f"The 'firms' parameter must be at least 2. Got {firms} instead.")
    if replications < 1:
        raise ValueError(f"The 'replications' parameter must be at least 1. "
                         f"Got {replications} instead.")
    pop = scenario.population
    run = scenario.run
    years = (run.first_year, run.first_year + run.n_years - 1)
    total = pop.n_industrial + pop.n_services
    if pop.source != "synthetic" or total <= firms:
        return RunSize(pop.n_industrial, pop.n_services, *years, replications, scaled=False)
    industrial = round(firms * pop.n_industrial / total)
    if pop.n_industrial and industrial == 0:
        industrial = 1
    if pop.n_services and industrial == firms:
        industrial = firms - 1
    return RunSize(industrial, firms - industrial, *years, replications, scaled=True)


def small_scenario(scenario: Scenario, size: RunSize) -> Scenario:
    """Return ``scenario`` at the explorer's ``size``, with no firm snapshots or monthly rows."""
    changes: dict[str, Any] = {"output.firm_snapshots": False, "output.monthly_metrics": False}
    if size.scaled:
        changes |= {"population.n_industrial": size.industrial,
                    "population.n_services": size.services}
    return apply_changes(scenario, changes)


def variant_name(base_name: str) -> str:
    """Return the name of a variant of ``base_name``: it says it is one.

    >>> variant_name("baseline")
    'baseline_variant'
    """
    return f"{base_name}_variant"


def _simulate(scenario: Scenario, replications: int) -> pd.DataFrame:
    """Return the metrics of ``replications`` runs of ``scenario`` (annual and per auction)."""
    from simulator.engine import simulate

    frames = [simulate(scenario, replication=k).metrics for k in range(replications)]
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class Comparison:
    """A variant against the base: tidy summaries as a comparison directory holds them."""

    base_name: str
    variant_name: str
    summary: pd.DataFrame
    """:func:`simulator.results.stats.summarise` of both scenarios."""
    differences: pd.DataFrame
    """:func:`simulator.results.stats.paired_differences`, variant minus base."""
    variant_metrics: pd.DataFrame
    changes: Mapping[str, Any]
    seconds: float
    """Wall time of the variant's runs (0 when cached)."""


class Explorer:
    """The base scenario made small, its runs computed once, and its variants' comparisons.

    Parameters
    ----------
    base : Scenario
        The scenario the levers start from (full size; it is saved against).
    firms, replications : int
        The run size (:func:`explorer_size`).
    """

    def __init__(self, base: Scenario, *, firms: int = DEFAULT_FIRMS,
                 replications: int = DEFAULT_REPLICATIONS) -> None:
        self.base = base
        self.size = explorer_size(base, firms=firms, replications=replications)
        self.small = small_scenario(base, self.size)
        self.levers: list[Lever] = levers_for(base)
        self.variant = variant_name(base.name)
        self._lock = threading.Lock()  # one run at a time: the callbacks share this process
        self._cache: OrderedDict[tuple, Comparison] = OrderedDict()
        self._base_metrics: pd.DataFrame | None = None

    def base_metrics(self) -> pd.DataFrame:
        """Return the base's annual metrics (computed on the first call, then kept)."""
        with self._lock:
            if self._base_metrics is None:
                self._base_metrics = _simulate(self.small, self.size.replications)
            return self._base_metrics

    def compare(self, values: Mapping[str, Any]) -> Comparison:
        """Run the variant that lever ``values`` make and compare it with the base.

        Raises
        ------
        ScenarioError
            If the lever values make an invalid scenario.
        """
        changes = lever_changes(self.small, self.levers, values)
        key = tuple(sorted((k, repr(v)) for k, v in changes.items()))
        base_metrics = self.base_metrics()
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return replace(self._cache[key], seconds=0.0)
            variant = apply_levers(self.small, self.levers, values)
            started = time.perf_counter()
            metrics = (base_metrics if not changes
                       else _simulate(variant, self.size.replications))
            seconds = time.perf_counter() - started
        metrics = metrics.assign(scenario=self.variant)
        both = pd.concat([base_metrics.assign(scenario=self.base.name), metrics],
                         ignore_index=True)
        result = Comparison(self.base.name, self.variant, summarise(both),
                            paired_differences(both, self.base.name), metrics, changes, seconds)
        with self._lock:
            self._cache[key] = result
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return result


def key_table(comparison: Comparison, rows: Sequence[tuple[str, str, str]]) -> pd.DataFrame:
    """Return the key indicators in the last year: base, variant, difference and its interval.

    Parameters
    ----------
    comparison : Comparison
        What :meth:`Explorer.compare` returned.
    rows : sequence of (metric, group, label)
        The indicators (:func:`simulator.catalogue.key_indicators`).

    Returns
    -------
    pandas.DataFrame
        Columns ``label, metric, group, year, base, variant, difference, ci_low,
        ci_high, percent`` (the interval is NaN with one replication; the
        percentage is of the base's absolute mean, NaN when that is 0).
    """
    summary, diffs = comparison.summary, comparison.differences
    year = int(summary["year"].max())
    means = summary[summary["year"] == year].set_index(["scenario", "metric", "group"])["mean"]
    at_year = diffs[diffs["year"] == year].set_index(["metric", "group"])
    records = []
    for metric, group, label in rows:
        base = means.get((comparison.base_name, metric, group), float("nan"))
        variant = means.get((comparison.variant_name, metric, group), float("nan"))
        if (metric, group) in at_year.index:
            d = at_year.loc[(metric, group)]
            diff, low, high = float(d["mean"]), float(d["ci_low"]), float(d["ci_high"])
        else:
            diff, low, high = variant - base, float("nan"), float("nan")
        percent = 100.0 * diff / abs(base) if base == base and base != 0 else float("nan")
        records.append({"label": label, "metric": metric, "group": group, "year": year,
                        "base": base, "variant": variant, "difference": diff,
                        "ci_low": low, "ci_high": high, "percent": percent})
    return pd.DataFrame.from_records(records)

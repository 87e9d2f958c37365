"""Experiments: run a scenario into a results directory.

A run simulates a validated scenario, streams per-firm snapshots to disk as
each year closes, writes the metrics and the manifest, renames the directory
into place and (optionally) makes the figures from the written files.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from simulator.engine import simulate
from simulator.results import RunDirectory, manifest_for
from simulator.scenario import Scenario

__all__ = ["run_scenario", "summary_table"]

log = logging.getLogger(__name__)

#: Indicators shown in the run summary: metric, group, label.
SUMMARY_ROWS: tuple[tuple[str, str, str], ...] = (
    ("tax_per_mu_wan_yuan", "scale=above", "Tax per mu, above-scale (万元/mu)"),
    ("va_per_mu_wan_yuan", "scale=above", "VA per mu, above-scale (万元/mu)"),
    ("labour_productivity_wan_yuan", "scale=above",
     "Labour productivity, above-scale (万元/person)"),
    ("tax_per_mu_wan_yuan", "all", "Tax per mu, all industry (万元/mu)"),
    ("va_per_mu_wan_yuan", "all", "VA per mu, all industry (万元/mu)"),
    ("va_per_tce_wan_yuan", "all", "VA per tce (万元/tce)"),
    ("va_per_t_emission_wan_yuan", "all", "VA per t emissions (万元/t)"),
    ("energy_tce", "all", "Energy use (tce)"),
    ("resource_bill_yuan_per_wan_yuan_va", "all", "Resource bill per 万元 VA (yuan)"),
    ("differential_revenue_yuan", "all", "Differential revenue, net (yuan)"),
    ("firms", "class=A", "Firms in class A"),
    ("firms", "class=B", "Firms in class B"),
    ("firms", "class=C", "Firms in class C"),
    ("firms", "class=D", "Firms in class D"),
)


def run_scenario(scenario: Scenario, *, out: Path | str = "results", replication: int = 0,
                 figures: bool = True, lang: str = "en",
                 progress: Callable[[int, int], None] | None = None) -> Path:
    """Simulate ``scenario`` and write a complete run directory.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario.
    out : Path or str
        Results root; the run goes to ``out/<scenario name>/<UTC timestamp>``.
    replication : int
        Replication index (selects the random streams together with the seed).
    figures : bool
        Make the figure set after writing the data.
    lang : {"en", "zh"}
        Language of figure labels.
    progress : callable, optional
        ``progress(months_done, months_total)``.

    Returns
    -------
    Path
        The finished run directory.
    """
    started = datetime.now(UTC)
    with RunDirectory.new(Path(out), scenario.name) as run:
        result = simulate(scenario, replication=replication, on_snapshot=run.write_snapshot,
                          progress=progress)
        run.write_metrics(result.metrics)
        run.write_scenario(scenario)
        run.write_manifest(manifest_for(scenario, replications=1,
                                        wall_time_s=result.wall_time_s, started=started,
                                        firms=result.firms.n))
    if figures:
        from simulator.plots import make_figures

        make_figures(run.final, lang=lang)
    log.info("run written to %s", run.final)
    return run.final


def summary_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """Key indicators in the first and last year of a run (mean over replications).

    Returns
    -------
    pandas.DataFrame
        Index: indicator labels; columns: first year, last year.
    """
    annual = metrics[metrics["month"].isna()]
    years = sorted(annual["year"].unique())
    first, last = int(years[0]), int(years[-1])
    rows = {}
    for metric, group, label in SUMMARY_ROWS:
        sel = annual[(annual["metric"] == metric) & (annual["group"] == group)]
        by_year = sel.groupby("year")["value"].mean()
        rows[label] = {str(first): by_year.get(first, float("nan")),
                       str(last): by_year.get(last, float("nan"))}
    return pd.DataFrame.from_dict(rows, orient="index")

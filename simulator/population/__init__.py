"""Firm populations: synthetic by sector and calibrated to aggregates, or read from a table.

* :mod:`~simulator.population.synthetic`: firms drawn sector by sector
  (:func:`synthetic_population`, :func:`draw_firms`, :func:`finish_firms`,
  :func:`counts_by_share`);
* :mod:`~simulator.population.calibration`: VA, tax and employees rescaled so
  that the above-scale aggregates equal the published targets
  (:func:`calibrate_population`, :func:`calibrate_tax`,
  :func:`above_scale_aggregates`);
* :mod:`~simulator.population.tables`: firm tables (the 亩均 platforms publish
  one row per firm) read from CSV or Excel, Chinese or English headers mapped
  by :data:`COLUMN_ALIASES` (:func:`read_firm_table`), and turned into firms
  (:func:`firms_from_table`).

:func:`build_population` builds a scenario's firms from either source;
:func:`build_run_population` also returns the scenario a run uses (a firm
table's regions, :mod:`~simulator.population.places`).
"""

from __future__ import annotations

import numpy as np

from simulator.firms import Firms
from simulator.population.calibration import (
    above_scale_aggregates,
    calibrate_population,
    calibrate_tax,
)
from simulator.population.places import scenario_for_table, table_regions
from simulator.population.synthetic import (
    counts_by_share,
    draw_firms,
    finish_firms,
    synthetic_population,
)
from simulator.population.tables import COLUMN_ALIASES, firms_from_table, read_firm_table
from simulator.scenario import Scenario

__all__ = [
    "COLUMN_ALIASES",
    "above_scale_aggregates",
    "build_population",
    "build_run_population",
    "calibrate_population",
    "calibrate_tax",
    "counts_by_share",
    "draw_firms",
    "finish_firms",
    "firms_from_table",
    "read_firm_table",
    "scenario_for_table",
    "synthetic_population",
    "table_regions",
]


def build_population(scenario: Scenario, rng: np.random.Generator) -> Firms:
    """Build the scenario's firms: synthetic (calibrated if asked) or from its firm table."""
    spec = scenario.population
    if spec.source == "file":
        return firms_from_table(read_firm_table(spec.file), scenario)
    firms = synthetic_population(scenario, rng)
    if spec.calibrate and firms.n:
        calibrate_population(firms, spec)
    return firms


def build_run_population(scenario: Scenario, rng: np.random.Generator
                         ) -> tuple[Firms, Scenario]:
    """Build the scenario's firms and return them with the scenario the run uses.

    A firm table that names regions the scenario does not list gives the run
    its regions (:func:`~simulator.population.places.table_regions`); the
    scenario is otherwise returned unchanged.
    """
    spec = scenario.population
    if spec.source == "file":
        table = read_firm_table(spec.file)
        return firms_from_table(table, scenario), scenario_for_table(table, scenario)
    return build_population(scenario, rng), scenario

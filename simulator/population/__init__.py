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

:func:`build_population` builds a scenario's firms from either source.
"""

from __future__ import annotations

import numpy as np

from simulator.firms import Firms
from simulator.population.calibration import (
    above_scale_aggregates,
    calibrate_population,
    calibrate_tax,
)
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
    "calibrate_population",
    "calibrate_tax",
    "counts_by_share",
    "draw_firms",
    "finish_firms",
    "firms_from_table",
    "read_firm_table",
    "synthetic_population",
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


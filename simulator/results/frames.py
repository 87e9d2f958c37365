"""Firms as a table: the struct of arrays of a run's end as one pandas DataFrame.

:func:`firms_frame` lays :class:`~simulator.firms.Firms` out as one row per
firm (``SimulationResult.firms_frame()``), with sector, region, scale, class
and process status as labelled categoricals rather than codes.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pandas as pd

from simulator.firms import CLASS_LABELS, PROCESS_STATUS, Firms
from simulator.scenario import INVESTMENT_OPTIONS, Scenario

__all__ = ["firms_frame"]

#: Columns with codes, shown as labelled categoricals.
_CODED = ("sector", "region", "klass", "process_status")


def firms_frame(firms: Firms, scenario: Scenario) -> pd.DataFrame:
    """Return the firms as one row per firm, in firm id order.

    Parameters
    ----------
    firms : Firms
        The firms (e.g. ``SimulationResult.firms``: the state at the run's end).
    scenario : Scenario
        Gives the names of sectors, regions and pollutants.

    Returns
    -------
    pandas.DataFrame
        ``firm_id`` (int64), ``sector``, ``region``, ``scale`` (above, below,
        services), ``class`` (A-D, U: the class in force) and
        ``process_status`` as categoricals, then every other per-firm
        attribute of :class:`~simulator.firms.Firms` under its own name
        (units in the name: ``land_mu``, ``va_wan_yuan``...), emission
        intensities as ``<pollutant>_t_per_wan_yuan`` and the capex factors
        as ``cost_factor_<option>``. Year-to-date sums are left out.
    """
    columns: dict[str, object] = {
        "firm_id": np.asarray(firms.firm_id, dtype=np.int64),
        "sector": pd.Categorical.from_codes(np.asarray(firms.sector, dtype=int),
                                            categories=list(scenario.sector_names())),
        "region": pd.Categorical.from_codes(
            np.asarray(firms.region, dtype=int),
            categories=[r.name for r in scenario.population.regions]),
        "scale": pd.Categorical.from_codes(
            np.where(firms.is_services, 2, np.where(firms.above_scale, 0, 1)),
            categories=["above", "below", "services"]),
        "class": pd.Categorical.from_codes(np.asarray(firms.klass, dtype=int),
                                           categories=list(CLASS_LABELS)),
        "process_status": pd.Categorical.from_codes(np.asarray(firms.process_status, dtype=int),
                                                    categories=list(PROCESS_STATUS)),
    }
    for f in fields(firms):
        values = getattr(firms, f.name)
        if f.name in columns or f.name in _CODED or not isinstance(values, np.ndarray):
            continue
        if values.ndim == 1 and len(values) == firms.n:
            columns[f.name] = values.copy()
    for i, pollutant in enumerate(scenario.pollutant_names()):
        columns[f"{pollutant}_t_per_wan_yuan"] = firms.emission_t_per_wan_yuan[:, i].copy()
        columns.pop("emission_t_per_wan_yuan", None)
    if firms.cost_factor.shape == (firms.n, len(INVESTMENT_OPTIONS)):
        for i, option in enumerate(INVESTMENT_OPTIONS):
            columns[f"cost_factor_{option}"] = firms.cost_factor[:, i].copy()
    return pd.DataFrame(columns)

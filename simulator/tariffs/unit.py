"""Per-unit prices each firm pays under one set of tariffs (one place for all users).

The linear charges (electricity per kWh beyond the fixed capacity charge, the
pollution charge per tonne) are linear in quantity at given prices and class,
so one evaluation per firm at one unit gives its price per unit. The engine
uses them for the month's unit cost and the abatement of quota markets; the
investment decision for what a tonne or a tce saved is worth under each set
of tariffs the timeline brings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulator.firms import CLASS_LABELS, Firms
from simulator.scenario import DEFAULT_POLLUTANTS, Tariffs
from simulator.tariffs.electricity import electricity_bill
from simulator.tariffs.pollution import pollution_charge

__all__ = ["UnitPrices", "unit_prices"]


@dataclass(frozen=True)
class UnitPrices:
    """Per-unit prices of the linear charges, yuan, one row per firm."""

    per_kwh: np.ndarray
    """Electricity, every charge except the fixed capacity charge, yuan per kWh."""
    base_per_kwh: np.ndarray
    """Electricity at the base energy price alone (no differentiated charge), yuan per kWh."""
    per_t: np.ndarray
    """Pollution charge per tonne, class multiplier included, shape (n, pollutants)."""
    base_per_t: np.ndarray
    """Pollution charge per tonne at the base rate, shape (n, pollutants)."""


def unit_prices(firms: Firms, tariffs: Tariffs, sector_names: list[str],
                pollutants: Mapping[str, Any] | None = None) -> UnitPrices:
    """Return each firm's prices per kWh and per tonne under ``tariffs``, at its class now.

    Parameters
    ----------
    firms : Firms
        Class, years in D, contracted capacity (general or large-industry
        pricing), process status, unit consumption and sector of each firm.
    tariffs : Tariffs
        The tariffs in force (or those a timeline change will bring).
    sector_names : list of str
        Sector names by code (the tiered price's sectors).
    pollutants : mapping, optional
        The scenario's pollutants (name -> spec), in the order of the firms'
        emission columns; by default the standard four.
    """
    f = firms
    elec = electricity_bill(
        np.ones(f.n), klass=f.klass, consecutive_d_years=f.consecutive_d_years,
        capacity_kva=f.capacity_kva, process_status=f.process_status,
        unit_consumption=f.unit_consumption, sector=f.sector,
        sector_names=sector_names, params=tariffs.electricity, months=1.0,
    )
    # Pollution charges per tonne depend on the class alone: price one tonne of each
    # pollutant for each class code, then look the table up by class.
    k, m = len(CLASS_LABELS), len(pollutants or DEFAULT_POLLUTANTS)
    codes = np.repeat(np.arange(k), m)
    table = pollution_charge(np.tile(np.eye(m), (k, 1)), klass=codes, params=tariffs.pollution,
                             pollutants=pollutants)
    return UnitPrices(
        per_kwh=elec.total_yuan - elec.capacity_yuan,
        base_per_kwh=elec.energy_yuan,
        per_t=table.total_yuan.reshape(k, m)[f.klass],
        base_per_t=table.base_yuan.reshape(k, m)[f.klass],
    )


def linear_bills(firms: Firms, tariffs: Tariffs, sector_names: list[str], kwh: np.ndarray,
                 emissions_t: np.ndarray, *, months: float,
                 pollutants: Mapping[str, Any] | None = None):
    """Electricity and pollution bills of a period's quantities (both linear at fixed prices).

    The capacity charge is fixed per month, so billing a period's total at
    once equals billing it month by month.

    Returns
    -------
    (ElectricityBill, PollutionBill)
    """
    f = firms
    elec = electricity_bill(
        kwh, klass=f.klass, consecutive_d_years=f.consecutive_d_years,
        capacity_kva=f.capacity_kva, process_status=f.process_status,
        unit_consumption=f.unit_consumption, sector=f.sector,
        sector_names=sector_names, params=tariffs.electricity, months=months,
    )
    return elec, pollution_charge(emissions_t, klass=f.klass, params=tariffs.pollution,
                                  pollutants=pollutants)

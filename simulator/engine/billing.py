"""Stage: bill the linear charges and book the quantities of the period (the flush).

Electricity and pollution charges are linear in quantity at fixed prices and
class, so the calendar bills a whole period at once, just before anything
changes prices, classes or intensities (timeline changes, completed projects,
the annual close). The quantities include the corrections booked when
abatement changed intensities within the period
(:func:`simulator.engine.state.fold_corrections`).
"""

from __future__ import annotations

import numpy as np

from simulator import tariffs
from simulator.engine import sector_prices
from simulator.engine.state import RunState, fold_corrections, reset_corrections

__all__ = ["flush"]


def flush(state: RunState) -> None:
    """Bill the linear charges and book the quantities of the period since the last flush."""
    period = state.period
    if period.months == 0:
        return
    fold_corrections(state, drop=False)
    f = state.firms
    y = f.ytd
    va = period.va
    correction = state.correction
    kwh = va * f.electricity_kwh_per_wan_yuan
    emissions = va[:, None] * f.emission_t_per_wan_yuan
    if "electricity_kwh" in state.corrected:
        kwh += correction["electricity_kwh"]
    if "emissions_t" in state.corrected:
        emissions += correction["emissions_t"]
    elec, pol = tariffs.linear_bills(f, state.params.tariffs, state.sector_names, kwh,
                                     emissions, months=float(period.months),
                                     pollutants=state.params.pollutant_specs())
    revenue = va * (f.revenue_wan_yuan / np.where(f.va_wan_yuan > 0, f.va_wan_yuan, 1.0))
    y["va_wan_yuan"] += va
    y["revenue_wan_yuan"] += revenue
    y["tax_wan_yuan"] += va * f.tax_share_of_va
    y["rd_wan_yuan"] += revenue * f.rd_share_of_revenue
    y["energy_tce"] += va * f.energy_tce_per_wan_yuan
    if "energy_tce" in state.corrected:
        y["energy_tce"] += correction["energy_tce"]
    y["electricity_kwh"] += kwh
    y["water_m3"] += va * f.water_m3_per_wan_yuan
    y["emissions_t"] += emissions
    for market in state.markets.values():
        market.book_unabated(va, f)
    y["electricity_bill_yuan"] += elec.total_yuan
    y["electricity_surcharge_yuan"] += elec.class_surcharge_yuan
    y["electricity_national_tiered_yuan"] += elec.national_yuan + elec.tiered_yuan
    y["pollution_charge_yuan"] += pol.total_yuan
    y["pollution_surcharge_yuan"] += pol.class_surcharge_yuan
    differential_yuan = (elec.class_surcharge_yuan + elec.national_yuan + elec.tiered_yuan
                         + pol.class_surcharge_yuan)
    credit = sector_prices.bill_electricity(state, kwh)  # 环保信用 surcharge (when on)
    if credit is not None:
        y["electricity_bill_yuan"] += credit
        differential_yuan = differential_yuan + credit
    further = tariffs.active(state.params.tariffs)
    if further:  # the period's energy, corrections of abatement included
        energy = va * f.energy_tce_per_wan_yuan
        if "energy_tce" in state.corrected:
            energy += correction["energy_tce"]
    for tariff, spec in further:
        bill = tariff.bill(energy * tariff.per_tce(f, spec, state.sector_names), klass=f.klass,
                           params=spec)
        total, surcharge = tariff.ytd_keys
        y[total] += bill.total_yuan
        y[surcharge] += bill.class_surcharge_yuan
        differential_yuan = differential_yuan + bill.class_surcharge_yuan
    y["profit_wan_yuan"] += revenue * f.profit_margin - differential_yuan * 1e-4
    period.va = np.zeros(f.n)
    period.months = 0
    reset_corrections(state)

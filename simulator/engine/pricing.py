"""Stage: the per-firm prices and unit costs in force (refreshed when they change).

:func:`refresh_rates` recomputes what changes only with prices, classes and
potentials: the per-unit prices of the linear charges
(:func:`simulator.tariffs.unit_prices`), the monthly constants and the class
groups of the monthly metrics. :func:`refresh_unit_cost` recomputes the
variable cost per 万元 revenue of the linear charges and of quota rights (their
opportunity cost at the market price). :func:`cost_shares_at_potential` gives
the unit cost of potential output with and without the differentiated charges.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from simulator import tariffs
from simulator.engine import sector_prices
from simulator.engine.state import RunState, fold_corrections
from simulator.firms import CLASS_LABELS
from simulator.metrics import ratio

__all__ = ["cost_shares_at_potential", "refresh_rates", "refresh_unit_cost"]


def refresh_rates(state: RunState, *, prices_changed: bool = True) -> None:
    """Per-firm rates that change only with prices, classes and potentials.

    Called at the start, on timeline changes and after each annual close, and
    after upgrades take or leave effect (``prices_changed=False``: intensities
    and margins changed, but no price, class or potential, so the markets'
    participant constants stand).
    """
    f = state.firms
    r = state.rates
    r.monthly_groups = _monthly_groups(state)
    # Per-firm constants of the monthly step (potentials change only between years).
    r.va_month = f.va_wan_yuan / 12.0
    r.revenue_month = f.revenue_wan_yuan / 12.0
    r.quota_month = f.water_quota_m3 / 12.0
    r.inv_unit_cost = 1.0 / np.maximum(1.0 - f.profit_margin, 0.05)
    prices = tariffs.unit_prices(f, state.params.tariffs, state.sector_names,
                                 state.params.pollutant_specs())
    r.yuan_per_kwh = prices.per_kwh
    r.yuan_per_t = prices.per_t
    sector_prices.refresh(state)  # credit ratings, water quotas by class (when on)
    refresh_unit_cost(state, prices_changed=prices_changed)


def refresh_unit_cost(state: RunState, *, prices_changed: bool = True) -> None:
    """Variable cost of the linear charges and of rights per 万元 revenue.

    Cheap: per-unit prices times intensities. Called whenever prices,
    classes, potentials or unabated intensities change (see
    :func:`refresh_rates` for ``prices_changed``); an auction updates only
    its market's part (:func:`simulator.engine.trading.abate`).
    """
    f = state.firms
    r = state.rates
    # The participants' rates and revenue shares change with prices, classes and potentials.
    fold_corrections(state, drop=prices_changed)
    yuan_per_wan_yuan_va = (r.yuan_per_kwh * f.electricity_kwh_per_wan_yuan
                            + np.einsum("ij,ij->i", r.yuan_per_t, f.emission_t_per_wan_yuan))
    for tariff, spec in tariffs.active(state.params.tariffs):  # further linear tariffs
        per_unit = tariff.bill(np.ones(f.n), klass=f.klass, params=spec).total_yuan
        yuan_per_wan_yuan_va += (per_unit * tariff.per_tce(f, spec, state.sector_names)
                                 * f.energy_tce_per_wan_yuan)
    # Rights used have an opportunity cost at the market price, free allocation or not.
    for market in state.markets.values():
        market.add_unit_cost(yuan_per_wan_yuan_va, f)
    r.wan_yuan_va_per_yuan_revenue = ratio(f.va_wan_yuan * 1e-4, f.revenue_wan_yuan)
    r.linear_cost_share = yuan_per_wan_yuan_va * r.wan_yuan_va_per_yuan_revenue


def cost_shares_at_potential(state: RunState) -> tuple[np.ndarray, np.ndarray]:
    """(full, base-price) variable resource cost per 万元 revenue at potential output.

    The base-price share leaves out every differentiated charge (class
    surcharges, national differential and tiered prices, over-quota water,
    the pollution class multiplier): it is the unit cost at which a firm
    produces its potential output.
    """
    f = state.firms
    t = state.params.tariffs
    va = f.va_wan_yuan / 12.0
    revenue = f.revenue_wan_yuan / 12.0
    elec, pol = tariffs.linear_bills(
        f, t, state.sector_names, va * f.electricity_kwh_per_wan_yuan,
        va[:, None] * f.emission_t_per_wan_yuan, months=1.0,
        pollutants=state.params.pollutant_specs())
    quota = state.rates.quota_month if t.water.rights.active else f.water_quota_m3 / 12.0
    wat = tariffs.water_bill(va * f.water_m3_per_wan_yuan, quota_m3=quota, klass=f.klass,
                             params=t.water)
    full = state.rates.linear_cost_share + ratio(wat.total_yuan * 1e-4, revenue)
    base_yuan = elec.energy_yuan + pol.base_yuan + wat.base_yuan
    for tariff, spec in tariffs.active(t):  # further linear tariffs at their base price
        units = va * f.energy_tce_per_wan_yuan * tariff.per_tce(f, spec, state.sector_names)
        base_yuan = base_yuan + tariff.bill(units, klass=f.klass, params=spec).base_yuan
    base = ratio(base_yuan * 1e-4, revenue)
    return full, base


def _monthly_groups(state: RunState) -> sparse.csc_matrix:
    """Class membership of industrial firms as a sparse matrix (row K: services)."""
    f = state.firms
    k = len(CLASS_LABELS)
    row = np.where(f.is_services, k, f.klass).astype(np.int32)
    return sparse.csc_matrix((np.ones(f.n), row, np.arange(f.n + 1)), shape=(k + 1, f.n))

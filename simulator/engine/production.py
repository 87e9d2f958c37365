"""Stage: a month of production (output response and shock, the monthly water bill).

A firm's monthly output is ``potential / 12 * shock * (1 + Δ) ** -elasticity``,
where ``shock`` is a mean-one AR(1) lognormal and ``Δ`` is the excess of its
variable resource bill per yuan of revenue over what it would pay at the
scenario's base prices in the first month (no class surcharge, national
differential, tiered or over-quota price, pollution multiplier), relative to
its unit cost ``1 - margin``: a constant-elasticity supply response to unit
cost. It is lagged one month (firms react to the last bill they saw); the
first month reacts to the bill at potential output. Potential output is thus
the output at undifferentiated base prices, whatever the policy in force at
the start.

Water is billed monthly because its over-quota blocks are nonlinear; the
linear charges wait for the flush (:mod:`simulator.engine.billing`).
"""

from __future__ import annotations

import numpy as np

from simulator import tariffs
from simulator.engine import sector_prices
from simulator.engine.state import RunState, draw

__all__ = ["produce_month"]


def produce_month(state: RunState) -> np.ndarray:
    """Produce one month; return each firm's output factor (output / potential).

    Runs every month for every firm, so it works in preallocated buffers:
    at 10^6 firms a fresh temporary costs as much as the arithmetic. The
    month's VA is left in ``state.buffers["va"]`` for the monthly metrics.
    """
    p = state.params
    f = state.firms
    b = state.buffers
    r = state.rates
    period = state.period
    shock = p.behaviour.shock
    rho, sigma = shock.persistence, shock.sigma
    z = draw(state, f"shock/{period.months_done}", "normal", out=b["z"])
    f.log_shock *= rho
    z *= sigma
    f.log_shock += z
    log_factor = np.subtract(f.log_shock, 0.5 * sigma * sigma / (1.0 - rho * rho),
                             out=b["log_factor"])
    if p.behaviour.output_response:
        # log factor -= elasticity * log(1 + (last - reference) / unit cost)
        d = np.subtract(state.last_cost_share, f.reference_cost_share, out=b["work"])
        d *= r.inv_unit_cost
        d += 1.0
        np.maximum(d, 0.01, out=d)
        np.log(d, out=d)
        d *= f.output_elasticity
        log_factor -= d
    factor = np.exp(log_factor, out=f.output_factor)
    if p.tariffs.orderly_power.enabled:  # 有序用电: cut low classes first in shortage months
        sector_prices.curtail(state, factor)

    va = np.multiply(r.va_month, factor, out=b["va"])
    water = np.multiply(va, f.water_m3_per_wan_yuan, out=b["work"])
    wat = tariffs.water_bill(water, quota_m3=r.quota_month, klass=f.klass,
                             params=p.tariffs.water)
    y = f.ytd
    bill = wat.total_yuan
    if p.tariffs.water.rights.active or p.tariffs.environmental_credit.enabled:
        bill = bill + sector_prices.water_extras(state, water, r.quota_month, wat.over_quota_yuan)
        y["profit_wan_yuan"] -= (bill - wat.total_yuan) * 1e-4
    y["water_bill_yuan"] += bill
    surcharge = np.add(wat.over_quota_yuan, wat.class_surcharge_yuan, out=b["work"])
    y["water_surcharge_yuan"] += surcharge
    surcharge *= 1e-4
    y["profit_wan_yuan"] -= surcharge
    period.va += va
    period.months += 1
    period.months_done += 1

    # Unit cost seen this month: linear charges + water, per 万元 revenue.
    revenue = np.multiply(r.revenue_month, factor, out=b["work"])
    cost = state.last_cost_share
    np.divide(bill, revenue, out=cost, where=revenue > 0)
    cost[revenue <= 0] = 0.0
    cost *= 1e-4
    cost += r.linear_cost_share
    return factor

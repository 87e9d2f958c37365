"""Orderly power use, water rights and credit surcharges in a run (shared by the stages).

The pricing, production and billing stages and the recorder call these helpers only
when a scenario switches the mechanism on (``tariffs.orderly_power.enabled``,
``tariffs.water.rights`` not neutral, ``tariffs.environmental_credit.enabled``), so a
run without them does exactly what it did before. The economics are the pure
functions of :mod:`simulator.tariffs.orderly`, :mod:`simulator.tariffs.water_rights`
and :mod:`simulator.tariffs.credit`; here they meet the run's state:

* :func:`refresh` (with the rates): each firm's credit rating and water-saving
  certificate, drawn from uniform numbers keyed by firm id in their own streams
  (``environmental_credit``, ``water_saving``: no other stream moves), its monthly
  water quota after the class factor, and the credit surcharge in its price per kWh;
* :func:`curtail` (each month): the orderly cut of a shortage month, applied to the
  output factor;
* :func:`water_extras` (each month): over-quota m^3, the credit sewage surcharge and
  the water-saving relief;
* :func:`bill_electricity` (the flush): the credit surcharge on the period's kWh;
* :func:`annual_sums` (the annual close): the year's sums for the metrics.
"""

from __future__ import annotations

import numpy as np

from simulator.engine.state import RunState, draw
from simulator.rng import mechanism_rng
from simulator.tariffs.credit import credit_ratings, credit_surcharge
from simulator.tariffs.orderly import orderly_cut, shortage_year
from simulator.tariffs.water_rights import class_water_quota, over_quota_m3, water_saving_relief

__all__ = ["annual_sums", "bill_electricity", "curtail", "refresh", "water_extras"]

#: Year-to-date sums of each mechanism, per firm.
YTD_KEYS: dict[str, tuple[str, ...]] = {
    "orderly_power": ("orderly_curtailed_kwh", "orderly_lost_va_wan_yuan"),
    "water_rights": ("water_over_quota_m3", "water_over_quota_yuan", "water_saving_relief_yuan"),
    "environmental_credit": ("credit_electricity_surcharge_yuan", "credit_sewage_surcharge_yuan"),
}


def _switched_on(state: RunState) -> list[str]:
    """Return the mechanisms of this module the scenario in force switches on."""
    t = state.params.tariffs
    on = {"orderly_power": t.orderly_power.enabled, "water_rights": t.water.rights.active,
          "environmental_credit": t.environmental_credit.enabled}
    return [name for name, is_on in on.items() if is_on]


def refresh(state: RunState) -> None:
    """Ratings, certificates, quotas and the credit price per kWh of the firms now in the run.

    Called by :func:`simulator.engine.pricing.refresh_rates` after the per-kWh
    prices; does nothing unless a mechanism is on.
    """
    on = _switched_on(state)
    if not on:
        return
    f = state.firms
    r = state.rates
    t = state.params.tariffs
    for name in on:
        for key in YTD_KEYS[name]:
            if key not in f.ytd or f.ytd[key].size != f.n:
                f.ytd[key] = np.zeros(f.n)
    rights = t.water.rights
    if rights.active:
        share = rights.water_saving.certified_share
        r.water_saving = (draw(state, "water_saving", "uniform") < share) & ~f.is_services
        r.quota_month = class_water_quota(f.water_quota_m3 / 12.0, klass=f.klass,
                                          certified=r.water_saving, params=rights)
    credit = t.environmental_credit
    if credit.enabled:
        r.credit_rating = credit_ratings(draw(state, "environmental_credit", "uniform"),
                                         credit.shares.as_tuple())
        r.yuan_per_kwh = r.yuan_per_kwh + credit_surcharge(
            np.ones(f.n), r.credit_rating, credit.electricity_surcharge_yuan_per_kwh.as_tuple())


def curtail(state: RunState, factor: np.ndarray) -> None:
    """Cut this month's output factor (in place) if it is a shortage month.

    The month is the ``period.months_done``-th of the run (production has not yet
    counted it); its year is a shortage year if listed or drawn (its own stream
    ``orderly_power/<year>``).
    """
    p = state.params
    plan = p.tariffs.orderly_power
    done = state.period.months_done
    year, month = p.run.first_year + done // 12, done % 12 + 1
    if month not in plan.months:
        return
    rng = mechanism_rng(p.seed, state.replication, f"orderly_power/{year}")
    if not shortage_year(year, plan, rng):
        return
    f = state.firms
    va = state.rates.va_month * factor
    demand = va * f.electricity_kwh_per_wan_yuan
    cut = orderly_cut(demand, klass=f.klass, eligible=~f.is_services, params=plan)
    f.ytd["orderly_curtailed_kwh"] += demand * cut.cut_share
    f.ytd["orderly_lost_va_wan_yuan"] += va * cut.cut_share
    factor *= 1.0 - cut.cut_share


def water_extras(state: RunState, water_m3: np.ndarray, quota_m3: np.ndarray,
                 over_quota_yuan: np.ndarray) -> np.ndarray:
    """Book the month's over-quota water, credit sewage surcharge and relief; return the net.

    Returns
    -------
    ndarray of float64, shape (n,)
        What the water bill changes by, yuan (the credit surcharge less the relief).
    """
    f = state.firms
    y = f.ytd
    t = state.params.tariffs
    net = np.zeros(f.n)
    if t.water.rights.active:
        y["water_over_quota_m3"] += over_quota_m3(water_m3, quota_m3)
        y["water_over_quota_yuan"] += over_quota_yuan
        relief = water_saving_relief(water_m3, certified=state.rates.water_saving,
                                     params=t.water.rights)
        y["water_saving_relief_yuan"] += relief
        net -= relief
    credit = t.environmental_credit
    if credit.enabled:
        sewage = credit_surcharge(water_m3, state.rates.credit_rating,
                                  credit.sewage_surcharge_yuan_per_m3.as_tuple())
        y["credit_sewage_surcharge_yuan"] += sewage
        net += sewage
    return net


def bill_electricity(state: RunState, kwh: np.ndarray) -> np.ndarray | None:
    """Book the credit surcharge on the period's kWh; return it (None when off)."""
    credit = state.params.tariffs.environmental_credit
    if not credit.enabled:
        return None
    surcharge = credit_surcharge(kwh, state.rates.credit_rating,
                                 credit.electricity_surcharge_yuan_per_kwh.as_tuple())
    state.firms.ytd["credit_electricity_surcharge_yuan"] += surcharge
    return surcharge


def annual_sums(state: RunState) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """Return the year's per-firm sums for the metrics, and what they add to differential revenue.

    The revenue is the credit surcharges less the water-saving relief (None when
    no mechanism is on, so the differential revenue stays as it was).
    """
    on = _switched_on(state)
    if not on:
        return {}, None
    y = state.firms.ytd
    out: dict[str, np.ndarray] = {}
    revenue = np.zeros(state.firms.n)
    if "orderly_power" in on:
        out["orderly_curtailed_kwh"] = y["orderly_curtailed_kwh"]
        out["orderly_lost_va_wan_yuan"] = y["orderly_lost_va_wan_yuan"]
    if "water_rights" in on:
        out["water_over_quota_m3"] = y["water_over_quota_m3"]
        out["water_over_quota_yuan"] = y["water_over_quota_yuan"]
        out["water_saving_relief_yuan"] = y["water_saving_relief_yuan"]
        revenue -= y["water_saving_relief_yuan"]
    if "environmental_credit" in on:
        credit = y["credit_electricity_surcharge_yuan"] + y["credit_sewage_surcharge_yuan"]
        out["revenue_environmental_credit_yuan"] = credit
        revenue += credit
    return out, revenue


"""Warnings about quota markets that do not do what a comparison of quota policy assumes.

A market whose cap never binds (firms' unabated use stays within the cap)
prices nothing but its floor; a market whose auctions are mostly priced by
the reserve's floor, ceiling or reserve prices measures administrative prices,
not firms' abatement costs. Both are easy to miss in a figure, so ``run``,
``validate --project`` and the brief say them in words, one line per market:

- :func:`market_warnings` reads a run's metrics (after the run);
- :func:`projected_warnings` reads the projection of
  :mod:`simulator.markets.planning` (before any run; an upper bound on use).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.markets.planning import least_cost_price, project_market
from simulator.scenario import Scenario

__all__ = ["ADMINISTRATIVE_LIMIT", "market_summary", "market_warnings", "projected_warnings"]

#: Above this share of auctions priced administratively, a market is "pinned".
ADMINISTRATIVE_LIMIT = 0.5


def _years(years: list[int]) -> str:
    return f"{min(years)}-{max(years)}" if len(years) > 1 else str(years[0])


def market_summary(metrics: pd.DataFrame) -> pd.DataFrame:
    """Return each market's run in a few numbers (replications pooled).

    Columns: ``market``, ``first_year``, ``last_year``, ``binding_years`` (years
    the mean unabated use exceeds the cap), ``administrative_share`` (of the
    auctions that traded, the share priced by the floor, the ceiling or a
    reserve price; NaN without trade), ``price_min`` and ``price_max`` (of the
    yearly mean prices), ``compliance_min``.
    """
    annual = metrics[metrics["month"].isna() & metrics["group"].str.startswith("market=")]
    rows = []
    for group, part in annual.groupby("group", sort=False):
        by = part.pivot_table(index="year", columns="metric", values="value", aggfunc="mean")
        cleared = admin = 0.0
        if {"auctions_cleared", "auctions_administrative_share"} <= set(by.columns):
            cleared = float(by["auctions_cleared"].sum())
            admin = float((by["auctions_administrative_share"].fillna(0.0)
                           * by["auctions_cleared"]).sum())
        binds = (by["quota_unabated_use"] > by["quota_cap"]
                 if {"quota_unabated_use", "quota_cap"} <= set(by.columns)
                 else pd.Series(False, index=by.index))
        price = by.get("quota_price_mean_yuan_per_unit", pd.Series(dtype=float))
        rows.append({"market": group.split("=", 1)[1], "first_year": int(by.index.min()),
                     "last_year": int(by.index.max()),
                     "binding_years": [int(y) for y in by.index[binds]],
                     "administrative_share": admin / cleared if cleared else np.nan,
                     "price_min": float(price.min()), "price_max": float(price.max()),
                     "compliance_min": float(by["quota_compliance_rate"].min())
                     if "quota_compliance_rate" in by else np.nan})
    return pd.DataFrame(rows)


def market_warnings(metrics: pd.DataFrame) -> list[str]:
    """Return one warning line per market whose cap never binds or whose prices are pinned.

    Parameters
    ----------
    metrics : pandas.DataFrame
        A run's tidy metrics (several replications are pooled).
    """
    out = []
    for m in market_summary(metrics).itertuples():
        span = _years([m.first_year, m.last_year])
        if not m.binding_years:
            out.append(f"market {m.market}: the cap never binds in {span}: firms' unabated "
                       "use stays below it, so prices measure the floor and the reserve, not "
                       "scarcity")
        if m.administrative_share > ADMINISTRATIVE_LIMIT:
            out.append(f"market {m.market}: {m.administrative_share:.0%} of the auctions that "
                       f"traded in {span} were priced by the floor, the ceiling or a reserve "
                       "price, not by firms' abatement costs")
    return out


def projected_warnings(scenario: Scenario) -> list[str]:
    """Return one warning line per market projected never to bind or to price at its floor.

    Uses :func:`simulator.markets.planning.project_market`: growth and
    intensity change applied, but no turnover, upgrades or shocks, which
    lower use further. The projection is thus an upper bound on use and on
    the least-cost price: a market it projects slack, or at its floor, is so
    in the full run too. (Whether prices reach the ceiling only the run can
    tell: ``run`` warns after it.)
    """
    from simulator.markets.cycle import enabled_markets

    out = []
    for quota in enabled_markets(scenario):
        p = project_market(scenario, quota)
        spec = scenario.markets.of(quota)
        floor = spec.price.floor_yuan_per_unit
        prices, binds = [], []
        for k in range(len(p.years)):
            rights = p.cap[k] * (1.0 - p.reserve_share[k])
            prices.append(least_cost_price(p.need[k], p.inv_slope, p.reach[k], rights))
            binds.append(float(p.need[k].sum()) > p.cap[k])
        at_floor = np.array(prices) <= floor
        if not any(binds):
            out.append(f"market {quota}: projected never to bind in {_years(p.years)}: "
                       "unabated use stays below the cap even without turnover or upgrades")
        elif at_floor.mean() > ADMINISTRATIVE_LIMIT:
            out.append(f"market {quota}: the least-cost price is projected at or below the "
                       f"floor ({floor:g}) in {int(at_floor.sum())} of {len(p.years)} years, "
                       "even without turnover or upgrades")
    return out

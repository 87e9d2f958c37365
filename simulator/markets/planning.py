"""Cap planning before a run: the least-cost price of a cap, and the cap of a target price.

With linear marginal abatement costs ``MAC_i(q) = c_i q``, firm ``i`` facing
the price ``p`` abates ``a_i(p) = min(p / c_i, r_i)``, where ``r_i`` is the
most it abates (``mac.max_abatement_share`` of its unabated use, and no
further than where its MAC reaches the penalty or over-quota surcharge,
above which it would rather pay). With rights ``R`` in the firms' hands and
unabated use ``e_i``, the market clears where abatement closes the gap
(Montgomery 1972)::

    sum_i a_i(p*) = sum_i e_i - R,   so   p* = (sum e - R) / sum(1 / c)

while no firm is at its bound. :func:`least_cost_price` solves this for any
bounds (a piecewise-linear equation, one sort); :func:`rights_for_price` is
its inverse. :func:`project_market` projects a scenario's unabated use, MAC
slopes and caps year by year before the full model runs (the same firms and
MAC draws as the engine, growth and autonomous intensity change applied; no
exits, entry, investment or output shocks: an upper bound on use, which
:func:`scaled_to` corrects with a run's recorded unabated use), and
:func:`plan_caps` turns it into the least-cost price of each year's cap and,
for a target price path, the cap that produces it. The caps count what firms hold: the reserve's
withheld share (``reserve.share_of_cap``) is not in their hands unless it is
sold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulator.dynamics.growth import Frontier, grow
from simulator.markets.allocation import mac_slopes, next_cap
from simulator.markets.kinds import kind_of
from simulator.population import build_population
from simulator.rng import mechanism_rng
from simulator.scenario import Scenario, apply_changes

__all__ = [
    "MarketProjection",
    "abatement_at",
    "least_cost_price",
    "plan_caps",
    "project_market",
    "rights_for_price",
    "scaled_to",
]


def abatement_at(price: float, inv_slope: np.ndarray, reach: np.ndarray) -> float:
    """Return the firms' total abatement at ``price``: ``sum(min(price / c_i, r_i))``, units."""
    return float(np.minimum(max(price, 0.0) * inv_slope, reach).sum())


def least_cost_price(need: np.ndarray, inv_slope: np.ndarray, reach: np.ndarray,
                     rights: float) -> float:
    """Return the price at which abatement covers the gap between use and rights, yuan/unit.

    Parameters
    ----------
    need : ndarray of float
        Each firm's unabated use, units.
    inv_slope : ndarray of float
        ``1 / c_i``: units abated per yuan of price (0: the firm cannot abate).
    reach : ndarray of float
        The most each firm abates, units.
    rights : float
        Rights in the firms' hands, units.

    Returns
    -------
    float
        0 if the rights cover the use unabated; ``inf`` if not even every
        firm's most abatement closes the gap; else the ``p`` with
        ``sum(min(p / c_i, r_i)) == sum(need) - rights``.

    Examples
    --------
    Two firms needing 100 and 60 units with slopes ``c`` 10 and 20 and 140
    rights: ``p* = 20 / (1/10 + 1/20)``.

    >>> round(least_cost_price(np.array([100.0, 60.0]), np.array([0.1, 0.05]),
    ...                        np.array([50.0, 30.0]), 140.0), 6)
    133.333333
    """
    gap = float(np.sum(need)) - rights
    if gap <= 0:
        return 0.0
    b = np.asarray(inv_slope, dtype=float)
    r = np.asarray(reach, dtype=float)
    active = (b > 0) & (r > 0)
    b, r = b[active], r[active]
    # The gap carries the rounding of sum(need) - rights (a few ulps of sum(need)): a gap
    # equal to the firms' most abatement up to that rounding is closed by it, not infinite.
    if gap > r.sum() * (1.0 + 1e-12) + 4 * np.finfo(float).eps * float(np.sum(need)):
        return float("inf")
    kink = r / b  # the price at which each firm reaches its most
    order = np.argsort(kink, kind="stable")
    kink, b, r = kink[order], b[order], r[order]
    # Abatement at kink k: firms before k at their most, the rest on their slopes.
    done = np.concatenate([[0.0], np.cumsum(r)])[:-1]
    slope_left = np.cumsum(b[::-1])[::-1]  # sum of 1/c of firms k.. (not yet at their most)
    at_kink = done + kink * slope_left
    k = int(np.searchsorted(at_kink, gap, side="left"))
    k = min(k, kink.size - 1)
    return float((gap - done[k]) / slope_left[k])


def rights_for_price(need: np.ndarray, inv_slope: np.ndarray, reach: np.ndarray,
                     price: float) -> float:
    """Return the rights at which the market clears at ``price``: use less abatement, units.

    The inverse of :func:`least_cost_price` where the price is positive and
    finite.

    Examples
    --------
    >>> rights_for_price(np.array([100.0, 60.0]), np.array([0.1, 0.05]),
    ...                  np.array([50.0, 30.0]), 400 / 3)
    140.0
    """
    return float(np.sum(need)) - abatement_at(price, inv_slope, reach)


@dataclass(frozen=True)
class MarketProjection:
    """One market's projected years before a run (see :func:`project_market`)."""

    quota: str
    years: list[int]
    need: list[np.ndarray]
    """Covered firms' unabated use at potential output, per year, units."""
    inv_slope: np.ndarray
    """``1 / c_i`` of every firm, units per yuan (fixed over the run)."""
    reach: list[np.ndarray]
    """The most each firm abates, per year, units."""
    cap: np.ndarray
    """The scenario's cap per year, units."""
    reserve_share: np.ndarray
    """The reserve's share of each year's cap (not in the firms' hands unless sold)."""


def _scenario_in(scenario: Scenario, year: int) -> Scenario:
    """Return the scenario with the timeline changes dated up to January of ``year``."""
    due = sorted((c for c in scenario.timeline if c.date <= f"{year:04d}-01"),
                 key=lambda c: c.date)
    out = scenario
    for change in due:
        out = apply_changes(out, change.set)
    return out


def project_market(scenario: Scenario, quota: str, *, replication: int = 0) -> MarketProjection:
    """Project one market's unabated use, MAC slopes and caps over the run.

    The firms and their MAC slopes are those the engine draws for the same
    scenario, seed and replication. Each year, potential output grows and
    intensities change as ``behaviour`` says (timeline changes included);
    firms do not exit, enter, invest or meet shocks, and coverage is decided
    on potential use (the engine uses last year's actual use).

    Parameters
    ----------
    scenario : Scenario
        The scenario (the market must be switched on).
    quota : str
        ``"energy"`` or a pollutant.
    replication : int
        Replication whose draws to use.
    """
    seed = scenario.seed
    firms = build_population(scenario, mechanism_rng(seed, replication, "population"))
    kind = kind_of(quota, scenario.pollutant_names())

    def intensity() -> np.ndarray:
        return kind.intensity(firms)

    spec = scenario.markets.of(quota)
    if not spec.enabled:
        raise ValueError(f"The 'quota' parameter must name a market switched on. "
                         f"Got {quota!r} instead.")
    potential = intensity() * firms.va_wan_yuan
    slope = mac_slopes(potential, sector=firms.sector, sector_names=scenario.sector_names(),
                       spec=spec.mac, rng=mechanism_rng(seed, replication, f"mac_{quota}"))
    with np.errstate(divide="ignore"):
        inv_slope = np.where(np.isfinite(slope), 1.0 / slope, 0.0)
    baseline_total = float(potential[potential >= spec.scope_min_use_per_year].sum())
    frontier = Frontier.of(scenario.quota_names())
    years, needs, reaches, caps, reserve = [], [], [], [], []
    cap = 0.0
    for year in scenario.years:
        now = _scenario_in(scenario, year)
        if year > scenario.run.first_year:
            grow(firms, now.behaviour, year, frontier, scenario.quota_names())
        s = now.markets.of(quota)
        use = intensity() * firms.va_wan_yuan
        need = np.where(use >= s.scope_min_use_per_year, use, 0.0)
        bid_cap = kind.bid_cap(s)
        cap = next_cap(s.cap, year=year, first_year=scenario.run.first_year,
                       baseline_total=baseline_total, previous=cap)
        years.append(year)
        needs.append(need)
        reaches.append(np.minimum(s.mac.max_abatement_share * need, bid_cap * inv_slope))
        caps.append(cap)
        reserve.append(s.reserve.share_of_cap)
    return MarketProjection(quota=quota, years=years, need=needs, inv_slope=inv_slope,
                            reach=reaches, cap=np.array(caps), reserve_share=np.array(reserve))


def scaled_to(projection: MarketProjection, unabated_use: Mapping[int, float]
              ) -> MarketProjection:
    """Return the projection with each year's use scaled to a run's unabated use.

    The static projection leaves out turnover, upgrades and output response,
    which the full model has; a run's recorded ``quota_unabated_use`` (covered
    firms, per year) carries them. Scaling every firm's need and reach by the
    year's ratio keeps the projection's spread of firms and MAC slopes.
    Years the run does not have are left as projected.
    """
    need, reach = [], []
    for k, year in enumerate(projection.years):
        total = float(projection.need[k].sum())
        factor = unabated_use[year] / total if year in unabated_use and total > 0 else 1.0
        need.append(projection.need[k] * factor)
        reach.append(projection.reach[k] * factor)
    return MarketProjection(quota=projection.quota, years=projection.years, need=need,
                            inv_slope=projection.inv_slope, reach=reach, cap=projection.cap,
                            reserve_share=projection.reserve_share)


def plan_caps(projection: MarketProjection, *,
              target_prices: Mapping[int, float] | None = None,
              caps: Mapping[int, float] | None = None) -> pd.DataFrame:
    """Return the projected market year by year: caps, least-cost prices, caps for targets.

    Parameters
    ----------
    projection : MarketProjection
        From :func:`project_market`.
    target_prices : mapping of int to float, optional
        Year -> target price, yuan per unit: the cap that clears there is given.
    caps : mapping of int to float, optional
        Year -> cap, units, instead of the scenario's (its price is given).

    Returns
    -------
    pandas.DataFrame
        One row per year: ``year``, ``unabated_use`` (covered firms at
        potential), ``max_abatement``, ``cap``, ``firm_rights`` (cap less the
        reserve's share), ``price`` (least-cost price of those rights; 0 when
        the cap does not bind, inf when abatement cannot close the gap),
        ``slack`` (1 - unabated use / cap), and with ``target_prices``:
        ``target_price``, ``cap_for_target`` (the cap whose firm rights clear
        at the target) and ``index_for_target`` (that cap relative to the
        scenario's first-year cap: a ``cap.index_by_year`` entry).
    """
    rows = []
    for k, year in enumerate(projection.years):
        need, reach = projection.need[k], projection.reach[k]
        cap = float(caps[year]) if caps and year in caps else float(projection.cap[k])
        keep = 1.0 - projection.reserve_share[k]
        rights = cap * keep
        total = float(need.sum())
        row = {"year": year, "unabated_use": total, "max_abatement": float(reach.sum()),
               "cap": cap, "firm_rights": rights,
               "price": least_cost_price(need, projection.inv_slope, reach, rights),
               "slack": 1.0 - total / cap if cap > 0 else float("nan")}
        if target_prices and year in target_prices:
            target = float(target_prices[year])
            for_target = rights_for_price(need, projection.inv_slope, reach, target) / keep
            row.update(target_price=target, cap_for_target=for_target,
                       index_for_target=for_target / float(projection.cap[0]))
        rows.append(row)
    return pd.DataFrame(rows)

"""Caps, allocation, abatement and the charges of the quota markets.

Pure functions over arrays (one row per firm) for the tradeable quotas:
energy-use rights (用能权, tce) and emission rights (排污权, t of COD, NH3-N,
SO2 or NOx). "Units" below are the quota's unit; money is in yuan.

- :func:`cap_for_year`: the region's total cap (总量控制) on its declining path.
- :func:`baseline_allocation`: free allocation from history by class and
  intensity, scaled down to fit under the cap.
- :func:`mac_slopes`, :func:`abatement`, :func:`abatement_cost`: linear
  marginal abatement cost ``MAC_i(q) = c_i q`` (the auction order it implies
  is :class:`~simulator.markets.auction.AbatementBook`).
- :func:`overquota_surcharge`: energy use over quota (超限额差别加价).
- :func:`subscription_charge`: paid subscription of new energy use (有偿申购).
- :func:`energy_paid_use_fee`, :func:`emission_paid_use_fee`: annual paid
  use of the allocation (有偿使用).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from simulator.firms import per_class
from simulator.scenario import (
    AllocationSpec,
    CapSpec,
    ClassValues,
    MacSpec,
    PriceBlock,
    SubscriptionSpec,
)

__all__ = [
    "abatement",
    "abatement_cost",
    "baseline_allocation",
    "cap_for_year",
    "cap_index",
    "next_cap",
    "emission_paid_use_fee",
    "energy_paid_use_fee",
    "mac_slopes",
    "overquota_surcharge",
    "subscription_charge",
]


def cap_for_year(spec: CapSpec, *, year: int, first_year: int, baseline_total: float) -> float:
    """Return the region's total cap of one quota for a calendar year, units.

    Parameters
    ----------
    spec : CapSpec
        The cap path; an explicit ``spec.yearly[year]`` overrides it.
    year : int
        Calendar year.
    first_year : int
        First year of the run (the cap path starts there).
    baseline_total : float
        The firms' total baseline (potential) use, units.

    Returns
    -------
    float
        ``baseline_total * first_year_share_of_baseline * path(year) / path(first_year)``,
        units, where the path is ``spec.index_by_year`` (:func:`cap_index`) up to its
        last year and falls by ``annual_decline`` a year after it (or from the first
        year, without an index).

    Examples
    --------
    >>> spec = CapSpec(first_year_share_of_baseline=0.9, annual_decline=0.05)
    >>> round(cap_for_year(spec, year=2019, first_year=2017, baseline_total=1000.0), 6)
    812.25
    >>> plan = CapSpec(index_by_year={2015: 1.0, 2020: 0.8})
    >>> round(cap_for_year(plan, year=2020, first_year=2017, baseline_total=1000.0), 3)
    874.69
    """
    if year in spec.yearly:
        return float(spec.yearly[year])
    start = baseline_total * spec.first_year_share_of_baseline
    if not spec.index_by_year:
        return float(start * (1.0 - spec.annual_decline) ** (year - first_year))
    return float(start * cap_index(spec, year) / cap_index(spec, first_year))


def next_cap(spec: CapSpec, *, year: int, first_year: int, baseline_total: float,
             previous: float) -> float:
    """Return the cap of ``year`` given last year's, units.

    The first year, a year with an explicit cap and the years of an index path
    take :func:`cap_for_year`; other years step from last year's cap at the
    decline rate in force now, so that a timeline change of the rate applies
    from its date on, not retroactively.
    """
    path = spec.index_by_year
    if year == first_year or year in spec.yearly or (path and year <= max(path)):
        return cap_for_year(spec, year=year, first_year=first_year,
                            baseline_total=baseline_total)
    return previous * (1.0 - spec.annual_decline)


def cap_index(spec: CapSpec, year: int) -> float:
    """Return the index of ``spec.index_by_year`` in ``year`` (a ValueError without one).

    Geometric between the listed years; before the first listed year,
    extended at the first segment's rate (flat with one listed year); after
    the last, falling by ``spec.annual_decline`` a year.

    Examples
    --------
    >>> plan = CapSpec(index_by_year={2015: 1.0, 2020: 0.81}, annual_decline=0.1)
    >>> [round(cap_index(plan, y), 4) for y in (2014, 2015, 2016, 2020, 2021)]
    [1.043, 1.0, 0.9587, 0.81, 0.729]
    """
    path = spec.index_by_year
    if not path:
        raise ValueError("The 'spec' parameter must have an index_by_year. Got none instead.")
    years = sorted(path)
    last = years[-1]
    if year >= last:
        return path[last] * (1.0 - spec.annual_decline) ** (year - last)
    k = max(int(np.searchsorted(years, year, side="right")) - 1, 0)  # segment years[k]..[k+1]
    y0, y1 = years[k], years[k + 1]
    rate = (path[y1] / path[y0]) ** (1.0 / (y1 - y0))
    return path[y0] * rate ** (year - y0)


def baseline_allocation(
    history: ArrayLike,
    *,
    klass: ArrayLike,
    intensity_ratio: ArrayLike,
    spec: AllocationSpec,
    total: float,
) -> np.ndarray:
    """Return each firm's free allocation (基数分配), units.

    The raw claim is history x class factor x intensity factor, where the
    intensity factor is that of the last ``spec.intensity_factors`` entry
    whose ``above_ratio`` the firm's intensity ratio exceeds (1 below all of
    them). Claims are scaled down pro rata when they add up to more than
    ``total``; when they add up to less, the rest stays with the reserve.

    Parameters
    ----------
    history : array_like of float, shape (n,)
        Historical use or emissions, units; ``<= 0`` gets nothing.
    klass : array_like of int, shape (n,)
        Evaluation class code (0..3 = A..D, 4 = unrated).
    intensity_ratio : array_like of float, shape (n,)
        The firm's intensity over its sector's benchmark (median).
    spec : AllocationSpec
        Class factors (unrated firms get ``spec.unrated_factor``) and
        intensity factors.
    total : float
        Rights available for free allocation, units.

    Returns
    -------
    ndarray of float, shape (n,)
        Allocation per firm, units; sums to at most ``total`` (up to rounding).

    Examples
    --------
    >>> from simulator.scenario import IntensityFactor
    >>> spec = AllocationSpec(intensity_factors=[IntensityFactor(above_ratio=1.5, factor=0.8)])
    >>> baseline_allocation([100.0, 100.0], klass=[0, 3], intensity_ratio=[1.0, 2.0],
    ...                     spec=spec, total=1000.0).tolist()
    [100.0, 72.0]
    """
    history = np.asarray(history, dtype=float)
    ratio = np.asarray(intensity_ratio, dtype=float)
    klass_factor = per_class(spec.class_factor.as_tuple(), np.asarray(klass),
                             unrated=spec.unrated_factor)
    above = np.array([f.above_ratio for f in spec.intensity_factors], dtype=float)
    factors = np.array([1.0, *(f.factor for f in spec.intensity_factors)])
    # Number of thresholds strictly below the ratio = index of the factor in force.
    intensity_factor = factors[np.searchsorted(above, ratio, side="left")]
    raw = np.where(history > 0, history, 0.0) * klass_factor * intensity_factor
    claimed = float(raw.sum())
    if claimed <= 0 or total <= 0:
        return np.zeros_like(raw)
    return raw * min(1.0, total / claimed)


def mac_slopes(
    baseline_use: ArrayLike,
    *,
    sector: ArrayLike,
    sector_names: Sequence[str],
    spec: MacSpec,
    rng: np.random.Generator,
) -> np.ndarray:
    """Draw each firm's marginal-abatement-cost slope ``c_i``, yuan per unit^2.

    ``c_i = m_s / (0.1 e_i) * exp(firm_sigma * z_i)``, ``z_i ~ N(0, 1)``,
    where ``m_s`` is the sector's MAC at 10% abatement, so a typical firm
    facing the price ``m_s`` abates about 10% of its baseline ``e_i``. One
    normal is drawn per firm, zero baseline or not, so the draws do not
    depend on which firms are idle.

    Parameters
    ----------
    baseline_use : array_like of float, shape (n,)
        Baseline (unabated) annual use, units; ``<= 0`` gives ``c = inf``
        (nothing to abate).
    sector : array_like of int, shape (n,)
        Sector code, an index into ``sector_names``.
    sector_names : sequence of str
        Sector name per code (``Scenario.sector_names()``).
    spec : MacSpec
        MAC at 10% by sector name, default for sectors not listed, and the
        log-sd across firms.
    rng : numpy.random.Generator
        Source of the firm draws.

    Returns
    -------
    ndarray of float, shape (n,)
        Slope ``c_i`` of ``MAC_i(q) = c_i q``, yuan per unit per unit.
    """
    e = np.asarray(baseline_use, dtype=float)
    at_10pct = np.array([spec.at_10pct_yuan_per_unit.get(name,
                                                         spec.default_at_10pct_yuan_per_unit)
                         for name in sector_names], dtype=float)
    m = at_10pct[np.asarray(sector)]
    spread = np.exp(spec.firm_sigma * rng.standard_normal(e.shape))
    with np.errstate(divide="ignore"):
        return np.where(e > 0, m / (0.1 * np.where(e > 0, e, 1.0)) * spread, np.inf)


def abatement(
    price: ArrayLike,
    *,
    slope: ArrayLike,
    baseline_use: ArrayLike,
    max_share: float,
) -> np.ndarray:
    """Return the abatement at which each firm's MAC equals the price, units.

    Parameters
    ----------
    price : float or array_like
        Price of a right, yuan per unit (negative prices abate nothing).
    slope : array_like of float, shape (n,)
        MAC slopes ``c_i`` (:func:`mac_slopes`); ``inf`` abates nothing.
    baseline_use : array_like of float, shape (n,)
        Unabated use, units.
    max_share : float
        Abatement cannot exceed this share of baseline use.

    Returns
    -------
    ndarray of float, shape (n,)
        ``q_i = min(price / c_i, max_share * e_i)``, units (>= 0).

    Examples
    --------
    >>> abatement(500.0, slope=[10.0, 1.0, np.inf], baseline_use=[100.0, 100.0, 100.0],
    ...           max_share=0.5).tolist()
    [50.0, 50.0, 0.0]
    """
    price = np.maximum(np.asarray(price, dtype=float), 0.0)
    c = np.asarray(slope, dtype=float)
    ceiling = max_share * np.maximum(np.asarray(baseline_use, dtype=float), 0.0)
    with np.errstate(divide="ignore"):
        return np.minimum(price / c, ceiling)


def abatement_cost(q: ArrayLike, *, slope: ArrayLike) -> np.ndarray:
    """Return the cost of abating ``q``, ``c q^2 / 2`` yuan (0 where ``q == 0``).

    Parameters
    ----------
    q : array_like of float, shape (n,)
        Abatement, units.
    slope : array_like of float, shape (n,)
        MAC slopes ``c_i``, yuan per unit^2.

    Returns
    -------
    ndarray of float, shape (n,)
        Abatement cost, yuan.
    """
    q = np.asarray(q, dtype=float)
    c = np.asarray(slope, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(q != 0, 0.5 * c * q * q, 0.0)


def overquota_surcharge(
    use: ArrayLike,
    *,
    quota: ArrayLike,
    blocks: Sequence[PriceBlock],
) -> np.ndarray:
    """Return the over-quota surcharge (超限额差别加价), yuan.

    The overrun ``use - quota`` is cut at multiples of the quota: the part
    between ``blocks[k].above * quota`` and ``blocks[k + 1].above * quota``
    pays ``blocks[k].price_yuan_per_unit`` per unit; the last block is open.
    A firm with no quota (``quota <= 0``) pays the top price on all its use.

    Parameters
    ----------
    use : array_like of float, shape (n,)
        Use in the year, units.
    quota : array_like of float, shape (n,)
        The firm's quota, units.
    blocks : sequence of PriceBlock
        Rising blocks by overrun share of quota (``above`` increasing).

    Returns
    -------
    ndarray of float, shape (n,)
        Surcharge, yuan (0 within quota).

    Examples
    --------
    Quota 100, use 130: 10 x 1000 + 10 x 2000 + 10 x 3000.

    >>> blocks = [PriceBlock(above=a, price_yuan_per_unit=p)
    ...           for a, p in ((0.0, 1000.0), (0.1, 2000.0), (0.2, 3000.0))]
    >>> overquota_surcharge([130.0], quota=[100.0], blocks=blocks).tolist()
    [60000.0]
    """
    use = np.maximum(np.asarray(use, dtype=float), 0.0)
    quota = np.asarray(quota, dtype=float)
    has_quota = quota > 0
    q = np.where(has_quota, quota, 0.0)
    overrun = np.maximum(use - q, 0.0)
    total = np.zeros(np.broadcast(use, quota).shape)
    for k, block in enumerate(blocks):
        lo = block.above * q
        hi = blocks[k + 1].above * q if k + 1 < len(blocks) else np.inf
        total += block.price_yuan_per_unit * np.clip(overrun - lo, 0.0, hi - lo)
    return np.where(has_quota, total, use * blocks[-1].price_yuan_per_unit)


def subscription_charge(
    new_use_tce: ArrayLike,
    *,
    unit_consumption_tce_per_wan_yuan: ArrayLike,
    spec: SubscriptionSpec,
) -> np.ndarray:
    """Return the price of subscribing new energy use (用能权有偿申购), yuan.

    Projects below ``spec.min_new_use_tce`` are not covered and pay nothing
    (Deqing 2015: >= 1,000 tce/yr). Others pay per tce the price of the
    highest block whose ``above`` is at most the project's unit consumption,
    so energy-hungry projects pay more; below the first block's ``above``
    nothing is due (Zhejiang 2019: projects above 0.6 tce/万元 must buy).

    Parameters
    ----------
    new_use_tce : array_like of float, shape (n,)
        New annual energy use of the project (expansion or entry), tce.
    unit_consumption_tce_per_wan_yuan : array_like of float, shape (n,)
        The project's energy use per 万元 of value added.
    spec : SubscriptionSpec
        Coverage threshold and price blocks.

    Returns
    -------
    ndarray of float, shape (n,)
        Subscription charge, yuan.

    Examples
    --------
    >>> spec = SubscriptionSpec(blocks=[PriceBlock(above=0.6, price_yuan_per_unit=200.0),
    ...                                 PriceBlock(above=1.0, price_yuan_per_unit=400.0)])
    >>> subscription_charge([500.0, 2000.0, 2000.0, 2000.0],
    ...                     unit_consumption_tce_per_wan_yuan=[2.0, 0.5, 0.6, 1.2],
    ...                     spec=spec).tolist()
    [0.0, 0.0, 400000.0, 800000.0]
    """
    new_use = np.asarray(new_use_tce, dtype=float)
    unit = np.asarray(unit_consumption_tce_per_wan_yuan, dtype=float)
    above = np.array([b.above for b in spec.blocks], dtype=float)
    prices = np.array([0.0, *(b.price_yuan_per_unit for b in spec.blocks)])
    price = prices[np.searchsorted(above, unit, side="right")]
    covered = (new_use >= spec.min_new_use_tce) & (new_use > 0)
    return np.where(covered, new_use * price, 0.0)


def energy_paid_use_fee(
    allocation_tce: ArrayLike,
    *,
    intensity: ArrayLike,
    target: float,
    below_fee: float,
    above_fee: float,
) -> np.ndarray:
    """Return the annual paid-use fee on energy-use rights (用能权有偿使用), yuan.

    Parameters
    ----------
    allocation_tce : array_like of float, shape (n,)
        The firm's allocation, tce.
    intensity : array_like of float, shape (n,)
        Energy intensity, tce per 万元 VA.
    target : float
        Intensity target, tce per 万元 VA; firms at or below it pay the low fee.
    below_fee, above_fee : float
        Fees, yuan per tce (Deqing 2015: 50 and 100).

    Returns
    -------
    ndarray of float, shape (n,)
        Fee, yuan.

    Examples
    --------
    >>> energy_paid_use_fee([1000.0, 1000.0], intensity=[0.5, 0.7], target=0.6,
    ...                     below_fee=50.0, above_fee=100.0).tolist()
    [50000.0, 100000.0]
    """
    fee = np.where(np.asarray(intensity, dtype=float) <= target, below_fee, above_fee)
    return np.asarray(allocation_tce, dtype=float) * fee


def emission_paid_use_fee(
    allocation_t: ArrayLike,
    *,
    klass: ArrayLike,
    price: float,
    class_multiplier: ClassValues,
) -> np.ndarray:
    """Return the annual paid-use charge on emission rights (排污权有偿使用), yuan.

    Parameters
    ----------
    allocation_t : array_like of float, shape (n,)
        The firm's emission rights for the year, t.
    klass : array_like of int, shape (n,)
        Evaluation class code (0..3 = A..D, 4 = unrated, multiplier 1).
    price : float
        Paid-use price, yuan per tonne-year.
    class_multiplier : ClassValues
        Multiplier of the price by class.

    Returns
    -------
    ndarray of float, shape (n,)
        Charge, yuan.
    """
    multiplier = per_class(class_multiplier.as_tuple(), np.asarray(klass), unrated=1.0)
    return np.asarray(allocation_t, dtype=float) * price * multiplier

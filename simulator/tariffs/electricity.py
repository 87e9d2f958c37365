"""Differentiated electricity prices (差别电价) for industrial users.

One function, :func:`electricity_bill`, prices a period's electricity for
every firm at once. Per kWh, a firm pays the energy price plus an *extra*
charge made of three differentiated parts:

* **energy**: the general industrial price, or, for contracted capacity of at
  least ``params.large_industry_min_kva``, the large-industry (大工业) two-part
  tariff: a lower price per kWh plus a capacity charge per kVA per month. The
  energy price is scaled by the consumption-weighted time-of-use multiplier
  (``params.time_of_use.mean_multiplier``; 1 when time-of-use is disabled).
* **national**: the national differential price for restricted or eliminated
  processes (发改价格〔2010〕978号: +0.10 and +0.30 yuan/kWh), by ``process_status``,
  and by sector where ``params.national_differential_by_sector`` gives a sector
  its own (steel from 2017: eliminated +0.50, 发改价格〔2016〕2803号).
* **tiered**: the increasing-block (阶梯) surcharge of listed energy-intensive
  sectors, by the firm's electricity per unit of product. The surcharge of the
  block the firm falls in applies to *all* its kWh, as in NDRC's 2013 rule for
  electrolytic aluminium (<= 13,700 kWh/t: 0; 13,700-13,800: +0.02; above
  13,800: +0.08 yuan/kWh).
* **class**: the surcharge by evaluation class A-D (浙政办发〔2019〕62号: D
  +0.3 yuan/kWh). For D firms, ``params.d_escalation`` can raise it with the
  number of consecutive years in D (Haining: 0.4 from the third year;
  Shandong 2022: 0.05 / 0.10 / 0.15 in years 1 / 2 / 3). Escalation by
  calendar year (Suzhou) is a timeline change of the class surcharge.

Stacking
--------
``params.stacking`` says how the three extra parts combine:

* ``"add"``: extra = national + tiered + class; each field of the bill is its
  own part times kWh.
* ``"highest"`` (Shandong 2022: where national differential, punitive or
  tiered prices also apply, only the highest is charged): extra =
  max(national, tiered, class). The bill attributes it as follows: the larger
  of national and tiered is charged in full under its own field and the other
  gets 0 (national wins a tie); the class field holds only what the class
  surcharge adds on top, ``max(class - max(national, tiered), 0)``.

Under both rules ``total = energy + capacity + national + tiered + class``
(the total is computed as that sum).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from simulator.firms import CLASS_CODES, PROCESS_STATUS, per_class
from simulator.scenario import ElectricityTariff

__all__ = ["ElectricityBill", "electricity_bill"]

_D = CLASS_CODES["D"]


@dataclass(frozen=True, slots=True, eq=False)
class ElectricityBill:
    """One period's electricity bill per firm, yuan (float64 arrays of length n).

    ``total_yuan = energy_yuan + capacity_yuan + national_yuan + tiered_yuan
    + class_surcharge_yuan``.
    """

    energy_yuan: np.ndarray
    """kWh times the (time-of-use weighted) general or large-industry price."""
    capacity_yuan: np.ndarray
    """Large-industry capacity charge (0 for general-tariff firms)."""
    national_yuan: np.ndarray
    """National differential price for restricted/eliminated processes."""
    tiered_yuan: np.ndarray
    """Tiered surcharge of listed energy-intensive sectors."""
    class_surcharge_yuan: np.ndarray
    """Class (A-D) surcharge actually charged, after stacking."""
    total_yuan: np.ndarray
    """The whole bill."""


def electricity_bill(
    kwh: ArrayLike,
    *,
    klass: ArrayLike,
    consecutive_d_years: ArrayLike,
    capacity_kva: ArrayLike,
    process_status: ArrayLike,
    unit_consumption: ArrayLike,
    sector: ArrayLike,
    sector_names: Sequence[str],
    params: ElectricityTariff,
    months: float = 1.0,
) -> ElectricityBill:
    """Return each firm's electricity bill for one period, in yuan.

    Parameters
    ----------
    kwh : array_like of float, shape (n,)
        Electricity used in the period, kWh.
    klass : array_like of int, shape (n,)
        Evaluation class code in force (0..3 = A..D, ``UNRATED`` = 4; unrated
        firms pay no class surcharge).
    consecutive_d_years : array_like of int, shape (n,)
        Years in the current unbroken D spell, counting the year in force (a
        firm in its third consecutive D year has 3). Used for D firms only.
    capacity_kva : array_like of float, shape (n,)
        Contracted transformer capacity, kVA.
    process_status : array_like of int, shape (n,)
        Code into ``PROCESS_STATUS``: 0 normal, 1 restricted, 2 eliminated.
    unit_consumption : array_like of float, shape (n,)
        Electricity per unit of product (e.g. kWh/t of aluminium), in the unit
        of the sector's tiered schedule; NaN where the sector is not listed. A
        NaN in a listed sector pays no tiered surcharge.
    sector : array_like of int, shape (n,)
        Sector code, an index into ``sector_names``.
    sector_names : sequence of str
        Sector names; a sector is tiered if its name is a key of
        ``params.tiered`` (keys naming no sector are ignored).
    params : ElectricityTariff
        Prices and rules.
    months : float, default 1.0
        Length of the period in months (scales the capacity charge only).

    Returns
    -------
    ElectricityBill
        Components and total, yuan, float64 arrays of shape (n,).

    Examples
    --------
    A general-tariff D firm using 1,000 kWh with time-of-use off pays
    1,000 x (0.75 + 0.3) = 1,050 yuan:

    >>> from simulator.scenario import ElectricityTariff, TimeOfUse
    >>> p = ElectricityTariff(time_of_use=TimeOfUse(enabled=False))
    >>> bill = electricity_bill(
    ...     [1000.0], klass=[3], consecutive_d_years=[1], capacity_kva=[100.0],
    ...     process_status=[0], unit_consumption=[float("nan")], sector=[0],
    ...     sector_names=["textiles"], params=p)
    >>> float(bill.total_yuan[0])
    1050.0
    """
    kwh = np.asarray(kwh, dtype=np.float64)
    klass = np.asarray(klass)
    energy, capacity = _energy_and_capacity(kwh, capacity_kva, params, months)

    national = _national_per_kwh(process_status, sector, sector_names, params)
    tiered = _tiered_per_kwh(unit_consumption, sector, sector_names, params, kwh.shape)
    surcharge = class_surcharge_per_kwh(klass, consecutive_d_years, params)
    if params.stacking == "highest":
        national, tiered, surcharge = _highest_only(national, tiered, surcharge)
    return _bill(kwh, energy, capacity, national, tiered, surcharge)


def _bill(kwh: np.ndarray, energy: np.ndarray, capacity: np.ndarray, national: np.ndarray,
          tiered: np.ndarray, surcharge: np.ndarray) -> ElectricityBill:
    """Return the bill: the extra parts per kWh (changed in place) times kWh, and the total."""
    national *= kwh
    tiered *= kwh
    surcharge *= kwh
    total = energy + capacity
    total += national
    total += tiered
    total += surcharge
    return ElectricityBill(
        energy_yuan=energy,
        capacity_yuan=capacity,
        national_yuan=national,
        tiered_yuan=tiered,
        class_surcharge_yuan=surcharge,
        total_yuan=total,
    )


def _energy_and_capacity(kwh: np.ndarray, capacity_kva: ArrayLike, params: ElectricityTariff,
                         months: float) -> tuple[np.ndarray, np.ndarray]:
    """Energy charge (general or large-industry price, time-of-use weighted) and capacity charge.

    Firms with at least ``params.large_industry_min_kva`` pay the large-industry
    (two-part) price per kWh and the capacity charge; the others the general price.
    """
    capacity_kva = np.asarray(capacity_kva, dtype=np.float64)
    large = capacity_kva >= params.large_industry_min_kva
    tou = params.time_of_use.mean_multiplier
    energy = np.where(
        large,
        params.large_industry_price_yuan_per_kwh * tou,
        params.general_price_yuan_per_kwh * tou,
    )
    energy *= kwh
    capacity = np.where(large, capacity_kva, 0.0)
    capacity *= params.capacity_charge_yuan_per_kva_month * months
    return energy, capacity


def _highest_only(national: np.ndarray, tiered: np.ndarray,
                  surcharge: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stack the extra parts per kWh by the ``"highest"`` rule (Shandong 2022).

    Only the highest of national, tiered and class is charged: the larger of
    national and tiered in full under its own field (national wins a tie), the
    class surcharge only for what it adds on top (``surcharge`` is changed in place).
    """
    national_wins = national >= tiered
    covered = np.maximum(national, tiered)
    national = np.where(national_wins, national, 0.0)
    tiered = np.where(national_wins, 0.0, tiered)
    surcharge -= covered
    np.maximum(surcharge, 0.0, out=surcharge)
    return national, tiered, surcharge


def class_surcharge_per_kwh(
    klass: ArrayLike, consecutive_d_years: ArrayLike, params: ElectricityTariff
) -> np.ndarray:
    """Return the class surcharge before stacking, yuan/kWh per firm.

    Parameters
    ----------
    klass : array_like of int, shape (n,)
        Evaluation class code (0..3 = A..D, 4 = unrated, which pays 0).
    consecutive_d_years : array_like of int, shape (n,)
        Years in the current D spell, counting the year in force.
    params : ElectricityTariff
        ``class_surcharge_yuan_per_kwh`` and ``d_escalation``.

    Returns
    -------
    ndarray of float64, shape (n,)
        ``class_surcharge_yuan_per_kwh`` of the firm's class; for D firms, the
        surcharge of the last ``d_escalation`` entry whose
        ``min_consecutive_years <= consecutive_d_years`` where it is higher
        (escalation never lowers it, e.g. after the timeline raised D's
        surcharge above an escalation level).
    """
    klass = np.asarray(klass)
    surcharge = per_class(params.class_surcharge_yuan_per_kwh.as_tuple(), klass)
    if params.d_escalation:
        years = np.array([e.min_consecutive_years for e in params.d_escalation])
        levels = np.array([e.surcharge_yuan_per_kwh for e in params.d_escalation])
        d_firms = np.flatnonzero(klass == _D)  # few firms: work on them only
        step = np.searchsorted(years, np.asarray(consecutive_d_years)[d_firms], side="right")
        step -= 1  # the last entry whose min_consecutive_years <= the spell; -1 = none
        applies = step >= 0
        escalated = d_firms[applies]
        surcharge[escalated] = np.maximum(surcharge[escalated], levels[step[applies]])
    return surcharge


def _national_per_kwh(process_status: ArrayLike, sector: ArrayLike, sector_names: Sequence[str],
                      params: ElectricityTariff) -> np.ndarray:
    """National differential price per kWh by sector and process status (0 for normal).

    A sector of ``params.national_differential_by_sector`` pays its own price for
    each status it gives (steel from 2017: eliminated 0.50 yuan/kWh, 发改价格〔2016〕2803号);
    every other firm the general ``national_differential_yuan_per_kwh``.
    """
    rates = params.national_differential_yuan_per_kwh
    general = [rates.get(status, 0.0) for status in PROCESS_STATUS]
    status = np.asarray(process_status)
    if not params.national_differential_by_sector:
        return np.array(general, dtype=np.float64)[status]
    # One row per sector (sector x status table), looked up by both codes at once.
    table = np.array([[params.national_differential_by_sector.get(name, {}).get(s, g)
                       if s != "normal" else 0.0 for s, g in zip(PROCESS_STATUS, general,
                                                                 strict=True)]
                      for name in sector_names], dtype=np.float64).reshape(-1, len(general))
    return table[np.asarray(sector), status]


def _tiered_per_kwh(
    unit_consumption: ArrayLike,
    sector: ArrayLike,
    sector_names: Sequence[str],
    params: ElectricityTariff,
    shape: tuple[int, ...],
) -> np.ndarray:
    """Tiered surcharge per kWh: the block each listed firm's unit consumption falls in."""
    out = np.zeros(shape)
    if not params.tiered:
        return out
    codes = {name: code for code, name in enumerate(sector_names)}
    sector = np.asarray(sector)
    unit = np.asarray(unit_consumption, dtype=np.float64)
    for name, schedule in params.tiered.items():
        code = codes.get(name)
        if code is None:
            continue
        firms = np.flatnonzero(sector == code)
        if firms.size == 0:
            continue
        thresholds = np.array([b.above for b in schedule.blocks])
        surcharges = np.array([0.0, *(b.surcharge_yuan_per_kwh for b in schedule.blocks)])
        u = unit[firms]
        # Number of thresholds strictly below u: at exactly 13,700 kWh/t the
        # aluminium firm is still in the free block.
        block = np.searchsorted(thresholds, u, side="left")
        block[np.isnan(u)] = 0  # searchsorted puts NaN above every threshold
        out[firms] = surcharges[block]
    return out

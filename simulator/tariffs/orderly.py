"""Orderly power use (有序用电): in a shortage month, supply to low classes is cut first.

:func:`orderly_cut` shares a month's cut of industrial electricity among firms. The
cut to make is ``depth_share`` of the eligible firms' demand; it is taken from the
classes in ``order`` (default D, then C, then B; A last and, with its maximum of 0,
protected), each class up to ``max_cut_share`` of its own demand before the next one
is touched. Within a class every firm loses the same share of its supply (and so of
its month's output). What the classes allowed to be cut cannot cover is left unserved
(``unmet_kwh``: the plan falls short). Unrated industrial firms are cut as B.
Orderly-use plans order users by priority (有序用电管理办法: 有保有限); in 2021 Liaoning
cut cement clinker first and Zhejiang stopped high-energy printing-dyeing and chemical
firms. No notice found orders by 亩均 class, so the order by class and the shares are
estimates (``est``) a user should set.

:func:`shortage_year` says whether a year is a shortage year (a listed year, or a
draw at ``yearly_probability``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from simulator.firms import CLASS_CODES, UNRATED
from simulator.scenario.sector_prices import OrderlyPowerUse

__all__ = ["OrderlyCut", "orderly_cut", "shortage_year"]

_B = CLASS_CODES["B"]


@dataclass(frozen=True, slots=True, eq=False)
class OrderlyCut:
    """A month's cut: each firm's share of supply cut, and the kWh cut per class."""

    cut_share: np.ndarray
    """Share of each firm's demand cut, in [0, 1] (0 for firms not eligible)."""
    class_cut_kwh: np.ndarray
    """kWh cut in classes A, B, C, D (shape (4,); unrated firms count in B)."""
    unmet_kwh: float
    """Cut required but not made: the classes' maximum shares were exhausted."""


def orderly_cut(demand_kwh: ArrayLike, *, klass: ArrayLike, eligible: ArrayLike,
                params: OrderlyPowerUse) -> OrderlyCut:
    """Return each firm's share of supply cut in a shortage month.

    Parameters
    ----------
    demand_kwh : array_like of float, shape (n,)
        Electricity each firm would use this month, kWh.
    klass : array_like of int, shape (n,)
        Class code in force (0..3 = A..D, ``UNRATED`` = 4, cut as B).
    eligible : array_like of bool, shape (n,)
        Firms the plan covers (industrial firms; services are not cut).
    params : OrderlyPowerUse
        Depth, order of the classes and their maximum cut shares.

    Returns
    -------
    OrderlyCut

    Examples
    --------
    Demand 100 kWh in each class A-D, cut 30% of 400 = 120 kWh: D gives all its 100,
    C 20 of its 100 (up to 50 allowed), B and A nothing.

    >>> from simulator.scenario.sector_prices import OrderlyPowerUse
    >>> cut = orderly_cut([100.0] * 4, klass=[0, 1, 2, 3], eligible=[True] * 4,
    ...                   params=OrderlyPowerUse(enabled=True, depth_share=0.3))
    >>> cut.cut_share.tolist()
    [0.0, 0.0, 0.2, 1.0]
    """
    demand = np.asarray(demand_kwh, dtype=np.float64)
    eligible = np.asarray(eligible, dtype=bool)
    group = np.asarray(klass).astype(np.intp)
    group = np.where(group == UNRATED, _B, group)
    by_class = np.bincount(group[eligible], weights=demand[eligible], minlength=4)[:4]
    needed = params.depth_share * by_class.sum()
    share = np.zeros(4)
    if params.proportional:
        share[:] = params.depth_share
    else:
        caps = np.asarray(params.max_cut_share.as_tuple())
        for letter in params.order:  # at most four steps, over classes, not firms
            k = CLASS_CODES[letter]
            take = min(needed, caps[k] * by_class[k])
            if by_class[k] > 0:
                share[k] = take / by_class[k]
            needed -= take
    class_cut = share * by_class
    unmet = max(params.depth_share * by_class.sum() - class_cut.sum(), 0.0)
    firm_share = np.where(eligible, share[group], 0.0)
    return OrderlyCut(cut_share=firm_share, class_cut_kwh=class_cut, unmet_kwh=float(unmet))


def shortage_year(year: int, params: OrderlyPowerUse, rng: np.random.Generator) -> bool:
    """Return whether ``year`` is a shortage year: listed, or drawn at the yearly probability.

    ``rng`` is the year's own generator; it is drawn from only when the year is not
    listed and the probability is positive, so other streams are never disturbed.
    """
    if year in params.years:
        return True
    return params.yearly_probability > 0 and bool(rng.random() < params.yearly_probability)

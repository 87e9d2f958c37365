"""Urban land-use tax (城镇土地使用税) with relief by evaluation class.

The tax is yuan per m^2 per year by land grade (城镇土地使用税暂行条例, 2006:
large cities 1.5-30, county towns 0.6-12 yuan/m^2/yr). Under the per-mu
reform, high classes get part of it back (浙政办发〔2019〕62号: A 100%, B 80%,
C and D none). Unrated firms get no relief.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from simulator.firms import M2_PER_MU, per_class
from simulator.scenario import LandTax

__all__ = ["LandTaxBill", "land_use_tax"]


@dataclass(frozen=True, slots=True, eq=False)
class LandTaxBill:
    """Land-use tax per firm, yuan (float64 arrays of length n).

    ``net_yuan = gross_yuan - relief_yuan``.
    """

    gross_yuan: np.ndarray
    """Tax at the grade's rate, before relief."""
    relief_yuan: np.ndarray
    """Relief granted for the firm's class."""
    net_yuan: np.ndarray
    """Tax actually paid."""


def land_use_tax(
    land_mu: ArrayLike,
    *,
    land_grade: ArrayLike,
    klass: ArrayLike,
    params: LandTax,
    years: float = 1.0,
) -> LandTaxBill:
    """Return each firm's urban land-use tax for a period, in yuan.

    Parameters
    ----------
    land_mu : array_like of float, shape (n,)
        Land held, mu (1 mu = 666.67 m^2).
    land_grade : array_like of int, shape (n,)
        Land grade code, 0 = grade 1, an index into
        ``params.rate_yuan_per_m2_year_by_grade``.
    klass : array_like of int, shape (n,)
        Evaluation class code (0..3 = A..D, 4 = unrated, which gets no relief).
    params : LandTax
        Rates by grade and relief shares by class.
    years : float, default 1.0
        Length of the period, years.

    Returns
    -------
    LandTaxBill
        Gross tax, relief and net tax, yuan, float64 arrays of shape (n,).

    Raises
    ------
    ValueError
        If a land grade has no rate in ``params.rate_yuan_per_m2_year_by_grade``.

    Examples
    --------
    15 mu (10,000 m^2) of grade-2 land at 6 yuan/m^2, class B (80% relief):
    gross 60,000, relief 48,000, net 12,000 yuan.

    >>> from simulator.scenario import LandTax
    >>> bill = land_use_tax([15.0], land_grade=[1], klass=[1], params=LandTax())
    >>> round(float(bill.net_yuan[0]), 6)
    12000.0
    """
    rates = np.asarray(params.rate_yuan_per_m2_year_by_grade, dtype=np.float64)
    grade = np.asarray(land_grade)
    if grade.size:
        low, high = int(grade.min()), int(grade.max())
        if low < 0 or high >= rates.size:
            bad = low if low < 0 else high
            raise ValueError(
                f"land grade code {bad} (grade {bad + 1}) has no rate: "
                f"rate_yuan_per_m2_year_by_grade lists grades 1-{rates.size}"
            )
    gross = rates[grade]
    gross *= land_mu
    gross *= M2_PER_MU * years
    relief = per_class(params.relief_share.as_tuple(), klass)
    relief *= gross
    return LandTaxBill(gross_yuan=gross, relief_yuan=relief, net_yuan=gross - relief)

"""Pollution charges (排污费; environmental protection tax from 2018) by class.

Each controlled pollutant is converted to pollution equivalents (emissions in
kg divided by the pollutant's equivalent value: COD 1, NH3-N 0.8, SO2 0.95,
NOx 0.95 kg). Water pollutants (COD, NH3-N; a further pollutant by its
``medium``) pay ``params.water_yuan_per_equivalent`` and air pollutants (SO2,
NOx) ``params.air_yuan_per_equivalent`` (Zhejiang from 2014-04: 1.4 and 1.2). The
class multiplier scales the whole charge (default D x2, estimated); unrated
firms pay x1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from simulator.firms import per_class
from simulator.scenario import DEFAULT_POLLUTANTS, PollutionCharge

__all__ = ["PollutionBill", "pollution_charge", "pollution_equivalents"]



@dataclass(frozen=True, slots=True, eq=False)
class PollutionBill:
    """One period's pollution charge per firm, yuan (float64 arrays of length n).

    ``total_yuan = base_yuan + class_surcharge_yuan``.
    """

    base_yuan: np.ndarray
    """Charge at the standard rates."""
    class_surcharge_yuan: np.ndarray
    """``base_yuan * (class multiplier - 1)`` (negative if a multiplier is below 1)."""
    total_yuan: np.ndarray
    """The whole charge."""


def pollution_equivalents(emissions_t: ArrayLike, *, params: PollutionCharge,
                          pollutants: Mapping[str, Any] | None = None) -> np.ndarray:
    """Return pollution equivalents per firm and pollutant.

    Parameters
    ----------
    emissions_t : array_like of float, shape (n, 4)
        Emissions, tonnes, columns in the order of ``pollutants`` (by default cod,
        nh3n, so2, nox).
    params : PollutionCharge
        ``equivalent_kg``: kg of each pollutant per pollution equivalent.
    pollutants : mapping, optional
        The scenario's pollutants (name -> spec with ``medium``), in the order
        of the columns; by default the standard four.

    Returns
    -------
    ndarray of float64, shape (n, 4)
        ``emissions_t * 1000 / equivalent_kg``, pollution equivalents.
    """
    names = tuple(pollutants or DEFAULT_POLLUTANTS)
    return np.asarray(emissions_t, dtype=np.float64) * _equivalents_per_t(params, names)


def pollution_charge(
    emissions_t: ArrayLike,
    *,
    klass: ArrayLike,
    params: PollutionCharge,
    pollutants: Mapping[str, Any] | None = None,
) -> PollutionBill:
    """Return each firm's pollution charge for one period, in yuan.

    Parameters
    ----------
    emissions_t : array_like of float, shape (n, 4)
        Emissions in the period, tonnes, columns in the order of ``pollutants``
        (by default cod, nh3n, so2, nox).
    klass : array_like of int, shape (n,)
        Evaluation class code (0..3 = A..D, 4 = unrated, multiplier 1).
    params : PollutionCharge
        Rates, equivalent values and class multipliers.
    pollutants : mapping, optional
        The scenario's pollutants (name -> spec with ``medium``: water
        pollutants pay the water rate, air pollutants the air rate), in the
        order of the columns; by default the standard four.

    Returns
    -------
    PollutionBill
        Standard charge, class surcharge and total, yuan, shape (n,). The
        equivalents themselves are :func:`pollution_equivalents` (not computed
        here: the charge needs only one yuan-per-tonne rate per pollutant).

    Examples
    --------
    A D firm emitting 1 t of COD: 1,000 equivalents x 1.4 = 1,400 yuan, x2 =
    2,800 yuan.

    >>> from simulator.scenario import PollutionCharge
    >>> bill = pollution_charge([[1.0, 0.0, 0.0, 0.0]], klass=[3], params=PollutionCharge())
    >>> float(bill.total_yuan[0])
    2800.0
    """
    specs = pollutants or DEFAULT_POLLUTANTS
    rates_yuan_per_equivalent = np.array(
        [
            params.water_yuan_per_equivalent
            if _medium(spec) == "water"
            else params.air_yuan_per_equivalent
            for spec in specs.values()
        ]
    )
    yuan_per_t = _equivalents_per_t(params, tuple(specs)) * rates_yuan_per_equivalent
    base = np.asarray(emissions_t, dtype=np.float64) @ yuan_per_t
    surcharge = per_class(params.class_multiplier.as_tuple(), klass, unrated=1.0)
    surcharge -= 1.0
    surcharge *= base
    return PollutionBill(
        base_yuan=base, class_surcharge_yuan=surcharge, total_yuan=base + surcharge
    )


def _equivalents_per_t(params: PollutionCharge, names: tuple[str, ...]) -> np.ndarray:
    """Pollution equivalents per tonne of each pollutant ``names``, shape (len(names),)."""
    return 1000.0 / np.asarray(params.equivalent_kg.values(names), dtype=np.float64)


def _medium(spec: Any) -> str:
    """Return ``"water"`` or ``"air"`` of a pollutant's spec (a model or a mapping)."""
    return spec["medium"] if isinstance(spec, Mapping) else spec.medium

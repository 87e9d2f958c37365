"""Natural gas for industry, differentiated by class (差别化气价).

A firm's gas use is the share of its non-electric energy that is gas (by
sector) converted to cubic metres; it pays the base price per m^3 plus its
class's surcharge (Qingdao 2022: D firms +1 yuan/m^3). Registered as a
:class:`~simulator.tariffs.linear.LinearTariff`: a scenario switches it on with
``tariffs.gas.enabled``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from simulator.firms import Firms, per_class
from simulator.scenario.tariffs import GasTariff
from simulator.tariffs.linear import LinearBill, LinearTariff, register

__all__ = ["TARIFF", "gas_bill", "gas_m3_per_tce"]


def gas_m3_per_tce(firms: Firms, params: GasTariff, sector_names: list[str]) -> np.ndarray:
    """Return each firm's gas per tce of energy it uses, m^3.

    The non-electric share of its energy, times the gas share of that by
    sector, converted at ``1000 / kgce_per_m3`` m^3 per tce.
    """
    share = np.array([params.share_of_fuel.get(s, params.default_share_of_fuel)
                      for s in sector_names], dtype=float)[firms.sector]
    return (1.0 - firms.electricity_share) * share * (1000.0 / params.kgce_per_m3)


def gas_bill(m3: ArrayLike, *, klass: ArrayLike, params: GasTariff) -> LinearBill:
    """Return each firm's gas bill for a period's use, yuan.

    Examples
    --------
    A D firm using 1,000 m^3 at 3.6 yuan/m^3 with a D surcharge of 1 yuan/m^3:

    >>> from simulator.scenario.tariffs import GasTariff
    >>> bill = gas_bill([1000.0], klass=[3], params=GasTariff(enabled=True))
    >>> float(bill.base_yuan[0]), float(bill.class_surcharge_yuan[0])
    (3600.0, 1000.0)
    """
    m3 = np.asarray(m3, dtype=np.float64)
    base = m3 * params.price_yuan_per_m3
    surcharge = m3 * per_class(params.class_surcharge_yuan_per_m3.as_tuple(), klass)
    return LinearBill(base_yuan=base, class_surcharge_yuan=surcharge, total_yuan=base + surcharge)


TARIFF = register(LinearTariff(name="gas", unit="m3", spec=lambda tariffs: tariffs.gas,
                               per_tce=gas_m3_per_tce, bill=gas_bill))

"""Water quotas by class (以水定产) and relief for water-saving firms (节水型企业).

:func:`class_water_quota` scales each firm's water quota by its class's factor (and
a certified water-saving firm's by its bonus); the over-quota progressive blocks of
:mod:`simulator.tariffs.water` then price use above it. :func:`water_saving_relief`
is what a certified firm does not pay of the water resource fee (Zhejiang from
2021-08: provincial water-saving firms pay 80% of it).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from simulator.firms import per_class
from simulator.scenario.sector_prices import WaterRights

__all__ = ["class_water_quota", "over_quota_m3", "water_saving_relief"]


def class_water_quota(quota_m3: ArrayLike, *, klass: ArrayLike, certified: ArrayLike,
                      params: WaterRights) -> np.ndarray:
    """Return each firm's quota after its class factor and water-saving bonus, m^3.

    Unrated firms keep their quota (factor 1).

    Examples
    --------
    A D firm with factor 0.8 and a certified A firm with a 25% bonus:

    >>> from simulator.scenario import ClassValues
    >>> from simulator.scenario.sector_prices import WaterRights, WaterSaving
    >>> p = WaterRights(quota_factor_by_class=ClassValues(A=1, B=1, C=0.9, D=0.8),
    ...                 water_saving=WaterSaving(quota_bonus_share=0.25))
    >>> class_water_quota([100.0, 100.0], klass=[3, 0], certified=[False, True],
    ...                   params=p).tolist()
    [80.0, 125.0]
    """
    factor = per_class(params.quota_factor_by_class.as_tuple(), np.asarray(klass), unrated=1.0)
    factor += np.where(np.asarray(certified, dtype=bool),
                       params.water_saving.quota_bonus_share, 0.0)
    return np.asarray(quota_m3, dtype=np.float64) * factor


def over_quota_m3(use_m3: ArrayLike, quota_m3: ArrayLike) -> np.ndarray:
    """Return each firm's use above its quota, m^3 (0 without a quota)."""
    use = np.asarray(use_m3, dtype=np.float64)
    quota = np.asarray(quota_m3, dtype=np.float64)
    return np.where(quota > 0.0, np.maximum(use - quota, 0.0), 0.0)


def water_saving_relief(use_m3: ArrayLike, *, certified: ArrayLike,
                        params: WaterRights) -> np.ndarray:
    """Return the resource fee a certified firm does not pay, yuan (0 for the others).

    Examples
    --------
    1,000 m^3 at a fee of 0.2 yuan/m^3, of which a certified benchmark firm pays 50%: 100 yuan.

    >>> from simulator.scenario.sector_prices import WaterRights, WaterSaving
    >>> p = WaterRights(water_saving=WaterSaving(fee_share_paid=0.5))
    >>> water_saving_relief([1000.0], certified=[True], params=p).tolist()
    [100.0]
    """
    saving = params.water_saving
    per_m3 = saving.resource_fee_yuan_per_m3 * (1.0 - saving.fee_share_paid)
    return np.where(np.asarray(certified, dtype=bool),
                    np.asarray(use_m3, dtype=np.float64) * per_m3, 0.0)

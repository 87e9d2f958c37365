"""Non-residential water with over-quota progressive pricing (超定额累进加价).

:func:`water_bill` prices a period's water for every firm at once. Use is cut
into the blocks of ``params.blocks`` by multiples of the firm's quota; the
part of use in each block pays the base price times the block's multiplier
(default, national guidance with levels estimated: up to the quota x1, quota
to +20% x1.5, +20% to +40% x2, above +40% x3). Every m^3 also pays the class
surcharge on sewage treatment (Jiangsu environmental-credit pricing: D +0.6
yuan/m^3). A firm with no quota (``quota_m3 <= 0``) pays the base price on
all its use.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from simulator.firms import per_class
from simulator.scenario import WaterTariff

__all__ = ["WaterBill", "water_bill"]


@dataclass(frozen=True, slots=True, eq=False)
class WaterBill:
    """One period's water bill per firm, yuan (float64 arrays of length n).

    ``total_yuan = base_yuan + over_quota_yuan + class_surcharge_yuan``.
    """

    base_yuan: np.ndarray
    """All use at the base price."""
    over_quota_yuan: np.ndarray
    """What the progressive blocks add to ``base_yuan`` (0 without a quota)."""
    class_surcharge_yuan: np.ndarray
    """Sewage-treatment surcharge by class, on all use."""
    total_yuan: np.ndarray
    """The whole bill."""


def water_bill(
    use_m3: ArrayLike,
    *,
    quota_m3: ArrayLike,
    klass: ArrayLike,
    params: WaterTariff,
) -> WaterBill:
    """Return each firm's water bill for one period, in yuan.

    Parameters
    ----------
    use_m3 : array_like of float, shape (n,)
        Water used in the period, m^3.
    quota_m3 : array_like of float, shape (n,)
        The firm's quota for the same period, m^3; ``<= 0`` means no quota
        (base price on all use).
    klass : array_like of int, shape (n,)
        Evaluation class code (0..3 = A..D, 4 = unrated, which pays no
        surcharge).
    params : WaterTariff
        Base price, blocks and class surcharges.

    Returns
    -------
    WaterBill
        Components and total, yuan, float64 arrays of shape (n,). With block
        multipliers ``m_j`` and the part of use in block ``j`` ``part_j``,
        ``base_yuan + over_quota_yuan = base_price * sum_j(part_j * m_j)``, so
        ``over_quota_yuan = base_price * sum_j(part_j * (m_j - 1))`` (it is
        negative only if a multiplier is below 1).

    Examples
    --------
    Quota 100 m^3, use 150 m^3, base 3.5 yuan/m^3, default blocks:
    100 x 3.5 + 20 x 3.5 x 1.5 + 20 x 3.5 x 2 + 10 x 3.5 x 3 = 700 yuan.

    >>> from simulator.scenario import ClassValues, WaterTariff
    >>> p = WaterTariff(class_sewage_surcharge_yuan_per_m3=ClassValues())
    >>> float(water_bill([150.0], quota_m3=[100.0], klass=[1], params=p).total_yuan[0])
    700.0
    """
    use = np.asarray(use_m3, dtype=np.float64)
    quota = np.asarray(quota_m3, dtype=np.float64)
    price = params.base_price_yuan_per_m3

    # extra = sum over blocks of part * (multiplier - 1), in m^3 at the base price
    extra = np.zeros(np.broadcast_shapes(use.shape, quota.shape))
    part = np.empty_like(extra)  # use in the block, m^3 (buffers reused across blocks)
    width = np.empty_like(extra)
    lower = 0.0
    for block in params.blocks:
        upper = block.up_to_quota_ratio
        if block.multiplier != 1.0:
            np.multiply(quota, lower, out=part)
            np.subtract(use, part, out=part)
            if upper is None:
                np.maximum(part, 0.0, out=part)
            else:
                np.multiply(quota, upper - lower, out=width)
                np.clip(part, 0.0, width, out=part)
            part *= block.multiplier - 1.0
            extra += part
        if upper is not None:
            lower = upper
    extra *= price
    np.copyto(extra, 0.0, where=~(quota > 0.0))

    base = use * price
    surcharge = per_class(params.class_sewage_surcharge_yuan_per_m3.as_tuple(), klass)
    surcharge *= use
    total = base + extra
    total += surcharge
    return WaterBill(
        base_yuan=base, over_quota_yuan=extra, class_surcharge_yuan=surcharge, total_yuan=total
    )

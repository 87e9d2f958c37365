"""Trading of rights between regions (区域间交易): allowed, not allowed, or with a fee.

A county's quota market is one market by default: every firm trades with
every other at one price. A scenario can instead keep each region's rights
in the region (``between_regions: not_allowed``: each region's market clears
on its own bids, offers and share of the reserve) or charge a uniform fee per
unit traded across a region boundary (``between_regions: fee``, paid by the
buyer on top of the price, received by the county government as a transfer
fee).

:func:`clear_regions` clears one auction of ``R`` regions, each with its own
abatement book, holdings and limit orders (``Z_r``, its net demand; see
:mod:`simulator.markets.auction`):

- **not allowed**: each region clears alone, ``Z_r(p_r) = 0``. With linear
  MACs and binding caps, ``p_r = (sum_r e_i - cap_r) / sum_r (1 / c_i)``:
  the least-cost property holds within each region, not across them.
- **fee** ``f``: a spatial equilibrium. Exporting regions share a price
  ``p``, importing regions pay ``p + f``, regions in autarky have prices in
  ``[p, p + f]``, and exports equal imports. ``p`` is where the aggregate net
  import demand ``X(p) = sum_r max(Z_r(p + f), 0) - sum_r max(-Z_r(p), 0)``
  (non-increasing) crosses zero, found by the same bisection over
  breakpoints as a single clearing (:func:`~simulator.markets.clearing.clearing_price`)
  and exact within segments (``X`` is piecewise linear). Each region then
  clears its own book with its net imports as a fixed order (a sale at 0 of
  its imports, or a purchase at any price of its exports), so its firms and
  limit orders are filled by the ordinary rules at the region's price. With
  ``f = 0`` this is the county-wide market; with a fee above every price it
  is ``not_allowed``.

Money: buyers pay the price of their region; sellers receive it; the
importing regions' price exceeds the exporters' by the fee, and
``fee x imports`` goes to the government.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from simulator.markets.book import AbatementBook, BookCurve, clear_book
from simulator.markets.clearing import Clearing, CurveBase, StepOrders, clearing_price

__all__ = ["BETWEEN_REGIONS", "RegionalClearing", "clear_regions", "region_weights"]

#: The switch of trading between regions (``markets.<market>.between_regions``).
BETWEEN_REGIONS: tuple[str, ...] = ("allowed", "not_allowed", "fee")


@dataclass(frozen=True, eq=False)
class RegionalClearing:
    """Outcome of one auction held region by region."""

    price: np.ndarray
    """Each region's price, yuan per unit (NaN: nothing traded there)."""
    clearings: list[Clearing]
    """Each region's clearing of its own book and limit orders (the fixed order of its net
    imports, if any, is its last step order)."""
    net_import: np.ndarray
    """Each region's rights bought from other regions, units (negative: exported)."""
    fee_revenue_yuan: float
    """The fee on the rights traded across region boundaries, yuan (to the government)."""

    @property
    def imports(self) -> np.ndarray:
        """Each region's imports, units (>= 0)."""
        return np.maximum(self.net_import, 0.0)

    @property
    def exports(self) -> np.ndarray:
        """Each region's exports, units (>= 0)."""
        return np.maximum(-self.net_import, 0.0)


def region_weights(values: np.ndarray, region: np.ndarray, n_regions: int,
                   fallback: np.ndarray | None = None) -> np.ndarray:
    """Return each region's share of ``values`` summed by ``region`` (``fallback``'s if all 0).

    The share of the county's cap and reserve a region's market holds (its
    firms' share of the year's allocation); equal shares if both are empty.
    """
    total = np.bincount(region, weights=values, minlength=n_regions)[:n_regions]
    if total.sum() <= 0 and fallback is not None:
        total = np.bincount(region, weights=fallback, minlength=n_regions)[:n_regions]
    s = float(total.sum())
    return total / s if s > 0 else np.full(n_regions, 1.0 / max(n_regions, 1))


class _NetImports(CurveBase):
    """``X(p)``: the regions' import demand at ``p + fee`` less their export supply at ``p``."""

    tail_slope = 0.0  # every book's abatement is bounded

    def __init__(self, curves: Sequence[BookCurve], fee: float) -> None:
        self.curves, self.fee = curves, fee
        # X bends where a Z_r does and where one crosses zero (the autarky prices a_r,
        # at p = a_r for exports and p = a_r - fee for imports).
        autarky = np.array([clearing_price(c)[0] for c in curves])
        pts = np.concatenate([np.concatenate([c.points, c.points - fee]) for c in curves]
                             + [autarky, autarky - fee])
        self.points = np.unique(np.concatenate([[0.0], pts[pts > 0]]))
        self.tol = sum(c.tol for c in curves)

    def _x(self, x: np.ndarray, right: bool) -> np.ndarray:
        out = np.zeros(x.size)
        for c in self.curves:
            z = c.right_all if right else c.left_all
            out += np.maximum(z(x + self.fee), 0.0) - np.maximum(-z(x), 0.0)
        out[np.abs(out) <= self.tol] = 0.0
        return out

    def left_all(self, x: np.ndarray) -> np.ndarray:
        return self._x(np.asarray(x, dtype=float), False)

    def right_all(self, x: np.ndarray) -> np.ndarray:
        return self._x(np.asarray(x, dtype=float), True)

    def root(self, x0: float, x1: float) -> float:
        """Zero of ``X`` on ``(x0, x1)``: ``X`` is linear between breakpoints."""
        if not np.isfinite(x1):
            return x0
        a, b = self.right(x0), self.left(x1)
        if a == b:
            return 0.5 * (x0 + x1)
        return float(np.clip(x0 + a / (a - b) * (x1 - x0), x0, x1))


def _shares(lo: np.ndarray, hi: np.ndarray, volume: float) -> np.ndarray:
    """Split ``volume`` among regions between their least ``lo`` and most ``hi``, pro rata."""
    low, high = float(lo.sum()), float(hi.sum())
    if volume <= low:
        return lo * (volume / low) if low > 0 else np.zeros(lo.size)
    if high > low:
        return lo + (hi - lo) * min((volume - low) / (high - low), 1.0)
    return hi.copy()


def _flows(curves: Sequence[BookCurve], p: float, fee: float) -> np.ndarray:
    """Each region's net imports at exporter price ``p``: exports at ``p``, imports at ``p+f``."""
    at = np.array([p, p + fee])
    left = np.array([c.left_all(at) for c in curves])    # (R, 2): Z(p-), Z((p+f)-)
    right = np.array([c.right_all(at) for c in curves])  # Z(p+), Z((p+f)+)
    supply_lo, supply_hi = np.maximum(-left[:, 0], 0.0), np.maximum(-right[:, 0], 0.0)
    demand_lo, demand_hi = np.maximum(right[:, 1], 0.0), np.maximum(left[:, 1], 0.0)
    volume = min(float(supply_hi.sum()), float(demand_hi.sum()))
    return _shares(demand_lo, demand_hi, volume) - _shares(supply_lo, supply_hi, volume)


def _with_fixed(steps: StepOrders, net_import: float, big: float) -> StepOrders:
    """Return ``steps`` and the region's net imports: a sale at 0, or a purchase at any price."""
    price = 0.0 if net_import > 0 else big
    return StepOrders(np.append(steps.price, price), np.append(steps.quantity, abs(net_import)),
                      np.append(steps.is_buy, net_import < 0))


def clear_regions(books: Sequence[AbatementBook], holdings: Sequence[np.ndarray],
                  steps: Sequence[StepOrders], *,
                  between: Literal["not_allowed", "fee"], fee: float = 0.0) -> RegionalClearing:
    """Return the clearing of one auction in ``R`` regions with trading between them switched.

    Parameters
    ----------
    books : sequence of AbatementBook, length R
        Each region's firms' bids (an empty book for a region of limit orders only).
    holdings : sequence of ndarray
        Rights each of a region's firms holds, units (the shape of its book's need).
    steps : sequence of StepOrders
        Each region's limit orders (its share of the reserve's, firms' limit orders).
    between : {"not_allowed", "fee"}
        No trade across regions, or trade with ``fee`` per unit paid by the buyer.
    fee : float
        Fee per unit traded across a region boundary, yuan (>= 0, finite).

    Returns
    -------
    RegionalClearing
        Prices, each region's clearing, net imports and the fee revenue.

    Examples
    --------
    Two regions, one firm each (``c = 10`` and ``40`` yuan per unit^2, each
    needs 100 and holds 80) have nobody to trade with alone; with a fee of
    100 the cheap region exports 10 units at 300 (``300 / 10 - 20``), the
    other imports them at 400 (``20 - 400 / 40``), and the fee raises 1000.

    >>> b = [AbatementBook([100.0], [0.1], [50.0]), AbatementBook([100.0], [0.025], [50.0])]
    >>> h = [np.array([80.0]), np.array([80.0])]
    >>> none = StepOrders(np.zeros(0), np.zeros(0), np.zeros(0, bool))
    >>> c = clear_regions(b, h, [none, none], between="fee", fee=100.0)
    >>> c.price.round(6).tolist(), c.net_import.round(6).tolist(), round(c.fee_revenue_yuan, 6)
    ([300.0, 400.0], [-10.0, 10.0], 1000.0)
    """
    if not (np.isfinite(fee) and fee >= 0):
        raise ValueError(f"The 'fee' parameter must be finite and >= 0. Got {fee!r} instead.")
    n = len(books)
    if between == "not_allowed" or n < 2:
        clearings = [clear_book(b, h, s) for b, h, s in zip(books, holdings, steps, strict=True)]
        return RegionalClearing(price=np.array([c.price for c in clearings], dtype=float),
                                clearings=clearings, net_import=np.zeros(n),
                                fee_revenue_yuan=0.0)
    if between != "fee":
        raise ValueError(f"The 'between' parameter must be 'not_allowed' or 'fee'. "
                         f"Got {between!r} instead.")
    curves = [BookCurve(b, float(np.sum(h)), s) for b, h, s in zip(books, holdings, steps,
                                                                    strict=True)]
    total = _NetImports(curves, fee)
    p, _ = clearing_price(total)
    net = _flows(curves, p, fee)
    net[np.abs(net) <= total.tol] = 0.0
    big = 2.0 * (float(total.points[-1]) + fee) + 1.0
    clearings, price = [], np.empty(n)
    for r, (b, h, s) in enumerate(zip(books, holdings, steps, strict=True)):
        c = clear_book(b, h, _with_fixed(s, float(net[r]), big) if net[r] else s)
        clearings.append(c)
        # A trading region's price is the exporters' or importers' (a region whose net
        # demand is flat there may clear anywhere on the flat part: the same fills).
        price[r] = p if net[r] < 0 else (p + fee if net[r] > 0 else c.price)
    fixed = np.array([c.step_fill[-1] if net[r] else 0.0 for r, c in enumerate(clearings)])
    net_import = np.sign(net) * fixed
    return RegionalClearing(price=price, clearings=clearings, net_import=net_import,
                            fee_revenue_yuan=fee * float(net_import[net_import > 0].sum()))

"""The reserve's orders at a market's auctions, and what set each auction's price.

At a scheduled auction the reserve offers what the allocations left
unallocated (just above the floor, where it sells it), an auction lot at its
reserve price and containment releases at their trigger prices; at every
auction it sells the rest at the ceiling and buys at the floor
(:func:`reserve_steps`). Each limit order carries the name of the price it
stands for (:class:`Steps`), so that the record of an auction
(:class:`AuctionRecord`, booked by :func:`settle`) says what set its price
(:data:`PRICE_SETTERS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from simulator.markets.clearing import Clearing, StepOrders
from simulator.scenario import EmissionMarketSpec, EnergyMarketSpec

if TYPE_CHECKING:
    from simulator.markets.cycle import QuotaMarket

__all__ = ["ADMINISTRATIVE_SETTERS", "PRICE_SETTERS", "AuctionRecord", "Steps", "reserve_steps",
           "settle"]

#: What can set an auction's price: the firms' bids and offers (their MAC curves, or at
#: compliance the banking value of their surplus), the reserve's purchase at the floor or
#: the compensation price, its sale at the ceiling, its auction lot or a containment
#: release at their prices, or the penalty (or over-quota surcharge) that caps firms' bids.
PRICE_SETTERS: tuple[str, ...] = ("market", "floor", "ceiling", "reserve", "penalty")
#: The price setters that are administrative prices of the reserve.
ADMINISTRATIVE_SETTERS: tuple[str, ...] = ("floor", "ceiling", "reserve")


class Steps:
    """An auction's limit orders, each with the name of the price it stands for."""

    def __init__(self) -> None:
        self.prices: list[float] = []
        self.qty: list[float] = []
        self.buy: list[bool] = []
        self.by: list[str] = []
        self.of_reserve: list[bool] = []

    def add(self, price: float, qty: float, is_buy: bool, by: str, *, reserve: bool = True,
            keep_empty: bool = False) -> None:
        """Add an order (left out if empty, unless ``keep_empty``: callers index it)."""
        if qty > 0 or keep_empty:
            self.prices.append(float(price))
            self.qty.append(max(float(qty), 0.0))
            self.buy.append(bool(is_buy))
            self.by.append(by)
            self.of_reserve.append(reserve)

    def extend(self, other: Steps) -> None:
        """Append ``other``'s orders."""
        for name in ("prices", "qty", "buy", "by", "of_reserve"):
            getattr(self, name).extend(getattr(other, name))

    @property
    def is_buy(self) -> np.ndarray:
        """Whether each order buys."""
        return np.array(self.buy, dtype=bool)

    @property
    def reserve(self) -> np.ndarray:
        """Whether each order is the reserve's."""
        return np.array(self.of_reserve, dtype=bool)

    def orders(self) -> StepOrders:
        """Return the orders for the auction."""
        return StepOrders(np.array(self.prices, float), np.array(self.qty, float), self.is_buy)

    def setter(self, price: float) -> str:
        """Return what set ``price``: the first order priced there, else the market."""
        tol = 1e-9 * max(abs(price), 1.0)
        for p, by in zip(self.prices, self.by, strict=True):
            if abs(p - price) <= tol:
                return by
        return "market"


@dataclass(frozen=True)
class AuctionRecord:
    """Outcome of one auction (units: tce or t; yuan per unit)."""

    month: int
    price: float
    volume: float
    buyers: int
    sellers: int
    reserve_sold: float
    reserve_bought: float
    price_setter: str = ""
    """What set the price (:data:`PRICE_SETTERS`; "" without trade)."""


def reserve_steps(spec: EnergyMarketSpec | EmissionMarketSpec, reserve: float, cap: float, *,
                  auction_lot: bool, firm_total: float) -> Steps:
    """Return the reserve's limit orders, holding ``reserve`` of a year's ``cap``, units.

    At scheduled auctions (``auction_lot``): the auction lot at its reserve
    price and the containment releases at their trigger prices; always the
    sale of the rest at the ceiling and the purchase at the floor.
    """
    reserve = max(reserve, 0.0)
    steps = Steps()
    offered = 0.0
    if auction_lot:
        if spec.reserve.sells_unallocated:
            # What the allocations left of the cap beyond the reserve's own share.
            # Offered a hair above the floor, so that the reserve's purchase at the
            # floor (which keeps the price from falling below it) never buys it back.
            unallocated = max(reserve - spec.reserve.share_of_cap * cap, 0.0)
            steps.add(spec.price.floor_yuan_per_unit * (1.0 + 1e-9), unallocated, False,
                      "floor")
            offered = unallocated
        kept = reserve - offered
        lot = kept * spec.reserve.auction_share
        steps.add(spec.reserve.auction_reserve_price_yuan_per_unit, lot, False, "reserve")
        offered += lot
        for release in spec.reserve.releases:
            qty = min(kept * release.share, reserve - offered)
            steps.add(release.trigger_price_yuan_per_unit, qty, False, "reserve")
            offered += max(qty, 0.0)
    if spec.reserve.sells_at_ceiling:
        steps.add(spec.price.ceiling_yuan_per_unit, reserve - offered, False, "ceiling")
    if spec.reserve.buys_at_floor and spec.price.floor_yuan_per_unit > 0 and firm_total > 0:
        # More than all firms could offer, so the reserve is the long side at the floor
        # and the price never falls below it.
        steps.add(spec.price.floor_yuan_per_unit, 2.0 * firm_total + 1.0, True, "floor")
    return steps


def settle(market: QuotaMarket, clearing: Clearing, firm_delta: np.ndarray, steps: Steps,
           steps_fill: np.ndarray, spec: EnergyMarketSpec | EmissionMarketSpec, month: int,
           index: np.ndarray | None = None) -> None:
    """Book an auction's trades in ``market`` and record it, with the order that set its price.

    ``steps`` are the auction's limit orders other than the firms' own
    (reserve, floor, ceiling; at compliance also the firms' limit bids),
    ``steps_fill`` their fills.
    """
    reserve_delta = -float(firm_delta.sum())
    price = clearing.price if np.isfinite(clearing.price) else 0.0
    if clearing.volume > 0:
        market.ledger.trade(firm_delta, reserve_delta, price, fee_share=spec.trading_fee_share,
                            index=index)
    sells = steps.reserve & ~steps.is_buy
    buys = steps.reserve & steps.is_buy
    market.auctions.append(AuctionRecord(
        month=month, price=float(clearing.price), volume=float(clearing.volume),
        buyers=int(clearing.buyers), sellers=int(clearing.sellers),
        reserve_sold=float(steps_fill[sells].sum()),
        reserve_bought=float(steps_fill[buys].sum()),
        price_setter=steps.setter(clearing.price) if clearing.volume > 0 else "",
    ))
    if np.isfinite(clearing.price):
        market.last_price = float(clearing.price)
        market.last_setter = market.auctions[-1].price_setter or "market"


"""A quota market's auctions held region by region (``between_regions``: not allowed, fee).

When a market's ``between_regions`` is not ``allowed`` and the county has
more than one region, :class:`~simulator.markets.cycle.QuotaMarket` holds
each auction through :func:`scheduled_auction` (and its year end's final
auction through :func:`final_auction`): the book's participants are split
by their region, each region gets its share of the reserve's orders, and
:func:`~simulator.markets.regions.clear_regions` clears them with trade
across regions forbidden or charged a fee.

How the county's cap and reserve are split: the reserve stays one county
account (its holdings, leases and expiry are the county's), but at every
auction each region's market gets the share of its orders (auction lot,
releases, sale at the ceiling) that the region's firms hold of the year's
allocation, and the reserve's purchase at the floor is offered in every
region; a region's cap is that share of the county's cap. Leases at
compliance come from the county reserve, pro rata to shortfalls (a lease is
not a trade between firms). The firms' allocation itself is unchanged (each
firm's history x class factor x intensity factor), so a region's share of
the cap is its firms' share of the allocation.

Every auction records each region's price, volume and net imports
(:class:`RegionRecord`); the fee on imports is booked as the government's
platform fee (``"fee"``), its total kept in :attr:`RegionRecord.fee_yuan`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from simulator.firms import Firms
from simulator.markets.book import AbatementBook, empty_book
from simulator.markets.regions import RegionalClearing, clear_regions, region_weights
from simulator.markets.reserve import AuctionRecord, Steps, reserve_steps
from simulator.scenario import EmissionMarketSpec, EnergyMarketSpec, Scenario

if TYPE_CHECKING:
    from simulator.markets.cycle import QuotaMarket

__all__ = ["RegionRecord", "final_auction", "scheduled_auction", "settle_regions"]


@dataclass(frozen=True)
class RegionRecord:
    """One auction's outcome by region (units: tce or t; prices yuan per unit)."""

    month: int
    price: np.ndarray
    """Each region's price (NaN: nothing traded there)."""
    volume: np.ndarray
    """Rights bought by each region's firms and reserve share, imports included."""
    net_import: np.ndarray
    """Rights each region bought from the others (negative: sold to them)."""
    fee_yuan: float
    """The fee paid on rights bought across region boundaries."""


def _sub_books(market: QuotaMarket, book: AbatementBook, region: np.ndarray,
               n_regions: int) -> list[tuple[AbatementBook, np.ndarray]]:
    """Each region's book and its participants' positions, cut once per book in force."""
    key = (book, book.order)
    cached = market.region_books
    if cached is not None and cached[0][0] is key[0] and cached[0][1] is key[1]:
        return cached[1]
    order = np.argsort(region, kind="stable")
    ends = np.cumsum(np.bincount(region, minlength=n_regions))
    out = []
    for r in range(n_regions):
        at = order[(ends[r - 1] if r else 0):ends[r]]
        sub = (AbatementBook.from_clean(book.need[at], book.inv_slope[at], book.reach[at],
                                        book.firm_kink[at]) if at.size else empty_book())
        out.append((sub, at))
    market.region_books = (key, out)
    return out


def scheduled_auction(market: QuotaMarket, month: int, firms: Firms,
                      scenario: Scenario) -> float | None:
    """Clear one scheduled auction region by region; return the mean price, or None.

    As :meth:`~simulator.markets.cycle.QuotaMarket.scheduled_auction`, in
    each region with its own bids, its firms' sales at the bid cap and its
    share of the reserve's orders; the regions' prices are in
    ``market.region_price``.
    """
    spec = market.spec(scenario)
    book, idx = market.book(firms, scenario)
    n = market.n_regions
    region = firms.region[idx].astype(np.intp)
    parts = _sub_books(market, book, region, n)
    weight = region_weights(market.allocation, firms.region.astype(np.intp), n,
                            fallback=market.history * market.members)
    held = market.ledger.holdings_at(idx)
    cap_price = market.kind.bid_cap(spec)
    books, holdings, steps = [], [], []
    for r, (sub, at) in enumerate(parts):
        s = Steps()
        keep = float(market.keep[at].sum()) if market.keep is not None else 0.0
        s.add(cap_price, keep, False, "penalty", reserve=False, keep_empty=True)
        s.extend(reserve_steps(spec, market.ledger.reserve * weight[r], market.cap * weight[r],
                               auction_lot=True,
                               firm_total=float(held[at].sum()) + sub.need_total))
        books.append(sub)
        holdings.append(held[at])
        steps.append(s)
    rc = clear_regions(books, holdings, [s.orders() for s in steps],
                       between=spec.between_regions, fee=spec.region_fee_yuan_per_unit)
    delta = np.zeros(idx.size)
    for r, (_, at) in enumerate(parts):
        c = rc.clearings[r]
        d = c.linear_fill
        if c.step_fill.size and c.step_fill[0] > 0:  # sales at the bid cap
            d = d - market.keep[at] * (c.step_fill[0] / market.keep[at].sum())
        delta[at] = d
    settle_regions(market, rc, delta, idx, [at for _, at in parts], steps, spec, month)
    traded = market.auctions[-1].volume > 0
    return market.last_price if traded else None


def final_auction(market: QuotaMarket, spec: EnergyMarketSpec | EmissionMarketSpec,
                  idx: np.ndarray, region: np.ndarray, orders, month: int) -> None:
    """Clear the year end's final auction of limit orders region by region and settle it.

    ``orders(r, at, reserve, cap)`` returns the limit orders of region
    ``r``'s participants at positions ``at`` of ``idx`` with a reserve of
    ``reserve`` of a cap ``cap``, and
    a function of that auction's fills giving their changes of holdings
    (:func:`simulator.markets.compliance.final_orders`).
    """
    n = market.n_regions
    weight = region_weights(market.allocation[idx], region, n,
                            fallback=market.history[idx] * market.members[idx])
    order = np.argsort(region, kind="stable")
    ends = np.cumsum(np.bincount(region, minlength=n))
    positions, steps, fills_of = [], [], []
    for r in range(n):
        at = order[(ends[r - 1] if r else 0):ends[r]]
        s, to_delta = orders(r, at, market.ledger.reserve * weight[r], market.cap * weight[r])
        positions.append(at)
        steps.append(s)
        fills_of.append(to_delta)
    rc = clear_regions([empty_book()] * n, [np.zeros(0)] * n, [s.orders() for s in steps],
                       between=spec.between_regions, fee=spec.region_fee_yuan_per_unit)
    delta = np.zeros(idx.size)
    for r, at in enumerate(positions):
        delta[at] = fills_of[r](rc.clearings[r].step_fill)
    settle_regions(market, rc, delta, idx, positions, steps, spec, month)


def settle_regions(market: QuotaMarket, rc: RegionalClearing, delta: np.ndarray,
                   idx: np.ndarray, positions: list[np.ndarray], steps: list[Steps],
                   spec: EnergyMarketSpec | EmissionMarketSpec, month: int) -> None:
    """Book an auction held by region in ``market`` and record it, county-wide and by region.

    Each region settles at its price; what it imports passes through the
    county (booked as the reserve's for the moment of the trade: exporting
    regions first, so the reserve never sells what it does not have), and
    the fee on imports is moved from the reserve's receipts to the
    government's fees. Firms ``idx[positions[r]]`` are region ``r``'s,
    ``delta`` their changes of holdings; ``steps[r]`` region ``r``'s limit
    orders (the fixed order of its net imports comes after them).
    """
    led = market.ledger
    n = len(positions)
    sold, bought, volume = np.zeros(n), np.zeros(n), np.zeros(n)
    for r in np.argsort(rc.net_import, kind="stable"):  # exporters first
        c, s = rc.clearings[r], steps[r]
        m = len(s.prices)
        fill = c.step_fill[:m]
        sold[r] = fill[s.reserve & ~s.is_buy].sum()
        bought[r] = fill[s.reserve & s.is_buy].sum()
        volume[r] = c.volume
        d = delta[positions[r]]
        if c.volume > 0 and np.isfinite(rc.price[r]):
            led.trade(d, -float(d.sum()), float(rc.price[r]),
                      fee_share=spec.trading_fee_share, index=idx[positions[r]])
    led.government_yuan["auction"] -= rc.fee_revenue_yuan
    led.government_yuan["fee"] += rc.fee_revenue_yuan
    traded = np.isfinite(rc.price) & (volume > 0)
    total = float(volume.sum() - rc.imports.sum())  # a unit across regions counts once
    mean = (float(np.average(rc.price[traded], weights=volume[traded]))
            if traded.any() else float("nan"))
    main = int(np.argmax(np.where(traded, volume, -1.0)))
    setter = steps[main].setter(float(rc.price[main])) if traded.any() else ""
    # The fixed orders of the regions' net imports count among their buyers (exporting
    # regions) and sellers (importing regions); they are not participants.
    market.auctions.append(AuctionRecord(
        month=month, price=mean, volume=total,
        buyers=sum(c.buyers for c in rc.clearings) - int(np.count_nonzero(rc.net_import < 0)),
        sellers=sum(c.sellers for c in rc.clearings) - int(np.count_nonzero(rc.net_import > 0)),
        reserve_sold=float(sold.sum()), reserve_bought=float(bought.sum()),
        price_setter=setter))
    market.region_auctions.append(RegionRecord(
        month=month, price=rc.price, volume=volume, net_import=rc.net_import,
        fee_yuan=rc.fee_revenue_yuan))
    if traded.any():
        market.region_price[traded] = rc.price[traded]
        market.last_price = mean
        market.last_setter = setter or "market"

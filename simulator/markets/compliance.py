"""A market's year end: leases, the final auction, surrender, what shortfalls pay, expiry.

:func:`comply` runs it for a :class:`~simulator.markets.cycle.QuotaMarket`:
leases from the reserve, then a final auction of limit orders: firms short of
rights bid up to the penalty (emissions) or marginal over-quota surcharge
(energy) they would otherwise pay; firms with surplus offer it at its banking
value (the last price), or without banking at the year's price (energy, down
to the compensation price) or at zero (:func:`surplus_value`). Then rights are
surrendered; shortfalls pay the surcharge or penalty (emission shortfalls are
violations); unsold energy surplus is compensated; leases end; without
banking, unused rights expire. :class:`Compliance` records the outcome.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from simulator.firms import Firms
from simulator.markets import by_region
from simulator.markets.auction import clear_market
from simulator.markets.reserve import Steps, reserve_steps, settle
from simulator.scenario import EmissionMarketSpec, EnergyMarketSpec, Scenario

if TYPE_CHECKING:
    from simulator.markets.cycle import QuotaMarket

__all__ = ["Compliance", "comply", "final_orders", "surplus_value"]


@dataclass(frozen=True, eq=False)
class Compliance:
    """The year-end compliance of one market's participants (covered firms and holders)."""

    n_firms: int
    """Number of firms (the others use nothing and are short of nothing)."""
    index: np.ndarray
    """Firm indices of the participants."""
    use: np.ndarray
    """Their use to cover (0 outside the scope), units."""
    held: np.ndarray
    """Rights they held at compliance, after the final auction and before surrender
    (own, bought, leased and banked), units."""
    shortfall: np.ndarray
    """Their use not covered by rights after the final auction, units."""
    violation: np.ndarray
    """Their shortfall beyond rounding (a violation)."""

    def per_firm(self, values: np.ndarray) -> np.ndarray:
        """Return participant ``values`` as one value per firm (0 or False for the others)."""
        out = np.zeros(self.n_firms, dtype=values.dtype)
        out[self.index] = values
        return out



def comply(market: QuotaMarket, month: int, firms: Firms, scenario: Scenario,
           absent: np.ndarray | None = None) -> None:
    """Year end of ``market``: leases, the final auction, surrender, penalties, expiry.

    Only covered firms and holders of rights take part (the others have
    nothing to cover or sell), so everything but the expiry works on them:
    the book's participants, if the book stands (only they have traded
    since it was built), else the covered firms and holders now. Firms
    ``absent`` (boolean per firm, optional) miss the compliance window:
    they neither lease, buy nor sell, and pay for what they lack.
    """
    spec = market.spec(scenario)
    led = market.ledger
    idx = market.participants
    if idx is None:
        idx = np.flatnonzero(market.members | (led.holdings > 0))
    use = np.where(market.members[idx], market.use_ytd(firms)[idx], 0.0)
    need = use - led.holdings_at(idx)
    if absent is not None:
        need = np.where(absent[idx], 0.0, need)  # they take no part in the window
    short = np.maximum(need, 0.0)
    # Leases from the reserve (reserve x lease_share at most), pro rata to shortfalls,
    # at the lease price whatever the penalty: a lease also spares the violation.
    lease_supply = led.reserve * spec.reserve.lease_share
    total_short = float(short.sum())
    if lease_supply > 0 and total_short > 0:
        lease = short * min(1.0, lease_supply / total_short)
        led.lease(lease, spec.reserve.lease_price_yuan_per_unit, index=idx)
        market.reserve_flows["leased"] += float(lease.sum())
        short -= lease
    surplus = np.maximum(-need, 0.0)
    if market.regional:
        value = market.region_price if spec.banking else None

        def orders(r: int, at: np.ndarray, reserve: float, cap: float):
            price_by = (market.kind.unsold_surplus_value(spec, market.region_price[r],
                                                         market.last_setter)
                        if value is None else (float(value[r]), market.last_setter))
            return final_orders(market, spec, short[at], surplus[at], market.allocation[idx][at],
                                reserve, cap, price_by)

        by_region.final_auction(market, spec, idx, firms.region[idx].astype(np.intp), orders,
                                month)
    else:
        steps, to_delta = final_orders(market, spec, short, surplus, market.allocation[idx],
                                       led.reserve, market.cap, surplus_value(market, spec))
        clearing = clear_market(None, steps.orders())
        fill = clearing.step_fill
        delta = to_delta(fill)
        r_buy = steps.is_buy[steps.reserve]
        reserve_fill = fill[steps.reserve]
        clearing = dataclasses.replace(
            clearing, buyers=int(np.count_nonzero(delta > 0) + (reserve_fill[r_buy] > 0).sum()),
            sellers=int(np.count_nonzero(delta < 0) + (reserve_fill[~r_buy] > 0).sum()))
        settle(market, clearing, delta, steps, fill, spec, month, index=idx)
    # Surrender and pay for what is still missing.
    quota = market.allocation[idx]
    held = led.holdings_at(idx).copy()
    short = led.surrender(use, index=idx)
    market.kind.settle_shortfall(market, spec, idx, quota, short)
    market.compliance = Compliance(n_firms=market.members.size, index=idx, use=use,
                                   held=held, shortfall=short,
                                   violation=short > 1e-9 * np.maximum(use, 1.0))
    led.end_leases()
    market.reserve_at_year_end = led.reserve
    term_end = market.kind.term_ends(spec, market.year, market.first_year)
    if not spec.banking or term_end:
        # Rights are valid for their year (or term): those the reserve holds, including
        # any it bought back, expire with the firms' so the next cap stands alone.
        led.expire_holdings()
        led.expire_reserve()
    led.check()



def final_orders(market: QuotaMarket, spec: EnergyMarketSpec | EmissionMarketSpec,
                 short: np.ndarray, surplus: np.ndarray, allocation: np.ndarray,
                 reserve: float, cap: float,
                 value_by: tuple[float, str]) -> tuple[Steps, Callable[[np.ndarray], np.ndarray]]:
    """Return the final auction's limit orders and how their fills change holdings.

    Orders at one limit price are filled pro rata, so each price level is
    one order: the shortfall blocks (``kind.shortfall_levels``), the
    surplus offered at ``value_by`` (its price and who set it,
    :func:`surplus_value`), then the reserve's orders holding ``reserve`` of
    ``cap``. The function maps the orders' fills to each firm's change of
    holdings (+ bought, - sold).
    """
    level_price, level = market.kind.shortfall_levels(spec, short, allocation)
    bids = (np.array([short.sum()]) if level is None
            else np.bincount(level, weights=short, minlength=level_price.size))
    steps = Steps()
    m = level_price.size
    for price, qty in zip(level_price, bids, strict=True):
        steps.add(price, qty, True, "penalty", reserve=False, keep_empty=True)
    value, by = value_by
    offered = float(surplus.sum())
    steps.add(value, offered, False, by, reserve=False, keep_empty=True)
    steps.extend(reserve_steps(spec, reserve, cap, auction_lot=False, firm_total=offered))

    def to_delta(fill: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            bought = np.where(bids > 0, fill[:m] / bids, 0.0)
            sold = fill[m] / offered if fill[m] > 0 else 0.0
        delta = short * (bought[0] if level is None else bought[level])
        delta -= surplus * sold
        return delta

    return steps, to_delta


def surplus_value(market: QuotaMarket,
                  spec: EnergyMarketSpec | EmissionMarketSpec) -> tuple[float, str]:
    """Return the lowest price a firm accepts for surplus rights at year end, and who set it.

    With banking, the last auction's price: what the right is worth next
    year (set by whatever set that price). Without banking, what the kind
    says (energy: the year's price down to the compensation the reserve
    pays for what stays unsold, 减少用能补偿; emissions: 0, unused rights
    expire).
    """
    if spec.banking:
        return market.last_price, market.last_setter
    return market.kind.unsold_surplus_value(spec, market.last_price, market.last_setter)


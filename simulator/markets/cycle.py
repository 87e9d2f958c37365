"""One quota market's year: allocation, scheduled auctions, abatement, compliance.

A :class:`QuotaMarket` holds the state of one market (energy-use rights in
tce, or one pollutant's emission rights in t) during a run and turns the pure
functions of :mod:`~simulator.markets.allocation` and
:mod:`~simulator.markets.auction` into the market's calendar. Every change of
holdings and every payment goes through its :class:`QuotaLedger`. The engine
calls it; it knows nothing of the clock.

The year of a market:

1. **Allocation** (start of year): cap from the cap path; the reserve keeps
   ``reserve.share_of_cap``; firms get history x class factor x intensity
   factor, scaled down to fit (the rest goes to the reserve). Energy: paid-use
   fee by the firm's intensity against the target, and paid subscription
   (有偿申购) of new energy use by expanding firms. Emissions: paid use (有偿使用)
   at a price per tonne-year by class, entitlements fixed for a term.
2. **Scheduled auctions** (``auctions_per_year``): every firm bids its MAC
   curve for its expected (unabated) annual use, the reserve offers an auction
   lot at its reserve price, sells at the ceiling and buys at the floor. After
   clearing, each firm abates to where its MAC equals the price.
3. **Compliance** (year end): leases from the reserve, then a final auction of
   limit orders: firms short of rights bid up to the penalty (emissions) or
   marginal over-quota surcharge (energy) they would otherwise pay; firms with
   surplus offer it at its banking value (the last price), or without banking
   at the year's price (energy, down to the compensation price) or at zero.
   Then rights are surrendered; shortfalls pay the
   surcharge or penalty (emission shortfalls are violations); unsold energy
   surplus is compensated; leases end; without banking, unused rights expire.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from simulator.firms import Firms
from simulator.markets import kernels
from simulator.markets.allocation import abatement_cost, baseline_allocation, mac_slopes, next_cap
from simulator.markets.auction import AbatementBook, StepOrders, clear_book, clear_market
from simulator.markets.kinds import kind_of
from simulator.markets.ledger import QuotaLedger
from simulator.scenario import (
    POLLUTANTS,
    QUOTAS,
    EmissionMarketSpec,
    EnergyMarketSpec,
    Scenario,
)

__all__ = ["ADMINISTRATIVE_SETTERS", "PRICE_SETTERS", "RIGHTS_FLOWS", "AuctionRecord", "Compliance",
           "QuotaMarket", "enabled_markets"]

_MAX_SHARE = 0.999  # abatement share below 1 keeps intensities invertible


def enabled_markets(scenario: Scenario) -> list[str]:
    """Names of the markets switched on, in a fixed order (energy, then pollutants)."""
    names = ["energy"] if scenario.markets.energy.enabled else []
    names += [p for p in POLLUTANTS
              if p in scenario.markets.emissions and scenario.markets.emissions[p].enabled]
    return names


#: The reserve's yearly operations other than auctions (QuotaMarket.reserve_flows).
RESERVE_FLOWS: tuple[str, ...] = ("leased", "subscribed", "compensated")

#: The ledger's cumulative rights flows, reported per year (QuotaMarket.rights_this_year):
#: with the firms' and the reserve's holdings they account for every right issued.
RIGHTS_FLOWS: tuple[str, ...] = ("issued", "surrendered", "expired")

#: What can set an auction's price: the firms' bids and offers (their MAC curves, or at
#: compliance the banking value of their surplus), the reserve's purchase at the floor or
#: the compensation price, its sale at the ceiling, its auction lot or a containment
#: release at their prices, or the penalty (or over-quota surcharge) that caps firms' bids.
PRICE_SETTERS: tuple[str, ...] = ("market", "floor", "ceiling", "reserve", "penalty")
#: The price setters that are administrative prices of the reserve.
ADMINISTRATIVE_SETTERS: tuple[str, ...] = ("floor", "ceiling", "reserve")


class _Steps:
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

    def extend(self, other: _Steps) -> None:
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


class QuotaMarket:
    """State of one quota market during a run.

    Parameters
    ----------
    quota : str
        ``"energy"`` or a pollutant (``"cod"``, ``"nh3n"``, ``"so2"``, ``"nox"``).
    firms : Firms
        The population (its intensities are changed by abatement).
    scenario : Scenario
        The scenario at the start of the run.
    rng : numpy.random.Generator
        Draws the firms' MAC slopes.
    by_sector : ndarray of int, optional
        ``argsort(firms.sector, kind="stable")``, if the caller sorted it once
        for several markets.
    """

    def __init__(self, quota: str, *, firms: Firms, scenario: Scenario,
                 rng: np.random.Generator, by_sector: np.ndarray | None = None):
        self.quota = quota
        self.kind = kind_of(quota)
        n = firms.n
        self.ledger = QuotaLedger(n, quota=quota)
        spec = self.spec(scenario)
        potential = self.intensity(firms) * firms.va_wan_yuan
        # Sector benchmark intensity: the sector's median at the start (base-year norm).
        self._benchmark_by_sector = _sector_medians(self.intensity(firms), firms.sector,
                                                    by_sector)
        self.benchmark = self._benchmark_by_sector[firms.sector]
        self.members = potential >= spec.scope_min_use_per_year  # covered firms
        self.baseline_total = float(potential[self.members].sum())
        self.first_year = scenario.run.first_year
        self.slope = mac_slopes(potential, sector=firms.sector,
                                sector_names=scenario.sector_names(), spec=spec.mac, rng=rng)
        self.share = np.zeros(n)            # abatement share in force
        self.history = potential.copy()     # unabated use last year (first year: potential)
        # The kind's own per-firm arrays (None where the kind has none): energy use covered
        # by baseline or subscription (``registered``) and the firms entered since the last
        # allocation (``entered``); emission rights per year for the term (``entitlement``).
        extra = self.kind.extra_state(potential)
        self.registered = extra["registered"]
        self.entered = extra["entered"]
        self.entitlement = extra["entitlement"]
        self.allocation = np.zeros(n)
        self.unabated_ytd = np.zeros(n)
        self._abatement_cost_ytd = np.zeros(n)
        self.compliance: Compliance | None = None  # the last year end's
        self._covered: np.ndarray | None = None  # flatnonzero(members), for the array below
        self._covered_of: np.ndarray | None = None
        self.last_price = 0.0
        self.last_setter = "market"  # what set last_price (PRICE_SETTERS)
        self.auctions: list[AuctionRecord] = []
        # The reserve's operations of the year besides auctions, units: leased at
        # compliance, sold by subscription and bought back as compensation (energy).
        self.reserve_flows: dict[str, float] = dict.fromkeys(RESERVE_FLOWS, 0.0)
        self.reserve_at_year_end = 0.0  # after compliance, before any expiry
        self.intensity_target: float | None = None  # energy: the year's target, tce/万元
        self.banked_at_start = 0.0  # rights banked before the run (initial_state)
        self.cap = 0.0
        self.year = self.first_year
        self._term_total = 0.0
        self._accrued_to = 0
        self._paid_at_year_start = np.zeros(n)
        self._rights_at_year_start = dict.fromkeys(RIGHTS_FLOWS, 0.0)  # the ledger's, units
        self._book: AbatementBook | None = None  # the year's bids, sorted once
        self._idx: np.ndarray | None = None      # the book's participants (firm indices)
        self._same_idx = False                   # participants unchanged since the last book
        self._ranked: np.ndarray | None = None   # last book's firms in kink order, after a resize
        self._order: np.ndarray | None = None    # last book's kink order (a re-sort hint)
        # The participants' abatement, kept contiguous while the book stands: share in
        # force, most they abate, MAC slopes, cost per year at that share, and cost
        # accrued but not yet booked into abatement_cost_ytd.
        self._p_share = self._p_most = self._p_slope = self._p_rate = self._p_cost = None
        # (book, ledger moves) after an auction of that book found no trade.
        self._quiet: tuple[AbatementBook, int] | None = None

    # ------------------------------------------------------------------ access

    def spec(self, scenario: Scenario) -> EnergyMarketSpec | EmissionMarketSpec:
        """Return this market's parameters in ``scenario``."""
        return scenario.markets.of(self.quota)

    def intensity(self, firms: Firms) -> np.ndarray:
        """Effective use per 万元 VA (after abatement); a view into the firms' state."""
        return self.kind.intensity(firms)

    def use_ytd(self, firms: Firms) -> np.ndarray:
        """Use (energy, tce) or emissions (t) booked so far this year, after abatement."""
        return self.kind.use_ytd(firms)

    def potential_unabated(self, firms: Firms) -> np.ndarray:
        """Return each firm's expected unabated annual use at potential output."""
        return self.intensity(firms) * firms.va_wan_yuan / (1.0 - self.share)

    def invalidate(self) -> None:
        """Forget the year's sorted bids: firms' needs, the bid cap or the MAC bounds changed.

        The engine calls this on timeline changes; allocation and firm
        replacement call it too. (Upgrades that change some firms' unabated
        intensities renew their bids instead, :meth:`renew_bids`; abatement
        keeps unabated needs as they are.)
        """
        self._fold_cost()
        self._book = self._quiet = None

    @property
    def current_book(self) -> AbatementBook | None:
        """The book in force (None until the next auction rebuilds it)."""
        return self._book

    @property
    def participants(self) -> np.ndarray | None:
        """Firm indices of the book's participants (None without a book)."""
        return self._idx if self._book is not None else None

    @property
    def abatement_cost_ytd(self) -> np.ndarray:
        """Abatement cost accrued this year per firm, yuan."""
        self._fold_cost()
        return self._abatement_cost_ytd

    def _fold_cost(self) -> None:
        """Book the participants' accrued abatement cost into the per-firm array."""
        if self._book is not None and self._p_cost is not None and self._p_cost.any():
            self._abatement_cost_ytd[self._idx] += self._p_cost
            self._p_cost[:] = 0.0

    def book(self, firms: Firms, scenario: Scenario) -> tuple[AbatementBook, np.ndarray]:
        """Return the year's bids and the participants they belong to.

        Participants are the covered firms, any firm holding rights (outside
        the scope it only sells) and any firm still abating from an earlier
        year (outside the scope it stops). The book holds their needs
        (0 outside the scope), MAC slopes and abatement bounds, sorted by kink
        price; it is built at the first auction after an allocation or
        :meth:`invalidate`, re-using last year's order when the participants
        are the same, and upgrades renew single firms' orders in it
        (:meth:`renew_bids`). Every auction of the year then works on the
        participants alone.
        """
        if self._book is None:
            if self._same_idx:  # within a year only participants trade and abate
                idx = self._idx
            else:
                idx = np.flatnonzero(self.members | (self.ledger.holdings > 0)
                                     | (self.share > 0))
            need, inv_slope, reach, kink, self._keep, self._p_share, self._p_most, \
                self._p_slope, self._p_rate = self._bids(idx, firms, scenario)
            self._book = AbatementBook.from_clean(need, inv_slope, reach, kink,
                                                  order=self._sort_hint(idx))
            self._idx, self._order, self._same_idx = idx, self._book.order, True
            self._keep_total = float(self._keep.sum())
            self._p_cost = np.zeros(idx.size)
        return self._book, self._idx

    def _bids(self, idx: np.ndarray, firms: Firms, scenario: Scenario) -> tuple[np.ndarray, ...]:
        """Book inputs and abatement state of firms ``idx`` (``kernels.market_book``)."""
        spec = self.spec(scenario)
        # Needs are 0 outside the scope. No firm pays more for a right than the penalty
        # (or surcharge) it avoids without one: it abates at most to where its MAC
        # reaches that price; the rest of its need it sells at that price, not uses.
        *bids, bad = kernels.market_book(
            idx, self.intensity(firms), firms.va_wan_yuan, self.share, self.members,
            self.slope, spec.mac.max_abatement_share, self.kind.bid_cap(spec))
        if bad >= 0:
            raise ValueError(f"{self.quota}: firm {int(idx[bad])}'s bid is not finite and "
                             "non-negative (need, 1 / MAC slope or most it abates)")
        return tuple(bids)

    def renew_bids(self, changed: np.ndarray, firms: Firms, scenario: Scenario) -> np.ndarray:
        """Firms ``changed`` (ascending) have new unabated intensities: renew their bids.

        An upgrade taking or leaving effect changes a firm's need, not its
        holdings, share or MAC: the book stands with those participants' orders
        replaced and re-sorted (as :meth:`book` would build it afresh). Returns
        their positions among the participants (none without a book: the next
        auction builds one).
        """
        if self._book is None or not self._idx.size:
            return np.zeros(0, dtype=np.intp)
        at = np.minimum(np.searchsorted(self._idx, changed), self._idx.size - 1)
        at = at[self._idx[at] == changed]  # the participants among them
        if at.size:
            need, inv_slope, reach, kink, keep, _, most, _, rate = self._bids(
                self._idx[at], firms, scenario)
            self._book.renew(at, need, inv_slope, reach, kink)
            self._quiet = None
            self._order = self._book.order
            self._keep[at] = keep
            self._keep_total = float(self._keep.sum())
            self._p_most[at], self._p_rate[at] = most, rate
        return at

    def _sort_hint(self, idx: np.ndarray) -> np.ndarray | None:
        """Last book's kink order carried over to the participants ``idx`` (None at first).

        Kinks change little from one book to the next, so last order, with
        the firms that left dropped and the new ones appended, is nearly
        sorted and re-sorts in close to linear time.
        """
        if self._idx is not None and self._order is not None:
            if np.array_equal(idx, self._idx):
                return self._order
            ranked = self._idx[self._order]  # last book's firms in kink order
        elif self._ranked is not None:  # the same, carried over a resize
            ranked = self._ranked
        else:
            return None
        where = np.full(self.members.size, -1, dtype=np.intp)  # firm -> position in idx
        where[idx] = np.arange(idx.size)
        kept = where[ranked]
        kept = kept[kept >= 0]
        new = np.ones(idx.size, dtype=bool)
        new[kept] = False
        return np.concatenate([kept, np.flatnonzero(new)])

    def net_paid_this_year(self) -> np.ndarray:
        """Each firm's net payments to the quota system since the year began, yuan."""
        led = self.ledger
        return led.firm_paid_yuan - led.firm_received_yuan - self._paid_at_year_start

    def rights_this_year(self) -> dict[str, float]:
        """Rights issued, surrendered for compliance and expired since the year began, units.

        Differences of the ledger's cumulative totals (:data:`RIGHTS_FLOWS`)
        since the year's allocation: issued is the cap (and, the first year,
        the rights banked before the run); expiry takes the firms' and the
        reserve's rights.
        """
        led = self.ledger
        return {flow: getattr(led, flow) - self._rights_at_year_start[flow]
                for flow in RIGHTS_FLOWS}

    def add_cost_this_year(self, out: np.ndarray) -> None:
        """Add each firm's cost of this market this year to ``out``, yuan.

        Net payments (:meth:`net_paid_this_year`) plus abatement cost, in place.
        """
        led = self.ledger
        out += led.firm_paid_yuan
        out -= led.firm_received_yuan
        out -= self._paid_at_year_start
        out += self.abatement_cost_ytd

    # ----------------------------------------------------------- during the year

    def book_unabated(self, va: np.ndarray, firms: Firms) -> None:
        """Record a billing period's unabated use (next year's allocation history).

        The unabated intensity does not change within a year (abatement only
        changes the effective one), so ``va`` x unabated intensity is exact.
        """
        kernels.add_unabated(self.unabated_ytd, va, self.intensity(firms), self.share)

    def accrue_abatement_cost(self, month: int, firms: Firms) -> None:
        """Book the abatement cost of the months since the last accrual (``month``: run month)."""
        elapsed = month - self._accrued_to
        if elapsed > 0:
            if self._book is not None:  # every firm that abates is a participant
                self._p_cost += self._p_rate * (elapsed / 12.0)
            elif self.share.any():
                q = self.share * self.potential_unabated(firms)
                self._abatement_cost_ytd += abatement_cost(
                    q, slope=self.slope) * (elapsed / 12.0)
        self._accrued_to = month

    def adopt_price(self, price: float, *, month: int) -> np.ndarray | None:
        """Participants abate to where their MAC equals ``price``; return their intensity factor.

        Each participant (:meth:`book`) abates ``min(price / c_i, s e_i)``
        (``s``: the most it may abate; nothing outside the scope). Returns
        ``(1 - new share) / (1 - old share)`` per participant, or None if no
        share changes. The caller scales the participants' intensities by the
        factor (see :func:`simulator.engine.trading.abate`), keeping the period's
        billing exact. Abatement cost is accrued up to ``month`` (run month)
        at the old shares.
        """
        factor = np.empty(self._idx.size)
        years = max(month - self._accrued_to, 0) / 12.0
        changed = kernels.adopt_price(
            float(price), self._book.need, self._book.inv_slope, self._p_most, _MAX_SHARE,
            self._p_slope, self._p_share, self._p_rate, self._p_cost, years, self._idx,
            self.share, factor)
        self._accrued_to = max(month, self._accrued_to)
        return factor if changed else None

    # ----------------------------------------------------------------- the year

    def allocate(self, year: int, firms: Firms, scenario: Scenario) -> None:
        """Issue the year's cap: reserve share, firm allocations, paid use, subscription."""
        spec = self.spec(scenario)
        led = self.ledger
        self.year = year
        self.reserve_flows = dict.fromkeys(RESERVE_FLOWS, 0.0)
        self.invalidate()
        self._same_idx = False  # coverage and holdings change with the allocation
        self._paid_at_year_start = led.firm_paid_yuan - led.firm_received_yuan
        self._rights_at_year_start = {flow: getattr(led, flow) for flow in RIGHTS_FLOWS}
        self.cap = next_cap(spec.cap, year=year, first_year=self.first_year,
                            baseline_total=self.baseline_total, previous=self.cap)
        reserve = self.cap * spec.reserve.share_of_cap
        to_firms = self.cap - reserve
        # New use bought at the allocation (energy: expansion, entrants; subscription).
        plan = self.kind.new_use(self, firms, spec)
        if self.kind.renews_coverage(spec, year, self.first_year):
            # Coverage is fixed with the entitlements: yearly for energy, per term for emissions.
            self.members = self.history >= spec.scope_min_use_per_year
            idx = np.flatnonzero(self.members)
            intensity = self.intensity(firms)[idx] / (1.0 - self.share[idx])  # unabated
            bench = self.benchmark[idx]
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = np.where(bench > 0, intensity / bench, 1.0)
            history = self.history[idx]
            if plan is not None:
                # An entrant has no history: its use is new use, bought by subscription
                # where a subscription is due, not allocated on top of it.
                buys = np.zeros(self.members.size, dtype=bool)
                buys[plan[0]] = plan[2] > 0
                history = np.where(self.entered[idx] & buys[idx], 0.0, history)
            entitled = baseline_allocation(history, klass=firms.klass[idx],
                                           intensity_ratio=ratio, spec=spec.allocation,
                                           total=to_firms)
            if self.entitlement is not None:  # kept for the term
                self.entitlement = np.zeros(self.members.size)
                self.entitlement[idx] = entitled
            self._term_total = to_firms
        else:
            # Within an emission-rights term entitlements are fixed; the cap path scales them.
            idx = np.flatnonzero(self.members)
            scale = to_firms / self._term_total if self._term_total > 0 else 0.0
            entitled = self.entitlement[idx] * min(1.0, scale)
        self.allocation = np.zeros(self.members.size)
        self.allocation[idx] = entitled
        led.issue_to_firms(entitled, index=idx)
        if year == self.first_year:
            # Rights banked before the run (initial_state), on top of the first allocation.
            share = dict(zip(QUOTAS, scenario.initial_state.banked_share_of_allocation.as_tuple(),
                             strict=True))[self.quota]
            self.banked_at_start = float(entitled.sum()) * share
            if share > 0:
                led.issue_to_firms(entitled * share, index=idx)
        led.issue_to_reserve(self.cap - float(entitled.sum()))
        self.kind.charge_allocation(self, entitled, idx, firms, spec, year, plan)

    def _reserve_steps(self, spec, *, auction_lot: bool, firm_total: float) -> _Steps:
        """Return the reserve's limit orders.

        At scheduled auctions (``auction_lot``): the auction lot at its reserve
        price and the containment releases at their trigger prices; always the
        sale of the rest at the ceiling and the purchase at the floor.
        """
        reserve = max(self.ledger.reserve, 0.0)
        steps = _Steps()
        offered = 0.0
        if auction_lot:
            if spec.reserve.sells_unallocated:
                # What the allocations left of the cap beyond the reserve's own share.
                # Offered a hair above the floor, so that the reserve's purchase at the
                # floor (which keeps the price from falling below it) never buys it back.
                unallocated = max(reserve - spec.reserve.share_of_cap * self.cap, 0.0)
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

    def _settle(self, clearing, firm_delta: np.ndarray, steps: _Steps,
                steps_fill: np.ndarray, spec, month: int,
                index: np.ndarray | None = None) -> None:
        """Book an auction's trades and record it, with the order that set its price.

        ``steps`` are the auction's limit orders other than the firms' own
        (reserve, floor, ceiling; at compliance also the firms' limit bids),
        ``steps_fill`` their fills.
        """
        reserve_delta = -float(firm_delta.sum())
        price = clearing.price if np.isfinite(clearing.price) else 0.0
        if clearing.volume > 0:
            self.ledger.trade(firm_delta, reserve_delta, price, fee_share=spec.trading_fee_share,
                              index=index)
        sells = steps.reserve & ~steps.is_buy
        buys = steps.reserve & steps.is_buy
        self.auctions.append(AuctionRecord(
            month=month, price=float(clearing.price), volume=float(clearing.volume),
            buyers=int(clearing.buyers), sellers=int(clearing.sellers),
            reserve_sold=float(steps_fill[sells].sum()),
            reserve_bought=float(steps_fill[buys].sum()),
            price_setter=steps.setter(clearing.price) if clearing.volume > 0 else "",
        ))
        if np.isfinite(clearing.price):
            self.last_price = float(clearing.price)
            self.last_setter = self.auctions[-1].price_setter or "market"

    def scheduled_auction(self, month: int, firms: Firms, scenario: Scenario) -> float | None:
        """Clear one scheduled auction; return the new price, or None if nothing traded.

        Every covered firm bids its MAC curve for its expected unabated annual
        use (:meth:`book`); firms outside the scope that hold rights sell them.
        Above the bid cap (the penalty or lowest surcharge) a firm would rather
        pay it than use a right, so it also offers what it would otherwise keep
        (one sell order at the cap, rationed pro rata). No trade means
        positions already balance at the last price, so abatement plans stand
        (firms that sold rights keep abating).
        """
        spec = self.spec(scenario)
        book, idx = self.book(firms, scenario)
        if self._quiet is not None and self._quiet[0] is book \
                and self._quiet[1] == self.ledger.moves:
            # Nothing has moved since an auction of this book found no trade: the same
            # bids, holdings and reserve clear the same way again.
            self.auctions.append(AuctionRecord(month=month, price=np.nan, volume=0.0, buyers=0,
                                               sellers=0, reserve_sold=0.0, reserve_bought=0.0))
            return None
        h = self.ledger.holdings_at(idx)
        steps = _Steps()
        k = 1 if self._keep_total > 0 else 0
        if k:  # what firms would rather sell than use above the bid cap (see the docstring)
            steps.add(self.kind.bid_cap(spec), self._keep_total, False, "penalty", reserve=False)
        steps.extend(self._reserve_steps(
            spec, auction_lot=True, firm_total=float(h.sum()) + book.need_total))
        clearing = clear_book(book, h, steps.orders())
        delta = clearing.linear_fill
        if k and clearing.step_fill[0] > 0:
            delta = delta - self._keep * (clearing.step_fill[0] / self._keep_total)
        self._settle(clearing, delta, steps, clearing.step_fill, spec, month, index=idx)
        self._quiet = (book, self.ledger.moves) if clearing.volume == 0 else None
        return float(clearing.price) if clearing.volume > 0 else None

    def comply(self, month: int, firms: Firms, scenario: Scenario,
               absent: np.ndarray | None = None) -> None:
        """Year end: leases, the final auction, surrender, penalties, compensation, expiry.

        Only covered firms and holders of rights take part (the others have
        nothing to cover or sell), so everything but the expiry works on them:
        the book's participants, if the book stands (only they have traded
        since it was built), else the covered firms and holders now. Firms
        ``absent`` (boolean per firm, optional) miss the compliance window:
        they neither lease, buy nor sell, and pay for what they lack.
        """
        spec = self.spec(scenario)
        led = self.ledger
        idx = self.participants
        if idx is None:
            idx = np.flatnonzero(self.members | (led.holdings > 0))
        use = np.where(self.members[idx], self.use_ytd(firms)[idx], 0.0)
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
            self.reserve_flows["leased"] += float(lease.sum())
            short -= lease
        surplus = np.maximum(-need, 0.0)
        # Final auction of limit orders. Orders at one limit price are filled pro rata,
        # so each price level is one order: the shortfall blocks and the surplus.
        level_price, level = self.kind.shortfall_levels(spec, short, self.allocation[idx])
        bids = (np.array([short.sum()]) if level is None
                else np.bincount(level, weights=short, minlength=level_price.size))
        steps = _Steps()
        m = level_price.size
        for price, qty in zip(level_price, bids, strict=True):
            steps.add(price, qty, True, "penalty", reserve=False, keep_empty=True)
        # Surplus is offered at the value a firm puts on it (_surplus_value), which also
        # says who set that price.
        value, by = self._surplus_value(spec)
        steps.add(value, float(surplus.sum()), False, by, reserve=False, keep_empty=True)
        steps.extend(self._reserve_steps(spec, auction_lot=False,
                                         firm_total=float(surplus.sum())))
        clearing = clear_market(None, steps.orders())
        fill = clearing.step_fill
        with np.errstate(invalid="ignore", divide="ignore"):
            bought = np.where(bids > 0, fill[:m] / bids, 0.0)
            sold = fill[m] / surplus.sum() if fill[m] > 0 else 0.0
        delta = short * (bought[0] if level is None else bought[level])
        delta -= surplus * sold
        r_buy = steps.is_buy[m + 1:]
        reserve_fill = fill[m + 1:]
        clearing = dataclasses.replace(
            clearing, buyers=int(np.count_nonzero(delta > 0) + (reserve_fill[r_buy] > 0).sum()),
            sellers=int(np.count_nonzero(delta < 0) + (reserve_fill[~r_buy] > 0).sum()))
        self._settle(clearing, delta, steps, fill, spec, month, index=idx)
        # Surrender and pay for what is still missing.
        quota = self.allocation[idx]
        held = led.holdings_at(idx).copy()
        short = led.surrender(use, index=idx)
        self.kind.settle_shortfall(self, spec, idx, quota, short)
        self.compliance = Compliance(n_firms=self.members.size, index=idx, use=use,
                                     held=held, shortfall=short,
                                     violation=short > 1e-9 * np.maximum(use, 1.0))
        led.end_leases()
        self.reserve_at_year_end = led.reserve
        term_end = self.kind.term_ends(spec, self.year, self.first_year)
        if not spec.banking or term_end:
            # Rights are valid for their year (or term): those the reserve holds, including
            # any it bought back, expire with the firms' so the next cap stands alone.
            led.expire_holdings()
            led.expire_reserve()
        led.check()

    def _surplus_value(self, spec) -> tuple[float, str]:
        """Return the lowest price a firm accepts for surplus rights at year end, and who set it.

        With banking, the last auction's price: what the right is worth next
        year (set by whatever set that price). Without banking, what the kind
        says (energy: the year's price down to the compensation the reserve
        pays for what stays unsold, 减少用能补偿; emissions: 0, unused rights
        expire).
        """
        if spec.banking:
            return self.last_price, self.last_setter
        return self.kind.unsold_surplus_value(spec, self.last_price, self.last_setter)

    def resize(self, keep: np.ndarray, entrants: Firms, scenario: Scenario,
               rng: np.random.Generator, rows: np.ndarray | None = None) -> None:
        """Drop the firms not kept (their rights go to the reserve) and append ``entrants``.

        Entrants hold no rights and have no registered energy use, so their
        energy is bought by paid subscription at the next allocation, with no
        baseline allocation on top of it (:attr:`entered`); they are covered
        from now on if their use reaches the scope and buy emission rights on
        the market (entitlements are fixed for the term). ``rows`` is
        ``cumsum(keep) - 1`` (each kept firm's new row), if the caller has it.
        """
        spec = self.spec(scenario)
        self.invalidate()
        if self._idx is not None and self._order is not None:  # keep the sort hint
            if rows is None:
                rows = np.cumsum(keep) - 1
            ranked = self._idx[self._order]  # last book's firms in kink order
            self._ranked = rows[ranked[keep[ranked]]]
        self.ledger.remove_firms(~keep, n_new=entrants.n)
        potential = self.intensity(entrants) * entrants.va_wan_yuan
        slope = mac_slopes(potential, sector=entrants.sector,
                           sector_names=scenario.sector_names(), spec=spec.mac, rng=rng)
        table = self._benchmark_by_sector
        if table.size <= int(entrants.sector.max(initial=-1)):  # a sector new to the market
            table = np.concatenate([table, np.zeros(int(entrants.sector.max()) + 1 - table.size)])
            self._benchmark_by_sector = table
        new_bench = table[entrants.sector]
        new_bench = np.where(new_bench > 0, new_bench, self.intensity(entrants))
        zeros = np.zeros(entrants.n)
        for name, new in (("slope", slope), ("benchmark", new_bench), ("share", zeros),
                          ("history", potential), ("registered", zeros),
                          ("entitlement", zeros), ("entered", np.ones(entrants.n, dtype=bool)),
                          ("members", potential >= spec.scope_min_use_per_year)):
            if getattr(self, name) is not None:
                setattr(self, name, kernels.select_append(getattr(self, name), keep, new))
        # The year's arrays start afresh: resize follows close_year (which zeroed the
        # year-to-date ones), and the next allocation and compliance set the others.
        n = self.members.size
        for name in ("allocation", "unabated_ytd", "_abatement_cost_ytd", "_paid_at_year_start"):
            setattr(self, name, np.zeros(n))
        self._book = self._idx = self._order = None
        self._same_idx = False
        self.compliance = None

    def close_year(self) -> None:
        """Roll the year: unabated use becomes next year's history."""
        self.history = self.unabated_ytd
        self.unabated_ytd = np.zeros(self.history.size)
        self._fold_cost()
        self._abatement_cost_ytd = np.zeros(self.history.size)
        self.auctions = []

    def add_unit_cost(self, out: np.ndarray, firms: Firms) -> None:
        """Add the opportunity cost of rights per 万元 VA at the last price to ``out``.

        It enters the unit cost. Only covered firms need rights for their use;
        for the others it is 0 (they are not touched).
        """
        if self.last_price == 0.0:
            return
        if self._covered_of is not self.members:  # members are replaced, never changed
            self._covered, self._covered_of = np.flatnonzero(self.members), self.members
        kernels.add_scaled_at(out, self._covered, self.last_price, self.intensity(firms))


def _sector_medians(intensity: np.ndarray, sector: np.ndarray,
                    order: np.ndarray | None = None) -> np.ndarray:
    """Median intensity of each sector code (one sort by sector, then a slice per sector).

    ``order`` is ``argsort(sector, kind="stable")`` if the caller has it.
    """
    n_sectors = int(sector.max()) + 1 if sector.size else 0
    out = np.zeros(n_sectors)
    if order is None:
        order = np.argsort(sector, kind="stable")
    by_sector = intensity[order]
    ends = np.cumsum(np.bincount(sector, minlength=n_sectors))
    for s in range(n_sectors):
        start = ends[s - 1] if s else 0
        if ends[s] > start:
            out[s] = np.median(by_sector[start:ends[s]])
    return out


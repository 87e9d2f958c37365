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
   surplus offer it at its banking value (zero without banking, or the
   compensation price). Then rights are surrendered; shortfalls pay the
   surcharge or penalty (emission shortfalls are violations); unsold energy
   surplus is compensated; leases end; without banking, unused rights expire.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.firms import Firms
from simulator.markets.allocation import (
    abatement_cost,
    baseline_allocation,
    cap_for_year,
    emission_paid_use_fee,
    energy_paid_use_fee,
    mac_slopes,
    overquota_surcharge,
    subscription_charge,
)
from simulator.markets.auction import AbatementBook, StepOrders, clear_book, clear_market
from simulator.markets.ledger import QuotaLedger
from simulator.scenario import POLLUTANTS, EmissionMarketSpec, EnergyMarketSpec, Scenario

__all__ = ["AuctionRecord", "QuotaMarket", "enabled_markets"]

_MAX_SHARE = 0.999  # abatement share below 1 keeps intensities invertible


def enabled_markets(scenario: Scenario) -> list[str]:
    """Names of the markets switched on, in a fixed order (energy, then pollutants)."""
    names = ["energy"] if scenario.markets.energy.enabled else []
    names += [p for p in POLLUTANTS
              if p in scenario.markets.emissions and scenario.markets.emissions[p].enabled]
    return names


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
    """

    def __init__(self, quota: str, *, firms: Firms, scenario: Scenario,
                 rng: np.random.Generator):
        self.quota = quota
        self.is_energy = quota == "energy"
        self._col = None if self.is_energy else POLLUTANTS.index(quota)
        n = firms.n
        self.ledger = QuotaLedger(n, quota=quota)
        spec = self.spec(scenario)
        potential = self.intensity(firms) * firms.va_wan_yuan
        # Sector benchmark intensity: the sector's median at the start (base-year norm).
        self._benchmark_by_sector = _sector_medians(self.intensity(firms), firms.sector)
        self.benchmark = self._benchmark_by_sector[firms.sector]
        self.members = potential >= spec.scope_min_use_per_year  # covered firms
        self.baseline_total = float(potential[self.members].sum())
        self.first_year = scenario.run.first_year
        self.slope = mac_slopes(potential, sector=firms.sector,
                                sector_names=scenario.sector_names(), spec=spec.mac, rng=rng)
        self.share = np.zeros(n)            # abatement share in force
        self.history = potential.copy()     # unabated use last year (first year: potential)
        self.registered = potential.copy()  # energy use covered by baseline or subscription
        self.allocation = np.zeros(n)
        self.entitlement = np.zeros(n)      # emission rights per year for the current term
        self.unabated_ytd = np.zeros(n)
        self.abatement_cost_ytd = np.zeros(n)
        self.violation = np.zeros(n, dtype=bool)
        self.shortfall = np.zeros(n)
        self.last_price = 0.0
        self.auctions: list[AuctionRecord] = []
        self.cap = 0.0
        self.year = self.first_year
        self._term_total = 0.0
        self._accrued_to = 0
        self._paid_at_year_start = np.zeros(n)
        self._book: AbatementBook | None = None  # the year's bids, sorted once
        self._idx: np.ndarray | None = None      # the book's participants (firm indices)
        self._order: np.ndarray | None = None    # last book's kink order (a re-sort hint)

    # ------------------------------------------------------------------ access

    def spec(self, scenario: Scenario) -> EnergyMarketSpec | EmissionMarketSpec:
        """Return this market's parameters in ``scenario``."""
        if self.is_energy:
            return scenario.markets.energy
        return scenario.markets.emissions[self.quota]

    def intensity(self, firms: Firms) -> np.ndarray:
        """Effective use per 万元 VA (after abatement); a view into the firms' state."""
        if self.is_energy:
            return firms.energy_tce_per_wan_yuan
        return firms.emission_t_per_wan_yuan[:, self._col]

    def use_ytd(self, firms: Firms) -> np.ndarray:
        """Use (energy, tce) or emissions (t) booked so far this year, after abatement."""
        if self.is_energy:
            return firms.ytd["energy_tce"]
        return firms.ytd["emissions_t"][:, self._col]

    def potential_unabated(self, firms: Firms) -> np.ndarray:
        """Return the expected unabated annual use at potential output."""
        return self.intensity(firms) * firms.va_wan_yuan / (1.0 - self.share)

    def invalidate(self) -> None:
        """Forget the year's sorted bids: firms' needs, the bid cap or the MAC bounds changed.

        The engine calls this on timeline changes and whenever firms' output
        plans or unabated intensities change (not for abatement, which keeps
        unabated needs as they are).
        """
        self._book = None

    def book(self, firms: Firms, scenario: Scenario) -> tuple[AbatementBook, np.ndarray]:
        """Return the year's bids and the participants they belong to.

        Participants are the covered firms, any firm holding rights (outside
        the scope it only sells) and any firm still abating from an earlier
        year (outside the scope it stops). The book holds their needs
        (0 outside the scope), MAC slopes and abatement bounds, sorted by kink
        price; it is built at the first auction after an allocation or
        :meth:`invalidate`, re-using last year's order when the participants
        are the same. Every auction of the year then works on the
        participants alone.
        """
        if self._book is None:
            spec = self.spec(scenario)
            idx = np.flatnonzero(self.members | (self.ledger.holdings > 0) | (self.share > 0))
            e = np.where(self.members[idx], self.potential_unabated(firms)[idx], 0.0)
            c = self.slope[idx]
            inv_slope = np.divide(1.0, c, out=np.zeros_like(c), where=np.isfinite(c))
            # No firm pays more for a right than the penalty (or surcharge) it avoids
            # without one: it abates at most to where its MAC reaches that price.
            reach = np.minimum(spec.mac.max_abatement_share * e, self._bid_cap(spec) * inv_slope)
            same = self._idx is not None and np.array_equal(idx, self._idx)
            self._book = AbatementBook(e, inv_slope, reach, order=self._order if same else None)
            self._idx, self._order = idx, self._book.order
            self._keep = np.maximum(e - reach, 0.0)  # sold at the bid cap, not used
            self._keep_total = float(self._keep.sum())
        return self._book, self._idx

    def net_paid_this_year(self) -> np.ndarray:
        """Each firm's net payments to the quota system since the year began, yuan."""
        led = self.ledger
        return led.firm_paid_yuan - led.firm_received_yuan - self._paid_at_year_start

    # ----------------------------------------------------------- during the year

    def book_unabated(self, va: np.ndarray, firms: Firms) -> None:
        """Record a billing period's unabated use (next year's allocation history).

        The unabated intensity does not change within a year (abatement only
        changes the effective one), so ``va`` x unabated intensity is exact.
        """
        self.unabated_ytd += va * self.intensity(firms) / (1.0 - self.share)

    def accrue_abatement_cost(self, month: int, firms: Firms) -> None:
        """Book the abatement cost of the months since the last accrual (``month``: run month)."""
        elapsed = month - self._accrued_to
        if elapsed > 0:
            if self._book is not None:  # every firm that abates is a participant
                idx = self._idx
                q = self.share[idx] * self._book.need
                self.abatement_cost_ytd[idx] += abatement_cost(
                    q, slope=self.slope[idx]) * (elapsed / 12.0)
            elif self.share.any():
                q = self.share * self.potential_unabated(firms)
                self.abatement_cost_ytd += abatement_cost(q, slope=self.slope) * (elapsed / 12.0)
        self._accrued_to = month

    def change_abatement(self, share: np.ndarray, *, firms: Firms,
                         month: int) -> np.ndarray | None:
        """Adopt new abatement shares of the participants; return their intensity factor.

        ``share`` is one value per participant (:meth:`book`). Returns None if
        nothing changes. The caller scales the participants' intensities by
        the factor (see ``engine._Simulation.abate``), keeping the
        period's billing exact.
        """
        idx = self._idx
        share = np.clip(share, 0.0, _MAX_SHARE)
        old = self.share[idx]
        if np.array_equal(share, old):
            return None
        self.accrue_abatement_cost(month, firms)
        factor = np.subtract(1.0, share)
        factor /= np.subtract(1.0, old, out=old)
        self.share[idx] = share
        return factor

    def planned_abatement(self, price: float, firms: Firms, scenario: Scenario) -> np.ndarray:
        """Abatement share each participant chooses at ``price`` (MAC = price; 0 outside scope)."""
        book, _ = self.book(firms, scenario)
        e = book.need  # 0 outside the scope
        q = np.multiply(book.inv_slope, max(price, 0.0))
        np.minimum(q, self.spec(scenario).mac.max_abatement_share * e, out=q)
        return np.divide(q, e, out=np.zeros_like(q), where=e > 0)

    def covered_use(self, firms: Firms) -> np.ndarray:
        """Use this year of covered firms (0 for firms outside the scope)."""
        return np.where(self.members, self.use_ytd(firms), 0.0)

    # ----------------------------------------------------------------- the year

    def allocate(self, year: int, firms: Firms, scenario: Scenario) -> None:
        """Issue the year's cap: reserve share, firm allocations, paid use, subscription."""
        spec = self.spec(scenario)
        led = self.ledger
        self.year = year
        self._book = None
        self._paid_at_year_start = led.firm_paid_yuan - led.firm_received_yuan
        if year == self.first_year or year in spec.cap.yearly:
            self.cap = cap_for_year(spec.cap, year=year, first_year=self.first_year,
                                    baseline_total=self.baseline_total)
        else:
            # Step from last year's cap at the decline rate in force now, so that a
            # timeline change of the rate applies from its date on, not retroactively.
            self.cap *= 1.0 - spec.cap.annual_decline
        reserve = self.cap * spec.reserve.share_of_cap
        to_firms = self.cap - reserve
        unabated_intensity = self.intensity(firms) / (1.0 - self.share)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(self.benchmark > 0, unabated_intensity / self.benchmark, 1.0)
        if self.is_energy or (year - self.first_year) % spec.term_years == 0:
            # Coverage is fixed with the entitlements: yearly for energy, per term for emissions.
            self.members = self.history >= spec.scope_min_use_per_year
            history = np.where(self.members, self.history, 0.0)
            entitlement = baseline_allocation(history, klass=firms.klass,
                                              intensity_ratio=ratio, spec=spec.allocation,
                                              total=to_firms)
            self.entitlement = entitlement
            self._term_total = to_firms
        else:
            # Within an emission-rights term entitlements are fixed; the cap path scales them.
            scale = to_firms / self._term_total if self._term_total > 0 else 0.0
            entitlement = self.entitlement * min(1.0, scale)
        self.allocation = entitlement
        led.issue_to_firms(entitlement)
        led.issue_to_reserve(self.cap - float(entitlement.sum()))
        if self.is_energy:
            target = spec.intensity_target_tce_per_wan_yuan * (
                1.0 - spec.intensity_target_annual_decline) ** (year - self.first_year)
            led.charge(energy_paid_use_fee(
                entitlement, intensity=unabated_intensity * (1.0 - self.share), target=target,
                below_fee=spec.paid_use_fee_below_target_yuan_per_tce,
                above_fee=spec.paid_use_fee_above_target_yuan_per_tce), source="paid_use")
            self._subscribe(firms, spec)
        else:
            led.charge(emission_paid_use_fee(
                entitlement, klass=firms.klass, price=spec.paid_use_price_yuan_per_t_year,
                class_multiplier=spec.paid_use_class_multiplier), source="paid_use")
        led.check()

    def _subscribe(self, firms: Firms, spec: EnergyMarketSpec) -> None:
        """Paid subscription of new energy use by expanding firms, from the reserve."""
        demand = self.potential_unabated(firms)
        new_use = np.maximum(demand - self.registered, 0.0)
        charge = subscription_charge(new_use, unit_consumption_tce_per_wan_yuan=(
            self.intensity(firms) / (1.0 - self.share)), spec=spec.subscription)
        wanted = np.where(charge > 0, new_use, 0.0)
        total = float(wanted.sum())
        if total <= 0 or self.ledger.reserve <= 0:
            return
        fill = min(1.0, self.ledger.reserve / total)
        granted = wanted * fill
        self.ledger.trade(granted, -float(granted.sum()), 0.0, fee_share=0.0)
        self.ledger.charge(charge * fill, source="subscription")
        self.registered += granted

    def _reserve_steps(self, spec, *, auction_lot: bool, firm_total: float):
        """Return the reserve's limit orders: auction lot, ceiling sale, floor purchase."""
        reserve = max(self.ledger.reserve, 0.0)
        prices, qty, is_buy = [], [], []
        lot = reserve * spec.reserve.auction_share if auction_lot else 0.0
        if lot > 0:
            prices.append(spec.reserve.auction_reserve_price_yuan_per_unit)
            qty.append(lot)
            is_buy.append(False)
        if spec.reserve.sells_at_ceiling and reserve - lot > 0:
            prices.append(spec.price.ceiling_yuan_per_unit)
            qty.append(reserve - lot)
            is_buy.append(False)
        if spec.reserve.buys_at_floor and spec.price.floor_yuan_per_unit > 0 and firm_total > 0:
            # More than all firms could offer, so the reserve is the long side at the floor
            # and the price never falls below it.
            prices.append(spec.price.floor_yuan_per_unit)
            qty.append(2.0 * firm_total + 1.0)
            is_buy.append(True)
        return np.array(prices, float), np.array(qty, float), np.array(is_buy, bool)

    def _settle(self, clearing, firm_delta: np.ndarray, steps_buy: np.ndarray,
                steps_fill: np.ndarray, spec, month: int,
                index: np.ndarray | None = None) -> None:
        reserve_delta = -float(firm_delta.sum())
        price = clearing.price if np.isfinite(clearing.price) else 0.0
        if clearing.volume > 0:
            self.ledger.trade(firm_delta, reserve_delta, price, fee_share=spec.trading_fee_share,
                              index=index)
        self.auctions.append(AuctionRecord(
            month=month, price=float(clearing.price), volume=float(clearing.volume),
            buyers=int(clearing.buyers), sellers=int(clearing.sellers),
            reserve_sold=float(steps_fill[~steps_buy].sum()),
            reserve_bought=float(steps_fill[steps_buy].sum()),
        ))
        if np.isfinite(clearing.price):
            self.last_price = float(clearing.price)
        self.ledger.check()

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
        h = self.ledger.holdings[idx]
        r_prices, r_qty, r_buy = self._reserve_steps(
            spec, auction_lot=True, firm_total=float(h.sum()) + book.need_total)
        k = 1 if self._keep_total > 0 else 0
        prices = np.concatenate([[self._bid_cap(spec)] * k, r_prices])
        qty = np.concatenate([[self._keep_total] * k, r_qty])
        is_buy = np.concatenate([[False] * k, r_buy]).astype(bool)
        clearing = clear_book(book, h, StepOrders(prices, qty, is_buy))
        delta = clearing.linear_fill
        if k and clearing.step_fill[0] > 0:
            delta = delta - self._keep * (clearing.step_fill[0] / self._keep_total)
        self._settle(clearing, delta, r_buy, clearing.step_fill[k:], spec, month, index=idx)
        return float(clearing.price) if clearing.volume > 0 else None

    def comply(self, month: int, firms: Firms, scenario: Scenario) -> None:
        """Year end: leases, the final auction, surrender, penalties, compensation, expiry."""
        spec = self.spec(scenario)
        led = self.ledger
        use = self.covered_use(firms)
        need = use - led.holdings
        short = np.maximum(need, 0.0)
        # Leases from the reserve, pro rata to shortfalls, where cheaper than the penalty.
        lease_supply = led.reserve * spec.reserve.lease_share
        if lease_supply > 0 and short.sum() > 0:
            lease = short * min(1.0, lease_supply / short.sum())
            led.lease(lease, spec.reserve.lease_price_yuan_per_unit)
            short -= lease
        surplus = np.maximum(-need, 0.0)
        # Final auction of limit orders (aggregated by limit price; fills pro rata).
        buyers, sellers = np.flatnonzero(short > 0), np.flatnonzero(surplus > 0)
        traders = np.concatenate([buyers, sellers])
        firm_prices = np.concatenate([
            self._shortfall_price(spec, short[buyers], self.allocation[buyers]),
            np.full(sellers.size, self._surplus_value(spec))])
        firm_qty = np.concatenate([short[buyers], surplus[sellers]])
        firm_buy = np.arange(traders.size) < buyers.size
        r_prices, r_qty, r_buy = self._reserve_steps(spec, auction_lot=False,
                                                     firm_total=float(surplus.sum()))
        clearing = clear_market(None, StepOrders(np.concatenate([firm_prices, r_prices]),
                                                 np.concatenate([firm_qty, r_qty]),
                                                 np.concatenate([firm_buy, r_buy])))
        k = firm_qty.size
        delta = clearing.step_fill[:k].copy()
        delta[buyers.size:] *= -1.0  # sellers' fills leave their holdings
        self._settle(clearing, delta, r_buy, clearing.step_fill[k:], spec, month, index=traders)
        # Surrender and pay for what is still missing.
        quota = self.allocation
        self.shortfall = led.surrender(use)
        if self.is_energy:
            led.charge(overquota_surcharge(quota + self.shortfall, quota=quota,
                                           blocks=spec.overquota_surcharge), source="surcharge")
            left = led.holdings - led.leased
            comp = spec.compensation_yuan_per_tce
            if comp > 0 and not spec.banking and left.sum() > 0:
                led.trade(-left, float(left.sum()), 0.0, fee_share=0.0)
                led.pay(left * comp, source="compensation")
        else:
            led.charge(self.shortfall * spec.penalty_yuan_per_t, source="penalty")
        self.violation = self.shortfall > 1e-9 * np.maximum(use, 1.0)
        led.end_leases()
        term_end = (not self.is_energy
                    and (self.year - self.first_year + 1) % spec.term_years == 0)
        if not spec.banking or term_end:
            # Rights are valid for their year (or term): those the reserve holds, including
            # any it bought back, expire with the firms' so the next cap stands alone.
            led.expire_holdings()
            led.expire_reserve()
        led.check()

    def _shortfall_price(self, spec, short: np.ndarray, allocation: np.ndarray) -> np.ndarray:
        """Return what a short firm avoids per unit by buying: penalty or marginal surcharge."""
        if not self.is_energy:
            return np.full(short.shape, spec.penalty_yuan_per_t)
        blocks = spec.overquota_surcharge
        above = np.array([b.above for b in blocks])
        price = np.array([b.price_yuan_per_unit for b in blocks])
        with np.errstate(invalid="ignore", divide="ignore"):
            overrun_share = np.where(allocation > 0, short / allocation, np.inf)
        idx = np.clip(np.searchsorted(above, overrun_share, side="left") - 1, 0, len(blocks) - 1)
        return price[idx]

    def _bid_cap(self, spec) -> float:
        """Return the most a firm pays for a right: the penalty, or the lowest surcharge."""
        if self.is_energy:
            return float(spec.overquota_surcharge[0].price_yuan_per_unit)
        return float(spec.penalty_yuan_per_t)

    def _surplus_value(self, spec) -> float:
        """Return the lowest price a firm accepts for surplus rights at year end."""
        if spec.banking:
            return self.last_price
        if self.is_energy:
            return spec.compensation_yuan_per_tce
        return 0.0

    def resize(self, keep: np.ndarray, entrants: Firms, scenario: Scenario,
               rng: np.random.Generator) -> None:
        """Drop the firms not kept (their rights go to the reserve) and append ``entrants``.

        Entrants hold no rights and have no registered energy use, so their
        energy is bought by paid subscription at the next allocation; they are
        covered from now on if their use reaches the scope and buy emission
        rights on the market (entitlements are fixed for the term).
        """
        spec = self.spec(scenario)
        self.ledger.remove_firms(~keep)
        self.ledger.add_firms(entrants.n)
        potential = self.intensity(entrants) * entrants.va_wan_yuan
        slope = mac_slopes(potential, sector=entrants.sector,
                           sector_names=scenario.sector_names(), spec=spec.mac, rng=rng)
        table = self._benchmark_by_sector
        if table.size <= int(entrants.sector.max(initial=-1)):  # a sector new to the market
            table = np.concatenate([table, np.zeros(int(entrants.sector.max()) + 1 - table.size)])
            self._benchmark_by_sector = table
        new_bench = table[entrants.sector]
        new_bench = np.where(new_bench > 0, new_bench, self.intensity(entrants))
        zeros, no = np.zeros(entrants.n), np.zeros(entrants.n, dtype=bool)
        for name, new in (("slope", slope), ("benchmark", new_bench), ("share", zeros),
                          ("history", potential), ("registered", zeros),
                          ("allocation", zeros), ("entitlement", zeros),
                          ("unabated_ytd", zeros), ("abatement_cost_ytd", zeros),
                          ("violation", no), ("shortfall", zeros),
                          ("members", potential >= spec.scope_min_use_per_year),
                          ("_paid_at_year_start", zeros)):
            setattr(self, name, np.concatenate([getattr(self, name)[keep], new]))
        self._book = self._idx = self._order = None

    def close_year(self) -> None:
        """Roll the year: unabated use becomes next year's history."""
        self.history = self.unabated_ytd.copy()
        self.unabated_ytd[:] = 0.0
        self.abatement_cost_ytd[:] = 0.0
        self.auctions = []

    def unit_cost_yuan_per_wan_yuan_va(self, firms: Firms) -> np.ndarray:
        """Opportunity cost of rights per 万元 VA at the last price (enters unit cost).

        Only covered firms need rights for their use; for the others it is 0.
        """
        return np.where(self.members, self.last_price * self.intensity(firms), 0.0)


def _sector_medians(intensity: np.ndarray, sector: np.ndarray) -> np.ndarray:
    """Median intensity of each sector code (a loop over the few sectors, not firms)."""
    n_sectors = int(sector.max()) + 1 if sector.size else 0
    out = np.zeros(n_sectors)
    for s in np.unique(sector):
        out[s] = np.median(intensity[sector == s])
    return out

"""One quota market's year: allocation, scheduled auctions, abatement, compliance.

A :class:`QuotaMarket` holds the state of one market (energy-use rights in
tce, or one pollutant's emission rights in t) during a run and turns the pure
functions of :mod:`~simulator.markets.allocation` and
:mod:`~simulator.markets.auction` into the market's calendar. Every change of
holdings and every payment goes through its :class:`QuotaLedger`. The engine
calls it; it knows nothing of the clock.

This module holds the market's state and the year's allocation, scheduled
auctions and firm replacement. The book in force and its participants'
abatement are :class:`~simulator.markets.participants.ParticipantBook`'s (a
base class of the market); the reserve's orders and the record of what set
each price are in :mod:`~simulator.markets.reserve`; the year end is
:mod:`~simulator.markets.compliance`; what differs between energy and
emission rights is the market's kind (:mod:`~simulator.markets.kinds`).

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

import warnings
from collections.abc import Callable

import numpy as np

from simulator.firms import Firms
from simulator.markets import by_region, compliance, kernels
from simulator.markets.allocation import baseline_allocation, mac_slopes, next_cap
from simulator.markets.book import clear_book
from simulator.markets.compliance import Compliance
from simulator.markets.kinds import kind_of
from simulator.markets.ledger import QuotaLedger
from simulator.markets.participants import ParticipantBook
from simulator.markets.reserve import (
    ADMINISTRATIVE_SETTERS,
    PRICE_SETTERS,
    AuctionRecord,
    Steps,
    reserve_steps,
    settle,
)
from simulator.scenario import (
    EmissionMarketSpec,
    EnergyMarketSpec,
    Scenario,
)

__all__ = ["ADMINISTRATIVE_SETTERS", "PRICE_SETTERS", "RIGHTS_FLOWS", "AuctionRecord", "Compliance",
           "QuotaMarket", "enabled_markets"]


def enabled_markets(scenario: Scenario) -> list[str]:
    """Names of the markets switched on, in a fixed order (energy, then pollutants)."""
    names = ["energy"] if scenario.markets.energy.enabled else []
    names += [p for p in scenario.pollutant_names()
              if p in scenario.markets.emissions and scenario.markets.emissions[p].enabled]
    return names


#: The reserve's yearly operations other than auctions (QuotaMarket.reserve_flows).
RESERVE_FLOWS: tuple[str, ...] = ("leased", "subscribed", "compensated")

#: The ledger's cumulative rights flows, reported per year (QuotaMarket.rights_this_year):
#: with the firms' and the reserve's holdings they account for every right issued.
RIGHTS_FLOWS: tuple[str, ...] = ("issued", "surrendered", "expired")


class QuotaMarket(ParticipantBook):
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
        self.kind = kind_of(quota, scenario.pollutant_names())
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
        self._paid_at_year_start = np.zeros(n)
        self._rights_at_year_start = dict.fromkeys(RIGHTS_FLOWS, 0.0)  # the ledger's, units
        # Trading between regions (between_regions): when not allowed or charged, each
        # region's auction clears apart (:mod:`.by_region`), at its own price.
        self.n_regions = max(len(scenario.population.regions),
                             int(firms.region.max(initial=-1)) + 1)
        self.regional = spec.between_regions != "allowed" and self.n_regions > 1
        self.region_price = np.zeros(self.n_regions)  # each region's last price
        self.region_auctions: list[by_region.RegionRecord] = []
        self.region_books = None  # (book in force, its regions' books), cut once
        self._start_book(n)

    # ------------------------------------------------------------------ access

    def spec(self, scenario: Scenario) -> EnergyMarketSpec | EmissionMarketSpec:
        """Return this market's parameters in ``scenario``."""
        return scenario.markets.of(self.quota)

    @property
    def is_energy(self) -> bool:
        """Whether this is the energy-use rights market (deprecated: use ``kind``)."""
        warnings.warn("QuotaMarket.is_energy is deprecated and will be removed in the next "
                      "release: the market's rules are its kind (QuotaMarket.kind, "
                      "simulator.markets.kinds)", DeprecationWarning, stacklevel=2)
        return self.kind.name == "energy"

    def intensity(self, firms: Firms) -> np.ndarray:
        """Effective use per 万元 VA (after abatement); a view into the firms' state."""
        return self.kind.intensity(firms)

    def use_ytd(self, firms: Firms) -> np.ndarray:
        """Use (energy, tce) or emissions (t) booked so far this year, after abatement."""
        return self.kind.use_ytd(firms)

    def potential_unabated(self, firms: Firms) -> np.ndarray:
        """Return each firm's expected unabated annual use at potential output."""
        return self.intensity(firms) * firms.va_wan_yuan / (1.0 - self.share)

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

    # ----------------------------------------------------------------- the year

    def allocate(self, year: int, firms: Firms, scenario: Scenario, *,
                 steer: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None) -> None:
        """Issue the year's cap: reserve share, firm allocations, paid use, subscription.

        ``steer(entitled, idx)``, if given, re-splits renewed entitlements
        between regions with their total unchanged (region steering,
        :func:`simulator.evaluation.regions.steered_allocation`).
        """
        spec = self.spec(scenario)
        led = self.ledger
        self.year = year
        self.reserve_flows = dict.fromkeys(RESERVE_FLOWS, 0.0)
        self._new_participants()  # coverage and holdings change with the allocation
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
            if steer is not None:
                entitled = steer(entitled, idx)
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
            share, = scenario.initial_state.banked_share_of_allocation.values((self.quota,))
            self.banked_at_start = float(entitled.sum()) * share
            if share > 0:
                led.issue_to_firms(entitled * share, index=idx)
        led.issue_to_reserve(self.cap - float(entitled.sum()))
        self.kind.charge_allocation(self, entitled, idx, firms, spec, year, plan)

    def _reserve_steps(self, spec: EnergyMarketSpec | EmissionMarketSpec, *, auction_lot: bool,
                       firm_total: float) -> Steps:
        """Return the reserve's limit orders now (:func:`.reserve.reserve_steps`)."""
        return reserve_steps(spec, self.ledger.reserve, self.cap, auction_lot=auction_lot,
                             firm_total=firm_total)

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
        if self.regional:
            return by_region.scheduled_auction(self, month, firms, scenario)
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
        steps = Steps()
        k = 1 if self._keep_total > 0 else 0
        if k:  # what firms would rather sell than use above the bid cap (see the docstring)
            steps.add(self.kind.bid_cap(spec), self._keep_total, False, "penalty", reserve=False)
        steps.extend(self._reserve_steps(
            spec, auction_lot=True, firm_total=float(h.sum()) + book.need_total))
        clearing = clear_book(book, h, steps.orders())
        delta = clearing.linear_fill
        if k and clearing.step_fill[0] > 0:
            delta = delta - self._keep * (clearing.step_fill[0] / self._keep_total)
        settle(self, clearing, delta, steps, clearing.step_fill, spec, month, index=idx)
        self._quiet = (book, self.ledger.moves) if clearing.volume == 0 else None
        return float(clearing.price) if clearing.volume > 0 else None

    def comply(self, month: int, firms: Firms, scenario: Scenario,
               absent: np.ndarray | None = None) -> None:
        """Year end: leases, the final auction, surrender, penalties, compensation, expiry.

        See :func:`simulator.markets.compliance.comply`; firms ``absent``
        (boolean per firm, optional) miss the compliance window.
        """
        compliance.comply(self, month, firms, scenario, absent)

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
        self._carry_order_over(keep, rows)
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
        for name in ("allocation", "unabated_ytd", "_paid_at_year_start"):
            setattr(self, name, np.zeros(n))
        self._drop_book(n)
        self.compliance = None

    def close_year(self) -> None:
        """Roll the year: unabated use becomes next year's history."""
        self.history = self.unabated_ytd
        self.unabated_ytd = np.zeros(self.history.size)
        self._restart_abatement_cost(self.history.size)
        self.auctions = []
        self.region_auctions = []

    def firm_price(self, firms: Firms) -> np.ndarray:
        """Return the last price each firm trades at: its region's when regions trade apart."""
        if self.regional:
            return self.region_price[firms.region]
        return np.full(firms.n, self.last_price)

    def add_unit_cost(self, out: np.ndarray, firms: Firms) -> None:
        """Add the opportunity cost of rights per 万元 VA at the last price to ``out``.

        It enters the unit cost. Only covered firms need rights for their use;
        for the others it is 0 (they are not touched).
        """
        if self.last_price == 0.0:
            return
        if self._covered_of is not self.members:  # members are replaced, never changed
            self._covered, self._covered_of = np.flatnonzero(self.members), self.members
        if self.regional:  # each firm at its region's price
            at = self._covered
            out[at] += self.region_price[firms.region[at]] * self.intensity(firms)[at]
            return
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


"""Stage: the quota markets in the run (allocation, auctions and abatement, compliance).

Each market's own year (:class:`simulator.markets.cycle.QuotaMarket`) is
wired here to the firms and the billing period: :func:`allocate` issues the
year's cap; :func:`auction` holds a scheduled auction, after which the
participants abate to the new price (:func:`abate` keeps the period's
quantities exact through the corrections); :func:`comply` surrenders rights
at the year's end and returns the violations the evaluation may veto;
:func:`book_government_receipts` takes the year's receipts the recycling fund
draws on; :func:`renew_upgraded` renews the bids of firms whose upgrades
changed their unabated intensity; :func:`resize` follows exits and entry.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from simulator.engine.state import (
    Participants,
    RunState,
    draw,
    fold_corrections,
    steering_units,
)
from simulator.evaluation.regions import steered_allocation
from simulator.firms import Firms
from simulator.markets import kernels
from simulator.markets.cycle import QuotaMarket
from simulator.markets.ledger import GOVERNMENT_SOURCES
from simulator.rng import mechanism_rng

__all__ = ["abate", "abate_by_region", "allocate", "auction", "book_government_receipts",
           "close_year", "comply", "invalidate", "record_regions", "renew_upgraded", "resize"]


def allocate(state: RunState, year: int) -> None:
    """Start of a year: every market issues the year's cap (after the month's changes)."""
    steer = _region_steering(state)
    for quota, market in state.markets.items():
        market.allocate(year, state.firms, state.params, steer=steer)
        if year == state.params.run.first_year:
            state.recorder.add(year, 0, [f"market={quota}"], "initial_banked_rights",
                               [market.banked_at_start])


def auction(state: RunState, quota: str, month: int) -> None:
    """Hold a scheduled auction of one market; its participants then abate to the new price."""
    market = state.markets[quota]
    old_price = market.last_price
    old_by_region = market.region_price.copy() if market.regional else None
    price = market.scheduled_auction(month, state.firms, state.params)
    if price is None:
        return
    if old_by_region is not None:  # regions trade apart: each firm at its region's price
        region = state.firms.region[market.participants]
        factor = market.adopt_prices(market.region_price[region],
                                     month=state.period.months_done)
        abate_by_region(state, market, factor, old_by_region[region],
                        market.region_price[region])
        return
    factor = market.adopt_price(price, month=state.period.months_done)
    abate(state, market, factor, old_price)


def participants(state: RunState, market: QuotaMarket) -> Participants:
    """Return the per-participant constants of ``market``'s current book (built on demand)."""
    entry = state.participants.get(market.quota)
    if entry is None or entry.book is not market.current_book:
        if entry is not None:
            fold_corrections(state, drop=False, market=market)
        f = state.firms
        r = state.rates
        idx = market.participants
        per_unit = market.kind.per_unit_charge(r.yuan_per_kwh, r.yuan_per_t)
        intensity, revenue_share, covered, rate = kernels.gather4(
            idx, market.intensity(f), r.wan_yuan_va_per_yuan_revenue, market.members, per_unit)
        factor = market.kind.charge_factor(f, idx)  # e.g. energy: yuan per kWh x kWh per tce
        if factor is not None:
            rate *= factor
        entry = Participants(
            book=market.current_book, idx=idx, intensity=intensity, rate=rate,
            revenue_share=revenue_share, covered=covered, factor=factor,
            correction=np.zeros(idx.size))
        state.participants[market.quota] = entry
    return entry


def abate(state: RunState, market: QuotaMarket, factor: np.ndarray | None,
          old_price: float) -> None:
    """Scale the market's intensity of its participants by ``factor`` after its price moved.

    The period's VA so far was produced at the old intensity; booking
    ``period VA x (old - new intensity)`` as a correction keeps the
    period's quantities, and hence its linear bills, exact when the
    period is billed at the next flush. The unit cost changes by the
    market's tariff and rights price times the change of intensity, and
    by the change of price times the new intensity. Everything is done on
    the participants' contiguous constants (:func:`participants`); only
    the unit cost, the period's VA and the intensity itself are indexed by
    firm.
    """
    p = participants(state, market)
    if factor is None:  # the price moved, the intensities did not
        factor = np.ones(p.idx.size)
    firm_intensity = market.intensity(state.firms)
    kernels.abate(p.idx, factor, p.intensity, p.rate, p.revenue_share, p.covered,
                  market.last_price, old_price, state.rates.linear_cost_share, state.period.va,
                  p.correction, firm_intensity)


def abate_by_region(state: RunState, market: QuotaMarket, factor: np.ndarray | None,
                    old_price: np.ndarray, price: np.ndarray) -> None:
    """:func:`abate` with a price per participant (its region's), old and new, yuan per unit.

    The kernel applies the intensities, the abatement cost and the billing
    correction at no price; the rights' cost in the unit cost, each
    participant's price times its intensity, changes here.
    """
    p = participants(state, market)
    if factor is None:
        factor = np.ones(p.idx.size)
    before = p.intensity.copy()
    kernels.abate(p.idx, factor, p.intensity, p.rate, p.revenue_share, p.covered, 0.0, 0.0,
                  state.rates.linear_cost_share, state.period.va, p.correction,
                  market.intensity(state.firms))
    change = np.where(p.covered, price * p.intensity - old_price * before, 0.0)
    state.rates.linear_cost_share[p.idx] += change * p.revenue_share  # idx distinct


def invalidate(state: RunState) -> None:
    """Timeline changes may change bid caps and abatement bounds: books are rebuilt."""
    for market in state.markets.values():
        market.invalidate()


def comply(state: RunState, year: int) -> np.ndarray:
    """Accrue abatement costs, surrender rights, charge their cost; return the violations.

    A firm short of rights (after the market's remedies) violates its
    market's rules; the evaluation vetoes it if the scenario says so
    (``evaluation.veto.emission_violation``, ``energy_task_missed``).
    """
    p = state.params
    f = state.firms
    y = f.ytd
    violation = np.zeros(f.n, dtype=bool)
    cost = y["quota_cost_yuan"]
    for quota, market in state.markets.items():
        market.accrue_abatement_cost(state.period.months_done, f)
        share = market.spec(p).absent_share
        absent = (draw(state, f"absent/{quota}/{year}", "uniform") < share) if share else None
        market.comply(12, f, p, absent)
        record_regions(state, year, quota, market)
        market.add_cost_this_year(cost)
        if market.kind.vetoes(p.evaluation.veto):
            done = market.compliance
            violation[done.index] |= done.violation
    if state.markets:
        y["profit_wan_yuan"] -= cost * 1e-4
    return violation


def record_regions(state: RunState, year: int, quota: str, market: QuotaMarket) -> None:
    """Record a market's year by region when regions trade apart (``between_regions``).

    Each auction's price in each region (group ``region=<name>,market=<quota>``),
    the year's rights each region bought from and sold to the others, and
    the fee paid on them (group ``market=<quota>``).
    """
    if not market.regional:
        return
    names = list(state.region_names)
    names += [str(code) for code in range(len(names), market.n_regions)]
    groups = [f"region={name},market={quota}" for name in names[:market.n_regions]]
    add = state.recorder.add
    net = np.zeros(market.n_regions)
    fee = 0.0
    imports = np.zeros(market.n_regions)
    for record in market.region_auctions:
        add(year, record.month, groups, "quota_price_by_region_yuan_per_unit", record.price)
        net += record.net_import
        imports += np.maximum(record.net_import, 0.0)
        fee += record.fee_yuan
    add(year, 0, groups, "quota_imports", imports)
    add(year, 0, groups, "quota_exports", imports - net)
    add(year, 0, [f"market={quota}"], "quota_region_fee_yuan", [fee])


def book_government_receipts(state: RunState) -> None:
    """Each market's government receipts by source in the year just closed, yuan."""
    for quota, market in state.markets.items():
        gov = market.ledger.government_yuan
        previous = state.government_seen.setdefault(quota, {})
        this_year = state.government_this_year.setdefault(quota, {})
        for source in GOVERNMENT_SOURCES:
            now = float(gov.get(source, 0.0))
            this_year[source] = now - previous.get(source, 0.0)
            previous[source] = now


def close_year(state: RunState) -> None:
    """Each market closes its year (banking, expiry, the next year's positions)."""
    for market in state.markets.values():
        market.close_year()


def renew_upgraded(state: RunState, changed: dict[str, np.ndarray]) -> None:
    """Renew the bids of the firms whose upgrades changed a market's unabated intensity."""
    for market in state.markets.values():
        firms = changed.get(market.kind.upgrade)
        if firms is not None:  # their unabated intensities changed
            at = market.renew_bids(firms, state.firms, state.params)
            entry = state.participants.get(market.quota)
            if at.size and entry is not None and entry.book is market.current_book:
                entry.intensity[at] = market.intensity(state.firms)[entry.idx[at]]


def resize(state: RunState, keep: np.ndarray, entrants: Firms, year: int) -> None:
    """Drop the exits' rows and add the entrants' in every market (their MAC draws too)."""
    seed, rep = state.params.seed, state.replication
    state.participants = {}  # participant indices refer to the old rows (folded at the flush)
    rows = np.cumsum(keep) - 1  # each kept firm's new row
    for quota, market in state.markets.items():
        market.resize(keep, entrants, state.params,
                      mechanism_rng(seed, rep, f"mac_{quota}/{year}"), rows)


def _region_steering(state: RunState) -> Callable[[np.ndarray, np.ndarray], np.ndarray] | None:
    """Return how renewed entitlements are re-split between regions, or None (steering off).

    By the last region evaluation (``evaluation.regions.steering.quotas``):
    :func:`~simulator.evaluation.regions.steered_allocation`.
    """
    steering = state.params.evaluation.regions.steering
    units = steering_units(state) if steering.enabled and steering.quotas else None
    if units is None:
        return None
    unit, score = units  # regions, or parks (steering.level)

    def steer(entitled: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return steered_allocation(entitled, unit[idx], score, elasticity=steering.elasticity)

    return steer

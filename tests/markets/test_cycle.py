"""Quota markets inside the calendar: allocation, auctions, abatement, compliance."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.engine import billing, calendar, pricing, production, simulate, trading
from simulator.markets.cycle import QuotaMarket
from simulator.population import build_population
from simulator.scenario import POLLUTANTS, apply_changes, load_scenario

from .static import static_markets

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def small():
    s = static_markets(load_scenario(ROOT / "tests" / "scenarios" / "small.yaml"))
    return apply_changes(s, {"timeline": []})


def run(scenario):
    tables: list[pa.Table] = []
    result = simulate(scenario, on_snapshot=tables.append)
    return result.metrics, pa.concat_tables(tables).to_pandas()


def market_rows(metrics: pd.DataFrame, quota: str, metric: str, *, annual: bool = True):
    sel = metrics[(metrics["group"] == f"market={quota}") & (metrics["metric"] == metric)]
    sel = sel[sel["month"].isna()] if annual else sel[sel["month"].notna()]
    return sel


@pytest.fixture(scope="module")
def small_run(small):
    return run(small)


def test_rights_are_conserved_and_caps_are_issued(small_run, small):
    metrics, firms = small_run
    for quota in ("energy", *POLLUTANTS):
        cap = market_rows(metrics, quota, "quota_cap").set_index("year")["value"]
        assert len(cap) == small.run.n_years
        # The cap path: first year at baseline use, then falling at the decline rate.
        spec = (small.markets.energy if quota == "energy"
                else small.markets.emissions[quota])
        ratio = cap.iloc[1:].to_numpy() / cap.iloc[:-1].to_numpy()
        np.testing.assert_allclose(ratio, 1 - spec.cap.annual_decline, rtol=1e-12)
        allocated = market_rows(metrics, quota, "quota_allocated")["value"].to_numpy()
        assert (allocated <= cap.to_numpy() * (1 - spec.reserve.share_of_cap) + 1e-6).all()


def test_use_is_covered_except_for_recorded_shortfalls(small_run):
    metrics, firms = small_run
    for quota in ("energy", *POLLUTANTS):
        use = firms[f"{quota}_use"]
        short = firms[f"{quota}_shortfall"]
        assert (short >= 0).all()
        assert (short <= use + 1e-9).all()
        rate = market_rows(metrics, quota, "quota_compliance_rate")["value"]
        assert rate.between(0, 1).all()


def test_abatement_follows_the_price(small_run):
    metrics, firms = small_run
    # Firms abate where MAC = price: a higher price in a year means more abatement.
    energy = firms.groupby("year")["energy_abatement_share"].mean()
    assert (energy > 0).any()
    assert (firms["energy_abatement_share"] <= 0.3 + 1e-12).all()  # max_abatement_share


def test_prices_stay_within_floor_and_ceiling(small_run, small):
    metrics, _ = small_run
    for quota in ("energy", *POLLUTANTS):
        spec = (small.markets.energy if quota == "energy"
                else small.markets.emissions[quota])
        prices = market_rows(metrics, quota, "quota_price_yuan_per_unit", annual=False)["value"]
        prices = prices.dropna()
        assert len(prices) > 0
        assert (prices >= spec.price.floor_yuan_per_unit - 1e-9).all()
        assert (prices <= spec.price.ceiling_yuan_per_unit + 1e-9).all()


def test_each_year_has_the_scheduled_and_compliance_auctions(small_run, small):
    metrics, _ = small_run
    rows = market_rows(metrics, "energy", "quota_volume", annual=False)
    months = sorted(rows[rows["year"] == small.run.first_year]["month"].astype(int))
    assert months == [1, 4, 7, 10, 12]


def test_long_firms_mean_no_shortfall_and_floor_prices(small):
    # A generous cap alone leaves the excess with the reserve (allocation follows history);
    # allocation factors of 1.2 make every firm long, so the reserve's floor bid sets the price.
    loose = apply_changes(small, {
        "markets.energy.cap.first_year_share_of_baseline": 3.0,
        "markets.energy.cap.annual_decline": 0.0,
        "markets.energy.allocation.class_factor": {"A": 1.2, "B": 1.2, "C": 1.2, "D": 1.2},
        "markets.energy.allocation.unrated_factor": 1.2,
        "markets.energy.allocation.intensity_factors": [],
        "markets.energy.reserve.auction_share": 0.0,
        "behaviour.shock.sigma": 0.0,
    })
    metrics, firms = run(loose)
    assert (firms["energy_shortfall"] == 0).all()
    prices = market_rows(metrics, "energy", "quota_price_yuan_per_unit", annual=False)
    traded = prices["value"].dropna()
    # Everyone is long: the reserve buys at the floor, or nothing trades.
    assert ((traded - loose.markets.energy.price.floor_yuan_per_unit).abs() < 1e-6).all()


def test_tighter_cap_raises_price_and_abatement(small):
    tight = apply_changes(small, {"markets.energy.cap.annual_decline": 0.10})
    m_base, f_base = run(small)
    m_tight, f_tight = run(tight)
    last = small.run.first_year + small.run.n_years - 1

    def price(m):
        p = market_rows(m, "energy", "quota_price_yuan_per_unit", annual=False)
        return p[p["year"] == last]["value"].mean()

    assert price(m_tight) > price(m_base)
    assert (f_tight[f_tight["year"] == last]["energy_abatement_share"].mean()
            > f_base[f_base["year"] == last]["energy_abatement_share"].mean())


def test_emission_shortfall_is_a_violation_that_vetoes_a_and_b(small):
    # No reserve, no trading help, a cap at half of use, an enormous MAC: many firms fall short.
    harsh = apply_changes(small, {
        "markets.emissions.cod.cap.first_year_share_of_baseline": 0.5,
        "markets.emissions.cod.mac.default_at_10pct_yuan_per_unit": 1e9,
        "markets.emissions.cod.reserve.share_of_cap": 0.0,
        "markets.emissions.cod.reserve.lease_share": 0.0,
        "evaluation.veto.accident_probability_per_year": 0.0,
    })
    _, firms = run(harsh)
    short = firms["cod_shortfall"] > 1e-9 * firms["cod_use"].clip(lower=1)
    assert short.sum() > 10
    assert firms.loc[short, "vetoed"].all()
    assert not firms.loc[short, "class"].isin(["A", "B"]).any()


def test_government_revenue_sources_are_reported(small_run):
    metrics, _ = small_run
    paid_use = market_rows(metrics, "cod", "gov_paid_use_yuan")["value"]
    assert (paid_use > 0).all()
    fees = market_rows(metrics, "energy", "gov_fee_yuan")["value"]
    assert (fees >= 0).all()


def test_quota_cost_by_class_is_reported(small_run):
    metrics, _ = small_run
    rows = metrics[(metrics["metric"] == "quota_cost_yuan_per_wan_yuan_va")
                   & metrics["month"].isna()]
    assert {"all", "class=A", "class=D"} <= set(rows["group"])


def test_markets_off_means_no_market_rows(small):
    off = apply_changes(small, {"markets.energy.enabled": False, "markets.emissions": {}})
    metrics, firms = run(off)
    assert not metrics["group"].str.startswith("market=").any()
    assert "energy_use" not in firms.columns


def test_cap_decline_changed_on_the_timeline_applies_from_its_date(small):
    later = apply_changes(small, {"timeline": [
        {"date": "2019-01", "set": {"markets.energy.cap.annual_decline": 0.10}}]})
    metrics, _ = run(later)
    cap = market_rows(metrics, "energy", "quota_cap").set_index("year")["value"]
    d0 = small.markets.energy.cap.annual_decline
    assert cap[2018] / cap[2017] == pytest.approx(1 - d0, rel=1e-12)
    # Allocation happens at the start of each year, after that month's changes.
    assert cap[2019] / cap[2018] == pytest.approx(0.90, rel=1e-12)
    assert cap[2020] / cap[2019] == pytest.approx(0.90, rel=1e-12)


def test_markets_are_deterministic(small):
    a_metrics, a_firms = run(small)
    b_metrics, b_firms = run(small)
    pd.testing.assert_frame_equal(a_metrics, b_metrics)
    pd.testing.assert_frame_equal(a_firms, b_firms)


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    decline=st.floats(0.0, 0.3),
    first_share=st.floats(0.3, 2.0),
    reserve_share=st.floats(0.0, 0.5),
    lease_share=st.floats(0.0, 0.5),
    auctions=st.integers(0, 4),
    banking=st.booleans(),
    floor=st.floats(0.0, 1000.0),
    spread=st.floats(0.0, 5000.0),
    fee=st.floats(0.0, 0.05),
    seed=st.integers(0, 10_000),
)
def test_random_scenarios_conserve_rights_and_money(small, decline, first_share, reserve_share,
                                                    lease_share, auctions, banking, floor,
                                                    spread, fee, seed):
    s = apply_changes(small, {
        "seed": seed,
        "run.end": "2018-12",
        "population.n_industrial": 150,
        "population.n_services": 20,
        "markets.emissions": {"so2": small.markets.emissions["so2"].model_dump()},
        "markets.energy.cap.annual_decline": decline,
        "markets.energy.cap.first_year_share_of_baseline": first_share,
        "markets.energy.reserve.share_of_cap": reserve_share,
        "markets.energy.reserve.lease_share": lease_share,
        "markets.energy.reserve.lease_price_yuan_per_unit": floor,
        "markets.energy.auctions_per_year": auctions,
        "markets.energy.banking": banking,
        "markets.energy.price.floor_yuan_per_unit": floor,
        "markets.energy.price.ceiling_yuan_per_unit": floor + spread,
        "markets.energy.trading_fee_share": fee,
        "markets.energy.scope_min_use_per_year": 0.0,
    })
    result = simulate(s)
    for quota, led in result.ledgers.items():
        led.check()  # held + reserve + surrendered + expired == issued; money balances
        assert (led.holdings >= -1e-9 * max(led.issued, 1.0)).all(), quota
        assert led.reserve >= -1e-9 * max(led.issued, 1.0)
        issued = led.holdings.sum() + led.reserve + led.surrendered + led.expired
        assert issued == pytest.approx(led.issued, rel=1e-9, abs=1e-9)
        # Firms that closed took their payments with them into the ledger's departed totals.
        paid = (led.firm_paid_yuan.sum() + led.departed_paid_yuan
                - led.firm_received_yuan.sum() - led.departed_received_yuan)
        assert paid == pytest.approx(sum(led.government_yuan.values()), rel=1e-9, abs=1e-6)
    prices = market_rows(result.metrics, "energy", "quota_price_yuan_per_unit", annual=False)
    traded = prices["value"].dropna()
    # The reserve keeps prices within its bounds when it has rights to sell.
    assert (traded >= floor - 1e-9).all() or reserve_share == 0


def test_prices_never_exceed_the_penalty_when_rights_run_out(small):
    # A cap far below what abatement can reach and an empty reserve: firms short of rights
    # pay the penalty rather than bid above it, so no auction clears above the penalty.
    scarce = apply_changes(small, {
        "markets.emissions.cod.cap.first_year_share_of_baseline": 0.3,
        "markets.emissions.cod.reserve.share_of_cap": 0.0,
        "markets.emissions.cod.reserve.lease_share": 0.0,
        "markets.emissions.cod.price.ceiling_yuan_per_unit": 1e9,
    })
    metrics, firms = run(scarce)
    prices = market_rows(metrics, "cod", "quota_price_yuan_per_unit", annual=False)["value"]
    assert prices.dropna().max() <= scarce.markets.emissions["cod"].penalty_yuan_per_t + 1e-6
    assert (firms["cod_shortfall"] > 0).any()


def test_expanding_firms_buy_new_energy_use_by_subscription(small):
    # With 10% growth a year, firms' potential energy use outgrows what their baseline
    # covers; covered firms above 0.6 tce/万元 buy the new use from the reserve.
    growing = apply_changes(small, {"behaviour.potential_growth_per_year": 0.10})
    metrics, _ = run(growing)
    subscription = market_rows(metrics, "energy", "gov_subscription_yuan").set_index("year")
    assert subscription.loc[small.run.first_year, "value"] == 0.0
    assert subscription["value"].iloc[1:].gt(0).all()
    base_metrics, _ = run(small)
    assert market_rows(base_metrics, "energy", "gov_subscription_yuan")["value"].eq(0).all()


def test_without_banking_rights_used_never_exceed_the_years_cap(small):
    # Rights are valid for their year: what firms surrender (use minus shortfall) cannot
    # exceed the year's cap, even though the reserve bought surplus back at the floor in
    # the first year (firms allocated 1.2x their use) and caps then fall 30% a year.
    s = apply_changes(small, {
        "markets.energy.cap.first_year_share_of_baseline": 1.5,
        "markets.energy.cap.annual_decline": 0.3,
        "markets.energy.allocation.class_factor": {"A": 1.2, "B": 1.2, "C": 1.2, "D": 1.2},
        "markets.energy.allocation.unrated_factor": 1.2,
    })
    metrics, _ = run(s)
    assert market_rows(metrics, "energy", "reserve_bought", annual=False)["value"].sum() > 0
    rows = metrics[metrics["group"].eq("market=energy") & metrics["month"].isna()]
    t = rows.pivot_table(index="year", columns="metric", values="value")
    surrendered = t["quota_use"] - t["quota_shortfall"]
    assert (surrendered <= t["quota_cap"] * (1 + 1e-9)).all()


def test_a_firm_leaving_the_scope_sells_its_rights_and_stops_abating(small):
    sim = calendar.start(small, replication=0)
    calendar.allocation(sim, small.run.first_year)
    market = sim.markets["energy"]
    trading.auction(sim, "energy", 2)
    i = int(np.flatnonzero(market.share > 0)[0])
    share = market.share[i]
    abated = sim.firms.energy_tce_per_wan_yuan[i]
    assert market.ledger.holdings[i] > 0
    # The firm leaves the scope (as when its use falls below the threshold at an allocation).
    market.members[i] = False
    market.invalidate()
    trading.auction(sim, "energy", 5)
    assert market.share[i] == 0.0
    assert market.ledger.holdings[i] == pytest.approx(0.0, abs=1e-9)
    assert sim.firms.energy_tce_per_wan_yuan[i] == pytest.approx(abated / (1.0 - share))
    market.ledger.check()


def test_an_auction_after_a_no_trade_with_nothing_moved_repeats_it_without_clearing(
        small, monkeypatch):
    import dataclasses

    from simulator.engine import calendar
    from simulator.markets import cycle

    sim = calendar.start(small, replication=0)
    calendar.allocation(sim, small.run.first_year)
    market = sim.markets["cod"]
    month = 2
    while market.scheduled_auction(month, sim.firms, sim.params) is not None:
        month += 1
        assert month < 12, "no auction without trade"
    cleared = market.auctions[-1]
    assert cleared.volume == 0.0
    calls = []
    real = cycle.clear_book
    monkeypatch.setattr(cycle, "clear_book", lambda *a, **k: calls.append(1) or real(*a, **k))
    assert market.scheduled_auction(month + 1, sim.firms, sim.params) is None
    assert not calls  # nothing moved: the same outcome, not cleared again
    repeated = market.auctions[-1]
    assert dataclasses.replace(repeated, month=cleared.month) == dataclasses.replace(
        cleared, price=repeated.price)
    assert np.isnan(repeated.price)
    market.ledger.issue_to_reserve(1.0)  # rights moved: the next auction clears
    market.scheduled_auction(month + 2, sim.firms, sim.params)
    assert calls == [1]


def test_unit_cost_updated_in_place_equals_a_full_recomputation(small):
    sim = calendar.start(small, replication=0)
    calendar.allocation(sim, small.run.first_year)
    for quota in sim.markets:
        trading.auction(sim, quota, 2)
    assert all(m.last_price > 0 for m in sim.markets.values())
    share = sim.rates.linear_cost_share.copy()
    pricing.refresh_unit_cost(sim)
    np.testing.assert_allclose(share, sim.rates.linear_cost_share, rtol=1e-12)
    # Firms outside a market's scope carry no opportunity cost of its rights.
    energy = sim.markets["energy"]
    outside = ~energy.members
    assert outside.any()
    unit_cost = np.zeros(sim.firms.n)
    energy.add_unit_cost(unit_cost, sim.firms)
    assert (unit_cost[outside] == 0).all()
    inside = energy.members
    np.testing.assert_allclose(unit_cost[inside],
                               energy.last_price * sim.firms.energy_tce_per_wan_yuan[inside])


def test_quantities_billed_across_abatement_changes_are_those_used_month_by_month(small):
    # Auctions change intensities in the middle of a billing period; the period is billed
    # at its end with the intensities then in force plus corrections. The booked energy,
    # electricity and emissions must equal the month-by-month sum of VA x intensity.
    sim = calendar.start(small, replication=0)
    year = small.run.first_year
    calendar.allocation(sim, year)
    f = sim.firms
    start = (f.energy_tce_per_wan_yuan.copy(), f.emission_t_per_wan_yuan.copy())
    energy, kwh, emissions = np.zeros(f.n), np.zeros(f.n), np.zeros((f.n, len(POLLUTANTS)))
    for month in range(12):
        if month in (3, 6, 9):  # auctions after the period began, before the month's output
            for quota in sim.markets:
                trading.auction(sim, quota, month + 1)
        intensity = (f.energy_tce_per_wan_yuan.copy(), f.electricity_kwh_per_wan_yuan.copy(),
                     f.emission_t_per_wan_yuan.copy())
        before = sim.period.va.copy()
        production.produce_month(sim)
        va = sim.period.va - before
        energy += va * intensity[0]
        kwh += va * intensity[1]
        emissions += va[:, None] * intensity[2]
    # Abatement did change intensities after the period began.
    assert not np.allclose(f.energy_tce_per_wan_yuan, start[0], rtol=1e-6, atol=0)
    assert not np.allclose(f.emission_t_per_wan_yuan, start[1], rtol=1e-6, atol=0)
    billing.flush(sim)
    y = f.ytd
    np.testing.assert_allclose(y["energy_tce"], energy, rtol=1e-11, atol=1e-9)
    np.testing.assert_allclose(y["electricity_kwh"], kwh, rtol=1e-11, atol=1e-6)
    np.testing.assert_allclose(y["emissions_t"], emissions, rtol=1e-11, atol=1e-12)


def test_holdings_at_compliance_cover_use_up_to_the_shortfall(small_run):
    # Each covered firm surrenders min(use, held): its shortfall is what its holdings at
    # compliance leave uncovered. Outside the scope nothing needs rights, so nothing is short.
    _, firms = small_run
    for quota in ("energy", *POLLUTANTS):
        held, short = firms[f"{quota}_held"], firms[f"{quota}_shortfall"]
        covered = firms[f"{quota}_covered"].to_numpy()
        use = firms[f"{quota}_use"].where(covered, 0.0)
        assert (held >= -1e-9).all(), quota
        assert held[covered].sum() > 0, quota
        np.testing.assert_allclose(short, np.maximum(use - held, 0.0), rtol=1e-9, atol=1e-9,
                                   err_msg=quota)


def test_entrants_buy_their_energy_by_subscription_not_on_top_of_a_free_allocation(small):
    # An entrant's energy use is all new use: where a subscription is due (at least
    # min_new_use_tce, at or above the first block's unit consumption) it buys it from the
    # reserve and gets no baseline allocation; below the thresholds its use is registered
    # without purchase and allocated like an existing firm's.
    sim = calendar.start(small, replication=0)
    year = small.run.first_year
    calendar.allocation(sim, year)
    energy = sim.markets["energy"]
    spec = small.markets.energy.subscription
    f = sim.firms
    use = f.energy_tce_per_wan_yuan * f.va_wan_yuan
    big = np.flatnonzero(use >= 2 * spec.min_new_use_tce)[:4]
    assert big.size == 4
    copies = np.zeros(f.n, dtype=bool)
    copies[big] = True
    entrants = f.select(copies)
    entrants.firm_id = f.firm_id[-1] + 1 + np.arange(entrants.n)
    # Two energy-hungry projects (a subscription is due), two efficient ones (none is due).
    threshold = spec.blocks[0].above
    entrants.energy_tce_per_wan_yuan = np.array([2.0, 1.5, 0.5, 0.2]) * threshold
    entrants.va_wan_yuan = 3 * spec.min_new_use_tce / entrants.energy_tce_per_wan_yuan
    potential = entrants.energy_tce_per_wan_yuan * entrants.va_wan_yuan
    n_old = f.n
    calendar.replace_firms(sim, np.ones(n_old, dtype=bool), entrants, year)  # as at a year end
    sim.firms.reset_ytd()
    pricing.refresh_rates(sim)
    assert energy.entered[n_old:].all()
    paid = energy.ledger.government_yuan["subscription"]
    calendar.allocation(sim, year + 1)
    new = np.arange(n_old, n_old + entrants.n)
    assert energy.members[new].all()
    assert not energy.entered.any()
    due, exempt = new[:2], new[2:]
    # Due: nothing free, the whole use bought (the reserve holds far more than it).
    assert (energy.allocation[due] == 0).all()
    np.testing.assert_allclose(energy.ledger.holdings[due], potential[:2], rtol=1e-12)
    np.testing.assert_allclose(energy.registered[due], potential[:2], rtol=1e-12)
    prices = np.array([b.price_yuan_per_unit for b in spec.blocks])
    per_tce = prices[np.searchsorted([b.above for b in spec.blocks], [2.0 * threshold,
                                                                      1.5 * threshold],
                                     side="right") - 1]
    assert energy.ledger.government_yuan["subscription"] - paid == pytest.approx(
        float((per_tce * potential[:2]).sum()), rel=1e-12)
    assert energy.reserve_flows["subscribed"] == pytest.approx(potential[:2].sum(), rel=1e-12)
    # Exempt: a baseline allocation, its use registered, nothing bought.
    assert (energy.allocation[exempt] > 0).all()
    np.testing.assert_allclose(energy.ledger.holdings[exempt], energy.allocation[exempt],
                               rtol=1e-12)
    np.testing.assert_allclose(energy.registered[exempt], potential[2:], rtol=1e-12)
    energy.ledger.check()


def test_reserve_operations_and_the_intensity_target_are_reported(small_run, small):
    # Leases and compensation at their prices, the reserve never negative, and the
    # declining intensity target of dual control.
    metrics, firms = small_run
    for quota in ("energy", *POLLUTANTS):
        spec = small.markets.energy if quota == "energy" else small.markets.emissions[quota]
        annual = market_rows(metrics, quota, "reserve_leased").set_index("year")["value"]
        gov = market_rows(metrics, quota, "gov_lease_yuan").set_index("year")["value"]
        assert len(annual) == small.run.n_years
        np.testing.assert_allclose(gov, spec.reserve.lease_price_yuan_per_unit * annual,
                                   rtol=1e-9, atol=1e-6, err_msg=quota)
        held = market_rows(metrics, quota, "reserve_held")["value"]
        assert (held >= -1e-9).all(), quota
    assert market_rows(metrics, "cod", "reserve_leased")["value"].sum() > 0
    energy = small.markets.energy
    comp = market_rows(metrics, "energy", "reserve_compensated").set_index("year")["value"]
    gov = market_rows(metrics, "energy", "gov_compensation_yuan").set_index("year")["value"]
    np.testing.assert_allclose(gov, -energy.compensation_yuan_per_tce * comp, rtol=1e-9,
                               atol=1e-6)
    assert len(market_rows(metrics, "energy", "reserve_subscribed")) == small.run.n_years
    assert market_rows(metrics, "cod", "reserve_subscribed").empty  # energy only
    target = market_rows(metrics, "energy", "energy_intensity_target_tce_per_wan_yuan")
    years = target["year"].to_numpy() - small.run.first_year
    np.testing.assert_allclose(target["value"], energy.intensity_target_tce_per_wan_yuan
                               * (1 - energy.intensity_target_annual_decline) ** years,
                               rtol=1e-12)


def _energy_market(scenario):
    """A fresh energy market on the scenario's population (firms unrated, none abating)."""
    firms = build_population(scenario, np.random.default_rng(0))
    return QuotaMarket("energy", firms=firms, scenario=scenario,
                       rng=np.random.default_rng(1)), firms


def test_abating_does_not_change_a_firms_free_allocation(small):
    # Allocation judges a firm's intensity before abatement: firms above their sector's
    # median get half (intensity factor 0.5 above a ratio of 1). Every other firm abates
    # 30%, which takes those between 1 and 1 / 0.7 below the median; their allocation, and
    # everyone's, is what it would be without abatement.
    s = apply_changes(small, {"markets.energy.allocation.intensity_factors":
                              [{"above_ratio": 1.0, "factor": 0.5}]})
    allocations = []
    for abate in (False, True):
        market, firms = _energy_market(s)
        ratio = firms.energy_tce_per_wan_yuan / market.benchmark
        share = np.where(abate & (np.arange(firms.n) % 2 == 0), 0.3, 0.0)
        market.share[:] = share
        firms.energy_tce_per_wan_yuan *= 1.0 - share  # what abatement does to the intensity
        market.allocate(s.run.first_year, firms, s)
        allocations.append(market.allocation.copy())
    crossing = market.members & (share > 0) & (ratio > 1.0) & (ratio * 0.7 <= 1.0)
    assert crossing.sum() >= 5
    np.testing.assert_allclose(allocations[1], allocations[0], rtol=1e-12, atol=0)


def test_the_auction_lot_is_a_share_of_what_the_reserve_keeps_beyond_the_unallocated(small):
    # Cap 1,000 tce, of which the reserve keeps 10% (100) and holds 300: 200 unallocated
    # rights are offered just above the floor, the lot is 25% of the other 100 (25) at the
    # lot's reserve price, the rest (75) sells at the ceiling; the reserve buys at the floor
    # more than the firms could offer (2 x 40 + 1).
    s = apply_changes(small, {"markets.energy.reserve": {
        "share_of_cap": 0.1, "sells_unallocated": True, "auction_share": 0.25,
        "auction_reserve_price_yuan_per_unit": 800.0, "releases": [],
        "sells_at_ceiling": True, "buys_at_floor": True}})
    market, _ = _energy_market(s)
    market.cap = 1000.0
    market.ledger.issue_to_reserve(300.0)
    spec = s.markets.energy
    floor, ceiling = spec.price.floor_yuan_per_unit, spec.price.ceiling_yuan_per_unit
    steps = market._reserve_steps(spec, auction_lot=True, firm_total=40.0)
    assert steps.by == ["floor", "reserve", "ceiling", "floor"]
    np.testing.assert_allclose(steps.prices, [floor * (1 + 1e-9), 800.0, ceiling, floor])
    np.testing.assert_allclose(steps.qty, [200.0, 25.0, 75.0, 81.0])
    assert steps.buy == [False, False, False, True]


def test_is_energy_still_answers_with_a_deprecation_warning(small):
    from simulator.engine import calendar

    state = calendar.start(small, replication=0)
    with pytest.warns(DeprecationWarning, match="QuotaMarket.kind"):
        assert state.markets["energy"].is_energy
    with pytest.warns(DeprecationWarning, match="is_energy is deprecated"):
        assert not state.markets["cod"].is_energy

"""Trading of rights between regions: allowed, not allowed, with a fee (simulator.markets.regions).

Hand-computed two-region cases with linear MACs and known holdings, then
properties: conservation of rights and money, a zero fee is the county-wide
market, a prohibitive fee is no trade between regions; then the scenario
switch and the engine's records on a tiny run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.engine import simulate
from simulator.markets.book import AbatementBook, clear_book
from simulator.markets.clearing import StepOrders
from simulator.markets.regions import clear_regions, region_weights
from simulator.scenario import apply_changes, load_scenario

NONE = StepOrders(np.zeros(0), np.zeros(0), np.zeros(0, bool))


def _two_regions():
    """Region 0: firms c = 10, 20 (cheap); region 1: firms c = 40, 80 (dear).

    Each firm needs 100, may abate 50 and holds 80 in region 0 and 70 in region 1,
    except the first firm of each region, which holds 100 (a seller).
    """
    books = [AbatementBook([100.0, 100.0], [0.1, 0.05], [50.0, 50.0]),
             AbatementBook([100.0, 100.0], [0.025, 0.0125], [50.0, 50.0])]
    holdings = [np.array([100.0, 80.0]), np.array([100.0, 70.0])]
    return books, holdings


def test_not_allowed_prices_each_region_at_its_own_least_cost():
    books, holdings = _two_regions()
    c = clear_regions(books, holdings, [NONE, NONE], between="not_allowed")
    # p_r = (sum_r e - cap_r) / sum_r 1/c: (200 - 180) / 0.15 and (200 - 170) / 0.0375
    assert c.price == pytest.approx([20.0 / 0.15, 30.0 / 0.0375])
    assert c.net_import.tolist() == [0.0, 0.0]
    assert c.fee_revenue_yuan == 0.0
    # Within a region each firm abates to the region's price.
    assert c.clearings[0].linear_fill == pytest.approx([-20.0 / 0.15 * 0.1 + 0.0,
                                                        20.0 - 20.0 / 0.15 * 0.05])


def test_fee_splits_the_price_by_the_fee_and_balances_flows():
    books, holdings = _two_regions()
    fee = 100.0
    c = clear_regions(books, holdings, [NONE, NONE], between="fee", fee=fee)
    # Exporter (region 0) at p: exports 0.15 p - 20; importer at p + 100 imports
    # 30 - 0.0375 (p + 100). Equal: 0.1875 p = 46.25.
    p = 46.25 / 0.1875
    assert c.price == pytest.approx([p, p + fee])
    flow = 0.15 * p - 20.0
    assert c.net_import == pytest.approx([-flow, flow])
    assert c.exports == pytest.approx([flow, 0.0])
    assert c.fee_revenue_yuan == pytest.approx(fee * flow)


def test_allowed_is_the_single_county_market():
    books, holdings = _two_regions()
    c = clear_regions(books, holdings, [NONE, NONE], between="fee", fee=0.0)
    # One market: (400 - 350) / 0.1875
    assert c.price == pytest.approx([50.0 / 0.1875] * 2)
    one = clear_book(AbatementBook([100.0] * 4, [0.1, 0.05, 0.025, 0.0125], [50.0] * 4),
                     np.concatenate(holdings))
    assert one.price == pytest.approx(c.price[0])
    fills = np.concatenate([x.linear_fill for x in c.clearings])
    assert fills == pytest.approx(one.linear_fill)


def test_a_fee_between_the_autarky_prices_leaves_a_region_in_autarky():
    books, holdings = _two_regions()
    # Autarky prices 133.3 and 800: a fee of 700 makes any trade dearer than staying home.
    c = clear_regions(books, holdings, [NONE, NONE], between="fee", fee=700.0)
    assert c.net_import.tolist() == [0.0, 0.0]
    assert c.price == pytest.approx([20.0 / 0.15, 30.0 / 0.0375])


def test_reserve_orders_stay_in_their_region_when_trade_is_not_allowed():
    books, holdings = _two_regions()
    # Region 1's reserve share sells 10 at 500: all of it sells (at 500 region 1 still
    # wants 30 - 0.0375 x 500 = 11.25), and the rest clears at (30 - 10) / 0.0375.
    lot = StepOrders(np.array([500.0]), np.array([10.0]), np.array([False]))
    c = clear_regions(books, holdings, [NONE, lot], between="not_allowed")
    assert c.price[1] == pytest.approx(20.0 / 0.0375)
    assert c.clearings[1].step_fill == pytest.approx([10.0])
    assert c.price[0] == pytest.approx(20.0 / 0.15)


def test_region_weights_follow_the_allocation():
    w = region_weights(np.array([1.0, 3.0, 4.0]), np.array([0, 1, 1]), 3)
    assert w == pytest.approx([1 / 8, 7 / 8, 0.0])
    assert region_weights(np.zeros(2), np.array([0, 1]), 2) == pytest.approx([0.5, 0.5])


def test_bad_fee_names_the_parameter():
    books, holdings = _two_regions()
    with pytest.raises(ValueError, match="'fee' parameter"):
        clear_regions(books, holdings, [NONE, NONE], between="fee", fee=-1.0)


# ---------------------------------------------------------------- properties

@st.composite
def regions(draw):
    """2-4 regions of 1-5 firms with random MACs, needs and holdings, a ceiling sale and the
    firms' sale of their needs at a bid cap (no bid exceeds the penalty: the market's own)."""
    n_regions = draw(st.integers(2, 4))
    books, holdings, steps = [], [], []
    for _ in range(n_regions):
        n = draw(st.integers(1, 5))
        need = np.array(draw(st.lists(st.floats(1.0, 200.0), min_size=n, max_size=n)))
        inv = np.array(draw(st.lists(st.floats(1e-3, 1.0), min_size=n, max_size=n)))
        held = np.array(draw(st.lists(st.floats(0.0, 250.0), min_size=n, max_size=n)))
        books.append(AbatementBook(need, inv, need * 0.5))
        holdings.append(held)
        qty = draw(st.floats(0.0, 50.0))
        steps.append(StepOrders(np.array([5000.0, 1e5]), np.array([qty, need.sum()]),
                                np.array([False, False])))
    return books, holdings, steps


@settings(max_examples=60, deadline=None)
@given(regions(), st.floats(0.0, 2000.0), st.sampled_from(["fee", "not_allowed"]))
def test_rights_and_money_are_conserved(case, fee, between):
    books, holdings, steps = case
    c = clear_regions(books, holdings, steps, between=between, fee=fee)
    if between == "not_allowed":
        assert c.fee_revenue_yuan == 0.0
        assert not c.net_import.any()
    # Rights: what firms and reserve shares gain across all regions is what the reserve sold.
    firm_gain = sum(float(x.linear_fill.sum()) for x in c.clearings)
    reserve_sold = sum(float(x.step_fill[:2].sum()) for x in c.clearings)
    assert firm_gain == pytest.approx(reserve_sold, abs=1e-7 * (1 + reserve_sold))
    assert c.net_import.sum() == pytest.approx(0.0, abs=1e-7 * (1 + np.abs(c.net_import).sum()))
    # Money: buyers pay their region's price, sellers and the reserve receive it; the
    # difference is the fee on imports.
    paid = received = 0.0
    for r, x in enumerate(c.clearings):
        if not np.isfinite(c.price[r]):
            continue
        d = x.linear_fill
        paid += c.price[r] * d[d > 0].sum()
        received += c.price[r] * (-d[d < 0].sum() + x.step_fill[:2].sum())
    assert paid == pytest.approx(received + c.fee_revenue_yuan,
                                 abs=1e-6 * (1 + paid))
    # Importers pay the exporters' price plus the fee.
    if (c.net_import > 0).any() and (c.net_import < 0).any():
        exporters, importers = c.price[c.net_import < 0], c.price[c.net_import > 0]
        assert np.ptp(exporters) == pytest.approx(0.0, abs=1e-6)
        assert importers == pytest.approx(exporters[0] + fee)


@settings(max_examples=40, deadline=None)
@given(regions())
def test_zero_fee_is_the_county_market_and_a_huge_fee_is_no_trade(case):
    books, holdings, steps = case
    free = clear_regions(books, holdings, steps, between="fee", fee=0.0)
    need = np.concatenate([b.need for b in books])
    inv = np.concatenate([b.inv_slope for b in books])
    one = clear_book(AbatementBook(need, inv, need * 0.5), np.concatenate(holdings),
                     StepOrders(np.concatenate([s.price for s in steps]),
                                np.concatenate([s.quantity for s in steps]),
                                np.zeros(2 * len(steps), bool)))
    fills = np.concatenate([x.linear_fill for x in free.clearings])
    if one.price > 0:  # at a price of 0 who gives away a free surplus is a tie
        assert fills == pytest.approx(one.linear_fill, abs=1e-6 * (1 + need.sum()))
    if one.volume > 0:
        traded = np.isfinite(free.price)
        assert free.price[traded] == pytest.approx(one.price, rel=1e-6, abs=1e-6)
    apart = clear_regions(books, holdings, steps, between="not_allowed")
    walled = clear_regions(books, holdings, steps, between="fee", fee=1e7)
    assert walled.net_import.tolist() == [0.0] * len(books)
    for a, w in zip(apart.clearings, walled.clearings, strict=True):
        assert w.linear_fill == pytest.approx(a.linear_fill)


# ---------------------------------------------------------------- the scenario switch

def test_a_fee_without_the_fee_switch_is_an_error():
    from simulator.scenario.markets import EmissionMarketSpec
    with pytest.raises(ValueError, match="between_regions: fee"):
        EmissionMarketSpec(region_fee_yuan_per_unit=10.0)
    spec = EmissionMarketSpec(between_regions="fee", region_fee_yuan_per_unit=10.0)
    assert spec.between_regions == "fee"
    assert EmissionMarketSpec().between_regions == "allowed"


# ---------------------------------------------------------------- a run

ROOT = Path(__file__).resolve().parents[1]
TWO_REGIONS = [{"name": "north", "share": 0.6, "parks": 2},
               {"name": "south", "share": 0.4, "parks": 2}]


@pytest.fixture(scope="module")
def two_regions():
    small = load_scenario(ROOT / "tests" / "scenarios" / "small.yaml")
    return apply_changes(small, {"run.end": "2018-12", "timeline": [],
                                 "population.regions": TWO_REGIONS})


@pytest.fixture(scope="module")
def apart(two_regions):
    """Energy rights across regions pay 100 yuan/tce; COD rights stay in their region."""
    return simulate(apply_changes(two_regions, {
        "markets.energy.between_regions": "fee",
        "markets.energy.region_fee_yuan_per_unit": 100.0,
        "markets.emissions.cod.between_regions": "not_allowed"})).metrics


def _annual(metrics, metric):
    rows = metrics[metrics["metric"] == metric]
    return rows.groupby(["group", "year"])["value"].sum()


def test_a_run_balances_trade_between_regions_and_books_the_fee(apart):
    imports, exports = _annual(apart, "quota_imports"), _annual(apart, "quota_exports")
    fee = _annual(apart, "quota_region_fee_yuan")
    for year in (2017, 2018):
        for market in ("energy", "cod"):
            groups = [f"region={r['name']},market={market}" for r in TWO_REGIONS]
            bought = sum(imports[(g, year)] for g in groups)
            assert bought == pytest.approx(sum(exports[(g, year)] for g in groups), abs=1e-6)
            charged = 100.0 if market == "energy" else 0.0
            assert fee[(f"market={market}", year)] == pytest.approx(charged * bought, abs=1e-3)
            if market == "cod":
                assert bought == 0.0
    # The example trades across the boundary in 2018: not a vacuous balance.
    assert imports[("region=south,market=energy", 2018)] > 0


def test_importers_pay_the_exporters_price_plus_the_fee_in_a_run(apart):
    rows = apart[apart["metric"] == "quota_price_by_region_yuan_per_unit"]
    wide = rows.pivot_table(index=["year", "month"], columns="group", values="value")
    north, south = wide["region=north,market=energy"], wide["region=south,market=energy"]
    gap = (south - north).dropna()
    # Inside the band of the fee: equal to it when rights cross, less in autarky.
    assert ((gap <= 100.0 + 1e-6) & (gap >= -100.0 - 1e-6)).all()
    assert (np.abs(gap - 100.0) < 1e-6).any()


def test_a_fee_of_zero_gives_the_county_market(two_regions):
    free = simulate(apply_changes(two_regions, {"markets.energy.between_regions": "fee"}))
    county = simulate(two_regions)
    pick = ("quota_price_yuan_per_unit", "quota_volume")
    a = free.metrics[free.metrics["metric"].isin(pick)
                     & (free.metrics["group"] == "market=energy")]["value"].to_numpy()
    b = county.metrics[county.metrics["metric"].isin(pick)
                       & (county.metrics["group"] == "market=energy")]["value"].to_numpy()
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    assert "quota_imports" not in set(county.metrics["metric"])


def test_one_region_leaves_the_switch_without_effect():
    small = load_scenario(ROOT / "tests" / "scenarios" / "small.yaml")
    small = apply_changes(small, {"run.end": "2017-12", "timeline": []})
    walled = apply_changes(small, {"markets.emissions.cod.between_regions": "not_allowed"})
    a, b = simulate(small).metrics, simulate(walled).metrics
    assert a["value"].equals(b["value"])


def test_the_price_figure_draws_each_region_where_prices_differ(apart):
    from simulator.plots import plot_market_prices
    from simulator.plots.markets import region_prices

    wide = region_prices(apart, "energy")
    assert list(wide.columns) == ["year", "month", "x", "north", "south"]
    fig = plot_market_prices(apart)
    drawn = {(ax.get_label(), line.get_gid()) for ax in fig.axes for line in ax.get_lines()
             if (line.get_gid() or "").startswith("region_price_")}
    # Energy (a fee) and COD (not allowed) have regional prices; the other markets trade
    # county-wide and draw none.
    assert drawn == {(f"price:{m}", f"region_price_{r}") for m in ("energy", "cod")
                     for r in ("north", "south")}


def test_a_run_apart_conserves_rights_and_books_the_fee_as_government_receipts(apart):
    # The ledger checks rights and money at every year end of the run (it raises);
    # here the records agree: issued = held + reserve + surrendered + expired, summed
    # over the years, and the fee is among the government's fee receipts.
    for market in ("energy", "cod"):
        rows = apart[(apart["group"] == f"market={market}") & apart["month"].isna()]
        by = rows.pivot_table(index="year", columns="metric", values="value")
        issued = by["quota_issued"].cumsum()
        gone = by["quota_surrendered"].cumsum() + by["quota_expired"].cumsum()
        held = by["quota_held_year_end"] + by["reserve_held_year_end"]
        np.testing.assert_allclose(issued, held + gone, rtol=1e-9)
        assert (by["gov_fee_yuan"] >= by["quota_region_fee_yuan"] - 1e-6).all()


def test_firms_value_rights_at_their_regions_price(two_regions):
    # Investment values the rights a retrofit frees at the price the firm trades at.
    from simulator.engine.calendar import start

    state = start(apply_changes(two_regions, {
        "markets.energy.between_regions": "fee",
        "markets.energy.region_fee_yuan_per_unit": 100.0}), replication=0)
    split, county = state.markets["energy"], state.markets["nox"]
    assert split.regional
    assert not county.regional
    split.region_price[:] = [300.0, 400.0]
    np.testing.assert_array_equal(split.firm_price(state.firms),
                                  np.where(state.firms.region == 0, 300.0, 400.0))
    county.last_price = 50.0
    np.testing.assert_array_equal(county.firm_price(state.firms), np.full(state.firms.n, 50.0))

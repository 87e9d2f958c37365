"""Who set each auction's price: the market, the floor, the ceiling, a reserve price."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulator import apply_changes, load_scenario, simulate
from simulator.markets.reserve import PRICE_SETTERS, Steps

ROOT = Path(__file__).resolve().parents[2]


def test_the_order_priced_at_the_clearing_price_set_it():
    steps = Steps()
    steps.add(50_000, 10.0, False, "penalty", reserve=False)
    steps.add(4_000, 5.0, False, "reserve")
    steps.add(20_000, 5.0, False, "ceiling")
    steps.add(2_000, 100.0, True, "floor")
    assert steps.setter(4_000.0) == "reserve"
    assert steps.setter(2_000.0 * (1 + 1e-12)) == "floor"
    assert steps.setter(3_123.4) == "market"
    steps.add(1_000, 0.0, False, "reserve")  # an empty order is left out
    assert len(steps.prices) == 4


def _market(small, **reserve):
    other = ("nh3n", "so2", "nox")
    return apply_changes(small, {
        "markets.energy.enabled": False, "dynamics.enabled": False, "timeline": [],
        **{f"markets.emissions.{p}.enabled": False for p in other},
        "markets.emissions.cod.reserve": {"share_of_cap": 0.2, "sells_unallocated": False,
                                          "auction_share": 0.0, "releases": [], **reserve}})


def _setters(metrics):
    rows = metrics[(metrics["metric"] == "quota_price_setter") & metrics["month"].notna()]
    codes = rows["value"].dropna().astype(int)
    return [PRICE_SETTERS[k] for k in codes]


@pytest.fixture(scope="module")
def small():
    return load_scenario(ROOT / "tests" / "scenarios" / "small.yaml")


def test_a_cheap_reserve_lot_in_every_auction_pins_the_price(small):
    # The reserve withholds a fifth of the cap and offers all it holds at 2,000 in every
    # auction; at 2,000 firms abate a few percent of their use, so they buy less than the
    # lot: every auction clears at the lot's price.
    s = apply_changes(_market(small, auction_share=1.0, auction_reserve_price_yuan_per_unit=2000.0),
                      {"markets.emissions.cod.cap.first_year_share_of_baseline": 1.0})
    m = simulate(s).metrics
    first = m[m["year"] == 2017]
    scheduled = first[first["month"] < 12]  # the compliance auction has no lot
    assert _setters(scheduled) == ["reserve"] * 4
    prices = scheduled[scheduled["metric"] == "quota_price_yuan_per_unit"]
    assert np.allclose(prices["value"].dropna(), 2000.0)
    share = first[first["month"].isna() & (first["metric"] == "auctions_administrative_share")]
    assert share["value"].tolist() == [1.0]


def test_a_release_above_the_market_price_leaves_pricing_to_the_firms(small):
    # A flat cap and no growth: the scheduled auctions clear on the firms' MAC curves,
    # far below the trigger.
    s = apply_changes(_market(small, share_of_cap=0.05, releases=[
        {"trigger_price_yuan_per_unit": 19_000.0, "share": 0.5}]),
        {"markets.emissions.cod.cap": {"first_year_share_of_baseline": 1.0},
         "behaviour.potential_growth_by_year": {}})
    m = simulate(s).metrics
    m = m[m["month"] < 12]
    setters = _setters(m)
    assert "market" in setters
    assert "reserve" not in setters
    prices = m[(m["metric"] == "quota_price_yuan_per_unit") & m["month"].notna()]["value"]
    assert np.nanmax(prices) < 19_000.0


def test_unallocated_rights_are_auctioned_down_to_the_floor_and_never_below(small):
    # A cap far above use: the headroom sells at the floor, which sets the price.
    s = apply_changes(_market(small, sells_unallocated=True, share_of_cap=0.05),
                      {"markets.emissions.cod.cap.first_year_share_of_baseline": 2.0})
    m = simulate(s).metrics
    prices = m[(m["metric"] == "quota_price_yuan_per_unit") & m["month"].notna()]["value"]
    floor = s.markets.emissions["cod"].price.floor_yuan_per_unit
    assert np.nanmin(prices) >= floor * (1 - 1e-9)
    assert _setters(m).count("floor") >= 1

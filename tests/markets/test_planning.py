"""Cap planning: the least-cost price of a cap and the cap of a target price."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator import apply_changes, load_scenario, simulate
from simulator.markets.planning import (
    least_cost_price,
    plan_caps,
    project_market,
    rights_for_price,
    scaled_to,
)

ROOT = Path(__file__).resolve().parents[2]


def test_two_firms_clear_at_montgomerys_price():
    # p* = (sum e - R) / sum(1/c) = (160 - 140) / (1/10 + 1/20) = 133.33
    need, inv, reach = np.array([100.0, 60.0]), np.array([0.1, 0.05]), np.array([50.0, 30.0])
    assert least_cost_price(need, inv, reach, 140.0) == pytest.approx(400 / 3)
    assert least_cost_price(need, inv, reach, 160.0) == 0.0      # no gap
    assert least_cost_price(need, inv, reach, 200.0) == 0.0      # slack
    assert least_cost_price(need, inv, reach, 70.0) == np.inf    # 90 > the most they abate


def test_a_firm_at_its_bound_leaves_the_rest_to_the_others():
    # Firm 1 can abate 5 at most (its kink is at p = 50); a gap of 20 makes the other
    # abate 15: p = 15 / 0.05 = 300, above firm 1's kink.
    need, inv, reach = np.array([100.0, 60.0]), np.array([0.1, 0.05]), np.array([5.0, 30.0])
    assert least_cost_price(need, inv, reach, 140.0) == pytest.approx(300.0)


@given(st.lists(st.tuples(st.floats(1, 1e4), st.floats(1e-4, 10), st.floats(0.0, 0.9)),
                min_size=1, max_size=30),
       st.floats(0.0, 1.0))
def test_rights_for_price_inverts_least_cost_price(firms, gap_share):
    need = np.array([f[0] for f in firms])
    inv = np.array([f[1] for f in firms])
    reach = need * np.array([f[2] for f in firms])
    rights = need.sum() - gap_share * reach.sum()
    price = least_cost_price(need, inv, reach, rights)
    if reach.sum() == 0 or gap_share == 0:
        assert price == 0.0
        return
    assert np.isfinite(price)
    assert rights_for_price(need, inv, reach, price) == pytest.approx(rights, rel=1e-9,
                                                                       abs=1e-9)


def _plain(quota: str):
    # A market without reserve, bounds, banking, allocation factors or turnover: the
    # least-cost condition alone.
    s = load_scenario(ROOT / "tests" / "scenarios" / "small.yaml")
    other = [p for p in ("cod", "nh3n", "so2", "nox") if p != quota]
    return apply_changes(s, {
        "timeline": [], "dynamics.enabled": False, "markets.energy.enabled": False,
        **{f"markets.emissions.{p}.enabled": False for p in other},
        f"markets.emissions.{quota}.scope_min_use_per_year": 0.0,
        f"markets.emissions.{quota}.reserve": {"share_of_cap": 0.0, "sells_at_ceiling": False,
                                               "buys_at_floor": False, "auction_share": 0.0},
        f"markets.emissions.{quota}.price": {"floor_yuan_per_unit": 0.0,
                                             "ceiling_yuan_per_unit": 1e6},
        f"markets.emissions.{quota}.banking": False,
        # firms' claims in full (no class or intensity factors left to the reserve)
        f"markets.emissions.{quota}.allocation": {"class_factor": {c: 1.0 for c in "ABCD"},
                                                  "intensity_factors": []},
        # a first-year cap below the firms' claims, so that the whole cap is in their hands
        f"markets.emissions.{quota}.cap.first_year_share_of_baseline": 0.99,
        f"markets.emissions.{quota}.absent_share": 0.0,
    })


def _first_auction_prices(metrics, quota):
    rows = metrics[(metrics["metric"] == "quota_price_yuan_per_unit")
                   & (metrics["group"] == f"market={quota}") & (metrics["month"] == 1)]
    return rows.set_index("year")["value"]


def test_the_full_run_clears_at_the_planned_price_of_each_cap():
    s = _plain("cod")
    plan = plan_caps(project_market(s, "cod")).set_index("year")
    prices = _first_auction_prices(simulate(s).metrics, "cod")
    for year, row in plan.iterrows():
        if 0 < row["price"] < np.inf:
            assert prices[year] == pytest.approx(row["price"], rel=1e-6), year


def test_the_cap_planned_for_a_target_price_lands_there_in_the_full_run():
    # Targets 30% above the prices of the scenario's own caps (within an emission-rights
    # term, entitlements only scale down with the cap, so targets need tighter caps).
    s = _plain("so2")
    own = plan_caps(project_market(s, "so2")).set_index("year")["price"]
    targets = {y: 1.3 * float(own[y]) for y in (2018, 2019, 2020)}
    assert all(0 < t < np.inf for t in targets.values())
    plan = plan_caps(project_market(s, "so2"), target_prices=targets).set_index("year")
    index = {2017: 1.0, **{y: float(plan.loc[y, "index_for_target"]) for y in targets}}
    s2 = apply_changes(s, {"markets.emissions.so2.cap.index_by_year": index})
    prices = _first_auction_prices(simulate(s2).metrics, "so2")
    for year, target in targets.items():  # tolerance 1e-6 relative: nothing else intervenes
        assert prices[year] == pytest.approx(target, rel=1e-6), year


def test_a_runs_unabated_use_rescales_the_projection():
    s = _plain("cod")
    p = project_market(s, "cod")
    total = {y: 0.5 * float(n.sum()) for y, n in zip(p.years, p.need, strict=True)}
    half = scaled_to(p, total)
    for k in range(len(p.years)):
        np.testing.assert_allclose(half.need[k], 0.5 * p.need[k])
        np.testing.assert_allclose(half.reach[k], 0.5 * p.reach[k])

"""The state a run assumes before its first year is a scenario field, and is recorded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulator import apply_changes, load_scenario, simulate
from simulator.engine import calendar
from simulator.firms import CLASS_CODES
from simulator.scenario import ScenarioError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def small():
    return load_scenario(ROOT / "tests" / "scenarios" / "small.yaml")


def _sim(scenario):
    return calendar.start(scenario, replication=0)


def _first_year(metrics, metric):
    rows = metrics[(metrics["metric"] == metric) & metrics["month"].isna()]
    return rows.set_index("group")["value"]


def test_years_in_d_are_drawn_in_the_stated_range_and_recorded(small):
    s = apply_changes(small, {"initial_state.years_in_d": {"min": 1, "max": 3}})
    sim = _sim(s)
    f = sim.firms
    d = f.klass == CLASS_CODES["D"]
    assert d.any()
    assert set(np.unique(f.consecutive_d_years[d])) <= {1, 2, 3}
    assert (f.consecutive_d_years[~d] == 0).all()
    # dynamics counts the same history towards the exit of D firms not rectified in time
    np.testing.assert_array_equal(f.rectification_years, f.consecutive_d_years)
    counts = _first_year(sim.recorder.frame(), "initial_years_in_d_firms")
    assert list(counts.index) == ["years=1", "years=2", "years=3"]
    assert counts.sum() == d.sum()
    assert counts["years=2"] == np.count_nonzero(f.consecutive_d_years == 2)


def test_by_default_no_d_firm_exits_in_the_first_year_for_an_invented_history(small):
    # Firms in D at the start have one year in D (the evaluation that put them there); with
    # a grace of three years none can fail rectification before the end of 2019.
    s = apply_changes(small, {"initial_state.years_in_d": {"min": 1, "max": 1}})
    m = simulate(s).metrics
    exits = m[(m["metric"] == "exits") & (m["group"] == "reason=d_grace")].set_index("year")
    assert exits.loc[2017, "value"] == 0
    assert exits.loc[2018, "value"] == 0
    # and with three years behind them, the first-year exits appear: the field decides
    s3 = apply_changes(small, {"initial_state.years_in_d": {"min": 3, "max": 3}})
    m3 = simulate(s3).metrics
    e3 = m3[(m3["metric"] == "exits") & (m3["group"] == "reason=d_grace")].set_index("year")
    assert e3.loc[2017, "value"] > 0


def test_banked_rights_come_on_top_of_the_first_allocation(small):
    s = apply_changes(small, {"initial_state.banked_share_of_allocation.cod": 0.1,
                              "timeline": []})
    sim = _sim(s)
    calendar.allocation(sim, 2017)
    market = sim.markets["cod"]
    np.testing.assert_allclose(market.ledger.holdings, market.allocation * 1.1, rtol=1e-12)
    banked = _first_year(sim.recorder.frame(), "initial_banked_rights")
    assert banked["market=cod"] == pytest.approx(0.1 * market.allocation.sum())
    assert banked["market=nh3n"] == 0.0


def test_the_initial_state_is_checked_and_fixed_at_the_start(small, tmp_path):
    with pytest.raises(ScenarioError, match="at least 1 year"):
        apply_changes(small, {"initial_state.years_in_d": {"min": 0, "max": 2}})
    with pytest.raises(ScenarioError, match="min 3 is above max 1"):
        apply_changes(small, {"initial_state.loss_years": {"min": 3, "max": 1}})
    with pytest.raises(ScenarioError, match="cannot change during a run"):
        apply_changes(small, {"timeline": [{"date": "2018-01",
                                            "set": {"initial_state.years_in_d.max": 2}}]})

"""Energy dual control (能耗双控) binding on new projects: paths, screening, the calendar."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.dynamics import dualcontrol
from simulator.engine import simulate
from simulator.scenario import apply_changes, load_scenario
from simulator.scenario.landcontracts import DualControlSpec

ROOT = Path(__file__).resolve().parents[1]


def test_path_falls_by_the_decline_and_the_total_grows():
    spec = DualControlSpec(mode="refuse", intensity_decline_per_year=0.1,
                           initial_target_share=0.9, total_growth_per_year=0.02)
    intensity, total = dualcontrol.path(np.array([0.5, 1.0]), np.array([100.0, 50.0]), 3,
                                        spec=spec)
    assert intensity == pytest.approx([0.5 * 0.9 * 0.9**3, 0.9 * 0.9**3])
    assert total == pytest.approx([100 * 0.9 * 1.02**3, 50 * 0.9 * 1.02**3])
    _, unbounded = dualcontrol.path(np.ones(1), np.ones(1), 3, spec=DualControlSpec())
    assert np.isinf(unbounded).all()


def test_default_decline_is_the_fourteenth_plan_cut():
    # 13.5% over five years (十四五规划纲要).
    assert (1 - DualControlSpec().intensity_decline_per_year) ** 5 == pytest.approx(0.865,
                                                                                  abs=1e-3)


def test_refuse_mode_turns_away_every_project_in_a_region_above_its_path():
    allowed, charge = dualcontrol.screen(
        np.array([True, False]), np.array([0, 1, 0, 1]), np.full(4, 100.0), np.full(4, 1e6),
        spec=DualControlSpec(mode="refuse"))
    assert allowed.tolist() == [False, True, False, True]
    assert charge.tolist() == [0.0] * 4


def test_price_mode_charges_the_energy_and_lets_the_unprofitable_withdraw():
    spec = DualControlSpec(mode="price", purchase_price_yuan_per_tce=800, payback_years=2)
    allowed, charge = dualcontrol.screen(
        np.array([True, False]), np.array([0, 0, 1]), np.array([100.0, 100.0, 100.0]),
        np.array([40_000.0, 39_999.0, -5.0]), spec=spec)
    # 800 x 100 = 80,000 yuan; two years of 40,000 pay it, of 39,999 do not.
    assert allowed.tolist() == [True, False, True]
    assert charge.tolist() == [80_000.0, 0.0, 0.0]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.floats(0, 1e5), st.floats(-1e6, 1e7)),
                min_size=1, max_size=30),
       st.lists(st.booleans(), min_size=3, max_size=3), st.floats(0, 5000), st.floats(0, 5000))
def test_price_screen_is_monotone_in_the_price_and_spares_regions_on_path(projects, above,
                                                                         low, high):
    region, energy, profit = (np.array(c) for c in zip(*projects, strict=True))
    above = np.array(above)
    low, high = sorted((low, high))
    ok_low, pay_low = dualcontrol.screen(above, region, energy, profit, spec=DualControlSpec(
        mode="price", purchase_price_yuan_per_tce=low))
    ok_high, pay_high = dualcontrol.screen(above, region, energy, profit, spec=DualControlSpec(
        mode="price", purchase_price_yuan_per_tce=high))
    assert (ok_high <= ok_low).all()  # a higher price never admits more projects
    assert ok_low[~above[region]].all()
    assert (pay_low[~above[region]] == 0).all()
    assert (pay_high >= 0).all()
    assert (pay_high[~ok_high] == 0).all()
    assert (pay_high <= 5.0 * np.maximum(profit, 0) + 1e-6).all()


class _Recorder:
    def __init__(self) -> None:
        self.rows: list[tuple] = []

    def add(self, year, month, groups, metric, values) -> None:
        self.rows.extend((year, g, metric, v) for g, v in zip(groups, values, strict=True))


def test_update_sets_the_path_at_the_first_year_and_flags_regions_above_it():
    base = load_scenario(ROOT / "tests" / "scenarios" / "small.yaml")
    params = apply_changes(base, {
        "population.regions": [{"name": "a", "share": 0.5}, {"name": "b", "share": 0.5}],
        "dynamics.dual_control.mode": "refuse",
        "dynamics.dual_control.intensity_decline_per_year": 0.1})
    firms = SimpleNamespace(region=np.array([0, 0, 1]), ytd={
        "energy_tce": np.array([50.0, 50.0, 100.0]), "va_wan_yuan": np.array([100.0, 100.0,
                                                                              100.0])})
    state = SimpleNamespace(params=params, firms=firms, recorder=_Recorder(),
                            dynamics=SimpleNamespace(dual_control=None))
    assert dualcontrol.update(state, 2017).tolist() == [False, False]  # the path starts here
    # 2018: region a cuts its intensity 20% (0.4 < 0.45 on the path); b stays at 1.0 > 0.9.
    firms.ytd["energy_tce"] = np.array([40.0, 40.0, 100.0])
    assert dualcontrol.update(state, 2018).tolist() == [False, True]
    rows = {(y, g, m): v for y, g, m, v in state.recorder.rows}
    assert rows[(2018, "region=b", "energy_intensity_path_tce_per_wan_yuan")] == pytest.approx(0.9)
    assert rows[(2018, "all", "energy_intensity_region_tce_per_wan_yuan")] == pytest.approx(0.6)
    assert rows[(2018, "region=b", "dual_control_above_path")] == 1.0


def annual(metrics: pd.DataFrame, metric: str, group: str = "all") -> pd.Series:
    sel = metrics[metrics["month"].isna() & (metrics["metric"] == metric)
                  & (metrics["group"] == group)]
    return sel.set_index("year")["value"]


@pytest.mark.parametrize("mode", ["refuse", "price"])
def test_a_region_always_above_its_path_admits_no_refused_project(mode):
    s = load_scenario(ROOT / "scenarios" / "dual_control.yaml")
    s = apply_changes(s, {"population.n_industrial": 150, "population.n_services": 30,
                          "run.start": "2017-01", "run.end": "2019-12",
                          "dynamics.dual_control.mode": mode,
                          "dynamics.dual_control.initial_target_share": 0.5,
                          "dynamics.dual_control.purchase_price_yuan_per_tce": 1e6})
    m = simulate(s).metrics
    assert (annual(m, "dual_control_above_path") == 1.0).all()
    refused = annual(m, "projects_refused_dual_control")
    assert refused.sum() > 0
    # Every candidate meeting the standards is refused (or withdraws at 1e6 yuan/tce).
    meeting = (annual(m, "entry_candidates") - annual(m, "entry_rejected_standards"))
    assert refused.to_numpy() == pytest.approx(meeting.to_numpy())
    assert (annual(m, "entries") == 0).all()
    assert (annual(m, "dual_control_purchase_yuan") == 0).all()


def test_priced_energy_lets_projects_in_and_the_government_receives_the_purchase():
    s = load_scenario(ROOT / "scenarios" / "dual_control.yaml")
    s = apply_changes(s, {"population.n_industrial": 150, "population.n_services": 30,
                          "run.start": "2017-01", "run.end": "2019-12",
                          "dynamics.dual_control.mode": "price",
                          "dynamics.dual_control.initial_target_share": 0.5,
                          "dynamics.dual_control.purchase_price_yuan_per_tce": 1.0})
    m = simulate(s).metrics
    assert annual(m, "projects_refused_dual_control").sum() == 0
    assert annual(m, "entries").sum() > 0
    assert annual(m, "dual_control_purchase_yuan").sum() > 0


def test_the_dual_control_figure_draws_the_path_and_the_refusals():
    from simulator.plots.landcontracts import contract_figures, plot_dual_control

    rows = [(y, None, "all", m, v) for y, m, v in [
        (2017, "energy_intensity_region_tce_per_wan_yuan", 0.7),
        (2017, "energy_intensity_path_tce_per_wan_yuan", 0.68),
        (2017, "projects_refused_dual_control", 4.0), (2017, "entries", 0.0),
        (2018, "energy_intensity_region_tce_per_wan_yuan", 0.6),
        (2018, "energy_intensity_path_tce_per_wan_yuan", 0.66),
        (2018, "projects_refused_dual_control", 0.0), (2018, "entries", 5.0)]]
    m = pd.DataFrame(rows, columns=["year", "month", "group", "metric", "value"])
    m["replication"], m["scenario"] = 0, "dual_control"
    assert contract_figures(m) == ["dual_control"]
    fig = plot_dual_control(m)
    top, bottom = fig.axes
    assert [list(line.get_ydata()) for line in top.get_lines()] == [[0.7, 0.6], [0.68, 0.66]]
    assert [p.get_height() for p in bottom.patches] == [4.0, 0.0, 0.0, 5.0]

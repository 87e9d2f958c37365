"""Growth of potentials, employment and intensities between years (simulator/growth.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulator import apply_changes, load_scenario, simulate
from simulator.dynamics.growth import Frontier, grow
from simulator.engine import calendar
from simulator.scenario import BehaviourSpec

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def small():
    return load_scenario(ROOT / "tests" / "scenarios" / "small.yaml")


def annual(metrics, metric, group="all"):
    sel = metrics[metrics["month"].isna() & (metrics["metric"] == metric)
                  & (metrics["group"] == group)]
    return sel.set_index("year")["value"]


def test_growth_rates_are_in_force_from_their_year_until_the_next():
    b = BehaviourSpec(potential_growth_per_year=0.01,
                      potential_growth_by_year={2018: 0.08, 2021: 0.03},
                      labour_productivity_growth_by_year={2019: 0.05})
    assert [b.potential_growth(y) for y in (2017, 2018, 2020, 2021, 2030)] == [
        0.01, 0.08, 0.08, 0.03, 0.03]
    assert [b.labour_productivity_growth(y) for y in (2018, 2019, 2025)] == [0.0, 0.05, 0.05]


def test_intensity_changes_by_year_replace_only_the_quotas_they_name():
    b = BehaviourSpec(intensity_change_per_year={"energy": 0.02, "cod": -0.04, "nox": -0.02},
                      intensity_change_by_year={2021: {"cod": -0.01}, 2024: {"nox": 0.0}})
    assert b.intensity_change(2020) == (0.02, -0.04, 0.0, 0.0, -0.02)
    assert b.intensity_change(2021) == (0.02, -0.01, 0.0, 0.0, -0.02)
    assert b.intensity_change(2030) == (0.02, -0.01, 0.0, 0.0, 0.0)


def test_grow_scales_potentials_employees_and_intensities_by_hand(small):
    f = calendar.start(small, replication=0).firms
    before = {k: np.array(getattr(f, k), copy=True) for k in (
        "va_wan_yuan", "revenue_wan_yuan", "water_quota_m3", "capacity_kva", "employees",
        "energy_tce_per_wan_yuan", "emission_t_per_wan_yuan", "land_mu")}
    b = BehaviourSpec(potential_growth_by_year={2018: 0.08},
                      labour_productivity_growth_by_year={2018: 0.05},
                      intensity_change_per_year={"energy": -0.04, "cod": -0.1, "nox": 0.02})
    frontier = Frontier()
    grow(f, b, 2018, frontier)
    for k in ("va_wan_yuan", "revenue_wan_yuan", "water_quota_m3", "capacity_kva"):
        np.testing.assert_allclose(getattr(f, k), before[k] * 1.08, rtol=1e-15)
    np.testing.assert_allclose(f.employees, before["employees"] * 1.08 / 1.05, rtol=1e-15)
    np.testing.assert_allclose(f.energy_tce_per_wan_yuan,
                               before["energy_tce_per_wan_yuan"] * 0.96, rtol=1e-15)
    np.testing.assert_allclose(f.emission_t_per_wan_yuan,
                               before["emission_t_per_wan_yuan"] * [0.9, 1.0, 1.0, 1.02],
                               rtol=1e-15)
    np.testing.assert_array_equal(f.land_mu, before["land_mu"])  # land does not grow
    assert frontier.output == pytest.approx(1.08)
    assert frontier.employees == pytest.approx(1.08 / 1.05)
    np.testing.assert_allclose(frontier.intensity, [0.96, 0.9, 1.0, 1.0, 1.02])
    # From a year listed in intensity_change_by_year, the named quotas change at the new rate.
    later = BehaviourSpec.model_validate({**b.model_dump(),
                                          "intensity_change_by_year": {2019: {"cod": 0.0}}})
    grow(f, later, 2019, frontier)
    np.testing.assert_allclose(frontier.intensity, [0.96**2, 0.9, 1.0, 1.0, 1.02**2])


def test_frontier_brings_entrants_to_the_year_of_entry(small):
    f = calendar.start(small, replication=0).firms
    va, emp = f.va_wan_yuan.copy(), f.employees.copy()
    energy, em = f.energy_tce_per_wan_yuan.copy(), f.emission_t_per_wan_yuan.copy()
    frontier = Frontier(output=1.2, employees=1.1,
                        intensity=np.array([0.8, 0.7, 0.9, 1.0, 1.1]))
    frontier.scale(f)
    np.testing.assert_allclose(f.va_wan_yuan, va * 1.2)
    np.testing.assert_allclose(f.employees, emp * 1.1)
    np.testing.assert_allclose(f.energy_tce_per_wan_yuan, energy * 0.8)
    np.testing.assert_allclose(f.emission_t_per_wan_yuan, em * [0.7, 0.9, 1.0, 1.1])


def test_without_dynamics_or_markets_value_added_follows_the_growth_path(small):
    # With nothing but growth moving output (no exits, entry, upgrades, markets, prices or
    # shocks), total VA grows exactly at the scenario's rates.
    s = apply_changes(small, {
        "dynamics.enabled": False, "behaviour.output_response": False,
        "behaviour.shock.sigma": 0.0, "markets.energy.enabled": False,
        **{f"markets.emissions.{p}.enabled": False for p in ("cod", "nh3n", "so2", "nox")},
        "behaviour.potential_growth_by_year": {2018: 0.10, 2019: 0.05},
        "behaviour.intensity_change_per_year": {"energy": -0.03}, "timeline": []})
    m = simulate(s).metrics
    va = annual(m, "va_wan_yuan")
    energy = annual(m, "energy_tce")
    assert va[2018] / va[2017] == pytest.approx(1.10, rel=1e-9)
    assert va[2019] / va[2018] == pytest.approx(1.05, rel=1e-9)
    assert va[2020] / va[2019] == pytest.approx(1.05, rel=1e-9)
    assert energy[2018] / energy[2017] == pytest.approx(1.10 * 0.97, rel=1e-9)

"""Sector prices of issue 19: national differential by sector, orderly power use, water
rights by class, water-saving relief and environmental credit surcharges."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.engine.calendar import simulate
from simulator.plots.sector_prices import plot_sector_prices, sector_price_figures
from simulator.scenario import (
    ClassValues,
    ElectricityTariff,
    ScenarioError,
    TimeOfUse,
    WaterTariff,
    apply_changes,
    load_scenario,
)
from simulator.scenario.sector_prices import (
    EnvironmentalCredit,
    OrderlyPowerUse,
    WaterRights,
    WaterSaving,
)
from simulator.tariffs import electricity_bill, water_bill
from simulator.tariffs.credit import credit_ratings, credit_surcharge
from simulator.tariffs.orderly import orderly_cut, shortage_year
from simulator.tariffs.water_rights import class_water_quota, over_quota_m3, water_saving_relief

NAN = float("nan")
ROOT = Path(__file__).resolve().parents[1]


# --- national differential price by sector and status ---------------------------------

def _national(status, sector, by_sector):
    p = ElectricityTariff(time_of_use=TimeOfUse(enabled=False),
                          class_surcharge_yuan_per_kwh=ClassValues(),
                          national_differential_by_sector=by_sector)
    n = len(status)
    return electricity_bill(np.full(n, 1000.0), klass=[1] * n, consecutive_d_years=[0] * n,
                            capacity_kva=[100.0] * n, process_status=status,
                            unit_consumption=[NAN] * n, sector=sector,
                            sector_names=["textiles", "metals"], params=p)


def test_a_listed_sector_pays_its_own_national_differential_price():
    # 1,000 kWh at 0.75: metals eliminated +0.50 (发改价格〔2016〕2803号), textiles eliminated
    # the general +0.30, metals restricted +0.10, metals normal nothing.
    bill = _national([2, 2, 1, 0], [1, 0, 1, 1], {"metals": {"restricted": 0.10,
                                                             "eliminated": 0.50}})
    assert bill.national_yuan.tolist() == pytest.approx([500.0, 300.0, 100.0, 0.0])
    assert bill.total_yuan.tolist() == pytest.approx([1250.0, 1050.0, 850.0, 750.0])


def test_a_status_a_sector_leaves_out_keeps_the_general_price():
    bill = _national([1, 2], [1, 1], {"metals": {"eliminated": 0.50}})
    assert bill.national_yuan.tolist() == pytest.approx([100.0, 500.0])


def test_without_a_sector_table_every_sector_pays_the_general_prices():
    bill = _national([1, 2, 1, 2], [0, 0, 1, 1], {})
    assert bill.national_yuan.tolist() == pytest.approx([100.0, 300.0, 100.0, 300.0])


# --- orderly power use (有序用电) -------------------------------------------------------

def _plan(**kw):
    return OrderlyPowerUse(enabled=True, **kw)


def test_d_is_cut_first_then_c_up_to_its_maximum():
    # Demand 100 per class, cut 40% of 400 = 160: D all 100, C its maximum 50, B 10 of 100.
    cut = orderly_cut([100.0] * 4, klass=[0, 1, 2, 3], eligible=[True] * 4,
                      params=_plan(depth_share=0.4))
    assert cut.cut_share.tolist() == pytest.approx([0.0, 0.1, 0.5, 1.0])
    assert cut.class_cut_kwh.tolist() == pytest.approx([0.0, 10.0, 50.0, 100.0])
    assert cut.unmet_kwh == 0.0


def test_a_is_protected_and_what_the_classes_cannot_give_is_unmet():
    # Cut 90% of 400 = 360; D 100 + C 50 + B 30 = 180 at most: 180 kWh unmet.
    cut = orderly_cut([100.0] * 4, klass=[0, 1, 2, 3], eligible=[True] * 4,
                      params=_plan(depth_share=0.9))
    assert cut.cut_share.tolist() == pytest.approx([0.0, 0.3, 0.5, 1.0])
    assert cut.unmet_kwh == pytest.approx(180.0)


def test_services_are_not_cut_and_unrated_firms_are_cut_as_b():
    # Eligible demand 400 (the services firm's 100 is left out). Cut 37.5% = 150: D 100,
    # C 50, nothing from B and the unrated firm. Cut 50% = 200: B and unrated (one group of
    # 200 kWh) give the last 50, a quarter each.
    eligible = [True, True, True, False, True]
    klass = [3, 2, 1, 3, 4]
    demand = [100.0] * 5
    cut = orderly_cut(demand, klass=klass, eligible=eligible, params=_plan(depth_share=0.375))
    assert cut.cut_share.tolist() == pytest.approx([1.0, 0.5, 0.0, 0.0, 0.0])
    cut = orderly_cut(demand, klass=klass, eligible=eligible, params=_plan(depth_share=0.5))
    assert cut.cut_share.tolist() == pytest.approx([1.0, 0.5, 0.25, 0.0, 0.25])
    assert cut.class_cut_kwh.tolist() == pytest.approx([0.0, 50.0, 50.0, 100.0])


def test_proportional_rationing_cuts_every_class_alike():
    cut = orderly_cut([100.0, 300.0], klass=[0, 3], eligible=[True, True],
                      params=_plan(depth_share=0.1, proportional=True))
    assert cut.cut_share.tolist() == pytest.approx([0.1, 0.1])


@settings(max_examples=100, deadline=None)
@given(demand=st.lists(st.floats(0, 1e6), min_size=1, max_size=30),
       classes=st.lists(st.integers(0, 4), min_size=30, max_size=30),
       depth=st.floats(0, 1),
       caps=st.lists(st.floats(0, 1), min_size=4, max_size=4))
def test_orderly_use_never_cuts_a_higher_class_before_a_lower_one(demand, classes, depth, caps):
    n = len(demand)
    klass = np.array(classes[:n])
    plan = _plan(depth_share=depth, max_cut_share=ClassValues(**dict(zip("ABCD", caps,
                                                                          strict=True))))
    cut = orderly_cut(demand, klass=klass, eligible=np.ones(n, bool), params=plan)
    group = np.where(klass == 4, 1, klass)
    by_class = np.bincount(group, weights=demand, minlength=4)
    share = np.where(by_class > 0, cut.class_cut_kwh / np.where(by_class > 0, by_class, 1), 0)
    for lower in (3, 2, 1):  # D, C, B: a class above is cut only once this one is at its cap
        if by_class[lower] > 0 and any(share[k] > 1e-12 for k in range(lower)):
            assert share[lower] == pytest.approx(caps[lower])
    assert cut.class_cut_kwh.sum() + cut.unmet_kwh == pytest.approx(depth * sum(demand),
                                                                    rel=1e-9, abs=1e-6)
    assert np.all(cut.class_cut_kwh <= np.asarray(caps) * by_class * (1 + 1e-12) + 1e-9)
    # Each firm loses its class's share.
    assert np.allclose(cut.cut_share, share[group])


def test_a_listed_year_is_a_shortage_year_and_an_unlisted_one_draws_nothing_at_zero():
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    plan = _plan(years=[2018])
    assert shortage_year(2018, plan, rng)
    assert not shortage_year(2019, plan, rng)
    assert rng.bit_generator.state == state  # no draw taken
    assert shortage_year(2019, _plan(yearly_probability=1.0), rng)


def test_unknown_class_in_the_order_is_named():
    with pytest.raises(ValueError, match="only once"):
        OrderlyPowerUse(order=["D", "D"])


# --- water quotas by class (以水定产) and water-saving relief ----------------------------

_RIGHTS = WaterRights(quota_factor_by_class=ClassValues(A=1.0, B=1.0, C=0.9, D=0.8))


def test_a_d_firm_pays_over_quota_blocks_on_its_smaller_quota():
    # Base quota 100 m^3, use 100: the D quota is 80, so 80 x 3.5 + 16 x 3.5 x 1.5 +
    # 4 x 3.5 x 2 = 280 + 84 + 28 = 392 yuan; the A firm pays 350.
    quota = class_water_quota([100.0, 100.0], klass=[0, 3], certified=[False, False],
                              params=_RIGHTS)
    assert quota.tolist() == pytest.approx([100.0, 80.0])
    p = WaterTariff(class_sewage_surcharge_yuan_per_m3=ClassValues())
    bill = water_bill([100.0, 100.0], quota_m3=quota, klass=[0, 3], params=p)
    assert bill.total_yuan.tolist() == pytest.approx([350.0, 392.0])
    assert over_quota_m3([100.0, 100.0], quota).tolist() == pytest.approx([0.0, 20.0])


@settings(max_examples=100, deadline=None)
@given(use=st.floats(0, 1e5), quota=st.floats(1, 1e5))
def test_water_bills_are_monotone_in_class(use, quota):
    quotas = class_water_quota([quota] * 4, klass=[0, 1, 2, 3], certified=[False] * 4,
                               params=_RIGHTS)
    bill = water_bill([use] * 4, quota_m3=quotas, klass=[0, 1, 2, 3], params=WaterTariff())
    assert np.all(np.diff(bill.total_yuan) >= -1e-9 * max(1.0, bill.total_yuan.max()))


def test_certified_water_saving_firms_pay_part_of_the_resource_fee():
    # 1,000 m^3 at 0.2 yuan/m^3, certified firms pay 80% (Zhejiang 2021): 40 yuan relieved.
    relief = water_saving_relief([1000.0, 1000.0], certified=[True, False], params=_RIGHTS)
    assert relief.tolist() == pytest.approx([40.0, 0.0])
    bonus = WaterRights(water_saving=WaterSaving(quota_bonus_share=0.2))
    assert class_water_quota([100.0], klass=[2], certified=[True],
                             params=bonus).tolist() == pytest.approx([120.0])


def test_unrated_firms_keep_their_quota():
    assert class_water_quota([100.0], klass=[4], certified=[False],
                             params=_RIGHTS).tolist() == [100.0]


# --- environmental credit ratings (环保信用评价) -----------------------------------------

def test_ratings_follow_the_cumulative_shares():
    shares = EnvironmentalCredit().shares.as_tuple()  # 414, 498, 94, 40, 18 of 1,064
    edges = np.cumsum(shares) / sum(shares)
    u = np.array([0.0, edges[0] - 1e-9, edges[0], edges[3] - 1e-9, edges[3], 0.999999])
    assert credit_ratings(u, shares).tolist() == [0, 0, 1, 3, 4, 4]
    many = credit_ratings(np.random.default_rng(1).random(200_000), shares)
    assert np.bincount(many, minlength=5) / many.size == pytest.approx(
        np.asarray(shares) / sum(shares), abs=0.005)


def test_red_and_black_firms_pay_the_jiangsu_surcharges():
    # 10,000 kWh and 1,000 m^3 of a green, a red and a black firm: red 500 + 600 yuan,
    # black 1,000 + 1,000 yuan.
    p = EnvironmentalCredit(enabled=True)
    rating = [0, 3, 4]
    kwh = credit_surcharge([1e4] * 3, rating, p.electricity_surcharge_yuan_per_kwh.as_tuple())
    m3 = credit_surcharge([1e3] * 3, rating, p.sewage_surcharge_yuan_per_m3.as_tuple())
    assert kwh.tolist() == pytest.approx([0.0, 500.0, 1000.0])
    assert m3.tolist() == pytest.approx([0.0, 600.0, 1000.0])


def test_all_zero_rating_shares_are_refused():
    with pytest.raises(ValueError, match="must not all be 0"):
        EnvironmentalCredit(shares={"green": 0})


# --- in a run ------------------------------------------------------------------------------

_SMALL = {"population.n_industrial": 150, "population.n_services": 20, "run.end": "2018-12",
          "dynamics.enabled": False}


@cache
def _run(name: str, **changes):
    scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    scenario = apply_changes(scenario, {**_SMALL, **changes})
    return simulate(scenario, replication=0).metrics


def _metric(metrics, name, year, group="all"):
    rows = metrics[(metrics.metric == name) & (metrics.year == year) & (metrics.group == group)
                   & metrics.month.isna()]  # the annual row
    (value,) = rows.value
    return float(value)


def test_orderly_use_cuts_in_shortage_years_only_and_never_class_a():
    m = _run("sector_prices")
    assert _metric(m, "orderly_curtailed_kwh", 2017) == 0.0
    assert _metric(m, "orderly_curtailed_kwh", 2018) > 0.0
    assert _metric(m, "orderly_curtailed_kwh", 2018, "class=A") == 0.0
    assert _metric(m, "orderly_lost_va_wan_yuan", 2018, "class=D") > 0.0


@pytest.mark.parametrize("metric", ["orderly_curtailed_kwh", "orderly_lost_va_wan_yuan",
                                    "water_over_quota_m3", "water_saving_relief_yuan",
                                    "revenue_environmental_credit_yuan"])
def test_the_total_is_the_sum_over_classes(metric):
    m = _run("sector_prices")
    for year in (2017, 2018):
        parts = sum(_metric(m, metric, year, f"class={c}") for c in "ABCDU")
        assert _metric(m, metric, year) == pytest.approx(parts, rel=1e-12, abs=1e-9)


def test_differential_revenue_adds_credit_surcharges_and_subtracts_water_relief():
    m = _run("sector_prices")
    for year in (2017, 2018):
        parts = sum(_metric(m, f"revenue_{k}", year) for k in (
            "electricity_class_surcharge_yuan", "electricity_national_tiered_yuan",
            "water_surcharge_yuan", "pollution_surcharge_yuan", "gas_class_surcharge_yuan",
            "environmental_credit_yuan"))
        parts -= _metric(m, "land_tax_relief_yuan", year)
        parts -= _metric(m, "water_saving_relief_yuan", year)
        assert _metric(m, "differential_revenue_yuan", year) == pytest.approx(parts, rel=1e-12)


def test_a_credit_rating_with_no_surcharge_changes_nothing_else():
    # The ratings are drawn from their own stream: with zero surcharges every other number
    # is what the run without ratings gives.
    credit = "tariffs.environmental_credit"
    zero = {f"{credit}.{price}.{rating}": 0 for rating in ("red", "black")
            for price in ("electricity_surcharge_yuan_per_kwh", "sewage_surcharge_yuan_per_m3")}
    off = _run("baseline")
    on = _run("baseline", **{f"{credit}.enabled": True, **zero})
    on = on[on.metric != "revenue_environmental_credit_yuan"].reset_index(drop=True)
    assert on[["year", "group", "metric"]].equals(off[["year", "group", "metric"]])
    assert np.array_equal(on.value.to_numpy(), off.value.to_numpy(), equal_nan=True)


def test_credit_revenue_is_the_rate_times_the_kwh_and_m3_billed():
    # Every firm red, 1 yuan per kWh and 1,000 yuan per m^3: the revenue is the
    # industrial firms' kWh + 1,000 x their m^3, year by year.
    credit = "tariffs.environmental_credit"
    m = _run("baseline", **{f"{credit}.enabled": True,
                            **{f"{credit}.shares.{r}": 0.0 for r in ("green", "blue", "yellow",
                                                                     "black")},
                            f"{credit}.electricity_surcharge_yuan_per_kwh.red": 1.0,
                            f"{credit}.sewage_surcharge_yuan_per_m3.red": 1000.0})
    for year in (2017, 2018):
        expected = (_metric(m, "electricity_kwh", year)
                    + 1000.0 * _metric(m, "water_m3", year))
        assert _metric(m, "revenue_environmental_credit_yuan", year) == pytest.approx(
            expected, rel=1e-9)


def test_an_unknown_sector_in_the_national_table_is_named(tmp_path):
    path = tmp_path / "national.yaml"
    path.write_text(f"extends: {ROOT / 'scenarios' / 'baseline.yaml'}\n"
                    "tariffs:\n  electricity:\n    national_differential_by_sector:\n"
                    "      steel: {eliminated: 0.5}\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"unknown sector 'steel'"):
        load_scenario(path)


def test_the_default_scenario_writes_none_of_these_metrics():
    m = _run("baseline")
    assert not set(m.metric) & {"orderly_curtailed_kwh", "water_over_quota_m3",
                                "revenue_environmental_credit_yuan"}


# --- the figure ------------------------------------------------------------------------------

def _rows(metric, values):
    return pd.DataFrame({"year": [2018] * len(values), "month": np.nan, "replication": 0,
                         "scenario": "s", "group": [f"class={c}" for c in "ABCD"][:len(values)],
                         "metric": metric, "value": values})


def test_the_figure_has_one_panel_per_mechanism_present():
    m = pd.concat([_rows("orderly_curtailed_kwh", [0.0, 0.0, 2e6, 4e6]),
                   _rows("revenue_gas_class_surcharge_yuan", [0.0, 0.0, 0.0, 3e4])])
    assert sector_price_figures(m) == ["sector_prices"]
    fig = plot_sector_prices(m)
    panels = [ax for ax in fig.axes if ax.get_label().startswith("sector_prices:")]
    assert [ax.get_label() for ax in panels] == ["sector_prices:orderly_curtailed_kwh",
                                                 "sector_prices:revenue_gas_class_surcharge_yuan"]
    # Stacked bars in GWh: C 2, D 4 on top of it.
    heights = sorted(round(p.get_height(), 9) for p in panels[0].patches if p.get_height())
    assert heights == [2.0, 4.0]


def test_gas_alone_draws_no_sector_price_figure():
    assert sector_price_figures(_rows("revenue_gas_class_surcharge_yuan", [1.0])) == []


def test_a_firm_table_gives_each_firms_process_status_and_names_a_wrong_one(tmp_path):
    # The national differential price reaches imported firms through a 淘汰限制类 column.
    from simulator.population.tables import firms_from_table, read_firm_table
    from simulator.scenario import ScenarioError, load_scenario

    path = tmp_path / "firms.csv"
    rows = ["企业编号,行业,用地面积,税收,工业增加值,淘汰限制类",
            "1,metals,20,100,500,淘汰类", "2,metals,10,50,300,限制类",
            "3,textiles,15,80,400,", "4,textiles,15,80,400,restricted"]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    scenario = load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml")
    firms = firms_from_table(read_firm_table(path), scenario)
    assert firms.process_status.tolist() == [2, 1, 0, 1]
    path.write_text("\n".join([*rows[:3], "3,textiles,15,80,400,废弃"]) + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"firms\.csv:4: 淘汰限制类: process status '废弃'"):
        firms_from_table(read_firm_table(path), scenario)

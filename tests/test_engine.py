"""The simpy calendar end to end on small scenarios: behaviour, accounting, determinism."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from simulator.engine import simulate
from simulator.experiment import run_scenario
from simulator.scenario import apply_changes, load_scenario

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def small():
    return load_scenario(ROOT / "tests" / "scenarios" / "small.yaml")


def collect(scenario, **kw):
    tables: list[pa.Table] = []
    result = simulate(scenario, on_snapshot=tables.append, **kw)
    return result, pa.concat_tables(tables).to_pandas()


@pytest.fixture(scope="module")
def small_run(small):
    return collect(small)


def annual(metrics: pd.DataFrame, metric: str, group: str = "all") -> pd.Series:
    sel = metrics[metrics["month"].isna() & (metrics["metric"] == metric)
                  & (metrics["group"] == group)]
    return sel.set_index("year")["value"]


def test_first_year_reproduces_the_calibration_targets():
    # The default population (5,000 industrial firms), one simulated year, no policy change:
    # realised above-scale aggregates are within 2% of Zhejiang 2017 (seed 000).
    base = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    one_year = apply_changes(base, {"run.end": "2017-12", "timeline": []})
    result = simulate(one_year)
    m = result.metrics
    assert annual(m, "tax_per_mu_wan_yuan", "scale=above")[2017] == pytest.approx(25.5, rel=0.02)
    assert annual(m, "va_per_mu_wan_yuan", "scale=above")[2017] == pytest.approx(103.2, rel=0.02)
    assert annual(m, "labour_productivity_wan_yuan", "scale=above")[2017] == pytest.approx(
        21.6, rel=0.02)


def test_same_seed_gives_identical_results(small):
    a_result, a_firms = collect(small)
    b_result, b_firms = collect(small)
    pd.testing.assert_frame_equal(a_result.metrics, b_result.metrics)
    pd.testing.assert_frame_equal(a_firms, b_firms)


def test_another_seed_gives_other_results(small):
    other = apply_changes(small, {"seed": small.seed + 1})
    a = simulate(small).metrics
    b = simulate(other).metrics
    assert not np.allclose(a["value"].to_numpy(), b["value"].to_numpy(), equal_nan=True)


def test_d_firms_pay_the_timeline_surcharge_per_kwh(small_run):
    # small.yaml raises the D surcharge from 0.3 to 0.5 yuan/kWh in 2019-01. From then every
    # D firm pays 0.5, those in their third consecutive D year too: their escalation level
    # (0.4) never lowers the surcharge in force (tests/tariffs: it raises 0.3 to 0.4).
    _, firms = small_run
    d = firms[firms["class_in_force"] == "D"]
    rate = d["electricity_surcharge_yuan"] / d["electricity_kwh"]
    first_spell = d["consecutive_d_years"] < 3
    early = d["year"] <= 2018
    assert (first_spell & early).any()
    assert (~first_spell & ~early).any()
    np.testing.assert_allclose(rate[first_spell & early], 0.3, rtol=1e-12)
    np.testing.assert_allclose(rate[~early], 0.5, rtol=1e-12)
    others = firms[firms["class_in_force"] != "D"]
    assert (others["electricity_surcharge_yuan"] == 0).all()


def test_land_tax_relief_follows_the_class_in_force(small_run, small):
    _, firms = small_run
    m2 = firms["land_mu"] * 10_000 / 15
    rates = np.asarray(small.tariffs.land_tax.rate_yuan_per_m2_year_by_grade)
    gross = firms["land_tax_yuan"] + firms["land_tax_relief_yuan"]
    # Gross tax is land x a grade rate; relief shares are A 100%, B 80%, C and D 0.
    per_m2 = (gross / m2).round(9)
    assert set(per_m2.unique()) <= set(rates)
    relief = firms["land_tax_relief_yuan"] / gross
    expected = firms["class_in_force"].map({"A": 1.0, "B": 0.8, "C": 0.0, "D": 0.0, "U": 0.0})
    np.testing.assert_allclose(relief, expected.astype(float), atol=1e-12)


def test_class_sums_equal_the_all_group(small_run):
    result, _ = small_run
    m = result.metrics[result.metrics["month"].isna()]
    for metric in ("va_wan_yuan", "energy_tce", "firms", "electricity_bill_yuan"):
        total = annual(m, metric)
        by_class = m[(m["metric"] == metric) & m["group"].str.startswith("class=")]
        np.testing.assert_allclose(by_class.groupby("year")["value"].sum(), total, rtol=1e-12)


def test_metrics_equal_the_sum_of_firm_snapshots(small_run):
    result, firms = small_run
    industrial = firms[firms["scale"] != "services"]
    for metric, column in (("va_wan_yuan", "va_wan_yuan"), ("tax_wan_yuan", "tax_wan_yuan"),
                           ("water_bill_yuan", "water_bill_yuan"),
                           ("land_tax_yuan", "land_tax_yuan")):
        np.testing.assert_allclose(annual(result.metrics, metric),
                                   industrial.groupby("year")[column].sum(), rtol=1e-10)


def test_monthly_values_add_up_to_the_year(small_run):
    result, _ = small_run
    m = result.metrics
    monthly = m[m["month"].notna() & (m["metric"] == "va_wan_yuan") & (m["group"] == "all")]
    np.testing.assert_allclose(monthly.groupby("year")["value"].sum(),
                               annual(m, "va_wan_yuan"), rtol=1e-10)
    assert sorted(monthly["month"].unique()) == list(range(1, 13))


def test_transitions_account_for_every_firm(small_run, small):
    result, firms = small_run
    t = annual(result.metrics, "class_transition_firms", "A->A")
    m = result.metrics
    trans = m[m["metric"] == "class_transition_firms"].groupby("year")["value"].sum()
    # Every firm present in a year (entrants included, exits not yet) is in one cell.
    present = firms.groupby("year").size()
    assert trans.to_dict() == present.astype(float).to_dict()
    assert present.iloc[0] == small.population.n_industrial + small.population.n_services
    assert len(t) == small.run.n_years


def test_class_shares_follow_the_rank_shares(small_run):
    result, _ = small_run
    share = {c: annual(result.metrics, "class_share", f"class={c}") for c in "ABCD"}
    # Shares by rank within each group (20/55/20/5); veto and protection move a few firms.
    assert share["A"].between(0.17, 0.21).all()
    assert share["D"].between(0.02, 0.06).all()


def test_higher_d_surcharge_lowers_d_firms_output(small):
    # Common random numbers: same seed, same shocks; only the D surcharge differs.
    mild = apply_changes(small, {"timeline": []})
    strict = apply_changes(small, {"timeline": [], "tariffs.electricity.d_escalation": [],
                                   "tariffs.electricity.class_surcharge_yuan_per_kwh.D": 1.0})
    _, a = collect(mild)
    _, b = collect(strict)
    key = ["year", "firm_id"]
    both = a.merge(b, on=key, suffixes=("_mild", "_strict"))
    d_both = both[(both["class_in_force_mild"] == "D") & (both["class_in_force_strict"] == "D")]
    assert len(d_both) > 10
    ratio = d_both["va_wan_yuan_strict"] / d_both["va_wan_yuan_mild"]
    assert (ratio < 1).mean() > 0.9
    assert ratio.median() < 0.99


def test_no_output_response_keeps_output_at_shocked_potential(small):
    fixed = apply_changes(small, {"behaviour.output_response": False,
                                  "behaviour.shock.sigma": 0.0, "dynamics.enabled": False})
    result, firms = collect(fixed)
    np.testing.assert_allclose(firms["output_factor_last"], 1.0)
    # Without shocks or response, output is potential output, growing at the scenario's
    # rates (those in force in each year: behaviour.potential_growth_by_year).
    va = firms.groupby("year")["va_wan_yuan"].sum()
    growth = np.cumprod([1.0] + [1 + small.behaviour.potential_growth(y) for y in va.index[1:]])
    assert growth[-1] > 1.1  # the small scenario grows
    np.testing.assert_allclose(va.to_numpy(), va.iloc[0] * growth, rtol=1e-12)


def test_run_directory_is_complete_and_parquet_is_deterministic(tmp_path, small):
    quick = apply_changes(small, {"run.end": "2018-12", "timeline": []})
    a = run_scenario(quick, out=tmp_path / "a", figures=False)
    b = run_scenario(quick, out=tmp_path / "b", figures=False)
    for name in ("manifest.json", "scenario.yaml", "metrics.parquet", "firms.parquet"):
        assert (a / name).stat().st_size > 0
    for name in ("metrics.parquet", "firms.parquet"):
        assert (a / name).read_bytes() == (b / name).read_bytes()
    # Nothing temporary is left behind.
    assert [p.name for p in (tmp_path / "a" / "small").iterdir()] == [a.name]


def test_failed_run_leaves_nothing(tmp_path, small, monkeypatch):
    import simulator.experiment.runs as experiment  # where the run is simulated

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(experiment, "simulate", explode)
    with pytest.raises(RuntimeError, match="boom"):
        run_scenario(small, out=tmp_path, figures=False)
    assert list(tmp_path.iterdir()) == []  # not even the scenario's directory
    # A directory that was there before the failed run stays, with what it held.
    (tmp_path / "small" / "earlier").mkdir(parents=True)
    with pytest.raises(RuntimeError, match="boom"):
        run_scenario(small, out=tmp_path, figures=False)
    assert [p.name for p in (tmp_path / "small").iterdir()] == ["earlier"]


def test_resolved_scenario_in_the_run_reloads_to_the_same_scenario(tmp_path, small):
    quick = apply_changes(small, {"run.end": "2017-12", "timeline": []})
    run_dir = run_scenario(quick, out=tmp_path, figures=False)
    assert load_scenario(run_dir / "scenario.yaml") == quick


def test_macro_margin_shift_is_taxed_at_the_income_tax_rate(small):
    # A macro shift of 5% of revenue from 2018 on: 2017 is untouched; in 2018 every firm's
    # pre-tax profit rises by 0.05 x revenue, so a firm already in profit pays its income tax
    # rate (25%, or 15% for high-tech) on exactly that; none pays more.
    base = apply_changes(small, {"dynamics.enabled": False})
    _, before = collect(base)
    _, after = collect(apply_changes(base, {"behaviour.margin_shift_by_year": {2018: 0.05}}))
    cols = ["firm_id", "tax_wan_yuan", "revenue_wan_yuan", "profit_wan_yuan"]
    first = before[before["year"] == 2017][cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(first, after[after["year"] == 2017][cols].reset_index(drop=True))
    b = before[before["year"] == 2018].set_index("firm_id")
    a = after[after["year"] == 2018].set_index("firm_id")
    pd.testing.assert_series_equal(a["revenue_wan_yuan"], b["revenue_wan_yuan"])
    rate = (a["tax_wan_yuan"] - b["tax_wan_yuan"]) / (0.05 * b["revenue_wan_yuan"])
    assert rate.min() >= -1e-12
    assert rate.max() <= 0.25 + 1e-12
    exact = np.isclose(rate, 0.25, rtol=0, atol=1e-9) | np.isclose(rate, 0.15, rtol=0, atol=1e-9)
    assert exact[b["profit_wan_yuan"] > 0.05 * b["revenue_wan_yuan"]].all()
    assert exact.mean() > 0.8


def test_macro_margin_shift_holds_until_the_next_listed_year():
    from simulator.scenario import BehaviourSpec

    spec = BehaviourSpec(margin_shift_by_year={2017: 0.02, 2020: -0.01})
    assert [spec.margin_shift(y) for y in (2016, 2017, 2019, 2020, 2030)] == [
        0.0, 0.02, 0.02, -0.01, -0.01]


def test_quota_market_costs_come_out_of_profit_yuan_for_yuan(small):
    # Two runs that differ only in the energy market's paid-use fee (0, or 80 yuan per tce
    # allocated whatever the intensity): allocations, auctions, output and classes are the
    # same, so in the first year each firm's profit falls by exactly what it paid more,
    # fee x allocation, in 万元. Income tax and subsidies (which follow profit and tax)
    # are set to zero so nothing else moves with it.
    base = apply_changes(small, {
        "run.end": "2017-12", "timeline": [], "dynamics.enabled": False,
        "population.corporate_income_tax_rate": 0.0,
        "population.high_tech_income_tax_rate": 0.0,
        "tariffs.subsidies.rate_of_tax": 0.0})
    fees = ("markets.energy.paid_use_fee_below_target_yuan_per_tce",
            "markets.energy.paid_use_fee_above_target_yuan_per_tce")
    _, free = collect(apply_changes(base, dict.fromkeys(fees, 0.0)))
    _, paid = collect(apply_changes(base, dict.fromkeys(fees, 80.0)))
    same = ["firm_id", "va_wan_yuan", "revenue_wan_yuan", "tax_wan_yuan", "class",
            "energy_allocated", "energy_abatement_cost_yuan"]
    pd.testing.assert_frame_equal(free[same], paid[same])
    extra_paid = paid["energy_net_paid_yuan"] - free["energy_net_paid_yuan"]
    allocated = paid["energy_allocated"]
    assert (allocated > 0).sum() > 20
    np.testing.assert_allclose(extra_paid, 80.0 * allocated, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(paid["profit_wan_yuan"] - free["profit_wan_yuan"],
                               -extra_paid * 1e-4, rtol=1e-9, atol=1e-9)


def test_only_firms_younger_than_the_protection_period_are_kept_out_of_d(small):
    # Ages 0 and 1 at the start, protect_new_firms_years 1: the first year's evaluation may
    # put the firms aged 1 in D, never those aged 0 (start-ups, put in C instead).
    s = apply_changes(small, {"run.end": "2017-12", "timeline": [], "dynamics.enabled": False,
                              "population.max_age_years": 2,
                              "evaluation.protect_new_firms_years": 1})
    result, firms = collect(s)
    age = pd.Series(result.firms.age_years - 1, index=result.firms.firm_id)  # at the start
    assert set(age) == {0, 1}
    in_d = firms.loc[firms["class"] == "D", "firm_id"]
    assert len(in_d) >= 5
    assert (age[in_d] == 1).all()
    assert ((firms["class"] == "C") & firms["firm_id"].map(age).eq(0)).sum() >= 5


def test_output_shock_averages_to_potential_output(small):
    # Output is potential x exp(log shock - var / 2): a lognormal AR(1) shock of mean one.
    # With sigma 0.3 and persistence 0.5 (stationary variance 0.12), no output response and
    # 400 industrial firms over 48 months, the mean output factor is 1 within 0.02 (seeds
    # 0-2: 1.005, 0.996, 1.000); without the variance term it would be exp(0.06) = 1.062.
    s = apply_changes(small, {"behaviour.output_response": False, "dynamics.enabled": False,
                              "behaviour.shock.sigma": 0.3, "behaviour.shock.persistence": 0.5})
    m = simulate(s).metrics
    factor = m[(m["metric"] == "output_factor_mean") & (m["group"] == "all")
               & m["month"].notna()]["value"]
    assert len(factor) == 48
    assert factor.mean() == pytest.approx(1.0, abs=0.02)

"""Regions and parks as units of the reform (issue 19, item 1).

A firm table's regions run; regions and parks are scored, ranked and graded
by hand-computed cases; steering re-splits land, fund awards and quota
allocations with their totals conserved (hypothesis); outputs by region add
up to the totals; cross-tables; the ranking figure.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from simulator.cli import main
from simulator.dynamics.land import LandPools
from simulator.engine import simulate
from simulator.evaluation.regions import (
    evaluate_units,
    park_units,
    steered_allocation,
    steered_awards,
    steered_shares,
    unit_sums,
)
from simulator.plots import plot_region_ranking, region_figures
from simulator.population import firms_from_table, read_firm_table, table_regions
from simulator.results.crosstab import crosstab_frame
from simulator.scenario import (
    LandSpec,
    PopulationSpec,
    RegionSpec,
    ScenarioError,
    UnitEvaluationSpec,
    apply_changes,
    load_scenario,
)
from simulator.scenario.dynamics import INVESTMENT_OPTIONS

ROOT = Path(__file__).resolve().parents[1]

#: Six firms in three counties and four parks; 225 mu in all (柯桥区 100, 越城区 65, 上虞区 60).
TABLE = """企业名称,区县,园区,行业,用地面积,税收,工业增加值,综合能耗,用电量,是否规上,化学需氧量
甲,柯桥区,滨海园,textiles,50,400,2000,900,3000000,是,2
乙,柯桥区,滨海园,textiles,30,120,600,500,1500000,是,1.5
丙,柯桥区,钱清园,textiles,20,40,200,300,800000,否,0.6
丁,越城区,袍江园,textiles,40,500,2500,600,2000000,是,0.8
戊,越城区,袍江园,textiles,25,80,500,400,1000000,否,0.9
己,上虞区,杭州湾园,textiles,60,300,1800,1500,4000000,是,3
"""


def _table_scenario(tmp_path: Path, *, years: int = 2) -> Path:
    (tmp_path / "firms.csv").write_text(TABLE, encoding="utf-8")
    (tmp_path / "baseline.yaml").write_text(
        (ROOT / "scenarios" / "baseline.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    path = tmp_path / "own.yaml"
    path.write_text("extends: baseline.yaml\nname: own_firms\n"
                    "population: {source: file, file: firms.csv}\n"
                    f"run: {{start: 2017-01, end: {2016 + years}-12}}\n"
                    "output: {by_region: true}\n", encoding="utf-8")
    return path


# ------------------------------------------------------------ a firm table's regions


def test_a_table_names_the_runs_regions_with_shares_by_land(tmp_path):
    table = read_firm_table(_table_scenario(tmp_path).parent / "firms.csv")
    # The baseline lists one region, "county", that the table does not name: left out.
    regions = table_regions(table, load_scenario(tmp_path / "own.yaml").population)
    assert [(r.name, r.parks) for r in regions] == [("上虞区", 1), ("柯桥区", 2), ("越城区", 1)]
    np.testing.assert_allclose([r.share for r in regions], [60 / 225, 100 / 225, 65 / 225])


def test_listed_regions_keep_their_split_scaled_to_their_land():
    table = pd.DataFrame({"region": ["A", "B", "C", "C"], "land_mu": [10.0, 30.0, 30.0, 30.0]})
    spec = PopulationSpec.model_construct(regions=[RegionSpec(name="A", share=0.5),
                                                   RegionSpec(name="B", share=0.5)])
    regions = table_regions(table, spec)
    # A and B hold 40 of 100 mu: 0.4 split half and half; C has the other 0.6.
    assert [r.name for r in regions] == ["A", "B", "C"]
    np.testing.assert_allclose([r.share for r in regions], [0.2, 0.2, 0.6])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["A", "B", "C", "D"]), st.floats(0.1, 1e4)),
                min_size=1, max_size=30),
       st.lists(st.sampled_from(["A", "B", "X"]), min_size=1, max_size=3, unique=True))
def test_a_tables_regions_cover_it_and_their_shares_sum_to_one(rows, listed):
    table = pd.DataFrame(rows, columns=["region", "land_mu"])
    spec = PopulationSpec.model_construct(regions=[RegionSpec(name=n, share=1 / len(listed))
                                                   for n in listed])
    regions = table_regions(table, spec)
    names = [r.name for r in regions]
    assert set(table["region"]) <= set(names)
    assert sum(r.share for r in regions) == pytest.approx(1.0)
    assert all(r.share >= 0 for r in regions)


def test_parks_are_numbered_within_their_region(tmp_path):
    path = _table_scenario(tmp_path)
    firms = firms_from_table(read_firm_table(tmp_path / "firms.csv"), load_scenario(path))
    assert firms.region.tolist() == [1, 1, 1, 2, 2, 0]  # 上虞区 0, 柯桥区 1, 越城区 2
    assert firms.park.tolist() == [0, 0, 1, 0, 0, 0]


def test_a_scenario_on_a_firm_table_with_regions_validates_and_runs(tmp_path, capsys):
    path = _table_scenario(tmp_path)
    assert main(["validate", str(path)]) == 0
    out = tmp_path / "results"
    assert main(["run", str(path), "--out", str(out), "--quiet", "--no-figures"]) == 0
    run_dir = next((out / "own_firms").iterdir())
    m = pd.read_parquet(run_dir / "metrics.parquet")
    new = m[(m["metric"] == "land_new_mu") & (m["year"] == 2017)].set_index("group")["value"]
    # 300 mu of new land a year (baseline), split by the counties' land in the table.
    assert new["all"] == pytest.approx(300.0)
    assert new["region=柯桥区"] == pytest.approx(300.0 * 100 / 225)
    assert new["region=上虞区"] == pytest.approx(300.0 * 60 / 225)
    # Bills by region (output.by_region) add up to all industrial firms'.
    bill = m[(m["metric"] == "electricity_bill_yuan") & (m["year"] == 2018)]
    by_region = bill[bill["group"].str.startswith("region=")]["value"]
    assert len(by_region) == 3
    assert by_region.sum() == pytest.approx(float(bill[bill["group"] == "all"]["value"].iloc[0]))
    firms = pd.read_parquet(run_dir / "firms.parquet")
    assert sorted(firms["region"].astype(str).unique()) == ["上虞区", "柯桥区", "越城区"]
    # A cross-table of the run: tax per mu by region, a ratio of sums with its margin.
    table = tmp_path / "tax.csv"
    assert main(["crosstab", str(run_dir), "--by", "region", "--value",
                 "tax_wan_yuan/land_mu", "--year", "2017", "--out", str(table)]) == 0
    written = pd.read_csv(table).set_index("region")["tax_wan_yuan/land_mu"]
    y17 = firms[firms["year"] == 2017]
    k = y17[y17["region"] == "柯桥区"]
    assert written["柯桥区"] == pytest.approx(k["tax_wan_yuan"].sum() / k["land_mu"].sum())
    assert written["all"] == pytest.approx(y17["tax_wan_yuan"].sum() / y17["land_mu"].sum())
    assert "tax_wan_yuan/land_mu by region in 2017" in capsys.readouterr().out


# ------------------------------------------------------------ units scored by hand


def _sums(tax, land, va, energy, firms=None):
    tax = np.asarray(tax, dtype=float)
    return {"tax_wan_yuan": tax, "land_mu": np.asarray(land, float),
            "va_wan_yuan": np.asarray(va, float), "energy_tce": np.asarray(energy, float),
            "firms": np.ones(tax.size) if firms is None else np.asarray(firms, float)}


def test_units_are_scored_against_the_aggregate_with_the_firms_formula():
    # Tax per mu 40, 10, 20 (benchmark 70/4 = 17.5); VA per tce 2, 1, no energy data.
    sums = _sums(tax=[40, 10, 20], land=[1, 1, 2], va=[100, 50, 80], energy=[50, 50, 0])
    spec = UnitEvaluationSpec(weights={"tax_per_mu": 60.0, "va_per_tce": 40.0})
    r = evaluate_units(sums, spec, cap=2.0)
    s_tax = 60 * np.minimum(np.array([40, 10, 10]) / 17.5, 2.0)  # unit 0 capped at 2
    s_tce = 40 * np.array([2.0, 1.0]) / 1.5  # VA/tce benchmark 150 / 100
    s_tce = np.append(s_tce, s_tce.mean())  # unit 2 lacks it: the others' mean score
    np.testing.assert_allclose(r.score, 100 * (s_tax + s_tce) / 100.0)
    np.testing.assert_allclose(r.indicators["tax_per_mu"], [40.0, 10.0, 10.0])
    assert np.isnan(r.indicators["va_per_tce"][2])
    assert r.rank.tolist() == [1, 3, 2]
    # Grades by the default thresholds A >= 110, B >= 100, C >= 90.
    expected = [0 if s >= 110 else 1 if s >= 100 else 2 if s >= 90 else 3 for s in r.score]
    assert r.grade.tolist() == expected


def test_unit_mean_benchmark_and_units_without_firms():
    sums = _sums(tax=[30, 10, 0], land=[1, 1, 0], va=[1, 1, 0], energy=[1, 1, 0],
                 firms=[2, 1, 0])
    spec = UnitEvaluationSpec(weights={"tax_per_mu": 1.0}, benchmark="unit_mean")
    r = evaluate_units(sums, spec, cap=2.0)
    np.testing.assert_allclose(r.score[:2], [150.0, 50.0])  # mean of 30 and 10 is 20
    assert np.isnan(r.score[2])
    assert r.rank[2] == 0
    assert r.grade[2] == 4


def test_unit_sums_count_only_firms_in_scope_and_park_units_pair_region_and_park():
    codes, keys = park_units(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 0]))
    assert codes.tolist() == [0, 1, 2, 2]
    assert keys == [(0, 0), (0, 1), (1, 0)]
    sums = unit_sums(codes, 3, {"land_mu": np.array([1.0, 2.0, 4.0, np.nan])},
                     np.array([True, True, True, False]))
    assert sums["land_mu"].tolist() == [1.0, 2.0, 4.0]
    assert sums["firms"].tolist() == [1.0, 1.0, 1.0]


# ------------------------------------------------------------ steering conserves totals

_scores = arrays(float, st.integers(2, 6), elements=st.floats(1.0, 300.0))


@settings(max_examples=60, deadline=None)
@given(_scores, st.floats(0.0, 3.0), st.data())
def test_steered_shares_sum_to_one_and_favour_higher_scores(score, elasticity, data):
    base = data.draw(arrays(float, score.size, elements=st.floats(0.01, 1.0)))
    base = base / base.sum()
    shares = steered_shares(base, score, elasticity=elasticity)
    assert shares.sum() == pytest.approx(1.0)
    assert (shares >= 0).all()
    gain = shares / base
    order = np.argsort(score)
    assert (np.diff(gain[order]) >= -1e-9).all()  # a higher score never gets relatively less


def test_zero_elasticity_and_missing_scores_keep_the_base_shares():
    base = np.array([0.2, 0.3, 0.5])
    assert steered_shares(base, np.array([50.0, 100.0, 150.0]), elasticity=0.0).tolist() == \
        pytest.approx(base.tolist())
    assert steered_shares(base, np.full(3, np.nan), elasticity=1.0).tolist() == \
        pytest.approx(base.tolist())


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 40), _scores, st.floats(0.0, 1e7), st.floats(0.0, 3.0), st.data())
def test_steered_awards_pay_the_whole_pot_to_a_firms_only(n, score, pot, elasticity, data):
    klass = data.draw(arrays(np.int8, n, elements=st.integers(0, 4)))
    region = data.draw(arrays(np.intp, n, elements=st.integers(0, score.size - 1)))
    awards = steered_awards(klass, region, score, pot, elasticity=elasticity)
    assert (awards[klass != 0] == 0).all()
    expected = pot if (klass == 0).any() else 0.0
    assert awards.sum() == pytest.approx(expected, rel=1e-9, abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 40), _scores, st.floats(0.0, 3.0), st.data())
def test_steered_allocation_keeps_the_total_and_the_split_within_a_region(n, score,
                                                                          elasticity, data):
    # zero or a real amount: a subnormal entitlement (1e-320) has no exact ratio to compare
    amounts = st.one_of(st.just(0.0), st.floats(1e-6, 1e5))
    entitled = data.draw(arrays(float, n, elements=amounts))
    region = data.draw(arrays(np.intp, n, elements=st.integers(0, score.size - 1)))
    out = steered_allocation(entitled, region, score, elasticity=elasticity)
    assert out.sum() == pytest.approx(entitled.sum(), rel=1e-9, abs=1e-6)
    for r in np.unique(region):  # one factor per region
        rows = (region == r) & (entitled > 0)
        if rows.sum() > 1:
            ratio = out[rows] / entitled[rows]
            np.testing.assert_allclose(ratio, ratio[0], rtol=1e-9)


@settings(max_examples=40, deadline=None)
@given(_scores, st.floats(0.0, 3.0), st.integers(1, 5))
def test_steered_new_land_keeps_the_total_and_land_is_conserved(score, elasticity, years):
    n = score.size
    pools = LandPools(np.full(n, 100.0), region_shares=np.full(n, 1.0 / n),
                      spec=LandSpec(new_land_mu_per_year=300.0))
    for _ in range(years):
        shares = steered_shares(np.full(n, 1.0 / n), score, elasticity=elasticity)
        pools.set_new_land_shares(shares)
        pools.start_year()
        np.testing.assert_allclose(pools.flows()["new"], 300.0 * shares)
        assert pools.flows()["new"].sum() == pytest.approx(300.0)
        pools.check()
    assert pools.total_mu.sum() == pytest.approx(100.0 * n + 300.0 * years)


def test_new_land_shares_must_fit_the_regions():
    pools = LandPools(np.ones(2), region_shares=np.array([0.5, 0.5]), spec=LandSpec())
    with pytest.raises(ValueError, match="one entry per region"):
        pools.set_new_land_shares(np.array([0.5, 0.2]))


# ------------------------------------------------------------ a run with steering


@pytest.fixture(scope="module")
def steered_run():
    scenario = load_scenario(ROOT / "scenarios" / "region_steering.yaml")
    return simulate(apply_changes(scenario, {
        "population.n_industrial": 300, "population.n_services": 60,
        "run.start": "2017-01", "run.end": "2019-12"}))


def _rows(metrics: pd.DataFrame, metric: str, year: int) -> pd.Series:
    rows = metrics[(metrics["metric"] == metric) & (metrics["year"] == year)
                   & metrics["month"].isna()]
    return rows.set_index("group")["value"]


def test_a_steered_run_records_units_and_keeps_its_totals(steered_run):
    m = steered_run.metrics
    score = _rows(m, "unit_score", 2018)
    regions = [g for g in score.index if g.startswith("region=")]
    assert len(regions) == 3
    assert any(g.startswith("park=") for g in score.index)
    ranks = _rows(m, "unit_rank", 2018)[regions]
    assert sorted(ranks) == [1.0, 2.0, 3.0]
    assert ranks[score[regions].idxmax()] == 1.0
    shares = _rows(m, "new_land_share", 2018)
    assert shares.sum() == pytest.approx(1.0)
    # The best-scoring region gets more new land than its base share.
    base = {f"region={r.name}": r.share for r in steered_run.scenario.population.regions}
    best = score[regions].idxmax()
    assert shares[best] > base[best]
    new = _rows(m, "land_new_mu", 2018)  # released at the 2018 year end by 2018's shares
    assert new["all"] == pytest.approx(300.0)
    np.testing.assert_allclose(new[list(shares.index)], 300.0 * shares, rtol=1e-9)
    steered_run.land.check()
    awards = _rows(m, "fund_a_award_yuan", 2018)
    assert awards[regions].sum() == pytest.approx(awards["all"], rel=1e-9)
    for metric in ("region_quota_allocated", "region_quota_use"):
        by_region = _rows(m, metric, 2018)
        total = _rows(m, metric.removeprefix("region_"), 2018)
        for market in ("energy", "cod"):
            part = by_region[[g for g in by_region.index if g.endswith(f"market={market}")]]
            assert part.sum() == pytest.approx(total[f"market={market}"], rel=1e-9)


def test_exits_entries_and_investments_by_region_add_up_to_the_county(steered_run):
    m = steered_run.metrics
    metrics = ("exits", "entries", *(f"investments_{o}" for o in INVESTMENT_OPTIONS))
    seen = 0.0
    for metric in metrics:
        for year in (2017, 2018, 2019):
            rows = _rows(m, metric, year)
            regions = [g for g in rows.index if g.startswith("region=")]
            assert len(regions) == 3, metric
            assert rows[regions].sum() == rows["all"], (metric, year)
            seen += rows["all"]
    assert seen > 0


def test_the_ranking_figure_draws_regions_and_parks(steered_run):
    assert region_figures(steered_run.metrics) == ["region_ranking"]
    fig = plot_region_ranking(steered_run.metrics, lang="en")
    labels = [ax.get_label() for ax in fig.axes if ax.get_label().startswith("ranking:")]
    assert labels == ["ranking:region", "ranking:park"]
    regions = fig.axes[0]
    top = max(zip(regions.get_yticks(), (t.get_text() for t in regions.get_yticklabels()),
                   strict=True))[1]
    best = _rows(steered_run.metrics, "unit_score", 2019).filter(like="region=").idxmax()
    assert top == best.removeprefix("region=")  # the best region on top
    assert region_figures(steered_run.metrics[~steered_run.metrics["metric"]
                                              .str.startswith("unit_")]) == []


def test_the_default_scenario_records_no_units():
    scenario = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    assert not scenario.evaluation.regions.enabled
    assert not scenario.evaluation.regions.steering.enabled
    assert not scenario.output.by_region


# ------------------------------------------------------------ cross-tables


def test_crosstab_sums_and_ratios_of_sums_with_margins():
    firms = pd.DataFrame({"class": ["A", "A", "B", "B"], "sector": ["s", "t", "s", "s"],
                          "region": ["x", "x", "x", "y"], "scale": ["above"] * 4,
                          "tax_wan_yuan": [10.0, 20.0, 3.0, 5.0],
                          "land_mu": [1.0, 2.0, 3.0, 5.0]})
    sums = crosstab_frame(firms, ["class", "region"], "tax_wan_yuan")
    assert sums.loc["A", "x"] == 30.0
    assert sums.loc["B", "y"] == 5.0
    assert sums.loc["all", "all"] == 38.0
    assert np.isnan(sums.loc["A", "y"])
    per_mu = crosstab_frame(firms, ["class"], "tax_per_mu")
    assert per_mu.loc["A", "tax_per_mu"] == pytest.approx(10.0)  # 30 / 3
    assert per_mu.loc["all", "tax_per_mu"] == pytest.approx(38.0 / 11.0)
    counts = crosstab_frame(firms, ["class", "sector", "region"], "firms", margins=False)
    assert counts.loc[("B", "s"), "y"] == 1.0
    with pytest.raises(ScenarioError, match="did you mean 'tax_wan_yuan'"):
        crosstab_frame(firms, ["class"], "tax_wan_yaun")
    with pytest.raises(ScenarioError, match="--by takes one or more"):
        crosstab_frame(firms, ["county"], "tax_wan_yuan")


def test_the_example_scenario_answers_a_policy_question():
    scenario = load_scenario(ROOT / "scenarios" / "region_steering.yaml")
    assert "answers" in scenario.description
    shipped = ROOT / "simulator" / "scenarios" / "region_steering.yaml"
    assert shipped.read_bytes() == (ROOT / "scenarios" / "region_steering.yaml").read_bytes()
    assert scenario.evaluation.regions.steering.enabled
    assert scenario.output.by_region


def test_steering_without_the_region_evaluation_is_an_error_naming_the_field(tmp_path):
    (tmp_path / "baseline.yaml").write_text(
        (ROOT / "scenarios" / "baseline.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    path = tmp_path / "steer.yaml"
    path.write_text("extends: baseline.yaml\nname: steer\nevaluation:\n  regions:\n"
                    "    steering: {enabled: true}\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.field == "evaluation.regions.steering.enabled"
    assert "evaluation.regions.enabled: true" in info.value.message


def test_park_steering_units_map_firms_to_scored_parks_and_new_parks_to_the_mean():
    from types import SimpleNamespace

    from simulator.engine.state import steering_units

    parks = SimpleNamespace(score=np.array([120.0, 80.0, 100.0]))
    keys = [(0, 0), (0, 2), (1, 0)]  # sorted (region, park), as park_units gives them
    firms = SimpleNamespace(n=5, region=np.array([1, 0, 0, 1, 0]), park=np.array([0, 2, 0, 1, 3]))
    steering = SimpleNamespace(level="park")
    state = SimpleNamespace(
        firms=firms, scratch={"park_evaluation": (parks, keys)},
        params=SimpleNamespace(evaluation=SimpleNamespace(regions=SimpleNamespace(
            steering=steering))))
    unit, score = steering_units(state)
    assert unit.tolist() == [2, 1, 0, 3, 3]  # parks (1, 1) and (0, 3) were not scored
    np.testing.assert_array_equal(score[:3], parks.score)
    assert np.isnan(score[3])
    steering.level = "region"
    state.scratch["region_evaluation"] = SimpleNamespace(score=np.array([90.0, 110.0]))
    unit, score = steering_units(state)
    assert unit.tolist() == firms.region.tolist()
    assert score.tolist() == [90.0, 110.0]


def test_steering_between_parks_keeps_the_totals(steered_run):
    scenario = apply_changes(steered_run.scenario, {
        "evaluation.regions.steering.level": "park"})
    m = simulate(scenario).metrics
    for year in (2018, 2019):
        awards = _rows(m, "fund_a_award_yuan", year)
        regions = [g for g in awards.index if g.startswith("region=")]
        assert awards[regions].sum() == pytest.approx(awards["all"], rel=1e-9)
        for metric in ("region_quota_allocated",):
            by_region = _rows(m, metric, year)
            total = _rows(m, "quota_allocated", year)
            part = by_region[[g for g in by_region.index if g.endswith("market=energy")]]
            assert part.sum() == pytest.approx(total["market=energy"], rel=1e-9)
    # The allocation between parks moved: not the region-level run's split.
    base = _rows(steered_run.metrics, "region_quota_allocated", 2019)
    moved = _rows(m, "region_quota_allocated", 2019)
    assert not np.allclose(base.sort_index().to_numpy(), moved.sort_index().to_numpy())


def test_steering_between_parks_needs_the_park_evaluation(tmp_path):
    path = tmp_path / "parks.yaml"
    path.write_text(f"extends: {ROOT / 'scenarios' / 'region_steering.yaml'}\n"
                    "name: parks\nevaluation:\n  regions:\n    parks: false\n"
                    "    steering: {level: park}\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"steering\.level.*park evaluation"):
        load_scenario(path)

"""Synthetic populations, calibration, and firm-table import."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator.population import (
    above_scale_aggregates,
    build_population,
    firms_from_table,
    read_firm_table,
    synthetic_population,
)
from simulator.scenario import ScenarioError, apply_changes, load_scenario

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def baseline():
    return load_scenario(ROOT / "scenarios" / "baseline.yaml")


def test_default_population_hits_the_zhejiang_2017_targets(baseline):
    firms = build_population(baseline, np.random.default_rng(0))
    agg = above_scale_aggregates(firms)
    assert agg["tax_per_mu_wan_yuan"] == pytest.approx(25.5, rel=1e-9)
    assert agg["va_per_mu_wan_yuan"] == pytest.approx(103.2, rel=1e-9)
    assert agg["labour_productivity_wan_yuan_per_person"] == pytest.approx(21.6, rel=1e-9)


def test_calibration_holds_for_other_targets_and_seeds(baseline):
    s = apply_changes(baseline, {"population.targets.va_per_mu_wan_yuan": 150.0,
                                 "population.targets.tax_per_mu_wan_yuan": 30.0})
    for seed in (1, 2, 3):
        agg = above_scale_aggregates(build_population(s, np.random.default_rng(seed)))
        assert agg["va_per_mu_wan_yuan"] == pytest.approx(150.0, rel=1e-9)
        assert agg["tax_per_mu_wan_yuan"] == pytest.approx(30.0, rel=1e-9)


def test_above_scale_flag_follows_the_revenue_threshold(baseline):
    firms = build_population(baseline, np.random.default_rng(0))
    industrial = ~firms.is_services
    expected = industrial & (firms.revenue_wan_yuan >= 2000)
    np.testing.assert_array_equal(firms.above_scale, expected)
    assert not firms.above_scale[firms.is_services].any()
    # A real county has both: many small below-scale firms and an above-scale core.
    share = firms.above_scale[industrial].mean()
    assert 0.2 < share < 0.7


def test_sector_counts_follow_shares_exactly(baseline):
    firms = synthetic_population(baseline, np.random.default_rng(0))
    names = baseline.sector_names()
    counts = np.bincount(firms.sector, minlength=len(names))
    for i, name in enumerate(names):
        spec = baseline.population.sectors[name]
        n_kind = 5000 if spec.kind == "industrial" else 1500
        assert abs(counts[i] - spec.share * n_kind) < 1.0
    assert firms.n == 6500
    assert len(set(firms.firm_id)) == firms.n


def test_firms_left_by_rounding_go_to_the_largest_remainders(baseline):
    # 10 industrial firms at shares .20 .06 .08 .04 .06 .08 .33 .15: 2 .6 .8 .4 .6 .8 3.3 1.5
    # firms; the floors give 6, and the 4 left go to the largest remainders (.8, .8, .6, .6:
    # chemicals, metals, printing_dyeing, cement), not to papermaking (.4), machinery (.3)
    # or electronics (.5). 5 services firms at .6 / .4 split exactly, 3 and 2.
    s = apply_changes(baseline, {"population.n_industrial": 10, "population.n_services": 5})
    firms = synthetic_population(s, np.random.default_rng(0))
    counts = dict(zip(s.sector_names(), np.bincount(firms.sector, minlength=10).tolist(),
                      strict=True))
    assert counts == {"textiles": 2, "printing_dyeing": 1, "chemicals": 1, "papermaking": 0,
                      "cement": 1, "metals": 1, "machinery": 3, "electronics": 1,
                      "wholesale_retail": 3, "accommodation_catering": 2}


def test_sectors_have_distinct_intensities(baseline):
    firms = synthetic_population(baseline, np.random.default_rng(0))
    names = baseline.sector_names()
    med = {n: np.median(firms.energy_tce_per_wan_yuan[firms.sector == i])
           for i, n in enumerate(names)}
    # Sample medians sit near the scenario's sector medians (lognormal, sigma 0.4).
    assert med["cement"] == pytest.approx(3.5, rel=0.1)
    assert med["machinery"] == pytest.approx(0.12, rel=0.1)
    assert med["cement"] > 10 * med["electronics"]


def test_same_seed_gives_the_same_population(baseline):
    a = build_population(baseline, np.random.default_rng(42))
    b = build_population(baseline, np.random.default_rng(42))
    c = build_population(baseline, np.random.default_rng(43))
    np.testing.assert_array_equal(a.land_mu, b.land_mu)
    np.testing.assert_array_equal(a.emission_t_per_wan_yuan, b.emission_t_per_wan_yuan)
    assert not np.array_equal(a.land_mu, c.land_mu)


def test_tiered_sectors_get_unit_consumption_around_the_reference(baseline):
    firms = synthetic_population(baseline, np.random.default_rng(0))
    metals = firms.sector == baseline.sector_names().index("metals")
    assert np.median(firms.unit_consumption[metals]) == pytest.approx(13600, rel=0.01)
    assert np.isnan(firms.unit_consumption[~metals & (firms.sector != 4)]).all()


# ----------------------------------------------------------------- firm tables


CHINESE_TABLE = """\
企业名称,行业,用地面积,税收,工业增加值,营业收入,综合能耗,用电量,从业人员,研发经费,\
化学需氧量,氨氮,二氧化硫,氮氧化物
甲公司,纺织,20,500,2000,9000,900,3000000,100,90,0.5,0.05,0.4,0.4
乙公司,machinery,8,40,300,1500,30,200000,20,30,0.02,0.002,0.01,0.01
丙公司,电子信息,12,300,1500,7000,120,900000,60,280,0,0,0,0
"""


def test_chinese_headers_map_to_canonical_columns(tmp_path):
    path = tmp_path / "firms.csv"
    path.write_text(CHINESE_TABLE, encoding="utf-8")
    table = read_firm_table(path)
    assert list(table["name"]) == ["甲公司", "乙公司", "丙公司"]
    assert list(table["land_mu"]) == [20, 8, 12]
    assert list(table["tax_wan_yuan"]) == [500, 40, 300]
    assert list(table["firm_id"]) == [1, 2, 3]
    assert table["cod_t"].iloc[0] == 0.5


def test_excel_tables_are_read_too(tmp_path):
    csv = tmp_path / "firms.csv"
    csv.write_text(CHINESE_TABLE, encoding="utf-8")
    xlsx = tmp_path / "firms.xlsx"
    pd.read_csv(csv).to_excel(xlsx, index=False)
    pd.testing.assert_frame_equal(read_firm_table(xlsx), read_firm_table(csv),
                                  check_dtype=False)


def test_gbk_csv_and_square_metre_land_are_converted(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("企业名称,用地面积(平方米),税收\n甲,6666.667,10\n".encode("gbk"))
    table = read_firm_table(path)
    assert table["land_mu"].iloc[0] == pytest.approx(10.0, rel=1e-6)


def test_missing_required_column_is_named(tmp_path):
    path = tmp_path / "firms.csv"
    path.write_text("企业名称,税收\n甲,10\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"missing required column: land_mu"):
        read_firm_table(path)


def test_negative_land_names_row_and_column(tmp_path):
    path = tmp_path / "firms.csv"
    path.write_text("企业名称,用地面积,税收\n甲,10,5\n乙,-3,5\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        read_firm_table(path)
    err = info.value
    assert (err.line, err.field) == (3, "用地面积")
    assert "negative" in str(err)


def test_zero_land_is_rejected(tmp_path):
    path = tmp_path / "firms.csv"
    path.write_text("用地面积,税收\n0,5\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="land must be positive"):
        read_firm_table(path)


def test_text_in_a_number_column_names_the_row(tmp_path):
    path = tmp_path / "firms.csv"
    path.write_text("用地面积,税收\n10,5\n12,很多\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        read_firm_table(path)
    assert (info.value.line, info.value.field) == (3, "税收")


@pytest.mark.parametrize("content", [b"", b"\n"])
def test_empty_firm_table_is_an_error(tmp_path, content):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(ScenarioError, match="empty|no rows"):
        read_firm_table(path)


def test_firms_from_table_keep_observed_quantities(tmp_path, baseline):
    path = tmp_path / "firms.csv"
    path.write_text(CHINESE_TABLE, encoding="utf-8")
    table = read_firm_table(path)
    firms = firms_from_table(table, baseline)
    np.testing.assert_allclose(firms.va_wan_yuan * firms.energy_tce_per_wan_yuan,
                               table["energy_tce"])
    np.testing.assert_allclose(firms.va_wan_yuan * firms.tax_share_of_va, table["tax_wan_yuan"])
    np.testing.assert_allclose(firms.va_wan_yuan * firms.electricity_kwh_per_wan_yuan,
                               table["electricity_kwh"])
    # Revenue 9000 and 7000 are above the 2000万元 threshold; 1500 is not.
    np.testing.assert_array_equal(firms.above_scale, [True, False, True])
    names = baseline.sector_names()
    assert [names[i] for i in firms.sector] == ["textiles", "machinery", "electronics"]


def test_unknown_sector_in_table_is_an_error(tmp_path, baseline):
    path = tmp_path / "firms.csv"
    path.write_text("行业,用地面积,税收\n纺织,12,6\n火箭,10,5\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        firms_from_table(read_firm_table(path), baseline)
    err = info.value
    assert (err.line, err.field) == (3, "行业")
    assert err.message.startswith("unknown sector '火箭'; sectors: textiles (纺织), ")


def test_a_firm_table_is_scored_on_its_reported_figures(tmp_path, baseline):
    # No fill-ins: a firm reporting no VA keeps its tax per mu (50 / 10), a blank VA is a
    # missing indicator (not VA from revenue x the sector's share), and a blank COD is not
    # "no emissions" (which would give the top VA per emission).
    from simulator.evaluation import evaluate_table

    path = tmp_path / "firms.csv"
    path.write_text(
        "name,land_mu,tax_wan_yuan,va_wan_yuan,revenue_wan_yuan,energy_tce,electricity_kwh,"
        "employees,rd_wan_yuan,cod_t,above_scale\n"
        "zero_va,10,50,0,3000,10,100000,10,0,0.1,1\n"
        "blank_va,10,10,,3000,10,100000,10,0,0.1,1\n"
        "full,10,30,400,3000,10,100000,10,0,0.1,1\n"
        "blank_cod,10,20,200,3000,10,100000,10,0,,1\n", encoding="utf-8")
    scored = evaluate_table(read_firm_table(path), baseline).set_index("name")
    assert scored.loc["zero_va", "tax_per_mu"] == pytest.approx(5.0)
    assert scored.loc["zero_va", "va_per_mu"] == 0.0
    assert np.isnan(scored.loc["blank_va", ["va_per_mu", "va_per_tce"]].astype(float)).all()
    assert scored.loc["full", "va_per_mu"] == pytest.approx(40.0)
    assert np.isnan(scored.loc["blank_cod", "va_per_emission"])
    assert np.isfinite(scored["score"]).all()
    # The others' emission indicator is their own VA over their weighted COD (the pollutants
    # the table has no column for count as none).
    cod_weight = baseline.evaluation.emission_weights.cod
    assert scored.loc["full", "va_per_emission"] == pytest.approx(400 / (cod_weight * 0.1))


# ------------------------------------------------ firm tables: every cell checked


@pytest.mark.parametrize(("cell", "column"), [
    ("inf", "税收"), ("-inf", "税收"), ("nan", "税收"), ("NaN", "税收"), ("1e999", "税收"),
    ("Infinity", "税收"), ("inf", "用地面积"), ("1e999", "用电量"), ("nan", "从业人员"),
])
def test_non_finite_numbers_name_the_file_line_and_column(tmp_path, cell, column):
    path = tmp_path / "firms.csv"
    header = ["用地面积", "税收", "用电量", "从业人员"]
    row = ["12", "6", "1000", "5"]
    row[header.index(column)] = cell
    path.write_text(f"{','.join(header)}\n10,5,1000,3\n{','.join(row)}\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        read_firm_table(path)
    err = info.value
    assert (Path(err.file).name, err.line, err.field) == ("firms.csv", 3, column)
    assert err.message == f"must be a finite number, got {cell!r}"
    assert str(err).endswith(f"firms.csv:3: {column}: must be a finite number, got {cell!r}")


def test_a_number_that_overflows_its_unit_conversion_is_refused(tmp_path):
    # 1e305 万千瓦时 is finite as written but infinite in kWh.
    path = tmp_path / "firms.csv"
    path.write_text("用地面积,税收,用电量(万千瓦时)\n10,5,1e305\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        read_firm_table(path)
    assert (info.value.line, info.value.field) == (2, "用电量(万千瓦时)")
    assert info.value.message == (
        "must be a finite number, got '1e305' (infinite in electricity_kwh)")


def test_blank_and_not_available_cells_stay_missing(tmp_path):
    path = tmp_path / "firms.csv"
    path.write_text("用地面积,税收,工业增加值\n10,5,\n12,6,N/A\n8,4,300\n", encoding="utf-8")
    table = read_firm_table(path)
    assert table["va_wan_yuan"].isna().tolist() == [True, True, False]
    assert table["va_wan_yuan"].iloc[2] == 300.0


def test_a_non_finite_excel_cell_names_its_row(tmp_path):
    path = tmp_path / "firms.xlsx"
    pd.DataFrame({"用地面积": [10, 12, 9], "税收": [5, 6, "inf"]}).to_excel(path, index=False)
    with pytest.raises(ScenarioError) as info:
        read_firm_table(path)
    assert (info.value.line, info.value.field) == (4, "税收")
    assert "must be a finite number, got 'inf'" in str(info.value)


def test_lines_are_counted_as_the_file_shows_them(tmp_path):
    # A blank line and a name spanning two lines put the row of -3 on line 6, not 4.
    path = tmp_path / "firms.csv"
    path.write_text('企业名称,用地面积,税收\n甲,10,5\n\n"乙\n分厂",12,5\n丙,-3,2\n',
                    encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        read_firm_table(path)
    assert (info.value.line, info.value.field) == (6, "用地面积")


def test_duplicate_ids_name_the_id_and_both_lines(tmp_path):
    path = tmp_path / "firms.csv"
    path.write_text("企业代码,用地面积,税收\n1,10,5\nZJ001,10,5\n2,9,1\n3,8,1\n4,7,1\nZJ001,6,1\n",
                    encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        read_firm_table(path)
    err = info.value
    assert (err.line, err.field) == (7, "企业代码")
    assert err.message == "duplicate id 'ZJ001' (also on line 3)"


def test_ids_equal_as_numbers_are_duplicates(tmp_path):
    path = tmp_path / "firms.csv"
    path.write_text("firm_id,land_mu,tax_wan_yuan\n7,10,5\n8,10,5\n07,10,5\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        read_firm_table(path)
    assert (info.value.line, info.value.message) == (4, "duplicate id '07' (also on line 2)")


@pytest.mark.parametrize(("cell", "message"), [
    ("2.5", "id must be an integer or a code (e.g. a 统一社会信用代码), got '2.5'"),
    ("inf", "id must be an integer or a code (e.g. a 统一社会信用代码), got 'inf'"),
    ("", "missing id"),
])
def test_ids_that_are_not_integers_name_their_line(tmp_path, cell, message):
    path = tmp_path / "firms.csv"
    path.write_text(f"firm_id,land_mu,tax_wan_yuan\n7,10,5\n{cell},10,5\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        read_firm_table(path)
    assert (info.value.line, info.value.field, info.value.message) == (3, "firm_id", message)


def test_an_id_that_is_text_makes_every_id_text(tmp_path):
    # "A8" is a code, not a mistake: every id is then kept as written (7 stays "7").
    path = tmp_path / "firms.csv"
    path.write_text("firm_id,land_mu,tax_wan_yuan\nA8,10,5\n7,12,6\n", encoding="utf-8")
    table = read_firm_table(path)
    assert table["firm_id"].tolist() == ["7", "A8"]
    assert table["land_mu"].tolist() == [12.0, 10.0]


def test_unique_integer_ids_are_kept_and_sorted(tmp_path):
    path = tmp_path / "firms.csv"
    path.write_text("firm_id,land_mu,tax_wan_yuan\n9,10,5\n3,12,6\n", encoding="utf-8")
    table = read_firm_table(path)
    assert table["firm_id"].tolist() == [3, 9]
    assert table["land_mu"].tolist() == [12.0, 10.0]


def test_evaluate_refuses_infinite_land_with_exit_2(tmp_path, capsys):
    from simulator.cli import main

    table = tmp_path / "firms.csv"
    table.write_text("企业名称,用地面积,税收\n甲,10,5\n乙,inf,5\n", encoding="utf-8")
    out = tmp_path / "scored.csv"
    assert main(["evaluate", str(table), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ")
    assert err.endswith("firms.csv:3: 用地面积: must be a finite number, got 'inf'")
    assert not out.exists()

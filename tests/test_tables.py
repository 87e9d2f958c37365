"""Tables people use: Excel and CSV exports, firm tables with credit codes and sector names,
and the list of a run's firms (issue 18, item 5)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from simulator.cli import main
from simulator.evaluation import evaluate_table
from simulator.experiment import compare, run_scenario
from simulator.population import read_firm_table
from simulator.population.sectors import SectorMatcher, read_sector_map
from simulator.results import read_metrics_table
from simulator.results.stats import summarise
from simulator.results.tables import export_tables, result_tables
from simulator.scenario import ScenarioError, apply_changes, load_scenario

ROOT = Path(__file__).resolve().parents[1]
HEADER = ("统一社会信用代码,企业名称,行业,用地面积,税收,工业增加值,营业收入,综合能耗,用电量,"
          "从业人员\n")
ROW = ",10,50,400,2000,100,300000,50\n"  # land, tax, VA, revenue, energy, kWh, employees


def firm_table(tmp_path: Path, rows: list[tuple[str, str, str]], name: str = "firms.csv") -> Path:
    """A firm table of (credit code, name, sector) rows, the same figures on every row."""
    path = tmp_path / name
    path.write_text(HEADER + "".join(f"{code},{firm},{sector}{ROW}" for code, firm, sector in rows),
                    encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def baseline():
    return load_scenario(ROOT / "scenarios" / "baseline.yaml")


@pytest.fixture(scope="module")
def tiny():
    """One year of 100 firms."""
    small = load_scenario(ROOT / "tests" / "scenarios" / "small.yaml")
    return apply_changes(small, {
        "population.n_industrial": 80, "population.n_services": 20, "run.end": "2017-12",
        "timeline": [], "name": "tiny"})


@pytest.fixture(scope="module")
def run_dir(tiny, tmp_path_factory):
    return run_scenario(tiny, out=tmp_path_factory.mktemp("runs"), replications=2,
                        figures=False, workers=1)


@pytest.fixture(scope="module")
def compare_dir(tiny, tmp_path_factory):
    strict = apply_changes(tiny, {"name": "strict",
                                  "tariffs.electricity.class_surcharge_yuan_per_kwh.D": 0.8})
    return compare([tiny, strict], replications=2, out=tmp_path_factory.mktemp("cmp") / "c",
                   figures=False, workers=1)


# ----------------------------------------------------------------- evaluate: Excel, ids


CODES = [("91330100MA27XXXX0X", "甲", "纺织"), ("91330100MA28YYYY1A", "乙", "机械"),
         ("913301007045812345", "丙", "化工")]


def test_evaluate_writes_a_real_excel_workbook_with_credit_codes_as_text(tmp_path, capsys):
    table = firm_table(tmp_path, CODES)
    assert main(["evaluate", str(table), "--out", str(tmp_path / "scored.xlsx")]) == 0
    assert "scored 3 firms" in capsys.readouterr().out
    book = openpyxl.load_workbook(tmp_path / "scored.xlsx")
    assert book.sheetnames == ["scores"]
    sheet = book["scores"]
    header = [c.value for c in sheet[1]]
    ids = [row[header.index("firm_id")] for row in sheet.iter_rows(min_row=2, values_only=True)]
    # Text cells, exactly as written (the all-digit code too: the header names credit codes).
    assert ids == ["913301007045812345", "91330100MA27XXXX0X", "91330100MA28YYYY1A"]
    assert all(isinstance(i, str) for i in ids)
    # The workbook holds the same scores as the CSV output.
    assert main(["evaluate", str(table), "--out", str(tmp_path / "scored.csv")]) == 0
    xlsx = pd.read_excel(tmp_path / "scored.xlsx", dtype={"firm_id": str})
    csv = pd.read_csv(tmp_path / "scored.csv", dtype={"firm_id": str})
    assert list(xlsx.columns) == list(csv.columns)
    assert xlsx["firm_id"].tolist() == csv["firm_id"].tolist() == ids
    np.testing.assert_allclose(xlsx["score"], csv["score"], rtol=1e-9)
    assert xlsx["sector"].tolist() == ["chemicals", "textiles", "machinery"]
    # tax per mu = 50 / 10 on every row.
    assert xlsx["tax_per_mu"].tolist() == [5.0, 5.0, 5.0]


@pytest.mark.parametrize("out", ["scored.xls", "scored.txt", "scored"])
def test_evaluate_refuses_an_unknown_suffix_before_scoring(tmp_path, capsys, out):
    table = firm_table(tmp_path, CODES)
    assert main(["evaluate", str(table), "--out", str(tmp_path / out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --out: cannot write ")
    assert "must end in .xlsx or .csv" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["firms.csv"]


def test_integer_ids_stay_integers_and_any_code_makes_them_text(tmp_path):
    path = tmp_path / "ids.csv"
    path.write_text("企业编号,用地面积,税收\n12,10,5\n007,10,5\n", encoding="utf-8")
    assert read_firm_table(path)["firm_id"].tolist() == [7, 12]
    path.write_text("企业编号,用地面积,税收\n12,10,5\n007,10,5\nZJ-9,10,5\n", encoding="utf-8")
    assert read_firm_table(path)["firm_id"].tolist() == ["007", "12", "ZJ-9"]
    # A digit-only credit code keeps its leading zero under a credit-code header.
    path.write_text("信用代码,用地面积,税收\n012345678901234567,10,5\n", encoding="utf-8")
    assert read_firm_table(path)["firm_id"].tolist() == ["012345678901234567"]


def test_an_id_too_long_for_an_integer_is_a_code_not_a_rounded_number(tmp_path):
    path = tmp_path / "ids.csv"
    path.write_text("企业编号,用地面积,税收\n99999999999999999999,10,5\n"
                    "99999999999999999998,10,5\n", encoding="utf-8")
    assert read_firm_table(path)["firm_id"].tolist() == ["99999999999999999998",
                                                         "99999999999999999999"]


@pytest.mark.parametrize(("rows", "line", "field", "message"), [
    ("91330100MA27XXXX0X,10,5\n91330100MA28YYYY1A,10,5\n91330100MA27XXXX0X,8,5\n", 4,
     "统一社会信用代码", "duplicate id '91330100MA27XXXX0X' (also on line 2)"),
    ("91330100MA27XXXX0X,10,5\n91330100MA28YYYY1A,十,5\n", 3, "用地面积", "not a number: '十'"),
    ("91330100MA27XXXX0X,10,5\n91330100MA28YYYY1A,-4,5\n", 3, "用地面积",
     "must not be negative, got -4"),
    ("91330100MA27XXXX0X,10,5\n,10,5\n", 3, "统一社会信用代码", "missing id"),
])
def test_a_bad_value_names_its_line_and_column(tmp_path, capsys, rows, line, field, message):
    path = tmp_path / "firms.csv"
    path.write_text("统一社会信用代码,用地面积,税收\n" + rows, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        read_firm_table(path)
    assert (info.value.line, info.value.field, info.value.message) == (line, field, message)
    assert main(["evaluate", str(path), "--out", str(tmp_path / "s.xlsx")]) == 2
    assert capsys.readouterr().err == f"error: {path}:{line}: {field}: {message}\n"


# ------------------------------------------------------------------------- sector names


@pytest.mark.parametrize(("name", "sector"), [
    ("机械", "machinery"), ("纺织业", "textiles"), (" Machinery ", "machinery"),
    ("通用及专用设备制造", "machinery"), ("计算机、通信和其他电子设备制造业", "electronics"),
    ("化学原料和化学制品制造业", "chemicals"), ("批发和零售业", "wholesale_retail"),
    ("printing_dyeing", "printing_dyeing"), ("printing dyeing", "printing_dyeing"),
    ("非金属矿物制品业（水泥）", None), ("火箭", None),
])
def test_sectors_match_by_name_label_or_alias(baseline, name, sector):
    matcher = SectorMatcher.for_scenario(baseline)
    code = matcher.code(name)
    assert (None if code is None else baseline.sector_names()[code]) == sector


def test_an_unknown_sector_names_line_column_sectors_and_the_nearest(tmp_path, capsys):
    path = firm_table(tmp_path, [("A1", "甲", "纺织"), ("A2", "乙", "机器")])
    assert main(["evaluate", str(path), "--out", str(tmp_path / "s.csv")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}:3: 行业: unknown sector '机器' (did you mean '机械'?); "
                          "sectors: textiles (纺织), printing_dyeing (印染), ")
    assert "machinery (通用及专用设备制造)" in err
    assert err.rstrip().endswith("Map other names with --sectors FILE (see docs: "
                                 "how-to/real-firm-table)")
    assert err.count("\n") == 1


@pytest.mark.parametrize("kind", ["csv", "yaml"])
def test_a_mapping_file_maps_a_countys_names_and_wins_over_aliases(tmp_path, baseline, kind):
    path = firm_table(tmp_path, [("A1", "甲", "机械加工"), ("A2", "乙", "纺织"),
                                 ("A3", "丙", "机械")])
    mapping = tmp_path / f"map.{kind}"
    mapping.write_text("行业,sector\n机械加工,machinery\n纺织,印染\n" if kind == "csv"
                       else "机械加工: machinery\n纺织: printing_dyeing\n", encoding="utf-8")
    scored = evaluate_table(read_firm_table(path), baseline, sectors=mapping)
    assert scored["sector"].astype(str).tolist() == ["machinery", "printing_dyeing",
                                                     "machinery"]
    assert main(["evaluate", str(path), "--sectors", str(mapping), "--out",
                 str(tmp_path / "s.csv")]) == 0


@pytest.mark.parametrize(("content", "expected"), [
    ("name,sector\n机械加工,rockets\n", "map.csv: 机械加工: maps '机械加工' to 'rockets', which is "
                                        "not a sector of the scenario"),
    ("name,sector\n机械加工\n", "map.csv:2: expected two cells"),
    ("name,sector\n甲,machinery\n甲,textiles\n", "map.csv:3: '甲' is mapped twice"),
    ("name,sector\n", "map.csv: sector mapping has no rows"),
])
def test_a_bad_mapping_file_is_named(tmp_path, capsys, content, expected):
    path = firm_table(tmp_path, [("A1", "甲", "机械加工")])
    (tmp_path / "map.csv").write_text(content, encoding="utf-8")
    assert main(["evaluate", str(path), "--sectors", str(tmp_path / "map.csv"), "--out",
                 str(tmp_path / "s.csv")]) == 2
    assert expected in capsys.readouterr().err


def test_read_sector_map_reads_gbk_csv(tmp_path):
    path = tmp_path / "map.csv"
    path.write_bytes("行业,对应\n机械加工,machinery\n".encode("gbk"))
    assert read_sector_map(path) == {"机械加工": "machinery"}


# ----------------------------------------------------------------------------- export


def test_a_runs_tables_go_to_one_workbook_with_units_and_notes(run_dir, tmp_path):
    out = tmp_path / "tables.xlsx"
    assert main(["export", str(run_dir), "--out", str(out)]) == 0
    book = openpyxl.load_workbook(out, read_only=True)
    assert book.sheetnames == ["Summary", "Annual metrics", "Monthly metrics", "Notes"]
    metrics = read_metrics_table(run_dir / "metrics.parquet")
    annual = pd.read_excel(out, sheet_name="Annual metrics")
    expected = metrics[metrics["month"].isna()]
    assert len(annual) == len(expected)
    np.testing.assert_allclose(annual["value"], expected["value"], rtol=1e-12)
    tax = annual[(annual["metric"] == "tax_per_mu_wan_yuan") & (annual["group"] == "all")]
    assert set(tax["unit"]) == {"万元/mu"}
    summary = pd.read_excel(out, sheet_name="Summary")
    want = summarise(metrics)
    np.testing.assert_allclose(summary["mean"], want["mean"], rtol=1e-12)
    np.testing.assert_allclose(summary["ci_high"], want["ci_high"], rtol=1e-12)
    notes = pd.read_excel(out, sheet_name="Notes")
    assert notes["table"].tolist() == ["summary", "annual", "monthly"]
    assert notes["rows"].tolist() == [len(want), len(expected),
                                      int(metrics["month"].notna().sum())]


def test_a_comparisons_tables_equal_its_csv_files(compare_dir, tmp_path):
    out = tmp_path / "cmp.xlsx"
    assert export_tables(compare_dir, out) == [out]
    sheets = pd.read_excel(out, sheet_name=None)
    assert list(sheets) == ["Key outcomes", "Summary", "Differences", "Notes"]
    for sheet, name in (("Key outcomes", "table.csv"), ("Differences", "differences.csv")):
        csv = pd.read_csv(compare_dir / name)
        got = sheets[sheet]
        assert len(got) == len(csv)
        for column in ("mean", "ci_low", "ci_high") if "ci_low" in csv else ("mean",):
            np.testing.assert_allclose(got[column], csv[column], rtol=1e-9, equal_nan=True)


def test_export_to_csv_one_table_or_a_directory(compare_dir, tmp_path, capsys):
    assert main(["export", str(compare_dir), "--out", str(tmp_path / "x.csv")]) == 2
    assert "choose one with --table" in capsys.readouterr().err
    one = tmp_path / "differences.csv"
    assert main(["export", str(compare_dir), "--table", "differences", "--out", str(one)]) == 0
    pd.testing.assert_frame_equal(
        pd.read_csv(one).drop(columns=["label", "unit"]),
        pd.read_csv(compare_dir / "differences.csv"), check_dtype=False)
    assert main(["export", str(compare_dir), "--out", str(tmp_path / "csvs")]) == 0
    assert sorted(p.name for p in (tmp_path / "csvs").iterdir()) == [
        "differences.csv", "key_outcomes.csv", "summary.csv"]
    assert main(["export", str(compare_dir), "--table", "sobol", "--out",
                 str(tmp_path / "y.xlsx")]) == 2
    assert "no table 'sobol' in this directory; its tables: key_outcomes, summary, " \
           "differences, metrics" in capsys.readouterr().err


def test_export_in_chinese(run_dir, tmp_path):
    tables = result_tables(run_dir, names=["summary"], lang="zh")
    assert [t.title for t in tables] == ["汇总"]
    row = tables[0].frame.query("metric == 'tax_per_mu_wan_yuan' and group == 'all'").iloc[0]
    assert (row["label"], row["unit"]) == ("亩均税收", "万元/亩")
    out = tmp_path / "zh.xlsx"
    export_tables(run_dir, out, names=["summary"], lang="zh")
    assert openpyxl.load_workbook(out).sheetnames == ["汇总", "说明"]


def test_a_damaged_results_directory_is_one_line_naming_the_file(run_dir, tmp_path, capsys):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(run_dir, broken)
    (broken / "metrics.parquet").write_bytes(b"garbage")
    assert main(["export", str(broken), "--out", str(tmp_path / "t.xlsx")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {broken / 'metrics.parquet'}: metrics.parquet is damaged")
    assert err.count("\n") == 1
    assert not (tmp_path / "t.xlsx").exists()
    assert main(["export", str(tmp_path), "--out", str(tmp_path / "t.xlsx")]) == 2
    assert "not a results directory" in capsys.readouterr().err


# ------------------------------------------------------------------------ firms command


def test_firms_lists_a_runs_firms_by_class_sector_and_year(run_dir, tmp_path, capsys):
    firms = pd.read_parquet(run_dir / "firms.parquet")
    last = firms[(firms["year"] == 2017) & (firms["replication"] == 0)]
    d = last[last["class"] == "D"].sort_values(["score", "firm_id"], ascending=[False, True])
    out = tmp_path / "d.xlsx"
    assert main(["firms", str(run_dir), "--class", "D", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"{len(d)} firm{'s' if len(d) != 1 else ''} in 2017 (replication 0)" in printed
    listed = pd.read_excel(out)
    assert listed["firm_id"].tolist() == d["firm_id"].tolist()
    assert set(listed["class"]) == {"D"}
    np.testing.assert_allclose(listed["tax_per_mu"], d["ind_tax_per_mu"], equal_nan=True)
    machinery = last[last["sector"] == "machinery"]
    assert main(["firms", str(run_dir), "--sector", "机械", "--sort", "land_mu", "--descending",
                 "--limit", "0", "--out", str(tmp_path / "m.csv")]) == 0
    listed = pd.read_csv(tmp_path / "m.csv")
    assert listed["firm_id"].tolist() == machinery.sort_values(
        ["land_mu", "firm_id"], ascending=[False, True])["firm_id"].tolist()
    assert f"card {run_dir} --firm {listed['firm_id'].iloc[0]}" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "expected"), [
    (["--year", "2031"], "--year: the run has no year 2031; it has 2017"),
    (["--sector", "机器"], "--sector: unknown sector '机器' (did you mean '机械'?)"),
    (["--region", "mars"], "--region: the run has no region 'mars'; it has county"),
    (["--sort", "scroe"], "--sort: cannot sort by 'scroe' (did you mean 'score'?)"),
    (["--out", "x.ods"], "--out: cannot write 'x.ods'"),
])
def test_firms_errors_exit_2(run_dir, capsys, args, expected):
    assert main(["firms", str(run_dir), *args]) == 2
    assert expected in capsys.readouterr().err


def test_scored_table_round_trips_through_excel_with_pandas(tmp_path, baseline):
    path = firm_table(tmp_path, CODES)
    scored = evaluate_table(read_firm_table(path), baseline)
    from simulator.results.tables import write_table

    write_table(scored, tmp_path / "s.xlsx", sheet="scores")
    back = pd.read_excel(tmp_path / "s.xlsx", dtype={"firm_id": str})
    assert back["firm_id"].tolist() == scored["firm_id"].tolist()
    assert back["class"].tolist() == scored["class"].astype(str).tolist()
    np.testing.assert_allclose(back["score"], scored["score"], rtol=1e-12)

"""The command line: exit codes, one-line errors, nothing half-written."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from simulator.cli import main

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "tests" / "scenarios" / "small.yaml"
BASELINE = ROOT / "scenarios" / "baseline.yaml"


def scenario_file(tmp_path: Path, body: str, name: str = "bad.yaml") -> Path:
    (tmp_path / "baseline.yaml").write_text(BASELINE.read_text(encoding="utf-8"),
                                            encoding="utf-8")
    path = tmp_path / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


BAD_SCENARIOS = {
    "unknown key": ("extends: baseline.yaml\nname: x\nseeed: 3\n", "did you mean 'seed'"),
    "wrong type": ("extends: baseline.yaml\nname: x\nseed: many\n", "seed"),
    "negative price": ("extends: baseline.yaml\nname: x\ntariffs:\n  electricity:\n"
                       "    general_price_yuan_per_kwh: -0.1\n", "general_price_yuan_per_kwh"),
    "shares not summing to 1": ("extends: baseline.yaml\nname: x\nevaluation:\n"
                                "  classification:\n    shares: {A: 0.5, B: 0.5, C: 0.5, D: 0}\n",
                                "sum to 1"),
    "decreasing tiers": ("extends: baseline.yaml\nname: x\ntariffs:\n  water:\n    blocks:\n"
                         "      - {up_to_quota_ratio: 2.0, multiplier: 1}\n"
                         "      - {up_to_quota_ratio: 1.5, multiplier: 2}\n"
                         "      - {up_to_quota_ratio: null, multiplier: 3}\n", "must increase"),
    "missing extends": ("extends: nowhere.yaml\nname: x\n", "file not found"),
    "date outside run": ("extends: baseline.yaml\nname: x\ntimeline:\n"
                         "  - {date: 2040-01, set: {seed: 2}}\n", "outside the run"),
    "infinite price": ("extends: baseline.yaml\nname: x\nmarkets:\n  energy:\n"
                       "    price: {ceiling_yuan_per_unit: .inf}\n",
                       "ceiling_yuan_per_unit: Input should be a finite number"),
    "not a number": ("extends: baseline.yaml\nname: x\nmarkets:\n  emissions:\n    cod:\n"
                     "      cap: {yearly: {2020: .nan}}\n",
                     "markets.emissions.cod.cap.yearly.2020: Input should be a finite number"),
    "falling surcharge": ("extends: baseline.yaml\nname: x\nmarkets:\n  energy:\n"
                          "    overquota_surcharge:\n"
                          "      - {above: 0.0, price_yuan_per_unit: 3000}\n"
                          "      - {above: 0.1, price_yuan_per_unit: 2000}\n",
                          "overquota_surcharge: tier prices must not fall"),
    "timeline floor above ceiling": (
        "extends: baseline.yaml\nname: x\ntimeline:\n"
        "  - {date: 2020-01, set: {markets.energy.price.floor_yuan_per_unit: 5000}}\n",
        "timeline.0.set.markets.energy.price.floor_yuan_per_unit: from 2020-01, "
        "markets.energy.price: price floor 5000 is above the ceiling"),
    "timeline term of zero years": (
        "extends: baseline.yaml\nname: x\ntimeline:\n"
        "  - {date: 2020-01, set: {markets.emissions.cod.term_years: 0}}\n",
        "from 2020-01, markets.emissions.cod.term_years: Input should be greater than or equal"),
    "timeline auction schedule": (
        "extends: baseline.yaml\nname: x\ntimeline:\n"
        "  - {date: 2020-01, set: {markets.energy.auctions_per_year: 2}}\n",
        "markets.energy.auctions_per_year: this field cannot change during a run"),
    "absurd entry rate": ("extends: baseline.yaml\nname: x\ndynamics:\n  entry:\n"
                          "    candidates_per_year_per_1000_firms: 1.0e12\n",
                          "candidates_per_year_per_1000_firms: Input should be less than or "
                          "equal to 10000"),
    "empty file": ("", "empty"),
    "not YAML at all": ("name: [x\n", "not valid YAML"),
}


@pytest.mark.parametrize("case", sorted(BAD_SCENARIOS))
def test_bad_scenario_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys, case):
    body, expected = BAD_SCENARIOS[case]
    path = scenario_file(tmp_path, body)
    out = tmp_path / "results"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ")
    assert "bad.yaml" in err
    assert expected in err
    assert "\n" not in err
    assert not out.exists()


def test_extends_cycle_exits_2(tmp_path, capsys):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\nname: a\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\nname: b\n", encoding="utf-8")
    assert main(["validate", str(tmp_path / "a.yaml")]) == 2
    assert "extends cycle" in capsys.readouterr().err


def test_error_has_no_traceback_in_a_real_process(tmp_path):
    path = scenario_file(tmp_path, "extends: baseline.yaml\nname: x\nseeed: 3\n")
    proc = subprocess.run([sys.executable, str(ROOT / "run.py"), "validate", str(path)],
                          capture_output=True, text=True, cwd=tmp_path, check=False)
    assert proc.returncode == 2
    assert proc.stderr == ("error: bad.yaml:3: seeed: unknown field (did you mean 'seed'?)\n")


def test_validate_accepts_the_shipped_scenarios_and_sweeps(capsys):
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "valid scenario 'no_differentiation'" in out
    assert "valid sweep 'sweep_sobol_levers' (sobol design, 1,024 points x 1 replication = " \
           "1,024 runs)" in out
    bad = ROOT / "tests" / "scenarios" / "bad_sweep_unknown_key.yaml"
    assert main(["validate", str(bad)]) == 2


def test_run_writes_a_complete_results_directory(tmp_path, capsys):
    assert main(["run", str(SMALL), "--out", str(tmp_path), "--seed", "5"]) == 0
    out = capsys.readouterr().out
    (run_dir,) = (tmp_path / "small").iterdir()
    assert f"results: {run_dir}" in out
    assert "Tax per mu, above-scale" in out
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == 5
    assert manifest["scenario"]["name"] == "small"
    assert manifest["wall_time_s"] > 0
    for name in ("indicators", "class_counts", "resource_bill", "transitions"):
        assert (run_dir / "figures" / f"{name}.png").stat().st_size > 0
        assert (run_dir / "figures" / f"{name}.svg").stat().st_size > 0


def test_plot_remakes_figures_from_files(tmp_path, capsys):
    assert main(["run", str(SMALL), "--out", str(tmp_path), "--quiet", "--no-figures"]) == 0
    (run_dir,) = (tmp_path / "small").iterdir()
    assert not (run_dir / "figures").exists()
    assert main(["plot", str(run_dir)]) == 0
    assert (run_dir / "figures" / "indicators.png").exists()
    assert main(["plot", str(tmp_path)]) == 2


def test_schema_is_json(tmp_path):
    out = tmp_path / "schema.json"
    assert main(["schema", "--out", str(out)]) == 0
    schema = json.loads(out.read_text(encoding="utf-8"))
    assert "tariffs" in schema["properties"]


FIRM_TABLE = (
    "企业名称,行业,用地面积,税收,工业增加值,营业收入,综合能耗,用电量,从业人员,研发经费,"
    "化学需氧量,氨氮,二氧化硫,氮氧化物\n"
    "甲公司,纺织,20,500,2000,9000,900,3000000,100,90,0.5,0.05,0.4,0.4\n"
    "乙公司,machinery,8,40,300,1500,30,200000,20,30,0.02,0.002,0.01,0.01\n"
    "丙公司,电子信息,12,300,1500,7000,120,900000,60,280,0,0,0,0\n"
)


def test_evaluate_scores_a_firm_table(tmp_path, capsys):
    table = tmp_path / "firms.csv"
    table.write_text(FIRM_TABLE, encoding="utf-8")
    out = tmp_path / "scored.csv"
    assert main(["evaluate", str(table), "--out", str(out)]) == 0
    scored = pd.read_csv(out)
    assert list(scored["name"]) == ["甲公司", "乙公司", "丙公司"]
    # Two above-scale firms: 甲 tax/mu 25, 丙 tax/mu 25; 乙 (revenue 1500) is below scale.
    assert list(scored["tier"]) == ["above_scale", "below_scale", "above_scale"]
    assert scored.loc[0, "tax_per_mu"] == 25.0
    assert set(scored["class"]) <= {"A", "B", "C", "D", "U"}
    assert "scored 3 firms" in capsys.readouterr().out


@pytest.mark.parametrize(("content", "expected"), [
    ("企业名称,税收\n甲,10\n", "missing required column"),
    ("企业名称,用地面积,税收\n甲,-2,10\n", "must not be negative"),
    ("", "empty"),
    # Columns are needed for the tiers in the table: above scale, VA; below scale, kWh.
    ("企业名称,用地面积,税收,是否规上\n甲,10,5,是\n", "firms.csv: va_wan_yuan: missing column"),
    ("企业名称,用地面积,税收\n甲,10,5\n",
     "firms.csv: electricity_kwh: missing column electricity_kwh (needed for tax_per_kwh)"),
])
def test_bad_firm_tables_exit_2(tmp_path, capsys, content, expected):
    table = tmp_path / "firms.csv"
    table.write_text(content, encoding="utf-8")
    out = tmp_path / "scored.csv"
    assert main(["evaluate", str(table), "--out", str(out)]) == 2
    assert expected in capsys.readouterr().err
    assert not out.exists()


def test_a_table_of_below_scale_firms_needs_only_their_indicators(tmp_path):
    table = tmp_path / "small_firms.csv"
    table.write_text("企业名称,用地面积,税收,用电量,是否规上\n甲,10,5,100000,否\n乙,8,2,50000,否\n",
                     encoding="utf-8")
    out = tmp_path / "scored.csv"
    assert main(["evaluate", str(table), "--out", str(out)]) == 0
    scored = pd.read_csv(out)
    assert list(scored["tier"]) == ["below_scale", "below_scale"]
    assert list(scored["tax_per_mu"]) == [0.5, 0.25]
    # 甲 pays more tax per mu (0.5 against 0.25) and per kWh (0.5 against 0.4 per 10^4 kWh).
    assert scored.loc[0, "score"] > scored.loc[1, "score"] > 0


def test_a_scenario_on_a_firm_table_is_validated_with_its_table(tmp_path, capsys):
    # validate reads the table a scenario runs on; run stops on it and leaves nothing.
    (tmp_path / "firms.csv").write_text("name,land_mu,tax_wan_yuan\nA,-10,5\n",
                                        encoding="utf-8")
    path = scenario_file(tmp_path, "extends: baseline.yaml\nname: own_firms\n"
                                   "population: {source: file, file: firms.csv}\n",
                         name="own.yaml")
    assert main(["validate", str(path)]) == 2
    assert "firms.csv:2: land_mu: must not be negative" in capsys.readouterr().err
    out = tmp_path / "results"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 2
    assert not out.exists()  # not even an empty results/own_firms/


def test_terminal_tables_print_large_values_and_intervals_in_full(capsys):
    # A mean just under 10^4 and interval bounds above it: never "1e+04" or "1.23e+04",
    # the difference signed, a missing interval left out and a missing value a dash.
    from simulator.cli.output import print_comparison, print_summary

    table = pd.DataFrame({
        "indicator": ["VA", "VA"], "scenario": ["base", "alt"], "year": [2030, 2030],
        "mean": [9999.6, 12345.4], "ci_low": [9000.2, 12001.0], "ci_high": [10999.7, 12690.0],
        "diff": [float("nan"), 2345.8], "diff_ci_low": [float("nan"), 1999.9],
        "diff_ci_high": [float("nan"), 2691.2]})
    print_comparison(table, replications=3)
    out = capsys.readouterr().out
    assert "10,000 [9,000, 11,000]" in out
    assert "12,345 [12,001, 12,690]" in out
    assert "+2,346 [2,000, 2,691]" in out
    assert "e+" not in out

    summary = pd.DataFrame({"2029": [0.25, float("nan")], "2030": [31415.9, 2.5],
                            "2030 ci_low": [30000.0, float("nan")],
                            "2030 ci_high": [32831.8, float("nan")]},
                           index=["share", "price"])
    print_summary("s", {"firms": 10, "seed": 1, "wall_time_s": 0.5, "replications": 3},
                  summary)
    out = capsys.readouterr().out
    assert "31,416 [30,000, 32,832]" in out
    assert "0.25" in out
    assert "2.5 " in out
    assert "—" in out
    assert "e+" not in out


def _write_results(directory: Path, files: dict[str, object]) -> None:
    """Write a results directory: ``"metrics"`` / ``"firms"`` make tables with those columns."""
    from simulator.results import METRICS_COLUMNS

    tables = {"metrics": METRICS_COLUMNS, "metrics lacking month": ("year", "metric"),
              "firms": ("replication", "year", "firm_id"), "firms lacking ids": ("year",)}
    directory.mkdir()
    for name, content in files.items():
        if content in tables:
            pd.DataFrame({c: [0] for c in tables[content]}).to_parquet(directory / name)
        elif isinstance(content, bytes):
            (directory / name).write_bytes(content)
        else:
            (directory / name).write_text(str(content), encoding="utf-8")


BAD_RESULTS = {
    "plot: no manifest": ("plot", {"metrics.parquet": "metrics"}, "manifest.json: incomplete"),
    "plot: manifest not an object": ("plot", {"metrics.parquet": "metrics",
                                              "manifest.json": "[1]"},
                                     "manifest.json: manifest.json does not hold a JSON object"),
    "plot: metrics lack columns": ("plot", {"metrics.parquet": "metrics lacking month",
                                            "manifest.json": "{}"},
                                   "metrics.parquet: metrics.parquet lacks columns month"),
    "plot: metrics not Parquet": ("plot", {"metrics.parquet": "garbage", "manifest.json": "{}"},
                                  "metrics.parquet: cannot read metrics.parquet"),
    "report: metrics not Parquet": ("report", {"metrics.parquet": "garbage",
                                               "manifest.json": "{}"},
                                    "metrics.parquet: cannot read metrics.parquet"),
    "report: stored scenario not YAML": ("report", {"metrics.parquet": "metrics",
                                                    "manifest.json": "{}",
                                                    "scenario.yaml": "name: x\nrun: [2017\n"},
                                         "scenario.yaml:3: cannot read scenario.yaml"),
    "report: stored scenario not UTF-8": ("report", {"metrics.parquet": "metrics",
                                                      "manifest.json": "{}",
                                                      "scenario.yaml": b"name: \xff\n"},
                                          "scenario.yaml: cannot read scenario.yaml"),
    "report: summary not text": ("report", {
        "experiment.json": '{"kind": "compare", "scenarios": ["a", "b"]}',
        "summary.csv": b"\xff\xfe\x00,\n", "differences.csv": b"\xff\n"},
        "summary.csv: cannot read summary.csv"),
    "card: snapshots not Parquet": ("card", {"firms.parquet": "garbage", "manifest.json": "{}"},
                                    "firms.parquet: cannot read firms.parquet"),
    "card: snapshots lack firm ids": ("card", {"firms.parquet": "firms lacking ids",
                                               "manifest.json": "{}"},
                                      "firms.parquet: firms.parquet lacks columns "
                                      "replication, firm_id"),
    "card: no manifest": ("card", {"firms.parquet": "firms"}, "manifest.json: incomplete"),
    "card: manifest not JSON": ("card", {"firms.parquet": "firms", "manifest.json": "{"},
                                "manifest.json: cannot read manifest.json"),
}


@pytest.mark.parametrize("case", sorted(BAD_RESULTS))
def test_bad_results_directory_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys, case):
    command, files, expected = BAD_RESULTS[case]
    run_dir = tmp_path / "run"
    _write_results(run_dir, files)
    args = [command, str(run_dir)] + (["--firm", "0"] if command == "card" else [])
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ")
    assert expected in err
    assert "\n" not in err
    assert sorted(p.name for p in run_dir.iterdir()) == sorted(files)  # nothing written

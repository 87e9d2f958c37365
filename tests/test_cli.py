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


# ------------------------------------------------------------ conventions (issue 18, item 6)


def tiny_scenario(tmp_path: Path, name: str = "tiny") -> Path:
    """One year of 100 firms, as a file."""
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"extends: {SMALL.as_posix()}\nname: {name}\n"
                    "population: {n_industrial: 80, n_services: 20}\n"
                    "run: {start: 2017-01, end: 2017-12}\ntimeline: []\n", encoding="utf-8")
    return path


def test_version_prints_the_package_version_and_git_revision(capsys):
    from simulator.results import git_revision, package_version

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"mujun {package_version()}")
    revision = git_revision()
    if revision:
        assert f"(git {revision[:12]}" in out


@pytest.mark.parametrize(("typed", "hint"), [
    ("compre", " (did you mean 'compare'?)"), ("sweeep", " (did you mean 'sweep'?)"),
    ("evalute", " (did you mean 'evaluate' or 'validate' or 'calibrate'?)"),
    ("fimrs", " (did you mean 'firms'?)"), ("xyzzy", ""),
])
def test_a_mistyped_command_says_did_you_mean_and_exits_2(tmp_path, capsys, typed, hint):
    assert main([typed, "a.yaml", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: unknown command {typed!r}{hint}; commands: run, compare, ")
    assert err.count("\n") == 1
    assert not (tmp_path / "r").exists()


def test_a_bare_scenario_path_still_runs(tmp_path, capsys):
    path = tiny_scenario(tmp_path)
    assert main([str(path), "--out", str(tmp_path / "r"), "--no-figures"]) == 0
    out = capsys.readouterr().out
    assert "results: " in out
    # One replication: the summary says there is no interval.
    assert "one replication: no intervals" in out
    assert main(["--seed", "3", str(path), "--out", str(tmp_path / "r"), "--quiet",
                 "--no-figures"]) == 0
    assert len(list((tmp_path / "r" / "tiny").iterdir())) == 2


def _commands():
    from simulator.cli.parser import build_parser, commands

    parser = build_parser()
    subs = {name: sub for action in parser._actions
            if isinstance(action, __import__("argparse")._SubParsersAction)
            for name, sub in action.choices.items()}
    return parser, commands(parser), subs


def test_every_argument_has_help_and_every_command_an_example():
    import argparse
    import shlex

    parser, names, subs = _commands()
    assert {"export", "firms"} <= set(names)
    for name, sub in subs.items():
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help, f"{name} {action.dest}: no help"
        assert (sub.epilog or "").startswith("example:\n"), name
        for line in sub.epilog.splitlines()[1:]:
            words = shlex.split(line)
            assert words[:3] == ["python", "run.py", name], line
            if name != "report":  # its options are the brief helper's
                sub.parse_args(words[3:])  # the example parses
        assert "example:" in sub.format_help()


def test_compare_and_sweeps_run_five_replications_by_default():
    import inspect

    from simulator.experiment import compare
    from simulator.sweep.spec import SweepSpec

    parser, _, subs = _commands()
    assert parser.parse_args(["compare", "a.yaml", "b.yaml"]).replications == 5
    assert "default 5, enough for a paired 95% interval" in " ".join(
        subs["compare"].format_help().split())
    assert inspect.signature(compare).parameters["replications"].default == 5
    assert SweepSpec.model_fields["replications"].default == 5
    assert parser.parse_args(["sweep", "s.yaml"]).replications is None  # the file's
    assert parser.parse_args(["run"]).replications == 1
    quiet = next(a for a in subs["sweep"]._actions if a.dest == "quiet")
    assert "table" not in quiet.help  # the sweep prints no table


@pytest.mark.parametrize(("count", "noun", "text"), [
    (1, "replication", "1 replication"), (3, "replication", "3 replications"),
    (0, "firm", "0 firms"), (1024, "run", "1,024 runs"), (2, "series", "2 series")])
def test_plurals(count, noun, text):
    from simulator.cli.output import plural

    assert plural(count, noun, "series" if noun == "series" else None) == text


def test_validate_counts_timeline_changes_in_words(tmp_path, capsys):
    assert main(["validate", str(ROOT / "scenarios" / "strict_d_2019.yaml")]) == 0
    assert "(2017-01 to 2030-12, 1 timeline change)" in capsys.readouterr().out
    assert main(["validate", str(ROOT / "scenarios" / "baseline.yaml")]) == 0
    assert "0 timeline changes)" in capsys.readouterr().out


def test_the_comparison_table_has_even_decimals_and_marks_significance(capsys):
    from simulator.cli.output import print_comparison

    nan = float("nan")
    table = pd.DataFrame({
        "indicator": ["Tax", "Tax", "Firms", "Firms"], "scenario": ["a", "b", "a", "b"],
        "year": [2030] * 4, "mean": [25.3456, 26.5, 400.0, 398.4],
        "ci_low": [24.1, 25.05, 390.0, 389.0], "ci_high": [26.6, 27.9, 410.0, 407.9],
        "diff": [nan, 1.1544, nan, -1.6], "diff_ci_low": [nan, 0.2, nan, -4.1],
        "diff_ci_high": [nan, 2.1, nan, 0.9]})
    print_comparison(table, replications=5)
    out = capsys.readouterr().out
    # Four significant digits of the row's largest number, every cell of the row alike.
    assert "25.35 [24.10, 26.60]" in out
    assert "26.50 [25.05, 27.90]" in out
    assert "+1.15 [0.20, 2.10] *" in out  # the interval excludes zero
    assert "400.0 [390.0, 410.0]" in out
    assert "-1.6 [-4.1, 0.9]" in out
    assert "0.9] *" not in out  # it crosses zero
    assert "over 5 replications" in out
    assert "* the paired difference's 95% interval excludes zero" in out
    print_comparison(table.assign(ci_low=nan, ci_high=nan, diff_ci_low=nan,
                                  diff_ci_high=nan), replications=1)
    out = capsys.readouterr().out
    assert "over 1 replication;" in out
    assert "one replication: no intervals" in out
    assert "*" not in out


def test_results_and_figures_are_announced_before_they_are_written(tmp_path):
    from simulator.experiment import compare, run_scenario
    from simulator.scenario import load_scenario

    tiny = load_scenario(tiny_scenario(tmp_path))
    seen = []
    run_dir = run_scenario(tiny, out=tmp_path / "r", figures=False,
                           before_writing=lambda: seen.append(
                               list((tmp_path / "r").rglob("metrics.parquet"))))
    assert seen == [[]]
    assert (run_dir / "metrics.parquet").exists()
    twin = load_scenario(tiny_scenario(tmp_path, "twin"))
    seen.clear()
    out = compare([tiny, twin], replications=2, out=tmp_path / "c", figures=False, workers=1,
                  before_writing=lambda: seen.append((tmp_path / "c" / "table.csv").exists()))
    assert seen == [False]
    assert (out / "table.csv").exists()


def test_the_progress_bar_shows_the_writing_status(monkeypatch):
    from simulator.cli import output

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with output.run_bar("x", quiet=False) as bar:
        bar(2, 2, 0)
        bar.status()
        task = bar._progress.tasks[0]
        assert (task.completed, task.total, task.fields["status"]) == (2, 2, output.WRITING)
    assert output.WRITING == "Writing results and figures…"
    with output.run_bar("x", quiet=True) as bar:
        assert bar is None
        assert output.status_of(bar) is None


def test_a_variant_saved_anywhere_extends_the_shipped_baseline(tmp_path, capsys):
    path = tmp_path / "strict_d.yaml"
    path.write_text("extends: baseline.yaml\nname: strict_d\ntimeline:\n"
                    "  - {date: 2019-01, set: {tariffs.electricity.class_surcharge_yuan_per_kwh.D:"
                    " 0.5}}\n", encoding="utf-8")
    assert main(["validate", str(path)]) == 0
    assert "valid scenario 'strict_d'" in capsys.readouterr().out
    # A file next to it is still preferred, and a path that is not a bare name is not redirected.
    assert main(["validate", str(scenario_file(tmp_path, "extends: baseline.yaml\nname: y\n"
                                               "seeed: 1\n"))]) == 2
    path.write_text("extends: sub/baseline.yaml\nname: z\n", encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    assert "file not found" in capsys.readouterr().err

"""Policy brief (simulator.report): run, comparison and sweep directories."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from matplotlib.figure import Figure
from scipy import stats

from simulator.experiment import SUMMARY_ROWS, run_scenario
from simulator.report import Markup, fmt, html_table, write_report
from simulator.scenario import ScenarioError, apply_changes, load_scenario

SMALL = Path(__file__).parent / "scenarios" / "small.yaml"
KEY_METRIC, KEY_GROUP, KEY_LABEL = SUMMARY_ROWS[0]


def _png(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig = Figure(figsize=(1, 1))
    fig.add_subplot().plot([0, 1], [0, 1])
    fig.savefig(path, format="png")
    return path


def _assert_self_contained(text: str, n_images: int) -> None:
    assert text.startswith("<!DOCTYPE html>")
    assert not re.search(r'(src|href)\s*=\s*"(?!data:)', text), "external resource"
    assert "http" not in re.sub(r"<pre>.*?</pre>", "", text, flags=re.S)
    assert "<script" not in text
    assert "<link" not in text
    assert text.count('<img src="data:image/png;base64,') == n_images


def _ci(values: list[float]) -> tuple[float, float, float]:
    a = np.asarray(values, dtype=float)
    half = stats.t.ppf(0.975, a.size - 1) * a.std(ddof=1) / np.sqrt(a.size)
    return a.mean(), a.mean() - half, a.mean() + half


# ---------------------------------------------------------------- helpers


def test_fmt_keeps_four_significant_digits_and_groups_thousands():
    assert fmt(25.14159) == "25.14"
    assert fmt(1234567.8) == "1,234,568"
    assert fmt(9999.7) == "10,000"
    assert fmt(float("nan")) == "—"
    assert fmt(0.5, signed=True) == "+0.5"
    assert fmt(-3.0, signed=True) == "-3"
    assert fmt(0.030212) == "0.03021"


def test_html_table_escapes_text_but_not_markup():
    table = html_table(["a<b", "n"], [("<script>", Markup("<b>1</b>"))])
    assert "&lt;script&gt;" in table
    assert "a&lt;b" in table
    assert "<b>1</b>" in table


# ---------------------------------------------------------------- a run


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    scenario = apply_changes(load_scenario(SMALL), {
        "population.n_industrial": 160, "population.n_services": 40, "run.end": "2019-12"})
    return run_scenario(scenario, out=tmp_path_factory.mktemp("report"), figures=True)


def test_run_brief_holds_the_key_numbers_and_embedded_figures(run_dir: Path):
    path = write_report(run_dir)
    assert path == run_dir / "brief.html"
    text = path.read_text(encoding="utf-8")
    _assert_self_contained(text, len(list((run_dir / "figures").glob("*.png"))))
    assert "Policy brief: scenario small" in text
    metrics = pd.read_parquet(run_dir / "metrics.parquet")
    annual = metrics[metrics["month"].isna()]
    for metric, group, label in SUMMARY_ROWS:
        rows = annual[(annual["metric"] == metric) & (annual["group"] == group)]
        values = rows.sort_values("year")["value"].to_numpy()
        cells = "".join(f"<td class=num>{fmt(v)}</td>" for v in (values[0], values[-1]))
        assert f"<td>{label}</td>{cells}" in text, label
    # The timeline change, the resolved scenario and the manifest are in the brief.
    assert "tariffs.electricity.class_surcharge_yuan_per_kwh.D" in text
    assert "name: small" in text
    assert "&quot;git_revision&quot;" in text
    assert not list(run_dir.glob(".*tmp*"))


def test_run_brief_says_what_each_market_did_and_flags_slack_ones(run_dir: Path):
    from simulator.reporting.diagnostics import market_summary

    text = write_report(run_dir).read_text(encoding="utf-8")
    assert "<h3>Quota markets</h3>" in text
    summary = market_summary(pd.read_parquet(run_dir / "metrics.parquet"))
    for m in summary.itertuples():
        label = {"energy": "Energy-use rights", "cod": "COD emission rights",
                 "nh3n": "NH3-N emission rights", "so2": "SO2 emission rights",
                 "nox": "NOx emission rights"}[m.market]
        line = re.search(rf"<p( class=\"warn\")?>{label}: (.*?)</p>", text)
        assert line is not None, label
        assert f"{100 * m.administrative_share:.0f}% of the auctions" in line.group(2)
        # a market whose cap never bound, or mostly priced by the reserve, is flagged
        flagged = not m.binding_years or m.administrative_share > 0.5
        assert (line.group(1) is not None) == flagged, label
        assert ("never bound" in line.group(2)) == (not m.binding_years)


def test_run_brief_makes_the_figures_when_they_are_missing(run_dir: Path, tmp_path: Path):
    bare = tmp_path / "bare"
    shutil.copytree(run_dir, bare, ignore=shutil.ignore_patterns("figures", "brief.html"))
    out = write_report(bare, out=tmp_path / "out" / "b.html")
    assert out == tmp_path / "out" / "b.html"
    pngs = list((bare / "figures").glob("*.png"))
    assert len(pngs) >= 4
    _assert_self_contained(out.read_text(encoding="utf-8"), len(pngs))


def test_run_brief_in_chinese(run_dir: Path, tmp_path: Path):
    text = write_report(run_dir, out=tmp_path / "zh.html", lang="zh").read_text(encoding="utf-8")
    assert "政策简报" in text
    assert "规上工业亩均税收" in text
    assert '<html lang="zh-CN">' in text


def _synthetic_run(directory: Path, values: dict[int, list[float]]) -> Path:
    """A run directory with three replications of one key indicator, and one figure."""
    rows = [{"year": year, "month": None, "scenario": "toy", "replication": r,
             "group": KEY_GROUP, "metric": KEY_METRIC, "value": v}
            for year, reps in values.items() for r, v in enumerate(reps)]
    directory.mkdir(parents=True)
    metrics = pd.DataFrame(rows).astype({"month": "Int8"})
    metrics.to_parquet(directory / "metrics.parquet")
    (directory / "manifest.json").write_text(json.dumps(
        {"scenario_name": "toy", "seed": 7, "replications": 3, "firms": 10,
         "version": "0.1.0", "git_revision": None}), encoding="utf-8")
    (directory / "scenario.yaml").write_text("name: toy\ndescription: a <toy> & test\n",
                                             encoding="utf-8")
    _png(directory / "figures" / "indicators.png")
    return directory


def test_run_with_replications_shows_means_with_confidence_intervals(tmp_path: Path):
    values = {2017: [20.0, 21.0, 23.0], 2018: [24.0, 25.5, 26.0]}
    text = write_report(_synthetic_run(tmp_path / "toy", values)).read_text(encoding="utf-8")
    for year in values:
        mean, low, high = _ci(values[year])
        assert f"{fmt(mean)} [{fmt(low)}, {fmt(high)}]" in text
    change = [b - a for a, b in zip(values[2017], values[2018], strict=True)]
    mean, low, high = _ci(change)
    assert f"{fmt(mean, signed=True)} [{fmt(low)}, {fmt(high)}]" in text
    assert "Means over 3 replications" in text
    assert "a &lt;toy&gt; &amp; test" in text  # escaped
    _assert_self_contained(text, 1)


# ---------------------------------------------------------------- a comparison


def _comparison(directory: Path, *, replications: int = 5) -> Path:
    """A comparison of base and strict_d: one key indicator, differences with and without 0."""
    directory.mkdir(parents=True)
    (directory / "experiment.json").write_text(json.dumps({
        "kind": "compare", "name": "d_surcharge", "scenarios": ["base", "strict_d"],
        "replications": replications, "seed": 11, "version": "0.1.0",
        "git_revision": "abc123", "created": "2025-01-01T00:00:00+00:00"}), encoding="utf-8")
    base = {"name": "base", "description": "Baseline <2019>", "seed": 11,
            "tariffs": {"electricity": {"class_surcharge_yuan_per_kwh": {"D": 0.3}}}}
    strict = {**base, "name": "strict_d", "description": "D pays 0.5",
              "tariffs": {"electricity": {"class_surcharge_yuan_per_kwh": {"D": 0.5}}}}
    for spec in (base, strict):
        path = directory / "scenarios" / f"{spec['name']}.yaml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    rows, diffs = [], []
    for year, (b, s) in {2019: ((25.0, 24.0, 26.0), (25.5, 24.5, 26.5)),
                         2020: ((26.0, 25.0, 27.0), (26.75, 25.5, 28.1))}.items():
        rows += [{"scenario": "base", "group": KEY_GROUP, "metric": KEY_METRIC, "year": year,
                  "n": replications, "mean": b[0], "sd": 1.0, "ci_low": b[1], "ci_high": b[2]},
                 {"scenario": "strict_d", "group": KEY_GROUP, "metric": KEY_METRIC,
                  "year": year, "n": replications, "mean": s[0], "sd": 1.0, "ci_low": s[1],
                  "ci_high": s[2]}]
    rows += [{"scenario": sc, "group": "all", "metric": "energy_tce", "year": 2020,
              "n": replications, "mean": m, "sd": 1.0, "ci_low": m - 10, "ci_high": m + 10}
             for sc, m in (("base", 80000.0), ("strict_d", 79990.0))]
    diffs += [{"scenario": "strict_d", "reference": "base", "group": KEY_GROUP,
               "metric": KEY_METRIC, "year": 2020, "n": replications, "mean": 0.75,
               "sd": 0.1, "ci_low": 0.5, "ci_high": 1.0},
              {"scenario": "strict_d", "reference": "base", "group": "all",
               "metric": "energy_tce", "year": 2020, "n": replications, "mean": -10.0,
               "sd": 20.0, "ci_low": -30.0, "ci_high": 10.0}]
    pd.DataFrame(rows).to_csv(directory / "summary.csv", index=False)
    pd.DataFrame(diffs).to_csv(directory / "differences.csv", index=False)
    _png(directory / "figures" / "compare_indicators.png")
    _png(directory / "figures" / "compare_differences.png")
    return directory


def test_comparison_brief_tables_end_year_means_and_paired_differences(tmp_path: Path):
    path = write_report(_comparison(tmp_path / "cmp"))
    text = path.read_text(encoding="utf-8")
    _assert_self_contained(text, 2)
    assert "Policy brief: comparison d_surcharge" in text
    assert "base (reference)" in text
    assert "strict_d" in text
    assert f"<td>{KEY_LABEL}</td><td class=num>26 [25, 27]</td>" \
           "<td class=num>26.75 [25.5, 28.1]</td>" in text
    # The tax difference excludes zero: marked; the energy difference does not: plain.
    assert '<span class="sig">+0.75 [0.5, 1] *</span>' in text
    assert "<td class=num>-10 [-30, 10]</td>" in text
    assert "higher in strict_d than in base by 0.75 (+2.9%)" in text
    # What differs from the reference, with the changed field.
    assert "tariffs.electricity.class_surcharge_yuan_per_kwh.D" in text
    assert "Baseline &lt;2019&gt;" in text
    assert "Difference to base (2020)" in text
    assert "&quot;kind&quot;: &quot;compare&quot;" in text


def test_comparison_with_one_replication_says_there_is_no_interval(tmp_path: Path):
    directory = _comparison(tmp_path / "cmp1", replications=1)
    for name in ("summary.csv", "differences.csv"):
        table = pd.read_csv(directory / name)
        table[["ci_low", "ci_high"]] = np.nan
        table.to_csv(directory / name, index=False)
    text = write_report(directory).read_text(encoding="utf-8")
    assert "With one replication there is no interval" in text
    assert 'class="sig"' not in text
    assert "<td class=num>+0.75</td>" in text


def test_comparison_without_summary_is_an_error(tmp_path: Path):
    directory = _comparison(tmp_path / "cmp2")
    (directory / "summary.csv").unlink()
    with pytest.raises(ScenarioError, match="summary.csv"):
        write_report(directory)


# ---------------------------------------------------------------- a sweep


def _sweep(directory: Path, *, design: str) -> Path:
    directory.mkdir(parents=True)
    params = ["tariffs.electricity.class_surcharge_yuan_per_kwh.D",
              "evaluation.indicator_cap"]
    (directory / "experiment.json").write_text(json.dumps({
        "kind": "sweep", "name": "surcharge_cap", "design": design, "parameters": params,
        "outputs": ["tax_per_mu_2020"], "runs": 8, "replications": 2, "seed": 3,
        "version": "0.1.0"}), encoding="utf-8")
    (directory / "sweep.yaml").write_text("base: base.yaml\ndesign: " + design + "\n",
                                          encoding="utf-8")
    (directory / "scenarios").mkdir()
    (directory / "scenarios" / "base.yaml").write_text("name: base\n", encoding="utf-8")
    rows = []
    for sample, (d, cap) in enumerate([(0.1, 1.5), (0.1, 2.5), (0.3, 1.5), (0.3, 2.5)]):
        for rep in range(2):
            rows.append({"sample": sample, "replication": rep, params[0]: d, params[1]: cap,
                         "tax_per_mu_2020": 25 + 10 * d + 0.1 * cap + 0.01 * rep})
    pd.DataFrame(rows).to_csv(directory / "outputs.csv", index=False)
    pd.DataFrame(rows)[["sample", *params]].drop_duplicates().to_csv(
        directory / "design.csv", index=False)
    if design == "sobol":
        pd.DataFrame({"output": ["tax_per_mu_2020"] * 2, "parameter": params,
                      "S1": [0.9, 0.05], "S1_conf": [0.05, 0.02], "ST": [0.93, 0.07],
                      "ST_conf": [0.04, 0.03]}).to_csv(directory / "sobol.csv", index=False)
    _png(directory / "figures" / "sweep_scatter.png")
    if design == "sobol":
        _png(directory / "figures" / "sobol_tax_per_mu_2020.png")
    return directory


def test_sobol_sweep_brief_names_the_most_influential_parameter(tmp_path: Path):
    text = write_report(_sweep(tmp_path / "sobol", design="sobol")).read_text(encoding="utf-8")
    _assert_self_contained(text, 2)
    assert "Sobol sensitivity indices of tax_per_mu_2020" in text
    assert "Each output against each parameter" in text
    assert "Policy brief: parameter sweep surcharge_cap" in text
    assert ("most sensitive to tariffs.electricity.class_surcharge_yuan_per_kwh.D "
            "(ST 0.93)") in text
    assert "<td class=num>0.9 ± 0.05</td><td class=num>0.93 ± 0.04</td>" in text
    assert "evaluation.indicator_cap" in text
    assert "Sweep file (sweep.yaml)" in text


def test_grid_sweep_brief_shows_each_design_point(tmp_path: Path):
    text = write_report(_sweep(tmp_path / "grid", design="grid")).read_text(encoding="utf-8")
    assert "Outputs at each design point" in text
    mean, low, high = _ci([25 + 1 + 0.15, 25 + 1 + 0.16])
    assert f"{fmt(mean)} [{fmt(low)}, {fmt(high)}]" in text
    assert "strongest rank correlation is with " \
           "tariffs.electricity.class_surcharge_yuan_per_kwh.D" in text


# ---------------------------------------------------------------- not a results directory


def test_not_a_results_directory_is_an_error(tmp_path: Path):
    with pytest.raises(ScenarioError, match="not a results directory"):
        write_report(tmp_path)
    with pytest.raises(ScenarioError, match="not a results directory"):
        write_report(tmp_path / "missing")
    (tmp_path / "experiment.json").write_text('{"kind": "party"}', encoding="utf-8")
    with pytest.raises(ScenarioError, match="party"):
        write_report(tmp_path)
    assert not (tmp_path / "brief.html").exists()

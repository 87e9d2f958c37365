"""Policy brief (simulator.report): run, comparison and sweep directories, HTML and PDF.

Real results (a run, a comparison of two scenarios with 3 replications, a small sweep) are
made once per module; hand-made directories pin down what the brief says in each case.
"""

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

from simulator.experiment import SUMMARY_ROWS, compare, run_scenario, sweep
from simulator.report import Markup, fmt, html_table, write_report
from simulator.reporting.brief import render_report
from simulator.reporting.findings import findings
from simulator.reporting.fonts import FONT_FAMILY, covered
from simulator.scenario import ScenarioError, apply_changes, load_scenario

SMALL = Path(__file__).parent / "scenarios" / "small.yaml"
SWEEP_SMALL = Path(__file__).parent / "scenarios" / "sweep_small.yaml"
KEY_METRIC, KEY_GROUP, KEY_LABEL = SUMMARY_ROWS[0]
SURCHARGE_D = "tariffs.electricity.class_surcharge_yuan_per_kwh.D"


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


def _headings(text: str) -> list[str]:
    return re.findall(r"<h2>(.*?)</h2>", text)


def _findings_items(text: str) -> list[str]:
    block = re.search(r'<ol class="findings">(.*?)</ol>', text, flags=re.S)
    return [] if block is None else re.findall(r"<li[^>]*>(.*?)</li>", block.group(1), re.S)


def _page_text(text: str) -> str:
    """What a reader sees: the page without its style sheet (the embedded font) and images."""
    text = re.sub(r"<style>.*?</style>", "", text, flags=re.S)
    return re.sub(r'src="data:[^"]*"', "", text)


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


# ---------------------------------------------------------------- real results


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    scenario = apply_changes(load_scenario(SMALL), {
        "population.n_industrial": 160, "population.n_services": 40, "run.end": "2019-12"})
    return run_scenario(scenario, out=tmp_path_factory.mktemp("report"), figures=True)


@pytest.fixture(scope="module")
def compare_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """small (D pays 0.5 from 2019) against strict_d (0.8 from 2019), 3 paired replications."""
    base = apply_changes(load_scenario(SMALL), {
        "population.n_industrial": 200, "population.n_services": 50})
    strict = apply_changes(base, {"name": "strict_d", "timeline": [
        {"date": "2019-01", "set": {SURCHARGE_D: 0.8}}]})
    return compare([base, strict], replications=3, workers=1,
                   out=tmp_path_factory.mktemp("compare") / "cmp")


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sweep") / "sweep"
    sweep(SWEEP_SMALL, out=out, workers=1)
    return out


# ---------------------------------------------------------------- a run


def test_run_brief_holds_the_key_numbers_and_embedded_figures(run_dir: Path):
    path = write_report(run_dir)
    assert path == run_dir / "brief.html"
    text = path.read_text(encoding="utf-8")
    n_figures = min(6, len(list((run_dir / "figures").glob("*.png"))))
    _assert_self_contained(text, n_figures)
    assert 4 <= n_figures <= 6
    assert "Policy brief: scenario small" in text
    assert _headings(text)[:3] == ["Summary", "The policy in this scenario", "Key findings"]
    metrics = pd.read_parquet(run_dir / "metrics.parquet")
    annual = metrics[metrics["month"].isna()]
    for metric, group, label in SUMMARY_ROWS:
        rows = annual[(annual["metric"] == metric) & (annual["group"] == group)]
        values = rows.sort_values("year")["value"].to_numpy()
        cells = "".join(f"<td class=num>{fmt(v)}</td>" for v in (values[0], values[-1]))
        assert f"<td>{label}</td>{cells}" in text, label
    # The timeline change in words; the resolved scenario and the manifest in the appendix.
    assert ("From January 2019, class D firms pay 0.2 yuan/kWh more: the electricity class "
            "surcharge is 0.5 instead of 0.3 yuan/kWh.") in text
    appendix = text.split('<details class="appendix">', 1)[1]
    assert "name: small" in appendix
    assert "git_revision" in appendix
    assert "One replication: the changes are shown without intervals" in text
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
    shutil.copytree(run_dir, bare, ignore=shutil.ignore_patterns("figures", "brief*"))
    out = write_report(bare, out=tmp_path / "out" / "b.html")
    assert out == tmp_path / "out" / "b.html"
    pngs = list((bare / "figures").glob("*.png"))
    assert len(pngs) >= 4
    _assert_self_contained(out.read_text(encoding="utf-8"), min(6, len(pngs)))


def test_run_brief_in_chinese(run_dir: Path):
    path = write_report(run_dir, lang="zh")
    assert path == run_dir / "brief_zh.html"  # beside the English one, not over it
    text = path.read_text(encoding="utf-8")
    assert "政策简报" in text
    assert "规上工业亩均税收" in text
    assert '<html lang="zh-CN">' in text
    assert "自 2019 年 1 月起，D 类企业差别电价加价提高 0.2 元/千瓦时" in text


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
    assert "a &lt;toy&gt; &amp; test" in text  # escaped by the template
    assert "<toy>" not in text
    # the change's interval excludes zero: a finding with it, in words
    assert _findings_items(text) == [
        f"Between 2017 and 2018, tax per mu of above-scale firms rises from 21.3 万元/mu to "
        f"25.2 万元/mu (+18%; 95% interval of the change +{low:.3g} 万元/mu to "
        f"+{high:.3g} 万元/mu)."]
    _assert_self_contained(text, 1)


# ---------------------------------------------------------------- a real comparison


def test_comparison_brief_leads_with_summary_policy_and_findings(compare_dir: Path):
    text = write_report(compare_dir).read_text(encoding="utf-8")
    assert "Policy brief: strict_d compared with small" in text
    assert _headings(text) == ["Summary", "The policy difference", "Key findings", "Figures"]
    summary = re.search(r'<section class="summary">(.*?)</section>', text, re.S).group(1)
    assert "strict_d is compared with small from January 2017 to December 2020, over 3 " \
           "paired replications" in summary
    assert "The policy difference: from January 2019, class D firms pay 0.3 yuan/kWh more" \
        in summary
    policy = ("From January 2019, class D firms pay 0.3 yuan/kWh more: the electricity class "
              "surcharge is 0.8 instead of 0.5 yuan/kWh.")
    assert f"<li>{policy}</li>" in text
    before_appendix = text.split("<details", 1)[0]
    json_key = r"(&#34;|&quot;|\")\w+(&#34;|&quot;|\"): "
    assert not re.search(json_key, before_appendix)  # no raw JSON in the brief itself
    assert re.search(json_key, text.split("<details", 1)[1])  # the record, in the appendix
    # the findings, strongest relative to their uncertainty first, as the table orders them
    found = findings(pd.read_csv(compare_dir / "differences.csv"),
                     pd.read_csv(compare_dir / "summary.csv"), scenario="strict_d",
                     reference="small", year=2020, lang="en")
    effects = [f for f in found if f.kind in ("effect", "constant")]
    items = _findings_items(text)
    assert len(items) == min(6, len(effects)) >= 1
    assert [f.strength for f in effects] == sorted((f.strength for f in effects), reverse=True)
    for f, item in zip(effects, items, strict=False):
        assert item.startswith(f"In 2020, {f.label.replace(chr(39), '&#39;')} is ")
    # the policy's main effect, the money it raises, is among them
    assert any(f.metric in ("revenue_electricity_class_surcharge_yuan",
                            "differential_revenue_yuan") and f.kind == "effect" for f in found)
    rows = re.findall(r'<tr class="(\w+)"><td>', text)
    assert rows == [f.kind for f in found]
    _assert_self_contained(text, len(list((compare_dir / "figures").glob("*.png"))))


def test_comparison_brief_in_chinese_embeds_a_font_for_every_character(compare_dir: Path):
    text = write_report(compare_dir, lang="zh").read_text(encoding="utf-8")
    assert ("自 2019 年 1 月起，D 类企业差别电价加价提高 0.3 元/千瓦时"
            "（由 0.5 调整为 0.8 元/千瓦时）。") in text
    assert f'@font-face {{ font-family: "{FONT_FAMILY}"' in text
    assert "src: url(data:font/otf;base64," in text
    shown = _page_text(text)
    cjk = {c for c in shown if ord(c) >= 0x2E80}
    assert len(cjk) > 100
    assert cjk <= covered(shown)  # no character falls back to a missing glyph


def test_appendix_is_collapsed_and_prints_only_on_request(compare_dir: Path):
    plain = render_report(compare_dir)
    assert '<details class="appendix">' in plain
    assert "with-appendix" not in plain.split("<body", 1)[1].split(">", 1)[0]
    assert ".appendix { display: none; }" in plain  # in print
    full = render_report(compare_dir, appendix=True)
    assert '<details class="appendix" open>' in full
    assert 'class="brief compare with-appendix"' in full
    for text in (plain, full):  # provenance: git revision, versions, wall time, scenarios
        appendix = text.split("<details", 1)[1]
        for item in ("Git revision", "Mujun version", "Python", "Wall time (s)",
                     "Resolved scenario: small", "Resolved scenario: strict_d"):
            assert item in appendix, item


# ---------------------------------------------------------------- hand-made comparisons


def _comparison(directory: Path, *, replications: int = 5) -> Path:
    """A comparison of base and strict_d: one key indicator, differences with and without 0."""
    directory.mkdir(parents=True)
    (directory / "experiment.json").write_text(json.dumps({
        "kind": "compare", "name": "d_surcharge", "scenarios": ["base", "strict_d"],
        "replications": replications, "seed": 11, "version": "0.1.0",
        "git_revision": "abc123", "created": "2025-01-01T00:00:00+00:00"}), encoding="utf-8")
    base = {"name": "base", "description": "Baseline <2019>", "seed": 11,
            "run": {"start": "2019-01", "end": "2020-12"},
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
    rows += [{"scenario": sc, "group": "class=A", "metric": "firms", "year": 2020,
              "n": replications, "mean": m, "sd": 0.0, "ci_low": m, "ci_high": m}
             for sc, m in (("base", 40.0), ("strict_d", 40.0))]
    diffs += [{"scenario": "strict_d", "reference": "base", "group": KEY_GROUP,
               "metric": KEY_METRIC, "year": 2020, "n": replications, "mean": 0.75,
               "sd": 0.1, "ci_low": 0.5, "ci_high": 1.0},
              {"scenario": "strict_d", "reference": "base", "group": "all",
               "metric": "energy_tce", "year": 2020, "n": replications, "mean": -10.0,
               "sd": 20.0, "ci_low": -30.0, "ci_high": 10.0},
              {"scenario": "strict_d", "reference": "base", "group": "class=A",
               "metric": "firms", "year": 2020, "n": replications, "mean": 0.0,
               "sd": 0.0, "ci_low": 0.0, "ci_high": 0.0}]
    pd.DataFrame(rows).to_csv(directory / "summary.csv", index=False)
    pd.DataFrame(diffs).to_csv(directory / "differences.csv", index=False)
    _png(directory / "figures" / "compare_indicators.png")
    _png(directory / "figures" / "compare_differences.png")
    return directory


def test_comparison_brief_states_effects_and_no_detectable_effect(tmp_path: Path):
    text = write_report(_comparison(tmp_path / "cmp")).read_text(encoding="utf-8")
    _assert_self_contained(text, 2)
    assert "Policy brief: strict_d compared with base" in text
    assert ("Throughout the run, class D firms pay 0.2 yuan/kWh more: the electricity class "
            "surcharge is 0.5 instead of 0.3 yuan/kWh.") in text
    assert _findings_items(text) == [
        "In 2020, tax per mu of above-scale firms is 0.75 万元/mu higher in strict_d than in "
        "base (+2.9%; 95% interval +0.5 万元/mu to +1 万元/mu)."]
    assert ("No detectable effect in 2020 on energy use and the number of class A firms."
            in text)
    # the table: marked where the interval excludes zero, plain where it does not
    assert '<span class="sig">+0.75 (+2.9%) *</span>' in text
    assert "<td class=num>-10 (0.0%)</td><td class=num>-30 … +10</td>" in text
    # a difference identically zero over the replications is no effect, not a significant one
    assert re.search(r'<tr class="zero"><td>the number of class A firms</td>'
                     r"<td class=num>40</td><td class=num>40</td><td class=num>0 \(0.0%\)</td>",
                     text)
    assert "Baseline &lt;2019&gt;" not in text.split("<details", 1)[0]  # its own description
    assert "D pays 0.5" in text
    # the appendix: the field that differs by path, the record
    appendix = text.split("<details", 1)[1]
    assert SURCHARGE_D in appendix
    assert "&#34;kind&#34;: &#34;compare&#34;" in appendix


def test_comparison_with_one_replication_warns_instead_of_finding(tmp_path: Path):
    directory = _comparison(tmp_path / "cmp1", replications=1)
    for name in ("summary.csv", "differences.csv"):
        table = pd.read_csv(directory / name)
        table[["ci_low", "ci_high"]] = np.nan
        table.to_csv(directory / name, index=False)
    text = write_report(directory).read_text(encoding="utf-8")
    assert ('<p class="warn">Too few replications for an interval (1 per scenario): no '
            "difference can be told apart from chance") in text
    assert _findings_items(text) == []
    assert 'class="sig"' not in text
    assert "<td class=num>+0.75 (+2.9%)</td><td class=num>—</td>" in text
    summary = re.search(r'<section class="summary">(.*?)</section>', text, re.S).group(1)
    assert "Too few replications" in summary


def test_comparison_without_summary_is_an_error(tmp_path: Path):
    directory = _comparison(tmp_path / "cmp2")
    (directory / "summary.csv").unlink()
    with pytest.raises(ScenarioError, match="summary.csv"):
        write_report(directory)


# ---------------------------------------------------------------- sweeps


def test_real_lhs_sweep_brief_ranks_by_rank_correlation_and_says_so(sweep_dir: Path):
    text = write_report(sweep_dir).read_text(encoding="utf-8")
    assert _headings(text)[:2] == ["Summary", "The parameters that matter"]
    assert "Latin hypercube design, so no Sobol&#39; indices: the Spearman rank correlation" \
        in text
    assert "Only 4 design points: the rank correlations and their intervals are rough" in text
    # outputs and parameters in words, not identifiers
    assert "tax per mu of above-scale firms in 2018" in text
    assert "electricity class surcharge, class D firms" in text
    assert "<th class=num>tax_per_mu_wan_yuan[scale=above]@2018</th>" not in text
    zh = write_report(sweep_dir, lang="zh").read_text(encoding="utf-8")
    assert "2018 年规上工业企业亩均税收" in zh


def _sweep(directory: Path, *, design: str, flat: bool = False) -> Path:
    directory.mkdir(parents=True)
    params = [SURCHARGE_D, "evaluation.indicator_cap"]
    (directory / "experiment.json").write_text(json.dumps({
        "kind": "sweep", "name": "surcharge_cap", "design": design, "parameters": params,
        "outputs": ["tax_per_mu_2020", "energy_2020"], "runs": 8, "replications": 2,
        "seed": 3, "version": "0.1.0"}), encoding="utf-8")
    (directory / "sweep.yaml").write_text(
        "base: base.yaml\ndesign: " + design + "\noutputs:\n"
        "  - {name: tax_per_mu_2020, metric: tax_per_mu_wan_yuan, group: scale=above, "
        "year: 2020}\n  - {name: energy_2020, metric: energy_tce, year: 2020}\n",
        encoding="utf-8")
    (directory / "scenarios").mkdir()
    (directory / "scenarios" / "base.yaml").write_text("name: base\n", encoding="utf-8")
    rows = []
    for sample, (d, cap) in enumerate([(0.1, 1.5), (0.1, 2.5), (0.3, 1.5), (0.3, 2.5)]):
        for rep in range(2):
            # energy varies by 0.2% of its mean across the design, perfectly ranked by cap
            rows.append({"sample": sample, "replication": rep, params[0]: d, params[1]: cap,
                         "tax_per_mu_2020": 25 + 10 * d + 0.1 * cap + 0.01 * rep,
                         "energy_2020": 100_000 + 100 * cap})
    pd.DataFrame(rows).to_csv(directory / "outputs.csv", index=False)
    if design == "sobol":
        pd.DataFrame({"output": ["tax_per_mu_2020"] * 2 + ["energy_2020"] * 2,
                      "parameter": params * 2,
                      "S1": [0.9, 0.05, 0.0, 1.0], "S1_conf": [0.05, 0.02, 0.01, 0.01],
                      "ST": [0.93, 0.07, 0.0, 1.0], "ST_conf": [0.04, 0.03, 0.01, 0.01]}
                     ).to_csv(directory / "sobol.csv", index=False)
        _png(directory / "figures" / "sobol_tax_per_mu_2020.png")
        _png(directory / "figures" / "sobol_energy_2020.png")
    _png(directory / "figures" / "sweep_scatter.png")
    return directory


def test_sobol_sweep_brief_leads_with_total_indices_and_their_intervals(tmp_path: Path):
    text = write_report(_sweep(tmp_path / "sobol", design="sobol")).read_text(encoding="utf-8")
    _assert_self_contained(text, 2)  # the scatter and the Sobol figure of the output that varies
    assert "Policy brief: which levers matter (sweep surcharge_cap)" in text
    assert _findings_items(text) == [
        "Tax per mu of above-scale firms in 2020 depends most on electricity class surcharge, "
        "class D firms (total Sobol&#39; index 0.93 [0.89, 0.97])."]
    assert "<td>cap on an indicator&#39;s score (multiple of the benchmark)</td>" in text
    # the output that barely varies (0.2%) is named and left out, its ST of 1.0 unstated
    assert ("Left out as barely varying across the design (range under 1% of the mean): "
            "energy use in 2020.") in text
    assert "1.00 [0.99, 1.01]" not in text
    assert "Sobol&#39; sensitivity indices of tax per mu of above-scale firms in 2020" in text
    assert "Sobol&#39; sensitivity indices of energy use" not in text


def test_grid_sweep_brief_uses_the_main_effect_share_and_says_so(tmp_path: Path):
    text = write_report(_sweep(tmp_path / "grid", design="grid")).read_text(encoding="utf-8")
    assert "Grid design, so no Sobol&#39; indices: the share of the output&#39;s variance " \
           "explained by the parameter&#39;s main effect" in text
    x = pd.Series([0.1, 0.1, 0.3, 0.3])
    y = pd.Series([25 + 10 * d + 0.1 * c + 0.005 for d, c in
                   [(0.1, 1.5), (0.1, 2.5), (0.3, 1.5), (0.3, 2.5)]])
    eta = ((y.groupby(x).transform("mean") - y.mean()) ** 2).sum() / ((y - y.mean()) ** 2).sum()
    assert f"(main effect {eta:.2f} of the variance)" in text
    assert "Outputs at each design point" in text
    mean, low, high = _ci([25 + 1 + 0.15, 25 + 1 + 0.16])
    assert f"{fmt(mean)} [{fmt(low)}, {fmt(high)}]" in text


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

"""Tests for simulator/plots/compare.py and simulator/plots/sweep.py: experiment figures."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.container import BarContainer, ErrorbarContainer
from scipy import stats

from simulator.experiment import SUMMARY_ROWS
from simulator.plots import LABELS, CJKFontWarning
from simulator.plots import _style as plot_style
from simulator.plots.compare import (
    COMPARE_FIGURES,
    compare_figures,
    experiment_source_line,
    key_indicators,
    percent_differences,
    plot_compare_differences,
    plot_compare_indicators,
    read_experiment_table,
    significant,
)
from simulator.plots.sweep import (
    binned_means,
    figure_stems,
    output_label,
    plot_sobol,
    plot_sweep_scatter,
    sobol_figures,
    sobol_table,
    sobol_xlim,
    sweep_figures,
    sweep_scatter,
)

YEARS = (2028, 2029, 2030)
CLASSES = ("A", "B", "C", "D")
REVISION = "0123456789abcdef0123456789abcdef01234567"
TAX = ("tax_per_mu_wan_yuan", "scale=above", "Tax per mu, above-scale (万元/mu)")
VA = ("va_per_mu_wan_yuan", "all", "VA per mu, all industry (万元/mu)")
REVENUE = ("differential_revenue_yuan", "all", "Differential revenue, net (yuan)")


# ---------------------------------------------------------------- synthetic experiments


def replication_values(scenario_index: int, metric_index: int, year: int,
                       replications: int) -> np.ndarray:
    """Each replication's value: a level per metric, growing with the year and the scenario."""
    level = 10.0 * (metric_index + 1) * (1 + 0.1 * scenario_index) + (year - YEARS[0])
    return level + np.arange(replications) * (1.0 + 0.5 * scenario_index)


def mean_ci(values: np.ndarray) -> dict[str, float]:
    n = len(values)
    mean, sd = float(values.mean()), float(values.std(ddof=1)) if n > 1 else np.nan
    half = stats.t.ppf(0.975, n - 1) * sd / np.sqrt(n) if n > 1 else np.nan
    return {"n": n, "mean": mean, "sd": sd, "ci_low": mean - half, "ci_high": mean + half}


def write_experiment(exp_dir: Path, *, scenarios: tuple[str, ...] = ("baseline", "strict_d"),
                     replications: int = 3, indicators=SUMMARY_ROWS[:4],
                     class_share: bool = True, **extra) -> Path:
    """A comparison directory as the experiment code writes it, built from replication values."""
    exp_dir.mkdir(parents=True)
    summary, differences = [], []
    for s, scenario in enumerate(scenarios):
        for m, (metric, group, _label) in enumerate(indicators):
            for year in YEARS:
                values = replication_values(s, m, year, replications)
                key = {"group": group, "metric": metric, "year": year}
                summary.append({"scenario": scenario, **key, **mean_ci(values)})
                if s:
                    paired = values - replication_values(0, m, year, replications)
                    differences.append({"scenario": scenario, "reference": scenarios[0], **key,
                                        **mean_ci(paired)})
        for c, (count, share) in zip(CLASSES, ((10, 0.2), (20, 0.4), (15, 0.3), (5, 0.1)),
                                     strict=True):
            for year in YEARS:
                summary.append({"scenario": scenario, "group": f"class={c}", "metric": "firms",
                                "year": year, **mean_ci(np.full(replications, count + s))})
                if class_share:
                    values = share + np.linspace(-0.01, 0.01, replications) * (c != "D")
                    summary.append({"scenario": scenario, "group": f"class={c}",
                                    "metric": "class_share", "year": year, **mean_ci(values)})
    pd.DataFrame(summary).to_csv(exp_dir / "summary.csv", index=False)
    pd.DataFrame(differences, columns=["scenario", "reference", "group", "metric", "year", "n",
                                       "mean", "sd", "ci_low", "ci_high"]).to_csv(
        exp_dir / "differences.csv", index=False)
    record = {"kind": "compare", "name": "strict_d_vs_baseline", "scenarios": list(scenarios),
              "replications": replications, "seed": 42, "version": "0.2.0",
              "git_revision": REVISION, **extra}
    (exp_dir / "experiment.json").write_text(json.dumps(record), encoding="utf-8")
    return exp_dir


def summary_row(scenario, metric, group, year, mean, n=5, half=1.0):
    return {"scenario": scenario, "group": group, "metric": metric, "year": year, "n": n,
            "mean": mean, "sd": 1.0, "ci_low": mean - half, "ci_high": mean + half}


def difference_row(scenario, metric, group, year, mean, low, high, n=5, reference="baseline"):
    return {"scenario": scenario, "reference": reference, "group": group, "metric": metric,
            "year": year, "n": n, "mean": mean, "sd": 1.0, "ci_low": low, "ci_high": high}


def assert_png(path: Path) -> None:
    assert path.suffix == ".png"
    assert path.stat().st_size > 10_000
    image = mpimg.imread(path)
    assert image.shape[0] >= 600
    assert image.shape[1] >= 1400
    assert image[..., :3].std() > 0.05  # not a blank page


def assert_svg(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    assert path.stat().st_size > 10_000
    assert text.lstrip().startswith("<?xml")
    return text


def data_axes(fig) -> list:
    return [ax for ax in fig.axes if ax.get_label() != "legend"]


@pytest.fixture
def exp_dir(tmp_path: Path) -> Path:
    return write_experiment(tmp_path / "exp")


@pytest.fixture
def no_cjk_font(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plot_style, "find_cjk_font", lambda: None)


@pytest.fixture
def cjk_font(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plot_style, "find_cjk_font", lambda: "DejaVu Sans")


# ---------------------------------------------------------------- comparison: data


def test_percent_differences_divide_the_difference_and_its_ci_by_the_reference_mean():
    summary = pd.DataFrame([
        summary_row("baseline", *TAX[:2], 2030, 25.0),
        summary_row("baseline", *TAX[:2], 2029, 50.0),   # other year: not used
        summary_row("baseline", *REVENUE[:2], 2030, -200.0),
        summary_row("baseline", *VA[:2], 2030, 0.0),
    ])
    differences = pd.DataFrame([
        difference_row("strict_d", *TAX[:2], 2030, 2.5, 1.0, 4.0),
        difference_row("strict_d", *TAX[:2], 2029, 99.0, 98.0, 100.0),
        difference_row("strict_d", *REVENUE[:2], 2030, 50.0, 10.0, 90.0),
        difference_row("strict_d", *VA[:2], 2030, 3.0, 1.0, 5.0),
    ])
    table = percent_differences(summary, differences, reference="baseline", year=2030,
                                indicators=[TAX, REVENUE, VA])
    assert list(table["metric"]) == [TAX[0], REVENUE[0], VA[0]]
    tax, revenue, va = (table.iloc[i] for i in range(3))
    # 2.5 / 25 = +10 %, CI 1.0 / 25 .. 4.0 / 25
    assert (tax["pct"], tax["pct_low"], tax["pct_high"]) == pytest.approx((10.0, 4.0, 16.0))
    assert tax["reference_mean"] == 25.0
    assert tax["n"] == 5
    # A negative reference mean: +50 on -200 is an increase of 25 % of its size.
    assert (revenue["pct"], revenue["pct_low"], revenue["pct_high"]) == pytest.approx(
        (25.0, 5.0, 45.0))
    # A zero reference mean has no percentage, but keeps the difference itself.
    assert np.isnan(va["pct"])
    assert np.isnan(va["pct_low"])
    assert va["difference"] == 3.0


def test_percent_differences_come_in_indicator_then_scenario_order_without_the_reference():
    summary = pd.DataFrame([summary_row("baseline", *row[:2], 2030, 10.0) for row in (TAX, VA)])
    differences = pd.DataFrame([
        difference_row(s, *row[:2], 2030, d, d - 1, d + 1)
        for row in (VA, TAX) for s, d in (("b", 1.0), ("c", 2.0))])
    table = percent_differences(summary, differences, reference="baseline", year=2030,
                                indicators=[TAX, VA])
    assert list(zip(table["metric"], table["scenario"], strict=True)) == [
        (TAX[0], "b"), (TAX[0], "c"), (VA[0], "b"), (VA[0], "c")]
    assert list(table["pct"]) == pytest.approx([10.0, 20.0, 10.0, 20.0])


def test_percent_differences_reject_differences_to_another_reference():
    summary = pd.DataFrame([summary_row("baseline", *TAX[:2], 2030, 10.0)])
    differences = pd.DataFrame([difference_row("b", *TAX[:2], 2030, 1.0, 0.0, 2.0,
                                               reference="other")])
    with pytest.raises(ValueError, match="'baseline'"):
        percent_differences(summary, differences, reference="baseline", year=2030,
                            indicators=[TAX])


def test_single_replication_differences_have_no_ci(tmp_path: Path):
    exp = write_experiment(tmp_path / "one", replications=1)
    summary = read_experiment_table(exp, "summary.csv", ("scenario",))
    differences = read_experiment_table(exp, "differences.csv", ("scenario",))
    table = percent_differences(summary, differences, reference="baseline", year=2030,
                                indicators=SUMMARY_ROWS[:4])
    assert len(table) == 4
    assert (table["n"] == 1).all()
    assert table["pct"].notna().all()
    assert table[["pct_low", "pct_high"]].isna().all().all()
    # indicator m in 2030: reference 10 (m + 1) + 2, strict_d (m + 1) above it
    assert list(table["pct"]) == pytest.approx([100 / 12, 200 / 22, 300 / 32, 400 / 42])


def test_percent_differences_of_a_written_experiment_match_hand_computation(exp_dir: Path):
    summary = read_experiment_table(exp_dir, "summary.csv", ("scenario",))
    differences = read_experiment_table(exp_dir, "differences.csv", ("scenario",))
    table = percent_differences(summary, differences, reference="baseline", year=2030,
                                indicators=SUMMARY_ROWS[:1])
    # baseline 2030: 12, 13, 14 (mean 13); strict_d: 13, 14.5, 16; paired: 1, 1.5, 2
    half = stats.t.ppf(0.975, 2) * 0.5 / np.sqrt(3)
    row = table.iloc[0]
    assert row["pct"] == pytest.approx(1.5 / 13 * 100)
    assert row["pct_low"] == pytest.approx((1.5 - half) / 13 * 100)
    assert row["pct_high"] == pytest.approx((1.5 + half) / 13 * 100)


def test_key_indicators_keep_summary_order_and_skip_absent_or_empty_ones():
    summary = pd.DataFrame([
        summary_row("baseline", *VA[:2], 2030, 1.0),
        summary_row("baseline", *TAX[:2], 2030, 1.0),
        summary_row("baseline", "energy_tce", "all", 2030, np.nan),
        summary_row("baseline", "va_per_mu_wan_yuan", "scale=above", 2030, 1.0),
    ])
    found = key_indicators(summary)
    assert [(m, g) for m, g, _ in found] == [
        ("tax_per_mu_wan_yuan", "scale=above"), ("va_per_mu_wan_yuan", "scale=above"),
        ("va_per_mu_wan_yuan", "all")]
    assert found[0] == SUMMARY_ROWS[0]


def test_experiment_source_line_names_experiment_version_revision_seed_replications():
    record = {"name": "strict_d_vs_baseline", "version": "0.2.0", "git_revision": REVISION,
              "seed": 42, "replications": 20}
    assert experiment_source_line(record) == (
        "Mujun 0.2.0 · experiment strict_d_vs_baseline · revision 0123456789ab · seed 42 "
        "· 20 replications")
    assert experiment_source_line({**record, "git_revision": None}, lang="zh") == (
        "Mujun 0.2.0 · 实验 strict_d_vs_baseline · 代码版本 未知 · 随机种子 42 · 20 次重复")


# ---------------------------------------------------------------- comparison: figures


def test_compare_figures_write_a_png_and_an_svg_per_figure(exp_dir: Path):
    paths = compare_figures(exp_dir)
    assert [p.name for p in paths] == [f"{n}.{f}" for n in COMPARE_FIGURES for f in ("png", "svg")]
    for path in paths:
        assert path.parent == exp_dir / "figures"
        if path.suffix == ".png":
            assert_png(path)
        else:
            svg = assert_svg(path)
            assert "experiment strict_d_vs_baseline · revision 0123456789ab" in svg
    indicators = (exp_dir / "figures" / "compare_indicators.svg").read_text(encoding="utf-8")
    assert "shaded: 95% CI of the mean over 3 replications" in indicators
    assert "single replication" not in indicators


def test_compare_svg_is_byte_identical_across_runs(exp_dir: Path):
    first = [p.read_bytes() for p in compare_figures(exp_dir, formats=("svg",))]
    second = [p.read_bytes() for p in compare_figures(exp_dir, formats=("svg",))]
    assert first == second


def test_single_replication_says_so_and_draws_no_band_or_error_bar(tmp_path: Path):
    exp = write_experiment(tmp_path / "one", replications=1)
    paths = compare_figures(exp, formats=("svg",))
    for path in paths:
        assert "single replication" in path.read_text(encoding="utf-8"), path.name
    summary = read_experiment_table(exp, "summary.csv", ("scenario",))
    fig = plot_compare_indicators(summary, scenarios=["baseline", "strict_d"],
                                  indicators=SUMMARY_ROWS[:4])
    assert not any(isinstance(c, PolyCollection) for ax in fig.axes for c in ax.collections)
    differences = read_experiment_table(exp, "differences.csv", ("scenario",))
    table = percent_differences(summary, differences, reference="baseline", year=2030,
                                indicators=SUMMARY_ROWS[:4])
    table["significant"] = significant(table)
    fig = plot_compare_differences(table, scenarios=["baseline", "strict_d"], year=2030)
    assert not any(isinstance(c, ErrorbarContainer) for ax in fig.axes for c in ax.containers)
    assert fig.get_suptitle() == "Difference to baseline, 2030, single replication"


def test_indicator_figure_has_one_panel_per_indicator_found_and_a_band_per_line(exp_dir: Path):
    summary = read_experiment_table(exp_dir, "summary.csv", ("scenario",))
    fig = plot_compare_indicators(summary, scenarios=["baseline", "strict_d"],
                                  indicators=[*SUMMARY_ROWS[:4], ("energy_tce", "all", "E")])
    panels = data_axes(fig)
    assert len(panels) == 4  # energy_tce has no rows: no panel
    assert panels[0].get_title() == "Tax per mu, above-scale"
    assert panels[2].get_title() == "Labour productivity, above-scale"
    for ax in panels:
        assert len(ax.get_lines()) == 2
        assert sum(isinstance(c, PolyCollection) for c in ax.collections) == 2
    # the line is the summary's mean: baseline tax per mu, 2028-2030 = 11, 12, 13
    assert list(panels[0].get_lines()[0].get_ydata()) == pytest.approx([11.0, 12.0, 13.0])
    legend = [t.get_text() for t in fig.axes[-1].get_legend().get_texts()]
    assert legend == ["baseline (reference)", "strict_d"]


def test_end_year_differences_get_a_panel_each_on_its_own_scale(exp_dir: Path):
    summary = read_experiment_table(exp_dir, "summary.csv", ("scenario",))
    differences = read_experiment_table(exp_dir, "differences.csv", ("scenario",))
    table = percent_differences(summary, differences, reference="baseline", year=2030,
                                indicators=SUMMARY_ROWS[:4])
    table["significant"] = significant(table)
    fig = plot_compare_differences(table, scenarios=["baseline", "strict_d"], year=2030)
    panels = [ax for ax in data_axes(fig)]
    assert len(panels) == 4
    assert fig.get_suptitle() == ("Difference to baseline, 2030, 95% CI over 3 paired "
                                  "replications")
    assert panels[0].get_title() == "Tax per mu, above-scale"
    for ax, row in zip(panels, table.itertuples(), strict=True):
        # the point is the paired difference: (m + 1) + 0.5 for indicator m
        point = [line for line in ax.get_lines() if line.get_marker() == "o"][0]
        assert point.get_xdata()[0] == pytest.approx(row.difference)
        assert sum(isinstance(c, ErrorbarContainer) for c in ax.containers) == 1
        low, high = ax.get_xlim()
        assert low <= min(row.ci_low, 0)  # its own scale holds zero and the interval
        assert high >= row.ci_high
    # each panel is scaled to its own interval, not to the widest one
    assert panels[0].get_xlim()[1] < panels[3].get_xlim()[1]


def test_many_scenarios_get_distinct_colours_and_long_names_wrap(tmp_path: Path):
    names = tuple(f"scenario_{i}_with_a_rather_long_descriptive_name" for i in range(8))
    exp = write_experiment(tmp_path / "many", scenarios=names)
    paths = compare_figures(exp, formats=("png",))
    assert len(paths) == len(COMPARE_FIGURES)
    for path in paths:
        assert_png(path)
    colours = [look["color"] for look in plot_style.scenario_styles(names).values()]
    assert len(set(colours)) == 8
    assert colours[0] == "#000000"
    summary = read_experiment_table(exp, "summary.csv", ("scenario",))
    fig = plot_compare_indicators(summary, scenarios=names, indicators=SUMMARY_ROWS[:2])
    legend = [t.get_text() for t in fig.axes[-1].get_legend().get_texts()]
    assert len(legend) == 8
    assert all("\n" in text and max(map(len, text.split("\n"))) <= 28 for text in legend)


def test_wrap_label_breaks_at_separators_and_keeps_short_text():
    assert plot_style.wrap_label("baseline", 24) == "baseline"
    assert plot_style.wrap_label("tariffs.electricity.class_surcharge", 20) == (
        "tariffs.electricity.\nclass_surcharge")


def test_only_the_reference_draws_a_no_data_note(tmp_path: Path):
    exp = write_experiment(tmp_path / "alone", scenarios=("baseline",))
    paths = compare_figures(exp, formats=("png", "svg"))
    assert [p.name for p in paths][::2] == [f"{n}.png" for n in COMPARE_FIGURES]
    svg = (exp / "figures" / "compare_differences.svg").read_text(encoding="utf-8")
    assert "No scenario besides the reference" in svg
    assert "single replication" not in svg


def test_compare_figures_with_zh_and_no_cjk_font_warn_once_and_draw(exp_dir, no_cjk_font):
    with pytest.warns(CJKFontWarning) as record:
        paths = compare_figures(exp_dir, lang="zh", formats=("svg",))
    assert sum(issubclass(w.category, CJKFontWarning) for w in record) == 1
    assert "Effect of each variant: paired difference to baseline" in paths[0].read_text(
        encoding="utf-8")


@pytest.mark.filterwarnings("ignore:Glyph:UserWarning")  # DejaVu stands in for a CJK font
def test_compare_figures_with_a_cjk_font_use_chinese_labels(exp_dir, cjk_font):
    with warnings.catch_warnings():
        warnings.simplefilter("error", CJKFontWarning)
        compare_figures(exp_dir, lang="zh", formats=("png",))
        summary = read_experiment_table(exp_dir, "summary.csv", ("scenario",))
        fig = plot_compare_indicators(summary, scenarios=["baseline", "strict_d"],
                                      indicators=SUMMARY_ROWS[:1], lang="zh")
    assert fig.get_suptitle() == "各情景主要指标"
    assert data_axes(fig)[0].get_title() == "亩均税收（规上工业）"


def test_missing_summary_raises_file_not_found_naming_the_file(tmp_path: Path):
    exp = write_experiment(tmp_path / "exp")
    (exp / "summary.csv").unlink()
    with pytest.raises(FileNotFoundError, match="summary.csv"):
        compare_figures(exp)


def test_summary_without_a_required_column_is_rejected(exp_dir: Path):
    pd.read_csv(exp_dir / "summary.csv").drop(columns="ci_high").to_csv(
        exp_dir / "summary.csv", index=False)
    with pytest.raises(ValueError, match="ci_high"):
        compare_figures(exp_dir)


# ---------------------------------------------------------------- sweeps


PARAMETERS = ("tariffs.electricity.class_surcharge_yuan_per_kwh.D", "evaluation.indicator_cap",
              "behaviour.output_elasticity_scale")
OUTPUTS = ("tax_per_mu_wan_yuan", "energy_tce@all/2030")


def write_sweep(exp_dir: Path, *, sobol: bool = True, outputs: bool = True) -> Path:
    exp_dir.mkdir(parents=True)
    record = {"kind": "sweep", "name": "tariff_sweep", "scenarios": ["baseline"],
              "replications": 2, "seed": 7, "version": "0.2.0", "git_revision": None,
              "parameters": list(PARAMETERS), "outputs": list(OUTPUTS)}
    (exp_dir / "experiment.json").write_text(json.dumps(record), encoding="utf-8")
    if sobol:
        pd.DataFrame([
            {"output": OUTPUTS[0], "parameter": PARAMETERS[0], "S1": 0.5, "S1_conf": 0.05,
             "ST": 0.6, "ST_conf": 0.1},
            {"output": OUTPUTS[0], "parameter": PARAMETERS[1], "S1": -0.04, "S1_conf": 0.03,
             "ST": 0.02, "ST_conf": 0.05},
            {"output": OUTPUTS[0], "parameter": PARAMETERS[2], "S1": 0.2, "S1_conf": 0.05,
             "ST": 0.3, "ST_conf": 0.08},
            *({"output": OUTPUTS[1], "parameter": p, "S1": 0.3, "S1_conf": 0.1,
               "ST": 0.3, "ST_conf": 0.1} for p in PARAMETERS),
        ]).to_csv(exp_dir / "sobol.csv", index=False)
    if outputs:
        rng = np.random.default_rng(3)
        x = rng.uniform(0, 1, (40, 3))
        table = pd.DataFrame(x, columns=list(PARAMETERS))
        table.insert(0, "replication", np.arange(40) % 2)
        table.insert(0, "sample", np.arange(40) // 2)
        table[OUTPUTS[0]] = 25 + 10 * x[:, 0]
        table[OUTPUTS[1]] = 3e6 - 1e6 * x[:, 2]
        table.to_csv(exp_dir / "outputs.csv", index=False)
    return exp_dir


@pytest.fixture
def sweep_dir(tmp_path: Path) -> Path:
    return write_sweep(tmp_path / "sweep")


def sobol_frame(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["output", "parameter", "S1", "S1_conf", "ST", "ST_conf"])


def test_sobol_table_sorts_parameters_by_st_largest_first_ties_by_name_nan_last():
    sobol = sobol_frame([
        ("y", "c", 0.1, 0.0, 0.2, 0.0), ("y", "a", 0.1, 0.0, np.nan, 0.0),
        ("y", "d", 0.3, 0.0, 0.5, 0.0), ("y", "b", 0.1, 0.0, 0.2, 0.0),
        ("other", "z", 0.9, 0.0, 0.9, 0.0),
    ])
    table = sobol_table(sobol, "y")
    assert list(table["parameter"]) == ["d", "b", "c", "a"]
    assert list(table.columns) == ["parameter", "S1", "S1_conf", "ST", "ST_conf"]


def test_sobol_xlim_spans_zero_to_at_least_one_and_below_zero_for_negatives():
    inside = sobol_frame([("y", "a", 0.2, 0.05, 0.4, 0.1)]).iloc[:, 1:]
    assert sobol_xlim(inside) == (0.0, 1.0)
    wide = sobol_frame([("y", "a", -0.1, 0.05, 1.1, 0.1)]).iloc[:, 1:]
    low, high = sobol_xlim(wide)  # bounds -0.15 .. 1.2, padded by 3% of the span 1.35
    assert low == pytest.approx(-0.15 - 0.03 * 1.35)
    assert high == pytest.approx(1.2 + 0.03 * 1.35)
    negative = sobol_frame([("y", "a", -0.1, np.nan, 0.5, 0.1)]).iloc[:, 1:]
    assert sobol_xlim(negative) == (pytest.approx(-0.1 - 0.03 * 1.1), 1.0)


def test_figure_stems_sanitise_output_names_and_keep_them_apart():
    assert figure_stems(["tax_per_mu_wan_yuan", "energy_tce@all/2030", "a b", "a/b", "亩均"]) == {
        "tax_per_mu_wan_yuan": "sobol_tax_per_mu_wan_yuan",
        "energy_tce@all/2030": "sobol_energy_tce_all_2030",
        "a b": "sobol_a_b", "a/b": "sobol_a_b_2", "亩均": "sobol_output"}


def test_sobol_bars_follow_st_order_with_ci_and_a_note_on_negative_estimates(sweep_dir: Path):
    sobol = pd.read_csv(sweep_dir / "sobol.csv")
    table = sobol_table(sobol, OUTPUTS[0])
    ax = plot_sobol(table, output=OUTPUTS[0])
    s1, st = (c for c in ax.containers if isinstance(c, BarContainer))
    assert [p.get_width() for p in st.patches] == pytest.approx([0.6, 0.3, 0.02])
    assert [p.get_width() for p in s1.patches] == pytest.approx([0.5, 0.2, -0.04])
    labels = [t.get_text() for t in ax.get_yticklabels()]
    # a parameter the catalogue has text for gets its label and unit, others their path
    assert labels[0].replace("\n", " ") == "Electricity surcharge, class D (yuan/kWh)"
    assert [t.replace("\n", "") for t in labels[1:]] == [PARAMETERS[2], PARAMETERS[1]]
    assert sum(isinstance(c, ErrorbarContainer) for c in ax.containers) == 2
    assert ax.get_xlim()[0] < -0.04
    assert ax.get_xlim()[1] == 1.0
    notes = " ".join(t.get_text().replace("\n", " ") for t in ax.texts)
    assert "estimates below 0 or above 1: 1" in notes
    assert ax.get_title() == "Sobol sensitivity indices: Tax per mu (10k yuan / mu)"


def test_sobol_figures_write_one_figure_per_output(sweep_dir: Path):
    paths = sobol_figures(sweep_dir)
    assert [p.name for p in paths] == [
        "sobol_tax_per_mu_wan_yuan.png", "sobol_tax_per_mu_wan_yuan.svg",
        "sobol_energy_tce_all_2030.png", "sobol_energy_tce_all_2030.svg"]
    assert_png(paths[0])
    svg = assert_svg(paths[1])
    assert "experiment tariff_sweep · revision unknown · seed 7" in svg


def test_sweep_without_sobol_or_outputs_draws_nothing(tmp_path: Path):
    exp = write_sweep(tmp_path / "grid", sobol=False, outputs=False)
    assert sweep_figures(exp) == []


def test_binned_means_average_per_value_on_a_grid_and_per_decile_otherwise():
    grid = binned_means([2, 0, 1, 0, 2, 1], [5, 1, 3, 3, 7, 3])
    assert list(grid["x"]) == [0, 1, 2]
    assert list(grid["y"]) == [2, 3, 6]
    x = np.arange(100.0)
    deciles = binned_means(x[::-1], 2 * x[::-1])
    assert list(deciles["x"]) == pytest.approx(np.arange(10) * 10 + 4.5)
    assert list(deciles["y"]) == pytest.approx(2 * (np.arange(10) * 10 + 4.5))
    assert list(deciles["n"]) == [10] * 10


def test_sweep_scatter_draws_a_panel_per_output_and_parameter(sweep_dir: Path):
    paths = sweep_scatter(sweep_dir)
    assert [p.name for p in paths] == ["sweep_scatter.png", "sweep_scatter.svg"]
    assert_png(paths[0])
    outputs = pd.read_csv(sweep_dir / "outputs.csv")
    fig = plot_sweep_scatter(outputs, parameters=PARAMETERS, output_names=OUTPUTS)
    assert len(fig.axes) == 6
    first = fig.axes[0]
    assert first.collections[0].get_offsets().shape == (40, 2)
    assert first.get_ylabel().replace("\n", " ") == "Tax per mu (10k yuan / mu)"
    assert fig.axes[-1].get_xlabel().replace("\n", "") == PARAMETERS[-1]


def test_sweep_scatter_needs_the_parameters_and_outputs_of_the_experiment(sweep_dir: Path):
    record = json.loads((sweep_dir / "experiment.json").read_text(encoding="utf-8"))
    del record["outputs"]
    (sweep_dir / "experiment.json").write_text(json.dumps(record), encoding="utf-8")
    with pytest.raises(ValueError, match="outputs"):
        sweep_scatter(sweep_dir)


def test_repeated_summary_rows_are_rejected_naming_the_row(exp_dir: Path):
    summary = pd.read_csv(exp_dir / "summary.csv")
    pd.concat([summary, summary.iloc[[0]]]).to_csv(exp_dir / "summary.csv", index=False)
    with pytest.raises(ValueError, match="summary.csv has several rows for .*'baseline'"):
        compare_figures(exp_dir)


def test_sweep_figures_with_zh_and_no_cjk_font_warn_once_and_draw(sweep_dir, no_cjk_font):
    with pytest.warns(CJKFontWarning) as record:
        paths = sweep_figures(sweep_dir, lang="zh", formats=("svg",))
    assert sum(issubclass(w.category, CJKFontWarning) for w in record) == 1
    assert len(paths) == 3
    assert "Sobol sensitivity indices" in paths[0].read_text(encoding="utf-8")


def test_output_labels_read_the_sweeps_default_output_names():
    en, zh = LABELS["en"], LABELS["zh"]
    assert output_label("tax_per_mu_wan_yuan[scale=above]@2030", en) == (
        "Tax per mu, above-scale, 2030 (10k yuan / mu)")
    assert output_label("tax_per_mu_wan_yuan[scale=above]@2030", zh) == (
        "2030 年亩均税收（规上工业） (万元/亩)")
    assert output_label("energy_tce[sector=textiles]@2025", en) == (
        "Energy use [sector=textiles], 2025 (tce)")
    assert output_label("energy_tce", en) == "Energy use (tce)"
    assert output_label("my_output", en) == "my_output"
    assert figure_stems(["tax_per_mu_wan_yuan[scale=above]@2030"]) == {
        "tax_per_mu_wan_yuan[scale=above]@2030": "sobol_tax_per_mu_wan_yuan_scale_above_2030"}

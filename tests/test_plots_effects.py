"""Tests of the figures for a brief: paired effects, policy dates, price setters, grid heatmaps.

Covers simulator/plots/effects.py, policy.py, sweep_grid.py, the price setters of
markets.py and figure_dir (en and zh figures side by side).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from simulator.plots import figure_dir, make_figures
from simulator.plots._labels import parameter_label
from simulator.plots.compare import compare_figures, difference_paths, identical_indicators
from simulator.plots.effects import plot_compare_effects
from simulator.plots.markets import price_setters
from simulator.plots.policy import experiment_policy_dates, policy_caption, policy_dates
from simulator.plots.sweep import sweep_figures
from simulator.plots.sweep_grid import grid_means, plot_sweep_heatmap, uses_heatmap
from simulator.results.stats import paired_differences, summarise

T975_2 = stats.t.ppf(0.975, 2)  # 4.3027: two degrees of freedom, three replications
TAX = ("tax_per_mu_wan_yuan", "all", "Tax per mu")
ENERGY = ("energy_tce", "all", "Energy use")
FIRMS_D = ("firms", "class=D", "Firms, class D")


def metrics_table(rows: list[tuple[str, int, int, str, str, float]]) -> pd.DataFrame:
    """A tidy metrics table of annual rows (scenario, replication, year, group, metric, value)."""
    frame = pd.DataFrame(rows, columns=["scenario", "replication", "year", "group", "metric",
                                        "value"])
    frame["month"] = pd.array([pd.NA] * len(frame), dtype="Int64")
    return frame[["year", "month", "scenario", "replication", "group", "metric", "value"]]


@pytest.fixture
def two_by_three() -> pd.DataFrame:
    """2 scenarios x 3 replications, 2019-2020: known paired differences in 2020.

    Tax: reference 10, 20, 30; variant 11, 22, 33 -> differences 1, 2, 3.
    Energy: reference 100, 200, 300; variant 102, 202.5, 303 -> 2, 2.5, 3.
    Firms in class D: 5 in every replication of both (identical by construction).
    In 2019 the variant equals the reference everywhere.
    """
    rows = []
    for k, (tax, energy) in enumerate(((10, 100), (20, 200), (30, 300))):
        for year in (2019, 2020):
            rows += [("base", k, year, "all", TAX[0], tax), ("base", k, year, "all", ENERGY[0],
                                                             energy),
                     ("base", k, year, "class=D", "firms", 5.0), ("strict", k, year, "class=D",
                                                                  "firms", 5.0)]
        rows += [("strict", k, 2019, "all", TAX[0], tax), ("strict", k, 2019, "all", ENERGY[0],
                                                            energy)]
        rows += [("strict", k, 2020, "all", TAX[0], tax * 1.1),
                 ("strict", k, 2020, "all", ENERGY[0], energy + (2, 2.5, 3)[k])]
    return metrics_table(rows)


# ---------------------------------------------------------------- paired differences


def test_difference_paths_are_the_paired_means_with_their_t_intervals(two_by_three):
    differences = paired_differences(two_by_three, "base")
    paths = difference_paths(differences, reference="base", indicators=[TAX, ENERGY])
    end = paths[paths["year"] == 2020].set_index("metric")
    # tax: differences 1, 2, 3 -> mean 2, sd 1, half-width t * 1 / sqrt 3 = 2.484
    half_tax = T975_2 * 1.0 / np.sqrt(3)
    assert end.loc[TAX[0], "difference"] == pytest.approx(2.0)
    assert (end.loc[TAX[0], "ci_low"], end.loc[TAX[0], "ci_high"]) == pytest.approx(
        (2.0 - half_tax, 2.0 + half_tax))
    assert half_tax == pytest.approx(2.4841, abs=1e-4)
    assert not end.loc[TAX[0], "significant"]  # -0.48 .. 4.48 includes zero
    # energy: differences 2, 2.5, 3 -> mean 2.5, sd 0.5, half-width 1.242: excludes zero
    half_energy = T975_2 * 0.5 / np.sqrt(3)
    assert end.loc[ENERGY[0], "difference"] == pytest.approx(2.5)
    assert end.loc[ENERGY[0], "ci_low"] == pytest.approx(2.5 - half_energy)
    assert end.loc[ENERGY[0], "significant"]
    assert list(paths["year"]) == [2019, 2020, 2019, 2020]
    assert (paths["n"] == 3).all()
    # 2019: identical runs, difference 0 with a zero-width interval: no effect
    assert not paths.loc[paths["year"] == 2019, "significant"].any()


def test_indicators_identical_in_every_replication_are_found(two_by_three):
    differences = paired_differences(two_by_three, "base")
    same = identical_indicators(differences, reference="base", indicators=[TAX, ENERGY, FIRMS_D])
    assert same == [FIRMS_D]


def test_effects_figure_draws_significant_years_filled_and_others_open(two_by_three):
    differences = paired_differences(two_by_three, "base")
    paths = difference_paths(differences, reference="base", indicators=[TAX, ENERGY])
    fig = plot_compare_effects(paths, scenarios=["base", "strict"])
    panels = {ax.get_label(): ax for ax in fig.axes if ax.get_label().startswith("effect:")}
    tax, energy = panels["effect:tax_per_mu_wan_yuan[all]"], panels["effect:energy_tce[all]"]

    def marked(ax, gid):
        return [x for line in ax.get_lines() if line.get_gid() == gid for x in line.get_xdata()]
    assert marked(energy, "significant") == [2020]
    assert marked(energy, "not_significant") == [2019]
    assert marked(tax, "significant") == []
    assert marked(tax, "not_significant") == [2019, 2020]
    legend = [t.get_text() for t in fig.axes[-1].get_legend().get_texts()]
    assert "No detectable effect (interval includes zero)" in legend


def test_effects_figure_with_one_replication_has_no_band_and_says_so(two_by_three):
    one = two_by_three[two_by_three["replication"] == 0]
    paths = difference_paths(paired_differences(one, "base"), reference="base",
                             indicators=[TAX])
    fig = plot_compare_effects(paths, scenarios=["base", "strict"])
    ax = next(ax for ax in fig.axes if ax.get_label().startswith("effect:"))
    assert not ax.collections  # no band
    assert list(ax.get_lines()[1].get_ydata()) == pytest.approx([0.0, 1.0])  # 11 - 10
    legend = [t.get_text() for t in fig.axes[-1].get_legend().get_texts()]
    assert legend == ["Difference (no interval)"]


def write_comparison(exp_dir: Path, metrics: pd.DataFrame, timelines: dict) -> Path:
    """A comparison directory as simulator.experiment.compare writes it."""
    (exp_dir / "scenarios").mkdir(parents=True)
    summarise(metrics).to_csv(exp_dir / "summary.csv", index=False)
    paired_differences(metrics, "base").to_csv(exp_dir / "differences.csv", index=False)
    (exp_dir / "experiment.json").write_text(json.dumps(
        {"kind": "compare", "name": "x", "scenarios": list(timelines), "replications": 3,
         "seed": 1, "version": "0.1.0"}), encoding="utf-8")
    for name, timeline in timelines.items():
        (exp_dir / "scenarios" / f"{name}.yaml").write_text(
            yaml.safe_dump({"name": name, "timeline": timeline}), encoding="utf-8")
    return exp_dir


# ---------------------------------------------------------------- policy dates


STRICT = [{"date": "2020-01", "set": {"tariffs.electricity.class_surcharge_yuan_per_kwh.D": 0.6,
                                      "tariffs.electricity.d_escalation": []}},
          {"date": "2019-07", "set": {"dynamics.exit.forced_exit_share_per_year": 0.02}}]


def test_policy_dates_are_the_timeline_months_in_time_order():
    dates = policy_dates({"base": [], "strict": STRICT})
    assert [(d.year, d.month, d.text) for d in dates] == [(2019, 7, "2019-07"),
                                                          (2020, 1, "2020-01")]
    assert dates[1].changes == (
        ("strict", "tariffs.electricity.class_surcharge_yuan_per_kwh.D"),
        ("strict", "tariffs.electricity.d_escalation"))
    assert [d.text for d in policy_dates({"strict": STRICT}, lang="zh")] == ["2019年7月",
                                                                            "2020年1月"]
    assert policy_caption(dates[1:]) == (
        "dashed lines: policy changes (2020-01 Electricity surcharge, class D, "
        "Escalated D surcharge)")


def test_policy_dates_of_a_comparison_come_from_its_stored_scenarios(tmp_path, two_by_three):
    exp = write_comparison(tmp_path / "cmp", two_by_three, {"base": [], "strict": STRICT})
    dates = experiment_policy_dates(exp, ["base", "strict"])
    assert [(d.year, d.month) for d in dates] == [(2019, 7), (2020, 1)]


def test_a_bad_timeline_date_is_refused_naming_it():
    with pytest.raises(ValueError, match="'2019/07'"):
        policy_dates({"s": [{"date": "2019/07", "set": {"x": 1}}]})


def test_comparison_figures_mark_policy_dates_on_time_axes(tmp_path, two_by_three):
    exp = write_comparison(tmp_path / "cmp", two_by_three, {"base": [], "strict": STRICT[:1]})
    compare_figures(exp, formats=("svg",))
    for name in ("compare_effects", "compare_indicators"):
        svg = (exp / "figures" / f"{name}.svg").read_text(encoding="utf-8")
        assert 'id="policy_date' in svg, name
        assert "dashed lines: policy changes (2020-01" in svg
    # the firm count in class D (a key indicator) is identical: no panel, the caption says so
    svg = (exp / "figures" / "compare_effects.svg").read_text(encoding="utf-8")
    assert "not drawn, identical in every replication: Firms, class D" in svg


# ---------------------------------------------------------------- en and zh side by side


def test_figure_dir_puts_chinese_figures_beside_the_english_ones(tmp_path):
    assert figure_dir(tmp_path, "en") == tmp_path / "figures"
    assert figure_dir(tmp_path, "zh") == tmp_path / "figures" / "zh"
    with pytest.raises(ValueError, match="'fr'"):
        figure_dir(tmp_path, "fr")


@pytest.mark.filterwarnings("ignore:Glyph:UserWarning")
def test_english_then_chinese_figures_leave_both_sets_intact(tmp_path, two_by_three):
    exp = write_comparison(tmp_path / "cmp", two_by_three, {"base": [], "strict": STRICT[:1]})
    english = compare_figures(exp, formats=("png",))
    before = {p: p.read_bytes() for p in english}
    chinese = compare_figures(exp, lang="zh", formats=("png",))
    assert all(p.parent == exp / "figures" / "zh" for p in chinese)
    assert {p.name for p in chinese} == {p.name for p in english}
    assert {p: p.read_bytes() for p in english} == before  # not overwritten


# ---------------------------------------------------------------- market price setters


def auction_rows(codes: dict[tuple[int, int], list[float]]) -> pd.DataFrame:
    rows = []
    for (year, month), values in codes.items():
        for k, value in enumerate(values):
            rows.append({"year": year, "month": month, "scenario": "s", "replication": k,
                         "group": "market=energy", "metric": "quota_price_setter",
                         "value": value})
    return pd.DataFrame(rows)


def test_price_setters_flag_the_auctions_an_administrative_price_priced():
    metrics = auction_rows({(2019, 3): [0, 0, 1],      # the bids in most replications
                            (2019, 6): [1, 1, 0],      # the floor
                            (2019, 9): [3, np.nan, 3],  # a reserve price (one did not trade)
                            (2019, 12): [np.nan] * 3,   # no trade: not listed
                            (2020, 3): [2, 4, 0]})     # a tie: the lowest code, the bids
    setters = price_setters(metrics, "energy")
    assert list(zip(setters["month"], setters["setter"], strict=True)) == [
        (3, "market"), (6, "floor"), (9, "reserve"), (3, "market")]
    assert list(setters["administrative"]) == [False, True, True, False]
    assert list(setters["share"]) == pytest.approx([2 / 3, 2 / 3, 1.0, 1 / 3])


# ---------------------------------------------------------------- sweeps


def test_a_grid_over_two_parameters_is_a_heatmap_other_designs_a_scatter():
    assert uses_heatmap({"design": "grid", "parameters": ["a", "b"]})
    assert not uses_heatmap({"design": "grid", "parameters": ["a"]})
    assert not uses_heatmap({"design": "grid", "parameters": ["a", "b", "c"]})
    assert not uses_heatmap({"design": "lhs", "parameters": ["a", "b"]})
    assert not uses_heatmap({"design": "sobol", "parameters": ["a", "b"]})


D = "tariffs.electricity.class_surcharge_yuan_per_kwh.D"
EXIT = "dynamics.exit.forced_exit_share_per_year"


def grid_outputs() -> pd.DataFrame:
    rows = []
    for sample, (d, e) in enumerate((d, e) for e in (0.0, 0.03) for d in (0.0, 0.3, 0.6)):
        for k in range(2):
            rows.append({"sample": sample, "replication": k, D: d, EXIT: e,
                         "tax_per_mu_wan_yuan": 10 + 10 * d + 100 * e + k})
    return pd.DataFrame(rows)


def test_grid_means_average_the_replications_of_each_grid_point():
    table = grid_means(grid_outputs(), x=D, y=EXIT, output="tax_per_mu_wan_yuan")
    assert list(table.columns) == [0.0, 0.3, 0.6]
    assert list(table.index) == [0.0, 0.03]
    # mean of k = 0, 1 adds 0.5
    assert table.to_numpy() == pytest.approx(np.array([[10.5, 13.5, 16.5], [13.5, 16.5, 19.5]]))


def test_heatmap_has_one_annotated_cell_per_grid_point_and_labelled_axes():
    fig = plot_sweep_heatmap(grid_outputs(), parameters=[D, EXIT],
                             output_names=["tax_per_mu_wan_yuan"])
    ax = fig.axes[0]
    assert len(ax.get_images()) == 1
    assert sorted(t.get_text() for t in ax.texts) == sorted(
        ["10.5", "13.5", "16.5", "13.5", "16.5", "19.5"])
    def flat(text):  # the label wrapped over lines, without its line breaks and spaces
        return "".join(text.split())
    assert flat(ax.get_xlabel()) == flat("Electricity surcharge, class D (yuan/kWh)")
    assert flat(ax.get_ylabel()) == flat("Forced-exit quota (share of rated firms per year)")


def test_sweep_figures_of_a_two_parameter_grid_write_the_heatmap(tmp_path):
    exp = tmp_path / "grid"
    exp.mkdir()
    grid_outputs().to_csv(exp / "outputs.csv", index=False)
    (exp / "experiment.json").write_text(json.dumps(
        {"kind": "sweep", "name": "g", "design": "grid", "parameters": [D, EXIT],
         "outputs": ["tax_per_mu_wan_yuan"], "replications": 2, "seed": 1}), encoding="utf-8")
    paths = sweep_figures(exp, formats=("png",))
    assert [p.name for p in paths] == ["sweep_heatmap.png"]


def test_parameter_labels_come_from_the_catalogue_in_both_languages():
    assert parameter_label(D, "zh") == ("D 类企业差别化电价加价", "元/千瓦时")
    assert parameter_label("markets.emissions.cod.paid_use_price_yuan_per_t_year", "en") == (
        "Paid-use price, COD", "yuan/t per year")
    assert parameter_label("evaluation.unknown_knob", "en") == ("evaluation.unknown_knob", "")


def test_run_figures_go_beside_each_other_and_mark_the_timeline(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    metrics = metrics_table([("s", 0, year, f"class={c}", metric, 1.0 + year - 2018)
                             for year in (2018, 2019, 2020) for c in "ABCD"
                             for metric in ("firms", "tax_per_mu_wan_yuan")])
    metrics.to_parquet(run / "metrics.parquet")
    (run / "manifest.json").write_text(json.dumps(
        {"scenario": {"name": "s", "timeline": STRICT[:1]}, "seed": 1, "replications": 1,
         "version": "0.1.0"}), encoding="utf-8")
    english = make_figures(run, formats=("svg",))
    assert all(p.parent == run / "figures" for p in english)
    counts = (run / "figures" / "class_counts.svg").read_text(encoding="utf-8")
    assert 'id="policy_date' in counts
    transitions = (run / "figures" / "transitions.svg").read_text(encoding="utf-8")
    assert 'id="policy_date' not in transitions  # not a time axis


# ---------------------------------------------------------------- text that fits the page


def test_chinese_labels_and_captions_wrap_by_printed_width():
    from simulator.plots._style import fill_caption, legend_columns, text_columns, wrap_label

    assert text_columns("亩均税收 ab") == 11  # four wide characters, a space, two narrow
    assert wrap_label("2018 年亩均税收（规上工业）（万元/亩）", 22) == (
        "2018 年亩均税收（规上\n工业）（万元/亩）")
    caption = fill_caption("虚线：政策调整（2019年1月 D 类企业差别化电价加价）", 20)
    assert all(text_columns(line) <= 20 for line in caption.split("\n"))
    assert caption.replace("\n", "") == "虚线：政策调整（2019年1月 D 类企业差别化电价加价）"
    # six long English class names do not fit side by side on a 10 in page; short ones do
    long = ["A: priority development", "B: upgrading", "C: regulated and supported",
            "D: forced rectification", "U: unrated", "All industrial firms"]
    assert legend_columns(long, 10.0) == 3
    assert legend_columns(["A", "B", "C", "D"], 10.0) == 4


def test_class_effects_show_who_bears_the_difference():
    from simulator.plots.compare import class_effects

    bill = "resource_bill_yuan_per_wan_yuan_va"
    rows = []
    for k, extra in enumerate((100.0, 110.0, 120.0)):  # D firms pay more, A firms the same
        rows += [("base", k, 2020, "class=A", bill, 50.0 + k), ("strict", k, 2020, "class=A",
                                                                bill, 50.0 + k),
                 ("base", k, 2020, "class=D", bill, 900.0 + k),
                 ("strict", k, 2020, "class=D", bill, 900.0 + k + extra)]
    effects = class_effects(paired_differences(metrics_table(rows), "base"), reference="base",
                            year=2020)
    by_class = effects.set_index("klass")
    assert list(effects["klass"]) == ["A", "D"]
    assert by_class.loc["D", "difference"] == pytest.approx(110.0)
    assert by_class.loc["D", "ci_low"] == pytest.approx(110.0 - T975_2 * 10.0 / np.sqrt(3))
    assert by_class.loc["D", "significant"]
    assert by_class.loc["A", "difference"] == 0.0
    assert not by_class.loc["A", "significant"]

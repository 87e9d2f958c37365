"""Tests for simulator/plots.py: the policy-brief figure set read from a run directory."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from types import SimpleNamespace

import matplotlib as mpl
import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from scipy import stats

from simulator import plots
from simulator.plots import (
    CJKFontWarning,
    make_figures,
    plot_class_counts,
    plot_indicators,
    plot_resource_bill,
    plot_transitions,
    read_manifest,
    read_metrics,
    replication_summary,
    transition_matrix,
)

YEARS = (2020, 2021, 2022)
CLASSES = ("A", "B", "C", "D")
LETTERS = "ABCDU"


def indicator_mean(metric_index: int, group: str, year: int) -> float:
    """The value the synthetic run's replications average to."""
    level = 25.0 if group == "all" else 10.0 * (4 - CLASSES.index(group[-1]))
    return level * (metric_index + 1) + (year - 2020)


def firms_mean(klass: str, year: int) -> float:
    return {"A": 10, "B": 20, "C": 15, "D": 6}[klass] + (year - 2020)


def bill_mean(group: str, year: int) -> float:
    return {"class=A": 50, "class=B": 60, "class=C": 80, "class=D": 120, "all": 70}[group] + year


def transition_count(src: str, dst: str, year: int, replication: int) -> int:
    if src == "U":
        return 3 if dst == "A" else 0
    if dst == "U":
        return 0
    if src == dst:
        return 10 + replication
    return abs(LETTERS.index(src) - LETTERS.index(dst)) + (year - 2020) + replication


def expected_transitions(replications: int) -> pd.DataFrame:
    """Counts summed over 2021-2022, averaged over replications, computed by hand-rule."""
    matrix = pd.DataFrame(0.0, index=list(LETTERS), columns=list(LETTERS))
    for src in LETTERS:
        for dst in LETTERS:
            matrix.loc[src, dst] = np.mean([
                sum(transition_count(src, dst, y, r) for y in YEARS[1:])
                for r in range(replications)
            ])
    return matrix


def synthetic_metrics(replications: int = 2) -> pd.DataFrame:
    """A three-year, four-class metrics table in the engine's tidy format."""
    rows: list[dict] = []

    def add(year, group, metric, value, replication, month=None):
        rows.append({"year": year, "month": month, "scenario": "baseline",
                     "replication": replication, "group": group, "metric": metric,
                     "value": float(value)})

    # Replications spread symmetrically around the mean: -1, +1 (or 0 for one run).
    spread = [0.0] if replications == 1 else list(np.linspace(-1, 1, replications))
    for r, delta in enumerate(spread):
        for year in YEARS:
            for group in [*(f"class={c}" for c in CLASSES), "all"]:
                for j, metric in enumerate(plots.INDICATORS):
                    add(year, group, metric, indicator_mean(j, group, year) + delta, r)
                add(year, group, "resource_bill_yuan_per_wan_yuan_va",
                    bill_mean(group, year) + delta, r)
            for c in CLASSES:
                add(year, f"class={c}", "firms", firms_mean(c, year) + delta, r)
            add(year, "all", "firms", sum(firms_mean(c, year) for c in CLASSES), r)
            add(year, "class=U", "firms", 40, r)
            # Monthly rows must be ignored by every annual figure.
            for month in range(1, 13):
                add(year, "class=A", "tax_per_mu_wan_yuan", 1e6, r, month=month)
            if year > YEARS[0]:
                for src in LETTERS:
                    for dst in LETTERS:
                        add(year, f"{src}->{dst}", "class_transition_firms",
                            transition_count(src, dst, year, r), r)
    table = pd.DataFrame(rows)
    table["month"] = pd.array(table["month"], dtype="Int64")
    return table


def write_run(run_dir: Path, replications: int = 2) -> Path:
    """Write manifest.json and metrics.parquet as the engine would; return the directory."""
    run_dir.mkdir(parents=True, exist_ok=True)
    synthetic_metrics(replications).to_parquet(run_dir / "metrics.parquet", index=False)
    manifest = {
        "scenario": {"name": "baseline", "years": list(YEARS)},
        "seed": 42, "replications": replications, "version": "0.1.0",
        "git_revision": None, "started": "2024-01-01T00:00:00", "wall_time_s": 1.5,
    }
    (run_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return run_dir


def panels(fig: Figure) -> list:
    """The indicator figure's four data panels (without its legend row)."""
    return [ax for ax in fig.axes if ax.get_label() != "legend"]


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return write_run(tmp_path / "run")


@pytest.fixture
def metrics() -> pd.DataFrame:
    return synthetic_metrics()


@pytest.fixture
def no_cjk_font(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plots, "find_cjk_font", lambda: None)


@pytest.fixture
def cjk_font(monkeypatch: pytest.MonkeyPatch) -> None:
    # Pretend DejaVu has CJK glyphs: exercises the Chinese path on machines without one.
    monkeypatch.setattr(plots, "find_cjk_font", lambda: "DejaVu Sans")


# ---------------------------------------------------------------- files


def test_make_figures_writes_a_png_and_an_svg_per_figure(run_dir: Path):
    paths = make_figures(run_dir)
    expected = {f"{name}.{fmt}" for name in plots.FIGURES for fmt in ("png", "svg")}
    assert {p.name for p in paths} == expected
    assert len(expected) == 8
    for path in paths:
        assert path.parent == run_dir / "figures"
        assert path.stat().st_size > 1000
    for name in plots.FIGURES:
        image = mpimg.imread(run_dir / "figures" / f"{name}.png")
        assert image.shape[:2] == (900, 1500)  # 10 x 6 in at 150 dpi


def test_svg_output_is_byte_identical_across_runs(run_dir: Path):
    salt = mpl.rcParams["svg.hashsalt"]
    first = {p.name: p.read_bytes() for p in make_figures(run_dir, formats=("svg",))}
    second = {p.name: p.read_bytes() for p in make_figures(run_dir, formats=("svg",))}
    assert first == second
    assert mpl.rcParams["svg.hashsalt"] == salt  # the fixed salt was not left behind
    svg = first["indicators.svg"].decode("utf-8")
    assert "<dc:date>" not in svg
    assert "Mujun 0.1.0 · scenario baseline · seed 42 · 2 replication(s)" in svg


def test_missing_metrics_parquet_raises_file_not_found_naming_the_file(tmp_path: Path):
    run = write_run(tmp_path / "run")
    (run / "metrics.parquet").unlink()
    with pytest.raises(FileNotFoundError, match="metrics.parquet"):
        make_figures(run)


def test_missing_manifest_raises_file_not_found_naming_the_file(tmp_path: Path):
    run = write_run(tmp_path / "run")
    (run / "manifest.json").unlink()
    with pytest.raises(FileNotFoundError, match="manifest.json"):
        read_manifest(run)


def test_read_metrics_rejects_table_without_required_column(tmp_path: Path):
    tmp_path.joinpath("metrics.parquet").write_bytes(b"")
    synthetic_metrics().drop(columns="group").to_parquet(tmp_path / "metrics.parquet")
    with pytest.raises(ValueError, match="group"):
        read_metrics(tmp_path)


def test_unknown_language_is_rejected(run_dir: Path):
    with pytest.raises(ValueError, match="'lang' parameter must be one of"):
        make_figures(run_dir, lang="fr")


def test_unknown_format_is_rejected(run_dir: Path):
    with pytest.raises(ValueError, match="'formats' parameter"):
        make_figures(run_dir, formats=("docx",))


def test_source_line_names_version_scenario_seed_and_replications(run_dir: Path):
    manifest = read_manifest(run_dir)
    assert plots.source_line(manifest) == (
        "Mujun 0.1.0 · scenario baseline · seed 42 · 2 replication(s)")
    assert plots.source_line(manifest, lang="zh") == (
        "Mujun 0.1.0 · 情景 baseline · 随机种子 42 · 2 次重复")


# ---------------------------------------------------------------- language and fonts


def test_zh_without_cjk_font_warns_once_and_draws_english(run_dir: Path, no_cjk_font):
    with pytest.warns(CJKFontWarning, match="fonts-noto-cjk") as record:
        paths = make_figures(run_dir, lang="zh")
    assert sum(issubclass(w.category, CJKFontWarning) for w in record) == 1
    assert len(paths) == 8
    assert all(p.stat().st_size > 0 for p in paths)


def test_plot_function_with_zh_and_no_cjk_font_falls_back_to_english(metrics, no_cjk_font):
    with pytest.warns(CJKFontWarning):
        fig = plot_indicators(metrics, lang="zh")
    assert fig.get_suptitle() == plots.LABELS["en"]["indicators.title"]
    assert fig.axes[0].get_title() == "Tax per mu"


@pytest.mark.filterwarnings("ignore:Glyph:UserWarning")  # DejaVu stands in for a CJK font
def test_zh_with_cjk_font_draws_chinese_labels_without_warning(run_dir, metrics, cjk_font):
    with warnings.catch_warnings():
        warnings.simplefilter("error", CJKFontWarning)
        fig = plot_indicators(metrics, lang="zh")
        ax = plot_class_counts(metrics, lang="zh")
        paths = make_figures(run_dir, lang="zh", formats=("png",))
    assert fig.get_suptitle() == "分类企业亩均效益指标"
    assert [a.get_title() for a in panels(fig)] == [
        "亩均税收", "亩均工业增加值", "单位能耗工业增加值", "单位排放工业增加值"]
    assert fig.axes[0].get_ylabel() == "万元/亩"
    assert "优先发展类 A" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert ax.get_ylabel() == "企业数 (家)"
    assert len(paths) == 4


def test_labels_exist_in_every_language_for_the_same_keys():
    assert plots.LABELS["en"].keys() == plots.LABELS["zh"].keys()


def test_find_cjk_font_prefers_listed_candidates_then_any_cjk_name(monkeypatch):
    def installed(*names):
        monkeypatch.setattr(plots.fontManager, "ttflist",
                            [SimpleNamespace(name=n) for n in names])

    installed("DejaVu Sans", "WenQuanYi Zen Hei", "Noto Sans CJK SC")
    assert plots.find_cjk_font() == "Noto Sans CJK SC"
    installed("DejaVu Sans", "Foo CJK TC")
    assert plots.find_cjk_font() == "Foo CJK TC"
    installed("DejaVu Sans", "Last Resort High-Efficiency")
    assert plots.find_cjk_font() is None


# ---------------------------------------------------------------- figure contents


def test_indicator_panels_have_one_line_per_class_plus_all(metrics):
    fig = plot_indicators(metrics)
    assert len(panels(fig)) == 4
    for ax in panels(fig):
        assert len(ax.get_lines()) == 5
        assert len(ax.collections) == 5  # one CI band per line with two replications
        assert ax.get_ylabel().startswith("10k yuan")


def test_indicator_line_is_the_mean_across_replications(metrics):
    fig = plot_indicators(metrics)
    lines = {line.get_label(): line for line in fig.axes[1].get_lines()}  # VA per mu
    line = lines[plots.LABELS["en"]["class.B"]]
    np.testing.assert_array_equal(line.get_xdata(), YEARS)
    np.testing.assert_allclose(line.get_ydata(), [indicator_mean(1, "class=B", y) for y in YEARS])
    all_firms = lines[plots.LABELS["en"]["class.all"]]
    assert all_firms.get_linestyle() == "--"
    assert all_firms.get_color() == "#000000"


def test_monthly_rows_do_not_enter_annual_lines(metrics):
    fig = plot_indicators(metrics)
    line = fig.axes[0].get_lines()[0]  # class A, tax per mu; monthly rows hold 1e6
    np.testing.assert_allclose(line.get_ydata(), [indicator_mean(0, "class=A", y) for y in YEARS])


def test_single_replication_draws_no_band():
    fig = plot_indicators(synthetic_metrics(replications=1))
    assert all(len(ax.get_lines()) == 5 and not ax.collections for ax in panels(fig))


def test_replication_summary_band_is_the_t_interval():
    table = synthetic_metrics(replications=3)  # values mean-1, mean, mean+1
    summary = replication_summary(table, "va_per_tce_wan_yuan", groups=["class=C"])
    row = summary[summary["year"] == 2021].iloc[0]
    half = stats.t.ppf(0.975, 2) * 1.0 / np.sqrt(3)
    assert row["mean"] == pytest.approx(indicator_mean(2, "class=C", 2021))
    assert row["ci_high"] - row["mean"] == pytest.approx(half)
    assert row["mean"] - row["ci_low"] == pytest.approx(half)
    assert row["n"] == 3


def test_class_colours_are_fixed_across_figures(metrics):
    counts = plot_class_counts(metrics)
    bill = plot_resource_bill(metrics)
    bar_colour = {c.get_label(): c.patches[0].get_facecolor() for c in counts.containers}
    from matplotlib.colors import to_rgba

    for line in bill.get_lines():
        if line.get_label() in bar_colour:
            assert to_rgba(line.get_color()) == bar_colour[line.get_label()]


def test_class_count_bars_stack_mean_counts_a_to_d(metrics):
    ax = plot_class_counts(metrics)
    assert [c.get_label() for c in ax.containers] == [
        plots.LABELS["en"][f"class.{c}"] for c in CLASSES]
    bottoms = np.zeros(len(YEARS))
    for klass, container in zip(CLASSES, ax.containers, strict=True):
        heights = [bar.get_height() for bar in container.patches]
        np.testing.assert_allclose(heights, [firms_mean(klass, y) for y in YEARS])
        np.testing.assert_allclose([bar.get_y() for bar in container.patches], bottoms)
        bottoms += heights


def test_resource_bill_lines_per_class_and_all(metrics):
    ax = plot_resource_bill(metrics)
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert len(lines) == 5
    np.testing.assert_allclose(lines[plots.LABELS["en"]["class.D"]].get_ydata(),
                               [bill_mean("class=D", y) for y in YEARS])
    assert "yuan per 10k yuan" in ax.get_ylabel()


def test_transition_matrix_sums_years_and_averages_replications(metrics):
    matrix = transition_matrix(metrics)
    assert list(matrix.index) == list(LETTERS)
    assert list(matrix.columns) == list(LETTERS)
    pd.testing.assert_frame_equal(matrix, expected_transitions(2), check_names=False)
    assert matrix.loc["A", "A"] == pytest.approx(21.0)  # (10 + 10 + 11 + 11) / 2


def test_transition_heatmap_cells_show_summed_counts_and_row_shares(metrics):
    ax = plot_transitions(metrics)
    expected = expected_transitions(2)
    cells = [t for t in ax.texts if "\n" in t.get_text()]
    assert len(cells) == 25
    for text in cells:
        col, row = (int(round(v)) for v in text.get_position())
        count, share = text.get_text().split("\n")
        assert float(count.replace(",", "")) == pytest.approx(expected.iloc[row, col], abs=0.05)
        row_share = expected.iloc[row, col] / expected.iloc[row].sum()
        assert share == f"{row_share:.0%}"
    np.testing.assert_allclose(ax.images[0].get_array(),
                               expected.div(expected.sum(axis=1), axis=0).to_numpy())
    assert "2021–2022" in ax.get_title()
    assert ax.get_ylabel() == "Class in previous evaluation"


def test_plot_functions_draw_on_the_axes_they_are_given(metrics):
    fig = Figure()
    axes = fig.subplots(1, 3)
    assert plot_class_counts(metrics, ax=axes[0]) is axes[0]
    assert plot_resource_bill(metrics, ax=axes[1]) is axes[1]
    assert plot_transitions(metrics, ax=axes[2]) is axes[2]
    target = Figure()
    assert plot_indicators(metrics, fig=target) is target


def test_missing_metric_draws_no_data_note_instead_of_failing(metrics):
    without_bill = metrics[metrics["metric"] != "resource_bill_yuan_per_wan_yuan_va"]
    ax = plot_resource_bill(without_bill)
    assert not ax.get_lines()
    assert [t.get_text() for t in ax.texts] == ["No data"]


def test_metrics_of_several_scenarios_are_rejected(metrics):
    other = metrics.assign(scenario="variant")
    with pytest.raises(ValueError, match="one scenario"):
        plot_class_counts(pd.concat([metrics, other]))


def test_duplicate_annual_rows_are_rejected(metrics):
    doubled = pd.concat([metrics, metrics[metrics["metric"] == "firms"]])
    with pytest.raises(ValueError, match="several annual 'firms' rows"):
        plot_class_counts(doubled)

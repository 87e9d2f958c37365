"""Tests for simulator/plots/dynamics.py: land use, investment, entry and exit figures."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from simulator import plots
from simulator.plots import (
    CJKFontWarning,
    dynamics_figures,
    make_figures,
    plot_entry_exit,
    plot_investment,
    plot_land_use,
)
from simulator.plots import _style as plot_style

YEARS = (2020, 2021, 2022)
CLASSES = ("A", "B", "C", "D")
OPTIONS = ("retrofit", "pollution_control", "automation", "space_for_land")
REASONS = ("losses", "d_grace", "forced")
LAND_STOCKS = ("land_occupied_mu", "land_idle_mu", "land_available_mu")
LAND_FLOWS = ("land_revitalised_mu", "land_allocated_mu", "land_new_mu")
FIGURE_METRICS = {
    "land_use": {*LAND_STOCKS, *LAND_FLOWS},
    "investment": {f"investments_{o}" for o in OPTIONS},
    "entry_exit": {"entries", "exits", "zombie_firms"},
}
EN = plots.LABELS["en"]


def land_mean(metric: str, year: int) -> float:
    """Stocks in the thousands of mu, flows in the tens (the two panels' scales)."""
    return {"land_occupied_mu": 9000.0, "land_idle_mu": 600.0, "land_available_mu": 300.0,
            "land_revitalised_mu": 40.0, "land_allocated_mu": 55.0,
            "land_new_mu": 20.0}[metric] + 10 * (year - 2020)


def investors_mean(option: str, klass: str, year: int) -> float:
    """Firms investing: more among A and B firms, growing by one a year."""
    return (OPTIONS.index(option) + 1) * {"A": 4, "B": 3, "C": 2, "D": 1}[klass] + (year - 2020)


def investors_all(option: str, year: int) -> float:
    """All industrial firms: the classes plus two unrated firms."""
    return sum(investors_mean(option, c, year) for c in CLASSES) + 2


def entries_mean(year: int) -> float:
    return 12.0 + 2 * (year - 2020)


def exits_mean(reason: str, year: int) -> float:
    return {"losses": 5.0, "d_grace": 3.0, "forced": 2.0}[reason] + (year - 2020)


def zombies_mean(year: int) -> float:
    return 30.0 - 4 * (year - 2020)


def synthetic_dynamics_metrics(replications: int = 2) -> pd.DataFrame:
    """Land, investment, entry and exit rows in the engine's tidy format.

    Replications spread symmetrically around the mean (-1, +1; 0 for one run),
    and monthly rows that every annual figure must ignore.
    """
    rows: list[dict] = []

    def add(year, group, metric, value, replication, month=None):
        rows.append({"year": year, "month": month, "scenario": "baseline",
                     "replication": replication, "group": group, "metric": metric,
                     "value": float(value)})

    spread = [0.0] if replications == 1 else list(np.linspace(-1, 1, replications))
    for r, delta in enumerate(spread):
        for year in YEARS:
            for metric in (*LAND_STOCKS, *LAND_FLOWS):
                add(year, "all", metric, land_mean(metric, year) + delta, r)
            for option in OPTIONS:
                for klass in CLASSES:
                    add(year, f"class={klass}", f"investments_{option}",
                        investors_mean(option, klass, year) + delta, r)
                add(year, "class=U", f"investments_{option}", 2.0 + delta, r)
                add(year, "all", f"investments_{option}", investors_all(option, year) + delta, r)
            add(year, "all", "entries", entries_mean(year) + delta, r)
            for reason in REASONS:
                add(year, f"reason={reason}", "exits", exits_mean(reason, year) + delta, r)
            add(year, "all", "zombie_firms", zombies_mean(year) + delta, r)
            add(year, "all", "entries", 1e6, r, month=6)
    table = pd.DataFrame(rows)
    table["month"] = pd.array(table["month"], dtype="Int64")
    return table


def base_metrics(replications: int = 2) -> pd.DataFrame:
    """Firms by class only: enough for the core figures of a run without dynamics."""
    table = pd.DataFrame([
        {"year": year, "month": None, "scenario": "baseline", "replication": r,
         "group": f"class={c}", "metric": "firms", "value": 10.0}
        for r in range(replications) for year in YEARS for c in CLASSES])
    table["month"] = pd.array(table["month"], dtype="Int64")
    return table


def write_run(run_dir: Path, table: pd.DataFrame, replications: int = 2) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    table.to_parquet(run_dir / "metrics.parquet", index=False)
    manifest = {"scenario": {"name": "baseline"}, "seed": 7, "replications": replications,
                "version": "0.1.0"}
    (run_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return run_dir


def without(table: pd.DataFrame, metrics: set[str]) -> pd.DataFrame:
    return table[~table["metric"].isin(metrics)]


@pytest.fixture
def metrics() -> pd.DataFrame:
    return synthetic_dynamics_metrics()


@pytest.fixture
def run_dir(tmp_path: Path, metrics: pd.DataFrame) -> Path:
    return write_run(tmp_path / "run", pd.concat([base_metrics(), metrics], ignore_index=True))


@pytest.fixture
def no_cjk_font(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plot_style, "find_cjk_font", lambda: None)


@pytest.fixture
def cjk_font(monkeypatch: pytest.MonkeyPatch) -> None:
    # Pretend DejaVu has CJK glyphs: exercises the Chinese path on machines without one.
    monkeypatch.setattr(plot_style, "find_cjk_font", lambda: "DejaVu Sans")


def axes_labelled(fig: Figure) -> dict[str, object]:
    return {ax.get_label(): ax for ax in fig.axes}


def line_labelled(ax, label: str):
    (line,) = [line for line in ax.get_lines() if line.get_label() == label]
    return line


def top_edge(collection, years) -> list[float]:
    """Highest y of a stacked-area layer at each year."""
    vertices = collection.get_paths()[0].vertices
    return [vertices[np.isclose(vertices[:, 0], y), 1].max() for y in years]


# ---------------------------------------------------------------- which figures, which files


def test_make_figures_writes_the_dynamics_figures_after_the_core_ones(run_dir: Path):
    paths = make_figures(run_dir)
    names = [*plots.FIGURES, *plots.DYNAMICS_FIGURES]
    assert [p.name for p in paths] == [f"{n}.{fmt}" for n in names for fmt in ("png", "svg")]
    for name in plots.DYNAMICS_FIGURES:
        image = mpimg.imread(run_dir / "figures" / f"{name}.png")
        assert image.shape[:2] == (900, 1500)  # 10 x 6 in at 150 dpi
        assert (run_dir / "figures" / f"{name}.svg").stat().st_size > 1000


@pytest.mark.parametrize("absent", ["land_use", "investment", "entry_exit"])
def test_a_dynamics_figure_is_skipped_when_its_metrics_are_absent(tmp_path, metrics, absent):
    table = pd.concat([base_metrics(), without(metrics, FIGURE_METRICS[absent])])
    paths = make_figures(write_run(tmp_path / "run", table))
    stems = {p.stem for p in paths}
    assert absent not in stems
    assert stems == {*plots.FIGURES, *plots.DYNAMICS_FIGURES} - {absent}
    assert not (tmp_path / "run" / "figures" / f"{absent}.png").exists()


def test_run_without_dynamics_metrics_writes_only_the_core_figures(tmp_path: Path):
    paths = make_figures(write_run(tmp_path / "run", base_metrics()))
    assert {p.stem for p in paths} == set(plots.FIGURES)
    assert all(p.stat().st_size > 0 for p in paths)


def test_dynamics_figures_need_one_annual_metric_each(metrics):
    assert dynamics_figures(metrics) == ["land_use", "investment", "entry_exit"]
    assert dynamics_figures(base_metrics()) == []
    only_zombies = metrics[metrics["metric"] == "zombie_firms"]
    assert dynamics_figures(only_zombies) == ["entry_exit"]
    only_idle = metrics[metrics["metric"] == "land_idle_mu"]
    assert dynamics_figures(only_idle) == ["land_use"]
    monthly_only = metrics[(metrics["metric"] == "entries") & metrics["month"].notna()]
    assert dynamics_figures(monthly_only) == []


def test_dynamics_svgs_are_byte_identical_across_runs(run_dir: Path):
    def svgs():
        return {p.name: p.read_bytes() for p in make_figures(run_dir, formats=("svg",))
                if p.stem in plots.DYNAMICS_FIGURES}

    first = svgs()
    assert len(first) == 3
    assert first == svgs()
    assert "Mujun 0.1.0 · scenario baseline · seed 7 · 2 replications" in (
        first["land_use.svg"].decode("utf-8"))


# ---------------------------------------------------------------- land use


def test_land_stocks_are_stacked_means_occupied_idle_available(metrics):
    stocks = axes_labelled(plot_land_use(metrics))["stocks"]
    layers = stocks.collections
    assert [c.get_label() for c in layers] == [
        EN["land.occupied"], EN["land.idle"], EN["land.available"]]
    cumulative = np.zeros(len(YEARS))
    for metric, layer in zip(LAND_STOCKS, layers, strict=True):
        cumulative += [land_mean(metric, y) for y in YEARS]
        np.testing.assert_allclose(top_edge(layer, YEARS), cumulative)
    assert stocks.get_ylabel() == "Land (mu)"
    assert stocks.get_ylim()[0] == 0.0


def test_land_flows_are_mean_lines_with_ci_bands(metrics):
    fig = plot_land_use(metrics)
    flows = axes_labelled(fig)["flows"]
    for metric, key in zip(LAND_FLOWS, ("revitalised", "allocated", "new"), strict=True):
        line = line_labelled(flows, EN[f"land.{key}"])
        np.testing.assert_array_equal(line.get_xdata(), YEARS)
        np.testing.assert_allclose(line.get_ydata(), [land_mean(metric, y) for y in YEARS])
    assert len(flows.collections) == 3  # two replications: one band per line
    assert flows.get_ylabel() == "Land (mu per year)"
    assert fig.get_suptitle() == "Industrial land use"


def test_land_use_with_stocks_only_notes_missing_flows(metrics):
    fig = plot_land_use(without(metrics, set(LAND_FLOWS)))
    flows = axes_labelled(fig)["flows"]
    assert not flows.get_lines()
    assert [t.get_text() for t in flows.texts] == ["No data"]
    assert len(axes_labelled(fig)["stocks"].collections) == 3


# ---------------------------------------------------------------- investment


def investment_axes(fig: Figure) -> dict[str, object]:
    return {ax.get_label().removeprefix("investment:"): ax for ax in fig.axes
            if ax.get_label().startswith("investment:")}


def test_one_investment_panel_per_option_in_fixed_order(metrics):
    fig = plot_investment(metrics)
    panels = investment_axes(fig)
    assert list(panels) == list(OPTIONS)
    assert [ax.get_title() for ax in panels.values()] == [
        EN[f"investment.{o}"] for o in OPTIONS]
    assert fig.get_suptitle() == "Investment by type and class"
    assert panels["retrofit"].get_ylabel() == "Firms investing (count)"
    assert panels["pollution_control"].get_ylabel() == ""  # right column: shared label
    legend = [t.get_text() for t in axes_labelled(fig)["legend"].get_legend().get_texts()]
    assert legend == [*(EN[f"class.{c}"] for c in (*CLASSES, "U")), EN["class.all"]]


def test_investment_bars_stack_mean_firms_by_class_a_to_d(metrics):
    ax = investment_axes(plot_investment(metrics))["automation"]
    # A-D, then unrated firms on top: the stack adds up to all firms.
    assert [c.get_label() for c in ax.containers] == [EN[f"class.{c}"]
                                                      for c in (*CLASSES, "U")]
    top = [sum(bar.get_y() + bar.get_height() for bar in ax.containers[-1].patches[i:i + 1])
           for i in range(len(YEARS))]
    np.testing.assert_allclose(top, [investors_all("automation", y) for y in YEARS])
    bottoms = np.zeros(len(YEARS))
    for klass, container in zip(CLASSES, ax.containers[:4], strict=True):
        heights = [bar.get_height() for bar in container.patches]
        np.testing.assert_allclose(heights, [investors_mean("automation", klass, y)
                                             for y in YEARS])
        np.testing.assert_allclose([bar.get_y() for bar in container.patches], bottoms)
        assert container.patches[0].get_facecolor()[:3] == pytest.approx(
            tuple(int(plots.COLOURS[klass][i:i + 2], 16) / 255 for i in (1, 3, 5)))
        bottoms += heights
    total = line_labelled(ax, EN["class.all"])
    np.testing.assert_allclose(total.get_ydata(), [investors_all("automation", y) for y in YEARS])
    assert total.get_linestyle() == "--"
    assert not ax.collections  # no CI band hiding the bars, as for the class counts


def test_only_options_with_rows_get_a_panel(metrics):
    table = without(metrics, {"investments_retrofit", "investments_automation"})
    assert list(investment_axes(plot_investment(table))) == ["pollution_control",
                                                             "space_for_land"]


def test_completed_projects_by_option_are_not_an_investment_option(metrics):
    completed = metrics[metrics["metric"] == "investments_retrofit"].assign(
        metric="investments_completed", group="option=retrofit")
    table = pd.concat([metrics, completed])
    assert list(investment_axes(plot_investment(table))) == list(OPTIONS)
    only_completed = pd.concat([base_metrics(), completed])
    assert dynamics_figures(only_completed) == []


def test_missing_class_rows_count_as_no_investment(metrics):
    table = metrics[~((metrics["metric"] == "investments_retrofit")
                      & (metrics["group"] == "class=D") & (metrics["year"] == 2021))]
    ax = investment_axes(plot_investment(table))["retrofit"]
    d_bars = ax.containers[CLASSES.index("D")]
    np.testing.assert_allclose([b.get_height() for b in d_bars.patches],
                               [investors_mean("retrofit", "D", 2020), 0.0,
                                investors_mean("retrofit", "D", 2022)])


# ---------------------------------------------------------------- entry and exit


def test_entries_above_zero_exits_stacked_below_by_reason(metrics):
    fig = plot_entry_exit(metrics)
    ax = axes_labelled(fig)["entry_exit"]
    entries, *exits = ax.containers
    assert entries.get_label() == EN["entry_exit.entries"]
    np.testing.assert_allclose([b.get_height() for b in entries.patches],
                               [entries_mean(y) for y in YEARS])  # the monthly 1e6 is ignored
    assert [c.get_label() for c in exits] == [EN[f"exit.{r}"] for r in REASONS]
    below = np.zeros(len(YEARS))
    for reason, container in zip(REASONS, exits, strict=True):
        heights = np.array([exits_mean(reason, y) for y in YEARS])
        np.testing.assert_allclose([b.get_height() for b in container.patches], -heights)
        np.testing.assert_allclose([b.get_y() for b in container.patches], -below)
        below += heights
    assert fig.get_suptitle() == "Entry and exit"
    assert ax.yaxis.get_major_formatter()(-12.0, 0) == "12"  # exits read as counts


def test_zombie_firms_are_a_mean_line_below(metrics):
    zombie_ax = axes_labelled(plot_entry_exit(metrics))["zombies"]
    line = line_labelled(zombie_ax, EN["entry_exit.zombies"])
    np.testing.assert_allclose(line.get_ydata(), [zombies_mean(y) for y in YEARS])
    assert zombie_ax.get_ylabel() == "Firms (count)"
    assert zombie_ax.get_xlabel() == "Year"


def test_entry_exit_without_zombie_metric_notes_it_and_draws_the_flows(metrics):
    fig = plot_entry_exit(without(metrics, {"zombie_firms"}))
    axes = axes_labelled(fig)
    assert [t.get_text() for t in axes["zombies"].texts] == ["No data"]
    assert len(axes["entry_exit"].containers) == 4


def test_unknown_exit_reason_is_stacked_after_the_known_ones(metrics):
    extra = metrics[(metrics["metric"] == "exits") & (metrics["group"] == "reason=forced")]
    table = pd.concat([metrics, extra.assign(group="reason=merger")])
    ax = axes_labelled(plot_entry_exit(table))["entry_exit"]
    assert [c.get_label() for c in ax.containers][1:] == [
        *(EN[f"exit.{r}"] for r in REASONS), "merger"]


# ---------------------------------------------------------------- replications


def test_single_replication_draws_lines_without_bands():
    table = synthetic_dynamics_metrics(replications=1)
    flows = axes_labelled(plot_land_use(table))["flows"]
    zombies = axes_labelled(plot_entry_exit(table))["zombies"]
    assert len(flows.get_lines()) == 3
    assert not flows.collections
    assert len(zombies.get_lines()) == 1
    assert not zombies.collections


def test_dynamics_figures_draw_on_the_figure_they_are_given(metrics):
    for plot in (plot_land_use, plot_investment, plot_entry_exit):
        target = Figure()
        assert plot(metrics, fig=target) is target


# ---------------------------------------------------------------- language


def test_zh_without_cjk_font_warns_once_and_draws_english(run_dir, metrics, no_cjk_font):
    with pytest.warns(CJKFontWarning) as record:
        paths = make_figures(run_dir, lang="zh", formats=("png",))
    assert sum(issubclass(w.category, CJKFontWarning) for w in record) == 1
    assert {"land_use.png", "investment.png", "entry_exit.png"} <= {p.name for p in paths}
    assert all(p.stat().st_size > 0 for p in paths)
    with pytest.warns(CJKFontWarning):
        fig = plot_land_use(metrics, lang="zh")
    assert fig.get_suptitle() == "Industrial land use"


@pytest.mark.filterwarnings("ignore:Glyph:UserWarning")  # DejaVu stands in for a CJK font
def test_dynamics_figures_in_chinese(metrics, cjk_font):
    with warnings.catch_warnings():
        warnings.simplefilter("error", CJKFontWarning)
        land = plot_land_use(metrics, lang="zh")
        investment = plot_investment(metrics, lang="zh")
        entry_exit = plot_entry_exit(metrics, lang="zh")
    assert land.get_suptitle() == "工业用地"
    assert axes_labelled(land)["stocks"].get_ylabel() == "面积 (亩)"
    assert investment.get_suptitle() == "企业投资（按类型和等级）"
    assert [ax.get_title() for ax in investment_axes(investment).values()] == [
        "节能改造", "污染治理", "机器换人", "空间换地"]
    assert entry_exit.get_suptitle() == "企业进入与退出（腾笼换鸟）"
    legend = axes_labelled(entry_exit)["entry_exit"].get_legend()
    assert "退出：持续亏损" in [t.get_text() for t in legend.get_texts()]

"""Tests for simulator/plots/: the policy-brief figure set read from a run directory."""

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
    auction_summary,
    make_figures,
    market_names,
    plot_caps,
    plot_class_counts,
    plot_indicators,
    plot_market_prices,
    plot_quota_burden,
    plot_resource_bill,
    plot_transitions,
    read_manifest,
    read_metrics,
    replication_summary,
    transition_matrix,
)
from simulator.plots import _style as plot_style

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


# ---------------------------------------------------------------- synthetic quota markets

MARKETS = ("energy", "cod")
AUCTION_MONTHS = (1, 4, 7, 12)  # three scheduled auctions and the December compliance auction
NO_TRADE = ("energy", 2021, 4)  # no replication traded: price NaN, volume 0
HALF_TRADE = ("cod", 2022, 7)  # replication 0 did not trade, replication 1 did
SHORTFALL_YEAR = {"energy": 2022, "cod": None}


def price_mean(market: str, year: int, month: int) -> float:
    return {"energy": 500.0, "cod": 3000.0}.get(market, 100.0) + 10 * (year - 2020) + month


def volume_mean(market: str, year: int, month: int) -> float:
    return {"energy": 1000.0, "cod": 20.0}.get(market, 5.0) + 100 * (year - 2020) + month


def auction_value(metric: str, market: str, year: int, month: int, replication: int) -> float:
    """One replication's auction outcome: mean -5 for replication 0, +5 for replication 1."""
    delta = 5.0 if replication else -5.0
    traded = (market, year, month) != NO_TRADE and not (
        (market, year, month) == HALF_TRADE and replication == 0)
    if metric == "quota_price_yuan_per_unit":
        return price_mean(market, year, month) + delta if traded else np.nan
    return volume_mean(market, year, month) + delta if traded else 0.0


def cap_value(market: str, year: int) -> float:
    return {"energy": 100_000.0, "cod": 500.0}.get(market, 50.0) * 0.96 ** (year - 2020)


def use_value(market: str, year: int) -> float:
    """Actual use: 2% under the cap, except 3% over it in a shortfall year."""
    over = year == SHORTFALL_YEAR.get(market)
    return cap_value(market, year) * (1.03 if over else 0.98)


def burden_mean(group: str, year: int) -> float:
    """Quota cost per 万元 VA: A firms sell rights (negative), D firms pay most."""
    return {"class=A": -4.0, "class=B": 2.0, "class=C": 6.0, "class=D": 15.0,
            "all": 3.0}[group] + (year - 2020)


def synthetic_market_metrics(markets: tuple[str, ...] = MARKETS,
                             replications: int = 2) -> pd.DataFrame:
    """Per-auction, annual and by-class quota-market rows in the engine's tidy format."""
    rows: list[dict] = []

    def add(year, group, metric, value, replication, month=None):
        rows.append({"year": year, "month": month, "scenario": "baseline",
                     "replication": replication, "group": group, "metric": metric,
                     "value": float(value)})

    for r in range(replications):
        delta = 0.0 if replications == 1 else (1.0 if r else -1.0)
        for year in YEARS:
            for market in markets:
                group = f"market={market}"
                for month in AUCTION_MONTHS:
                    for metric in ("quota_price_yuan_per_unit", "quota_volume"):
                        add(year, group, metric, auction_value(metric, market, year, month, r),
                            r, month=month)
                    for metric in ("quota_buyers", "quota_sellers"):
                        add(year, group, metric, 7, r, month=month)
                    for metric in ("reserve_sold", "reserve_bought"):
                        add(year, group, metric, 0.0, r, month=month)
                cap, use = cap_value(market, year), use_value(market, year)
                add(year, group, "quota_cap", cap, r)
                add(year, group, "quota_use", use + delta, r)
                add(year, group, "quota_allocated", 0.95 * cap, r)
                add(year, group, "quota_compliance_rate", 0.9, r)
                add(year, group, "quota_shortfall", max(use - cap, 0.0), r)
                add(year, group, "quota_abatement", 0.01 * cap, r)
                for source in ("paid_use", "subscription", "auction", "lease", "surcharge",
                               "penalty", "compensation", "fee"):
                    add(year, group, f"gov_{source}_yuan", 1e5, r)
            for group in [*(f"class={c}" for c in CLASSES), "all"]:
                add(year, group, "quota_cost_yuan_per_wan_yuan_va",
                    burden_mean(group, year) + delta, r)
    table = pd.DataFrame(rows)
    table["month"] = pd.array(table["month"], dtype="Int64")
    return table


def write_run(run_dir: Path, replications: int = 2, *, markets: tuple[str, ...] = ()) -> Path:
    """Write manifest.json and metrics.parquet as the engine would; return the directory."""
    run_dir.mkdir(parents=True, exist_ok=True)
    table = synthetic_metrics(replications)
    if markets:
        table = pd.concat([table, synthetic_market_metrics(markets)], ignore_index=True)
    table.to_parquet(run_dir / "metrics.parquet", index=False)
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
    monkeypatch.setattr(plot_style, "find_cjk_font", lambda: None)


@pytest.fixture
def cjk_font(monkeypatch: pytest.MonkeyPatch) -> None:
    # Pretend DejaVu has CJK glyphs: exercises the Chinese path on machines without one.
    monkeypatch.setattr(plot_style, "find_cjk_font", lambda: "DejaVu Sans")


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
    assert "Mujun 0.1.0 · scenario baseline · seed 42 · 2 replications" in svg


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
        "Mujun 0.1.0 · scenario baseline · seed 42 · 2 replications")
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
        monkeypatch.setattr(plot_style.fontManager, "ttflist",
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


# ---------------------------------------------------------------- quota markets


def price_axes(fig: Figure) -> dict[str, object]:
    """The market figure's price panels, by market name."""
    return {ax.get_label().removeprefix("price:"): ax for ax in fig.axes
            if ax.get_label().startswith("price:")}


def volume_axes(fig: Figure) -> dict[str, object]:
    return {ax.get_label().removeprefix("volume:"): ax for ax in fig.axes
            if ax.get_label().startswith("volume:")}


def line_labelled(ax, key: str):
    (line,) = [line for line in ax.get_lines() if line.get_label() == plots.LABELS["en"][key]]
    return line


def auction_x(year: int, month: int) -> float:
    return year + (month - 0.5) / 12


@pytest.fixture
def market_metrics() -> pd.DataFrame:
    return pd.concat([synthetic_metrics(), synthetic_market_metrics()], ignore_index=True)


@pytest.fixture
def market_run_dir(tmp_path: Path) -> Path:
    return write_run(tmp_path / "market_run", markets=MARKETS)


def test_make_figures_adds_market_figures_when_the_run_has_markets(market_run_dir: Path):
    paths = make_figures(market_run_dir)
    names = [*plots.FIGURES, *plots.MARKET_FIGURES]
    assert [p.name for p in paths] == [f"{n}.{fmt}" for n in names for fmt in ("png", "svg")]
    # prices and caps are taller than the default 10 x 6 in page (their panels need room)
    sizes = {"market_prices": (1275, 1500), "market_caps": (1125, 1500),
             "quota_burden": (900, 1500)}
    for name in plots.MARKET_FIGURES:
        image = mpimg.imread(market_run_dir / "figures" / f"{name}.png")
        assert image.shape[:2] == sizes[name]
        assert (market_run_dir / "figures" / f"{name}.svg").stat().st_size > 1000


def test_run_without_market_metrics_writes_no_market_files(run_dir: Path):
    paths = make_figures(run_dir)
    assert not {p.stem for p in paths} & set(plots.MARKET_FIGURES)
    assert not [f for f in (run_dir / "figures").iterdir()
                if f.stem in plots.MARKET_FIGURES]


def test_market_svgs_are_byte_identical_across_runs(market_run_dir: Path):
    def market_svgs():
        return {p.name: p.read_bytes() for p in make_figures(market_run_dir, formats=("svg",))
                if p.stem in plots.MARKET_FIGURES}

    first = market_svgs()
    assert len(first) == 3
    assert first == market_svgs()


@pytest.mark.parametrize("markets", [("cod",), MARKETS, ("energy", "cod", "so2"),
                                     ("energy", "cod", "nh3n", "so2", "nox")])
def test_one_price_and_one_cap_panel_per_market_present(markets):
    table = synthetic_market_metrics(markets)
    assert market_names(table) == list(markets)
    prices, caps = plot_market_prices(table), plot_caps(table)
    assert list(price_axes(prices)) == list(markets)
    assert list(volume_axes(prices)) == list(markets)
    assert [a.get_label() for a in caps.axes if a.get_label() != "legend"] == [
        f"caps:{m}" for m in markets]
    assert [a.get_title() for a in price_axes(prices).values()] == [
        plots.LABELS["en"][f"market.{m}"] for m in markets]


def test_market_names_follow_the_fixed_order_then_unknown_names_sorted():
    table = synthetic_market_metrics(("so2", "zz", "energy", "aa"))
    assert market_names(table) == ["energy", "so2", "aa", "zz"]
    assert market_names(synthetic_metrics()) == []


def test_price_line_is_the_mean_across_replications_at_auction_months(market_metrics):
    fig = plot_market_prices(market_metrics)
    line = line_labelled(price_axes(fig)["energy"], "market_prices.path")
    auctions = [(y, m) for y in YEARS for m in AUCTION_MONTHS]
    np.testing.assert_allclose(line.get_xdata(), [auction_x(y, m) for y, m in auctions])
    # the price holds from one trade to the next: an auction nobody traded keeps the last price
    expected = pd.Series([np.nan if ("energy", y, m) == NO_TRADE else price_mean("energy", y, m)
                          for y, m in auctions]).ffill()
    np.testing.assert_allclose(line.get_ydata(), expected)
    assert line.get_drawstyle() == "steps-post"
    assert line.get_marker() == "None"  # the markers say what priced each auction


def test_price_mean_is_over_replications_that_traded(market_metrics):
    summary = auction_summary(market_metrics, "quota_price_yuan_per_unit", market="cod")
    _, year, month = HALF_TRADE
    row = summary[(summary["year"] == year) & (summary["month"] == month)].iloc[0]
    assert row["mean"] == pytest.approx(price_mean("cod", year, month) + 5.0)  # replication 1
    assert row["n"] == 1
    assert np.isnan(row["ci_low"])
    full = summary[summary["n"] == 2].iloc[0]
    assert full["ci_high"] - full["mean"] == pytest.approx(stats.t.ppf(0.975, 1) * 5.0)


def test_volume_bars_are_mean_traded_volume_on_the_twin_axis(market_metrics):
    fig = plot_market_prices(market_metrics)
    for market in MARKETS:
        volume_ax = volume_axes(fig)[market]
        (bars,) = volume_ax.containers
        centres = [b.get_x() + b.get_width() / 2 for b in bars.patches]
        heights = [b.get_height() for b in bars.patches]
        expected = []
        for year in YEARS:
            for month in AUCTION_MONTHS:
                expected.append(np.mean([auction_value("quota_volume", market, year, month, r)
                                         for r in range(2)]))
        np.testing.assert_allclose(centres, [auction_x(y, m) for y in YEARS
                                             for m in AUCTION_MONTHS])
        np.testing.assert_allclose(heights, expected)
        assert volume_ax.get_ylabel() == (
            "Traded volume (tce)" if market == "energy" else "Traded volume (t)")
    assert price_axes(fig)["energy"].get_ylabel() == "Clearing price (yuan / tce)"
    assert price_axes(fig)["cod"].get_ylabel() == "Clearing price (yuan / t)"
    _, year, month = HALF_TRADE  # replication 0 traded nothing
    assert auction_summary(market_metrics, "quota_volume", market="cod", fill_value=0.0).query(
        "year == @year and month == @month")["mean"].item() == pytest.approx(
        (volume_mean("cod", year, month) + 5.0) / 2)


def test_auction_without_trade_is_marked_on_the_price_axis(market_metrics):
    ax = price_axes(plot_market_prices(market_metrics))["energy"]
    cross = line_labelled(ax, "market_prices.no_trade")
    _, year, month = NO_TRADE
    np.testing.assert_allclose(cross.get_xdata(), [auction_x(year, month)])
    np.testing.assert_allclose(cross.get_ydata(), [0.0])


def test_market_that_never_traded_is_drawn_without_failing(tmp_path: Path):
    table = synthetic_market_metrics(("energy", "cod"))
    never = (table["group"] == "market=cod") & (table["metric"] == "quota_price_yuan_per_unit")
    table.loc[never, "value"] = np.nan
    table.loc[(table["group"] == "market=cod") & (table["metric"] == "quota_volume"),
              "value"] = 0.0
    fig = plot_market_prices(table)
    ax = price_axes(fig)["cod"]
    assert np.isnan(line_labelled(ax, "market_prices.path").get_ydata()).all()
    assert len(line_labelled(ax, "market_prices.no_trade").get_xdata()) == 12
    assert ax.get_ylim()[0] == 0.0
    fig.savefig(tmp_path / "never.png")
    fig.savefig(tmp_path / "never.svg")


def test_no_market_metrics_gives_a_no_data_panel_not_an_error():
    for fig in (plot_market_prices(synthetic_metrics()), plot_caps(synthetic_metrics())):
        data_axes = [a for a in fig.axes if a.get_label() != "legend"]
        assert len(data_axes) == 1
        assert [t.get_text() for t in data_axes[0].texts] == ["No data"]
    ax = plot_quota_burden(synthetic_metrics())
    assert [t.get_text() for t in ax.texts] == ["No data"]


def test_caps_panel_shows_mean_cap_allocation_and_use(market_metrics):
    fig = plot_caps(market_metrics)
    ax = next(a for a in fig.axes if a.get_label() == "caps:energy")
    cap = line_labelled(ax, "market_caps.cap")
    allocated = line_labelled(ax, "market_caps.allocated")
    use = line_labelled(ax, "market_caps.use")
    np.testing.assert_array_equal(cap.get_xdata(), YEARS)
    np.testing.assert_allclose(cap.get_ydata(), [cap_value("energy", y) for y in YEARS])
    np.testing.assert_allclose(allocated.get_ydata(),
                               [0.95 * cap_value("energy", y) for y in YEARS])
    np.testing.assert_allclose(use.get_ydata(), [use_value("energy", y) for y in YEARS])
    assert allocated.get_linestyle() == "--"
    assert cap.get_linestyle() == "-"
    assert ax.get_ylabel() == "Energy (tce)"
    cod = next(a for a in fig.axes if a.get_label() == "caps:cod")
    assert cod.get_ylabel() == "Emissions (t)"


def test_use_legend_names_energy_or_emissions_by_the_markets_present():
    def use_label(markets):
        ax = next(a for a in plot_caps(synthetic_market_metrics(markets)).axes
                  if a.get_label().startswith("caps:"))
        return ax.get_lines()[-1].get_label()

    assert use_label(("energy",)) == "Actual energy use"
    assert use_label(("cod", "nox")) == "Actual emissions"
    assert use_label(("energy", "cod")) == "Actual energy use / emissions"


def test_shortfall_years_are_shaded(market_metrics):
    fig = plot_caps(market_metrics)
    axes = {a.get_label(): a for a in fig.axes}
    spans = {m: [p for p in axes[f"caps:{m}"].patches if p.get_gid() == "shortfall"]
             for m in MARKETS}
    (span,) = spans["energy"]
    extent = span.get_window_extent().transformed(axes["caps:energy"].transData.inverted())
    assert (extent.x0, extent.x1) == pytest.approx(
        (SHORTFALL_YEAR["energy"] - 0.5, SHORTFALL_YEAR["energy"] + 0.5))
    assert spans["cod"] == []
    legend = [t.get_text() for t in axes["legend"].get_legend().get_texts()]
    assert plots.LABELS["en"]["market_caps.shortfall"] in legend


def test_float_noise_in_shortfall_is_not_shaded():
    table = synthetic_market_metrics(("cod",))
    noise = table["metric"] == "quota_shortfall"
    table.loc[noise, "value"] = 1e-9
    fig = plot_caps(table)
    assert not [p for p in fig.axes[0].patches if p.get_gid() == "shortfall"]


def test_quota_burden_lines_per_class_in_class_colours(market_metrics):
    ax = plot_quota_burden(market_metrics)
    lines = {line.get_label(): line for line in ax.get_lines()
             if not line.get_label().startswith("_")}
    assert len(lines) == 5
    for klass in CLASSES:
        line = lines[plots.LABELS["en"][f"class.{klass}"]]
        assert line.get_color() == plots.COLOURS[klass]
        np.testing.assert_allclose(line.get_ydata(),
                                   [burden_mean(f"class={klass}", y) for y in YEARS])
    assert "yuan per 10k yuan" in ax.get_ylabel()
    # A firms are net sellers here, so a zero line marks where cost turns into income.
    assert any(line.get_label() == "_zero" for line in ax.get_lines())


def test_auction_summary_places_auctions_at_mid_month_and_rejects_duplicates(market_metrics):
    summary = auction_summary(market_metrics, "quota_volume", market="energy")
    assert list(summary.columns) == ["year", "month", "x", "mean", "ci_low", "ci_high", "n"]
    assert summary["x"].iloc[0] == pytest.approx(2020 + 0.5 / 12)
    assert summary["x"].is_monotonic_increasing
    doubled = pd.concat([market_metrics, market_metrics[market_metrics["metric"]
                                                        == "quota_volume"]])
    with pytest.raises(ValueError, match="several 'quota_volume' rows for market 'energy'"):
        auction_summary(doubled, "quota_volume", market="energy")


def test_market_figures_draw_on_the_figure_or_axes_they_are_given(market_metrics):
    target = Figure()
    assert plot_market_prices(market_metrics, fig=target) is target
    target = Figure()
    assert plot_caps(market_metrics, fig=target) is target
    ax = Figure().add_subplot()
    assert plot_quota_burden(market_metrics, ax=ax) is ax


@pytest.mark.filterwarnings("ignore:Glyph:UserWarning")  # DejaVu stands in for a CJK font
def test_market_figures_in_chinese(market_metrics, cjk_font):
    fig = plot_market_prices(market_metrics, lang="zh")
    assert fig.get_suptitle() == "用能权、排污权交易：成交价与成交量"
    energy, cod = price_axes(fig)["energy"], price_axes(fig)["cod"]
    assert energy.get_title() == "用能权"
    assert cod.get_title() == "化学需氧量 (COD) 排污权"
    assert energy.get_ylabel() == "成交价 (元/吨标准煤)"
    assert volume_axes(fig)["cod"].get_ylabel() == "成交量 (吨)"
    caps = plot_caps(market_metrics, lang="zh")
    assert caps.get_suptitle() == "总量上限、配额与实际排放/用能"
    ax = plot_quota_burden(market_metrics, lang="zh")
    assert ax.get_title() == "单位增加值配额成本（按执行类别）"


def test_the_band_note_is_under_figures_with_bands_only(tmp_path: Path):
    """With replications, "shaded: 95% CI" is under the banded figures, not under the
    price path (a step held between trades) or the transition counts."""
    run = write_run(tmp_path / "run", replications=2, markets=("energy",))
    svgs = {p.stem: p.read_text(encoding="utf-8")
            for p in make_figures(run, formats=("svg",))}
    band = "shaded: 95% CI of the mean across replications"
    assert band in svgs["indicators"]
    assert band not in svgs["market_prices"]
    assert band not in svgs["transitions"]
    assert "seed 42 · 2 replications" in svgs["market_prices"]

"""Policy-brief figures (政策简报图表) made from a run directory's result files.

The figures are drawn from ``manifest.json`` and ``metrics.parquet`` only, so
a figure can be remade without re-running and this module never imports the
engine. Each figure has its own function that takes the tidy metrics table
and an optional Axes (or Figure) and returns it; :func:`make_figures` draws
the whole set into ``<run_dir>/figures``.

Values are averaged over replications; with more than one replication a band
shows the t-based 95% confidence interval of that mean.

Runs with quota markets (用能权 energy-use rights, 排污权 emission rights; metric
rows of group ``"market=<name>"``) get three more figures, :data:`MARKET_FIGURES`:
auction prices and volumes, caps against actual use, and the quota cost per
万元 of value added by class.

Figures are built on :class:`matplotlib.figure.Figure` objects, never through
pyplot, so nothing is registered with a GUI backend and nothing leaks between
calls.

Example
-------
>>> from simulator.plots import make_figures
>>> paths = make_figures("results/baseline", lang="zh")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backend_bases import FigureCanvasBase
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, fontManager
from matplotlib.gridspec import GridSpec
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter
from scipy import stats

__all__ = [
    "CJKFontWarning",
    "FIGURES",
    "LABELS",
    "MARKET_FIGURES",
    "auction_summary",
    "find_cjk_font",
    "make_figures",
    "market_names",
    "plot_caps",
    "plot_class_counts",
    "plot_indicators",
    "plot_market_prices",
    "plot_quota_burden",
    "plot_resource_bill",
    "plot_transitions",
    "read_manifest",
    "read_metrics",
    "replication_summary",
    "source_line",
    "transition_matrix",
]

logger = logging.getLogger(__name__)

#: Figure names, in the order :func:`make_figures` draws them.
FIGURES: tuple[str, ...] = ("indicators", "class_counts", "resource_bill", "transitions")
#: Quota-market figures, drawn after :data:`FIGURES` only when the run has quota markets.
MARKET_FIGURES: tuple[str, ...] = ("market_prices", "market_caps", "quota_burden")

CLASSES: tuple[str, ...] = ("A", "B", "C", "D")
#: Row/column order of the transition matrix; "U" = unrated (outside the evaluation).
TRANSITION_CLASSES: tuple[str, ...] = (*CLASSES, "U")
INDICATORS: tuple[str, ...] = (
    "tax_per_mu_wan_yuan",
    "va_per_mu_wan_yuan",
    "va_per_tce_wan_yuan",
    "va_per_t_emission_wan_yuan",
)
TRANSITION_METRIC = "class_transition_firms"
#: Quota markets in panel order: energy-use rights (用能权, tce), then emission
#: rights (排污权, t) by pollutant. Their metric rows have group "market=<name>".
MARKETS: tuple[str, ...] = ("energy", "cod", "nh3n", "so2", "nox")
MARKET_GROUP_PREFIX = "market="
QUOTA_BURDEN_METRIC = "quota_cost_yuan_per_wan_yuan_va"
REQUIRED_COLUMNS: tuple[str, ...] = (
    "year", "month", "scenario", "replication", "group", "metric", "value",
)

# Okabe-Ito colours (colour-blind safe); A green ... D vermillion, fixed for every figure.
COLOURS: dict[str, str] = {
    "A": "#009E73", "B": "#0072B2", "C": "#E69F00", "D": "#D55E00", "U": "#999999",
    "all": "#000000",
}
# Markers repeat the class in a second channel for greyscale print.
MARKERS: dict[str, str] = {"A": "o", "B": "s", "C": "^", "D": "v", "all": "none"}
# Market figures have no class dimension, so they keep clear of the class colours:
# black for prices and caps, pale sky blue for volumes (so the grey price CI band
# stays visible over the bars), grey for allocations, Okabe-Ito purple for actual
# use and yellow for shortfall years (CI bands are the line's own colour, lighter).
PRICE_COLOUR = "#000000"
CAP_COLOUR = "#000000"
VOLUME_COLOUR = "#A9D8F2"
USE_COLOUR = "#CC79A7"
ALLOCATED_COLOUR = "#666666"
SHORTFALL_COLOUR = "#F0E442"

FIGSIZE = (10.0, 6.0)  # inches, policy-brief page width
DPI = 150
SVG_HASHSALT = "mujun"  # fixed salt -> stable element ids -> byte-identical SVG

#: Every label string, one dict per language. "万元" = 10^4 yuan.
LABELS: dict[str, dict[str, str]] = {
    "en": {
        "class.A": "A: priority development",
        "class.B": "B: upgrading",
        "class.C": "C: regulated and supported",
        "class.D": "D: forced rectification",
        "class.U": "U: unrated",
        "class.all": "All industrial firms",
        "year": "Year",
        "tax_per_mu_wan_yuan": "Tax per mu",
        "tax_per_mu_wan_yuan.unit": "10k yuan / mu",
        "va_per_mu_wan_yuan": "Value added per mu",
        "va_per_mu_wan_yuan.unit": "10k yuan / mu",
        "va_per_tce_wan_yuan": "Value added per tonne of coal equivalent",
        "va_per_tce_wan_yuan.unit": "10k yuan / tce",
        "va_per_t_emission_wan_yuan": "Value added per tonne of emissions",
        "va_per_t_emission_wan_yuan.unit": "10k yuan / t",
        "indicators.title": "Yield per unit of land, energy and emissions, by evaluation class",
        "class_counts.title": "Evaluated firms by class",
        "class_counts.ylabel": "Firms (count)",
        "resource_bill.title": "Resource bill per unit of value added, by class charged",
        "resource_bill.ylabel": "Electricity, water, land tax and pollution bills\n"
                                "(yuan per 10k yuan of value added)",
        "transitions.title": "Class transitions between consecutive evaluations, {years} (summed)",
        "transitions.from": "Class in previous evaluation",
        "transitions.to": "Class in this evaluation",
        "transitions.share": "Share of firms in row",
        "market.energy": "Energy-use rights",
        "market.cod": "COD emission rights",
        "market.nh3n": "NH₃-N emission rights",
        "market.so2": "SO₂ emission rights",
        "market.nox": "NOx emission rights",
        "unit.tce": "tce",
        "unit.t": "t",
        "price_unit.tce": "yuan / tce",
        "price_unit.t": "yuan / t",
        "market_prices.title": "Quota auctions: clearing price and traded volume",
        "market_prices.price": "Clearing price ({unit})",
        "market_prices.volume": "Traded volume ({unit})",
        "market_prices.price_legend": "Clearing price",
        "market_prices.volume_legend": "Traded volume",
        "market_prices.no_trade": "Auction without trade (no price)",
        "market_prices.no_trade_any": "No trade in any auction",
        "market_caps.title": "Cap, allocated rights and actual use, by market",
        "market_caps.cap": "Cap",
        "market_caps.allocated": "Allocated to firms",
        "market_caps.use": "Actual energy use / emissions",
        "market_caps.use.tce": "Actual energy use",
        "market_caps.use.t": "Actual emissions",
        "market_caps.shortfall": "Year with shortfall (use not covered by rights)",
        "market_caps.ylabel.tce": "Energy (tce)",
        "market_caps.ylabel.t": "Emissions (t)",
        "quota_burden.title": "Quota cost per unit of value added, by class charged",
        "quota_burden.ylabel": "Net quota payments and abatement cost\n"
                               "(yuan per 10k yuan of value added)",
        "no_data": "No data",
        "source": "Mujun {version} · scenario {scenario} · seed {seed} · "
                  "{replications} replication(s)",
        "band": "shaded: 95% CI of the mean across replications",
    },
    "zh": {
        "class.A": "优先发展类 A",
        "class.B": "提升发展类 B",
        "class.C": "调控帮扶类 C",
        "class.D": "倒逼整治类 D",
        "class.U": "未评价 U",
        "class.all": "全部工业企业",
        "year": "年份",
        "tax_per_mu_wan_yuan": "亩均税收",
        "tax_per_mu_wan_yuan.unit": "万元/亩",
        "va_per_mu_wan_yuan": "亩均工业增加值",
        "va_per_mu_wan_yuan.unit": "万元/亩",
        "va_per_tce_wan_yuan": "单位能耗工业增加值",
        "va_per_tce_wan_yuan.unit": "万元/吨标准煤",
        "va_per_t_emission_wan_yuan": "单位排放工业增加值",
        "va_per_t_emission_wan_yuan.unit": "万元/吨",
        "indicators.title": "分类企业亩均效益指标",
        "class_counts.title": "各类别参评企业数",
        "class_counts.ylabel": "企业数 (家)",
        "resource_bill.title": "各类别资源要素成本（按执行类别）",
        "resource_bill.ylabel": "电、水、土地使用税、排污费用合计\n(元/万元工业增加值)",
        "transitions.title": "相邻两次评价间企业类别变动（{years}年合计）",
        "transitions.from": "上次评价类别",
        "transitions.to": "本次评价类别",
        "transitions.share": "占本行企业比例",
        "market.energy": "用能权",
        "market.cod": "化学需氧量 (COD) 排污权",
        "market.nh3n": "氨氮排污权",
        "market.so2": "二氧化硫排污权",
        "market.nox": "氮氧化物排污权",
        "unit.tce": "吨标准煤",
        "unit.t": "吨",
        "price_unit.tce": "元/吨标准煤",
        "price_unit.t": "元/吨",
        "market_prices.title": "用能权、排污权交易：成交价与成交量",
        "market_prices.price": "成交价 ({unit})",
        "market_prices.volume": "成交量 ({unit})",
        "market_prices.price_legend": "成交价",
        "market_prices.volume_legend": "成交量",
        "market_prices.no_trade": "竞价未成交（无成交价）",
        "market_prices.no_trade_any": "所有竞价均未成交",
        "market_caps.title": "总量上限、配额与实际排放/用能",
        "market_caps.cap": "总量上限",
        "market_caps.allocated": "已分配配额",
        "market_caps.use": "实际用能/排放",
        "market_caps.use.tce": "实际用能",
        "market_caps.use.t": "实际排放",
        "market_caps.shortfall": "存在配额缺口的年份（超出配额的用能/排放）",
        "market_caps.ylabel.tce": "能耗 (吨标准煤)",
        "market_caps.ylabel.t": "排放量 (吨)",
        "quota_burden.title": "单位增加值配额成本（按执行类别）",
        "quota_burden.ylabel": "配额净支出与减排成本\n(元/万元工业增加值)",
        "no_data": "无数据",
        "source": "Mujun {version} · 情景 {scenario} · 随机种子 {seed} · {replications} 次重复",
        "band": "阴影：重复运行均值的 95% 置信区间",
    },
}

#: Fonts with Chinese glyphs, in order of preference.
CJK_FONT_CANDIDATES: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Serif CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "AR PL UMing CN",
)


class CJKFontWarning(UserWarning):
    """Chinese labels were asked for but no CJK font is installed."""


# ---------------------------------------------------------------- reading results


def read_metrics(run_dir: str | Path) -> pd.DataFrame:
    """Return the run's tidy metrics table (``metrics.parquet``).

    Parameters
    ----------
    run_dir : str or Path
        Run directory written by the engine.

    Returns
    -------
    pandas.DataFrame
        Columns year, month (NA = annual value), scenario, replication, group,
        metric, value.

    Raises
    ------
    FileNotFoundError
        If ``metrics.parquet`` is missing.
    ValueError
        If a required column is missing.
    """
    path = Path(run_dir) / "metrics.parquet"
    if not path.is_file():
        raise FileNotFoundError(f"No metrics table: {path} does not exist.")
    metrics = pd.read_parquet(path)
    missing = [c for c in REQUIRED_COLUMNS if c not in metrics.columns]
    if missing:
        raise ValueError(f"{path} lacks column(s) {missing}; it has {list(metrics.columns)}.")
    return metrics


def read_manifest(run_dir: str | Path) -> dict[str, Any]:
    """Return the run's manifest (``manifest.json``) as a dict.

    Raises
    ------
    FileNotFoundError
        If ``manifest.json`` is missing.
    """
    path = Path(run_dir) / "manifest.json"
    if not path.is_file():
        raise FileNotFoundError(f"No run manifest: {path} does not exist.")
    return json.loads(path.read_text(encoding="utf-8"))


def source_line(manifest: dict[str, Any], *, lang: str = "en") -> str:
    """Return the provenance line printed under every figure.

    Example: ``"Mujun 0.1.0 · scenario baseline · seed 42 · 2 replication(s)"``.
    """
    scenario = manifest.get("scenario") or {}
    return _labels(lang)["source"].format(
        version=manifest.get("version", "?"),
        scenario=scenario.get("name", "?") if isinstance(scenario, dict) else scenario,
        seed=manifest.get("seed", "?"),
        replications=manifest.get("replications", "?"),
    )


# ---------------------------------------------------------------- aggregation


def replication_summary(
    metrics: pd.DataFrame,
    metric: str,
    *,
    groups: Sequence[str],
    fill_value: float | None = None,
) -> pd.DataFrame:
    """Return the mean across replications and its t-based 95% CI, per group and year.

    Parameters
    ----------
    metrics : pandas.DataFrame
        Tidy metrics table for one scenario (see :func:`read_metrics`).
    metric : str
        Annual metric to summarise (rows with ``month`` NA).
    groups : sequence of str
        Groups to keep, e.g. ``["class=A", "all"]``.
    fill_value : float, optional
        Value for a (group, year, replication) with no row; use 0 for counts.
        By default missing values are left out of the mean.

    Returns
    -------
    pandas.DataFrame
        Columns group, year, mean, ci_low, ci_high, n (replications used).
        ``ci_low``/``ci_high`` are NaN when ``n < 2``.
    """
    _check_one_scenario(metrics)
    rows = metrics[_annual(metrics) & (metrics["metric"] == metric)
                   & metrics["group"].isin(list(groups))]
    replications = np.sort(metrics["replication"].unique())
    if rows.duplicated(["group", "year", "replication"]).any():
        raise ValueError(f"metrics has several annual {metric!r} rows for one group, year "
                         "and replication; expected one.")
    wide = rows.pivot(index=["group", "year"], columns="replication", values="value")
    wide = wide.reindex(columns=replications)
    if fill_value is not None:
        years = np.sort(rows["year"].unique())
        full = pd.MultiIndex.from_product([list(groups), years], names=["group", "year"])
        wide = wide.reindex(full).fillna(fill_value)
    return _mean_ci(wide).reset_index()


def auction_summary(
    metrics: pd.DataFrame,
    metric: str,
    *,
    market: str,
    fill_value: float | None = None,
) -> pd.DataFrame:
    """Return one market's per-auction metric, mean across replications with its 95% CI.

    Parameters
    ----------
    metrics : pandas.DataFrame
        Tidy metrics table for one scenario (see :func:`read_metrics`).
    metric : str
        Per-auction metric (rows with ``month`` 1..12), e.g.
        ``"quota_price_yuan_per_unit"`` or ``"quota_volume"``.
    market : str
        Market name, e.g. ``"energy"`` or ``"cod"`` (rows of group ``"market=<name>"``).
    fill_value : float, optional
        Value for a missing or NaN (auction, replication) value; use 0 for
        volumes. By default NaN (e.g. the price of an auction without trade) is
        left out of the mean, so the mean price is over replications that traded.

    Returns
    -------
    pandas.DataFrame
        Columns year, month, x (fractional year ``year + (month - 0.5) / 12``),
        mean, ci_low, ci_high, n; one row per auction month, in time order.
        ``mean`` is NaN when no replication has a value.

    Raises
    ------
    ValueError
        If the table holds several scenarios, or several rows for one auction
        month and replication.
    """
    _check_one_scenario(metrics)
    rows = metrics[~_annual(metrics) & (metrics["metric"] == metric)
                   & (metrics["group"] == f"{MARKET_GROUP_PREFIX}{market}")]
    if rows.duplicated(["year", "month", "replication"]).any():
        raise ValueError(f"metrics has several {metric!r} rows for market {market!r} in one "
                         "month and replication; expected one per auction.")
    replications = np.sort(metrics["replication"].unique())
    wide = (rows.assign(month=rows["month"].astype(int))
            .pivot(index=["year", "month"], columns="replication", values="value")
            .reindex(columns=replications).sort_index())
    if fill_value is not None:
        wide = wide.fillna(fill_value)
    summary = _mean_ci(wide).reset_index()
    summary.insert(2, "x", summary["year"] + (summary["month"] - 0.5) / 12.0)
    return summary


def market_names(metrics: pd.DataFrame) -> list[str]:
    """Return the quota markets that have rows in ``metrics``, in panel order.

    Known markets come in the order of :data:`MARKETS` (energy, cod, nh3n,
    so2, nox); any other ``market=<name>`` group follows, sorted.
    """
    groups = metrics["group"].astype(str)
    found = set(groups[groups.str.startswith(MARKET_GROUP_PREFIX)]
                .str.removeprefix(MARKET_GROUP_PREFIX))
    return [*(m for m in MARKETS if m in found), *sorted(found - set(MARKETS))]


def _mean_ci(wide: pd.DataFrame) -> pd.DataFrame:
    """Mean over the columns (replications) and its t-based 95% CI, row by row."""
    n = wide.notna().sum(axis=1)
    mean = wide.mean(axis=1)
    sem = wide.std(axis=1, ddof=1) / np.sqrt(n)
    with np.errstate(invalid="ignore"):
        half = stats.t.ppf(0.975, n - 1) * sem  # NaN for n < 2
    return pd.DataFrame({
        "mean": mean, "ci_low": mean - half, "ci_high": mean + half, "n": n,
    })


def transition_matrix(metrics: pd.DataFrame) -> pd.DataFrame:
    """Return firms moving between classes, summed over years, mean over replications.

    Parameters
    ----------
    metrics : pandas.DataFrame
        Tidy metrics table with ``class_transition_firms`` rows whose group is
        ``"<from>-><to>"``, e.g. ``"A->B"``.

    Returns
    -------
    pandas.DataFrame
        Counts; index ``from`` and columns ``to`` in the order A, B, C, D, U
        (U only when present), then any other letters found.
    """
    _check_one_scenario(metrics)
    rows = metrics[_annual(metrics) & (metrics["metric"] == TRANSITION_METRIC)]
    pairs = rows["group"].str.split("->", n=1, expand=True)
    if len(rows) and (pairs.shape[1] != 2 or pairs.isna().any().any()):
        bad = rows["group"][~rows["group"].str.contains("->", regex=False)].iloc[0]
        raise ValueError(f"{TRANSITION_METRIC} group must be '<from>-><to>'. Got {bad!r}.")
    n_replications = max(metrics["replication"].nunique(), 1)
    if len(rows):
        totals = (rows.assign(**{"from": pairs[0], "to": pairs[1]})
                  .groupby(["from", "to"])["value"].sum() / n_replications)
        letters = set(totals.index.get_level_values(0)) | set(totals.index.get_level_values(1))
    else:
        totals, letters = pd.Series(dtype=float), set()
    order = [*CLASSES, *(["U"] if "U" in letters else []),
             *sorted(letters - set(TRANSITION_CLASSES))]
    matrix = totals.unstack("to") if len(totals) else pd.DataFrame(dtype=float)
    matrix = matrix.reindex(index=order, columns=order).fillna(0.0)
    matrix.index.name, matrix.columns.name = "from", "to"
    return matrix


# ---------------------------------------------------------------- figures


def plot_indicators(metrics: pd.DataFrame, *, lang: str = "en",
                    fig: Figure | None = None) -> Figure:
    """Draw the four yield indicators by class (2x2 panels) and return the Figure.

    Tax per mu, value added (VA) per mu, VA per tce and VA per tonne of
    emissions (亩均税收、亩均工业增加值、单位能耗/单位排放工业增加值), one line
    per class A-D plus all industrial firms, firms grouped by the class the
    year's evaluation gave.
    """
    style = _style(lang)
    fig = fig if fig is not None else _new_figure()
    # A thin third row holds the shared legend, so the layout engine keeps it
    # clear of the panels and of the source line below.
    grid = fig.add_gridspec(3, 2, height_ratios=[1.0, 1.0, 0.001])
    first = fig.add_subplot(grid[0, 0])
    axes = [first, *(fig.add_subplot(grid[i // 2, i % 2], sharex=first) for i in range(1, 4))]
    handles: dict[str, Any] = {}
    for i, (ax, metric) in enumerate(zip(axes, INDICATORS, strict=True)):
        handles |= _draw_class_lines(ax, metrics, metric, style)
        style.title(ax, style.labels[metric], size="medium")
        ax.set_ylabel(style.labels[f"{metric}.unit"], **style.fontkw)
        if i >= 2:
            ax.set_xlabel(style.labels["year"], **style.fontkw)
        else:
            ax.tick_params(labelbottom=False)
    fig.suptitle(style.labels["indicators.title"], **style.fontkw, size="x-large")
    legend_ax = fig.add_subplot(grid[2, :], label="legend")
    legend_ax.axis("off")
    if handles:
        legend_ax.legend(handles.values(), handles.keys(), ncols=len(handles), loc="center",
                         prop=style.legend_font(), frameon=False)
    return fig


def plot_class_counts(metrics: pd.DataFrame, *, lang: str = "en",
                      ax: Axes | None = None) -> Axes:
    """Draw evaluated firms per class A-D over time as stacked bars; return the Axes."""
    style = _style(lang)
    ax = ax if ax is not None else _new_figure().add_subplot()
    groups = [f"class={c}" for c in CLASSES]
    summary = replication_summary(metrics, "firms", groups=groups, fill_value=0.0)
    if summary.empty:
        _no_data(ax, style)
    else:
        years = np.sort(summary["year"].unique())
        bottom = np.zeros(len(years))
        for c in CLASSES:
            heights = (summary[summary["group"] == f"class={c}"]
                       .set_index("year")["mean"].reindex(years, fill_value=0.0).to_numpy())
            ax.bar(years, heights, bottom=bottom, width=0.7, color=COLOURS[c],
                   edgecolor="white", linewidth=0.5, label=style.labels[f"class.{c}"])
            bottom += heights
        _year_axis(ax, years)
        _legend_right(ax, style)
    style.title(ax, style.labels["class_counts.title"])
    ax.set_xlabel(style.labels["year"], **style.fontkw)
    ax.set_ylabel(style.labels["class_counts.ylabel"], **style.fontkw)
    return ax


def plot_resource_bill(metrics: pd.DataFrame, *, lang: str = "en",
                       ax: Axes | None = None) -> Axes:
    """Draw the resource bill per 万元 of VA by class charged; return the Axes.

    The bill is electricity + water + urban land-use tax + pollution
    (资源要素成本), in yuan per 10^4 yuan of value added, firms grouped by the
    class in force (the one they were charged as) during the year.
    """
    style = _style(lang)
    ax = ax if ax is not None else _new_figure().add_subplot()
    if _draw_class_lines(ax, metrics, "resource_bill_yuan_per_wan_yuan_va", style):
        _legend_right(ax, style)
    style.title(ax, style.labels["resource_bill.title"])
    ax.set_xlabel(style.labels["year"], **style.fontkw)
    ax.set_ylabel(style.labels["resource_bill.ylabel"], **style.fontkw)
    return ax


def plot_transitions(metrics: pd.DataFrame, *, lang: str = "en",
                     ax: Axes | None = None) -> Axes:
    """Draw the class transition matrix as an annotated heatmap; return the Axes.

    Rows are the class in the previous evaluation, columns the class in this
    one. Cells show the number of firms (summed over years, mean over
    replications) and their share of the row; colour is the row share.
    """
    style = _style(lang)
    ax = ax if ax is not None else _new_figure().add_subplot()
    counts = transition_matrix(metrics)
    rows = metrics[_annual(metrics) & (metrics["metric"] == TRANSITION_METRIC)]
    years = np.sort(rows["year"].unique())
    span = "" if not len(years) else (
        str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}")
    style.title(ax, style.labels["transitions.title"].format(years=span))
    totals = counts.sum(axis=1).to_numpy()[:, None]
    shares = np.divide(counts.to_numpy(), totals, out=np.zeros(counts.shape), where=totals > 0)
    image = ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
    whole = np.allclose(counts.to_numpy(), np.round(counts.to_numpy()))
    for (i, j), count in np.ndenumerate(counts.to_numpy()):
        ax.text(j, i, f"{count:,.0f}\n{shares[i, j]:.0%}" if whole
                else f"{count:,.1f}\n{shares[i, j]:.0%}",
                ha="center", va="center", size="small",
                color="white" if shares[i, j] > 0.6 else "black")
    ax.set_xticks(range(counts.shape[1]), counts.columns)
    ax.set_yticks(range(counts.shape[0]), counts.index)
    ax.set_xlabel(style.labels["transitions.to"], **style.fontkw)
    ax.set_ylabel(style.labels["transitions.from"], **style.fontkw)
    ax.xaxis.set_label_position("top")
    ax.xaxis.tick_top()
    colorbar = ax.figure.colorbar(image, ax=ax, format="{x:.0%}")
    colorbar.set_label(style.labels["transitions.share"], **style.fontkw)
    if counts.to_numpy().sum() == 0:
        _no_data(ax, style)
    return ax


def plot_market_prices(metrics: pd.DataFrame, *, lang: str = "en",
                       fig: Figure | None = None) -> Figure:
    """Draw each quota market's auction prices and volumes (one panel each); return the Figure.

    One panel per market present (用能权 energy-use rights, in yuan/tce and
    tce; 排污权 emission rights, in yuan/t and t), in a grid. The clearing
    price (成交价) is a line with markers on the left axis, the traded volume
    (成交量) pale bars on the right axis, both at the auction's month
    (x = year + (month - 0.5) / 12) and averaged over replications; the price
    over the replications that traded. An auction without trade in any
    replication breaks the price line and is marked with a cross on the axis.
    """
    style = _style(lang)
    fig = fig if fig is not None else _new_figure()
    markets = market_names(metrics)
    panels, grid = _market_panels(fig, len(markets))
    handles: dict[str, Any] = {}
    for (ax, bottom_row), market in zip(panels, markets, strict=False):
        ax.set_label(f"price:{market}")
        volume_ax = ax.twinx()
        volume_ax.set_label(f"volume:{market}")
        # Price line in front of the volume bars: lift the price axes, clear its background.
        ax.set_zorder(volume_ax.get_zorder() + 1)
        ax.patch.set_visible(False)
        handles |= _draw_auctions(ax, volume_ax, metrics, market, style)
        unit = _unit(market)
        style.title(ax, _market_label(market, style), size="medium")
        ax.set_ylabel(style.labels["market_prices.price"].format(
            unit=style.labels[f"price_unit.{unit}"]), **style.fontkw)
        volume_ax.set_ylabel(style.labels["market_prices.volume"].format(
            unit=style.labels[f"unit.{unit}"]), **style.fontkw)
        if bottom_row:
            ax.set_xlabel(style.labels["year"], **style.fontkw)
    if not markets:
        _no_data(panels[0][0], style)
    fig.suptitle(style.labels["market_prices.title"], **style.fontkw, size="x-large")
    _legend_row(fig, grid, handles, style)
    return fig


def plot_caps(metrics: pd.DataFrame, *, lang: str = "en", fig: Figure | None = None) -> Figure:
    """Draw each quota market's cap, allocation and actual use by year; return the Figure.

    One panel per market present: the regional cap (总量上限), the rights
    allocated to firms (配额, dashed) and actual energy use or emissions after
    abatement (实际用能/排放), means over replications. Years whose mean
    shortfall (use not covered by rights) exceeds a millionth of the cap are
    shaded yellow.
    """
    style = _style(lang)
    fig = fig if fig is not None else _new_figure()
    markets = market_names(metrics)
    panels, grid = _market_panels(fig, len(markets))
    units = sorted({_unit(m) for m in markets})
    use_key = f"market_caps.use.{units[0]}" if len(units) == 1 else "market_caps.use"
    series = (("quota_cap", "market_caps.cap", CAP_COLOUR, "-", "none"),
              ("quota_allocated", "market_caps.allocated", ALLOCATED_COLOUR, "--", "none"),
              ("quota_use", use_key, USE_COLOUR, "-", "o"))
    handles: dict[str, Any] = {}
    for (ax, bottom_row), market in zip(panels, markets, strict=False):
        ax.set_label(f"caps:{market}")
        group = f"{MARKET_GROUP_PREFIX}{market}"
        years = np.sort(metrics.loc[_annual(metrics) & (metrics["group"] == group),
                                    "year"].unique())
        for metric, key, colour, linestyle, marker in series:
            summary = replication_summary(metrics, metric, groups=[group])
            summary = summary.dropna(subset=["mean"]).sort_values("year")
            if summary.empty:
                continue
            (line,) = ax.plot(summary["year"], summary["mean"], color=colour,
                              linestyle=linestyle, marker=marker, markersize=4,
                              linewidth=1.8 if metric == "quota_cap" else 1.4,
                              label=style.labels[key])
            if summary["n"].max() > 1:
                ax.fill_between(summary["year"], summary["ci_low"], summary["ci_high"],
                                color=colour, alpha=0.15, linewidth=0)
            handles[style.labels[key]] = line
        for year in _shortfall_years(metrics, group):
            span = ax.axvspan(year - 0.5, year + 0.5, color=SHORTFALL_COLOUR, alpha=0.4,
                              linewidth=0, zorder=0, gid="shortfall",
                              label=style.labels["market_caps.shortfall"])
            handles.setdefault(style.labels["market_caps.shortfall"], span)
        if ax.get_lines():
            _panel_year_axis(ax, years)
            ax.set_xlim(years[0] - 0.5, years[-1] + 0.5)  # a shaded year fills its cell
        else:
            _no_data(ax, style)
        style.title(ax, _market_label(market, style), size="medium")
        ax.set_ylabel(style.labels[f"market_caps.ylabel.{_unit(market)}"], **style.fontkw)
        ax.yaxis.set_major_formatter(_QUANTITY_FORMAT)
        if bottom_row:
            ax.set_xlabel(style.labels["year"], **style.fontkw)
    if not markets:
        _no_data(panels[0][0], style)
    fig.suptitle(style.labels["market_caps.title"], **style.fontkw, size="x-large")
    _legend_row(fig, grid, handles, style)
    return fig


def plot_quota_burden(metrics: pd.DataFrame, *, lang: str = "en",
                      ax: Axes | None = None) -> Axes:
    """Draw the quota cost per 万元 of VA by class charged; return the Axes.

    Net payments to all quota markets (rights bought, paid use, surcharges and
    penalties, less rights sold and compensation) plus abatement cost
    (单位增加值配额成本), in yuan per 10^4 yuan of value added, firms grouped by
    the class in force during the year. A net seller's cost can be negative.
    """
    style = _style(lang)
    ax = ax if ax is not None else _new_figure().add_subplot()
    if _draw_class_lines(ax, metrics, QUOTA_BURDEN_METRIC, style):
        if ax.get_ylim()[0] < 0:
            ax.axhline(0.0, color="0.6", linewidth=0.8, zorder=0, label="_zero")
        _legend_right(ax, style)
    style.title(ax, style.labels["quota_burden.title"])
    ax.set_xlabel(style.labels["year"], **style.fontkw)
    ax.set_ylabel(style.labels["quota_burden.ylabel"], **style.fontkw)
    return ax


def make_figures(run_dir: str | Path, *, lang: str = "en",
                 formats: Sequence[str] = ("png", "svg")) -> list[Path]:
    """Draw the policy-brief figure set for a run and return the files written.

    Parameters
    ----------
    run_dir : str or Path
        Run directory holding ``manifest.json`` and ``metrics.parquet``.
    lang : {"en", "zh"}
        Label language. Chinese needs a CJK font; without one a
        :class:`CJKFontWarning` is issued and English labels are used.
    formats : sequence of str
        File formats, e.g. ``("png", "svg")``. SVG output is byte-identical
        for identical input.

    Returns
    -------
    list of Path
        ``<run_dir>/figures/<figure>.<format>`` for each of :data:`FIGURES`
        and each format, then for each of :data:`MARKET_FIGURES` when the run
        has quota markets (rows of a ``market=<name>`` group).
    """
    run_dir = Path(run_dir)
    metrics, manifest = read_metrics(run_dir), read_manifest(run_dir)
    formats = _check_formats(formats)
    style = _style(lang)  # warns once here; the figures then get a language that works
    source = source_line(manifest, lang=style.lang)
    if manifest.get("replications", 1) != 1:
        source = f"{source} · {style.labels['band']}"
    draws: dict[str, Callable[[Figure], object]] = {
        "indicators": lambda f: plot_indicators(metrics, lang=style.lang, fig=f),
        "class_counts": lambda f: plot_class_counts(metrics, lang=style.lang, ax=f.add_subplot()),
        "resource_bill": lambda f: plot_resource_bill(
            metrics, lang=style.lang, ax=f.add_subplot()),
        "transitions": lambda f: plot_transitions(metrics, lang=style.lang, ax=f.add_subplot()),
        "market_prices": lambda f: plot_market_prices(metrics, lang=style.lang, fig=f),
        "market_caps": lambda f: plot_caps(metrics, lang=style.lang, fig=f),
        "quota_burden": lambda f: plot_quota_burden(metrics, lang=style.lang, ax=f.add_subplot()),
    }
    names = [*FIGURES, *(MARKET_FIGURES if market_names(metrics) else ())]
    out_dir = run_dir / "figures"
    out_dir.mkdir(exist_ok=True)
    written: list[Path] = []
    for name in names:
        fig = _new_figure()
        try:
            draws[name](fig)
            _add_source_line(fig, source, style)
            for fmt in formats:
                path = out_dir / f"{name}.{fmt}"
                _save(fig, path, fmt, source)
                written.append(path)
                logger.info("wrote %s", path)
        finally:
            fig.clear()
    return written


# ---------------------------------------------------------------- fonts and styling


def find_cjk_font() -> str | None:
    """Return the name of an installed font with Chinese glyphs, or None.

    Tries :data:`CJK_FONT_CANDIDATES` in order, then any font whose name
    contains "CJK".
    """
    names = sorted({f.name for f in fontManager.ttflist})
    for candidate in CJK_FONT_CANDIDATES:
        if candidate in names:
            return candidate
    return next((n for n in names if "CJK" in n.upper()), None)


@dataclass(frozen=True)
class _Style:
    """The language actually used and the fonts that can render it."""

    lang: str
    font: FontProperties | None  # for labels; None = matplotlib's default
    source_font: FontProperties | None  # may show a Chinese scenario name in English figures

    @property
    def labels(self) -> dict[str, str]:
        return LABELS[self.lang]

    @property
    def fontkw(self) -> dict[str, FontProperties]:
        """Keyword arguments that set the font, empty for matplotlib's default."""
        return {} if self.font is None else {"fontproperties": self.font}

    def title(self, ax: Axes, text: str, *, size: str = "large") -> None:
        ax.set_title(text, **self.fontkw, size=size)

    def legend_font(self) -> FontProperties:
        font = self.font.copy() if self.font is not None else FontProperties()
        font.set_size("small")
        return font


def _style(lang: str) -> _Style:
    _labels(lang)  # validates lang
    cjk = find_cjk_font()
    fallback = FontProperties(family=["sans-serif", cjk]) if cjk else None
    if lang == "zh" and cjk is None:
        warnings.warn(
            "Chinese labels need a CJK font (e.g. `apt-get install fonts-noto-cjk`, then "
            "delete matplotlib's font cache); none is installed, so English labels are used.",
            CJKFontWarning, stacklevel=3)
        return _Style("en", None, None)
    if lang == "zh":
        font = FontProperties(family=[cjk, "sans-serif"])
        return _Style("zh", font, font)
    return _Style("en", None, fallback)


def _labels(lang: str) -> dict[str, str]:
    if lang not in LABELS:
        raise ValueError(f"The 'lang' parameter must be one of {sorted(LABELS)}. Got {lang!r}.")
    return LABELS[lang]


def _draw_class_lines(ax: Axes, metrics: pd.DataFrame, metric: str,
                      style: _Style) -> dict[str, Any]:
    """Plot one mean line (and CI band) per class A-D and "all"; return legend handles."""
    keys = [*CLASSES, "all"]
    summary = replication_summary(
        metrics, metric, groups=[k if k == "all" else f"class={k}" for k in keys])
    handles: dict[str, Any] = {}
    for key in keys:
        sub = summary[summary["group"] == (key if key == "all" else f"class={key}")]
        sub = sub.dropna(subset=["mean"]).sort_values("year")
        if sub.empty:
            continue
        label = style.labels[f"class.{key}"]
        (line,) = ax.plot(sub["year"], sub["mean"], color=COLOURS[key], marker=MARKERS[key],
                          linestyle="--" if key == "all" else "-", markersize=4, label=label)
        if sub["n"].max() > 1:
            ax.fill_between(sub["year"], sub["ci_low"], sub["ci_high"], color=COLOURS[key],
                            alpha=0.15, linewidth=0)
        handles[label] = line
    if handles:
        _year_axis(ax, np.sort(summary["year"].unique()))
    else:
        _no_data(ax, style)
    return handles


def _unit(market: str) -> str:
    """Quantity unit key: tonnes of coal equivalent for energy, tonnes for pollutants."""
    return "tce" if market == "energy" else "t"


def _market_label(market: str, style: _Style) -> str:
    return style.labels.get(f"market.{market}", market)


def _market_panels(fig: Figure, n: int) -> tuple[list[tuple[Axes, bool]], GridSpec]:
    """Add a grid of ``max(n, 1)`` panels plus a thin legend row.

    Returns the panels as (Axes, gets the x label) pairs, and the grid.

    One or two panels side by side, three or four in a 2x2 grid, five in a 2x3
    grid (each panel keeps room for a second y-axis); a panel gets the x-axis
    label when no panel sits below it. Panels share the x-axis.
    """
    n_panels = max(n, 1)
    ncols = n_panels if n_panels <= 2 else 2 if n_panels <= 4 else 3
    nrows = -(-n_panels // ncols)
    # As in plot_indicators, the legend lives in a thin last row kept clear by the layout.
    grid = fig.add_gridspec(nrows + 1, ncols, height_ratios=[*([1.0] * nrows), 0.001])
    panels: list[tuple[Axes, bool]] = []
    for i in range(n_panels):
        row, col = divmod(i, ncols)
        ax = fig.add_subplot(grid[row, col], sharex=panels[0][0] if panels else None)
        panels.append((ax, i + ncols >= n_panels))
    return panels, grid


def _legend_row(fig: Figure, grid: GridSpec, handles: dict[str, Any], style: _Style) -> None:
    legend_ax = fig.add_subplot(grid[-1, :], label="legend")
    legend_ax.axis("off")
    if handles:
        legend_ax.legend(handles.values(), handles.keys(), ncols=len(handles), loc="center",
                         prop=style.legend_font(), frameon=False)


def _draw_auctions(price_ax: Axes, volume_ax: Axes, metrics: pd.DataFrame, market: str,
                   style: _Style) -> dict[str, Any]:
    """Draw one market's mean clearing price and traded volume; return legend handles."""
    prices = auction_summary(metrics, "quota_price_yuan_per_unit", market=market)
    volumes = auction_summary(metrics, "quota_volume", market=market, fill_value=0.0)
    handles: dict[str, Any] = {}
    if prices.empty and volumes.empty:
        _no_data(price_ax, style)
        return handles
    bars = volume_ax.bar(volumes["x"], volumes["mean"], width=0.8 / 12, color=VOLUME_COLOUR,
                         linewidth=0, label=style.labels["market_prices.volume_legend"])
    (line,) = price_ax.plot(prices["x"], prices["mean"], color=PRICE_COLOUR, marker="o",
                            markersize=3.5, linewidth=1.2,
                            label=style.labels["market_prices.price_legend"])
    if prices["n"].max() > 1:
        price_ax.fill_between(prices["x"], prices["ci_low"], prices["ci_high"],
                              color=PRICE_COLOUR, alpha=0.15, linewidth=0)
    handles[line.get_label()] = line
    handles[bars.get_label()] = bars
    no_trade = prices[prices["mean"].isna()]
    if len(no_trade):
        (cross,) = price_ax.plot(no_trade["x"], np.zeros(len(no_trade)), linestyle="none",
                                 marker="x", markersize=5, color="0.4", clip_on=False,
                                 label=style.labels["market_prices.no_trade"])
        handles[cross.get_label()] = cross
    price_ax.set_ylim(bottom=0.0)
    volume_ax.set_ylim(bottom=0.0)
    if prices["mean"].isna().all() and not (volumes["mean"] > 0).any():
        # Autoscaled ticks on empty axes (0.01, 0.02, ...) would read as real prices.
        for axis in (price_ax, volume_ax):
            axis.set_ylim(0.0, 1.0)
            axis.set_yticks([0.0])
        price_ax.text(0.5, 0.5, style.labels["market_prices.no_trade_any"],
                      transform=price_ax.transAxes, ha="center", va="center", color="0.5",
                      **style.fontkw)
    price_ax.yaxis.set_major_formatter(_QUANTITY_FORMAT)
    volume_ax.yaxis.set_major_formatter(_QUANTITY_FORMAT)
    years = np.union1d(prices["year"].to_numpy(), volumes["year"].to_numpy()).astype(int)
    _fractional_year_axis(price_ax, years)
    return handles


# Thousands separators and no offset ("+1e6"), which a policy reader would misread.
_QUANTITY_FORMAT = FuncFormatter(lambda x, _pos: f"{x:,.0f}" if abs(x) >= 1000 else f"{x:g}")


def _shortfall_years(metrics: pd.DataFrame, group: str) -> list[int]:
    """Years whose mean shortfall exceeds a millionth of the mean cap (float noise is not one)."""
    shortfall = replication_summary(metrics, "quota_shortfall", groups=[group])
    cap = replication_summary(metrics, "quota_cap", groups=[group]).set_index("year")["mean"]
    tolerance = 1e-6 * cap.reindex(shortfall["year"]).abs().fillna(0.0).to_numpy()
    return [int(y) for y in shortfall.loc[shortfall["mean"].to_numpy() > tolerance, "year"]]


def _year_step(ax: Axes, n_years: int) -> int:
    """Label every n-th year so that a panel holds at most 12 / (panels per row) labels."""
    spec = ax.get_subplotspec()
    max_labels = 12 // (spec.get_gridspec().ncols if spec is not None else 1)
    return -(-n_years // max(max_labels, 1))


def _panel_year_axis(ax: Axes, years: np.ndarray) -> None:
    """Year ticks for a panel of a grid: every year, or every n-th when the panel is narrow."""
    if len(years):
        labelled = years[::_year_step(ax, len(years))]
        ax.set_xticks(labelled, [str(y) for y in labelled])


def _fractional_year_axis(ax: Axes, years: np.ndarray) -> None:
    """X-axis for monthly points at year + (month - 0.5) / 12: year labels mid-year."""
    if not len(years):
        return
    step = _year_step(ax, len(years))
    ax.set_xlim(years[0], years[-1] + 1)
    # Unlabelled ticks mark the year boundaries; the labels sit mid-year.
    ax.set_xticks(np.arange(years[0], years[-1] + 2, 1 if step <= 3 else step))
    ax.xaxis.set_major_formatter(NullFormatter())
    labelled = years[::step]
    ax.set_xticks(labelled + 0.5, [str(y) for y in labelled], minor=True)
    ax.tick_params(axis="x", which="minor", length=0)


def _year_axis(ax: Axes, years: np.ndarray) -> None:
    if len(years) <= 12:
        ax.set_xticks(years, [str(y) for y in years])
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _legend_right(ax: Axes, style: _Style) -> None:
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), prop=style.legend_font(),
              frameon=False)


def _no_data(ax: Axes, style: _Style) -> None:
    ax.text(0.5, 0.5, style.labels["no_data"], transform=ax.transAxes, ha="center",
            va="center", color="0.5", **style.fontkw)


def _new_figure() -> Figure:
    return Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")


def _add_source_line(fig: Figure, source: str, style: _Style) -> None:
    # As the figure's supxlabel the constrained layout keeps room for it below
    # the axes and any bottom legend, which a free fig.text would overlap.
    font = {"fontproperties": style.source_font} if style.source_font is not None else {}
    fig.supxlabel(source, x=0.005, ha="left", color="0.35",  # no y: keeps it layout-managed
                  **font, size="x-small")


def _check_formats(formats: Sequence[str]) -> tuple[str, ...]:
    if isinstance(formats, str):
        formats = (formats,)
    supported = FigureCanvasBase.get_supported_filetypes()
    bad = [f for f in formats if f not in supported]
    if bad or not formats:
        raise ValueError(f"The 'formats' parameter must be a non-empty sequence of "
                         f"{sorted(supported)}. Got {list(formats)!r}.")
    return tuple(formats)


def _save(fig: Figure, path: Path, fmt: str, source: str) -> None:
    """Save with metadata that carries provenance but no timestamp (reproducible files)."""
    metadata = {"png": {"Source": source}, "svg": {"Date": None, "Description": source},
                "pdf": {"CreationDate": None, "Subject": source}}.get(fmt)
    # The SVG writer hashes element ids with a random salt unless one is set; the
    # rc_context restores the global setting straight after.
    with mpl.rc_context({"svg.hashsalt": mpl.rcParams["svg.hashsalt"] or SVG_HASHSALT}):
        fig.savefig(path, format=fmt, dpi=DPI, metadata=metadata)


def _annual(metrics: pd.DataFrame) -> pd.Series:
    return metrics["month"].isna()


def _check_one_scenario(metrics: pd.DataFrame) -> None:
    scenarios = sorted(metrics["scenario"].unique())
    if len(scenarios) > 1:
        raise ValueError(f"Plots need the metrics of one scenario. Got {scenarios}.")

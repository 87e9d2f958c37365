"""Quota-market figures (用能权 energy-use rights, 排污权 emission rights).

Drawn by :func:`~simulator.plots.make_figures` only for runs with quota
markets (metric rows of group ``"market=<name>"``): auction prices and
volumes, caps against actual use, and the quota cost per 万元 of value added
by class.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from simulator.plots._style import (
    QUANTITY_FORMAT,
    Style,
    finish_panels,
    fractional_year_axis,
    legend_right,
    legend_row,
    new_figure,
    no_data,
    panel_grid,
    panel_year_axis,
    style_for,
)
from simulator.plots.core import draw_class_lines
from simulator.plots.data import (
    MARKET_GROUP_PREFIX,
    auction_summary,
    is_annual,
    market_names,
    replication_summary,
)

__all__ = ["MARKET_FIGURES", "plot_caps", "plot_market_prices", "plot_quota_burden"]

#: Quota-market figures, drawn after the core figures only when the run has quota markets.
MARKET_FIGURES: tuple[str, ...] = ("market_prices", "market_caps", "quota_burden")
QUOTA_BURDEN_METRIC = "quota_cost_yuan_per_wan_yuan_va"

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
    style = style_for(lang)
    fig = fig if fig is not None else new_figure()
    markets = market_names(metrics)
    panels, grid = panel_grid(fig, len(markets))
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
        no_data(panels[0][0], style)
    fig.suptitle(style.labels["market_prices.title"], **style.fontkw, size="x-large")
    legend_row(fig, grid, handles, style, ncols=4)
    return fig


def plot_caps(metrics: pd.DataFrame, *, lang: str = "en", fig: Figure | None = None) -> Figure:
    """Draw each quota market's cap, allocation and actual use by year; return the Figure.

    One panel per market present: the regional cap (总量上限), the rights
    allocated to firms (配额, dashed) and actual energy use or emissions after
    abatement (实际用能/排放), means over replications. Years whose mean
    shortfall (use not covered by rights) exceeds a millionth of the cap are
    shaded yellow.
    """
    style = style_for(lang)
    fig = fig if fig is not None else new_figure()
    markets = market_names(metrics)
    panels, grid = panel_grid(fig, len(markets))
    units = sorted({_unit(m) for m in markets})
    use_key = f"market_caps.use.{units[0]}" if len(units) == 1 else "market_caps.use"
    series = (("quota_cap", "market_caps.cap", CAP_COLOUR, "-", "none"),
              ("quota_allocated", "market_caps.allocated", ALLOCATED_COLOUR, "--", "none"),
              ("quota_use", use_key, USE_COLOUR, "-", "o"))
    handles: dict[str, Any] = {}
    for (ax, bottom_row), market in zip(panels, markets, strict=False):
        ax.set_label(f"caps:{market}")
        group = f"{MARKET_GROUP_PREFIX}{market}"
        years = np.sort(metrics.loc[is_annual(metrics) & (metrics["group"] == group),
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
            panel_year_axis(ax, years)
            ax.set_xlim(years[0] - 0.5, years[-1] + 0.5)  # a shaded year fills its cell
        else:
            no_data(ax, style)
        style.title(ax, _market_label(market, style), size="medium")
        ax.set_ylabel(style.labels[f"market_caps.ylabel.{_unit(market)}"], **style.fontkw)
        ax.yaxis.set_major_formatter(QUANTITY_FORMAT)
        if bottom_row:
            ax.set_xlabel(style.labels["year"], **style.fontkw)
    return finish_panels(fig, grid, panels, handles, style, title_key="market_caps.title",
                         empty=not markets)


def plot_quota_burden(metrics: pd.DataFrame, *, lang: str = "en",
                      ax: Axes | None = None) -> Axes:
    """Draw the quota cost per 万元 of VA by class charged; return the Axes.

    Net payments to all quota markets (rights bought, paid use, surcharges and
    penalties, less rights sold and compensation) plus abatement cost
    (单位增加值配额成本), in yuan per 10^4 yuan of value added, firms grouped by
    the class in force during the year. A net seller's cost can be negative.
    """
    style = style_for(lang)
    ax = ax if ax is not None else new_figure().add_subplot()
    if draw_class_lines(ax, metrics, QUOTA_BURDEN_METRIC, style):
        if ax.get_ylim()[0] < 0:
            ax.axhline(0.0, color="0.6", linewidth=0.8, zorder=0, label="_zero")
        legend_right(ax, style)
    style.title(ax, style.labels["quota_burden.title"])
    ax.set_xlabel(style.labels["year"], **style.fontkw)
    ax.set_ylabel(style.labels["quota_burden.ylabel"], **style.fontkw)
    return ax


def _unit(market: str) -> str:
    """Quantity unit key: tonnes of coal equivalent for energy, tonnes for pollutants."""
    return "tce" if market == "energy" else "t"


def _market_label(market: str, style: Style) -> str:
    return style.labels.get(f"market.{market}", market)


def _draw_auctions(price_ax: Axes, volume_ax: Axes, metrics: pd.DataFrame, market: str,
                   style: Style) -> dict[str, Any]:
    """Draw one market's mean clearing price and traded volume; return legend handles."""
    prices = auction_summary(metrics, "quota_price_yuan_per_unit", market=market)
    volumes = auction_summary(metrics, "quota_volume", market=market, fill_value=0.0)
    handles: dict[str, Any] = {}
    if prices.empty and volumes.empty:
        no_data(price_ax, style)
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
    handles |= _draw_setters(price_ax, metrics, market, prices, style)
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
    price_ax.yaxis.set_major_formatter(QUANTITY_FORMAT)
    volume_ax.yaxis.set_major_formatter(QUANTITY_FORMAT)
    years = np.union1d(prices["year"].to_numpy(), volumes["year"].to_numpy()).astype(int)
    fractional_year_axis(price_ax, years)
    return handles


#: Marker of each administrative price setter on the price line (PRICE_SETTERS codes).
SETTER_MARKERS: dict[int, tuple[str, str]] = {1: ("v", "floor"), 2: ("^", "ceiling"),
                                              3: ("D", "reserve"), 4: ("s", "penalty")}
SETTER_COLOUR = "#D55E00"  # Okabe-Ito vermillion


def _draw_setters(price_ax: Axes, metrics: pd.DataFrame, market: str, prices: pd.DataFrame,
                  style: Style) -> dict[str, Any]:
    """Mark the auctions priced by the floor, the ceiling, a reserve price or the penalty.

    An auction is marked by what set its price in most replications that traded.
    """
    rows = metrics[(metrics["metric"] == "quota_price_setter")
                   & (metrics["group"] == f"{MARKET_GROUP_PREFIX}{market}")
                   & metrics["month"].notna()].dropna(subset=["value"])
    if rows.empty:
        return {}
    mode = (rows.assign(code=rows["value"].astype(int))
            .groupby(["year", "month"])["code"].agg(lambda c: c.value_counts().idxmax()))
    at = prices.set_index(["year", "month"])
    handles: dict[str, Any] = {}
    for code, (marker, key) in SETTER_MARKERS.items():
        keys = [k for k, c in mode.items() if c == code and k in at.index]
        if not keys:
            continue
        points = at.loc[keys]
        (mark,) = price_ax.plot(points["x"], points["mean"], linestyle="none", marker=marker,
                                markersize=6, markerfacecolor="none",
                                markeredgecolor=SETTER_COLOUR, markeredgewidth=1.2,
                                label=style.labels[f"market_prices.setter.{key}"])
        handles[mark.get_label()] = mark
    return handles


def _shortfall_years(metrics: pd.DataFrame, group: str) -> list[int]:
    """Years whose mean shortfall exceeds a millionth of the mean cap (float noise is not one)."""
    shortfall = replication_summary(metrics, "quota_shortfall", groups=[group])
    cap = replication_summary(metrics, "quota_cap", groups=[group]).set_index("year")["mean"]
    tolerance = 1e-6 * cap.reindex(shortfall["year"]).abs().fillna(0.0).to_numpy()
    return [int(y) for y in shortfall.loc[shortfall["mean"].to_numpy() > tolerance, "year"]]

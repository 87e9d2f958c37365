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

__all__ = ["MARKET_FIGURES", "SETTER_MARKERS", "plot_caps", "plot_market_prices",
           "plot_quota_burden", "price_setters", "region_prices"]

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
    A market whose regions trade apart (``between_regions``) and whose
    regions' prices differ also shows each region's price path (the
    county's line is then the volume-weighted mean).
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
        style.title(ax, _market_label(market, style), size="small")
        ax.set_ylabel(style.labels["market_prices.price"].format(
            unit=style.labels[f"price_unit.{unit}"]), **style.fontkw, size="small")
        volume_ax.set_ylabel(style.labels["market_prices.volume"].format(
            unit=style.labels[f"unit.{unit}"]), **style.fontkw, size="small")
        for axis in (ax, volume_ax):
            axis.tick_params(labelsize="x-small")
            axis.tick_params(axis="x", which="minor", labelsize="x-small")
        if bottom_row:
            ax.set_xlabel(style.labels["year"], **style.fontkw, size="small")
    if not markets:
        no_data(panels[0][0], style)
    fig.suptitle(style.labels["market_prices.title"], **style.fontkw, size="x-large")
    legend_row(fig, grid, handles, style, ncols=3)
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
    ax.set_ylabel(style.labels["quota_burden.ylabel"], **style.fontkw, size="small",
                  linespacing=1.5)
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
    # The price holds from one trade to the next: a step path, without the CI band of
    # 70 auctions (which would hide the markers); the markers say what set each price.
    held = prices["mean"].ffill()
    (line,) = price_ax.plot(prices["x"], held, color=PRICE_COLOUR, drawstyle="steps-post",
                            linewidth=1.1, label=style.labels["market_prices.path"])
    handles[line.get_label()] = line
    handles[bars.get_label()] = bars
    handles |= _draw_setters(price_ax, metrics, market, prices, style)
    handles |= _draw_region_prices(price_ax, metrics, market, style)
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


REGION_PRICE_METRIC = "quota_price_by_region_yuan_per_unit"
# Regions' price paths (Paul Tol's muted palette): clear of the class colours, the black
# county path and the pale volume bars.
REGION_COLOURS: tuple[str, ...] = ("#332288", "#117733", "#882255", "#999933", "#44AA99",
                                   "#AA4499", "#DDCC77", "#88CCEE")


def region_prices(metrics: pd.DataFrame, market: str) -> pd.DataFrame:
    """Return each region's price path of ``market``, mean over the replications that traded.

    Rows of :data:`REGION_PRICE_METRIC` (markets whose regions trade apart,
    ``between_regions``), group ``region=<name>,market=<market>``. Returns
    columns year, month, x (``year + (month - 0.5) / 12``) and one column
    per region (the price held from one trade to the next), in time order;
    empty without such rows.
    """
    suffix = f",{MARKET_GROUP_PREFIX}{market}"
    groups = metrics["group"].astype(str)
    rows = metrics[(metrics["metric"] == REGION_PRICE_METRIC) & groups.str.endswith(suffix)
                   & metrics["month"].notna()]
    if rows.empty:
        return pd.DataFrame(columns=["year", "month", "x"])
    region = rows["group"].astype(str).str.removeprefix("region=").str.removesuffix(suffix)
    wide = (rows.assign(region=region, month=rows["month"].astype(int))
            .groupby(["year", "month", "region"], sort=True)["value"].mean()
            .unstack("region").sort_index())
    order = list(dict.fromkeys(region))  # the regions in the order they were recorded
    wide = wide.reindex(columns=order).ffill().reset_index()
    wide.insert(2, "x", wide["year"] + (wide["month"] - 0.5) / 12.0)
    return wide


def _draw_region_prices(price_ax: Axes, metrics: pd.DataFrame, market: str,
                        style: Style) -> dict[str, Any]:
    """Draw each region's price path when the regions' prices differ; return legend handles."""
    wide = region_prices(metrics, market)
    names = [c for c in wide.columns if c not in ("year", "month", "x")]
    if len(names) < 2:
        return {}
    values = wide[names].to_numpy(dtype=float)
    spread = np.nanmax(values, axis=1) - np.nanmin(values, axis=1)
    if not (spread > 1e-9 * np.nanmax(np.abs(values), initial=1.0)).any():
        return {}  # one price everywhere: the county path says it all
    handles: dict[str, Any] = {}
    for i, name in enumerate(names):
        label = style.labels["market_prices.region"].format(region=name)
        (line,) = price_ax.plot(wide["x"], wide[name], drawstyle="steps-post", linewidth=1.0,
                                color=REGION_COLOURS[i % len(REGION_COLOURS)],
                                linestyle=("-", "--", ":", "-.")[(i // len(REGION_COLOURS)) % 4],
                                label=label, gid=f"region_price_{name}", zorder=4)
        handles[label] = line
    return handles


#: Marker of each administrative price setter on the price line (PRICE_SETTERS codes of
#: ``quota_price_setter``: 0 the bids, 1 floor, 2 ceiling, 3 reserve price, 4 penalty).
SETTER_MARKERS: dict[int, tuple[str, str]] = {1: ("v", "floor"), 2: ("^", "ceiling"),
                                              3: ("D", "reserve"), 4: ("s", "penalty")}
SETTER_COLOUR = "#D55E00"  # Okabe-Ito vermillion
MARKET_SETTER = 0


def price_setters(metrics: pd.DataFrame, market: str) -> pd.DataFrame:
    """Return what priced each auction of ``market`` that traded: bids or an administrative price.

    An auction's ``quota_price_setter`` code (0 bids and offers, 1 the floor,
    2 the ceiling, 3 a reserve price, 4 the penalty or surcharge; NaN no
    trade) can differ between replications: the auction gets the code of
    most replications that traded, the lowest code on a tie.

    Returns
    -------
    pandas.DataFrame
        Columns year, month, code, setter (``"market"``, ``"floor"``,
        ``"ceiling"``, ``"reserve"`` or ``"penalty"``), administrative (code
        > 0) and share (of the replications that traded, those with this
        code); one row per auction month with trade, in time order.
    """
    rows = metrics[(metrics["metric"] == "quota_price_setter")
                   & (metrics["group"] == f"{MARKET_GROUP_PREFIX}{market}")
                   & metrics["month"].notna()].dropna(subset=["value"])
    records = []
    for (year, month), sub in rows.groupby(["year", "month"], sort=True):
        counts = sub["value"].astype(int).value_counts()
        code = int(counts[counts == counts.max()].index.min())
        records.append({"year": int(year), "month": int(month), "code": code,
                        "setter": SETTER_MARKERS.get(code, ("o", "market"))[1],
                        "administrative": code != MARKET_SETTER,
                        "share": float(counts[code] / counts.sum())})
    return pd.DataFrame.from_records(records, columns=["year", "month", "code", "setter",
                                                       "administrative", "share"])


def _draw_setters(price_ax: Axes, metrics: pd.DataFrame, market: str, prices: pd.DataFrame,
                  style: Style) -> dict[str, Any]:
    """Mark each auction that traded: a dot if the bids set its price, else its setter's marker."""
    setters = price_setters(metrics, market)
    if setters.empty:
        return {}
    at = prices.set_index(["year", "month"])
    handles: dict[str, Any] = {}
    looks = {MARKET_SETTER: ("o", "market", PRICE_COLOUR)} | {
        code: (marker, key, SETTER_COLOUR) for code, (marker, key) in SETTER_MARKERS.items()}
    for code, (marker, key, colour) in looks.items():
        keys = [(y, m) for y, m, c in setters[["year", "month", "code"]].itertuples(index=False)
                if c == code and (y, m) in at.index]
        if not keys:
            continue
        points = at.loc[keys]
        label = style.labels["market_prices.market" if code == MARKET_SETTER
                             else f"market_prices.setter.{key}"]
        administrative = code != MARKET_SETTER
        (mark,) = price_ax.plot(points["x"], points["mean"], linestyle="none", marker=marker,
                                markersize=6.5 if administrative else 3.5,
                                markerfacecolor="white" if administrative else colour,
                                markeredgecolor=colour, markeredgewidth=1.3, zorder=5,
                                label=label, gid=f"setter_{key}")
        handles[label] = mark
    return handles


def _shortfall_years(metrics: pd.DataFrame, group: str) -> list[int]:
    """Years whose mean shortfall exceeds a millionth of the mean cap (float noise is not one)."""
    shortfall = replication_summary(metrics, "quota_shortfall", groups=[group])
    cap = replication_summary(metrics, "quota_cap", groups=[group]).set_index("year")["mean"]
    tolerance = 1e-6 * cap.reindex(shortfall["year"]).abs().fillna(0.0).to_numpy()
    return [int(y) for y in shortfall.loc[shortfall["mean"].to_numpy() > tolerance, "year"]]

"""Enterprise-dynamics figures: land use, investment, entry and exit (腾笼换鸟).

Drawn by :func:`~simulator.plots.make_figures` only when the run's metrics
hold the figure's rows (:func:`dynamics_figures`):

``land_use``
    land stocks of all industrial firms (``land_occupied_mu``,
    ``land_idle_mu``, ``land_available_mu``) stacked, and the year's flows
    (``land_revitalised_mu``, ``land_allocated_mu``, ``land_new_mu``), mu;
``investment``
    firms deciding to invest that year, ``investments_<option>`` by class
    (groups ``class=A`` .. ``class=D``, ``all``), one panel per option;
``entry_exit``
    ``entries`` (group ``all``) against ``exits`` by reason (groups
    ``reason=<reason>``), and the stock of ``zombie_firms``.

As for the class counts, values are means over replications and a
(group, year, replication) without a row counts as 0. With several
replications the land-flow and zombie-firm lines carry the 95% CI band of the
mean; bars, stacked areas and the all-firms line over the investment bars do
not (a band over bars would hide them).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, MaxNLocator

from simulator.plots._style import (
    COLOURS,
    MARKERS,
    QUANTITY_FORMAT,
    finish_panels,
    legend_right,
    new_figure,
    no_data,
    panel_grid,
    panel_year_axis,
    style_for,
    year_axis,
)
from simulator.plots.core import draw_class_bars
from simulator.plots.data import (
    CLASSES,
    is_annual,
    on_years,
    replication_summary,
    summary_years,
    yearly_summary,
)

__all__ = [
    "DYNAMICS_FIGURES",
    "dynamics_figures",
    "plot_entry_exit",
    "plot_investment",
    "plot_land_use",
]

#: Enterprise-dynamics figures, each drawn only when its metrics are present.
DYNAMICS_FIGURES: tuple[str, ...] = ("land_use", "investment", "entry_exit")

#: Land pools at the year end (stacked, bottom up) and the year's flows, group "all", mu.
LAND_STOCKS: tuple[str, ...] = ("land_occupied_mu", "land_idle_mu", "land_available_mu")
LAND_FLOWS: tuple[str, ...] = ("land_revitalised_mu", "land_allocated_mu", "land_new_mu")
#: Upgrade options in panel order (as ``simulator.scenario.INVESTMENT_OPTIONS``, not
#: imported: figures depend on the results files only); metric ``investments_<option>``.
INVESTMENT_OPTIONS: tuple[str, ...] = ("retrofit", "pollution_control", "automation",
                                       "space_for_land")
INVESTMENT_PREFIX = "investments_"
ENTRY_METRIC = "entries"
EXIT_METRIC = "exits"
ZOMBIE_METRIC = "zombie_firms"
#: Exit reasons in stacking order (group "reason=<reason>"): persistent losses, D firms
#: whose rectification failed within the grace years, the provincial exit quota.
EXIT_REASONS: tuple[str, ...] = ("losses", "d_grace", "forced")
REASON_GROUP_PREFIX = "reason="

# Land and entry/exit have no class dimension, so they keep clear of the class
# colours (Okabe-Ito sky blue, yellow, purple; greys). The one exception is
# exits of D firms, drawn in the D colour because they are D firms.
LAND_STYLE: dict[str, dict[str, str]] = {
    "land_occupied_mu": {"color": "#56B4E9"},
    "land_idle_mu": {"color": "#BBBBBB"},
    "land_available_mu": {"color": "#F0E442"},
    "land_revitalised_mu": {"color": "#CC79A7", "linestyle": "--", "marker": "s"},
    "land_allocated_mu": {"color": "#56B4E9", "linestyle": "-.", "marker": "^"},
    "land_new_mu": {"color": "#000000", "linestyle": "-", "marker": "o"},
}
ENTRY_COLOUR = "#56B4E9"
EXIT_COLOURS: dict[str, str] = {"losses": "#CC79A7", "d_grace": COLOURS["D"], "forced": "#555555"}
OTHER_EXIT_COLOUR = "#BBBBBB"
ZOMBIE_COLOUR = "#000000"

# Exits are drawn below zero but are counts too: label the axis with absolute values.
_ABS_QUANTITY_FORMAT = FuncFormatter(lambda x, pos: QUANTITY_FORMAT(abs(x), pos))


def dynamics_figures(metrics: pd.DataFrame) -> list[str]:
    """Return the names of the :data:`DYNAMICS_FIGURES` whose metrics ``metrics`` holds.

    A figure is drawn when at least one of its metrics has an annual row.
    """
    present = set(metrics.loc[is_annual(metrics), "metric"].unique())
    needs = {
        "land_use": {*LAND_STOCKS, *LAND_FLOWS},
        "investment": {f"{INVESTMENT_PREFIX}{o}" for o in investment_options(metrics)},
        "entry_exit": {ENTRY_METRIC, EXIT_METRIC, ZOMBIE_METRIC},
    }
    return [name for name in DYNAMICS_FIGURES if needs[name] & present]


def investment_options(metrics: pd.DataFrame) -> list[str]:
    """Return the :data:`INVESTMENT_OPTIONS` that have ``investments_<option>`` rows, in order.

    Only the known options count: ``investments_completed`` (projects completed,
    by option) shares the prefix but is no option.
    """
    present = set(metrics.loc[is_annual(metrics), "metric"].unique())
    return [o for o in INVESTMENT_OPTIONS if f"{INVESTMENT_PREFIX}{o}" in present]


def exit_reasons(metrics: pd.DataFrame) -> list[str]:
    """Return the reasons with ``exits`` rows: known ones in order, then sorted."""
    groups = metrics.loc[is_annual(metrics) & (metrics["metric"] == EXIT_METRIC),
                         "group"].astype(str)
    found = set(groups[groups.str.startswith(REASON_GROUP_PREFIX)].str.removeprefix(
        REASON_GROUP_PREFIX))
    return [*(r for r in EXIT_REASONS if r in found), *sorted(found - set(EXIT_REASONS))]


# ---------------------------------------------------------------- figures


def plot_land_use(metrics: pd.DataFrame, *, lang: str = "en",
                  fig: Figure | None = None) -> Figure:
    """Draw industrial land stocks (stacked) over the year's land flows; return the Figure.

    Top panel, at the year end: land occupied by active firms, idle land
    (left by exits or freed by 空间换地 space-for-land projects) and land
    available for new projects, stacked, mu. Bottom panel: this year's flows, mu per year:
    idle land revitalised (盘活), land allocated to entrants and newly
    released land. All firms (group ``all``); means over replications.
    """
    style = style_for(lang)
    fig = fig if fig is not None else new_figure()
    stocks_ax, flows_ax = _two_rows(fig, "stocks", "flows")
    layers = {m: yearly_summary(metrics, m, "all") for m in LAND_STOCKS}
    layers = {m: s for m, s in layers.items() if not s.empty}
    flows = {m: yearly_summary(metrics, m, "all") for m in LAND_FLOWS}
    years = summary_years(*layers.values(), *flows.values())
    if layers:
        stock_years = summary_years(*layers.values())
        stocks_ax.stackplot(
            stock_years, *(on_years(s, stock_years) for s in layers.values()),
            labels=[style.labels[f"land.{_land_key(m)}"] for m in layers],
            colors=[LAND_STYLE[m]["color"] for m in layers], linewidth=0)
        stocks_ax.set_ylim(bottom=0.0)
        legend_right(stocks_ax, style)
    else:
        no_data(stocks_ax, style)
    for metric, summary in flows.items():
        _mean_line(flows_ax, summary, label=style.labels[f"land.{_land_key(metric)}"],
                   **LAND_STYLE[metric])
    if flows_ax.get_lines():
        legend_right(flows_ax, style)
    else:
        no_data(flows_ax, style)
    year_axis(flows_ax, years)
    for ax, part in ((stocks_ax, "stocks"), (flows_ax, "flows")):
        style.title(ax, style.labels[f"land_use.{part}"], size="medium")
        ax.set_ylabel(style.labels[f"land_use.{part}.ylabel"], **style.fontkw)
        ax.yaxis.set_major_formatter(QUANTITY_FORMAT)
    flows_ax.set_xlabel(style.labels["year"], **style.fontkw)
    fig.suptitle(style.labels["land_use.title"], **style.fontkw, size="x-large")
    return fig


def plot_investment(metrics: pd.DataFrame, *, lang: str = "en",
                    fig: Figure | None = None) -> Figure:
    """Draw firms deciding to invest, per option and year, stacked by class; return the Figure.

    One panel per option present (节能改造 energy-saving retrofit, 污染治理
    pollution control, 机器换人 automation, 空间换地 space for land): bars of
    firms per class A-D, stacked, and a dashed line for all industrial firms
    (unrated ones included). Means over replications, without CI bands, as
    in :func:`~simulator.plots.core.plot_class_counts`.
    """
    style = style_for(lang)
    fig = fig if fig is not None else new_figure()
    options = investment_options(metrics)
    panels, grid = panel_grid(fig, len(options))
    handles: dict[str, Any] = {}
    for (ax, bottom_row), option in zip(panels, options, strict=False):
        ax.set_label(f"investment:{option}")
        metric = f"{INVESTMENT_PREFIX}{option}"
        # Unrated firms (new, or small below-scale firms outside the evaluation) invest
        # too: stack them on top so the bars add up to all firms.
        classes = (*CLASSES, "U")
        by_class = replication_summary(metrics, metric, groups=[f"class={c}" for c in classes],
                                       fill_value=0.0)
        total = yearly_summary(metrics, metric, "all")
        if not by_class.empty:
            handles |= draw_class_bars(ax, by_class, style, classes)
        line = _mean_line(ax, total, label=style.labels["class.all"], color=COLOURS["all"],
                          linestyle="--", marker=MARKERS["all"], band=False)
        if line is not None:
            handles[line.get_label()] = line
        years = summary_years(by_class, total)
        if len(years):
            panel_year_axis(ax, years)
        else:
            no_data(ax, style)
        style.title(ax, style.labels.get(f"investment.{option}", option), size="medium")
        if ax.get_subplotspec().is_first_col():
            ax.set_ylabel(style.labels["investment.ylabel"], **style.fontkw)
        if bottom_row:
            ax.set_xlabel(style.labels["year"], **style.fontkw)
    return finish_panels(fig, grid, panels, handles, style, title_key="investment.title",
                         empty=not options)


def plot_entry_exit(metrics: pd.DataFrame, *, lang: str = "en",
                    fig: Figure | None = None) -> Figure:
    """Draw entries against exits by reason, over the zombie-firm count; return the Figure.

    Top panel: firms entering a year (new projects on allocated land) as bars
    above zero, firms exiting as bars below zero, stacked by reason:
    persistent losses, D firms not rectified within the grace years, forced
    closure under the yearly exit quota (腾笼换鸟). Bottom panel: zombie firms
    (僵尸企业, consecutive loss years). Means over replications.
    """
    style = style_for(lang)
    fig = fig if fig is not None else new_figure()
    flows_ax, zombie_ax = _two_rows(fig, "entry_exit", "zombies")
    entries = yearly_summary(metrics, ENTRY_METRIC, "all")
    exits = {r: yearly_summary(metrics, EXIT_METRIC, f"{REASON_GROUP_PREFIX}{r}")
             for r in exit_reasons(metrics)}
    zombies = yearly_summary(metrics, ZOMBIE_METRIC, "all")
    flow_years = summary_years(entries, *exits.values())
    if not entries.empty:
        flows_ax.bar(flow_years, on_years(entries, flow_years), width=0.7, color=ENTRY_COLOUR,
                     edgecolor="white", linewidth=0.5,
                     label=style.labels["entry_exit.entries"])
    below = np.zeros(len(flow_years))
    for reason, summary in exits.items():
        heights = on_years(summary, flow_years)
        flows_ax.bar(flow_years, -heights, bottom=-below, width=0.7,
                     color=EXIT_COLOURS.get(reason, OTHER_EXIT_COLOUR), edgecolor="white",
                     linewidth=0.5, label=style.labels.get(f"exit.{reason}", reason))
        below += heights
    if len(flow_years):
        flows_ax.axhline(0.0, color="0.3", linewidth=0.8, label="_zero")
        legend_right(flows_ax, style)
    else:
        no_data(flows_ax, style)
    if _mean_line(zombie_ax, zombies, label=style.labels["entry_exit.zombies"],
                  color=ZOMBIE_COLOUR, linestyle="-", marker="o") is None:
        no_data(zombie_ax, style)
    year_axis(zombie_ax, summary_years(entries, *exits.values(), zombies))
    style.title(flows_ax, style.labels["entry_exit.flows"], size="medium")
    flows_ax.set_ylabel(style.labels["entry_exit.ylabel"], **style.fontkw)
    flows_ax.yaxis.set_major_formatter(_ABS_QUANTITY_FORMAT)
    for ax in (flows_ax, zombie_ax):
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # firms: no 2.5 ticks
    style.title(zombie_ax, style.labels["entry_exit.zombies"], size="medium")
    zombie_ax.set_ylabel(style.labels["entry_exit.zombies.ylabel"], **style.fontkw)
    zombie_ax.yaxis.set_major_formatter(QUANTITY_FORMAT)
    zombie_ax.set_xlabel(style.labels["year"], **style.fontkw)
    fig.suptitle(style.labels["entry_exit.title"], **style.fontkw, size="x-large")
    return fig


# ---------------------------------------------------------------- helpers


def _two_rows(fig: Figure, top: str, bottom: str) -> tuple[Axes, Axes]:
    """Add a main panel over a smaller one sharing its years; label them ``top``, ``bottom``."""
    grid = fig.add_gridspec(2, 1, height_ratios=[3.0, 2.0])
    top_ax = fig.add_subplot(grid[0], label=top)
    bottom_ax = fig.add_subplot(grid[1], sharex=top_ax, label=bottom)
    top_ax.tick_params(labelbottom=False)
    return top_ax, bottom_ax


def _land_key(metric: str) -> str:
    """Label key of a land metric: ``land_idle_mu`` -> ``idle``."""
    return metric.removeprefix("land_").removesuffix("_mu")


def _mean_line(ax: Axes, summary: pd.DataFrame, *, label: str, color: str, linestyle: str,
               marker: str, band: bool = True) -> Line2D | None:
    """Plot the summary's mean, with its CI band if ``band`` and n > 1; None without data."""
    summary = summary.dropna(subset=["mean"])
    if summary.empty:
        return None
    (line,) = ax.plot(summary["year"], summary["mean"], color=color, linestyle=linestyle,
                      marker=marker, markersize=4, label=label)
    if band and summary["n"].max() > 1:
        ax.fill_between(summary["year"], summary["ci_low"], summary["ci_high"], color=color,
                        alpha=0.15, linewidth=0)
    return line

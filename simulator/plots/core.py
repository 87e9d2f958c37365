"""The core figures of every run: yield indicators, class counts, resource bill, transitions.

Each function takes the tidy metrics table and an optional Axes (or Figure)
and returns it; values are means over replications (see
:func:`~simulator.plots.data.replication_summary`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from simulator.plots._style import (
    COLOURS,
    MARKERS,
    QUANTITY_FORMAT,
    Style,
    legend_columns,
    legend_right,
    new_figure,
    no_data,
    style_for,
    year_axis,
)
from simulator.plots.data import (
    CLASSES,
    TRANSITION_METRIC,
    is_annual,
    replication_summary,
    transition_matrix,
)

__all__ = [
    "FIGURES",
    "INDICATORS",
    "plot_class_counts",
    "plot_indicators",
    "plot_resource_bill",
    "plot_transitions",
]

#: Figure names, in the order :func:`~simulator.plots.make_figures` draws them.
FIGURES: tuple[str, ...] = ("indicators", "class_counts", "resource_bill", "transitions")
INDICATORS: tuple[str, ...] = (
    "tax_per_mu_wan_yuan",
    "va_per_mu_wan_yuan",
    "va_per_tce_wan_yuan",
    "va_per_t_emission_wan_yuan",
)


def plot_indicators(metrics: pd.DataFrame, *, lang: str = "en",
                    fig: Figure | None = None) -> Figure:
    """Draw the four yield indicators by class (2x2 panels) and return the Figure.

    Tax per mu, value added (VA) per mu, VA per tce and VA per tonne of
    emissions (亩均税收、亩均工业增加值、单位能耗/单位排放工业增加值), one line
    per class A-D plus all industrial firms, firms grouped by the class the
    year's evaluation gave.
    """
    style = style_for(lang)
    fig = fig if fig is not None else new_figure()
    # A thin third row holds the shared legend, so the layout engine keeps it
    # clear of the panels and of the source line below.
    grid = fig.add_gridspec(3, 2, height_ratios=[1.0, 1.0, 0.001])
    first = fig.add_subplot(grid[0, 0])
    axes = [first, *(fig.add_subplot(grid[i // 2, i % 2], sharex=first) for i in range(1, 4))]
    handles: dict[str, Any] = {}
    for i, (ax, metric) in enumerate(zip(axes, INDICATORS, strict=True)):
        handles |= draw_class_lines(ax, metrics, metric, style)
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
        legend_ax.legend(handles.values(), handles.keys(),
                         ncols=legend_columns(list(handles), fig.get_figwidth()), loc="center",
                         prop=style.legend_font(), frameon=False)
    return fig


def plot_class_counts(metrics: pd.DataFrame, *, lang: str = "en",
                      ax: Axes | None = None) -> Axes:
    """Draw evaluated firms per class A-D over time as stacked bars; return the Axes."""
    style = style_for(lang)
    ax = ax if ax is not None else new_figure().add_subplot()
    summary = replication_summary(metrics, "firms", groups=[f"class={c}" for c in CLASSES],
                                  fill_value=0.0)
    if summary.empty:
        no_data(ax, style)
    else:
        draw_class_bars(ax, summary, style)
        year_axis(ax, np.sort(summary["year"].unique()))
        legend_right(ax, style)
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
    style = style_for(lang)
    ax = ax if ax is not None else new_figure().add_subplot()
    if draw_class_lines(ax, metrics, "resource_bill_yuan_per_wan_yuan_va", style):
        legend_right(ax, style)
    style.title(ax, style.labels["resource_bill.title"])
    ax.set_xlabel(style.labels["year"], **style.fontkw)
    ax.set_ylabel(style.labels["resource_bill.ylabel"], **style.fontkw, size="small",
                  linespacing=1.5)
    return ax


def plot_transitions(metrics: pd.DataFrame, *, lang: str = "en",
                     ax: Axes | None = None) -> Axes:
    """Draw the class transition matrix as an annotated heatmap; return the Axes.

    Rows are the class in the previous evaluation, columns the class in this
    one. Cells show the number of firms (summed over years, mean over
    replications) and their share of the row; colour is the row share.
    """
    style = style_for(lang)
    ax = ax if ax is not None else new_figure().add_subplot()
    counts = transition_matrix(metrics)
    rows = metrics[is_annual(metrics) & (metrics["metric"] == TRANSITION_METRIC)]
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
        no_data(ax, style)
    return ax


# ---------------------------------------------------------------- class series


def draw_class_lines(ax: Axes, metrics: pd.DataFrame, metric: str,
                     style: Style) -> dict[str, Any]:
    """Plot one mean line (and CI band) per class A-D and "all"; return legend handles.

    An Axes without any line gets the "No data" note.
    """
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
        year_axis(ax, np.sort(summary["year"].unique()))
        ax.yaxis.set_major_formatter(QUANTITY_FORMAT)  # 4,000 rather than 4000
    else:
        no_data(ax, style)
    return handles


def draw_class_bars(ax: Axes, summary: pd.DataFrame, style: Style,
                    classes: tuple[str, ...] = CLASSES) -> dict[str, Any]:
    """Stack one bar per class a year (A-D, or ``classes``); return legend handles.

    ``summary`` is a :func:`~simulator.plots.data.replication_summary` of
    groups ``class=A`` .. ``class=D`` (with ``fill_value=0`` for counts); a
    class without a row in a year gets no height. The caller sets the year axis.
    """
    years = np.sort(summary["year"].unique())
    bottom = np.zeros(len(years))
    handles: dict[str, Any] = {}
    for c in classes:
        heights = (summary[summary["group"] == f"class={c}"]
                   .set_index("year")["mean"].reindex(years, fill_value=0.0).to_numpy())
        bars = ax.bar(years, heights, bottom=bottom, width=0.7, color=COLOURS[c],
                      edgecolor="white", linewidth=0.5, label=style.labels[f"class.{c}"])
        handles[bars.get_label()] = bars
        bottom += heights
    return handles

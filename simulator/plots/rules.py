"""The evaluation-rules figure: which firms the further rules moved, and whom they reach.

Drawn by :func:`~simulator.plots.make_figures` only when the run's metrics
hold one of its rows (:func:`rules_figures`), i.e. when a scenario switches
on a rule of :mod:`simulator.evaluation.rules`:

``evaluation_rules``
    top: firms whose class a rule changed each year, side by side:
    ``protected_from_d_firms`` (kept out of D), ``downgraded_firms``
    (lowered by a deduction item), ``standards_capped_firms`` (capped by the
    entry standards); bottom: the firms the rules reach:
    ``deduction_item_firms`` by item, ``protected_firms`` (all reasons),
    ``standards_failing_firms`` and ``unrated_managed_as_b_firms``.

Values are means over replications; a (group, year, replication) without a
row counts as 0. Bars carry no band; with several replications the lines
carry the 95% CI band of the mean.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from simulator import catalogue
from simulator.plots._style import (
    QUANTITY_FORMAT,
    legend_right,
    new_figure,
    no_data,
    style_for,
    year_axis,
)
from simulator.plots.data import is_annual, on_years, summary_years, yearly_summary

__all__ = ["RULES_FIGURES", "plot_evaluation_rules", "rules_figures"]

#: The evaluation-rules figures, each drawn only when its metrics are present.
RULES_FIGURES: tuple[str, ...] = ("evaluation_rules",)
#: Firms whose class a rule changed (group "all"), in bar order, with their colours.
MOVED: dict[str, str] = {"protected_from_d_firms": "#009E73", "downgraded_firms": "#D55E00",
                         "standards_capped_firms": "#0072B2"}
#: Deduction items (group "item=<item>") in line order, with their colours.
ITEMS: dict[str, str] = {"safety": "#CC79A7", "environment": "#56B4E9", "credit": "#000000"}
#: Further lines of the firms reached (group "all"): metric -> (colour, line style).
REACHED: dict[str, tuple[str, str]] = {
    "protected_firms": ("#009E73", "--"), "standards_failing_firms": ("#0072B2", "--"),
    "unrated_managed_as_b_firms": ("#999999", ":")}
ITEM_METRIC = "deduction_item_firms"


def rules_figures(metrics: pd.DataFrame) -> list[str]:
    """Return ``["evaluation_rules"]`` when ``metrics`` holds an annual row of the figure."""
    present = set(metrics.loc[is_annual(metrics), "metric"].unique())
    needs = {*MOVED, *REACHED, ITEM_METRIC}
    return list(RULES_FIGURES) if needs & present else []


def plot_evaluation_rules(metrics: pd.DataFrame, *, lang: str = "en",
                          fig: Figure | None = None) -> Figure:
    """Draw the firms the evaluation's further rules moved and reached; return the Figure.

    Parameters
    ----------
    metrics : pandas.DataFrame
        Tidy metrics of one run (:func:`~simulator.plots.read_metrics`).
    lang : {"en", "zh"}
        Label language.
    fig : Figure, optional
        Figure to draw on (a new one by default).

    Returns
    -------
    Figure
    """
    style = style_for(lang)
    fig = fig if fig is not None else new_figure()
    grid = fig.add_gridspec(2, 1, height_ratios=[3.0, 2.0])
    moved_ax = fig.add_subplot(grid[0], label="moved")
    reach_ax = fig.add_subplot(grid[1], sharex=moved_ax, label="reached")
    moved_ax.tick_params(labelbottom=False)
    present = set(metrics.loc[is_annual(metrics), "metric"].unique())
    moved = {m: yearly_summary(metrics, m, "all") for m in MOVED if m in present}
    years = summary_years(*moved.values())
    width = 0.8 / max(len(moved), 1)
    for k, (metric, summary) in enumerate(moved.items()):
        offset = (k - (len(moved) - 1) / 2) * width
        moved_ax.bar(years + offset, on_years(summary, years), width=width,
                     color=MOVED[metric], edgecolor="white", linewidth=0.5,
                     label=catalogue.label(metric, style.lang))
    if moved:
        legend_right(moved_ax, style)
    else:
        no_data(moved_ax, style)
    lines = []
    if ITEM_METRIC in present:
        for item, colour in ITEMS.items():
            lines.append((yearly_summary(metrics, ITEM_METRIC, f"item={item}"), colour, "-",
                          style.labels[f"rules.item.{item}"]))
    for metric, (colour, dash) in REACHED.items():
        if metric in present:
            lines.append((yearly_summary(metrics, metric, "all"), colour, dash,
                          catalogue.label(metric, style.lang)))
    for summary, colour, dash, label in lines:
        reach_ax.plot(summary["year"], summary["mean"], color=colour, linestyle=dash,
                      marker="o", markersize=4, label=label)
        if summary["n"].max() > 1:
            reach_ax.fill_between(summary["year"], summary["ci_low"], summary["ci_high"],
                                  color=colour, alpha=0.15, linewidth=0)
    if lines:
        legend_right(reach_ax, style)
    else:
        no_data(reach_ax, style)
    year_axis(reach_ax, summary_years(*moved.values(), *(line[0] for line in lines)))
    for ax, key in ((moved_ax, "rules.moved"), (reach_ax, "rules.reached")):
        style.title(ax, style.labels[key], size="medium")
        ax.set_ylabel(style.labels["rules.ylabel"], **style.fontkw)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # firms: no 2.5 ticks
        ax.yaxis.set_major_formatter(QUANTITY_FORMAT)
    reach_ax.set_xlabel(style.labels["year"], **style.fontkw)
    fig.suptitle(style.labels["rules.title"], **style.fontkw, size="x-large")
    return fig

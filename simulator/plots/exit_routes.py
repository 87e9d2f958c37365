"""Exit routes figure: closure, relocation (转移) and merger (兼并重组) over the years.

Drawn by :func:`~simulator.plots.make_figures` after the dynamics figures when
the run has exit routes (:func:`exit_route_figures`; ``dynamics.exit.routes``
on: rows of ``exits_closure``, ``exits_relocation``, ``exits_merger``):

``exit_routes``
    top: leaving firms a year by route (``exits_<route>``, group ``all``),
    stacked; bottom: the land they held by route (``exit_land_mu``, groups
    ``route=<route>``), stacked: closure and relocation leave it idle, a
    merger passes it to the acquirer.

Values are means over replications; a (group, year, replication) without a
row counts as 0. Bars carry no CI band (a band over bars would hide them).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from simulator.plots._style import (
    QUANTITY_FORMAT,
    legend_right,
    new_figure,
    no_data,
    style_for,
    year_axis,
)
from simulator.plots.data import is_annual, yearly_summary

__all__ = ["EXIT_ROUTES", "EXIT_ROUTE_FIGURES", "ROUTE_COLOURS", "exit_route_figures",
           "plot_exit_routes"]

#: The figure drawn when the run has exit routes (after the dynamics figures).
EXIT_ROUTE_FIGURES: tuple[str, ...] = ("exit_routes",)

#: Routes in stacking order (as ``simulator.dynamics.routes.ROUTES``, not imported:
#: figures depend on the results files only).
EXIT_ROUTES: tuple[str, ...] = ("closure", "relocation", "merger")
#: Okabe-Ito grey, orange and bluish green: clear of the class colours' meaning.
ROUTE_COLOURS: dict[str, str] = {"closure": "#555555", "relocation": "#E69F00",
                                 "merger": "#009E73"}


def exit_route_figures(metrics: pd.DataFrame) -> list[str]:
    """Return ``["exit_routes"]`` if ``metrics`` has an annual row of an ``exits_<route>``."""
    wanted = {f"exits_{r}" for r in EXIT_ROUTES}
    found = metrics.loc[is_annual(metrics), "metric"].isin(wanted).any()
    return list(EXIT_ROUTE_FIGURES) if found else []


def plot_exit_routes(metrics: pd.DataFrame, *, lang: str = "en",
                     fig: Figure | None = None) -> Figure:
    """Draw leaving firms and their land by route, year by year; return the Figure.

    Parameters
    ----------
    metrics : pandas.DataFrame
        Tidy metrics table of one scenario (see :func:`~simulator.plots.read_metrics`).
    lang : {"en", "zh"}
        Label language.
    fig : Figure, optional
        The page to draw on (a new 10 x 6 page by default).
    """
    style = style_for(lang)
    fig = fig if fig is not None else new_figure()
    grid = fig.add_gridspec(2, 1, height_ratios=[3.0, 2.0])
    firms_ax = fig.add_subplot(grid[0], label="exit_routes")
    land_ax = fig.add_subplot(grid[1], sharex=firms_ax, label="exit_routes_land")
    firms_ax.tick_params(labelbottom=False)
    firms = {r: yearly_summary(metrics, f"exits_{r}", "all") for r in EXIT_ROUTES}
    land = {r: yearly_summary(metrics, "exit_land_mu", f"route={r}") for r in EXIT_ROUTES}
    years = np.array(sorted({int(y) for s in (*firms.values(), *land.values())
                             for y in s["year"]}), dtype=int)
    for ax, series in ((firms_ax, firms), (land_ax, land)):
        if not len(years):
            no_data(ax, style)
            continue
        below = np.zeros(len(years))
        for route, summary in series.items():
            heights = summary.set_index("year")["mean"].reindex(years, fill_value=0.0)
            ax.bar(years, heights.to_numpy(), bottom=below, width=0.7,
                   color=ROUTE_COLOURS[route], edgecolor="white", linewidth=0.5,
                   label=style.labels[f"exit_routes.{route}"])
            below += heights.to_numpy()
        ax.yaxis.set_major_formatter(QUANTITY_FORMAT)
    if len(years):
        legend_right(firms_ax, style)
        year_axis(land_ax, years)
    firms_ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # firms: no 2.5 ticks
    style.title(firms_ax, style.labels["exit_routes.firms"], size="medium")
    firms_ax.set_ylabel(style.labels["exit_routes.firms.ylabel"], **style.fontkw)
    style.title(land_ax, style.labels["exit_routes.land"], size="medium")
    land_ax.set_ylabel(style.labels["exit_routes.land.ylabel"], **style.fontkw)
    land_ax.set_xlabel(style.labels["year"], **style.fontkw)
    fig.suptitle(style.labels["exit_routes.title"], **style.fontkw, size="x-large")
    return fig


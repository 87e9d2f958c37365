"""Land-contract and dual-control figures (招拍挂, 履约协议, 收储; 能耗双控).

Drawn by :func:`~simulator.plots.make_figures` only when the run's metrics hold
the figure's rows (:func:`contract_figures`), i.e. when a scenario switches
the mechanism on:

``land_contracts``
    the year's land money, 万元: received (land price, transfer after lease,
    rent, penalties and relief repaid) above zero, paid (refunds, land
    banking) below, and the net; under it, agreements met and missed and the
    land handed back (``dynamics.contracts``);
``dual_control``
    the energy intensity of all firms against the dual-control path, and the
    new projects refused (``dynamics.dual_control``).

Values are means over replications; a (group, year, replication) without a
row counts as 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from simulator import catalogue
from simulator.plots._style import QUANTITY_FORMAT, legend_right, new_figure, no_data, style_for
from simulator.plots._style import year_axis as _year_axis
from simulator.plots.data import is_annual, replication_summary

__all__ = ["CONTRACT_FIGURES", "contract_figures", "plot_dual_control", "plot_land_contracts"]

#: Figure names in drawing order.
CONTRACT_FIGURES: tuple[str, ...] = ("land_contracts", "dual_control")

#: Land money received (above zero) and paid (below), yuan metrics, with their colours.
RECEIVED: dict[str, str] = {
    "land_price_revenue_yuan": "#0072B2", "land_transfer_revenue_yuan": "#56B4E9",
    "land_rent_revenue_yuan": "#009E73", "land_contract_penalty_yuan": "#E69F00",
    "land_relief_repaid_yuan": "#F0E442"}
PAID: dict[str, str] = {"land_refund_yuan": "#CC79A7", "land_banking_cost_yuan": "#D55E00"}

_ABS = FuncFormatter(lambda x, pos: QUANTITY_FORMAT(abs(x), pos))


def contract_figures(metrics: pd.DataFrame) -> list[str]:
    """Return the :data:`CONTRACT_FIGURES` whose metrics ``metrics`` holds (annual rows)."""
    present = set(metrics.loc[is_annual(metrics), "metric"].unique())
    needs = {"land_contracts": {"land_revenue_yuan"},
             "dual_control": {"energy_intensity_path_tce_per_wan_yuan"}}
    return [name for name in CONTRACT_FIGURES if needs[name] & present]


def plot_land_contracts(metrics: pd.DataFrame, *, lang: str = "en",
                        fig: Figure | None = None) -> Figure:
    """Draw the year's land money over agreements met and missed; return the Figure.

    Top: land money received (price at signing, transfer after a lease, rent,
    penalties, relief repaid) as bars above zero and money paid (refunds for
    returned land, land banking 收储) below, 万元, with the net as a line.
    Bottom: agreements met (above zero) and missed (below), firms.
    """
    style = style_for(lang)
    fig = fig if fig is not None else new_figure()
    money_ax, agree_ax = _two_rows(fig)
    years = _years(metrics, [*RECEIVED, *PAID, "agreements_met"])
    if not years.size:
        no_data(money_ax, style)
        no_data(agree_ax, style)
        return fig
    for sign, parts in ((1.0, RECEIVED), (-1.0, PAID)):
        bottom = np.zeros(years.size)
        for metric, colour in parts.items():
            values = _means(metrics, metric, years) * 1e-4
            if not values.any():
                continue
            money_ax.bar(years, sign * values, bottom=sign * bottom, width=0.7, color=colour,
                         edgecolor="white", linewidth=0.5, label=_label(metric, style))
            bottom += values
    net = _means(metrics, "land_net_revenue_yuan", years) * 1e-4
    money_ax.plot(years, net, color="0.15", marker="o", markersize=4,
                  label=_label("land_net_revenue_yuan", style))
    money_ax.axhline(0.0, color="0.3", linewidth=0.8, label="_zero")
    legend_right(money_ax, style)
    met = _means(metrics, "agreements_met", years)
    missed = _means(metrics, "agreements_missed", years)
    agree_ax.bar(years, met, width=0.7, color="#009E73", label=_label("agreements_met", style))
    agree_ax.bar(years, -missed, width=0.7, color="#D55E00",
                 label=_label("agreements_missed", style))
    agree_ax.axhline(0.0, color="0.3", linewidth=0.8, label="_zero")
    agree_ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    legend_right(agree_ax, style)
    _finish(fig, style, (money_ax, "land_contracts.money", QUANTITY_FORMAT),
            (agree_ax, "land_contracts.agreements", _ABS), years=years,
            title="land_contracts.title")
    return fig


def plot_dual_control(metrics: pd.DataFrame, *, lang: str = "en",
                      fig: Figure | None = None) -> Figure:
    """Draw energy intensity against the dual-control path over projects refused.

    Top: the year's energy intensity of all firms and the path, tce per 万元
    VA. Bottom: new projects (entrants, expansions) refused or withdrawn under
    dual control, and entries, firms.
    """
    style = style_for(lang)
    fig = fig if fig is not None else new_figure()
    path_ax, refused_ax = _two_rows(fig)
    years = _years(metrics, ["energy_intensity_path_tce_per_wan_yuan"])
    if not years.size:
        no_data(path_ax, style)
        no_data(refused_ax, style)
        return fig
    path_ax.plot(years, _means(metrics, "energy_intensity_region_tce_per_wan_yuan", years),
                 color="#0072B2", marker="o", markersize=4,
                 label=_label("energy_intensity_region_tce_per_wan_yuan", style))
    path_ax.plot(years, _means(metrics, "energy_intensity_path_tce_per_wan_yuan", years),
                 color="#D55E00", linestyle="--", marker="s", markersize=4,
                 label=_label("energy_intensity_path_tce_per_wan_yuan", style))
    path_ax.set_ylim(bottom=0.0)
    legend_right(path_ax, style)
    offset = 0.18
    refused_ax.bar(years - offset, _means(metrics, "projects_refused_dual_control", years),
                   width=0.36, color="#D55E00",
                   label=_label("projects_refused_dual_control", style))
    refused_ax.bar(years + offset, _means(metrics, "entries", years), width=0.36,
                   color="#009E73", label=_label("entries", style))
    refused_ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    legend_right(refused_ax, style)
    _finish(fig, style, (path_ax, "dual_control.intensity", QUANTITY_FORMAT),
            (refused_ax, "dual_control.projects", QUANTITY_FORMAT), years=years,
            title="dual_control.title")
    return fig


# ---------------------------------------------------------------- helpers


def _label(metric: str, style) -> str:
    """Return the catalogue's label of ``metric`` in the figure's language."""
    return catalogue.label(metric, style.lang)


def _two_rows(fig: Figure) -> tuple[Axes, Axes]:
    """Add a main panel over a smaller one sharing its years."""
    grid = fig.add_gridspec(2, 1, height_ratios=[3.0, 2.0])
    top = fig.add_subplot(grid[0])
    bottom = fig.add_subplot(grid[1], sharex=top)
    top.tick_params(labelbottom=False)
    return top, bottom


def _years(metrics: pd.DataFrame, names: list[str]) -> np.ndarray:
    """Sorted years with an annual row of any of ``names`` (group ``all``)."""
    rows = metrics[is_annual(metrics) & metrics["metric"].isin(names)
                   & (metrics["group"] == "all")]
    return np.array(sorted({int(y) for y in rows["year"]}), dtype=int)


def _means(metrics: pd.DataFrame, metric: str, years: np.ndarray) -> np.ndarray:
    """Group ``all``'s mean over replications on ``years``; 0 where there is no row."""
    summary = replication_summary(metrics, metric, groups=["all"], fill_value=0.0)
    if summary.empty:
        return np.zeros(years.size)
    return summary.set_index("year")["mean"].reindex(years, fill_value=0.0).to_numpy(float)


def _finish(fig: Figure, style, *panels: tuple[Axes, str, FuncFormatter],
            years: np.ndarray, title: str) -> None:
    """Title, label and format both panels; the year axis on the bottom one."""
    for ax, key, formatter in panels:
        style.title(ax, style.labels[key], size="medium")
        ax.set_ylabel(style.labels[f"{key}.ylabel"], **style.fontkw)
        ax.yaxis.set_major_formatter(formatter)
    bottom = panels[-1][0]
    _year_axis(bottom, years)
    bottom.set_xlabel(style.labels["year"], **style.fontkw)
    fig.suptitle(style.labels[title], **style.fontkw, size="x-large")

"""Sector-price figure: orderly power use, over-quota water and credit surcharges by class.

Drawn by :func:`~simulator.plots.make_figures` only when the run's metrics hold at
least one of its metrics (:func:`sector_price_figures`), i.e. when a scenario
switches on orderly power use (有序用电), water quotas by class (以水定产) or the
environmental credit surcharges (环保信用评价), with the gas surcharge by class beside
them when gas is on. One panel per metric present, bars
per year stacked by the class in force (A-D and unrated), means over replications:

``orderly_curtailed_kwh``
    electricity cut in shortage months, GWh (low classes first: D, then C, ...);
``orderly_lost_va_wan_yuan``
    value added lost to the cuts, 万元;
``water_over_quota_m3``
    water used above the class-scaled quota, 10^3 m³;
``revenue_environmental_credit_yuan``
    electricity and sewage surcharges of red and black firms, 万元;
``revenue_gas_class_surcharge_yuan``
    the class surcharge on gas (差别化气价, ``tariffs.gas``), 万元 (a panel only
    when the figure is drawn for one of the others: gas alone has the resource bill).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from simulator.plots._style import (
    finish_panels,
    new_figure,
    no_data,
    panel_grid,
    panel_year_axis,
    style_for,
)
from simulator.plots.core import draw_class_bars
from simulator.plots.data import CLASSES, is_annual, replication_summary

__all__ = ["SECTOR_PRICE_FIGURES", "SECTOR_PRICE_PANELS", "plot_sector_prices",
           "sector_price_figures"]

#: The figure, drawn only when one of its metrics is present.
SECTOR_PRICE_FIGURES: tuple[str, ...] = ("sector_prices",)

#: Panel metrics in order, each with the divisor of its axis unit (kWh -> GWh, m³ -> 10^3 m³,
#: yuan -> 万元).
SECTOR_PRICE_PANELS: dict[str, float] = {
    "orderly_curtailed_kwh": 1e6,
    "orderly_lost_va_wan_yuan": 1.0,
    "water_over_quota_m3": 1e3,
    "revenue_environmental_credit_yuan": 1e4,
    "revenue_gas_class_surcharge_yuan": 1e4,
}


def sector_price_figures(metrics: pd.DataFrame) -> list[str]:
    """Return ``["sector_prices"]`` when ``metrics`` holds an annual row of one of its panels."""
    present = set(metrics.loc[is_annual(metrics), "metric"].unique())
    own = set(SECTOR_PRICE_PANELS) - {"revenue_gas_class_surcharge_yuan"}
    return list(SECTOR_PRICE_FIGURES) if present & own else []


def plot_sector_prices(metrics: pd.DataFrame, *, lang: str = "en",
                       fig: Figure | None = None) -> Figure:
    """Draw the sector-price panels present, stacked by class; return the Figure.

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"year": [2018] * 2, "month": [None] * 2, "replication": [0] * 2,
    ...                   "scenario": ["s"] * 2, "group": ["class=C", "class=D"],
    ...                   "metric": ["orderly_curtailed_kwh"] * 2, "value": [1e6, 3e6]})
    >>> fig = plot_sector_prices(m)
    >>> [ax.get_label() for ax in fig.axes if ax.get_label().startswith("sector_prices:")]
    ['sector_prices:orderly_curtailed_kwh']
    """
    style = style_for(lang)
    fig = fig if fig is not None else new_figure()
    present = set(metrics["metric"].unique())
    names = [m for m in SECTOR_PRICE_PANELS if m in present]
    panels, grid = panel_grid(fig, len(names))
    handles: dict[str, Any] = {}
    classes = (*CLASSES, "U")
    for (ax, bottom_row), metric in zip(panels, names, strict=False):
        ax.set_label(f"sector_prices:{metric}")
        summary = replication_summary(metrics, metric, groups=[f"class={c}" for c in classes],
                                      fill_value=0.0)
        if summary.empty:
            no_data(ax, style)
            continue
        summary = summary.assign(mean=summary["mean"] / SECTOR_PRICE_PANELS[metric])
        handles |= draw_class_bars(ax, summary, style, classes)
        # Zero-height bars on top are sticky edges: keep some room above the highest stack.
        top = summary.groupby("year")["mean"].sum().max()
        ax.set_ylim(0.0, top * 1.08 if top > 0 else 1.0)
        panel_year_axis(ax, np.sort(summary["year"].unique()))
        style.title(ax, style.labels[f"sector_prices.{metric}"], size="medium")
        if bottom_row:
            ax.set_xlabel(style.labels["year"], **style.fontkw)
    return finish_panels(fig, grid, panels, handles, style, title_key="sector_prices.title",
                         empty=not names)

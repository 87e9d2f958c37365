"""The heatmap of a grid sweep over two parameters (双参数网格扫描热力图).

A grid design holds every combination of the values of its parameters. With
exactly two parameters, each output is a table over (value of the first,
value of the second): a heatmap with one annotated cell per grid point (the
mean over its replications) shows it whole, where a scatter would stack the
points of one column on top of each other. Other designs (Latin hypercube,
Sobol) keep the scatter of :func:`~simulator.plots.sweep.sweep_scatter`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from simulator.plots._labels import parameter_label
from simulator.plots._style import (
    QUANTITY_FORMAT,
    new_figure,
    no_data,
    style_for,
    text_columns,
    wrap_label,
)

__all__ = ["grid_means", "plot_sweep_heatmap", "uses_heatmap"]

HEATMAP_CMAP = "viridis"


def uses_heatmap(experiment: Mapping[str, Any]) -> bool:
    """Return whether a sweep's figures draw a heatmap: a grid design over two parameters."""
    return experiment.get("design") == "grid" and len(experiment.get("parameters") or ()) == 2


def grid_means(outputs: pd.DataFrame, *, x: str, y: str, output: str) -> pd.DataFrame:
    """Return ``output``'s mean over replications at each grid point, ``y`` down, ``x`` across.

    Returns
    -------
    pandas.DataFrame
        Index: the values of ``y`` (ascending); columns: the values of ``x``
        (ascending); NaN where a grid point has no value.
    """
    means = outputs.groupby([y, x])[output].mean()
    return means.unstack(x).sort_index().sort_index(axis=1)


def plot_sweep_heatmap(outputs: pd.DataFrame, *, parameters: Sequence[str],
                       output_names: Sequence[str], lang: str = "en",
                       fig: Figure | None = None) -> Figure:
    """Draw one annotated heatmap per output over a two-parameter grid; return the Figure.

    The first parameter runs across (x), the second up (y); a cell's colour
    and number are the output's mean over the grid point's replications.
    """
    from simulator.plots.sweep import output_label

    style = style_for(lang)
    n = len(output_names)
    n_cols = min(max(n, 1), 2)
    fig = fig if fig is not None else new_figure(figsize=heatmap_figsize(n))
    if len(parameters) != 2 or not n:
        no_data(fig.add_subplot(), style)
        return fig
    x, y = parameters
    axes = fig.subplots(-(-n // n_cols), n_cols, squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    for ax, output in zip(axes.flat, output_names, strict=False):
        table = grid_means(outputs, x=x, y=y, output=output)
        values = table.to_numpy(dtype=float)
        image = ax.imshow(values, cmap=HEATMAP_CMAP, origin="lower", aspect="auto")
        finite = values[np.isfinite(values)]
        middle = (finite.min() + finite.max()) / 2 if finite.size else 0.0
        for (i, j), value in np.ndenumerate(values):
            if np.isfinite(value):
                ax.text(j, i, f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}",
                        ha="center", va="center", size="x-small",
                        color="black" if value > middle else "white")
        ax.set_xticks(range(table.shape[1]), [f"{v:g}" for v in table.columns], size="x-small")
        ax.set_yticks(range(table.shape[0]), [f"{v:g}" for v in table.index], size="x-small")
        ax.set_xlabel(axis_label(x, style.labels, style.lang, width=40), **style.fontkw,
                      size="small")
        ax.set_ylabel(axis_label(y, style.labels, style.lang, width=28), **style.fontkw,
                      size="small")
        style.title(ax, wrap_label(output_label(output, style.labels), 44), size="small")
        colorbar = fig.colorbar(image, ax=ax, format=QUANTITY_FORMAT)
        colorbar.ax.tick_params(labelsize="x-small")
    fig.suptitle(style.labels["sweep_heatmap.title"].format(n=len(outputs)), **style.fontkw,
                 size="large")
    return fig


def axis_label(path: str, labels: Mapping[str, str], lang: str, *, width: int = 40) -> str:
    """Return a parameter's axis label with its unit, wrapped to ``width`` columns.

    E.g. "Electricity surcharge, class D (yuan/kWh)"; the unit is never split.
    """
    label, unit = parameter_label(path, lang)
    text = wrap_label(label, width)
    if not unit:
        return text
    whole = labels["sweep_scatter.value"].format(label=text, unit=unit)
    if text_columns(whole.split("\n")[-1]) <= width:
        return whole
    return text + "\n" + labels["sweep_scatter.value"].format(label="", unit=unit).strip()


def heatmap_figsize(n_outputs: int) -> tuple[float, float]:
    """Page size for ``n_outputs`` heatmaps, two to a row."""
    return (10.0, max(4.8, 1.4 + 3.6 * -(-max(n_outputs, 1) // 2)))

"""The backtest figure: simulated paths against observed values, one panel per series.

Each panel shows the simulated quantity in every year of the history run (mean
over replications, 95% band) and the observed values as points, filled for
years the calibration fitted and open for held-out years; a cross marks an
observed year outside the series' tolerance.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.lines import Line2D

from simulator import catalogue
from simulator.plots._style import (
    add_source_line,
    legend_row,
    new_figure,
    page,
    panel_year_axis,
    save_all,
    style_for,
    wrap_label,
)

__all__ = ["plot_backtest"]

SIMULATED_COLOUR = "#0072B2"   # Okabe-Ito blue
OBSERVED_COLOUR = "#000000"
MISS_COLOUR = "#D55E00"        # Okabe-Ito vermillion

def plot_backtest(result, out_dir: Path, *, lang: str = "en", title: str = "",
                  formats: tuple[str, ...] = ("png", "svg")) -> list[Path]:
    """Draw a :class:`~simulator.calibration.backtest.BacktestResult`; save ``backtest.<fmt>``.

    Returns the paths written. ``out_dir`` is the language's figure folder, e.g.
    ``figure_dir(run_dir, lang)`` (:func:`~simulator.plots.figure_dir`).
    """
    with page():
        return _draw_backtest(result, Path(out_dir), lang=lang, title=title, formats=formats)


def _draw_backtest(result, out_dir: Path, *, lang: str, title: str,
                   formats: tuple[str, ...]) -> list[Path]:
    style = style_for(lang)
    text = catalogue.text(style.lang, "backtest")
    series = list(dict.fromkeys(result.paths["series"]))
    n = len(series)
    ncols = 4 if n > 6 else 3
    nrows = -(-n // ncols)
    fig = new_figure(figsize=(3.4 * ncols, 2.5 * nrows + 1.0))
    grid = fig.add_gridspec(nrows + 1, ncols, height_ratios=[*([1.0] * nrows), 0.001])
    table = result.table
    for i, name in enumerate(series):
        ax = fig.add_subplot(grid[i // ncols, i % ncols])
        path = result.paths[result.paths["series"] == name]
        years = path["year"].to_numpy()
        ax.plot(years, path["simulated"], color=SIMULATED_COLOUR, linewidth=1.5)
        ax.fill_between(years, path["ci_low"], path["ci_high"], color=SIMULATED_COLOUR,
                        alpha=0.2, linewidth=0)
        rows = table[table["series"] == name]
        for role, face in (("fitted", OBSERVED_COLOUR), ("held_out", "white")):
            r = rows[rows["role"] == role]
            ax.scatter(r["year"], r["observed"], s=28, zorder=3, facecolors=face,
                       edgecolors=OBSERVED_COLOUR, linewidths=1.2)
        miss = rows[~rows["within"]]
        ax.scatter(miss["year"], miss["observed"], s=60, marker="x", zorder=4,
                   color=MISS_COLOUR, linewidths=1.2)
        label = rows["label"].iloc[0] if len(rows) else name
        ax.set_title(wrap_label(label, 40), **style.fontkw, size="small")
        panel_year_axis(ax, np.asarray(years))
        ax.tick_params(labelsize="x-small")
        ax.grid(True, color="0.92")
    handles = {
        text["simulated"]: Line2D([], [], color=SIMULATED_COLOUR, linewidth=1.5),
        text["fitted"]: Line2D([], [], marker="o", linestyle="", color=OBSERVED_COLOUR),
        text["held_out"]: Line2D([], [], marker="o", linestyle="", markerfacecolor="white",
                                 markeredgecolor=OBSERVED_COLOUR),
        text["miss"]: Line2D([], [], marker="x", linestyle="", color=MISS_COLOUR),
    }
    legend_row(fig, grid, handles, style)
    fig.suptitle(text["title"].format(name=title, n=result.replications), **style.fontkw)
    source = style.labels["backtest_source"].format(file="data/observed/zhejiang.csv")
    add_source_line(fig, source, style)
    return save_all(fig, out_dir, "backtest", formats, source)

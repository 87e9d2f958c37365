"""Scenario-comparison figures (情景比较图表) drawn from an experiment directory.

A comparison's experiment directory holds ``experiment.json`` (kind, name,
scenarios in order with the reference first, replications, seed, version,
git revision), ``summary.csv`` (each scenario's mean over replications with
its t-based 95% CI, by group, metric and year) and ``differences.csv`` (each
scenario minus the reference, replication by replication on the same seeds,
with the t-based 95% CI of that paired difference). The figures are drawn
from these files only (read and prepared by :mod:`simulator.plots.experiment_data`).
:func:`compare_figures` writes to ``<exp_dir>/figures``:

``compare_indicators``
    one panel per key indicator (``simulator.results.summary.SUMMARY_ROWS``) found
    in the data: each scenario's mean over the years, with its CI as a band;
``compare_differences``
    each scenario's paired difference to the reference in the end year, in %
    of the reference's mean, with its CI;
``compare_class_shares``
    the shares of classes A-D among evaluated firms in the end year, one
    stacked bar per scenario.

With one replication there is no CI: no band, no error bars, and the caption
says "single replication".
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from simulator.plots._style import (
    COLOURS,
    QUANTITY_FORMAT,
    Style,
    add_source_line,
    check_formats,
    legend_right,
    legend_row,
    new_figure,
    no_data,
    panel_year_axis,
    save_all,
    scenario_styles,
    style_for,
    wrap_label,
)
from simulator.plots.data import CLASSES
from simulator.plots.experiment_data import (
    CLASS_SHARE_METRIC,
    DIFFERENCE_COLUMNS,
    FIRMS_METRIC,
    SUMMARY_COLUMNS,
    Indicator,
    check_unique,
    class_shares,
    experiment_source_line,
    has_ci,
    key_indicators,
    percent_differences,
    read_experiment,
    read_experiment_table,
    replication_count,
    scenario_order,
)

# With every public name of simulator.plots.experiment_data (once part of this module).
__all__ = [
    "CLASS_SHARE_METRIC",
    "COMPARE_FIGURES",
    "DIFFERENCE_COLUMNS",
    "FIRMS_METRIC",
    "SUMMARY_COLUMNS",
    "Indicator",
    "check_unique",
    "class_shares",
    "compare_figures",
    "experiment_source_line",
    "has_ci",
    "key_indicators",
    "percent_differences",
    "plot_class_shares",
    "plot_compare_differences",
    "plot_compare_indicators",
    "read_experiment",
    "read_experiment_table",
    "replication_count",
    "scenario_order",
]

logger = logging.getLogger(__name__)

#: Figure names, in the order :func:`compare_figures` draws them.
COMPARE_FIGURES: tuple[str, ...] = (
    "compare_indicators", "compare_differences", "compare_class_shares")
#: Values of at least this size are drawn in units of 10^4 (万) to keep tick labels short.
TEN_THOUSAND_FROM = 1e6


# ---------------------------------------------------------------- drawing


def plot_compare_indicators(summary: pd.DataFrame, *, scenarios: Sequence[str],
                            indicators: Sequence[Indicator], lang: str = "en",
                            fig: Figure | None = None) -> Figure:
    """Draw one panel per key indicator, one line per scenario; return the Figure.

    Each line is a scenario's mean over replications by year; with two or
    more replications its 95% CI is a translucent band. An indicator without
    rows in ``summary`` gets no panel; one shared legend names the scenarios
    (the first is the reference).
    """
    style = style_for(lang)
    indicators = [i for i in indicators if not _rows(summary, i[0], i[1]).empty]
    fig = fig if fig is not None else new_figure(figsize=indicators_figsize(len(indicators)))
    n_rows, n_cols = _grid_shape(len(indicators))
    grid = fig.add_gridspec(n_rows + 1, n_cols, height_ratios=[*([1.0] * n_rows), 0.001])
    looks = scenario_styles(scenarios)
    years = np.sort(summary["year"].unique())
    handles: dict[str, Any] = {}
    first: Axes | None = None
    for i, (metric, group, label) in enumerate(indicators or [("", "", "")]):
        ax = fig.add_subplot(grid[divmod(i, n_cols)], sharex=first)
        first = first or ax
        if not indicators:
            no_data(ax, style)
            break
        rows = _rows(summary, metric, group)
        factor = 1e-4 if rows[["mean", "ci_high"]].abs().max().max() >= TEN_THOUSAND_FROM else 1
        for name in scenarios:
            sub = rows[rows["scenario"] == name].dropna(subset=["mean"]).sort_values("year")
            if sub.empty:
                continue
            look = looks[name]
            (line,) = ax.plot(sub["year"], sub["mean"] * factor, markersize=3.5, linewidth=1.4,
                              **look)
            if (sub["n"] >= 2).any():
                ax.fill_between(sub["year"], sub["ci_low"] * factor, sub["ci_high"] * factor,
                                color=look["color"], alpha=0.15, linewidth=0)
            handles[_scenario_label(name, scenarios, style)] = line
        style.title(ax, wrap_label(indicator_label(metric, group, label, style.labels), 34),
                    size="small")
        ax.set_ylabel(_unit(metric, style.labels, ten_thousand=factor != 1), **style.fontkw,
                      size="small")
        ax.yaxis.set_major_formatter(QUANTITY_FORMAT)
        ax.tick_params(labelsize="x-small")
        panel_year_axis(ax, years)
        if i + n_cols < len(indicators):
            ax.tick_params(labelbottom=False)
    fig.suptitle(style.labels["compare_indicators.title"], **style.fontkw, size="x-large")
    legend_row(fig, grid, handles, style, ncols=min(len(handles), 4) or None)
    return fig


def plot_compare_differences(table: pd.DataFrame, *, scenarios: Sequence[str], reference: str,
                             year: int, lang: str = "en", ax: Axes | None = None) -> Axes:
    """Draw the paired differences to the reference as horizontal bars; return the Axes.

    ``table`` is :func:`percent_differences`. Indicators run down the y-axis,
    one bar per scenario in its colour (as in the indicator panels), with the
    CI as an error bar when there is one and the value written beside it.
    """
    style = style_for(lang)
    ax = ax if ax is not None else new_figure(
        figsize=differences_figsize(table)).add_subplot()
    title = ("compare_differences.title_none" if table.empty
             else "compare_differences.title" if has_ci(table)
             else "compare_differences.title_single")
    style.title(ax, style.labels[title].format(reference=reference, year=year,
                                               n=replication_count(table)))
    if table.empty:
        ax.set_xticks([])
        ax.set_yticks([])
        no_data(ax, style)
        ax.text(0.5, 0.4, style.labels["compare_differences.none"], transform=ax.transAxes,
                ha="center", color="0.5", **style.fontkw)
        return ax
    looks = scenario_styles(scenarios)
    compared = [s for s in scenarios if s in set(table["scenario"])]
    indicators = list(dict.fromkeys(zip(table["metric"], table["group"], table["label"],
                                        strict=True)))
    slot = 1.0 / (len(compared) + 0.6)  # bar pitch within one indicator's band of height 1
    drawn: dict[str, Any] = {}
    for k, (metric, group, _label) in enumerate(indicators):
        rows = table[(table["metric"] == metric) & (table["group"] == group)]
        for j, name in enumerate(compared):
            row = rows[rows["scenario"] == name]
            if row.empty:
                continue
            r = row.iloc[0]
            y = k + (j - (len(compared) - 1) / 2) * slot
            if not np.isfinite(r["pct"]):
                ax.text(0, y, " " + style.labels["compare_differences.na"], va="center",
                        size="x-small", color="0.4", **style.fontkw)
                continue
            bar = ax.barh(y, r["pct"], height=slot * 0.85, color=looks[name]["color"])
            drawn.setdefault(_scenario_label(name, scenarios, style), bar)
            has_bar = np.isfinite(r["pct_low"]) and np.isfinite(r["pct_high"])
            if has_bar:
                ax.errorbar(r["pct"], y, xerr=[[r["pct"] - r["pct_low"]],
                                               [r["pct_high"] - r["pct"]]],
                            fmt="none", ecolor="0.25", elinewidth=1, capsize=2.5)
            end = (r["pct_high"] if r["pct"] >= 0 else r["pct_low"]) if has_bar else r["pct"]
            ax.annotate(_percent_text(r["pct"]), (end, y), xytext=(4 if r["pct"] >= 0 else -4, 0),
                        textcoords="offset points", va="center", size="x-small",
                        ha="left" if r["pct"] >= 0 else "right")
        if k:
            ax.axhline(k - 0.5, color="0.9", linewidth=0.8)
    ax.axvline(0, color="black", linewidth=1)
    ax.set_yticks(range(len(indicators)),
                  [wrap_label(indicator_label(m, g, lb, style.labels), 30)
                   for m, g, lb in indicators], **style.fontkw, size="small")
    ax.set_ylim(len(indicators) - 0.5, -0.5)
    ax.set_xlim(*_padded_limits(table))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:g}%"))
    ax.set_xlabel(style.labels["compare_differences.xlabel"], **style.fontkw)
    ax.grid(axis="x", color="0.92")
    ax.set_axisbelow(True)
    if drawn:
        ax.legend(drawn.values(), drawn.keys(), loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  prop=style.legend_font(), frameon=False)
    return ax


def plot_class_shares(shares: pd.DataFrame, *, year: int, reference: str | None = None,
                      lang: str = "en", ax: Axes | None = None) -> Axes:
    """Draw each scenario's class shares A-D as a 100% stacked bar; return the Axes.

    ``shares`` is :func:`class_shares`; scenarios run down the y-axis in its
    order (``reference`` marked as such), each segment labelled with its share.
    """
    style = style_for(lang)
    scenarios = list(dict.fromkeys(shares["scenario"]))
    ax = ax if ax is not None else new_figure(
        figsize=class_shares_figsize(len(scenarios))).add_subplot()
    style.title(ax, style.labels["compare_class_shares.title"].format(year=year))
    if shares.empty:
        no_data(ax, style)
        return ax
    left = np.zeros(len(scenarios))
    for c in CLASSES:
        widths = (shares[shares["klass"] == c].set_index("scenario")["share"]
                  .reindex(scenarios).fillna(0.0).to_numpy())
        ax.barh(range(len(scenarios)), widths, left=left, height=0.6, color=COLOURS[c],
                edgecolor="white", linewidth=0.8, label=style.labels[f"class.{c}"])
        for y, (x0, w) in enumerate(zip(left, widths, strict=True)):
            if w >= 0.04:  # narrower segments have no room for a label
                ax.text(x0 + w / 2, y, f"{w:.0%}", ha="center", va="center", size="small",
                        color="black" if c == "C" else "white")
        left += widths
    ax.set_yticks(range(len(scenarios)),
                  [_scenario_label(s, [reference or ""], style, width=24) for s in scenarios],
                  **({"fontproperties": style.source_font} if style.source_font else {}))
    ax.set_ylim(len(scenarios) - 0.5, -0.5)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1))
    ax.set_xlabel(style.labels["compare_class_shares.xlabel"], **style.fontkw)
    legend_right(ax, style)
    return ax


# ---------------------------------------------------------------- the figure set


def compare_figures(exp_dir: str | Path, *, lang: str = "en",
                    formats: Sequence[str] = ("png", "svg")) -> list[Path]:
    """Draw the comparison figures of an experiment directory; return the files written.

    Parameters
    ----------
    exp_dir : str or Path
        Directory holding ``experiment.json``, ``summary.csv`` and
        ``differences.csv`` of a comparison.
    lang : {"en", "zh"}
        Label language. Chinese needs a CJK font; without one a
        :class:`~simulator.plots.CJKFontWarning` is issued and English labels are used.
    formats : sequence of str
        File formats, e.g. ``("png", "svg")``.

    Returns
    -------
    list of Path
        ``<exp_dir>/figures/<figure>.<format>`` for each of :data:`COMPARE_FIGURES`
        and each format.
    """
    exp_dir = Path(exp_dir)
    experiment = read_experiment(exp_dir)
    summary = read_experiment_table(exp_dir, "summary.csv", SUMMARY_COLUMNS)
    differences = read_experiment_table(exp_dir, "differences.csv", DIFFERENCE_COLUMNS)
    check_unique(summary, ("scenario", "group", "metric", "year"), "summary.csv")
    check_unique(differences, ("scenario", "group", "metric", "year"), "differences.csv")
    formats = check_formats(formats)
    style = style_for(lang)  # warns once here; the figures then get a language that works
    source = experiment_source_line(experiment, lang=style.lang)
    scenarios = scenario_order(experiment, summary)
    reference = scenarios[0]
    year = int(summary["year"].max())
    indicators = key_indicators(summary)
    table = percent_differences(summary, differences, reference=reference, year=year,
                                indicators=indicators)
    shares = class_shares(summary, year=year, scenarios=scenarios)
    single = style.labels["single_replication"]
    notes = [style.labels["compare_class_shares.derived"]] if shares["derived"].any() else []
    half = (shares["ci_high"] - shares["ci_low"]).max() / 2 * 100  # percentage points
    if np.isfinite(half):
        notes.append(style.labels["compare_class_shares.ci"].format(pp=half))
    elif not has_ci(summary):
        notes.append(single)
    figures = {
        "compare_indicators": (
            lambda fig: plot_compare_indicators(summary, scenarios=scenarios,
                                                indicators=indicators, lang=style.lang, fig=fig),
            indicators_figsize(len(indicators)),
            [style.labels["compare_indicators.band"].format(n=replication_count(summary))
             if has_ci(summary) else single]),
        "compare_differences": (
            lambda fig: plot_compare_differences(table, scenarios=scenarios, reference=reference,
                                                 year=year, lang=style.lang,
                                                 ax=fig.add_subplot()),
            differences_figsize(table), [] if table.empty or has_ci(table) else [single]),
        "compare_class_shares": (
            lambda fig: plot_class_shares(shares, year=year, reference=reference,
                                          lang=style.lang,
                                          ax=fig.add_subplot()),
            class_shares_figsize(len(scenarios)), notes),
    }
    written: list[Path] = []
    for name, (draw, figsize, caption) in figures.items():
        fig = new_figure(figsize=figsize)
        try:
            draw(fig)
            line = " · ".join([source, *caption])
            add_source_line(fig, line, style)
            written += save_all(fig, exp_dir / "figures", name, formats, line)
        finally:
            fig.clear()
    return written


# ---------------------------------------------------------------- sizes and helpers


def indicators_figsize(n_panels: int) -> tuple[float, float]:
    """Page size for ``n_panels`` indicator panels: 10 in wide (12 with four columns)."""
    n_rows, n_cols = _grid_shape(n_panels)
    return (12.0 if n_cols == 4 else 10.0, max(6.0, 1.4 + 2.3 * n_rows))


def differences_figsize(table: pd.DataFrame) -> tuple[float, float]:
    """Page size for the difference bars: taller with more bars, 6 to 16 in."""
    n_bars, n_indicators = len(table), table[["metric", "group"]].drop_duplicates().shape[0]
    return (10.0, float(np.clip(1.6 + 0.17 * n_bars + 0.2 * n_indicators, 6.0, 16.0)))


def class_shares_figsize(n_scenarios: int) -> tuple[float, float]:
    """Page size for ``n_scenarios`` stacked bars."""
    return (10.0, max(4.5, 2.4 + 0.55 * n_scenarios))


def indicator_label(metric: str, group: str, fallback: str, labels: dict[str, str]) -> str:
    """Return the panel title of a key indicator, e.g. "Tax per mu, above-scale".

    ``fallback`` (the label of ``SUMMARY_ROWS``) is used for a metric or
    group without label text.
    """
    if metric in labels and f"group.{group}" in labels:
        return labels["indicator.in_group"].format(metric=labels[metric],
                                                   group=labels[f"group.{group}"])
    return fallback


def _unit(metric: str, labels: dict[str, str], *, ten_thousand: bool) -> str:
    unit = labels.get(f"{metric}.unit", "")
    return labels["unit.10k"].format(unit=unit) if ten_thousand and unit else unit


def _rows(summary: pd.DataFrame, metric: str, group: str) -> pd.DataFrame:
    return summary[(summary["metric"] == metric) & (summary["group"] == group)
                   & summary["mean"].notna()]


def _grid_shape(n: int) -> tuple[int, int]:
    """Rows and columns for ``n`` panels: up to 2, 3 or 4 columns as ``n`` grows."""
    n = max(n, 1)
    n_cols = n if n <= 2 else 2 if n <= 4 else 3 if n <= 9 else 4
    return -(-n // n_cols), n_cols


def _scenario_label(name: str, scenarios: Sequence[str], style: Style, *,
                    width: int = 28) -> str:
    """Return the scenario's name, marked as the reference if first in ``scenarios``."""
    text = style.labels["reference"].format(name=name) if name == scenarios[0] else name
    return wrap_label(text, width)


def _percent_text(value: float) -> str:
    if value == 0:
        return "0%"
    return f"{value:+.2f}%" if abs(value) < 0.05 else f"{value:+.1f}%"


def _padded_limits(table: pd.DataFrame) -> tuple[float, float]:
    """X limits holding every bar, error bar and value label, and zero."""
    values = table[["pct", "pct_low", "pct_high"]].to_numpy(dtype=float)
    values = np.append(values[np.isfinite(values)], 0.0)
    low, high = values.min(), values.max()
    span = (high - low) or 1.0
    return (low - 0.18 * span if low < 0 else -0.02 * span,
            high + 0.18 * span if high > 0 else 0.02 * span)


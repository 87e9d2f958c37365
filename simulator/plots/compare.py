"""Scenario-comparison figures (情景比较图表) drawn from an experiment directory.

A comparison's experiment directory holds ``experiment.json`` (kind, name,
scenarios in order with the reference first, replications, seed, version,
git revision), ``summary.csv`` (each scenario's mean over replications with
its t-based 95% CI, by group, metric and year) and ``differences.csv`` (each
scenario minus the reference, replication by replication on the same seeds,
with the t-based 95% CI of that paired difference). The figures are drawn
from these files only (read and prepared by :mod:`simulator.plots.experiment_data`).
:func:`compare_figures` writes to ``<exp_dir>/figures``:

``compare_effects``
    one panel per key indicator (``simulator.results.summary.SUMMARY_ROWS``)
    that differs between the scenarios: each variant's paired difference to
    the reference over the years, with its 95% interval as a band
    (:func:`~simulator.plots.effects.plot_compare_effects`);
``compare_differences``
    the end year's paired differences, one small panel per indicator on its
    own scale, each value also in % of the reference's mean;
``compare_by_class``
    the end year's paired differences by evaluation class A-D: resource bill
    per 万元 of value added, value added and tax per mu;
``compare_indicators``
    the levels (secondary view): each scenario's mean over the years, one
    panel per key indicator, with its CI as a band.

Indicators identical in every replication (the firm counts by class, fixed by
grading on quantiles) get no difference panel; the caption names them. The
class-share comparison of earlier versions is gone for the same reason: the
shares are identical by construction. Dashed vertical lines mark the months in
which a scenario's timeline changes something (:mod:`simulator.plots.policy`).
Significant differences (95% interval excludes zero) are in strong colour,
others grey ("no detectable effect"). With one replication there is no
interval: lines and points without band, and the caption says so.
English figures go to ``<exp_dir>/figures``, others to ``<exp_dir>/figures/<lang>``
(:func:`~simulator.plots.figure_dir`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from simulator.plots._style import (
    QUANTITY_FORMAT,
    add_source_line,
    check_formats,
    figure_dir,
    legend_row,
    mark_policy_dates,
    new_figure,
    no_data,
    page,
    panel_year_axis,
    save_all,
    scenario_styles,
    style_for,
    wrap_label,
)
from simulator.plots.effects import (
    TEN_THOUSAND_FROM,
    differences_figsize,
    effects_figsize,
    grid_shape,
    indicator_label,
    plot_compare_by_class,
    plot_compare_differences,
    plot_compare_effects,
    scenario_label,
    unit_label,
)
from simulator.plots.experiment_data import (
    BY_CLASS_METRICS,
    DIFFERENCE_COLUMNS,
    SUMMARY_COLUMNS,
    Indicator,
    check_unique,
    class_effects,
    difference_paths,
    experiment_source_line,
    has_ci,
    identical_indicators,
    key_indicators,
    percent_differences,
    read_experiment,
    read_experiment_table,
    replication_count,
    scenario_order,
    significant,
)
from simulator.plots.policy import experiment_policy_dates, policy_caption

# With every public name of simulator.plots.experiment_data (once part of this module).
__all__ = [
    "BY_CLASS_METRICS",
    "COMPARE_FIGURES",
    "DIFFERENCE_COLUMNS",
    "SUMMARY_COLUMNS",
    "Indicator",
    "check_unique",
    "class_effects",
    "compare_figures",
    "difference_paths",
    "experiment_source_line",
    "has_ci",
    "identical_indicators",
    "key_indicators",
    "percent_differences",
    "plot_compare_by_class",
    "plot_compare_differences",
    "plot_compare_effects",
    "plot_compare_indicators",
    "read_experiment",
    "read_experiment_table",
    "replication_count",
    "scenario_order",
]

logger = logging.getLogger(__name__)

#: Figure names, in the order :func:`compare_figures` draws them (the effects first).
COMPARE_FIGURES: tuple[str, ...] = (
    "compare_effects", "compare_differences", "compare_by_class", "compare_indicators")


# ---------------------------------------------------------------- drawing


def plot_compare_indicators(summary: pd.DataFrame, *, scenarios: Sequence[str],
                            indicators: Sequence[Indicator], dates: Sequence[Any] = (),
                            lang: str = "en", fig: Figure | None = None) -> Figure:
    """Draw one panel per key indicator, one line per scenario; return the Figure.

    Each line is a scenario's mean over replications by year; with two or
    more replications its 95% CI is a translucent band. An indicator without
    rows in ``summary`` gets no panel; one shared legend names the scenarios
    (the first is the reference). ``dates`` (policy changes) are marked.
    """
    style = style_for(lang)
    indicators = [i for i in indicators if not _rows(summary, i[0], i[1]).empty]
    fig = fig if fig is not None else new_figure(figsize=indicators_figsize(len(indicators)))
    n_rows, n_cols = grid_shape(len(indicators))
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
            handles[scenario_label(name, scenarios, style)] = line
        style.title(ax, wrap_label(indicator_label(metric, group, label, style.labels), 34),
                    size="small")
        ax.set_ylabel(unit_label(metric, style.labels, ten_thousand=factor != 1), **style.fontkw,
                      size="small")
        ax.yaxis.set_major_formatter(QUANTITY_FORMAT)
        ax.tick_params(labelsize="x-small")
        mark_policy_dates(ax, dates, style, annual=True, label=i < n_cols)
        panel_year_axis(ax, years)
        if i + n_cols < len(indicators):
            ax.tick_params(labelbottom=False)
    fig.suptitle(style.labels["compare_indicators.title"], **style.fontkw, size="large")
    legend_row(fig, grid, handles, style, ncols=min(len(handles), 4) or None)
    return fig



# ---------------------------------------------------------------- the figure set


def compare_figures(exp_dir: str | Path, *, lang: str = "en",
                    formats: Sequence[str] = ("png", "svg")) -> list[Path]:
    """Draw the comparison figures of an experiment directory; return the files written.

    Parameters
    ----------
    exp_dir : str or Path
        Directory holding ``experiment.json``, ``summary.csv`` and
        ``differences.csv`` of a comparison (and ``scenarios/<name>.yaml``,
        whose timelines give the policy dates marked).
    lang : {"en", "zh"}
        Label language. Chinese needs a CJK font; without one a
        :class:`~simulator.plots.CJKFontWarning` is issued and English labels are used.
    formats : sequence of str
        File formats, e.g. ``("png", "svg")``.

    Returns
    -------
    list of Path
        ``<figure_dir>/<figure>.<format>`` for each of :data:`COMPARE_FIGURES`
        and each format, ``figure_dir`` being :func:`~simulator.plots.figure_dir`
        (``<exp_dir>/figures``, or ``<exp_dir>/figures/zh`` for Chinese).
    """
    exp_dir = Path(exp_dir)
    experiment = read_experiment(exp_dir)
    summary = read_experiment_table(exp_dir, "summary.csv", SUMMARY_COLUMNS)
    differences = read_experiment_table(exp_dir, "differences.csv", DIFFERENCE_COLUMNS)
    check_unique(summary, ("scenario", "group", "metric", "year"), "summary.csv")
    check_unique(differences, ("scenario", "group", "metric", "year"), "differences.csv")
    formats = check_formats(formats)
    style = style_for(lang)  # warns once here; the figures then get a language that works
    scenarios = scenario_order(experiment, summary)
    reference, year = scenarios[0], int(summary["year"].max())
    dates = experiment_policy_dates(exp_dir, scenarios, lang=style.lang)
    indicators = key_indicators(summary)
    same = identical_indicators(differences, reference=reference, indicators=indicators)
    differing = [i for i in indicators if i not in same]
    paths = difference_paths(differences, reference=reference, indicators=differing)
    table = percent_differences(summary, differences, reference=reference, year=year,
                                indicators=differing)
    table["significant"] = significant(table)
    by_class = class_effects(differences, reference=reference, year=year)
    notes = _effect_notes(paths, same, style.labels, key="compare_effects.band")
    whiskers = _effect_notes(paths, same, style.labels, key="compare_effects.whiskers")
    dated = [policy_caption(dates, lang=style.lang, name_scenarios=len(scenarios) > 2)]
    figures: dict[str, tuple[Callable[[Figure], object], tuple[float, float], list[str]]] = {
        "compare_effects": (
            lambda fig: plot_compare_effects(paths, scenarios=scenarios, dates=dates,
                                             lang=style.lang, fig=fig),
            effects_figsize(len(differing)), [*notes, *dated]),
        "compare_differences": (
            lambda fig: plot_compare_differences(table, scenarios=scenarios, year=year,
                                                 lang=style.lang, fig=fig),
            differences_figsize(len(differing), len(scenarios) - 1), whiskers),
        "compare_by_class": (
            lambda fig: plot_compare_by_class(by_class, scenarios=scenarios, year=year,
                                              lang=style.lang, fig=fig),
            (10.0, 4.6), whiskers[:1]),
        "compare_indicators": (
            lambda fig: plot_compare_indicators(summary, scenarios=scenarios,
                                                indicators=indicators, dates=dates,
                                                lang=style.lang, fig=fig),
            indicators_figsize(len(indicators)),
            [style.labels["compare_indicators.band"].format(n=replication_count(summary))
             if has_ci(summary) else style.labels["single_replication"], *dated]),
    }
    source = experiment_source_line(experiment, lang=style.lang)
    out_dir = figure_dir(exp_dir, style.lang)
    written: list[Path] = []
    for name, (draw, figsize, caption) in figures.items():
        with page():
            fig = new_figure(figsize=figsize)
            try:
                draw(fig)
                line = " · ".join([source, *(c for c in caption if c)])
                add_source_line(fig, line, style)
                written += save_all(fig, out_dir, name, formats, line)
            finally:
                fig.clear()
    return written


def _effect_notes(paths: pd.DataFrame, same: Sequence[Indicator], labels: dict[str, str], *,
                  key: str) -> list[str]:
    """Caption notes of the difference figures: the interval (text ``key``), what is not drawn."""
    notes = [] if paths.empty else [
        labels[key].format(n=replication_count(paths)) if has_ci(paths)
        else labels["compare_effects.single"]]
    if same:
        names = [indicator_label(m, g, lb, labels) for m, g, lb in same]
        notes.append(labels["compare_effects.identical"].format(names="; ".join(names)))
    return notes


# ---------------------------------------------------------------- sizes and helpers


def indicators_figsize(n_panels: int) -> tuple[float, float]:
    """Page size for ``n_panels`` level panels, 10 in wide."""
    n_rows, _ = grid_shape(n_panels)
    return (10.0, max(5.0, 1.6 + 2.4 * n_rows))


def _rows(summary: pd.DataFrame, metric: str, group: str) -> pd.DataFrame:
    return summary[(summary["metric"] == metric) & (summary["group"] == group)
                   & summary["mean"].notna()]

"""Paired-effect figures of a comparison (配对差异图): what a variant changes, with its interval.

Every figure here draws the paired difference variant - reference
(replication by replication on the same seeds) and its t-based 95% interval
(:func:`~simulator.plots.experiment_data.difference_paths`). A difference
whose interval excludes zero is drawn in strong colour with filled markers;
one whose interval includes zero is grey with open markers, labelled "no
detectable effect". With one replication there is no interval: the line or
point is drawn without one and the caption says so.

``plot_compare_effects``
    one panel per key indicator, the difference over the years;
``plot_compare_differences``
    the end year, one small panel per indicator on its own scale (so that
    one wide interval does not flatten the others), the value also in % of
    the reference;
``plot_compare_by_class``
    the end year by evaluation class A-D, for the metrics of
    :data:`~simulator.plots.experiment_data.BY_CLASS_METRICS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from simulator.plots._style import (
    COLOURS,
    QUANTITY_FORMAT,
    Style,
    legend_row,
    mark_policy_dates,
    new_figure,
    no_data,
    panel_year_axis,
    scenario_styles,
    style_for,
    wrap_label,
)
from simulator.plots.data import CLASSES

__all__ = [
    "MUTED",
    "TEN_THOUSAND_FROM",
    "grid_shape",
    "indicator_label",
    "plot_compare_by_class",
    "plot_compare_differences",
    "plot_compare_effects",
    "scenario_label",
    "unit_label",
]

#: Colour of a difference whose interval includes zero (no detectable effect).
MUTED = "#9A9A9A"
#: Values of at least this size are drawn in units of 10^4 (万) to keep tick labels short.
TEN_THOUSAND_FROM = 1e6


def plot_compare_effects(paths: pd.DataFrame, *, scenarios: Sequence[str],
                         dates: Sequence[Any] = (), lang: str = "en",
                         fig: Figure | None = None) -> Figure:
    """Draw each indicator's paired difference to the reference over the years; return the Figure.

    ``paths`` is :func:`~simulator.plots.experiment_data.difference_paths`; one
    panel per indicator in its order, one line per scenario (the reference,
    first of ``scenarios``, is the zero line). The band is the 95% interval;
    a year whose interval excludes zero has a filled marker, else an open grey
    one, and a scenario with no such year is drawn grey throughout.
    ``dates`` (:class:`~simulator.plots.policy.PolicyDate`) are marked.
    """
    style = style_for(lang)
    indicators = list(dict.fromkeys(zip(paths["metric"], paths["group"], paths["label"],
                                        strict=True)))
    fig = fig if fig is not None else new_figure(figsize=effects_figsize(len(indicators)))
    n_rows, n_cols = grid_shape(len(indicators))
    grid = fig.add_gridspec(n_rows + 1, n_cols, height_ratios=[*([1.0] * n_rows), 0.001])
    looks = scenario_styles(scenarios)
    years = np.sort(paths["year"].unique()) if len(paths) else np.array([], dtype=int)
    handles: dict[str, Any] = {}
    first: Axes | None = None
    for i, (metric, group, label) in enumerate(indicators or [("", "", "")]):
        ax = fig.add_subplot(grid[divmod(i, n_cols)], sharex=first)
        ax.set_label(f"effect:{metric}[{group}]")
        first = first or ax
        if not indicators:
            no_data(ax, style)
            break
        rows = paths[(paths["metric"] == metric) & (paths["group"] == group)]
        factor = _factor(rows[["difference", "ci_low", "ci_high"]])
        ax.axhline(0.0, color="black", linewidth=0.8, zorder=1)
        for name in (s for s in scenarios[1:] if s in set(rows["scenario"])):
            sub = rows[rows["scenario"] == name].sort_values("year")
            handles |= _effect_line(ax, sub, factor, looks[name]["color"],
                                    scenario_label(name, scenarios, style), style,
                                    several=len(scenarios) > 2)
        mark_policy_dates(ax, dates, style, annual=True, label=i < n_cols)
        style.title(ax, wrap_label(indicator_label(metric, group, label, style.labels), 34),
                    size="small")
        ax.set_ylabel(wrap_label(_difference_unit(metric, style, factor), 22), **style.fontkw,
                      size="x-small")
        ax.yaxis.set_major_formatter(QUANTITY_FORMAT)
        ax.tick_params(labelsize="x-small")
        panel_year_axis(ax, years)
        if i + n_cols < len(indicators):
            ax.tick_params(labelbottom=False)
    fig.suptitle(wrap_label(style.labels["compare_effects.title"].format(
        reference=scenarios[0]), 76), **style.fontkw, size="large")
    handles |= significance_handles(style, has_ci=bool((paths["n"] >= 2).any()))
    legend_row(fig, grid, handles, style, ncols=min(len(handles), 3) or None)
    return fig


def _effect_line(ax: Axes, sub: pd.DataFrame, factor: float, colour: str, name: str,
                 style: Style, *, several: bool) -> dict[str, Any]:
    """Draw one scenario's difference path: band, line, filled/open markers by significance."""
    x = sub["year"].to_numpy()
    y = sub["difference"].to_numpy(dtype=float) * factor
    hit = sub["significant"].to_numpy(dtype=bool)
    has_ci = bool((sub["n"] >= 2).any())
    shown = colour if hit.any() or not has_ci else MUTED
    if has_ci:
        ax.fill_between(x, sub["ci_low"] * factor, sub["ci_high"] * factor, color=shown,
                        alpha=0.18, linewidth=0, zorder=2)
    (line,) = ax.plot(x, y, color=shown, linewidth=1.6, zorder=3)
    if has_ci:
        ax.plot(x[hit], y[hit], linestyle="none", marker="o", markersize=4.5, color=shown,
                zorder=4, gid="significant")
        ax.plot(x[~hit], y[~hit], linestyle="none", marker="o", markersize=4.5,
                markerfacecolor="white", markeredgecolor=MUTED, zorder=4, gid="not_significant")
    else:
        ax.plot(x, y, linestyle="none", marker="o", markersize=3.5, color=shown, zorder=4)
    return {name: Line2D([], [], color=colour, linewidth=1.6)} if several else {}


def significance_handles(style: Style, *, has_ci: bool) -> dict[str, Any]:
    """Legend entries that explain filled and open markers (or the missing interval)."""
    if not has_ci:
        return {style.labels["compare_effects.undetermined"]: Line2D(
            [], [], color="0.2", marker="o", markersize=4, linewidth=1.6)}
    return {
        style.labels["compare_effects.significant"]: Line2D(
            [], [], color="0.2", marker="o", markersize=5, linestyle="none"),
        style.labels["compare_effects.not_significant"]: Line2D(
            [], [], color=MUTED, marker="o", markersize=5, linestyle="none",
            markerfacecolor="white", markeredgecolor=MUTED),
    }


def plot_compare_differences(table: pd.DataFrame, *, scenarios: Sequence[str], year: int,
                             lang: str = "en", fig: Figure | None = None) -> Figure:
    """Draw the end-year paired differences, one small panel per indicator; return the Figure.

    ``table`` is :func:`~simulator.plots.experiment_data.percent_differences`
    with a ``significant`` column. Each panel has its own scale, in the
    indicator's unit, and one point per scenario with its 95% interval,
    labelled with the value and its share of the reference's mean.
    """
    style = style_for(lang)
    indicators = list(dict.fromkeys(zip(table["metric"], table["group"], table["label"],
                                        strict=True)))
    fig = fig if fig is not None else new_figure(figsize=differences_figsize(len(indicators)))
    n_rows, n_cols = grid_shape(len(indicators), most=3)
    grid = fig.add_gridspec(n_rows + 1, n_cols, height_ratios=[*([1.0] * n_rows), 0.001])
    looks = scenario_styles(scenarios)
    compared = [s for s in scenarios[1:] if s in set(table["scenario"])]
    for i, (metric, group, label) in enumerate(indicators or [("", "", "")]):
        ax = fig.add_subplot(grid[divmod(i, n_cols)])
        ax.set_label(f"difference:{metric}[{group}]")
        if not indicators:
            no_data(ax, style)
            ax.text(0.5, 0.35, style.labels["compare_differences.none"], transform=ax.transAxes,
                    ha="center", color="0.5", **style.fontkw)
            ax.set_xticks([])
            ax.set_yticks([])
            break
        rows = table[(table["metric"] == metric) & (table["group"] == group)]
        factor = _factor(rows[["difference", "ci_low", "ci_high"]])
        for j, name in enumerate(compared):
            row = rows[rows["scenario"] == name]
            if len(row):
                _difference_point(ax, row.iloc[0], -j, factor, looks[name]["color"], style)
        ax.axvline(0.0, color="black", linewidth=0.8)
        _pad_x(ax)
        ax.set_ylim(-len(compared) + 0.4, 0.75)
        ax.set_yticks([])  # scenarios are told apart by colour, named in the legend
        ax.xaxis.set_major_formatter(QUANTITY_FORMAT)
        ax.tick_params(axis="x", labelsize="x-small")
        ax.locator_params(axis="x", nbins=4)
        style.title(ax, wrap_label(indicator_label(metric, group, label, style.labels), 30),
                    size="x-small")
        ax.set_xlabel(wrap_label(_difference_unit(metric, style, factor), 30), **style.fontkw,
                      size="x-small")
    n = _replications(table)
    key = ("compare_differences.title_none" if table.empty else "compare_differences.title"
           if n >= 2 else "compare_differences.title_single")
    fig.suptitle(wrap_label(style.labels[key].format(reference=scenarios[0], year=year, n=n),
                            76), **style.fontkw, size="large")
    handles: dict[str, Any] = {} if len(compared) < 2 else {
        scenario_label(name, scenarios, style): Line2D([], [], color=looks[name]["color"],
                                                       marker="o", linestyle="none")
        for name in compared}
    if not table.empty:
        handles |= significance_handles(style, has_ci=n >= 2)
    legend_row(fig, grid, handles, style)
    return fig


def _difference_point(ax: Axes, row: pd.Series, y: float, factor: float, colour: str,
                      style: Style) -> None:
    """One scenario's end-year difference: point, interval and its value written above."""
    has_ci = row["n"] >= 2 and np.isfinite(row["ci_low"])
    shown = colour if row["significant"] or not has_ci else MUTED
    x = row["difference"] * factor
    if has_ci:
        ax.errorbar(x, y, xerr=[[x - row["ci_low"] * factor], [row["ci_high"] * factor - x]],
                    fmt="none", ecolor=shown, elinewidth=1.4, capsize=3)
    ax.plot([x], [y], marker="o", markersize=6, linestyle="none",
            color=shown, markerfacecolor=shown if row["significant"] or not has_ci else "white")
    value = QUANTITY_FORMAT(x, 0) if abs(x) >= 1000 else f"{x:+.3g}"
    text = (style.labels["compare_differences.value"].format(value=value,
                                                              pct=percent_text(row["pct"]))
            if np.isfinite(row["pct"]) else value)
    ax.annotate(text, (0.5, y), xycoords=("axes fraction", "data"), xytext=(0, 6),
                textcoords="offset points", ha="center", va="bottom", size="x-small",
                color="0.15" if shown != MUTED else "0.4", zorder=6,
                bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none"},
                **style.fontkw)


def plot_compare_by_class(effects: pd.DataFrame, *, scenarios: Sequence[str], year: int,
                          lang: str = "en", fig: Figure | None = None) -> Figure:
    """Draw the end-year paired differences by class A-D, one panel per metric; return the Figure.

    ``effects`` is :func:`~simulator.plots.experiment_data.class_effects`.
    A point per class (and scenario, side by side) with its 95% interval, in
    the class colour when the interval excludes zero, open and grey otherwise.
    """
    style = style_for(lang)
    metrics = list(dict.fromkeys(effects["metric"]))
    fig = fig if fig is not None else new_figure(figsize=(10.0, 4.6))
    grid = fig.add_gridspec(2, max(len(metrics), 1), height_ratios=[1.0, 0.001])
    compared = [s for s in scenarios[1:] if s in set(effects["scenario"])]
    width = 0.6 / max(len(compared), 1)
    # Colour is the class here: several scenarios are told apart by their marker.
    markers = {name: look["marker"] if len(compared) > 1 else "o"
               for name, look in scenario_styles(scenarios).items()}
    for i, metric in enumerate(metrics or [""]):
        ax = fig.add_subplot(grid[0, i])
        ax.set_label(f"by_class:{metric}")
        if not metrics:
            no_data(ax, style)
            ax.set_xticks([])
            ax.set_yticks([])
            break
        rows = effects[effects["metric"] == metric]
        factor = _factor(rows[["difference", "ci_low", "ci_high"]])
        for j, name in enumerate(compared):
            for k, c in enumerate(CLASSES):
                row = rows[(rows["scenario"] == name) & (rows["klass"] == c)]
                if row.empty:
                    continue
                r = row.iloc[0]
                x = k + (j - (len(compared) - 1) / 2) * width
                has_ci = r["n"] >= 2 and np.isfinite(r["ci_low"])
                colour = COLOURS[c] if r["significant"] or not has_ci else MUTED
                if has_ci:
                    ax.errorbar(x, r["difference"] * factor,
                                yerr=[[(r["difference"] - r["ci_low"]) * factor],
                                      [(r["ci_high"] - r["difference"]) * factor]],
                                fmt="none", ecolor=colour, elinewidth=1.4, capsize=3)
                ax.plot([x], [r["difference"] * factor], marker=markers[name], markersize=6,
                        color=colour, markerfacecolor=colour if colour != MUTED else "white")
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.set_xticks(range(len(CLASSES)), list(CLASSES))
        ax.set_xlim(-0.6, len(CLASSES) - 0.4)
        ax.set_xlabel(style.labels["compare_by_class.xlabel"], **style.fontkw, size="x-small")
        ax.yaxis.set_major_formatter(QUANTITY_FORMAT)
        ax.tick_params(labelsize="x-small")
        style.title(ax, wrap_label(style.labels.get(metric, metric), 26), size="small")
        ax.set_ylabel(wrap_label(_difference_unit(metric, style, factor), 26), **style.fontkw,
                      size="x-small")
    fig.suptitle(wrap_label(style.labels["compare_by_class.title"].format(
        year=year, reference=scenarios[0]), 70), **style.fontkw, size="large")
    handles: dict[str, Any] = {} if len(compared) < 2 else {
        scenario_label(name, scenarios, style): Line2D([], [], color="0.2", linestyle="none",
                                                       marker=markers[name])
        for name in compared}
    if len(effects):
        handles |= significance_handles(style, has_ci=_replications(effects) >= 2)
    legend_row(fig, grid, handles, style)
    return fig


# ---------------------------------------------------------------- sizes and helpers


def effects_figsize(n_panels: int) -> tuple[float, float]:
    """Page size for ``n_panels`` difference-path panels, 10 in wide."""
    n_rows, _ = grid_shape(n_panels)
    return (10.0, max(5.0, 1.6 + 2.4 * n_rows))


def differences_figsize(n_panels: int, n_variants: int = 1) -> tuple[float, float]:
    """Page size for ``n_panels`` end-year panels, three to a row, of ``n_variants`` points."""
    n_rows, _ = grid_shape(n_panels, most=3)
    return (10.0, max(3.5, 1.5 + (1.45 + 0.3 * n_variants) * n_rows))


def grid_shape(n: int, *, most: int = 3) -> tuple[int, int]:
    """Rows and columns for ``n`` panels: up to 2 columns for 4 or fewer, else ``most``."""
    n = max(n, 1)
    n_cols = n if n <= 2 else 2 if n <= 4 else most
    return -(-n // n_cols), n_cols


def indicator_label(metric: str, group: str, fallback: str, labels: dict[str, str]) -> str:
    """Return the panel title of a key indicator, e.g. "Tax per mu, above-scale".

    ``fallback`` (the label of ``SUMMARY_ROWS``) is used for a metric or
    group without label text.
    """
    if metric in labels and f"group.{group}" in labels:
        return labels["indicator.in_group"].format(metric=labels[metric],
                                                   group=labels[f"group.{group}"])
    return fallback


def unit_label(metric: str, labels: dict[str, str], *, ten_thousand: bool) -> str:
    """Return the metric's axis unit, in 10^4 of it when ``ten_thousand``."""
    unit = labels.get(f"{metric}.unit", "")
    return labels["unit.10k"].format(unit=unit) if ten_thousand and unit else unit


def scenario_label(name: str, scenarios: Sequence[str], style: Style, *,
                   width: int = 28) -> str:
    """Return the scenario's name, marked as the reference if first in ``scenarios``."""
    text = style.labels["reference"].format(name=name) if name == scenarios[0] else name
    return wrap_label(text, width)


def percent_text(value: float) -> str:
    """Return a signed percentage with two decimals below 0.05%, else one."""
    if value == 0:
        return "0%"
    return f"{value:+.2f}%" if abs(value) < 0.05 else f"{value:+.1f}%"


def _difference_unit(metric: str, style: Style, factor: float) -> str:
    """Return the axis label of a difference: its unit (the titles say it is a difference)."""
    return unit_label(metric, style.labels, ten_thousand=factor != 1)


def _factor(values: pd.DataFrame) -> float:
    """1e-4 when the largest absolute value is at least :data:`TEN_THOUSAND_FROM`, else 1."""
    largest = np.nanmax(np.abs(values.to_numpy(dtype=float)), initial=0.0)
    return 1e-4 if largest >= TEN_THOUSAND_FROM else 1.0


def _pad_x(ax: Axes) -> None:
    """Widen the x-axis so that zero and every interval sit inside with a margin."""
    low, high = ax.get_xlim()
    low, high = min(low, 0.0), max(high, 0.0)
    span = (high - low) or 1.0
    ax.set_xlim(low - 0.08 * span, high + 0.08 * span)


def _replications(table: pd.DataFrame) -> int:
    return int(table["n"].max()) if len(table) else 0

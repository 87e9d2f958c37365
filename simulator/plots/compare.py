"""Scenario-comparison figures (情景比较图表) drawn from an experiment directory.

A comparison's experiment directory holds ``experiment.json`` (kind, name,
scenarios in order with the reference first, replications, seed, version,
git revision), ``summary.csv`` (each scenario's mean over replications with
its t-based 95% CI, by group, metric and year) and ``differences.csv`` (each
scenario minus the reference, replication by replication on the same seeds,
with the t-based 95% CI of that paired difference). The figures are drawn
from these files only. :func:`compare_figures` writes to ``<exp_dir>/figures``:

``compare_indicators``
    one panel per key indicator (``simulator.summary.SUMMARY_ROWS``) found
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

from simulator.plots._labels import labels_for
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
from simulator.plots.data import CLASSES, read_record
from simulator.summary import SUMMARY_ROWS

__all__ = [
    "COMPARE_FIGURES",
    "check_unique",
    "class_shares",
    "compare_figures",
    "experiment_source_line",
    "key_indicators",
    "percent_differences",
    "plot_class_shares",
    "plot_compare_differences",
    "plot_compare_indicators",
    "read_experiment",
    "read_experiment_table",
]

logger = logging.getLogger(__name__)

#: Figure names, in the order :func:`compare_figures` draws them.
COMPARE_FIGURES: tuple[str, ...] = (
    "compare_indicators", "compare_differences", "compare_class_shares")
SUMMARY_COLUMNS: tuple[str, ...] = (
    "scenario", "group", "metric", "year", "n", "mean", "sd", "ci_low", "ci_high")
DIFFERENCE_COLUMNS: tuple[str, ...] = ("scenario", "reference", *SUMMARY_COLUMNS[1:])
CLASS_SHARE_METRIC = "class_share"
FIRMS_METRIC = "firms"
#: Values of at least this size are drawn in units of 10^4 (万) to keep tick labels short.
TEN_THOUSAND_FROM = 1e6

Indicator = tuple[str, str, str]  # metric, group, label (as simulator.summary.SUMMARY_ROWS)


# ---------------------------------------------------------------- reading


def read_experiment(exp_dir: str | Path) -> dict[str, Any]:
    """Return an experiment directory's ``experiment.json`` as a dict.

    Raises
    ------
    FileNotFoundError
        If ``experiment.json`` is missing.
    """
    return read_record(Path(exp_dir) / "experiment.json", "experiment record")


def read_experiment_table(exp_dir: str | Path, name: str,
                          columns: Sequence[str]) -> pd.DataFrame:
    """Return the CSV table ``<exp_dir>/<name>``, checking that it has ``columns``.

    Raises
    ------
    FileNotFoundError
        If the file is missing.
    ValueError
        If a required column is missing.
    """
    path = Path(exp_dir) / name
    if not path.is_file():
        raise FileNotFoundError(f"No {name}: {path} does not exist.")
    table = pd.read_csv(path)
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{path} lacks column(s) {missing}; it has {list(table.columns)}.")
    for column in ("scenario", "reference", "group", "metric"):
        if column in table.columns:
            table[column] = table[column].astype(str)
    return table


def check_unique(table: pd.DataFrame, keys: Sequence[str], name: str) -> None:
    """Raise ValueError naming the first row of ``table`` whose ``keys`` repeat."""
    repeated = table[table.duplicated(list(keys), keep=False)]
    if len(repeated):
        first = repeated.iloc[0][list(keys)].to_dict()
        raise ValueError(f"{name} has several rows for {first}; expected one.")


def experiment_source_line(experiment: dict[str, Any], *, lang: str = "en") -> str:
    """Return the provenance line printed under every experiment figure.

    Example: ``"Mujun 0.2.0 · experiment strict_d · revision 1a2b3c4d5e6f · seed 42
    · 20 replication(s)"`` (the git revision shortened to 12 characters).
    """
    labels = labels_for(lang)
    revision = experiment.get("git_revision")
    return labels["experiment_source"].format(
        version=experiment.get("version", "?"), name=experiment.get("name", "?"),
        revision=str(revision)[:12] if revision else labels["revision.unknown"],
        seed=experiment.get("seed", "?"), replications=experiment.get("replications", "?"))


# ---------------------------------------------------------------- preparing the data


def scenario_order(experiment: dict[str, Any], table: pd.DataFrame) -> list[str]:
    """Return the scenarios of ``experiment.json`` in order, then any others in ``table``."""
    listed = [str(s) for s in experiment.get("scenarios", [])]
    return [*listed, *(s for s in pd.unique(table["scenario"]) if s not in listed)]


def key_indicators(summary: pd.DataFrame,
                   rows: Sequence[Indicator] | None = None) -> list[Indicator]:
    """Return the key indicators that have at least one mean in ``summary``, in order.

    ``rows`` defaults to ``simulator.summary.SUMMARY_ROWS`` (metric, group, label).
    """
    if rows is None:
        rows = SUMMARY_ROWS
    present = set(map(tuple, summary.loc[summary["mean"].notna(), ["metric", "group"]]
                      .drop_duplicates().to_numpy()))
    return [row for row in rows if (row[0], row[1]) in present]


def percent_differences(summary: pd.DataFrame, differences: pd.DataFrame, *, reference: str,
                        year: int, indicators: Sequence[Indicator]) -> pd.DataFrame:
    """Return each scenario's paired difference to the reference in ``year``, in %.

    The difference, its CI bounds and the reference's mean come from the CSV
    tables; the percentages divide them by the absolute reference mean, so
    that a positive value is an increase. The reference's mean is taken as
    known: the CI is that of the difference, rescaled.

    Parameters
    ----------
    summary, differences : pandas.DataFrame
        ``summary.csv`` and ``differences.csv`` of a comparison.
    reference : str
        The reference scenario.
    year : int
        Year compared, usually the last.
    indicators : sequence of (metric, group, label)
        Indicators in the order wanted.

    Returns
    -------
    pandas.DataFrame
        One row per indicator and scenario with a difference, in the order of
        ``indicators`` then of ``differences``: metric, group, label,
        scenario, n, reference_mean, difference, ci_low, ci_high (same units
        as the metric), pct, pct_low, pct_high (% of the reference's mean;
        NaN when that mean is 0 or missing, CI bounds NaN for n < 2).

    Raises
    ------
    ValueError
        If ``differences`` has rows against another reference.
    """
    others = sorted(set(differences["reference"]) - {reference})
    if others:
        raise ValueError(f"differences.csv has differences to {others}; expected to "
                         f"{reference!r}, the first scenario of experiment.json.")
    ref = (summary[(summary["scenario"] == reference) & (summary["year"] == year)]
           .set_index(["metric", "group"])["mean"])
    diffs = differences[(differences["year"] == year) & (differences["scenario"] != reference)]
    records = []
    for metric, group, label in indicators:
        rows = diffs[(diffs["metric"] == metric) & (diffs["group"] == group)]
        ref_mean = float(ref.get((metric, group), np.nan))
        scale = 100.0 / abs(ref_mean) if np.isfinite(ref_mean) and ref_mean != 0 else np.nan
        for row in rows.itertuples(index=False):
            records.append({
                "metric": metric, "group": group, "label": label, "scenario": row.scenario,
                "n": int(row.n), "reference_mean": ref_mean, "difference": row.mean,
                "ci_low": row.ci_low, "ci_high": row.ci_high, "pct": row.mean * scale,
                "pct_low": row.ci_low * scale, "pct_high": row.ci_high * scale,
            })
    columns = ["metric", "group", "label", "scenario", "n", "reference_mean", "difference",
               "ci_low", "ci_high", "pct", "pct_low", "pct_high"]
    return pd.DataFrame.from_records(records, columns=columns)


def class_shares(summary: pd.DataFrame, *, year: int,
                 scenarios: Sequence[str]) -> pd.DataFrame:
    """Return the share of evaluated firms in each class A-D per scenario in ``year``.

    Shares come from the ``class_share`` rows (groups ``class=A`` ..
    ``class=D``) with their CIs; a scenario without them gets its shares from
    the mean ``firms`` counts by class, without CI (the share of a mean is not
    the mean share, and the replications are not in the summary).

    Returns
    -------
    pandas.DataFrame
        Columns scenario, klass, share, ci_low, ci_high (shares in 0..1), derived
        (True when computed from firm counts); rows in the order of
        ``scenarios`` then A-D. A scenario with neither metric is left out.
    """
    groups = [f"class={c}" for c in CLASSES]
    at_year = summary[(summary["year"] == year) & summary["group"].isin(groups)]
    records = []
    for scenario in scenarios:
        rows = at_year[at_year["scenario"] == scenario]
        shares = rows[rows["metric"] == CLASS_SHARE_METRIC].set_index("group")
        derived = shares["mean"].notna().sum() == 0
        if derived:
            counts = rows[rows["metric"] == FIRMS_METRIC].set_index("group")["mean"]
            total = counts.reindex(groups).fillna(0.0).sum()
            if total <= 0:
                continue
            shares = pd.DataFrame({"mean": counts / total, "ci_low": np.nan, "ci_high": np.nan})
        shares = shares.reindex(groups)
        for c, group in zip(CLASSES, groups, strict=True):
            records.append({"scenario": scenario, "klass": c,
                            "share": float(np.nan_to_num(shares.at[group, "mean"])),
                            "ci_low": shares.at[group, "ci_low"],
                            "ci_high": shares.at[group, "ci_high"], "derived": bool(derived)})
    return pd.DataFrame.from_records(
        records, columns=["scenario", "klass", "share", "ci_low", "ci_high", "derived"])


def replication_count(table: pd.DataFrame) -> str:
    """Return the number of replications behind ``table``'s rows: ``"20"`` or ``"10–20"``."""
    counts = table["n"].dropna().astype(int)
    if counts.empty:
        return "?"
    low, high = counts.min(), counts.max()
    return str(low) if low == high else f"{low}–{high}"


def has_ci(table: pd.DataFrame) -> bool:
    """Return whether any row of ``table`` rests on two or more replications (so has a CI)."""
    return bool((table["n"] >= 2).any())


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


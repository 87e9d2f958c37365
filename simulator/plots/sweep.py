"""Parameter-sweep figures (参数扫描与敏感性分析图表) drawn from an experiment directory.

A sweep's experiment directory holds ``experiment.json`` (with
``"parameters"``, the dotted paths swept, and ``"outputs"``, the output
names), ``outputs.csv`` (columns sample, replication, one per parameter, one
per output) and, for a Sobol design, ``sobol.csv`` (columns output,
parameter, S1, S1_conf, ST, ST_conf: SALib's first-order and total indices
and the half-widths of their 95% confidence intervals). Figures go to
``<exp_dir>/figures``:

``sobol_<output>``
    per output, S1 and ST of each parameter as paired horizontal bars with
    their CIs, parameters sorted by ST (:func:`sobol_figures`);
``sweep_scatter``
    each output against each parameter, one panel per pair, with the mean
    of the output within parameter deciles (:func:`sweep_scatter`).

S1 is the share of the output's variance due to the parameter alone; ST
adds its interactions with the others. Both lie in [0, 1], but the
estimates of a small sample can fall below 0 (or above 1): they are drawn as
they are and the figure says how many.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from simulator.plots._style import (
    QUANTITY_FORMAT,
    add_source_line,
    check_formats,
    figure_dir,
    legend_right,
    new_figure,
    no_data,
    page,
    save_all,
    style_for,
    wrap_label,
)
from simulator.plots.experiment_data import (
    experiment_source_line,
    read_experiment,
    read_experiment_table,
)
from simulator.plots.sweep_grid import axis_label, heatmap_figsize, plot_sweep_heatmap, uses_heatmap

__all__ = [
    "SOBOL_COLUMNS",
    "binned_means",
    "figure_stems",
    "output_label",
    "plot_sobol",
    "plot_sweep_scatter",
    "sobol_figures",
    "sobol_table",
    "sobol_xlim",
    "sweep_figures",
    "sweep_scatter",
]

logger = logging.getLogger(__name__)

SOBOL_COLUMNS: tuple[str, ...] = ("output", "parameter", "S1", "S1_conf", "ST", "ST_conf")
# First-order light, total dark: ST >= S1 in theory, so the dark bar frames the light one.
S1_COLOUR = "#56B4E9"
ST_COLOUR = "#0072B2"
POINT_COLOUR = "#0072B2"
DECILES = 10
#: The sweep's default output name, ``<metric>[<group>]@<year>``.
OUTPUT_NAME = re.compile(r"^([^\[\]@]+)\[([^\]]*)\]@(\d+)$")


# ---------------------------------------------------------------- preparing the data


def sobol_table(sobol: pd.DataFrame, output: str) -> pd.DataFrame:
    """Return one output's Sobol indices, parameters sorted by ST, largest first.

    Ties (and NaN, which goes last) keep the parameters' alphabetical order.

    Returns
    -------
    pandas.DataFrame
        Columns parameter, S1, S1_conf, ST, ST_conf; a fresh 0..n-1 index.
    """
    rows = sobol[sobol["output"] == output].sort_values("parameter", kind="stable")
    rows = rows.sort_values("ST", ascending=False, kind="stable", na_position="last")
    return rows[list(SOBOL_COLUMNS[1:])].reset_index(drop=True)


def sobol_xlim(table: pd.DataFrame) -> tuple[float, float]:
    """Return x-axis limits for a :func:`sobol_table`: 0 (or below) to max(1, upper bounds).

    The axis goes below 0 or beyond 1 only to show estimates and error bars
    out there, with a little room (3% of the span).
    """
    bounds = []
    for index in ("S1", "ST"):
        conf = table[f"{index}_conf"].fillna(0.0).abs()
        bounds += [table[index] - conf, table[index] + conf]
    values = pd.concat(bounds).to_numpy(dtype=float)
    values = values[np.isfinite(values)]
    low = min(0.0, values.min()) if values.size else 0.0
    high = max(1.0, values.max()) if values.size else 1.0
    pad = 0.03 * (high - low)
    return (low - pad if low < 0 else 0.0, high + pad if high > 1 else 1.0)


def estimates_outside_unit_interval(table: pd.DataFrame) -> int:
    """Return how many S1 and ST estimates in ``table`` are below 0 or above 1."""
    values = table[["S1", "ST"]].to_numpy(dtype=float)
    return int(((values < 0) | (values > 1)).sum())


def figure_stems(outputs: Sequence[str], prefix: str = "sobol_") -> dict[str, str]:
    """Return a file name (without suffix) per output: ``prefix`` + a safe form of the name.

    Characters other than letters, digits, ``.``, ``-`` and ``_`` become
    ``_``; names that end up alike get ``_2``, ``_3``, ... in order.
    """
    stems: dict[str, str] = {}
    for output in outputs:
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", str(output)).strip("._") or "output"
        stem, k = f"{prefix}{safe}", 2
        while stem in stems.values():
            stem, k = f"{prefix}{safe}_{k}", k + 1
        stems[output] = stem
    return stems


def binned_means(x: pd.Series | np.ndarray, y: pd.Series | np.ndarray,
                 bins: int = DECILES) -> pd.DataFrame:
    """Return the mean of ``y`` within quantile bins of ``x`` (or per value, if few).

    With at most ``bins`` distinct values of ``x`` (a grid design) each value
    is its own bin. Pairs with a missing value are dropped.

    Returns
    -------
    pandas.DataFrame
        Columns x (mean of x in the bin), y (mean of y), n; in increasing x.
    """
    frame = pd.DataFrame({"x": np.asarray(x, dtype=float), "y": np.asarray(y, dtype=float)})
    frame = frame.dropna()
    if frame["x"].nunique() <= bins:
        key = frame["x"].to_numpy()
    else:
        key = pd.qcut(frame["x"], bins, labels=False, duplicates="drop").to_numpy()
    means = frame.groupby(key).agg(x=("x", "mean"), y=("y", "mean"), n=("y", "size"))
    return means.sort_values("x").reset_index(drop=True)


def output_label(output: str, labels: dict[str, str]) -> str:
    """Return an output's label with its unit, e.g. "Tax per mu, above-scale, 2030 (10k yuan / mu)".

    Outputs named ``<metric>[<group>]@<year>`` (the sweep's default) or
    ``<metric>`` are labelled from the metric's label text; any other name,
    or a metric without label text, is shown as it is.
    """
    match = OUTPUT_NAME.match(output)
    metric, group, year = match.groups() if match else (output, None, None)
    if metric not in labels:
        return output
    text = labels[metric]
    if group is not None:
        text = (labels["indicator.in_group"].format(metric=text, group=labels[f"group.{group}"])
                if f"group.{group}" in labels else f"{text} [{group}]")
    if year is not None:
        text = labels["output.in_year"].format(indicator=text, year=year)
    unit = labels.get(f"{metric}.unit")
    return f"{text} ({unit})" if unit else text


# ---------------------------------------------------------------- drawing


def plot_sobol(table: pd.DataFrame, *, output: str, lang: str = "en",
               ax: Axes | None = None) -> Axes:
    """Draw S1 and ST per parameter as paired horizontal bars with CIs; return the Axes.

    ``table`` is :func:`sobol_table` (sorted by ST); the parameter with the
    largest ST is at the top. The x-axis runs from 0 (lower for negative
    estimates) to at least 1.
    """
    style = style_for(lang)
    ax = ax if ax is not None else new_figure(figsize=sobol_figsize(len(table))).add_subplot()
    style.title(ax, style.labels["sobol.title"].format(output=output_label(output, style.labels)))
    if table.empty:
        no_data(ax, style)
        return ax
    y = np.arange(len(table))
    for index, offset, colour in (("S1", -0.2, S1_COLOUR), ("ST", 0.2, ST_COLOUR)):
        values = table[index].to_numpy(dtype=float)
        conf = table[f"{index}_conf"].to_numpy(dtype=float)
        ax.barh(y + offset, values, height=0.38, color=colour,
                label=style.labels[f"sobol.{index}"])
        ok = np.isfinite(values) & np.isfinite(conf)
        ax.errorbar(values[ok], (y + offset)[ok], xerr=np.abs(conf[ok]), fmt="none",
                    ecolor="0.2", elinewidth=1, capsize=2.5)
    ax.axvline(0, color="black", linewidth=1)
    ax.set_yticks(y, [axis_label(p, style.labels, style.lang, width=30)
                      for p in table["parameter"]], **style.fontkw, size="small")
    ax.set_ylim(len(table) - 0.5, -0.5)
    low, high = sobol_xlim(table)
    ax.set_xlim(low, high)
    if high > 1:  # mark where the possible values end
        ax.axvline(1, color="0.5", linestyle=":", linewidth=1)
    ax.set_xlabel(style.labels["sobol.xlabel"], **style.fontkw)
    ax.grid(axis="x", color="0.92")
    ax.set_axisbelow(True)
    legend_right(ax, style)
    notes = [style.labels["sobol.ci"]]
    if (n_outside := estimates_outside_unit_interval(table)):
        notes.append(style.labels["sobol.outside"].format(n=n_outside))
    # Under the legend, at the right of the bars: the notes belong to this Axes.
    ax.text(1.02, 0.0, "\n".join(wrap_label(n, 34) for n in notes), transform=ax.transAxes,
            va="bottom", ha="left", size="x-small", color="0.3", **style.fontkw)
    return ax


def plot_sweep_scatter(outputs: pd.DataFrame, *, parameters: Sequence[str],
                       output_names: Sequence[str], lang: str = "en",
                       fig: Figure | None = None) -> Figure:
    """Draw each output against each parameter (rows: outputs, columns: parameters).

    Every run (sample and replication) is a point; a black line joins the
    output's means per value of the parameter, or within its deciles when it
    takes more than ten values (:func:`binned_means`). Panels share the x-axis
    down a column and the y-axis along a row. Returns the Figure.
    """
    style = style_for(lang)
    fig = fig if fig is not None else new_figure(
        figsize=scatter_figsize(len(parameters), len(output_names)))
    fig.suptitle(style.labels["sweep_scatter.title"].format(n=len(outputs)), **style.fontkw,
                 size="x-large")
    if not len(parameters) or not len(output_names):
        no_data(fig.add_subplot(), style)
        return fig
    axes = fig.subplots(len(output_names), len(parameters), sharex="col", sharey="row",
                        squeeze=False)
    alpha, size = (0.6, 14) if len(outputs) <= 200 else (0.3, 6)
    for i, output in enumerate(output_names):
        for j, parameter in enumerate(parameters):
            ax = axes[i, j]
            ax.scatter(outputs[parameter], outputs[output], s=size, color=POINT_COLOUR,
                       alpha=alpha, linewidths=0)
            trend = binned_means(outputs[parameter], outputs[output])
            ax.plot(trend["x"], trend["y"], color="black", linewidth=1.2)
            ax.tick_params(labelsize="x-small")
            ax.yaxis.set_major_formatter(QUANTITY_FORMAT)
            if i == len(output_names) - 1:
                ax.set_xlabel(axis_label(parameter, style.labels, style.lang, width=30),
                              **style.fontkw, size="x-small")
            if j == 0:
                ax.set_ylabel(wrap_label(output_label(output, style.labels), 22),
                              **style.fontkw, size="x-small")
    return fig


# ---------------------------------------------------------------- the figure sets


def sobol_figures(exp_dir: str | Path, *, lang: str = "en",
                  formats: Sequence[str] = ("png", "svg")) -> list[Path]:
    """Draw one Sobol-index figure per output of a sweep; return the files written.

    Parameters
    ----------
    exp_dir : str or Path
        Sweep directory holding ``experiment.json`` and ``sobol.csv``.
    lang : {"en", "zh"}
        Label language (Chinese needs a CJK font, else English with a warning).
    formats : sequence of str
        File formats, e.g. ``("png", "svg")``.

    Returns
    -------
    list of Path
        ``<exp_dir>/figures/sobol_<output>.<format>`` per output (in the order
        of ``sobol.csv``) and format; empty when the sweep has no ``sobol.csv``
        (a grid or Latin hypercube design).
    """
    exp_dir = Path(exp_dir)
    experiment = read_experiment(exp_dir)
    if not (exp_dir / "sobol.csv").is_file():
        logger.info("%s has no sobol.csv: no Sobol figures", exp_dir)
        return []
    sobol = read_experiment_table(exp_dir, "sobol.csv", SOBOL_COLUMNS)
    sobol["output"] = sobol["output"].astype(str)
    sobol["parameter"] = sobol["parameter"].astype(str)
    formats = check_formats(formats)
    style = style_for(lang)
    source = experiment_source_line(experiment, lang=style.lang)
    written: list[Path] = []
    for output, stem in figure_stems(list(pd.unique(sobol["output"]))).items():
        table = sobol_table(sobol, output)
        with page():
            fig = new_figure(figsize=sobol_figsize(len(table)))
            try:
                plot_sobol(table, output=output, lang=style.lang, ax=fig.add_subplot())
                add_source_line(fig, source, style)
                written += save_all(fig, figure_dir(exp_dir, style.lang), stem, formats, source)
            finally:
                fig.clear()
    return written


def sweep_scatter(exp_dir: str | Path, *, lang: str = "en",
                  formats: Sequence[str] = ("png", "svg")) -> list[Path]:
    """Draw the outputs of a sweep against its parameters; return the files written.

    Reads ``outputs.csv`` and the ``"parameters"`` and ``"outputs"`` of
    ``experiment.json``; columns missing from ``outputs.csv`` are left out.
    A grid design over two parameters is drawn as heatmaps
    (:func:`~simulator.plots.sweep_grid.plot_sweep_heatmap`, file
    ``sweep_heatmap``), any other design as a grid of scatter panels.

    Returns
    -------
    list of Path
        ``<figure_dir>/sweep_scatter.<format>`` (or ``sweep_heatmap``) per
        format, ``figure_dir`` being :func:`~simulator.plots.figure_dir`;
        empty when the directory has no ``outputs.csv``.

    Raises
    ------
    ValueError
        If ``experiment.json`` lacks ``"parameters"`` or ``"outputs"``.
    """
    exp_dir = Path(exp_dir)
    experiment = read_experiment(exp_dir)
    if not (exp_dir / "outputs.csv").is_file():
        logger.info("%s has no outputs.csv: no scatter figure", exp_dir)
        return []
    missing = [key for key in ("parameters", "outputs") if not experiment.get(key)]
    if missing:
        raise ValueError(f"{exp_dir / 'experiment.json'} lacks {missing}: the sweep's "
                         "parameter paths and output names.")
    outputs = read_experiment_table(exp_dir, "outputs.csv", ("sample", "replication"))
    present = {kind: [c for c in experiment[kind] if c in outputs.columns]
               for kind in ("parameters", "outputs")}
    for kind in present:
        if absent := sorted(set(experiment[kind]) - set(present[kind])):
            logger.warning("outputs.csv has no column for %s %s; left out", kind, absent)
    formats = check_formats(formats)
    style = style_for(lang)
    heatmap = uses_heatmap(experiment) and len(present["parameters"]) == 2
    note = style.labels["sweep_heatmap.caption" if heatmap else "sweep_scatter.trend"]
    source = " · ".join([experiment_source_line(experiment, lang=style.lang), note])
    name, draw, figsize = (
        ("sweep_heatmap", plot_sweep_heatmap, heatmap_figsize(len(present["outputs"])))
        if heatmap else
        ("sweep_scatter", plot_sweep_scatter,
         scatter_figsize(len(present["parameters"]), len(present["outputs"]))))
    with page():
        fig = new_figure(figsize=figsize)
        try:
            draw(outputs, parameters=present["parameters"], output_names=present["outputs"],
                 lang=style.lang, fig=fig)
            add_source_line(fig, source, style)
            return save_all(fig, figure_dir(exp_dir, style.lang), name, formats, source)
        finally:
            fig.clear()


def sweep_figures(exp_dir: str | Path, *, lang: str = "en",
                  formats: Sequence[str] = ("png", "svg")) -> list[Path]:
    """Draw every sweep figure the directory has data for: Sobol indices, then the scatter grid.

    See :func:`sobol_figures` and :func:`sweep_scatter`.
    """
    lang = style_for(lang).lang  # warns once for both figure sets
    return [*sobol_figures(exp_dir, lang=lang, formats=formats),
            *sweep_scatter(exp_dir, lang=lang, formats=formats)]


# ---------------------------------------------------------------- sizes


def sobol_figsize(n_parameters: int) -> tuple[float, float]:
    """Page size for ``n_parameters`` pairs of bars."""
    return (10.0, float(np.clip(1.8 + 0.55 * n_parameters, 4.5, 16.0)))


def scatter_figsize(n_parameters: int, n_outputs: int) -> tuple[float, float]:
    """Page size for a grid of ``n_outputs`` rows by ``n_parameters`` columns of panels."""
    return (max(10.0, 1.0 + 2.3 * n_parameters), max(6.0, 1.6 + 2.0 * n_outputs))

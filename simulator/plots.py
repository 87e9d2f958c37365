"""Policy-brief figures (政策简报图表) made from a run directory's result files.

The figures are drawn from ``manifest.json`` and ``metrics.parquet`` only, so
a figure can be remade without re-running and this module never imports the
engine. Each figure has its own function that takes the tidy metrics table
and an optional Axes (or Figure) and returns it; :func:`make_figures` draws
the whole set into ``<run_dir>/figures``.

Values are averaged over replications; with more than one replication a band
shows the t-based 95% confidence interval of that mean.

Figures are built on :class:`matplotlib.figure.Figure` objects, never through
pyplot, so nothing is registered with a GUI backend and nothing leaks between
calls.

Example
-------
>>> from simulator.plots import make_figures
>>> paths = make_figures("results/baseline", lang="zh")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backend_bases import FigureCanvasBase
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, fontManager
from matplotlib.ticker import MaxNLocator
from scipy import stats

__all__ = [
    "CJKFontWarning",
    "FIGURES",
    "LABELS",
    "find_cjk_font",
    "make_figures",
    "plot_class_counts",
    "plot_indicators",
    "plot_resource_bill",
    "plot_transitions",
    "read_manifest",
    "read_metrics",
    "replication_summary",
    "source_line",
    "transition_matrix",
]

logger = logging.getLogger(__name__)

#: Figure names, in the order :func:`make_figures` draws them.
FIGURES: tuple[str, ...] = ("indicators", "class_counts", "resource_bill", "transitions")

CLASSES: tuple[str, ...] = ("A", "B", "C", "D")
#: Row/column order of the transition matrix; "U" = unrated (outside the evaluation).
TRANSITION_CLASSES: tuple[str, ...] = (*CLASSES, "U")
INDICATORS: tuple[str, ...] = (
    "tax_per_mu_wan_yuan",
    "va_per_mu_wan_yuan",
    "va_per_tce_wan_yuan",
    "va_per_t_emission_wan_yuan",
)
TRANSITION_METRIC = "class_transition_firms"
REQUIRED_COLUMNS: tuple[str, ...] = (
    "year", "month", "scenario", "replication", "group", "metric", "value",
)

# Okabe-Ito colours (colour-blind safe); A green ... D vermillion, fixed for every figure.
COLOURS: dict[str, str] = {
    "A": "#009E73", "B": "#0072B2", "C": "#E69F00", "D": "#D55E00", "U": "#999999",
    "all": "#000000",
}
# Markers repeat the class in a second channel for greyscale print.
MARKERS: dict[str, str] = {"A": "o", "B": "s", "C": "^", "D": "v", "all": "none"}

FIGSIZE = (10.0, 6.0)  # inches, policy-brief page width
DPI = 150
SVG_HASHSALT = "mujun"  # fixed salt -> stable element ids -> byte-identical SVG

#: Every label string, one dict per language. "万元" = 10^4 yuan.
LABELS: dict[str, dict[str, str]] = {
    "en": {
        "class.A": "A: priority development",
        "class.B": "B: upgrading",
        "class.C": "C: regulated and supported",
        "class.D": "D: forced rectification",
        "class.U": "U: unrated",
        "class.all": "All industrial firms",
        "year": "Year",
        "tax_per_mu_wan_yuan": "Tax per mu",
        "tax_per_mu_wan_yuan.unit": "10k yuan / mu",
        "va_per_mu_wan_yuan": "Value added per mu",
        "va_per_mu_wan_yuan.unit": "10k yuan / mu",
        "va_per_tce_wan_yuan": "Value added per tonne of coal equivalent",
        "va_per_tce_wan_yuan.unit": "10k yuan / tce",
        "va_per_t_emission_wan_yuan": "Value added per tonne of emissions",
        "va_per_t_emission_wan_yuan.unit": "10k yuan / t",
        "indicators.title": "Yield per unit of land, energy and emissions, by evaluation class",
        "class_counts.title": "Evaluated firms by class",
        "class_counts.ylabel": "Firms (count)",
        "resource_bill.title": "Resource bill per unit of value added, by class charged",
        "resource_bill.ylabel": "Electricity, water, land tax and pollution bills\n"
                                "(yuan per 10k yuan of value added)",
        "transitions.title": "Class transitions between consecutive evaluations, {years} (summed)",
        "transitions.from": "Class in previous evaluation",
        "transitions.to": "Class in this evaluation",
        "transitions.share": "Share of firms in row",
        "no_data": "No data",
        "source": "Mujun {version} · scenario {scenario} · seed {seed} · "
                  "{replications} replication(s)",
        "band": "shaded: 95% CI of the mean across replications",
    },
    "zh": {
        "class.A": "优先发展类 A",
        "class.B": "提升发展类 B",
        "class.C": "调控帮扶类 C",
        "class.D": "倒逼整治类 D",
        "class.U": "未评价 U",
        "class.all": "全部工业企业",
        "year": "年份",
        "tax_per_mu_wan_yuan": "亩均税收",
        "tax_per_mu_wan_yuan.unit": "万元/亩",
        "va_per_mu_wan_yuan": "亩均工业增加值",
        "va_per_mu_wan_yuan.unit": "万元/亩",
        "va_per_tce_wan_yuan": "单位能耗工业增加值",
        "va_per_tce_wan_yuan.unit": "万元/吨标准煤",
        "va_per_t_emission_wan_yuan": "单位排放工业增加值",
        "va_per_t_emission_wan_yuan.unit": "万元/吨",
        "indicators.title": "分类企业亩均效益指标",
        "class_counts.title": "各类别参评企业数",
        "class_counts.ylabel": "企业数 (家)",
        "resource_bill.title": "各类别资源要素成本（按执行类别）",
        "resource_bill.ylabel": "电、水、土地使用税、排污费用合计\n(元/万元工业增加值)",
        "transitions.title": "相邻两次评价间企业类别变动（{years}年合计）",
        "transitions.from": "上次评价类别",
        "transitions.to": "本次评价类别",
        "transitions.share": "占本行企业比例",
        "no_data": "无数据",
        "source": "Mujun {version} · 情景 {scenario} · 随机种子 {seed} · {replications} 次重复",
        "band": "阴影：重复运行均值的 95% 置信区间",
    },
}

#: Fonts with Chinese glyphs, in order of preference.
CJK_FONT_CANDIDATES: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Serif CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "AR PL UMing CN",
)


class CJKFontWarning(UserWarning):
    """Chinese labels were asked for but no CJK font is installed."""


# ---------------------------------------------------------------- reading results


def read_metrics(run_dir: str | Path) -> pd.DataFrame:
    """Return the run's tidy metrics table (``metrics.parquet``).

    Parameters
    ----------
    run_dir : str or Path
        Run directory written by the engine.

    Returns
    -------
    pandas.DataFrame
        Columns year, month (NA = annual value), scenario, replication, group,
        metric, value.

    Raises
    ------
    FileNotFoundError
        If ``metrics.parquet`` is missing.
    ValueError
        If a required column is missing.
    """
    path = Path(run_dir) / "metrics.parquet"
    if not path.is_file():
        raise FileNotFoundError(f"No metrics table: {path} does not exist.")
    metrics = pd.read_parquet(path)
    missing = [c for c in REQUIRED_COLUMNS if c not in metrics.columns]
    if missing:
        raise ValueError(f"{path} lacks column(s) {missing}; it has {list(metrics.columns)}.")
    return metrics


def read_manifest(run_dir: str | Path) -> dict[str, Any]:
    """Return the run's manifest (``manifest.json``) as a dict.

    Raises
    ------
    FileNotFoundError
        If ``manifest.json`` is missing.
    """
    path = Path(run_dir) / "manifest.json"
    if not path.is_file():
        raise FileNotFoundError(f"No run manifest: {path} does not exist.")
    return json.loads(path.read_text(encoding="utf-8"))


def source_line(manifest: dict[str, Any], *, lang: str = "en") -> str:
    """Return the provenance line printed under every figure.

    Example: ``"Mujun 0.1.0 · scenario baseline · seed 42 · 2 replication(s)"``.
    """
    scenario = manifest.get("scenario") or {}
    return _labels(lang)["source"].format(
        version=manifest.get("version", "?"),
        scenario=scenario.get("name", "?") if isinstance(scenario, dict) else scenario,
        seed=manifest.get("seed", "?"),
        replications=manifest.get("replications", "?"),
    )


# ---------------------------------------------------------------- aggregation


def replication_summary(
    metrics: pd.DataFrame,
    metric: str,
    *,
    groups: Sequence[str],
    fill_value: float | None = None,
) -> pd.DataFrame:
    """Return the mean across replications and its t-based 95% CI, per group and year.

    Parameters
    ----------
    metrics : pandas.DataFrame
        Tidy metrics table for one scenario (see :func:`read_metrics`).
    metric : str
        Annual metric to summarise (rows with ``month`` NA).
    groups : sequence of str
        Groups to keep, e.g. ``["class=A", "all"]``.
    fill_value : float, optional
        Value for a (group, year, replication) with no row; use 0 for counts.
        By default missing values are left out of the mean.

    Returns
    -------
    pandas.DataFrame
        Columns group, year, mean, ci_low, ci_high, n (replications used).
        ``ci_low``/``ci_high`` are NaN when ``n < 2``.
    """
    _check_one_scenario(metrics)
    rows = metrics[_annual(metrics) & (metrics["metric"] == metric)
                   & metrics["group"].isin(list(groups))]
    replications = np.sort(metrics["replication"].unique())
    if rows.duplicated(["group", "year", "replication"]).any():
        raise ValueError(f"metrics has several annual {metric!r} rows for one group, year "
                         "and replication; expected one.")
    wide = rows.pivot(index=["group", "year"], columns="replication", values="value")
    wide = wide.reindex(columns=replications)
    if fill_value is not None:
        years = np.sort(rows["year"].unique())
        full = pd.MultiIndex.from_product([list(groups), years], names=["group", "year"])
        wide = wide.reindex(full).fillna(fill_value)
    n = wide.notna().sum(axis=1)
    mean = wide.mean(axis=1)
    sem = wide.std(axis=1, ddof=1) / np.sqrt(n)
    with np.errstate(invalid="ignore"):
        half = stats.t.ppf(0.975, n - 1) * sem  # NaN for n < 2
    return pd.DataFrame({
        "mean": mean, "ci_low": mean - half, "ci_high": mean + half, "n": n,
    }).reset_index()


def transition_matrix(metrics: pd.DataFrame) -> pd.DataFrame:
    """Return firms moving between classes, summed over years, mean over replications.

    Parameters
    ----------
    metrics : pandas.DataFrame
        Tidy metrics table with ``class_transition_firms`` rows whose group is
        ``"<from>-><to>"``, e.g. ``"A->B"``.

    Returns
    -------
    pandas.DataFrame
        Counts; index ``from`` and columns ``to`` in the order A, B, C, D, U
        (U only when present), then any other letters found.
    """
    _check_one_scenario(metrics)
    rows = metrics[_annual(metrics) & (metrics["metric"] == TRANSITION_METRIC)]
    pairs = rows["group"].str.split("->", n=1, expand=True)
    if len(rows) and (pairs.shape[1] != 2 or pairs.isna().any().any()):
        bad = rows["group"][~rows["group"].str.contains("->", regex=False)].iloc[0]
        raise ValueError(f"{TRANSITION_METRIC} group must be '<from>-><to>'. Got {bad!r}.")
    n_replications = max(metrics["replication"].nunique(), 1)
    if len(rows):
        totals = (rows.assign(**{"from": pairs[0], "to": pairs[1]})
                  .groupby(["from", "to"])["value"].sum() / n_replications)
        letters = set(totals.index.get_level_values(0)) | set(totals.index.get_level_values(1))
    else:
        totals, letters = pd.Series(dtype=float), set()
    order = [*CLASSES, *(["U"] if "U" in letters else []),
             *sorted(letters - set(TRANSITION_CLASSES))]
    matrix = totals.unstack("to") if len(totals) else pd.DataFrame(dtype=float)
    matrix = matrix.reindex(index=order, columns=order).fillna(0.0)
    matrix.index.name, matrix.columns.name = "from", "to"
    return matrix


# ---------------------------------------------------------------- figures


def plot_indicators(metrics: pd.DataFrame, *, lang: str = "en",
                    fig: Figure | None = None) -> Figure:
    """Draw the four yield indicators by class (2x2 panels) and return the Figure.

    Tax per mu, value added (VA) per mu, VA per tce and VA per tonne of
    emissions (亩均税收、亩均工业增加值、单位能耗/单位排放工业增加值), one line
    per class A-D plus all industrial firms, firms grouped by the class the
    year's evaluation gave.
    """
    style = _style(lang)
    fig = fig if fig is not None else _new_figure()
    # A thin third row holds the shared legend, so the layout engine keeps it
    # clear of the panels and of the source line below.
    grid = fig.add_gridspec(3, 2, height_ratios=[1.0, 1.0, 0.001])
    first = fig.add_subplot(grid[0, 0])
    axes = [first, *(fig.add_subplot(grid[i // 2, i % 2], sharex=first) for i in range(1, 4))]
    handles: dict[str, Any] = {}
    for i, (ax, metric) in enumerate(zip(axes, INDICATORS, strict=True)):
        handles |= _draw_class_lines(ax, metrics, metric, style)
        style.title(ax, style.labels[metric], size="medium")
        ax.set_ylabel(style.labels[f"{metric}.unit"], **style.fontkw)
        if i >= 2:
            ax.set_xlabel(style.labels["year"], **style.fontkw)
        else:
            ax.tick_params(labelbottom=False)
    fig.suptitle(style.labels["indicators.title"], **style.fontkw, size="x-large")
    legend_ax = fig.add_subplot(grid[2, :], label="legend")
    legend_ax.axis("off")
    if handles:
        legend_ax.legend(handles.values(), handles.keys(), ncols=len(handles), loc="center",
                         prop=style.legend_font(), frameon=False)
    return fig


def plot_class_counts(metrics: pd.DataFrame, *, lang: str = "en",
                      ax: Axes | None = None) -> Axes:
    """Draw evaluated firms per class A-D over time as stacked bars; return the Axes."""
    style = _style(lang)
    ax = ax if ax is not None else _new_figure().add_subplot()
    groups = [f"class={c}" for c in CLASSES]
    summary = replication_summary(metrics, "firms", groups=groups, fill_value=0.0)
    if summary.empty:
        _no_data(ax, style)
    else:
        years = np.sort(summary["year"].unique())
        bottom = np.zeros(len(years))
        for c in CLASSES:
            heights = (summary[summary["group"] == f"class={c}"]
                       .set_index("year")["mean"].reindex(years, fill_value=0.0).to_numpy())
            ax.bar(years, heights, bottom=bottom, width=0.7, color=COLOURS[c],
                   edgecolor="white", linewidth=0.5, label=style.labels[f"class.{c}"])
            bottom += heights
        _year_axis(ax, years)
        _legend_right(ax, style)
    style.title(ax, style.labels["class_counts.title"])
    ax.set_xlabel(style.labels["year"], **style.fontkw)
    ax.set_ylabel(style.labels["class_counts.ylabel"], **style.fontkw)
    return ax


def plot_resource_bill(metrics: pd.DataFrame, *, lang: str = "en",
                       ax: Axes | None = None) -> Axes:
    """Draw the resource bill per 万元 of VA by class charged; return the Axes.

    The bill is electricity + water + urban land-use tax + pollution
    (资源要素成本), in yuan per 10^4 yuan of value added, firms grouped by the
    class in force (the one they were charged as) during the year.
    """
    style = _style(lang)
    ax = ax if ax is not None else _new_figure().add_subplot()
    if _draw_class_lines(ax, metrics, "resource_bill_yuan_per_wan_yuan_va", style):
        _legend_right(ax, style)
    style.title(ax, style.labels["resource_bill.title"])
    ax.set_xlabel(style.labels["year"], **style.fontkw)
    ax.set_ylabel(style.labels["resource_bill.ylabel"], **style.fontkw)
    return ax


def plot_transitions(metrics: pd.DataFrame, *, lang: str = "en",
                     ax: Axes | None = None) -> Axes:
    """Draw the class transition matrix as an annotated heatmap; return the Axes.

    Rows are the class in the previous evaluation, columns the class in this
    one. Cells show the number of firms (summed over years, mean over
    replications) and their share of the row; colour is the row share.
    """
    style = _style(lang)
    ax = ax if ax is not None else _new_figure().add_subplot()
    counts = transition_matrix(metrics)
    rows = metrics[_annual(metrics) & (metrics["metric"] == TRANSITION_METRIC)]
    years = np.sort(rows["year"].unique())
    span = "" if not len(years) else (
        str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}")
    style.title(ax, style.labels["transitions.title"].format(years=span))
    totals = counts.sum(axis=1).to_numpy()[:, None]
    shares = np.divide(counts.to_numpy(), totals, out=np.zeros(counts.shape), where=totals > 0)
    image = ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
    whole = np.allclose(counts.to_numpy(), np.round(counts.to_numpy()))
    for (i, j), count in np.ndenumerate(counts.to_numpy()):
        ax.text(j, i, f"{count:,.0f}\n{shares[i, j]:.0%}" if whole
                else f"{count:,.1f}\n{shares[i, j]:.0%}",
                ha="center", va="center", size="small",
                color="white" if shares[i, j] > 0.6 else "black")
    ax.set_xticks(range(counts.shape[1]), counts.columns)
    ax.set_yticks(range(counts.shape[0]), counts.index)
    ax.set_xlabel(style.labels["transitions.to"], **style.fontkw)
    ax.set_ylabel(style.labels["transitions.from"], **style.fontkw)
    ax.xaxis.set_label_position("top")
    ax.xaxis.tick_top()
    colorbar = ax.figure.colorbar(image, ax=ax, format="{x:.0%}")
    colorbar.set_label(style.labels["transitions.share"], **style.fontkw)
    if counts.to_numpy().sum() == 0:
        _no_data(ax, style)
    return ax


def make_figures(run_dir: str | Path, *, lang: str = "en",
                 formats: Sequence[str] = ("png", "svg")) -> list[Path]:
    """Draw the policy-brief figure set for a run and return the files written.

    Parameters
    ----------
    run_dir : str or Path
        Run directory holding ``manifest.json`` and ``metrics.parquet``.
    lang : {"en", "zh"}
        Label language. Chinese needs a CJK font; without one a
        :class:`CJKFontWarning` is issued and English labels are used.
    formats : sequence of str
        File formats, e.g. ``("png", "svg")``. SVG output is byte-identical
        for identical input.

    Returns
    -------
    list of Path
        ``<run_dir>/figures/<figure>.<format>`` for each of :data:`FIGURES`
        and each format.
    """
    run_dir = Path(run_dir)
    metrics, manifest = read_metrics(run_dir), read_manifest(run_dir)
    formats = _check_formats(formats)
    style = _style(lang)  # warns once here; the figures then get a language that works
    source = source_line(manifest, lang=style.lang)
    if manifest.get("replications", 1) != 1:
        source = f"{source} · {style.labels['band']}"
    draws: dict[str, Callable[[Figure], object]] = {
        "indicators": lambda f: plot_indicators(metrics, lang=style.lang, fig=f),
        "class_counts": lambda f: plot_class_counts(metrics, lang=style.lang, ax=f.add_subplot()),
        "resource_bill": lambda f: plot_resource_bill(
            metrics, lang=style.lang, ax=f.add_subplot()),
        "transitions": lambda f: plot_transitions(metrics, lang=style.lang, ax=f.add_subplot()),
    }
    out_dir = run_dir / "figures"
    out_dir.mkdir(exist_ok=True)
    written: list[Path] = []
    for name in FIGURES:
        fig = _new_figure()
        try:
            draws[name](fig)
            _add_source_line(fig, source, style)
            for fmt in formats:
                path = out_dir / f"{name}.{fmt}"
                _save(fig, path, fmt, source)
                written.append(path)
                logger.info("wrote %s", path)
        finally:
            fig.clear()
    return written


# ---------------------------------------------------------------- fonts and styling


def find_cjk_font() -> str | None:
    """Return the name of an installed font with Chinese glyphs, or None.

    Tries :data:`CJK_FONT_CANDIDATES` in order, then any font whose name
    contains "CJK".
    """
    names = sorted({f.name for f in fontManager.ttflist})
    for candidate in CJK_FONT_CANDIDATES:
        if candidate in names:
            return candidate
    return next((n for n in names if "CJK" in n.upper()), None)


@dataclass(frozen=True)
class _Style:
    """The language actually used and the fonts that can render it."""

    lang: str
    font: FontProperties | None  # for labels; None = matplotlib's default
    source_font: FontProperties | None  # may show a Chinese scenario name in English figures

    @property
    def labels(self) -> dict[str, str]:
        return LABELS[self.lang]

    @property
    def fontkw(self) -> dict[str, FontProperties]:
        """Keyword arguments that set the font, empty for matplotlib's default."""
        return {} if self.font is None else {"fontproperties": self.font}

    def title(self, ax: Axes, text: str, *, size: str = "large") -> None:
        ax.set_title(text, **self.fontkw, size=size)

    def legend_font(self) -> FontProperties:
        font = self.font.copy() if self.font is not None else FontProperties()
        font.set_size("small")
        return font


def _style(lang: str) -> _Style:
    _labels(lang)  # validates lang
    cjk = find_cjk_font()
    fallback = FontProperties(family=["sans-serif", cjk]) if cjk else None
    if lang == "zh" and cjk is None:
        warnings.warn(
            "Chinese labels need a CJK font (e.g. `apt-get install fonts-noto-cjk`, then "
            "delete matplotlib's font cache); none is installed, so English labels are used.",
            CJKFontWarning, stacklevel=3)
        return _Style("en", None, None)
    if lang == "zh":
        font = FontProperties(family=[cjk, "sans-serif"])
        return _Style("zh", font, font)
    return _Style("en", None, fallback)


def _labels(lang: str) -> dict[str, str]:
    if lang not in LABELS:
        raise ValueError(f"The 'lang' parameter must be one of {sorted(LABELS)}. Got {lang!r}.")
    return LABELS[lang]


def _draw_class_lines(ax: Axes, metrics: pd.DataFrame, metric: str,
                      style: _Style) -> dict[str, Any]:
    """Plot one mean line (and CI band) per class A-D and "all"; return legend handles."""
    keys = [*CLASSES, "all"]
    summary = replication_summary(
        metrics, metric, groups=[k if k == "all" else f"class={k}" for k in keys])
    handles: dict[str, Any] = {}
    for key in keys:
        sub = summary[summary["group"] == (key if key == "all" else f"class={key}")]
        sub = sub.dropna(subset=["mean"]).sort_values("year")
        if sub.empty:
            continue
        label = style.labels[f"class.{key}"]
        (line,) = ax.plot(sub["year"], sub["mean"], color=COLOURS[key], marker=MARKERS[key],
                          linestyle="--" if key == "all" else "-", markersize=4, label=label)
        if sub["n"].max() > 1:
            ax.fill_between(sub["year"], sub["ci_low"], sub["ci_high"], color=COLOURS[key],
                            alpha=0.15, linewidth=0)
        handles[label] = line
    if handles:
        _year_axis(ax, np.sort(summary["year"].unique()))
    else:
        _no_data(ax, style)
    return handles


def _year_axis(ax: Axes, years: np.ndarray) -> None:
    if len(years) <= 12:
        ax.set_xticks(years, [str(y) for y in years])
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _legend_right(ax: Axes, style: _Style) -> None:
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), prop=style.legend_font(),
              frameon=False)


def _no_data(ax: Axes, style: _Style) -> None:
    ax.text(0.5, 0.5, style.labels["no_data"], transform=ax.transAxes, ha="center",
            va="center", color="0.5", **style.fontkw)


def _new_figure() -> Figure:
    return Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")


def _add_source_line(fig: Figure, source: str, style: _Style) -> None:
    # As the figure's supxlabel the constrained layout keeps room for it below
    # the axes and any bottom legend, which a free fig.text would overlap.
    font = {"fontproperties": style.source_font} if style.source_font is not None else {}
    fig.supxlabel(source, x=0.005, ha="left", color="0.35",  # no y: keeps it layout-managed
                  **font, size="x-small")


def _check_formats(formats: Sequence[str]) -> tuple[str, ...]:
    if isinstance(formats, str):
        formats = (formats,)
    supported = FigureCanvasBase.get_supported_filetypes()
    bad = [f for f in formats if f not in supported]
    if bad or not formats:
        raise ValueError(f"The 'formats' parameter must be a non-empty sequence of "
                         f"{sorted(supported)}. Got {list(formats)!r}.")
    return tuple(formats)


def _save(fig: Figure, path: Path, fmt: str, source: str) -> None:
    """Save with metadata that carries provenance but no timestamp (reproducible files)."""
    metadata = {"png": {"Source": source}, "svg": {"Date": None, "Description": source},
                "pdf": {"CreationDate": None, "Subject": source}}.get(fmt)
    # The SVG writer hashes element ids with a random salt unless one is set; the
    # rc_context restores the global setting straight after.
    with mpl.rc_context({"svg.hashsalt": mpl.rcParams["svg.hashsalt"] or SVG_HASHSALT}):
        fig.savefig(path, format=fmt, dpi=DPI, metadata=metadata)


def _annual(metrics: pd.DataFrame) -> pd.Series:
    return metrics["month"].isna()


def _check_one_scenario(metrics: pd.DataFrame) -> None:
    scenarios = sorted(metrics["scenario"].unique())
    if len(scenarios) > 1:
        raise ValueError(f"Plots need the metrics of one scenario. Got {scenarios}.")

"""Look and output of every figure: fonts, colours, page size, axes helpers and saving.

Nothing here reads results; the figure modules pass in what to draw.
"""

from __future__ import annotations

import functools
import logging
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backend_bases import FigureCanvasBase
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, fontManager
from matplotlib.gridspec import GridSpec
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter

from simulator import faults
from simulator.plots._labels import LABELS, labels_for
from simulator.scenario import ScenarioError

__all__ = [
    "CJKFontWarning",
    "COLOURS",
    "MARKERS",
    "SCENARIO_COLOURS",
    "Style",
    "bundled_cjk_font",
    "find_cjk_font",
    "scenario_styles",
    "style_for",
    "wrap_label",
]

logger = logging.getLogger(__name__)

# Okabe-Ito colours (colour-blind safe); A green ... D vermillion, fixed for every figure.
COLOURS: dict[str, str] = {
    "A": "#009E73", "B": "#0072B2", "C": "#E69F00", "D": "#D55E00", "U": "#999999",
    "all": "#000000",
}
# Markers repeat the class in a second channel for greyscale print.
MARKERS: dict[str, str] = {"A": "o", "B": "s", "C": "^", "D": "v", "all": "none"}

#: Scenario colours in order, the first (the reference) black: Okabe-Ito without its
#: yellow (too pale for thin lines), then grey. Distinct for up to eight scenarios.
SCENARIO_COLOURS: tuple[str, ...] = (
    "#000000", "#0072B2", "#D55E00", "#009E73", "#E69F00", "#56B4E9", "#CC79A7", "#777777",
)
SCENARIO_MARKERS: tuple[str, ...] = ("o", "s", "^", "v", "D", "P", "X", "*")

FIGSIZE = (10.0, 6.0)  # inches, policy-brief page width
DPI = 150
SVG_HASHSALT = "mujun"  # fixed salt -> stable element ids -> byte-identical SVG

#: The CJK font file that comes with the install (in the mplfonts package).
BUNDLED_CJK_FILE = "NotoSansCJKsc-Regular.otf"
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

# Thousands separators and no offset ("+1e6"), which a policy reader would misread.
QUANTITY_FORMAT = FuncFormatter(lambda x, _pos: f"{x:,.0f}" if abs(x) >= 1000 else f"{x:g}")


class CJKFontWarning(UserWarning):
    """Chinese labels were asked for but no CJK font is installed."""


# ---------------------------------------------------------------- fonts and labels


def bundled_cjk_font() -> Path | None:
    """Return the CJK font that comes with the install (Noto Sans CJK SC), or None.

    It is shipped by the ``mplfonts`` package (a dependency; the font is under
    the SIL Open Font License), so Chinese labels render on a machine with no
    system font and no font cache to clear.
    """
    try:
        path = files("mplfonts") / "fonts" / BUNDLED_CJK_FILE
    except ModuleNotFoundError:
        return None
    return Path(str(path)) if path.is_file() else None


@functools.cache
def _register_bundled_cjk_font() -> None:
    """Add the bundled CJK font to matplotlib's font list of this process (once)."""
    path = bundled_cjk_font()
    if path is not None and not any(f.fname == str(path) for f in fontManager.ttflist):
        fontManager.addfont(str(path))


def find_cjk_font() -> str | None:
    """Return the name of a font with Chinese glyphs, or None.

    Registers the bundled font (:func:`bundled_cjk_font`) first, then tries
    :data:`CJK_FONT_CANDIDATES` in order, then any font whose name contains
    "CJK".
    """
    _register_bundled_cjk_font()
    names = sorted({f.name for f in fontManager.ttflist})
    for candidate in CJK_FONT_CANDIDATES:
        if candidate in names:
            return candidate
    return next((n for n in names if "CJK" in n.upper()), None)


@dataclass(frozen=True)
class Style:
    """The language actually used and the fonts that can render it."""

    lang: str
    font: FontProperties | None  # for labels; None = matplotlib's default
    source_font: FontProperties | None  # may show a Chinese scenario name in English figures

    @property
    def labels(self) -> dict[str, str]:
        """Label text in the language used."""
        return LABELS[self.lang]

    @property
    def fontkw(self) -> dict[str, FontProperties]:
        """Keyword arguments that set the font, empty for matplotlib's default."""
        return {} if self.font is None else {"fontproperties": self.font}

    def title(self, ax: Axes, text: str, *, size: str = "large") -> None:
        """Set the Axes title in the label font."""
        ax.set_title(text, **self.fontkw, size=size)

    def legend_font(self) -> FontProperties:
        """Return the label font at legend size."""
        font = self.font.copy() if self.font is not None else FontProperties()
        font.set_size("small")
        return font


def style_for(lang: str) -> Style:
    """Return the style for ``lang``, warning and falling back to English without a CJK font.

    The warning points at the caller of the public function that called this.
    """
    labels_for(lang)  # validates lang
    cjk = find_cjk_font()
    fallback = FontProperties(family=["sans-serif", cjk]) if cjk else None
    if lang == "zh" and cjk is None:
        warnings.warn(
            "Chinese labels need a CJK font (e.g. `apt-get install fonts-noto-cjk`, then "
            "delete matplotlib's font cache); none is installed, so English labels are used.",
            CJKFontWarning, stacklevel=3)
        return Style("en", None, None)
    if lang == "zh":
        font = FontProperties(family=[cjk, "sans-serif"])
        return Style("zh", font, font)
    return Style("en", None, fallback)


# ---------------------------------------------------------------- figures and panels


def new_figure(*, figsize: tuple[float, float] | None = None) -> Figure:
    """Return an empty policy-brief page (``figsize`` inches, default 10 x 6), not in pyplot."""
    return Figure(figsize=figsize or FIGSIZE, dpi=DPI, layout="constrained")


def scenario_styles(names: Sequence[str]) -> dict[str, dict[str, str]]:
    """Return line colour, marker and line style per scenario, in the order given.

    The first scenario (the reference of a comparison) is black. Beyond the
    eight :data:`SCENARIO_COLOURS` the colours repeat with a dashed line.
    """
    n = len(SCENARIO_COLOURS)
    return {name: {"color": SCENARIO_COLOURS[i % n], "marker": SCENARIO_MARKERS[i % n],
                   "linestyle": "-" if i < n else "--"}
            for i, name in enumerate(names)}


def wrap_label(text: str, width: int = 24) -> str:
    """Return ``text`` broken into lines of about ``width`` characters.

    Lines break after spaces, underscores, dots and slashes, so that scenario
    names and dotted parameter paths wrap too; a longer piece stays whole.
    """
    pieces = [p for p in re.split(r"(?<=[ _./])", str(text)) if p]
    lines: list[str] = []
    line = ""
    for piece in pieces:
        if line and len(line) + len(piece.rstrip()) > width:
            lines.append(line.rstrip())
            line = ""
        line += piece
    if line or not lines:
        lines.append(line.rstrip())
    return "\n".join(lines)


def panel_grid(fig: Figure, n: int) -> tuple[list[tuple[Axes, bool]], GridSpec]:
    """Add a grid of ``max(n, 1)`` panels plus a thin legend row.

    Returns the panels as (Axes, gets the x label) pairs, and the grid.

    One or two panels side by side, three or four in a 2x2 grid, five or six
    in a 2x3 grid (each panel keeps room for a second y-axis); a panel gets
    the x-axis label when no panel sits below it. Panels share the x-axis.
    """
    n_panels = max(n, 1)
    ncols = n_panels if n_panels <= 2 else 2 if n_panels <= 4 else 3
    nrows = -(-n_panels // ncols)
    # As in plot_indicators, the legend lives in a thin last row kept clear by the layout.
    grid = fig.add_gridspec(nrows + 1, ncols, height_ratios=[*([1.0] * nrows), 0.001])
    panels: list[tuple[Axes, bool]] = []
    for i in range(n_panels):
        row, col = divmod(i, ncols)
        ax = fig.add_subplot(grid[row, col], sharex=panels[0][0] if panels else None)
        panels.append((ax, i + ncols >= n_panels))
    return panels, grid


def legend_row(fig: Figure, grid: GridSpec, handles: dict[str, Any], style: Style, *,
               ncols: int | None = None) -> None:
    """Put one legend for all panels in the grid's last (thin) row.

    The entries sit side by side, or ``ncols`` to a row.
    """
    legend_ax = fig.add_subplot(grid[-1, :], label="legend")
    legend_ax.axis("off")
    if handles:
        legend_ax.legend(handles.values(), handles.keys(), ncols=ncols or len(handles),
                         loc="center", prop=style.legend_font(), frameon=False)


def finish_panels(fig: Figure, grid: GridSpec, panels: list, handles: dict[str, Any],
                  style: Style, *, title_key: str, empty: bool) -> Figure:
    """Finish a grid of panels: "No data" if ``empty``, the title, one legend row."""
    if empty:
        no_data(panels[0][0], style)
    fig.suptitle(style.labels[title_key], **style.fontkw, size="x-large")
    legend_row(fig, grid, handles, style)
    return fig


def legend_right(ax: Axes, style: Style) -> None:
    """Put the Axes' legend outside, to its right."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), prop=style.legend_font(),
              frameon=False)


def no_data(ax: Axes, style: Style) -> None:
    """Write "No data" in the middle of an empty panel."""
    ax.text(0.5, 0.5, style.labels["no_data"], transform=ax.transAxes, ha="center",
            va="center", color="0.5", **style.fontkw)


# ---------------------------------------------------------------- year axes


def year_axis(ax: Axes, years: np.ndarray) -> None:
    """Year ticks for a full-width panel: every year up to 12 years, else integer ticks."""
    if len(years) <= 12:
        ax.set_xticks(years, [str(y) for y in years])
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def year_step(ax: Axes, n_years: int) -> int:
    """Label every n-th year so that a panel holds at most 12 / (panels per row) labels."""
    spec = ax.get_subplotspec()
    max_labels = 12 // (spec.get_gridspec().ncols if spec is not None else 1)
    return -(-n_years // max(max_labels, 1))


def panel_year_axis(ax: Axes, years: np.ndarray) -> None:
    """Year ticks for a panel of a grid: every year, or every n-th when the panel is narrow."""
    if len(years):
        labelled = years[::year_step(ax, len(years))]
        ax.set_xticks(labelled, [str(y) for y in labelled])


def fractional_year_axis(ax: Axes, years: np.ndarray) -> None:
    """X-axis for monthly points at year + (month - 0.5) / 12: year labels mid-year."""
    if not len(years):
        return
    step = year_step(ax, len(years))
    ax.set_xlim(years[0], years[-1] + 1)
    # Unlabelled ticks mark the year boundaries; the labels sit mid-year.
    ax.set_xticks(np.arange(years[0], years[-1] + 2, 1 if step <= 3 else step))
    ax.xaxis.set_major_formatter(NullFormatter())
    labelled = years[::step]
    ax.set_xticks(labelled + 0.5, [str(y) for y in labelled], minor=True)
    ax.tick_params(axis="x", which="minor", length=0)


# ---------------------------------------------------------------- output


def add_source_line(fig: Figure, source: str, style: Style) -> None:
    """Print the provenance line at the bottom left of the figure."""
    # As the figure's supxlabel the constrained layout keeps room for it below
    # the axes and any bottom legend, which a free fig.text would overlap.
    font = {"fontproperties": style.source_font} if style.source_font is not None else {}
    fig.supxlabel(source, x=0.005, ha="left", color="0.35",  # no y: keeps it layout-managed
                  **font, size="x-small")


def check_formats(formats: Sequence[str]) -> tuple[str, ...]:
    """Return ``formats`` as a tuple; raise ValueError if one cannot be written."""
    if isinstance(formats, str):
        formats = (formats,)
    supported = FigureCanvasBase.get_supported_filetypes()
    bad = [f for f in formats if f not in supported]
    if bad or not formats:
        raise ValueError(f"The 'formats' parameter must be a non-empty sequence of "
                         f"{sorted(supported)}. Got {list(formats)!r}.")
    return tuple(formats)


def save_all(fig: Figure, out_dir: Path, name: str, formats: Sequence[str],
             source: str) -> list[Path]:
    """Save ``fig`` as ``out_dir/<name>.<format>`` for each format; return the paths.

    Raises
    ------
    ScenarioError
        If ``out_dir`` is a file (the command line: one line, exit status 2).
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise ScenarioError(f"{out_dir.name} is a file, not a directory: move it away to "
                            "draw the figures", file=out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = out_dir / f"{name}.{fmt}"
        save(fig, path, fmt, source)
        logger.info("wrote %s", path)
        paths.append(path)
    faults.point("figures.drawn")
    return paths


def save(fig: Figure, path: Path, fmt: str, source: str) -> None:
    """Save with metadata that carries provenance but no timestamp (reproducible files)."""
    metadata = {"png": {"Source": source}, "svg": {"Date": None, "Description": source},
                "pdf": {"CreationDate": None, "Subject": source}}.get(fmt)
    # The SVG writer hashes element ids with a random salt unless one is set; the
    # rc_context restores the global setting straight after.
    with mpl.rc_context({"svg.hashsalt": mpl.rcParams["svg.hashsalt"] or SVG_HASHSALT}):
        fig.savefig(path, format=fmt, dpi=DPI, metadata=metadata)

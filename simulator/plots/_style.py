"""Look and output of every figure: fonts, colours, page size, axes helpers and saving.

Nothing here reads results; the figure modules pass in what to draw.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import unicodedata
import warnings
from collections.abc import Iterator, Sequence
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
    "PAGE_RC",
    "SCENARIO_COLOURS",
    "Style",
    "bundled_cjk_font",
    "figure_dir",
    "find_cjk_font",
    "mark_figure_policy_dates",
    "mark_policy_dates",
    "page",
    "scenario_styles",
    "style_for",
    "text_columns",
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
#: Figures are drawn 10 in wide and printed 17 cm (6.7 in) wide in the brief, at 2/3 of
#: their size: a 13 pt base font prints at about 8.7 pt, "x-small" tick labels at 6 pt.
PAGE_RC: dict[str, Any] = {"font.size": 13.0, "axes.titlesize": "medium",
                           "legend.fontsize": "small"}
#: Colour of the thin vertical lines that mark policy changes on time axes.
POLICY_COLOUR = "#7F3C8D"
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


def figure_dir(directory: str | Path, lang: str) -> Path:
    """Return where the figures of a results directory go in ``lang``.

    English figures are in ``<directory>/figures``, Chinese ones in
    ``<directory>/figures/zh``, so that both sets live side by side.

    Examples
    --------
    >>> figure_dir("results/run", "zh").as_posix()
    'results/run/figures/zh'
    """
    labels_for(lang)  # validates lang
    base = Path(directory) / "figures"
    return base if lang == "en" else base / lang


@contextlib.contextmanager
def page() -> Iterator[None]:
    """Draw in this context for text sized for the printed page (:data:`PAGE_RC`)."""
    with mpl.rc_context(PAGE_RC):
        yield


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


# Closing marks, full-width (right parenthesis and corner brackets, comma, full stop,
# enumeration comma, colon, semicolon, ! and ?) and ASCII: none may start a line.
_NO_LINE_START = "".join(map(chr, (0xFF09, 0x300D, 0x300F, 0x3011, 0xFF0C, 0x3002, 0x3001,
                                   0xFF1A, 0xFF1B, 0xFF01, 0xFF1F))) + "),.:;!?"


def wrap_label(text: str, width: int = 24) -> str:
    """Return ``text`` broken into lines of about ``width`` columns (a CJK character is two).

    Lines break after spaces, underscores, dots and slashes, so that scenario
    names and dotted parameter paths wrap too, and between Chinese
    characters; a longer piece stays whole.
    """
    pieces = [p for p in re.split(r"(?<=[ _./\u2e80-\u9fff\uff00-\uffef])", str(text)) if p]
    lines: list[str] = []
    line, used = "", 0
    for piece in pieces:
        size = text_columns(piece.rstrip())
        # A closing mark never starts a line: it stays with what it closes.
        if line and used + size > width and piece[0] not in _NO_LINE_START:
            lines.append(line.rstrip())
            line, used = "", 0
        line, used = line + piece, used + text_columns(piece)
    if line or not lines:
        lines.append(line.rstrip())
    return "\n".join(lines)


def text_columns(text: str) -> int:
    """Return the printed width of ``text`` in columns, a wide (CJK) character counting two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


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
        fitting = legend_columns(list(handles), fig.get_figwidth())
        legend_ax.legend(handles.values(), handles.keys(),
                         ncols=min(ncols, fitting) if ncols else fitting,
                         loc="center", prop=style.legend_font(), frameon=False)


def legend_columns(labels: Sequence[str], width_in: float) -> int:
    """Return how many legend entries fit side by side across a page ``width_in`` inches wide.

    Each entry takes its longest label's width plus room for the key, in
    columns of "small" text (about 11 to the inch at the page font size).
    """
    widest = max((text_columns(line) for label in labels for line in str(label).split("\n")),
                 default=0)
    n = max(len(labels), 1)
    while n > 1 and n * (widest + 6) > 11 * width_in:
        n -= 1
    return n


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


# ---------------------------------------------------------------- policy dates


def mark_policy_dates(ax: Axes, dates: Sequence[Any], style: Style, *, annual: bool = True,
                      label: bool = True) -> None:
    """Draw a thin vertical line, labelled with its date, at each policy change.

    ``dates`` are :class:`~simulator.plots.policy.PolicyDate`. On an annual
    axis (points at x = year) a change in January of year y sits between
    the points of y - 1 and y; on a monthly axis (x = year + (month - 0.5) / 12)
    it sits at the start of its month.
    """
    limits = ax.get_xlim()
    for date in dates:
        x = date.year + (date.month - 1) / 12 - (0.5 if annual else 0.0)
        if not min(limits) < x < max(limits):  # before or after what the axis shows
            continue
        ax.axvline(x, color=POLICY_COLOUR, linewidth=0.9, linestyle=(0, (4, 2)), zorder=1,
                   gid="policy_date")
        if label:
            ax.annotate(date.text, (x, 1.0), xycoords=("data", "axes fraction"),
                        xytext=(2, -2), textcoords="offset points", ha="left", va="top",
                        size="xx-small", color=POLICY_COLOUR, **style.fontkw)
    ax.set_xlim(limits)


def mark_figure_policy_dates(fig: Figure, dates: Sequence[Any], style: Style, *,
                             annual: bool = True) -> None:
    """Mark ``dates`` on every time-axis panel of a drawn figure, labelled on the top row.

    Panels are the figure's Axes except the legend row, colour bars and twin
    axes (labels ``legend``, ``<colorbar>``, ``volume:*``).
    """
    for ax in fig.axes:
        name = ax.get_label()
        if name in ("legend", "<colorbar>") or name.startswith("volume:") or not ax.axison:
            continue
        spec = ax.get_subplotspec()
        mark_policy_dates(ax, dates, style, annual=annual,
                          label=spec is None or spec.rowspan.start == 0)


# ---------------------------------------------------------------- output


# A Chinese character (or full-width sign), a word with its trailing space, or spaces.
_CAPTION_TOKEN = re.compile(r"[\u2e80-\u9fff\uff00-\uffef]|[^\s\u2e80-\u9fff\uff00-\uffef]+\s*|\s+")


def fill_caption(text: str, width: int = 160) -> str:
    """Return ``text`` broken into lines of at most ``width`` columns (a CJK character is two).

    Lines break at spaces, or between Chinese characters; existing line breaks stay.
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, used = "", 0
        for token in _CAPTION_TOKEN.findall(paragraph):
            size = text_columns(token)
            if line and used + len(token.rstrip()) > width:
                lines.append(line.rstrip())
                line, used = "", 0
            line, used = line + token, used + size
        lines.append(line.rstrip())
    return "\n".join(lines)


def add_source_line(fig: Figure, source: str, style: Style) -> None:
    """Print the provenance line (wrapped to the page) at the bottom left of the figure."""
    # As the figure's supxlabel the constrained layout keeps room for it below
    # the axes and any bottom legend, which a free fig.text would overlap.
    font = {"fontproperties": style.source_font} if style.source_font is not None else {}
    width = int(14 * fig.get_figwidth())  # columns of x-small text across the page
    # No y: keeps it layout-managed.
    fig.supxlabel(fill_caption(source, width), x=0.005, ha="left", color="0.35",
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

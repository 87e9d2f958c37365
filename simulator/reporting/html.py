"""HTML helpers of the brief and the card: templates, tables, number formats, the page.

The brief's pages are Jinja2 templates (``simulator/reporting/templates``,
rendered by :func:`render` with autoescaping); the card builds its page from
the helpers here. Everything a report writes is escaped unless it is
:class:`Markup`; pages are self-contained (inline CSS, the CJK font subset to
the page by :func:`simulator.reporting.fonts.font_face_css`, figures as
base64 PNG) and written atomically.
"""

from __future__ import annotations

import base64
import functools
import html
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from markupsafe import Markup as _SafeMarkup

from simulator.reporting.fonts import FONT_FAMILY, font_face_css
from simulator.results import atomic_write

__all__ = ["FONT_SLOT", "Markup", "embed_font", "figure", "fmt", "fmt_ci", "html_page",
           "html_table", "para", "png_data_uri", "pre_block", "render", "write_html"]

#: Where a page's ``@font-face`` rule goes; :func:`embed_font` fills it.
FONT_SLOT = "/*@font-face*/"


class Markup(_SafeMarkup):
    """A string of HTML that is already safe: :func:`html_table` and templates keep it."""

    __slots__ = ()


def _cell(value: object) -> str:
    return value if isinstance(value, Markup) else html.escape(str(value))


def fmt(value: object, *, signed: bool = False) -> str:
    """Format a number for a table: 4 significant digits, thousands separators, "—" for NaN.

    Examples
    --------
    >>> fmt(25.14159), fmt(1234567.8), fmt(float("nan")), fmt(0.5, signed=True)
    ('25.14', '1,234,568', '—', '+0.5')
    """
    if value is None:
        return "—"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(v):
        return "—" if math.isnan(v) else ("∞" if v > 0 else "−∞")
    if abs(v) < 1e-6:  # float dust, e.g. 1e-12 of a quantity that is zero
        v = 0.0
    sign = "+" if signed and v != 0 else ""
    if abs(v) >= 999.95:  # whole numbers from here on: never "1e+04"
        return f"{v:{sign},.0f}"
    if v == int(v):
        return f"{int(v):{sign},d}"
    return f"{v:{sign},.4g}"


def fmt_ci(mean: float, low: float, high: float, *, signed: bool = False) -> str:
    """Format ``mean [low, high]``, or the mean alone when the interval is NaN."""
    if pd.isna(low) or pd.isna(high):
        return fmt(mean, signed=signed)
    return f"{fmt(mean, signed=signed)} [{fmt(low)}, {fmt(high)}]"


def html_table(header: Sequence[object], rows: Iterable[Sequence[object]], *,
               caption: str | None = None, numeric_from: int = 1) -> str:
    """Return an HTML table; cells are escaped unless they are :class:`Markup`.

    Parameters
    ----------
    header : sequence
        Column headings.
    rows : iterable of sequences
        Cells, one sequence per row.
    caption : str, optional
        Caption above the table (escaped).
    numeric_from : int
        Columns from this index on are right-aligned (numbers).
    """
    head = "".join(f'<th{" class=num" if i >= numeric_from else ""}>{_cell(h)}</th>'
                   for i, h in enumerate(header))
    body = "\n".join(
        "<tr>" + "".join(f'<td{" class=num" if i >= numeric_from else ""}>{_cell(c)}</td>'
                         for i, c in enumerate(row)) + "</tr>"
        for row in rows)
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table>"


def pre_block(content: str) -> str:
    """Return ``content`` escaped in a ``<pre>`` block."""
    return f"<pre>{html.escape(content)}</pre>"


def para(content: str, cls: str | None = None) -> str:
    """Return ``content`` escaped in a paragraph (of class ``cls``)."""
    attr = f' class="{cls}"' if cls else ""
    return f"<p{attr}>{html.escape(content)}</p>"


def png_data_uri(path: Path) -> str:
    """Return a PNG file as a ``data:image/png;base64,...`` URI."""
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def figure(path: Path, caption: str, k: int, t: dict[str, str]) -> str:
    """Return a PNG embedded as base64 in a numbered, captioned figure."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    alt = html.escape(caption, quote=True)
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{alt}">'
            f"<figcaption><b>{html.escape(t['figure'].format(k=k))}</b>"
            f"{html.escape(caption)}</figcaption></figure>")


_CSS = """
body { font-family: "Helvetica Neue", Arial, "FONT_FAMILY", "Noto Sans CJK SC", sans-serif;
       color: #222; max-width: 62em; margin: 2em auto; padding: 0 1.5em;
       line-height: 1.45; font-size: 11pt; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; border-bottom: 1px solid #999; padding-bottom: 0.15em; margin-top: 1.8em; }
h3 { font-size: 1.05em; margin-top: 1.3em; }
.meta { color: #555; font-size: 0.9em; margin-top: 0; }
.note { color: #444; font-size: 0.9em; }
table { border-collapse: collapse; margin: 0.6em 0 1em; font-size: 0.92em; }
caption { text-align: left; font-weight: bold; padding-bottom: 0.3em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.55em; vertical-align: top; }
th { background: #eee; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.absent td { color: #999; }
.sig { font-weight: bold; }
.warn { color: #8a1c1c; font-weight: bold; }
figure { margin: 1.2em 0; page-break-inside: avoid; break-inside: avoid; }
figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { font-size: 0.9em; color: #333; margin-top: 0.3em; }
pre { background: #f6f6f6; border: 1px solid #ddd; padding: 0.6em; font-size: 0.8em;
      white-space: pre-wrap; word-break: break-all; }
table, pre { page-break-inside: avoid; break-inside: avoid; }
@media print { body { max-width: none; margin: 0; font-size: 10pt; }
               h2 { page-break-after: avoid; break-after: avoid; } }
@page { margin: 1.6cm; }
""".replace("FONT_FAMILY", FONT_FAMILY)


def html_page(title: str, body: str, *, lang: str = "en") -> str:
    """Return a complete HTML document with the inline style sheet."""
    code = "zh-CN" if lang == "zh" else "en"
    return embed_font(
        f'<!DOCTYPE html>\n<html lang="{code}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{FONT_SLOT}{_CSS}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n")


def embed_font(document: str) -> str:
    """Fill the page's :data:`FONT_SLOT` with the CJK font subset to the page's characters."""
    return document.replace(FONT_SLOT, font_face_css(document), 1)


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("simulator.reporting", "templates"),
        autoescape=True, trim_blocks=True, lstrip_blocks=True,
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["fmt"] = fmt
    return env


def render(template: str, **context: Any) -> str:
    """Return a template of ``simulator/reporting/templates`` rendered, its font embedded.

    Parameters
    ----------
    template : str
        File name, e.g. ``"compare.html.j2"``.
    **context
        The template's variables; strings are escaped unless :class:`Markup`.
    """
    return embed_font(_environment().get_template(template).render(
        font_slot=Markup(FONT_SLOT), **context))


def write_html(path: str | Path, document: str) -> Path:
    """Write ``document`` to ``path`` atomically (a temporary file, then a rename)."""
    return atomic_write(path, lambda tmp: tmp.write_text(document, encoding="utf-8"))

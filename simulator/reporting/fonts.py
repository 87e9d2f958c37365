"""The CJK font of every page a report writes, subset to the page and embedded (字体嵌入).

A brief or a card in Chinese must render on a machine with no Chinese font
installed, in a browser and in a PDF. :func:`font_face_css` takes the text of
the page, keeps from the bundled Noto Sans CJK SC (the font the figures use,
:func:`simulator.plots._style.bundled_cjk_font`) only the glyphs of its characters,
and returns an ``@font-face`` rule with the subset as a base64 data URI. A
page of a few hundred distinct Chinese characters embeds a font of a few
hundred kilobytes instead of 16 MB, and the page stays one self-contained file.
"""

from __future__ import annotations

import base64
import functools
import io
import logging

__all__ = ["FONT_FAMILY", "covered", "font_face_css", "subset_font"]

log = logging.getLogger(__name__)

#: The family name the page's style sheet asks for.
FONT_FAMILY = "Mujun Noto Sans CJK"


def font_face_css(text: str) -> str:
    """Return an ``@font-face`` rule embedding the CJK font, subset to the characters of ``text``.

    Parameters
    ----------
    text : str
        Everything the page shows (its HTML will do: markup is ASCII, and
        ASCII characters are left to the page's other fonts).

    Returns
    -------
    str
        ``@font-face { font-family: "Mujun Noto Sans CJK"; src: url(data:font/otf;base64,...)
        format("opentype"); }``, or ``""`` when the text has no character the
        font draws or the bundled font is absent (then the style sheet's
        system fonts are the fallback).

    Examples
    --------
    >>> css = font_face_css("亩均税收")
    >>> css.startswith('@font-face { font-family: "Mujun Noto Sans CJK"')
    True
    """
    # Beyond ASCII only: Latin text takes the page's other fonts, and the rule stays the
    # same whatever paths and numbers the page shows.
    data = subset_font(text)
    if not data:
        return ""
    encoded = base64.b64encode(data).decode("ascii")
    return (f'@font-face {{ font-family: "{FONT_FAMILY}"; font-style: normal; '
            f'font-weight: 100 900; src: url(data:font/otf;base64,{encoded}) '
            'format("opentype"); }')


def covered(text: str) -> set[str]:
    """Return the characters of ``text`` that the bundled CJK font has a glyph for."""
    cmap = _cmap()
    return {c for c in text if ord(c) in cmap}


@functools.cache
def _cmap() -> frozenset[int]:
    font = _font()
    return frozenset() if font is None else frozenset(font.getBestCmap())


@functools.cache
def _font():  # noqa: ANN202 - a fontTools TTFont, or None
    from fontTools.ttLib import TTFont

    from simulator.plots._style import bundled_cjk_font

    path = bundled_cjk_font()
    if path is None:
        log.warning("the bundled CJK font (mplfonts) is missing: Chinese text falls back "
                    "to the system's fonts")
        return None
    return TTFont(str(path), lazy=True)


def subset_font(text: str) -> bytes:
    """Return the bundled CJK font cut to the glyphs of ``text``'s non-ASCII characters, as OTF.

    ``b""`` when none of them is in the font or the font is absent. The
    explorer serves this to the browser; :func:`font_face_css` embeds it.
    """
    return _subset("".join(sorted({c for c in text if ord(c) > 0x7F})))


@functools.lru_cache(maxsize=8)
def _subset(chars: str) -> bytes:
    """Return the bundled font cut to the glyphs of ``chars`` (sorted, distinct), as OTF."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    cmap = _cmap()
    wanted = [c for c in chars if ord(c) in cmap]
    if not wanted:
        return b""
    from simulator.plots._style import bundled_cjk_font

    options = subset.Options()
    options.hinting = False
    options.desubroutinize = True
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]  # names, copyright and the OFL licence
    options.layout_features = ["kern", "liga", "vert", "locl", "palt", "halt"]
    font = TTFont(str(bundled_cjk_font()), lazy=True)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for c in wanted])
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    return buffer.getvalue()

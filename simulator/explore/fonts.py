"""The Chinese font of the explorer's page: the bundled CJK font cut down to the characters used.

The page's text comes from the catalogue's locale files and the scenario
(sector and pollutant names), so the font the browser needs for Chinese is
the bundled Noto Sans CJK SC (:mod:`mplfonts`, as for the figures) cut down to
those characters by :func:`simulator.reporting.fonts.subset_font`: about
200 kB instead of 16 MB, so that it has loaded before the page is drawn and
Chinese text shows on a machine without a CJK font.
"""

from __future__ import annotations

import json
from pathlib import Path

from simulator.catalogue import LANGUAGES
from simulator.scenario import Scenario

__all__ = ["cjk_characters"]

#: First code point treated as CJK (the radicals; ASCII, Latin and Greek come from other fonts).
FIRST_CJK = 0x2E80
LOCALES = Path(__file__).resolve().parents[1] / "catalogue" / "locales"


def cjk_characters(scenario: Scenario) -> str:
    """Return every CJK character of the locale files and of ``scenario``, sorted."""
    texts = [(LOCALES / f"{lang}.yaml").read_text(encoding="utf-8") for lang in LANGUAGES]
    texts.append(json.dumps(scenario.model_dump(mode="json"), ensure_ascii=False))
    return "".join(sorted({c for text in texts for c in text if ord(c) >= FIRST_CJK}))

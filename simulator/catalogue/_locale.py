"""The texts of the catalogue's languages, read once per language from ``locales/<lang>.yaml``.

Every section of a locale file is a flat mapping of text keys to strings; both
languages have the same sections and keys (the tests check it).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import MappingProxyType

from simulator.catalogue._entries import (
    HERE,
    POLLUTANT_PLACEHOLDER,
    CatalogueError,
    catalogue,
    entry,
    family_match,
    read_yaml,
)

__all__ = ["LANGUAGES", "SECTIONS", "check_language", "key_indicators", "label", "text",
           "unit", "unit_text"]

#: The languages with a locale file.
LANGUAGES: tuple[str, ...] = ("en", "zh")
#: The sections of a locale file.
SECTIONS: tuple[str, ...] = ("labels", "unit_words", "figure_units", "key_indicators",
                             "figures", "brief", "card", "backtest", "cli", "explore")


def check_language(lang: str) -> str:
    """Return ``lang`` if it has a locale file; raise ValueError naming the languages known."""
    if lang not in LANGUAGES:
        raise ValueError(f"The 'lang' parameter must be one of {sorted(LANGUAGES)}. "
                         f"Got {lang!r}.")
    return lang


@functools.cache
def _locale(lang: str) -> Mapping[str, Mapping[str, str]]:
    path = HERE / "locales" / f"{check_language(lang)}.yaml"
    data = read_yaml(path)
    if sorted(data) != sorted(SECTIONS):
        raise CatalogueError(f"{path} has sections {sorted(data)}, expected {sorted(SECTIONS)}")
    out = {}
    for section in SECTIONS:
        texts = data[section] or {}
        bad = [k for k, v in texts.items() if not isinstance(k, str) or not isinstance(v, str)]
        if bad:  # e.g. an unquoted yes or 1.0 read as a bool or a number
            raise CatalogueError(f"{path}, {section}: key {bad[0]!r} and its text must be "
                                 "strings (quote them)")
        out[section] = MappingProxyType(dict(texts))
    return MappingProxyType(out)


def text(lang: str, section: str) -> Mapping[str, str]:
    """Return the texts of one section of the ``lang`` locale (read-only, cached).

    Parameters
    ----------
    lang : {"en", "zh"}
        Language.
    section : str
        One of :data:`SECTIONS`: ``labels`` (every catalogue entry),
        ``unit_words`` (unit symbols in words), ``figure_units`` (axis units
        of the metrics the figures name), ``key_indicators`` (the summaries'
        rows), ``figures``, ``brief``, ``card``, ``backtest`` and ``explore`` (the
        text of the figures, the policy brief, the firm card, the backtest figure
        and the interactive explorer).

    Examples
    --------
    >>> text("zh", "card")["title"]
    '企业亩均效益评价报告（一企一单）：{firm} 号企业'
    """
    if section not in SECTIONS:
        raise KeyError(f"no locale section {section!r}; one of {', '.join(SECTIONS)}")
    return _locale(lang)[section]


def label(name: str, lang: str) -> str:
    """Return the label of catalogue entry ``name`` in ``lang``.

    Examples
    --------
    >>> label("tax_per_mu_wan_yuan", "zh")
    '亩均税收'
    """
    labels = text(lang, "labels")
    if name not in labels:  # a member of a family (a further pollutant's): the family's label
        match = family_match(name)
        if match is not None and match[0].name in labels:
            return labels[match[0].name].replace(POLLUTANT_PLACEHOLDER, match[1])
    if name not in labels:
        raise KeyError(f"no {lang} label for {name!r}: add it to the labels of "
                       f"simulator/catalogue/locales/{lang}.yaml")
    return labels[name]


def unit_text(symbol: str, lang: str) -> str:
    """Return a unit symbol in ``lang``: whole, or each part of a ratio (``a/b``).

    Parts without a word stay as they are.

    Examples
    --------
    >>> unit_text("万元/mu", "zh"), unit_text("万元/mu", "en")
    ('万元/亩', '万元/mu')
    """
    words = text(lang, "unit_words")
    if symbol in words:
        return words[symbol]
    return "/".join(words.get(part, part) for part in symbol.split("/"))


def unit(name: str, lang: str) -> str:
    """Return the unit of catalogue entry ``name`` in ``lang`` (:func:`unit_text` of its symbol).

    Examples
    --------
    >>> unit("ind_va_per_tce", "zh")
    '万元/吨标准煤'
    """
    return unit_text(entry(name).unit, lang)


def key_indicators(lang: str) -> tuple[tuple[str, str, str], ...]:
    """Return the rows of the summaries: (metric, group, label in ``lang``).

    Examples
    --------
    >>> key_indicators("en")[0]
    ('tax_per_mu_wan_yuan', 'scale=above', 'Tax per mu, above-scale (万元/mu)')
    """
    labels = text(lang, "key_indicators")
    return tuple((metric, group, labels[f"{metric}[{group}]"])
                 for metric, group in catalogue().key_indicators)

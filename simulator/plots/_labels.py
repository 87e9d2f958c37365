"""Label text of every figure, in English and Chinese (图表标签), from the catalogue's locales.

A figure's labels are the ``figures`` section of ``simulator/catalogue/locales/<lang>.yaml``
and, for each metric in its ``figure_units`` section, the metric's label (key
``<metric>``) and axis unit (key ``<metric>.unit``). "万元" = 10^4 yuan.
"""

from __future__ import annotations

from simulator import catalogue

__all__ = ["LABELS", "labels_for"]


def _figure_labels(lang: str) -> dict[str, str]:
    units = catalogue.text(lang, "figure_units")
    metrics = {}
    for metric, unit in units.items():
        metrics[metric] = catalogue.label(metric, lang)
        metrics[f"{metric}.unit"] = unit
    return {**catalogue.text(lang, "figures"), **metrics}


#: Every label string, one dict per language.
LABELS: dict[str, dict[str, str]] = {lang: _figure_labels(lang) for lang in catalogue.LANGUAGES}


def labels_for(lang: str) -> dict[str, str]:
    """Return the labels of ``lang``; raise ValueError naming the languages known."""
    return LABELS[catalogue.check_language(lang)]

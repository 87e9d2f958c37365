"""Label text of every figure, in English and Chinese (图表标签), from the catalogue's locales.

A figure's labels are the ``figures`` section of ``simulator/catalogue/locales/<lang>.yaml``
and, for each metric in its ``figure_units`` section, the metric's label (key
``<metric>``) and axis unit (key ``<metric>.unit``). "万元" = 10^4 yuan.
"""

from __future__ import annotations

from simulator import catalogue

__all__ = ["LABELS", "labels_for", "parameter_label"]


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


def parameter_label(path: str, lang: str) -> tuple[str, str]:
    """Return a scenario parameter's label and unit in ``lang``, from its dotted path.

    The label is the ``param.<path>`` text of the figures section, or the
    first ``param.<pattern>`` where one part of the path is ``*`` (tried from
    the last part), with ``{key}`` replaced by that part's name
    (``param_key.<part>`` or ``investment.<part>`` if there is one). A path
    without text is returned as it is, with no unit.

    Examples
    --------
    >>> parameter_label("tariffs.electricity.class_surcharge_yuan_per_kwh.D", "en")
    ('Electricity surcharge, class D', 'yuan/kWh')
    """
    labels = labels_for(lang)
    parts = str(path).split(".")
    candidates = [(str(path), "")]
    for i in reversed(range(len(parts))):
        candidates.append((".".join([*parts[:i], "*", *parts[i + 1:]]), parts[i]))
    for pattern, key in candidates:
        if f"param.{pattern}" in labels:
            name = labels.get(f"param_key.{key}", labels.get(f"investment.{key}", key))
            return (labels[f"param.{pattern}"].format(key=name),
                    labels.get(f"param.{pattern}.unit", ""))
    return str(path), ""

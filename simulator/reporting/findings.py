"""Key findings of a comparison (主要结论): paired differences to sentences, strongest first.

:func:`findings` takes a comparison's paired differences (``differences.csv``)
and its means (``summary.csv``) in one year and classifies each candidate
indicator (:data:`CANDIDATES`: the key indicators, the money raised and paid,
jobs, entries and exits):

* ``effect``: the 95% interval excludes zero;
* ``none``: it includes zero ("no detectable effect");
* ``zero``: the difference is 0 in every paired replication (no effect at all;
  a zero-width interval of an identical quantity is not a finding);
* ``constant``: the same non-zero difference in every replication: the
  interval has no width, so its size is reported without a claim of
  significance;
* ``no_interval``: fewer than two replications, so no interval at all.

They are ordered by the size of the effect relative to its uncertainty,
``|difference| / half-width of the interval``. :func:`finding_sentence` writes
each as a sentence; :func:`amount` writes a quantity with its unit as a person
would ("145 million yuan", "1.45 亿元").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from simulator import catalogue
from simulator.reporting.html import fmt

__all__ = ["CANDIDATES", "Finding", "amount", "classify", "default_candidates",
           "finding_sentence", "findings", "metric_label", "metric_unit", "number",
           "scale_for"]

#: The indicators a comparison's findings consider, (metric, group), besides the key
#: indicators: the money the policy raises and what firms pay, output, jobs, firms' moves.
CANDIDATES: tuple[tuple[str, str], ...] = (
    ("revenue_electricity_class_surcharge_yuan", "all"),
    ("electricity_bill_yuan", "class=D"),
    ("resource_bill_yuan", "all"),
    ("tax_wan_yuan", "all"),
    ("va_wan_yuan", "all"),
    ("jobs", "all"),
    ("electricity_kwh", "all"),
    ("emissions_cod_t", "all"),
    ("investments_retrofit", "all"),
    ("exits", "all"),
    ("entries", "all"),
)
#: The large and the medium scale of numbers in words: 10^9 and 10^6 (billion, million);
#: 10^8 and 10^4 in Chinese (亿, 万).
_SCALES = {"en": (1e9, 1e6), "zh": (1e8, 1e4)}
_PLURALS = ("firms", "persons", "projects", "auctions", "participants")
_ORDER = {"effect": 0, "constant": 1, "none": 2, "zero": 3, "no_interval": 4}


@dataclass(frozen=True)
class Finding:
    """One indicator's paired difference between a scenario and the reference in one year."""

    metric: str
    group: str
    label: str
    unit: str
    scenario: str
    reference: str
    year: int
    n: int
    diff: float
    low: float
    high: float
    reference_mean: float
    kind: str

    @property
    def strength(self) -> float:
        """``|difference| / half-width`` of its interval (inf for a zero-width one, NaN without)."""
        half = (self.high - self.low) / 2
        if not (math.isfinite(half) and math.isfinite(self.diff)):
            return math.nan
        return math.inf if half == 0 else abs(self.diff) / half

    @property
    def percent(self) -> float:
        """The difference in % of the reference's mean (NaN when that mean is 0)."""
        if not math.isfinite(self.reference_mean) or self.reference_mean == 0:
            return math.nan
        return 100 * self.diff / abs(self.reference_mean)


def classify(diff: float, low: float, high: float, n: int) -> str:
    """Return the kind of a paired difference (see the module docstring).

    Examples
    --------
    >>> classify(-1.0, -1.0, -1.0, 3), classify(0.0, 0.0, 0.0, 3), classify(2.0, 1.0, 3.0, 3)
    ('constant', 'zero', 'effect')
    >>> classify(0.5, -1.0, 2.0, 3), classify(0.5, float("nan"), float("nan"), 1)
    ('none', 'no_interval')
    """
    if n < 2 or not (math.isfinite(low) and math.isfinite(high)):
        return "no_interval"
    if high - low <= 1e-12 * max(1.0, abs(diff)):
        return "zero" if abs(diff) <= 1e-12 else "constant"
    return "effect" if low > 0 or high < 0 else "none"


def metric_label(metric: str, group: str, lang: str) -> str:
    """Return the words for a metric of a group, e.g. "tax per mu of above-scale firms"."""
    t = catalogue.text(lang, "brief")
    key = f"metric.{metric}[{group}]"
    if key in t:
        return t[key]
    try:
        label = catalogue.label(metric, lang)
    except KeyError:
        label = metric.replace("_", " ")
    if lang == "en":
        label = label[:1].lower() + label[1:] if not label[:2].isupper() else label
    group_words = t.get(f"group.{group}")
    if group == "all":
        return label
    if not group_words:  # e.g. market=cod, route=merger: each value's words, else its code
        words = []
        for part in group.split(","):
            key, _, value = part.partition("=")
            words.append(t.get(f"{key}.{value}", value or key))
        return f"{label} ({', '.join(words)})"
    return t["metric_of_group"].format(metric=label, group=group_words)


def default_candidates(lang: str) -> tuple[tuple[str, str], ...]:
    """Return the indicators findings consider by default: the key ones, then :data:`CANDIDATES`."""
    keys = [(m, g) for m, g, _ in catalogue.key_indicators(lang)]
    return tuple(dict.fromkeys([*keys, *CANDIDATES]))


def findings(differences: pd.DataFrame, summary: pd.DataFrame, *, scenario: str,
             reference: str, year: int, lang: str,
             candidates: tuple[tuple[str, str], ...] | None = None) -> list[Finding]:
    """Return the findings of ``scenario`` against ``reference`` in ``year``, strongest first.

    Parameters
    ----------
    differences : pandas.DataFrame
        Columns ``scenario, reference, group, metric, year, n, mean, ci_low,
        ci_high`` (``differences.csv``).
    summary : pandas.DataFrame
        Columns ``scenario, group, metric, year, mean`` (``summary.csv``), for
        the reference's level.
    scenario, reference : str
        The scenarios compared.
    year : int
        The year.
    lang : {"en", "zh"}
        Language of the labels.
    candidates : tuple of (metric, group), optional
        The indicators to consider; default the key indicators and :data:`CANDIDATES`.

    Returns
    -------
    list of Finding
        Effects by strength, then constant differences, then no detectable
        effect (by strength), then no difference at all, then those without
        an interval. Indicators the tables lack are left out.
    """
    if candidates is None:
        candidates = default_candidates(lang)
    d = differences[(differences["scenario"] == scenario)
                    & (differences["reference"] == reference) & (differences["year"] == year)]
    d = d.set_index(["metric", "group"])
    s = summary[(summary["scenario"] == reference) & (summary["year"] == year)]
    s = s.set_index(["metric", "group"])["mean"]
    out = []
    for metric, group in candidates:
        if (metric, group) not in d.index:
            continue
        row = d.loc[(metric, group)]
        if isinstance(row, pd.DataFrame):
            row = row.iloc[0]
        diff, low, high = (float(row[c]) for c in ("mean", "ci_low", "ci_high"))
        n = int(row["n"]) if "n" in row and pd.notna(row["n"]) else 0
        ref = s.get((metric, group), math.nan)
        ref = float(ref.iloc[0]) if isinstance(ref, pd.Series) else float(ref)
        out.append(Finding(metric, group, metric_label(metric, group, lang), metric_unit(metric),
                           scenario, reference, int(year), n, diff, low, high, ref,
                           classify(diff, low, high, n)))
    return sorted(out, key=lambda f: (_ORDER[f.kind], -_finite(f.strength), -abs(f.percent)
                                      if math.isfinite(f.percent) else 0.0))


def _finite(x: float) -> float:
    return x if math.isfinite(x) else (1e300 if x == math.inf else -1.0)


def metric_unit(metric: str) -> str:
    """Return a metric's unit symbol in the catalogue ("" if it has none)."""
    try:
        return catalogue.entry(metric).unit
    except (KeyError, catalogue.CatalogueError):
        return ""


def scale_for(value: float, unit: str, lang: str) -> tuple[float, str]:
    """Return the divisor and the unit in words that write ``value`` (and its kind) readably.

    Money (yuan, 万元) is written in millions and billions of yuan (en) or in
    万元 and 亿元 (zh); other large plain quantities likewise (million kWh,
    万千瓦时); ratios keep the catalogue's unit.

    Examples
    --------
    >>> scale_for(2.5e8, "yuan", "en"), scale_for(2.5e8, "yuan", "zh")
    ((1000000.0, 'million yuan'), (100000000.0, '亿元'))
    >>> scale_for(3e6, "万元", "en")
    (100000.0, 'billion yuan')
    """
    t = catalogue.text(lang, "brief")
    large, medium = _SCALES[lang]
    from_wan = unit == "万元"
    if unit in ("yuan", "万元"):
        base = abs(value) * (1e4 if from_wan else 1.0)
        for size, key in ((large, "scale.money_large"), (medium, "scale.money_medium"),
                          (1.0, "scale.money")):
            if base >= size or size == 1.0:
                return (size / 1e4 if from_wan else size), t[key]
    words = catalogue.unit_text(unit, lang) if unit else ""
    if "/" in unit or not math.isfinite(value):
        return 1.0, words
    for size, key in ((large, "scale.large"), (medium, "scale.medium")):
        if abs(value) >= size:
            return size, t[key].format(unit=words)
    return 1.0, words


def amount(value: float, unit: str, lang: str, *, signed: bool = False,
           scale_of: float | None = None) -> str:
    """Return a quantity with its unit in words: "145 million yuan", "1.45 亿元", "0.07 万元/亩".

    The scale is :func:`scale_for` of ``value``, or of ``scale_of`` (the
    bounds of an interval written like its estimate).

    Examples
    --------
    >>> amount(144_802_200.0, "yuan", "en"), amount(144_802_200.0, "yuan", "zh")
    ('145 million yuan', '1.45 亿元')
    >>> amount(-3.5, "firms", "en", signed=True), amount(1.0, "firms", "en")
    ('-3.5 firms', '1 firm')
    """
    if not math.isfinite(value):
        return "—"
    size, words = scale_for(value if scale_of is None else scale_of, unit, lang)
    if lang == "en" and words in _PLURALS and abs(value) == 1:
        words = words[:-1]  # "1 firm", not "1 firms"
    return number(value / size, signed=signed) + (f" {words}" if words else "")


def number(v: float, *, signed: bool = False) -> str:
    """Return a number with 3 significant digits (whole from 1,000 on), thousands grouped.

    Examples
    --------
    >>> number(139.8), number(0.02511), number(120.0), number(-5.0, signed=True)
    ('140', '0.0251', '120', '-5')
    """
    if v != 0 and abs(v) < 1000:
        digits = max(0, 2 - int(math.floor(math.log10(abs(v)))))  # 3 significant digits
        v = round(v, digits)
        text = f"{v:,.{digits}f}"
        text = text.rstrip("0").rstrip(".") if "." in text else text
        return f"+{text}" if signed and v > 0 else text
    return fmt(v, signed=signed)


def finding_sentence(f: Finding, t: dict[str, str], lang: str) -> str:
    """Return one finding as a sentence (``t``: the locale's ``brief`` texts)."""
    fields = {"label": f.label, "Label": f.label[:1].upper() + f.label[1:], "year": f.year,
              "scenario": f.scenario, "reference": f.reference, "n": f.n,
              "diff": amount(abs(f.diff), f.unit, lang),
              "signed": amount(f.diff, f.unit, lang, signed=True),
              "low": amount(f.low, f.unit, lang, signed=True, scale_of=f.diff),
              "high": amount(f.high, f.unit, lang, signed=True, scale_of=f.diff),
              "pct": "" if not math.isfinite(f.percent) else f"{f.percent:+.1f}%",
              "direction": t["higher"] if f.diff > 0 else t["lower"]}
    key = f"finding.{f.kind}"
    if f.kind in ("effect", "constant") and fields["pct"]:
        key += ".pct"
    return t[key].format(**fields)

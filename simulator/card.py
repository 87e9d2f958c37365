"""Firm report card (一企一单): one firm's evaluation, bills and quotas, year by year.

:func:`write_card` reads a run's ``firms.parquet`` (one row per firm and
year) and ``scenario.yaml`` (the evaluation rules) and writes one
self-contained HTML page for one firm: each year's indicators, score, rank
and class; its bills by resource; its quotas and payments per market; how its
last score is made up; and which changes would lift its class.

What would lift the class
-------------------------
For the firm's last year, :func:`class_lift` finds the score ``S*`` that
the next class needs and, for each scored indicator, how far that indicator
alone would have to rise to reach it, the other indicators and the other
firms unchanged. It follows :mod:`simulator.evaluation` exactly:

* ``S = 100 * sum_i s_i / sum_i w_i + bonus`` with
  ``s_i = w_i * clip(x_i / b_i, 0, cap)``, so closing a gap of ``S* - S``
  points needs ``s_i`` to rise by ``(S* - S) * sum(w) / 100``; if that takes
  ``x_i / b_i`` above the cap, the indicator *saturates* and cannot close the
  gap alone.
* With ``benchmark: group_mean`` (or ``sector_mean``) the benchmark is the
  ratio of sums over the firm's group, ``b = scale * N / D``, and the firm is
  part of it. The rise is taken as a rise of the indicator's numerator ``n``
  (more tax, value added, R&D or sales on the same land, energy, emissions,
  staff or electricity), so the benchmark rises with it:
  ``x/b = D (n + δ) / (d (N + δ))``, which is solved for ``δ``. The ratio can
  never exceed ``D / d``; a firm that weighs that much in its group cannot
  close the gap with that indicator. With ``benchmark: fixed``, ``b`` is a
  constant.
* Next-class score. By thresholds, ``S*`` is the next class's threshold. By
  rank shares, ``S*`` is the score of the firm at the last rank of the next
  class in the same ranking group that year (rank ``floor(n * cumulative
  share + 0.5)``, as in the evaluation; ties go to the smaller firm id).
  Holding that score fixed is conservative: the firm's rise lifts the
  benchmark and so lowers (never raises) the other firms' scores.
* The one-vote veto (一票否决) keeps a vetoed firm out of A and B whatever its
  score: the card says so instead of giving numbers. A firm without an
  indicator gets its group's mean score for it; the card says so too. (That
  group mean also moves with the firm's own score; this second-order effect
  on firms without the indicator is left out.)
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulator import catalogue
from simulator.evaluation import (
    INDICATOR_UNITS,
    INDICATORS,
    TIER_INDICATORS,
    _benchmark_sums,
    _Bins,
    _indicator_score,
)
from simulator.report import Markup, fmt, html_page, html_table, read_run_scenario, write_html
from simulator.results import (
    parquet_columns,
    read_json_record,
    read_parquet_file,
    verify_file,
)
from simulator.scenario import INVESTMENT_OPTIONS, POLLUTANTS, EvaluationSpec, ScenarioError

__all__ = [
    "ClassLift",
    "IndicatorTerm",
    "Lift",
    "class_lift",
    "read_firm_years",
    "required_rise",
    "score_terms",
    "uniform_rise",
    "write_card",
]

CLASSES: tuple[str, ...] = ("A", "B", "C", "D")
#: ``scale`` column of firms.parquet -> evaluation tier code.
_TIERS: dict[str, int] = {"above": 0, "below": 1, "services": 2}
#: The weighted sum of the pollutant columns <p>_t (evaluation.emission_weights).
_EMISSIONS = "weighted_emissions_t"
#: indicator -> (numerator column, denominator column or None, scale): the catalogue's
#: formulas of simulator.evaluation, on firms.parquet's columns (tests check they give its
#: ind_* values).
FORMULAS = catalogue.indicator_formulas()
#: firms.parquet columns a card picks its rows by.
_KEY_COLUMNS: tuple[str, ...] = ("replication", "year", "firm_id")
#: Every firms.parquet column the card reads (checked before reading).
_COLUMNS: tuple[str, ...] = (
    *_KEY_COLUMNS, "sector", "scale", "region", "park", "class", "class_in_force", "score",
    "rank", "group_size", "vetoed", "consecutive_d_years", "invested_options", "va_wan_yuan",
    "revenue_wan_yuan", "tax_wan_yuan", "profit_wan_yuan", "rd_wan_yuan", "cash_wan_yuan",
    "employees", "land_mu", "energy_tce", "electricity_kwh", "water_m3",
    "electricity_bill_yuan", "electricity_surcharge_yuan", "water_bill_yuan",
    "water_surcharge_yuan", "land_tax_yuan", "land_tax_relief_yuan", "pollution_charge_yuan",
    "pollution_surcharge_yuan", "subsidy_yuan",
)
#: Slack of floor(n * share + 0.5) for float error, as in the evaluation.
_ROUNDING_TOLERANCE = 1e-9
_QUOTAS: tuple[str, ...] = ("energy", *POLLUTANTS)


# ---------------------------------------------------------------- the lift computation


@dataclass(frozen=True)
class IndicatorTerm:
    """One scored indicator of one firm: its value and what its score points depend on.

    Parameters
    ----------
    name : str
        Indicator name (``simulator.evaluation.INDICATORS``).
    value : float
        The firm's value ``x`` in the indicator's unit (NaN if it lacks it).
    weight : float
        The indicator's weight ``w`` in the firm's tier.
    points : float
        What the indicator adds to the score now, ``100 * s / sum(w)``.
    benchmark : float
        The benchmark ``b`` the firm is measured against.
    numerator, denominator : float
        The firm's ``n`` and ``d``, with ``x = scale * n / d`` (``d = 1`` for
        ``tax`` and ``sales``).
    scale : float
        Unit factor of the indicator (1e4 for the per-kWh indicators).
    group_numerator, group_denominator : float
        ``N`` and ``D``, the sums over the benchmark group's firms that have
        the indicator (``b = scale * N / D``); NaN for a fixed benchmark.
    has : bool
        Whether the firm has the indicator (else it gets the group mean score).
    """

    name: str
    value: float
    weight: float
    points: float
    benchmark: float
    numerator: float
    denominator: float
    scale: float
    group_numerator: float
    group_denominator: float
    has: bool


@dataclass(frozen=True)
class Lift:
    """How far one indicator alone would have to rise to reach a target score.

    ``status`` is ``"ok"`` (``required``, ``rise`` and ``rise_pct`` hold the
    answer), ``"reached"`` (no rise needed), ``"saturated"`` (even at the cap
    it adds only ``max_points``), ``"at_cap"`` (it is at the cap already),
    ``"no_data"`` (the firm lacks the
    indicator) or ``"benchmark"`` (the group benchmark rises with the firm's
    own value too fast for the ratio to get there).
    """

    indicator: str
    status: str
    value: float
    required: float = math.nan
    rise: float = math.nan
    rise_pct: float = math.nan
    max_points: float = math.nan


@dataclass(frozen=True)
class ClassLift:
    """What the firm's score lacked for the next class in one year, and the lifts that close it.

    ``status`` is ``"ok"``, ``"top"`` (already A), ``"unrated"`` (not
    evaluated), ``"veto"`` (vetoed, so A and B are out of reach) or
    ``"no_place"`` (the group has no place in the next class).
    ``target_firm_id`` and ``target_rank`` name the last firm of the next
    class under rank shares.
    """

    firm_id: int
    year: int
    klass: str
    next_class: str | None
    status: str
    method: str
    score: float
    rank: int
    group_size: int
    tier: int | None = None
    target_score: float = math.nan
    target_firm_id: int | None = None
    target_rank: int | None = None
    bonus: float = math.nan
    terms: tuple[IndicatorTerm, ...] = ()
    lifts: tuple[Lift, ...] = ()
    uniform_rise_pct: float = math.nan

    @property
    def gap(self) -> float:
        """Points the score lacks for the next class."""
        return self.target_score - self.score


def required_rise(term: IndicatorTerm, *, points_needed: float, total_weight: float,
                  cap: float) -> Lift:
    """Return how far ``term``'s indicator alone must rise to add ``points_needed`` points.

    Parameters
    ----------
    term : IndicatorTerm
        The indicator, its weight, benchmark and group sums.
    points_needed : float
        Score points to gain (the gap to the next class).
    total_weight : float
        Sum of the weights of the firm's tier.
    cap : float
        ``evaluation.indicator_cap``: the most ``x / b`` can count for.

    Returns
    -------
    Lift
        The required value and rise (absolute, and in % of the current value).

    Examples
    --------
    Fixed benchmark 10, weight 50 of 100, value 8 (40 points now), 5 points
    short: ``s`` must rise by 2.5, so ``x / b`` from 0.8 to 0.9, ``x`` to 9.

    >>> t = IndicatorTerm("tax_per_mu", 8.0, 50.0, 40.0, 10.0, 8.0, 1.0, 1.0,
    ...                   math.nan, math.nan, True)
    >>> required_rise(t, points_needed=5.0, total_weight=100.0, cap=2.0).required
    9.0
    """
    name, x = term.name, term.value
    if not term.has:
        return Lift(name, "no_data", math.nan)
    if points_needed <= 0:
        return Lift(name, "reached", x, required=x, rise=0.0, rise_pct=0.0)
    s_now = term.points * total_weight / 100.0
    s_new = s_now + points_needed * total_weight / 100.0
    ratio = s_new / term.weight
    if ratio > cap * (1.0 + 1e-12):
        room = max(cap * term.weight - s_now, 0.0) * 100.0 / total_weight
        return Lift(name, "saturated" if room > 1e-9 else "at_cap", x, max_points=room)
    if math.isnan(term.group_numerator):  # fixed benchmark
        required = ratio * term.benchmark
    else:
        n, d = term.numerator, term.denominator
        big_n, big_d = term.group_numerator, term.group_denominator
        # x/b = D (n + δ) / (d (N + δ)) rises with δ towards D/d when others hold some N.
        if big_n - n <= 0 or big_d - ratio * d <= 0:
            return Lift(name, "benchmark", x)
        delta = (ratio * d * big_n - big_d * n) / (big_d - ratio * d)
        required = term.scale * (n + delta) / d
    rise = max(required - x, 0.0)
    pct = 100.0 * rise / x if x > 0 else math.nan
    return Lift(name, "ok", x, required=max(required, x), rise=rise, rise_pct=pct)


def _points_at(term: IndicatorTerm, factor: float, *, total_weight: float, cap: float) -> float:
    """Return the term's points when its numerator is ``factor`` times what it is."""
    if not term.has:
        return term.points  # the group's mean score, held fixed
    n, d = term.numerator, term.denominator
    if math.isnan(term.group_numerator):
        ratio = term.scale * n * factor / d / term.benchmark
    else:
        big_n = term.group_numerator + n * (factor - 1.0)
        ratio = term.group_denominator * n * factor / (d * big_n) if big_n > 0 else 0.0
    return 100.0 * term.weight * min(max(ratio, 0.0), cap) / total_weight


def uniform_rise(terms: tuple[IndicatorTerm, ...], *, points_needed: float,
                 total_weight: float, cap: float) -> float:
    """Return the % by which all scored indicators together must rise to add ``points_needed``.

    Every indicator's numerator (tax, value added, R&D, sales) rises by the
    same share, its denominator (land, energy, ...) unchanged; benchmarks
    that are group averages rise with the firm's own numbers, as in
    :func:`required_rise`. Found by bisection on the share.

    Returns
    -------
    float
        The rise in %, 0 if no points are needed, NaN if no rise is enough
        (every indicator at its cap or its limit).
    """
    if points_needed <= 0:
        return 0.0
    now = sum(_points_at(t, 1.0, total_weight=total_weight, cap=cap) for t in terms)

    def gain(factor: float) -> float:
        return sum(_points_at(t, factor, total_weight=total_weight, cap=cap)
                   for t in terms) - now

    high = 2.0
    while gain(high) < points_needed:
        if high > 1e6:
            return math.nan
        high *= 2.0
    low = 1.0
    for _ in range(200):  # to the float resolution of the factor
        mid = 0.5 * (low + high)
        if mid in (low, high):
            break
        low, high = (mid, high) if gain(mid) < points_needed else (low, mid)
    return 100.0 * (high - 1.0)


def _tier_weights(spec: EvaluationSpec, tier: int) -> dict[str, float]:
    return dict((spec.weights_above_scale, spec.weights_below_scale,
                 spec.weights_services)[tier])


def _tier(row: pd.Series) -> int | None:
    """Return the firm's evaluation tier that year, None if it was out of scope."""
    if int(row["group_size"]) <= 0 or int(row["rank"]) <= 0:
        return None
    return _TIERS.get(str(row["scale"]))


def _in_scope(year_firms: pd.DataFrame) -> np.ndarray:
    return (year_firms["group_size"].to_numpy() > 0) & (year_firms["rank"].to_numpy() > 0)


def _ranking_group(year_firms: pd.DataFrame, row: pd.Series,
                   spec: EvaluationSpec) -> np.ndarray:
    """Mask of the firms ranked with ``row``: same tier and ``group_by`` keys, in scope."""
    mask = _in_scope(year_firms) & (year_firms["scale"].astype(str) == str(row["scale"])).to_numpy()
    keys = []
    if "region" in spec.group_by or "park" in spec.group_by:
        keys.append("region")  # park numbers are per region
    if "park" in spec.group_by:
        keys.append("park")
    if "sector" in spec.group_by:
        keys.append("sector")
    for key in keys:
        mask &= (year_firms[key].astype(str) == str(row[key])).to_numpy()
    return mask


def _column(frame: pd.DataFrame, name: str | None, spec: EvaluationSpec) -> np.ndarray:
    if name is None:
        return np.ones(len(frame))
    if name == _EMISSIONS:
        weights = spec.emission_weights.as_tuple()
        return sum(w * frame[f"{p}_t"].to_numpy(dtype=float)
                   for p, w in zip(POLLUTANTS, weights, strict=True))
    return frame[name].to_numpy(dtype=float)


def _firm_position(year_firms: pd.DataFrame, firm_id: int) -> int:
    hits = np.flatnonzero(year_firms["firm_id"].to_numpy() == firm_id)
    if hits.size != 1:
        raise ValueError(f"firm {firm_id} appears {hits.size} times in the year's table; "
                         "expected once")
    return int(hits[0])


def score_terms(year_firms: pd.DataFrame, firm_id: int,
                spec: EvaluationSpec) -> tuple[IndicatorTerm, ...]:
    """Return the scored indicators of one firm in one year, as the evaluation scored them.

    Parameters
    ----------
    year_firms : pandas.DataFrame
        firms.parquet rows of one year and replication (every firm).
    firm_id : int
        The firm.
    spec : EvaluationSpec
        The scenario's evaluation rules.

    Returns
    -------
    tuple of IndicatorTerm
        One per indicator with a positive weight in the firm's tier, in
        :data:`~simulator.evaluation.TIER_INDICATORS` order; empty if the
        firm was not evaluated.
    """
    pos = _firm_position(year_firms, firm_id)
    row = year_firms.iloc[pos]
    tier = _tier(row)
    if tier is None:
        return ()
    in_group = _ranking_group(year_firms, row, spec)
    members = year_firms[in_group]
    me = int(np.flatnonzero(members["firm_id"].to_numpy() == firm_id)[0])
    weights = _tier_weights(spec, tier)
    total = sum(weights.values())
    # The evaluation's own scoring, on the firm's ranking group alone (one group; benchmark
    # groups by sector or one for all).
    bench_ids = (np.unique(members["sector"].astype(str).to_numpy(), return_inverse=True)[1]
                 if spec.benchmark == "sector_mean" else np.zeros(len(members), dtype=np.int64))
    bins = _Bins(group=np.zeros(len(members), dtype=np.int64), n_group=1,
                 bench=bench_ids.astype(np.int64), n_bench=int(bench_ids.max(initial=0)) + 1)
    tier_key = ("above_scale", "below_scale", "services")[tier]
    terms = []
    for name in TIER_INDICATORS[tier]:
        w = float(weights.get(name, 0.0))
        if w <= 0:
            continue
        numer_col, denom_col, scale = FORMULAS[name]
        numer = _column(members, numer_col, spec)
        denom = _column(members, denom_col, spec)
        has = np.isfinite(numer) & np.isfinite(denom) & (denom > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(has, scale * numer / denom, np.nan)
        if spec.benchmark == "fixed":
            fixed = float(getattr(spec.fixed_benchmarks, tier_key)[name])
            bench_me, big_n, big_d = fixed, math.nan, math.nan
        else:
            fixed = None
            sum_n, sum_d = _benchmark_sums(numer, denom, has, bins)
            big_n, big_d = float(sum_n[bins.bench[me]]), float(sum_d[bins.bench[me]])
            bench_me = scale * big_n / big_d if big_d > 0 else math.nan  # nobody has it
        # Without the data a firm gets the group's mean score (Huangyan 2022).
        s_me = float(_indicator_score(value, numer, denom, has, bins, weight=w, scale=scale,
                                      fixed=fixed, cap=spec.indicator_cap)[me])
        terms.append(IndicatorTerm(
            name=name, value=float(value[me]), weight=w, points=100.0 * s_me / total,
            benchmark=float(bench_me), numerator=float(numer[me]),
            denominator=float(denom[me]), scale=scale, group_numerator=big_n,
            group_denominator=big_d, has=bool(has[me])))
    return tuple(terms)


def class_lift(year_firms: pd.DataFrame, firm_id: int, spec: EvaluationSpec) -> ClassLift:
    """Return the score the firm lacked for the next class, and each indicator's lift.

    Parameters
    ----------
    year_firms : pandas.DataFrame
        firms.parquet rows of one year and replication (every firm).
    firm_id : int
        The firm.
    spec : EvaluationSpec
        The scenario's evaluation rules.

    Returns
    -------
    ClassLift
        Target score, gap, the score's make-up and one :class:`Lift` per
        scored indicator (see the module docstring for the method).
    """
    row = year_firms.iloc[_firm_position(year_firms, firm_id)]
    klass, year, tier = str(row["class"]), int(row["year"]), _tier(row)
    base = dict(firm_id=int(firm_id), year=year, klass=klass, method=spec.classification.method,
                score=float(row["score"]), rank=int(row["rank"]),
                group_size=int(row["group_size"]), tier=tier)
    if klass not in CLASSES or tier is None:
        return ClassLift(next_class=None, status="unrated", **base)
    terms = score_terms(year_firms, firm_id, spec)
    bonus = base["score"] - sum(t.points for t in terms)
    bonus = 0.0 if abs(bonus) < 1e-9 else bonus  # float dust of the sum
    if klass == "A":
        return ClassLift(next_class=None, status="top", bonus=bonus, terms=terms, **base)
    nxt = CLASSES[CLASSES.index(klass) - 1]
    if bool(row["vetoed"]) and nxt in ("A", "B"):
        return ClassLift(next_class=nxt, status="veto", bonus=bonus, terms=terms, **base)
    target_id = target_rank = None
    if spec.classification.method == "shares":
        shares = spec.classification.shares.as_tuple()
        n = base["group_size"]
        cumulative = sum(shares[:CLASSES.index(nxt) + 1])
        cut = int(math.floor(n * cumulative + 0.5 + _ROUNDING_TOLERANCE * n))
        if cut <= 0:
            return ClassLift(next_class=nxt, status="no_place", bonus=bonus, terms=terms,
                             **base)
        group = year_firms[_ranking_group(year_firms, row, spec)]
        if len(group) != base["group_size"]:
            raise ValueError(f"rebuilt a ranking group of {len(group)} firms for firm {firm_id} "
                             f"in {year}; the evaluation ranked {base['group_size']}")
        last = group[group["rank"].to_numpy() == cut]
        if last.empty:
            raise ValueError(f"no firm at rank {cut} in the group of firm {firm_id} in {year}")
        target = float(last["score"].iloc[0])
        target_id, target_rank = int(last["firm_id"].iloc[0]), cut
    else:
        target = float(getattr(spec.classification.thresholds, nxt))
    total = sum(_tier_weights(spec, tier).values())
    needed = target - base["score"]
    lifts = tuple(required_rise(t, points_needed=needed, total_weight=total,
                                cap=spec.indicator_cap) for t in terms)
    together = uniform_rise(terms, points_needed=needed, total_weight=total,
                            cap=spec.indicator_cap)
    return ClassLift(next_class=nxt, status="ok", target_score=target, target_firm_id=target_id,
                     target_rank=target_rank, bonus=bonus, terms=terms, lifts=lifts,
                     uniform_rise_pct=together, **base)


# ---------------------------------------------------------------- reading


def read_firm_years(run_dir: str | Path, *, replication: int | None = 0) -> pd.DataFrame:
    """Return firms.parquet rows of one replication, raising ScenarioError if there are none.

    ``replication=None``: the only replication the file holds, else 0 (a run
    inside a comparison holds the one replication it ran).
    """
    run_dir = Path(run_dir)
    manifest = read_json_record(run_dir / "manifest.json")  # a run has one
    path = run_dir / "firms.parquet"
    if not path.is_file():
        raise ScenarioError("no firm snapshots (firms.parquet) in this run: set "
                            "output.firm_snapshots and run again", file=path)
    verify_file(path, manifest, record_path=run_dir / "manifest.json")
    parquet_columns(path, _COLUMNS)  # readable, with every column the card reads
    if replication is None:
        held = read_parquet_file(path, columns=["replication"])["replication"].unique()
        replication = int(held[0]) if held.size == 1 else 0
    firms = read_parquet_file(path, filters=[("replication", "=", int(replication))])
    if firms.empty:
        held = sorted(read_parquet_file(path, columns=["replication"])["replication"].unique())
        raise ScenarioError(f"replication {replication} is not in firms.parquet (it holds "
                            f"{', '.join(map(str, held)) or 'none'})", file=path)
    return firms


def _read_rules(run_dir: Path, firm_id: int) -> tuple[dict[str, Any], EvaluationSpec]:
    """Return the run's resolved scenario (as a dict) and its evaluation rules."""
    manifest = read_json_record(run_dir / "manifest.json")
    found = read_run_scenario(run_dir, manifest)
    if found is None:
        raise ScenarioError(f"no scenario.yaml, so no evaluation rules for the card of firm "
                            f"{firm_id}", file=run_dir / "scenario.yaml")
    data = found[0]
    try:
        spec = EvaluationSpec.model_validate(data.get("evaluation") or {})
    except ValueError as exc:
        raise ScenarioError(f"invalid evaluation rules: {exc}", file=run_dir / "scenario.yaml",
                            field="evaluation") from None
    return data, spec


# ---------------------------------------------------------------- text


def _text(lang: str) -> dict[str, str]:
    """Return the card's text in ``lang``: the locale's ``card`` section."""
    return dict(catalogue.text(catalogue.check_language(lang), "card"))


def _indicator_name(name: str, lang: str) -> str:
    """Return an evaluation indicator's label in ``lang``."""
    return catalogue.label(f"ind_{name}", lang)


def _unit(unit: str, lang: str) -> str:
    """Return ``unit`` in ``lang`` (units are written in English in the code)."""
    return catalogue.unit_text(unit, lang)


# ---------------------------------------------------------------- the card


def write_card(run_dir: str | Path, firm_id: int, *, out: str | Path | None = None,
               replication: int | None = None, lang: str = "en") -> Path:
    """Write one firm's report card (一企一单) as a self-contained HTML file.

    Parameters
    ----------
    run_dir : str or Path
        A run directory with ``firms.parquet`` and ``scenario.yaml``.
    firm_id : int
        The firm.
    out : str or Path, optional
        The HTML file; default ``<run_dir>/cards/firm_<id>.html``.
    replication : int, optional
        Which replication's firms to show; default the run's only one, else 0.
    lang : {"en", "zh"}
        Language of the text.

    Returns
    -------
    Path
        The card, written atomically.

    Raises
    ------
    ScenarioError
        If the run has no firms.parquet or the firm is not in it.
    """
    t = _text(lang)
    run_dir = Path(run_dir)
    firm_id = int(firm_id)
    if not run_dir.is_dir():
        raise ScenarioError(f"not a results directory (no such directory); cannot make the "
                            f"card of firm {firm_id}", file=run_dir)
    if (run_dir / "experiment.json").is_file() and (run_dir / "runs").is_dir():
        example = next((p.parent for p in sorted((run_dir / "runs").rglob("firms.parquet"))),
                       run_dir / "runs" / "<run>")
        raise ScenarioError(f"this is an experiment directory; a card is made from one of its "
                            f"runs, e.g. {example}", file=run_dir)
    if not (run_dir / "firms.parquet").is_file():
        raise ScenarioError(f"no firm snapshots in this run, so no card for firm {firm_id}: "
                            "run again with output.firm_snapshots: true",
                            file=run_dir / "firms.parquet")
    firms = read_firm_years(run_dir, replication=replication)
    replication = int(firms["replication"].iloc[0])
    mine = firms[firms["firm_id"].to_numpy() == firm_id].sort_values("year")
    if mine.empty:
        raise ScenarioError(f"firm {firm_id} is not in firms.parquet (replication "
                            f"{replication}; firm ids {int(firms['firm_id'].min())}–"
                            f"{int(firms['firm_id'].max())})", file=run_dir / "firms.parquet",
                            field="firm_id")
    scenario, spec = _read_rules(run_dir, firm_id)
    run_years = sorted(int(y) for y in firms["year"].unique())
    last_year = int(mine["year"].iloc[-1])
    lift = class_lift(firms[firms["year"].to_numpy() == last_year], firm_id, spec)

    name = str(scenario.get("name") or run_dir.name)
    title = t["title"].format(firm=firm_id)
    meta = t["meta"].format(scenario=name, replication=replication,
                            today=date.today().isoformat(), path=run_dir)
    years = [int(y) for y in mine["year"]]
    body = [f"<h1>{html.escape(title)}</h1>", f'<p class="meta">{html.escape(meta)}</p>',
            _h2(t["firm"]), _firm_facts(mine, run_years, scenario, t),
            _h2(t["evaluation"]), _evaluation_table(mine, run_years, t, lang),
            _h2(t["production"]), _production_table(mine, years, t),
            _h2(t["bills"]), _bills_table(mine, years, t),
            _h2(t["quotas"]), _quota_tables(mine, years, t),
            _h2(t["breakdown"].format(year=last_year)), _breakdown(lift, spec, t, lang),
            _h2(t["lift"].format(year=last_year)), _lift_section(lift, spec, t, lang),
            _h2(t["rules"]), _rules(lift, spec, t, lang)]
    out = Path(out) if out is not None else run_dir / "cards" / f"firm_{firm_id}.html"
    return write_html(out, html_page(title, "\n".join(body), lang=lang))


def _h2(title: str) -> str:
    return f"<h2>{html.escape(title)}</h2>"


def _p(content: str, cls: str | None = None) -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<p{attr}>{html.escape(content)}</p>"


def _firm_facts(mine: pd.DataFrame, run_years: list[int], scenario: dict[str, Any],
                t: dict[str, str]) -> str:
    years = [int(y) for y in mine["year"]]
    last = mine.iloc[-1]
    first_year, last_year = years[0], years[-1]
    if years == run_years:
        presence = t["present"].format(first=first_year, last=last_year)
    else:
        parts = [f"{first_year}–{last_year}"]
        if first_year > run_years[0]:
            parts.append(t["entered"].format(year=first_year))
        if last_year < run_years[-1]:
            parts.append(t["exited"].format(year=last_year))
        gaps = [y for y in run_years if first_year < y < last_year and y not in years]
        if gaps:
            parts.append(t["not_in"].format(years=", ".join(map(str, gaps))))
        presence = "; ".join(parts)
    sector = str(last["sector"])
    if t["lang"] == "zh":
        spec = ((scenario.get("population") or {}).get("sectors") or {}).get(sector) or {}
        sector = spec.get("label_zh") or sector
    rows = [(t["firm_id"], int(last["firm_id"])), (t["sector"], sector),
            (t["region"], last["region"]), (t["park"], int(last["park"])),
            (t["scale"], t.get(f"scale.{last['scale']}", str(last["scale"]))),
            (t["years"], presence)]
    return html_table([t["item"], t["value_col"]], rows, numeric_from=99)


def _year_table(mine: pd.DataFrame, years: list[int], rows: list[tuple[str, str, list[str]]],
                t: dict[str, str]) -> str:
    return html_table([t["item"], t["unit"], *map(str, years)],
                      [(label, _unit(unit, t["lang"]), *cells) for label, unit, cells in rows],
                      numeric_from=2)


def _values(mine: pd.DataFrame, column: str, *, scale: float = 1.0) -> list[str]:
    if column not in mine.columns:
        return ["—"] * len(mine)
    return [fmt(v * scale) for v in mine[column].to_numpy(dtype=float)]


def _evaluation_table(mine: pd.DataFrame, run_years: list[int], t: dict[str, str],
                      lang: str) -> str:
    years = [int(y) for y in mine["year"]]
    status = []
    for y in years:
        marks = []
        if y == years[0] and y > run_years[0]:
            marks.append(t["status.entered"])
        if y == years[-1] and y < run_years[-1]:
            marks.append(t["status.exits"])
        status.append(", ".join(marks) or "")
    rated = mine["rank"].to_numpy() > 0
    rows: list[tuple[str, str, list[str]]] = []
    if any(status):
        rows.append((t["status"], "", status))
    rows += [
        (t["class_in_force"], "", [str(c) for c in mine["class_in_force"]]),
        (t["class"], "", [str(c) for c in mine["class"]]),
        (t["score"], "points", [fmt(s) if r else t["not_rated"]
                                   for s, r in zip(mine["score"], rated, strict=True)]),
        (t["rank"], "", [t["rank_of"].format(rank=int(r), n=int(n)) if ok else "—"
                         for r, n, ok in zip(mine["rank"], mine["group_size"], rated,
                                             strict=True)]),
        (t["vetoed"], "", [t["yes"] if v else t["no"] for v in mine["vetoed"]]),
        (t["consecutive_d"], "", [str(int(v)) for v in mine["consecutive_d_years"]]),
    ]
    for name in INDICATORS:
        column = f"ind_{name}"
        if column in mine.columns and mine[column].notna().any():
            rows.append((_indicator_name(name, lang), INDICATOR_UNITS[name],
                         _values(mine, column)))
    return _year_table(mine, years, rows, t)


def _production_table(mine: pd.DataFrame, years: list[int], t: dict[str, str]) -> str:
    rows = [(t[key], unit, _values(mine, column)) for key, unit, column in (
        ("va", "万元", "va_wan_yuan"), ("revenue", "万元", "revenue_wan_yuan"),
        ("tax", "万元", "tax_wan_yuan"), ("profit", "万元", "profit_wan_yuan"),
        ("rd", "万元", "rd_wan_yuan"), ("cash", "万元", "cash_wan_yuan"),
        ("land", "mu", "land_mu"), ("employees", "persons", "employees"),
        ("energy", "tce", "energy_tce"), ("electricity", "kWh", "electricity_kwh"),
        ("water", "m³", "water_m3"))]
    for p in POLLUTANTS:
        rows.append((t[f"pollutant.{p}"], "t", _values(mine, f"{p}_t")))
    if "invested_options" in mine.columns:
        cells = []
        for bits in mine["invested_options"].to_numpy(dtype=int):
            taken = [t[f"inv.{o}"] for k, o in enumerate(INVESTMENT_OPTIONS) if bits >> k & 1]
            cells.append(", ".join(taken) or "—")
        rows.append((t["investments"], "", cells))
    return _year_table(mine, years, rows, t)


def _bills_table(mine: pd.DataFrame, years: list[int], t: dict[str, str]) -> str:
    rows = [(t[key], "yuan", _values(mine, column)) for key, column in (
        ("elec_bill", "electricity_bill_yuan"), ("elec_sur", "electricity_surcharge_yuan"),
        ("water_bill", "water_bill_yuan"), ("water_sur", "water_surcharge_yuan"),
        ("pollution", "pollution_charge_yuan"), ("pollution_sur", "pollution_surcharge_yuan"),
        ("land_tax", "land_tax_yuan"), ("land_relief", "land_tax_relief_yuan"),
        ("subsidy", "subsidy_yuan"))]
    total = sum(mine[c].to_numpy(dtype=float) for c in (
        "electricity_bill_yuan", "water_bill_yuan", "pollution_charge_yuan", "land_tax_yuan"))
    va = mine["va_wan_yuan"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_va = np.where(va > 0, total / va, np.nan)
    rows += [(t["resource_bill"], "yuan", [fmt(v) for v in total]),
             (t["per_va"], "yuan/万元", [fmt(v) for v in per_va])]
    quota_costs = [c for q in _QUOTAS for c in (f"{q}_net_paid_yuan", f"{q}_abatement_cost_yuan")
                   if c in mine.columns]
    if quota_costs:
        cost = sum(mine[c].to_numpy(dtype=float) for c in quota_costs)
        rows.append((t["quota_cost"], "yuan", [fmt(v) for v in cost]))
    return _year_table(mine, years, rows, t)


def _quota_tables(mine: pd.DataFrame, years: list[int], t: dict[str, str]) -> str:
    parts = []
    for quota in _QUOTAS:
        if f"{quota}_allocated" not in mine.columns:
            continue
        numbers = [f"{quota}_{k}" for k in ("allocated", "held", "shortfall", "net_paid_yuan",
                                            "abatement_cost_yuan")]
        involved = mine[f"{quota}_covered"].any() or any(
            (mine[c].to_numpy(dtype=float) != 0).any() for c in numbers if c in mine.columns)
        if not involved:
            continue
        unit = "tce" if quota == "energy" else "t"
        rows = [(t["q.covered"], "", [t["yes"] if v else t["no"]
                                      for v in mine[f"{quota}_covered"]])]
        rows += [(t[f"q.{key}"], u, _values(mine, f"{quota}_{column}")) for key, u, column in (
            ("allocated", unit, "allocated"), ("held", unit, "held"), ("use", unit, "use"),
            ("shortfall", unit, "shortfall"), ("net_paid", "yuan", "net_paid_yuan"),
            ("abatement_cost", "yuan", "abatement_cost_yuan"))]
        rows.append((t["q.abatement_share"], "share", _values(mine, f"{quota}_abatement_share")))
        parts.append(f"<h3>{html.escape(t[f'market.{quota}'])}</h3>"
                     + _year_table(mine, years, rows, t))
    return "\n".join(parts) if parts else _p(t["no_quotas"], "note")


def _breakdown(lift: ClassLift, spec: EvaluationSpec, t: dict[str, str], lang: str) -> str:
    if not lift.terms:
        return _p(t["lift.unrated"].format(year=lift.year), "note")
    total = sum(term.weight for term in lift.terms)
    rows = []
    for term in lift.terms:
        ratio = term.value / term.benchmark if term.has and term.benchmark > 0 else math.nan
        rows.append((_indicator_name(term.name, lang),
                     fmt(term.value) if term.has else t["no_data_cell"],
                     fmt(term.benchmark), fmt(ratio), fmt(term.weight), fmt(term.points),
                     fmt(100.0 * term.weight * spec.indicator_cap / total)))
    rows.append((t["bonus"], "", "", "", "", fmt(lift.bonus), ""))
    rows.append((Markup(f"<b>{html.escape(t['total'])}</b>"), "", "", "", "",
                 Markup(f"<b>{html.escape(fmt(lift.score))}</b>"), ""))
    note = t["breakdown_note"].format(cap=fmt(spec.indicator_cap), total=fmt(total),
                                      benchmark=t[f"bench.{spec.benchmark}"])
    return (html_table([t["indicator"], t["value"], t["benchmark"], t["ratio"], t["weight"],
                        t["points_col"], t["max_points"]], rows) + _p(note, "note"))


def _lift_section(lift: ClassLift, spec: EvaluationSpec, t: dict[str, str], lang: str) -> str:
    if lift.status in ("unrated", "top", "veto", "no_place"):
        return _p(t[f"lift.{lift.status}"].format(year=lift.year, next=lift.next_class,
                                                  n=lift.group_size))
    key = "lift.shares" if lift.method == "shares" else "lift.thresholds"
    intro = t[key].format(year=lift.year, score=fmt(lift.score), rank=lift.rank,
                          n=lift.group_size, klass=lift.klass, next=lift.next_class,
                          cut=lift.target_rank, target_firm=lift.target_firm_id,
                          target=fmt(lift.target_score), gap=fmt(max(lift.gap, 0.0)))
    rows = []
    for item in lift.lifts:
        name = _indicator_name(item.indicator, lang)
        unit = _unit(INDICATOR_UNITS[item.indicator], lang)
        if item.status in ("ok", "reached"):
            rows.append((name, unit, fmt(item.value), fmt(item.required),
                         fmt(item.rise, signed=True), fmt(item.rise_pct), ""))
            continue
        note = t[f"st.{item.status}"].format(cap=fmt(spec.indicator_cap),
                                             points=fmt(item.max_points))
        rows.append((name, unit, fmt(item.value), "—", "—", "—", note))
    table = html_table([t["indicator"], t["unit"], t["value"], t["needed"], t["rise"],
                        t["rise_pct"], t["note"]], rows, numeric_from=2)
    if math.isnan(lift.uniform_rise_pct):
        together = t["lift.together_never"]
    else:
        together = t["lift.together"].format(pct=fmt(lift.uniform_rise_pct))
    return _p(intro) + _p(t["lift.method"], "note") + table + _p(together)


def _rules(lift: ClassLift, spec: EvaluationSpec, t: dict[str, str], lang: str) -> str:
    rows = []
    if lift.tier is not None:
        rows.append((t["r.tier"], t[f"tier.{lift.tier}"]))
        rows.append((t["r.weights"], ", ".join(
            f"{_indicator_name(k, lang) if k in INDICATOR_UNITS else k} {fmt(v)}"
            for k, v in _tier_weights(spec, lift.tier).items())))
    keys = " × ".join(t[f"key.{k}"] for k in spec.group_by) or "—"
    rows.append((t["r.groups"], t["r.by"].format(keys=keys)))
    rows.append((t["r.benchmark"], t[f"bench.{spec.benchmark}"]))
    rows.append((t["r.cap"], fmt(spec.indicator_cap)))
    c = spec.classification
    if c.method == "shares":
        shares = ", ".join(f"{k} {100 * v:g}%" for k, v in zip(CLASSES, c.shares.as_tuple(),
                                                                strict=True))
        rows.append((t["r.method"], t["r.shares"].format(shares=shares)))
    else:
        th = c.thresholds
        rows.append((t["r.method"], t["r.thresholds"].format(
            thresholds=f"A ≥ {fmt(th.A)}, B ≥ {fmt(th.B)}, C ≥ {fmt(th.C)}")))
    extra = ((t["r.veto_emission"] if spec.veto.emission_violation else "")
             + (t["r.veto_energy"] if spec.veto.energy_task_missed else ""))
    rows.append((t["r.veto"], t["r.veto_text"].format(
        p=fmt(spec.veto.accident_probability_per_year), extra=extra)))
    b = spec.bonus
    rows.append((t["r.bonus"], t["r.bonus_text"].format(
        high_tech=fmt(b.high_tech), listed=fmt(b.listed), brand=fmt(b.brand))))
    rows.append((t["r.protect"], t["r.protect_text"].format(years=spec.protect_new_firms_years)))
    return html_table([t["item"], t["value_col"]], rows, numeric_from=99)

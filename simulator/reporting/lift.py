"""What would lift a firm's class: its score terms and each indicator's rise to the next class.

The computation behind the firm card (:mod:`simulator.reporting.card`).

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

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulator import catalogue
from simulator.evaluation import TIER_INDICATORS, Bins, benchmark_sums, indicator_score
from simulator.scenario import POLLUTANTS, EvaluationSpec

__all__ = ["CLASSES", "FORMULAS", "ClassLift", "IndicatorTerm", "Lift", "class_lift",
           "required_rise", "score_terms", "tier_weights", "uniform_rise"]

CLASSES: tuple[str, ...] = ("A", "B", "C", "D")
#: ``scale`` column of firms.parquet -> evaluation tier code.
_TIERS: dict[str, int] = {"above": 0, "below": 1, "services": 2}
#: The weighted sum of the pollutant columns <p>_t (evaluation.emission_weights).
_EMISSIONS = "weighted_emissions_t"
#: indicator -> (numerator column, denominator column or None, scale): the catalogue's
#: formulas of simulator.evaluation, on firms.parquet's columns (tests check they give its
#: ind_* values).
FORMULAS = catalogue.indicator_formulas()
#: Slack of floor(n * share + 0.5) for float error, as in the evaluation.
_ROUNDING_TOLERANCE = 1e-9


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


def tier_weights(spec: EvaluationSpec, tier: int) -> dict[str, float]:
    """Return the indicator weights of evaluation tier ``tier``."""
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


def _column(frame: pd.DataFrame, name: str | None, spec: EvaluationSpec,
            pollutants: tuple[str, ...]) -> np.ndarray:
    if name is None:
        return np.ones(len(frame))
    if name == _EMISSIONS:
        weights = spec.emission_weights.values(pollutants)
        return sum(w * frame[f"{p}_t"].to_numpy(dtype=float)
                   for p, w in zip(pollutants, weights, strict=True))
    return frame[name].to_numpy(dtype=float)


def _firm_position(year_firms: pd.DataFrame, firm_id: int) -> int:
    hits = np.flatnonzero(year_firms["firm_id"].to_numpy() == firm_id)
    if hits.size != 1:
        raise ValueError(f"firm {firm_id} appears {hits.size} times in the year's table; "
                         "expected once")
    return int(hits[0])


def score_terms(year_firms: pd.DataFrame, firm_id: int, spec: EvaluationSpec,
                pollutants: tuple[str, ...] = POLLUTANTS) -> tuple[IndicatorTerm, ...]:
    """Return the scored indicators of one firm in one year, as the evaluation scored them.

    Parameters
    ----------
    year_firms : pandas.DataFrame
        firms.parquet rows of one year and replication (every firm).
    firm_id : int
        The firm.
    spec : EvaluationSpec
        The scenario's evaluation rules.
    pollutants : tuple of str
        The run's pollutants (the snapshot's ``<pollutant>_t`` columns), by default the four.

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
    weights = tier_weights(spec, tier)
    total = sum(weights.values())
    # The evaluation's own scoring, on the firm's ranking group alone (one group; benchmark
    # groups by sector or one for all).
    bench_ids = (np.unique(members["sector"].astype(str).to_numpy(), return_inverse=True)[1]
                 if spec.benchmark == "sector_mean" else np.zeros(len(members), dtype=np.int64))
    bins = Bins(group=np.zeros(len(members), dtype=np.int64), n_group=1,
                bench=bench_ids.astype(np.int64), n_bench=int(bench_ids.max(initial=0)) + 1)
    tier_key = ("above_scale", "below_scale", "services")[tier]
    terms = []
    for name in TIER_INDICATORS[tier]:
        w = float(weights.get(name, 0.0))
        if w <= 0:
            continue
        numer_col, denom_col, scale = FORMULAS[name]
        numer = _column(members, numer_col, spec, pollutants)
        denom = _column(members, denom_col, spec, pollutants)
        has = np.isfinite(numer) & np.isfinite(denom) & (denom > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(has, scale * numer / denom, np.nan)
        if spec.benchmark == "fixed":
            fixed = float(getattr(spec.fixed_benchmarks, tier_key)[name])
            bench_me, big_n, big_d = fixed, math.nan, math.nan
        else:
            fixed = None
            sum_n, sum_d = benchmark_sums(numer, denom, has, bins)
            big_n, big_d = float(sum_n[bins.bench[me]]), float(sum_d[bins.bench[me]])
            bench_me = scale * big_n / big_d if big_d > 0 else math.nan  # nobody has it
        # Without the data a firm gets the group's mean score (Huangyan 2022).
        s_me = float(indicator_score(value, numer, denom, has, bins, weight=w, scale=scale,
                                     fixed=fixed, cap=spec.indicator_cap)[me])
        terms.append(IndicatorTerm(
            name=name, value=float(value[me]), weight=w, points=100.0 * s_me / total,
            benchmark=float(bench_me), numerator=float(numer[me]),
            denominator=float(denom[me]), scale=scale, group_numerator=big_n,
            group_denominator=big_d, has=bool(has[me])))
    return tuple(terms)


def class_lift(year_firms: pd.DataFrame, firm_id: int, spec: EvaluationSpec,
               pollutants: tuple[str, ...] = POLLUTANTS) -> ClassLift:
    """Return the score the firm lacked for the next class, and each indicator's lift.

    Parameters
    ----------
    year_firms : pandas.DataFrame
        firms.parquet rows of one year and replication (every firm).
    firm_id : int
        The firm.
    spec : EvaluationSpec
        The scenario's evaluation rules.
    pollutants : tuple of str
        The run's pollutants (the snapshot's ``<pollutant>_t`` columns), by default the four.

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
    terms = score_terms(year_firms, firm_id, spec, pollutants)
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
    total = sum(tier_weights(spec, tier).values())
    needed = target - base["score"]
    lifts = tuple(required_rise(t, points_needed=needed, total_weight=total,
                                cap=spec.indicator_cap) for t in terms)
    together = uniform_rise(terms, points_needed=needed, total_weight=total,
                            cap=spec.indicator_cap)
    return ClassLift(next_class=nxt, status="ok", target_score=target, target_firm_id=target_id,
                     target_rank=target_rank, bonus=bonus, terms=terms, lifts=lifts,
                     uniform_rise_pct=together, **base)

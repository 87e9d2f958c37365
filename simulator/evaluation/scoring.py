"""Annual comprehensive evaluation (综合评价): indicators, scores, classes A-D.

Every year the government scores each firm in scope on what it yields per
unit of land, energy and emissions, ranks it within its group and puts it in
class A (优先发展类), B (提升发展类), C (调控帮扶类) or D (倒逼整治类).
:func:`evaluate` does this for all firms at once with numpy; every number
comes from :class:`~simulator.scenario.EvaluationSpec` (``params`` below).

Scope and tiers
---------------
A firm is evaluated in exactly one tier:

* tier 0, above-scale industrial (规上工业): every industrial firm with
  ``above_scale``;
* tier 1, below-scale industrial (规下工业): industrial firms that are not
  above scale and hold ``land_mu >= params.min_land_mu_below_scale``;
* tier 2, services (服务业): every services firm, if
  ``params.evaluate_services`` (``is_services`` wins over ``above_scale``).

Other firms are out of scope: tier -1, score NaN, rank 0, class ``UNRATED``.

Ranking groups
--------------
Firms are ranked within *ranking groups*: the tier crossed with the keys in
``params.group_by`` (``region``, ``sector``, ``park``). Park numbers are per
region, so choosing ``park`` groups by (region, park). Above-scale,
below-scale and services firms are therefore never ranked together. Group ids
are dense (0, 1, ...) in the order (tier, region, park, sector).

Indicators
----------
Each indicator is ``x = scale * numerator / denominator`` per firm (tiers
where it is defined in brackets; formulas, units and tiers are declared in
the catalogue, ``simulator/catalogue/entries.yaml``)::

    tax_per_mu           tax / land_mu                     万元/mu      [0, 1]  亩均税收
    va_per_mu            va / land_mu                      万元/mu      [0]     亩均工业增加值
    va_per_tce           va / energy_tce                   万元/tce     [0]     单位能耗工业增加值
    va_per_emission      va / sum_p(w_p * emissions_p)     万元/t       [0]     单位排放工业增加值
    labour_productivity  va / employees                    万元/person  [0]     全员劳动生产率
    rd_share             rd / revenue                      share 0-1   [0]     研发经费占比
    tax_per_kwh          tax * 1e4 / electricity_kwh       yuan/kWh    [1, 2]  单位电耗税收
    sales_per_kwh        revenue * 1e4 / electricity_kwh   yuan/kWh    [2]     单位电耗应税销售收入
    tax                  tax (denominator 1)               万元         [2]     税收
    sales                revenue, taxable sales            万元         [2]     应税销售收入

with pollutant weights ``w_p = params.emission_weights``. A firm *lacks* an
indicator when its denominator is zero, negative or not finite (e.g. zero
emissions means no emission data) or its numerator is not finite; its value
is then NaN. Only indicators with a key in the tier's weights
(``params.weights_above_scale``, ``weights_below_scale``,
``weights_services``) are scored, but every indicator of a tier is reported.

Benchmarks (ratio of sums)
--------------------------
The benchmark ``b_i`` of an indicator is, per ``params.benchmark``:

* ``"group_mean"``: the *ratio of sums* over the firms of the ranking group
  that have the indicator, ``b = scale * sum(numerator) / sum(denominator)``,
  e.g. the group's total tax over its total land. This is how county averages
  such as 亩均税收 are published; it weights each firm by its denominator
  (land, energy, ...) and is not the mean of the firms' ratios. For ``tax``
  and ``sales`` (denominator 1) it is the group's mean per firm.
* ``"sector_mean"``: the same ratio of sums within (ranking group x sector).
* ``"fixed"``: ``params.fixed_benchmarks.<tier>[indicator]`` (tiers
  ``above_scale``, ``below_scale``, ``services``: published benchmarks differ
  by tier, e.g. Huangyan 2022 tax/mu 24.10 above scale, 11.59 below).

Scores
------
For indicator ``i`` with weight ``w_i``::

    s_i = w_i * clip(x_i / b_i, 0, params.indicator_cap)

(``s_i = 0`` if ``b_i <= 0``). A firm that lacks the indicator gets the mean
``s_i`` of the firms of its ranking group that have it (Huangyan 2022: a firm
with no emission data gets the group's mean score); if no firm of the group
has it, every firm of the group gets ``w_i`` (as if at the benchmark). The
total score is::

    S = 100 * sum_i(s_i) / sum_i(w_i)
        + params.bonus.high_tech * high_tech + params.bonus.listed * listed
        + params.bonus.brand * brand

so a firm exactly at every benchmark scores 100 before bonus points.

Classes
-------
Firms are ranked within their ranking group by ``S`` descending, ties broken
by ``firm_id`` ascending (rank 1 = best). Then, by
``params.classification.method``:

* ``"shares"``: with ``n`` firms in the group and class shares
  ``a, b, c, d``, ranks ``1..round(n*a)`` are A, up to ``round(n*(a+b))`` B,
  up to ``round(n*(a+b+c))`` C, the rest D, where
  ``round(x) = floor(x + 0.5)`` (half up; a 1e-9 relative tolerance absorbs
  floating-point error in the share sums). 20/55/20/5 on 20 firms gives
  4/11/4/1.
* ``"thresholds"``: ``S >= A`` threshold is A, else ``S >= B`` is B, else
  ``S >= C`` is C, else D.

Then the one-vote veto (一票否决): a ``vetoed`` firm that would be A or B is
put in C. Then protection: a ``protected`` firm (start-up, newly above scale)
that would be D is put in C. Neither moves other firms, so under ``"shares"``
the realised class counts can differ from the formula.

Results are exactly invariant to the order of the input rows: firms are
processed in ``firm_id`` order internally, so group sums are accumulated in
the same order whatever the input order.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulator import catalogue
from simulator.firms import CLASS_LABELS, UNRATED
from simulator.scenario import POLLUTANTS, EvaluationSpec, Scenario, ScenarioError

__all__ = [
    "INDICATORS",
    "INDICATOR_UNITS",
    "OUT_OF_SCOPE",
    "TIER_ABOVE_SCALE",
    "TIER_BELOW_SCALE",
    "TIER_INDICATORS",
    "TIER_LABELS",
    "TIER_SERVICES",
    "EvaluationInput",
    "EvaluationResult",
    "evaluate",
    "evaluate_table",
    "scored_frame",
    "transition_counts",
]

TIER_ABOVE_SCALE: int = 0
TIER_BELOW_SCALE: int = 1
TIER_SERVICES: int = 2
OUT_OF_SCOPE: int = -1
#: Tier code -> label in output tables (index -1, out of scope, is the last).
TIER_LABELS: tuple[str, ...] = ("above_scale", "below_scale", "services", "out_of_scope")
#: Tier code -> the key of its benchmarks in ``EvaluationSpec.fixed_benchmarks``.
_TIER_KEYS: dict[int, str] = {TIER_ABOVE_SCALE: "above_scale", TIER_BELOW_SCALE: "below_scale",
                              TIER_SERVICES: "services"}

#: Indicator -> (numerator, denominator or None, scale), from the catalogue; operand names
#: index _quantities().
_FORMULAS = catalogue.indicator_formulas()
#: Every indicator, in output-column order.
INDICATORS: tuple[str, ...] = tuple(_FORMULAS)
#: Indicator -> unit of its value.
INDICATOR_UNITS: dict[str, str] = {
    name: e.unit for name, e in catalogue.indicators().items()}
#: Tier code -> the indicators defined for it (the catalogue's tiers, in column order).
TIER_INDICATORS: dict[int, tuple[str, ...]] = {
    tier: tuple(name for name, e in catalogue.indicators().items() if tier in e.tiers)
    for tier in (TIER_ABOVE_SCALE, TIER_BELOW_SCALE, TIER_SERVICES)}

# Slack for floor(x + 0.5) when x = n * (cumulative share) carries float error.
_ROUNDING_TOLERANCE = 1e-9


@dataclass(frozen=True)
class EvaluationInput:
    """Annual totals per firm for one evaluation (arrays of length ``n``).

    Parameters
    ----------
    firm_id : ndarray of int64
        Unique firm ids; ties in score are broken by the smaller id.
    tax_wan_yuan, va_wan_yuan, revenue_wan_yuan, rd_wan_yuan : ndarray of float
        Tax paid, value added, main-business revenue (taxable sales) and R&D
        spend over the year, 万元.
    land_mu : ndarray of float
        Land held, mu.
    employees : ndarray of float
        Employees, persons.
    energy_tce : ndarray of float
        Energy use over the year, tce.
    electricity_kwh : ndarray of float
        Electricity use over the year, kWh.
    emissions_t : ndarray of float, shape (n, 4)
        Emissions over the year, tonnes, one column per pollutant (the scenario's order)
        (cod, nh3n, so2, nox).
    above_scale, is_services : ndarray of bool
        Above designated size (规上); services firm.
    sector, region, park : ndarray of int
        Sector code, region code, park number within the region.
    high_tech, listed, brand : ndarray of bool
        Bonus items.
    vetoed : ndarray of bool
        One-vote veto this year: cannot be A or B.
    protected : ndarray of bool
        Start-ups and firms newly above scale: cannot be D.
    """

    firm_id: np.ndarray
    tax_wan_yuan: np.ndarray
    va_wan_yuan: np.ndarray
    revenue_wan_yuan: np.ndarray
    rd_wan_yuan: np.ndarray
    land_mu: np.ndarray
    employees: np.ndarray
    energy_tce: np.ndarray
    electricity_kwh: np.ndarray
    emissions_t: np.ndarray
    above_scale: np.ndarray
    is_services: np.ndarray
    sector: np.ndarray
    region: np.ndarray
    park: np.ndarray
    high_tech: np.ndarray
    listed: np.ndarray
    brand: np.ndarray
    vetoed: np.ndarray
    protected: np.ndarray

    def __post_init__(self) -> None:
        n = self.n
        for f in dataclasses.fields(self):
            shape = np.shape(getattr(self, f.name))
            want = (n, *shape[1:2]) if f.name == "emissions_t" else (n,)
            if shape != want or (f.name == "emissions_t" and len(shape) != 2):
                raise ValueError(
                    f"The '{f.name}' array must have shape {want}. Got {shape} instead."
                )

    @property
    def n(self) -> int:
        """Number of firms."""
        return int(np.shape(self.firm_id)[0])

    def take(self, index: np.ndarray) -> EvaluationInput:
        """Return the firms at ``index`` (an integer or boolean index array)."""
        return EvaluationInput(
            **{f.name: np.asarray(getattr(self, f.name))[index] for f in dataclasses.fields(self)}
        )


@dataclass(frozen=True)
class EvaluationResult:
    """Outcome of one evaluation, one entry per firm (input order).

    Attributes
    ----------
    in_scope : ndarray of bool
        The firm is evaluated this year.
    tier : ndarray of int8
        0 above-scale industrial, 1 below-scale industrial, 2 services,
        -1 out of scope (labels in ``TIER_LABELS``).
    group : ndarray of int64
        Ranking-group id (tier x ``group_by`` keys); -1 out of scope.
    indicators : dict of str to ndarray of float
        Every indicator's value (units in ``INDICATOR_UNITS``); NaN where the
        indicator is not defined for the firm's tier or its data are missing.
    score : ndarray of float
        Total score ``S`` including bonus points; NaN out of scope.
    rank : ndarray of int64
        1 = best within the ranking group; 0 out of scope.
    group_size : ndarray of int64
        Number of firms in the ranking group; 0 out of scope.
    klass : ndarray of int8
        Class code 0..3 (A..D) after veto and protection; ``UNRATED`` (4) out
        of scope.
    """

    in_scope: np.ndarray
    tier: np.ndarray
    group: np.ndarray
    indicators: dict[str, np.ndarray]
    score: np.ndarray
    rank: np.ndarray
    group_size: np.ndarray
    klass: np.ndarray


def evaluate(inp: EvaluationInput, *, params: EvaluationSpec,
             pollutants: tuple[str, ...] = POLLUTANTS) -> EvaluationResult:
    """Score, rank and classify every firm (formulas in the module docstring).

    Parameters
    ----------
    inp : EvaluationInput
        The year's totals per firm.
    params : EvaluationSpec
        The evaluation rules (scope, groups, weights, benchmarks, classes).
    pollutants : tuple of str
        The pollutants of ``inp.emissions_t``'s columns (the scenario's
        :meth:`~simulator.scenario.Scenario.pollutant_names`); by default the four.

    Returns
    -------
    EvaluationResult
        Indicators, scores (points; 100 = at every benchmark), ranks and
        classes, one entry per firm in input order.

    Raises
    ------
    ValueError
        If ``firm_id`` has duplicates.

    Examples
    --------
    >>> result = evaluate(inp, params=scenario.evaluation)  # doctest: +SKIP
    >>> class_labels(result.klass)  # doctest: +SKIP
    array(['A', 'B', 'U', ...], dtype=object)
    """
    firm_id = np.asarray(inp.firm_id)
    if np.all(np.diff(firm_id) > 0):
        return _evaluate_sorted(inp, params, pollutants)
    # Work in firm_id order so that group sums, and hence scores, are
    # bit-identical whatever the order of the rows.
    order = np.argsort(firm_id, kind="stable")
    if np.any(np.diff(firm_id[order]) == 0):
        raise ValueError("The 'firm_id' array must hold unique ids. Got duplicates instead.")
    res = _evaluate_sorted(inp.take(order), params, pollutants)
    back = np.empty_like(order)
    back[order] = np.arange(order.size)
    return EvaluationResult(
        in_scope=res.in_scope[back],
        tier=res.tier[back],
        group=res.group[back],
        indicators={k: v[back] for k, v in res.indicators.items()},
        score=res.score[back],
        rank=res.rank[back],
        group_size=res.group_size[back],
        klass=res.klass[back],
    )


def _evaluate_sorted(inp: EvaluationInput, params: EvaluationSpec,
                     pollutants: tuple[str, ...]) -> EvaluationResult:
    """Evaluate firms given in strictly increasing ``firm_id`` order."""
    n = inp.n
    tier = _tiers(inp, params)
    in_scope = tier >= 0
    group, n_groups = _ranking_groups(inp, tier, params)
    if params.benchmark == "sector_mean":
        digits, base = _radix(inp.sector)
        bench_group, n_bench = _dense_ids(np.maximum(group, 0) * base + digits, in_scope)
    else:
        bench_group, n_bench = group, n_groups

    quantities = _quantities(inp, params, pollutants)
    indicators = {name: np.full(n, np.nan) for name in INDICATORS}
    score = np.full(n, np.nan)
    tier_weights = {
        TIER_ABOVE_SCALE: params.weights_above_scale,
        TIER_BELOW_SCALE: params.weights_below_scale,
        TIER_SERVICES: params.weights_services,
    }
    for t, weights in tier_weights.items():
        rows = np.flatnonzero(tier == t)  # stays in firm_id order
        if rows.size == 0:
            continue
        bins = _Bins(group[rows], n_groups, bench_group[rows], n_bench)
        total = np.zeros(rows.size)
        for name in TIER_INDICATORS[t]:
            numer_key, denom_key, scale = _FORMULAS[name]
            numer = quantities[numer_key][rows]
            denom = np.ones(rows.size) if denom_key is None else quantities[denom_key][rows]
            has = np.isfinite(numer) & np.isfinite(denom) & (denom > 0)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                value = np.where(has, scale * numer / denom, np.nan)
            indicators[name][rows] = value
            w = float(weights.get(name, 0.0))
            if w > 0:
                fixed = (getattr(params.fixed_benchmarks, _TIER_KEYS[t])[name]
                         if params.benchmark == "fixed" else None)
                total += _indicator_score(
                    value,
                    numer,
                    denom,
                    has,
                    bins,
                    weight=w,
                    scale=scale,
                    fixed=fixed,
                    cap=params.indicator_cap,
                )
        score[rows] = 100.0 * total / sum(weights.values())
    score += (
        params.bonus.high_tech * np.asarray(inp.high_tech, dtype=float)
        + params.bonus.listed * np.asarray(inp.listed, dtype=float)
        + params.bonus.brand * np.asarray(inp.brand, dtype=float)
    )

    rank, sizes = _rank_within_groups(score, group, n_groups)
    group_size = np.zeros(n, dtype=np.int64)
    group_size[in_scope] = sizes[group[in_scope]]
    klass = np.full(n, UNRATED, dtype=np.int8)
    klass[in_scope] = _classify(score[in_scope], rank[in_scope], group_size[in_scope], params)
    vetoed = np.asarray(inp.vetoed, dtype=bool) & in_scope
    klass[vetoed & (klass <= 1)] = 2  # 一票否决: cannot be A or B (Changle 2023)
    protected = np.asarray(inp.protected, dtype=bool) & in_scope
    klass[protected & (klass == 3)] = 2  # start-ups are not put in D (Changle 2023)

    return EvaluationResult(
        in_scope=in_scope,
        tier=tier,
        group=group,
        indicators=indicators,
        score=score,
        rank=rank,
        group_size=group_size,
        klass=klass,
    )


@dataclass(frozen=True)
class _Bins:
    """Ranking- and benchmark-group ids of one tier's firms, for np.bincount."""

    group: np.ndarray
    n_group: int
    bench: np.ndarray
    n_bench: int


def _benchmark_sums(numer: np.ndarray, denom: np.ndarray, has: np.ndarray,
                    bins: _Bins) -> tuple[np.ndarray, np.ndarray]:
    """Return each benchmark group's sums of numerator and denominator.

    Over the firms that have the indicator; the benchmark is their ratio.
    """
    sum_n = np.bincount(bins.bench, weights=np.where(has, numer, 0.0), minlength=bins.n_bench)
    sum_d = np.bincount(bins.bench, weights=np.where(has, denom, 0.0), minlength=bins.n_bench)
    return sum_n, sum_d


def _indicator_score(
    value: np.ndarray,
    numer: np.ndarray,
    denom: np.ndarray,
    has: np.ndarray,
    bins: _Bins,
    *,
    weight: float,
    scale: float,
    fixed: float | None,
    cap: float,
) -> np.ndarray:
    """Return ``s_i`` per firm of one tier for one indicator of weight ``weight``."""
    if fixed is None:
        sum_n, sum_d = _benchmark_sums(numer, denom, has, bins)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            bench = (scale * sum_n / sum_d)[bins.bench]
    else:
        bench = np.full(value.shape[0], float(fixed))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = np.where(has & (bench > 0), value / bench, 0.0)
    s = weight * np.clip(ratio, 0.0, cap)
    if not has.all():
        # Huangyan 2022: a firm without the data gets its group's mean score;
        # if nobody in the group has the data, everyone is put at the benchmark.
        g_sum = np.bincount(bins.group, weights=s, minlength=bins.n_group)
        g_cnt = np.bincount(bins.group, weights=has, minlength=bins.n_group)
        with np.errstate(divide="ignore", invalid="ignore"):
            g_mean = np.where(g_cnt > 0, g_sum / g_cnt, weight)
        s = np.where(has, s, g_mean[bins.group])
    return s


def _tiers(inp: EvaluationInput, params: EvaluationSpec) -> np.ndarray:
    """Return the tier code of every firm (-1 out of scope)."""
    services = np.asarray(inp.is_services, dtype=bool)
    above = np.asarray(inp.above_scale, dtype=bool) & ~services
    below = ~services & ~above & (np.asarray(inp.land_mu) >= params.min_land_mu_below_scale)
    tier = np.full(inp.n, OUT_OF_SCOPE, dtype=np.int8)
    tier[above] = TIER_ABOVE_SCALE
    tier[below] = TIER_BELOW_SCALE
    if params.evaluate_services:
        tier[services] = TIER_SERVICES
    return tier


def _radix(codes: np.ndarray) -> tuple[np.ndarray, int]:
    """Return (codes shifted to start at 0, number of possible values) as int64."""
    codes = np.asarray(codes, dtype=np.int64)
    if codes.size == 0:
        return codes, 1
    low = codes.min()
    return codes - low, int(codes.max() - low) + 1


def _dense_ids(key: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, int]:
    """Return dense ids 0, 1, ... of the masked rows' keys (in key order), -1 elsewhere.

    ``key`` must be non-negative.
    """
    n_keys = int(key.max()) + 1 if key.size else 1
    if n_keys <= 4 * key.size + 1024:  # counting is O(n); np.unique sorts
        present = np.bincount(key, weights=mask, minlength=n_keys) > 0
        dense = np.cumsum(present) - 1
        return np.where(mask, dense[key], -1), int(present.sum())
    ids = np.full(key.shape[0], -1, dtype=np.int64)
    uniq, inverse = np.unique(key[mask], return_inverse=True)
    ids[mask] = inverse
    return ids, int(uniq.size)


def _ranking_groups(
    inp: EvaluationInput, tier: np.ndarray, params: EvaluationSpec
) -> tuple[np.ndarray, int]:
    """Return (group id per firm, number of groups): tier x ``group_by`` keys."""
    keys = []
    if "region" in params.group_by or "park" in params.group_by:
        keys.append(inp.region)  # park numbers are per region
    if "park" in params.group_by:
        keys.append(inp.park)
    if "sector" in params.group_by:
        keys.append(inp.sector)
    in_scope = tier >= 0
    key = np.where(in_scope, tier, 0).astype(np.int64)
    for codes in keys:  # mixed-radix number (tier, region, park, sector)
        digits, base = _radix(codes)
        key = key * base + digits
    return _dense_ids(key, in_scope)


def _quantities(inp: EvaluationInput, params: EvaluationSpec,
                pollutants: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Numerators and denominators of the indicators, as float arrays, by catalogue name."""
    emission_w = np.asarray(params.emission_weights.values(pollutants), dtype=float)
    return {
        "tax_wan_yuan": np.asarray(inp.tax_wan_yuan, dtype=float),
        "va_wan_yuan": np.asarray(inp.va_wan_yuan, dtype=float),
        "revenue_wan_yuan": np.asarray(inp.revenue_wan_yuan, dtype=float),
        "rd_wan_yuan": np.asarray(inp.rd_wan_yuan, dtype=float),
        "land_mu": np.asarray(inp.land_mu, dtype=float),
        "energy_tce": np.asarray(inp.energy_tce, dtype=float),
        "weighted_emissions_t": np.asarray(inp.emissions_t, dtype=float) @ emission_w,
        "employees": np.asarray(inp.employees, dtype=float),
        "electricity_kwh": np.asarray(inp.electricity_kwh, dtype=float),
    }


def _rank_within_groups(
    score: np.ndarray, group: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """Return (rank per firm, size per group); rank 1 = highest score.

    Firms must be in ``firm_id`` order: stable sorts then break ties in score
    by ``firm_id``, like ``np.lexsort((firm_id, -score, group))`` but faster.
    """
    rank = np.zeros(score.shape[0], dtype=np.int64)
    idx = np.flatnonzero(group >= 0)
    g = group[idx]
    by_score = _argsort_descending(score[idx])
    small = np.int16 if n_groups <= np.iinfo(np.int16).max else np.int64  # radix sort
    order = by_score[np.argsort(g[by_score].astype(small), kind="stable")]
    sizes = np.bincount(g, minlength=n_groups)
    starts = np.cumsum(sizes) - sizes
    rank[idx[order]] = np.arange(idx.size) - starts[g[order]] + 1
    return rank, sizes


def _argsort_descending(values: np.ndarray) -> np.ndarray:
    """Return the indices that sort ``values`` descending, ties in index order.

    Same as ``np.argsort(-values, kind="stable")``, but an unstable (faster)
    sort followed by a stable re-sort of the tied runs only.
    """
    order = np.argsort(-values)
    ordered = values[order]
    new_run = np.empty(values.shape[0], dtype=bool)
    new_run[:1] = True
    new_run[1:] = ordered[1:] != ordered[:-1]
    run = np.cumsum(new_run)
    tied = ~new_run
    tied[:-1] |= ~new_run[1:]  # every member of a run of two or more
    if tied.any():
        pos = np.flatnonzero(tied)
        tied_order = order[pos]
        # (run, index) as one unique int64, so an unstable sort is enough.
        order[pos] = tied_order[np.argsort(run[pos] * values.shape[0] + tied_order)]
    return order


def _classify(
    score: np.ndarray, rank: np.ndarray, group_size: np.ndarray, params: EvaluationSpec
) -> np.ndarray:
    """Return class codes 0..3 of in-scope firms, before veto and protection."""
    spec = params.classification
    if spec.method == "shares":
        a, b, c, _ = spec.shares.as_tuple()
        x = group_size[:, None] * np.array([a, a + b, a + b + c])
        # Round half up: floor(x + 0.5), with slack for float error in the sums.
        cuts = np.floor(x + 0.5 + _ROUNDING_TOLERANCE * group_size[:, None])
        code = (rank > cuts[:, 0]).astype(np.int8) + (rank > cuts[:, 1]) + (rank > cuts[:, 2])
    else:
        t = spec.thresholds
        code = (score < t.A).astype(np.int8) + (score < t.B) + (score < t.C)
    return code.astype(np.int8)


def transition_counts(previous: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Count firms by (previous class, current class).

    Parameters
    ----------
    previous, current : ndarray of int
        Class codes 0..3 (A..D) or ``UNRATED`` (4) of the same firms in two
        consecutive years.

    Returns
    -------
    ndarray of int64, shape (5, 5)
        ``counts[i, j]`` firms went from class ``CLASS_LABELS[i]`` to
        ``CLASS_LABELS[j]`` (rows and columns A, B, C, D, U).

    Raises
    ------
    ValueError
        If the arrays differ in shape or hold a code outside 0..4.
    """
    previous = np.asarray(previous, dtype=np.int64)
    current = np.asarray(current, dtype=np.int64)
    k = len(CLASS_LABELS)
    if previous.shape != current.shape:
        raise ValueError(
            f"previous and current must have the same shape. Got {previous.shape} and "
            f"{current.shape} instead."
        )
    for name, codes in (("previous", previous), ("current", current)):
        if codes.size and (codes.min() < 0 or codes.max() >= k):
            raise ValueError(
                f"The '{name}' codes must be in 0..{k - 1}. "
                f"Got {codes.min()}..{codes.max()} instead."
            )
    return np.bincount(previous * k + current, minlength=k * k).reshape(k, k)


def scored_frame(
    inp: EvaluationInput,
    result: EvaluationResult,
    *,
    sector_names: list[str],
    region_names: list[str],
) -> pd.DataFrame:
    """Return the evaluation as a table, one row per firm (input order).

    Parameters
    ----------
    inp : EvaluationInput
        The input that was evaluated.
    result : EvaluationResult
        What :func:`evaluate` returned for ``inp``.
    sector_names : list of str
        Sector name per sector code (``Scenario.sector_names()``).
    region_names : list of str
        Region name per region code.

    Returns
    -------
    pandas.DataFrame
        Columns ``firm_id``, ``region``, ``park``, ``sector``, ``tier``
        (``TIER_LABELS``), ``group``, one column per indicator in
        ``INDICATORS`` (units in ``INDICATOR_UNITS``), ``score`` (points),
        ``rank``, ``group_size`` and ``class`` ("A".."D", "U" out of scope).
        Region, sector, tier and class are categoricals.
    """
    tier_codes = np.where(result.tier >= 0, result.tier, len(TIER_LABELS) - 1)
    columns: dict[str, object] = {
        "firm_id": np.asarray(inp.firm_id),
        "region": pd.Categorical.from_codes(np.asarray(inp.region), categories=region_names),
        "park": np.asarray(inp.park),
        "sector": pd.Categorical.from_codes(np.asarray(inp.sector), categories=sector_names),
        "tier": pd.Categorical.from_codes(tier_codes, categories=list(TIER_LABELS)),
        "group": result.group,
    }
    columns.update({name: result.indicators[name] for name in INDICATORS})
    columns["score"] = result.score
    columns["rank"] = result.rank
    columns["group_size"] = result.group_size
    columns["class"] = pd.Categorical.from_codes(result.klass, categories=list(CLASS_LABELS))
    return pd.DataFrame(columns)


def evaluate_table(table: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Score a real firm table (one year) with a scenario's evaluation rules.

    Parameters
    ----------
    table : pandas.DataFrame
        Canonical firm table from :func:`simulator.population.read_firm_table`
        (at least ``land_mu`` and ``tax_wan_yuan``; other indicators' columns
        as the scenario's weights need them).
    scenario : Scenario
        Gives ``evaluation`` (rules), sectors and regions.

    Returns
    -------
    pandas.DataFrame
        :func:`scored_frame` columns, with the table's ``name`` first when it
        has one.

    Raises
    ------
    ScenarioError
        If a column that a weighted indicator needs is missing.
    """
    from simulator.population import firms_from_table

    needs = {
        "va_wan_yuan": ("va_per_mu", "va_per_tce", "va_per_emission", "labour_productivity"),
        "energy_tce": ("va_per_tce",),
        "employees": ("labour_productivity",),
        "revenue_wan_yuan": ("rd_share", "sales", "sales_per_kwh"),
        "electricity_kwh": ("tax_per_kwh", "sales_per_kwh"),
    }
    spec = scenario.evaluation
    firms = firms_from_table(table, scenario)
    # The columns the tiers present in the table need (a table of below-scale firms only
    # need not report what only above-scale firms are scored on).
    industrial = ~firms.is_services
    tiers = ((spec.weights_above_scale, (industrial & firms.above_scale).any()),
             (spec.weights_below_scale, (industrial & ~firms.above_scale).any()),
             (spec.weights_services, firms.is_services.any()))
    weighted = {k for w, present in tiers if present for k, v in w.items() if v > 0}
    for column, indicators in needs.items():
        used = sorted(weighted.intersection(indicators))
        if used and column not in table.columns:
            raise ScenarioError(f"missing column {column} (needed for {', '.join(used)})",
                                file=table.attrs.get("file"), field=column)

    def reported(column: str, absent: float = np.nan) -> np.ndarray:
        """Return the table's own figures (blank: NaN, not reported); ``absent`` if no column.

        Scored as reported: the simulation's fill-ins (VA from revenue and the
        sector's share, quantities rebuilt from intensities) would change a
        firm's published figures, e.g. the tax of a firm reporting no VA.
        """
        if column in table.columns:
            return table[column].to_numpy(dtype=float)
        return np.full(firms.n, absent)

    inp = EvaluationInput(
        firm_id=firms.firm_id,
        tax_wan_yuan=reported("tax_wan_yuan"),
        va_wan_yuan=reported("va_wan_yuan"),
        revenue_wan_yuan=reported("revenue_wan_yuan"),
        rd_wan_yuan=reported("rd_wan_yuan"),
        land_mu=reported("land_mu"),
        employees=reported("employees"),
        energy_tce=reported("energy_tce"),
        electricity_kwh=reported("electricity_kwh"),
        # A pollutant the table has no column for: none discharged (tables report some).
        emissions_t=np.column_stack([reported(f"{p}_t", 0.0)
                                     for p in scenario.pollutant_names()]),
        above_scale=firms.above_scale,
        is_services=firms.is_services,
        sector=firms.sector,
        region=firms.region,
        park=firms.park,
        high_tech=firms.high_tech,
        listed=firms.listed,
        brand=firms.brand,
        vetoed=firms.vetoed,
        protected=np.zeros(firms.n, dtype=bool),
    )
    result = evaluate(inp, params=spec, pollutants=scenario.pollutant_names())
    regions = [r.name for r in scenario.population.regions]
    if "region" in table.columns:
        regions += [r for r in sorted(set(table["region"])) if r not in regions]
    frame = scored_frame(inp, result, sector_names=scenario.sector_names(), region_names=regions)
    if "name" in table.columns:
        frame.insert(1, "name", table["name"].to_numpy())
    return frame

"""Scores: the indicators, their benchmarks and each firm's total score; :func:`evaluate`.

:func:`evaluate` runs the whole evaluation of one year: tiers and groups
(:mod:`~simulator.evaluation.inputs`), every indicator of each firm's tier,
the indicator scores against the group's benchmark (a ratio of sums, a
sector's, or a fixed figure), the total score with bonus points, then ranks
and classes (:mod:`~simulator.evaluation.classes`). :func:`benchmark_sums`
and :func:`indicator_score` are also what the report card's "what would lift
the class" follows (:mod:`simulator.reporting.lift`). The formulas are stated
in :mod:`simulator.evaluation`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.evaluation.classes import rank_and_classify, rank_and_grade
from simulator.evaluation.inputs import (
    INDICATOR_FORMULAS,
    INDICATORS,
    TIER_ABOVE_SCALE,
    TIER_BELOW_SCALE,
    TIER_INDICATORS,
    TIER_SERVICES,
    EvaluationInput,
    EvaluationResult,
    benchmark_groups,
    ranking_groups,
    tier_codes,
)
from simulator.evaluation.rules import Adjustments, RuleOutcome, apply_class_rules
from simulator.scenario import POLLUTANTS, EvaluationSpec

__all__ = ["Bins", "benchmark_sums", "evaluate", "indicator_score"]

#: Tier code -> the key of its benchmarks in ``EvaluationSpec.fixed_benchmarks``.
_TIER_KEYS: dict[int, str] = {TIER_ABOVE_SCALE: "above_scale", TIER_BELOW_SCALE: "below_scale",
                              TIER_SERVICES: "services"}


def evaluate(inp: EvaluationInput, *, params: EvaluationSpec,
             pollutants: tuple[str, ...] = POLLUTANTS,
             adjust: Adjustments | None = None) -> EvaluationResult:
    """Score, rank and classify every firm (formulas in :mod:`simulator.evaluation`).

    Parameters
    ----------
    inp : EvaluationInput
        The year's totals per firm.
    params : EvaluationSpec
        The evaluation rules (scope, groups, weights, benchmarks, classes).
    pollutants : tuple of str
        The pollutants of ``inp.emissions_t``'s columns (the scenario's
        :meth:`~simulator.scenario.Scenario.pollutant_names`); by default the four.
    adjust : Adjustments, optional
        Deduction and downgrade items and the entry-standards test of each
        firm (:mod:`~simulator.evaluation.rules`); None: none (and the rules'
        outcome is only computed if ``params.protection_excludes_penalised``).

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
        return _evaluate_sorted(inp, params, pollutants, adjust)
    # Work in firm_id order so that group sums, and hence scores, are
    # bit-identical whatever the order of the rows.
    order = np.argsort(firm_id, kind="stable")
    if np.any(np.diff(firm_id[order]) == 0):
        raise ValueError("The 'firm_id' array must hold unique ids. Got duplicates instead.")
    res = _evaluate_sorted(inp.take(order), params, pollutants,
                           None if adjust is None else adjust.take(order))
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
        rules=None if res.rules is None else res.rules.take(back),
    )


def _evaluate_sorted(inp: EvaluationInput, params: EvaluationSpec,
                     pollutants: tuple[str, ...],
                     adjust: Adjustments | None = None) -> EvaluationResult:
    """Evaluate firms given in strictly increasing ``firm_id`` order."""
    n = inp.n
    tier = tier_codes(inp, params)
    in_scope = tier >= 0
    group, n_groups = ranking_groups(inp, tier, params)
    bench_group, n_bench = benchmark_groups(inp, group, n_groups, in_scope, params)

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
        bins = Bins(group[rows], n_groups, bench_group[rows], n_bench)
        total = np.zeros(rows.size)
        for name in TIER_INDICATORS[t]:
            numer_key, denom_key, scale = INDICATOR_FORMULAS[name]
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
                total += indicator_score(
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

    outcome = None
    if adjust is None and not params.protection_excludes_penalised:
        rank, group_size, klass = rank_and_classify(score, group, n_groups, in_scope, inp,
                                                    params)
    else:
        rank, group_size, klass, score, outcome = _with_rules(
            score, group, n_groups, in_scope, inp, params, adjust)

    return EvaluationResult(
        in_scope=in_scope,
        tier=tier,
        group=group,
        indicators=indicators,
        score=score,
        rank=rank,
        group_size=group_size,
        klass=klass,
        rules=outcome,
    )


def _with_rules(
    score: np.ndarray, group: np.ndarray, n_groups: int, in_scope: np.ndarray,
    inp: EvaluationInput, params: EvaluationSpec, adjust: Adjustments | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, RuleOutcome]:
    """Deduct points, rank and grade, then the further class rules (:mod:`.rules`)."""
    adjust = Adjustments.none(inp.n) if adjust is None else adjust
    score = score - np.asarray(adjust.deduction_points, dtype=float)
    rank, group_size, klass = rank_and_grade(score, group, n_groups, in_scope, inp, params)
    klass, outcome = apply_class_rules(klass, in_scope, inp, adjust, params)
    return rank, group_size, klass, score, outcome


@dataclass(frozen=True)
class Bins:
    """Ranking- and benchmark-group ids of one tier's firms, for np.bincount."""

    group: np.ndarray
    n_group: int
    bench: np.ndarray
    n_bench: int


def benchmark_sums(numer: np.ndarray, denom: np.ndarray, has: np.ndarray,
                   bins: Bins) -> tuple[np.ndarray, np.ndarray]:
    """Return each benchmark group's sums of numerator and denominator.

    Over the firms that have the indicator; the benchmark is their ratio.
    """
    sum_n = np.bincount(bins.bench, weights=np.where(has, numer, 0.0), minlength=bins.n_bench)
    sum_d = np.bincount(bins.bench, weights=np.where(has, denom, 0.0), minlength=bins.n_bench)
    return sum_n, sum_d


def indicator_score(
    value: np.ndarray,
    numer: np.ndarray,
    denom: np.ndarray,
    has: np.ndarray,
    bins: Bins,
    *,
    weight: float,
    scale: float,
    fixed: float | None,
    cap: float,
) -> np.ndarray:
    """Return ``s_i`` per firm of one tier for one indicator of weight ``weight``."""
    if fixed is None:
        sum_n, sum_d = benchmark_sums(numer, denom, has, bins)
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

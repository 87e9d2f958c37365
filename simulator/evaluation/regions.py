"""Regions and parks as units of the evaluation (分县域、分园区评价) and what steers by it.

Zhejiang evaluates counties and parks as well as firms (强化分县域、分行业、分园区
的"亩均论英雄"综合评价, seed 000 line 78). A *unit* (a region, or a park within a
region) is scored on the ratio of its firms' sums, with the firms' formula:

* sums ``N_u``, ``D_u`` of each indicator's numerator and denominator over
  the unit's firms in scope (:func:`unit_sums`);
* value ``x_u = scale * N_u / D_u`` (missing where ``D_u <= 0``), e.g. tax per
  mu = the unit's tax / its land, VA per tonne = VA / the emissions weighted
  by ``evaluation.emission_weights``;
* benchmark ``b`` over the units that have the value: the ratio of sums over
  all of them (``aggregate``, the territory's figure) or the plain mean of
  their values (``unit_mean``);
* indicator score ``s_u = w * min(x_u / b, cap)``; a unit without the value
  gets the mean score of the others (as a firm without emission data);
* score ``S_u = 100 * sum(s_u) / sum(w)``, rank 1 = best (ties by unit
  order), grade A-D by score thresholds.

:func:`steered_shares` turns the scores into shares of what regions receive
(new land, the fund's awards): ``base_r * (S_r / mean S) ** elasticity``,
renormalised, so totals are conserved and only the split moves.

Everything here is a pure function of arrays; the engine calls it at the year
close (:mod:`simulator.engine.recording`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.evaluation.inputs import INDICATOR_FORMULAS
from simulator.firms import UNRATED
from simulator.scenario import UnitEvaluationSpec

__all__ = ["UNIT_QUANTITIES", "UnitEvaluation", "evaluate_units", "park_units",
           "steered_allocation", "steered_awards", "steered_shares", "unit_sums"]

#: The firm quantities a unit's indicators are ratios of (catalogue names).
UNIT_QUANTITIES: tuple[str, ...] = (
    "tax_wan_yuan", "va_wan_yuan", "land_mu", "energy_tce", "weighted_emissions_t",
    "employees", "rd_wan_yuan", "revenue_wan_yuan")


@dataclass(frozen=True)
class UnitEvaluation:
    """The evaluation of units (regions or parks), one entry per unit."""

    sums: dict[str, np.ndarray]
    """Each quantity of :data:`UNIT_QUANTITIES` summed over the unit's firms in scope,
    and ``firms``, their count."""
    indicators: dict[str, np.ndarray]
    """Each weighted indicator's value (NaN: the unit lacks it)."""
    score: np.ndarray
    """Points, 100 = at every benchmark; NaN for a unit without a firm in scope."""
    rank: np.ndarray
    """1 = best; 0 for a unit without a score."""
    grade: np.ndarray
    """Class codes 0-3 (A-D) by score thresholds; ``UNRATED`` without a score."""


def unit_sums(unit: np.ndarray, n_units: int, quantities: dict[str, np.ndarray],
              in_scope: np.ndarray) -> dict[str, np.ndarray]:
    """Return each quantity summed by unit over the firms in scope, and their count ``firms``.

    Parameters
    ----------
    unit : ndarray of int, shape (n,)
        Each firm's unit code, ``0..n_units-1``.
    n_units : int
        Number of units (a unit without firms sums to 0).
    quantities : dict of str to ndarray, shape (n,)
        Firm quantities by catalogue name (NaN counts as 0).
    in_scope : ndarray of bool, shape (n,)
        Firms whose quantities count.

    Examples
    --------
    >>> sums = unit_sums(np.array([0, 0, 1]), 2, {"land_mu": np.array([1.0, 2.0, 4.0])},
    ...                  np.array([True, True, False]))
    >>> {k: v.tolist() for k, v in sums.items()}
    {'land_mu': [3.0, 0.0], 'firms': [2.0, 0.0]}
    """
    unit = np.asarray(unit, dtype=np.intp)
    w = np.asarray(in_scope, dtype=float)
    out = {name: np.bincount(unit, weights=np.nan_to_num(np.asarray(q, dtype=float)) * w,
                             minlength=n_units)
           for name, q in quantities.items()}
    out["firms"] = np.bincount(unit, weights=w, minlength=n_units)
    return out


def evaluate_units(sums: dict[str, np.ndarray], spec: UnitEvaluationSpec, *,
                   cap: float) -> UnitEvaluation:
    """Score, rank and grade units from their sums (formulas in the module docstring).

    Parameters
    ----------
    sums : dict of str to ndarray, shape (U,)
        :func:`unit_sums` of :data:`UNIT_QUANTITIES` (and ``firms``).
    spec : UnitEvaluationSpec
        Weights, benchmark and grade thresholds (``evaluation.regions``).
    cap : float
        Cap on ``x / b`` per indicator (``evaluation.indicator_cap``).

    Returns
    -------
    UnitEvaluation

    Examples
    --------
    Two regions scored on tax per mu only: 30 万元 on 1 mu and 10 万元 on 1 mu;
    the aggregate benchmark is 20, so the scores are 100 * 1.5 and 100 * 0.5.

    >>> from simulator.scenario import UnitEvaluationSpec
    >>> sums = {"tax_wan_yuan": np.array([30.0, 10.0]), "land_mu": np.array([1.0, 1.0]),
    ...         "firms": np.array([1.0, 1.0])}
    >>> r = evaluate_units(sums, UnitEvaluationSpec(weights={"tax_per_mu": 1.0}), cap=2.0)
    >>> r.score.tolist(), r.rank.tolist(), r.grade.tolist()
    ([150.0, 50.0], [1, 2], [0, 3])
    """
    present = np.asarray(sums["firms"]) > 0
    n_units = present.size
    total = np.zeros(n_units)
    indicators: dict[str, np.ndarray] = {}
    weights = {k: float(v) for k, v in spec.weights.items() if v > 0}
    for name, w in weights.items():
        numer_key, denom_key, scale = INDICATOR_FORMULAS[name]
        numer = np.asarray(sums[numer_key], dtype=float)
        denom = np.ones(n_units) if denom_key is None else np.asarray(sums[denom_key], float)
        has = present & (denom > 0)
        value = np.full(n_units, np.nan)
        np.divide(scale * numer, denom, out=value, where=has)
        indicators[name] = value
        total += _indicator_score(value, numer, denom, has, present, w, scale=scale, cap=cap,
                                  benchmark=spec.benchmark)
    score = np.where(present, 100.0 * total / sum(weights.values()), np.nan)
    return UnitEvaluation(sums=dict(sums), indicators=indicators, score=score,
                          rank=_ranks(score), grade=_grades(score, spec))


def _indicator_score(value: np.ndarray, numer: np.ndarray, denom: np.ndarray, has: np.ndarray,
                     present: np.ndarray, weight: float, *, scale: float, cap: float,
                     benchmark: str) -> np.ndarray:
    """Return ``w * min(x / b, cap)`` per unit; a unit lacking ``x``: the others' mean."""
    if not has.any():
        return np.where(present, weight, 0.0)  # nobody has it: everyone at the benchmark
    if benchmark == "aggregate":
        b = scale * numer[has].sum() / denom[has].sum()
    else:
        b = float(value[has].mean())
    ratio = np.zeros(value.size)
    if b > 0:
        np.divide(value, b, out=ratio, where=has)
    s = weight * np.clip(ratio, 0.0, cap)
    return np.where(has, s, np.where(present, s[has].mean(), 0.0))


def _ranks(score: np.ndarray) -> np.ndarray:
    """Rank by score, 1 = best, ties in unit order; 0 for NaN."""
    rank = np.zeros(score.size, dtype=np.int64)
    scored = np.flatnonzero(np.isfinite(score))
    order = scored[np.argsort(-score[scored], kind="stable")]
    rank[order] = np.arange(1, order.size + 1)
    return rank


def _grades(score: np.ndarray, spec: UnitEvaluationSpec) -> np.ndarray:
    """Class codes 0-3 (A-D) by the grade thresholds; UNRATED for NaN."""
    t = spec.grade_thresholds
    grade = np.select([score >= t.A, score >= t.B, score >= t.C], [0, 1, 2], default=3)
    return np.where(np.isfinite(score), grade, UNRATED).astype(np.int8)


def park_units(region: np.ndarray, park: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Return each firm's park unit code and the (region, park) of each unit, sorted.

    Park numbers are per region, so a park unit is the pair (region, park).

    Examples
    --------
    >>> codes, keys = park_units(np.array([1, 0, 1, 0]), np.array([0, 2, 0, 0]))
    >>> codes.tolist(), keys
    ([2, 1, 2, 0], [(0, 0), (0, 2), (1, 0)])
    """
    region = np.asarray(region, dtype=np.int64)
    park = np.asarray(park, dtype=np.int64)
    width = int(park.max()) + 1 if park.size else 1
    keys, codes = np.unique(region * width + park, return_inverse=True)
    return codes.astype(np.intp), [(int(k // width), int(k % width)) for k in keys]


def steered_shares(base: np.ndarray, score: np.ndarray, *, elasticity: float) -> np.ndarray:
    """Return shares ``∝ base_r * (S_r / mean S) ** elasticity`` that sum to 1.

    Parameters
    ----------
    base : ndarray, shape (R,)
        The regions' shares without steering (non-negative, summing to 1).
    score : ndarray, shape (R,)
        The regions' scores; NaN (no firm evaluated) counts at the mean.
    elasticity : float
        0 returns ``base``.

    Examples
    --------
    >>> steered_shares(np.array([0.5, 0.5]), np.array([120.0, 80.0]), elasticity=1.0).tolist()
    [0.6, 0.4]
    """
    base = np.asarray(base, dtype=float)
    score = np.asarray(score, dtype=float)
    finite = np.isfinite(score)
    if elasticity == 0 or not finite.any() or score[finite].mean() <= 0:
        return base / base.sum()
    relative = np.ones(score.size)
    relative[finite] = score[finite] / score[finite].mean()
    weight = base * relative ** elasticity
    if weight.sum() <= 0:
        return base / base.sum()
    return weight / weight.sum()


def steered_awards(klass: np.ndarray, region: np.ndarray, score: np.ndarray, fund_yuan: float,
                   *, elasticity: float) -> np.ndarray:
    """Return class-A awards split between regions by :func:`steered_shares`, yuan per firm.

    A region's base share is its share of the A firms (so with elasticity 0
    every A firm gets the same, as :func:`simulator.investment.a_awards`);
    within a region the A firms share its part equally. The awards sum to
    ``fund_yuan`` (all zeros when no firm is in A).

    Examples
    --------
    Two A firms in region 0 (score 120), one in region 1 (score 60): the base
    shares 2/3 and 1/3 become 0.8 and 0.2.

    >>> steered_awards(np.array([0, 0, 0, 1]), np.array([0, 0, 1, 1]),
    ...                np.array([120.0, 60.0]), 100.0, elasticity=1.0).round(6).tolist()
    [40.0, 40.0, 20.0, 0.0]
    """
    region = np.asarray(region, dtype=np.intp)
    is_a = np.asarray(klass) == 0
    count = np.bincount(region[is_a], minlength=np.asarray(score).size).astype(float)
    if count.sum() == 0 or fund_yuan <= 0:
        return np.zeros(region.size)
    shares = steered_shares(count / count.sum(), score, elasticity=elasticity)
    per_firm = np.divide(fund_yuan * shares, count, out=np.zeros(count.size), where=count > 0)
    return np.where(is_a, per_firm[region], 0.0)


def steered_allocation(entitled: np.ndarray, region: np.ndarray, score: np.ndarray, *,
                       elasticity: float) -> np.ndarray:
    """Return quota entitlements re-split between regions by :func:`steered_shares`.

    A region's base share is its share of the entitlements as allocated (by
    history, class and intensity); each region's firms are scaled by one
    factor, ``steered share / base share``, so the allocation within a
    region keeps its proportions and the total is unchanged.

    Examples
    --------
    Region 0 (score 120) and region 1 (score 80) hold 60 and 40 units: the
    steered shares are 0.6 * 1.2 : 0.4 * 0.8 = 0.6923 : 0.3077.

    >>> steered_allocation(np.array([30.0, 30.0, 40.0]), np.array([0, 0, 1]),
    ...                    np.array([120.0, 80.0]), elasticity=1.0).round(2).tolist()
    [34.62, 34.62, 30.77]
    """
    entitled = np.asarray(entitled, dtype=float)
    region = np.asarray(region, dtype=np.intp)
    held = np.bincount(region, weights=entitled, minlength=np.asarray(score).size)
    total = held.sum()
    if total <= 0:
        return entitled.copy()
    shares = steered_shares(held / total, score, elasticity=elasticity)
    factor = np.divide(shares * total, held, out=np.ones(held.size), where=held > 0)
    return entitled * factor[region]

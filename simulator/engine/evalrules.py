"""Stage: the evaluation's further rules in a run: who is protected, who has which item.

At each year's evaluation :func:`year_rules` decides, from the run's state,
which firms have a large project under construction (protected from D) and
draws the deduction and downgrade items (扣分/降级) of every firm, one
uniform draw per firm and item from its own stream (``deduction/<item>/<year>``,
keyed by firm id: the run's other draws are untouched); :func:`record`
writes what the rules did. Nothing here runs unless a scenario switches a
rule on (:func:`active`). The rules themselves are applied by
:mod:`simulator.evaluation.rules`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from simulator.engine.state import RunState, draw
from simulator.evaluation import (
    Adjustments,
    EvaluationInput,
    EvaluationResult,
    evaluate,
    fails_entry_standards,
    tier_codes,
)
from simulator.firms import CLASS_CODES, UNRATED
from simulator.scenario import EvaluationSpec

__all__ = ["YearRules", "active", "evaluate_with_rules", "large_projects", "record",
           "year_rules"]

#: Reasons of protection from D, in output order.
PROTECTION_REASONS: tuple[str, ...] = ("start_up", "newly_above_scale", "large_project")


@dataclass(frozen=True)
class YearRules:
    """The further rules' per-firm inputs of one year's evaluation.

    Attributes
    ----------
    large_project : ndarray of bool
        Firms with a large project under construction (protected from D).
    items : dict of str to ndarray of bool
        Firms drawn for each deduction item (``DeductionSpec.items()`` names).
    adjust : Adjustments or None
        What the items and the standards test hold against each firm; None
        when neither deductions nor the standards review is on.
    """

    large_project: np.ndarray
    items: dict[str, np.ndarray]
    adjust: Adjustments | None



def active(spec: EvaluationSpec) -> bool:
    """Whether any further rule is on (otherwise the evaluation runs as before)."""
    return (spec.project_protection.enabled or spec.deductions.enabled
            or spec.standards_review.enabled or spec.protection_excludes_penalised
            or spec.unrated_as_b)


def evaluate_with_rules(state: RunState, year: int, given: EvaluationInput) -> EvaluationResult:
    """Evaluate the year with the further rules and record what they did.

    ``given`` is the year's evaluation input with the start-ups and firms newly
    above scale protected; large projects under construction are added here.
    """
    p = state.params
    rules = year_rules(state, year, given)
    if rules.large_project.any():
        given = dataclasses.replace(given, protected=np.asarray(given.protected, dtype=bool)
                                    | rules.large_project)
    adjust = Adjustments.none(given.n) if rules.adjust is None else rules.adjust
    result = evaluate(given, params=p.evaluation, pollutants=p.pollutant_names(),
                      adjust=adjust)
    record(state, year, rules, given, result)
    return result


def large_projects(state: RunState) -> np.ndarray:
    """Return the firms with a large project under construction (重大项目建设期).

    A firm in its first ``entrant_years`` years, or with an investment project
    under way (``projects_under_way``; needs enterprise dynamics), whose fixed
    investment (entry investment per 万元 VA x VA at full output) is at least
    ``min_investment_wan_yuan``.
    """
    p = state.params
    spec = p.evaluation.project_protection
    f = state.firms
    if not spec.enabled:
        return np.zeros(f.n, dtype=bool)
    investment = p.dynamics.entry.investment_wan_yuan_per_wan_yuan_va * f.va_wan_yuan
    building = f.age_years < spec.entrant_years
    if spec.projects_under_way and state.dynamics is not None:
        building |= np.isin(f.firm_id, state.dynamics.projects.firm_id)
    return building & (investment >= spec.min_investment_wan_yuan)


def year_rules(state: RunState, year: int, given: EvaluationInput) -> YearRules:
    """Return the year's protection by large project, items drawn and adjustments."""
    p = state.params
    spec = p.evaluation
    f = state.firms
    items: dict[str, np.ndarray] = {}
    adjust = None
    if spec.deductions.enabled or spec.standards_review.enabled:
        points = np.zeros(f.n)
        steps = np.zeros(f.n, dtype=np.int16)
        at_best = np.zeros(f.n, dtype=np.int8)
        if spec.deductions.enabled:
            for name, item in spec.deductions.items().items():
                if item.probability_per_year <= 0:
                    items[name] = np.zeros(f.n, dtype=bool)
                    continue
                hit = draw(state, f"deduction/{name}/{year}", "uniform") < \
                    item.probability_per_year
                items[name] = hit
                points += np.where(hit, item.points, 0.0)
                steps += np.where(hit, item.downgrade_classes, 0).astype(np.int16)
                at_best = np.maximum(at_best, np.where(hit, CLASS_CODES[item.at_best], 0))
        fails = np.zeros(f.n, dtype=bool)
        if spec.standards_review.enabled:
            fails = fails_entry_standards(given, tier_codes(given, spec),
                                          p.dynamics.entry.standards, spec, p.pollutant_names())
        adjust = Adjustments(points, np.minimum(steps, 3).astype(np.int8),
                             at_best.astype(np.int8), fails)
    return YearRules(large_project=large_projects(state), items=items, adjust=adjust)


def record(state: RunState, year: int, rules: YearRules, given: EvaluationInput,
           result: EvaluationResult) -> None:
    """Write what the rules did this year (each metric only when its rule is on)."""
    spec = state.params.evaluation
    add = state.recorder.add
    rated = result.klass != UNRATED
    outcome = result.rules
    if spec.project_protection.enabled:
        p = state.params
        start_up = state.firms.age_years < p.evaluation.protect_new_firms_years
        reasons = (start_up, state.newly_above_scale, rules.large_project)
        protected = np.asarray(given.protected, dtype=bool)
        add(year, 0, ["all", *(f"reason={r}" for r in PROTECTION_REASONS)], "protected_firms",
            [float((protected & rated).sum()), *(float((r & rated).sum()) for r in reasons)])
        saved = 0.0 if outcome is None else float(outcome.protected_from_d.sum())
        add(year, 0, ["all"], "protected_from_d_firms", [saved])
    if spec.deductions.enabled and outcome is not None:
        names = list(rules.items)
        points = {n: item.points for n, item in spec.deductions.items().items()}
        add(year, 0, [f"item={n}" for n in names], "deduction_item_firms",
            [float((rules.items[n] & rated).sum()) for n in names])
        add(year, 0, [f"item={n}" for n in names], "deducted_points",
            [float((rules.items[n] & rated).sum() * points[n]) for n in names])
        add(year, 0, ["all"], "downgraded_firms", [float(outcome.downgraded.sum())])
    if spec.standards_review.enabled and rules.adjust is not None and outcome is not None:
        add(year, 0, ["all"], "standards_failing_firms",
            [float((rules.adjust.fails_standards & rated).sum())])
        add(year, 0, ["all"], "standards_capped_firms", [float(outcome.capped.sum())])
    if spec.unrated_as_b:
        add(year, 0, ["all"], "unrated_managed_as_b_firms", [float((~rated).sum())])

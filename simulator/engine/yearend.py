"""Stage: the year's close for every firm (annual charges, evaluation, next year's state).

:func:`annual_charges` levies the land-use tax, applies the year's margin
shock, charges corporate income tax on the year's profit and grants or
withholds subsidies; :func:`evaluate_year` scores and grades the year;
:func:`advance` sets next year's classes, ages, scale and potentials;
:func:`replace_firms` drops the exits and appends the entrants in every
per-firm array of the run.
"""

from __future__ import annotations

import numpy as np

from simulator import tariffs
from simulator.dynamics.growth import grow
from simulator.engine import evalrules
from simulator.engine.state import RunState, draw, evaluation_input, reset_corrections
from simulator.evaluation import EvaluationResult, evaluate, managed_classes
from simulator.firms import CLASS_CODES, Firms
from simulator.rng import mechanism_rng

__all__ = ["YearEvaluation", "advance", "annual_charges", "evaluate_year", "replace_firms"]

_D = CLASS_CODES["D"]


class YearEvaluation:
    """The year's evaluation: its result, the classes it gives and the firms vetoed."""

    __slots__ = ("new_class", "result", "vetoed")

    def __init__(self, result: EvaluationResult, vetoed: np.ndarray) -> None:
        self.result = result
        self.new_class = result.klass.astype(np.int8)
        self.vetoed = vetoed


def annual_charges(state: RunState, year: int, *, firm_margin_shock: bool) -> None:
    """Land-use tax, the year's margin shock, income tax and subsidies.

    The year's margin moves with the macro cycle shared by all firms (a
    scenario path) and, with ``firm_margin_shock`` (dynamics on), each
    firm's own shock (prices, demand).
    """
    p = state.params
    f = state.firms
    y = f.ytd
    land = tariffs.land_use_tax(f.land_mu, land_grade=f.land_grade, klass=f.klass,
                                params=p.tariffs.land_tax, years=1.0)
    y["land_tax_yuan"] += land.net_yuan
    y["land_tax_relief_yuan"] += land.relief_yuan
    y["profit_wan_yuan"] -= land.net_yuan * 1e-4
    margin = p.behaviour.margin_shift(year)
    if firm_margin_shock:
        margin = margin + p.dynamics.annual_margin_sd * draw(state, f"margin/{year}", "normal")
    if np.any(margin):
        y["profit_wan_yuan"] += margin * y["revenue_wan_yuan"]
    # Corporate income tax on the year's profit, paid with the year's other taxes.
    income_tax = f.income_tax_rate * np.maximum(y["profit_wan_yuan"], 0.0)
    y["tax_wan_yuan"] += income_tax
    y["profit_wan_yuan"] -= income_tax
    sub = tariffs.subsidy(y["tax_wan_yuan"], klass=f.klass, params=p.tariffs.subsidies)
    y["subsidy_yuan"] += sub.granted_yuan
    y["subsidy_withheld_yuan"] += sub.withheld_yuan
    y["profit_wan_yuan"] += sub.granted_yuan * 1e-4


def evaluate_year(state: RunState, year: int, violation: np.ndarray) -> YearEvaluation:
    """Score and grade the year's totals; accidents and quota violations are vetoed."""
    p = state.params
    f = state.firms
    accident = p.evaluation.veto.accident_probability_per_year
    vetoed = draw(state, f"veto/{year}", "uniform") < accident
    vetoed |= violation
    protected = ((f.age_years < p.evaluation.protect_new_firms_years)
                 | state.newly_above_scale)
    given = evaluation_input(f, f.ytd, vetoed, protected)
    if evalrules.active(p.evaluation):  # further rules (scenario options, off by default)
        return YearEvaluation(evalrules.evaluate_with_rules(state, year, given), vetoed)
    return YearEvaluation(evaluate(given, params=p.evaluation,
                                   pollutants=p.pollutant_names()), vetoed)


def advance(state: RunState, year: int, evaluated: YearEvaluation) -> None:
    """Next year's classes, years in D, ages, scale (规上) and potentials."""
    p = state.params
    f = state.firms
    y = f.ytd
    new_class = evaluated.new_class
    f.consecutive_d_years = np.where(new_class == _D, f.consecutive_d_years + 1, 0).astype(
        np.int16)
    f.klass = managed_classes(new_class, p.evaluation)  # unrated as B, if so managed
    f.vetoed = evaluated.vetoed
    f.age_years = f.age_years + 1
    above = (~f.is_services) & (
        y["revenue_wan_yuan"] >= p.population.above_scale_revenue_wan_yuan)
    state.newly_above_scale = above & ~f.above_scale
    f.above_scale = above
    grow(f, p.behaviour, year + 1, state.frontier, p.quota_names())


def replace_firms(state: RunState, keep: np.ndarray, entrants: Firms, year: int) -> None:
    """Drop the firms that exit and append the entrants, in every per-firm array of the run.

    The markets' rows follow separately (:func:`simulator.engine.trading.resize`).
    """
    seed, rep = state.params.seed, state.replication
    entrants.log_shock = state.stationary_sd * mechanism_rng(
        seed, rep, f"entry-shock/{year}").standard_normal(entrants.n)
    state.firms = state.firms.select(keep).append(entrants)
    n, new = state.firms.n, entrants.n
    state.newly_above_scale = np.concatenate([state.newly_above_scale[keep],
                                              np.zeros(new, dtype=bool)])
    state.last_cost_share = np.concatenate([state.last_cost_share[keep], np.full(new, np.nan)])
    state.period.va = np.zeros(n)
    reset_corrections(state)
    state.new_buffers()

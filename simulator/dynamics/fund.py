"""Stage: the recycling fund (差别化收费收入统筹使用).

A share of the year's recyclable revenue (surcharges, penalties, auction
revenue; ``dynamics.recycling.sources``) goes into a fund: part pays equal
awards to class A firms now, part subsidises energy retrofits (carried over;
granted by the investment stage).

With ``evaluation.regions.steering`` on, the region evaluation of the year
(:mod:`simulator.evaluation.regions`) steers what regions receive: the A
awards are split between regions by their steered shares, and the new land
released next year follows the steered shares of the scenario's region
shares (:func:`steer_land`). Totals are unchanged.
"""

from __future__ import annotations

import numpy as np

from simulator import investment as inv
from simulator.engine.state import RunState, steering_units
from simulator.evaluation.regions import steered_awards, steered_shares
from simulator.firms import UNRATED

__all__ = ["recycle", "steer_land"]


def recycle(state: RunState, year: int, stays: np.ndarray) -> float:
    """Pay the year's recyclable revenue into the fund; pay A awards; return the grant pot."""
    spec = state.params.dynamics.recycling
    dyn = state.dynamics
    f = state.firms
    add = state.recorder.add
    inflow = 0.0
    if spec.enabled:
        y = f.ytd
        by_source = {
            "electricity_surcharge": float(y["electricity_surcharge_yuan"].sum()),
            "water_surcharge": float(y["water_surcharge_yuan"].sum()),
            "pollution_surcharge": float(y["pollution_surcharge_yuan"].sum()),
        }
        for key, source in (("quota_surcharge", "surcharge"), ("quota_penalty", "penalty"),
                            ("quota_auction", "auction")):
            by_source[key] = sum(receipts.get(source, 0.0)
                                 for receipts in state.government_this_year.values())
        inflow = spec.share_of_revenue * sum(max(by_source[s], 0.0) for s in spec.sources)
    dyn.fund_in_yuan += inflow
    dyn.retrofit_pot_yuan += spec.retrofit_subsidy_share * inflow
    award_pot = (1.0 - spec.retrofit_subsidy_share) * inflow
    klass = np.where(stays, f.klass, UNRATED)
    steering = state.params.evaluation.regions.steering
    units = steering_units(state) if steering.enabled and steering.fund else None
    if units is not None:  # split between regions or parks by their scores
        awards = steered_awards(klass, *units, award_pot, elasticity=steering.elasticity)
        add(year, 0, [f"region={r}" for r in state.region_names], "fund_a_award_yuan",
            np.bincount(f.region, weights=awards, minlength=len(state.region_names)))
    else:
        awards = inv.a_awards(klass, award_pot)
    paid = float(awards.sum())
    f.cash_wan_yuan = f.cash_wan_yuan + awards * 1e-4
    dyn.fund_out_yuan += paid
    # Award money not paid (no A firm) stays in the fund for retrofits.
    dyn.retrofit_pot_yuan += award_pot - paid
    add(year, 0, ["all"], "fund_inflow_yuan", [inflow])
    add(year, 0, ["all"], "fund_a_award_yuan", [paid])
    return dyn.retrofit_pot_yuan


def steer_land(state: RunState, year: int) -> None:
    """Split next year's new land by the steered region shares (when steering is on).

    The base shares are the scenario's ``population.regions[*].share``; the
    shares used are recorded as ``new_land_share`` by region.
    """
    steering = state.params.evaluation.regions.steering
    evaluation = state.scratch.get("region_evaluation")
    if not (steering.enabled and steering.land and evaluation is not None
            and state.dynamics is not None):
        return
    base = np.array([r.share for r in state.params.population.regions])
    shares = steered_shares(base, evaluation.score, elasticity=steering.elasticity)
    state.dynamics.land.set_new_land_shares(shares)
    state.recorder.add(year, 0, [f"region={r}" for r in state.region_names], "new_land_share",
                       shares)

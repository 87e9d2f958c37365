"""Stage: the run's start (the population, its classes and history, the markets).

The calendar calls these once, in this order: :func:`new_state` draws the
population and the stationary output shock; :func:`initial_classes` evaluates
potential output for the classes in force in the first year;
:func:`initial_history` sets and records what happened before the run
(``initial_state``); :func:`open_markets` builds the enabled quota markets;
after the first prices are known, :func:`recalibrate_tax` and
:func:`set_reference_costs` fix the first year's taxes and unit costs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa

from simulator import tariffs
from simulator.dynamics.growth import Frontier
from simulator.engine.state import Period, RunState, evaluation_input, reset_corrections
from simulator.evaluation import evaluate, managed_classes
from simulator.firms import CLASS_CODES
from simulator.markets.cycle import QuotaMarket, enabled_markets
from simulator.metrics import MetricsRecorder
from simulator.population import build_run_population, calibrate_tax
from simulator.rng import mechanism_rng
from simulator.scenario import Scenario

__all__ = ["initial_classes", "initial_history", "new_state",
           "open_markets", "recalibrate_tax", "set_reference_costs"]

_D = CLASS_CODES["D"]


def new_state(scenario: Scenario, *, replication: int,
              on_snapshot: Callable[[pa.Table], None] | None = None) -> RunState:
    """Draw the population and start its AR(1) output shock in its stationary distribution.

    Mean output is then potential output from the first month on.
    """
    seed = scenario.seed
    # A firm table may name regions the scenario does not list: the run uses the table's.
    firms, scenario = build_run_population(scenario,
                                           mechanism_rng(seed, replication, "population"))
    n = firms.n
    shock = scenario.behaviour.shock
    stationary_sd = shock.sigma / np.sqrt(1.0 - shock.persistence**2)
    firms.log_shock = stationary_sd * mechanism_rng(seed, replication, "shock").standard_normal(n)
    state = RunState(
        params=scenario, replication=replication, firms=firms,
        recorder=MetricsRecorder(scenario.name, replication),
        sector_names=scenario.sector_names(),
        region_names=[r.name for r in scenario.population.regions],
        period=Period(va=np.zeros(n)), stationary_sd=stationary_sd, on_snapshot=on_snapshot,
        frontier=Frontier.of(scenario.quota_names()),
        last_cost_share=np.full(n, np.nan), newly_above_scale=np.zeros(n, dtype=bool))
    for tariff in tariffs.registered():  # the sums of further linear tariffs (off or on)
        for key in tariff.ytd_keys:
            firms.ytd[key] = np.zeros(n)
    state.new_buffers()
    return state


def initial_classes(state: RunState) -> None:
    """Classes in force in the first year: the evaluation of potential output."""
    f = state.firms
    va = f.va_wan_yuan
    totals = {
        "tax_wan_yuan": f.potential_tax_wan_yuan(),
        "va_wan_yuan": va,
        "revenue_wan_yuan": f.revenue_wan_yuan,
        "rd_wan_yuan": f.revenue_wan_yuan * f.rd_share_of_revenue,
        "energy_tce": va * f.energy_tce_per_wan_yuan,
        "electricity_kwh": va * f.electricity_kwh_per_wan_yuan,
        "emissions_t": va[:, None] * f.emission_t_per_wan_yuan,
    }
    protected = f.age_years < state.params.evaluation.protect_new_firms_years
    result = evaluate(evaluation_input(f, totals, f.vetoed, protected),
                      params=state.params.evaluation,
                      pollutants=state.params.pollutant_names())
    f.klass = managed_classes(result.klass.astype(np.int8), state.params.evaluation)


def initial_history(state: RunState) -> None:
    """Set and record what the scenario says happened before the run (``initial_state``).

    Firms in D at the start have spent ``years_in_d`` years in D (the
    evaluation that put them there included), loss-making firms
    ``loss_years`` years with losses; one draw per firm id.
    """
    spec = state.params.initial_state
    f = state.firms
    rng = mechanism_rng(state.params.seed, state.replication, "initial_state")
    in_d = f.klass == _D
    years = rng.integers(spec.years_in_d.min, spec.years_in_d.max + 1, f.n)
    f.consecutive_d_years = np.where(in_d, years, 0).astype(np.int16)
    losing = f.profit_margin < 0
    loss = rng.integers(spec.loss_years.min, spec.loss_years.max + 1, f.n)
    f.consecutive_loss_years = np.where(losing, loss, 0).astype(np.int16)
    first = state.params.run.first_year
    add = state.recorder.add
    for metric, k, mask, lo, hi in (
            ("initial_years_in_d_firms", f.consecutive_d_years, in_d, 1,
             spec.years_in_d.max),
            ("initial_loss_years_firms", f.consecutive_loss_years, losing, 0,
             spec.loss_years.max)):
        counts = np.bincount(k[mask], minlength=hi + 1)[lo:hi + 1]
        add(first, 0, [f"years={y}" for y in range(lo, hi + 1)], metric, counts)


def open_markets(state: RunState) -> None:
    """Build the scenario's enabled quota markets (their MAC draws, one stream each)."""
    scenario, seed, rep = state.params, state.params.seed, state.replication
    quotas = enabled_markets(scenario)
    by_sector = np.argsort(state.firms.sector, kind="stable") if quotas else None
    state.markets = {
        q: QuotaMarket(q, firms=state.firms, scenario=scenario,
                       rng=mechanism_rng(seed, rep, f"mac_{q}"), by_sector=by_sector)
        for q in quotas
    }
    reset_corrections(state)  # the intensity corrections abatement will book


def recalibrate_tax(state: RunState, full: np.ndarray, base: np.ndarray) -> None:
    """Recalibrate the other taxes on the first year's expected taxable profit.

    Income tax is paid on profit after the charges firms face in the first
    year, which the population calibration (at potential) cannot see. Only a
    synthetic, calibrated population is recalibrated (cost shares do not
    depend on tax). ``full`` and ``base`` are the cost shares at potential
    output with and without the differentiated charges.
    """
    pop = state.params.population
    f = state.firms
    if not (pop.source == "synthetic" and pop.calibrate and f.n):
        return
    land = tariffs.land_use_tax(f.land_mu, land_grade=f.land_grade, klass=f.klass,
                                params=state.params.tariffs.land_tax, years=1.0)
    profit = (f.revenue_wan_yuan * (f.profit_margin - (full - base))
              - land.net_yuan * 1e-4)
    calibrate_tax(f, pop, profit_wan_yuan=profit)


def set_reference_costs(state: RunState, full: np.ndarray, base: np.ndarray,
                        rows: slice = slice(None)) -> None:
    """Set the unit costs output responds to, for ``rows`` (all firms, or the entrants).

    A firm produces its potential output at the base-price cost share
    (``base``); it saw ``full`` (every charge) in the month before its first.
    """
    if rows == slice(None):
        state.firms.reference_cost_share = base
        state.last_cost_share = np.array(full, dtype=float)
    else:
        state.firms.reference_cost_share[rows] = base[rows]
        state.last_cost_share[rows] = full[rows]

"""The calendar: the only place that knows the order of events in a run.

Time is measured in months from the run's first month. simpy schedules
*events of the calendar*, not firms: each acts on every firm at once through
the stages (:mod:`~simulator.engine.setup`, ``pricing``, ``production``,
``billing``, ``trading``, ``recording``, ``snapshots``, ``yearend`` and the
dynamics' ``exits``, ``fund``, ``invest``, ``entry``, ``projects``). Within a
month the order is fixed by the event times:

======================  ==================  ===========================================
time (months)           event               stages, in order
======================  ==================  ===========================================
``k``                   timeline change     flush; the change; books invalid; rates
``12 y + 0.1``          allocation          every market issues the year's cap
``12 y + m + 0.25``     auction             one market's auction; its firms abate
``d + 0.3``             completion          flush; projects due; bids renewed; rates
``k + 0.5``             month               production; monthly metrics
``12 (y + 1) - 0.1``    year close          flush; compliance; annual charges;
                                            evaluation; metrics; snapshot; next
                                            year's state; dynamics; rates
======================  ==================  ===========================================
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import simpy

from simulator.dynamics import entry, exits, fund, invest, projects
from simulator.dynamics.state import YearEnd, open_dynamics
from simulator.engine import (
    billing,
    pricing,
    production,
    recording,
    setup,
    snapshots,
    trading,
    yearend,
)
from simulator.engine.state import RunState, SimulationResult
from simulator.firms import Firms
from simulator.scenario import Scenario, apply_changes, month_index

__all__ = ["allocation", "close_year", "complete_projects", "dynamics_year_end", "replace_firms",
           "simulate", "start", "timeline_change"]


def start(scenario: Scenario, *, replication: int,
          on_snapshot: Callable[[pa.Table], None] | None = None) -> RunState:
    """Return the run's state at its start: firms, classes, history, markets, prices."""
    state = setup.new_state(scenario, replication=replication, on_snapshot=on_snapshot)
    setup.initial_classes(state)
    setup.initial_history(state)
    setup.open_markets(state)
    if scenario.dynamics.enabled:
        state.dynamics = open_dynamics(state.params, state.firms, replication)
    pricing.refresh_rates(state)
    full, base = pricing.cost_shares_at_potential(state)
    setup.recalibrate_tax(state, full, base)
    setup.set_reference_costs(state, full, base)
    return state


def allocation(state: RunState, year: int) -> None:
    """Every market issues the year's cap (after the month's changes); unit costs follow."""
    trading.allocate(state, year)
    pricing.refresh_unit_cost(state)  # coverage may have changed with the allocation


def timeline_change(state: RunState, changes: dict) -> None:
    """Bill the period so far at the old prices, then apply dated changes."""
    billing.flush(state)
    state.params = apply_changes(state.params, changes)
    trading.invalidate(state)
    pricing.refresh_rates(state)


def complete_projects(state: RunState, month: int) -> list[int]:
    """Projects due take effect after billing the period so far; return months to schedule."""
    billing.flush(state)
    changed, due = projects.complete(state, month)
    if changed:
        trading.renew_upgraded(state, changed)
        # Upgrades change no price or class: the markets' participant rates stand.
        pricing.refresh_rates(state, prices_changed=False)
    return due


def close_year(state: RunState, year: int) -> list[int]:
    """Close the year for every firm; return the months new projects complete in."""
    billing.flush(state)
    violation = trading.comply(state, year)
    yearend.annual_charges(state, year, firm_margin_shock=state.dynamics is not None)
    evaluated = yearend.evaluate_year(state, year, violation)
    recording.annual(state, year, evaluated.new_class, evaluated.vetoed)
    trading.book_government_receipts(state)
    recording.markets(state, year)
    if state.on_snapshot is not None and state.params.output.firm_snapshots:
        state.on_snapshot(snapshots.snapshot(state, year, evaluated.result,
                                             evaluated.new_class, evaluated.vetoed))
    yearend.advance(state, year, evaluated)
    trading.close_year(state)
    due: list[int] = []
    entrants = 0
    if state.dynamics is not None:
        decided, due = dynamics_year_end(state, year, evaluated.result.score)
        entrants = decided.entrants.n
        replace_firms(state, decided.keep, decided.entrants, year)
    state.firms.reset_ytd()
    pricing.refresh_rates(state)
    if entrants:  # entrants' cost shares at potential, as for the first-year population
        full, base = pricing.cost_shares_at_potential(state)
        setup.set_reference_costs(state, full, base, rows=slice(state.firms.n - entrants, None))
    return due


def dynamics_year_end(state: RunState, year: int,
                      score: np.ndarray) -> tuple[YearEnd, list[int]]:
    """Money, exits, the fund, investment, land and entry; return who stays, who enters.

    Also returns the months in which the projects started now complete.
    """
    exits.settle_money(state)
    leaving = exits.close_firms(state, year, score)
    leaving |= entry.settle_contracts(state, year, leaving)
    pot = fund.recycle(state, year, ~leaving)
    fund.steer_land(state, year)  # next year's new land by region (steering on)
    due = invest.decide(state, year, ~leaving, pot)
    return YearEnd(keep=~leaving, entrants=entry.admit(state, year, ~leaving)), due


def replace_firms(state: RunState, keep: np.ndarray, entrants: Firms, year: int) -> None:
    """Drop the firms that exit and append the entrants, in the run and in every market."""
    if keep.all() and not entrants.n:
        return
    yearend.replace_firms(state, keep, entrants, year)
    trading.resize(state, keep, entrants, year)


def simulate(scenario: Scenario, *, replication: int = 0,
             on_snapshot: Callable[[pa.Table], None] | None = None,
             progress: Callable[[int, int], None] | None = None) -> SimulationResult:
    """Run one replication of a scenario on the simpy calendar.

    Parameters
    ----------
    scenario : Scenario
        The validated scenario.
    replication : int
        Replication index; with the scenario seed it selects every random stream.
    on_snapshot : callable, optional
        Called with a :class:`pyarrow.Table` of per-firm values after each year.
    progress : callable, optional
        Called as ``progress(months_done, months_total)`` after each month.

    Returns
    -------
    SimulationResult
        Tidy metrics and the final firm state.
    """
    started = time.perf_counter()
    state = start(scenario, replication=replication, on_snapshot=on_snapshot)
    env = simpy.Environment()
    _Events(env, state, progress).start()
    env.run(until=scenario.run.n_months)
    return SimulationResult(
        scenario=state.params, replication=replication, metrics=state.recorder.frame(),
        firms=state.firms, wall_time_s=time.perf_counter() - started,
        ledgers={quota: market.ledger for quota, market in state.markets.items()},
        land=state.dynamics.land if state.dynamics is not None else None)


class _Events:
    """The run's simpy processes: one per kind of event (the table above)."""

    def __init__(self, env: simpy.Environment, state: RunState,
                 progress: Callable[[int, int], None] | None) -> None:
        self.env, self.state, self.progress = env, state, progress
        run = state.params.run
        self.run, self.n_months, self.first_year = run, run.n_months, run.first_year

    def start(self) -> None:
        """Start the processes (their order breaks ties between events at one time)."""
        env, state = self.env, self.state
        env.process(self.timeline(sorted(state.params.timeline, key=lambda c: c.date)))
        env.process(self.monthly())
        env.process(self.annual())
        if state.markets:
            env.process(self.allocations())
        for quota, market in state.markets.items():
            per_year = market.spec(state.params).auctions_per_year
            if per_year:
                env.process(self.auctions(quota, per_year))

    def schedule(self, months: list[int]) -> None:
        """Complete projects in each of ``months`` (within the run)."""
        for month in months:
            if month < self.n_months:
                self.env.process(self.completion(month))

    def timeline(self, changes):
        for change in changes:
            yield self.env.timeout(month_index(self.run.start, change.date) - self.env.now)
            timeline_change(self.state, change.set)

    def monthly(self):
        yield self.env.timeout(0.5)
        for k in range(self.n_months):
            year, month = self.first_year + k // 12, k % 12 + 1
            factor = production.produce_month(self.state)
            if self.state.params.output.monthly_metrics:
                recording.monthly(self.state, year, month, factor)
            if self.progress is not None:
                self.progress(k + 1, self.n_months)
            yield self.env.timeout(1.0)

    def annual(self):
        for y in range(self.run.n_years):
            yield self.env.timeout(12.0 * (y + 1) - 0.1 - self.env.now)
            self.schedule(close_year(self.state, self.first_year + y))

    def allocations(self):
        for y in range(self.run.n_years):
            yield self.env.timeout(12.0 * y + 0.1 - self.env.now)
            allocation(self.state, self.first_year + y)

    def auctions(self, quota: str, per_year: int):
        for y in range(self.run.n_years):
            for j in range(per_year):
                month = 12 * j // per_year
                # After the month's timeline changes, before its production.
                yield self.env.timeout(12.0 * y + month + 0.25 - self.env.now)
                trading.auction(self.state, quota, month + 1)

    def completion(self, month: int):
        # After the month's timeline changes and auctions, before its production.
        yield self.env.timeout(month + 0.3 - self.env.now)
        self.schedule(complete_projects(self.state, month))

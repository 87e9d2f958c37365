"""The state of one run: one explicit object that every stage reads and writes.

:class:`RunState` holds the scenario in force, the firms (struct of arrays),
the quota markets, the dynamics' state (land, fund, projects), the clock of the
billing period, the per-firm prices and constants the monthly step reuses, and
the metric recorder. Stages (:mod:`simulator.engine.stages`) are functions
``stage(state, ...) -> None`` (or returning arrays); the calendar
(:mod:`simulator.engine.calendar`) alone decides their order.

Besides the state itself this module keeps the few operations on it that
several stages share: common-random-number draws keyed by firm id
(:func:`draw`) and the intensity corrections that keep a billing period exact
when abatement changes intensities within it (:func:`fold_corrections`,
:func:`reset_corrections`), and the evaluation's input from the firms
(:func:`evaluation_input`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from simulator.dynamics.growth import Frontier
from simulator.evaluation import EvaluationInput
from simulator.firms import Firms
from simulator.markets.cycle import QuotaMarket
from simulator.metrics import MetricsRecorder
from simulator.rng import mechanism_rng
from simulator.scenario import POLLUTANTS, Scenario

if TYPE_CHECKING:
    from scipy import sparse

    from simulator.dynamics.state import DynamicsState

__all__ = ["Participants", "Period", "Rates", "RunState", "SimulationResult", "draw",
           "evaluation_input", "fold_corrections", "reset_corrections"]


@dataclass
class SimulationResult:
    """What one replication of a scenario produced (no files written)."""

    scenario: Scenario
    replication: int
    metrics: object  # pandas.DataFrame, tidy
    firms: Firms
    wall_time_s: float
    ledgers: dict = field(default_factory=dict)  # quota -> QuotaLedger at the end of the run
    land: object = None  # land.LandPools at the end of the run (None without dynamics)

    def firms_frame(self):
        """Return the firms at the run's end as a pandas DataFrame, one row per firm.

        See :func:`simulator.results.frames.firms_frame` (sector, region,
        scale and class as labelled categoricals).
        """
        from simulator.results.frames import firms_frame

        return firms_frame(self.firms, self.scenario)


@dataclass(eq=False)
class Participants:
    """Per-participant constants of one market's book, for the abatement updates."""

    book: object
    """The market's book these belong to (rebuilt with a new book; when an upgrade renews
    some bids in the book, the trading stage updates those participants' intensities)."""
    idx: np.ndarray
    """Firm indices of the participants."""
    intensity: np.ndarray
    """Their current intensity of the market's quantity, units per 万元 VA."""
    rate: np.ndarray
    """Linear charges per unit of the quantity (electricity or pollution), yuan."""
    revenue_share: np.ndarray
    """万元 VA per yuan of revenue (turns yuan per 万元 VA into a cost share)."""
    covered: np.ndarray
    """Within the market's scope (their use needs rights)."""
    factor: np.ndarray | None
    """What turns the tariff's charge into yuan per unit of the quantity (energy: kWh
    per tce; None where the tariff is per unit already)."""
    correction: np.ndarray
    """Quantity used at earlier intensities this period, not yet in the corrections, units."""


@dataclass
class Period:
    """The billing period since the last flush, and the run's clock."""

    va: np.ndarray
    """Value added made in the period, 万元 per firm."""
    months: int = 0
    """Months in the period."""
    months_done: int = 0
    """Months since the start of the run."""


@dataclass
class Rates:
    """Per-firm prices and constants that change only with prices, classes and potentials."""

    yuan_per_kwh: np.ndarray = field(default_factory=lambda: np.zeros(0))
    yuan_per_t: np.ndarray = field(default_factory=lambda: np.zeros((0, len(POLLUTANTS))))
    va_month: np.ndarray = field(default_factory=lambda: np.zeros(0))
    revenue_month: np.ndarray = field(default_factory=lambda: np.zeros(0))
    quota_month: np.ndarray = field(default_factory=lambda: np.zeros(0))
    inv_unit_cost: np.ndarray = field(default_factory=lambda: np.zeros(0))
    wan_yuan_va_per_yuan_revenue: np.ndarray = field(default_factory=lambda: np.zeros(0))
    linear_cost_share: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """Variable cost of the linear charges and of rights per 万元 revenue."""
    monthly_groups: sparse.csc_matrix | None = None
    """Class membership of industrial firms (row K: services), for monthly metrics."""
    credit_rating: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    """Environmental credit rating code per firm (tariffs.environmental_credit; empty when off)."""
    water_saving: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    """Certified water-saving firms (tariffs.water.rights; empty when neutral)."""


@dataclass(eq=False)
class RunState:
    """Everything one replication of a scenario knows while it runs."""

    params: Scenario
    """The scenario in force (timeline changes replace it)."""
    replication: int
    firms: Firms
    recorder: MetricsRecorder
    sector_names: list[str]
    region_names: list[str]
    period: Period
    stationary_sd: float
    """Standard deviation of the stationary log output shock (entrants start in it)."""
    on_snapshot: Callable[[pa.Table], None] | None = None
    markets: dict[str, QuotaMarket] = field(default_factory=dict)
    dynamics: DynamicsState | None = None
    frontier: Frontier = field(default_factory=Frontier)
    rates: Rates = field(default_factory=Rates)
    last_cost_share: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """Unit cost each firm saw last month (its output responds to it), per 万元 revenue."""
    newly_above_scale: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    government_this_year: dict[str, dict[str, float]] = field(default_factory=dict)
    """Each market's government receipts by source in the year just closed, yuan."""
    government_seen: dict[str, dict[str, float]] = field(default_factory=dict)
    """Each market's cumulative receipts at the last year end, yuan."""
    participants: dict[str, Participants] = field(default_factory=dict)
    correction: dict[str, np.ndarray] = field(default_factory=dict)
    """Per-firm quantity corrections of the period (see :func:`fold_corrections`)."""
    corrected: set[str] = field(default_factory=set)
    """Corrections written since the last reset."""
    buffers: dict[str, np.ndarray] = field(default_factory=dict)
    """Preallocated per-firm work arrays of the monthly step."""
    scratch: dict[str, Any] = field(default_factory=dict)
    """What one stage of an event hands to the next (e.g. the year's evaluation)."""

    def add_by_region(self, year: int, metric: str, region: np.ndarray,
                      weights: np.ndarray) -> None:
        """Record ``metric`` summed by region (groups ``region=<name>``) if the scenario asks.

        ``region`` holds region codes and ``weights`` what each row adds (a
        boolean mask counts); nothing is recorded unless ``output.by_region``.
        """
        if not self.params.output.by_region:
            return
        sums = np.bincount(region, weights=np.asarray(weights, dtype=float),
                           minlength=len(self.region_names))
        self.recorder.add(year, 0, [f"region={r}" for r in self.region_names], metric,
                          [float(v) for v in sums[:len(self.region_names)]])

    def new_buffers(self) -> None:
        """(Re)allocate the monthly step's work arrays for the current number of firms."""
        n = self.firms.n
        self.buffers = {name: np.empty(n) for name in ("z", "log_factor", "work", "va")}


def steering_units(state: RunState) -> tuple[np.ndarray, np.ndarray] | None:
    """Return each firm's steering unit and the units' scores, or None before an evaluation.

    The units are regions, or parks with ``evaluation.regions.steering.level:
    park`` (a firm in a park the last evaluation did not score, e.g. an
    entrant's new park, gets a unit scored NaN: it counts at the mean).
    """
    f = state.firms
    if state.params.evaluation.regions.steering.level == "region":
        evaluation = state.scratch.get("region_evaluation")
        return None if evaluation is None else (f.region.astype(np.intp), evaluation.score)
    found = state.scratch.get("park_evaluation")
    if found is None:
        return None
    parks, keys = found
    pairs = np.array(keys, dtype=np.int64).reshape(-1, 2)
    width = int(max(pairs[:, 1].max(initial=0), f.park.max(initial=0))) + 1
    known = pairs[:, 0] * width + pairs[:, 1]  # sorted, as park_units returns its keys
    ids = f.region.astype(np.int64) * width + f.park
    if known.size == 0:
        return np.zeros(f.n, dtype=np.intp), np.array([np.nan])
    at = np.minimum(np.searchsorted(known, ids), known.size - 1)
    codes = np.where(known[at] == ids, at, known.size)  # unscored parks: the NaN unit
    return codes.astype(np.intp), np.append(parks.score, np.nan)


def draw(state: RunState, stream: str, kind: str, out: np.ndarray | None = None) -> np.ndarray:
    """Draw one value per firm from ``stream``, keyed by firm id (common random numbers).

    Firm ``i`` always gets the ``firm_id[i]``-th value of the stream, so a
    firm's shock or accident draw does not depend on which other firms
    have exited or entered (in this scenario or another one compared with it).
    """
    f = state.firms
    rng = mechanism_rng(state.params.seed, state.replication, stream)
    sample = rng.standard_normal if kind == "normal" else rng.random
    n_ids = int(f.firm_id[-1]) if f.n else 0
    if n_ids == f.n:  # ids 1..n: no firm has left
        return sample(out=out) if out is not None else sample(f.n)
    values = sample(n_ids)
    return np.take(values, f.firm_id - 1, out=out)


def _fold(state: RunState, market: QuotaMarket, entry: Participants) -> None:
    """Move a market's participant corrections into the per-firm corrections."""
    if not entry.correction.any():
        return
    market.kind.book_correction(state.correction, entry.idx, entry.correction, entry.factor)
    state.corrected.update(market.kind.corrections)
    entry.correction = np.zeros(entry.idx.size)


def fold_corrections(state: RunState, *, drop: bool, market: QuotaMarket | None = None) -> None:
    """Fold participant corrections into the per-firm corrections.

    Abatement within a billing period changes intensities; the VA made so far
    was made at the old ones. Each market keeps the quantity difference of its
    participants (:class:`Participants`); folding adds it to the per-firm
    corrections that the next flush bills. With ``market``, only that market's
    constants are folded (its book changed); otherwise all, and with ``drop``
    the constants are forgotten (prices, classes or potentials changed).
    """
    if market is not None:
        _fold(state, market, state.participants[market.quota])
        return
    for quota, entry in state.participants.items():
        _fold(state, state.markets[quota], entry)
    if drop:
        state.participants = {}


def reset_corrections(state: RunState) -> None:
    """Zero the intensity corrections (kept only when markets can change intensities).

    The arrays are kept from one period to the next; only those written
    since the last reset (``corrected``) are zeroed, and only those are
    added to the period's quantities.
    """
    n = state.firms.n
    if not state.markets:
        state.correction = {}
    elif not state.correction or state.correction["energy_tce"].size != n:
        state.correction = {"energy_tce": np.zeros(n), "electricity_kwh": np.zeros(n),
                            "emissions_t": np.zeros(state.firms.emission_t_per_wan_yuan.shape)}
    else:
        for key in state.corrected:
            state.correction[key].fill(0.0)
    state.corrected = set()


def evaluation_input(firms: Firms, totals: dict[str, np.ndarray], vetoed: np.ndarray,
                     protected: np.ndarray) -> EvaluationInput:
    """Return the evaluation's input: a year's ``totals`` and the firms' attributes."""
    f = firms
    return EvaluationInput(
        firm_id=f.firm_id, tax_wan_yuan=totals["tax_wan_yuan"],
        va_wan_yuan=totals["va_wan_yuan"], revenue_wan_yuan=totals["revenue_wan_yuan"],
        rd_wan_yuan=totals["rd_wan_yuan"], land_mu=f.land_mu, employees=f.employees,
        energy_tce=totals["energy_tce"], electricity_kwh=totals["electricity_kwh"],
        emissions_t=totals["emissions_t"], above_scale=f.above_scale,
        is_services=f.is_services, sector=f.sector, region=f.region, park=f.park,
        high_tech=f.high_tech, listed=f.listed, brand=f.brand, vetoed=vetoed,
        protected=protected,
    )

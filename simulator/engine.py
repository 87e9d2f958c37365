"""The simpy calendar that wires the mechanisms together.

Time is measured in months from the run's first month. simpy schedules
*mechanisms*, not firms: each process below acts on every firm at once with
array expressions. Within a month the order is fixed by the event times:

======================  ===================  ==========================================
time (months)           process              what it does
======================  ===================  ==========================================
``k``                   ``timeline``         dated scenario changes take effect
``12 y + 0.1``          ``allocation``       each quota market issues the year's cap
``12 y + m + 0.25``     ``auctions``         scheduled auction of one market (one
                                             process per market); firms then abate
``k + 0.5``             ``monthly``          output response + shock, production,
                                             the monthly water bill
``12 (y + 1) - 0.1``    ``annual``           electricity and pollution bills; quota
                                             compliance; land tax, subsidies;
                                             evaluation; metrics; firm snapshot;
                                             classes and growth for next year
======================  ===================  ==========================================

Output response: a firm's monthly output is
``potential / 12 * shock * (1 + Δ) ** -elasticity``, where ``shock`` is a
mean-one AR(1) lognormal and ``Δ`` is the excess of its variable resource
bill per yuan of revenue over what it would pay at the scenario's base prices
in the first month (no class surcharge, national differential, tiered or
over-quota price, pollution multiplier), relative to its unit cost
``1 - margin``: a constant-elasticity supply response to unit cost. It is
lagged one month (firms react to the last bill they saw); the first month
reacts to the bill at potential output. Potential output is thus the output
at undifferentiated base prices, whatever the policy in force at the start.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import simpy
from scipy import sparse

from simulator import tariffs
from simulator.dynamics import Dynamics
from simulator.evaluation import EvaluationInput, EvaluationResult, evaluate, transition_counts
from simulator.firms import CLASS_CODES, CLASS_LABELS, TCE_PER_KWH, UNRATED, Firms
from simulator.growth import Frontier, grow
from simulator.markets import kernels
from simulator.markets.cycle import (
    ADMINISTRATIVE_SETTERS,
    PRICE_SETTERS,
    QuotaMarket,
    enabled_markets,
)
from simulator.markets.ledger import GOVERNMENT_SOURCES
from simulator.metrics import Grouping, GroupSet, MetricsRecorder, ratio
from simulator.population import build_population, calibrate_tax
from simulator.rng import mechanism_rng
from simulator.scenario import POLLUTANTS, Scenario, apply_changes, month_index

__all__ = ["SimulationResult", "simulate"]



_D = CLASS_CODES["D"]
# The upgrade that changes a market's unabated intensity, by ``market.is_energy``.
_UPGRADE_OF = {True: "retrofit", False: "pollution_control"}


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


@dataclass(eq=False)
class _Participants:
    """Per-participant constants of one market's book, for the engine's abatement updates."""

    book: object
    """The market's book these belong to (rebuilt with a new book; when an upgrade renews
    some bids in the book, the engine updates those participants' intensities)."""
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
    kwh_per_tce: np.ndarray | None
    """Electricity per tce of energy (energy market only)."""
    correction: np.ndarray
    """Quantity used at earlier intensities this period, not yet in the corrections, units."""


class _Simulation:
    """State of one run: the scenario in force, the firms and the recorders."""

    def __init__(self, scenario: Scenario, *, replication: int,
                 on_snapshot: Callable[[pa.Table], None] | None,
                 progress: Callable[[int, int], None] | None):
        self.params = scenario
        self.replication = replication
        self.on_snapshot = on_snapshot
        self.progress = progress
        seed = scenario.seed
        self.firms = build_population(scenario, mechanism_rng(seed, replication, "population"))
        self.recorder = MetricsRecorder(scenario.name, replication)
        self.sector_names = scenario.sector_names()
        self.region_names = [r.name for r in scenario.population.regions]
        n = self.firms.n
        # Start the AR(1) output shock in its stationary distribution, so mean output
        # is potential output from the first month on.
        shock = scenario.behaviour.shock
        stationary_sd = shock.sigma / np.sqrt(1.0 - shock.persistence**2)
        self._stationary_sd = stationary_sd
        self.firms.log_shock = stationary_sd * mechanism_rng(
            seed, replication, "shock").standard_normal(n)
        self.last_cost_share = np.full(n, np.nan)
        self.newly_above_scale = np.zeros(n, dtype=bool)
        self._gov_seen: dict[str, dict[str, float]] = {}
        #: Each market's government receipts by source in the year just closed, yuan.
        self.government_this_year: dict[str, dict[str, float]] = {}
        self.period_va = np.zeros(n)
        self.period_months = 0
        self.months_done = 0
        self._buffers = {name: np.empty(n) for name in ("z", "log_factor", "work", "va")}
        self.frontier = Frontier()
        self._initial_evaluation()
        self._initial_state()
        quotas = enabled_markets(scenario)
        by_sector = np.argsort(self.firms.sector, kind="stable") if quotas else None
        self.markets = {
            q: QuotaMarket(q, firms=self.firms, scenario=scenario,
                           rng=mechanism_rng(seed, replication, f"mac_{q}"), by_sector=by_sector)
            for q in quotas
        }
        self.dynamics = Dynamics(self) if scenario.dynamics.enabled else None
        self._parts: dict[str, _Participants] = {}
        self._correction: dict[str, np.ndarray] = {}  # per-firm quantity corrections
        self._reset_corrections()
        self.refresh_rates()
        full, base = self._cost_shares_at_potential()
        pop = scenario.population
        if pop.source == "synthetic" and pop.calibrate and self.firms.n:
            # Income tax is paid on profit after the charges firms face in the first year,
            # which the population calibration (at potential) cannot see: recalibrate the
            # other taxes on the expected taxable profit (cost shares do not depend on tax).
            f = self.firms
            land = tariffs.land_use_tax(f.land_mu, land_grade=f.land_grade, klass=f.klass,
                                        params=scenario.tariffs.land_tax, years=1.0)
            profit = (f.revenue_wan_yuan * (f.profit_margin - (full - base))
                      - land.net_yuan * 1e-4)
            calibrate_tax(f, pop, profit_wan_yuan=profit)
        self.firms.reference_cost_share = base
        self.last_cost_share = np.array(full, dtype=float)

    # ------------------------------------------------------------- mechanisms

    def _draw(self, stream: str, kind: str, out: np.ndarray | None = None) -> np.ndarray:
        """Draw one value per firm from ``stream``, keyed by firm id (common random numbers).

        Firm ``i`` always gets the ``firm_id[i]``-th value of the stream, so a
        firm's shock or accident draw does not depend on which other firms
        have exited or entered (in this scenario or another one compared with it).
        """
        f = self.firms
        rng = mechanism_rng(self.params.seed, self.replication, stream)
        draw = rng.standard_normal if kind == "normal" else rng.random
        n_ids = int(f.firm_id[-1]) if f.n else 0
        if n_ids == f.n:  # ids 1..n: no firm has left
            return draw(out=out) if out is not None else draw(f.n)
        values = draw(n_ids)
        return np.take(values, f.firm_id - 1, out=out)

    def _evaluation_input(self, totals: dict[str, np.ndarray], vetoed: np.ndarray,
                          protected: np.ndarray) -> EvaluationInput:
        f = self.firms
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

    def _initial_evaluation(self) -> None:
        """Classes in force in the first year: the evaluation of potential output."""
        f = self.firms
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
        protected = f.age_years < self.params.evaluation.protect_new_firms_years
        result = evaluate(self._evaluation_input(totals, f.vetoed, protected),
                          params=self.params.evaluation)
        f.klass = result.klass.astype(np.int8)

    def _initial_state(self) -> None:
        """Set and record what the scenario says happened before the run (``initial_state``).

        Firms in D at the start have spent ``years_in_d`` years in D (the
        evaluation that put them there included), loss-making firms
        ``loss_years`` years with losses; one draw per firm id.
        """
        spec = self.params.initial_state
        f = self.firms
        rng = mechanism_rng(self.params.seed, self.replication, "initial_state")
        in_d = f.klass == _D
        years = rng.integers(spec.years_in_d.min, spec.years_in_d.max + 1, f.n)
        f.consecutive_d_years = np.where(in_d, years, 0).astype(np.int16)
        losing = f.profit_margin < 0
        loss = rng.integers(spec.loss_years.min, spec.loss_years.max + 1, f.n)
        f.consecutive_loss_years = np.where(losing, loss, 0).astype(np.int16)
        first = self.params.run.first_year
        add = self.recorder.add
        for metric, k, mask, lo, hi in (
                ("initial_years_in_d_firms", f.consecutive_d_years, in_d, 1,
                 spec.years_in_d.max),
                ("initial_loss_years_firms", f.consecutive_loss_years, losing, 0,
                 spec.loss_years.max)):
            counts = np.bincount(k[mask], minlength=hi + 1)[lo:hi + 1]
            add(first, 0, [f"years={y}" for y in range(lo, hi + 1)], metric, counts)

    def _linear_bills(self, va: np.ndarray, months: float, *, corrected: bool = False):
        """Electricity and pollution bills for a period in which firms made ``va`` 万元 VA.

        Both charges are linear in quantity at fixed prices and class (the
        capacity charge is fixed per month), so billing a period's total at
        once equals billing it month by month. With ``corrected``, the
        quantities include the corrections booked when abatement changed
        intensities during the period (see :meth:`abate`).
        """
        f = self.firms
        t = self.params.tariffs
        kwh = va * f.electricity_kwh_per_wan_yuan
        emissions = va[:, None] * f.emission_t_per_wan_yuan
        if corrected:
            if "electricity_kwh" in self._corrected:
                kwh += self._correction["electricity_kwh"]
            if "emissions_t" in self._corrected:
                emissions += self._correction["emissions_t"]
        elec = tariffs.electricity_bill(
            kwh, klass=f.klass, consecutive_d_years=f.consecutive_d_years,
            capacity_kva=f.capacity_kva, process_status=f.process_status,
            unit_consumption=f.unit_consumption, sector=f.sector,
            sector_names=self.sector_names, params=t.electricity, months=months,
        )
        pol = tariffs.pollution_charge(emissions, klass=f.klass, params=t.pollution)
        return kwh, emissions, elec, pol

    def _participants(self, market: QuotaMarket) -> _Participants:
        """Return the engine's per-participant constants of ``market``'s current book."""
        entry = self._parts.get(market.quota)
        if entry is None or entry.book is not market.current_book:
            if entry is not None:
                self._fold(market, entry)
            f = self.firms
            idx = market.participants
            per_unit = self._yuan_per_kwh if market.is_energy else self._yuan_per_t[:, market._col]
            intensity, revenue_share, covered, rate = kernels.gather4(
                idx, market.intensity(f), self._wan_yuan_va_per_yuan_revenue, market.members,
                per_unit)
            kwh_per_tce = None
            if market.is_energy:  # yuan per kWh x kWh per tce
                kwh_per_tce = f.electricity_share[idx] / TCE_PER_KWH
                rate *= kwh_per_tce
            entry = _Participants(
                book=market.current_book, idx=idx, intensity=intensity, rate=rate,
                revenue_share=revenue_share, covered=covered, kwh_per_tce=kwh_per_tce,
                correction=np.zeros(idx.size))
            self._parts[market.quota] = entry
        return entry

    def _fold(self, market: QuotaMarket, entry: _Participants) -> None:
        """Move a market's participant corrections into the per-firm corrections."""
        if not entry.correction.any():
            return
        c, idx, cut = self._correction, entry.idx, entry.correction
        if market.is_energy:
            c["energy_tce"][idx] += cut
            c["electricity_kwh"][idx] += cut * entry.kwh_per_tce
            self._corrected |= {"energy_tce", "electricity_kwh"}
        else:
            c["emissions_t"][idx, market._col] += cut
            self._corrected.add("emissions_t")
        entry.correction = np.zeros(idx.size)

    def _fold_all(self, *, drop: bool) -> None:
        """Fold every market's participant corrections; with ``drop``, forget the constants."""
        for quota, entry in self._parts.items():
            self._fold(self.markets[quota], entry)
        if drop:
            self._parts = {}

    def abate(self, market: QuotaMarket, factor: np.ndarray | None, old_price: float) -> None:
        """Scale the market's intensity of its participants by ``factor`` after its price moved.

        The period's VA so far was produced at the old intensity; booking
        ``period VA x (old - new intensity)`` as a correction keeps the
        period's quantities, and hence its linear bills, exact when the
        period is billed at the next flush. The unit cost changes by the
        market's tariff and rights price times the change of intensity, and
        by the change of price times the new intensity. Everything is done on
        the participants' contiguous constants (:meth:`_participants`); only
        the unit cost, the period's VA and the intensity itself are indexed by
        firm.
        """
        p = self._participants(market)
        if factor is None:  # the price moved, the intensities did not
            factor = np.ones(p.idx.size)
        if market.is_energy:
            firm_intensity = self.firms.energy_tce_per_wan_yuan
        else:
            firm_intensity = self.firms.emission_t_per_wan_yuan[:, market._col]
        kernels.abate(p.idx, factor, p.intensity, p.rate, p.revenue_share, p.covered,
                      market.last_price, old_price, self.linear_cost_share, self.period_va,
                      p.correction, firm_intensity)

    def refresh_rates(self, *, prices_changed: bool = True) -> None:
        """Per-firm rates that change only with prices, classes and potentials.

        The per-unit prices of the linear charges (yuan per kWh, excluding the
        fixed capacity charge; yuan per tonne of each pollutant) at the prices
        and class now in force, the monthly constants, and the class groups
        of the monthly metrics. Called at the start, on timeline changes and
        after each annual close, and after upgrades take or leave effect
        (``prices_changed=False``: intensities and margins changed, but no
        price, class or potential, so the markets' participant constants stand).
        """
        f = self.firms
        self.monthly_groups = self._monthly_groups()
        # Per-firm constants of the monthly step (potentials change only between years).
        self._va_month = f.va_wan_yuan / 12.0
        self._revenue_month = f.revenue_wan_yuan / 12.0
        self._quota_month = f.water_quota_m3 / 12.0
        self._inv_unit_cost = 1.0 / np.maximum(1.0 - f.profit_margin, 0.05)
        t = self.params.tariffs
        ones = np.ones(f.n)
        elec = tariffs.electricity_bill(
            ones, klass=f.klass, consecutive_d_years=f.consecutive_d_years,
            capacity_kva=f.capacity_kva, process_status=f.process_status,
            unit_consumption=f.unit_consumption, sector=f.sector,
            sector_names=self.sector_names, params=t.electricity, months=1.0,
        )
        self._yuan_per_kwh = elec.total_yuan - elec.capacity_yuan
        # Pollution charges per tonne depend on the class alone: price one tonne of each
        # pollutant for each class code, then look the table up by class.
        k, m = len(CLASS_LABELS), len(POLLUTANTS)
        one_tonne = np.tile(np.eye(m), (k, 1))
        codes = np.repeat(np.arange(k), m)
        per_class = tariffs.pollution_charge(one_tonne, klass=codes, params=t.pollution)
        self._yuan_per_t = per_class.total_yuan.reshape(k, m)[f.klass]
        self.refresh_unit_cost(prices_changed=prices_changed)

    def refresh_unit_cost(self, *, prices_changed: bool = True) -> None:
        """Variable cost of the linear charges and of rights per 万元 revenue.

        Cheap: per-unit prices times intensities. Called whenever prices,
        classes, potentials or unabated intensities change (see
        :meth:`refresh_rates` for ``prices_changed``); an auction updates only
        its market's part (:meth:`abate`).
        """
        f = self.firms
        # The participants' rates and revenue shares change with prices, classes and potentials.
        self._fold_all(drop=prices_changed)
        yuan_per_wan_yuan_va = (self._yuan_per_kwh * f.electricity_kwh_per_wan_yuan
                                + np.einsum("ij,ij->i", self._yuan_per_t,
                                            f.emission_t_per_wan_yuan))
        # Rights used have an opportunity cost at the market price, free allocation or not.
        for market in self.markets.values():
            market.add_unit_cost(yuan_per_wan_yuan_va, f)
        self._wan_yuan_va_per_yuan_revenue = ratio(f.va_wan_yuan * 1e-4, f.revenue_wan_yuan)
        self.linear_cost_share = yuan_per_wan_yuan_va * self._wan_yuan_va_per_yuan_revenue

    def _cost_shares_at_potential(self) -> tuple[np.ndarray, np.ndarray]:
        """(full, base-price) variable resource cost per 万元 revenue at potential output.

        The base-price share leaves out every differentiated charge (class
        surcharges, national differential and tiered prices, over-quota water,
        the pollution class multiplier): it is the unit cost at which a firm
        produces its potential output.
        """
        f = self.firms
        va = f.va_wan_yuan / 12.0
        revenue = f.revenue_wan_yuan / 12.0
        _, _, elec, pol = self._linear_bills(va, months=1.0)
        wat = tariffs.water_bill(va * f.water_m3_per_wan_yuan, quota_m3=f.water_quota_m3 / 12.0,
                                 klass=f.klass, params=self.params.tariffs.water)
        full = self.linear_cost_share + ratio(wat.total_yuan * 1e-4, revenue)
        base = ratio((elec.energy_yuan + pol.base_yuan + wat.base_yuan) * 1e-4, revenue)
        return full, base

    def flush(self) -> None:
        """Bill the linear charges and book the quantities of the period since the last flush.

        Called before anything that changes prices, classes or intensities
        (timeline changes, the annual class update).
        """
        if self.period_months == 0:
            return
        self._fold_all(drop=False)
        f = self.firms
        y = f.ytd
        va = self.period_va
        kwh, emissions, elec, pol = self._linear_bills(va, months=float(self.period_months),
                                                       corrected=True)
        revenue = va * (f.revenue_wan_yuan / np.where(f.va_wan_yuan > 0, f.va_wan_yuan, 1.0))
        y["va_wan_yuan"] += va
        y["revenue_wan_yuan"] += revenue
        y["tax_wan_yuan"] += va * f.tax_share_of_va
        y["rd_wan_yuan"] += revenue * f.rd_share_of_revenue
        y["energy_tce"] += va * f.energy_tce_per_wan_yuan
        if "energy_tce" in self._corrected:
            y["energy_tce"] += self._correction["energy_tce"]
        y["electricity_kwh"] += kwh
        y["water_m3"] += va * f.water_m3_per_wan_yuan
        y["emissions_t"] += emissions
        for market in self.markets.values():
            market.book_unabated(va, f)
        y["electricity_bill_yuan"] += elec.total_yuan
        y["electricity_surcharge_yuan"] += elec.class_surcharge_yuan
        y["electricity_national_tiered_yuan"] += elec.national_yuan + elec.tiered_yuan
        y["pollution_charge_yuan"] += pol.total_yuan
        y["pollution_surcharge_yuan"] += pol.class_surcharge_yuan
        differential_yuan = (elec.class_surcharge_yuan + elec.national_yuan + elec.tiered_yuan
                             + pol.class_surcharge_yuan)
        y["profit_wan_yuan"] += revenue * f.profit_margin - differential_yuan * 1e-4
        self.period_va = np.zeros(f.n)
        self.period_months = 0
        self._reset_corrections()

    def _reset_corrections(self) -> None:
        """Zero the intensity corrections (kept only when markets can change intensities).

        The arrays are kept from one period to the next; only those written
        since the last reset (``_corrected``) are zeroed, and only those are
        added to the period's quantities.
        """
        n = self.firms.n
        if not self.markets:
            self._correction = {}
        elif not self._correction or self._correction["energy_tce"].size != n:
            self._correction = {"energy_tce": np.zeros(n), "electricity_kwh": np.zeros(n),
                                "emissions_t": np.zeros((n, len(POLLUTANTS)))}
        else:
            for key in self._corrected:
                self._correction[key].fill(0.0)
        self._corrected: set[str] = set()

    def apply_timeline(self, changes: dict) -> None:
        """Bill the period so far at the old prices, then apply dated changes."""
        self.flush()
        self.params = apply_changes(self.params, changes)
        for market in self.markets.values():
            market.invalidate()  # bid caps and abatement bounds may have changed
        self.refresh_rates()

    def produce_month(self, year: int, month: int) -> None:
        """Output response and shock, production, and the monthly (nonlinear) water bill.

        Runs every month for every firm, so it works in preallocated buffers:
        at 10^6 firms a fresh temporary costs as much as the arithmetic.
        """
        p = self.params
        f = self.firms
        b = self._buffers
        shock = p.behaviour.shock
        rho, sigma = shock.persistence, shock.sigma
        z = self._draw(f"shock/{self.months_done}", "normal", out=b["z"])
        f.log_shock *= rho
        z *= sigma
        f.log_shock += z
        log_factor = np.subtract(f.log_shock, 0.5 * sigma * sigma / (1.0 - rho * rho),
                                 out=b["log_factor"])
        if p.behaviour.output_response:
            # log factor -= elasticity * log(1 + (last - reference) / unit cost)
            d = np.subtract(self.last_cost_share, f.reference_cost_share, out=b["work"])
            d *= self._inv_unit_cost
            d += 1.0
            np.maximum(d, 0.01, out=d)
            np.log(d, out=d)
            d *= f.output_elasticity
            log_factor -= d
        factor = np.exp(log_factor, out=f.output_factor)

        va = np.multiply(self._va_month, factor, out=b["va"])
        water = np.multiply(va, f.water_m3_per_wan_yuan, out=b["work"])
        wat = tariffs.water_bill(water, quota_m3=self._quota_month, klass=f.klass,
                                 params=p.tariffs.water)
        y = f.ytd
        y["water_bill_yuan"] += wat.total_yuan
        surcharge = np.add(wat.over_quota_yuan, wat.class_surcharge_yuan, out=b["work"])
        y["water_surcharge_yuan"] += surcharge
        surcharge *= 1e-4
        y["profit_wan_yuan"] -= surcharge
        self.period_va += va
        self.period_months += 1
        self.months_done += 1

        # Unit cost seen this month: linear charges + water, per 万元 revenue.
        revenue = np.multiply(self._revenue_month, factor, out=b["work"])
        cost = self.last_cost_share
        np.divide(wat.total_yuan, revenue, out=cost, where=revenue > 0)
        cost[revenue <= 0] = 0.0
        cost *= 1e-4
        cost += self.linear_cost_share
        if p.output.monthly_metrics:
            self._monthly_metrics(year, month, factor)

    def auction(self, quota: str, month: int) -> None:
        """Hold a scheduled auction of one market; its participants then abate to the new price."""
        market = self.markets[quota]
        old_price = market.last_price
        price = market.scheduled_auction(month, self.firms, self.params)
        if price is None:
            return
        factor = market.adopt_price(price, month=self.months_done)
        self.abate(market, factor, old_price)

    def close_year(self, year: int) -> None:
        """Compliance, land tax, subsidies, evaluation, metrics and snapshot; next year's state."""
        self.flush()
        p = self.params
        f = self.firms
        y = f.ytd
        violation = np.zeros(f.n, dtype=bool)
        cost = y["quota_cost_yuan"]
        for quota, market in self.markets.items():
            market.accrue_abatement_cost(self.months_done, f)
            share = market.spec(p).absent_share
            absent = (self._draw(f"absent/{quota}/{year}", "uniform") < share) if share else None
            market.comply(12, f, p, absent)
            market.add_cost_this_year(cost)
            if (p.evaluation.veto.emission_violation and not market.is_energy) or (
                    p.evaluation.veto.energy_task_missed and market.is_energy):
                done = market.compliance
                violation[done.index] |= done.violation
        if self.markets:
            y["profit_wan_yuan"] -= cost * 1e-4
        land = tariffs.land_use_tax(f.land_mu, land_grade=f.land_grade, klass=f.klass,
                                    params=p.tariffs.land_tax, years=1.0)
        y["land_tax_yuan"] += land.net_yuan
        y["land_tax_relief_yuan"] += land.relief_yuan
        y["profit_wan_yuan"] -= land.net_yuan * 1e-4
        # The year's margin: the macro cycle shared by all firms (a scenario path), and
        # with dynamics each firm's own shock (prices, demand).
        margin = p.behaviour.margin_shift(year)
        if self.dynamics is not None:
            margin = margin + p.dynamics.annual_margin_sd * self._draw(f"margin/{year}", "normal")
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

        accident = p.evaluation.veto.accident_probability_per_year
        vetoed = self._draw(f"veto/{year}", "uniform") < accident
        vetoed |= violation
        protected = ((f.age_years < p.evaluation.protect_new_firms_years)
                     | self.newly_above_scale)
        result = evaluate(self._evaluation_input(y, vetoed, protected), params=p.evaluation)
        new_class = result.klass.astype(np.int8)
        self._annual_metrics(year, result, new_class, vetoed)
        if self.on_snapshot is not None and p.output.firm_snapshots:
            self.on_snapshot(self._snapshot(year, result, new_class, vetoed))

        # State for next year.
        f.consecutive_d_years = np.where(new_class == _D, f.consecutive_d_years + 1, 0).astype(
            np.int16)
        f.klass = new_class
        f.vetoed = vetoed
        f.age_years = f.age_years + 1
        above = (~f.is_services) & (
            y["revenue_wan_yuan"] >= p.population.above_scale_revenue_wan_yuan)
        self.newly_above_scale = above & ~f.above_scale
        f.above_scale = above
        grow(f, p.behaviour, year + 1, self.frontier)
        for market in self.markets.values():
            market.close_year()
        entrants = 0
        if self.dynamics is not None:
            decided = self.dynamics.year_end(year, result.score, self.months_done)
            entrants = decided.entrants.n
            self._replace_firms(decided.keep, decided.entrants, year)
        self.firms.reset_ytd()
        self.refresh_rates()
        if entrants:
            # Entrants' cost shares at potential, as for the first-year population.
            new = slice(self.firms.n - entrants, None)
            full, base = self._cost_shares_at_potential()
            self.firms.reference_cost_share[new] = base[new]
            self.last_cost_share[new] = full[new]

    def _replace_firms(self, keep: np.ndarray, entrants: Firms, year: int) -> None:
        """Drop the firms that exit and append the entrants, in every per-firm array."""
        if keep.all() and not entrants.n:
            return
        seed, rep = self.params.seed, self.replication
        entrants.log_shock = self._stationary_sd * mechanism_rng(
            seed, rep, f"entry-shock/{year}").standard_normal(entrants.n)
        self.firms = self.firms.select(keep).append(entrants)
        self._parts = {}  # participant indices refer to the old rows (folded at the flush)
        rows = np.cumsum(keep) - 1  # each kept firm's new row
        for quota, market in self.markets.items():
            market.resize(keep, entrants, self.params,
                          mechanism_rng(seed, rep, f"mac_{quota}/{year}"), rows)
        n, new = self.firms.n, entrants.n
        self.newly_above_scale = np.concatenate([self.newly_above_scale[keep],
                                                 np.zeros(new, dtype=bool)])
        self.last_cost_share = np.concatenate([self.last_cost_share[keep], np.full(new, np.nan)])
        self.period_va = np.zeros(n)
        self._reset_corrections()
        self._buffers = {name: np.empty(n) for name in self._buffers}

    def complete_projects(self, month: int) -> None:
        """Investment projects due this month take effect, after billing the period so far."""
        self.flush()
        changed = self.dynamics.complete(month)
        if changed:
            for market in self.markets.values():
                firms = changed.get(_UPGRADE_OF[market.is_energy])
                if firms is not None:  # their unabated intensities changed
                    at = market.renew_bids(firms, self.firms, self.params)
                    entry = self._parts.get(market.quota)
                    if at.size and entry is not None and entry.book is market.current_book:
                        entry.intensity[at] = market.intensity(self.firms)[entry.idx[at]]
            # Upgrades change no price or class: the markets' participant rates stand.
            self.refresh_rates(prices_changed=False)

    def allocate(self, year: int) -> None:
        """Start of a year: every market issues the year's cap (after the month's changes)."""
        for quota, market in self.markets.items():
            market.allocate(year, self.firms, self.params)
            if year == self.params.run.first_year:
                self.recorder.add(year, 0, [f"market={quota}"], "initial_banked_rights",
                                  [market.banked_at_start])
        self.refresh_unit_cost()  # coverage may have changed with the allocation

    # ---------------------------------------------------------------- metrics

    def _groupings(self, klass: np.ndarray, *, dims: tuple[str, ...] = (
            "all", "class", "scale", "sector", "region")) -> list[Grouping]:
        """Return the groupings of industrial firms (sectors include services sectors)."""
        f = self.firms
        ind = ~f.is_services
        make = {
            "all": lambda: Grouping(["all"], np.zeros(f.n, dtype=np.intp), ind),
            "class": lambda: Grouping([f"class={c}" for c in CLASS_LABELS], klass, ind),
            "scale": lambda: Grouping(["scale=above", "scale=below"],
                                      np.where(f.above_scale, 0, 1), ind),
            "sector": lambda: Grouping([f"sector={s}" for s in self.sector_names], f.sector),
            "region": lambda: Grouping([f"region={r}" for r in self.region_names], f.region,
                                       ind),
        }
        return [make[d]() for d in dims]

    def _record(self, year: int, month: int, groupings: list[Grouping],
                sums: dict[str, np.ndarray],
                ratios: dict[str, tuple[np.ndarray, np.ndarray, float]] | None = None) -> None:
        """Record group sums, and group ratios ``scale * sum(num) / sum(den)``.

        Groupings are summed two at a time: a membership matrix of all of them
        at once would be the largest temporary of the annual close.
        """
        for i in range(0, len(groupings), 2):
            self._record_set(year, month, GroupSet(groupings[i: i + 2]), sums, ratios)

    def _record_set(self, year: int, month: int, groups: GroupSet,
                    sums: dict[str, np.ndarray],
                    ratios: dict[str, tuple[np.ndarray, np.ndarray, float]] | None) -> None:
        add = self.recorder.add
        ratios = ratios or {}
        # Sum each distinct array once: ratios reuse the totals' arrays (VA, land, ...).
        columns: list[np.ndarray] = []
        slot: dict[int, int] = {}
        for array in [*sums.values(), *(a for num, den, _ in ratios.values() for a in (num, den))]:
            if id(array) not in slot:
                slot[id(array)] = len(columns)
                columns.append(array)
        for g, table in zip(groups.groupings, groups.sums(columns), strict=True):
            for metric, values in sums.items():
                add(year, month, g.names, metric, table[:, slot[id(values)]])
            for metric, (num, den, scale) in ratios.items():
                add(year, month, g.names, metric,
                    ratio(scale * table[:, slot[id(num)]], table[:, slot[id(den)]]))

    def _monthly_groups(self) -> sparse.csc_matrix:
        """Class membership of industrial firms as a sparse matrix (row K: services)."""
        f = self.firms
        k = len(CLASS_LABELS)
        row = np.where(f.is_services, k, f.klass).astype(np.int32)
        return sparse.csc_matrix((np.ones(f.n), row, np.arange(f.n + 1)), shape=(k + 1, f.n))

    def _monthly_metrics(self, year: int, month: int, factor: np.ndarray) -> None:
        f = self.firms
        k = len(CLASS_LABELS)
        g = self.monthly_groups
        va = self._buffers["va"]
        sums = {
            "va_wan_yuan": g @ va,
            "electricity_kwh": g @ (va * f.electricity_kwh_per_wan_yuan),
            "energy_tce": g @ (va * f.energy_tce_per_wan_yuan),
        }
        counts = g @ np.ones(f.n)
        names = [f"class={c}" for c in CLASS_LABELS]
        add = self.recorder.add
        for metric, by_class in sums.items():
            add(year, month, names, metric, by_class[:k])
            add(year, month, ["all"], metric, [by_class[:k].sum()])
        factor_sum = g @ factor
        add(year, month, names, "output_factor_mean", ratio(factor_sum[:k], counts[:k]))
        add(year, month, ["all"], "output_factor_mean",
            [factor_sum[:k].sum() / max(counts[:k].sum(), 1.0)])

    def _annual_metrics(self, year: int, result: EvaluationResult, new_class: np.ndarray,
                        vetoed: np.ndarray) -> None:
        f = self.firms
        y = f.ytd
        add = self.recorder.add
        w = np.asarray(self.params.evaluation.emission_weights.as_tuple())
        va = y["va_wan_yuan"]
        resource = (y["electricity_bill_yuan"] + y["water_bill_yuan"] + y["land_tax_yuan"]
                    + y["pollution_charge_yuan"])
        # Performance: grouped by the class this year's evaluation gave.
        totals = {
            "va_wan_yuan": va, "revenue_wan_yuan": y["revenue_wan_yuan"],
            "tax_wan_yuan": y["tax_wan_yuan"], "land_mu": f.land_mu, "jobs": f.employees,
            "energy_tce": y["energy_tce"], "electricity_kwh": y["electricity_kwh"],
            "water_m3": y["water_m3"],
            **{f"emissions_{p}_t": y["emissions_t"][:, i] for i, p in enumerate(POLLUTANTS)},
            "firms": np.ones(f.n),
        }
        indicators = {
            "tax_per_mu_wan_yuan": (y["tax_wan_yuan"], f.land_mu, 1.0),
            "va_per_mu_wan_yuan": (va, f.land_mu, 1.0),
            "va_per_tce_wan_yuan": (va, y["energy_tce"], 1.0),
            "va_per_t_emission_wan_yuan": (va, y["emissions_t"] @ w, 1.0),
            "labour_productivity_wan_yuan": (va, f.employees, 1.0),
            "rd_share": (y["rd_wan_yuan"], y["revenue_wan_yuan"], 1.0),
            "energy_intensity_tce_per_wan_yuan": (y["energy_tce"], va, 1.0),
        }
        self._record(year, 0, self._groupings(new_class), totals, indicators)
        # Bills: grouped by the class in force (the one firms were charged as).
        bills = {
            "electricity_bill_yuan": y["electricity_bill_yuan"],
            "water_bill_yuan": y["water_bill_yuan"],
            "land_tax_yuan": y["land_tax_yuan"],
            "pollution_charge_yuan": y["pollution_charge_yuan"],
            "subsidy_yuan": y["subsidy_yuan"],
            "resource_bill_yuan": resource,
            "revenue_electricity_class_surcharge_yuan": y["electricity_surcharge_yuan"],
            "revenue_electricity_national_tiered_yuan": y["electricity_national_tiered_yuan"],
            "revenue_water_surcharge_yuan": y["water_surcharge_yuan"],
            "revenue_pollution_surcharge_yuan": y["pollution_surcharge_yuan"],
            "land_tax_relief_yuan": y["land_tax_relief_yuan"],
            "subsidy_withheld_yuan": y["subsidy_withheld_yuan"],
            "differential_revenue_yuan": (
                y["electricity_surcharge_yuan"] + y["electricity_national_tiered_yuan"]
                + y["water_surcharge_yuan"] + y["pollution_surcharge_yuan"]
                - y["land_tax_relief_yuan"]),
        }
        burden = {
            "resource_bill_yuan_per_wan_yuan_va": (resource, va, 1.0),
            "resource_bill_share_of_revenue": (resource, y["revenue_wan_yuan"], 1e-4),
        }
        if self.markets:
            bills["quota_cost_yuan"] = y["quota_cost_yuan"]
            burden["quota_cost_yuan_per_wan_yuan_va"] = (y["quota_cost_yuan"], va, 1.0)
        self._record(year, 0, (self._groupings(
            f.klass, dims=("all", "class", "scale", "sector"))), bills, burden)
        # Services firms as one group.
        svc = Grouping(["kind=services"], np.zeros(f.n, dtype=np.intp), f.is_services)
        self._record(year, 0, [svc], {
            "firms": totals["firms"], "tax_wan_yuan": y["tax_wan_yuan"],
            "electricity_kwh": y["electricity_kwh"], "resource_bill_yuan": resource})
        # Evaluation outcomes.
        evaluated = new_class != UNRATED
        counts = np.bincount(new_class[evaluated], minlength=4)[:4]
        add(year, 0, [f"class={c}" for c in CLASS_LABELS[:4]], "class_share",
            ratio(counts, np.full(4, float(evaluated.sum()))))
        add(year, 0, ["all"], "vetoed_firms", [int((vetoed & evaluated).sum())])
        matrix = transition_counts(f.klass, new_class)
        pairs = [f"{a}->{b}" for a in CLASS_LABELS for b in CLASS_LABELS]
        add(year, 0, pairs, "class_transition_firms", np.asarray(matrix).ravel())
        self._market_metrics(year)

    def _market_metrics(self, year: int) -> None:
        """Per-auction and annual outcomes of each quota market."""
        add = self.recorder.add
        for quota, market in self.markets.items():
            group = [f"market={quota}"]
            by = {setter: 0 for setter in PRICE_SETTERS}
            for a in market.auctions:
                setter = PRICE_SETTERS.index(a.price_setter) if a.price_setter else np.nan
                for metric, value in (("quota_price_yuan_per_unit", a.price),
                                      ("quota_volume", a.volume), ("quota_buyers", a.buyers),
                                      ("quota_sellers", a.sellers),
                                      ("reserve_sold", a.reserve_sold),
                                      ("reserve_bought", a.reserve_bought),
                                      ("quota_price_setter", setter)):
                    add(year, a.month, group, metric, [value])
                if a.price_setter:
                    by[a.price_setter] += 1
            cleared = sum(by.values())
            add(year, 0, group, "auctions_cleared", [cleared])
            traded = [(a.price, a.volume) for a in market.auctions if a.volume > 0]
            volume = sum(v for _, v in traded)
            add(year, 0, group, "quota_price_mean_yuan_per_unit",
                [sum(p * v for p, v in traded) / volume if volume > 0 else np.nan])
            for setter in PRICE_SETTERS:
                add(year, 0, group, f"auctions_priced_by_{setter}", [by[setter]])
            admin = sum(by[s] for s in ADMINISTRATIVE_SETTERS)
            add(year, 0, group, "auctions_administrative_share",
                [admin / cleared if cleared else np.nan])
            # Covered firms are among the compliance's participants; the others use nothing.
            done = market.compliance
            covered = market.members[done.index]
            n_covered = int(np.count_nonzero(covered))
            use = float(done.use.sum())
            add(year, 0, group, "quota_cap", [market.cap])
            add(year, 0, group, "quota_use", [use])
            add(year, 0, group, "quota_cap_slack", [1.0 - use / market.cap if market.cap else
                                                    np.nan])
            add(year, 0, group, "quota_allocated", [market.allocation.sum()])
            add(year, 0, group, "quota_compliance_rate",
                [1.0 - np.count_nonzero(done.violation) / n_covered if n_covered else 1.0])
            add(year, 0, group, "quota_shortfall", [done.shortfall.sum()])
            unabated = float(market.unabated_ytd[done.index][covered].sum())
            add(year, 0, group, "quota_unabated_use", [unabated])
            add(year, 0, group, "quota_abatement", [unabated - use])
            # The reserve besides auctions: leases, subscription sales and compensation
            # buy-backs (energy), and what it holds after compliance.
            for flow, volume in market.reserve_flows.items():
                if flow == "leased" or market.is_energy:
                    add(year, 0, group, f"reserve_{flow}", [volume])
            add(year, 0, group, "reserve_held", [market.reserve_at_year_end])
            # Where every right issued is: issued = held by firms + reserve + surrendered
            # + expired, summed over the years (the ledger's own accounts, after expiry).
            for flow, volume in market.rights_this_year().items():
                add(year, 0, group, f"quota_{flow}", [volume])
            add(year, 0, group, "quota_held_year_end", [market.ledger.holdings.sum()])
            add(year, 0, group, "reserve_held_year_end", [market.ledger.reserve])
            if market.intensity_target is not None:  # dual control (the paid-use fee's)
                add(year, 0, group, "energy_intensity_target_tce_per_wan_yuan",
                    [market.intensity_target])
            gov = market.ledger.government_yuan
            previous = self._gov_seen.setdefault(quota, {})
            this_year = self.government_this_year.setdefault(quota, {})
            for source in GOVERNMENT_SOURCES:
                now = float(gov.get(source, 0.0))
                this_year[source] = now - previous.get(source, 0.0)
                add(year, 0, group, f"gov_{source}_yuan", [this_year[source]])
                previous[source] = now

    def _snapshot(self, year: int, result: EvaluationResult, new_class: np.ndarray,
                  vetoed: np.ndarray) -> pa.Table:
        f = self.firms
        y = f.ytd
        labels = pa.array(list(CLASS_LABELS))
        sectors = pa.array(self.sector_names)
        regions = pa.array(self.region_names)
        scale = np.where(f.is_services, 2, np.where(f.above_scale, 0, 1)).astype(np.int8)
        cols = {
            "year": pa.array(np.full(f.n, year, dtype=np.int16)),
            "scenario": pa.DictionaryArray.from_arrays(np.zeros(f.n, np.int8),
                                                        pa.array([self.params.name])),
            "replication": pa.array(np.full(f.n, self.replication, dtype=np.int32)),
            "firm_id": _owned(f.firm_id),
            "sector": pa.DictionaryArray.from_arrays(np.array(f.sector), sectors),
            "region": pa.DictionaryArray.from_arrays(np.array(f.region), regions),
            "park": _owned(f.park),
            "scale": pa.DictionaryArray.from_arrays(
                scale, pa.array(["above", "below", "services"])),
            "class_in_force": pa.DictionaryArray.from_arrays(np.array(f.klass), labels),
            "class": pa.DictionaryArray.from_arrays(new_class, labels),
            "score": _owned(result.score),
            "rank": _owned(result.rank),
            "group_size": _owned(result.group_size),
            "vetoed": _owned(vetoed),
            "consecutive_d_years": _owned(f.consecutive_d_years),
            "land_mu": _owned(f.land_mu),
            "employees": _owned(f.employees),
            "output_factor_last": _owned(f.output_factor),
            "cash_wan_yuan": _owned(f.cash_wan_yuan),
            "consecutive_loss_years": _owned(f.consecutive_loss_years),
            "invested_options": _owned(f.invested),
        }
        for name in ("va_wan_yuan", "revenue_wan_yuan", "tax_wan_yuan", "rd_wan_yuan",
                     "energy_tce", "electricity_kwh", "water_m3", "electricity_bill_yuan",
                     "electricity_surcharge_yuan", "water_bill_yuan", "water_surcharge_yuan",
                     "pollution_charge_yuan", "pollution_surcharge_yuan", "land_tax_yuan",
                     "land_tax_relief_yuan", "subsidy_yuan", "profit_wan_yuan"):
            cols[name] = _owned(y[name])
        for i, p in enumerate(POLLUTANTS):
            cols[f"{p}_t"] = _owned(y["emissions_t"][:, i])
        for name, values in result.indicators.items():
            cols[f"ind_{name}"] = _owned(values)
        for quota, market in self.markets.items():
            cols[f"{quota}_allocated"] = _owned(market.allocation)
            cols[f"{quota}_covered"] = _owned(market.members)
            cols[f"{quota}_use"] = _owned(market.use_ytd(f))
            done = market.compliance
            cols[f"{quota}_held"] = _owned(done.per_firm(done.held))
            cols[f"{quota}_shortfall"] = _owned(done.per_firm(done.shortfall))
            cols[f"{quota}_net_paid_yuan"] = _owned(market.net_paid_this_year())
            cols[f"{quota}_abatement_cost_yuan"] = _owned(market.abatement_cost_ytd)
            cols[f"{quota}_abatement_share"] = _owned(market.share)
        return pa.table(cols)


def _owned(values: np.ndarray) -> pa.Array:
    """Return an Arrow array with its own copy of ``values``.

    ``pa.array`` shares a numpy array's memory, and the engine reuses its state arrays
    (year-to-date sums are zeroed in place): a snapshot kept after its year, e.g. by a
    worker that returns the whole run, must not change with them.
    """
    return pa.array(np.array(values, copy=True))


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
    sim = _Simulation(scenario, replication=replication, on_snapshot=on_snapshot,
                      progress=progress)
    env = simpy.Environment()
    run = scenario.run
    n_months = run.n_months
    first_year = run.first_year

    def timeline():
        for change in sorted(scenario.timeline, key=lambda c: c.date):
            at = month_index(run.start, change.date)
            yield env.timeout(at - env.now)
            sim.apply_timeline(change.set)

    def monthly():
        yield env.timeout(0.5)
        for k in range(n_months):
            sim.produce_month(first_year + k // 12, k % 12 + 1)
            if progress is not None:
                progress(k + 1, n_months)
            yield env.timeout(1.0)

    def annual():
        for y in range(run.n_years):
            yield env.timeout(12.0 * (y + 1) - 0.1 - env.now)
            sim.close_year(first_year + y)

    def allocation():
        for y in range(run.n_years):
            yield env.timeout(12.0 * y + 0.1 - env.now)
            sim.allocate(first_year + y)

    def auctions(quota: str, per_year: int):
        for y in range(run.n_years):
            for j in range(per_year):
                month = 12 * j // per_year
                # After the month's timeline changes, before its production.
                yield env.timeout(12.0 * y + month + 0.25 - env.now)
                sim.auction(quota, month + 1)

    def completion(month: int):
        # After the month's timeline changes and auctions, before its production.
        yield env.timeout(month + 0.3 - env.now)
        sim.complete_projects(month)

    if sim.dynamics is not None:
        sim.dynamics.schedule = lambda month: (
            env.process(completion(month)) if month < n_months else None)

    env.process(timeline())
    env.process(monthly())
    env.process(annual())
    if sim.markets:
        env.process(allocation())
    for quota, market in sim.markets.items():
        per_year = market.spec(scenario).auctions_per_year
        if per_year:
            env.process(auctions(quota, per_year))
    env.run(until=n_months)
    return SimulationResult(
        scenario=sim.params,
        replication=replication,
        metrics=sim.recorder.frame(),
        firms=sim.firms,
        wall_time_s=time.perf_counter() - started,
        ledgers={quota: market.ledger for quota, market in sim.markets.items()},
        land=sim.dynamics.land if sim.dynamics is not None else None,
    )

"""Enterprise dynamics over the years: investment, exit, entry, land and fund recycling.

The engine calls :meth:`Dynamics.year_end` once a year, after the annual
evaluation (classes of next year known), and :meth:`Dynamics.complete` in
the months where investment projects finish. Everything acts on all firms at
once; loops run over the four investment options or the regions, never over
firms.

At the end of year ``y``:

1. **Money.** Cash grows by the year's profit net of interest on borrowed
   money (negative cash) at the class's loan rate. A year with a loss
   extends a firm's run of loss years; a run of ``exit.zombie_loss_years``
   makes it a zombie (僵尸企业).
2. **Exit** (腾笼换鸟). Firms with ``exit.loss_years`` loss years in a row,
   firms in D for more than ``exit.d_grace_years`` years in a row (failed
   rectification), and the lowest-scored ``exit.forced_exit_share_per_year``
   of the rated industrial firms (provincial elimination quotas) close.
   Their land becomes idle; their quota rights go to the reserve.
3. **Fund recycling.** A share of the year's recyclable revenue (surcharges,
   penalties, auction revenue) goes into a fund: part pays equal awards to
   class A firms now, part subsidises energy retrofits (carried over).
4. **Investment.** Every surviving firm values each option it has not taken
   (:mod:`simulator.investment`): the NPV at its class's loan rate of what
   the option saves at the prices it expects (today's class and market
   prices; tariffs as the timeline sets them in each future year), after
   class subsidies and fund grants. It takes options with positive NPV, best
   first, as far as cash plus its class's credit line allows. Projects
   complete after their lead time on the calendar.
5. **Entry and land** (标准地). The land pools release new land and
   revitalise idle land past its delay (:mod:`simulator.land`). Candidate
   projects arrive (a Poisson number), those meeting the entry standards are
   ranked by expected tax per mu and win available land in their region in
   that order; winners enter as new, unrated firms next year.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from simulator import investment as inv
from simulator import tariffs
from simulator.firms import CLASS_CODES, CLASS_LABELS, TCE_PER_KWH, UNRATED, Firms, per_class
from simulator.land import LandPools
from simulator.population import counts_by_share as _counts
from simulator.population import draw_firms
from simulator.population import finish_firms as _finish
from simulator.rng import mechanism_rng
from simulator.scenario import (
    INVESTMENT_OPTIONS,
    POLLUTANTS,
    Scenario,
    apply_changes,
    month_index,
)

__all__ = ["Dynamics", "YearEnd"]

_RETROFIT, _POLLUTION, _AUTOMATION, _SPACE = range(4)
EXIT_REASONS = ("losses", "d_grace", "forced")


@dataclass
class YearEnd:
    """What the year end decided: who stays and who enters."""

    keep: np.ndarray
    """Firms that stay (boolean, one per firm before the change)."""
    entrants: Firms
    """New firms, to be appended after the stayers."""


@dataclass(frozen=True)
class _Rates:
    """Per-unit prices each firm pays under one set of tariffs, yuan."""

    per_tce: np.ndarray       # (n,) energy, all charges, per tce
    base_per_tce: np.ndarray  # (n,) energy at base prices (no differentiated charges)
    per_t: np.ndarray         # (n, 4) pollution charge per tonne, class multiplier included
    base_per_t: np.ndarray    # (n, 4) at the base rate
    land_per_mu: np.ndarray   # (n,) land-use tax per mu and year, after relief


@dataclass(frozen=True)
class _PricePath:
    """Prices over the next H years: one :class:`_Rates` per timeline regime."""

    regimes: dict[int, _Rates]
    regime_of_year: np.ndarray  # (H,) regime in force in each year ahead
    now: _Rates                 # the prices in force now

    def path(self, saving: Callable[[_Rates], np.ndarray]) -> np.ndarray:
        """Return ``saving(rates)`` for each year ahead, shape (n, H)."""
        per_regime = {k: saving(r) for k, r in self.regimes.items()}
        return np.stack([per_regime[int(k)] for k in self.regime_of_year], axis=1)


@dataclass
class _Projects:
    """Investment projects under way, one entry per (firm, option)."""

    firm_id: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    option: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    due_month: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    effect: np.ndarray = field(default_factory=lambda: np.zeros(0))
    margin_gain: np.ndarray = field(default_factory=lambda: np.zeros(0))  # share of revenue
    one_off_wan_yuan: np.ndarray = field(default_factory=lambda: np.zeros(0))
    life_months: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def add(self, **cols: np.ndarray) -> None:
        for name, values in cols.items():
            setattr(self, name, np.concatenate([getattr(self, name), values]))

    def take(self, mask: np.ndarray) -> _Projects:
        """Remove and return the projects where ``mask`` holds."""
        out = _Projects(**{k: v[mask] for k, v in vars(self).items()})
        for k, v in vars(self).items():
            setattr(self, k, v[~mask])
        return out


class Dynamics:
    """Investment, exit, entry, land and the recycling fund of one run.

    Parameters
    ----------
    sim : engine._Simulation
        The run (its firms, markets, prices and recorder).
    """

    def __init__(self, sim) -> None:
        self.sim = sim
        p: Scenario = sim.params
        spec = p.dynamics
        f = sim.firms
        self.seed, self.replication = p.seed, sim.replication
        rng = mechanism_rng(p.seed, sim.replication, "dynamics")
        f.cash_wan_yuan = spec.finance.initial_cash_share_of_revenue * f.revenue_wan_yuan
        f.cost_factor = self._cost_factors(p, rng, f.n)
        # Years in D count towards the exit of firms not rectified in time from the history
        # the scenario states (initial_state.years_in_d, set by the engine).
        f.rectification_years = f.consecutive_d_years.copy()
        self.n_industrial_start = int((~f.is_services).sum())
        regions = p.population.regions
        occupied = np.bincount(f.region, weights=f.land_mu, minlength=len(regions))
        self.land = LandPools(occupied, region_shares=np.array([r.share for r in regions]),
                              spec=spec.land)
        self.next_id = int(f.firm_id.max()) + 1 if f.n else 1
        self.projects = _Projects()
        self.retrofit_pot_yuan = 0.0     # fund money kept for retrofit subsidies
        self.fund_in_yuan = 0.0          # cumulative inflow
        self.fund_out_yuan = 0.0         # cumulative grants and awards
        self.completed = np.zeros(len(INVESTMENT_OPTIONS), dtype=np.int64)  # this year
        self.in_service = _Projects()  # completed upgrades; due_month: end of their lifetime
        self.retired = np.zeros(len(INVESTMENT_OPTIONS), dtype=np.int64)  # this year
        self.schedule: Callable[[int], None] | None = None  # set by the engine

    @property
    def fund_balance_yuan(self) -> float:
        """Money in the recycling fund, yuan (inflow minus grants and awards)."""
        return self.fund_in_yuan - self.fund_out_yuan

    @staticmethod
    def _cost_factors(p: Scenario, rng: np.random.Generator, n: int) -> np.ndarray:
        """Firm-specific capex multipliers (mean one), shape (n, 4)."""
        sigma = np.array([p.dynamics.investment[o].cost_sigma if o in p.dynamics.investment
                          else 0.0 for o in INVESTMENT_OPTIONS])
        z = rng.standard_normal((n, len(INVESTMENT_OPTIONS)))
        return np.exp(sigma * z - 0.5 * sigma * sigma)

    # ------------------------------------------------------------------ year end

    def year_end(self, year: int, score: np.ndarray, months_done: int) -> YearEnd:
        """Money, exits, the fund, investment decisions, land and entry at the end of ``year``.

        Parameters
        ----------
        year : int
            The calendar year that ends.
        score : ndarray of float
            This year's evaluation score per firm (NaN out of scope).
        months_done : int
            Months since the start of the run (the decision time of investments).
        """
        sim, p = self.sim, self.sim.params
        spec = p.dynamics
        f = sim.firms
        add = sim.recorder.add
        fin = spec.finance
        rate = per_class(fin.loan_rate_by_class.as_tuple(), f.klass,
                         unrated=fin.loan_rate_unrated)

        # 1. Money: the year's profit after tax (margin shock included), less interest owed.
        interest = np.where(f.cash_wan_yuan < 0, -f.cash_wan_yuan * rate, 0.0)
        net = f.ytd["profit_wan_yuan"] - interest
        f.cash_wan_yuan = f.cash_wan_yuan + net
        f.consecutive_loss_years = np.where(net < 0, f.consecutive_loss_years + 1,
                                            0).astype(np.int16)
        zombie = f.consecutive_loss_years >= spec.exit.zombie_loss_years

        # 2. Exit. Years under rectification count the years in D in a row.
        f.rectification_years = np.where(f.klass == CLASS_CODES["D"],
                                         f.rectification_years + 1, 0).astype(np.int16)
        reason = self._exits(score) if spec.exit.enabled else np.full(f.n, -1, np.int8)
        exiting = reason >= 0
        add(year, 0, ["all"], "zombie_firms", [float(zombie.sum())])
        add(year, 0, ["all"], "zombie_firms_handled", [float((zombie & exiting).sum())])
        groups = ["all", *(f"reason={r}" for r in EXIT_REASONS),
                  *(f"class={c}" for c in CLASS_LABELS)]
        add(year, 0, groups, "exits", [
            float(exiting.sum()), *(float((reason == k).sum()) for k in range(3)),
            *(float((exiting & (f.klass == k)).sum()) for k in range(len(CLASS_LABELS)))])
        if exiting.any():
            self.land.vacate(f.region[exiting], f.land_mu[exiting], reason="exit")
            gone = np.isin(self.projects.firm_id, f.firm_id[exiting])
            self.projects.take(gone)

        # 3. Fund recycling.
        grants_pot = self._recycle(year, ~exiting)

        # 4. Investment by the firms that stay; the fund's grants to retrofits and balance.
        granted = (self._invest(year, ~exiting, rate, grants_pot, months_done)
                   if spec.investment else 0.0)
        add(year, 0, ["all"], "fund_retrofit_subsidy_yuan", [granted])
        add(year, 0, ["all"], "fund_balance_yuan", [self.fund_balance_yuan])

        # 5. Land and entry: the year's returns (exits) and freed land (space-for-land), then
        # next year's new and revitalised land, allocated to this year's winning candidates.
        names = [f"region={r.name}" for r in p.population.regions]
        flows = self.land.flows()
        self.land.start_year()
        entrants = self._entry(year) if spec.entry.enabled else None
        flows.update({k: v for k, v in self.land.flows().items()
                      if k in ("new", "revitalised", "allocated")})
        stocks = self.land.stocks()
        for key in ("new", "revitalised", "returned", "freed", "allocated"):
            v = np.asarray(flows[key], dtype=float)
            add(year, 0, ["all", *names], f"land_{key}_mu", [v.sum(), *v])
        for key in ("occupied", "idle", "available"):
            v = np.asarray(stocks[key], dtype=float)
            add(year, 0, ["all", *names], f"land_{key}_mu", [v.sum(), *v])
        self.land.check()
        if entrants is None:
            entrants = f.select(np.zeros(f.n, dtype=bool))
        self.completed[:] = 0
        self.retired[:] = 0
        return YearEnd(keep=~exiting, entrants=entrants)

    def _exits(self, score: np.ndarray) -> np.ndarray:
        """Exit reason per firm: 0 losses, 1 failed rectification in D, 2 forced, -1 stays."""
        spec = self.sim.params.dynamics.exit
        f = self.sim.firms
        reason = np.full(f.n, -1, dtype=np.int8)
        reason[f.consecutive_loss_years >= spec.loss_years] = 0
        d_out = (f.rectification_years > spec.d_grace_years) & (reason < 0)
        reason[d_out] = 1
        if spec.forced_exit_share_per_year > 0:
            rated = (~f.is_services) & (f.klass != UNRATED) & np.isfinite(score)
            k = int(round(spec.forced_exit_share_per_year * rated.sum()))
            candidates = np.flatnonzero(rated & (reason < 0))
            if k and candidates.size:
                worst = candidates[np.argsort(score[candidates], kind="stable")[:k]]
                reason[worst] = 2
        return reason

    # --------------------------------------------------------------------- fund

    def _recycle(self, year: int, stays: np.ndarray) -> float:
        """Pay the year's recyclable revenue into the fund; pay A awards; return the grant pot."""
        sim, spec = self.sim, self.sim.params.dynamics.recycling
        f = sim.firms
        add = sim.recorder.add
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
                                     for receipts in sim.government_this_year.values())
            inflow = spec.share_of_revenue * sum(max(by_source[s], 0.0) for s in spec.sources)
        self.fund_in_yuan += inflow
        self.retrofit_pot_yuan += spec.retrofit_subsidy_share * inflow
        award_pot = (1.0 - spec.retrofit_subsidy_share) * inflow
        awards = inv.a_awards(np.where(stays, f.klass, UNRATED), award_pot)
        paid = float(awards.sum())
        f.cash_wan_yuan = f.cash_wan_yuan + awards * 1e-4
        self.fund_out_yuan += paid
        # Award money not paid (no A firm) stays in the fund for retrofits.
        self.retrofit_pot_yuan += award_pot - paid
        add(year, 0, ["all"], "fund_inflow_yuan", [inflow])
        add(year, 0, ["all"], "fund_a_award_yuan", [paid])
        return self.retrofit_pot_yuan

    # --------------------------------------------------------------- investment

    def _invest(self, year: int, stays: np.ndarray, rate: np.ndarray, grant_pot: float,
                months_done: int) -> float:
        """Value every option for every firm; take the affordable ones with positive NPV.

        Returns the fund's grants paid to the retrofits taken, yuan.
        """
        sim, p = self.sim, self.sim.params
        spec = p.dynamics
        f = sim.firms
        add = sim.recorder.add
        n, m = f.n, len(INVESTMENT_OPTIONS)
        fin = spec.finance
        names = p.sector_names()
        npv = np.full((n, m), -np.inf)
        capex = np.zeros((n, m))
        subsidy = np.zeros((n, m))
        eligible = np.zeros((n, m), dtype=bool)
        tables: dict[int, inv.OptionArrays] = {}
        quantities: dict[int, np.ndarray] = {}
        margin_gain = np.zeros((n, m))
        one_off = np.zeros((n, m))
        horizon = max((o.lifetime_years + (o.lead_time_months + 11) // 12
                       for o in spec.investment.values()), default=1) + 1
        values = self._unit_values(year, horizon)
        # Firms look at their options now and then, not every year (attention, planning cycles).
        reviews = stays & (sim._draw(f"review/{year}", "uniform") < spec.review_share_per_year)
        covered = {q: mk.members for q, mk in sim.markets.items()}

        for k, name in enumerate(INVESTMENT_OPTIONS):
            option = spec.investment.get(name)
            if option is None or not option.enabled:
                continue
            t = inv.option_table(option, sector=f.sector, sector_names=names)
            tables[k] = t
            unit_capex = t.capex * f.cost_factor[:, k]
            if k == _RETROFIT:
                energy = f.energy_tce_per_wan_yuan * f.va_wan_yuan
                saved, capex[:, k] = inv.retrofit_quantities(energy, t.effect_share, unit_capex)
                rights = (sim.markets["energy"].last_price * covered["energy"]
                          if "energy" in sim.markets else np.zeros(n))
                saving = values.path(lambda r, q=saved, v=rights: q * (r.per_tce + v))
                margin_gain[:, k] = saved * values.now.base_per_tce
                quantities[k] = saved
                eligible[:, k] = ~f.is_services & (saved > 0)
            elif k == _POLLUTION:
                emissions = f.emission_t_per_wan_yuan * f.va_wan_yuan[:, None]
                removed, capex[:, k] = inv.pollution_quantities(emissions, t.effect_share,
                                                                unit_capex)
                # The rights the tonnes removed no longer need, at each market's last price
                # (covered firms only): the same in every year ahead.
                rights = np.zeros(n)
                for j, q in enumerate(POLLUTANTS):
                    if q in sim.markets:
                        rights += removed[:, j] * (sim.markets[q].last_price * covered[q])
                saving = values.path(
                    lambda r, q=removed, v=rights: np.einsum("ij,ij->i", q, r.per_t) + v)
                margin_gain[:, k] = np.einsum("ij,ij->i", removed, values.now.base_per_t)
                quantities[k] = removed.sum(axis=1)
                eligible[:, k] = ~f.is_services & (quantities[k] > 0)
            elif k == _AUTOMATION:
                replaced, capex[:, k], saving = inv.automation_quantities(
                    f.employees, t.effect_share, unit_capex, fin.wage_wan_yuan_per_person_year)
                margin_gain[:, k] = saving
                quantities[k] = replaced
                eligible[:, k] = ~f.is_services & (replaced > 0)
            else:
                freed, capex[:, k] = inv.space_for_land_quantities(f.land_mu, t.effect_share,
                                                                   unit_capex)
                saving = values.path(lambda r, q=freed: q * r.land_per_mu)
                one_off[:, k] = freed * fin.land_price_wan_yuan_per_mu * 1e4
                quantities[k] = freed
                eligible[:, k] = ~f.is_services & (freed > 0)
            eligible[:, k] &= reviews & ((f.invested >> k) & 1 == 0)
            subsidy[:, k] = capex[:, k] * per_class(option.subsidy_share_by_class.as_tuple(),
                                                    f.klass)
            npv[:, k] = inv.npv(capex[:, k] - subsidy[:, k], saving, rate=rate,
                                lead_time_months=t.lead_time_months,
                                lifetime_years=t.lifetime_years,
                                one_off_at_completion_yuan=one_off[:, k])

        # Retrofit grants from the recycling fund: to the projects that need them to pay,
        # the most energy saved per yuan of grant first.
        if _RETROFIT in tables and grant_pot > 0:
            t = tables[_RETROFIT]
            cap = p.dynamics.recycling.max_subsidy_share_of_capex * capex[:, _RETROFIT]
            request = np.where(eligible[:, _RETROFIT] & (npv[:, _RETROFIT] <= 0)
                               & (npv[:, _RETROFIT] + cap > 0),
                               np.minimum(cap, -npv[:, _RETROFIT] + 1.0), 0.0)
            with np.errstate(divide="ignore", invalid="ignore"):
                priority = np.where(request > 0, quantities[_RETROFIT] / request, 0.0)
            grant = inv.allocate_fund(request, priority, grant_pot)
        else:
            grant = np.zeros(n)
        subsidy[:, _RETROFIT] += grant
        npv[:, _RETROFIT] += grant

        net_capex = capex - subsidy
        credit = per_class(fin.credit_limit_share_of_revenue_by_class.as_tuple(), f.klass,
                           unrated=fin.credit_limit_share_unrated) * f.revenue_wan_yuan
        budget = (f.cash_wan_yuan + credit) * 1e4
        chosen = inv.choose(npv, net_capex, budget, eligible)

        # Grants are paid only to projects that go ahead.
        used = float(np.where(chosen[:, _RETROFIT], grant, 0.0).sum())
        self.retrofit_pot_yuan -= used
        self.fund_out_yuan += used
        subsidy = np.where(chosen, subsidy, 0.0)  # class subsidies and grants of projects taken
        paid = np.where(chosen, net_capex, 0.0)
        f.cash_wan_yuan = f.cash_wan_yuan - paid.sum(axis=1) * 1e-4
        bits = (chosen * (1 << np.arange(m))).sum(axis=1).astype(np.int8)
        f.invested = f.invested | bits

        firm, option = np.nonzero(chosen)
        if firm.size:
            def chosen_values(attr: str) -> np.ndarray:
                """Return the option table's ``attr`` of each chosen (firm, option)."""
                out = np.zeros(firm.size, dtype=getattr(tables[int(option[0])], attr).dtype)
                for k in np.unique(option):  # a chosen option always has its table
                    sel = option == k
                    out[sel] = getattr(tables[int(k)], attr)[firm[sel]]
                return out

            lead = chosen_values("lead_time_months")
            effect = chosen_values("effect_share")
            life = chosen_values("lifetime_years")
            revenue = np.maximum(f.revenue_wan_yuan[firm] * 1e4, 1e-9)
            due = months_done + lead.astype(np.int64)
            self.projects.add(firm_id=f.firm_id[firm], option=option.astype(np.int8),
                              due_month=due, effect=effect,
                              margin_gain=margin_gain[firm, option] / revenue,
                              one_off_wan_yuan=one_off[firm, option] * 1e-4,
                              life_months=12 * life.astype(np.int64))
            if self.schedule is not None:
                for month in np.unique(due):
                    self.schedule(int(month))
        class_groups = [f"class={c}" for c in CLASS_LABELS]
        option_groups = [f"option={o}" for o in INVESTMENT_OPTIONS]
        for k, name in enumerate(INVESTMENT_OPTIONS):
            took = chosen[:, k]
            add(year, 0, ["all", *class_groups], f"investments_{name}",
                [float(took.sum()), *(float((took & (f.klass == c)).sum())
                                      for c in range(len(CLASS_LABELS)))])
        add(year, 0, option_groups, "investment_capex_wan_yuan",
            list(np.where(chosen, capex, 0.0).sum(axis=0) * 1e-4))
        add(year, 0, option_groups, "investment_subsidy_wan_yuan",
            list(subsidy.sum(axis=0) * 1e-4))
        add(year, 0, option_groups, "investments_completed", list(self.completed.astype(float)))
        add(year, 0, option_groups, "investments_retired", list(self.retired.astype(float)))
        return used

    def _unit_values(self, year: int, horizon: int) -> _PricePath:
        """Return what a unit of energy, emissions and land costs each firm in years 1..H ahead.

        Tariffs follow the timeline: a change dated up to January of a future
        year counts for that whole year. The firm's class, years in D and
        process status are taken as they are now. Prices are computed once
        per regime (set of timeline changes in force), not once per year.
        """
        sim = self.sim
        p = sim.params
        run = p.run
        now = month_index(run.start, f"{year + 1}-01")  # changes before this are in force
        pending = sorted((c for c in p.timeline if month_index(run.start, c.date) >= now),
                         key=lambda c: c.date)
        regime_of_year = np.array([
            sum(1 for c in pending
                if month_index(run.start, c.date) <= month_index(run.start, f"{year + 1 + h}-01"))
            for h in range(horizon)])
        regimes: dict[int, _Rates] = {}
        for k in np.unique(regime_of_year):
            params = p
            for change in pending[:k]:
                params = apply_changes(params, change.set)
            regimes[int(k)] = self._rates(params)
        return _PricePath(regimes=regimes, regime_of_year=regime_of_year,
                          now=regimes.get(0) or self._rates(p))

    def _rates(self, params: Scenario) -> _Rates:
        """Per-unit prices under ``params``: energy, pollutants, land, and their base parts."""
        sim, f = self.sim, self.sim.firms
        t = params.tariffs
        fin = params.dynamics.finance
        ones = np.ones(f.n)
        elec = tariffs.electricity_bill(
            ones, klass=f.klass, consecutive_d_years=f.consecutive_d_years,
            # The firm's contracted capacity decides general or large-industry (two-part)
            # pricing, as in its bills; the fixed capacity charge is taken out below.
            capacity_kva=f.capacity_kva, process_status=f.process_status,
            unit_consumption=f.unit_consumption, sector=f.sector,
            sector_names=sim.sector_names, params=t.electricity, months=1.0)
        kwh_per_tce = 1.0 / TCE_PER_KWH
        share = f.electricity_share
        fuel = (1.0 - share) * fin.fuel_price_yuan_per_tce
        m = len(POLLUTANTS)
        codes = np.repeat(np.arange(len(CLASS_LABELS)), m)
        table = tariffs.pollution_charge(np.tile(np.eye(m), (len(CLASS_LABELS), 1)),
                                         klass=codes, params=t.pollution)
        return _Rates(
            per_tce=share * (elec.total_yuan - elec.capacity_yuan) * kwh_per_tce + fuel,
            base_per_tce=share * elec.energy_yuan * kwh_per_tce + fuel,
            per_t=table.total_yuan.reshape(len(CLASS_LABELS), m)[f.klass],
            base_per_t=table.base_yuan.reshape(len(CLASS_LABELS), m)[f.klass],
            land_per_mu=tariffs.land_use_tax(ones, land_grade=f.land_grade, klass=f.klass,
                                             params=t.land_tax, years=1.0).net_yuan)

    def _entry(self, year: int) -> Firms | None:
        """Candidates arrive; those meeting the standards compete for land; winners enter."""
        sim, p = self.sim, self.sim.params
        spec = p.dynamics.entry
        add = sim.recorder.add
        rng = mechanism_rng(self.seed, self.replication, f"entry/{year}")
        expected = spec.candidates_per_year_per_1000_firms * self.n_industrial_start / 1000.0
        n = int(rng.poisson(expected))
        sector = entrant_sectors(p, rng, n)
        cand = draw_firms(p, rng, sector, first_id=self.next_id,
                          productivity=spec.productivity_premium)
        va_f, tax_f, emp_f = sim.firms.calibration
        cand.va_wan_yuan *= va_f
        cand.revenue_wan_yuan *= va_f
        cand.water_quota_m3 *= va_f
        cand.tax_share_of_va *= tax_f
        cand.employees *= emp_f
        sim.frontier.scale(cand)  # this year's output, productivity and intensities
        _finish(cand, p.population)
        std = spec.standards
        land = np.maximum(cand.land_mu, 1e-9)
        tax_per_mu = cand.potential_tax_wan_yuan() / land
        meets = ((spec.investment_wan_yuan_per_wan_yuan_va * cand.va_wan_yuan / land
                  >= std.min_investment_wan_yuan_per_mu)
                 & (tax_per_mu >= std.min_tax_wan_yuan_per_mu)
                 & (cand.energy_tce_per_wan_yuan <= std.max_energy_tce_per_wan_yuan)
                 & (cand.emission_t_per_wan_yuan
                    <= np.array(std.max_emissions_t_per_wan_yuan.as_tuple())).all(axis=1)
                 & (cand.process_status == 0))
        granted = np.zeros(n, dtype=bool)
        if meets.any():
            granted[meets] = self.land.allocate(cand.region[meets], cand.land_mu[meets],
                                                tax_per_mu[meets])
        add(year, 0, ["all"], "entry_candidates", [float(n)])
        add(year, 0, ["all"], "entry_rejected_standards", [float((~meets).sum())])
        add(year, 0, ["all"], "entry_rejected_land", [float((meets & ~granted).sum())])
        add(year, 0, ["all"], "entries", [float(granted.sum())])
        if not granted.any():
            return None
        new = cand.select(granted)
        new.firm_id = np.arange(self.next_id, self.next_id + new.n, dtype=np.int64)
        self.next_id += new.n
        new.age_years = np.zeros(new.n, dtype=np.int16)
        new.klass = np.full(new.n, CLASS_CODES["B"], dtype=np.int8)  # B until first evaluated
        new.cash_wan_yuan = p.dynamics.finance.initial_cash_share_of_revenue * new.revenue_wan_yuan
        new.cost_factor = self._cost_factors(p, rng, new.n)
        return new

    # -------------------------------------------------------------- completion

    def complete(self, month: int) -> dict[str, np.ndarray]:
        """Finish the projects due and retire the upgrades worn out at run month ``month``.

        Returns the firms (rows, ascending) whose upgrades took or left
        effect, by option (``INVESTMENT_OPTIONS``; empty if nothing changed).
        A finished project cuts the firm's intensity, employees or land by its
        effect and raises its margin by the base-price saving; after its
        lifetime the upgrade is retired: the cut and the margin gain are undone
        and the firm may take the option again (space freed for land stays
        freed: the land has gone back to the pool).
        The engine bills the period first and then renews the market bids of
        the firms whose intensities changed, and its rates.
        """
        done = self._due(self.projects, month)
        retired = self._due(self.in_service, month)
        if done is None and retired is None:
            return {}
        f = self.sim.firms
        changed: dict[int, list[np.ndarray]] = {}
        if done is not None:
            idx, done = done
            self._apply(idx, done, sign=1)
            lasting = done.option != _SPACE
            ends = _Projects(**{k: v[lasting] for k, v in vars(done).items()})
            ends.due_month = ends.due_month + ends.life_months
            self.in_service.add(**vars(ends))
            if self.schedule is not None:
                for end in np.unique(ends.due_month):
                    self.schedule(int(end))
            np.add.at(f.cash_wan_yuan, idx, done.one_off_wan_yuan)  # a firm may finish two
            np.add.at(self.completed, done.option, 1)
            _by_option(changed, idx, done.option)
        if retired is not None:
            idx, retired = retired
            self._apply(idx, retired, sign=-1)
            np.bitwise_and.at(f.invested, idx, ~(1 << retired.option.astype(np.int8)))
            np.add.at(self.retired, retired.option, 1)
            _by_option(changed, idx, retired.option)
        return {INVESTMENT_OPTIONS[k]: np.unique(np.concatenate(rows))
                for k, rows in sorted(changed.items())}

    def _due(self, store: _Projects, month: int) -> tuple[np.ndarray, _Projects] | None:
        """Take the entries of ``store`` due at ``month`` whose firm is still in the run."""
        due = store.due_month == month
        if not due.any():
            return None
        taken = store.take(due)
        f = self.sim.firms
        idx = np.searchsorted(f.firm_id, taken.firm_id)
        ok = (idx < f.n) & (f.firm_id[np.minimum(idx, f.n - 1)] == taken.firm_id)
        return idx[ok], _Projects(**{k: v[ok] for k, v in vars(taken).items()})

    def _apply(self, idx: np.ndarray, projects: _Projects, *, sign: int) -> None:
        """Put upgrades into effect (``sign=1``) or take them out (``sign=-1``)."""
        f = self.sim.firms
        keep = (1.0 - projects.effect) ** sign
        for k in range(len(INVESTMENT_OPTIONS)):
            sel = projects.option == k
            i = idx[sel]
            if not i.size:
                continue
            if k == _RETROFIT:
                f.energy_tce_per_wan_yuan[i] *= keep[sel]
            elif k == _POLLUTION:
                f.emission_t_per_wan_yuan[i] *= keep[sel][:, None]
            elif k == _AUTOMATION:
                f.employees[i] *= keep[sel]
            else:  # space for land: only ever applied (it does not retire)
                freed = f.land_mu[i] * projects.effect[sel]
                self.land.vacate(f.region[i], freed, reason="space_for_land")
                f.land_mu[i] -= freed
            f.profit_margin[i] += sign * projects.margin_gain[sel]


def _by_option(out: dict[int, list[np.ndarray]], idx: np.ndarray, option: np.ndarray) -> None:
    """Add the firms ``idx`` to ``out`` under their projects' ``option`` codes."""
    for k in np.unique(option).tolist():
        out.setdefault(k, []).append(idx[option == k])


def entrant_sectors(p: Scenario, rng: np.random.Generator, n: int) -> np.ndarray:
    """Sector codes of ``n`` candidate projects, by the entry mix (or the industrial mix)."""
    names = p.sector_names()
    mix = p.dynamics.entry.sector_shares or {
        k: s.share for k, s in p.population.sectors.items() if s.kind == "industrial"}
    codes = np.array([names.index(k) for k in mix], dtype=np.int16)
    shares = np.array(list(mix.values()), dtype=float)
    counts = _counts(n, shares / shares.sum()) if shares.sum() > 0 else np.zeros(len(codes), int)
    sector = np.repeat(codes, counts)
    return sector[rng.permutation(sector.size)].astype(np.int16)

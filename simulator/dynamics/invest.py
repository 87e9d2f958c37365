"""Stage: investment decisions (retrofits, pollution control, automation, space for land).

Every surviving firm that reviews its options this year values each option it
has not taken (:mod:`simulator.investment`): the NPV at its class's loan rate
of what the option saves at the prices it expects
(:func:`simulator.dynamics.prices.price_path`; rights at each market's last
price), after class subsidies and the fund's retrofit grants. It takes options
with positive NPV, best first, as far as cash plus its class's credit line
allows. Projects complete after their lead time (:mod:`~.projects`); the
calendar schedules the months this stage returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simulator import investment as inv
from simulator.dynamics.prices import price_path
from simulator.dynamics.state import AUTOMATION, POLLUTION, RETROFIT, loan_rates
from simulator.engine.state import RunState, draw
from simulator.firms import CLASS_LABELS, per_class
from simulator.scenario import INVESTMENT_OPTIONS

__all__ = ["decide"]


@dataclass
class _Valuation:
    """Every firm's valuation of every option, shape (n, options) unless stated."""

    n: int
    m: int
    npv: np.ndarray = field(init=False)
    capex: np.ndarray = field(init=False)
    subsidy: np.ndarray = field(init=False)
    eligible: np.ndarray = field(init=False)
    margin_gain: np.ndarray = field(init=False)
    one_off: np.ndarray = field(init=False)
    tables: dict[int, inv.OptionArrays] = field(default_factory=dict)
    quantities: dict[int, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        shape = (self.n, self.m)
        self.npv = np.full(shape, -np.inf)
        self.capex = np.zeros(shape)
        self.subsidy = np.zeros(shape)
        self.eligible = np.zeros(shape, dtype=bool)
        self.margin_gain = np.zeros(shape)
        self.one_off = np.zeros(shape)


def decide(state: RunState, year: int, stays: np.ndarray, grant_pot: float) -> list[int]:
    """Value and take the year's investments; return the new months projects complete in."""
    dyn = state.dynamics
    due: list[int] = []
    used = 0.0
    if state.params.dynamics.investment:
        rate = loan_rates(state)
        v = _value_options(state, year, stays, rate)
        grant = _fund_grants(state, v, grant_pot)
        chosen, subsidy = _take(state, v, grant)
        # Grants are paid only to projects that go ahead.
        used = float(np.where(chosen[:, RETROFIT], grant, 0.0).sum())
        dyn.retrofit_pot_yuan -= used
        dyn.fund_out_yuan += used
        due = _start_projects(state, v, chosen)
        _record(state, year, chosen, v.capex, subsidy)
    add = state.recorder.add
    add(year, 0, ["all"], "fund_retrofit_subsidy_yuan", [used])
    add(year, 0, ["all"], "fund_balance_yuan", [dyn.fund_balance_yuan])
    return due


def _value_options(state: RunState, year: int, stays: np.ndarray,
                   rate: np.ndarray) -> _Valuation:
    """NPV, capex and subsidy of every enabled option for every firm reviewing this year."""
    p = state.params
    spec = p.dynamics
    f = state.firms
    n = f.n
    v = _Valuation(n, len(INVESTMENT_OPTIONS))
    horizon = max((o.lifetime_years + (o.lead_time_months + 11) // 12
                   for o in spec.investment.values()), default=1) + 1
    values = price_path(f, p, state.sector_names, year, horizon)
    # Firms look at their options now and then, not every year (attention, planning cycles).
    reviews = stays & (draw(state, f"review/{year}", "uniform") < spec.review_share_per_year)
    covered = {q: mk.members for q, mk in state.markets.items()}
    for k, name in enumerate(INVESTMENT_OPTIONS):
        option = spec.investment.get(name)
        if option is None or not option.enabled:
            continue
        t = inv.option_table(option, sector=f.sector, sector_names=state.sector_names)
        v.tables[k] = t
        unit_capex = t.capex * f.cost_factor[:, k]
        if k == RETROFIT:
            energy = f.energy_tce_per_wan_yuan * f.va_wan_yuan
            saved, v.capex[:, k] = inv.retrofit_quantities(energy, t.effect_share, unit_capex)
            rights = (state.markets["energy"].firm_price(f) * covered["energy"]
                      if "energy" in state.markets else np.zeros(n))
            saving = values.path(lambda r, q=saved, w=rights: q * (r.per_tce + w))
            v.margin_gain[:, k] = saved * values.now.base_per_tce
            v.quantities[k] = saved
        elif k == POLLUTION:
            emissions = f.emission_t_per_wan_yuan * f.va_wan_yuan[:, None]
            removed, v.capex[:, k] = inv.pollution_quantities(emissions, t.effect_share,
                                                              unit_capex)
            # The rights the tonnes removed no longer need, at each market's last price in
            # the firm's region (covered firms only): the same in every year ahead.
            rights = np.zeros(n)
            for j, q in enumerate(p.pollutant_names()):
                if q in state.markets:
                    rights += removed[:, j] * (state.markets[q].firm_price(f) * covered[q])
            saving = values.path(
                lambda r, q=removed, w=rights: np.einsum("ij,ij->i", q, r.per_t) + w)
            v.margin_gain[:, k] = np.einsum("ij,ij->i", removed, values.now.base_per_t)
            v.quantities[k] = removed.sum(axis=1)
        elif k == AUTOMATION:
            replaced, v.capex[:, k], saving = inv.automation_quantities(
                f.employees, t.effect_share, unit_capex,
                spec.finance.wage_wan_yuan_per_person_year)
            v.margin_gain[:, k] = saving
            v.quantities[k] = replaced
        else:
            freed, v.capex[:, k] = inv.space_for_land_quantities(f.land_mu, t.effect_share,
                                                                 unit_capex)
            saving = values.path(lambda r, q=freed: q * r.land_per_mu)
            v.one_off[:, k] = freed * spec.finance.land_price_wan_yuan_per_mu * 1e4
            v.quantities[k] = freed
        v.eligible[:, k] = (~f.is_services & (v.quantities[k] > 0) & reviews
                            & ((f.invested >> k) & 1 == 0))
        v.subsidy[:, k] = v.capex[:, k] * per_class(option.subsidy_share_by_class.as_tuple(),
                                                    f.klass)
        v.npv[:, k] = inv.npv(v.capex[:, k] - v.subsidy[:, k], saving, rate=rate,
                              lead_time_months=t.lead_time_months,
                              lifetime_years=t.lifetime_years,
                              one_off_at_completion_yuan=v.one_off[:, k])
    return v


def _fund_grants(state: RunState, v: _Valuation, grant_pot: float) -> np.ndarray:
    """Retrofit grants from the recycling fund, per firm, yuan.

    They go to the retrofits that need them to pay, the most energy saved per
    yuan of grant first; the grant is added to the retrofit's subsidy and NPV.
    """
    n = state.firms.n
    if RETROFIT in v.tables and grant_pot > 0:
        cap = state.params.dynamics.recycling.max_subsidy_share_of_capex * v.capex[:, RETROFIT]
        npv = v.npv[:, RETROFIT]
        request = np.where(v.eligible[:, RETROFIT] & (npv <= 0) & (npv + cap > 0),
                           np.minimum(cap, -npv + 1.0), 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            priority = np.where(request > 0, v.quantities[RETROFIT] / request, 0.0)
        grant = inv.allocate_fund(request, priority, grant_pot)
    else:
        grant = np.zeros(n)
    v.subsidy[:, RETROFIT] += grant
    v.npv[:, RETROFIT] += grant
    return grant


def _take(state: RunState, v: _Valuation, grant: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Choose within each firm's budget, pay the net capex; return (chosen, subsidy paid)."""
    fin = state.params.dynamics.finance
    f = state.firms
    net_capex = v.capex - v.subsidy
    credit = per_class(fin.credit_limit_share_of_revenue_by_class.as_tuple(), f.klass,
                       unrated=fin.credit_limit_share_unrated) * f.revenue_wan_yuan
    budget = (f.cash_wan_yuan + credit) * 1e4
    chosen = inv.choose(v.npv, net_capex, budget, v.eligible)
    subsidy = np.where(chosen, v.subsidy, 0.0)  # class subsidies and grants of projects taken
    paid = np.where(chosen, net_capex, 0.0)
    f.cash_wan_yuan = f.cash_wan_yuan - paid.sum(axis=1) * 1e-4
    bits = (chosen * (1 << np.arange(v.m))).sum(axis=1).astype(np.int8)
    f.invested = f.invested | bits
    return chosen, subsidy


def _start_projects(state: RunState, v: _Valuation, chosen: np.ndarray) -> list[int]:
    """Put the chosen options under way; return the distinct months they complete in."""
    f = state.firms
    firm, option = np.nonzero(chosen)
    if not firm.size:
        return []

    def chosen_values(attr: str) -> np.ndarray:
        """Return the option table's ``attr`` of each chosen (firm, option)."""
        out = np.zeros(firm.size, dtype=getattr(v.tables[int(option[0])], attr).dtype)
        for k in np.unique(option):  # a chosen option always has its table
            sel = option == k
            out[sel] = getattr(v.tables[int(k)], attr)[firm[sel]]
        return out

    lead = chosen_values("lead_time_months")
    effect = chosen_values("effect_share")
    life = chosen_values("lifetime_years")
    revenue = np.maximum(f.revenue_wan_yuan[firm] * 1e4, 1e-9)
    due = state.period.months_done + lead.astype(np.int64)
    state.dynamics.projects.add(
        firm_id=f.firm_id[firm], option=option.astype(np.int8), due_month=due, effect=effect,
        margin_gain=v.margin_gain[firm, option] / revenue,
        one_off_wan_yuan=v.one_off[firm, option] * 1e-4,
        life_months=12 * life.astype(np.int64))
    return [int(month) for month in np.unique(due)]


def _record(state: RunState, year: int, chosen: np.ndarray, capex: np.ndarray,
            subsidy: np.ndarray) -> None:
    """Investments taken by option and class; capex, subsidies, completions, retirements."""
    f = state.firms
    dyn = state.dynamics
    add = state.recorder.add
    class_groups = [f"class={c}" for c in CLASS_LABELS]
    option_groups = [f"option={o}" for o in INVESTMENT_OPTIONS]
    for k, name in enumerate(INVESTMENT_OPTIONS):
        took = chosen[:, k]
        add(year, 0, ["all", *class_groups], f"investments_{name}",
            [float(took.sum()), *(float((took & (f.klass == c)).sum())
                                  for c in range(len(CLASS_LABELS)))])
        state.add_by_region(year, f"investments_{name}", f.region, took)
    add(year, 0, option_groups, "investment_capex_wan_yuan",
        list(np.where(chosen, capex, 0.0).sum(axis=0) * 1e-4))
    add(year, 0, option_groups, "investment_subsidy_wan_yuan",
        list(subsidy.sum(axis=0) * 1e-4))
    add(year, 0, option_groups, "investments_completed", list(dyn.completed.astype(float)))
    add(year, 0, option_groups, "investments_retired", list(dyn.retired.astype(float)))
    dyn.completed[:] = 0
    dyn.retired[:] = 0

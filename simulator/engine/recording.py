"""Stage: the outcome metrics of the month and of the year (the tidy recorder).

Groups are sums over firms by class, scale, sector and region, computed as
sparse membership products; ratios are ratios of group sums. Performance
totals and indicators are grouped by the class the year's evaluation gave,
bills by the class in force (the one firms were charged as). Every metric
name is in the catalogue (:data:`simulator.metrics.METRICS`).
"""

from __future__ import annotations

import numpy as np

from simulator import catalogue, tariffs
from simulator.engine import sector_prices
from simulator.engine.state import RunState
from simulator.evaluation import transition_counts
from simulator.evaluation.regions import UnitEvaluation, evaluate_units, park_units, unit_sums
from simulator.firms import CLASS_LABELS, UNRATED
from simulator.markets.cycle import ADMINISTRATIVE_SETTERS, PRICE_SETTERS, QuotaMarket
from simulator.markets.ledger import GOVERNMENT_SOURCES
from simulator.metrics import Grouping, GroupSet, ratio

__all__ = ["UNIT_METRICS", "annual", "markets", "monthly", "units"]

_Ratios = dict[str, tuple[np.ndarray, np.ndarray, float]]

#: Indicator -> the metric of a unit's value (regions and parks, evaluation.regions).
UNIT_METRICS: dict[str, str] = {
    "tax_per_mu": "unit_tax_per_mu_wan_yuan", "va_per_mu": "unit_va_per_mu_wan_yuan",
    "va_per_tce": "unit_va_per_tce_wan_yuan", "va_per_emission": "unit_va_per_t_emission_wan_yuan",
    "labour_productivity": "unit_labour_productivity_wan_yuan", "rd_share": "unit_rd_share"}


def monthly(state: RunState, year: int, month: int, factor: np.ndarray) -> None:
    """VA, electricity, energy and the mean output factor of the month, by class."""
    f = state.firms
    k = len(CLASS_LABELS)
    g = state.rates.monthly_groups
    va = state.buffers["va"]
    sums = {
        "va_wan_yuan": g @ va,
        "electricity_kwh": g @ (va * f.electricity_kwh_per_wan_yuan),
        "energy_tce": g @ (va * f.energy_tce_per_wan_yuan),
    }
    counts = g @ np.ones(f.n)
    names = [f"class={c}" for c in CLASS_LABELS]
    add = state.recorder.add
    for metric, by_class in sums.items():
        add(year, month, names, metric, by_class[:k])
        add(year, month, ["all"], metric, [by_class[:k].sum()])
    factor_sum = g @ factor
    add(year, month, names, "output_factor_mean", ratio(factor_sum[:k], counts[:k]))
    add(year, month, ["all"], "output_factor_mean",
        [factor_sum[:k].sum() / max(counts[:k].sum(), 1.0)])


def annual(state: RunState, year: int, new_class: np.ndarray, vetoed: np.ndarray) -> None:
    """Record the year's totals, indicators, bills, burdens and evaluation outcomes."""
    f = state.firms
    y = f.ytd
    add = state.recorder.add
    w = np.asarray(state.params.evaluation.emission_weights.values(
        state.params.pollutant_names()))
    va = y["va_wan_yuan"]
    resource = (y["electricity_bill_yuan"] + y["water_bill_yuan"] + y["land_tax_yuan"]
                + y["pollution_charge_yuan"])
    for tariff, _ in tariffs.active(state.params.tariffs):  # further linear tariffs
        resource = resource + y[tariff.ytd_keys[0]]
    # Performance: grouped by the class this year's evaluation gave.
    totals = {
        "va_wan_yuan": va, "revenue_wan_yuan": y["revenue_wan_yuan"],
        "tax_wan_yuan": y["tax_wan_yuan"], "land_mu": f.land_mu, "jobs": f.employees,
        "energy_tce": y["energy_tce"], "electricity_kwh": y["electricity_kwh"],
        "water_m3": y["water_m3"],
        **{f"emissions_{p}_t": y["emissions_t"][:, i]
           for i, p in enumerate(state.params.pollutant_names())},
        "firms": np.ones(f.n),
    }
    # Indicators: the catalogue's formulas, ratios of the group sums of these quantities.
    indicators = catalogue.ratio_terms("evaluated", {
        "tax_wan_yuan": y["tax_wan_yuan"], "va_wan_yuan": va, "land_mu": f.land_mu,
        "energy_tce": y["energy_tce"], "weighted_emissions_t": y["emissions_t"] @ w,
        "employees": f.employees, "rd_wan_yuan": y["rd_wan_yuan"],
        "revenue_wan_yuan": y["revenue_wan_yuan"]})
    _record(state, year, _groupings(state, new_class), totals, indicators)
    # Bills: grouped by the class in force (the one firms were charged as).
    bills, burden = _bills(state, resource)
    dims = ("all", "class", "scale", "sector") + (
        ("region",) if state.params.output.by_region else ())
    _record(state, year, _groupings(state, f.klass, dims=dims), bills, burden)
    # Services firms as one group.
    svc = Grouping(["kind=services"], np.zeros(f.n, dtype=np.intp), f.is_services)
    _record(state, year, [svc], {
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
    if state.params.evaluation.regions.enabled:
        units(state, year, new_class, indicators_of={
            "tax_wan_yuan": y["tax_wan_yuan"], "va_wan_yuan": va, "land_mu": f.land_mu,
            "energy_tce": y["energy_tce"], "weighted_emissions_t": y["emissions_t"] @ w,
            "employees": f.employees, "rd_wan_yuan": y["rd_wan_yuan"],
            "revenue_wan_yuan": y["revenue_wan_yuan"]})


def _bills(state: RunState, resource: np.ndarray) -> tuple[dict[str, np.ndarray], _Ratios]:
    """Return the year's bills (and differential revenue) and the cost burdens."""
    y = state.firms.ytd
    va = y["va_wan_yuan"]
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
    for tariff, _ in tariffs.active(state.params.tariffs):  # further linear tariffs
        total, surcharge = tariff.ytd_keys
        bills[total] = y[total]
        bills[f"revenue_{tariff.name}_class_surcharge_yuan"] = y[surcharge]
        bills["differential_revenue_yuan"] = bills["differential_revenue_yuan"] + y[surcharge]
    extra, revenue = sector_prices.annual_sums(state)  # issue 19: sector prices (when on)
    bills.update(extra)
    if revenue is not None:
        bills["differential_revenue_yuan"] = bills["differential_revenue_yuan"] + revenue
    charged = {"resource_bill_yuan": resource, "va_wan_yuan": va,
               "revenue_wan_yuan": y["revenue_wan_yuan"]}
    if state.markets:
        bills["quota_cost_yuan"] = charged["quota_cost_yuan"] = y["quota_cost_yuan"]
    return bills, catalogue.ratio_terms("charged", charged)


def markets(state: RunState, year: int) -> None:
    """Per-auction and annual outcomes of each quota market."""
    for quota, market in state.markets.items():
        group = [f"market={quota}"]
        if state.params.output.by_region:
            _market_by_region(state, year, quota, market)
        _auctions(state, year, group, market)
        _market_year(state, year, group, market)
        for source in GOVERNMENT_SOURCES:
            state.recorder.add(year, 0, group, f"gov_{source}_yuan",
                               [state.government_this_year[quota][source]])


def _auctions(state: RunState, year: int, group: list[str], market: QuotaMarket) -> None:
    """Each auction's outcome, and the year's count by price setter and mean price."""
    add = state.recorder.add
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


def _market_year(state: RunState, year: int, group: list[str], market: QuotaMarket) -> None:
    """Record the year's cap, use, compliance, reserve flows and where rights are."""
    add = state.recorder.add
    # Covered firms are among the compliance's participants; the others use nothing.
    done = market.compliance
    covered = market.members[done.index]
    n_covered = int(np.count_nonzero(covered))
    use = float(done.use.sum())
    add(year, 0, group, "quota_cap", [market.cap])
    add(year, 0, group, "quota_use", [use])
    add(year, 0, group, "quota_cap_slack", [1.0 - use / market.cap if market.cap else np.nan])
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
        if flow in market.kind.reported_reserve_flows:
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


def _groupings(state: RunState, klass: np.ndarray, *, dims: tuple[str, ...] = (
        "all", "class", "scale", "sector", "region")) -> list[Grouping]:
    """Return the groupings of industrial firms (sectors include services sectors)."""
    f = state.firms
    ind = ~f.is_services
    make = {
        "all": lambda: Grouping(["all"], np.zeros(f.n, dtype=np.intp), ind),
        "class": lambda: Grouping([f"class={c}" for c in CLASS_LABELS], klass, ind),
        "scale": lambda: Grouping(["scale=above", "scale=below"],
                                  np.where(f.above_scale, 0, 1), ind),
        "sector": lambda: Grouping([f"sector={s}" for s in state.sector_names], f.sector),
        "region": lambda: Grouping([f"region={r}" for r in state.region_names], f.region, ind),
    }
    return [make[d]() for d in dims]


def _record(state: RunState, year: int, groupings: list[Grouping], sums: dict[str, np.ndarray],
            ratios: _Ratios | None = None) -> None:
    """Record group sums, and group ratios ``scale * sum(num) / sum(den)``.

    Groupings are summed two at a time: a membership matrix of all of them
    at once would be the largest temporary of the annual close.
    """
    for i in range(0, len(groupings), 2):
        _record_set(state, year, GroupSet(groupings[i: i + 2]), sums, ratios or {})


def _record_set(state: RunState, year: int, groups: GroupSet, sums: dict[str, np.ndarray],
                ratios: _Ratios) -> None:
    add = state.recorder.add
    # Sum each distinct array once: ratios reuse the totals' arrays (VA, land, ...).
    columns: list[np.ndarray] = []
    slot: dict[int, int] = {}
    for array in [*sums.values(), *(a for num, den, _ in ratios.values() for a in (num, den))]:
        if id(array) not in slot:
            slot[id(array)] = len(columns)
            columns.append(array)
    for g, table in zip(groups.groupings, groups.sums(columns), strict=True):
        for metric, values in sums.items():
            add(year, 0, g.names, metric, table[:, slot[id(values)]])
        for metric, (num, den, scale) in ratios.items():
            add(year, 0, g.names, metric,
                ratio(scale * table[:, slot[id(num)]], table[:, slot[id(den)]]))


def units(state: RunState, year: int, new_class: np.ndarray, *,
          indicators_of: dict[str, np.ndarray]) -> None:
    """Evaluate regions and parks as units (分县域、分园区); record and keep the regions'.

    The regions' evaluation is kept in ``state.scratch["region_evaluation"]``, the
    parks' with their (region, park) keys in ``state.scratch["park_evaluation"]``,
    for the steering (:func:`~simulator.engine.state.steering_units`).
    """
    p = state.params
    spec = p.evaluation.regions
    f = state.firms
    industrial = ~f.is_services
    scope = (industrial & f.above_scale if spec.scope == "above_scale"
             else industrial & (new_class != UNRATED))
    cap = p.evaluation.indicator_cap
    names = state.region_names
    regions = evaluate_units(unit_sums(f.region, len(names), indicators_of, scope), spec, cap=cap)
    state.scratch["region_evaluation"] = regions
    _record_units(state, year, [f"region={r}" for r in names], regions)
    if spec.parks:
        codes, keys = park_units(f.region, f.park)
        parks = evaluate_units(unit_sums(codes, len(keys), indicators_of, scope), spec, cap=cap)
        state.scratch["park_evaluation"] = (parks, keys)
        _record_units(state, year, [f"park={names[r]}/{k}" for r, k in keys], parks)


def _record_units(state: RunState, year: int, groups: list[str],
                  result: UnitEvaluation) -> None:
    """Record each unit's score, rank, grade (0 A .. 3 D), firms and indicators."""
    add = state.recorder.add
    add(year, 0, groups, "unit_score", result.score)
    add(year, 0, groups, "unit_rank", result.rank.astype(float))
    add(year, 0, groups, "unit_grade",
        np.where(result.grade == UNRATED, np.nan, result.grade).astype(float))
    add(year, 0, groups, "unit_firms", result.sums["firms"])
    for name, values in result.indicators.items():
        add(year, 0, groups, UNIT_METRICS[name], values)


def _market_by_region(state: RunState, year: int, quota: str, market: QuotaMarket) -> None:
    """Record a market's allocation, use, holdings, shortfall and payments by region."""
    f = state.firms
    names = state.region_names
    done = market.compliance
    groups = [f"region={r},market={quota}" for r in names]
    per_firm = {
        "region_quota_allocated": market.allocation,
        "region_quota_use": done.per_firm(done.use),  # the covered firms' use
        "region_quota_held": done.per_firm(done.held),
        "region_quota_shortfall": done.per_firm(done.shortfall),
        "region_quota_net_paid_yuan": market.net_paid_this_year(),
        "region_quota_abatement_cost_yuan": market.abatement_cost_ytd,
    }
    for metric, values in per_firm.items():
        state.recorder.add(year, 0, groups, metric,
                           np.bincount(f.region, weights=np.asarray(values, dtype=float),
                                       minlength=len(names)))

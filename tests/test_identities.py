"""Every identity the README states for a run's outputs, recomputed from its files alone.

A small scenario with every market, enterprise dynamics and the recycling
fund (fed by all its sources) on is run through the public API
(:func:`simulator.run_scenario`, :func:`simulator.read_run`) in two variants:
``expiring`` (energy rights expire each year, emission-rights terms end in
2018 and 2020) and ``banking`` (energy banking, one emission term over the
whole run, so nothing expires; the energy reserve only buys, at a high floor,
so the markets' net auction revenue falls below 0); and ``every_mechanism`` runs
every further mechanism at once (regions and parks with steering, land
contracts and the land bank, dual control, exit routes, the evaluation's
further rules, sector and rationing prices, trading between regions). Each test reads
``metrics.parquet`` and ``firms.parquet`` only, never the engine's state.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator import apply_changes, load_scenario, read_run, run_scenario
from simulator.scenario import POLLUTANTS, Scenario

ROOT = Path(__file__).resolve().parents[1]
QUOTAS = ("energy", *POLLUTANTS)
CLASSES = ("A", "B", "C", "D", "U")
RTOL = 1e-9

FUND_SOURCES = ["electricity_surcharge", "water_surcharge", "pollution_surcharge",
                "quota_surcharge", "quota_penalty", "quota_auction"]
VARIANTS = {
    "expiring": {
        "dynamics.recycling.sources": FUND_SOURCES,
        "markets.energy.banking": False,
        **{f"markets.emissions.{p}.{key}": value for p in POLLUTANTS for key, value in
           (("banking", True), ("term_years", 2), ("term_first_year", 2017))},
    },
    "banking": {
        "dynamics.recycling.sources": FUND_SOURCES,
        "markets.energy.banking": True,
        "markets.energy.price.floor_yuan_per_unit": 1500.0,
        **{f"markets.energy.reserve.{key}": value for key, value in
           (("sells_unallocated", False), ("sells_at_ceiling", False), ("releases", []))},
        **{f"markets.emissions.{p}.{key}": value for p in POLLUTANTS for key, value in
           (("banking", True), ("term_years", 10), ("term_first_year", 2014))},
    },
    # Every mechanism issue 19 added, on together: the identities must hold with their flows.
    "every_mechanism": {
        "dynamics.recycling.sources": FUND_SOURCES,
        "population.regions": [{"name": "north", "share": 0.6, "parks": 2},
                               {"name": "south", "share": 0.4, "parks": 2}],
        "evaluation.regions.enabled": True,
        "evaluation.regions.steering.enabled": True,
        "output.by_region": True,
        "dynamics.contracts.enabled": True,
        "dynamics.contracts.banking.enabled": True,
        "dynamics.contracts.expansion.enabled": True,
        "dynamics.dual_control.mode": "price",
        "dynamics.exit.routes.enabled": True,
        "evaluation.project_protection.enabled": True,
        "evaluation.deductions.enabled": True,
        "evaluation.standards_review.enabled": True,
        "evaluation.unrated_as_b": True,
        "tariffs.gas.enabled": True,
        "tariffs.environmental_credit.enabled": True,
        "tariffs.water.rights.quota_factor_by_class": {"A": 1.0, "B": 1.0, "C": 0.9, "D": 0.8},
        "tariffs.orderly_power.enabled": True,
        "tariffs.orderly_power.years": [2018],
        "tariffs.orderly_power.months": [7, 8],
        "markets.energy.between_regions": "fee",
        "markets.energy.region_fee_yuan_per_unit": 100.0,
        "markets.emissions.cod.between_regions": "not_allowed",
    },
}


#: Differential revenue of the prices a scenario may switch on, with its sign.
FURTHER_REVENUE = (("revenue_gas_class_surcharge_yuan", 1.0),
                   ("revenue_environmental_credit_yuan", 1.0),
                   ("water_saving_relief_yuan", -1.0))


@dataclass(frozen=True)
class Run:
    """A finished run's scenario and output tables."""

    scenario: Scenario
    metrics: pd.DataFrame
    firms: pd.DataFrame

    def annual(self, metric: str) -> pd.DataFrame:
        """One annual metric: one row per year, one column per group."""
        m = self.metrics
        rows = m[(m["metric"] == metric) & m["month"].isna()]
        assert not rows.empty, f"no annual rows of {metric}"
        return rows.pivot(index="year", columns="group", values="value")

    def market(self, quota: str) -> pd.DataFrame:
        """A market's annual metrics: one row per year, one column per metric."""
        m = self.metrics
        rows = m[(m["group"] == f"market={quota}") & m["month"].isna()]
        return rows.pivot(index="year", columns="metric", values="value")

    def auctions(self, quota: str) -> pd.DataFrame:
        """A market's auction rows: one row per (year, month), one column per metric."""
        m = self.metrics
        rows = m[(m["group"] == f"market={quota}") & m["month"].notna()]
        return rows.pivot(index=["year", "month"], columns="metric", values="value")

    def firm_sums(self, column: str, where: pd.Series | None = None) -> pd.Series:
        """A firms.parquet column summed by year (over the firms ``where``)."""
        f = self.firms if where is None else self.firms[where]
        return f.groupby("year")[column].sum().reindex(self.years, fill_value=0.0)

    @property
    def years(self) -> pd.Index:
        """The run's years."""
        return pd.Index(range(self.scenario.run.first_year,
                              self.scenario.run.first_year + self.scenario.run.n_years),
                        name="year")


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def run(request, tmp_path_factory) -> Run:
    scenario = apply_changes(load_scenario(ROOT / "tests" / "scenarios" / "small.yaml"),
                             {"name": f"identities-{request.param}", **VARIANTS[request.param]})
    out = run_scenario(scenario, out=tmp_path_factory.mktemp(request.param), figures=False)
    _, metrics = read_run(out)
    return Run(scenario=scenario, metrics=metrics,
               firms=pd.read_parquet(out / "firms.parquet"))


def close(actual, expected, *, scale=None, rtol: float = RTOL, equal_nan: bool = False,
          msg: str = "") -> None:
    """Assert ``actual == expected`` within ``rtol`` of the largest ``scale`` (|expected|, >= 1).

    A missing value (NaN) fails unless ``equal_nan`` (a metric that is NaN by definition).
    """
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    scale = np.abs(expected) if scale is None else np.asarray(scale, dtype=float)
    np.testing.assert_allclose(actual, expected, rtol=0,
                               atol=rtol * max(1.0, float(np.nanmax(scale, initial=0.0))),
                               equal_nan=equal_nan, err_msg=msg)


# ------------------------------------------------------------------ quota rights


def test_every_right_issued_is_held_surrendered_or_expired(run):
    # Summed over the years, issued = firms' holdings + the reserve's at the year end
    # + surrendered + expired, per market and year.
    for quota in QUOTAS:
        t = run.market(quota)
        issued = t["quota_issued"].cumsum()
        accounted = (t["quota_held_year_end"] + t["reserve_held_year_end"]
                     + t["quota_surrendered"].cumsum() + t["quota_expired"].cumsum())
        close(accounted.reindex(run.years), issued.reindex(run.years), msg=quota)
        assert (t[["quota_issued", "quota_surrendered", "quota_expired", "quota_held_year_end",
                   "reserve_held_year_end"]] >= -RTOL * issued.max()).all().all(), quota


def test_holdings_change_by_the_years_flows(run):
    # Stock this year = stock last year + issued - surrendered - expired (exiting firms'
    # rights move from the firms to the reserve, which leaves the sum unchanged).
    for quota in QUOTAS:
        t = run.market(quota)
        held = t["quota_held_year_end"] + t["reserve_held_year_end"]
        expected = held.shift(1, fill_value=0.0) + t["quota_issued"] - t["quota_surrendered"] \
            - t["quota_expired"]
        close(held, expected, scale=t["quota_issued"].cumsum(), msg=quota)


def test_rights_issued_are_the_cap_and_the_rights_banked_before_the_run(run):
    first = run.scenario.run.first_year
    for quota in QUOTAS:
        t = run.market(quota)
        assert t["initial_banked_rights"].dropna().index.tolist() == [first], quota
        banked = t["initial_banked_rights"].fillna(0.0)
        close(t["quota_issued"], t["quota_cap"] + banked, msg=quota)


def test_rights_expire_without_banking_and_at_the_end_of_a_term(run):
    # Expiry takes every right left, the firms' and the reserve's; otherwise nothing expires
    # and the reserve keeps what it held after compliance.
    s = run.scenario
    for quota in QUOTAS:
        spec = s.markets.of(quota)
        t = run.market(quota)
        ends = pd.Series([not spec.banking or (quota != "energy"
                                               and spec.term_ends(y, s.run.first_year))
                          for y in t.index], index=t.index)
        scale = t["quota_issued"].cumsum()
        close(t.loc[ends, "quota_held_year_end"], 0.0, scale=scale, msg=quota)
        close(t.loc[ends, "reserve_held_year_end"], 0.0, scale=scale, msg=quota)
        assert (t.loc[ends, "quota_expired"] > 0).all(), quota
        close(t.loc[~ends, "quota_expired"], 0.0, scale=scale, msg=quota)
        close(t.loc[~ends, "reserve_held_year_end"], t.loc[~ends, "reserve_held"], msg=quota)
        # What the reserve held after compliance is part of what expired.
        assert (t.loc[ends, "quota_expired"] >= t.loc[ends, "reserve_held"]
                - RTOL * scale[ends]).all(), quota
        # The variants take both branches: expiry in every market (energy each year,
        # emissions at their term ends), or none at all (the banking variant).
        assert ends.any() == (not run.scenario.name.endswith("banking")), quota


def test_covered_firms_surrender_what_they_hold_up_to_their_use(run):
    # README: a covered firm surrenders min(use, held); its shortfall is max(use - held, 0).
    f = run.firms
    for quota in QUOTAS:
        t = run.market(quota)
        covered = f[f"{quota}_covered"].astype(bool)
        use, held = f[f"{quota}_use"], f[f"{quota}_held"]
        short = f[f"{quota}_shortfall"]
        close(short[covered], np.maximum(use - held, 0.0)[covered], scale=use, msg=quota)
        assert (short[~covered] == 0).all(), quota
        given = np.minimum(use, held).where(covered, 0.0)
        close(t["quota_surrendered"], given.groupby(f["year"]).sum().reindex(t.index),
              msg=quota)
        close(t["quota_surrendered"], t["quota_use"] - t["quota_shortfall"], msg=quota)
        close(t["quota_use"], run.firm_sums(f"{quota}_use", covered), msg=quota)
        close(t["quota_shortfall"], run.firm_sums(f"{quota}_shortfall"), msg=quota)
        close(t["quota_allocated"], run.firm_sums(f"{quota}_allocated"), msg=quota)
        assert (t["quota_surrendered"] > 0).all(), quota


def test_money_paid_by_firms_is_received_by_firms_and_the_government(run):
    # Per market and year: firms' net payments = the government's net receipts by source.
    sources = ("paid_use", "subscription", "auction", "lease", "surcharge", "penalty",
               "compensation", "fee")
    for quota in QUOTAS:
        t = run.market(quota)
        government = t[[f"gov_{s}_yuan" for s in sources]].sum(axis=1)
        close(run.firm_sums(f"{quota}_net_paid_yuan"), government,
              scale=t[[f"gov_{s}_yuan" for s in sources]].abs().sum(axis=1), msg=quota)
        assert (government != 0).all(), quota


def test_auction_revenue_is_the_reserves_net_sales_at_the_clearing_prices(run):
    for quota in QUOTAS:
        if run.scenario.markets.of(quota).between_regions != "allowed":
            # Regions clearing apart sell the reserve's rights at their own prices (the
            # county price is their volume-weighted mean): tests/test_region_trading.py
            # checks that market's money region by region.
            continue
        a = run.auctions(quota)
        net = (a["reserve_sold"] - a["reserve_bought"]) * a["quota_price_yuan_per_unit"]
        revenue = net.fillna(0.0).groupby(level="year").sum()
        gov = run.market(quota)["gov_auction_yuan"]
        close(gov, revenue.reindex(gov.index, fill_value=0.0), msg=quota)
        assert (a["quota_volume"] > 0).any(), quota


def test_quota_cost_is_net_payments_plus_abatement_cost(run):
    # Of industrial firms (group all); services firms may be covered too.
    industrial = run.firms["scale"] != "services"
    cost = sum(run.firm_sums(f"{q}_net_paid_yuan", industrial)
               + run.firm_sums(f"{q}_abatement_cost_yuan", industrial) for q in QUOTAS)
    close(run.annual("quota_cost_yuan")["all"], cost)


def test_auction_counts_prices_cap_slack_and_abatement(run):
    setters = ("market", "floor", "ceiling", "reserve", "penalty")
    for quota in QUOTAS:
        t = run.market(quota)
        a = run.auctions(quota)
        by = t[[f"auctions_priced_by_{s}" for s in setters]]
        np.testing.assert_array_equal(t["auctions_cleared"], by.sum(axis=1), err_msg=quota)
        counts = a["quota_price_setter"].groupby(level="year").value_counts().unstack(
            fill_value=0).reindex(index=t.index, columns=range(len(setters)), fill_value=0)
        np.testing.assert_array_equal(counts.to_numpy(), by.to_numpy(), err_msg=quota)
        np.testing.assert_array_equal(
            t["auctions_cleared"], (a["quota_volume"] > 0).groupby(level="year").sum(),
            err_msg=quota)
        admin = by[[f"auctions_priced_by_{s}" for s in ("floor", "ceiling", "reserve")]]
        close(t["auctions_administrative_share"],
              admin.sum(axis=1) / t["auctions_cleared"].where(t["auctions_cleared"] > 0),
              equal_nan=True, msg=quota)
        traded = a[a["quota_volume"] > 0]
        weighted = (traded["quota_price_yuan_per_unit"] * traded["quota_volume"]).groupby(
            level="year").sum() / traded["quota_volume"].groupby(level="year").sum()
        close(t["quota_price_mean_yuan_per_unit"], weighted.reindex(t.index), equal_nan=True,
              msg=quota)
        close(t["quota_cap_slack"], 1.0 - t["quota_use"] / t["quota_cap"], msg=quota)
        close(t["quota_abatement"], t["quota_unabated_use"] - t["quota_use"],
              scale=t["quota_unabated_use"], msg=quota)


# ------------------------------------------------------------------------ fund


def test_fund_balance_carries_over(run):
    # balance = last year's balance + inflow - awards - grants; so summed over the years,
    # inflow = awards + grants + balance (the first year alone: inflow = awards + grants
    # + balance).
    inflow = run.annual("fund_inflow_yuan")["all"]
    awards = run.annual("fund_a_award_yuan")["all"]
    grants = run.annual("fund_retrofit_subsidy_yuan")["all"]
    balance = run.annual("fund_balance_yuan")["all"]
    close(balance, balance.shift(1, fill_value=0.0) + inflow - awards - grants,
          scale=inflow.cumsum())
    close(inflow.cumsum(), (awards + grants).cumsum() + balance)
    assert (inflow > 0).all()
    assert (balance.iloc[1:] > 0).any()  # the balance carries over, or the check is idle


def test_fund_inflow_is_the_share_of_its_sources_counting_a_negative_one_as_zero(run):
    spec = run.scenario.dynamics.recycling
    markets = [run.market(q) for q in QUOTAS]
    sources = {
        # class surcharges of all firms, services included (the sector groups' sum)
        "electricity_surcharge": run.annual("revenue_electricity_class_surcharge_yuan"),
        "water_surcharge": run.annual("revenue_water_surcharge_yuan"),
        "pollution_surcharge": run.annual("revenue_pollution_surcharge_yuan"),
        # quota receipts summed over the markets
        "quota_surcharge": sum(t["gov_surcharge_yuan"] for t in markets),
        "quota_penalty": sum(t["gov_penalty_yuan"] for t in markets),
        "quota_auction": sum(t["gov_auction_yuan"] for t in markets),
    }
    for key in ("electricity_surcharge", "water_surcharge", "pollution_surcharge"):
        table = sources[key]
        sources[key] = table[[g for g in table.columns if g.startswith("sector=")]].sum(axis=1)
        close(sources[key], run.firm_sums(f"{key}_yuan"), msg=key)  # firms.parquet's column
    if run.scenario.name.endswith("banking"):  # the reserve bought more than it sold
        assert (sources["quota_auction"] < 0).any()
    expected = spec.share_of_revenue * sum(np.maximum(sources[s], 0.0) for s in spec.sources)
    close(run.annual("fund_inflow_yuan")["all"], expected)


def test_a_awards_spend_the_award_share_when_an_a_firm_stays(run):
    spec = run.scenario.dynamics.recycling
    inflow = run.annual("fund_inflow_yuan")["all"]
    awards = run.annual("fund_a_award_yuan")["all"]
    # Exits are grouped by the class the year's evaluation gave, as awards are paid.
    a_firms = (run.firms["class"] == "A").groupby(run.firms["year"]).sum()
    staying = a_firms - run.annual("exits")["class=A"]
    close(awards, np.where(staying > 0, (1.0 - spec.retrofit_subsidy_share) * inflow, 0.0),
          scale=inflow)
    assert (staying > 0).any()


# ---------------------------------------------------------- groups and totals


TOTALS = ("firms", "va_wan_yuan", "revenue_wan_yuan", "tax_wan_yuan", "land_mu", "jobs",
          "energy_tce", "electricity_kwh", "water_m3",
          *(f"emissions_{p}_t" for p in POLLUTANTS))
BILLS = ("electricity_bill_yuan", "water_bill_yuan", "land_tax_yuan", "pollution_charge_yuan",
         "subsidy_yuan", "resource_bill_yuan", "revenue_electricity_class_surcharge_yuan",
         "revenue_electricity_national_tiered_yuan", "revenue_water_surcharge_yuan",
         "revenue_pollution_surcharge_yuan", "land_tax_relief_yuan", "subsidy_withheld_yuan",
         "differential_revenue_yuan", "quota_cost_yuan")


def test_classes_scales_and_regions_partition_the_industrial_firms(run):
    # Group all = class=A..D + class=U = scale=above + scale=below = the regions' sum, for
    # every total (by the evaluated class) and every bill (by the class in force); the
    # sectors also hold the services firms (kind=services).
    for metric in (*TOTALS, *BILLS):
        t = run.annual(metric)
        for prefix in ("class=", "scale=", "region="):
            parts = [g for g in t.columns if g.startswith(prefix)]
            if prefix == "class=":
                assert parts == [f"class={c}" for c in CLASSES], metric
            if parts:
                close(t[parts].sum(axis=1), t["all"], msg=f"{metric} {prefix}")
    firms = run.annual("firms")
    sectors = firms[[g for g in firms.columns if g.startswith("sector=")]].sum(axis=1)
    close(sectors, firms["all"] + firms["kind=services"])
    industrial = run.firms["scale"] != "services"
    counts = run.firms[industrial].groupby(["year", "class"], observed=False).size().unstack()
    np.testing.assert_array_equal(firms[[f"class={c}" for c in CLASSES]].to_numpy(),
                                  counts[list(CLASSES)].to_numpy())


def test_class_shares_and_transitions_count_every_evaluated_firm(run):
    # class_share: of evaluated firms, industrial and services; transitions: all firms,
    # from the class in force to the class evaluated.
    f = run.firms
    share = run.annual("class_share")
    evaluated = f[f["class"] != "U"]
    counts = evaluated.groupby(["year", "class"], observed=False).size().unstack()[
        list(CLASSES[:4])]
    close(share[[f"class={c}" for c in CLASSES[:4]]],
          counts.div(counts.sum(axis=1), axis=0))
    close(share.sum(axis=1), 1.0)
    moves = run.annual("class_transition_firms")
    for c in CLASSES:
        out = moves[[f"{c}->{d}" for d in CLASSES]].sum(axis=1)
        into = moves[[f"{b}->{c}" for b in CLASSES]].sum(axis=1)
        np.testing.assert_array_equal(out, (f["class_in_force"] == c).groupby(f["year"]).sum())
        np.testing.assert_array_equal(into, (f["class"] == c).groupby(f["year"]).sum())
    firms = run.annual("firms")
    np.testing.assert_array_equal(moves.sum(axis=1), firms["all"] + firms["kind=services"])


def test_bills_and_differential_revenue_add_up(run):
    # resource bill = electricity + water + land tax + pollution; differential revenue =
    # class and national electricity surcharges + water and pollution surcharges - land-tax
    # relief; in every group (the resource bill also has kind=services).
    groups = run.annual("electricity_bill_yuan").columns
    t = {m: run.annual(m)[groups] for m in BILLS}
    gas = (run.annual("gas_bill_yuan")[groups] if (run.metrics["metric"] == "gas_bill_yuan").any()
           else 0.0)  # a further linear tariff, when on
    close(t["resource_bill_yuan"], t["electricity_bill_yuan"] + t["water_bill_yuan"]
          + t["land_tax_yuan"] + t["pollution_charge_yuan"] + gas)
    # With further prices on: + the gas class surcharge and the environmental-credit
    # surcharges, - the water-saving relief.
    further = sum((sign * run.annual(m)[groups] for m, sign in FURTHER_REVENUE
                   if (run.metrics["metric"] == m).any()), start=0.0)
    close(t["differential_revenue_yuan"],
          t["revenue_electricity_class_surcharge_yuan"]
          + t["revenue_electricity_national_tiered_yuan"] + t["revenue_water_surcharge_yuan"]
          + t["revenue_pollution_surcharge_yuan"] - t["land_tax_relief_yuan"] + further,
          scale=t["resource_bill_yuan"])
    f = run.firms
    industrial = f["scale"] != "services"
    for metric, column in (("electricity_bill_yuan", "electricity_bill_yuan"),
                           ("revenue_electricity_class_surcharge_yuan",
                            "electricity_surcharge_yuan"),
                           ("land_tax_relief_yuan", "land_tax_relief_yuan"),
                           ("subsidy_yuan", "subsidy_yuan")):
        close(t[metric]["all"], run.firm_sums(column, industrial), msg=metric)


def test_ratios_are_ratios_of_the_groups_sums(run):
    # Indicators of a group are the ratio of its sums. Bills per VA use the class in force,
    # totals the evaluated class: compare them where the groups hold the same firms.
    num = {m: run.annual(m) for m in (*TOTALS, "resource_bill_yuan", "quota_cost_yuan")}
    ratios = {
        "tax_per_mu_wan_yuan": ("tax_wan_yuan", "land_mu", 1.0),
        "va_per_mu_wan_yuan": ("va_wan_yuan", "land_mu", 1.0),
        "va_per_tce_wan_yuan": ("va_wan_yuan", "energy_tce", 1.0),
        "labour_productivity_wan_yuan": ("va_wan_yuan", "jobs", 1.0),
        "energy_intensity_tce_per_wan_yuan": ("energy_tce", "va_wan_yuan", 1.0),
        "resource_bill_yuan_per_wan_yuan_va": ("resource_bill_yuan", "va_wan_yuan", 1.0),
        "resource_bill_share_of_revenue": ("resource_bill_yuan", "revenue_wan_yuan", 1e-4),
        "quota_cost_yuan_per_wan_yuan_va": ("quota_cost_yuan", "va_wan_yuan", 1.0),
    }
    for metric, (top, bottom, scale) in ratios.items():
        t = run.annual(metric)
        groups = [g for g in t.columns if g == "all" or g.startswith(("scale=", "sector="))]
        if metric.startswith(("tax_", "va_", "labour", "energy_")):
            groups += [g for g in t.columns if g.startswith(("class=", "region="))]
        groups = [g for g in groups if num[bottom][g].gt(0).all()]
        assert "all" in groups, metric
        close(t[groups], scale * num[top][groups] / num[bottom][groups], msg=metric)


# ---------------------------------------------------------------------- dynamics


def test_exits_and_entry_candidates_are_counted_once(run):
    exits = run.annual("exits")
    # Every reason: losses, d_grace, forced; with land contracts also agreement, land_bank.
    reasons = [g for g in exits.columns if g.startswith("reason=")]
    assert {"reason=losses", "reason=d_grace", "reason=forced"} <= set(reasons)
    close(exits[reasons].sum(axis=1), exits["all"])
    close(exits[[f"class={c}" for c in CLASSES]].sum(axis=1), exits["all"])
    assert (exits["all"] > 0).any()
    assert (run.annual("zombie_firms_handled")["all"]
            <= run.annual("zombie_firms")["all"]).all()
    parts = sum(run.annual(m)["all"] for m in ("entry_rejected_standards",
                                               "entry_rejected_land", "entries"))
    close(parts, run.annual("entry_candidates")["all"])


def test_land_is_occupied_idle_or_available(run):
    # Per region: occupied + idle + available = the initial land + all new land released.
    # With land contracts the land bank is a fourth stock.
    kinds = ("occupied", "idle", "available",
             *(["banked"] if (run.metrics["metric"] == "land_banked_mu").any() else []))
    stocks = sum(run.annual(f"land_{k}_mu") for k in kinds)
    initial = stocks - run.annual("land_new_mu").cumsum()
    close(initial, initial.iloc[[0]].to_numpy().repeat(len(initial), axis=0),
          scale=stocks.to_numpy())
    regions = [g for g in stocks.columns if g.startswith("region=")]
    close(stocks[regions].sum(axis=1), stocks["all"])

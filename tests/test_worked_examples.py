"""The worked examples of docs/architecture.md: what was added, and that it works.

1. **A new tariff: gas differentiated by class** (差别化气价). Files touched: the tariff
   module ``simulator/tariffs/gas.py`` (its bill, its quantity per tce, its
   registration), its parameters ``GasTariff`` in ``simulator/scenario/tariffs.py``,
   its entries in ``simulator/catalogue/entries.yaml`` and their labels in
   ``simulator/catalogue/locales/en.yaml`` and ``zh.yaml``, and this test: six files.
   The billing, unit cost, metrics and snapshots come from the registry of linear
   tariffs (``simulator/tariffs/linear.py``), written once for every such tariff.
2. **A new quota: VOCs emission rights** (挥发性有机物排污权). Files touched: the scenario
   ``scenarios/vocs_rights.yaml`` (the pollutant, its values per sector, its pollution
   equivalent, its market) and this test: two files, no code. The market is an
   emission-rights kind (``simulator/markets/kinds.py``) like the other four; the
   catalogue names its outputs by the pollutant families ``<pollutant>_t`` and
   ``emissions_<pollutant>_t``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from simulator import apply_changes, catalogue, load_scenario, simulate
from simulator.scenario import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
GAS = {"tariffs.gas.enabled": True,
       "tariffs.gas.share_of_fuel": {"metals": 0.5},          # a sector of its own
       "tariffs.gas.class_surcharge_yuan_per_m3": {"C": 0.4, "D": 1.0}}


@pytest.fixture(scope="module")
def small():
    return load_scenario(ROOT / "tests" / "scenarios" / "small.yaml")


def run(scenario):
    snapshots: list[pa.Table] = []
    result = simulate(scenario, on_snapshot=snapshots.append)
    return result, pa.concat_tables(snapshots).to_pandas()


@pytest.fixture(scope="module")
def with_gas(small):
    return run(apply_changes(small, GAS))


def annual(metrics: pd.DataFrame, metric: str, group: str = "all") -> pd.Series:
    rows = metrics[(metrics["metric"] == metric) & metrics["month"].isna()
                   & (metrics["group"] == group)]
    return rows.set_index("year")["value"]


def test_gas_bill_is_the_gas_share_of_fuel_at_the_class_price(with_gas, small):
    # m^3 = energy (tce, abatement included) x non-electric share x the sector's gas share
    #       x 1000 / 1.2143 kgce per m^3; bill = m^3 x (3.6 + class surcharge).
    result, firms = with_gas
    spec = apply_changes(small, GAS).tariffs.gas
    final = result.firms
    share_by_id = dict(zip(final.firm_id.tolist(), final.electricity_share.tolist(),
                           strict=True))
    last = firms[(firms["year"] == firms["year"].max())
                 & firms["firm_id"].isin(final.firm_id)]  # those that did not exit after it
    electric = last["firm_id"].map(share_by_id).to_numpy()
    gas_share = np.where(last["sector"].astype(str) == "metals", 0.5, 0.3)
    m3 = last["energy_tce"].to_numpy() * (1.0 - electric) * gas_share * 1000.0 / 1.2143
    surcharge = last["class_in_force"].astype(str).map(
        {"A": 0.0, "B": 0.0, "C": 0.4, "D": 1.0, "U": 0.0}).to_numpy()
    np.testing.assert_allclose(last["gas_surcharge_yuan"], m3 * surcharge, rtol=1e-9)
    np.testing.assert_allclose(last["gas_bill_yuan"], m3 * (spec.price_yuan_per_m3 + surcharge),
                               rtol=1e-9)
    assert (last["gas_surcharge_yuan"][last["class_in_force"] == "D"] > 0).all()


def test_gas_metrics_add_up_and_enter_the_resource_bill_and_differential_revenue(with_gas):
    result, firms = with_gas
    m = result.metrics
    for year, rows in firms.groupby("year"):
        industrial = rows[rows["scale"] != "services"]
        assert annual(m, "gas_bill_yuan")[year] == pytest.approx(industrial["gas_bill_yuan"].sum())
        assert annual(m, "revenue_gas_class_surcharge_yuan")[year] == pytest.approx(
            industrial["gas_surcharge_yuan"].sum())
        resource = industrial[["electricity_bill_yuan", "water_bill_yuan", "land_tax_yuan",
                               "pollution_charge_yuan", "gas_bill_yuan"]].sum().sum()
        assert annual(m, "resource_bill_yuan")[year] == pytest.approx(resource)
    revenue = sum(annual(m, name) for name in (
        "revenue_electricity_class_surcharge_yuan", "revenue_electricity_national_tiered_yuan",
        "revenue_water_surcharge_yuan", "revenue_pollution_surcharge_yuan",
        "revenue_gas_class_surcharge_yuan")) - annual(m, "land_tax_relief_yuan")
    pd.testing.assert_series_equal(annual(m, "differential_revenue_yuan"), revenue,
                                   check_names=False)


def test_every_catalogue_entry_of_the_gas_tariff_is_written(with_gas):
    result, firms = with_gas
    gas = [e for e in catalogue.entries() if e.when == "tariffs.gas.enabled"]
    assert {e.name for e in gas} == {"gas_bill_yuan", "gas_surcharge_yuan",
                                     "revenue_gas_class_surcharge_yuan"}
    for e in gas:
        if e.is_metric:
            assert e.name in set(result.metrics["metric"]), e.name
        if e.column:
            assert e.column in firms.columns, e.name


def test_the_surcharge_is_a_cost_d_firms_output_responds_to(with_gas, small):
    # Same seed, common random numbers: D firms make less with a gas surcharge to pay.
    result_off, _ = run(small)
    va_on = annual(with_gas[0].metrics, "va_wan_yuan", "class=D")
    va_off = annual(result_off.metrics, "va_wan_yuan", "class=D")
    first = va_on.index.min()
    assert va_on[first] < va_off[first]
    assert "gas_bill_yuan" not in set(result_off.metrics["metric"])  # off by default


def test_an_unknown_sector_in_the_gas_shares_is_named(small, tmp_path):
    path = tmp_path / "gas.yaml"
    path.write_text(f"extends: {ROOT / 'tests' / 'scenarios' / 'small.yaml'}\n"
                    "tariffs:\n  gas:\n    enabled: true\n    share_of_fuel: {metal: 0.5}\n",
                    encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"unknown sector 'metal' \(did you mean 'metals'"):
        load_scenario(path)


# ------------------------------------------------------------- VOCs emission rights


@pytest.fixture(scope="module")
def vocs(small):
    base = load_scenario(ROOT / "scenarios" / "vocs_rights.yaml")
    # The small population and run of tests/scenarios/small.yaml, VOCs as the file has them.
    scenario = apply_changes(base, {"population.n_industrial": small.population.n_industrial,
                                    "population.n_services": small.population.n_services,
                                    "run.end": small.run.end})
    return scenario, *run(scenario)


def test_vocs_is_a_fifth_pollutant_with_its_own_market(vocs):
    scenario, result, firms = vocs
    assert scenario.pollutant_names() == ("cod", "nh3n", "so2", "nox", "vocs")
    assert set(result.ledgers) == {"energy", "cod", "nh3n", "so2", "nox", "vocs"}
    result.ledgers["vocs"].check()  # every right issued is held, surrendered or expired
    m = result.metrics
    market = m[m["group"] == "market=vocs"]
    assert {"quota_cap", "quota_price_yuan_per_unit", "gov_paid_use_yuan"} <= set(market["metric"])
    assert annual(m, "quota_cap", "market=vocs").gt(0).all()
    # every VOCs right issued is held by firms or the reserve, surrendered or expired
    t = market[market["month"].isna()].pivot_table(index="year", columns="metric", values="value")
    issued = t["quota_issued"].cumsum()
    accounted = (t["quota_surrendered"].cumsum() + t["quota_expired"].cumsum()
                 + t["quota_held_year_end"] + t["reserve_held_year_end"])
    np.testing.assert_allclose(issued, accounted, rtol=1e-9)


def test_vocs_emissions_are_recorded_and_summed_from_the_firms(vocs):
    scenario, result, firms = vocs
    assert {"vocs_t", "vocs_allocated", "vocs_held"} <= set(firms.columns)
    recorded = annual(result.metrics, "emissions_vocs_t")
    for year, rows in firms.groupby("year"):
        industrial = rows[rows["scale"] != "services"]
        assert recorded[year] == pytest.approx(industrial["vocs_t"].sum())
    chemicals = firms[firms["sector"].astype(str) == "chemicals"]["vocs_t"].sum()
    cement = firms[firms["sector"].astype(str) == "cement"]["vocs_t"].sum()
    assert chemicals > cement > 0  # the file's sector intensities: 1.2e-2 and 2.0e-4 t per 万元


def test_vocs_is_charged_at_the_air_rate_per_equivalent(vocs, small):
    # 1 t of VOCs = 1000 / 0.95 equivalents at 1.2 yuan (air): 1,263.16 yuan, x2 for D firms.
    from simulator.tariffs import pollution_charge

    scenario = vocs[0]
    one_tonne = np.array([[0.0, 0.0, 0.0, 0.0, 1.0]])
    bill = pollution_charge(one_tonne, klass=[3], params=scenario.tariffs.pollution,
                            pollutants=scenario.pollutant_specs())
    assert float(bill.base_yuan[0]) == pytest.approx(1000 / 0.95 * 1.2)
    assert float(bill.total_yuan[0]) == pytest.approx(2 * 1000 / 0.95 * 1.2)


def test_a_further_pollutant_must_be_declared_and_have_an_equivalent(tmp_path):
    path = tmp_path / "pm.yaml"
    path.write_text(f"extends: {ROOT / 'tests' / 'scenarios' / 'small.yaml'}\n"
                    "population:\n  sectors:\n    metals:\n"
                    "      emissions_t_per_wan_yuan_va: {pm25: 1.0e-4}\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"unknown pollutant 'pm25'.*declare a further one"):
        load_scenario(path)
    path.write_text(f"extends: {ROOT / 'tests' / 'scenarios' / 'small.yaml'}\n"
                    "pollutants:\n  pm25: {medium: air, label: PM2.5, label_zh: 细颗粒物}\n",
                    encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"equivalent_kg.pm25.*pollution equivalent"):
        load_scenario(path)

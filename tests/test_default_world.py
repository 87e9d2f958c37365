"""The default world (scenarios/baseline.yaml): growth, binding markets, prices, compliance.

One run of the embedded default scenario, checked against what issue 15 asks of it and
against the sources its values come from (data/observed/zhejiang.csv).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator import load_scenario, simulate
from simulator.reporting.diagnostics import market_warnings

ROOT = Path(__file__).resolve().parents[1]
#: Secondary prices of February 2022, yuan per t (Zhejiang index report; parameters.md).
CITED_2022 = {"cod": 9772, "nh3n": 36350, "so2": 2518, "nox": 3118}


@pytest.fixture(scope="module")
def run():
    return simulate(load_scenario(ROOT / "scenarios" / "baseline.yaml")).metrics


def _markets(metrics: pd.DataFrame) -> dict[str, pd.DataFrame]:
    annual = metrics[metrics["month"].isna() & metrics["group"].str.startswith("market=")]
    return {g.split("=")[1]: rows.pivot_table(index="year", columns="metric", values="value")
            for g, rows in annual.groupby("group")}


def _all(metrics, metric):
    rows = metrics[metrics["month"].isna() & (metrics["metric"] == metric)
                   & (metrics["group"] == "all")]
    return rows.set_index("year")["value"]


def test_output_grows_at_the_provinces_rates(run):
    # VA of incumbents grows at the sourced rates (2019 +6.6%, 2021 +12.9%); with exits,
    # entry and prices the county's total stays within 3 points of them.
    va = _all(run, "va_wan_yuan")
    growth = va.pct_change()
    assert growth[2019] == pytest.approx(0.066, abs=0.03)
    assert growth[2021] == pytest.approx(0.129, abs=0.03)
    assert va[2030] / va[2017] > 2.0
    energy = _all(run, "energy_tce")
    assert energy[2023] > energy[2017]  # energy use rises, as the province's did


def test_every_market_binds_in_part_of_the_horizon(run):
    for quota, x in _markets(run).items():
        binds = x["quota_unabated_use"] > x["quota_cap"]
        assert binds.any(), quota


def test_2022_prices_are_within_a_factor_of_two_of_the_cited_prices(run):
    markets = _markets(run)
    for quota, cited in CITED_2022.items():
        price = markets[quota].loc[2022, "quota_price_mean_yuan_per_unit"]
        assert cited / 2 <= price <= cited * 2, (quota, price)


def test_firms_set_most_prices_where_the_caps_bind(run):
    # In every market fewer than a quarter of the auctions that traded were priced by the
    # floor, the ceiling or a reserve price, so the run warns about none of them.
    markets = _markets(run)
    shares = {}
    for quota, x in markets.items():
        admin = (x["auctions_administrative_share"].fillna(0) * x["auctions_cleared"]).sum()
        shares[quota] = admin / x["auctions_cleared"].sum()
    assert set(shares) == {"energy", "cod", "nh3n", "so2", "nox"}
    for quota, share in shares.items():
        assert share < 0.25, (quota, share)
    assert market_warnings(run) == []


def test_penalty_surcharge_subscription_and_veto_paths_fire(run):
    markets = _markets(run)
    assert min(x["quota_compliance_rate"].min() for x in markets.values()) < 1.0
    assert any(x["gov_penalty_yuan"].sum() > 0 for q, x in markets.items() if q != "energy")
    assert markets["energy"]["gov_surcharge_yuan"].sum() > 0
    assert markets["energy"]["gov_subscription_yuan"].sum() > 0
    vetoed = _all(run, "vetoed_firms")
    assert vetoed.sum() > 0


def test_the_variants_are_tighter_than_the_baseline(run):
    base = _markets(run)
    tight = _markets(simulate(load_scenario(ROOT / "scenarios" / "emission_cap_tight.yaml"))
                     .metrics)
    for quota in CITED_2022:
        assert (tight[quota]["quota_price_mean_yuan_per_unit"].mean()
                > base[quota]["quota_price_mean_yuan_per_unit"].mean()), quota
    energy = _markets(simulate(load_scenario(ROOT / "scenarios" / "energy_trading.yaml"))
                      .metrics)["energy"]
    assert energy["quota_cap_slack"].mean() < base["energy"]["quota_cap_slack"].mean()
    assert energy["gov_surcharge_yuan"].sum() > base["energy"]["gov_surcharge_yuan"].sum()
    assert np.isfinite(energy["quota_price_mean_yuan_per_unit"]).any()

"""History validation: observed series, transforms, roles, tolerances, the command."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator.calibration.backtest import (
    SeriesSpec,
    _transformed,
    backtest,
    default_backtest_path,
    failures,
    load_backtest,
    read_observed,
)
from simulator.cli import main
from simulator.scenario import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
OBSERVED = ROOT / "data" / "observed" / "zhejiang.csv"


def test_the_observed_file_has_a_source_and_status_on_every_row():
    data = read_observed(OBSERVED)
    assert set(data["status"]) <= {"src", "der", "est"}
    assert data["source"].notna().all()
    assert (data["source"].str.len() > 10).all()
    assert not data.duplicated(["series", "year"]).any()
    # the series the backtest and the scenarios cite are there
    for series in ("tax_per_mu_above_scale_wan_yuan", "va_per_mu_above_scale_wan_yuan",
                   "labour_productivity_above_scale_wan_yuan", "industrial_va_growth_real",
                   "emission_right_price_cod_yuan_per_t", "plan_cod_reduction_13th",
                   "above_scale_industrial_energy_intensity_change_avg"):
        assert series in set(data["series"]), series


@pytest.mark.parametrize(("row", "message"), [
    ("x,2017,abc,u,src,s,n", "value 'abc' is not a finite number"),
    ("x,2017,1,u,guess,s,n", "status 'guess' is not src, der or est"),
])
def test_a_bad_observed_row_is_named_by_file_and_line(tmp_path, row, message):
    path = tmp_path / "obs.csv"
    path.write_text("series,year,value,unit,status,source,note\nx,2016,1,u,src,s,n\n" + row
                    + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=message) as err:
        read_observed(path)
    assert err.value.line == 3


def test_a_duplicate_observation_is_an_error(tmp_path):
    path = tmp_path / "obs.csv"
    path.write_text("series,year,value,unit,status,source,note\nx,2016,1,u,src,s,n\n"
                    "x,2016,2,u,src,s,n\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="a second row for x 2016"):
        read_observed(path)


def test_transforms_by_hand():
    years = [2015, 2016, 2017]
    values = pd.concat({"metric": pd.DataFrame({0: [100.0, 110.0, 121.0], 1: [100.0, 120.0,
                                                                                  120.0]},
                                               index=years),
                        "denominator": pd.DataFrame({0: [10.0, 10.0, 11.0],
                                                     1: [10.0, 10.0, 10.0]}, index=years)},
                       axis=1)

    def spec(**kw):
        return SeriesSpec(name="x", observed="x", metric="va_wan_yuan", tolerance=0.1, **kw)

    growth = _transformed(spec(transform="growth"), values, years)
    assert growth.loc[2016].tolist() == pytest.approx([0.10, 0.20])
    assert growth.loc[2017].tolist() == pytest.approx([0.10, 0.0])
    avg = _transformed(spec(transform="average_growth", base_year=2015), values, years)
    assert avg.loc[2017].tolist() == pytest.approx([0.10, 1.2 ** 0.5 - 1])
    share = _transformed(spec(transform="share", denominator={"metric": "firms"}), values, years)
    assert share.loc[2017].tolist() == pytest.approx([11.0, 12.0])


def _fake_metrics(scenario, replication):
    # Tax per mu 20, 22, 24, ... in every replication, +replication: a known answer.
    years = scenario.years
    rows = [{"year": y, "month": pd.NA, "scenario": scenario.name, "replication": replication,
             "group": "scale=above", "metric": "tax_per_mu_wan_yuan",
             "value": 20.0 + 2 * (y - years[0]) + replication} for y in years]
    return pd.DataFrame(rows)


def _write_backtest(tmp_path, tolerance, check="all"):
    obs = tmp_path / "obs.csv"
    obs.write_text("series,year,value,unit,status,source,note\n"
                   "tax,2015,22.5,万元/亩,src,a source,\n"
                   "tax,2016,30,万元/亩,src,a source,\n", encoding="utf-8")
    cal = tmp_path / "cal.yaml"
    cal.write_text(f"scenario: {ROOT / 'tests' / 'scenarios' / 'small.yaml'}\n"
                   "parameters: [{path: population.targets.tax_per_mu_wan_yuan, lower: 10, "
                   "upper: 40}]\n"
                   "targets: [{metric: tax_per_mu_wan_yuan, group: scale=above, year: 2017, "
                   "value: 25}]\n", encoding="utf-8")
    spec = tmp_path / "bt.yaml"
    spec.write_text(
        f"scenario: {ROOT / 'tests' / 'scenarios' / 'small.yaml'}\n"
        "observed: obs.csv\ncalibration: [cal.yaml]\nreplications: 2\nseries:\n"
        f"  - {{name: tax, observed: tax, metric: tax_per_mu_wan_yuan, group: scale=above, "
        f"tolerance: {tolerance}, check: {check}}}\n", encoding="utf-8")
    return spec


def test_simulated_means_intervals_errors_and_roles(tmp_path):
    # small.yaml runs 2017-2020: observed 2015 and 2016 lie outside and are skipped; add 2017.
    spec = _write_backtest(tmp_path, 0.1)
    obs = tmp_path / "obs.csv"
    obs.write_text(obs.read_text(encoding="utf-8") + "tax,2017,25,万元/亩,src,a source,\n"
                   "tax,2018,30,万元/亩,est,a guess,\n", encoding="utf-8")
    result = backtest(load_backtest(spec), simulate_fn=_fake_metrics)
    t = result.table.set_index("year")
    assert list(t.index) == [2017, 2018]
    assert t.loc[2017, "simulated"] == pytest.approx(20.5)  # replications 20 and 21
    assert t.loc[2018, "simulated"] == pytest.approx(22.5)
    assert t.loc[2017, "role"] == "fitted"
    assert t.loc[2018, "role"] == "held_out"
    assert t.loc[2017, "error"] == pytest.approx(abs(20.5 / 25 - 1))
    assert not t.loc[2017, "within"]  # 18% off, tolerance 10%
    assert t.loc[2017, "ci_low"] < 20.5 < t.loc[2017, "ci_high"]
    assert len(failures(result.table)) == 2
    fitted_only = _write_backtest(tmp_path, 0.1, check="fitted")
    obs.write_text(obs.read_text(encoding="utf-8") + "tax,2017,25,万元/亩,src,a source,\n"
                   "tax,2018,30,万元/亩,est,a guess,\n", encoding="utf-8")
    table = backtest(load_backtest(fitted_only), simulate_fn=_fake_metrics).table
    assert failures(table)["year"].tolist() == [2017]  # 2018 is held out: reported only
    assert set(result.paths["year"]) == {2017, 2018, 2019, 2020}


def test_backtest_check_exits_1_on_a_miss_and_0_when_reported_only(tmp_path, monkeypatch):
    import simulator.calibration.backtest as bt

    monkeypatch.setattr(bt, "_default_simulate", _fake_metrics)
    obs_rows = "tax,2017,25,万元/亩,src,a source,\n"
    for check, expected in (("all", 1), ("none", 0)):
        spec = _write_backtest(tmp_path, 0.05, check=check)
        obs = tmp_path / "obs.csv"
        obs.write_text(obs.read_text(encoding="utf-8") + obs_rows, encoding="utf-8")
        out = tmp_path / f"out-{check}"
        rc = main(["backtest", str(spec), "--check", "--out", str(out), "--no-figures"])
        assert rc == expected
        table = pd.read_csv(out / "backtest.csv")
        assert table.loc[0, "simulated"] == pytest.approx(20.5)
        assert (out / "backtest.parquet").is_file()
        assert (out / "paths.parquet").is_file()


def test_an_unknown_observed_series_is_named(tmp_path):
    spec = _write_backtest(tmp_path, 0.1)
    spec.write_text(spec.read_text(encoding="utf-8").replace("observed: tax,",
                                                             "observed: taxx,"),
                    encoding="utf-8")
    with pytest.raises(ScenarioError, match="no series 'taxx'") as err:
        load_backtest(spec)
    assert err.value.line == 6


def test_the_default_backtest_loads_and_marks_fitted_series():
    problem = load_backtest(default_backtest_path())
    assert problem.scenario.name == "zhejiang_history"
    assert ("tax_per_mu_wan_yuan", "scale=above", 2017) in problem.fitted
    assert ("energy_intensity_tce_per_wan_yuan", "scale=above", 2020) in problem.fitted
    assert ("quota_price_mean_yuan_per_unit", "market=cod", 2022) not in problem.fitted


def test_the_history_meets_its_checked_tolerances():
    # The CI check: two replications of the real history; a calibrated series that drifts
    # out of its tolerance fails here (and `python run.py backtest --check` exits 1).
    result = backtest(load_backtest(), replications=2)
    missed = failures(result.table)
    assert missed.empty, missed[["series", "year", "observed", "simulated", "error"]]
    fitted = result.table[result.table["role"] == "fitted"]
    assert len(fitted) >= 8
    assert np.isfinite(result.table["simulated"]).all()

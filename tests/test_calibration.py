"""Calibration: known answers, the fitted scenario, and one-line errors for bad files."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator.calibration import (
    calibrate,
    log_residuals,
    relative_residuals,
    target_values,
    write_fitted,
)
from simulator.cli import main
from simulator.engine import simulate
from simulator.scenario import apply_changes, load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
TAX_SHARE = "population.sectors.machinery.tax_share_of_va"

# A tiny one-year county. The calibration machinery is under test, not the firm
# dynamics, so those are off; the population is not rescaled to the targets.
OVERRIDES = {
    "population.n_industrial": 300,
    "population.n_services": 100,
    "run.end": "2017-12",
    "timeline": [],
    "output.firm_snapshots": False,
    "output.monthly_metrics": False,
    "dynamics.enabled": False,
}
FIXED = {"population.calibrate": False}

GOOD = """\
scenario: baseline.yaml
fixed: {population.calibrate: false}
overrides: {population.n_industrial: 300, population.n_services: 100, run.end: 2017-12,
            timeline: [], output.firm_snapshots: false, output.monthly_metrics: false,
            dynamics.enabled: false}
parameters:
  - {path: population.sectors.machinery.tax_share_of_va, lower: 0.1, upper: 0.5}
targets:
  - {metric: tax_per_mu_wan_yuan, group: scale=above, year: 2017, value: 25.5}
max_evaluations: 40
"""


def write_calibration(tmp_path: Path, body: str, name: str = "cal.yaml") -> Path:
    (tmp_path / "baseline.yaml").write_text(BASELINE.read_text(encoding="utf-8"),
                                            encoding="utf-8")
    path = tmp_path / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def tax_per_mu_at(tax_share: float) -> float:
    """Above-scale tax per mu in 2017 of the tiny county with machinery's tax/VA set."""
    scenario = apply_changes(load_scenario(BASELINE),
                             {**FIXED, **OVERRIDES, TAX_SHARE: tax_share})
    return float(target_metric(simulate(scenario).metrics))


def target_metric(metrics: pd.DataFrame) -> float:
    sel = metrics[metrics["month"].isna() & (metrics["metric"] == "tax_per_mu_wan_yuan")
                  & (metrics["group"] == "scale=above") & (metrics["year"] == 2017)]
    (value,) = sel["value"]
    return value


# ------------------------------------------------------------------ pure pieces


def test_residuals_are_weighted_relative_errors():
    res = relative_residuals(np.array([11.0, 45.0]), np.array([10.0, 50.0]),
                             np.array([2.0, 1.0]))
    np.testing.assert_allclose(res, [0.2, -0.1])


def test_a_target_the_run_cannot_compute_gets_a_large_residual():
    res = relative_residuals(np.array([np.nan]), np.array([10.0]), np.array([3.0]))
    assert res[0] == pytest.approx(30.0)
    res = log_residuals(np.array([np.nan, 0.0]), np.array([10.0, 10.0]), np.array([3.0, 1.0]))
    np.testing.assert_allclose(res, [30.0, 10.0])


def test_log_residuals_weigh_twice_and_half_the_target_alike():
    res = log_residuals(np.array([20.0, 5.0, 10.0]), np.array([10.0, 10.0, 10.0]),
                        np.array([1.0, 1.0, 2.0]))
    np.testing.assert_allclose(res, [np.log(2.0), -np.log(2.0), 0.0])
    rel = relative_residuals(np.array([20.0, 5.0]), np.array([10.0, 10.0]), np.ones(2))
    np.testing.assert_allclose(rel, [1.0, -0.5])  # what the relative error does instead


def test_target_values_average_annual_rows_over_replications():
    metrics = pd.DataFrame({
        "year": [2017, 2017, 2017], "month": [np.nan, np.nan, 3.0],
        "scenario": "x", "replication": [0, 1, 0], "group": "all",
        "metric": "va_wan_yuan", "value": [1.0, 3.0, 100.0],
    })
    from simulator.calibration import TargetSpec

    targets = [TargetSpec(metric="va_wan_yuan", year=2017, value=2.0),
               TargetSpec(metric="va_wan_yuan", year=2018, value=2.0)]
    np.testing.assert_array_equal(target_values(metrics, targets), [2.0, np.nan])


# ------------------------------------------------------------------ known answers


@pytest.mark.parametrize(("method", "error"), [("least_squares", "relative"),
                                               ("nelder_mead", "relative"),
                                               ("least_squares", "log")])
def test_fit_recovers_the_tax_share_that_produced_the_target(tmp_path, method, error):
    truth = 0.31
    observed = tax_per_mu_at(truth)
    body = (GOOD.replace("value: 25.5", f"value: {observed!r}")
            + f"method: {method}\nerror: {error}\n")
    body = body.replace("upper: 0.5}", "upper: 0.5, start: 0.15}")
    result = calibrate(write_calibration(tmp_path, body))
    assert result.success, result.message
    assert result.parameters.loc[TAX_SHARE, "start"] == 0.15
    assert result.parameters.loc[TAX_SHARE, "fitted"] == pytest.approx(truth, abs=2e-3)
    assert abs(result.targets["rel_error_fitted"].iloc[0]) < 1e-3
    assert abs(result.targets["rel_error_start"].iloc[0]) > 0.1
    assert result.evaluations <= 40


def test_start_defaults_to_the_scenario_value(tmp_path):
    result = calibrate(write_calibration(tmp_path, GOOD.replace("max_evaluations: 40",
                                                                "max_evaluations: 1")))
    assert result.parameters.loc[TAX_SHARE, "start"] == 0.24
    assert result.targets["simulated_start"].iloc[0] == pytest.approx(tax_per_mu_at(0.24))


def test_the_evaluation_budget_is_a_hard_limit(tmp_path):
    result = calibrate(write_calibration(tmp_path, GOOD.replace("max_evaluations: 40",
                                                                "max_evaluations: 3")))
    assert result.evaluations == 3
    assert not result.success
    assert "max_evaluations" in result.message
    # The best point seen is reported, and it beats the start.
    errors = result.targets[["rel_error_start", "rel_error_fitted"]].abs().iloc[0]
    assert errors["rel_error_fitted"] < errors["rel_error_start"]


def test_replications_are_averaged_with_the_same_seeds_each_evaluation(tmp_path):
    body = GOOD.replace("max_evaluations: 40", "max_evaluations: 1\nseed_replications: 2")
    result = calibrate(write_calibration(tmp_path, body))
    scenario = apply_changes(load_scenario(BASELINE), {**FIXED, **OVERRIDES})
    expected = np.mean([target_metric(simulate(scenario, replication=r).metrics)
                        for r in (0, 1)])
    assert result.targets["simulated_start"].iloc[0] == pytest.approx(expected, rel=1e-12)


# ------------------------------------------------------------------ command line


def test_cli_writes_a_fitted_scenario_that_reproduces_the_fit(tmp_path, capsys):
    path = write_calibration(tmp_path, GOOD)
    out = tmp_path / "fit"
    assert main(["calibrate", str(path), "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "tax_per_mu_wan_yuan" in printed
    assert f"fitted scenario: {out / 'fitted.yaml'}" in printed
    assert sorted(p.name for p in out.iterdir()) == ["fit.csv", "fit.json", "fitted.yaml"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []

    fitted_text = (out / "fitted.yaml").read_text(encoding="utf-8")
    assert "extends: ../baseline.yaml" in fitted_text
    assert main(["validate", str(out / "fitted.yaml")]) == 0

    fit = pd.read_csv(out / "fit.csv")
    info = json.loads((out / "fit.json").read_text(encoding="utf-8"))
    assert info["method"] == "least_squares"
    assert info["success"] is True
    assert 0 < info["evaluations"] <= 40
    assert info["parameters"][0]["path"] == TAX_SHARE
    assert abs(fit["rel_error_fitted"].iloc[0]) < 1e-3
    # fitted.yaml carries `fixed` and the fitted values; with the evaluation
    # overrides from fit.json it gives back the fitted metric exactly.
    fitted = load_scenario(out / "fitted.yaml", overrides=info["overrides"])
    assert not fitted.population.calibrate
    assert fitted.population.n_industrial == 300
    value = target_metric(simulate(fitted).metrics)
    assert value == pytest.approx(fit["simulated_fitted"].iloc[0], rel=1e-12)


TIED = "population.sectors.electronics.tax_share_of_va"


def test_a_tied_path_moves_with_its_parameter_and_lands_in_the_fitted_scenario(tmp_path):
    # electronics' tax share is tied to machinery's at half of it: the fit finds the
    # machinery share that, with electronics at half, produced the target.
    truth = 0.32
    scenario = apply_changes(load_scenario(BASELINE), {**FIXED, **OVERRIDES, TAX_SHARE: truth,
                                                       TIED: truth * 0.5})
    observed = target_metric(simulate(scenario).metrics)
    assert observed != pytest.approx(tax_per_mu_at(truth), rel=1e-3)  # the tie matters
    body = GOOD.replace("value: 25.5", f"value: {observed!r}").replace(
        "upper: 0.5}", f"upper: 0.5, start: 0.2, tied: {{{TIED}: 0.5}}}}")
    result = calibrate(write_calibration(tmp_path, body))
    assert result.success, result.message
    fitted = result.parameters.loc[TAX_SHARE, "fitted"]
    assert fitted == pytest.approx(truth, abs=2e-3)
    assert result.changes == {TAX_SHARE: fitted, TIED: fitted * 0.5}
    out = write_fitted(result, tmp_path / "fit")
    scenario = load_scenario(out / "fitted.yaml")
    assert scenario.population.sectors["electronics"].tax_share_of_va == pytest.approx(
        fitted * 0.5, rel=1e-12)


def test_write_fitted_refuses_an_existing_directory(tmp_path):
    result = calibrate(write_calibration(tmp_path, GOOD.replace("max_evaluations: 40",
                                                                "max_evaluations: 1")))
    (tmp_path / "taken").mkdir()
    with pytest.raises(FileExistsError):
        write_fitted(result, tmp_path / "taken")


BAD_FILES = {
    "unknown key": (("max_evaluations: 40", "max_evaluation: 40"),
                    ":10: max_evaluation: unknown field (did you mean 'max_evaluations'?)"),
    "unknown parameter path": (("tax_share_of_va,", "tax_shar_of_va,"),
                               ":7: parameters.0.path: unknown field 'tax_shar_of_va'"),
    "unknown sector in path": (("machinery.tax", "machinary.tax"),
                               ":7: parameters.0.path: "),
    "lower not below upper": (("upper: 0.5}", "upper: 0.1}"),
                              ":7: parameters.0.upper: upper (0.1) must be greater than lower"),
    "bound outside the schema": (("upper: 0.5}", "upper: 1.5}"),
                                 ":7: parameters.0.upper: "),
    "integer field": (("population.sectors.machinery.tax_share_of_va",
                       "population.max_age_years"), ":7: parameters.0.path: "),
    "unknown metric": (("metric: tax_per_mu_wan_yuan", "metric: tax_per_mu"),
                       ":9: targets.0.metric: unknown metric 'tax_per_mu' "
                       "(did you mean 'tax_per_mu_wan_yuan'?)"),
    "year outside the run": (("year: 2017", "year: 2019"), ":9: targets.0.year: "),
    "group without values": (("group: scale=above", "group: scale=abov"),
                             ":9: targets.0.group: "),
    "bad override": (("timeline: [], ", "timeline: [{date: 2019-01, set: {seed: 1}}], "),
                     ":3: overrides: timeline.0.date: "),
    "missing base scenario": (("scenario: baseline.yaml", "scenario: nowhere.yaml"),
                              ":1: scenario: file not found"),
    "zero target": (("value: 25.5", "value: 0"), ":9: targets.0.value: "),
    "log error of a negative target": (("value: 25.5}", "value: -2}\nerror: log"),
                                       ":9: targets.0.value: error: log needs positive"),
    "unknown tied path": (("upper: 0.5}", "upper: 0.5, tied: {population.sectors.x.y: 1}}"),
                          ":7: parameters.0.tied.population.sectors.x.y: unknown field 'y'"),
    "tied to itself": (("upper: 0.5}", f"upper: 0.5, tied: {{{TAX_SHARE}: 1}}}}"),
                       f":7: parameters.0.tied.{TAX_SHARE}: "),
    "tied bound outside the schema": (("upper: 0.5}", f"upper: 0.5, tied: {{{TIED}: 3}}}}"),
                                      ":7: parameters.0.upper: "),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_calibration_file_exits_2_with_one_line(tmp_path, capsys, case):
    (old, new), expected = BAD_FILES[case]
    assert old in GOOD
    path = write_calibration(tmp_path, GOOD.replace(old, new))
    out = tmp_path / "out"
    assert main(["calibrate", str(path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ")
    assert f"cal.yaml{expected}" in err
    assert "\n" not in err
    assert not out.exists()

"""The Python API's conventions: variants named as variants, firms as a DataFrame, results
in one call as a tidy table and an xarray Dataset (issue 18, item 6)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import simulator
from simulator import apply_changes, load_dataset, load_results, simulate
from simulator.experiment import compare, run_scenario, sweep
from simulator.experiment.variants import variant_name
from simulator.results import read_metrics_table
from simulator.scenario import ScenarioError, load_scenario
from simulator.scenario import apply_changes as set_fields

ROOT = Path(__file__).resolve().parents[1]
SURCHARGE_D = "tariffs.electricity.class_surcharge_yuan_per_kwh.D"


@pytest.fixture(scope="module")
def tiny():
    """One year of 100 firms."""
    small = load_scenario(ROOT / "tests" / "scenarios" / "small.yaml")
    return set_fields(small, {
        "population.n_industrial": 80, "population.n_services": 20, "run.end": "2017-12",
        "timeline": [], "output.monthly_metrics": False}, name="tiny")


@pytest.fixture(scope="module")
def compare_dir(tiny, tmp_path_factory):
    strict = apply_changes(tiny, {SURCHARGE_D: 0.8}, name="strict")
    return compare([tiny, strict], replications=3, out=tmp_path_factory.mktemp("c") / "c",
                   figures=False, workers=1)


# --------------------------------------------------------------------------- variants


def test_a_variant_is_named_as_a_variant_by_default(tiny):
    assert apply_changes(tiny, {SURCHARGE_D: 0.5}).name == "tiny-variant-D-0.5"
    two = {SURCHARGE_D: 0.5, "tariffs.electricity.class_surcharge_yuan_per_kwh.C": 0.1}
    name = apply_changes(tiny, two).name
    assert name.startswith("tiny-variant-")
    assert len(name) == len("tiny-variant-") + 6
    assert name == variant_name("tiny", dict(reversed(two.items())))  # the same changes
    # A variant of a variant says "variant" once.
    assert apply_changes(apply_changes(tiny, {SURCHARGE_D: 0.5}),
                         {"seed": 3}).name == "tiny-variant-D-0.5-seed-3"


def test_a_variant_takes_the_name_it_is_given_and_never_its_bases(tiny):
    assert apply_changes(tiny, {SURCHARGE_D: 0.5}, name="strict_d").name == "strict_d"
    assert apply_changes(tiny, {SURCHARGE_D: 0.5, "name": "s2"}).name == "s2"
    with pytest.raises(ScenarioError, match="a variant needs a name of its own, not its base's"):
        apply_changes(tiny, {SURCHARGE_D: 0.5}, name="tiny")
    with pytest.raises(ScenarioError, match="name"):
        apply_changes(tiny, {SURCHARGE_D: 0.5}, name="has space")
    # The low-level setter keeps the name (timelines, sweeps, --seed use it).
    assert set_fields(tiny, {SURCHARGE_D: 0.5}).name == "tiny"
    assert simulator.apply_changes is apply_changes


def test_a_variants_run_is_written_under_its_own_name(tiny, tmp_path):
    variant = apply_changes(tiny, {SURCHARGE_D: 0.9})
    run_dir = run_scenario(variant, out=tmp_path, figures=False)
    assert run_dir.parent == tmp_path / "tiny-variant-D-0.9"
    assert set(read_metrics_table(run_dir / "metrics.parquet")["scenario"]) == {
        "tiny-variant-D-0.9"}


# ----------------------------------------------------------------------- firms_frame


def test_firms_frame_is_a_dataframe_of_the_firms_with_labelled_categories(tiny):
    result = simulate(tiny)
    firms = result.firms
    frame = result.firms_frame()
    assert isinstance(frame, pd.DataFrame)
    assert len(frame) == firms.n
    assert frame["firm_id"].dtype == np.int64
    np.testing.assert_array_equal(frame["firm_id"], firms.firm_id)
    assert list(frame["sector"].cat.categories) == list(tiny.sector_names())
    assert list(frame["class"].cat.categories) == ["A", "B", "C", "D", "U"]
    assert list(frame["scale"].cat.categories) == ["above", "below", "services"]
    assert frame["sector"].astype(str).tolist() == [tiny.sector_names()[k] for k in firms.sector]
    assert frame["class"].astype(str).tolist() == ["ABCDU"[k] for k in firms.klass]
    assert (frame["scale"] == "services").sum() == firms.is_services.sum() == 20
    np.testing.assert_array_equal(frame["land_mu"], firms.land_mu)
    assert frame["land_mu"].dtype == np.float64
    assert frame["vetoed"].dtype == bool
    np.testing.assert_array_equal(frame["cod_t_per_wan_yuan"],
                                  firms.emission_t_per_wan_yuan[:, 0])
    frame.loc[0, "land_mu"] = -1.0  # a copy: the result's arrays are not changed
    assert firms.land_mu[0] != -1.0


# --------------------------------------------------------------- load_results, load_dataset


def test_a_comparison_loads_as_a_tidy_table_equal_to_its_metrics(compare_dir):
    tidy = load_results(compare_dir)
    assert tidy.attrs["kind"] == "compare"
    assert list(tidy.columns) == ["scenario", "replication", "year", "month", "group",
                                  "metric", "value"]
    metrics = read_metrics_table(compare_dir / "metrics.parquet")
    assert len(tidy) == len(metrics)
    np.testing.assert_array_equal(tidy["value"], metrics["value"])
    assert set(tidy["scenario"]) == {"tiny", "strict"}


def test_a_comparison_loads_as_a_dataset_scenario_replication_year_metric(compare_dir):
    ds = load_dataset(compare_dir)
    assert ds["value"].dims == ("scenario", "replication", "year", "metric")
    assert list(ds["scenario"].values) == ["tiny", "strict"]
    assert list(ds["replication"].values) == [0, 1, 2]
    assert list(ds["year"].values) == [2017]
    metrics = read_metrics_table(compare_dir / "metrics.parquet")
    annual = metrics[metrics["month"].isna()]
    keys = set(annual["metric"] + "[" + annual["group"] + "]")
    assert ds.sizes["metric"] == len(keys)
    assert ds["value"].shape == (2, 3, 1, len(keys))
    # Every value is the metrics table's.
    for _, row in annual.sample(200, random_state=0).iterrows():
        got = ds["value"].sel(scenario=row["scenario"], replication=row["replication"],
                              year=row["year"], metric=f"{row['metric']}[{row['group']}]")
        np.testing.assert_equal(float(got), row["value"])  # NaN where the table has NaN
    tax = ds.sel(metric="tax_per_mu_wan_yuan[all]")
    assert (str(tax["metric_name"].values), str(tax["group"].values),
            str(tax["unit"].values)) == ("tax_per_mu_wan_yuan", "all", "万元/mu")
    # Paired differences by replication are a subtraction; their mean is differences.csv's.
    diff = (ds["value"].sel(scenario="strict") - ds["value"].sel(scenario="tiny")).mean(
        "replication")
    table = pd.read_csv(compare_dir / "differences.csv")
    row = table[(table["metric"] == "electricity_bill_yuan") & (table["group"] == "class=D")]
    assert float(diff.sel(year=2017, metric="electricity_bill_yuan[class=D]")) == \
        pytest.approx(float(row["mean"].iloc[0]), rel=1e-9)


def test_a_run_loads_with_its_monthly_rows_in_the_table_only(tiny, tmp_path):
    monthly = set_fields(tiny, {"output.monthly_metrics": True})
    run_dir = run_scenario(monthly, out=tmp_path, replications=2, figures=False, workers=1)
    tidy = load_results(run_dir)
    metrics = read_metrics_table(run_dir / "metrics.parquet")
    pd.testing.assert_frame_equal(
        tidy.sort_values(["replication", "metric", "group", "month"]).reset_index(drop=True),
        metrics[tidy.columns].astype({"scenario": str})
        .sort_values(["replication", "metric", "group", "month"]).reset_index(drop=True),
        check_dtype=False)
    assert tidy["month"].notna().any()
    ds = load_dataset(run_dir)
    assert ds["value"].shape[:3] == (1, 2, 1)
    assert ds.attrs["kind"] == "run"


def test_a_sweep_loads_with_its_samples_and_parameters(tmp_path):
    base = tmp_path / "base.yaml"
    base.write_text(f"extends: {(ROOT / 'tests' / 'scenarios' / 'small.yaml').as_posix()}\n"
                    "name: b\npopulation: {n_industrial: 60, n_services: 10}\n"
                    "run: {start: 2017-01, end: 2017-12}\ntimeline: []\n", encoding="utf-8")
    spec = tmp_path / "sw.yaml"
    spec.write_text("name: sw\nbase: base.yaml\nreplications: 2\nparameters:\n"
                    f"  - {{path: {SURCHARGE_D}, values: [0.1, 0.6]}}\n"
                    "outputs:\n  - {metric: tax_per_mu_wan_yuan, group: all}\n",
                    encoding="utf-8")
    outputs = sweep(spec, out=tmp_path / "out", figures=False, workers=1)
    ds = load_dataset(tmp_path / "out")
    assert ds["value"].dims == ("scenario", "replication", "year", "metric")
    assert list(ds["scenario"].values) == ["sw-s00000", "sw-s00001"]
    assert list(ds["sample"].values) == [0, 1]
    assert list(ds[SURCHARGE_D].values) == [0.1, 0.6]
    got = ds["value"].sel(metric="tax_per_mu_wan_yuan[all]", year=2017)
    want = outputs.set_index(["sample", "replication"])["tax_per_mu_wan_yuan[all]@2017"]
    for sample in (0, 1):
        for k in (0, 1):
            assert float(got.isel(scenario=sample).sel(replication=k)) == want[(sample, k)]
    tidy = load_results(tmp_path / "out")
    assert tidy.attrs["kind"] == "sweep"
    assert {"sample", SURCHARGE_D} <= set(tidy.columns)


def test_a_damaged_results_directory_names_the_file(compare_dir, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(compare_dir, broken)
    (broken / "metrics.parquet").write_bytes(b"garbage")
    with pytest.raises(ScenarioError) as info:
        load_dataset(broken)
    assert Path(info.value.file) == broken / "metrics.parquet"
    assert "damaged" in info.value.message
    assert "\n" not in str(info.value)
    with pytest.raises(ScenarioError, match="not a results directory"):
        load_results(tmp_path / "nowhere")

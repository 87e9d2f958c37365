"""Replications, comparisons and resumable experiment directories (issue 6)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import simulator.experiment.executors as executors
from simulator.cli import main
from simulator.experiment import compare, run_scenario, summary_table
from simulator.results import ExperimentFailedError
from simulator.results.stats import mean_ci, paired_differences, summarise
from simulator.scenario import ScenarioError, apply_changes, load_scenario

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny():
    """Two years of 150 firms: a run takes a fraction of a second."""
    small = load_scenario(ROOT / "tests" / "scenarios" / "small.yaml")
    return apply_changes(small, {
        "population.n_industrial": 120, "population.n_services": 30, "run.end": "2018-12",
        "timeline": [], "output.monthly_metrics": False, "name": "tiny"})


@pytest.fixture(scope="module")
def strict(tiny):
    return apply_changes(tiny, {"name": "strict",
                                "tariffs.electricity.class_surcharge_yuan_per_kwh.D": 0.8})


def tidy(rows):
    """Annual metric rows from (scenario, replication, value) tuples, one metric and year."""
    return pd.DataFrame([{"year": 2020, "month": None, "scenario": s, "replication": r,
                          "group": "all", "metric": "x", "value": v} for s, r, v in rows])


# ------------------------------------------------------------------------------ stats


def test_mean_ci_is_the_student_t_interval():
    # Values 1..4: mean 2.5, sd 1.2909944, t(0.975, 3) = 3.1824463 -> half width 2.0542603.
    out = mean_ci(pd.DataFrame([[1.0, 2.0, 3.0, 4.0]]))
    assert out.loc[0, "mean"] == pytest.approx(2.5)
    assert out.loc[0, "sd"] == pytest.approx(1.2909944, rel=1e-7)
    assert out.loc[0, "ci_low"] == pytest.approx(2.5 - 2.0542603, rel=1e-7)
    assert out.loc[0, "ci_high"] == pytest.approx(2.5 + 2.0542603, rel=1e-7)
    single = mean_ci(pd.DataFrame([[7.0, np.nan]]))
    assert single.loc[0, "mean"] == 7.0
    assert single.loc[0, "n"] == 1
    assert np.isnan(single.loc[0, "ci_low"])


def test_paired_differences_use_the_differences_of_each_replication():
    # a = 10, 12, 14 and b = 11, 14, 15: paired differences 1, 2, 1 -> mean 4/3, sd 0.5773503,
    # half width t(0.975, 2) 4.3026527 x 0.5773503 / sqrt(3) = 1.4342176. Unpaired, the
    # spread of a alone (sd 2) would give a half width of about 5.
    metrics = tidy([("a", 0, 10), ("a", 1, 12), ("a", 2, 14),
                    ("b", 0, 11), ("b", 1, 14), ("b", 2, 15)])
    d = paired_differences(metrics, "a")
    assert list(d["scenario"]) == ["b"]
    assert d.loc[0, "reference"] == "a"
    assert d.loc[0, "mean"] == pytest.approx(4 / 3)
    assert d.loc[0, "ci_high"] - d.loc[0, "mean"] == pytest.approx(1.4342176, rel=1e-7)
    s = summarise(metrics).set_index("scenario")
    assert s.loc["a", "mean"] == pytest.approx(12.0)
    assert s.loc["b", "n"] == 3


def test_paired_differences_leave_out_unpaired_replications():
    metrics = tidy([("a", 0, 1.0), ("a", 1, 2.0), ("b", 0, 4.0), ("b", 1, 4.0), ("b", 2, 99.0)])
    d = paired_differences(metrics, "a")
    assert d.loc[0, "n"] == 2
    assert d.loc[0, "mean"] == pytest.approx(2.5)
    with pytest.raises(ValueError, match="reference scenario 'c'"):
        paired_differences(metrics, "c")


# ---------------------------------------------------------------------- replications


def test_replications_are_identical_whatever_the_number_of_workers(tmp_path, tiny):
    one = run_scenario(tiny, out=tmp_path / "one", replications=3, workers=1, figures=False)
    two = run_scenario(tiny, out=tmp_path / "two", replications=3, workers=2, figures=False)
    for name in ("metrics.parquet", "firms.parquet"):
        assert (one / name).read_bytes() == (two / name).read_bytes()
    metrics = pd.read_parquet(one / "metrics.parquet")
    assert sorted(metrics["replication"].unique()) == [0, 1, 2]
    # Replication k is the run with replication index k: the same as a single run of it.
    alone = run_scenario(tiny, out=tmp_path / "alone", replication=1, figures=False)
    single = pd.read_parquet(alone / "metrics.parquet")
    pd.testing.assert_frame_equal(
        metrics[metrics["replication"] == 1].reset_index(drop=True), single)
    # The per-firm rows too: a run's yearly tables, held until the run ends, must not change
    # when the simulation moves on (they do not share memory with its state).
    firms = pd.read_parquet(one / "firms.parquet")
    firms = firms[firms["replication"] == 1].reset_index(drop=True)
    alone_firms = pd.read_parquet(alone / "firms.parquet")
    assert (alone_firms["energy_abatement_cost_yuan"] > 0).any()
    pd.testing.assert_frame_equal(firms, alone_firms)
    assert json.loads((one / "manifest.json").read_text())["replications"] == 3
    # The run's summary: the mean over replications and its t interval.
    table = summary_table(metrics)
    tax = metrics[(metrics["metric"] == "tax_per_mu_wan_yuan") & (metrics["group"] == "scale=above")
                  & (metrics["year"] == 2018) & metrics["month"].isna()]["value"]
    label = "Tax per mu, above-scale (万元/mu)"
    expected = mean_ci(tax.to_frame().T).iloc[0]
    assert table.loc[label, "2018"] == pytest.approx(tax.mean())
    assert table.loc[label, "2018 ci_low"] == pytest.approx(expected["ci_low"])
    assert table.loc[label, "2018 ci_high"] == pytest.approx(expected["ci_high"])


# --------------------------------------------------------------------------- compare


def test_a_scenario_compared_with_itself_differs_by_exactly_zero(tmp_path, tiny):
    # Common random numbers: the copy sees the same shocks in every replication, so every
    # paired difference is exactly 0 while each scenario's own interval is wide.
    twin = apply_changes(tiny, {"name": "twin"})
    out = compare([tiny, twin], replications=3, out=tmp_path / "cmp", figures=False, workers=1)
    d = pd.read_csv(out / "differences.csv")
    assert len(d) > 100
    assert (d["mean"] == 0).all()
    assert (d["ci_low"].fillna(0) == 0).all()
    s = pd.read_csv(out / "summary.csv")
    tax = s[(s["metric"] == "tax_per_mu_wan_yuan") & (s["group"] == "all")]
    assert (tax["ci_high"] > tax["ci_low"]).all()


def test_compare_forces_one_seed_and_pairs_by_replication(tmp_path, tiny, strict):
    reseeded = apply_changes(strict, {"seed": 12345})
    out = compare([tiny, reseeded], replications=2, out=tmp_path / "cmp", figures=False,
                  workers=1)
    info = json.loads((out / "experiment.json").read_text())
    assert info["seed"] == tiny.seed
    assert info["finished"] is True
    assert info["scenarios"] == ["tiny", "strict"]
    metrics = pd.read_parquet(out / "metrics.parquet")
    d = pd.read_csv(out / "differences.csv")
    # The difference table is the per-replication difference of the two runs, averaged.
    sel = metrics[(metrics["metric"] == "electricity_bill_yuan") & (metrics["group"] == "class=D")
                  & metrics["month"].isna()]
    wide = sel.pivot(index=["year", "replication"], columns="scenario", values="value")
    expected = (wide["strict"] - wide["tiny"]).groupby("year").mean()
    got = d[(d["metric"] == "electricity_bill_yuan") & (d["group"] == "class=D")]
    np.testing.assert_allclose(got.set_index("year")["mean"], expected, rtol=1e-9)
    # In the first year (classes from the start-up evaluation, the same firms in both) D firms
    # pay more with the stricter surcharge in every replication.
    assert ((wide["strict"] - wide["tiny"]).xs(2017, level="year") > 0).all()
    table = pd.read_csv(out / "table.csv")
    assert set(table["scenario"]) == {"tiny", "strict"}
    assert table[table["scenario"] == "tiny"]["diff"].isna().all()


def test_compare_is_identical_whatever_the_number_of_workers(tmp_path, tiny, strict):
    a = compare([tiny, strict], replications=2, out=tmp_path / "a", figures=False, workers=1)
    b = compare([tiny, strict], replications=2, out=tmp_path / "b", figures=False, workers=2)
    for name in ("metrics.parquet", "summary.csv", "differences.csv", "table.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_compare_resumes_only_the_missing_runs(tmp_path, tiny, strict, monkeypatch):
    out = compare([tiny, strict], replications=2, out=tmp_path / "cmp", figures=False, workers=1)
    before = {n: (out / n).read_bytes() for n in ("metrics.parquet", "summary.csv")}
    # A run lost (as if the process died while writing it) and a temporary left behind.
    import shutil
    shutil.rmtree(out / "runs" / "strict" / "r001")
    (out / "runs" / "strict" / ".r001.tmp-999").mkdir()
    calls = []
    real = executors.execute
    monkeypatch.setattr(executors, "execute", lambda task: calls.append(task.run_id) or real(task))
    compare([tiny, strict], replications=2, out=out, figures=False, workers=1)
    assert calls == ["strict/r001"]
    assert not (out / "runs" / "strict" / ".r001.tmp-999").exists()
    for name, data in before.items():
        assert (out / name).read_bytes() == data


def test_failed_runs_are_reported_and_retried(tmp_path, tiny, strict, monkeypatch):
    real = executors.execute

    def flaky(task):
        if task.run_id == "strict/r000":
            raise RuntimeError("boom")
        return real(task)

    monkeypatch.setattr(executors, "execute", flaky)
    with pytest.raises(ExperimentFailedError, match=r"1 of 4 runs failed.*strict/r000.*boom"):
        compare([tiny, strict], replications=2, out=tmp_path / "cmp", figures=False, workers=1)
    assert sorted(p.name for p in (tmp_path / "cmp" / "runs" / "tiny").iterdir()) == [
        "r000", "r001"]
    assert not (tmp_path / "cmp" / "summary.csv").exists()
    monkeypatch.setattr(executors, "execute", real)
    out = compare([tiny, strict], replications=2, out=tmp_path / "cmp", figures=False, workers=1)
    clean = compare([tiny, strict], replications=2, out=tmp_path / "clean", figures=False,
                    workers=1)
    assert (out / "summary.csv").read_bytes() == (clean / "summary.csv").read_bytes()


def test_a_directory_of_another_experiment_is_refused_unless_forced(tmp_path, tiny, strict):
    out = compare([tiny, strict], replications=1, out=tmp_path / "cmp", figures=False, workers=1)
    with pytest.raises(ScenarioError, match="different compare experiment"):
        compare([tiny, strict], replications=2, out=out, figures=False, workers=1)
    compare([tiny, strict], replications=2, out=out, force=True, figures=False, workers=1)
    assert json.loads((out / "experiment.json").read_text())["replications"] == 2
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(ScenarioError, match="not an experiment directory"):
        compare([tiny, strict], out=tmp_path / "other", figures=False, workers=1)
    with pytest.raises(ScenarioError, match="not an experiment directory"):  # not even forced
        compare([tiny, strict], out=tmp_path / "other", force=True, figures=False, workers=1)
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"


def test_compare_runs_five_replications_by_default(tmp_path, tiny, strict):
    # Enough for a paired 95% interval of every difference without being told.
    out = compare([tiny, strict], out=tmp_path / "cmp", figures=False, workers=1)
    info = json.loads((out / "experiment.json").read_text())
    assert info["replications"] == 5
    assert len(info["fingerprint"]) == 16
    d = pd.read_csv(out / "differences.csv")
    assert (d["n"] == 5).all()
    row = d[(d["metric"] == "electricity_bill_yuan") & (d["group"] == "class=D")
            & (d["year"] == 2017)].iloc[0]
    assert row["ci_low"] < row["mean"] < row["ci_high"]


def test_compare_needs_distinct_names(tiny):
    with pytest.raises(ScenarioError, match="distinct names"):
        compare([tiny, tiny], figures=False)


def test_compare_command_writes_the_comparison(tmp_path, capsys):
    a = tmp_path / "a.yaml"
    b = tmp_path / "b.yaml"
    small = (ROOT / "tests" / "scenarios" / "small.yaml").as_posix()
    common = ("population: {n_industrial: 80, n_services: 20}\nrun: {start: 2017-01, end: "
              "2017-12}\ntimeline: []\n")
    a.write_text(f"extends: {small}\nname: a\n{common}")
    b.write_text(f"extends: {small}\nname: b\n{common}"
                 "tariffs: {electricity: {class_surcharge_yuan_per_kwh: {D: 0.9}}}\n")
    code = main(["compare", str(a), str(b), "--replications", "2", "--out",
                 str(tmp_path / "out"), "--no-figures", "--workers", "1"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "b − a" in printed
    assert (tmp_path / "out" / "table.csv").exists()
    assert main(["compare", str(a), str(a), "--out", str(tmp_path / "x")]) == 2
    assert main(["compare", str(a), str(tmp_path / "missing.yaml")]) == 2


# -------------------------------------------------------------------------- executors


def test_a_dask_cluster_gives_the_same_results_as_local_processes(tmp_path, tiny, strict):
    distributed = pytest.importorskip("distributed")
    local = compare([tiny, strict], replications=2, out=tmp_path / "local", figures=False,
                    workers=2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        remote = compare([tiny, strict], replications=2, out=tmp_path / "dask", figures=False,
                         executor="dask", scheduler=cluster.scheduler_address)
    assert json.loads((remote / "experiment.json").read_text())["executor"] == "dask"
    for name in ("metrics.parquet", "summary.csv", "differences.csv"):
        assert (local / name).read_bytes() == (remote / name).read_bytes(), name


def test_executor_errors_are_input_errors_and_write_nothing(tmp_path, tiny, monkeypatch):
    with pytest.raises(ScenarioError, match="needs --scheduler"):
        compare([tiny], out=tmp_path / "a", figures=False, executor="dask")
    with pytest.raises(ScenarioError, match="--workers must be at least 1"):
        compare([tiny], out=tmp_path / "b", figures=False, workers=0)
    with pytest.raises(ScenarioError, match="unknown executor"):
        compare([tiny], out=tmp_path / "c", figures=False, executor="slurm")
    assert not any((tmp_path / d).exists() for d in "abc")
    # A scheduler that does not answer is known only when the runs start: the experiment
    # directory made for them goes again, so a corrected rerun starts afresh.
    from simulator.experiment import directory as experiment  # where the runs start

    def unreachable(*args, **kwargs):
        raise ScenarioError("cannot reach the Dask scheduler at tcp://nowhere:1",
                            field="--scheduler")

    monkeypatch.setattr(experiment, "run_tasks", unreachable)
    with pytest.raises(ScenarioError, match="cannot reach"):
        compare([tiny], out=tmp_path / "d", figures=False, executor="dask",
                scheduler="tcp://nowhere:1")
    assert not (tmp_path / "d").exists()
    # An existing experiment with finished runs is kept as it is.
    monkeypatch.undo()
    kept = compare([tiny], out=tmp_path / "e", figures=False, workers=1, replications=1)
    monkeypatch.setattr(experiment, "run_tasks", unreachable)
    with pytest.raises(ScenarioError, match="cannot reach"):
        compare([tiny], out=kept, figures=False, force=False, replications=1,
                executor="dask", scheduler="tcp://nowhere:1")
    assert (kept / "runs").is_dir()


# ---------------------------------------------------------------------------- sweeps


def _killable_sweep(tmp_path: Path) -> Path:
    """A 24-run sweep (12 LHS points x 2 replications), a fraction of a second per run."""
    path = tmp_path / "sweep_kill.yaml"
    small = (ROOT / "tests" / "scenarios" / "small.yaml").as_posix()
    path.write_text(f"""name: sweep_kill
base: {small}
overrides:
  population.n_industrial: 300
  population.n_services: 60
  run.end: 2018-12
  timeline: []
  output.firm_snapshots: false
  output.monthly_metrics: false
parameters:
  - {{path: tariffs.electricity.class_surcharge_yuan_per_kwh.D, lower: 0.0, upper: 0.6}}
  - {{path: dynamics.exit.forced_exit_share_per_year, lower: 0.0, upper: 0.05}}
design: lhs
samples: 12
replications: 2
seed: 11
outputs:
  - {{metric: tax_per_mu_wan_yuan, group: scale=above}}
  - {{name: d_firms, metric: firms, group: class=D}}
""")
    return path


def test_a_sweep_killed_with_sigkill_resumes_to_the_results_of_an_unbroken_run(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    from simulator.experiment import sweep

    spec = _killable_sweep(tmp_path)
    out = tmp_path / "killed"
    cmd = [sys.executable, str(ROOT / "run.py"), "sweep", str(spec), "--out", str(out),
           "--workers", "2", "--quiet", "--no-figures"]

    def finished() -> int:
        return len(list((out / "runs").glob("*/manifest.json"))) if out.exists() else 0

    proc = subprocess.Popen(cmd, cwd=tmp_path, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while finished() < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    os.killpg(proc.pid, signal.SIGKILL)  # the command and its worker processes
    proc.wait()
    done_at_kill = finished()
    assert 3 <= done_at_kill < 24, "the sweep was not killed part-way"
    assert not (out / "outputs.csv").exists()
    assert json.loads((out / "experiment.json").read_text())["finished"] is False

    resumed = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert finished() == 24
    assert not list((out / "runs").glob(".*"))  # no temporary directory left
    unbroken = sweep(spec, out=tmp_path / "unbroken", workers=1, figures=False)
    assert len(unbroken) == 24
    unbroken_csv = (tmp_path / "unbroken" / "outputs.csv").read_bytes()
    assert (out / "outputs.csv").read_bytes() == unbroken_csv


def test_workers_end_when_the_command_alone_is_killed(tmp_path):
    # kill -9 of the command (not its process group) leaves its pool workers orphaned:
    # they must notice and exit, not idle on holding their memory.
    import os
    import signal
    import subprocess
    import sys
    import time

    spec = _killable_sweep(tmp_path)
    out = tmp_path / "orphans"
    proc = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "sweep", str(spec), "--out",
                             str(out), "--workers", "2", "--quiet", "--no-figures"],
                            cwd=tmp_path, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while (len(list((out / "runs").glob("*/manifest.json"))) if out.exists() else 0) < 2 \
            and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proc.poll() is None, "the sweep ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)  # the command only
    proc.wait()
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            os.killpg(proc.pid, 0)  # raises once no process of the group is left
            time.sleep(0.1)
    except ProcessLookupError:
        return
    os.killpg(proc.pid, signal.SIGKILL)
    pytest.fail("pool workers outlived the killed command by 30 s")


def test_sweep_api_returns_one_row_per_run_and_resumes(tmp_path, monkeypatch):
    from simulator.experiment import sweep

    spec = ROOT / "tests" / "scenarios" / "sweep_small.yaml"
    first = sweep(spec, out=tmp_path / "sw", workers=2, figures=False)
    assert list(first.columns[:4]) == ["sample", "replication",
                                       "tariffs.electricity.class_surcharge_yuan_per_kwh.D",
                                       "dynamics.exit.forced_exit_share_per_year"]
    assert len(first) == 8
    assert first[["sample", "replication"]].drop_duplicates().shape[0] == 8
    assert first["d_firms"].notna().all()
    # Replications at one point share the parameters, and the outputs are those of the run.
    run = pd.read_parquet(tmp_path / "sw" / "runs" / "s00002-r01" / "metrics.parquet")
    tax = run[(run["metric"] == "tax_per_mu_wan_yuan") & (run["group"] == "scale=above")
              & (run["year"] == 2018) & run["month"].isna()]["value"].item()
    row = first[(first["sample"] == 2) & (first["replication"] == 1)]
    assert row["tax_per_mu_wan_yuan[scale=above]@2018"].item() == tax
    calls = []
    monkeypatch.setattr(executors, "execute", lambda task: calls.append(task) or None)
    again = sweep(spec, out=tmp_path / "sw", workers=1, figures=False)
    assert calls == []  # everything was finished: nothing runs again
    pd.testing.assert_frame_equal(first, again)


def test_sweep_command_errors_exit_2(tmp_path):
    bad = ROOT / "tests" / "scenarios" / "bad_sweep_unknown_key.yaml"
    assert main(["sweep", str(bad), "--out", str(tmp_path / "x")]) == 2
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("keep", [None, True])
def test_sweeps_keep_per_firm_tables_only_when_asked(tmp_path, keep):
    from simulator.experiment import sweep

    small = (ROOT / "tests" / "scenarios" / "small.yaml").as_posix()
    extra = "" if keep is None else "  output.firm_snapshots: true\n"
    spec = tmp_path / "sweep.yaml"
    spec.write_text(f"""base: {small}
overrides:
  population.n_industrial: 60
  population.n_services: 20
  run.end: 2017-12
  timeline: []
{extra}parameters:
  - {{path: tariffs.electricity.class_surcharge_yuan_per_kwh.D, values: [0.1, 0.5]}}
replications: 1
outputs:
  - {{metric: firms}}
""")
    sweep(spec, out=tmp_path / "out", workers=1, figures=False)
    tables = sorted((tmp_path / "out" / "runs").glob("*/firms.parquet"))
    assert len(tables) == (2 if keep else 0)

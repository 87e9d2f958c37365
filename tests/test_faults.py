"""Fault injection: commands killed or interrupted at each stage, concurrent commands.

Each test runs the real command line in a subprocess and arms a fail point
(:mod:`simulator.faults`) with ``MUJUN_FAILPOINTS``, or kills the process
from outside, then checks what is on disk and that the same command, run
again, finishes with the results of an unbroken run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simulator.faults import ENV
from simulator.results import TEMPORARY_GLOB, DirectoryLock, RunDirectory

ROOT = Path(__file__).resolve().parents[1]
SMALL = (ROOT / "tests" / "scenarios" / "small.yaml").as_posix()
RUNS = 6  # 3 points x 2 replications

SWEEP = f"""name: faults
base: {SMALL}
overrides:
  population.n_industrial: 200
  population.n_services: 40
  run.end: 2017-12
  timeline: []
  output.firm_snapshots: false
  output.monthly_metrics: false
parameters:
  - {{path: tariffs.electricity.class_surcharge_yuan_per_kwh.D, lower: 0.0, upper: 0.6}}
design: lhs
samples: 3
replications: 2
seed: 5
outputs:
  - {{metric: tax_per_mu_wan_yuan, group: scale=above}}
"""

#: A one-year county of 200 firms, for `run`.
TINY = f"""extends: {SMALL}
name: tiny
population: {{n_industrial: 200, n_services: 40}}
run: {{end: 2017-12}}
timeline: []
output: {{monthly_metrics: false}}
"""


def _command(*args: str, failpoints: str | None = None, **kwargs) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != ENV}
    if failpoints:
        env[ENV] = failpoints
    return subprocess.Popen([sys.executable, str(ROOT / "run.py"), *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, **kwargs)


def _finish(proc: subprocess.Popen, timeout: float = 240) -> tuple[int, str]:
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    return proc.returncode, err


def _sweep(tmp_path: Path, out: Path, *extra: str, failpoints: str | None = None,
           figures: bool = False) -> tuple[int, str]:
    spec = tmp_path / "faults.yaml"
    if not spec.exists():
        spec.write_text(SWEEP, encoding="utf-8")
    args = ["sweep", str(spec), "--out", str(out), "--workers", "2", "--quiet", *extra]
    if not figures:
        args.append("--no-figures")
    return _finish(_command(*args, failpoints=failpoints, cwd=tmp_path))


def _temporaries(path: Path) -> list[Path]:
    return sorted(path.rglob(TEMPORARY_GLOB))


@pytest.fixture(scope="module")
def unbroken(tmp_path_factory) -> bytes:
    """outputs.csv of the sweep run without faults."""
    tmp = tmp_path_factory.mktemp("unbroken")
    rc, err = _sweep(tmp, tmp / "out")
    assert rc == 0, err
    return (tmp / "out" / "outputs.csv").read_bytes()


def _assert_resumes(tmp_path: Path, out: Path, unbroken: bytes) -> None:
    rc, err = _sweep(tmp_path, out)
    assert rc == 0, err
    assert (out / "outputs.csv").read_bytes() == unbroken
    assert json.loads((out / "experiment.json").read_text(encoding="utf-8"))["finished"]
    assert _temporaries(out) == []


# ------------------------------------------------------------------- kill points


@pytest.mark.parametrize("point", ["experiment.record", "experiment.runs",
                                   "run.write@s00001-r00", "table.write@outputs.csv"])
def test_a_sweep_killed_at_each_stage_resumes_to_the_unbroken_results(tmp_path, unbroken,
                                                                      point):
    out = tmp_path / "out"
    rc, _ = _sweep(tmp_path, out, failpoints=f"{point}=kill")
    assert rc == -signal.SIGKILL
    assert not (out / "outputs.csv").exists()
    if point.startswith(("run.write", "table.write")):
        assert _temporaries(out), "the kill left no temporary file: the point was not reached"
    _assert_resumes(tmp_path, out, unbroken)


def test_force_starts_over_from_any_kill_point(tmp_path, unbroken):
    out = tmp_path / "out"
    rc, _ = _sweep(tmp_path, out, failpoints="experiment.record=kill")
    assert rc == -signal.SIGKILL
    rc, err = _sweep(tmp_path, out, "--force")
    assert rc == 0, err
    assert (out / "outputs.csv").read_bytes() == unbroken


def test_a_directory_left_by_an_older_version_before_its_record_is_taken_over(tmp_path,
                                                                             unbroken):
    # Older versions made runs/ before experiment.json; a kill in between left this.
    out = tmp_path / "out"
    (out / "runs" / ".s00000-r00.tmp-123").mkdir(parents=True)
    _assert_resumes(tmp_path, out, unbroken)


def test_a_directory_of_other_files_is_never_taken_even_with_force(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me", encoding="utf-8")
    rc, err = _sweep(tmp_path, out, "--force")
    assert rc == 2
    assert "is not an experiment directory" in err
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


# ------------------------------------------------------------------ dying workers


@pytest.mark.parametrize("retries", [0, 2])
def test_a_worker_killed_every_time_fails_only_its_run(tmp_path, unbroken, retries):
    out = tmp_path / "out"
    rc, err = _sweep(tmp_path, out, "--retries", str(retries),
                     failpoints="run.start@s00001-r01=kill")
    assert rc == 1
    lines = err.strip().splitlines()
    assert "Traceback" not in err
    assert lines[-1] == (
        f"error: 1 of {RUNS} runs failed (first: s00001-r01: the worker process running it "
        f"died {'once' if retries == 0 else f'{1 + retries} times'}: killed by SIGKILL "
        "(as the out-of-memory killer does)); "
        f"the other runs are saved in {out}: rerun the same command to retry the failed ones")
    finished = sorted(p.parent.name for p in (out / "runs").glob("*/manifest.json"))
    assert len(finished) == RUNS - 1
    assert "s00001-r01" not in finished
    record = json.loads((out / "experiment.json").read_text(encoding="utf-8"))
    assert record["failed"] == ["s00001-r01"]
    _assert_resumes(tmp_path, out, unbroken)  # the fault is gone: the rerun completes


def test_a_worker_killed_once_is_retried_and_the_sweep_completes(tmp_path, unbroken):
    # Kill one pool worker from outside while runs are in flight, as the OOM killer would.
    spec = tmp_path / "faults.yaml"
    spec.write_text(SWEEP.replace("samples: 3", "samples: 12"), encoding="utf-8")
    out = tmp_path / "out"
    proc = _command("sweep", str(spec), "--out", str(out), "--workers", "2", "--quiet",
                    "--no-figures", cwd=tmp_path)
    deadline = time.monotonic() + 120
    killed = None
    while killed is None and proc.poll() is None and time.monotonic() < deadline:
        workers = _children(proc.pid)
        if workers and (out / "runs").is_dir() and any((out / "runs").iterdir()):
            killed = workers[0]
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.02)
    rc, err = _finish(proc)
    assert killed is not None, "no worker was seen"
    assert rc == 0, err
    assert len(list((out / "runs").glob("*/manifest.json"))) == 24


def _children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


# ---------------------------------------------------------------------- interrupts


@pytest.mark.parametrize("point", ["experiment.runs", "run.write@s00001-r00",
                                   "table.write@outputs.csv", "figures.drawn"])
def test_an_interrupted_sweep_says_so_and_resumes(tmp_path, unbroken, point):
    out = tmp_path / "out"
    rc, err = _sweep(tmp_path, out, failpoints=f"{point}=interrupt", figures=True)
    assert rc == 130
    assert err.strip().splitlines()[-1].startswith("interrupted; the finished runs are kept")
    assert _temporaries(out) == []
    assert not json.loads((out / "experiment.json").read_text(encoding="utf-8"))["finished"]
    _assert_resumes(tmp_path, out, unbroken)


@pytest.mark.parametrize("point", ["figures.drawn", None])
def test_an_interrupted_run_leaves_nothing(tmp_path, point):
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY, encoding="utf-8")
    out = tmp_path / "results"
    proc = _command("run", str(scenario), "--out", str(out), "--quiet", cwd=tmp_path,
                    failpoints=f"{point}=interrupt" if point else None)
    if point is None:  # Ctrl-C from outside while figures are drawn
        deadline = time.monotonic() + 120
        while not list(out.rglob("figures/*.png")) and time.monotonic() < deadline:
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGINT)
    rc, err = _finish(proc)
    assert rc == 130
    assert err.strip().splitlines()[-1] == "interrupted; nothing was written"
    assert not out.exists() or list(out.rglob("*")) == []


# ----------------------------------------------------------------------- concurrency


def test_two_runs_in_the_same_second_get_their_own_directories(tmp_path):
    base = tmp_path / "results"
    first, second = RunDirectory.new(base, "x"), RunDirectory.new(base, "x")
    assert first.final == second.final  # neither is there yet
    for run in (first, second):
        (run.tmp / "manifest.json").write_text("{}", encoding="utf-8")
    a, b = first.commit(), second.commit()
    assert a != b
    assert b.name == f"{a.name}-1"
    assert sorted(p.name for p in (base / "x").iterdir()) == sorted([a.name, b.name])


def test_two_run_commands_on_one_out_both_finish(tmp_path):
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY, encoding="utf-8")
    out = tmp_path / "results"
    procs = [_command("run", str(scenario), "--out", str(out), "--quiet", "--no-figures",
                      cwd=tmp_path) for _ in range(2)]
    for proc in procs:
        rc, err = _finish(proc)
        assert rc == 0, err
    runs = list((out / "tiny").iterdir())
    assert len(runs) == 2
    assert all((r / "manifest.json").is_file() for r in runs)


def test_a_second_sweep_on_a_busy_directory_exits_2_and_the_first_finishes(tmp_path,
                                                                          unbroken):
    spec = tmp_path / "faults.yaml"
    spec.write_text(SWEEP, encoding="utf-8")
    out = tmp_path / "out"
    first = _command("sweep", str(spec), "--out", str(out), "--workers", "2", "--quiet",
                     "--no-figures", cwd=tmp_path)
    deadline = time.monotonic() + 120
    while not (out / "experiment.json").exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    rc, err = _sweep(tmp_path, out)
    assert rc == 2
    assert err.startswith(f"error: {out.name}: output directory is in use by mujun sweep "
                          f"(pid {first.pid} on ")  # the path as given, relative to cwd
    rc, err = _finish(first)
    assert rc == 0, err
    assert (out / "outputs.csv").read_bytes() == unbroken


def test_a_lock_held_by_a_dead_process_is_taken_over(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from simulator.results import DirectoryLock; "
        f"DirectoryLock({str(tmp_path / 'd')!r}, 'holder').acquire(); "
        "print('held', flush=True); time.sleep(60)")], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(Exception, match=r"in use by holder \(pid \d+ on "):
        DirectoryLock(tmp_path / "d", "me").acquire()
    holder.kill()
    holder.wait()
    with DirectoryLock(tmp_path / "d", "me"):
        pass


# ------------------------------------------------------------------- damaged results


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    """A run directory with figures and firm snapshots (written once for these tests)."""
    from simulator import load_scenario
    from simulator.experiment import run_scenario

    tmp = tmp_path_factory.mktemp("run")
    scenario_file = tmp / "tiny.yaml"
    scenario_file.write_text(TINY, encoding="utf-8")
    return run_scenario(load_scenario(scenario_file), out=tmp / "results")


def _copy(run: Path, tmp_path: Path) -> Path:
    import shutil

    return Path(shutil.copytree(run, tmp_path / "run"))


def _flip_byte(path: Path, at: float = 0.5) -> None:
    data = bytearray(path.read_bytes())
    i = int(len(data) * at)
    data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def _cli(*args: str) -> tuple[int, str]:
    proc = subprocess.run([sys.executable, str(ROOT / "run.py"), *args], capture_output=True,
                          text=True, timeout=240)
    return proc.returncode, proc.stderr.strip()


def _forget_checksum(run: Path, name: str) -> None:
    """Drop ``name`` from the manifest's checksums (a run of a version before them)."""
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    del manifest["files"][name]
    (run / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def test_every_file_of_a_run_has_its_checksum_in_the_manifest(finished_run):
    from simulator.results import file_digest

    files = json.loads((finished_run / "manifest.json").read_text(encoding="utf-8"))["files"]
    on_disk = sorted(p.relative_to(finished_run).as_posix() for p in finished_run.rglob("*")
                     if p.is_file() and p.name != "manifest.json")
    assert sorted(files) == on_disk
    assert {"metrics.parquet", "firms.parquet", "scenario.yaml",
            "figures/indicators.png"} <= set(files)
    assert all(files[name] == file_digest(finished_run / name) for name in files)


@pytest.mark.parametrize(("name", "command"), [
    ("metrics.parquet", "plot"), ("metrics.parquet", "report"), ("scenario.yaml", "report"),
    ("firms.parquet", "card"), ("figures/indicators.png", "report")])
def test_a_damaged_file_is_an_error_naming_it(finished_run, tmp_path, name, command):
    run = _copy(finished_run, tmp_path)
    _flip_byte(run / name)  # inside the data: a Parquet footer stays readable
    args = [command, str(run)] + (["--firm", "1"] if command == "card" else [])
    rc, err = _cli(*args)
    assert rc == 2
    assert err == (f"error: {run / name}: {name} is damaged: its SHA-256 checksum differs "
                   "from the one manifest.json recorded when it was written")


def test_a_value_changed_inside_a_compressed_page_is_caught(finished_run, tmp_path):
    import pandas as pd

    run = _copy(finished_run, tmp_path)
    metrics = pd.read_parquet(run / "metrics.parquet")
    metrics.loc[metrics.index[-1], "value"] += 1.0  # a valid file, one number changed
    metrics.to_parquet(run / "metrics.parquet", index=False, compression="zstd")
    rc, err = _cli("plot", str(run))
    assert rc == 2
    assert "metrics.parquet is damaged" in err


def test_damaged_pages_of_a_file_without_a_checksum_are_an_error_naming_it(finished_run,
                                                                          tmp_path):
    run = _copy(finished_run, tmp_path)
    _forget_checksum(run, "metrics.parquet")
    _flip_byte(run / "metrics.parquet", at=0.3)
    rc, err = _cli("plot", str(run))
    assert rc == 2
    assert err.startswith(f"error: {run / 'metrics.parquet'}: cannot read metrics.parquet")
    assert "\n" not in err


def test_a_text_value_column_is_an_error_naming_the_column(finished_run, tmp_path):
    import pandas as pd

    run = _copy(finished_run, tmp_path)
    _forget_checksum(run, "metrics.parquet")
    metrics = pd.read_parquet(run / "metrics.parquet")
    metrics["value"] = metrics["value"].astype(str)
    metrics.to_parquet(run / "metrics.parquet", index=False)
    for command in ("plot", "report"):
        rc, err = _cli(command, str(run))
        assert rc == 2
        assert err.startswith(f"error: {run / 'metrics.parquet'}: metrics.parquet: column "
                              "'value' holds text (e.g. '")


def test_snapshots_without_a_column_the_card_reads_are_an_error(finished_run, tmp_path):
    import pandas as pd

    run = _copy(finished_run, tmp_path)
    _forget_checksum(run, "firms.parquet")
    pd.read_parquet(run / "firms.parquet").drop(columns="class").to_parquet(
        run / "firms.parquet", index=False)
    rc, err = _cli("card", str(run), "--firm", "1")
    assert rc == 2
    assert err == (f"error: {run / 'firms.parquet'}: firms.parquet lacks column class")


def test_figures_being_a_file_is_an_error(finished_run, tmp_path):
    import shutil

    run = _copy(finished_run, tmp_path)
    shutil.rmtree(run / "figures")
    (run / "figures").write_text("not a directory", encoding="utf-8")
    rc, err = _cli("plot", str(run))
    assert rc == 2
    assert err == (f"error: {run / 'figures'}: figures is a file, not a directory: move it "
                   "away to draw the figures")


def test_a_card_needs_the_manifest(finished_run, tmp_path):
    run = _copy(finished_run, tmp_path)
    (run / "manifest.json").unlink()
    rc, err = _cli("card", str(run), "--firm", "1")
    assert rc == 2
    assert "manifest.json is missing" in err


def test_redrawn_figures_keep_the_manifest_true(finished_run, tmp_path):
    run = _copy(finished_run, tmp_path)
    rc, err = _cli("plot", str(run), "--lang", "zh")  # other labels: other bytes
    assert rc == 0, err
    rc, err = _cli("report", str(run))
    assert rc == 0, err


def test_a_damaged_sweep_table_is_an_error_naming_it(tmp_path):
    out = tmp_path / "out"
    rc, err = _sweep(tmp_path, out)
    assert rc == 0, err
    text = (out / "outputs.csv").read_text(encoding="utf-8").splitlines()
    text[1] = text[1].rsplit(",", 1)[0] + ",abc"  # a text cell where a number belongs
    (out / "outputs.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    rc, err = _cli("report", str(out))
    assert rc == 2
    assert err == (f"error: {out / 'outputs.csv'}: outputs.csv is damaged: its SHA-256 "
                   "checksum differs from the one experiment.json recorded when it was "
                   "written")
    record = json.loads((out / "experiment.json").read_text(encoding="utf-8"))
    del record["files"]["outputs.csv"]  # as written before checksums
    (out / "experiment.json").write_text(json.dumps(record), encoding="utf-8")
    rc, err = _cli("report", str(out))
    assert rc == 2
    assert err.startswith(f"error: {out / 'outputs.csv'}: outputs.csv: column ")
    assert err.endswith("holds 'abc', not a number")


def test_a_damaged_stored_run_stops_the_experiment_that_reads_it(tmp_path):
    out = tmp_path / "out"
    rc, err = _sweep(tmp_path, out)
    assert rc == 0, err
    _flip_byte(out / "runs" / "s00001-r00" / "metrics.parquet")
    rc, err = _sweep(tmp_path, out)  # resumes: every run is finished, the tables are redone
    assert rc == 2
    assert "s00001-r00/metrics.parquet: metrics.parquet is damaged" in err


def test_a_stamped_directory_taken_meanwhile_gets_a_suffix_but_a_named_one_fails(tmp_path):
    # run, calibrate and backtest name their directory by the second; another process
    # committing the same name first gets the next suffix, counted from the stamp.
    base = tmp_path / "results"
    first = RunDirectory.new(base, "x")
    stamp = first.final.name
    (base / "x" / stamp).mkdir()
    (base / "x" / stamp / "manifest.json").write_text("{}", encoding="utf-8")
    (first.tmp / "manifest.json").write_text("{}", encoding="utf-8")
    assert first.commit().name == f"{stamp}-1"
    named = RunDirectory(tmp_path / "mine")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "other").write_text("", encoding="utf-8")
    with pytest.raises(OSError, match="Directory not empty"):
        named.commit()
    named.abort()

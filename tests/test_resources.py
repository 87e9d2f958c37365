"""Run-size estimates, and the refusal of runs too large for the machine."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from simulator.cli import main
from simulator.experiment import resources
from simulator.experiment.resources import RunEstimate, check_fits, estimate_run
from simulator.scenario import ScenarioError, apply_changes, load_scenario

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "tests" / "scenarios" / "small.yaml"


@pytest.fixture(scope="module")
def small():
    return load_scenario(SMALL)


def bare(scenario, n_industrial: int, n_services: int = 0):
    """``scenario`` with ``n`` firms and no markets, dynamics or snapshots."""
    changes = {"population.n_industrial": n_industrial, "population.n_services": n_services,
               "dynamics.enabled": False, "output.firm_snapshots": False,
               "markets.energy.enabled": False}
    changes.update({f"markets.emissions.{p}.enabled": False
                    for p in scenario.markets.emissions})
    return apply_changes(scenario, changes)


def test_a_bare_run_costs_its_process_and_950_bytes_a_firm(small):
    # 4 years, 10^5 firms, nothing but the yearly mechanisms: 330 MB + 10^5 x 950 B, and
    # 2.5 s + 4 x 10^5 firm-years x 5.3e-6 s x 0.38 (the base mechanisms' share).
    est = estimate_run(bare(small, 80_000, 20_000), figures=False)
    assert est.peak_bytes == pytest.approx(330e6 + 1e5 * 950)
    assert est.seconds == pytest.approx(2.5 + 4e5 * 5.3e-6 * 0.38)
    assert est.firms == 100_000
    assert estimate_run(bare(small, 80_000, 20_000)).peak_bytes == pytest.approx(
        330e6 + 80e6 + 1e5 * 950)  # the figures


@pytest.mark.parametrize("bare_run", [True, False], ids=["bare", "small.yaml"])
def test_the_estimate_grows_linearly_in_firms(small, bare_run):
    def at(n: int) -> RunEstimate:
        s = bare(small, n) if bare_run else apply_changes(small, {"population.n_industrial": n})
        return estimate_run(s)

    one, two, three = at(100_000), at(200_000), at(300_000)
    assert two.peak_bytes - one.peak_bytes == pytest.approx(three.peak_bytes - two.peak_bytes)
    assert two.seconds - one.seconds == pytest.approx(three.seconds - two.seconds)
    assert two.peak_bytes - one.peak_bytes > 1e5 * 900  # at least the bare firm state
    assert two.seconds > one.seconds


def test_entrants_markets_and_snapshots_each_add_memory(small):
    base = bare(small, 100_000)
    plain = estimate_run(base).peak_bytes
    # Five markets: 180 B a firm each.
    markets = apply_changes(base, {"markets.energy.enabled": True})
    assert estimate_run(markets).peak_bytes - plain == pytest.approx(1e5 * 180)
    # Snapshots, one replication: this year's table and the writer's copy, 364 B a row.
    snaps = apply_changes(markets, {"output.firm_snapshots": True})
    assert estimate_run(snaps).peak_bytes - estimate_run(markets).peak_bytes == (
        pytest.approx(2 * 1e5 * (300 + 64)))
    # Dynamics: 1,000 B a firm, and every candidate (40 per 1,000 industrial firms a year,
    # 4 years) counted as a firm.
    dynamic = apply_changes(base, {"dynamics.enabled": True})
    est = estimate_run(dynamic)
    assert est.firms == 100_000 + 4 * 4_000
    assert est.peak_bytes - plain == pytest.approx(1e5 * 1000 + 16_000 * 1950)


def test_replications_in_parallel_hold_a_process_and_a_run_each(small):
    s = apply_changes(bare(small, 100_000), {"output.firm_snapshots": True})
    one = estimate_run(s, figures=False)
    four = estimate_run(s, replications=4, workers=2, figures=False)
    years, table = 4, 1e5 * 300
    run = 1e5 * 950
    # Two workers each with a process, a run and its years twice (kept and concatenated);
    # the parent receives up to two runs' years.
    assert four.peak_bytes == pytest.approx(330e6 + 2 * years * table
                                            + 2 * (330e6 + run + 2 * years * table))
    assert one.peak_bytes == pytest.approx(330e6 + run + 2 * table)
    # Two waves of two runs.
    assert four.seconds - 2.5 == pytest.approx(2 * (one.seconds - 2.5))


def test_a_dask_run_holds_only_the_parent_here(small):
    s = apply_changes(bare(small, 100_000), {"output.firm_snapshots": True})
    est = estimate_run(s, replications=3, workers=3, executor="dask", figures=False)
    assert est.peak_bytes == pytest.approx(330e6 + 3 * 4 * 1e5 * 300)


def test_check_fits_refuses_only_beyond_the_available_memory(monkeypatch):
    monkeypatch.setattr(resources, "available_memory_bytes", lambda: 2_000_000_000)
    check_fits(RunEstimate(peak_bytes=1.9e9, seconds=5.0, firms=10), file="s.yaml")
    with pytest.raises(ScenarioError) as info:
        check_fits(RunEstimate(peak_bytes=2.5e9, seconds=5.0, firms=1_000_000), file="s.yaml")
    assert info.value.message == (
        "needs an estimated 2.5 GB of memory at its peak (up to 1,000,000 firms), more than "
        "the 2.0 GB available; reduce the firms, years or replications, or use --force to run "
        "anyway")
    check_fits(RunEstimate(peak_bytes=2.5e9, seconds=5.0, firms=10), force=True)
    monkeypatch.setattr(resources, "available_memory_bytes", lambda: None)
    check_fits(RunEstimate(peak_bytes=1e15, seconds=5.0, firms=10))  # unknown: never refused


def test_available_memory_is_memavailable(monkeypatch):
    meminfo = "MemTotal:       24731408 kB\nMemAvailable:    2000000 kB\n"
    monkeypatch.setattr(resources, "open", lambda *a, **k: io.StringIO(meminfo), raising=False)
    assert resources.available_memory_bytes() == 2_000_000 * 1024


def test_available_memory_falls_back_to_physical_memory_then_to_none(monkeypatch):
    def no_meminfo(*args, **kwargs):
        raise OSError("no /proc here")

    monkeypatch.setattr(resources, "open", no_meminfo, raising=False)
    sizes = {"SC_PHYS_PAGES": 1000, "SC_PAGE_SIZE": 4096}
    monkeypatch.setattr(resources.os, "sysconf", sizes.__getitem__)
    assert resources.available_memory_bytes() == 4_096_000

    def unknown(name):
        raise ValueError(name)

    monkeypatch.setattr(resources.os, "sysconf", unknown)
    assert resources.available_memory_bytes() is None


def huge_scenario(tmp_path: Path) -> Path:
    path = tmp_path / "huge.yaml"
    path.write_text(f"extends: {SMALL}\nname: huge\n"
                    "population: {n_industrial: 20000000, n_services: 20000000}\n",
                    encoding="utf-8")
    return path


def test_validate_refuses_a_scenario_too_large_with_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(resources, "available_memory_bytes", lambda: 8_000_000_000)
    monkeypatch.chdir(tmp_path)
    path = huge_scenario(tmp_path)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    expected = estimate_run(load_scenario(path))
    assert err == (f"error: huge.yaml: needs an estimated {expected.peak_bytes / 1e9:.1f} GB "
                   f"of memory at its peak (up to {expected.firms:,} firms), more than the "
                   "8.0 GB available; reduce the firms, years or replications, or use --force "
                   "to run anyway\n")
    assert expected.peak_bytes > 40e6 * 950  # 20 + 20 million firms, at least their state
    # --force accepts it, and the success line carries the estimate.
    assert main(["validate", str(path), "--force"]) == 0
    assert capsys.readouterr().out.strip().endswith(f", {expected.describe()}")


def test_run_refuses_what_does_not_fit_before_writing_and_force_runs_it(tmp_path, capsys,
                                                                       monkeypatch):
    # A tiny run on a machine that claims 1 MB (so that a broken check runs a tiny run, not
    # 40 million firms): refused with one line and nothing written, then run with --force.
    monkeypatch.setattr(resources, "available_memory_bytes", lambda: 1_000_000)
    tiny = tmp_path / "tiny.yaml"
    tiny.write_text(f"extends: {SMALL}\nname: tiny\npopulation: {{n_industrial: 80, "
                    "n_services: 20}\nrun: {start: 2017-01, end: 2017-12}\ntimeline: []\n",
                    encoding="utf-8")
    out = tmp_path / "results"
    args = ["run", str(tiny), "--out", str(out), "--quiet", "--no-figures"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert err.count("\n") == 1
    # 100 firms and 3 candidate projects (40 a year per 1,000 industrial firms, one year).
    assert "GB of memory at its peak (up to 103 firms), more than the 0.0 GB available" in err
    assert not out.exists()
    assert main([*args, "--force"]) == 0
    runs = list((out / "tiny").iterdir())
    assert len(runs) == 1
    assert (runs[0] / "metrics.parquet").exists()


def test_validate_prints_the_estimate_of_the_scenario(capsys):
    assert main(["validate", str(SMALL)]) == 0
    line = capsys.readouterr().out.strip()
    est = estimate_run(load_scenario(SMALL))
    # small.yaml has one timeline change: the singular, then the estimate.
    assert line.endswith(f"(2017-01 to 2020-12, 1 timeline change), {est.describe()}")
    assert est.describe() == f"est. {est.peak_bytes / 1e9:.1f} GB peak, ~{est.seconds:.0f} s"

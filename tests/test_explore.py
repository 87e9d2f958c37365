"""The interactive explorer: levers <-> scenario fields, the run size, saved variants, the app.

The last test drives the app end to end in a real headless browser (Debian's
chromium through Playwright): start ``python run.py explore``, move a lever,
see a figure and the difference table change, save the variant and load it
back with ``validate``.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from simulator.cli import main
from simulator.explore import (
    Explorer,
    apply_levers,
    explorer_size,
    lever_changes,
    levers_for,
    read_levers,
    small_scenario,
)
from simulator.explore.app import save_view, variant_view
from simulator.explore.levers import clamp, timeline_notes
from simulator.explore.texts import size_text
from simulator.markets.allocation import cap_for_year
from simulator.scenario import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
COUNTY = ROOT / "scenarios" / "small_county.yaml"


@pytest.fixture(scope="module")
def base():
    return load_scenario(BASELINE)


@pytest.fixture(scope="module")
def levers(base):
    return {lever.key: lever for lever in levers_for(base)}


# ---------------------------------------------------------------- levers


def test_levers_cover_surcharges_weights_and_every_market(levers):
    groups = {lever.group for lever in levers.values()}
    assert groups == {"electricity", "water", "weights", "market:energy", "market:cod",
                      "market:nh3n", "market:so2", "market:nox"}
    assert levers["electricity.D"].base_value == 0.3      # baseline.yaml, 浙政办发〔2019〕62号
    assert levers["water.D"].base_value == 0.6
    assert levers["weight.tax_per_mu"].base_value == 30
    assert levers["cap_share.cod"].base_value == 0.8786
    assert levers["floor.energy"].base_value == 500
    # the floor stays below the reserve's first release trigger (energy: 2,000 yuan/tce)
    assert levers["floor.energy"].maximum == 1950
    assert levers["floor.nox"].maximum < 6300


def test_lever_values_map_to_scenario_fields_and_back(base, levers):
    values = {"electricity.D": 0.55, "water.C": 0.4, "weight.rd_share": 25,
              "cap_share.energy": 0.9, "floor.so2": 800}
    changes = lever_changes(base, list(levers.values()), values)
    assert changes == {
        "tariffs.electricity.class_surcharge_yuan_per_kwh.D": 0.55,
        "tariffs.water.class_sewage_surcharge_yuan_per_m3.C": 0.4,
        "evaluation.weights_above_scale.rd_share": 25.0,
        "markets.energy.cap.first_year_share_of_baseline": 0.9,
        "markets.emissions.so2.price.floor_yuan_per_unit": 800.0,
    }
    variant = apply_levers(base, list(levers.values()), values)
    assert variant.tariffs.electricity.class_surcharge_yuan_per_kwh.D == 0.55
    assert variant.evaluation.weights_above_scale["rd_share"] == 25
    back = read_levers(variant, list(levers.values()), base)
    assert back == {k: values.get(k, lever.base_value) for k, lever in levers.items()}


def test_levers_at_their_base_values_change_nothing(base, levers):
    values = {k: lever.base_value for k, lever in levers.items()}
    assert lever_changes(base, list(levers.values()), values) == {}
    # a base value off the slider's grid (a fitted 0.8786 on steps of 0.01) is kept
    assert clamp(levers["cap_share.cod"], 0.88) == 0.8786
    assert clamp(levers["cap_share.cod"], 0.89) == 0.89


def test_cap_tightening_cuts_the_whole_cap_path_by_its_share_a_year(base, levers):
    values = {"cap_tightening.energy": 2.0, "cap_tightening.cod": 2.0}
    changes = lever_changes(base, list(levers.values()), values)
    # after the plan's last year the decline compounds: 1 - (1 - 0.0165) x 0.98
    assert changes["markets.emissions.cod.cap.annual_decline"] == pytest.approx(0.03617)
    variant = apply_levers(base, list(levers.values()), values)
    for quota in ("energy", "cod"):
        old, new = base.markets.of(quota).cap, variant.markets.of(quota).cap
        for year in range(2017, 2031):
            ratio = (cap_for_year(new, year=year, first_year=2017, baseline_total=1.0)
                     / cap_for_year(old, year=year, first_year=2017, baseline_total=1.0))
            assert ratio == pytest.approx(0.98 ** (year - 2017), rel=1e-6), (quota, year)
    back = read_levers(variant, list(levers.values()), base)
    assert back["cap_tightening.energy"] == 2.0
    assert back["cap_tightening.cod"] == 2.0


def test_lever_values_are_clamped_to_the_widget_ranges(base, levers):
    all_levers = list(levers.values())
    changes = lever_changes(base, all_levers, {"electricity.D": 7, "water.D": -1,
                                               "floor.energy": 1e9, "weight.va_per_mu": "x"})
    assert changes == {"tariffs.electricity.class_surcharge_yuan_per_kwh.D": 1.0,
                       "tariffs.water.class_sewage_surcharge_yuan_per_m3.D": 0.0,
                       "markets.energy.price.floor_yuan_per_unit": 1950.0}


def test_every_weight_at_zero_is_an_input_error(base, levers):
    zero = {k: 0 for k in levers if k.startswith("weight.")}
    with pytest.raises(ScenarioError, match="at least one positive weight"):
        apply_levers(base, list(levers.values()), zero)


def test_a_lever_says_when_the_timeline_sets_its_field_later():
    strict = load_scenario(ROOT / "scenarios" / "strict_d_2019.yaml")
    notes = timeline_notes(strict, levers_for(strict))
    assert notes == {"electricity.D": [("2019-01", 0.6)]}


# ---------------------------------------------------------------- run size


def test_the_run_size_scales_the_firms_down_and_keeps_the_horizon(base):
    size = explorer_size(base, firms=200, replications=2)
    # 200 x 5,000 / 6,500 = 153.8 industrial firms
    assert (size.industrial, size.services, size.firms) == (154, 46, 200)
    assert (size.first_year, size.last_year, size.replications, size.scaled) == (
        2017, 2030, 2, True)
    small = small_scenario(base, size)
    assert (small.population.n_industrial, small.population.n_services) == (154, 46)
    assert small.run == base.run
    assert small.timeline == base.timeline
    assert not small.output.firm_snapshots
    assert not small.output.monthly_metrics
    assert small.tariffs == base.tariffs
    assert small.markets == base.markets


def test_a_population_already_small_enough_is_kept(base):
    size = explorer_size(load_scenario(COUNTY), firms=1000)
    assert (size.industrial, size.services, size.scaled) == (400, 100, False)
    with pytest.raises(ValueError, match="'firms' parameter"):
        explorer_size(base, firms=1)


def test_the_page_states_the_run_size_in_both_languages(base):
    size = explorer_size(base, firms=200, replications=1)
    assert size_text(size, 6500, "en") == (
        "200 firms (154 industrial, 46 services), 2017–2030; 1 replication (no interval); "
        "scaled down from 6,500 firms so that a run answers in seconds")
    assert size_text(explorer_size(base, replications=3), 6500, "zh").startswith(
        "1,000 家企业（工业 769 家、服务业 231 家），2017—2030 年，3 次重复模拟")


def test_explorer_runs_the_variant_against_the_baseline_with_paired_draws():
    explorer = Explorer(load_scenario(COUNTY), firms=120, replications=2)
    same = explorer.compare({})
    last = same.differences[same.differences["year"] == 2020]
    assert (last["mean"] == 0).all()  # no lever moved: the same draws give the same runs
    higher = explorer.compare({"electricity.D": 0.9})
    revenue = higher.differences.set_index(["metric", "group", "year"]).loc[
        ("differential_revenue_yuan", "all", 2020)]
    assert revenue["mean"] > 0  # D firms pay 0.6 yuan/kWh more on every kWh
    assert higher.changes == {"tariffs.electricity.class_surcharge_yuan_per_kwh.D": 0.9}
    assert explorer.compare({"electricity.D": 0.9}).seconds == 0  # from memory


def test_a_variant_that_cannot_run_shows_its_error(base):
    explorer = Explorer(load_scenario(COUNTY), firms=60, replications=1)
    zero = {lv.key: 0 for lv in explorer.levers if lv.key.startswith("weight.")}
    view = variant_view(explorer, zero, lang="zh")
    assert view["error"]
    assert view["status"].startswith("方案无法运行")
    assert "at least one positive weight" in view["status"]


# ---------------------------------------------------------------- saved variants


def test_the_saved_variant_records_only_the_changes(tmp_path):
    explorer = Explorer(load_scenario(COUNTY), firms=60, replications=1)
    target = tmp_path / "elsewhere" / "county_variant.yaml"
    target.parent.mkdir()
    message, failed = save_view(explorer, {"electricity.D": 0.45, "cap_tightening.energy": 1},
                                base_file=COUNTY, name="county_variant", target=str(target))
    assert not failed, message
    assert message.startswith(f"Saved {target}")
    text = target.read_text(encoding="utf-8")
    assert "Differential electricity price: class surcharge, Class D: 0.30 -> 0.45 yuan/kWh" in text
    data = yaml.safe_load(text)
    assert set(data) == {"extends", "name", "description", "tariffs", "markets"}
    assert (target.parent / data["extends"]).resolve() == COUNTY.resolve()
    assert data["name"] == "county_variant"
    assert data["tariffs"] == {"electricity": {"class_surcharge_yuan_per_kwh": {"D": 0.45}}}
    assert set(data["markets"]["energy"]["cap"]) == {"annual_decline", "index_by_year"}
    loaded = load_scenario(target)
    expected = apply_levers(explorer.base, explorer.levers,
                            {"electricity.D": 0.45, "cap_tightening.energy": 1})
    assert loaded.model_dump(exclude={"name", "description"}) == expected.model_dump(
        exclude={"name", "description"})
    assert loaded.population.n_industrial == 400  # the base's full size, not the explorer's


def test_saving_refuses_the_base_file_a_bad_name_and_no_change(tmp_path):
    explorer = Explorer(load_scenario(COUNTY), firms=60, replications=1)
    moved = {"water.D": 1.0}
    message, failed = save_view(explorer, moved, base_file=COUNTY, name="x_variant",
                                target=str(COUNTY))
    assert failed
    assert "base scenario's own file" in message
    message, failed = save_view(explorer, moved, base_file=COUNTY, name="a variant",
                                target=str(tmp_path / "v.yaml"))
    assert failed
    assert message.startswith("Not saved")
    assert not (tmp_path / "v.yaml").exists()
    message, failed = save_view(explorer, {}, base_file=COUNTY, name="x_variant",
                                target=str(tmp_path / "v.yaml"))
    assert failed
    assert "nothing to save" in message
    message, failed = save_view(explorer, moved, base_file=COUNTY, name="x_variant",
                                target=str(tmp_path))  # a folder: <name>.yaml in it
    assert not failed
    assert (tmp_path / "x_variant.yaml").exists()


# ---------------------------------------------------------------- command line


def test_explore_without_dash_says_how_to_install_it(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "dash", None)  # import dash raises ImportError
    monkeypatch.delitem(sys.modules, "simulator.explore.app", raising=False)
    assert main(["explore", "--no-browser"]) == 2
    assert 'pip install -e ".[explore]"' in capsys.readouterr().err


def test_explore_refuses_a_size_too_small(capsys):
    assert main(["explore", str(COUNTY), "--firms", "1", "--no-browser"]) == 2
    assert "--firms must be at least 2" in capsys.readouterr().err


def test_explore_refuses_a_port_in_use(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["explore", str(COUNTY), "--no-browser", "--port", str(port)]) == 2
    assert f"cannot serve on 127.0.0.1:{port}" in capsys.readouterr().err


# ---------------------------------------------------------------- in a browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, server: subprocess.Popen, log: Path, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the explorer exited with status {server.returncode}:\n"
                                 f"{log.read_text(encoding='utf-8')}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"the explorer did not answer at {url} in {timeout} s")


def test_explorer_end_to_end_in_a_headless_browser(tmp_path, browser):
    port = _free_port()
    log_path = tmp_path / "server.log"
    log = log_path.open("w", encoding="utf-8")  # a file, not a pipe: it cannot fill up
    server = subprocess.Popen(
        [sys.executable, "run.py", "explore", str(COUNTY), "--no-browser", "--port", str(port),
         "--firms", "150", "--replications", "2"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True)
    saved = tmp_path / "saved" / "county_variant.yaml"
    try:
        url = f"http://127.0.0.1:{port}/"
        _wait_for(url, server, log_path)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        figure = "#figure-differences"
        page.wait_for_selector(f"{figure}[src^='data:image/png']", timeout=60_000)
        assert "150 firms" in page.inner_text("#size")
        before_src = page.get_attribute(figure, "src")
        before_table = page.inner_text("#table")
        changed = "s => document.querySelector('#figure-differences').src !== s"
        box = page.locator('[id*="electricity.D"] input[type=number]')
        box.fill("7")  # out of the slider's range 0-1: clamped to 1
        box.press("Enter")
        page.wait_for_function(changed, arg=before_src, timeout=60_000)
        assert box.input_value() == "1"
        assert page.inner_text("#table") != before_table
        assert "Fields changed from the baseline: 1" in page.inner_text("#status")
        clamped_src = page.get_attribute(figure, "src")
        clamped_table = page.inner_text("#table")
        box.fill("0.9")
        box.press("Enter")
        page.wait_for_function(changed, arg=clamped_src, timeout=60_000)
        assert page.inner_text("#table") != clamped_table
        page.fill("#save-path", str(saved))
        page.click("#save")
        page.wait_for_selector("#save-message:has-text('Saved')", timeout=30_000)
        page.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    check = subprocess.run([sys.executable, "run.py", "validate", str(saved)], cwd=ROOT,
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    data = yaml.safe_load(saved.read_text(encoding="utf-8"))
    assert data["name"] == "small_county_variant"
    assert data["tariffs"]["electricity"]["class_surcharge_yuan_per_kwh"]["D"] == 0.9
    assert "population" not in data

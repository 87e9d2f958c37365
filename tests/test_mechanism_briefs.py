"""A mechanism a scenario switches on is seen in the brief: its outputs and its figure.

The catalogue's ``when:`` paths name real schema fields with a default; a switch is on
when a scenario's value differs from it; a run brief tabulates the switched-on
mechanism's outputs; a comparison brief gives the outputs its reference lacks in a
table of their own (nothing to pair them with) and pairs those both scenarios have.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from simulator import catalogue, load_scenario, run_scenario
from simulator.experiment.comparison import compare
from simulator.reporting.brief import write_report
from simulator.reporting.mechanisms import mechanism_candidates, switched_on
from simulator.scenario import Scenario, apply_changes  # keeps the scenario's name
from simulator.scenario.paths import default_at

ROOT = Path(__file__).resolve().parents[1]
SMALL = {"population.n_industrial": 200, "population.n_services": 40,
         "run.start": "2017-01", "run.end": "2019-12"}


def test_every_when_path_of_the_catalogue_names_a_schema_field_with_a_default():
    whens = {e.when for e in catalogue.entries() if e.when}
    assert len(whens) >= 10
    for when in whens:
        concrete = when.replace("<market>", "energy")
        default_at(Scenario, concrete)  # raises KeyError on a misspelt path


def test_a_switch_is_on_when_it_differs_from_the_default():
    baseline = load_scenario(ROOT / "scenarios" / "baseline.yaml").model_dump(mode="json")
    assert not any(switched_on(baseline, e.when) for e in catalogue.entries() if e.when)
    routes = load_scenario(ROOT / "scenarios" / "exit_routes.yaml").model_dump(mode="json")
    assert switched_on(routes, "dynamics.exit.routes.enabled")
    trading = load_scenario(ROOT / "scenarios" / "region_trading.yaml").model_dump(mode="json")
    assert switched_on(trading, "markets.<market>.between_regions")  # cod: not_allowed
    assert not switched_on(trading, "dynamics.dual_control.mode")


def test_candidates_prefer_the_all_group_and_skip_what_is_considered():
    routes = load_scenario(ROOT / "scenarios" / "exit_routes.yaml").model_dump(mode="json")
    available = [("exits_closure", "all"), ("exits_closure", "class=D"),
                 ("exit_land_mu", "route=merger"), ("exit_land_mu", "route=closure"),
                 ("exits_merger", "all"), ("tax_wan_yuan", "all")]
    got = mechanism_candidates([routes], available, exclude=[("exits_merger", "all")])
    assert got == [("exits_closure", "all"), ("exit_land_mu", "route=closure"),
                   ("exit_land_mu", "route=merger")]


def _rows(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", " ", r) for r in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S)]


def test_a_run_brief_tabulates_the_switched_on_mechanisms_outputs(tmp_path):
    scenario = apply_changes(load_scenario(ROOT / "scenarios" / "land_contracts.yaml"), SMALL)
    run_dir = run_scenario(scenario, out=tmp_path, figures=False)
    html = write_report(run_dir, out=tmp_path / "brief.html").read_text(encoding="utf-8")
    rows = _rows(html)
    assert any("Land revenue (yuan)" in r for r in rows)
    assert any("Expansion land granted (mu)" in r for r in rows)
    assert 'alt="Land money received and paid' in html  # the land_contracts figure


@pytest.fixture(scope="module")
def comparison(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare")
    base = apply_changes(load_scenario(ROOT / "scenarios" / "baseline.yaml"), SMALL)
    routes = apply_changes(load_scenario(ROOT / "scenarios" / "exit_routes.yaml"), SMALL)
    return compare([base, routes], replications=2, out=out, figures=False)


def test_a_comparison_brief_gives_the_outputs_its_reference_lacks_their_own_table(comparison):
    html = write_report(comparison, out=comparison / "brief.html").read_text(encoding="utf-8")
    assert "What exit_routes switches on that baseline does not" in html
    section = html.split("What exit_routes switches on that baseline does not", 1)[1]
    table = section.split("</table>", 1)[0]
    assert "exits by closure" in table
    assert "exits by merger" in table
    chinese = write_report(comparison, lang="zh",
                           out=comparison / "brief_zh.html").read_text(encoding="utf-8")
    assert "exit_routes 启用而 baseline 未启用的机制" in chinese

"""Warnings about slack and administratively priced markets (simulator/reporting/diagnostics.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from simulator import apply_changes, load_scenario
from simulator.cli import main
from simulator.reporting.diagnostics import market_warnings, projected_warnings

ROOT = Path(__file__).resolve().parents[1]


def _metrics(rows):
    return pd.DataFrame([{"year": y, "month": pd.NA, "scenario": "s", "replication": 0,
                          "group": f"market={q}", "metric": m, "value": v}
                         for q, y, m, v in rows])


def test_a_cap_that_never_binds_and_a_pinned_market_get_one_line_each():
    rows = []
    for year in (2017, 2018):
        rows += [("cod", year, "quota_unabated_use", 90.0), ("cod", year, "quota_cap", 100.0),
                 ("cod", year, "auctions_cleared", 3), ("cod", year,
                                                        "auctions_administrative_share", 0.0),
                 ("nox", year, "quota_unabated_use", 120.0), ("nox", year, "quota_cap", 100.0),
                 ("nox", year, "auctions_cleared", 4),
                 ("nox", year, "auctions_administrative_share", 0.75)]
    lines = market_warnings(_metrics(rows))
    assert len(lines) == 2
    assert lines[0].startswith("market cod: the cap never binds in 2017-2018")
    assert lines[1].startswith("market nox: 75% of the auctions that traded in 2017-2018")


def test_a_market_that_binds_and_is_priced_by_firms_gets_no_warning():
    rows = [("so2", 2017, "quota_unabated_use", 101.0), ("so2", 2017, "quota_cap", 100.0),
            ("so2", 2017, "auctions_cleared", 4), ("so2", 2017,
                                                   "auctions_administrative_share", 0.25)]
    assert market_warnings(_metrics(rows)) == []


def test_a_loose_cap_is_projected_never_to_bind_before_any_run(tmp_path, capsys):
    s = load_scenario(ROOT / "tests" / "scenarios" / "small.yaml")
    loose = apply_changes(s, {"markets.emissions.so2.cap.first_year_share_of_baseline": 3.0})
    lines = projected_warnings(loose)
    assert any(line.startswith("market so2: projected never to bind") for line in lines)
    path = tmp_path / "loose.yaml"
    path.write_text(f"extends: {ROOT / 'tests' / 'scenarios' / 'small.yaml'}\nname: loose\n"
                    "markets: {emissions: {so2: {cap: {first_year_share_of_baseline: 3.0}}}}\n",
                    encoding="utf-8")
    assert main(["validate", str(path), "--project"]) == 0
    err = capsys.readouterr().err
    assert "warning: market so2: projected never to bind" in err

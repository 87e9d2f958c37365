"""Exit routes (dynamics.exit.routes): closure, relocation (转移) and merger (兼并重组)."""

from __future__ import annotations

from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.dynamics import routes
from simulator.dynamics.routes import CLOSURE, MERGER, RELOCATION
from simulator.engine import calendar
from simulator.firms import CLASS_CODES, UNRATED
from simulator.markets.ledger import QuotaLedger
from simulator.plots import exit_route_figures, plot_exit_routes
from simulator.scenario import apply_changes, load_scenario
from simulator.scenario.dynamics import ExitRoutesSpec, ExitSpec
from simulator.scenario.errors import ScenarioError

mpl.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
A, B, C, D = (CLASS_CODES[c] for c in "ABCD")


@pytest.fixture(scope="module")
def small():
    s = load_scenario(ROOT / "tests" / "scenarios" / "small.yaml")
    return apply_changes(s, {"timeline": [], "population.n_industrial": 200,
                             "population.n_services": 20})


@pytest.fixture(scope="module")
def population(small):
    return calendar.start(small, replication=0).firms


def first(firms, k: int):
    """A copy of the first ``k`` firms."""
    return firms.select(np.arange(firms.n) < k)


def spec(**routes_) -> ExitRoutesSpec:
    return ExitRoutesSpec(enabled=True, **routes_)


# ------------------------------------------------------------------ the schema


def test_routes_are_off_by_default_and_every_exit_is_a_closure():
    assert ExitSpec().routes.enabled is False


def test_relocation_and_merger_probabilities_must_not_exceed_one(small):
    with pytest.raises(ScenarioError, match="relocation and merger probabilities of D sum to 1.2"):
        apply_changes(small, {"dynamics.exit.routes.d_grace": {
            "relocation_by_class": {"D": 0.6}, "merger_by_class": {"D": 0.6}}})


def test_the_example_scenario_switches_routes_on_and_extends_the_baseline():
    s = load_scenario(ROOT / "scenarios" / "exit_routes.yaml")
    assert s.dynamics.exit.routes.enabled
    assert "answers" in s.description
    assert (ROOT / "simulator" / "scenarios" / "exit_routes.yaml").read_text() == \
        (ROOT / "scenarios" / "exit_routes.yaml").read_text()


# ---------------------------------------------------------- routes, hand-computed


def test_routes_follow_the_probabilities_of_the_reason_and_class():
    sp = spec(losses={"relocation_by_class": {"C": 0.1}, "merger_by_class": {"C": 0.2},
                      "relocation_unrated": 0.5},
              d_grace={"relocation_by_class": {"D": 0.3}, "merger_by_class": {"D": 0.3}},
              forced={"relocation_by_class": {"D": 0.0}, "merger_by_class": {"D": 1.0}})
    reason = np.array([0, 0, 0, 0, 1, 1, 1, 2, -1])
    klass = np.array([C, C, C, UNRATED, D, D, D, D, D])
    u = np.array([0.05, 0.25, 0.35, 0.45, 0.29, 0.59, 0.61, 0.99, 0.0])
    got = routes.draw_routes(reason, klass, u, sp)
    assert got.tolist() == [RELOCATION, MERGER, CLOSURE, RELOCATION,
                            RELOCATION, MERGER, CLOSURE, MERGER, -1]


def test_the_best_acquirer_takes_the_best_target_of_its_sector_and_region():
    # Group 0: targets 0 (score 5), 3 (score 9); acquirers 1 (score 50), 2 (80).
    # Group 1: target 4, no acquirer. Group 2: acquirer 6 only.
    target = np.array([1, 0, 0, 1, 1, 0, 0], bool)
    acquirer = np.array([0, 1, 1, 0, 0, 0, 1], bool)
    key = np.array([0, 0, 0, 0, 1, 1, 2])
    score = np.array([5.0, 50, 80, 9, 1, 0, 99])
    got = routes.match_acquirers(target, acquirer, key, score, max_targets=1)
    assert got.tolist() == [1, 2, -1]  # 3 (best target) to 2 (best acquirer), 0 to 1


def test_an_acquirer_with_room_takes_several_targets_in_turn():
    target = np.array([1, 1, 1, 1, 0, 0], bool)
    acquirer = np.array([0, 0, 0, 0, 1, 1], bool)
    key = np.zeros(6, int)
    score = np.array([4.0, 3, 2, np.nan, 60, 70])
    one = routes.match_acquirers(target, acquirer, key, score, max_targets=1)
    two = routes.match_acquirers(target, acquirer, key, score, max_targets=2)
    assert one.tolist() == [5, 4, -1, -1]
    assert two.tolist() == [5, 4, 5, 4]  # unscored target 3 comes last


def test_a_merger_moves_land_employees_cash_and_output_to_the_acquirer(population):
    f = first(population, 3)
    f.land_mu[:] = [20.0, 10.0, 5.0]
    f.va_wan_yuan[:] = [400.0, 100.0, 50.0]          # acquirer 20 万元/mu, targets 10
    f.revenue_wan_yuan[:] = [1000.0, 300.0, 200.0]
    f.water_quota_m3[:] = [800.0, 500.0, 100.0]
    f.employees[:] = [50.0, 30.0, 10.0]
    f.capacity_kva[:] = [600.0, 200.0, 100.0]
    f.cash_wan_yuan[:] = [100.0, -40.0, 5.0]
    moved = routes.absorb(f, np.array([1, 2]), np.array([0, 0]), employees_kept_share=0.5,
                          productivity_catch_up=0.5)
    # Absorbed VA: 100 + 0.5 (20 x 10 - 100) = 150 and 50 + 0.5 (20 x 5 - 50) = 75.
    assert moved["va_absorbed_wan_yuan"] == pytest.approx(225.0)
    assert f.va_wan_yuan[0] == pytest.approx(625.0)
    assert f.revenue_wan_yuan[0] == pytest.approx(1000.0 * 625 / 400)
    assert f.water_quota_m3[0] == pytest.approx(800.0 * 625 / 400)
    assert f.land_mu[0] == 35.0
    assert f.capacity_kva[0] == 900.0
    assert f.employees[0] == pytest.approx(50 + 0.5 * 40)
    assert f.cash_wan_yuan[0] == pytest.approx(65.0)
    assert moved == pytest.approx({"land_mu": 15.0, "employees": 40.0, "employees_kept": 20.0,
                                   "va_target_wan_yuan": 150.0, "va_absorbed_wan_yuan": 225.0})


def test_transferred_rights_and_leases_move_to_the_acquirer_and_are_conserved():
    led = QuotaLedger(4, quota="energy")
    led.issue_to_firms([10.0, 5.0, 2.0, 1.0])
    led.issue_to_reserve(6.0)
    led.lease([0.0, 3.0, 0.0, 0.0], 100.0)
    led.transfer_holdings(np.array([1, 2]), np.array([3, 3]))
    assert led.holdings.tolist() == [10.0, 0.0, 0.0, 11.0]
    assert led.leased.tolist() == [0.0, 0.0, 0.0, 3.0]
    led.check()


# ------------------------------------------------------------- properties


@settings(max_examples=40, deadline=None)
@given(data=st.data(), n=st.integers(2, 40), max_targets=st.integers(1, 3))
def test_matches_respect_groups_room_and_leave_no_acquirer_idle_while_targets_wait(
        data, n, max_targets):
    role = np.array(data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)))
    key = np.array(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    score = np.array(data.draw(st.lists(st.floats(0, 100), min_size=n, max_size=n)))
    target, acquirer = role == 1, role == 2
    got = routes.match_acquirers(target, acquirer, key, score, max_targets=max_targets)
    t = np.flatnonzero(target)
    matched = got >= 0
    assert acquirer[got[matched]].all()
    assert (key[got[matched]] == key[t[matched]]).all()
    taken = np.bincount(got[matched], minlength=n)
    assert taken.max(initial=0) <= max_targets
    for k in np.unique(key[t]):  # a target waits only if its group's acquirers are full
        n_acq = int((acquirer & (key == k)).sum())
        n_t = int((target & (key == k)).sum())
        assert int(matched[key[t] == k].sum()) == min(n_t, n_acq * max_targets)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), catch_up=st.floats(0, 1))
def test_mergers_with_all_employees_kept_conserve_land_employees_and_cash(
        population, data, catch_up):
    f = first(population, 8)
    f.land_mu[:] = data.draw(st.lists(st.floats(0.5, 100), min_size=8, max_size=8))
    f.employees[:] = data.draw(st.lists(st.floats(0, 500), min_size=8, max_size=8))
    targets = np.array([0, 1, 2, 3])
    acquirers = np.array(data.draw(st.lists(st.integers(4, 7), min_size=4, max_size=4)))
    before = {k: getattr(f, k).sum() for k in ("land_mu", "employees", "cash_wan_yuan")}
    routes.absorb(f, targets, acquirers, employees_kept_share=1.0,
                  productivity_catch_up=catch_up)
    stay = np.arange(8) >= 4
    for name, total in before.items():
        assert getattr(f, name)[stay].sum() == pytest.approx(total, rel=1e-12, abs=1e-9)


# -------------------------------------------------------- one year end, end to end


def routes_year_end(small, **routes_):
    s = apply_changes(small, {
        "dynamics.exit.forced_exit_share_per_year": 0.2, "dynamics.exit.loss_years": 50,
        "dynamics.exit.d_grace_years": 50, "dynamics.investment": {},
        "dynamics.entry.enabled": False, "dynamics.exit.routes.enabled": True,
        **{f"dynamics.exit.routes.{k}": v for k, v in routes_.items()}})
    sim = calendar.start(s, replication=0)
    f = sim.firms
    rated = (~f.is_services) & (f.klass != UNRATED)
    score = np.where(rated, np.arange(f.n, dtype=float), np.nan)
    return sim, score


def test_relocated_and_closed_land_goes_idle_merged_land_stays_occupied(small):
    shares = {"relocation_by_class": {c: 0.3 for c in "ABCD"},
              "merger_by_class": {c: 0.4 for c in "ABCD"},
              "relocation_unrated": 0.3, "merger_unrated": 0.4}
    sim, score = routes_year_end(small, forced=shares, employees_kept_share=1.0,
                                 acquirer_classes=["A", "B", "C"])
    f = sim.firms
    total_land = sim.dynamics.land.total_mu.copy()
    employees, cash = f.employees.sum(), f.cash_wan_yuan.sum()
    rights = {q: m.ledger.holdings.sum() + m.ledger.reserve for q, m in sim.markets.items()}
    land = f.land_mu.copy()
    sim.period.months_done = 12
    decided, _ = calendar.dynamics_year_end(sim, 2017, score)
    frame = sim.recorder.frame()

    def value(metric, group="all"):
        rows = frame[(frame.metric == metric) & (frame.group == group)]
        return float(rows["value"].sum())

    n = {r: value(f"exits_{r}") for r in routes.ROUTES}
    assert min(n.values()) > 0  # each route taken
    assert sum(n.values()) == value("exits") == (~decided.keep).sum()
    assert value("exit_route_share", "route=merger") == pytest.approx(n["merger"] / sum(n.values()))
    # Idle land is what closures and relocations left, not what the acquirers took over.
    vacated = value("exit_land_mu", "route=closure") + value("exit_land_mu", "route=relocation")
    assert value("land_returned_mu") == pytest.approx(vacated)
    left = land[~decided.keep].sum()
    assert value("exit_land_mu", "route=merger") + vacated == pytest.approx(left)
    calendar.replace_firms(sim, decided.keep, decided.entrants, 2017)
    kept = sim.firms
    pools = sim.dynamics.land
    pools.check()  # occupied + idle + available == initial + new land, per region
    np.testing.assert_allclose(pools.total_mu.sum(), total_land.sum() + value("land_new_mu"))
    np.testing.assert_allclose(pools.stocks()["occupied"],
                               np.bincount(kept.region, weights=kept.land_mu,
                                           minlength=pools.n_regions))
    # All of a merged firm's employees and cash stay; closed and relocated ones leave.
    gone = value("exit_employees", "route=closure") + value("exit_employees", "route=relocation")
    assert kept.employees.sum() == pytest.approx(employees - gone)
    assert value("merger_employees_kept") == pytest.approx(value("exit_employees", "route=merger"))
    for quota, market in sim.markets.items():
        market.ledger.check()
        assert market.ledger.holdings.sum() + market.ledger.reserve == pytest.approx(rights[quota])
        assert market.ledger.holdings.sum() >= value("exit_rights_merger", f"market={quota}") - 1e-9
    assert np.isfinite(cash)


def test_merged_rights_land_in_the_acquirers_account(small):
    shares = {"relocation_by_class": {c: 0.0 for c in "ABCD"},
              "merger_by_class": {c: 1.0 for c in "ABCD"}, "merger_unrated": 1.0}
    sim, score = routes_year_end(small, forced=shares)
    f = sim.firms
    for m in sim.markets.values():  # every firm holds 1 unit of each market's rights
        m.ledger.issue_to_firms(np.ones(f.n))
    held = {q: m.ledger.holdings.copy() for q, m in sim.markets.items()}
    history = {q: m.history.copy() for q, m in sim.markets.items()}
    entitled = {q: None if m.entitlement is None else m.entitlement.copy()
                for q, m in sim.markets.items()}
    reason = np.full(f.n, -1, np.int8)
    reason[:5] = 2
    taken, _, rights = routes.take_routes(sim, reason, score, np.full(f.n, 0.5))
    merged = np.flatnonzero(taken.route == MERGER)
    assert merged.size
    for q, m in sim.markets.items():
        gained = np.bincount(taken.acquirer[merged], weights=held[q][merged], minlength=f.n)
        np.testing.assert_allclose(m.ledger.holdings, np.where(taken.route == MERGER, 0.0,
                                                               held[q] + gained))
        assert rights[q][MERGER] == pytest.approx(merged.size)
        # The acquirer's next allocation covers the plant it took over.
        took = np.bincount(taken.acquirer[merged], weights=history[q][merged], minlength=f.n)
        np.testing.assert_allclose(m.history, history[q] + took)
        if entitled[q] is not None:
            took = np.bincount(taken.acquirer[merged], weights=entitled[q][merged],
                               minlength=f.n)
            np.testing.assert_allclose(m.entitlement, entitled[q] + took)


def test_relocating_firms_rights_can_be_sold_back_to_the_reserve(small):
    shares = {"relocation_by_class": {c: 1.0 for c in "ABCD"}, "relocation_unrated": 1.0}
    sim, score = routes_year_end(small, forced=shares, relocation_rights="sell")
    f = sim.firms
    market = next(iter(sim.markets.values()))
    market.ledger.issue_to_firms(np.full(f.n, 2.0))
    market.last_price = 50.0
    reason = np.full(f.n, -1, np.int8)
    reason[[0, 1, 2]] = 2
    before = market.ledger.firm_received_yuan[[0, 1, 2]].copy()
    routes.take_routes(sim, reason, score, np.zeros(f.n))
    held = market.ledger.holdings[[0, 1, 2]]
    received = market.ledger.firm_received_yuan[[0, 1, 2]] - before
    assert held.tolist() == [0.0, 0.0, 0.0]
    np.testing.assert_allclose(received, np.full(3, 2.0 * 50.0))  # 2 units at 50 yuan
    market.ledger.check()


# ------------------------------------------------------------------ the figure


def test_the_exit_routes_figure_stacks_firms_and_land_by_route():
    rows = []
    for year, (c, r, m) in {2017: (3, 1, 2), 2018: (1, 0, 4)}.items():
        for route, k in zip(routes.ROUTES, (c, r, m), strict=True):
            rows += [(year, f"exits_{route}", "all", float(k)),
                     (year, "exit_land_mu", f"route={route}", 10.0 * k)]
    metrics = pd.DataFrame(rows, columns=["year", "metric", "group", "value"]).assign(
        month=np.nan, replication=0, scenario="s")
    assert exit_route_figures(metrics) == ["exit_routes"]
    assert exit_route_figures(metrics[~metrics.metric.str.startswith("exits_")]) == []
    for lang in ("en", "zh"):
        fig = plot_exit_routes(metrics, lang=lang)
        firms_ax, land_ax = fig.axes[:2]
        tops = sorted(round(p.get_y() + p.get_height(), 9) for p in firms_ax.patches)
        assert tops[-2:] == [5.0, 6.0]  # 3 + 1 + 2 in 2017, 1 + 0 + 4 in 2018
        assert max(p.get_y() + p.get_height() for p in land_ax.patches) == pytest.approx(60.0)

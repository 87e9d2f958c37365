"""Land contracts (招拍挂, 弹性年期, 先租后让), agreements, land banking and expansion by class."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.dynamics import contracts
from simulator.dynamics.land import LandPools
from simulator.dynamics.state import Projects
from simulator.engine import simulate
from simulator.scenario import LandSpec, apply_changes, load_scenario
from simulator.scenario.landcontracts import ContractsSpec

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------- prices (hand-computed)


def test_floor_price_is_the_national_standard_per_mu():
    # 国土资发〔2006〕307号: grade 1 840 yuan/m², grade 8 252, grade 15 60; 1 mu = 666.67 m².
    price = contracts.floor_price_wan_yuan_per_mu(np.array([0, 1, 2, 5]), [1, 8, 15])
    assert price == pytest.approx([56.0, 16.8, 4.0, 4.0])  # past the list: its last grade


def test_winning_bid_rises_with_expected_yield_up_to_the_cap():
    got = contracts.bid_multiple(np.array([10.0, 20.0, 30.0, 60.0, 1e6]), 20.0,
                                 elasticity=0.5, cap=2.0)
    assert got == pytest.approx([1.0, 1.0, 1.25, 2.0, 2.0])


def test_flexible_term_prices_pro_rata_and_relief_is_a_share():
    spec = ContractsSpec(enabled=True, term_years=20, national_grade_by_land_grade=[8],
                         bid_premium_elasticity=0.5, price_relief_share=0.3)
    price, relief = contracts.land_price_wan_yuan_per_mu(
        np.array([0]), np.array([40.0]), spec=spec, min_tax_per_mu=20.0)
    full = 16.8 * 1.5 * 20 / 50  # floor x bid x term / 50 = 10.08 万元/mu
    assert relief == pytest.approx([0.3 * full])
    assert price == pytest.approx([0.7 * full])


# ---------------------------------------------------------- agreements (hand-computed)


def test_agreement_needs_every_target():
    met = contracts.agreement_met(
        np.array([25.0, 15.0, 25.0, 25.0]), np.array([100.0] * 4),
        np.array([0.5, 0.5, 0.7, 0.5]), np.array([[1e-4], [1e-4], [1e-4], [2e-3]]),
        min_tax_per_mu=20.0, min_va_per_mu=50.0, max_energy=0.6, max_emissions=np.array([1e-3]))
    assert met.tolist() == [True, False, False, False]


def settle(consequence: str, **kw):
    spec = ContractsSpec(enabled=True, term_years=20,
                         agreement={"consequence": consequence, "years_after_start": 4,
                                    "penalty_share_of_price": 0.2})
    return contracts.settle_agreements(spec=spec, **kw)


def test_lessee_meeting_its_agreement_pays_the_rest_of_the_price_and_one_missing_returns_land():
    r = settle("penalty", met=np.array([True, False]), leasing=np.array([True, True]),
               price_wan_yuan=np.array([100.0, 100.0]), paid_wan_yuan=np.array([25.0, 25.0]),
               relief_wan_yuan=np.zeros(2))
    assert r["transfer"].tolist() == [75.0, 0.0]
    assert r["returns"].tolist() == [False, True]
    assert r["penalty"].tolist() == [0.0, 0.0]
    assert r["refund"].tolist() == [0.0, 0.0]


@pytest.mark.parametrize(("consequence", "penalty", "relief", "refund", "returns"), [
    ("penalty", 20.0, 0.0, 0.0, False),
    ("revoke_relief", 0.0, 30.0, 0.0, False),
    # 16 of 20 years unused: 0.8 x 100 paid back, less the 20 penalty.
    ("return_land", 20.0, 0.0, 60.0, True),
])
def test_owner_missing_its_agreement_bears_the_agreed_consequence(consequence, penalty, relief,
                                                                  refund, returns):
    r = settle(consequence, met=np.array([False, True]), leasing=np.array([False, False]),
               price_wan_yuan=np.array([100.0, 100.0]), paid_wan_yuan=np.array([100.0, 100.0]),
               relief_wan_yuan=np.array([30.0, 30.0]))
    assert r["penalty"].tolist() == [penalty, 0.0]
    assert r["relief_repaid"].tolist() == [relief, 0.0]
    assert r["refund"].tolist() == [refund, 0.0]
    assert r["returns"].tolist() == [returns, False]
    assert r["transfer"].tolist() == [0.0, 0.0]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans(), st.floats(0, 1e4), st.floats(0, 1),
                          st.floats(0, 0.3)), min_size=1, max_size=20),
       st.sampled_from(["penalty", "revoke_relief", "return_land"]))
def test_agreements_never_take_more_than_the_price_nor_refund_more_than_was_paid(rows,
                                                                                 consequence):
    met, leasing, price, paid_share, relief_share = (np.array(c) for c in zip(*rows, strict=True))
    paid = np.where(leasing, paid_share, 1.0) * price
    r = settle(consequence, met=met, leasing=leasing, price_wan_yuan=price, paid_wan_yuan=paid,
               relief_wan_yuan=relief_share * price)
    assert (r["returns"] <= ~met).all()  # only a missed agreement returns land
    assert (paid + r["transfer"] <= price * (1 + 1e-12) + 1e-9).all()
    assert (r["refund"] >= 0).all()
    assert (r["refund"] <= paid + 1e-9).all()
    assert (r["transfer"][~leasing] == 0).all()
    assert not (r["penalty"][met].any())
    assert not (r["relief_repaid"][met].any())


# ------------------------------------------------------ state-level, on a tiny book


def tiny_state(spec: ContractsSpec, *, ytd_tax: list[float]) -> SimpleNamespace:
    """Three firms of 10 mu in one region, a book of three lease-first contracts due in 2020."""
    scenario = load_scenario(ROOT / "tests" / "scenarios" / "small.yaml")
    params = apply_changes(scenario, {"dynamics.contracts": spec.model_dump()})
    n = 3
    firms = SimpleNamespace(
        n=n, firm_id=np.array([1, 2, 3], np.int64), region=np.zeros(n, np.int16),
        land_mu=np.full(n, 10.0), cash_wan_yuan=np.full(n, 1000.0), land_grade=np.zeros(n, int),
        ytd={"tax_wan_yuan": np.array(ytd_tax), "va_wan_yuan": np.full(n, 1000.0),
             "energy_tce": np.full(n, 100.0), "emissions_t": np.zeros((n, 4))})
    land = LandPools(np.array([30.0]), region_shares=np.ones(1), spec=LandSpec())
    state = SimpleNamespace(params=params, firms=firms, recorder=None,
                            dynamics=SimpleNamespace(land=land, projects=Projects(),
                                                     contracts=None))
    contracts.book(state).add(
        firm_id=np.array([1, 2, 3], np.int64), land_mu=np.full(n, 10.0),
        check_year=np.array([2020, 2020, 2021]), leasing=np.ones(n, bool),
        price_wan_yuan=np.full(n, 200.0), paid_wan_yuan=np.full(n, 40.0),
        relief_wan_yuan=np.zeros(n))
    return state


def test_lease_first_year_end_charges_rent_transfers_the_compliant_and_takes_back_the_rest():
    spec = ContractsSpec(enabled=True, supply="lease_first", term_years=20, lease_years=5)
    # Firm 1 pays 30 万元/mu (>= the 20 standard), firm 2 pays 10: missed; firm 3 is not due.
    state = tiny_state(spec, ytd_tax=[300.0, 100.0, 300.0])
    returning = contracts.check_agreements(state, 2020, np.zeros(3, bool))
    b = contracts.book(state)
    rent = 200.0 / 20  # the price per year of term, 万元
    transfer = 200.0 - 40.0 - rent
    assert returning.tolist() == [False, True, False]
    assert state.firms.cash_wan_yuan.tolist() == [1000 - rent - transfer, 1000 - rent,
                                                  1000 - rent]
    assert b.tally["land_rent_revenue_yuan"] == pytest.approx(3 * rent * 1e4)
    assert b.tally["land_transfer_revenue_yuan"] == pytest.approx(transfer * 1e4)
    assert (b.tally["agreements_due"], b.tally["agreements_met"]) == (2, 1)
    assert b.tally["land_returned_contract_mu"] == 10.0
    assert b.tally["firms_returning_land"] == 1
    # Land: firm 2's plot went from occupied to idle; the not-due contract stays in the book.
    assert state.dynamics.land.stocks()["idle"].tolist() == [10.0]
    assert b.firm_id.tolist() == [3]


def test_money_firms_pay_is_what_the_government_records():
    spec = ContractsSpec(enabled=True, supply="transfer", term_years=20,
                         agreement={"consequence": "return_land", "years_after_start": 1})
    state = tiny_state(spec, ytd_tax=[300.0, 100.0, 50.0])
    contracts.book(state).leasing[:] = False
    contracts.book(state).check_year[:] = 2020
    before = state.firms.cash_wan_yuan.sum()
    contracts.check_agreements(state, 2020, np.zeros(3, bool))
    t = contracts.book(state).tally
    received = sum(t.get(k, 0.0) for k in (
        "land_rent_revenue_yuan", "land_transfer_revenue_yuan", "land_contract_penalty_yuan",
        "land_relief_repaid_yuan"))
    paid_by_firms = (before - state.firms.cash_wan_yuan.sum()) * 1e4
    assert paid_by_firms == pytest.approx(received - t["land_refund_yuan"])
    assert t["land_refund_yuan"] > 0  # two returned plots, 19 of 20 years unused


def test_signing_charges_entrants_the_price_the_government_records():
    spec = ContractsSpec(enabled=True, national_grade_by_land_grade=[8])
    state = tiny_state(spec, ytd_tax=[0.0, 0.0, 0.0])
    state.dynamics.contracts = None
    new = SimpleNamespace(n=2, firm_id=np.array([7, 8], np.int64), land_mu=np.array([10.0, 5.0]),
                          land_grade=np.zeros(2, int), cash_wan_yuan=np.array([500.0, 500.0]))
    paid = contracts.sign(state, new, 2020, np.array([20.0, 40.0]))
    # 16.8 万元/mu x bid (1 and 1.5) x 50/50.
    assert new.cash_wan_yuan == pytest.approx([500 - 168.0, 500 - 126.0])
    assert paid == pytest.approx(294.0)
    assert contracts.book(state).tally["land_price_revenue_yuan"] == pytest.approx(294.0e4)
    assert contracts.book(state).check_year.tolist() == [2023, 2023]


# ------------------------------------------------------------ land bank conservation


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["vacate", "bank_idle", "bank_occ", "release",
                                           "year", "allocate"]),
                          st.floats(0, 1), st.integers(0, 1)), max_size=25))
def test_land_is_conserved_with_the_bank(ops):
    pools = LandPools(np.array([100.0, 60.0]), region_shares=np.array([0.5, 0.5]),
                      spec=LandSpec(new_land_mu_per_year=20, revitalisation_delay_years=1,
                                    revitalisation_share_per_year=0.5))
    for op, x, r in ops:
        occupied = pools.stocks()["occupied"][r]
        if op == "vacate":
            pools.vacate(np.array([r]), np.array([x * occupied]), reason="exit")
        elif op == "bank_idle":
            pools.bank_idle(x)
        elif op == "bank_occ":
            pools.bank_occupied(np.array([r]), np.array([x * occupied]))
        elif op == "release":
            pools.release_banked(x)
        elif op == "year":
            pools.start_year()
        else:
            pools.allocate(np.array([r]), np.array([100 * x]), np.array([1.0]))
        pools.check()
        s = pools.stocks()
        total = s["occupied"] + s["idle"] + s["available"] + pools.banked_mu
        assert total == pytest.approx(pools.total_mu)
        assert (pools.banked_mu >= -1e-9).all()


def test_banking_moves_idle_and_occupied_land_into_the_bank_and_out_again():
    pools = LandPools(np.array([100.0]), region_shares=np.ones(1), spec=LandSpec())
    pools.vacate(np.array([0]), np.array([40.0]), reason="exit")
    assert pools.bank_idle(0.5).tolist() == [20.0]
    assert pools.bank_occupied(np.array([0, 0]), np.array([10.0, 5.0])).tolist() == [15.0]
    assert pools.banked_mu.tolist() == [35.0]
    assert pools.release_banked(1.0).tolist() == [35.0]
    assert {k: v.tolist() for k, v in pools.stocks().items()} == {
        "occupied": [45.0], "idle": [20.0], "available": [35.0]}
    with pytest.raises(ValueError, match="occupied land"):
        pools.bank_occupied(np.array([0]), np.array([1000.0]))


# --------------------------------------------------------------------- in the calendar


def annual(metrics: pd.DataFrame, metric: str, group: str = "all") -> pd.Series:
    sel = metrics[metrics["month"].isna() & (metrics["metric"] == metric)
                  & (metrics["group"] == group)]
    return sel.set_index("year")["value"]


@pytest.fixture(scope="module")
def run():
    s = load_scenario(ROOT / "scenarios" / "land_contracts.yaml")
    s = apply_changes(s, {"population.n_industrial": 150, "population.n_services": 30,
                          "run.start": "2017-01", "run.end": "2020-12",
                          "dynamics.contracts.lease_years": 1,
                          "dynamics.contracts.agreement.min_va_wan_yuan_per_mu": 200.0})
    return simulate(s)


def test_a_run_conserves_land_with_the_bank_and_adds_up_land_money(run):
    m = run.metrics
    stocks = sum(annual(m, f"land_{k}_mu") for k in ("occupied", "idle", "available", "banked"))
    # Stocks less the new land released so far stay the initial land, year after year.
    initial = (stocks - annual(m, "land_new_mu").cumsum()).to_numpy()
    assert initial == pytest.approx(np.full(initial.size, initial[0]))
    assert stocks.iloc[-1] == pytest.approx(run.land.total_mu.sum())
    assert annual(m, "land_banked_idle_mu").sum() + annual(m, "land_banked_occupied_mu").sum() > 0
    parts = sum(annual(m, k) for k in (
        "land_price_revenue_yuan", "land_transfer_revenue_yuan", "land_rent_revenue_yuan",
        "land_contract_penalty_yuan", "land_relief_repaid_yuan"))
    assert annual(m, "land_revenue_yuan").to_numpy() == pytest.approx(parts.to_numpy())
    net = parts - annual(m, "land_refund_yuan") - annual(m, "land_banking_cost_yuan")
    assert annual(m, "land_net_revenue_yuan").to_numpy() == pytest.approx(net.to_numpy())
    assert (annual(m, "land_leases_signed") == annual(m, "entries")).all()
    due = annual(m, "agreements_due")
    assert due.sum() > 0
    assert (annual(m, "agreements_met") + annual(m, "agreements_missed") == due).all()
    # A 200 万元/mu VA target: some lessees miss it and hand their land back, some transfer.
    assert annual(m, "agreements_missed").sum() > 0
    assert annual(m, "agreements_met").sum() > 0
    assert annual(m, "land_returned_contract_mu").sum() > 0
    assert annual(m, "land_transfer_revenue_yuan").sum() > 0


def test_firms_leaving_under_contracts_are_counted_among_the_exits(run):
    m = run.metrics
    returned = annual(m, "exits", "reason=agreement")
    banked = annual(m, "exits", "reason=land_bank")
    assert returned.sum() > 0
    assert banked.sum() > 0
    np.testing.assert_array_equal(returned, annual(m, "firms_returning_land"))
    np.testing.assert_array_equal(banked, annual(m, "firms_banked"))
    reasons = sum(annual(m, "exits", f"reason={r}") for r in
                  ("losses", "d_grace", "forced", "agreement", "land_bank"))
    np.testing.assert_array_equal(reasons, annual(m, "exits"))
    by_class = sum(annual(m, "exits", f"class={c}") for c in "ABCDU")
    np.testing.assert_array_equal(by_class, annual(m, "exits"))


def test_a_run_gives_expansion_land_to_a_and_b_only(run):
    m = run.metrics
    assert annual(m, "expansion_land_mu").sum() > 0
    for c in ("C", "D", "U"):
        assert annual(m, "expansion_land_mu", f"class={c}").sum() == 0
    by_class = sum(annual(m, "expansion_land_mu", f"class={c}") for c in "AB")
    assert annual(m, "expansion_land_mu").to_numpy() == pytest.approx(by_class.to_numpy())


def test_the_default_runs_record_no_contract_metric():
    golden = ROOT / "tests" / "golden"
    recorded = set()
    for path in sorted(golden.glob("*.metrics.parquet")):
        recorded |= set(pd.read_parquet(path, columns=["metric"])["metric"].unique())
    assert recorded
    assert not recorded & {*contracts.YEAR_METRICS, "land_revenue_yuan", "land_banked_mu",
                           "expansion_land_mu"}


def test_the_land_contracts_figure_stacks_money_received_over_money_paid(run):
    from simulator.plots.landcontracts import contract_figures, plot_land_contracts

    m = run.metrics.assign(replication=0)
    assert contract_figures(m) == ["land_contracts"]
    fig = plot_land_contracts(m)
    money = fig.axes[0]
    heights = sum(p.get_height() for p in money.patches)
    received = sum(annual(run.metrics, k).sum() for k in (
        "land_price_revenue_yuan", "land_transfer_revenue_yuan", "land_rent_revenue_yuan",
        "land_contract_penalty_yuan", "land_relief_repaid_yuan"))
    paid = sum(annual(run.metrics, k).sum() for k in ("land_refund_yuan",
                                                      "land_banking_cost_yuan"))
    assert heights == pytest.approx((received - paid) * 1e-4)


def test_expansion_land_goes_to_a_first_and_never_to_c_or_d():
    from simulator.dynamics import expansion

    spec = ContractsSpec(enabled=True, national_grade_by_land_grade=[8],
                         expansion={"enabled": True, "applicants_share_per_year": 1.0})
    state = tiny_state(spec, ytd_tax=[0.0, 0.0, 0.0])
    state.dynamics.contracts = None
    n = 4
    f = SimpleNamespace(
        n=n, firm_id=np.arange(1, n + 1, dtype=np.int64), region=np.zeros(n, np.int16),
        klass=np.array([1, 0, 2, 3], np.int8), is_services=np.zeros(n, bool),
        land_mu=np.full(n, 10.0), land_grade=np.zeros(n, int), cash_wan_yuan=np.full(n, 100.0),
        va_wan_yuan=np.full(n, 500.0), revenue_wan_yuan=np.full(n, 2000.0),
        employees=np.full(n, 50.0), water_quota_m3=np.full(n, 1e4),
        energy_tce_per_wan_yuan=np.full(n, 0.3), profit_margin=np.full(n, 0.1),
        ytd={"tax_wan_yuan": np.full(n, 200.0)})
    state.firms, state.replication = f, 0
    state.recorder = SimpleNamespace(rows=[])
    state.recorder.add = lambda y, m, groups, metric, values: state.recorder.rows.append(
        (metric, dict(zip(groups, values, strict=True))))
    state.dynamics.dual_control = None
    land = LandPools(np.array([40.0]), region_shares=np.ones(1),
                     spec=LandSpec(new_land_mu_per_year=4.0))
    land.start_year()
    state.dynamics.land = land
    expansion.expand(state, 2020, np.ones(n, bool), np.zeros(0, bool))
    # A asks 0.3 x 10 = 3 mu and gets it; B asks 1.5 mu, which no longer fits in the 4 mu;
    # C and D ask for none.
    assert f.land_mu.tolist() == [10.0, 13.0, 10.0, 10.0]
    assert f.va_wan_yuan.tolist() == [500.0, 650.0, 500.0, 500.0]
    # 3 mu at 16.8 万元/mu x bid 1 (20 万元/mu of tax = the standard).
    assert f.cash_wan_yuan.tolist() == pytest.approx([100.0, 100.0 - 3 * 16.8, 100.0, 100.0])
    assert land.stocks()["available"].tolist() == pytest.approx([1.0])
    recorded = dict(state.recorder.rows)
    assert recorded["expansion_land_mu"] == {"all": 3.0, "class=A": 3.0, "class=B": 0.0,
                                             "class=C": 0.0, "class=D": 0.0, "class=U": 0.0}
    assert recorded["expansion_applications"] == {"all": 2.0}
    assert contracts.book(state).tally["land_price_revenue_yuan"] == pytest.approx(3 * 16.8e4)


def test_the_bank_buys_long_d_firms_and_a_share_of_idle_land_and_pays_for_it():
    from simulator.dynamics import landbank

    spec = ContractsSpec(enabled=True, banking={"enabled": True, "idle_share_per_year": 0.5,
                                                "d_years": 2, "price_wan_yuan_per_mu": 30.0})
    state = tiny_state(spec, ytd_tax=[0.0, 0.0, 0.0])
    f = state.firms
    f.klass = np.array([3, 3, 0], np.int8)
    f.consecutive_d_years = np.array([1, 2, 0], np.int16)
    f.is_services = np.zeros(3, bool)
    state.dynamics.land.vacate(np.array([0]), np.array([4.0]), reason="exit")  # 4 mu idle
    f.land_mu[0] = 6.0
    selling = landbank.buy(state, np.zeros(3, bool))
    assert selling.tolist() == [False, True, False]
    assert f.cash_wan_yuan.tolist() == [1000.0, 1000.0 + 10 * 30.0, 1000.0]
    assert state.dynamics.land.banked_mu.tolist() == [10.0 + 2.0]
    b = contracts.book(state)
    assert b.tally["land_banking_cost_yuan"] == pytest.approx((10 + 2) * 30.0e4)
    assert b.tally["firms_banked"] == 1
    state.dynamics.land.check()

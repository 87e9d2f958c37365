"""Tests for the evaluation's further rules (simulator/evaluation/rules.py, engine/evalrules.py).

Hand-computed cases first (deductions, downgrades, the entry-standards cap,
protection, unrated firms managed as B), then properties (hypothesis), then
the rules in a tiny run.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import hypothesis.extra.numpy as hnp
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from simulator import apply_changes, catalogue, load_scenario, simulate
from simulator.engine.evalrules import large_projects, year_rules
from simulator.evaluation import (
    Adjustments,
    apply_class_rules,
    evaluate,
    fails_entry_standards,
    managed_classes,
    tier_codes,
)
from simulator.firms import CLASS_CODES, UNRATED
from simulator.scenario import (
    ClassificationSpec,
    EntryStandards,
    EvaluationSpec,
)
from tests.test_evaluation import make_input

A, B, C, D = (CLASS_CODES[k] for k in "ABCD")
THRESHOLDS = ClassificationSpec(method="thresholds")  # A >= 120, B >= 90, C >= 60
ROOT = Path(__file__).resolve().parents[1]


def adjust(n: int, points=None, steps=None, at_best=None, fails=None) -> Adjustments:
    """Adjustments of n firms; unset columns change nothing."""
    none = Adjustments.none(n)
    return Adjustments(
        none.deduction_points if points is None else np.asarray(points, dtype=float),
        none.downgrade_classes if steps is None else np.asarray(steps, dtype=np.int8),
        none.at_best if at_best is None else np.asarray(at_best, dtype=np.int8),
        none.fails_standards if fails is None else np.asarray(fails, dtype=bool))


def flags(n: int, *true: int) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    out[list(true)] = True
    return out


# ------------------------------------------------------------ deductions (扣分)


def test_deducted_points_come_off_the_score_before_the_thresholds():
    # Three identical firms score 100 (at every benchmark): B. Taking 15 and 45 points off
    # leaves 85 (>= 60: C) and 55 (< 60: D).
    params = EvaluationSpec(classification=THRESHOLDS)
    res = evaluate(make_input(3), params=params, adjust=adjust(3, points=[0, 15, 45]))
    np.testing.assert_allclose(res.score, [100.0, 85.0, 55.0])
    assert res.klass.tolist() == [B, C, D]
    assert not res.rules.downgraded.any()  # points are not a downgrade item


def test_deducted_points_move_a_firm_down_the_ranking_and_others_up():
    # 20 identical firms: ties go by firm id, so ranks 1..20 = ids 1..20 and the shares
    # 20/55/20/5 give ranks 1-4 A, 5-15 B, 16-19 C, 20 D. One point off firm 1 puts it
    # last (D); firm 20 moves up to rank 19 (C) and firm 5 to rank 4 (A).
    res = evaluate(make_input(20), params=EvaluationSpec(),
                   adjust=adjust(20, points=[1.0] + [0.0] * 19))
    assert res.rank[0] == 20
    assert res.klass[0] == D
    assert res.rank[19] == 19
    assert res.klass[19] == C
    assert res.rank[4] == 4
    assert res.klass[4] == A
    assert np.bincount(res.klass, minlength=4).tolist() == [4, 11, 4, 1]


def test_deductions_follow_the_firms_whatever_the_row_order():
    inp = make_input(5, tax_wan_yuan=np.array([5.0, 10, 15, 20, 25]))
    adj = adjust(5, points=[0, 0, 30, 0, 0], steps=[0, 1, 0, 0, 0])
    params = EvaluationSpec(classification=THRESHOLDS)
    forward = evaluate(inp, params=params, adjust=adj)
    order = np.array([4, 2, 0, 3, 1])
    shuffled = evaluate(inp.take(order), params=params, adjust=adj.take(order))
    np.testing.assert_array_equal(shuffled.klass, forward.klass[order])
    np.testing.assert_array_equal(shuffled.score, forward.score[order])
    np.testing.assert_array_equal(shuffled.rules.downgraded, forward.rules.downgraded[order])


# ------------------------------------------------------------ downgrades (降档)


def test_downgrade_items_move_classes_down_and_at_best_puts_a_ceiling():
    # Everyone B by thresholds. Steps 1, 2, 3 give C, D, D (no lower than D);
    # at_best C on a B firm gives C, at_best D gives D, at_best A changes nothing.
    params = EvaluationSpec(classification=THRESHOLDS)
    res = evaluate(make_input(6), params=params,
                   adjust=adjust(6, steps=[1, 2, 3, 0, 0, 0], at_best=[0, 0, 0, C, D, A]))
    assert res.klass.tolist() == [C, D, D, C, D, B]
    assert res.rules.downgraded.tolist() == [True, True, True, True, True, False]


def test_no_adjustment_gives_the_evaluation_without_rules():
    inp = make_input(20, tax_wan_yuan=np.linspace(1.0, 40.0, 20),
                     protected=flags(20, 0, 19), vetoed=flags(20, 19))
    plain = evaluate(inp, params=EvaluationSpec())
    ruled = evaluate(inp, params=EvaluationSpec(), adjust=Adjustments.none(20))
    np.testing.assert_array_equal(plain.klass, ruled.klass)
    np.testing.assert_array_equal(plain.rank, ruled.rank)
    np.testing.assert_array_equal(plain.score, ruled.score)
    assert plain.rules is None
    # Firm 0 (lowest tax, rank 20) would be D and is protected; firm 19 (rank 1) is vetoed.
    assert plain.klass[[0, 19]].tolist() == [C, C]
    assert np.flatnonzero(ruled.rules.protected_from_d).tolist() == [0]


# ------------------------------------------------------------ protection


def test_protection_puts_protected_d_firms_in_c_unless_penalised():
    # Thresholds: 4 firms all B; firm 0 and 1 pushed to D by an item; firm 2 to D by
    # points (score 50). Firms 0, 2 and 3 protected.
    inp = make_input(4, protected=flags(4, 0, 2, 3))
    adj = adjust(4, points=[0, 0, 50, 0], at_best=[D, D, 0, 0])
    lenient = evaluate(inp, params=EvaluationSpec(classification=THRESHOLDS), adjust=adj)
    assert lenient.klass.tolist() == [C, D, C, B]
    assert lenient.rules.protected_from_d.tolist() == [True, False, True, False]
    strict = EvaluationSpec(classification=THRESHOLDS, protection_excludes_penalised=True)
    res = evaluate(inp, params=strict, adjust=adj)
    # Firm 0 was downgraded by an item: no protection. Firm 2 only lost points: protected.
    assert res.klass.tolist() == [D, D, C, B]


def test_protection_excludes_vetoed_firms_when_asked():
    # Changle 2023: 除一票否决情况外不列入D类. 20 firms, the last by rank is D; protected
    # and vetoed, it stays D only with protection_excludes_penalised.
    inp = make_input(20, tax_wan_yuan=np.linspace(40.0, 1.0, 20),
                     protected=flags(20, 19), vetoed=flags(20, 19))
    assert evaluate(inp, params=EvaluationSpec()).klass[19] == C
    strict = evaluate(inp, params=EvaluationSpec(protection_excludes_penalised=True))
    assert strict.klass[19] == D
    assert not strict.rules.protected_from_d.any()


# ------------------------------------------------------------ entry standards at review


def test_fails_entry_standards_by_hand():
    # Defaults: tax >= 20 万元/mu, energy <= 0.6 tce/万元, cod <= 1e-3 t/万元 VA.
    n = 7
    inp = make_input(
        n,
        tax_wan_yuan=np.array([250.0, 150.0, 250.0, 250.0, 250.0, 250.0, 10.0]),
        land_mu=np.full(n, 10.0),
        va_wan_yuan=np.array([100.0, 100.0, 100.0, 100.0, 0.0, 100.0, 100.0]),
        energy_tce=np.array([10.0, 10.0, 100.0, 10.0, 5.0, 10.0, 10.0]),
        emissions_t=np.column_stack([np.array([0.05, 0.05, 0.05, 0.2, 0.0, 0.05, 0.05]),
                                     np.zeros((n, 3))]),
        is_services=flags(n, 5, 6),  # services never fail: standards of industrial land
    )
    params = EvaluationSpec()
    fails = fails_entry_standards(inp, tier_codes(inp, params), EntryStandards(), params,
                                  ("cod", "nh3n", "so2", "nox"))
    # 0 passes (25/mu, 0.1 tce, 5e-4 t); 1 tax 15/mu; 2 energy 1.0; 3 cod 2e-3; 4 energy and
    # no VA; 5 and 6 services.
    assert fails.tolist() == [False, True, True, True, True, False, False]
    off = EvaluationSpec(standards_review={"check_energy": False, "check_emissions": False})
    fails_tax = fails_entry_standards(inp, tier_codes(inp, off), EntryStandards(), off,
                                      ("cod", "nh3n", "so2", "nox"))
    assert fails_tax.tolist() == [False, True, False, False, False, False, False]


def test_the_standards_cap_lowers_a_and_b_only():
    # 20 firms by shares: ids 1-4 A, 5-15 B, 16-19 C, 20 D. Firms 0 (A), 10 (B), 17 (C)
    # and 19 (D) fail: A and B go to C, C and D stay.
    inp = make_input(20, tax_wan_yuan=np.linspace(40.0, 1.0, 20))
    res = evaluate(inp, params=EvaluationSpec(),
                   adjust=adjust(20, fails=flags(20, 0, 10, 17, 19)))
    assert res.klass[[0, 10, 17, 19]].tolist() == [C, C, C, D]
    assert np.flatnonzero(res.rules.capped).tolist() == [0, 10]
    to_d = evaluate(inp, params=EvaluationSpec(standards_review={"at_best": "D"}),
                    adjust=adjust(20, fails=flags(20, 0)))
    assert to_d.klass[0] == D


# ------------------------------------------------------------ unrated firms managed as B


def test_unrated_firms_are_managed_as_b_only_when_asked():
    k = np.array([A, UNRATED, D, UNRATED], dtype=np.int8)
    assert managed_classes(k, EvaluationSpec()).tolist() == [A, UNRATED, D, UNRATED]
    assert managed_classes(k, EvaluationSpec(unrated_as_b=True)).tolist() == [A, B, D, B]


def test_the_scenario_rejects_bad_rule_values():
    for bad in ({"deductions": {"safety_incident": {"probability_per_year": 1.5}}},
                {"standards_review": {"at_best": "A"}},
                {"deductions": {"credit_record": {"downgrade_classes": 4}}},
                {"project_protection": {"entrant_years": -1}}):
        with pytest.raises(ValidationError):
            EvaluationSpec.model_validate(bad)


# ------------------------------------------------------------ properties

codes = hnp.arrays(np.int8, st.integers(1, 40), elements=st.integers(0, 4))


@st.composite
def class_cases(draw):
    klass = draw(codes)
    n = klass.size
    boolean = hnp.arrays(bool, n)
    return (klass, draw(boolean), draw(boolean),
            draw(hnp.arrays(np.int8, n, elements=st.integers(0, 3))),
            draw(hnp.arrays(np.int8, n, elements=st.integers(0, 3))), draw(boolean))


@settings(max_examples=80, deadline=None)
@given(class_cases(), st.booleans())
def test_downgrades_and_caps_never_raise_a_class(case, strict):
    klass, protected, vetoed, steps, at_best, fails = case
    n = klass.size
    inp = SimpleNamespace(protected=protected, vetoed=vetoed)
    params = EvaluationSpec(protection_excludes_penalised=strict)
    in_scope = klass != UNRATED
    plain, _ = apply_class_rules(klass, in_scope, inp, Adjustments.none(n), params)
    ruled, out = apply_class_rules(klass, in_scope, inp,
                                   adjust(n, steps=steps, at_best=at_best, fails=fails), params)
    assert np.all(ruled[in_scope] >= plain[in_scope])
    np.testing.assert_array_equal(ruled[~in_scope], UNRATED)  # unrated firms stay unrated
    assert not (out.downgraded & ~in_scope).any()


@settings(max_examples=80, deadline=None)
@given(class_cases(), st.booleans())
def test_protection_never_increases_the_d_count(case, strict):
    klass, protected, vetoed, steps, at_best, fails = case
    n = klass.size
    params = EvaluationSpec(protection_excludes_penalised=strict)
    adj = adjust(n, steps=steps, at_best=at_best, fails=fails)
    in_scope = klass != UNRATED
    none = SimpleNamespace(protected=np.zeros(n, dtype=bool), vetoed=vetoed)
    some = SimpleNamespace(protected=protected, vetoed=vetoed)
    without, _ = apply_class_rules(klass, in_scope, none, adj, params)
    with_, out = apply_class_rules(klass, in_scope, some, adj, params)
    assert (with_ == D).sum() <= (without == D).sum()
    assert ((without == D).sum() - (with_ == D).sum()) == out.protected_from_d.sum()
    assert np.all(with_ <= without)  # protection only ever helps


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(float, st.integers(2, 30), elements=st.floats(1.0, 50.0)), st.data())
def test_points_never_lift_the_deducted_firm_nor_sink_the_others(tax, data):
    n = tax.size
    k = data.draw(st.integers(0, n - 1))
    points = np.zeros(n)
    points[k] = data.draw(st.floats(0.0, 80.0))
    inp = make_input(n, tax_wan_yuan=tax)
    for spec in (EvaluationSpec(), EvaluationSpec(classification=THRESHOLDS)):
        plain = evaluate(inp, params=spec)
        ruled = evaluate(inp, params=spec, adjust=adjust(n, points=points))
        others = np.arange(n) != k
        assert ruled.klass[k] >= plain.klass[k]
        assert ruled.rank[k] >= plain.rank[k]
        assert np.all(ruled.rank[others] <= plain.rank[others])
        if spec.classification.method == "shares":  # the formula's counts, rules or not
            np.testing.assert_array_equal(np.bincount(ruled.klass, minlength=4),
                                          np.bincount(plain.klass, minlength=4))
        else:
            np.testing.assert_array_equal(ruled.klass[others], plain.klass[others])


# ------------------------------------------------------------ in a run


def fake_state(n: int = 6, *, spec: dict | None = None, projects=()):
    """The parts of a RunState the rules read: params, firms, dynamics, recorder."""
    scenario = load_scenario(ROOT / "tests" / "scenarios" / "small.yaml")
    scenario = apply_changes(scenario, {f"evaluation.{k}": v for k, v in (spec or {}).items()})
    firms = SimpleNamespace(
        n=n, firm_id=np.arange(1, n + 1, dtype=np.int64),
        age_years=np.array([0, 1, 2, 5, 5, 5][:n], dtype=np.int16),
        va_wan_yuan=np.array([5000.0, 3000.0, 5000.0, 5000.0, 100.0, 5000.0][:n]))
    dynamics = SimpleNamespace(projects=SimpleNamespace(firm_id=np.array(projects, np.int64)))
    return SimpleNamespace(params=scenario, replication=0, firms=firms, dynamics=dynamics,
                           newly_above_scale=np.zeros(n, dtype=bool))


def test_large_projects_under_construction_by_hand():
    # Investment = 2.5 (entry investment per 万元 VA) x VA: 12,500, 7,500, 12,500, 12,500,
    # 250, 12,500 万元; large from 10,000. Entrant years 2: ages 0 and 1 build; firm 4
    # (id 4) has a project under way, so does the small firm 5 (too small).
    state = fake_state(spec={"project_protection.enabled": True}, projects=[4, 5])
    assert large_projects(state).tolist() == [True, False, False, True, False, False]
    state = fake_state(spec={"project_protection": {"enabled": True,
                                                    "projects_under_way": False}},
                       projects=[4, 5])
    assert large_projects(state).tolist() == [True, False, False, False, False, False]
    assert not large_projects(fake_state(projects=[4])).any()  # off by default


def test_items_are_drawn_per_firm_id_at_their_rates():
    n = 6
    state = fake_state(n, spec={"deductions": {"enabled": True, "safety_incident": {
        "probability_per_year": 1.0, "points": 4.0, "downgrade_classes": 2},
        "environmental_incident": {"probability_per_year": 0.0},
        "credit_record": {"probability_per_year": 0.5}}})
    given_ = make_input(n)
    rules = year_rules(state, 2018, given_)
    assert rules.items["safety"].all()
    assert not rules.items["environment"].any()
    np.testing.assert_allclose(rules.adjust.deduction_points, 4.0)
    assert rules.adjust.downgrade_classes.tolist() == [2] * n
    credit = rules.items["credit"]
    assert rules.adjust.at_best.tolist() == np.where(credit, C, 0).tolist()
    # Keyed by firm id: without firm 1 the others' draws are the same.
    state.firms = SimpleNamespace(**{**vars(state.firms), "n": n - 1,
                                     "firm_id": state.firms.firm_id[1:],
                                     "age_years": state.firms.age_years[1:],
                                     "va_wan_yuan": state.firms.va_wan_yuan[1:]})
    later = year_rules(state, 2018, make_input(n - 1, firm_id=np.arange(2, n + 1)))
    np.testing.assert_array_equal(later.items["credit"], credit[1:])


RULES_ON = {"evaluation.project_protection.enabled": True,
            "evaluation.deductions.enabled": True,
            "evaluation.standards_review.enabled": True,
            "evaluation.protection_excludes_penalised": True,
            "evaluation.unrated_as_b": True}
TINY = {"population.n_industrial": 80, "population.n_services": 20, "run.end": "2018-12",
        "timeline": []}


@pytest.fixture(scope="module")
def tiny():
    return apply_changes(load_scenario(ROOT / "tests" / "scenarios" / "small.yaml"), TINY)


@pytest.fixture(scope="module")
def off(tiny):
    return simulate(tiny).metrics


@pytest.fixture(scope="module")
def on(tiny):
    return simulate(apply_changes(tiny, RULES_ON)).metrics


def annual(metrics: pd.DataFrame, metric: str, group: str = "all") -> pd.Series:
    rows = metrics[(metrics["metric"] == metric) & metrics["month"].isna()
                   & (metrics["group"] == group)]
    return rows.set_index("year")["value"]


def test_every_entry_of_the_rules_is_written_when_on_and_none_when_off(on, off):
    switches = {k.removeprefix("evaluation.") for k in RULES_ON}
    mine = [e for e in catalogue.entries()
            if e.when and e.when.removeprefix("evaluation.").split(".")[0] in
            {s.split(".")[0] for s in switches}]
    assert {e.name for e in mine} == {
        "protected_firms", "protected_from_d_firms", "deduction_item_firms", "deducted_points",
        "downgraded_firms", "standards_failing_firms", "standards_capped_firms",
        "unrated_managed_as_b_firms"}
    for e in mine:
        assert e.name in set(on["metric"]), e.name
        assert e.name not in set(off["metric"]), e.name
    # The protected firms by reason add up to at least the firms protected.
    groups = ["reason=start_up", "reason=newly_above_scale", "reason=large_project"]
    total = sum(annual(on, "protected_firms", g) for g in groups)
    assert (total >= annual(on, "protected_firms")).all()
    # Unrated firms are charged as B: no bill is grouped under class U.
    assert annual(off, "electricity_bill_yuan", "class=U").sum() > 0
    assert annual(on, "electricity_bill_yuan", "class=U").sum() == 0


def test_rules_on_but_neutral_change_nothing(tiny, off):
    neutral = {"evaluation.project_protection": {"enabled": True,
                                                 "min_investment_wan_yuan": 1e12},
               "evaluation.deductions": {"enabled": True, "safety_incident": {
                   "probability_per_year": 0.0}, "environmental_incident": {
                   "probability_per_year": 0.0}, "credit_record": {"probability_per_year": 0.0}},
               "evaluation.standards_review": {"enabled": True, "check_tax_per_mu": False,
                                               "check_energy": False,
                                               "check_emissions": False}}
    on = simulate(apply_changes(tiny, neutral)).metrics
    shared = on[on["metric"].isin(set(off["metric"]))].reset_index(drop=True)
    pd.testing.assert_frame_equal(shared.drop(columns="scenario"),
                                  off.drop(columns="scenario").reset_index(drop=True))


def test_the_rules_figure_is_drawn_only_for_runs_with_a_rule(on, off):
    from simulator.plots import plot_evaluation_rules, rules_figures

    assert rules_figures(on) == ["evaluation_rules"]
    assert rules_figures(off) == []
    fig = plot_evaluation_rules(on)
    moved, reached = fig.axes
    assert len(moved.patches) == 3 * 2  # three rules' bars in each of the two years
    labels = [t.get_text() for t in reached.get_legend().get_texts()]
    assert labels[:3] == ["Deduction item: safety incident",
                          "Deduction item: environmental penalty",
                          "Deduction item: credit record"]
    assert "Unrated firms managed as B" in labels


def test_with_every_firm_a_large_project_no_firm_is_d(tiny, off):
    everyone = {"evaluation.project_protection": {"enabled": True, "min_investment_wan_yuan": 0,
                                                  "entrant_years": 50}}
    on = simulate(apply_changes(tiny, everyone)).metrics
    assert (annual(on, "class_share", "class=D") == 0).all()
    # The firms that would have been D (5% of each ranking group) were put in C.
    saved = annual(on, "protected_from_d_firms")
    assert (saved > 0).all()
    assert (annual(on, "protected_firms", "reason=large_project")
            == annual(on, "protected_firms")).all()
    assert (annual(off, "class_share", "class=D") > 0).all()


def test_a_real_firm_table_is_held_to_the_entry_standards_when_asked(tmp_path):
    from simulator.evaluation import evaluate_table
    from simulator.population import read_firm_table

    # Four firms on 10 mu: tax 400, 300, 150 and 100 万元 (40, 30, 15 and 10 per mu);
    # energy 10 tce per 400 万元 VA, COD 0.1 t (2.5e-4 t per 万元): only the tax standard
    # (20 per mu) fails, for the last two.
    path = tmp_path / "firms.csv"
    path.write_text(
        "name,land_mu,tax_wan_yuan,va_wan_yuan,revenue_wan_yuan,energy_tce,electricity_kwh,"
        "employees,rd_wan_yuan,cod_t,above_scale\n"
        + "".join(f"f{k},10,{tax},400,3000,10,100000,10,30,0.1,1\n"
                  for k, tax in enumerate((400, 300, 150, 100))), encoding="utf-8")
    base = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    thresholds = {"evaluation.classification.method": "thresholds",
                  "evaluation.classification.thresholds": {"A": 105, "B": 80, "C": 60}}
    plain = evaluate_table(read_firm_table(path), apply_changes(base, thresholds))
    held = evaluate_table(read_firm_table(path), apply_changes(
        base, {**thresholds, "evaluation.standards_review.enabled": True}))
    # Tax per mu 40, 30, 15, 10 against the mean 23.75 (weight 30 of 100), the rest equal:
    # scores 70 + 30 x (1.684, 1.263, 0.632, 0.421) = 120.5, 107.9, 88.9, 82.6.
    np.testing.assert_allclose(plain["score"], [120.53, 107.89, 88.95, 82.63], atol=0.01)
    assert plain["class"].astype(str).tolist() == ["A", "A", "B", "B"]
    assert held["class"].astype(str).tolist() == ["A", "A", "C", "C"]


def test_unrated_firms_managed_as_b_get_bs_land_tax_relief(tiny, off):
    # Baseline relief: A 100%, B 80%, C and D 0, unrated 0. Managed as B, the unrated
    # firms get 80% off their land-use tax; the first evaluation (before any price or
    # credit line differs) grades the same.
    as_b = simulate(apply_changes(tiny, {"evaluation.unrated_as_b": True})).metrics
    assert (annual(as_b, "land_tax_relief_yuan") > annual(off, "land_tax_relief_yuan")).all()
    first_year = annual(off, "class_share", "class=D").index.min()
    for c in "ABCD":
        assert annual(as_b, "class_share", f"class={c}")[first_year] == \
            annual(off, "class_share", f"class={c}")[first_year]
    first = annual(as_b, "unrated_managed_as_b_firms").iloc[0]
    assert first == annual(off, "firms", "class=U").iloc[0]

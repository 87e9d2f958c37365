"""Tests for simulator/investment.py: hand-computed cases first, then properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.firms import CLASS_CODES, UNRATED, per_class
from simulator.investment import (
    OptionArrays,
    a_awards,
    allocate_fund,
    automation_quantities,
    choose,
    npv,
    option_table,
    pollution_quantities,
    retrofit_quantities,
    saving_fractions,
    space_for_land_quantities,
)
from simulator.scenario import (
    INVESTMENT_OPTIONS,
    FinanceSpec,
    InvestmentOption,
    OptionOverride,
    default_scenario_path,
    load_scenario,
)

A, B, C, D = (CLASS_CODES[k] for k in "ABCD")
U = UNRATED
SECTORS = ["textiles", "metals", "chemicals"]
TEXTILES, METALS, CHEMICALS = 0, 1, 2


def disc(r: float, k: float) -> float:
    """Discount factor 1 / (1 + r)^k."""
    return 1.0 / (1.0 + r) ** k


# ================================================================== option_table


def test_option_table_gives_every_firm_the_option_values_without_overrides():
    spec = InvestmentOption(capex=10000, effect_share=0.15, lead_time_months=12,
                            lifetime_years=10)
    t = option_table(spec, sector=np.array([0, 2, 1, 0]), sector_names=SECTORS)
    assert isinstance(t, OptionArrays)
    np.testing.assert_array_equal(t.capex, [10000.0] * 4)
    np.testing.assert_array_equal(t.effect_share, [0.15] * 4)
    np.testing.assert_array_equal(t.lead_time_months, [12] * 4)
    np.testing.assert_array_equal(t.lifetime_years, [10] * 4)
    assert t.lead_time_months.dtype == np.int64
    assert t.lifetime_years.dtype == np.int64
    assert t.capex.dtype == np.float64


def test_sector_override_replaces_only_its_set_fields_for_that_sector():
    spec = InvestmentOption(
        capex=10000, effect_share=0.15, lead_time_months=12, lifetime_years=10,
        by_sector={
            "metals": OptionOverride(capex=8000, lead_time_months=18),
            "chemicals": OptionOverride(effect_share=0.25, lifetime_years=15),
        },
    )
    t = option_table(spec, sector=[TEXTILES, METALS, CHEMICALS, METALS],
                     sector_names=SECTORS)
    np.testing.assert_array_equal(t.capex, [10000, 8000, 10000, 8000])
    np.testing.assert_array_equal(t.effect_share, [0.15, 0.15, 0.25, 0.15])
    np.testing.assert_array_equal(t.lead_time_months, [12, 18, 12, 18])
    np.testing.assert_array_equal(t.lifetime_years, [10, 10, 15, 10])


def test_option_table_of_no_firms_is_empty():
    t = option_table(InvestmentOption(capex=1, effect_share=0.1),
                     sector=np.array([], dtype=np.int16), sector_names=SECTORS)
    assert t.capex.shape == t.lead_time_months.shape == (0,)


def test_option_table_reads_the_baseline_scenario():
    scenario = load_scenario(default_scenario_path())
    names = scenario.sector_names()
    assert set(scenario.dynamics.investment) == set(INVESTMENT_OPTIONS)
    t = option_table(scenario.dynamics.investment["space_for_land"],
                     sector=np.arange(len(names)), sector_names=names)
    spec = scenario.dynamics.investment["space_for_land"]
    np.testing.assert_array_equal(t.capex, spec.capex)  # 万元 per mu freed, no sector override
    np.testing.assert_array_equal(t.lead_time_months, spec.lead_time_months)


def test_option_table_rejects_sector_codes_without_a_name():
    spec = InvestmentOption(capex=1, effect_share=0.1)
    with pytest.raises(ValueError, match=r"'sector' parameter must be a code in 0\.\.2.*index 1"):
        option_table(spec, sector=[0, 3], sector_names=SECTORS)
    with pytest.raises(ValueError, match="'sector' parameter must be a code"):
        option_table(spec, sector=[-1], sector_names=SECTORS)


def test_option_table_rejects_non_integer_or_2d_sector():
    spec = InvestmentOption(capex=1, effect_share=0.1)
    with pytest.raises(ValueError, match="'sector' parameter must hold integer"):
        option_table(spec, sector=[0.0, 1.0], sector_names=SECTORS)
    with pytest.raises(ValueError, match=r"'sector' parameter must be 1-D.*\(1, 2\)"):
        option_table(spec, sector=[[0, 1]], sector_names=SECTORS)


def test_option_table_rejects_override_of_a_sector_not_in_sector_names():
    spec = InvestmentOption(capex=1, effect_share=0.1,
                            by_sector={"cement": OptionOverride(capex=2)})
    with pytest.raises(ValueError, match="'spec' parameter overrides unknown sector 'cement'"):
        option_table(spec, sector=[0], sector_names=SECTORS)


# ================================================================== saving_fractions


def test_twelve_months_lead_saves_in_years_two_to_six():
    # Completion at month 12; saves months 12..72 = years 2..6 in full.
    f = saving_fractions([12], [5], 7)
    np.testing.assert_array_equal(f, [[0, 1, 1, 1, 1, 1, 0]])


def test_six_months_lead_gives_half_years_at_both_ends():
    # Saves months 6..66: year 1 = months 6..12 (6/12), year 6 = months 60..66 (6/12).
    f = saving_fractions([6], [5], 7)
    np.testing.assert_array_equal(f, [[0.5, 1, 1, 1, 1, 0.5, 0]])


def test_zero_lead_saves_from_the_first_year():
    np.testing.assert_array_equal(saving_fractions([0], [3], 4), [[1, 1, 1, 0]])


def test_lead_longer_than_a_year_and_short_lifetime():
    # Lead 30 months, life 1 year: months 30..42 -> year 3 (24..36) 6/12, year 4 (36..48) 6/12.
    np.testing.assert_array_equal(saving_fractions([30], [1], 5), [[0, 0, 0.5, 0.5, 0]])


def test_lifetime_shorter_than_the_rest_of_the_first_year():
    # Lead 6 months, life a quarter-year: months 6..9, all in year 1 -> 3/12.
    np.testing.assert_array_equal(saving_fractions([6], [0.25], 2), [[0.25, 0]])


def test_fractions_are_vectorised_over_firms_and_truncated_at_the_horizon():
    f = saving_fractions(np.array([0, 6, 24]), np.array([1, 2, 10]), 3)
    np.testing.assert_array_equal(f, [[1, 0, 0], [0.5, 1, 0.5], [0, 0, 1]])


def test_zero_horizon_gives_no_columns():
    assert saving_fractions([12, 0], [5, 5], 0).shape == (2, 0)


@settings(max_examples=200, deadline=None)
@given(lead=st.lists(st.integers(0, 120), min_size=1, max_size=6),
       data=st.data())
def test_fractions_lie_in_0_1_and_sum_to_the_lifetime(lead, data):
    life = data.draw(st.lists(st.integers(0, 50), min_size=len(lead), max_size=len(lead)))
    horizon = math.ceil((max(lead) + 12 * max(life)) / 12)
    f = saving_fractions(lead, life, horizon)
    assert ((f >= 0) & (f <= 1)).all()
    np.testing.assert_allclose(f.sum(axis=1), life, rtol=0, atol=1e-12)


def test_saving_fractions_rejects_bad_horizon_and_shapes():
    with pytest.raises(ValueError, match=r"'horizon_years' parameter must be an int >= 0.*-1"):
        saving_fractions([0], [1], -1)
    with pytest.raises(ValueError, match="'horizon_years' parameter must be an int"):
        saving_fractions([0], [1], 2.5)
    with pytest.raises(ValueError, match=r"'lifetime_years' parameter must be a scalar or "
                                         r"have shape \(2,\)"):
        saving_fractions([0, 6], [1, 2, 3], 2)
    with pytest.raises(ValueError, match="'lead_time_months' parameter must be 1-D"):
        saving_fractions([[0]], [1], 2)
    with pytest.raises(ValueError, match=r"'lead_time_months' parameter must be finite and "
                                         r">= 0.*index 1"):
        saving_fractions([0, -6], [1, 1], 2)


# ================================================================== npv


def test_npv_with_a_year_of_lead_discounts_savings_from_year_two():
    # -100 + 30 (1/1.05^2 + ... + 1/1.05^6) = -100 + 30 * 4.123310 = 23.6993
    expected = -100 + sum(30 * disc(0.05, k) for k in range(2, 7))
    got = npv([100.0], [30.0], rate=[0.05], lead_time_months=[12], lifetime_years=[5])
    np.testing.assert_allclose(got, [expected], rtol=1e-12)
    np.testing.assert_allclose(got, [23.699333], atol=1e-6)


def test_npv_with_six_months_lead_counts_half_years_at_both_ends():
    # Year 1 and year 6 save 15 (half of 30); years 2..5 save 30.
    expected = (-100 + 15 * disc(0.05, 1) + sum(30 * disc(0.05, k) for k in range(2, 6))
                + 15 * disc(0.05, 6))
    got = npv([100.0], [30.0], rate=0.05, lead_time_months=6, lifetime_years=5)
    np.testing.assert_allclose(got, [expected], rtol=1e-12)


def test_npv_with_zero_lead_saves_from_year_one():
    # -100 + 30 * annuity(5%, 5 years) = -100 + 30 * 4.329477 = 29.8843
    expected = -100 + 30 * (1 - 1.05**-5) / 0.05
    got = npv([100.0], [30.0], rate=0.05, lead_time_months=0, lifetime_years=5)
    np.testing.assert_allclose(got, [expected], rtol=1e-12)


def test_npv_at_rate_zero_is_the_plain_sum():
    # -100 + 5 * 30 = 50 whatever the lead time.
    got = npv(np.full(3, 100.0), np.full(3, 30.0), rate=0.0,
              lead_time_months=[0, 7, 30], lifetime_years=5)
    np.testing.assert_allclose(got, [50.0, 50.0, 50.0], rtol=1e-12)


def test_npv_discounts_each_firm_at_its_class_loan_rate():
    finance = FinanceSpec()
    klass = np.array([A, D, U])
    rate = per_class(finance.loan_rate_by_class.as_tuple(), klass,
                     unrated=finance.loan_rate_unrated)
    got = npv(np.full(3, 100.0), np.full(3, 30.0), rate=rate, lead_time_months=12,
              lifetime_years=5)
    expected = [-100 + sum(30 * disc(r, k) for k in range(2, 7)) for r in (0.0435, 0.065, 0.0475)]
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert got[0] > got[2] > got[1]  # a cheaper loan makes the same project worth more


def test_npv_of_a_saving_path_repeats_its_last_year():
    # Lead 0, life 4, rate 0: path [10, 20] -> years 10, 20, 20, 20; -50 + 70 = 20.
    got = npv([50.0], [[10.0, 20.0]], rate=0.0, lead_time_months=0, lifetime_years=4)
    np.testing.assert_allclose(got, [20.0])


def test_npv_of_a_saving_path_follows_the_policy_timeline_with_discounting():
    # Lead 6, life 2, r = 10%: year 1 half of 10, year 2 all of 20, year 3 half of 40.
    expected = -30 + 5 * disc(0.1, 1) + 20 * disc(0.1, 2) + 20 * disc(0.1, 3)
    got = npv([30.0], [[10.0, 20.0, 40.0, 999.0]], rate=0.1, lead_time_months=6,
              lifetime_years=2)  # year 4 is after the project's end: ignored
    np.testing.assert_allclose(got, [expected], rtol=1e-12)


def test_constant_saving_equals_a_one_column_path_and_a_flat_path():
    kw = {"rate": np.array([0.05, 0.08]), "lead_time_months": [6, 24],
          "lifetime_years": [10, 3]}
    flat = npv([100.0, 10.0], [30.0, 4.0], **kw)
    np.testing.assert_allclose(npv([100.0, 10.0], [[30.0], [4.0]], **kw), flat, rtol=1e-12)
    np.testing.assert_allclose(npv([100.0, 10.0], np.repeat([[30.0], [4.0]], 3, axis=1), **kw),
                               flat, rtol=1e-12)


def test_npv_horizon_covers_each_firm_only_over_its_own_life():
    # Firm 0: life 1 (year 1); firm 1: life 3 (years 1..3); rate 0; path rises 10, 20, 30.
    got = npv([0.0, 0.0], [[10.0, 20.0, 30.0], [10.0, 20.0, 30.0]], rate=0.0,
              lead_time_months=0, lifetime_years=[1, 3])
    np.testing.assert_allclose(got, [10.0, 60.0])


def test_land_given_back_is_received_at_completion():
    # Lead 24 months, r = 5%, 1,000 received at month 24: 1000 / 1.05^2 = 907.03.
    # Lead 6 months: 1000 / 1.05^0.5 = 975.90.
    got = npv([0.0, 0.0], [0.0, 0.0], rate=0.05, lead_time_months=[24, 6],
              lifetime_years=20, one_off_at_completion_yuan=[1000.0, 1000.0])
    np.testing.assert_allclose(got, [1000 * disc(0.05, 2), 1000 * disc(0.05, 0.5)],
                               rtol=1e-12)
    np.testing.assert_allclose(got, [907.029478, 975.900073], atol=1e-6)


def test_npv_of_no_firms_is_empty():
    assert npv([], [], rate=0.05, lead_time_months=12, lifetime_years=5).shape == (0,)


@settings(max_examples=100, deadline=None)
@given(capex=st.floats(0, 1e6), saving=st.floats(0, 1e6), lead=st.integers(0, 120),
       life=st.integers(1, 50), r1=st.floats(0, 0.2), r2=st.floats(0, 0.2))
def test_npv_falls_with_the_rate_and_equals_the_plain_sum_at_zero(capex, saving, lead, life,
                                                                  r1, r2):
    kw = {"lead_time_months": [lead], "lifetime_years": [life]}
    lo, hi = sorted((r1, r2))
    at_lo = npv([capex], [saving], rate=lo, **kw)[0]
    at_hi = npv([capex], [saving], rate=hi, **kw)[0]
    assert at_hi <= at_lo + 1e-9 * (capex + saving * life)
    plain = npv([capex], [saving], rate=0.0, **kw)[0]
    assert plain == pytest.approx(saving * life - capex, rel=1e-9, abs=1e-6)


def test_npv_rejects_bad_shapes_and_rates():
    kw = {"rate": 0.05, "lead_time_months": 12, "lifetime_years": 5}
    with pytest.raises(ValueError, match=r"'annual_saving_yuan' parameter must have shape "
                                         r"\(2,\) or \(2, H\).*\(3,\)"):
        npv([1.0, 2.0], [1.0, 2.0, 3.0], **kw)
    with pytest.raises(ValueError, match="'annual_saving_yuan' parameter must have shape"):
        npv([1.0], np.zeros((1, 0)), **kw)
    with pytest.raises(ValueError, match="'annual_saving_yuan' parameter must have shape"):
        npv([1.0], np.zeros((1, 2, 2)), **kw)
    with pytest.raises(ValueError, match="'capex_yuan' parameter must be 1-D"):
        npv([[1.0]], [1.0], **kw)
    with pytest.raises(ValueError, match=r"'rate' parameter must be > -1.*index 1"):
        npv([1.0, 1.0], [1.0, 1.0], rate=[0.05, -1.0], lead_time_months=12, lifetime_years=5)
    with pytest.raises(ValueError, match=r"'rate' parameter must be a scalar or have shape \(2,\)"):
        npv([1.0, 1.0], [1.0, 1.0], rate=[0.05], lead_time_months=12, lifetime_years=5)
    with pytest.raises(ValueError, match="'one_off_at_completion_yuan' parameter"):
        npv([1.0], [1.0], one_off_at_completion_yuan=[1.0, 2.0], **kw)
    with pytest.raises(ValueError, match="'lifetime_years' parameter must be finite and >= 0"):
        npv([1.0], [1.0], rate=0.05, lead_time_months=12, lifetime_years=-1)


# ================================================================== choose


def test_an_option_that_does_not_fit_is_skipped_and_a_cheaper_later_one_taken():
    # Indices 3/4 = 0.75, 4/8 = 0.5, 0.5/2 = 0.25 rank options 0, 1, 2. Budget 10:
    # take 0 (spent 4); 1 would make 12 > 10, skip; 2 makes 6 <= 10, take.
    got = choose([[3.0, 4.0, 0.5]], [[4.0, 8.0, 2.0]], [10.0], np.ones((1, 3), bool))
    np.testing.assert_array_equal(got, [[True, False, True]])


def test_options_are_ranked_by_profitability_index_not_by_npv():
    # Option 0: NPV 10 on 10 (index 1); option 1: NPV 6 on 3 (index 2). Budget 10:
    # option 1 first (spent 3), option 0 would make 13 > 10.
    got = choose([[10.0, 6.0]], [[10.0, 3.0]], [10.0], np.ones((1, 2), bool))
    np.testing.assert_array_equal(got, [[False, True]])


def test_zero_npv_negative_npv_and_ineligible_options_are_never_taken():
    got = choose([[0.0, -5.0, 100.0, 1.0]], [[1.0, 1.0, 1.0, 1.0]], [np.inf],
                 np.array([[True, True, False, True]]))
    np.testing.assert_array_equal(got, [[False, False, False, True]])


def test_a_free_project_with_positive_npv_ranks_first():
    # Option 1 costs -1 (the subsidy exceeds capex): it goes first, leaving room 10.5;
    # option 0 (index 10) then fits: -1 + 10 = 9 <= 9.5. Ranked by index alone it
    # would not fit (10 > 9.5).
    got = choose([[100.0, 1.0]], [[10.0, -1.0]], [9.5], np.ones((1, 2), bool))
    np.testing.assert_array_equal(got, [[True, True]])


def test_ties_in_profitability_index_go_to_the_lower_option_index():
    # Options 1 and 2 both have index 0.5; only one of them fits in 10.
    got = choose([[0.0, 3.0, 3.0]], [[1.0, 6.0, 6.0]], [10.0], np.ones((1, 3), bool))
    np.testing.assert_array_equal(got, [[False, True, False]])


def test_capex_exactly_equal_to_the_budget_fits():
    got = choose([[1.0, 1.0]], [[4.0, 6.0]], [10.0], np.ones((1, 2), bool))
    np.testing.assert_array_equal(got, [[True, True]])


def test_a_negative_budget_admits_only_options_paying_at_least_the_shortfall():
    # Budget -1 (the firm is short of cash): a free option (0 > -1) does not fit;
    # one that pays the firm 2 (-2 <= -1) does.
    got = choose([[1.0, 1.0]], [[0.0, -2.0]], [-1.0], np.ones((1, 2), bool))
    np.testing.assert_array_equal(got, [[False, True]])


def test_choose_decides_each_firm_with_its_own_budget():
    value = np.array([[5.0, 2.0], [5.0, 2.0], [5.0, 2.0], [-1.0, -1.0]])
    cost = np.array([[10.0, 2.0], [10.0, 2.0], [10.0, 2.0], [1.0, 1.0]])
    got = choose(value, cost, np.array([1.0, 5.0, 12.0, 100.0]), np.ones((4, 2), bool))
    # index 0.5 vs 1.0: option 1 first. Budgets: 1 nothing; 5 option 1; 12 both; NPV < 0 none.
    np.testing.assert_array_equal(got, [[False, False], [False, True], [True, True],
                                        [False, False]])


def test_choose_ignores_nan_where_ineligible():
    got = choose([[np.nan, 1.0]], [[np.nan, 1.0]], [5.0], np.array([[False, True]]))
    np.testing.assert_array_equal(got, [[False, True]])


def test_choose_with_no_firms_or_no_options():
    assert choose(np.zeros((0, 4)), np.zeros((0, 4)), np.zeros(0),
                  np.zeros((0, 4), bool)).shape == (0, 4)
    assert choose(np.zeros((2, 0)), np.zeros((2, 0)), np.zeros(2),
                  np.zeros((2, 0), bool)).shape == (2, 0)


def greedy_reference(value, cost, budget, eligible):
    """Per-firm loop: the rule as written, for comparison."""
    n, m = value.shape
    out = np.zeros((n, m), bool)
    for i in range(n):
        cands = [j for j in range(m) if eligible[i, j] and value[i, j] > 0]
        with np.errstate(over="ignore"):
            cands.sort(key=lambda j: (-(value[i, j] / cost[i, j] if cost[i, j] > 0 else math.inf),
                                      j))
        spent = 0.0
        for j in cands:
            if spent + cost[i, j] <= budget[i]:
                out[i, j] = True
                spent += cost[i, j]
    return out


@st.composite
def choice_problems(draw, values):
    n = draw(st.integers(0, 6))
    m = draw(st.integers(1, 4))
    cells = st.lists(values, min_size=n * m, max_size=n * m)
    value = np.array(draw(cells), dtype=float).reshape(n, m)
    cost = np.array(draw(cells), dtype=float).reshape(n, m)
    budget = np.array(draw(st.lists(st.one_of(values, st.just(np.inf)), min_size=n,
                                    max_size=n)), dtype=float)
    eligible = np.array(draw(st.lists(st.booleans(), min_size=n * m, max_size=n * m)),
                        dtype=bool).reshape(n, m)
    return value, cost, budget, eligible


def check_choice(value, cost, budget, eligible):
    got = choose(value, cost, budget, eligible)
    assert not (got & ~eligible).any()
    assert not (got & ~(value > 0)).any()
    spent = np.where(got, cost, 0.0).sum(axis=1)
    scale = np.abs(cost).sum(axis=1) + 1.0
    took = got.any(axis=1)
    assert (spent[took] <= budget[took] + 1e-12 * scale[took]).all()
    np.testing.assert_array_equal(got, greedy_reference(value, cost, budget, eligible))


@settings(max_examples=300, deadline=None)
@given(choice_problems(st.integers(-5, 20)))
def test_choose_matches_the_greedy_reference_with_ties(problem):
    check_choice(*problem)


@settings(max_examples=300, deadline=None)
@given(choice_problems(st.floats(-1e3, 1e4, allow_nan=False, allow_infinity=False)))
def test_choose_matches_the_greedy_reference_on_floats(problem):
    check_choice(*problem)


def test_choose_rejects_bad_shapes_and_values():
    ok = np.ones((2, 3), bool)
    z = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"'npv' parameter must be 2-D.*\(3,\)"):
        choose(np.zeros(3), z, np.zeros(2), ok)
    with pytest.raises(ValueError, match=r"'capex_net' parameter must have the shape of 'npv', "
                                         r"\(2, 3\). Got \(3, 2\)"):
        choose(z, np.zeros((3, 2)), np.zeros(2), ok)
    with pytest.raises(ValueError, match="'eligible' parameter must have the shape of 'npv'"):
        choose(z, z, np.zeros(2), np.ones((2, 2), bool))
    with pytest.raises(ValueError, match="'eligible' parameter must be boolean"):
        choose(z, z, np.zeros(2), np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"'budget' parameter must have shape \(2,\)"):
        choose(z, z, np.zeros(3), ok)
    with pytest.raises(ValueError, match=r"'budget' parameter must be a number.*index 1"):
        choose(z, z, np.array([0.0, np.nan]), ok)
    bad = z.copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"'npv' parameter must be a number.*index \(1, 2\)"):
        choose(bad, z, np.zeros(2), ok)
    with pytest.raises(ValueError, match=r"'capex_net' parameter must be finite.*\(1, 2\)"):
        choose(z, bad, np.zeros(2), ok)


# ================================================================== allocate_fund


def test_fund_pays_highest_priority_first_and_the_marginal_request_gets_the_rest():
    # Priorities 1, 3, 2 -> order: request 1 (30), request 2 (40), request 0 (50).
    # Fund 100: 30 and 40 in full (70), request 0 gets the remaining 30.
    got = allocate_fund([50.0, 30.0, 40.0], [1.0, 3.0, 2.0], 100.0)
    np.testing.assert_array_equal(got, [30.0, 30.0, 40.0])


def test_requests_after_the_marginal_one_get_nothing_even_if_small():
    # 50 in full, 60 gets the remaining 50; the 10 after it gets 0 although 10 < 60.
    got = allocate_fund([50.0, 60.0, 10.0], [3.0, 2.0, 1.0], 100.0)
    np.testing.assert_array_equal(got, [50.0, 50.0, 0.0])


def test_equal_priorities_are_served_by_index():
    np.testing.assert_array_equal(allocate_fund([40.0, 40.0, 40.0], [1.0, 1.0, 1.0], 100.0),
                                  [40.0, 40.0, 20.0])


def test_a_fund_larger_than_all_requests_pays_them_in_full():
    np.testing.assert_array_equal(allocate_fund([5.0, 0.0, 7.0], [0.0, 1.0, 2.0], 1e9),
                                  [5.0, 0.0, 7.0])


def test_an_empty_fund_pays_nothing():
    np.testing.assert_array_equal(allocate_fund([5.0, 7.0], [1.0, 2.0], 0.0), [0.0, 0.0])
    assert allocate_fund([], [], 10.0).shape == (0,)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), n=st.integers(0, 12), fund=st.floats(0, 2e6))
def test_fund_is_conserved_bounded_and_served_in_priority_order(data, n, fund):
    request = np.array(data.draw(st.lists(st.floats(0, 1e6), min_size=n, max_size=n)))
    priority = np.array(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)),
                        dtype=float)
    grant = allocate_fund(request, priority, fund)
    assert grant.shape == (n,)
    total = min(fund, request.sum())
    assert grant.sum() == pytest.approx(total, rel=1e-9, abs=1e-9)
    assert ((grant >= 0) & (grant <= request)).all()
    # In service order, once a request is cut every later one gets nothing.
    order = np.lexsort((np.arange(n), -priority))
    cut = np.flatnonzero(grant[order] < request[order])
    if cut.size:
        assert (grant[order][cut[0] + 1:] == 0).all()


def test_allocate_fund_rejects_bad_inputs():
    with pytest.raises(ValueError, match=r"'priority' parameter must have the shape of "
                                         r"'request_yuan', \(2,\). Got \(3,\)"):
        allocate_fund([1.0, 2.0], [1.0, 2.0, 3.0], 1.0)
    with pytest.raises(ValueError, match=r"'request_yuan' parameter must be finite and >= 0.*"
                                         r"-1.0 at index 1"):
        allocate_fund([1.0, -1.0], [1.0, 2.0], 1.0)
    with pytest.raises(ValueError, match="'fund_yuan' parameter must be finite and >= 0"):
        allocate_fund([1.0], [1.0], -5.0)
    with pytest.raises(ValueError, match="'fund_yuan' parameter must be finite and >= 0"):
        allocate_fund([1.0], [1.0], np.inf)
    with pytest.raises(ValueError, match="'priority' parameter must be a number"):
        allocate_fund([1.0], [np.nan], 1.0)
    with pytest.raises(ValueError, match="'request_yuan' parameter must be 1-D"):
        allocate_fund([[1.0]], [1.0], 1.0)


# ================================================================== a_awards


def test_a_firms_share_the_award_fund_equally():
    # Two A firms share 300: 150 each; B, D and unrated get nothing.
    got = a_awards(np.array([A, B, A, D, U]), 300.0)
    np.testing.assert_array_equal(got, [150.0, 0.0, 150.0, 0.0, 0.0])
    assert got.sum() == 300.0


def test_without_a_firms_nobody_is_awarded():
    np.testing.assert_array_equal(a_awards(np.array([B, C, U]), 300.0), [0.0, 0.0, 0.0])
    assert a_awards(np.array([], dtype=np.int8), 300.0).shape == (0,)


def test_a_awards_rejects_bad_inputs():
    with pytest.raises(ValueError, match="'klass' parameter must be 1-D"):
        a_awards(np.zeros((2, 2), int), 1.0)
    with pytest.raises(ValueError, match="'fund_yuan' parameter must be finite and >= 0"):
        a_awards(np.array([A]), float("nan"))


# ================================================================== quantities


def test_retrofit_saves_a_share_of_energy_at_capex_per_tce():
    # 1,000 tce/yr * 15% = 150 tce/yr; 150 * 10,000 yuan/tce = 1.5 million yuan.
    saved, capex = retrofit_quantities(np.array([1000.0, 0.0, 200.0]), 0.15,
                                       np.array([10000.0, 10000.0, 8000.0]))
    np.testing.assert_allclose(saved, [150.0, 0.0, 30.0])
    np.testing.assert_allclose(capex, [1.5e6, 0.0, 2.4e5])  # 30 * 8,000 = 240,000


def test_pollution_control_removes_a_share_of_each_pollutant_priced_on_the_sum():
    # 30% of (1, 2, 3, 4) t = (0.3, 0.6, 0.9, 1.2) t; summed 3 t * 30,000 = 90,000 yuan.
    removed, capex = pollution_quantities(np.array([[1.0, 2.0, 3.0, 4.0], [0, 0, 0, 10.0]]),
                                          np.array([0.3, 0.5]), 30000.0)
    np.testing.assert_allclose(removed, [[0.3, 0.6, 0.9, 1.2], [0, 0, 0, 5.0]])
    np.testing.assert_allclose(capex, [90000.0, 150000.0])


def test_automation_replaces_employees_and_saves_their_wages():
    # 100 staff * 15% = 15 replaced; capex 15 * 12 万 = 180 万 = 1.8e6 yuan;
    # saving 15 * 6 万 = 90 万 = 9e5 yuan a year.
    replaced, capex, saving = automation_quantities(np.array([100.0, 40.0]), 0.15, 12.0, 6.0)
    np.testing.assert_allclose(replaced, [15.0, 6.0])
    np.testing.assert_allclose(capex, [1.8e6, 7.2e5])
    np.testing.assert_allclose(saving, [9e5, 3.6e5])


def test_space_for_land_frees_a_share_of_land_at_capex_per_mu():
    # 50 mu * 30% = 15 mu; 15 * 40 万 = 600 万 = 6e6 yuan.
    freed, capex = space_for_land_quantities(np.array([50.0]), np.array([0.3]),
                                             np.array([40.0]))
    np.testing.assert_allclose(freed, [15.0])
    np.testing.assert_allclose(capex, [6e6])


def test_quantity_helpers_reject_bad_shapes():
    # One column per pollutant, as many as the scenario has (VOCs makes five).
    for bad in (np.zeros(3), np.zeros((2, 0))):
        with pytest.raises(ValueError, match=r"'emissions_t_per_year' parameter must have shape "
                                             r"\(n, pollutants\)"):
            pollution_quantities(bad, 0.3, 1.0)
    removed, _ = pollution_quantities(np.ones((2, 5)), 0.3, 1.0)
    assert removed.shape == (2, 5)
    with pytest.raises(ValueError, match=r"'effect_share' parameter must be a scalar or have "
                                         r"shape \(2,\)"):
        retrofit_quantities(np.zeros(2), np.zeros(3), 1.0)
    with pytest.raises(ValueError, match="'capex_wan_yuan_per_employee' parameter"):
        automation_quantities(np.zeros(2), 0.1, np.zeros(3), 6.0)
    with pytest.raises(ValueError, match="'land_mu' parameter must be 1-D"):
        space_for_land_quantities(np.zeros((2, 1)), 0.3, 40.0)


# ================================================================== end to end


def test_automation_decision_for_three_firms_from_scenario_values():
    # Automation at 12 万/employee, 15% replaced, lead 6 months, life 8 years;
    # wage 6 万/yr; subsidies A 20%. Each of three firms has 100 staff:
    # capex 1.8e6, saving 9e5 a year, half in years 1 and 9.
    scenario = load_scenario(default_scenario_path())
    spec = InvestmentOption(capex=12, effect_share=0.15, lead_time_months=6, lifetime_years=8,
                            subsidy_share_by_class={"A": 0.2, "B": 0.1})
    finance = FinanceSpec(wage_wan_yuan_per_person_year=6.0,
                          loan_rate_by_class={"A": 0.0435, "B": 0.0475, "C": 0.055, "D": 0.065})
    klass = np.array([A, D, A])
    names = scenario.sector_names()
    t = option_table(spec, sector=np.zeros(3, np.int16), sector_names=names)
    _, capex, saving = automation_quantities(np.full(3, 100.0), t.effect_share, t.capex,
                                             finance.wage_wan_yuan_per_person_year)
    subsidy = per_class(spec.subsidy_share_by_class.as_tuple(), klass)  # 0.2, 0, 0.2
    capex_net = capex * (1 - subsidy)  # 1.44e6, 1.8e6, 1.44e6
    rate = per_class(finance.loan_rate_by_class.as_tuple(), klass)
    value = npv(capex_net, saving, rate=rate, lead_time_months=t.lead_time_months,
                lifetime_years=t.lifetime_years)
    expected_a = (-1.44e6 + 4.5e5 * disc(0.0435, 1)
                  + sum(9e5 * disc(0.0435, k) for k in range(2, 9)) + 4.5e5 * disc(0.0435, 9))
    assert value[0] == pytest.approx(expected_a, rel=1e-12)
    # Firm 2 has 1e6 yuan to spend: too little for 1.44e6. Firm 1 has plenty.
    taken = choose(value[:, None], capex_net[:, None], np.array([5e6, 5e6, 1e6]),
                   np.ones((3, 1), bool))
    np.testing.assert_array_equal(taken[:, 0], [True, True, False])


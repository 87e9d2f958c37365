"""Tests for simulator/evaluation.py: hand-computed cases first, then properties."""

from __future__ import annotations

import typing

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import scenario
from simulator.evaluation import (
    INDICATORS,
    TIER_INDICATORS,
    EvaluationInput,
    evaluate,
    scored_frame,
    transition_counts,
)
from simulator.firms import CLASS_CODES, UNRATED
from simulator.scenario import (
    ClassificationSpec,
    ClassShares,
    EvaluationSpec,
    PollutantValues,
)

A, B, C, D = (CLASS_CODES[k] for k in "ABCD")
THRESHOLDS = ClassificationSpec(method="thresholds")  # A >= 120, B >= 90, C >= 60


def make_input(n: int, **columns) -> EvaluationInput:
    """Build an evaluation input of n above-scale industrial firms; override any column.

    ``emissions_t`` may be given as one total per firm (put in the COD column).
    """
    base = {
        "firm_id": np.arange(1, n + 1),
        "tax_wan_yuan": np.full(n, 10.0),
        "va_wan_yuan": np.full(n, 100.0),
        "revenue_wan_yuan": np.full(n, 1000.0),
        "rd_wan_yuan": np.full(n, 10.0),
        "land_mu": np.full(n, 10.0),
        "employees": np.full(n, 10.0),
        "energy_tce": np.full(n, 10.0),
        "electricity_kwh": np.full(n, 1e5),
        "emissions_t": np.ones((n, 4)),
        "above_scale": np.ones(n, dtype=bool),
        "is_services": np.zeros(n, dtype=bool),
        "sector": np.zeros(n, dtype=np.int16),
        "region": np.zeros(n, dtype=np.int16),
        "park": np.zeros(n, dtype=np.int16),
        "high_tech": np.zeros(n, dtype=bool),
        "listed": np.zeros(n, dtype=bool),
        "brand": np.zeros(n, dtype=bool),
        "vetoed": np.zeros(n, dtype=bool),
        "protected": np.zeros(n, dtype=bool),
    }
    for name, value in columns.items():
        value = np.asarray(value, dtype=base[name].dtype)
        if name == "emissions_t" and value.ndim == 1:
            value = np.column_stack([value, np.zeros((n, 3))])
        base[name] = value
    return EvaluationInput(**base)


# The hand-computed group: four above-scale firms in one region, default weights
# tax/mu 30, VA/mu 20, VA/tce 20, VA/emission 10, labour productivity 10, R&D 10.
HAND = {
    "land_mu": [10, 20, 10, 10],  # sum 50
    "tax_wan_yuan": [50, 30, 10, 10],  # sum 100
    "va_wan_yuan": [300, 400, 100, 200],  # sum 1000
    "energy_tce": [15, 40, 25, 20],  # sum 100
    "emissions_t": [[1, 0, 1, 0], [1, 1, 1, 1], [2, 0, 0, 0], [0, 0, 0, 2]],  # sum 10
    "employees": [10, 20, 10, 10],  # sum 50
    "revenue_wan_yuan": [1000, 1500, 500, 1000],  # sum 4000
    "rd_wan_yuan": [20, 15, 0, 5],  # sum 40
}
# Benchmarks, ratio of sums:        firm values x / b -> capped ratio:
#   tax/mu   100/50   = 2           5, 1.5, 1, 1     -> 2 (2.5 capped), 0.75, 0.5, 0.5
#   VA/mu    1000/50  = 20          30, 20, 10, 20   -> 1.5, 1, 0.5, 1
#   VA/tce   1000/100 = 10          20, 10, 4, 10    -> 2, 1, 0.4, 1
#   VA/t     1000/10  = 100         150, 100, 50, 100 -> 1.5, 1, 0.5, 1
#   VA/person 1000/50 = 20          30, 20, 10, 20   -> 1.5, 1, 0.5, 1
#   R&D      40/4000  = 0.01        .02, .01, 0, .005 -> 2, 1, 0, 0.5
# Scores, 100 * sum(w * ratio) / 100:
#   firm 1: 30*2    + 20*1.5 + 20*2   + 10*1.5 + 10*1.5 + 10*2   = 180
#   firm 2: 30*0.75 + 20*1   + 20*1   + 10*1   + 10*1   + 10*1   = 92.5
#   firm 3: 30*0.5  + 20*0.5 + 20*0.4 + 10*0.5 + 10*0.5 + 10*0   = 43
#   firm 4: 30*0.5  + 20*1   + 20*1   + 10*1   + 10*1   + 10*0.5 = 80
HAND_SCORES = [180.0, 92.5, 43.0, 80.0]


def hand_input(**overrides) -> EvaluationInput:
    return make_input(4, **{**HAND, **overrides})


# ---------------------------------------------------------------- hand-computed


def test_hand_computed_group_scores_use_ratio_of_sums_benchmarks():
    result = evaluate(hand_input(), params=EvaluationSpec())
    np.testing.assert_allclose(result.score, HAND_SCORES)
    np.testing.assert_allclose(result.indicators["tax_per_mu"], [5, 1.5, 1, 1])
    np.testing.assert_allclose(result.indicators["va_per_emission"], [150, 100, 50, 100])
    np.testing.assert_allclose(result.indicators["rd_share"], [0.02, 0.01, 0, 0.005])
    # a mean of the firms' ratios (2.125 for tax/mu) would give firm 2 less than 92.5
    assert result.score[1] == pytest.approx(92.5)


def test_hand_computed_group_classes_by_shares_20_55_20_5():
    # 4 firms: A up to round(0.8)=1, B up to round(3.0)=3, C up to round(3.8)=4, no D.
    result = evaluate(hand_input(), params=EvaluationSpec())
    np.testing.assert_array_equal(result.rank, [1, 2, 4, 3])
    np.testing.assert_array_equal(result.klass, [A, B, C, B])
    np.testing.assert_array_equal(result.group_size, [4, 4, 4, 4])


def test_hand_computed_group_classes_by_thresholds():
    # 180 >= 120 A; 92.5 >= 90 B; 43 < 60 D; 80 >= 60 C
    result = evaluate(hand_input(), params=EvaluationSpec(classification=THRESHOLDS))
    np.testing.assert_array_equal(result.klass, [A, B, D, C])


def test_indicator_ratio_is_capped_at_indicator_cap():
    # firm 1's tax/mu ratio is 5 / 2 = 2.5: capped at 2 it gives 60 points, at 3 it gives 75
    capped = evaluate(hand_input(), params=EvaluationSpec())
    uncapped = evaluate(hand_input(), params=EvaluationSpec(indicator_cap=3.0))
    assert capped.score[0] == pytest.approx(180.0)
    assert uncapped.score[0] == pytest.approx(180.0 + 30 * 0.5)
    np.testing.assert_allclose(uncapped.score[1:], HAND_SCORES[1:])


def test_firm_without_emission_data_gets_group_mean_indicator_score():
    emissions = np.array(HAND["emissions_t"], dtype=float)
    emissions[2] = 0.0  # firm 3 reports no emissions
    result = evaluate(hand_input(emissions_t=emissions), params=EvaluationSpec())
    # benchmark over firms with data: (300+400+200)/(2+4+2) = 112.5
    # s = 10 * (150, 100, 100)/112.5 = 13.333, 8.889, 8.889; mean = 280/27 = 10.370
    assert np.isnan(result.indicators["va_per_emission"][2])
    expected = [
        180 - 15 + 10 * 150 / 112.5,
        92.5 - 10 + 10 * 100 / 112.5,
        43 - 5 + 280 / 27,
        80 - 10 + 10 * 100 / 112.5,
    ]
    np.testing.assert_allclose(result.score, expected)


def test_group_where_nobody_has_the_data_scores_it_at_the_benchmark():
    result = evaluate(hand_input(emissions_t=np.zeros((4, 4))), params=EvaluationSpec())
    # every firm gets w = 10 for VA per emission (ratio 1)
    np.testing.assert_allclose(result.score, [180 - 15 + 10, 92.5, 43 - 5 + 10, 80])


def test_zero_energy_and_zero_employees_count_as_missing_data():
    result = evaluate(
        hand_input(energy_tce=[15, 40, 0, 20], employees=[10, 20, 10, 0]),
        params=EvaluationSpec(),
    )
    # VA/tce benchmark (300+400+200)/75 = 12: s = 20*(20,10,10)/12; firm 3 gets the mean
    va_tce = 20 * np.array([20, 10, 10]) / 12
    # VA/person benchmark (300+400+100)/40 = 20: s = 10*(1.5, 1, 0.5); firm 4 gets the mean 10
    assert result.score[2] == pytest.approx(43 - 8 + va_tce.mean())
    assert result.score[3] == pytest.approx(80 - 20 + va_tce[2] - 10 + 10)


def test_emission_weights_combine_pollutants():
    # weight 0 on NH3-N and NOx: firm 4's only emission is NOx, so it has no data
    params = EvaluationSpec(emission_weights=PollutantValues(cod=1, nh3n=0, so2=1, nox=0))
    result = evaluate(hand_input(), params=params)
    # weighted emissions 2, 2, 2, 0: benchmark 800/6; firm 2: 400/2 = 200
    assert result.indicators["va_per_emission"][1] == pytest.approx(200.0)
    assert np.isnan(result.indicators["va_per_emission"][3])


def test_bonus_points_are_added_to_the_score():
    result = evaluate(
        hand_input(high_tech=[0, 0, 0, 1], listed=[0, 0, 1, 1], brand=[0, 1, 0, 1]),
        params=EvaluationSpec(),
    )
    np.testing.assert_allclose(result.score, [180, 92.5 + 2, 43 + 3, 80 + 5 + 3 + 2])


def test_below_scale_firms_score_tax_per_mu_50_and_tax_per_kwh_50():
    inp = make_input(
        2,
        above_scale=[False, False],
        land_mu=[10, 10],
        tax_wan_yuan=[20, 5],
        electricity_kwh=[1e6, 1e6],
    )
    result = evaluate(inp, params=EvaluationSpec())
    # tax/mu 2 and 0.5, benchmark 25/20 = 1.25 -> ratios 1.6, 0.4
    # tax/kWh 20e4/1e6 = 0.2 and 0.05 yuan, benchmark 25e4/2e6 = 0.125 -> ratios 1.6, 0.4
    np.testing.assert_allclose(result.indicators["tax_per_kwh"], [0.2, 0.05])
    np.testing.assert_allclose(result.score, [160, 40])  # 50*1.6 + 50*1.6, 50*0.4 + 50*0.4
    np.testing.assert_array_equal(result.tier, [1, 1])
    assert np.isnan(result.indicators["va_per_mu"]).all()


def test_services_scored_on_tax_and_sales_per_kwh_tax_and_sales():
    inp = make_input(
        2,
        above_scale=[False, False],
        is_services=[True, True],
        land_mu=[0, 0],
        tax_wan_yuan=[30, 10],
        revenue_wan_yuan=[300, 100],
        electricity_kwh=[1e5, 1e5],
    )
    result = evaluate(inp, params=EvaluationSpec())
    # tax/kWh 3, 1 (b 2); sales/kWh 30, 10 (b 20); tax 30, 10 (mean 20); sales 300, 100 (mean 200)
    np.testing.assert_allclose(result.indicators["sales_per_kwh"], [30, 10])
    np.testing.assert_allclose(result.indicators["tax"], [30, 10])
    np.testing.assert_allclose(result.score, [150, 50])
    np.testing.assert_array_equal(result.tier, [2, 2])
    assert np.isnan(result.indicators["tax_per_mu"]).all()


def test_services_unrated_when_services_not_evaluated():
    inp = make_input(2, above_scale=[False, False], is_services=[True, True])
    result = evaluate(inp, params=EvaluationSpec(evaluate_services=False))
    np.testing.assert_array_equal(result.klass, [UNRATED, UNRATED])
    assert np.isnan(result.score).all()


def test_services_flagged_above_scale_stay_services():
    # is_services wins over above_scale: a services firm with the above-scale flag is
    # unrated when services are not evaluated, and never ranked with industry.
    inp = make_input(3, above_scale=[True, True, True], is_services=[True, False, False])
    result = evaluate(inp, params=EvaluationSpec(evaluate_services=False))
    np.testing.assert_array_equal(result.tier, [-1, 0, 0])
    np.testing.assert_array_equal(result.group_size, [0, 2, 2])
    assert result.klass[0] == UNRATED
    assert np.isnan(result.score[0])
    evaluated = evaluate(inp, params=EvaluationSpec())
    np.testing.assert_array_equal(evaluated.tier, [2, 0, 0])
    np.testing.assert_array_equal(evaluated.group_size, [1, 2, 2])


def test_shares_20_55_20_5_on_20_firms_give_4_11_4_1():
    result = evaluate(make_input(20, tax_wan_yuan=np.arange(20.0)), params=EvaluationSpec())
    np.testing.assert_array_equal(np.bincount(result.klass, minlength=4), [4, 11, 4, 1])
    assert result.klass[19] == A  # most tax is best
    assert result.klass[0] == D


def test_cumulative_rounding_is_half_up_despite_float_error_in_share_sums():
    # 35/30/30/5 on 10 firms: cuts round(3.5)=4, round(6.5)=7, round(9.5)=10 -> 4/3/3/0,
    # although 10 * (0.35 + 0.30) is 6.499999999999999 in floating point
    shares = ClassShares(A=0.35, B=0.30, C=0.30, D=0.05)
    params = EvaluationSpec(classification=ClassificationSpec(shares=shares))
    result = evaluate(make_input(10, tax_wan_yuan=np.arange(10.0)), params=params)
    np.testing.assert_array_equal(np.bincount(result.klass, minlength=4), [4, 3, 3, 0])


def test_ties_in_score_are_broken_by_firm_id():
    inp = make_input(5, firm_id=[50, 10, 40, 20, 30])  # identical firms
    result = evaluate(inp, params=EvaluationSpec())
    np.testing.assert_array_equal(result.rank, [5, 1, 4, 2, 3])
    # 5 firms: A 1, B up to round(3.75)=4, C up to round(4.75)=5
    np.testing.assert_array_equal(result.klass, [C, A, B, B, B])


def test_veto_demotes_a_and_b_to_c():
    result = evaluate(hand_input(vetoed=[1, 1, 1, 0]), params=EvaluationSpec())
    np.testing.assert_array_equal(result.klass, [C, C, C, B])
    thresholds = evaluate(
        hand_input(vetoed=[0, 0, 1, 0]), params=EvaluationSpec(classification=THRESHOLDS)
    )
    assert thresholds.klass[2] == D  # a vetoed D stays D


def test_protection_lifts_d_to_c_only():
    params = EvaluationSpec(classification=THRESHOLDS)
    result = evaluate(hand_input(protected=[1, 0, 1, 0]), params=params)
    np.testing.assert_array_equal(result.klass, [A, B, C, C])
    both = evaluate(hand_input(protected=[0, 0, 1, 0], vetoed=[0, 0, 1, 0]), params=params)
    assert both.klass[2] == C


def test_above_and_below_scale_firms_are_ranked_separately():
    extra = make_input(1, firm_id=[5], above_scale=[False], tax_wan_yuan=[1e6], land_mu=[10])
    hand = hand_input()
    inp = EvaluationInput(
        **{
            name: np.concatenate([getattr(hand, name), getattr(extra, name)])
            for name in EvaluationInput.__dataclass_fields__
        }
    )
    result = evaluate(inp, params=EvaluationSpec())
    np.testing.assert_allclose(result.score[:4], HAND_SCORES)  # untouched by firm 5
    np.testing.assert_array_equal(result.group_size, [4, 4, 4, 4, 1])
    assert result.group[4] not in set(result.group[:4])
    np.testing.assert_array_equal(result.tier, [0, 0, 0, 0, 1])


def test_group_by_region_ranks_each_region_separately():
    tax = np.r_[np.arange(1.0, 6.0), np.arange(1.0, 6.0) / 100]  # region 1 is much weaker
    inp = make_input(10, tax_wan_yuan=tax, region=[0] * 5 + [1] * 5)
    result = evaluate(inp, params=EvaluationSpec(group_by=["region"]))
    assert result.klass[4] == A
    assert result.klass[9] == A
    np.testing.assert_array_equal(result.group_size, [5] * 10)
    pooled = evaluate(inp, params=EvaluationSpec(group_by=[]))
    np.testing.assert_array_equal(pooled.group_size, [10] * 10)
    assert pooled.klass[9] != A


def test_group_by_park_uses_parks_within_regions():
    inp = make_input(4, region=[0, 0, 1, 1], park=[0, 1, 0, 1])
    result = evaluate(inp, params=EvaluationSpec(group_by=["park"]))
    assert len(set(result.group)) == 4  # park 0 of region 0 is not park 0 of region 1
    np.testing.assert_array_equal(result.group_size, [1, 1, 1, 1])


def test_sector_mean_benchmarks_each_sector_within_the_ranking_group():
    params = EvaluationSpec(benchmark="sector_mean", weights_above_scale={"tax_per_mu": 100})
    inp = make_input(4, tax_wan_yuan=[10, 30, 100, 300], sector=[0, 0, 1, 1])
    result = evaluate(inp, params=params)
    # sector 0: tax/mu 1, 3, benchmark 2; sector 1: 10, 30, benchmark 20
    np.testing.assert_allclose(result.score, [50, 150, 50, 150])
    np.testing.assert_array_equal(result.group_size, [4] * 4)
    group_mean = evaluate(inp, params=params.model_copy(update={"benchmark": "group_mean"}))
    # one benchmark 440/40 = 11: ratios 1/11, 3/11, 10/11, 30/11 -> capped at 2
    np.testing.assert_allclose(group_mean.score, [100 / 11, 300 / 11, 1000 / 11, 200])


def test_fixed_benchmarks_come_from_params():
    fixed = {
        "above_scale": {"tax_per_mu": 2.0},
        "below_scale": {"tax_per_mu": 1.0, "tax_per_kwh": 0.2},
        "services": {"tax_per_kwh": 0.2, "sales_per_kwh": 1.0, "tax": 1.0, "sales": 1.0},
    }
    params = EvaluationSpec(
        benchmark="fixed", fixed_benchmarks=fixed, weights_above_scale={"tax_per_mu": 100}
    )
    result = evaluate(make_input(3, tax_wan_yuan=[10, 30, 50]), params=params)
    # tax/mu 1, 3, 5 against 2 -> 0.5, 1.5, 2 (capped)
    np.testing.assert_allclose(result.score, [50, 150, 200])


def test_fixed_benchmarks_differ_by_tier():
    # The same tax/mu of 1 scores against 2 above scale and against 1 below scale.
    fixed = {"above_scale": {"tax_per_mu": 2.0}, "below_scale": {"tax_per_mu": 1.0}}
    params = EvaluationSpec(
        benchmark="fixed", fixed_benchmarks=fixed, evaluate_services=False,
        weights_above_scale={"tax_per_mu": 100}, weights_below_scale={"tax_per_mu": 100},
    )
    inp = make_input(2, tax_wan_yuan=[10, 10], land_mu=[10, 10], above_scale=[True, False])
    np.testing.assert_allclose(evaluate(inp, params=params).score, [50, 100])


def test_fixed_benchmark_missing_for_a_weighted_indicator_is_an_error():
    with pytest.raises(ValueError, match="benchmark missing for tax_per_kwh"):
        EvaluationSpec(benchmark="fixed", evaluate_services=False,
                       fixed_benchmarks={"above_scale": {"tax_per_mu": 1.0},
                                         "below_scale": {"tax_per_mu": 1.0}},
                       weights_above_scale={"tax_per_mu": 100})


def test_below_scale_firm_with_3_mu_is_out_of_scope_and_unrated():
    inp = make_input(2, above_scale=[False, False], land_mu=[3, 5])
    result = evaluate(inp, params=EvaluationSpec())
    np.testing.assert_array_equal(result.in_scope, [False, True])
    assert result.klass[0] == UNRATED
    assert result.klass[1] != UNRATED
    assert (result.tier[0], result.group[0], result.rank[0], result.group_size[0]) == (-1, -1, 0, 0)
    assert np.isnan(result.score[0])
    assert all(np.isnan(v[0]) for v in result.indicators.values())
    wider = evaluate(inp, params=EvaluationSpec(min_land_mu_below_scale=3))
    assert wider.in_scope.all()


def test_out_of_scope_firms_are_not_vetoed_into_a_class():
    inp = make_input(1, above_scale=[False], land_mu=[1], vetoed=[True], protected=[True])
    assert evaluate(inp, params=EvaluationSpec()).klass[0] == UNRATED


def test_duplicate_firm_ids_are_rejected():
    with pytest.raises(ValueError, match="firm_id"):
        evaluate(make_input(3, firm_id=[2, 1, 2]), params=EvaluationSpec())


def test_input_arrays_of_the_wrong_length_are_rejected():
    with pytest.raises(ValueError, match="'land_mu'"):
        make_input(3, land_mu=[1.0, 2.0])


def test_empty_input_gives_empty_result():
    result = evaluate(make_input(0), params=EvaluationSpec())
    assert result.klass.shape == (0,)
    assert result.score.shape == (0,)


def test_indicator_names_match_the_scenario_weights():
    assert set(typing.get_args(scenario.Indicator)) == set(TIER_INDICATORS[0])
    assert set(typing.get_args(scenario.BelowIndicator)) == set(TIER_INDICATORS[1])
    assert set(typing.get_args(scenario.ServicesIndicator)) == set(TIER_INDICATORS[2])


def test_transition_counts_tabulates_previous_by_current_class():
    counts = transition_counts(np.array([A, A, B, UNRATED, D]), np.array([A, B, B, A, UNRATED]))
    expected = np.zeros((5, 5), dtype=int)
    expected[A, A] = expected[A, B] = expected[B, B] = expected[UNRATED, A] = 1
    expected[D, UNRATED] = 1
    np.testing.assert_array_equal(counts, expected)
    with pytest.raises(ValueError, match="shape"):
        transition_counts(np.array([A]), np.array([A, B]))
    with pytest.raises(ValueError, match="'current'"):
        transition_counts(np.array([A]), np.array([7]))


def test_scored_frame_has_one_labelled_row_per_firm():
    inp = make_input(
        3, above_scale=[True, False, False], land_mu=[10, 10, 1], sector=[0, 1, 1], region=[1, 0, 0]
    )
    result = evaluate(inp, params=EvaluationSpec())
    frame = scored_frame(
        inp, result, sector_names=["metals", "textiles"], region_names=["north", "south"]
    )
    assert list(frame["tier"]) == ["above_scale", "below_scale", "out_of_scope"]
    # a group of one: A up to round(0.2) = 0, B up to round(0.75) = 1
    assert list(frame["class"]) == ["B", "B", "U"]
    assert list(frame["sector"]) == ["metals", "textiles", "textiles"]
    assert list(frame["region"]) == ["south", "north", "north"]
    assert {"firm_id", "score", "rank", "group_size", *INDICATORS} <= set(frame.columns)
    assert len(frame) == 3


# ---------------------------------------------------------------- properties


@st.composite
def populations(draw, max_firms: int = 30):
    """Random above- and below-scale firms in up to three regions, with ties and gaps."""
    n = draw(st.integers(1, max_firms))
    # small integers give ties and zeros (zero energy or emissions = missing data)
    values = st.one_of(st.integers(0, 5).map(float), st.floats(1e-3, 1e4))
    return make_input(
        n,
        firm_id=draw(st.permutations(range(n))),
        tax_wan_yuan=draw(hnp.arrays(float, n, elements=values)),
        va_wan_yuan=draw(hnp.arrays(float, n, elements=values)),
        energy_tce=draw(hnp.arrays(float, n, elements=values)),
        emissions_t=draw(hnp.arrays(float, n, elements=values)),
        land_mu=draw(hnp.arrays(float, n, elements=st.floats(5.0, 500.0))),
        above_scale=draw(hnp.arrays(bool, n)),
        region=draw(hnp.arrays(np.int16, n, elements=st.integers(0, 2))),
    )


@st.composite
def percent_shares(draw):
    """Class shares A, B, C, D in whole percent, summing to 100."""
    a = draw(st.integers(0, 100))
    b = draw(st.integers(0, 100 - a))
    c = draw(st.integers(0, 100 - a - b))
    return a, b, c, 100 - a - b - c


@settings(max_examples=100, deadline=None)
@given(inp=populations(), pct=percent_shares())
def test_class_counts_per_group_follow_cumulative_rounding(inp, pct):
    shares = ClassShares(**{k: p / 100 for k, p in zip("ABCD", pct, strict=True)})
    params = EvaluationSpec(classification=ClassificationSpec(shares=shares))
    result = evaluate(inp, params=params)
    cumulative = np.cumsum(pct)
    for g in np.unique(result.group[result.in_scope]):
        members = result.group == g
        m = int(members.sum())
        cuts = [0, *((m * c + 50) // 100 for c in cumulative[:3]), m]  # round half up
        expected = np.diff(cuts)
        np.testing.assert_array_equal(np.bincount(result.klass[members], minlength=4), expected)
        np.testing.assert_array_equal(np.sort(result.rank[members]), np.arange(1, m + 1))


@settings(max_examples=100, deadline=None)
@given(inp=populations(), method=st.sampled_from(["shares", "thresholds"]))
def test_classes_are_monotone_in_score_within_a_group(inp, method):
    params = EvaluationSpec(classification=ClassificationSpec(method=method))
    result = evaluate(inp, params=params)
    for g in np.unique(result.group[result.in_scope]):
        members = result.group == g
        assert len(set(result.tier[members])) == 1  # tiers are never ranked together
        score, klass = result.score[members], result.klass[members]
        better = score[:, None] > score[None, :]
        assert not np.any(better & (klass[:, None] > klass[None, :]))


@settings(max_examples=60, deadline=None)
@given(inp=populations(), data=st.data())
def test_results_per_firm_do_not_depend_on_row_order(inp, data):
    perm = np.array(data.draw(st.permutations(range(inp.n))), dtype=np.int64)
    params = EvaluationSpec()
    by_id = np.argsort(inp.firm_id)
    in_id_order = evaluate(inp.take(by_id), params=params)  # the fast path, no re-sorting
    base = evaluate(inp, params=params)
    np.testing.assert_array_equal(in_id_order.score, base.score[by_id])
    shuffled = evaluate(inp.take(perm), params=params)
    np.testing.assert_array_equal(shuffled.klass, base.klass[perm])
    np.testing.assert_array_equal(shuffled.score, base.score[perm])
    np.testing.assert_array_equal(shuffled.rank, base.rank[perm])


@settings(max_examples=60, deadline=None)
@given(inp=populations(), factor=st.floats(1e-3, 1e3))
def test_scaling_every_firms_tax_leaves_group_mean_scores_unchanged(inp, factor):
    params = EvaluationSpec()
    base = evaluate(inp, params=params)
    scaled_inp = make_input(
        inp.n,
        **{
            **{k: getattr(inp, k) for k in EvaluationInput.__dataclass_fields__},
            "tax_wan_yuan": inp.tax_wan_yuan * factor,
        },
    )
    scaled = evaluate(scaled_inp, params=params)
    np.testing.assert_allclose(scaled.score, base.score, rtol=1e-9, atol=1e-9)

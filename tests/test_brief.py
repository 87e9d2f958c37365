"""The brief's words: the policy difference, the findings and their order, the sweep's ranking.

Hand-made scenarios and tables, so every sentence and every order is known in advance.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from simulator.reporting.describe import (
    changes_between,
    describe_difference,
    describe_timeline,
    field_words,
    month_words,
)
from simulator.reporting.findings import amount, classify, finding_sentence, findings, number
from simulator.reporting.sections import text
from simulator.reporting.sweep_brief import eta_squared, relative_range, spearman_interval

SURCHARGE = "tariffs.electricity.class_surcharge_yuan_per_kwh"


def _scenario(d: float = 0.3, timeline: list | None = None, **extra: object) -> dict:
    return {"name": "s", "description": "x", "run": {"start": "2017-01", "end": "2030-12"},
            "tariffs": {"electricity": {"class_surcharge_yuan_per_kwh": {"C": 0.0, "D": d},
                                        "d_escalation": [{"min_consecutive_years": 3,
                                                          "surcharge_yuan_per_kwh": 0.4}]}},
            "timeline": timeline or [], **extra}


# ---------------------------------------------------------------- the policy difference


def test_a_timeline_surcharge_rise_is_said_as_who_pays_how_much_more_from_when():
    variant = _scenario(timeline=[{"date": "2019-01", "set": {f"{SURCHARGE}.D": 0.6}}])
    assert describe_difference(_scenario(), variant, "en") == [
        "From January 2019, class D firms pay 0.3 yuan/kWh more: the electricity class "
        "surcharge is 0.6 instead of 0.3 yuan/kWh."]
    assert describe_difference(_scenario(), variant, "zh") == [
        "自 2019 年 1 月起，D 类企业差别电价加价提高 0.3 元/千瓦时"
        "（由 0.3 调整为 0.6 元/千瓦时）。"]


def test_a_changed_list_item_is_said_with_the_item_that_qualifies_it():
    """The strict_d_2019 example: the escalation step after three years in D, 0.4 -> 0.7."""
    variant = _scenario(timeline=[{"date": "2019-01", "set": {
        "tariffs.electricity.d_escalation": [{"min_consecutive_years": 3,
                                              "surcharge_yuan_per_kwh": 0.7}]}}])
    assert describe_difference(_scenario(), variant, "en") == [
        "From January 2019, firms in class D for 3 or more consecutive years pay 0.3 yuan/kWh "
        "more: the escalated electricity surcharge is 0.7 instead of 0.4 yuan/kWh."]


def test_a_difference_that_ends_is_given_its_months_and_a_lower_price_pays_less():
    reference = _scenario(timeline=[{"date": "2021-01", "set": {f"{SURCHARGE}.D": 0.3}}])
    variant = _scenario(timeline=[{"date": "2019-07", "set": {f"{SURCHARGE}.D": 0.1}},
                                  {"date": "2021-01", "set": {f"{SURCHARGE}.D": 0.3}}])
    changes = changes_between(reference, variant)
    assert [(c.path, c.old, c.new, c.start, c.end) for c in changes] == [
        (f"{SURCHARGE}.D", 0.3, 0.1, "2019-07", "2021-01")]
    assert describe_difference(reference, variant, "en") == [
        "From July 2019 to December 2020, class D firms pay 0.2 yuan/kWh less: the electricity "
        "class surcharge is 0.1 instead of 0.3 yuan/kWh."]


def test_a_field_without_a_name_gets_a_readable_generic_sentence():
    reference = _scenario(dynamics={"exit": {"loss_years": 3, "enabled": True}})
    variant = _scenario(dynamics={"exit": {"loss_years": 2, "enabled": False}})
    assert describe_difference(reference, variant, "en") == [
        "Throughout the run, the exit of firms is off instead of on.",
        "Throughout the run, the loss years (dynamics.exit) falls from 3 to 2."]


def test_names_descriptions_and_output_settings_are_not_policy():
    variant = _scenario(output={"firm_snapshots": False})
    variant["name"], variant["description"] = "other", "another text"
    assert changes_between(_scenario(), variant) == []
    assert describe_difference(_scenario(), variant, "en", reference_name="base") == [
        "The same parameters as base: no policy difference."]


def test_many_differences_end_with_a_count_of_the_rest():
    reference = _scenario(evaluation={f"w{k}": k for k in range(12)})
    variant = _scenario(evaluation={f"w{k}": k + 1 for k in range(12)})
    items = describe_difference(reference, variant, "en", limit=8)
    assert len(items) == 9
    assert items[-1] == "… and 4 more difference(s), listed by field in the appendix."


def test_a_run_timeline_is_said_change_by_change():
    scenario = _scenario(timeline=[{"date": "2019-01", "set": {f"{SURCHARGE}.D": 0.5}}])
    assert describe_timeline(scenario, "en") == [
        "From January 2019, class D firms pay 0.2 yuan/kWh more: the electricity class "
        "surcharge is 0.5 instead of 0.3 yuan/kWh."]
    assert describe_timeline(_scenario(), "en") == [
        "The scenario changes no parameter during the run."]


def test_field_words_name_a_parameter_and_its_unit():
    assert field_words(f"{SURCHARGE}.D", "zh") == ("D 类企业差别电价加价", "元/千瓦时")
    assert field_words("evaluation.weights_above_scale.tax_per_mu", "en") == (
        "weight of tax per mu in the score of above-scale firms", "")
    assert month_words("2019-03", "en") == "March 2019"
    assert month_words("2019-03", "zh") == "2019 年 3 月"


# ---------------------------------------------------------------- findings


def _tables(rows: list[tuple[str, str, float, float, float, float, int]]):
    """differences and summary for scenario "v" against reference "r" in 2030.

    rows: metric, group, reference mean, difference, ci_low, ci_high, n.
    """
    diffs = pd.DataFrame([{"scenario": "v", "reference": "r", "metric": m, "group": g,
                           "year": 2030, "n": n, "mean": d, "ci_low": lo, "ci_high": hi}
                          for m, g, _, d, lo, hi, n in rows])
    summary = pd.DataFrame([{"scenario": "r", "metric": m, "group": g, "year": 2030,
                             "mean": ref} for m, g, ref, *_ in rows])
    return diffs, summary


ROWS = [
    # metric, group, reference, difference, low, high, n
    ("differential_revenue_yuan", "all", 2.78e8, 1.448e8, 1.2e8, 1.696e8, 3),  # 5.8 x half
    ("tax_per_mu_wan_yuan", "scale=above", 83.0, 0.07, -0.28, 0.42, 3),           # crosses 0
    ("energy_tce", "all", 5.2e6, -30_000.0, -40_000.0, -20_000.0, 3),             # 3.0 x half
    ("firms", "class=A", 461.0, -1.0, -1.0, -1.0, 3),                              # constant
    ("firms", "class=D", 154.0, 0.0, 0.0, 0.0, 3),                                 # identical
]


def test_findings_are_ordered_by_effect_over_its_uncertainty():
    diffs, summary = _tables(ROWS)
    found = findings(diffs, summary, scenario="v", reference="r", year=2030, lang="en")
    assert [(f.metric, f.group, f.kind) for f in found] == [
        ("differential_revenue_yuan", "all", "effect"),
        ("energy_tce", "all", "effect"),
        ("firms", "class=A", "constant"),
        ("tax_per_mu_wan_yuan", "scale=above", "none"),
        ("firms", "class=D", "zero")]
    assert found[0].strength == pytest.approx(1.448e8 / 0.248e8)
    assert found[1].strength == pytest.approx(3.0)
    assert found[0].percent == pytest.approx(100 * 1.448e8 / 2.78e8)


def test_the_revenue_effect_is_found_among_the_candidates_by_default():
    diffs, summary = _tables(ROWS)
    found = findings(diffs, summary, scenario="v", reference="r", year=2030, lang="en")
    assert found[0].label == "net revenue from differential pricing"


def test_finding_sentences_are_written_as_a_person_would():
    t = text("en")
    diffs, summary = _tables(ROWS)
    found = {f.metric + f.group: f for f in findings(diffs, summary, scenario="v",
                                                      reference="r", year=2030, lang="en")}
    assert finding_sentence(found["differential_revenue_yuanall"], t, "en") == (
        "In 2030, net revenue from differential pricing is 145 million yuan higher in v than "
        "in r (+52.1%; 95% interval +120 million yuan to +170 million yuan).")
    assert finding_sentence(found["tax_per_mu_wan_yuanscale=above"], t, "en") == (
        "No detectable effect on tax per mu of above-scale firms in 2030: the difference, "
        "+0.07 万元/mu, has a 95% interval from -0.28 万元/mu to +0.42 万元/mu, which "
        "includes zero.")
    # a zero-width interval of an identical quantity is no effect, never a significant one
    assert finding_sentence(found["firmsclass=D"], t, "en") == (
        "No effect on the number of class D firms: identical in all 3 paired replications "
        "in 2030.")
    constant = finding_sentence(found["firmsclass=A"], t, "en")
    assert constant.startswith("In 2030, the number of class A firms is 1 firm lower in v")
    assert "no interval to judge it by" in constant
    zh = finding_sentence(findings(diffs, summary, scenario="v", reference="r", year=2030,
                                   lang="zh")[0], text("zh"), "zh")
    assert zh == ("2030 年，v 的差别化收费净收入比 r 高 1.45 亿元（+52.1%；95% 置信区间 "
                  "+1.2 亿元 至 +1.7 亿元）。")


@pytest.mark.parametrize(("diff", "low", "high", "n", "kind"), [
    (2.0, 1.0, 3.0, 3, "effect"), (-2.0, -3.0, -1.0, 3, "effect"), (0.5, -1.0, 2.0, 3, "none"),
    (0.0, 0.0, 0.0, 3, "zero"), (-1.0, -1.0, -1.0, 3, "constant"),
    (0.75, math.nan, math.nan, 1, "no_interval"), (0.75, 0.5, 1.0, 1, "no_interval"),
])
def test_classify(diff, low, high, n, kind):
    assert classify(diff, low, high, n) == kind


def test_amounts_are_scaled_and_worded():
    assert amount(144_802_200.0, "yuan", "en") == "145 million yuan"
    assert amount(2.5e9, "yuan", "en", signed=True) == "+2.5 billion yuan"
    assert amount(3_077_740.0, "万元", "zh") == "308 亿元"
    assert amount(3_077_740.0, "万元", "en") == "30.8 billion yuan"
    assert amount(-30_027.0, "tce", "zh", signed=True) == "-3 万吨标准煤"
    assert amount(2.0, "firms", "en") == "2 firms"
    assert amount(1.0, "firms", "en") == "1 firm"
    assert number(139.8) == "140"
    assert number(0.0711) == "0.0711"
    assert number(2345.6) == "2,346"


# ---------------------------------------------------------------- sweeps


def test_relative_range_and_main_effect_share():
    assert relative_range(pd.Series([99.75, 100.25])) == pytest.approx(0.005)
    assert relative_range(pd.Series([3.0, 3.0])) == 0.0
    x = pd.Series([0, 0, 1, 1, 2, 2])
    y = pd.Series([1.0, 3.0, 2.0, 4.0, 3.0, 5.0])  # level means 2, 3, 4 around 3; noise +-1
    assert eta_squared(x, y) == pytest.approx(4 / 10)


def test_spearman_interval_is_fisher_z_and_keeps_a_width_at_one():
    low, high = spearman_interval(0.0, 28)
    half = math.tanh(1.959964 * math.sqrt(1.06 / 25))
    assert (low, high) == pytest.approx((-half, half))
    low, high = spearman_interval(1.0, 4)
    assert 0 < low < 0.99
    assert high == 1.0
    assert all(math.isnan(v) for v in spearman_interval(0.5, 3))

"""Annual comprehensive evaluation (综合评价): indicators, scores, classes A-D.

Every year the government scores each firm in scope on what it yields per
unit of land, energy and emissions, ranks it within its group and puts it in
class A (优先发展类), B (提升发展类), C (调控帮扶类) or D (倒逼整治类).
:func:`evaluate` does this for all firms at once with numpy; every number
comes from :class:`~simulator.scenario.EvaluationSpec` (``params`` below).

Scope and tiers
---------------
A firm is evaluated in exactly one tier:

* tier 0, above-scale industrial (规上工业): every industrial firm with
  ``above_scale``;
* tier 1, below-scale industrial (规下工业): industrial firms that are not
  above scale and hold ``land_mu >= params.min_land_mu_below_scale``;
* tier 2, services (服务业): every services firm, if
  ``params.evaluate_services`` (``is_services`` wins over ``above_scale``).

Other firms are out of scope: tier -1, score NaN, rank 0, class ``UNRATED``.

Ranking groups
--------------
Firms are ranked within *ranking groups*: the tier crossed with the keys in
``params.group_by`` (``region``, ``sector``, ``park``). Park numbers are per
region, so choosing ``park`` groups by (region, park). Above-scale,
below-scale and services firms are therefore never ranked together. Group ids
are dense (0, 1, ...) in the order (tier, region, park, sector).

Indicators
----------
Each indicator is ``x = scale * numerator / denominator`` per firm (tiers
where it is defined in brackets; formulas, units and tiers are declared in
the catalogue, ``simulator/catalogue/entries.yaml``)::

    tax_per_mu           tax / land_mu                     万元/mu      [0, 1]  亩均税收
    va_per_mu            va / land_mu                      万元/mu      [0]     亩均工业增加值
    va_per_tce           va / energy_tce                   万元/tce     [0]     单位能耗工业增加值
    va_per_emission      va / sum_p(w_p * emissions_p)     万元/t       [0]     单位排放工业增加值
    labour_productivity  va / employees                    万元/person  [0]     全员劳动生产率
    rd_share             rd / revenue                      share 0-1   [0]     研发经费占比
    tax_per_kwh          tax * 1e4 / electricity_kwh       yuan/kWh    [1, 2]  单位电耗税收
    sales_per_kwh        revenue * 1e4 / electricity_kwh   yuan/kWh    [2]     单位电耗应税销售收入
    tax                  tax (denominator 1)               万元         [2]     税收
    sales                revenue, taxable sales            万元         [2]     应税销售收入

with pollutant weights ``w_p = params.emission_weights``. A firm *lacks* an
indicator when its denominator is zero, negative or not finite (e.g. zero
emissions means no emission data) or its numerator is not finite; its value
is then NaN. Only indicators with a key in the tier's weights
(``params.weights_above_scale``, ``weights_below_scale``,
``weights_services``) are scored, but every indicator of a tier is reported.

Benchmarks (ratio of sums)
--------------------------
The benchmark ``b_i`` of an indicator is, per ``params.benchmark``:

* ``"group_mean"``: the *ratio of sums* over the firms of the ranking group
  that have the indicator, ``b = scale * sum(numerator) / sum(denominator)``,
  e.g. the group's total tax over its total land. This is how county averages
  such as 亩均税收 are published; it weights each firm by its denominator
  (land, energy, ...) and is not the mean of the firms' ratios. For ``tax``
  and ``sales`` (denominator 1) it is the group's mean per firm.
* ``"sector_mean"``: the same ratio of sums within (ranking group x sector).
* ``"fixed"``: ``params.fixed_benchmarks.<tier>[indicator]`` (tiers
  ``above_scale``, ``below_scale``, ``services``: published benchmarks differ
  by tier, e.g. Huangyan 2022 tax/mu 24.10 above scale, 11.59 below).

Scores
------
For indicator ``i`` with weight ``w_i``::

    s_i = w_i * clip(x_i / b_i, 0, params.indicator_cap)

(``s_i = 0`` if ``b_i <= 0``). A firm that lacks the indicator gets the mean
``s_i`` of the firms of its ranking group that have it (Huangyan 2022: a firm
with no emission data gets the group's mean score); if no firm of the group
has it, every firm of the group gets ``w_i`` (as if at the benchmark). The
total score is::

    S = 100 * sum_i(s_i) / sum_i(w_i)
        + params.bonus.high_tech * high_tech + params.bonus.listed * listed
        + params.bonus.brand * brand

so a firm exactly at every benchmark scores 100 before bonus points (and
before deduction points, under the further rules below).

Classes
-------
Firms are ranked within their ranking group by ``S`` descending, ties broken
by ``firm_id`` ascending (rank 1 = best). Then, by
``params.classification.method``:

* ``"shares"``: with ``n`` firms in the group and class shares
  ``a, b, c, d``, ranks ``1..round(n*a)`` are A, up to ``round(n*(a+b))`` B,
  up to ``round(n*(a+b+c))`` C, the rest D, where
  ``round(x) = floor(x + 0.5)`` (half up; a 1e-9 relative tolerance absorbs
  floating-point error in the share sums). 20/55/20/5 on 20 firms gives
  4/11/4/1.
* ``"thresholds"``: ``S >= A`` threshold is A, else ``S >= B`` is B, else
  ``S >= C`` is C, else D.

Then the one-vote veto (一票否决): a ``vetoed`` firm that would be A or B is
put in C. Then protection: a ``protected`` firm (start-up, newly above scale)
that would be D is put in C. Neither moves other firms, so under ``"shares"``
the realised class counts can differ from the formula.

Further rules (:mod:`~simulator.evaluation.rules`, each off by default):
deduction points (扣分) come off ``S`` before ranking; downgrade items (降档)
and the entry-standards cap (存量企业对标准入标准) lower single firms' classes
between the veto and protection; protection can exclude penalised firms;
unrated firms can be managed as B.

Results are exactly invariant to the order of the input rows: firms are
processed in ``firm_id`` order internally, so group sums are accumulated in
the same order whatever the input order.

Modules
-------
inputs
    :class:`EvaluationInput`, :class:`EvaluationResult`; tiers, ranking and
    benchmark groups; the indicators, their units and tiers (from the catalogue).
scoring
    :func:`evaluate`: indicators, benchmarks, indicator and total scores.
classes
    Ranks within groups, classes A-D, veto and protection;
    :func:`transition_counts`.
rules
    Deductions, downgrades, the entry standards at review, protection and
    the class unrated firms are managed as.
table
    :func:`scored_frame` (a result as a table) and :func:`evaluate_table`
    (real firm tables).

Every public name of these modules is importable from ``simulator.evaluation``.
"""

from __future__ import annotations

from simulator.evaluation.classes import rank_and_classify, rank_and_grade, transition_counts
from simulator.evaluation.inputs import (
    INDICATOR_FORMULAS,
    INDICATOR_UNITS,
    INDICATORS,
    OUT_OF_SCOPE,
    TIER_ABOVE_SCALE,
    TIER_BELOW_SCALE,
    TIER_INDICATORS,
    TIER_LABELS,
    TIER_SERVICES,
    EvaluationInput,
    EvaluationResult,
    benchmark_groups,
    ranking_groups,
    tier_codes,
)
from simulator.evaluation.rules import (
    Adjustments,
    RuleOutcome,
    apply_class_rules,
    fails_entry_standards,
    managed_classes,
)
from simulator.evaluation.scoring import Bins, benchmark_sums, evaluate, indicator_score
from simulator.evaluation.table import evaluate_table, scored_frame

__all__ = [
    "INDICATORS",
    "INDICATOR_FORMULAS",
    "INDICATOR_UNITS",
    "OUT_OF_SCOPE",
    "TIER_ABOVE_SCALE",
    "TIER_BELOW_SCALE",
    "TIER_INDICATORS",
    "TIER_LABELS",
    "TIER_SERVICES",
    "Adjustments",
    "Bins",
    "EvaluationInput",
    "EvaluationResult",
    "RuleOutcome",
    "apply_class_rules",
    "benchmark_groups",
    "benchmark_sums",
    "evaluate",
    "evaluate_table",
    "fails_entry_standards",
    "indicator_score",
    "managed_classes",
    "rank_and_classify",
    "rank_and_grade",
    "ranking_groups",
    "scored_frame",
    "tier_codes",
    "transition_counts",
]

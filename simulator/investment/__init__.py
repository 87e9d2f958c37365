"""Annual upgrade investment (技术改造, 机器换人, 空间换地): option values, NPV and choice.

Each year every firm looks at the upgrade options of ``dynamics.investment``
(energy-efficiency retrofit, pollution control, automation, space-for-land).
The decision is taken at the end of the year (``t = 0``, capex paid then);
a project completes ``lead`` months later and saves for ``lifetime`` years
from completion. Year ``k = 1..H`` after the decision spans months
``12(k-1)..12k`` and counts the share of it the project is running:

    f_k = clip(min(12k, lead + 12 life) - max(12(k-1), lead), 0, 12) / 12

    NPV = -capex + sum_k f_k S_k / (1 + r)^k + L / (1 + r)^(lead / 12)

with ``S_k`` the saving in year ``k`` (constant, or a path that follows the
known policy timeline), ``r`` the firm's loan rate by class and ``L`` a one-off
receipt at completion (the price of land given back). A firm takes its
eligible options with ``NPV > 0``, best profitability index ``NPV / capex``
first, while their capex fits its budget (cash plus unused credit)
(:func:`choose`). Retrofit subsidies from the recycling fund go out in
priority order (:func:`allocate_fund`); the rest of the fund is shared equally
by class-A firms (:func:`a_awards`).

The functions are pure and vectorised over firms: numpy arrays in, arrays out.
The engine prices the quantities (:func:`retrofit_quantities` and friends) and
calls these functions once a year for all firms at once. Money is in yuan;
inputs named ``*_wan_yuan*`` are in 万元 (10^4 yuan).

The package's modules: :mod:`~simulator.investment.options` (option tables
and quantities), :mod:`~simulator.investment.valuation` (timing and NPV),
:mod:`~simulator.investment.choice` (choice, fund grants, A awards) and
:mod:`~simulator.investment.arguments` (the argument checks they share).
"""

from __future__ import annotations

from simulator.investment.choice import a_awards, allocate_fund, choose
from simulator.investment.options import (
    YUAN_PER_WAN_YUAN,
    OptionArrays,
    automation_quantities,
    option_table,
    pollution_quantities,
    retrofit_quantities,
    space_for_land_quantities,
)
from simulator.investment.valuation import MONTHS_PER_YEAR, npv, saving_fractions

__all__ = [
    "MONTHS_PER_YEAR",
    "YUAN_PER_WAN_YUAN",
    "OptionArrays",
    "a_awards",
    "allocate_fund",
    "automation_quantities",
    "choose",
    "npv",
    "option_table",
    "pollution_quantities",
    "retrofit_quantities",
    "saving_fractions",
    "space_for_land_quantities",
]

"""Calibration of a population to published aggregates (ratios of sums over 规上 firms).

Calibration rescales

* VA (and revenue with it) so that above-scale VA per mu = target,
* tax so that above-scale tax per mu = target,
* employees so that above-scale VA per employee = target,

each target being a ratio of sums over above-scale industrial firms
(e.g. total tax / total land), as the provincial statistics are published.
Rescaling VA moves firms across the 规上 revenue threshold, so the VA factor
is found by fixed-point iteration; tax and employees follow exactly.
:func:`calibrate_tax` is also used at the start of a run, once the firms'
expected charges are known.
"""

from __future__ import annotations

import numpy as np

from simulator.firms import Firms
from simulator.population.synthetic import finish_firms
from simulator.scenario import PopulationSpec, ScenarioError

__all__ = ["above_scale_aggregates", "calibrate_population", "calibrate_tax"]

#: The unit of the tax-per-mu target in messages (a unit symbol, not text to translate).
_TAX_PER_MU_UNIT = "万元/mu"


def above_scale_aggregates(firms: Firms) -> dict[str, float]:
    """Ratio-of-sums aggregates over above-scale industrial firms (potential values).

    Returns
    -------
    dict
        ``tax_per_mu_wan_yuan``, ``va_per_mu_wan_yuan`` and
        ``labour_productivity_wan_yuan_per_person``.
    """
    m = firms.above_scale
    land = firms.land_mu[m].sum()
    va = firms.va_wan_yuan[m].sum()
    return {
        "tax_per_mu_wan_yuan": float(firms.potential_tax_wan_yuan()[m].sum() / land),
        "va_per_mu_wan_yuan": float(va / land),
        "labour_productivity_wan_yuan_per_person": float(va / firms.employees[m].sum()),
    }


def calibrate_population(firms: Firms, spec: PopulationSpec, *, max_iter: int = 100) -> Firms:
    """Rescale VA, tax and employees so above-scale aggregates equal the targets.

    Parameters
    ----------
    firms : Firms
        A population (modified in place and returned).
    spec : PopulationSpec
        Gives the 规上 threshold and the targets.
    max_iter : int
        Iterations of the VA fixed point.

    Returns
    -------
    Firms
        The calibrated population.

    Raises
    ------
    ScenarioError
        If no firm is above scale, so no target can be met.
    """
    targets = spec.targets
    industrial = ~firms.is_services
    va_factor = 1.0
    for _ in range(max_iter):
        threshold = spec.above_scale_revenue_wan_yuan
        firms.above_scale = industrial & (firms.revenue_wan_yuan >= threshold)
        if not firms.above_scale.any():
            raise ScenarioError(
                "no synthetic firm reaches the above-scale revenue threshold; "
                "raise va_per_mu_wan_yuan or land_mu", field="population.sectors"
            )
        factor = targets.va_per_mu_wan_yuan / above_scale_aggregates(firms)["va_per_mu_wan_yuan"]
        if abs(factor - 1.0) < 1e-12:
            break
        # Services are scaled too, so their size relative to industry is kept.
        firms.va_wan_yuan *= factor
        firms.revenue_wan_yuan *= factor
        firms.water_quota_m3 *= factor
        va_factor *= factor
    agg = above_scale_aggregates(firms)
    employee_factor = agg["labour_productivity_wan_yuan_per_person"] / (
        targets.labour_productivity_wan_yuan_per_person)
    # Income tax follows profit; the other taxes are scaled so the total hits the target.
    tax_factor = calibrate_tax(firms, spec, profit_wan_yuan=np.maximum(
        firms.revenue_wan_yuan * firms.profit_margin, 0.0), apply=False)
    firms.tax_share_of_va *= tax_factor
    firms.employees *= employee_factor
    firms.calibration = (va_factor, tax_factor, employee_factor)
    finish_firms(firms, spec)
    return firms


def calibrate_tax(firms: Firms, spec: PopulationSpec, *, profit_wan_yuan: np.ndarray,
                  apply: bool = True) -> float:
    """Scale the non-income taxes so above-scale tax per mu hits the target, given profits.

    Income tax follows each firm's expected taxable profit (``profit_wan_yuan``,
    e.g. at potential output, or after the charges the firm will pay); the
    other taxes (``tax_share_of_va``) are scaled so that the total matches
    ``spec.targets.tax_per_mu_wan_yuan``. Returns the factor (applied in place
    unless ``apply`` is False).

    Raises
    ------
    ScenarioError
        If income tax alone already exceeds the target.
    """
    m = firms.above_scale
    land = float(firms.land_mu[m].sum())
    other = float((firms.va_wan_yuan * firms.tax_share_of_va)[m].sum())
    income = float((firms.income_tax_rate * np.maximum(profit_wan_yuan, 0.0))[m].sum())
    wanted = spec.targets.tax_per_mu_wan_yuan * land
    if wanted <= income or other <= 0:
        raise ScenarioError(
            f"income tax alone ({income / land:.3g} {_TAX_PER_MU_UNIT}) reaches the tax-per-mu "
            f"target {spec.targets.tax_per_mu_wan_yuan:g}; lower the profit margins or the "
            "income tax rate", field="population.targets.tax_per_mu_wan_yuan")
    factor = (wanted - income) / other
    if apply:
        firms.tax_share_of_va *= factor
        va, tax, emp = firms.calibration
        firms.calibration = (va, tax * factor, emp)
    return factor

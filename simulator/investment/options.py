"""Investment options: their parameters per firm and the quantities each changes.

:func:`option_table` gives an option's capex, effect, lead time and lifetime
per firm (sector overrides applied); :func:`retrofit_quantities`,
:func:`pollution_quantities`, :func:`automation_quantities` and
:func:`space_for_land_quantities` give what an option saves, removes or
frees and what it costs, for the engine to price.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from simulator.investment.arguments import check, per_firm, vector
from simulator.scenario import InvestmentOption

__all__ = ["YUAN_PER_WAN_YUAN", "OptionArrays", "automation_quantities", "option_table",
           "pollution_quantities", "retrofit_quantities", "space_for_land_quantities"]

YUAN_PER_WAN_YUAN = 1e4


@dataclass(frozen=True, slots=True, eq=False)
class OptionArrays:
    """One investment option's parameters per firm (arrays of shape (n,))."""

    capex: np.ndarray
    """Capital cost per unit of effect, in the option's natural unit (float64)."""
    effect_share: np.ndarray
    """Share of energy per VA, emissions per VA, employees or land removed (float64)."""
    lead_time_months: np.ndarray
    """Months from the decision to completion (int64)."""
    lifetime_years: np.ndarray
    """Years of savings from completion (int64)."""


def option_table(
    spec: InvestmentOption, *, sector: ArrayLike, sector_names: list[str]
) -> OptionArrays:
    """Return an option's capex, effect, lead time and lifetime per firm.

    Sector overrides (``spec.by_sector``) replace the option's values for the
    firms of that sector; an override's unset (``None``) fields keep the
    option's value. ``spec.enabled`` and the subsidy shares are not applied
    here.

    Parameters
    ----------
    spec : InvestmentOption
        The option, e.g. ``scenario.dynamics.investment["retrofit"]``.
    sector : array_like of int, shape (n,)
        Sector code of each firm, an index into ``sector_names``.
    sector_names : list of str
        Sector names in code order (``Scenario.sector_names()``).

    Returns
    -------
    OptionArrays
        ``capex`` (the option's natural unit, see :class:`InvestmentOption`),
        ``effect_share``, ``lead_time_months`` and ``lifetime_years`` per firm.

    Raises
    ------
    ValueError
        If ``sector`` is not 1-D integer codes into ``sector_names``, or an
        override names a sector not in ``sector_names``.

    Examples
    --------
    >>> from simulator.scenario import InvestmentOption, OptionOverride
    >>> spec = InvestmentOption(capex=10000, effect_share=0.15,
    ...                         by_sector={"metals": OptionOverride(capex=8000)})
    >>> t = option_table(spec, sector=[0, 1, 0], sector_names=["textiles", "metals"])
    >>> t.capex.tolist(), t.lead_time_months.tolist()
    ([10000.0, 8000.0, 10000.0], [12, 12, 12])
    """
    codes = np.asarray(sector)
    if codes.ndim != 1:
        raise ValueError(f"The 'sector' parameter must be 1-D. Got shape {codes.shape} instead.")
    if codes.size and not np.issubdtype(codes.dtype, np.integer):
        raise ValueError(f"The 'sector' parameter must hold integer sector codes. "
                         f"Got dtype {codes.dtype} instead.")
    n_sectors = len(sector_names)
    check("sector", (codes < 0) | (codes >= n_sectors), codes,
           f"a code in 0..{n_sectors - 1} (one per name in 'sector_names')")
    n = codes.shape[0]
    capex = np.full(n, float(spec.capex))
    effect = np.full(n, float(spec.effect_share))
    lead = np.full(n, spec.lead_time_months, dtype=np.int64)
    life = np.full(n, spec.lifetime_years, dtype=np.int64)
    for name, override in spec.by_sector.items():
        if name not in sector_names:
            raise ValueError(f"The 'spec' parameter overrides unknown sector {name!r}; "
                             f"'sector_names' are {sector_names}.")
        mask = codes == sector_names.index(name)
        for arr, value in ((capex, override.capex), (effect, override.effect_share),
                           (lead, override.lead_time_months), (life, override.lifetime_years)):
            if value is not None:
                arr[mask] = value
    return OptionArrays(capex=capex, effect_share=effect, lead_time_months=lead,
                        lifetime_years=life)




def retrofit_quantities(
    energy_tce_per_year: ArrayLike, effect_share: ArrayLike, capex_yuan_per_tce: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Return the energy an efficiency retrofit saves and what it costs.

    Parameters
    ----------
    energy_tce_per_year : array_like of float, shape (n,)
        Energy use at full output, tce per year.
    effect_share : array_like of float, shape (n,) or scalar
        Share of energy per VA the retrofit removes.
    capex_yuan_per_tce : array_like of float, shape (n,) or scalar
        Capex per tce per year saved, yuan.

    Returns
    -------
    saved_tce_per_year : ndarray, shape (n,)
        ``energy * effect_share``, tce per year (price it at the firm's
        marginal energy price to get the yearly saving).
    capex_yuan : ndarray, shape (n,)
        ``saved * capex_yuan_per_tce``, yuan.
    """
    energy = vector("energy_tce_per_year", energy_tce_per_year)
    n = energy.shape[0]
    saved = energy * per_firm("effect_share", effect_share, n)
    return saved, saved * per_firm("capex_yuan_per_tce", capex_yuan_per_tce, n)


def pollution_quantities(
    emissions_t_per_year: ArrayLike, effect_share: ArrayLike, capex_yuan_per_t: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Return the emissions pollution control removes and what it costs.

    Parameters
    ----------
    emissions_t_per_year : array_like of float, shape (n, pollutants)
        Emissions at full output, t per year, one column per pollutant (the
        scenario's order: COD, NH3-N, SO2, NOx and any further ones).
    effect_share : array_like of float, shape (n,) or scalar
        Share of emissions per VA removed (every pollutant alike).
    capex_yuan_per_t : array_like of float, shape (n,) or scalar
        Capex per tonne per year removed, pollutants summed, yuan.

    Returns
    -------
    removed_t_per_year : ndarray, shape (n, 4)
        ``emissions * effect_share``, t per year.
    capex_yuan : ndarray, shape (n,)
        ``sum over pollutants of removed * capex_yuan_per_t``, yuan.
    """
    emissions = np.asarray(emissions_t_per_year, dtype=float)
    if emissions.ndim != 2 or emissions.shape[1] < 1:
        raise ValueError(f"The 'emissions_t_per_year' parameter must have shape (n, pollutants) "
                         f"(one column per pollutant). Got shape {emissions.shape} instead.")
    n = emissions.shape[0]
    removed = emissions * per_firm("effect_share", effect_share, n)[:, None]
    return removed, removed.sum(axis=1) * per_firm("capex_yuan_per_t", capex_yuan_per_t, n)


def automation_quantities(
    employees: ArrayLike,
    effect_share: ArrayLike,
    capex_wan_yuan_per_employee: ArrayLike,
    wage_wan_yuan: ArrayLike,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the employees automation (机器换人) replaces, its capex and its yearly saving.

    Parameters
    ----------
    employees : array_like of float, shape (n,)
        Employees now.
    effect_share : array_like of float, shape (n,) or scalar
        Share of employees replaced.
    capex_wan_yuan_per_employee : array_like of float, shape (n,) or scalar
        Capex per employee replaced, 万元.
    wage_wan_yuan : array_like of float, shape (n,) or scalar
        Yearly cost of one employee (wage and social insurance), 万元 per
        person per year.

    Returns
    -------
    employees_replaced : ndarray, shape (n,)
        ``employees * effect_share`` (not rounded).
    capex_yuan : ndarray, shape (n,)
        ``replaced * capex * 1e4``, yuan.
    saving_yuan_per_year : ndarray, shape (n,)
        ``replaced * wage * 1e4``, yuan per year.
    """
    staff = vector("employees", employees)
    n = staff.shape[0]
    replaced = staff * per_firm("effect_share", effect_share, n)
    capex = replaced * per_firm("capex_wan_yuan_per_employee", capex_wan_yuan_per_employee, n)
    saving = replaced * per_firm("wage_wan_yuan", wage_wan_yuan, n)
    return replaced, capex * YUAN_PER_WAN_YUAN, saving * YUAN_PER_WAN_YUAN


def space_for_land_quantities(
    land_mu: ArrayLike, effect_share: ArrayLike, capex_wan_yuan_per_mu: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Return the land space-for-land (空间换地) frees and what it costs.

    Parameters
    ----------
    land_mu : array_like of float, shape (n,)
        Land held, mu.
    effect_share : array_like of float, shape (n,) or scalar
        Share of the land freed by building upwards.
    capex_wan_yuan_per_mu : array_like of float, shape (n,) or scalar
        Capex per mu freed, 万元.

    Returns
    -------
    freed_mu : ndarray, shape (n,)
        ``land_mu * effect_share``, mu (given back to the land pool at
        completion; its price is a one-off receipt in :func:`npv`).
    capex_yuan : ndarray, shape (n,)
        ``freed * capex * 1e4``, yuan.
    """
    land = vector("land_mu", land_mu)
    n = land.shape[0]
    freed = land * per_firm("effect_share", effect_share, n)
    capex = freed * per_firm("capex_wan_yuan_per_mu", capex_wan_yuan_per_mu, n)
    return freed, capex * YUAN_PER_WAN_YUAN

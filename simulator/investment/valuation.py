"""Net present value of an upgrade: the years it saves in, discounted at the firm's rate.

The decision is taken at the end of the year (``t = 0``, capex paid then); a
project completes ``lead`` months later and saves for ``lifetime`` years from
completion. Year ``k = 1..H`` after the decision spans months
``12(k-1)..12k`` and counts the share of it the project is running
(:func:`saving_fractions`):

    f_k = clip(min(12k, lead + 12 life) - max(12(k-1), lead), 0, 12) / 12

    NPV = -capex + sum_k f_k S_k / (1 + r)^k + L / (1 + r)^(lead / 12)

(:func:`npv`), with ``S_k`` the saving in year ``k``, ``r`` the firm's loan
rate by class and ``L`` a one-off receipt at completion.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from simulator.investment.arguments import check, per_firm, vector

__all__ = ["MONTHS_PER_YEAR", "npv", "saving_fractions"]

MONTHS_PER_YEAR = 12


def _year_fraction(lead_months: np.ndarray, end_months: np.ndarray, k: int) -> np.ndarray:
    """Share of year ``k`` after the decision during which the project runs."""
    start = np.maximum(MONTHS_PER_YEAR * (k - 1), lead_months)
    stop = np.minimum(MONTHS_PER_YEAR * k, end_months)
    return np.clip(stop - start, 0, MONTHS_PER_YEAR) / MONTHS_PER_YEAR


def _timing(lead_time_months: ArrayLike, lifetime_years: ArrayLike,
            n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return validated lead times and completion-to-end times per firm, months."""
    if n is None:
        lead = vector("lead_time_months", lead_time_months)
        n = lead.shape[0]
    else:
        lead = per_firm("lead_time_months", lead_time_months, n)
    life = per_firm("lifetime_years", lifetime_years, n)
    check("lead_time_months", ~(np.isfinite(lead) & (lead >= 0)), lead, "finite and >= 0")
    check("lifetime_years", ~(np.isfinite(life) & (life >= 0)), life, "finite and >= 0")
    return lead, lead + MONTHS_PER_YEAR * life


def _horizon_years(end_months: np.ndarray) -> int:
    """Years after the decision until the last project's savings end."""
    if end_months.size == 0:
        return 0
    return int(np.ceil(end_months.max() / MONTHS_PER_YEAR))


def saving_fractions(
    lead_time_months: ArrayLike, lifetime_years: ArrayLike, horizon_years: int
) -> np.ndarray:
    """Return the share of each year after the decision in which a project saves.

    The decision is taken at ``t = 0`` (the end of the current year); the
    project completes ``lead`` months later and saves for ``life`` years.
    Year ``k`` (``k = 1..horizon_years``) spans months ``12(k-1)..12k``:

        f_k = clip(min(12k, lead + 12 life) - max(12(k-1), lead), 0, 12) / 12

    Parameters
    ----------
    lead_time_months : array_like, shape (n,)
        Months from the decision to completion, ``>= 0``.
    lifetime_years : array_like, shape (n,) or scalar
        Years of savings from completion, ``>= 0`` (need not be whole).
    horizon_years : int
        Number of years ``H`` to return, ``>= 0``.

    Returns
    -------
    ndarray of float, shape (n, horizon_years)
        ``f[i, k-1]`` in [0, 1]; rows sum to ``lifetime_years`` when the
        horizon covers the whole project.

    Examples
    --------
    Six months' lead and five years' life: half of year 1, all of years 2-5,
    half of year 6.

    >>> saving_fractions([6], [5], 7).tolist()
    [[0.5, 1.0, 1.0, 1.0, 1.0, 0.5, 0.0]]
    """
    if isinstance(horizon_years, bool) or not isinstance(horizon_years, int | np.integer) \
            or horizon_years < 0:
        raise ValueError(f"The 'horizon_years' parameter must be an int >= 0. "
                         f"Got {horizon_years!r} instead.")
    lead, end = _timing(lead_time_months, lifetime_years)
    out = np.empty((lead.shape[0], int(horizon_years)))
    for k in range(1, int(horizon_years) + 1):  # a few dozen years, not firms
        out[:, k - 1] = _year_fraction(lead, end, k)
    return out


def npv(
    capex_yuan: ArrayLike,
    annual_saving_yuan: ArrayLike,
    *,
    rate: ArrayLike,
    lead_time_months: ArrayLike,
    lifetime_years: ArrayLike,
    one_off_at_completion_yuan: ArrayLike | None = None,
) -> np.ndarray:
    """Return each firm's net present value of an upgrade, yuan.

    ``NPV = -capex + sum_k f_k S_k / (1 + r)^k + L / (1 + r)^(lead / 12)``,
    with ``f_k`` from :func:`saving_fractions` over the years until the last
    firm's project ends, ``ceil(max(lead + 12 life) / 12)``.

    Parameters
    ----------
    capex_yuan : array_like of float, shape (n,)
        Capital cost paid at the decision (``t = 0``), yuan; pass it net of
        subsidies if the firm gets any.
    annual_saving_yuan : array_like of float, shape (n,) or (n, H)
        Saving per full year of operation, yuan: constant (n,), or a path for
        years ``1..H`` after the decision (e.g. prices rising on the known
        policy timeline). If ``H`` is shorter than the horizon, the last
        column repeats; columns beyond it are ignored.
    rate : array_like of float, shape (n,) or scalar
        Yearly discount rate (the firm's loan rate by class), ``> -1``.
    lead_time_months : array_like, shape (n,) or scalar
        Months from the decision to completion, ``>= 0``.
    lifetime_years : array_like, shape (n,) or scalar
        Years of savings from completion, ``>= 0``.
    one_off_at_completion_yuan : array_like of float, shape (n,) or scalar, optional
        A receipt at completion, yuan (e.g. the price of land given back),
        discounted by ``(1 + r)^(lead / 12)``.

    Returns
    -------
    ndarray of float, shape (n,)
        Net present value at the decision, yuan.

    Raises
    ------
    ValueError
        If a parameter has the wrong shape, a rate is ``<= -1``, or a lead
        time or lifetime is negative.

    Examples
    --------
    Capex 100, saving 30 a year, ready after 12 months, 5 years' life, 5%:
    ``-100 + sum_{k=2..6} 30 / 1.05^k = 23.70``.

    >>> round(float(npv([100.0], [30.0], rate=0.05, lead_time_months=12,
    ...                 lifetime_years=5)[0]), 4)
    23.6993
    """
    capex = vector("capex_yuan", capex_yuan)
    n = capex.shape[0]
    saving = np.asarray(annual_saving_yuan, dtype=float)
    if saving.ndim == 1:
        saving = saving[:, None]
    if saving.ndim != 2 or saving.shape[0] != n or saving.shape[1] == 0:
        raise ValueError(f"The 'annual_saving_yuan' parameter must have shape ({n},) or "
                         f"({n}, H) with H >= 1. Got shape "
                         f"{np.asarray(annual_saving_yuan).shape} instead.")
    r = per_firm("rate", rate, n)
    check("rate", ~(r > -1), r, "> -1")
    lead, end = _timing(lead_time_months, lifetime_years, n)
    value = -capex
    last = saving.shape[1] - 1
    for k in range(1, _horizon_years(end) + 1):  # years, not firms
        s_k = saving[:, min(k - 1, last)]
        value = value + _year_fraction(lead, end, k) * s_k / (1.0 + r) ** k
    if one_off_at_completion_yuan is not None:
        one_off = per_firm("one_off_at_completion_yuan", one_off_at_completion_yuan, n)
        value = value + one_off / (1.0 + r) ** (lead / MONTHS_PER_YEAR)
    return value


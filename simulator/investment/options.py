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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from simulator.scenario import InvestmentOption

__all__ = [
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

YUAN_PER_WAN_YUAN = 1e4
MONTHS_PER_YEAR = 12


# ------------------------------------------------------------------ validation


def _vector(name: str, value: ArrayLike, *, dtype: type = float) -> np.ndarray:
    """Return ``value`` as a 1-D array, or raise naming the parameter."""
    arr = np.asarray(value, dtype=dtype)
    if arr.ndim != 1:
        raise ValueError(f"The '{name}' parameter must be 1-D. Got shape {arr.shape} instead.")
    return arr


def _per_firm(name: str, value: ArrayLike, n: int) -> np.ndarray:
    """Return ``value`` (a scalar or shape (n,)) as a float array of shape (n,)."""
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        return np.full(n, float(arr))
    if arr.shape != (n,):
        raise ValueError(f"The '{name}' parameter must be a scalar or have shape ({n},). "
                         f"Got shape {arr.shape} instead.")
    return arr


def _check(name: str, bad: np.ndarray, values: np.ndarray, rule: str) -> None:
    """Raise naming the parameter and its first value that breaks ``rule``."""
    if bad.any():
        i = np.unravel_index(int(np.flatnonzero(bad)[0]), bad.shape)
        where = i[0] if len(i) == 1 else tuple(int(x) for x in i)
        raise ValueError(f"The '{name}' parameter must be {rule}. "
                         f"Got {values[i].item()!r} at index {where} instead.")


def _check_scalar(name: str, value: float, rule: str, ok: bool) -> None:
    if not ok:
        raise ValueError(f"The '{name}' parameter must be {rule}. Got {value!r} instead.")


# ------------------------------------------------------------------ option table


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
    _check("sector", (codes < 0) | (codes >= n_sectors), codes,
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


# ------------------------------------------------------------------ timing and NPV


def _year_fraction(lead_months: np.ndarray, end_months: np.ndarray, k: int) -> np.ndarray:
    """Share of year ``k`` after the decision during which the project runs."""
    start = np.maximum(MONTHS_PER_YEAR * (k - 1), lead_months)
    stop = np.minimum(MONTHS_PER_YEAR * k, end_months)
    return np.clip(stop - start, 0, MONTHS_PER_YEAR) / MONTHS_PER_YEAR


def _timing(lead_time_months: ArrayLike, lifetime_years: ArrayLike,
            n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return validated lead times and completion-to-end times per firm, months."""
    if n is None:
        lead = _vector("lead_time_months", lead_time_months)
        n = lead.shape[0]
    else:
        lead = _per_firm("lead_time_months", lead_time_months, n)
    life = _per_firm("lifetime_years", lifetime_years, n)
    _check("lead_time_months", ~(np.isfinite(lead) & (lead >= 0)), lead, "finite and >= 0")
    _check("lifetime_years", ~(np.isfinite(life) & (life >= 0)), life, "finite and >= 0")
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
    capex = _vector("capex_yuan", capex_yuan)
    n = capex.shape[0]
    saving = np.asarray(annual_saving_yuan, dtype=float)
    if saving.ndim == 1:
        saving = saving[:, None]
    if saving.ndim != 2 or saving.shape[0] != n or saving.shape[1] == 0:
        raise ValueError(f"The 'annual_saving_yuan' parameter must have shape ({n},) or "
                         f"({n}, H) with H >= 1. Got shape "
                         f"{np.asarray(annual_saving_yuan).shape} instead.")
    r = _per_firm("rate", rate, n)
    _check("rate", ~(r > -1), r, "> -1")
    lead, end = _timing(lead_time_months, lifetime_years, n)
    value = -capex
    last = saving.shape[1] - 1
    for k in range(1, _horizon_years(end) + 1):  # years, not firms
        s_k = saving[:, min(k - 1, last)]
        value = value + _year_fraction(lead, end, k) * s_k / (1.0 + r) ** k
    if one_off_at_completion_yuan is not None:
        one_off = _per_firm("one_off_at_completion_yuan", one_off_at_completion_yuan, n)
        value = value + one_off / (1.0 + r) ** (lead / MONTHS_PER_YEAR)
    return value


# ------------------------------------------------------------------ choice


def choose(
    npv: ArrayLike, capex_net: ArrayLike, budget: ArrayLike, eligible: ArrayLike
) -> np.ndarray:
    """Return which options each firm takes: positive NPV, best index first, within budget.

    For each firm the candidates are its eligible options with ``NPV > 0``,
    ranked by profitability index ``NPV / capex_net`` (best first; a candidate
    with ``capex_net <= 0`` ranks above all others; ties go to the lower
    option index). Going down the ranking, an option is accepted if the
    capex of the options accepted so far plus its own stays within the
    budget; one that does not fit is skipped, and cheaper ones after it may
    still be taken. With a negative budget only options with
    ``capex_net <= budget`` can fit.

    Parameters
    ----------
    npv : array_like of float, shape (n, m)
        Net present value of each option for each firm, yuan.
    capex_net : array_like of float, shape (n, m)
        Capex the firm pays itself (after subsidies), yuan.
    budget : array_like of float, shape (n,)
        Cash plus unused credit, yuan (``inf`` allowed).
    eligible : array_like of bool, shape (n, m)
        Options open to the firm (enabled, not yet taken, not under way).
        Ineligible entries of ``npv`` and ``capex_net`` are ignored (may be NaN).

    Returns
    -------
    ndarray of bool, shape (n, m)
        True where the firm invests in the option this year.

    Raises
    ------
    ValueError
        If shapes disagree, ``eligible`` is not boolean, or an eligible entry
        has a NaN NPV or a non-finite ``capex_net``, or a budget is NaN.

    Examples
    --------
    Budget 10; indices 3/4, 4/8 and 0.5/2 rank the options 0, 1, 2. Option 0
    fits (4); option 1 would bring the total to 12 and is skipped; option 2
    still fits (4 + 2 = 6).

    >>> choose([[3.0, 4.0, 0.5]], [[4.0, 8.0, 2.0]], [10.0],
    ...        [[True, True, True]]).tolist()
    [[True, False, True]]
    """
    value = np.asarray(npv, dtype=float)
    if value.ndim != 2:
        raise ValueError(f"The 'npv' parameter must be 2-D (firms, options). "
                         f"Got shape {value.shape} instead.")
    n, m = value.shape
    cost = np.asarray(capex_net, dtype=float)
    if cost.shape != (n, m):
        raise ValueError(f"The 'capex_net' parameter must have the shape of 'npv', {(n, m)}. "
                         f"Got {cost.shape} instead.")
    ok = np.asarray(eligible)
    if ok.shape != (n, m):
        raise ValueError(f"The 'eligible' parameter must have the shape of 'npv', {(n, m)}. "
                         f"Got {ok.shape} instead.")
    if ok.dtype != bool:
        raise ValueError(f"The 'eligible' parameter must be boolean. Got dtype {ok.dtype} "
                         f"instead.")
    room = _vector("budget", budget)
    if room.shape != (n,):
        raise ValueError(f"The 'budget' parameter must have shape ({n},). "
                         f"Got {room.shape} instead.")
    _check("budget", np.isnan(room), room, "a number (not NaN)")
    _check("npv", ok & np.isnan(value), value, "a number (not NaN) where eligible")
    _check("capex_net", ok & ~np.isfinite(cost), cost, "finite where eligible")

    candidate = ok & (value > 0)
    # Profitability index; free (or paid-for) projects with NPV > 0 rank first.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        index = np.where(cost > 0, value / cost, np.inf)
    index = np.where(candidate, index, -np.inf)
    order = np.argsort(-index, axis=1, kind="stable")  # stable: ties by option order

    rows = np.arange(n)
    taken = np.zeros((n, m), dtype=bool)
    spent = np.zeros(n)
    for pos in range(m):  # ranked positions (m <= 4), not firms
        j = order[:, pos]
        c = cost[rows, j]
        fits = candidate[rows, j] & (spent + c <= room)
        taken[rows, j] = fits
        spent = np.where(fits, spent + c, spent)
    return taken


# ------------------------------------------------------------------ recycling fund


def allocate_fund(request_yuan: ArrayLike, priority: ArrayLike, fund_yuan: float) -> np.ndarray:
    """Return subsidies granted from a recycling fund in priority order, yuan.

    Requests are served from the highest priority down (ties: lower index
    first): in full while the fund covers them; the first request it cannot
    cover gets what is left; later ones get nothing.

    Parameters
    ----------
    request_yuan : array_like of float, shape (n,)
        Subsidy asked for, yuan, ``>= 0``.
    priority : array_like of float, shape (n,)
        Higher is served first (e.g. tce saved per yuan of subsidy).
    fund_yuan : float
        Money in the fund, yuan, finite and ``>= 0``.

    Returns
    -------
    ndarray of float, shape (n,)
        Grant per request, ``0 <= grant <= request``; grants sum to
        ``min(fund_yuan, sum(request_yuan))``.

    Examples
    --------
    >>> allocate_fund([50.0, 30.0, 40.0], [1.0, 3.0, 2.0], 100.0).tolist()
    [30.0, 30.0, 40.0]
    """
    request = _vector("request_yuan", request_yuan)
    rank = _vector("priority", priority)
    if rank.shape != request.shape:
        raise ValueError(f"The 'priority' parameter must have the shape of 'request_yuan', "
                         f"{request.shape}. Got {rank.shape} instead.")
    _check("request_yuan", ~(np.isfinite(request) & (request >= 0)), request, "finite and >= 0")
    _check("priority", np.isnan(rank), rank, "a number (not NaN)")
    fund = float(fund_yuan)
    _check_scalar("fund_yuan", fund_yuan, "finite and >= 0", bool(np.isfinite(fund) and fund >= 0))

    order = np.argsort(-rank, kind="stable")
    asked = request[order]
    through = np.cumsum(asked)  # asked by this request and all before it
    before = np.zeros_like(through)
    before[1:] = through[:-1]  # exact prefix sums, not a difference of floats
    # Full grants while the running total fits; the marginal request gets the rest.
    granted = np.where(through <= fund, asked, np.clip(fund - before, 0.0, asked))
    grants = np.empty_like(request)
    grants[order] = granted
    return grants


def a_awards(klass: ArrayLike, fund_yuan: float) -> np.ndarray:
    """Return equal awards to class-A firms (优先发展类) that sum to the fund, yuan.

    Parameters
    ----------
    klass : array_like of int, shape (n,)
        Evaluation class code (0..3 = A..D, 4 = unrated).
    fund_yuan : float
        Money for awards, yuan, finite and ``>= 0``.

    Returns
    -------
    ndarray of float, shape (n,)
        ``fund_yuan / (number of A firms)`` for A firms, 0 elsewhere; all
        zeros (the fund unspent) when no firm is in A.

    Examples
    --------
    >>> a_awards([0, 1, 0, 4], 300.0).tolist()
    [150.0, 0.0, 150.0, 0.0]
    """
    codes = np.asarray(klass)
    if codes.ndim != 1:
        raise ValueError(f"The 'klass' parameter must be 1-D. Got shape {codes.shape} instead.")
    fund = float(fund_yuan)
    _check_scalar("fund_yuan", fund_yuan, "finite and >= 0", bool(np.isfinite(fund) and fund >= 0))
    is_a = codes == 0
    count = int(is_a.sum())
    if count == 0:
        return np.zeros(codes.shape[0])
    return np.where(is_a, fund / count, 0.0)


# ------------------------------------------------------------------ quantities


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
    energy = _vector("energy_tce_per_year", energy_tce_per_year)
    n = energy.shape[0]
    saved = energy * _per_firm("effect_share", effect_share, n)
    return saved, saved * _per_firm("capex_yuan_per_tce", capex_yuan_per_tce, n)


def pollution_quantities(
    emissions_t_per_year: ArrayLike, effect_share: ArrayLike, capex_yuan_per_t: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Return the emissions pollution control removes and what it costs.

    Parameters
    ----------
    emissions_t_per_year : array_like of float, shape (n, 4)
        Emissions at full output, t per year, in ``POLLUTANTS`` order
        (COD, NH3-N, SO2, NOx).
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
    if emissions.ndim != 2 or emissions.shape[1] != 4:
        raise ValueError(f"The 'emissions_t_per_year' parameter must have shape (n, 4) "
                         f"(COD, NH3-N, SO2, NOx). Got shape {emissions.shape} instead.")
    n = emissions.shape[0]
    removed = emissions * _per_firm("effect_share", effect_share, n)[:, None]
    return removed, removed.sum(axis=1) * _per_firm("capex_yuan_per_t", capex_yuan_per_t, n)


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
    staff = _vector("employees", employees)
    n = staff.shape[0]
    replaced = staff * _per_firm("effect_share", effect_share, n)
    capex = replaced * _per_firm("capex_wan_yuan_per_employee", capex_wan_yuan_per_employee, n)
    saving = replaced * _per_firm("wage_wan_yuan", wage_wan_yuan, n)
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
    land = _vector("land_mu", land_mu)
    n = land.shape[0]
    freed = land * _per_firm("effect_share", effect_share, n)
    capex = freed * _per_firm("capex_wan_yuan_per_mu", capex_wan_yuan_per_mu, n)
    return freed, capex * YUAN_PER_WAN_YUAN

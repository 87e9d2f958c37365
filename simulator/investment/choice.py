"""Which upgrades firms take and who gets the recycling fund.

* :func:`choose`: each firm's eligible options with ``NPV > 0``, best
  profitability index ``NPV / capex`` first, while their capex fits its
  budget (cash plus unused credit);
* :func:`allocate_fund`: retrofit subsidies from the recycling fund, in
  priority order;
* :func:`a_awards`: the rest of the fund, shared equally by class-A firms.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from simulator.investment.arguments import check, check_scalar, vector

__all__ = ["a_awards", "allocate_fund", "choose"]


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
    value, cost, ok, room = _choice_arrays(npv, capex_net, budget, eligible)
    n, m = value.shape

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


def _choice_arrays(npv: ArrayLike, capex_net: ArrayLike, budget: ArrayLike,
                  eligible: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return :func:`choose`'s arguments as checked arrays: NPV, capex, eligible, budget.

    Raises
    ------
    ValueError
        As :func:`choose` says.
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
    room = vector("budget", budget)
    if room.shape != (n,):
        raise ValueError(f"The 'budget' parameter must have shape ({n},). "
                         f"Got {room.shape} instead.")
    check("budget", np.isnan(room), room, "a number (not NaN)")
    check("npv", ok & np.isnan(value), value, "a number (not NaN) where eligible")
    check("capex_net", ok & ~np.isfinite(cost), cost, "finite where eligible")
    return value, cost, ok, room


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
    request = vector("request_yuan", request_yuan)
    rank = vector("priority", priority)
    if rank.shape != request.shape:
        raise ValueError(f"The 'priority' parameter must have the shape of 'request_yuan', "
                         f"{request.shape}. Got {rank.shape} instead.")
    check("request_yuan", ~(np.isfinite(request) & (request >= 0)), request, "finite and >= 0")
    check("priority", np.isnan(rank), rank, "a number (not NaN)")
    fund = float(fund_yuan)
    check_scalar("fund_yuan", fund_yuan, "finite and >= 0", bool(np.isfinite(fund) and fund >= 0))

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
    check_scalar("fund_yuan", fund_yuan, "finite and >= 0", bool(np.isfinite(fund) and fund >= 0))
    is_a = codes == 0
    count = int(is_a.sum())
    if count == 0:
        return np.zeros(codes.shape[0])
    return np.where(is_a, fund / count, 0.0)


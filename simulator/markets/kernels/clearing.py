"""Compiled loops of a call auction's clearing: its price, the net demands and the fills.

:func:`book_price` is the clearing price of an abatement book and limit orders
(the compiled form of the search in :mod:`simulator.markets.clearing`, on the
curve of :mod:`simulator.markets.book`); :func:`book_demand` the book's firms'
net demands at that price, with :func:`net_totals` their totals;
:func:`step_curve` the limit orders as prefix sums; :func:`fill` the volume
and rationing at the price. Each states the numpy expression it computes.
"""

from __future__ import annotations

import numpy as np

from simulator.markets.kernels.jit import compiled

__all__ = ["book_demand", "book_price", "fill", "net_totals", "step_curve"]


@compiled
def net_totals(d: np.ndarray) -> tuple[float, float, int, int]:
    """Return ``(sum(max(d, 0)), sum(max(-d, 0)), count(d > 0), count(d < 0))``."""
    bought = sold = 0.0
    n_buy = n_sell = 0
    for i in range(d.size):  # branch-free: signs are as often one as the other
        x = d[i]
        bought += max(x, 0.0)
        sold += max(-x, 0.0)
        n_buy += x > 0.0
        n_sell += x < 0.0
    return bought, sold, n_buy, n_sell


@compiled
def book_demand(need: np.ndarray, inv_slope: np.ndarray, reach: np.ndarray,
                holdings: np.ndarray, price: float,
                rtol: float) -> tuple[np.ndarray, float, float, int, int]:
    """Net demand of an abatement book's firms at ``price``, and its totals.

    ``d = need - (min(inv_slope * price, reach) + holdings)``, set to 0 where
    ``|d| <= rtol * max(|need - holdings|, inv_slope * price)`` (rounding of
    a firm that needs what it holds); then :func:`net_totals` of ``d``.
    """
    n = need.size
    d = np.empty(n)
    bought = sold = 0.0
    n_buy = n_sell = 0
    for i in range(n):
        at_price = inv_slope[i] * price
        scale = max(abs(need[i] - holdings[i]), at_price)
        x = need[i] - (min(at_price, reach[i]) + holdings[i])
        x = x if abs(x) > rtol * scale else 0.0
        d[i] = x
        bought += max(x, 0.0)
        sold += max(-x, 0.0)
        n_buy += x > 0.0
        n_sell += x < 0.0
    return d, bought, sold, n_buy, n_sell


# ------------------------------------------------------------ clearing price

@compiled
def _bisect(a: np.ndarray, x: float, right: bool) -> int:
    """``np.searchsorted(a, x, side="right" if right else "left")`` on a sorted ``a``."""
    lo, hi = 0, a.size
    while lo < hi:
        mid = (lo + hi) // 2
        if a[mid] < x or (right and a[mid] == x):
            lo = mid + 1
        else:
            hi = mid
    return lo


@compiled
def _book_z(x: float, right: bool, kink, reach_below, slope_above, const,
            buy_p, buy_q, sell_p, sell_q, tol) -> float:
    """``Z(x+)`` (``right``) or ``Z(x-)`` of a book curve, 0 within ``tol``."""
    k = _bisect(kink, x, False)  # kinks < x: fully abated
    z = (const - reach_below[k] - x * slope_above[k]) + (
        buy_q[_bisect(buy_p, x, right)] - sell_q[_bisect(sell_p, x, right)])
    return 0.0 if abs(z) <= tol else z


@compiled
def _book_root(x0: float, x1: float, kink, reach_below, slope_above, const,
               buy_p, buy_q, sell_p, sell_q) -> float:
    """Zero of a book curve's ``Z`` on the open segment ``(x0, x1)`` between breakpoints."""
    mid = 0.5 * (x0 + x1)
    k = _bisect(kink, mid, False)
    slope = slope_above[k]
    if not slope > 0:
        return mid
    num = (const - reach_below[k]
           + (buy_q[_bisect(buy_p, x0, True)] - sell_q[_bisect(sell_p, x0, True)]))
    return min(max(num / slope, x0), x1)


@compiled
def _point(m: int, kink: np.ndarray, extra: np.ndarray, extra_at: np.ndarray) -> float:
    """``np.insert(kink, extra_at, extra)[m]``, without building it (``extra`` is short)."""
    before = 0  # extra prices placed before position m
    for j in range(extra.size):
        at = extra_at[j] + j
        if at == m:
            return extra[j]
        if at < m:
            before += 1
    return kink[m - before]


@compiled
def book_price(kink, extra, extra_at, reach_below, slope_above, const, buy_p, buy_q, sell_p,
               sell_q, tol) -> tuple[float, int]:
    """Return the clearing price of an abatement book and step orders, and who is rationed.

    The compiled form of ``clearing.clearing_price`` on a ``book.BookCurve``
    (same breakpoints, same ``Z`` and roots; binary searches where that uses
    a many-way search). The breakpoints are the sorted ``kink`` merged with
    the sorted ``extra`` prices (0 and the step orders' prices), which go in
    before ``kink[extra_at]`` (``extra_at = searchsorted(kink, extra)``): the
    book's ``points``. The second value is 0 (nobody), 1 (buyers, excess
    demand at every price) or 2 (sellers, excess supply at 0).
    """
    args = (kink, reach_below, slope_above, const, buy_p, buy_q, sell_p, sell_q)
    n = kink.size + extra.size
    lo, hi = 0, n  # first point with Z(p+) <= 0
    while lo < hi:
        mid = (lo + hi) // 2
        if _book_z(_point(mid, kink, extra, extra_at), True, *args, tol) <= 0.0:
            hi = mid
        else:
            lo = mid + 1
    k = lo
    if k == n:
        return _point(n - 1, kink, extra, extra_at), 1  # a book's tail slope is 0
    x_k = _point(k, kink, extra, extra_at)
    if k == 0:
        p_lo = 0.0
    elif _book_z(x_k, False, *args, tol) < 0.0:
        p_lo = _book_root(_point(k - 1, kink, extra, extra_at), x_k, *args)
    else:
        p_lo = x_k
    lo, hi = 0, n  # first point with Z(p-) < 0
    while lo < hi:
        mid = (lo + hi) // 2
        if _book_z(_point(mid, kink, extra, extra_at), False, *args, tol) < 0.0:
            hi = mid
        else:
            lo = mid + 1
    j = lo - 1  # last point with Z(p-) >= 0
    if j < 0:
        return 0.0, 2
    x_j = _point(j, kink, extra, extra_at)
    if j == n - 1:
        z = _book_z(x_j, True, *args, tol)
        p_hi = np.inf if z >= 0.0 else x_j
    elif _book_z(x_j, True, *args, tol) > 0.0:
        p_hi = _book_root(x_j, _point(j + 1, kink, extra, extra_at), *args)
    else:
        p_hi = x_j
    if not np.isfinite(p_hi) or p_hi <= p_lo:
        return p_lo, 0
    return 0.5 * (p_lo + p_hi), 0


# --------------------------------------------------------------- step orders

@compiled
def step_curve(price: np.ndarray, quantity: np.ndarray,
               is_buy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Step orders as prefix sums: ``(buy_p, buy_q, sell_p, sell_q)``.

    Live buys (quantity > 0, price >= 0) sorted by price (stable), with
    ``buy_q[k]`` the quantity of buys ``k`` on; live sells (quantity > 0) at
    ``max(price, 0)`` sorted, with ``sell_q[k]`` the quantity of the first
    ``k``. Net step demand just left of ``x`` is then
    ``buy_q[searchsorted(buy_p, x, "left")] - sell_q[searchsorted(sell_p, x, "left")]``.
    """
    m = price.size
    nb = ns = 0
    for j in range(m):
        if quantity[j] > 0.0:
            if not is_buy[j]:
                ns += 1
            elif price[j] >= 0.0:
                nb += 1
    bp, bq, sp, sq = np.empty(nb), np.empty(nb), np.empty(ns), np.empty(ns)
    ib = isl = 0
    for j in range(m):
        if quantity[j] > 0.0:
            if not is_buy[j]:
                sp[isl], sq[isl] = max(price[j], 0.0), quantity[j]
                isl += 1
            elif price[j] >= 0.0:
                bp[ib], bq[ib] = price[j], quantity[j]
                ib += 1
    ob = np.argsort(bp, kind="mergesort")
    os_ = np.argsort(sp, kind="mergesort")
    buy_p, sell_p = bp[ob], sp[os_]
    buy_q, sell_q = np.zeros(nb + 1), np.zeros(ns + 1)
    for k in range(nb - 1, -1, -1):
        buy_q[k] = buy_q[k + 1] + bq[ob[k]]
    for k in range(ns):
        sell_q[k + 1] = sell_q[k] + sq[os_[k]]
    return buy_p, buy_q, sell_p, sell_q


@compiled
def _ration(first: float, second: float, volume: float, whole: bool) -> tuple[float, float]:
    """Return the filled shares of a side's inframarginal (``first``) and marginal quantity."""
    if whole:
        share = volume / (first + second)
        return share, share
    if volume < first:  # only by rounding: the margin was already reached
        return volume / first, 0.0
    return 1.0, (min((volume - first) / second, 1.0) if second > 0.0 else 0.0)


@compiled
def fill(price: float, whole: int, d_buy: float, d_sell: float, step_price: np.ndarray,
         quantity: np.ndarray, is_buy: np.ndarray,
         tol: float) -> tuple[float, float, float, np.ndarray, int, int]:
    """Volumes and rationing of a call auction at ``price``.

    Linear participants buy ``d_buy`` and sell ``d_sell`` in all at
    ``price``; step orders strictly better than ``price`` are
    inframarginal, those at it marginal (sells below 0 count at 0). The
    volume is the short side's total; the long side's marginal orders share
    what is left pro rata, and with ``whole`` (1: buyers, 2: sellers) the
    whole side is rationed together. Returns ``(volume, b_in, s_in,
    step_fill, step_buyers, step_sellers)``: the filled shares of the
    linear buyers and sellers, each step order's fill, and the step orders
    that fill on each side; volume 0 if no more than ``tol`` can trade.
    """
    m = quantity.size
    demand_in, demand_at, supply_in, supply_at = d_buy, 0.0, d_sell, 0.0
    for j in range(m):
        q = quantity[j]
        if is_buy[j]:
            if step_price[j] > price:
                demand_in += q
            elif step_price[j] == price:
                demand_at += q
        else:
            eff = max(step_price[j], 0.0)
            if eff < price:
                supply_in += q
            elif eff == price:
                supply_at += q
    volume = min(demand_in + demand_at, supply_in + supply_at)
    step_fill = np.zeros(m)
    if not volume > tol:
        return 0.0, 0.0, 0.0, step_fill, 0, 0
    b_in, b_at = _ration(demand_in, demand_at, volume, whole == 1)
    s_in, s_at = _ration(supply_in, supply_at, volume, whole == 2)
    n_buy = n_sell = 0
    for j in range(m):
        if is_buy[j]:
            share = b_in if step_price[j] > price else (b_at if step_price[j] == price else 0.0)
            step_fill[j] = quantity[j] * share
            n_buy += step_fill[j] > 0.0
        else:
            eff = max(step_price[j], 0.0)
            share = s_in if eff < price else (s_at if eff == price else 0.0)
            step_fill[j] = quantity[j] * share
            n_sell += step_fill[j] > 0.0
    return volume, b_in, s_in, step_fill, n_buy, n_sell

"""Compiled loops of the markets' hot paths.

A scheduled auction touches every participant of a market (up to a third of
all firms) five or six times: its net demand at the clearing price, the trade
in the ledger, its new abatement share and cost, and the engine's unit cost,
intensity and billing correction; building a book, finding its clearing
price and replacing firms at a year end loop over them too. In numpy each of
these is a dozen passes over the participants with a temporary array each;
here each is one pass, compiled by numba (``cache=True``: compiled once per
machine, then loaded from ``__pycache__``). Every kernel states the numpy
expression it computes, and ``tests/markets/test_kernels.py`` checks each
against that expression.

Arrays are float64 unless said otherwise; ``idx`` arrays are firm indices
(distinct). Sums are taken in index order.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["abate", "add_scaled_at", "add_unabated", "adopt_price", "book_demand", "book_inputs",
           "book_price", "book_sums", "fill", "gather4", "market_book", "net_totals", "resort",
           "select_append", "select_append_dropped", "step_curve", "trade_apply",
           "trade_scan"]


def _jit(function):
    return njit(cache=True, nogil=True, error_model="numpy")(function)


@_jit
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


@_jit
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


@_jit
def trade_scan(held: np.ndarray, delta: np.ndarray) -> tuple[float, float, float, int, float]:
    """Scan a trade: ``(bought, sold, low, at, max |held|)``.

    ``bought = sum(max(delta, 0))`` and ``sold = sum(max(-delta, 0))``;
    ``low = min(0, min(held + delta))``, the most negative holding the trade
    would leave, and ``at`` the first firm with it (-1 if no firm ends below
    0). NaN or inf in ``delta`` make ``bought`` NaN.
    """
    bought = sold = 0.0
    finite = 0.0  # stays 0 unless some delta is NaN or infinite
    low = 0.0
    at = -1
    biggest = 0.0
    for i in range(delta.size):
        x = delta[i]
        bought += max(x, 0.0)
        sold += max(-x, 0.0)
        finite += x * 0.0
        after = held[i] + x
        if after < low:  # rare: only a firm selling about all it holds
            low = after
            at = i
        biggest = max(biggest, abs(held[i]))
    return bought + finite, sold, low, at, biggest


@_jit
def trade_apply(held: np.ndarray, paid: np.ndarray, received: np.ndarray, delta: np.ndarray,
                buy_price: float, sell_price: float) -> None:
    """Settle a trade in place.

    ``held += delta``; ``paid += max(delta, 0) * buy_price``;
    ``received += max(-delta, 0) * sell_price``.
    """
    for i in range(delta.size):
        x = delta[i]
        held[i] += x
        paid[i] += max(x, 0.0) * buy_price
        received[i] += max(-x, 0.0) * sell_price


@_jit
def adopt_price(price: float, need: np.ndarray, inv_slope: np.ndarray, most: np.ndarray,
                max_share: float, slope: np.ndarray, share: np.ndarray, rate: np.ndarray,
                cost: np.ndarray, years: float, idx: np.ndarray, firm_share: np.ndarray,
                factor: np.ndarray) -> bool:
    """Participants abate to where MAC equals ``price``; return whether any share changed.

    In place, per participant: first the cost of the ``years`` since the
    last change at the old share, ``cost += rate * years``; then
    ``q = min(inv_slope * max(price, 0), most)``; new share
    ``s = clip(q / need, 0, max_share)`` (0 where ``need <= 0``);
    ``factor = (1 - s) / (1 - share)``. Where the share changes,
    ``share = firm_share[idx] = s`` and the abatement cost per year becomes
    ``rate = slope * (s need)^2 / 2`` (0 where ``s need == 0``); elsewhere
    they are left as they are (the caller keeps them consistent).
    """
    p = max(price, 0.0)
    changed = False
    for i in range(need.size):
        cost[i] += rate[i] * years
        e = need[i]
        s = 0.0
        if e > 0.0:
            q = inv_slope[i] * p
            if q > most[i]:
                q = most[i]
            s = min(max(q / e, 0.0), max_share)
        old = share[i]
        if s != old:
            changed = True
            share[i] = s
            firm_share[idx[i]] = s
            q = s * e
            rate[i] = 0.5 * slope[i] * q * q if q != 0.0 else 0.0
        factor[i] = (1.0 - s) / (1.0 - old)
    return changed


@_jit
def abate(idx: np.ndarray, factor: np.ndarray, intensity: np.ndarray, rate: np.ndarray,
          revenue_share: np.ndarray, covered: np.ndarray, price: float, old_price: float,
          cost_share: np.ndarray, period_va: np.ndarray, correction: np.ndarray,
          firm_intensity: np.ndarray) -> None:
    """Apply the engine's side of an abatement change, in place.

    Per participant ``i`` (firm ``f = idx[i]``), with ``old = intensity[i]``
    and ``new = old * factor[i]``: the unit cost share changes by
    ``revenue_share * (rate * (new - old) + covered * (price new - old_price old))``;
    the period's VA so far, produced at the old intensity, books
    ``period_va[f] * (old - new)`` into ``correction``; ``intensity`` and
    ``firm_intensity[f]`` become ``new``.
    """
    for i in range(idx.size):
        f = idx[i]
        old = intensity[i]
        new = old * factor[i]
        cost = rate[i] * (new - old)
        if covered[i]:
            cost += price * new - old_price * old
        cost_share[f] += cost * revenue_share[i]
        correction[i] += period_va[f] * (old - new)
        intensity[i] = new
        firm_intensity[f] = new


# ------------------------------------------------------------ clearing price

@_jit
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


@_jit
def _book_z(x: float, right: bool, kink, reach_below, slope_above, const,
            buy_p, buy_q, sell_p, sell_q, tol) -> float:
    """``Z(x+)`` (``right``) or ``Z(x-)`` of a book curve, 0 within ``tol``."""
    k = _bisect(kink, x, False)  # kinks < x: fully abated
    z = (const - reach_below[k] - x * slope_above[k]) + (
        buy_q[_bisect(buy_p, x, right)] - sell_q[_bisect(sell_p, x, right)])
    return 0.0 if abs(z) <= tol else z


@_jit
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


@_jit
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


@_jit
def book_price(kink, extra, extra_at, reach_below, slope_above, const, buy_p, buy_q, sell_p,
               sell_q, tol) -> tuple[float, int]:
    """Return the clearing price of an abatement book and step orders, and who is rationed.

    The compiled form of ``auction._clearing_price`` on an ``auction._BookCurve``
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


# ------------------------------------------------------------ abatement book

@_jit
def _clean(x: float, y: float, z: float, tiny: float) -> tuple[float, float, float, float]:
    """One order of a book cleaned (see :func:`book_inputs`): need, 1/c, reach and kink."""
    x = x if x >= tiny else 0.0
    y = y if y >= tiny else 0.0
    z = z if (z >= tiny and y > 0.0) else 0.0
    return x, y, z, (z / y if y > 0.0 else 0.0)


@_jit
def _valid(x: float, y: float, z: float) -> bool:
    return (np.isfinite(x) and x >= 0.0 and np.isfinite(y) and y >= 0.0
            and np.isfinite(z) and z >= 0.0)


@_jit
def book_inputs(need: np.ndarray, inv_slope: np.ndarray,
                reach: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Clean an abatement book's inputs and compute its kink prices.

    Returns copies of ``need``, ``inv_slope`` and ``reach`` with values
    below the smallest normal double set to 0 and ``reach`` set to 0 where
    ``inv_slope == 0``; the kinks ``reach / inv_slope`` (0 where
    ``inv_slope == 0``); and the first index where an input is negative or
    not finite (-1 if none).
    """
    n = need.size
    tiny = np.finfo(np.float64).tiny
    e, b, r, kink = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    bad = -1
    for i in range(n):
        x, y, z = need[i], inv_slope[i], reach[i]
        if bad < 0 and not _valid(x, y, z):
            bad = i
        e[i], b[i], r[i], kink[i] = _clean(x, y, z, tiny)
    return e, b, r, kink, bad


@_jit
def market_book(idx: np.ndarray, intensity: np.ndarray, va: np.ndarray, share: np.ndarray,
                members: np.ndarray, slope: np.ndarray, max_share: float, bid_cap: float):
    """Compute a market's book inputs and its participants' abatement state in one pass.

    Per participant ``i`` (firm ``f = idx[i]``), with the unabated need
    ``e = intensity[f] * va[f] / (1 - share[f])``, times 0 outside the scope
    (``members[f]`` False), ``c = slope[f]``, ``b = 1 / c`` (0 where ``c`` is
    not finite) and ``r = min(max_share * e, bid_cap * b)``: returns the
    book's inputs cleaned as :func:`book_inputs` does (``need``,
    ``inv_slope``, ``reach``, ``kink``); ``keep = max(e - r, 0)`` from the
    raw values; ``share[f]``; ``most = max_share * need``; ``c``; the
    abatement cost per year ``rate = c (share need)^2 / 2`` (0 where that
    quantity is 0); and the first participant whose raw ``e``, ``b`` or ``r`` is
    negative or not finite (-1 if none).
    """
    n = idx.size
    tiny = np.finfo(np.float64).tiny
    need, inv_slope, reach, kink = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    keep, p_share, most, rate = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    p_slope = np.empty(n)
    bad = -1
    for i in range(n):
        f = idx[i]
        s = share[f]
        e = intensity[f] * va[f] / (1.0 - s)
        if not members[f]:
            e = e * 0.0
        c = slope[f]
        p_slope[i] = c
        b = 1.0 / c if np.isfinite(c) else 0.0
        r = min(max_share * e, bid_cap * b)
        if bad < 0 and not _valid(e, b, r):
            bad = i
        keep[i] = max(e - r, 0.0)
        x, b, r, k = _clean(e, b, r, tiny)
        need[i], inv_slope[i], reach[i], kink[i] = x, b, r, k
        p_share[i] = s
        most[i] = max_share * x
        q = s * x
        rate[i] = 0.5 * c * q * q if q != 0.0 else 0.0
    return need, inv_slope, reach, kink, keep, p_share, most, p_slope, rate, bad


@_jit
def resort(order: np.ndarray, kink: np.ndarray, changed: np.ndarray) -> np.ndarray:
    """Re-sort ``order`` after the kinks of the ``changed`` orders moved.

    ``order`` sorted the old kinks; ``kink`` holds the new ones (changed only
    where ``changed``). Returns ``order[argsort(kink[order], kind="stable")]``:
    the unchanged orders keep their sequence, the changed ones are sorted
    (``O(k log k)``) and merged in, ties going by position in ``order``.
    """
    n = order.size
    k = 0
    for i in range(n):
        k += changed[order[i]]
    kept_pos = np.empty(n - k, dtype=np.intp)
    moved_pos = np.empty(k, dtype=np.intp)
    a = b = 0
    for i in range(n):
        if changed[order[i]]:
            moved_pos[b] = i
            b += 1
        else:
            kept_pos[a] = i
            a += 1
    moved_kink = np.empty(k)
    for j in range(k):
        moved_kink[j] = kink[order[moved_pos[j]]]
    moved_pos = moved_pos[np.argsort(moved_kink, kind="mergesort")]
    out = np.empty(n, dtype=order.dtype)
    a = b = 0
    for i in range(n):
        if b >= k:
            take_kept = True
        elif a >= n - k:
            take_kept = False
        else:
            x, y = kink[order[kept_pos[a]]], kink[order[moved_pos[b]]]
            take_kept = x < y or (x == y and kept_pos[a] < moved_pos[b])
        if take_kept:
            out[i] = order[kept_pos[a]]
            a += 1
        else:
            out[i] = order[moved_pos[b]]
            b += 1
    return out


@_jit
def book_sums(order: np.ndarray, kink: np.ndarray, reach: np.ndarray,
              inv_slope: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted kinks and the book's prefix sums in kink ``order``.

    ``kink[order]``; ``reach_below[k] = sum(reach[order][:k])`` and
    ``slope_above[k] = sum(inv_slope[order][k:])`` (length ``n + 1``).
    """
    n = order.size
    sorted_kink = np.empty(n)
    below = np.empty(n + 1)
    above = np.empty(n + 1)
    below[0] = 0.0
    for k in range(n):
        i = order[k]
        sorted_kink[k] = kink[i]
        below[k + 1] = below[k] + reach[i]
    above[n] = 0.0
    for k in range(n - 1, -1, -1):
        above[k] = above[k + 1] + inv_slope[order[k]]
    return sorted_kink, below, above


# --------------------------------------------------------------- step orders

@_jit
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


@_jit
def _ration(first: float, second: float, volume: float, whole: bool) -> tuple[float, float]:
    """Return the filled shares of a side's inframarginal (``first``) and marginal quantity."""
    if whole:
        share = volume / (first + second)
        return share, share
    if volume < first:  # only by rounding: the margin was already reached
        return volume / first, 0.0
    return 1.0, (min((volume - first) / second, 1.0) if second > 0.0 else 0.0)


@_jit
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


# ------------------------------------------------------------ per-firm sums

@_jit
def add_scaled_at(out: np.ndarray, idx: np.ndarray, scale: float, values: np.ndarray) -> None:
    """``out[idx] += scale * values[idx]`` in place (``idx`` distinct)."""
    for i in range(idx.size):
        f = idx[i]
        out[f] += scale * values[f]


@_jit
def gather4(idx: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray):
    """``(a[idx], b[idx], c[idx], d[idx])`` in one pass (any dtypes; strided inputs allowed)."""
    n = idx.size
    out_a, out_b = np.empty(n, a.dtype), np.empty(n, b.dtype)
    out_c, out_d = np.empty(n, c.dtype), np.empty(n, d.dtype)
    for i in range(n):
        f = idx[i]
        out_a[i], out_b[i], out_c[i], out_d[i] = a[f], b[f], c[f], d[f]
    return out_a, out_b, out_c, out_d


@_jit
def add_unabated(out: np.ndarray, va: np.ndarray, intensity: np.ndarray,
                 share: np.ndarray) -> None:
    """``out += va * intensity / (1 - share)`` in place: use before abatement."""
    for i in range(out.size):
        out[i] += va[i] * intensity[i] / (1.0 - share[i])


# ------------------------------------------------------------- firm replacement

@_jit
def select_append_dropped(values: np.ndarray, keep: np.ndarray,
                          new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(concatenate([values[keep], new]), values[~keep])`` in one pass over ``values``."""
    k = 0
    for i in range(keep.size):
        k += keep[i]
    out = np.empty(k + new.size, dtype=values.dtype)
    dropped = np.empty(keep.size - k, dtype=values.dtype)
    j = m = 0
    for i in range(keep.size):
        if keep[i]:
            out[j] = values[i]
            j += 1
        else:
            dropped[m] = values[i]
            m += 1
    out[k:] = new
    return out, dropped


@_jit
def select_append(values: np.ndarray, keep: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Return ``concatenate([values[keep], new])`` in one pass over ``values``."""
    return select_append_dropped(values, keep, new)[0]

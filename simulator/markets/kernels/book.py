"""Compiled loops that build an abatement book: its inputs, their sort and prefix sums.

:func:`book_inputs` cleans the inputs of an
:class:`~simulator.markets.book.AbatementBook` and computes its kinks;
:func:`market_book` does the same for a market's participants from the
firms' state, with their abatement state, in one pass; :func:`resort`
merges a few changed orders back into the kink order; :func:`book_sums`
gives the sorted kinks and the prefix sums. Each states the numpy expression
it computes.
"""

from __future__ import annotations

import numpy as np

from simulator.markets.kernels.jit import compiled

__all__ = ["book_inputs", "book_sums", "market_book", "resort"]


@compiled
def _clean(x: float, y: float, z: float, tiny: float) -> tuple[float, float, float, float]:
    """One order of a book cleaned (see :func:`book_inputs`): need, 1/c, reach and kink."""
    x = x if x >= tiny else 0.0
    y = y if y >= tiny else 0.0
    z = z if (z >= tiny and y > 0.0) else 0.0
    return x, y, z, (z / y if y > 0.0 else 0.0)


@compiled
def _valid(x: float, y: float, z: float) -> bool:
    return (np.isfinite(x) and x >= 0.0 and np.isfinite(y) and y >= 0.0
            and np.isfinite(z) and z >= 0.0)


@compiled
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


@compiled
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


@compiled
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


@compiled
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

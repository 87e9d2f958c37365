"""Uniform-price call auction (集合竞价) of quota rights.

:func:`clear_market` clears one periodic auction of the public resource
trading platform (公共资源交易中心) for energy-use rights (用能权, units tce) or
emission rights (排污权, units t). Everyone trades at one price.

Two kinds of order meet in the book:

- :class:`LinearOrders`, one per firm: net demand falling linearly with the
  price between two bounds. A firm with marginal abatement cost
  ``MAC_i(q) = c_i q`` needing ``e_i`` units and holding ``h_i`` bids
  ``d_i(p) = clip(e_i - h_i - p / c_i, (1 - s) e_i - h_i, e_i - h_i)``:
  intercept ``e_i - h_i``, slope ``1 / c_i``.
- :class:`StepOrders`: limit orders, e.g. the government reserve's sale at
  the price ceiling, its purchase at the floor, its auction lot at a reserve
  price, or firms' year-end bids.

The aggregate net demand

    Z(p) = sum_i d_i(p) + sum_buy q_j [p <= price_j] - sum_sell q_j [p >= price_j]

is non-increasing on ``p >= 0``; the clearing price ``p*`` is where it
crosses zero, ``Z(p*-) >= 0 >= Z(p*+)``. :func:`clear_market` finds it by
sorting the breakpoints of ``Z`` (where a bound starts or stops binding and
where step orders sit), keeping prefix sums of the orders in that order, so
that ``Z`` at any price costs ``O(log n)``, and bisecting over the
breakpoints: a book of ``n`` orders clears in ``O(n log n)``.

Conventions
-----------
- Rationing is pro rata and independent of the order of the orders; ties at
  one price are never first-come, first-served.
- Where ``Z`` is zero on an interval the price is its midpoint (its lower end
  if the interval is unbounded).
- Sell orders priced below 0 count as priced at 0; buy orders below 0 never fill.
- Excess supply at price 0 (``Z(0-) < 0``: what is offered at 0 exceeds all
  demand, bids at 0 included): the price is 0, every buyer is filled and all
  sellers (linear participants selling at 0 and sell orders at 0) are rationed
  together, pro rata to what they offer at 0. (With ``Z(0-) >= 0 >= Z(0+)``
  the ordinary rule applies: firms get ``d_i(0)``, asks at 0 are marginal.)
- Excess demand at every price (buyers with a positive lower bound or slope 0
  that no supply can meet): the price is the highest breakpoint of ``Z``,
  every seller is filled and all buyers willing to buy there are rationed
  together, pro rata.
- No trade (no buyer, no seller, or bids and asks do not cross; in floats, a
  volume below ``1e-12`` of the book's gross size): the price is NaN and all
  fills are zero.

Example
-------
Two firms (MAC slopes ``c = 10`` and ``20`` yuan per unit^2, needs ``e``
100 and 60 units, holdings ``h`` 80 and 60, at most half abated) trade at
``p* = (sum e - sum h) / sum(1 / c) = 20 / 0.15``:

>>> orders = LinearOrders(intercept=[20.0, 0.0], slope=[0.1, 0.05],
...                       lower=[-30.0, -30.0], upper=[20.0, 0.0])
>>> c = clear_market(orders)
>>> round(c.price, 6), round(c.volume, 6), c.linear_fill.round(6).tolist()
(133.333333, 6.666667, [6.666667, -6.666667])
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from simulator.markets import kernels

__all__ = ["AbatementBook", "Clearing", "LinearOrders", "StepOrders", "clear_book",
           "clear_market"]

# Net demands within this share of the book's gross size count as zero: they
# are what is left of exact zeros after summing floats (e.g. Z on an interval
# where it is zero, or a firm that needs exactly what it holds at the price).
_RTOL = 1e-12


def _vector(name: str, value: ArrayLike, *, dtype: type = float) -> np.ndarray:
    """Return ``value`` as a 1-D array, or raise naming the field."""
    arr = np.asarray(value, dtype=dtype)
    if arr.ndim != 1:
        raise ValueError(f"The '{name}' parameter must be 1-D. Got shape {arr.shape} instead.")
    return arr


def _check(name: str, bad: np.ndarray, values: np.ndarray, rule: str) -> None:
    """Raise naming the field and its first value that breaks ``rule``."""
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"The '{name}' parameter must be {rule}. "
                         f"Got {values[i]!r} at index {i} instead.")


@dataclass(frozen=True, eq=False)
class LinearOrders:
    """Price-responsive net demand per participant, units (tce or t).

    ``d_i(p) = clip(intercept_i - slope_i * p, lower_i, upper_i)``; positive
    ``d`` buys, negative sells. A participant with ``slope_i == 0`` is a fixed
    order of ``clip(intercept_i, lower_i, upper_i)`` at any price.

    Parameters
    ----------
    intercept : array_like of float, shape (n,)
        Net demand at price 0 before clipping, units.
    slope : array_like of float, shape (n,)
        Units less demanded per yuan of price, ``>= 0`` and finite.
    lower : array_like of float, shape (n,)
        Least net demand, units (``-inf`` allowed: sells without limit).
    upper : array_like of float, shape (n,)
        Most net demand, units, ``>= lower`` (``+inf`` allowed).
    """

    intercept: np.ndarray
    slope: np.ndarray
    lower: np.ndarray
    upper: np.ndarray

    def __post_init__(self) -> None:
        names = ("intercept", "slope", "lower", "upper")
        arrays = [_vector(name, getattr(self, name)) for name in names]
        for name, arr in zip(names, arrays, strict=True):
            if arr.shape != arrays[0].shape:
                raise ValueError(f"The '{name}' parameter must have the shape of 'intercept', "
                                 f"{arrays[0].shape}. Got {arr.shape} instead.")
            object.__setattr__(self, name, arr)
        a, b, lo, up = arrays
        _check("intercept", ~np.isfinite(a), a, "finite")
        _check("slope", ~(np.isfinite(b) & (b >= 0)), b, "finite and >= 0")
        _check("lower", np.isnan(lo) | (lo == np.inf), lo, "a number below +inf")
        _check("upper", np.isnan(up) | (up == -np.inf), up, "a number above -inf")
        _check("upper", up < lo, up, ">= lower")


@dataclass(frozen=True, eq=False)
class StepOrders:
    """Limit orders: buy up to ``quantity`` at any price ``<= price``; sell at ``>= price``.

    Parameters
    ----------
    price : array_like of float, shape (m,)
        Limit price, yuan per unit (finite). Prices are searched on ``p >= 0``:
        a sell order below 0 counts as one at 0; a buy order below 0 never fills.
    quantity : array_like of float, shape (m,)
        Quantity offered or wanted, units, ``>= 0``.
    is_buy : array_like of bool, shape (m,)
        True for a buy order, False for a sell order.
    """

    price: np.ndarray
    quantity: np.ndarray
    is_buy: np.ndarray

    def __post_init__(self) -> None:
        price = _vector("price", self.price)
        quantity = _vector("quantity", self.quantity)
        is_buy = np.asarray(self.is_buy)
        if is_buy.size and is_buy.dtype != np.bool_:
            raise ValueError(f"The 'is_buy' parameter must be boolean. "
                             f"Got dtype {is_buy.dtype} instead.")
        is_buy = _vector("is_buy", is_buy, dtype=bool)
        for name, arr in (("quantity", quantity), ("is_buy", is_buy)):
            if arr.shape != price.shape:
                raise ValueError(f"The '{name}' parameter must have the shape of 'price', "
                                 f"{price.shape}. Got {arr.shape} instead.")
        _check("price", ~np.isfinite(price), price, "finite")
        _check("quantity", ~(np.isfinite(quantity) & (quantity >= 0)), quantity,
               "finite and >= 0")
        object.__setattr__(self, "price", price)
        object.__setattr__(self, "quantity", quantity)
        object.__setattr__(self, "is_buy", is_buy)


@dataclass(frozen=True, eq=False)
class Clearing:
    """Outcome of one call auction."""

    price: float
    """Clearing price, yuan per unit; NaN when nothing can trade."""
    volume: float
    """Units traded: total bought == total sold."""
    linear_fill: np.ndarray
    """Net position change of each linear participant, units (+ bought, - sold)."""
    step_fill: np.ndarray
    """Filled quantity of each step order, units (>= 0)."""
    buyers: int
    """Participants (linear and step) with a positive buy fill."""
    sellers: int
    """Participants (linear and step) with a positive sell fill."""


def _prefix(values: np.ndarray) -> np.ndarray:
    """``out[k] = sum(values[:k])``, length ``len(values) + 1``."""
    out = np.zeros(values.size + 1)
    np.cumsum(values, out=out[1:])
    return out


def _suffix(values: np.ndarray) -> np.ndarray:
    """``out[k] = sum(values[k:])``, length ``len(values) + 1``."""
    return _prefix(values[::-1])[::-1]


def _sort_by(keys: np.ndarray, *values: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Return ``keys`` sorted and ``values`` in the same order."""
    if np.all(keys[1:] >= keys[:-1]):  # e.g. every firm's upper bound binds only at p = 0
        return keys, list(values)
    order = np.argsort(keys)
    return keys[order], [v[order] for v in values]


class _StepCurve:
    """Net demand of the step orders at a price, by prefix sums over their sorted prices."""

    def __init__(self, steps: StepOrders) -> None:
        self.buy_p, self.buy_q, self.sell_p, self.sell_q = kernels.step_curve(
            steps.price, steps.quantity, steps.is_buy)
        self.prices = np.concatenate([self.buy_p, self.sell_p])

    def __call__(self, x: np.ndarray, *, right: bool) -> np.ndarray:
        """Net step demand just left (``right=False``) or right of prices ``x``."""
        side = "right" if right else "left"
        buys = self.buy_q[np.searchsorted(self.buy_p, x, side=side)]
        sells = self.sell_q[np.searchsorted(self.sell_p, x, side=side)]
        return buys - sells


class _CurveBase:
    """``Z(x-)`` and ``Z(x+)`` from a continuous linear part and the step orders."""

    tol: float
    step: _StepCurve
    points: np.ndarray
    """Sorted breakpoints of ``Z`` (with repeats), starting at 0."""
    tail_slope: float
    """Slope of ``-Z`` beyond the last breakpoint."""

    def linear(self, x: np.ndarray) -> np.ndarray:
        """Sum of the linear orders' net demand at prices ``x >= 0`` (continuous in x)."""
        raise NotImplementedError

    def root(self, x0: float, x1: float) -> float:
        """Zero of ``Z`` on the open segment ``(x0, x1)`` between breakpoints."""
        raise NotImplementedError

    def steps(self, x: np.ndarray, *, right: bool) -> np.ndarray:
        """Net step demand just left (``right=False``) or right of prices ``x``."""
        return self.step(x, right=right)

    def left_all(self, x: np.ndarray) -> np.ndarray:
        """``Z(x-)`` at prices ``x``, with values within rounding of zero set to zero."""
        z = self.linear(x) + self.steps(x, right=False)
        z[np.abs(z) <= self.tol] = 0.0
        return z

    def right_all(self, x: np.ndarray) -> np.ndarray:
        """``Z(x+)`` at prices ``x``, with values within rounding of zero set to zero."""
        z = self.linear(x) + self.steps(x, right=True)
        z[np.abs(z) <= self.tol] = 0.0
        return z

    def left(self, x: float) -> float:
        """``Z(x-)``, with values within rounding of zero set to zero."""
        return float(self.left_all(np.array([x], dtype=float))[0])

    def right(self, x: float) -> float:
        """``Z(x+)``, with values within rounding of zero set to zero."""
        return float(self.right_all(np.array([x], dtype=float))[0])


class _Curve(_CurveBase):
    """Aggregate net demand ``Z`` on ``p >= 0``, evaluated by prefix sums."""

    def __init__(self, lin: LinearOrders, steps: StepOrders) -> None:
        a, b, lo = lin.intercept, lin.slope, lin.lower
        d0 = np.clip(a, lo, lin.upper)
        # On p >= 0 a participant varies iff it slopes and is above its lower
        # bound at p = 0; its effective upper bound is then d(0) <= intercept.
        var = (b > 0) & (d0 > lo)
        if var.all():  # the usual book: every firm responds to the price
            self.const, up = 0.0, d0
        else:
            self.const = float(d0[~var].sum())
            a, b, lo, up = a[var], b[var], lo[var], d0[var]
        self.a, self.b, self.lo, self.up = a, b, lo, up
        self.t_hi = (a - up) / b  # upper bound binds for p <= t_hi (>= 0)
        self.t_lo = (a - lo) / b  # lower bound binds for p >= t_lo (> 0, may be inf)
        self.hi_t, by_hi = _sort_by(self.t_hi, up, a, b)
        self.hi_up, self.hi_a, self.hi_b = (_suffix(v) for v in by_hi)
        self.lo_t, by_lo = _sort_by(self.t_lo, lo, a, b)
        self.lo_lo, self.lo_a, self.lo_b = (_prefix(v) for v in by_lo)
        self.a_sum, self.b_sum = float(a.sum()), float(b.sum())
        # Slope of Z beyond the last breakpoint: participants without a lower bound.
        self.tail_slope = float(b[np.isinf(self.t_lo)].sum())

        self.step = _StepCurve(steps)

        # Size of the sums that make Z, for telling rounding from real net demand.
        finite_lo = np.isfinite(lin.lower)
        gross = (np.abs(lin.intercept).sum() + np.abs(d0).sum() + steps.quantity.sum()
                 + np.abs(lin.lower, where=finite_lo, out=np.zeros(finite_lo.size)).sum())
        self.tol = _RTOL * gross
        # All breakpoints, with repeats; hi_t and lo_t are sorted runs, which a
        # stable (merge) sort joins in linear time.
        self.points = np.sort(np.concatenate([[0.0], self.hi_t, self.lo_t[np.isfinite(self.lo_t)],
                                              self.step.prices]), kind="stable")

    def linear(self, x: np.ndarray) -> np.ndarray:
        """Sum of the linear orders' net demand at prices ``x >= 0`` (continuous in x)."""
        ih = np.searchsorted(self.hi_t, x, side="left")  # t_hi >= x: at upper bound
        il = np.searchsorted(self.lo_t, x, side="left")  # t_lo < x: at lower bound
        a_mid = self.a_sum - self.hi_a[ih] - self.lo_a[il]
        b_mid = self.b_sum - self.hi_b[ih] - self.lo_b[il]
        empty = ih == il  # no participant on its sloped part: keep sums exact
        a_mid, b_mid = np.where(empty, 0.0, a_mid), np.where(empty, 0.0, b_mid)
        return self.const + self.hi_up[ih] + self.lo_lo[il] + a_mid - b_mid * x


    def root(self, x0: float, x1: float) -> float:
        """Zero of ``Z`` on the open segment ``(x0, x1)``, from exact sums of its active parts.

        ``x1`` may be ``inf`` (the segment after the last breakpoint).
        """
        m = 0.5 * (x0 + x1)
        hi, lo = self.t_hi >= m, self.t_lo < m
        mid = ~(hi | lo)
        slope = self.b[mid].sum()
        if not slope > 0:  # cannot happen on a segment where Z changes sign; be safe
            return float(m)
        num = (self.const + self.up[hi].sum() + self.lo[lo].sum() + self.a[mid].sum()
               + self.steps(np.array([x0]), right=True)[0])
        return float(np.clip(num / slope, x0, x1))


class AbatementBook:
    """Firms bidding their marginal abatement cost for a fixed need, sorted once.

    Firm ``i`` needs ``e_i`` units, abates up to ``r_i`` units at marginal
    cost ``c_i q`` and holds ``h_i`` rights; at price ``p >= 0`` it demands

        d_i(p) = e_i - h_i - min(p / c_i, r_i),

    the order ``LinearOrders(intercept=e - h, slope=1/c, lower=e - h - r,
    upper=e - h)``. The holdings enter the aggregate only through their sum,
    and each firm's kink price ``c_i r_i`` does not depend on them, so one
    sort of the kinks serves every auction with the same needs: clearing
    then costs ``O(log n)`` for the price and ``O(n)`` for the fills (see
    :func:`clear_book`). Within a year needs change only with output plans,
    so a market sorts once a year (and, with ``order`` from last year's
    book, re-sorts a nearly sorted array).

    Parameters
    ----------
    need : array_like of float, shape (n,)
        Unabated need ``e_i``, units (>= 0).
    inv_slope : array_like of float, shape (n,)
        ``1 / c_i``, units per yuan (>= 0, finite; 0: the firm never abates).
    reach : array_like of float, shape (n,)
        Most the firm abates, ``r_i``, units (>= 0; ignored where ``inv_slope == 0``).
    order : ndarray of int, optional
        A permutation that (nearly) sorts the kinks, e.g. an earlier book's ``order``.
    """

    def __init__(self, need: ArrayLike, inv_slope: ArrayLike, reach: ArrayLike, *,
                 order: np.ndarray | None = None) -> None:
        e, b, r = (_vector(name, v) for name, v in
                   (("need", need), ("inv_slope", inv_slope), ("reach", reach)))
        for name, arr in (("inv_slope", b), ("reach", r)):
            if arr.shape != e.shape:
                raise ValueError(f"The '{name}' parameter must have the shape of 'need', "
                                 f"{e.shape}. Got {arr.shape} instead.")
        # Subnormal quantities (below 2.2e-308) are zero: their kink prices and sums
        # would round differently from the same orders cleared by clear_market.
        clean_e, clean_b, clean_r, kink, bad = kernels.book_inputs(
            *(np.ascontiguousarray(v) for v in (e, b, r)))
        if bad >= 0:
            for name, arr in (("need", e), ("inv_slope", b), ("reach", r)):
                _check(name, ~(np.isfinite(arr) & (arr >= 0)), arr, "finite and >= 0")
        self._sum(clean_e, clean_b, clean_r, kink, _sorted_order(kink, order))

    @classmethod
    def from_clean(cls, need: np.ndarray, inv_slope: np.ndarray, reach: np.ndarray,
                   kink: np.ndarray, *, order: np.ndarray | None = None) -> AbatementBook:
        """Return the book of inputs already cleaned, with their kinks (``kernels.book_inputs``).

        For callers that compute the inputs in a compiled pass of their own
        (``kernels.market_book``); the arrays are kept, not copied.
        """
        book = cls.__new__(cls)
        book._sum(need, inv_slope, reach, kink, _sorted_order(kink, order))
        return book

    def renew(self, at: np.ndarray, need: np.ndarray, inv_slope: np.ndarray, reach: np.ndarray,
              kink: np.ndarray) -> None:
        """Replace the orders at positions ``at`` (cleaned inputs and kinks) and re-sort, in place.

        The book then equals one built afresh from the new inputs with its
        old order as the hint: the ``k`` changed orders are sorted and merged
        into the others' order (``kernels.resort``), ``O(n + k log k)``, e.g.
        when a few firms' needs change.
        """
        self.need[at], self.inv_slope[at], self.reach[at] = need, inv_slope, reach
        self._kink[at] = kink
        changed = np.zeros(self.need.size, dtype=bool)
        changed[at] = True
        self._sum(self.need, self.inv_slope, self.reach, self._kink,
                  kernels.resort(self.order, self._kink, changed))

    def _sum(self, e: np.ndarray, b: np.ndarray, r: np.ndarray, kink: np.ndarray,
             order: np.ndarray) -> None:
        """Keep the cleaned inputs and ``order`` (which sorts ``kink``); build the prefix sums."""
        self.need, self.inv_slope, self.reach, self.order, self._kink = e, b, r, order, kink
        # kink[k] sorted; [k]: sum of r over the first k kinks; sum of 1/c from kink k on
        self.kink, self.reach_below, self.slope_above = kernels.book_sums(order, kink, r, b)
        self.need_total = float(e.sum())
        self.size = float(e.sum() + r.sum())

    def extra_points(self, prices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return 0 and ``prices`` sorted, and where they go among the sorted kinks."""
        extra = np.sort(np.concatenate([[0.0], prices]))
        return extra, np.searchsorted(self.kink, extra)

    def points(self, prices: np.ndarray) -> np.ndarray:
        """Return the sorted kinks merged with 0 and ``prices``: the breakpoints of ``Z``."""
        extra, at = self.extra_points(prices)
        return np.insert(self.kink, at, extra)

    def abated(self, price: float) -> float:
        """Total abatement ``sum_i min(price / c_i, r_i)`` at ``price >= 0``, units."""
        k = int(np.searchsorted(self.kink, price, side="left"))
        return float(self.reach_below[k] + price * self.slope_above[k])


def _sorted_order(kink: np.ndarray, hint: np.ndarray | None) -> np.ndarray:
    """Return the stable order of ``kink``, re-sorting ``hint`` (nearly sorted) if given."""
    if hint is None or hint.shape != kink.shape:
        return np.argsort(kink, kind="stable")
    nearly = kink[hint]
    if np.all(nearly[1:] >= nearly[:-1]):
        return hint
    return hint[np.argsort(nearly, kind="stable")]  # runs: close to linear


class _BookCurve(_CurveBase):
    """``Z`` of an :class:`AbatementBook` with total holdings ``held`` and step orders.

    :func:`clear_book` finds its clearing price with the compiled
    ``kernels.book_price``; ``_clearing_price`` on this curve is the readable
    form of the same search, which the tests hold the kernel to.
    """

    tail_slope = 0.0  # every firm's abatement is bounded

    def __init__(self, book: AbatementBook, held: float, steps: StepOrders) -> None:
        self.book, self.const = book, book.need_total - held
        self.step = _StepCurve(steps)
        self.tol = _RTOL * (book.size + abs(held) + float(steps.quantity.sum()))

    @functools.cached_property
    def points(self) -> np.ndarray:
        return self.book.points(self.step.prices)

    def linear(self, x: np.ndarray) -> np.ndarray:
        k = np.searchsorted(self.book.kink, x, side="left")  # kinks < x: fully abated
        return self.const - self.book.reach_below[k] - x * self.book.slope_above[k]

    def root(self, x0: float, x1: float) -> float:
        """Zero of ``Z`` on the open segment ``(x0, x1)`` between breakpoints."""
        k = int(np.searchsorted(self.book.kink, 0.5 * (x0 + x1), side="left"))
        slope = self.book.slope_above[k]
        if not slope > 0:
            return 0.5 * (x0 + x1)
        num = (self.const - self.book.reach_below[k]
               + self.steps(np.array([x0]), right=True)[0])
        return float(np.clip(num / slope, x0, x1))


def clear_book(book: AbatementBook, holdings: ArrayLike,
               steps: StepOrders | None = None) -> Clearing:
    """Return the uniform-price clearing of an :class:`AbatementBook` and limit orders.

    The same clearing as :func:`clear_market` with the book's linear orders
    at ``holdings`` (``linear_fill`` has one entry per firm of the book), at
    ``O(log n)`` for the price plus ``O(n)`` for the fills once the book is
    built.

    Parameters
    ----------
    book : AbatementBook
        The firms' needs, MAC slopes and abatement bounds.
    holdings : array_like of float, shape (n,)
        Rights each firm holds, units.
    steps : StepOrders, optional
        Limit orders (the reserve's, firms' sales at a price cap).
    """
    h = _vector("holdings", holdings)
    if h.shape != book.need.shape:
        raise ValueError(f"The 'holdings' parameter must have the shape of the book's need, "
                         f"{book.need.shape}. Got {h.shape} instead.")
    if steps is None:
        steps = StepOrders(np.zeros(0), np.zeros(0), np.zeros(0, bool))
    curve = _BookCurve(book, float(h.sum()), steps)
    step = curve.step
    price, code = kernels.book_price(book.kink, *book.extra_points(step.prices),
                                     book.reach_below, book.slope_above, curve.const,
                                     step.buy_p, step.buy_q, step.sell_p, step.sell_q, curve.tol)
    whole = _WHOLE[code]
    # Net demands within rounding of zero (of the firm's own sums) are zero.
    d, *totals = kernels.book_demand(book.need, book.inv_slope, book.reach,
                                     np.ascontiguousarray(h), float(price), _RTOL)
    return _fill(price, whole, d, steps, curve.tol, totals)


_WHOLE = ("", "buyers", "sellers")  # kernels.book_price's codes


@functools.cache
def _empty_book() -> AbatementBook:
    """Return a book of no firms: limit orders alone clear against it."""
    return AbatementBook(np.zeros(0), np.zeros(0), np.zeros(0))


def _first(points: np.ndarray, holds: Callable[[np.ndarray], np.ndarray],
           fanout: int = 64) -> int:
    """Index of the first of the sorted ``points`` where the monotone ``holds`` is true.

    ``len(points)`` if it holds nowhere. ``holds`` maps an array of prices to
    an array of booleans; a ``fanout``-ary search calls it
    ``O(log len(points) / log fanout)`` times, ``fanout`` prices at a time.
    """
    lo, hi = 0, points.size  # the answer is in [lo, hi]; holds at hi unless hi == size
    while lo < hi:
        k = min(fanout, hi - lo)
        idx = lo + (np.arange(k, dtype=np.intp) * (hi - lo)) // k  # distinct, first is lo
        ok = holds(points[idx])
        if not ok.any():
            lo = int(idx[-1]) + 1
            continue
        t = int(np.argmax(ok))
        hi = int(idx[t])
        lo = int(idx[t - 1]) + 1 if t > 0 else lo
    return lo


def _clearing_price(curve: _CurveBase) -> tuple[float, str]:
    """Return the clearing price and which side, if any, is rationed as a whole.

    The side is ``"sellers"`` at price 0 with excess supply, ``"buyers"`` with
    excess demand at every price, else ``""``. The price lies in
    ``[p_lo, p_hi]``, from the least ``p`` with ``Z(p+) <= 0`` to the
    greatest with ``Z(p-) >= 0``; both are breakpoints or roots on the segment
    just before or after one, found by bisection over the sorted breakpoints
    (``Z`` is non-increasing).
    """
    x = curve.points  # x[0] == 0
    k = _first(x, lambda p: curve.right_all(p) <= 0)
    if k == x.size:
        if curve.tail_slope > 0:
            return curve.root(x[-1], np.inf), ""
        return float(x[-1]), "buyers"
    if k == 0:
        p_lo = 0.0
    elif curve.left(x[k]) < 0:  # x[k - 1] < x[k]: k is the first of its repeats
        p_lo = curve.root(x[k - 1], x[k])
    else:
        p_lo = float(x[k])
    j = _first(x, lambda p: curve.left_all(p) < 0) - 1  # last point with Z(p-) >= 0
    if j < 0:
        return 0.0, "sellers"
    if j == x.size - 1:
        z = curve.right(x[j])
        if z > 0 and curve.tail_slope > 0:
            p_hi = curve.root(x[j], np.inf)
        else:
            p_hi = np.inf if z >= 0 and curve.tail_slope == 0 else float(x[j])
    elif curve.right(x[j]) > 0:  # x[j] < x[j + 1]: j is the last of its repeats
        p_hi = curve.root(x[j], x[j + 1])
    else:
        p_hi = float(x[j])
    if not np.isfinite(p_hi) or p_hi <= p_lo:
        return p_lo, ""
    return 0.5 * (p_lo + p_hi), ""


def _no_trade(n: int, m: int) -> Clearing:
    return Clearing(price=float("nan"), volume=0.0, linear_fill=np.zeros(n),
                    step_fill=np.zeros(m), buyers=0, sellers=0)


def clear_market(linear: LinearOrders | None = None,
                 steps: StepOrders | None = None) -> Clearing:
    """Return the uniform-price clearing of a call auction of linear and limit orders.

    Parameters
    ----------
    linear : LinearOrders, optional
        Price-responsive net demand of ``n`` participants, units; none if omitted.
    steps : StepOrders, optional
        ``m`` limit orders (price yuan per unit, quantity units); none if omitted.

    Returns
    -------
    Clearing
        Price (yuan per unit, NaN without trade), volume (units) and fills:
        ``linear_fill`` (shape (n,), + bought, - sold, units) and
        ``step_fill`` (shape (m,), >= 0, units).

    Notes
    -----
    The price ``p*`` satisfies ``Z(p*-) >= 0 >= Z(p*+)`` (see the module
    docstring for ``Z`` and the edge cases). Linear participants trade
    ``d_i(p*)``; step orders strictly better than ``p*`` fill fully; step
    orders at ``p*`` on the long side share what is left pro rata to their
    quantities. Cost ``O((n + m) log(n + m))``.
    """
    if linear is None or linear.intercept.size == 0:  # limit orders alone: an empty book
        return clear_book(_empty_book(), np.zeros(0), steps)
    if steps is None:
        steps = StepOrders(np.zeros(0), np.zeros(0), np.zeros(0, bool))
    curve = _Curve(linear, steps)
    price, whole = _clearing_price(curve)

    a, b = linear.intercept, linear.slope
    d = np.clip(a - b * price, linear.lower, linear.upper)
    d = np.where(np.abs(d) <= _RTOL * np.maximum(np.abs(a), b * price), 0.0, d)
    return _fill(price, whole, d, steps, curve.tol)


def _fill(price: float, whole: str, d: np.ndarray, steps: StepOrders, tol: float,
          totals: tuple | None = None) -> Clearing:
    """Return the clearing at ``price``: linear net demands ``d`` and rationed step orders.

    ``totals`` is ``kernels.net_totals(d)`` if the caller has it; the rules
    are those of ``kernels.fill``.
    """
    d_buy, d_sell, n_buy, n_sell = kernels.net_totals(d) if totals is None else totals
    volume, b_in, s_in, step_fill, step_buyers, step_sellers = kernels.fill(
        float(price), _WHOLE.index(whole), d_buy, d_sell, steps.price, steps.quantity,
        steps.is_buy, tol)
    if volume == 0.0:
        return _no_trade(d.size, steps.price.size)
    if b_in == s_in:  # no linear participant is rationed (the usual case)
        linear_fill = d * b_in if b_in != 1.0 else d
        if b_in <= 0.0:
            n_buy = n_sell = 0
    else:
        linear_fill = np.where(d > 0, d * b_in, d * s_in)
        n_buy, n_sell = np.count_nonzero(linear_fill > 0), np.count_nonzero(linear_fill < 0)
    return Clearing(price=float(price), volume=volume, linear_fill=linear_fill,
                    step_fill=step_fill, buyers=int(n_buy + step_buyers),
                    sellers=int(n_sell + step_sellers))

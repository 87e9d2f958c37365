"""Uniform-price call auction (集合竞价) of quota rights.

:func:`clear_market` clears one periodic auction of the public resource
trading platform (公共资源交易中心) for energy-use rights (用能权, units tce) or
emission rights (排污权, units t). Everyone trades at one price.

What every clearing shares (limit orders, the outcome, the search for the
clearing price, the fills) is in :mod:`simulator.markets.clearing`; an
abatement book, sorted once and cleared for any holdings
(:class:`AbatementBook`, :func:`clear_book`), is in
:mod:`simulator.markets.book`. This module clears linear orders.

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

from dataclasses import dataclass

import numpy as np

from simulator.markets.book import AbatementBook, clear_book, empty_book
from simulator.markets.clearing import (
    RTOL,
    Clearing,
    CurveBase,
    StepCurve,
    StepOrders,
    as_vector,
    check_values,
    clearing_at,
    clearing_price,
)

__all__ = ["AbatementBook", "Clearing", "LinearOrders", "StepOrders", "clear_book",
           "clear_market"]


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
        arrays = [as_vector(name, getattr(self, name)) for name in names]
        for name, arr in zip(names, arrays, strict=True):
            if arr.shape != arrays[0].shape:
                raise ValueError(f"The '{name}' parameter must have the shape of 'intercept', "
                                 f"{arrays[0].shape}. Got {arr.shape} instead.")
            object.__setattr__(self, name, arr)
        a, b, lo, up = arrays
        check_values("intercept", ~np.isfinite(a), a, "finite")
        check_values("slope", ~(np.isfinite(b) & (b >= 0)), b, "finite and >= 0")
        check_values("lower", np.isnan(lo) | (lo == np.inf), lo, "a number below +inf")
        check_values("upper", np.isnan(up) | (up == -np.inf), up, "a number above -inf")
        check_values("upper", up < lo, up, ">= lower")


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


class _Curve(CurveBase):
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

        self.step = StepCurve(steps)

        # Size of the sums that make Z, for telling rounding from real net demand.
        finite_lo = np.isfinite(lin.lower)
        gross = (np.abs(lin.intercept).sum() + np.abs(d0).sum() + steps.quantity.sum()
                 + np.abs(lin.lower, where=finite_lo, out=np.zeros(finite_lo.size)).sum())
        self.tol = RTOL * gross
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
        return clear_book(empty_book(), np.zeros(0), steps)
    if steps is None:
        steps = StepOrders(np.zeros(0), np.zeros(0), np.zeros(0, bool))
    curve = _Curve(linear, steps)
    price, whole = clearing_price(curve)

    a, b = linear.intercept, linear.slope
    d = np.clip(a - b * price, linear.lower, linear.upper)
    d = np.where(np.abs(d) <= RTOL * np.maximum(np.abs(a), b * price), 0.0, d)
    return clearing_at(price, whole, d, steps, curve.tol)



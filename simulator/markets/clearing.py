"""What every clearing of a call auction shares: limit orders, the outcome, the rule.

The uniform-price call auction of :mod:`simulator.markets.auction` clears
linear orders (:class:`~simulator.markets.auction.LinearOrders`) and limit
orders (:class:`StepOrders`); :mod:`simulator.markets.book` clears an
abatement book and limit orders the same way. Both build a net demand curve
``Z`` on :class:`CurveBase` (its step part is a :class:`StepCurve`), find
where it crosses zero with :func:`clearing_price` (the compiled
``kernels.book_price`` is the same search on a book), and fill the orders at
that price with :func:`clearing_at`. The definitions of ``Z`` and the rules
for ties, excess supply and excess demand are in the auction module's
docstring.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from simulator.markets import kernels

__all__ = ["RTOL", "WHOLE_SIDES", "Clearing", "CurveBase", "StepCurve", "StepOrders",
           "as_vector", "check_values", "clearing_at", "clearing_price"]

# Net demands within this share of the book's gross size count as zero: they
# are what is left of exact zeros after summing floats (e.g. Z on an interval
# where it is zero, or a firm that needs exactly what it holds at the price).
RTOL = 1e-12


def as_vector(name: str, value: ArrayLike, *, dtype: type = float) -> np.ndarray:
    """Return ``value`` as a 1-D array, or raise naming the field."""
    arr = np.asarray(value, dtype=dtype)
    if arr.ndim != 1:
        raise ValueError(f"The '{name}' parameter must be 1-D. Got shape {arr.shape} instead.")
    return arr


def check_values(name: str, bad: np.ndarray, values: np.ndarray, rule: str) -> None:
    """Raise naming the field and its first value that breaks ``rule``."""
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"The '{name}' parameter must be {rule}. "
                         f"Got {values[i]!r} at index {i} instead.")


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
        price = as_vector("price", self.price)
        quantity = as_vector("quantity", self.quantity)
        is_buy = np.asarray(self.is_buy)
        if is_buy.size and is_buy.dtype != np.bool_:
            raise ValueError(f"The 'is_buy' parameter must be boolean. "
                             f"Got dtype {is_buy.dtype} instead.")
        is_buy = as_vector("is_buy", is_buy, dtype=bool)
        for name, arr in (("quantity", quantity), ("is_buy", is_buy)):
            if arr.shape != price.shape:
                raise ValueError(f"The '{name}' parameter must have the shape of 'price', "
                                 f"{price.shape}. Got {arr.shape} instead.")
        check_values("price", ~np.isfinite(price), price, "finite")
        check_values("quantity", ~(np.isfinite(quantity) & (quantity >= 0)), quantity,
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


class StepCurve:
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


class CurveBase:
    """``Z(x-)`` and ``Z(x+)`` from a continuous linear part and the step orders."""

    tol: float
    step: StepCurve
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


#: The side a clearing rations as a whole ("": none), by ``kernels.book_price``'s code.
WHOLE_SIDES: tuple[str, ...] = ("", "buyers", "sellers")


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


def clearing_price(curve: CurveBase) -> tuple[float, str]:
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


def clearing_at(price: float, whole: str, d: np.ndarray, steps: StepOrders, tol: float,
                totals: tuple | None = None) -> Clearing:
    """Return the clearing at ``price``: linear net demands ``d`` and rationed step orders.

    ``totals`` is ``kernels.net_totals(d)`` if the caller has it; the rules
    are those of ``kernels.fill``.
    """
    d_buy, d_sell, n_buy, n_sell = kernels.net_totals(d) if totals is None else totals
    volume, b_in, s_in, step_fill, step_buyers, step_sellers = kernels.fill(
        float(price), WHOLE_SIDES.index(whole), d_buy, d_sell, steps.price, steps.quantity,
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

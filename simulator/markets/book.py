"""An abatement book: firms' MAC bids for a fixed need, sorted once, cleared many times.

:class:`AbatementBook` holds the firms' needs, MAC slopes and abatement
bounds sorted by kink price, with prefix sums over them; :func:`clear_book`
clears it with any holdings and limit orders in ``O(log n)`` for the price
(``kernels.book_price``) and ``O(n)`` for the fills: the same clearing as
:func:`~simulator.markets.auction.clear_market` of the book's linear orders
(see the auction module's docstring for the rules).
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import ArrayLike

from simulator.markets import kernels
from simulator.markets.clearing import (
    RTOL,
    WHOLE_SIDES,
    Clearing,
    CurveBase,
    StepCurve,
    StepOrders,
    as_vector,
    check_values,
    clearing_at,
)

__all__ = ["AbatementBook", "BookCurve", "clear_book", "empty_book"]


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
        e, b, r = (as_vector(name, v) for name, v in
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
                check_values(name, ~(np.isfinite(arr) & (arr >= 0)), arr, "finite and >= 0")
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

    @property
    def firm_kink(self) -> np.ndarray:
        """Each firm's kink price ``c_i r_i`` in the book's order of firms, yuan per unit."""
        return self._kink

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


class BookCurve(CurveBase):
    """``Z`` of an :class:`AbatementBook` with total holdings ``held`` and step orders.

    :func:`clear_book` finds its clearing price with the compiled
    ``kernels.book_price``; :func:`~simulator.markets.clearing.clearing_price`
    on this curve is the readable form of the same search, which the tests
    hold the kernel to.
    """

    tail_slope = 0.0  # every firm's abatement is bounded

    def __init__(self, book: AbatementBook, held: float, steps: StepOrders) -> None:
        self.book, self.const = book, book.need_total - held
        self.step = StepCurve(steps)
        self.tol = RTOL * (book.size + abs(held) + float(steps.quantity.sum()))

    @functools.cached_property
    def points(self) -> np.ndarray:
        """Sorted breakpoints of ``Z``: the book's kinks, 0 and the step orders' prices."""
        return self.book.points(self.step.prices)

    def linear(self, x: np.ndarray) -> np.ndarray:
        """Net demand of the book's firms at prices ``x >= 0`` (continuous in x)."""
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

    The same clearing as :func:`~simulator.markets.auction.clear_market` with
    the book's linear orders
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
    h = as_vector("holdings", holdings)
    if h.shape != book.need.shape:
        raise ValueError(f"The 'holdings' parameter must have the shape of the book's need, "
                         f"{book.need.shape}. Got {h.shape} instead.")
    if steps is None:
        steps = StepOrders(np.zeros(0), np.zeros(0), np.zeros(0, bool))
    curve = BookCurve(book, float(h.sum()), steps)
    step = curve.step
    price, code = kernels.book_price(book.kink, *book.extra_points(step.prices),
                                     book.reach_below, book.slope_above, curve.const,
                                     step.buy_p, step.buy_q, step.sell_p, step.sell_q, curve.tol)
    whole = WHOLE_SIDES[code]
    # Net demands within rounding of zero (of the firm's own sums) are zero.
    d, *totals = kernels.book_demand(book.need, book.inv_slope, book.reach,
                                     np.ascontiguousarray(h), float(price), RTOL)
    return clearing_at(price, whole, d, steps, curve.tol, totals)


#: The private name of :class:`BookCurve`, kept for callers that used it.
_BookCurve = BookCurve


@functools.cache
def empty_book() -> AbatementBook:
    """Return a book of no firms: limit orders alone clear against it."""
    return AbatementBook(np.zeros(0), np.zeros(0), np.zeros(0))


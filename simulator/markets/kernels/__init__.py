"""Compiled loops of the markets' hot paths.

A scheduled auction touches every participant of a market (up to a third of
all firms) five or six times: its net demand at the clearing price, the trade
in the ledger, its new abatement share and cost, and the engine's unit cost,
intensity and billing correction; building a book, finding its clearing
price and replacing firms at a year end loop over them too. In numpy each of
these is a dozen passes over the participants with a temporary array each;
here each is one pass, compiled by numba (``cache=True``: compiled once per
machine, then loaded from ``__pycache__``; :mod:`.jit`). Every kernel states
the numpy expression it computes, and ``tests/markets/test_kernels.py``
checks each against that expression.

The kernels are grouped by what uses them: building an abatement book
(:mod:`.book`), clearing an auction (:mod:`.clearing`), the ledger's trades
(:mod:`.ledger`), abatement and the engine's per-firm sums
(:mod:`.abatement`), and firm replacement (:mod:`.replacement`). All are
importable from this package.

Arrays are float64 unless said otherwise; ``idx`` arrays are firm indices
(distinct). Sums are taken in index order.
"""

from simulator.markets.kernels.abatement import (
    abate,
    add_scaled_at,
    add_unabated,
    adopt_price,
    gather4,
)
from simulator.markets.kernels.book import book_inputs, book_sums, market_book, resort
from simulator.markets.kernels.clearing import (
    book_demand,
    book_price,
    fill,
    net_totals,
    step_curve,
)
from simulator.markets.kernels.ledger import trade_apply, trade_scan
from simulator.markets.kernels.replacement import select_append, select_append_dropped

__all__ = ["abate", "add_scaled_at", "add_unabated", "adopt_price", "book_demand", "book_inputs",
           "book_price", "book_sums", "fill", "gather4", "market_book", "net_totals", "resort",
           "select_append", "select_append_dropped", "step_curve", "trade_apply",
           "trade_scan"]

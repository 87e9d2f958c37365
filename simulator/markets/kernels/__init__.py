"""Compiled loops of the markets' hot paths (numba); see the modules for each kernel."""

from simulator.markets.kernels.clearing import (
    abate,
    add_scaled_at,
    add_unabated,
    adopt_price,
    book_demand,
    book_inputs,
    book_price,
    book_sums,
    fill,
    gather4,
    market_book,
    net_totals,
    resort,
    select_append,
    select_append_dropped,
    step_curve,
    trade_apply,
    trade_scan,
)

__all__ = ["abate", "add_scaled_at", "add_unabated", "adopt_price", "book_demand", "book_inputs",
           "book_price", "book_sums", "fill", "gather4", "market_book", "net_totals", "resort",
           "select_append", "select_append_dropped", "step_curve", "trade_apply",
           "trade_scan"]

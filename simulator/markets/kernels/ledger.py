"""Compiled loops of the ledger's trades (:meth:`~simulator.markets.ledger.QuotaLedger.trade`).

:func:`trade_scan` checks a trade in one pass, :func:`trade_apply` settles it.
Each states the numpy expression it computes.
"""

from __future__ import annotations

import numpy as np

from simulator.markets.kernels.jit import compiled

__all__ = ["trade_apply", "trade_scan"]


@compiled
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


@compiled
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

"""Compiled loops of abatement and of the per-firm sums the engine takes from the markets.

:func:`adopt_price` moves a market's participants to the abatement share
where their MAC equals the price; :func:`abate` is the engine's side of it
(intensities, unit costs, the billing period's correction), with its
participants' constants gathered by :func:`gather4`; :func:`add_unabated`
books use before abatement and :func:`add_scaled_at` the cost of rights in
the unit cost. Each states the numpy expression it computes.
"""

from __future__ import annotations

import numpy as np

from simulator.markets.kernels.jit import compiled

__all__ = ["abate", "add_scaled_at", "add_unabated", "adopt_price", "gather4"]


@compiled
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


@compiled
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


@compiled
def add_scaled_at(out: np.ndarray, idx: np.ndarray, scale: float, values: np.ndarray) -> None:
    """``out[idx] += scale * values[idx]`` in place (``idx`` distinct)."""
    for i in range(idx.size):
        f = idx[i]
        out[f] += scale * values[f]


@compiled
def gather4(idx: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray):
    """``(a[idx], b[idx], c[idx], d[idx])`` in one pass (any dtypes; strided inputs allowed)."""
    n = idx.size
    out_a, out_b = np.empty(n, a.dtype), np.empty(n, b.dtype)
    out_c, out_d = np.empty(n, c.dtype), np.empty(n, d.dtype)
    for i in range(n):
        f = idx[i]
        out_a[i], out_b[i], out_c[i], out_d[i] = a[f], b[f], c[f], d[f]
    return out_a, out_b, out_c, out_d


@compiled
def add_unabated(out: np.ndarray, va: np.ndarray, intensity: np.ndarray,
                 share: np.ndarray) -> None:
    """``out += va * intensity / (1 - share)`` in place: use before abatement."""
    for i in range(out.size):
        out[i] += va[i] * intensity[i] / (1.0 - share[i])

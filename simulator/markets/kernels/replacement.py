"""Compiled loops of firm replacement at a year end: the kept firms' rows, then the entrants'.

Each states the numpy expression it computes.
"""

from __future__ import annotations

import numpy as np

from simulator.markets.kernels.jit import compiled

__all__ = ["select_append", "select_append_dropped"]


@compiled
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


@compiled
def select_append(values: np.ndarray, keep: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Return ``concatenate([values[keep], new])`` in one pass over ``values``."""
    return select_append_dropped(values, keep, new)[0]

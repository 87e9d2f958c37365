"""Argument checks shared by the investment functions: shapes and values, errors naming them.

Every public function of :mod:`simulator.investment` checks its arrays with
these and raises ``ValueError`` naming the parameter (and the first value
that breaks the rule), before computing anything.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["check", "check_scalar", "per_firm", "vector"]


def vector(name: str, value: ArrayLike, *, dtype: type = float) -> np.ndarray:
    """Return ``value`` as a 1-D array, or raise naming the parameter."""
    arr = np.asarray(value, dtype=dtype)
    if arr.ndim != 1:
        raise ValueError(f"The '{name}' parameter must be 1-D. Got shape {arr.shape} instead.")
    return arr


def per_firm(name: str, value: ArrayLike, n: int) -> np.ndarray:
    """Return ``value`` (a scalar or shape (n,)) as a float array of shape (n,)."""
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        return np.full(n, float(arr))
    if arr.shape != (n,):
        raise ValueError(f"The '{name}' parameter must be a scalar or have shape ({n},). "
                         f"Got shape {arr.shape} instead.")
    return arr


def check(name: str, bad: np.ndarray, values: np.ndarray, rule: str) -> None:
    """Raise naming the parameter and its first value that breaks ``rule``."""
    if bad.any():
        i = np.unravel_index(int(np.flatnonzero(bad)[0]), bad.shape)
        where = i[0] if len(i) == 1 else tuple(int(x) for x in i)
        raise ValueError(f"The '{name}' parameter must be {rule}. "
                         f"Got {values[i].item()!r} at index {where} instead.")


def check_scalar(name: str, value: float, rule: str, ok: bool) -> None:
    """Raise naming the parameter and its value unless ``ok``."""
    if not ok:
        raise ValueError(f"The '{name}' parameter must be {rule}. Got {value!r} instead.")

"""Surcharges by environmental credit rating (环保信用评价: green, blue, yellow, red, black).

Jiangsu rates polluting firms in five colours and prices electricity and sewage
treatment by the rating: red firms pay +0.05 yuan/kWh and at least +0.6 yuan/m^3,
black firms +0.10 yuan/kWh and at least +1.0 yuan/m^3 (Jiangsu price bureau). Mujun
gives each firm a rating drawn once, at the scenario's shares, from a uniform number
keyed by its firm id (:func:`credit_ratings`), and charges the surcharges of
:func:`credit_surcharge` on its kWh and m^3.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["credit_ratings", "credit_surcharge"]


def credit_ratings(uniform: ArrayLike, shares: Sequence[float]) -> np.ndarray:
    """Return each firm's rating code (index into ``CREDIT_RATINGS``) from a uniform draw.

    Parameters
    ----------
    uniform : array_like of float in [0, 1), shape (n,)
        One uniform number per firm.
    shares : sequence of float
        Weights of the ratings, best first (normalised here).

    Examples
    --------
    >>> credit_ratings([0.1, 0.5, 0.95], [1, 1, 0, 0, 1]).tolist()
    [0, 1, 4]
    """
    weights = np.asarray(shares, dtype=np.float64)
    edges = np.cumsum(weights) / weights.sum()
    codes = np.searchsorted(edges, np.asarray(uniform, dtype=np.float64), side="right")
    return np.minimum(codes, len(weights) - 1).astype(np.int8)


def credit_surcharge(quantity: ArrayLike, rating: ArrayLike,
                     per_unit: Sequence[float]) -> np.ndarray:
    """Return each firm's surcharge, yuan: its quantity times its rating's price per unit.

    Examples
    --------
    1,000 kWh of a red firm (+0.05) and of a black firm (+0.10):

    >>> credit_surcharge([1000.0, 1000.0], [3, 4], [0, 0, 0, 0.05, 0.10]).tolist()
    [50.0, 100.0]
    """
    table = np.asarray(per_unit, dtype=np.float64)
    return np.asarray(quantity, dtype=np.float64) * table[np.asarray(rating)]

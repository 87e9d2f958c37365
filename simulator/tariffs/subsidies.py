"""Policy subsidies and awards (财政奖补), withdrawn for low evaluation classes.

Firms receive subsidies and awards worth a share of the tax they paid (rate
estimated); the classes in ``params.withdrawn_for`` (default D, optionally C)
lose them. Unrated firms, outside the evaluation's scope, keep them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from simulator.firms import per_class
from simulator.scenario import CLASSES, Subsidies

__all__ = ["SubsidyResult", "subsidy"]


@dataclass(frozen=True, slots=True, eq=False)
class SubsidyResult:
    """Subsidies per firm, yuan (float64 arrays of length n).

    ``granted_yuan + withheld_yuan = tax * rate_of_tax``.
    """

    granted_yuan: np.ndarray
    """Subsidies and awards paid to the firm."""
    withheld_yuan: np.ndarray
    """What the firm would have received but for its class."""


def subsidy(
    tax_wan_yuan: ArrayLike,
    *,
    klass: ArrayLike,
    params: Subsidies,
) -> SubsidyResult:
    """Return each firm's subsidies and awards, and what its class withheld, in yuan.

    Parameters
    ----------
    tax_wan_yuan : array_like of float, shape (n,)
        Tax paid in the period, 万元 (10^4 yuan).
    klass : array_like of int, shape (n,)
        Evaluation class code (0..3 = A..D, 4 = unrated, which is never withdrawn).
    params : Subsidies
        Subsidy rate and the classes that lose it.

    Returns
    -------
    SubsidyResult
        Granted and withheld amounts, yuan, float64 arrays of shape (n,).

    Examples
    --------
    >>> from simulator.scenario import Subsidies
    >>> r = subsidy([100.0, 100.0], klass=[0, 3], params=Subsidies(rate_of_tax=0.02))
    >>> r.granted_yuan.tolist(), r.withheld_yuan.tolist()
    ([20000.0, 0.0], [0.0, 20000.0])
    """
    entitled = np.asarray(tax_wan_yuan, dtype=np.float64) * (1e4 * params.rate_of_tax)
    withdrawn = tuple(1.0 if c in params.withdrawn_for else 0.0 for c in CLASSES)
    withheld = per_class(withdrawn, klass)
    withheld *= entitled
    return SubsidyResult(granted_yuan=entitled - withheld, withheld_yuan=withheld)

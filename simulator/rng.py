"""One source of randomness: a SeedSequence tree keyed by replication and mechanism.

Each mechanism draws from its own :class:`numpy.random.Generator`, derived
from ``(seed, replication, mechanism name)``. Adding a mechanism therefore
does not shift another's draws, and two scenarios run with the same seed see
the same shocks (common random numbers).
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["mechanism_rng"]


def mechanism_rng(seed: int, replication: int, mechanism: str) -> np.random.Generator:
    """Return the generator of one mechanism in one replication.

    Parameters
    ----------
    seed : int
        The scenario seed (root of the tree).
    replication : int
        Replication index (0-based).
    mechanism : str
        Stable mechanism name, e.g. ``"population"`` or ``"shock"``.

    Returns
    -------
    numpy.random.Generator
        A PCG64 generator; the same arguments always give the same stream.
    """
    key = (int(replication), zlib.crc32(mechanism.encode("utf-8")))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


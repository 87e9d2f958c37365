"""Tidy outcome metrics: one row per (year, month, scenario, replication, group, metric).

During a run the engine appends plain records to a :class:`MetricsRecorder`;
the DataFrame is built once at the end. ``month`` is null for annual values
and 1..12 for monthly ones. ``group`` is ``"all"`` (all industrial firms) or
``"<dimension>=<value>"`` (``class``, ``scale``, ``kind``, ``sector``,
``region``), or ``"<from>-><to>"`` for class transitions.

:data:`METRICS` maps each metric of the catalogue (:mod:`simulator.catalogue`,
``entries.yaml``) to its unit and definition; the README's output reference
is generated from it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from simulator import catalogue

__all__ = ["METRICS", "GroupSet", "Grouping", "MetricsRecorder", "ratio"]

#: Every metric: name -> (unit, definition), in catalogue order (simulator/catalogue).
METRICS: dict[str, tuple[str, str]] = {
    e.name: (e.unit, e.definition) for e in catalogue.entries() if e.is_metric}


def _in_family(metric: str) -> bool:
    """Whether ``metric`` is a member of a family metric (e.g. a further pollutant's)."""
    family = catalogue.family_of(metric)
    return family is not None and family.is_metric


class Grouping:
    """Firms' membership in the groups of one dimension, for repeated group sums.

    Each firm's group index is computed once; excluded firms go to a spare
    group that is never reported. Sum with :class:`GroupSet`.

    Parameters
    ----------
    names : sequence of str
        Group names, e.g. ``["class=A", ...]``.
    codes : ndarray of int
        Group code per firm, 0..len(names)-1.
    include : ndarray of bool, optional
        Firms that belong to some group (others are left out of every sum).
    """

    def __init__(self, names: Sequence[str], codes: np.ndarray,
                 include: np.ndarray | None = None):
        self.names = list(names)
        k = len(self.names)
        idx = np.asarray(codes, dtype=np.intp)
        if include is not None:
            idx = np.where(include, idx, k)
        self._idx = idx
        self._k = k


class GroupSet:
    """Several groupings of the same firms, summed together in one pass.

    Holds the sparse membership matrix of all groupings (one non-zero per
    firm and grouping); :meth:`sums` multiplies it by each column, so each
    column is read once instead of once per grouping. Build it once and reuse
    it while group membership does not change.

    Parameters
    ----------
    groupings : sequence of Grouping
        The groupings (each firm is in at most one group of each).
    """

    def __init__(self, groupings: Sequence[Grouping]):
        self.groupings = list(groupings)
        n = self.groupings[0]._idx.shape[0]
        sizes = [g._k + 1 for g in self.groupings]
        self._offsets = np.concatenate(([0], np.cumsum(sizes)))
        g_count = len(self.groupings)
        rows = np.empty((n, g_count), dtype=np.int32)
        for j, g in enumerate(self.groupings):
            rows[:, j] = g._idx + self._offsets[j]
        self._membership = sparse.csc_matrix(
            (np.ones(rows.size), rows.ravel(), np.arange(0, rows.size + 1, g_count)),
            shape=(int(self._offsets[-1]), n),
        )


    def sums(self, columns: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Group sums of each column.

        Parameters
        ----------
        columns : sequence of ndarray
            Per-firm values, each of length n.

        Returns
        -------
        list of ndarray
            One array per grouping, shape ``(len(grouping.names), len(columns))``.
        """
        # One sparse matrix-vector product per column: measured faster than stacking
        # the columns (a strided copy) at 10^5 and 10^6 firms, and no n x k temporary.
        totals = np.column_stack([self._membership @ column for column in columns])
        off = self._offsets
        return [totals[off[j]: off[j] + g._k] for j, g in enumerate(self.groupings)]


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """Elementwise num/den, NaN where den is zero."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


class MetricsRecorder:
    """Collects metric records during a run and builds the tidy table once."""

    def __init__(self, scenario: str, replication: int):
        self.scenario = scenario
        self.replication = replication
        self._year: list[int] = []
        self._month: list[int] = []
        self._group: list[str] = []
        self._metric: list[str] = []
        self._value: list[float] = []

    def add(self, year: int, month: int, groups: Sequence[str], metric: str,
            values: Sequence[float] | np.ndarray) -> None:
        """Record one metric for several groups (``month`` 0 means annual)."""
        if metric not in METRICS and not _in_family(metric):
            raise KeyError(f"unknown metric {metric!r}; add it to the catalogue "
                           "(simulator/catalogue/entries.yaml)")
        values = np.asarray(values, dtype=float).ravel()
        k = len(groups)
        self._year.extend([year] * k)
        self._month.extend([month] * k)
        self._group.extend(groups)
        self._metric.extend([metric] * k)
        self._value.extend(values.tolist())

    def increase(self, year: int, month: int, groups: Sequence[str], metric: str,
                 deltas: Sequence[float] | np.ndarray) -> None:
        """Add ``deltas`` to rows recorded before (the latest of each group), for late flows.

        Raises KeyError if a group has no such row.
        """
        deltas = np.asarray(deltas, dtype=float).ravel()
        for group, delta in zip(groups, deltas, strict=True):
            for k in range(len(self._metric) - 1, -1, -1):
                if (self._metric[k] == metric and self._group[k] == group
                        and self._year[k] == year and self._month[k] == month):
                    self._value[k] += float(delta)
                    break
            else:
                raise KeyError(f"no row of {metric!r} for {group!r} in {year}/{month}")

    def frame(self) -> pd.DataFrame:
        """Return the tidy metrics table."""
        month = pd.array(self._month, dtype="Int8")
        month[month == 0] = pd.NA
        return pd.DataFrame({
            "year": np.asarray(self._year, dtype=np.int16),
            "month": month,
            "scenario": pd.Series([self.scenario] * len(self._year), dtype="string"),
            "replication": np.full(len(self._year), self.replication, dtype=np.int32),
            "group": pd.Series(self._group, dtype="string"),
            "metric": pd.Series(self._metric, dtype="string"),
            "value": np.asarray(self._value, dtype=np.float64),
        })

"""Ranks and classes A-D: ranking within groups, the class rule, veto and protection.

Firms are ranked within their ranking group by score, ties broken by
``firm_id``; :func:`rank_and_classify` then gives class A-D by the group's
class shares or by score thresholds, puts vetoed firms (一票否决) that would
be A or B in C and protected firms (start-ups) that would be D in C.
:func:`transition_counts` counts the moves between classes from one year to
the next. The rules are stated in :mod:`simulator.evaluation`.
"""

from __future__ import annotations

import numpy as np

from simulator.evaluation.inputs import EvaluationInput
from simulator.firms import CLASS_LABELS, UNRATED
from simulator.scenario import EvaluationSpec

__all__ = ["rank_and_classify", "rank_and_grade", "transition_counts"]

# Slack for floor(x + 0.5) when x = n * (cumulative share) carries float error.
_ROUNDING_TOLERANCE = 1e-9


def rank_and_classify(
    score: np.ndarray, group: np.ndarray, n_groups: int, in_scope: np.ndarray,
    inp: EvaluationInput, params: EvaluationSpec,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (rank, group size, class code) per firm, after veto and protection.

    Firms must be in ``firm_id`` order. Out of scope: rank 0, group size 0,
    class ``UNRATED``.
    """
    rank, group_size, klass = rank_and_grade(score, group, n_groups, in_scope, inp, params)
    protected = np.asarray(inp.protected, dtype=bool) & in_scope
    klass[protected & (klass == 3)] = 2  # start-ups are not put in D (Changle 2023)
    return rank, group_size, klass


def rank_and_grade(
    score: np.ndarray, group: np.ndarray, n_groups: int, in_scope: np.ndarray,
    inp: EvaluationInput, params: EvaluationSpec,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (rank, group size, class code) per firm, after the veto, before protection.

    :func:`rank_and_classify` without protection, for the further rules
    (:func:`simulator.evaluation.rules.apply_class_rules`) to come between.
    """
    n = score.shape[0]
    rank, sizes = _rank_within_groups(score, group, n_groups)
    group_size = np.zeros(n, dtype=np.int64)
    group_size[in_scope] = sizes[group[in_scope]]
    klass = np.full(n, UNRATED, dtype=np.int8)
    klass[in_scope] = _classify(score[in_scope], rank[in_scope], group_size[in_scope], params)
    vetoed = np.asarray(inp.vetoed, dtype=bool) & in_scope
    klass[vetoed & (klass <= 1)] = 2  # 一票否决: cannot be A or B (Changle 2023)
    return rank, group_size, klass


def _rank_within_groups(
    score: np.ndarray, group: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """Return (rank per firm, size per group); rank 1 = highest score.

    Firms must be in ``firm_id`` order: stable sorts then break ties in score
    by ``firm_id``, like ``np.lexsort((firm_id, -score, group))`` but faster.
    """
    rank = np.zeros(score.shape[0], dtype=np.int64)
    idx = np.flatnonzero(group >= 0)
    g = group[idx]
    by_score = _argsort_descending(score[idx])
    small = np.int16 if n_groups <= np.iinfo(np.int16).max else np.int64  # radix sort
    order = by_score[np.argsort(g[by_score].astype(small), kind="stable")]
    sizes = np.bincount(g, minlength=n_groups)
    starts = np.cumsum(sizes) - sizes
    rank[idx[order]] = np.arange(idx.size) - starts[g[order]] + 1
    return rank, sizes


def _argsort_descending(values: np.ndarray) -> np.ndarray:
    """Return the indices that sort ``values`` descending, ties in index order.

    Same as ``np.argsort(-values, kind="stable")``, but an unstable (faster)
    sort followed by a stable re-sort of the tied runs only.
    """
    order = np.argsort(-values)
    ordered = values[order]
    new_run = np.empty(values.shape[0], dtype=bool)
    new_run[:1] = True
    new_run[1:] = ordered[1:] != ordered[:-1]
    run = np.cumsum(new_run)
    tied = ~new_run
    tied[:-1] |= ~new_run[1:]  # every member of a run of two or more
    if tied.any():
        pos = np.flatnonzero(tied)
        tied_order = order[pos]
        # (run, index) as one unique int64, so an unstable sort is enough.
        order[pos] = tied_order[np.argsort(run[pos] * values.shape[0] + tied_order)]
    return order


def _classify(
    score: np.ndarray, rank: np.ndarray, group_size: np.ndarray, params: EvaluationSpec
) -> np.ndarray:
    """Return class codes 0..3 of in-scope firms, before veto and protection."""
    spec = params.classification
    if spec.method == "shares":
        a, b, c, _ = spec.shares.as_tuple()
        x = group_size[:, None] * np.array([a, a + b, a + b + c])
        # Round half up: floor(x + 0.5), with slack for float error in the sums.
        cuts = np.floor(x + 0.5 + _ROUNDING_TOLERANCE * group_size[:, None])
        code = (rank > cuts[:, 0]).astype(np.int8) + (rank > cuts[:, 1]) + (rank > cuts[:, 2])
    else:
        t = spec.thresholds
        code = (score < t.A).astype(np.int8) + (score < t.B) + (score < t.C)
    return code.astype(np.int8)


def transition_counts(previous: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Count firms by (previous class, current class).

    Parameters
    ----------
    previous, current : ndarray of int
        Class codes 0..3 (A..D) or ``UNRATED`` (4) of the same firms in two
        consecutive years.

    Returns
    -------
    ndarray of int64, shape (5, 5)
        ``counts[i, j]`` firms went from class ``CLASS_LABELS[i]`` to
        ``CLASS_LABELS[j]`` (rows and columns A, B, C, D, U).

    Raises
    ------
    ValueError
        If the arrays differ in shape or hold a code outside 0..4.
    """
    previous = np.asarray(previous, dtype=np.int64)
    current = np.asarray(current, dtype=np.int64)
    k = len(CLASS_LABELS)
    if previous.shape != current.shape:
        raise ValueError(
            f"previous and current must have the same shape. Got {previous.shape} and "
            f"{current.shape} instead."
        )
    for name, codes in (("previous", previous), ("current", current)):
        if codes.size and (codes.min() < 0 or codes.max() >= k):
            raise ValueError(
                f"The '{name}' codes must be in 0..{k - 1}. "
                f"Got {codes.min()}..{codes.max()} instead."
            )
    return np.bincount(previous * k + current, minlength=k * k).reshape(k, k)


"""The golden runs: the redesign of issue 17 keeps every number (tests/golden/).

``tests/golden/make_golden.py`` recorded, before any code moved, three runs (the
default scenario and two variants, fixed seeds) with every metric and every column
of every firm snapshot, and digests of the default scenario's full-size run. These
tests rerun them and require identical values.

``TOLERANCE`` lists the columns allowed to differ by a relative 1e-12 (where a sum's
order changed), each with its reason; it is empty: every value is bit for bit the same.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.golden.make_golden import GOLDEN_RUNS, HERE, digests, full_default_run, golden_run

#: column (``metric:<name>`` or ``firms:<column>``) -> reason it may differ by 1e-12 relative.
TOLERANCE: dict[str, str] = {}

_KEYS = ["year", "month", "group", "metric"]


def _same(name: str, got: np.ndarray, want: np.ndarray) -> str | None:
    """Return a description of the first difference, or None when the values agree."""
    if got.shape != want.shape:
        return f"{name}: {got.shape[0]} values, golden {want.shape[0]}"
    if got.dtype.kind in "fc" or want.dtype.kind in "fc":
        g, w = got.astype(float), want.astype(float)
        rtol = 1e-12 if name in TOLERANCE else 0.0
        ok = np.isclose(g, w, rtol=rtol, atol=0.0, equal_nan=True) | (g == w)
    else:
        ok = got == want
    if ok.all():
        return None
    i = int(np.flatnonzero(~ok)[0])
    return (f"{name}: {np.count_nonzero(~ok)} values differ, first at row {i}: "
            f"{got[i]!r} != {want[i]!r}")


@pytest.mark.parametrize("name", list(GOLDEN_RUNS))
def test_golden_run_is_reproduced(name):
    metrics, firms = golden_run(name)
    want_metrics = pd.read_parquet(HERE / f"{name}.metrics.parquet")
    want_firms = pq.read_table(HERE / f"{name}.firms.parquet")

    got = metrics.sort_values(_KEYS, kind="stable").reset_index(drop=True)
    want = want_metrics.sort_values(_KEYS, kind="stable").reset_index(drop=True)
    problems = []
    if not got[_KEYS].equals(want[_KEYS]):
        problems.append(f"the metric rows differ ({len(got)} rows, golden {len(want)})")
    else:
        for metric, rows in got.groupby("metric", sort=True):
            want_rows = want.loc[rows.index, "value"].to_numpy()
            problem = _same(f"metric:{metric}", rows["value"].to_numpy(), want_rows)
            if problem:
                problems.append(problem)

    assert firms.column_names == want_firms.column_names
    for column in want_firms.column_names:
        g, w = firms.column(column), want_firms.column(column)
        if g.type != w.type:
            problems.append(f"firms:{column}: type {g.type}, golden {w.type}")
            continue
        if pa.types.is_dictionary(g.type):
            g, w = g.cast(g.type.value_type), w.cast(w.type.value_type)
        problem = _same(f"firms:{column}", g.to_numpy(zero_copy_only=False),
                        w.to_numpy(zero_copy_only=False))
        if problem:
            problems.append(problem)
    assert not problems, "\n".join(problems)


def test_full_size_default_run_is_reproduced():
    want = json.loads((HERE / "baseline_full.digests.json").read_text())
    got = digests(*full_default_run())
    assert sorted(got) == sorted(want)
    changed = [key for key in want if got[key] != want[key]]
    assert not changed, f"{len(changed)} series changed: {changed[:10]}"

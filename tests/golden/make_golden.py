"""Record the golden runs that the redesign of issue 17 must reproduce.

Run once, before any code moves (``python tests/golden/make_golden.py``); the
files it writes are the fixture of ``tests/test_golden.py``. Rerun it only to
accept a deliberate change of the model's numbers, and say so in the commit.

Each golden run is a scenario shipped in ``scenarios/`` at a fixed seed and
replication, on a smaller population than the default's 6,500 firms so the
fixture stays small (every other parameter as shipped). For each run the
fixture holds every metric (``<name>.metrics.parquet``) and every column of
every firm snapshot (``<name>.firms.parquet``). The default scenario at its full
size is recorded as a SHA-256 digest of each metric series and of each firm
column (``baseline_full.digests.json``).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

#: name -> (scenario file, seed, replication, population overrides)
GOLDEN_RUNS: dict[str, tuple[str, int, int, dict]] = {
    # The embedded default: every mechanism on (tariffs, five quota markets, dynamics).
    "baseline": ("scenarios/baseline.yaml", 20170101, 0,
                 {"population.n_industrial": 600, "population.n_services": 150}),
    # A timeline change (D surcharge +0.3 yuan/kWh from 2019), another replication.
    "strict_d_2019": ("scenarios/strict_d_2019.yaml", 7, 1,
                      {"population.n_industrial": 500, "population.n_services": 100}),
    # Tighter emission caps: markets in scarcity, reserve releases, shortfalls and vetoes.
    "emission_cap_tight": ("scenarios/emission_cap_tight.yaml", 11, 0,
                           {"population.n_industrial": 500, "population.n_services": 100}),
}


def golden_run(name: str) -> tuple[pd.DataFrame, pa.Table]:
    """Run one golden scenario; return its metrics and its firm snapshots."""
    from simulator import load_scenario, simulate

    path, seed, replication, overrides = GOLDEN_RUNS[name]
    scenario = load_scenario(ROOT / path, overrides={"seed": seed, **overrides})
    snapshots: list[pa.Table] = []
    result = simulate(scenario, replication=replication, on_snapshot=snapshots.append)
    return result.metrics, pa.concat_tables(snapshots)


def digests(metrics: pd.DataFrame, firms: pa.Table) -> dict[str, str]:
    """Return a SHA-256 digest of each metric's values and of each firm column.

    Metric rows are put in a canonical order first (year, month, group, metric);
    a firm column's digest covers its type and its values (dictionary columns
    by their decoded values).
    """
    out: dict[str, str] = {}
    keys = ["year", "month", "group", "metric"]
    ordered = metrics.sort_values(keys, kind="stable").reset_index(drop=True)
    for metric, rows in ordered.groupby("metric", sort=True):
        h = hashlib.sha256()
        h.update(pd.util.hash_pandas_object(rows[keys], index=False).to_numpy().tobytes())
        h.update(rows["value"].to_numpy(dtype="float64").tobytes())
        out[f"metric:{metric}"] = h.hexdigest()
    for name in firms.column_names:
        column = firms.column(name)
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        h = hashlib.sha256(str(column.type).encode())
        h.update(pd.util.hash_pandas_object(
            pd.Series(column.to_numpy(zero_copy_only=False)), index=False).to_numpy().tobytes())
        out[f"firms:{name}"] = h.hexdigest()
    return out


def full_default_run() -> tuple[pd.DataFrame, pa.Table]:
    """Run the embedded default scenario as shipped (seed, size), replication 0."""
    from simulator import load_scenario, simulate
    from simulator.scenario import default_scenario_path

    snapshots: list[pa.Table] = []
    result = simulate(load_scenario(default_scenario_path()), on_snapshot=snapshots.append)
    return result.metrics, pa.concat_tables(snapshots)


def main() -> int:
    for name in GOLDEN_RUNS:
        metrics, firms = golden_run(name)
        metrics.to_parquet(HERE / f"{name}.metrics.parquet", compression="zstd", index=False)
        pq.write_table(firms, HERE / f"{name}.firms.parquet", compression="zstd")
        line = (f"{name}: {len(metrics)} metric rows, {firms.num_rows} firm-years x "
                f"{firms.num_columns} columns")
        print(line)  # noqa: T201 (a script)
    record = digests(*full_default_run())
    (HERE / "baseline_full.digests.json").write_text(json.dumps(record, indent=1) + "\n")
    print(f"baseline (full size): {len(record)} digests")  # noqa: T201 (a script)
    return 0


if __name__ == "__main__":
    sys.exit(main())

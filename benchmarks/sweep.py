"""Wall time of a sweep: issue 6's target is a 1,000-run Sobol sweep of 10^4 firms x 10 years
in under 10 minutes on the project machine (2 cores).

Runs ``scenarios/sweep_sobol_levers.yaml`` (128 base samples x (6 parameters + 2) = 1,024
runs) into a temporary directory with the local process pool and prints the figures: runs,
wall time, runs per minute, the mean simulation time per run, and the peak memory of the
process that writes the results.

Usage::

    python benchmarks/sweep.py                        # the full 1,024-run sweep, all CPUs
    python benchmarks/sweep.py --workers 1
    python benchmarks/sweep.py --sweep tests/scenarios/sweep_small.yaml
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sweep", default=str(ROOT / "scenarios" / "sweep_sobol_levers.yaml"))
    p.add_argument("--workers", type=int, help="worker processes (default: all CPUs)")
    args = p.parse_args()

    from simulator.experiment import sweep
    from simulator.experiment.executors import default_workers
    from simulator.sweep import load_sweep

    problem = load_sweep(args.sweep)
    workers = args.workers or default_workers()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        outputs = sweep(problem, out=Path(tmp) / "sweep", workers=workers, figures=False)
        wall = time.perf_counter() - started
        run_walls = [json.loads(m.read_text())["wall_time_s"]
                     for m in (Path(tmp) / "sweep" / "runs").glob("*/manifest.json")]
        firms = json.loads(next((Path(tmp) / "sweep" / "runs").glob("*/manifest.json"))
                           .read_text())["firms"]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "sweep": problem.name,
        "design": problem.spec.design,
        "runs": len(outputs),
        "firms_at_end_of_first_run": firms,
        "years": problem.scenario.run.n_months // 12,
        "workers": workers,
        "wall_s": round(wall, 1),
        "runs_per_min": round(60 * len(outputs) / wall, 1),
        "mean_simulation_s_per_run": round(sum(run_walls) / len(run_walls), 3),
        "writer_peak_rss_mb": round(peak_mb, 1),
    }, indent=2))


if __name__ == "__main__":
    main()

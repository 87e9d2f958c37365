"""Throughput and memory of the simulator: firm-months per second, peak memory per firm.

Runs the baseline scenario's mechanisms (billing with every tariff, output
response, annual evaluation, metrics) for 10^4, 10^5 and 10^6 firms over ten
years. Each size runs in a fresh subprocess so that its peak resident memory
(ru_maxrss) is its own; memory per firm is (peak RSS - RSS after imports) / n.

Usage::

    python benchmarks/throughput.py                 # all sizes, all mechanisms
    python benchmarks/throughput.py --no-markets    # without the five quota markets
    python benchmarks/throughput.py --no-dynamics   # without investment, exit, entry, land
    python benchmarks/throughput.py --years 15 --sizes 100000   # issue 5's target run
    python benchmarks/throughput.py --snapshots     # also stream firms.parquet to disk
    python benchmarks/throughput.py --sizes 10000 100000
    python benchmarks/throughput.py --sizes 100000 --overhead 7   # what the markets add
    python benchmarks/throughput.py --sizes 100000 --overhead 7 --few-traders

``--overhead R`` runs R pairs of subprocesses, with and without the five
quota markets, so that the machine's drift hits both alike: one pair after
another, the markets' run first in every other pair (ABBA), so that neither
side always runs second. It prints what the markets add: from the best run of
each, and the median of the R paired ratios with its 95% bootstrap interval
(pairs resampled, scipy.stats.bootstrap, fixed seed) and their range.
``--few-traders`` raises every market's scope (energy 20,000 tce a year,
20 t a year of each pollutant) so that only a few hundred of 10^5 firms take
part: what the markets cost whatever the number of traders (their fixed
costs and their per-firm arrays).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
YEARS = 10
# --few-traders: scopes that leave a few hundred of 10^5 firms in each market (none in NH3-N).
FEW_TRADERS = {"markets.energy.scope_min_use_per_year": 20_000.0,
               **{f"markets.emissions.{p}.scope_min_use_per_year": 20.0
                  for p in ("cod", "nh3n", "so2", "nox")}}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one(n: int, snapshots: bool, markets: bool = True, years: int = YEARS,
        dynamics: bool = True, few_traders: bool = False) -> dict:
    import numpy as np  # noqa: F401  (imports count in the baseline RSS)

    from simulator.engine import simulate
    from simulator.results import RunDirectory
    from simulator.scenario import apply_changes, load_scenario

    scenario = apply_changes(load_scenario(ROOT / "scenarios" / "baseline.yaml"), {
        "population.n_industrial": int(n * 0.8),
        "population.n_services": n - int(n * 0.8),
        "run.end": f"{2017 + years - 1}-12",
        "output.firm_snapshots": snapshots,
    })
    if not markets:
        scenario = apply_changes(scenario, {"markets.energy.enabled": False,
                                            "markets.emissions": {}})
    if not dynamics:
        scenario = apply_changes(scenario, {"dynamics.enabled": False})
    # Warm-up: three years of 100 firms of the same scenario load the compiled market
    # kernels (numba's cache) and first-use code paths, so the timing is of the
    # simulation. Three, because renewing bids after an upgrade first happens in the
    # third year (one year left a kernel to load, ~6 ms, inside the timing).
    started = time.perf_counter()
    simulate(apply_changes(scenario, {"population.n_industrial": 80,
                                      "population.n_services": 20, "run.end": "2019-12",
                                      "timeline": []}))
    warm_up = time.perf_counter() - started
    if few_traders and markets:  # after the warm-up: with them, few kernels would run in it
        scenario = apply_changes(scenario, FEW_TRADERS)
    base_rss = _rss_mb()
    started = time.perf_counter()
    if snapshots:
        with tempfile.TemporaryDirectory() as tmp, RunDirectory(Path(tmp) / "run") as run:
            result = simulate(scenario, on_snapshot=run.write_snapshot)
            run.write_metrics(result.metrics)
    else:
        result = simulate(scenario)
    wall = time.perf_counter() - started
    peak = _rss_mb()
    firm_months = n * years * 12
    return {
        "firms": n,
        "years": years,
        "dynamics": dynamics,
        "few_traders": few_traders,
        "snapshots": snapshots,
        "markets": markets,
        "wall_s": round(wall, 3),
        "warm_up_s": round(warm_up, 3),
        "firm_months_per_s": round(firm_months / wall),
        "peak_rss_mb": round(peak, 1),
        "bytes_per_firm": round((peak - base_rss) * 1024 * 1024 / n),
        "state_bytes_per_firm": round(result.firms.nbytes() / n),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--snapshots", action="store_true")
    parser.add_argument("--no-markets", action="store_true",
                        help="switch the quota markets off (to measure what they cost)")
    parser.add_argument("--no-dynamics", action="store_true",
                        help="switch investment, exit, entry and land off (issues 3 and 4)")
    parser.add_argument("--few-traders", action="store_true",
                        help="raise the markets' scopes so that only a few hundred firms trade")
    parser.add_argument("--years", type=int, default=YEARS, help="years simulated (default 10)")
    parser.add_argument("--overhead", type=int, metavar="R",
                        help="R alternating pairs of runs with and without markets; "
                             "print what the markets add")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.snapshots, not args.no_markets, args.years,
                             not args.no_dynamics, args.few_traders)))
        return
    if args.overhead:
        for n in args.sizes:
            _overhead(n, args)
        return
    print(f"{'firms':>9} {'years':>5} {'wall s':>8} {'firm-months/s':>14} "
          f"{'peak RSS MB':>11} {'bytes/firm':>10} {'state B/firm':>12} {'warm-up s':>9}")
    for n in args.sizes:
        r = _run(n, args, markets=not args.no_markets)
        print(f"{r['firms']:>9,} {r['years']:>5} {r['wall_s']:>8.2f} "
              f"{r['firm_months_per_s']:>14,} {r['peak_rss_mb']:>11.0f} "
              f"{r['bytes_per_firm']:>10,} {r['state_bytes_per_firm']:>12,} "
              f"{r['warm_up_s']:>9.2f}")


def _run(n: int, args: argparse.Namespace, *, markets: bool) -> dict:
    """Run one size in a fresh subprocess; return its figures."""
    cmd = [sys.executable, __file__, "--one", str(n), "--years", str(args.years)]
    if args.snapshots:
        cmd.append("--snapshots")
    if not markets:
        cmd.append("--no-markets")
    if args.no_dynamics:
        cmd.append("--no-dynamics")
    if args.few_traders:
        cmd.append("--few-traders")
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _overhead(n: int, args: argparse.Namespace) -> None:
    """What the markets add at ``n`` firms, from ``args.overhead`` alternating pairs of runs."""
    print(f"{'firms':>9} {'years':>5} {'pair':>4} {'markets s':>9} {'none s':>8} {'added':>7}")
    on, off = [], []
    for k in range(args.overhead):
        first = k % 2 == 0  # ABBA: the markets' run goes first in every other pair
        wall = {markets: _run(n, args, markets=markets)["wall_s"]
                for markets in (first, not first)}
        on.append(wall[True])
        off.append(wall[False])
        print(f"{n:>9,} {args.years:>5} {k + 1:>4} {on[-1]:>9.2f} {off[-1]:>8.2f} "
              f"{on[-1] / off[-1] - 1:>7.1%}")
    ratios = [a / b - 1 for a, b in zip(on, off, strict=True)]
    low, high = median_interval(ratios)
    print(f"markets add {min(on) / min(off) - 1:.1%} (best {min(on):.2f} s against "
          f"{min(off):.2f} s); paired median {statistics.median(ratios):.1%} "
          f"(95% interval {low:.1%} to {high:.1%}), range {min(ratios):.1%} to "
          f"{max(ratios):.1%} ({len(ratios)} pairs)")


def median_interval(values: list[float], *, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the median of ``values`` (fixed seed: reproducible).

    NaN bounds for fewer than two values, where no interval can be drawn.
    """
    if len(values) < 2:
        return float("nan"), float("nan")
    import numpy as np
    from scipy import stats

    result = stats.bootstrap((np.asarray(values, dtype=float),), np.median,
                             confidence_level=level, n_resamples=10_000,
                             method="percentile", random_state=0)
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


if __name__ == "__main__":
    main()

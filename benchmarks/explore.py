"""How fast the explorer answers a moved lever (``python run.py explore``).

    python benchmarks/explore.py [SCENARIO] [--firms N] [--replications R] [--moves K]

Builds the explorer's app state for SCENARIO (default: the embedded baseline)
at its run size, computes the baseline once (timed), then moves the class D
electricity surcharge to K values never seen before and times, for each, what
the page waits for: the first answer (the variant's runs, the difference table
and the end-year differences figure, as the app's first callback makes them)
and then the other figures. A value seen before is answered from the cache;
that time is printed too. No browser: the Dash callbacks call the same
function (:func:`simulator.explore.app.variant_view`), and the browser adds a
page update of a few milliseconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulator.explore.app import variant_view  # noqa: E402
from simulator.explore.figures import FIGURES  # noqa: E402
from simulator.explore.runs import DEFAULT_FIRMS, DEFAULT_REPLICATIONS, Explorer  # noqa: E402
from simulator.scenario import load_scenario  # noqa: E402
from simulator.scenario.loading import default_scenario_path  # noqa: E402

LEVER = "tariffs.electricity.class_surcharge_yuan_per_kwh.D"


def main() -> None:
    """Time the baseline and K lever moves; print each and the summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default=str(default_scenario_path()))
    parser.add_argument("--firms", type=int, default=DEFAULT_FIRMS)
    parser.add_argument("--replications", type=int, default=DEFAULT_REPLICATIONS)
    parser.add_argument("--moves", type=int, default=5)
    args = parser.parse_args()

    explorer = Explorer(load_scenario(args.scenario), firms=args.firms,
                        replications=args.replications)
    (key,) = [lv.key for lv in explorer.levers if lv.path == LEVER]
    started = time.perf_counter()
    explorer.base_metrics()
    print(f"{explorer.size.firms:,} firms, {explorer.size.replications} replications: "
          f"baseline {time.perf_counter() - started:.2f} s")
    first, rest = [], []
    for k in range(args.moves):
        value = round(0.35 + 0.1 * k, 2)
        started = time.perf_counter()
        view = variant_view(explorer, {key: value}, names=FIGURES[:1])
        first.append(time.perf_counter() - started)
        started = time.perf_counter()
        variant_view(explorer, {key: value}, names=FIGURES[1:], table=False)
        rest.append(time.perf_counter() - started)
        assert not view["error"], view["status"]
        print(f"D surcharge {value:.2f}: first answer {first[-1]:.2f} s "
              f"(runs {view['seconds']:.2f} s), other figures {rest[-1]:.2f} s")
    started = time.perf_counter()
    variant_view(explorer, {key: 0.35}, names=FIGURES[:1])
    print(f"a value seen before: {time.perf_counter() - started:.2f} s")
    every = [a + b for a, b in zip(first, rest, strict=True)]
    print(f"median first answer {statistics.median(first):.2f} s (max {max(first):.2f}); "
          f"median all figures {statistics.median(every):.2f} s")


if __name__ == "__main__":
    main()

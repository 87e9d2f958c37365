"""Paired before/after throughput of the default scenario: two trees, ABBA order.

Usage: ``python benchmarks/paired.py BEFORE_TREE AFTER_TREE [--firms N] [--pairs P]``

Each run is ``benchmarks/throughput.py --one N`` of its tree in a fresh process
(``PYTHONPATH`` set to the tree), the pairs in ABBA order so that the machine's drift
hits both sides alike. Prints each run, each side's median and best wall time, and the
after/before ratio of each pair with their median (the figure to quote).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

FIELDS = ("wall_s", "peak_rss_mb", "bytes_per_firm", "firm_months_per_s")


def one(tree: Path, firms: int) -> dict[str, float]:
    """Run ``tree``'s throughput benchmark once for ``firms`` firms; return its figures."""
    env = dict(os.environ, PYTHONPATH=str(tree), NUMBA_CACHE_DIR=f"/tmp/numba-{tree.name}")
    out = subprocess.run([sys.executable, str(tree / "benchmarks" / "throughput.py"), "--one",
                          str(firms)], capture_output=True, text=True, env=env, cwd=tree,
                         check=False)
    if out.returncode:
        raise SystemExit(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="the tree before the change (a worktree)")
    parser.add_argument("after", type=Path, help="the tree after it")
    parser.add_argument("--firms", type=int, default=100_000)
    parser.add_argument("--pairs", type=int, default=4)
    args = parser.parse_args()
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    for tree in trees.values():  # compile and cache the market kernels of both trees
        one(tree, 2000)
    results: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for k in range(args.pairs):
        for side in (("before", "after") if k % 2 == 0 else ("after", "before")):
            r = one(trees[side], args.firms)
            results[side].append(r)
            print(side, args.firms, {key: r[key] for key in FIELDS if key in r}, flush=True)
    for side, runs in results.items():
        wall = [r["wall_s"] for r in runs]
        print(f"{side}: wall median {statistics.median(wall):.2f} s, best {min(wall):.2f} s")
    ratios = [a["wall_s"] / b["wall_s"] for a, b in zip(results["after"], results["before"],
                                                        strict=True)]
    print("after/before wall ratios", [round(x, 3) for x in ratios],
          "median", round(statistics.median(ratios), 3))


if __name__ == "__main__":
    main()

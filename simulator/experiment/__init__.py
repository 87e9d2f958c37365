"""Experiments: runs, replications, scenario comparisons and parameter sweeps.

* :func:`run_scenario` simulates a scenario (``replications`` times, with the
  replication index selecting the random streams) into one run directory,
  written atomically (:mod:`~simulator.experiment.runs`).
* :func:`compare` runs several scenarios with the same seed and replications
  (common random numbers: replication ``k`` of every scenario sees the same
  shocks), then writes each scenario's means with 95% intervals, the paired
  differences to the first scenario, a table of key outcomes and figures
  (:mod:`~simulator.experiment.comparison`).
* :func:`sweep` runs a sweep file's design (grid, Latin hypercube or
  Sobol'/Saltelli, see :mod:`simulator.sweep`) and returns one row per run;
  Sobol designs also get first-order and total indices
  (:mod:`~simulator.experiment.sweeps`).

Comparisons and sweeps write into an :class:`ExperimentDirectory`
(:mod:`~simulator.experiment.directory`) whose path does not depend on the
time, so that rerunning the same command resumes: each finished run is a
directory renamed into place when complete (``runs/<id>``), and a rerun skips
those and runs the rest. Runs are computed by :mod:`simulator.experiment.executors` (this
process, a local process pool or a Dask cluster) and written here as each one
finishes, so memory holds one run at a time; every summary is computed from
the files, sorted by run, so results do not depend on the executor, the
number of workers or interruptions. The key indicators and the summary tables
are in :mod:`simulator.results.summary` (re-exported here).
"""

from __future__ import annotations

from simulator.experiment.comparison import compare
from simulator.experiment.directory import ExperimentDirectory, Progress, fingerprint
from simulator.experiment.runs import run_scenario
from simulator.experiment.sweeps import sweep
from simulator.results import ExperimentFailedError
from simulator.results.summary import SUMMARY_ROWS, key_outcomes, summary_table

__all__ = ["SUMMARY_ROWS", "ExperimentDirectory", "ExperimentFailedError", "Progress", "compare",
           "fingerprint", "key_outcomes", "run_scenario", "summary_table", "sweep"]

"""Run-size estimates: a run's peak memory and time, from its scenario, before it starts.

``validate`` prints the estimate and ``run`` checks it, so a scenario too large
for the machine (say 20 + 20 million firms) is refused in a second with one
line, instead of dying of memory after minutes. The estimate is a linear model
of the firms the run holds, with the constants measured by
``benchmarks/throughput.py`` (tables in ``docs/explanation/performance.md``); it errs on
the large side (every candidate project is counted as entering), so a run
refused by a narrow margin may still fit: ``--force`` runs it anyway.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import NamedTuple

from simulator.scenario import Scenario, ScenarioError

__all__ = ["RunEstimate", "available_memory_bytes", "check_fits", "estimate_run"]

GB = 1e9

# Memory (docs/explanation/performance.md, "The figures the run-size estimate uses",
# 10^5 and 10^6 firms x 10 years, bytes of peak RSS per initial firm):
#: firm state and the yearly mechanisms, no markets, no dynamics: 917-963 B/firm
FIRM_BYTES = 950.0
#: the enterprise dynamics (investment, exit, entry, land): default scenario without
#: markets 1,921-2,070 B/firm against 917-963 without dynamics
DYNAMICS_BYTES_PER_FIRM = 1000.0
#: each quota market (books, ledger, participants): five add about 900 B/firm
#: (1,909-1,920 against 917-963 without dynamics; 2,801-2,879 against 1,921-2,070 with)
MARKET_BYTES_PER_FIRM = 180.0
#: a process with the simulator's libraries loaded (pandas, pyarrow, numba kernels, simpy):
#: the benchmark's process holds about 250 MB (520 MB at 10^5 firms less 2,800 B x 10^5);
#: ``mujun run`` of a 500-firm scenario peaks at 337 MB without figures (2026-12-06)
PROCESS_BYTES = 330e6
#: drawing the figures (matplotlib): the baseline run peaks 70 MB higher with them
FIGURES_BYTES = 80e6
#: a firms.parquet row in Arrow: 614 B with the five markets' 40 columns (92 columns),
#: measured on the default scenario (2026-12-06); each market adds 8 float columns
SNAPSHOT_ROW_BYTES = 300.0
SNAPSHOT_BYTES_PER_MARKET = 64.0

# Time (docs/explanation/performance.md: the default scenario, 10^5 firms x 10 years, 5.3 s on this
# 2-core machine, 2026-12-06; the shares of the parts from the 2026-11-29 table, one
# session: no markets/no dynamics 1.31 s, markets 1.85 s, dynamics 2.75 s, both 3.44 s):
#: seconds per firm-year of the default scenario
SECONDS_PER_FIRM_YEAR = 5.3e-6
BASE_SHARE = 0.38  # 1.31 / 3.44
DYNAMICS_SHARE = 0.44  # (2.75 - 1.31) / 3.44, (3.44 - 1.85) / 3.44: 0.42-0.46
MARKET_SHARE = 0.036  # each of five: (1.85 - 1.31) / 3.44, (3.44 - 2.75) / 3.44: 0.16-0.20
#: starting a run (imports, validation, loading the kernels, writing): a 500-firm run
#: takes 2.4-2.6 s without figures
START_SECONDS = 2.5
#: the figure set: 8 s for the 500-firm scenario (10.5 s with, 2.6 s without)
FIGURES_SECONDS = 8.0


class RunEstimate(NamedTuple):
    """Estimated peak memory (bytes) and wall time (seconds) of a run, and its firms."""

    peak_bytes: float
    seconds: float
    firms: int

    def describe(self) -> str:
        """Return e.g. ``"est. 0.4 GB peak, ~11 s"``."""
        return f"est. {self.peak_bytes / GB:.1f} GB peak, ~{_duration(self.seconds)}"


def estimate_run(scenario: Scenario, *, n_firms: int | None = None, replications: int = 1,
                 workers: int | None = 1, executor: str = "local",
                 figures: bool = True) -> RunEstimate:
    """Estimate a run's peak memory and wall time from the size of its population.

    The model is linear in the firms a run holds at its peak: the initial
    firms plus, with the dynamics' entry on, every candidate project of every
    year (candidates a year per 1,000 industrial firms at the start, an upper
    bound: the entry standards and the land admit fewer, and exits make room).
    Each firm costs ``FIRM_BYTES``, plus ``DYNAMICS_BYTES_PER_FIRM`` with the
    dynamics and ``MARKET_BYTES_PER_FIRM`` per quota market switched on
    (2,850 B for the default scenario; measured 2,800). Firm snapshots
    (``output.firm_snapshots``) add one year's table (and the Parquet writer's
    copy) to a single replication, which streams them; with several
    replications each run keeps all its years and the parent process receives
    them. Several replications run ``workers`` at a time, each process with
    ``PROCESS_BYTES`` of libraries. The time is ``SECONDS_PER_FIRM_YEAR``,
    split into the shares of the base mechanisms, the dynamics and each
    market, times the firm-years (the entrants counted at half, arriving over
    the run), per wave of parallel replications, plus start-up and figures.

    Parameters
    ----------
    scenario : Scenario
        The validated scenario.
    n_firms : int, optional
        Initial firms (the firm table's rows); default: the synthetic counts.
    replications : int
        Replications of the run.
    workers : int or None
        Local worker processes for several replications (None: all CPUs).
    executor : {"local", "dask"}
        With ``"dask"`` the replications run elsewhere: only the parent's
        memory (the snapshots it receives) is on this machine.
    figures : bool
        Whether the run draws its figures.

    Returns
    -------
    RunEstimate
        ``peak_bytes``, ``seconds`` and the firms counted at the peak.

    Examples
    --------
    >>> from simulator.scenario import default_scenario_path, load_scenario
    >>> estimate_run(load_scenario(default_scenario_path())).describe()  # doctest: +SKIP
    'est. 0.4 GB peak, ~11 s'
    """
    pop, dynamics = scenario.population, scenario.dynamics
    initial = pop.n_industrial + pop.n_services if n_firms is None else int(n_firms)
    industrial = pop.n_industrial if n_firms is None else initial  # a table: all, at most
    years = scenario.run.n_years
    entry_on = dynamics.enabled and dynamics.entry.enabled
    candidates_per_year = (dynamics.entry.candidates_per_year_per_1000_firms * industrial / 1000
                           if entry_on else 0.0)
    entrants = candidates_per_year * years
    firms = initial + entrants
    # The markets switched on, as simulator.markets.cycle.enabled_markets counts them
    # (not imported: it loads the compiled kernels).
    markets = int(scenario.markets.energy.enabled) + sum(
        m.enabled for m in scenario.markets.emissions.values())

    replications = max(1, int(replications))
    parallel = min(replications, _workers(workers))
    peak = _peak_bytes(scenario, firms=firms, markets=markets, replications=replications,
                       parallel=parallel, executor=executor, figures=figures)
    share = (BASE_SHARE + MARKET_SHARE * markets
             + (DYNAMICS_SHARE if dynamics.enabled else 0.0))
    run_seconds = SECONDS_PER_FIRM_YEAR * share * years * (initial + entrants / 2)
    waves = math.ceil(replications / parallel)
    seconds = START_SECONDS + waves * run_seconds + (FIGURES_SECONDS if figures else 0.0)
    return RunEstimate(peak_bytes=peak, seconds=seconds, firms=round(firms))


def _peak_bytes(scenario: Scenario, *, firms: float, markets: int, replications: int,
                parallel: int, executor: str, figures: bool) -> float:
    """Return the estimated peak memory of a run of ``firms`` firms at its peak, bytes.

    See :func:`estimate_run`; ``parallel`` replications run at a time.
    """
    years = scenario.run.n_years
    firm_bytes = (FIRM_BYTES + MARKET_BYTES_PER_FIRM * markets
                  + (DYNAMICS_BYTES_PER_FIRM if scenario.dynamics.enabled else 0.0))
    run_bytes = firms * firm_bytes
    parent_bytes = PROCESS_BYTES + (FIGURES_BYTES if figures else 0.0)
    year_table = 0.0
    if scenario.output.firm_snapshots:
        year_table = firms * (SNAPSHOT_ROW_BYTES + SNAPSHOT_BYTES_PER_MARKET * markets)
    if replications == 1 or (executor == "local" and parallel == 1):
        # One process runs them all, one after the other; a single run streams its years.
        kept = 2 * year_table * (years if replications > 1 else 1)
        return parent_bytes + run_bytes + kept
    workers_here = 0 if executor == "dask" else parallel
    waiting = parallel if executor == "local" else replications  # received out of order
    return (parent_bytes + waiting * years * year_table
            + workers_here * (PROCESS_BYTES + run_bytes + 2 * years * year_table))


def available_memory_bytes() -> int | None:
    """Memory this machine can give a run now, in bytes, or None if it cannot be told.

    Linux's ``MemAvailable`` (``/proc/meminfo``: free memory plus caches it
    can drop) where there is one, else the physical memory
    (``SC_PHYS_PAGES x SC_PAGE_SIZE``).
    """
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    try:
        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # not a POSIX system, or not told
        return None
    return pages * page_size if pages > 0 and page_size > 0 else None


def check_fits(estimate: RunEstimate, *, file: str | Path | None = None,
               force: bool = False) -> None:
    """Refuse a run whose estimated peak memory exceeds what the machine has available.

    Nothing is refused when ``force`` is set or the available memory cannot
    be told.

    Raises
    ------
    ScenarioError
        One line, naming ``file``, with the estimate and the limit.
    """
    available = available_memory_bytes()
    if force or available is None or estimate.peak_bytes <= available:
        return
    raise ScenarioError(
        f"needs an estimated {estimate.peak_bytes / GB:.1f} GB of memory at its peak (up to "
        f"{estimate.firms:,} firms), more than the {available / GB:.1f} GB available; reduce "
        "the firms, years or replications, or use --force to run anyway", file=file)


def _workers(workers: int | None) -> int:
    if workers is None:
        from simulator.experiment.executors import default_workers

        return default_workers()
    return max(1, int(workers))


def _duration(seconds: float) -> str:
    """Return ``seconds`` rounded for a person: ``12 s``, ``4 min``, ``3.5 h``."""
    if seconds < 100:
        return f"{seconds:.0f} s"
    if seconds < 100 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"

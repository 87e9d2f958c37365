"""What a sweep's runs give: each run's outputs, and Sobol' indices of a ``sobol`` design.

:func:`output_values` reads a sweep's outputs (an annual metric of one group
in one year) from one run's tidy metrics; :func:`sobol_indices` averages
them over replications per design point and gives each output's first-order
and total Sobol' indices with 95% bootstrap intervals (SALib).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from simulator.sweep.problem import SweepProblem

__all__ = ["output_values", "sobol_indices"]

log = logging.getLogger(__name__)


def output_values(problem: SweepProblem, metrics: pd.DataFrame) -> dict[str, float]:
    """Return each output's value in one run's tidy metrics (NaN where the run has none).

    Parameters
    ----------
    problem : SweepProblem
        The sweep.
    metrics : pandas.DataFrame
        One run's metrics: columns ``year``, ``month`` (null for annual rows),
        ``group``, ``metric``, ``value`` (others are ignored). Annual rows are
        used; several rows of one output (e.g. replications) are averaged.

    Returns
    -------
    dict
        Output name -> value, in file order.
    """
    keys = problem.output_keys
    annual = metrics[metrics["month"].isna()
                     & metrics["metric"].isin({m for m, _, _ in keys.values()})]
    means = annual.groupby(["metric", "group", "year"])["value"].mean()
    return {name: float(means.get(key, np.nan)) for name, key in keys.items()}


def _salib_problem(problem: SweepProblem) -> dict[str, Any]:
    params = problem.spec.parameters
    return {"num_vars": len(params), "names": [p.path for p in params],
            "bounds": [[p.lower, p.upper] for p in params]}


def sobol_indices(problem: SweepProblem, outputs: pd.DataFrame) -> pd.DataFrame:
    """First-order and total Sobol' indices of each output, with 95% bootstrap intervals.

    Outputs are averaged over replications per design point, then analysed with
    :func:`SALib.analyze.sobol.analyze` (``calc_second_order=False``, bootstrap
    seeded with the sweep's seed). An output with a missing (NaN) value or no
    variance gets NaN indices.

    Parameters
    ----------
    problem : SweepProblem
        A sweep with the ``sobol`` design.
    outputs : pandas.DataFrame
        One row per run: columns ``sample``, ``replication`` and the output names.

    Returns
    -------
    pandas.DataFrame
        Columns ``output``, ``parameter``, ``S1``, ``S1_conf``, ``ST``, ``ST_conf``;
        outputs and parameters in file order.

    Raises
    ------
    ValueError
        If the design is not ``sobol``, or an output column or a design point is missing.
    """
    if problem.spec.design != "sobol":
        raise ValueError(f"Sobol' indices need the sobol design; sweep {problem.name!r} has "
                         f"{problem.spec.design!r}")
    names = problem.outputs
    absent = [c for c in ("sample", *names) if c not in outputs.columns]
    if absent:
        raise ValueError(f"outputs lack the column(s) {', '.join(map(repr, absent))}")
    means = outputs.groupby("sample")[names].mean()
    expected = pd.RangeIndex(problem.n_points)
    missing = expected.difference(means.index)
    if len(missing):
        raise ValueError(f"outputs lack {len(missing)} of the {problem.n_points} design points "
                         f"(first: {', '.join(str(s) for s in missing[:5])})")
    if len(unknown := means.index.difference(expected)):
        raise ValueError(f"outputs have samples outside the design (first: {unknown[0]})")
    means = means.loc[expected]

    from SALib.analyze import sobol

    salib = _salib_problem(problem)
    nan = np.full(len(problem.parameters), np.nan)
    frames = []
    for name in names:
        y = means[name].to_numpy(dtype=float)
        if not np.isfinite(y).all() or np.var(y) == 0:
            log.warning("output %s is %s: its Sobol' indices are NaN", name,
                        "missing in some runs" if not np.isfinite(y).all() else "constant")
            si = {"S1": nan, "S1_conf": nan, "ST": nan, "ST_conf": nan}
        else:
            si = sobol.analyze(salib, y, calc_second_order=False, conf_level=0.95,
                               seed=problem.seed, print_to_console=False)
        frames.append(pd.DataFrame({"output": name, "parameter": problem.parameters,
                                    **{k: np.asarray(si[k], dtype=float)
                                       for k in ("S1", "S1_conf", "ST", "ST_conf")}}))
    return pd.concat(frames, ignore_index=True)

"""Sweep designs: the design points of a grid, a Latin hypercube or Saltelli's scheme.

:func:`design_table` makes a sweep's design, one row per point: the
Cartesian product of each parameter's values (``grid``), a Latin hypercube
(``lhs``, :func:`lhs_unit`) or Saltelli's sample for Sobol' indices
(``sobol``, :func:`sobol_unit`, through SALib), the unit coordinates mapped
onto each parameter's range or values. The designs are described in
:mod:`simulator.sweep`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import qmc

from simulator.sweep.spec import MAX_POINTS, SweepParameter, SweepSpec, sweep_error

__all__ = ["design_table", "lhs_unit", "sobol_unit"]


def lhs_unit(d: int, n: int, *, seed: int) -> np.ndarray:
    """Latin hypercube of ``n`` points in ``[0, 1)^d``: one point per stratum of each axis."""
    return qmc.LatinHypercube(d, seed=seed).random(n)


def sobol_unit(d: int, n: int, *, seed: int) -> np.ndarray:
    """Saltelli's first/total-order sample of ``[0, 1]^d``: ``n * (d + 2)`` rows.

    ``n`` should be a power of two; see :func:`SALib.sample.sobol.sample`.
    """
    from SALib.sample import sobol

    problem = {"num_vars": d, "names": [f"x{i}" for i in range(d)], "bounds": [[0.0, 1.0]] * d}
    return sobol.sample(problem, n, calc_second_order=False, seed=seed)


def _scale(u: np.ndarray, p: SweepParameter) -> list[Any]:
    """Map unit coordinates to a parameter's values (uniform on the range, or on its values)."""
    if p.values is not None:
        index = np.minimum((u * len(p.values)).astype(int), len(p.values) - 1)
        return [p.typed(p.values[k]) for k in index]
    if p.integer:
        lower, upper = int(p.lower), int(p.upper)
        return (lower + np.minimum(np.floor(u * (upper - lower + 1)), upper - lower)
                ).astype(np.int64).tolist()
    return (p.lower + u * (p.upper - p.lower)).tolist()


def _grid_values(p: SweepParameter) -> list[Any]:
    if p.values is not None:
        return [p.typed(v) for v in p.values]
    points = np.linspace(p.lower, p.upper, p.steps)
    if p.integer:
        return np.floor(points + 0.5).astype(np.int64).tolist()
    return [float(f"{x:.12g}") for x in points]  # 0.3, not 0.30000000000000004


def design_table(file: Path, lines: Mapping[tuple, int], spec: SweepSpec, seed: int,
                 warnings: list[str]) -> pd.DataFrame:
    """Make the design table; append warnings (e.g. samples rounded up).

    Parameters
    ----------
    file : Path
        The sweep file (named in errors).
    lines : mapping
        Field path tuple -> line in ``file``.
    spec : SweepSpec
        The validated file.
    seed : int
        Seed of the LHS and Sobol' sampling.
    warnings : list of str
        Appended to: what the user should know.

    Returns
    -------
    pandas.DataFrame
        One row per design point: ``sample`` (0..n-1), then one column per
        parameter path in file order, holding the values as applied.

    Raises
    ------
    ScenarioError
        If the design has more than :data:`~simulator.sweep.spec.MAX_POINTS` points.
    """
    params = spec.parameters
    if spec.design == "grid":
        axes = [_grid_values(p) for p in params]
        n = math.prod(len(a) for a in axes)
        if n > MAX_POINTS:
            raise sweep_error(file, lines, f"the grid has {n:,} points; at most {MAX_POINTS:,}",
                              ("parameters",))
        columns = list(zip(*itertools.product(*axes), strict=True))
    else:
        if spec.design == "lhs":
            u = lhs_unit(len(params), spec.samples, seed=seed)
        else:
            u = sobol_unit(len(params), _sobol_base_n(file, lines, spec, warnings), seed=seed)
        columns = [_scale(u[:, j], p) for j, p in enumerate(params)]
        n = u.shape[0]
    table = {"sample": np.arange(n)}
    table.update({p.path: list(col) for p, col in zip(params, columns, strict=True)})
    return pd.DataFrame(table)


def _sobol_base_n(file: Path, lines: Mapping[tuple, int], spec: SweepSpec,
                  warnings: list[str]) -> int:
    n = spec.samples
    rounded = 1 << (n - 1).bit_length()
    if rounded != n:
        warnings.append(f"samples {n} rounded up to {rounded}: Saltelli's scheme needs a power "
                        f"of two; {rounded * (len(spec.parameters) + 2)} design points")
    if rounded * (len(spec.parameters) + 2) > MAX_POINTS:
        raise sweep_error(file, lines,
                          f"the sobol design has {rounded * (len(spec.parameters) + 2):,}"
                          f" points; at most {MAX_POINTS:,}", ("samples",))
    return rounded

"""Parameter sweeps (参数扫描): experiment designs over scenario fields, and Sobol' indices.

A sweep file names a base scenario, changes applied to every run
(``overrides``), the swept parameters (dotted scenario paths, each a list of
values or a range), a design and the scalar outputs to read from each run::

    base: baseline.yaml
    overrides: {population.n_industrial: 2000, output.firm_snapshots: false}
    parameters:                 # each a list of values, or a range
      - {path: tariffs.electricity.class_surcharge_yuan_per_kwh.D, values: [0.1, 0.3, 0.5]}
      - {path: dynamics.exit.forced_exit_share_per_year, lower: 0, upper: 0.05, steps: 3}
    design: grid
    replications: 2
    outputs:
      - {metric: tax_per_mu_wan_yuan, group: scale=above, year: last}

Designs (one row of :attr:`SweepProblem.design` per point):

``grid``
    The Cartesian product of each parameter's values (a ``values`` list, or
    ``steps`` evenly spaced points from ``lower`` to ``upper``), the first
    parameter varying slowest. ``samples`` is not used and is an error.
``lhs``
    ``samples`` points of a Latin hypercube (:class:`scipy.stats.qmc.LatinHypercube`):
    each range is cut into ``samples`` equal strata and every stratum holds
    one point. A ``values`` list is a discrete uniform parameter, picked by
    index (value *k* of *m* where the point falls in the *k*-th *m*-th).
``sobol``
    Saltelli's scheme for first- and total-order Sobol' indices
    (``SALib.sample.sobol.sample``, ``calc_second_order=False``):
    ``samples`` * (D + 2) points for D parameters. Ranges only. ``samples``
    must be a power of two for the Sobol' sequence's balance; another value
    is rounded up to the next power of two, with a warning.

``integer: true`` makes a range take whole numbers: in ``lhs`` and ``sobol``
each of ``lower .. upper`` is equally likely; in a grid the ``steps`` points
are rounded to the nearest whole number. A whole-number scenario field needs it.

Every point's runs use the same seed (the sweep's ``seed`` or the base
scenario's), so replication *k* draws the same random streams in every point
(common random numbers) and differences between points are the parameters'
effect rather than fresh noise. The seed also seeds the LHS and Sobol' sampling
and the bootstrap of the Sobol' confidence intervals, so a sweep file always
gives the same design and indices.

The file is checked as a whole when it is loaded: unknown keys, paths and
metrics, inconsistent ranges, and parameter values that make an invalid
scenario (every corner of the parameter box, and every design point of designs
up to :data:`MAX_CHECKED_POINTS` points) are :class:`~simulator.scenario.ScenarioError`
naming the file, line and field. The runner (``simulator.experiment``) runs
:meth:`SweepProblem.scenario_for` for each point and replication, reads
:func:`output_values` from each run, and :func:`sobol_indices` analyses a
``sobol`` design.

Modules
-------
spec
    The file's schema: :class:`SweepSpec`, :class:`SweepParameter`,
    :class:`SweepOutput`; :func:`sweep_error` locates an error in the file.
designs
    Grid, Latin hypercube and Saltelli designs (:func:`design_table`).
problem
    :func:`load_sweep` and the checks against the base scenario;
    :class:`SweepProblem`.
analysis
    :func:`output_values` of one run; :func:`sobol_indices`.

Every public name of these modules is importable from ``simulator.sweep``.
"""

from __future__ import annotations

from simulator.sweep.analysis import output_values, sobol_indices
from simulator.sweep.designs import design_table, lhs_unit, sobol_unit
from simulator.sweep.problem import (
    MAX_CHECKED_POINTS,
    MAX_CORNERS,
    RESERVED_NAMES,
    SweepProblem,
    load_sweep,
)
from simulator.sweep.spec import (
    MAX_POINTS,
    SweepOutput,
    SweepParameter,
    SweepSpec,
    is_number,
    paths_overlap,
    sweep_error,
)

__all__ = [
    "MAX_CHECKED_POINTS",
    "MAX_CORNERS",
    "MAX_POINTS",
    "RESERVED_NAMES",
    "SweepOutput",
    "SweepParameter",
    "SweepProblem",
    "SweepSpec",
    "design_table",
    "is_number",
    "lhs_unit",
    "load_sweep",
    "output_values",
    "paths_overlap",
    "sobol_indices",
    "sobol_unit",
    "sweep_error",
]

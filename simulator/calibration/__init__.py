"""Calibration (参数校准): fit scenario parameters to observed aggregates.

A calibration file names a base scenario, the free parameters (dotted paths
with bounds), the targets (a metric of one group in one year, with its
observed value) and an optimiser. Every evaluation sets the parameters with
:func:`~simulator.scenario.apply_changes` and simulates the scenario with the
same seed and replications, so the objective is a deterministic function of
the parameters (common random numbers) and finite differences see the
parameters' effect rather than fresh noise. Residuals are relative errors::

    residual_i = weight_i * (simulated_i - target_i) / target_i

Parameters are optimised in bound-normalised coordinates
``u = (x - lower) / (upper - lower)`` in ``[0, 1]``, so one finite-difference
step (``diff_step``, a share of each parameter's range) suits every parameter.
The fitted values are those of the best evaluated point.

The file format is :class:`CalibrationSpec`; an example is
``scenarios/calibration/calibrate_2017.yaml``.

Modules
-------
spec
    The file's schema (:class:`CalibrationSpec`, :class:`ParameterSpec`,
    :class:`TargetSpec`) and :func:`load_calibration`.
objective
    Simulated targets, relative or log residuals, the cached objective.
fit
    :func:`calibrate` (scipy least_squares or Nelder-Mead), :class:`CalibrationResult`,
    :func:`write_fitted` (``fitted.yaml``, ``fit.csv``, ``fit.json``).

Every public name of these modules is importable from ``simulator.calibration``.
"""

from __future__ import annotations

from simulator.calibration.fit import CalibrationResult, calibrate, write_fitted
from simulator.calibration.objective import (
    NAN_RESIDUAL,
    RESIDUALS,
    BudgetExhaustedError,
    Objective,
    log_residuals,
    relative_residuals,
    target_values,
)
from simulator.calibration.spec import (
    CalibrationProblem,
    CalibrationSpec,
    ParameterSpec,
    TargetSpec,
    load_calibration,
)

__all__ = [
    "NAN_RESIDUAL",
    "RESIDUALS",
    "BudgetExhaustedError",
    "CalibrationProblem",
    "CalibrationResult",
    "CalibrationSpec",
    "Objective",
    "ParameterSpec",
    "TargetSpec",
    "calibrate",
    "load_calibration",
    "log_residuals",
    "relative_residuals",
    "target_values",
    "write_fitted",
]

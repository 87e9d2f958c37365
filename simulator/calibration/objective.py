"""The objective of a calibration: simulated targets and their residuals.

Every evaluation sets the free parameters (and the paths tied to them) with
:func:`~simulator.scenario.apply_changes` and simulates the scenario with the
same seed and replications, so the objective is a deterministic function of
the parameters. :class:`Objective` does this in bound-normalised coordinates
``u`` in ``[0, 1]``, caches every evaluated point, keeps the best and stops
at ``max_evaluations`` (:class:`BudgetExhaustedError`). The residuals are
relative errors (:func:`relative_residuals`) or log ratios
(:func:`log_residuals`) of :func:`target_values`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import pandas as pd

from simulator.calibration.spec import CalibrationProblem, TargetSpec
from simulator.engine import simulate
from simulator.scenario import apply_changes

__all__ = [
    "NAN_RESIDUAL",
    "RESIDUALS",
    "BudgetExhaustedError",
    "Objective",
    "log_residuals",
    "relative_residuals",
    "target_values",
]

log = logging.getLogger(__name__)

#: Residual used for a target the simulation cannot compute (NaN), e.g. when no
#: firm is left in the group: a large relative error that steers the fit away.
NAN_RESIDUAL = 10.0


def relative_residuals(simulated: np.ndarray, target: np.ndarray,
                       weight: np.ndarray) -> np.ndarray:
    """Weighted relative errors ``weight * (simulated - target) / target``.

    A target the simulation could not compute (NaN) gets :data:`NAN_RESIDUAL`.

    Examples
    --------
    >>> relative_residuals(np.array([11.0]), np.array([10.0]), np.array([2.0]))
    array([0.2])
    """
    res = weight * (simulated - target) / target
    return np.where(np.isnan(res), weight * NAN_RESIDUAL, res)


def log_residuals(simulated: np.ndarray, target: np.ndarray,
                  weight: np.ndarray) -> np.ndarray:
    """Weighted log ratios ``weight * ln(simulated / target)`` (positive targets).

    Symmetric in ratio: twice and half the target weigh the same (a relative
    error weighs an overshoot by ×3 at +2.0 and an undershoot by ×3 at −0.67,
    so a fit to values that span an order of magnitude leans low). A target the
    simulation could not compute (NaN) or a value not above zero gets
    :data:`NAN_RESIDUAL`.

    Examples
    --------
    >>> log_residuals(np.array([20.0, 5.0]), np.array([10.0, 10.0]), np.array([1.0, 1.0]))
    array([ 0.69314718, -0.69314718])
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        res = weight * np.log(simulated / target)
    return np.where(np.isfinite(res), res, weight * NAN_RESIDUAL)


RESIDUALS = {"relative": relative_residuals, "log": log_residuals}


def target_values(metrics: pd.DataFrame, targets: list[TargetSpec]) -> np.ndarray:
    """Return each target's simulated value: annual rows, mean over replications (NaN if absent)."""
    annual = metrics[metrics["month"].isna()
                     & metrics["metric"].isin({t.metric for t in targets})]
    means = annual.groupby(["metric", "group", "year"])["value"].mean()
    out = []
    for t in targets:
        value = means.get((t.metric, t.group, t.year), np.nan)
        if t.base_year is not None:
            base = means.get((t.metric, t.group, t.base_year), np.nan)
            value = value / base if base else np.nan
        out.append(value)
    return np.array(out, dtype=float)


class BudgetExhaustedError(Exception):
    """Raised inside the optimiser when max_evaluations is used up."""


class Objective:
    """Simulated target values as a function of normalised parameters, cached.

    Parameters
    ----------
    problem : CalibrationProblem
        The calibration.
    progress : callable or None
        Called as ``progress(evaluations_done, max_evaluations)`` after each evaluation.

    Attributes
    ----------
    cache : dict
        Parameter values (a tuple) -> simulated target values, one entry per evaluation.
    best : tuple of (float, numpy.ndarray)
        The smallest sum of squared residuals so far and its parameter values.
    """

    def __init__(self, problem: CalibrationProblem,
                 progress: Callable[[int, int], None] | None):
        spec = problem.spec
        self.problem = problem
        self.paths = [p.path for p in spec.parameters]
        self.lower = np.array([p.lower for p in spec.parameters])
        self.width = np.array([p.upper for p in spec.parameters]) - self.lower
        self.target = np.array([t.value for t in spec.targets])
        self.weight = np.array([t.weight for t in spec.targets])
        self.errors = RESIDUALS[spec.error]
        self.progress = progress
        self.cache: dict[tuple[float, ...], np.ndarray] = {}
        self.best: tuple[float, np.ndarray] = (np.inf, np.empty(0))

    def to_x(self, u: np.ndarray) -> np.ndarray:
        """Return the parameter values at normalised ``u`` (clipped to ``[0, 1]``)."""
        return self.lower + np.clip(u, 0.0, 1.0) * self.width

    def to_u(self, x: np.ndarray) -> np.ndarray:
        """Return the normalised coordinates of parameter values ``x``."""
        return (x - self.lower) / self.width

    def simulated(self, u: np.ndarray) -> np.ndarray:
        """Return the targets' simulated values at ``u`` (BudgetExhaustedError past the budget)."""
        x = self.to_x(np.asarray(u, dtype=float))
        key = tuple(x.tolist())
        if key in self.cache:
            return self.cache[key]
        spec = self.problem.spec
        if len(self.cache) >= spec.max_evaluations:
            raise BudgetExhaustedError
        changes = {}
        for p, value in zip(spec.parameters, key, strict=True):
            changes.update(p.changes(value))
        scenario = apply_changes(self.problem.scenario, changes)
        runs = [simulate(scenario, replication=r).metrics for r in range(spec.seed_replications)]
        values = target_values(pd.concat(runs, ignore_index=True), spec.targets)
        self.cache[key] = values
        ssr = float(np.sum(self.errors(values, self.target, self.weight) ** 2))
        if ssr < self.best[0]:
            self.best = (ssr, x)
        log.info("evaluation %d: %s -> sum of squares %.6g", len(self.cache), key, ssr)
        if self.progress is not None:
            self.progress(len(self.cache), spec.max_evaluations)
        return values

    def residuals(self, u: np.ndarray) -> np.ndarray:
        """Return the weighted residuals at ``u`` (the file's ``error``)."""
        return self.errors(self.simulated(u), self.target, self.weight)

    def sum_of_squares(self, u: np.ndarray) -> float:
        """Return the sum of squared residuals at ``u``."""
        return float(np.sum(self.residuals(u) ** 2))

    def jacobian(self, u: np.ndarray) -> np.ndarray:
        """Forward differences with a step of ``diff_step`` of each range, kept in bounds."""
        step = self.problem.spec.diff_step
        r0 = self.residuals(u)
        jac = np.empty((r0.size, u.size))
        for i in range(u.size):
            h = step if u[i] + step <= 1.0 else -step
            shifted = u.copy()
            shifted[i] += h
            jac[:, i] = (self.residuals(shifted) - r0) / h
        return jac


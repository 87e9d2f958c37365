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
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import (
    Field,
    FiniteFloat,
    field_validator,
    model_validator,
)
from scipy import optimize

from simulator.engine import simulate
from simulator.scenario import (
    LocatedError,
    Scenario,
    ScenarioError,
    apply_changes,
    check_path,
    load_scenario,
    safe_name,
)
from simulator.scenario.specfiles import (
    MetricName,
    SpecModel,
    apply_section,
    load_spec,
    spec_error,
    value_at,
)

__all__ = [
    "CalibrationProblem",
    "CalibrationResult",
    "CalibrationSpec",
    "ParameterSpec",
    "TargetSpec",
    "calibrate",
    "load_calibration",
    "log_residuals",
    "relative_residuals",
    "target_values",
    "write_fitted",
]

log = logging.getLogger(__name__)

#: Residual used for a target the simulation cannot compute (NaN), e.g. when no
#: firm is left in the group: a large relative error that steers the fit away.
NAN_RESIDUAL = 10.0


# ------------------------------------------------------------------ file schema


class ParameterSpec(SpecModel):
    """A free parameter: a real-valued scenario field, its bounds and start."""

    path: str = Field(description="dotted scenario path, e.g. population.sectors.x.tax_share_of_va")
    lower: FiniteFloat
    upper: FiniteFloat
    start: FiniteFloat | None = Field(None, description="default: the scenario's value")
    tied: dict[str, FiniteFloat] = Field(
        default_factory=dict,
        description="other dotted paths set to this parameter's value times a factor, e.g. "
                    "a later period's rate as a sourced multiple of the fitted one")

    @field_validator("path")
    @classmethod
    def _known_path(cls, v: str) -> str:
        check_path(Scenario, v, ())
        return v

    @field_validator("tied")
    @classmethod
    def _known_tied(cls, v: dict[str, float]) -> dict[str, float]:
        for path in v:
            check_path(Scenario, path, (path,))
        return v

    def changes(self, value: float) -> dict[str, float]:
        """Return the scenario changes this parameter makes at ``value`` (its path and the tied)."""
        return {self.path: value, **{path: value * f for path, f in self.tied.items()}}

    @model_validator(mode="after")
    def _ordered(self) -> ParameterSpec:
        if not self.lower < self.upper:
            raise LocatedError(("upper",), f"upper ({self.upper:g}) must be greater than "
                                           f"lower ({self.lower:g})")
        if self.start is not None and not self.lower <= self.start <= self.upper:
            raise LocatedError(("start",), f"start {self.start:g} is outside the bounds "
                                           f"[{self.lower:g}, {self.upper:g}]")
        return self


class TargetSpec(SpecModel):
    """An observed aggregate: a metric of one group in one year."""

    metric: MetricName = Field(description="a name from simulator.metrics.METRICS")
    group: str = Field("all", description='"all" or "<dimension>=<value>", e.g. scale=above')
    year: int = Field(ge=1900, le=2200)
    value: FiniteFloat = Field(description="observed value, in the metric's unit (non-zero); "
                                           "with base_year, the ratio to that year's value")
    weight: FiniteFloat = Field(1.0, gt=0, description="weight of the relative error")
    base_year: int | None = Field(
        None, ge=1900, le=2200,
        description="compare the metric's ratio year / base_year instead of its level (for "
                    "totals of a sample that stands for the province: an index)")

    @field_validator("value")
    @classmethod
    def _non_zero(cls, v: float) -> float:
        if v == 0:
            raise ValueError("target value must be non-zero (errors are relative to it)")
        return v


class CalibrationSpec(SpecModel):
    """A calibration file: base scenario, free parameters, targets and optimiser."""

    scenario: str = Field(description="base scenario file, relative to the calibration file")
    fixed: dict[str, Any] = Field(
        default_factory=dict,
        description="dotted path -> value: part of the fitted model, written to fitted.yaml")
    overrides: dict[str, Any] = Field(
        default_factory=dict,
        description="dotted path -> value applied to every evaluation only (small and fast)")
    parameters: list[ParameterSpec] = Field(min_length=1)
    targets: list[TargetSpec] = Field(min_length=1)
    method: Literal["least_squares", "nelder_mead"] = "least_squares"
    error: Literal["relative", "log"] = Field(
        "relative", description="the residual: relative error (simulated - target) / target, "
                                "or the log ratio ln(simulated / target) (positive targets; "
                                "symmetric for values that span an order of magnitude)")
    max_evaluations: int = Field(100, ge=1, le=100_000,
                                 description="objective evaluations, finite differences included")
    seed_replications: int = Field(1, ge=1, le=1000,
                                   description="replications averaged per evaluation")
    diff_step: float = Field(0.05, gt=0, le=0.5,
                             description="finite-difference step, share of (upper - lower)")

    @model_validator(mode="after")
    def _paths(self) -> CalibrationSpec:
        for section in ("fixed", "overrides"):
            for path in getattr(self, section):
                check_path(Scenario, path, (section, path))
        if both := sorted(set(self.fixed) & set(self.overrides)):
            raise LocatedError(("overrides", both[0]), "also set in fixed")
        seen: set[str] = set()
        for i, p in enumerate(self.parameters):
            for path, loc in [(p.path, ("parameters", i, "path")),
                              *((t, ("parameters", i, "tied", t)) for t in p.tied)]:
                if path in seen:
                    raise LocatedError(loc, f"{path!r} is set by two parameters")
                if path in self.fixed or path in self.overrides:
                    raise LocatedError(loc, "a free or tied parameter cannot also be in "
                                            "fixed or overrides")
                seen.add(path)
        if self.error == "log":
            for i, t in enumerate(self.targets):
                if t.value <= 0:
                    raise LocatedError(("targets", i, "value"),
                                       "error: log needs positive target values")
        return self


# ------------------------------------------------------------------ the problem


@dataclass(frozen=True)
class CalibrationProblem:
    """A loaded, checked calibration file.

    Attributes
    ----------
    spec : CalibrationSpec
        The validated file.
    file : Path
        The calibration file.
    base_path : Path
        The base scenario file (absolute).
    scenario : Scenario
        Base + ``fixed`` + ``overrides``: what every evaluation starts from.
    start : numpy.ndarray
        Start value of each parameter.
    lines : dict
        Field path tuple -> line in ``file`` (for error messages).
    """

    spec: CalibrationSpec
    file: Path
    base_path: Path
    scenario: Scenario
    start: np.ndarray
    lines: Mapping[tuple, int]

    @property
    def name(self) -> str:
        """Name of the calibration: the file stem, usable as a scenario name."""
        return safe_name(self.file.stem)

    def error(self, message: str, loc: tuple) -> ScenarioError:
        """Return a ScenarioError naming this file, the line of ``loc`` and the field."""
        return spec_error(self.file, self.lines, message, loc)


def load_calibration(path: str | Path) -> CalibrationProblem:
    """Load and check a calibration file against its base scenario.

    Parameters
    ----------
    path : str or Path
        The calibration YAML file.

    Returns
    -------
    CalibrationProblem
        The checked problem, with the scenario every evaluation starts from.

    Raises
    ------
    ScenarioError
        Naming the file, line and field of the first problem found.
    """
    path = Path(path)
    spec, lines, base_path = load_spec(path, CalibrationSpec, "scenario")
    scenario = load_scenario(base_path)
    scenario = apply_section(path, lines, scenario, "fixed", spec.fixed)
    scenario = apply_section(path, lines, scenario, "overrides", spec.overrides)

    dump = scenario.model_dump(mode="python")
    start = []
    for i, p in enumerate(spec.parameters):
        loc = ("parameters", i)
        try:
            value = value_at(dump, p.path)
        except KeyError as exc:
            raise spec_error(path, lines, exc.args[0], (*loc, "path")) from None
        if not isinstance(value, float):
            raise spec_error(path, lines, f"{p.path!r} is not a real-valued field "
                                          f"(its value is {value!r})", (*loc, "path"))
        for bound in ("lower", "upper"):
            try:
                apply_changes(scenario, p.changes(getattr(p, bound)))
            except ScenarioError as exc:
                raise spec_error(path, lines, f"{exc.field}: {exc.message}",
                                 (*loc, bound)) from None
        if p.start is None and not p.lower <= value <= p.upper:
            raise spec_error(path, lines, f"the scenario's value {value:g} is outside the "
                                          "bounds; give a start", loc)
        start.append(value if p.start is None else p.start)
    years = scenario.years
    for i, t in enumerate(spec.targets):
        for field in ("year", "base_year"):
            year = getattr(t, field)
            if year is not None and year not in years:
                raise spec_error(path, lines, f"year {year} is outside the evaluated run "
                                              f"({years[0]} to {years[-1]})",
                                 ("targets", i, field))
    return CalibrationProblem(spec, path, base_path, scenario, np.array(start, dtype=float),
                              lines)


# ------------------------------------------------------------------ objective


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


class _BudgetExhaustedError(Exception):
    """Raised inside the optimiser when max_evaluations is used up."""


class _Objective:
    """Simulated target values as a function of normalised parameters, cached."""

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
        return self.lower + np.clip(u, 0.0, 1.0) * self.width

    def to_u(self, x: np.ndarray) -> np.ndarray:
        return (x - self.lower) / self.width

    def simulated(self, u: np.ndarray) -> np.ndarray:
        x = self.to_x(np.asarray(u, dtype=float))
        key = tuple(x.tolist())
        if key in self.cache:
            return self.cache[key]
        spec = self.problem.spec
        if len(self.cache) >= spec.max_evaluations:
            raise _BudgetExhaustedError
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
        return self.errors(self.simulated(u), self.target, self.weight)

    def sum_of_squares(self, u: np.ndarray) -> float:
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


def _optimise(objective: _Objective, u0: np.ndarray, method: str) -> tuple[bool, str]:
    """Run scipy's optimiser; return (success, message)."""
    budget = objective.problem.spec.max_evaluations
    try:
        if method == "least_squares":
            res = optimize.least_squares(objective.residuals, u0, jac=objective.jacobian,
                                         bounds=(0.0, 1.0), method="trf", x_scale=1.0,
                                         xtol=1e-5, ftol=1e-6, max_nfev=budget)
        else:
            n = u0.size
            # A simplex spanning a tenth of each range: wide enough to see past the noise.
            steps = np.where(u0 + 0.1 <= 1.0, 0.1, -0.1)
            simplex = np.vstack([u0, u0 + np.diag(steps)])
            res = optimize.minimize(objective.sum_of_squares, u0, method="Nelder-Mead",
                                    bounds=[(0.0, 1.0)] * n,
                                    options={"maxfev": budget, "initial_simplex": simplex,
                                             "xatol": 1e-4, "fatol": 1e-8})
    except _BudgetExhaustedError:
        return False, f"stopped: max_evaluations ({budget}) used before convergence"
    return bool(res.success), str(res.message)


# ------------------------------------------------------------------ result


@dataclass(frozen=True)
class CalibrationResult:
    """What a calibration found.

    Attributes
    ----------
    problem : CalibrationProblem
        The calibration that was run.
    parameters : pandas.DataFrame
        Index ``path``; columns ``lower``, ``upper``, ``start``, ``fitted``.
    targets : pandas.DataFrame
        Columns ``metric``, ``group``, ``year``, ``target``, ``weight``,
        ``simulated_start``, ``simulated_fitted``, ``rel_error_start``,
        ``rel_error_fitted`` (relative errors, unweighted).
    evaluations : int
        Objective evaluations (each simulates ``seed_replications`` runs).
    success : bool
        Whether the optimiser reported convergence.
    message : str
        The optimiser's message.
    wall_time_s : float
        Wall time of the fit, seconds.
    started : datetime
        When the fit started (UTC).
    """

    problem: CalibrationProblem
    parameters: pd.DataFrame
    targets: pd.DataFrame
    evaluations: int
    success: bool
    message: str
    wall_time_s: float
    started: datetime

    @property
    def fitted(self) -> dict[str, float]:
        """Dotted path -> fitted value (free parameters only)."""
        return {k: float(v) for k, v in self.parameters["fitted"].items()}

    @property
    def changes(self) -> dict[str, float]:
        """Dotted path -> fitted value, with the tied paths."""
        changes: dict[str, float] = {}
        for p in self.problem.spec.parameters:
            changes.update(p.changes(self.fitted[p.path]))
        return changes

    def fitted_scenario(self) -> Scenario:
        """Return the base scenario with ``fixed`` and the fitted values (no overrides)."""
        base = load_scenario(self.problem.base_path)
        return apply_changes(base, {**self.problem.spec.fixed, **self.changes})


def calibrate(spec_path: str | Path | CalibrationProblem, *,
              progress: Callable[[int, int], None] | None = None) -> CalibrationResult:
    """Fit a calibration file's parameters to its targets.

    Parameters
    ----------
    spec_path : str, Path or CalibrationProblem
        The calibration YAML file, or the problem :func:`load_calibration` made of it.
    progress : callable, optional
        Called as ``progress(evaluations_done, max_evaluations)``.

    Returns
    -------
    CalibrationResult
        Fitted parameters, targets before and after, evaluations, convergence.

    Raises
    ------
    ScenarioError
        If the file, its base scenario or a target cannot be used.
    """
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    problem = (spec_path if isinstance(spec_path, CalibrationProblem)
               else load_calibration(spec_path))
    spec = problem.spec
    objective = _Objective(problem, progress)
    u0 = objective.to_u(problem.start)
    before = objective.simulated(u0)
    for i, value in enumerate(before):
        if np.isnan(value):
            t = spec.targets[i]
            raise problem.error(f"the run gives no value of {t.metric} for group {t.group!r} "
                                f"in {t.year}", ("targets", i, "group"))
    success, message = _optimise(objective, u0, spec.method)
    fitted_x = objective.best[1]
    after = objective.cache[tuple(fitted_x.tolist())]
    parameters = pd.DataFrame({
        "path": objective.paths,
        "lower": objective.lower,
        "upper": objective.lower + objective.width,
        "start": problem.start,
        "fitted": fitted_x,
    }).set_index("path")
    target = objective.target
    targets = pd.DataFrame({
        "metric": [t.metric for t in spec.targets],
        "group": [t.group for t in spec.targets],
        "year": [t.year for t in spec.targets],
        "target": target,
        "weight": objective.weight,
        "simulated_start": before,
        "simulated_fitted": after,
        "rel_error_start": (before - target) / target,
        "rel_error_fitted": (after - target) / target,
    })
    return CalibrationResult(problem, parameters, targets, len(objective.cache), success,
                             message, time.perf_counter() - t0, started)


# ------------------------------------------------------------------ output


def _nested(scenario: Scenario, paths: list[str]) -> dict:
    """Nested mapping setting ``paths`` to their values in ``scenario``, for ``extends``.

    Lists replace rather than merge under ``extends``, so a path through a list
    writes the whole list.
    """
    dump = scenario.model_dump(mode="json")
    out: dict = {}
    for path in paths:
        parts = path.split(".")
        node, target = dump, out
        for k, part in enumerate(parts):
            child = node[part]
            if k == len(parts) - 1 or isinstance(child, list):
                target[part] = child
                break
            target = target.setdefault(part, {})
            node = child
    return out


def _extends_path(base: Path, directory: Path) -> str:
    """Return ``base`` relative to ``directory`` (POSIX); absolute if there is no such path."""
    directory = directory.parent.resolve() / directory.name  # need not exist yet
    try:
        return Path(os.path.relpath(base, directory)).as_posix()
    except ValueError:  # another drive on Windows
        return base.as_posix()


def write_fitted(result: CalibrationResult, out_dir: str | Path, *,
                 suffix_if_taken: bool = False) -> Path:
    """Write ``fitted.yaml``, ``fit.csv`` and ``fit.json`` into a new directory, atomically.

    ``fitted.yaml`` extends the base scenario by a path relative to ``out_dir``
    and sets ``fixed`` and the fitted values; the evaluation ``overrides`` are
    recorded in ``fit.json``, not applied.

    Parameters
    ----------
    result : CalibrationResult
        What :func:`calibrate` returned.
    out_dir : str or Path
        The directory to create (it must not exist).
    suffix_if_taken : bool
        Commit to ``<out_dir>-1``, ``-2``... if another process took ``out_dir``
        meanwhile (the stamped default of the command line).

    Returns
    -------
    Path
        ``out_dir``, complete.
    """
    from simulator.results import RunDirectory, git_revision, package_version

    problem, spec = result.problem, result.problem.spec
    out_dir = Path(out_dir)
    fitted = result.fitted_scenario()
    extends = _extends_path(problem.base_path, out_dir)
    body = {
        "extends": extends,
        "name": f"{problem.name}_fitted",
        "description": f"{fitted.name} with parameters fitted by {problem.file.name}",
        **_nested(fitted, [*spec.fixed, *result.changes]),
    }
    header = (
        f"# Fitted by `mujun calibrate {problem.file.name}` on "
        f"{result.started:%Y-%m-%d %H:%M} UTC: {spec.method}, {result.evaluations} evaluations, "
        f"{'converged' if result.success else 'not converged'}.\n"
        "# Evaluation overrides are not applied here; fit.json lists them.\n"
    )
    params = result.parameters.reset_index()
    info = {
        "calibration_file": str(problem.file.resolve()),
        "scenario": str(problem.base_path),
        "extends": extends,
        "method": spec.method,
        "error": spec.error,
        "success": result.success,
        "message": result.message,
        "evaluations": result.evaluations,
        "max_evaluations": spec.max_evaluations,
        "seed": problem.scenario.seed,
        "seed_replications": spec.seed_replications,
        "diff_step": spec.diff_step,
        "wall_time_s": round(result.wall_time_s, 3),
        "started": result.started.isoformat(timespec="seconds"),
        "parameters": params.to_dict(orient="records"),
        "fixed": spec.fixed,
        "overrides": spec.overrides,
        "targets": result.targets.to_dict(orient="records"),
        "version": package_version(),
        "git_revision": git_revision(),
    }
    with RunDirectory(out_dir, suffix_if_taken=suffix_if_taken) as run:
        text = header + yaml.safe_dump(body, allow_unicode=True, sort_keys=False)
        (run.tmp / "fitted.yaml").write_text(text, encoding="utf-8")
        # The temporary directory is a sibling of out_dir, so `extends` resolves alike.
        load_scenario(run.tmp / "fitted.yaml")
        result.targets.to_csv(run.tmp / "fit.csv", index=False)
        (run.tmp / "fit.json").write_text(
            json.dumps(info, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return run.final

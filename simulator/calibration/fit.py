"""Fitting: scipy's least_squares or Nelder-Mead over a calibration's parameters; the output.

:func:`calibrate` runs the optimiser on the :class:`~simulator.calibration.objective.Objective`
of a calibration file in bound-normalised coordinates (one finite-difference
step, ``diff_step``, suits every parameter) and returns a
:class:`CalibrationResult`: the best evaluated point, the targets before and
after. :func:`write_fitted` writes ``fitted.yaml`` (a scenario extending the
base one), ``fit.csv`` and ``fit.json`` into a new directory, atomically.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy import optimize

from simulator.calibration.objective import BudgetExhaustedError, Objective
from simulator.calibration.spec import CalibrationProblem, load_calibration
from simulator.scenario import Scenario, apply_changes, load_scenario

__all__ = ["CalibrationResult", "calibrate", "write_fitted"]


def _optimise(objective: Objective, u0: np.ndarray, method: str) -> tuple[bool, str]:
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
    except BudgetExhaustedError:
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
    objective = Objective(problem, progress)
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

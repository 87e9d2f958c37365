"""Mujun: a differential resource-pricing and quota-trading simulator of 亩均论英雄.

The Python API: load a scenario, make a variant, run it, read and export its results.

>>> from simulator import load_scenario, run_scenario     # doctest: +SKIP
>>> run_dir = run_scenario(load_scenario("scenarios/baseline.yaml"))  # doctest: +SKIP

Names are imported on first use, so ``import simulator.scenario`` (e.g. for
``validate``) does not load the engine.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings
from typing import Any

#: Public name -> module that defines it.
_API: dict[str, str] = {
    "Scenario": "simulator.scenario",
    "ScenarioError": "simulator.scenario",
    "apply_changes": "simulator.experiment.variants",
    "load_scenario": "simulator.scenario",
    "SimulationResult": "simulator.engine",
    "simulate": "simulator.engine",
    "evaluate": "simulator.evaluation",
    "evaluate_table": "simulator.evaluation",
    "run_scenario": "simulator.experiment",
    "summary_table": "simulator.experiment",
    "build_population": "simulator.population",
    "read_firm_table": "simulator.population",
    "read_run": "simulator.results",
    "export_tables": "simulator.results.tables",
    "list_firms": "simulator.results.firm_list",
    "crosstab": "simulator.results.crosstab",
    "load_dataset": "simulator.results.loading",
    "load_results": "simulator.results.loading",
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'simulator' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__


#: Modules that moved in the redesign of issue 17: old path -> new path. The old paths
#: keep working for this release, with a DeprecationWarning.
_MOVED: dict[str, str] = {
    "simulator.backtest": "simulator.calibration.backtest",
    "simulator.diagnostics": "simulator.reporting.diagnostics",
    "simulator.executors": "simulator.experiment.executors",
    "simulator.growth": "simulator.dynamics.growth",
    "simulator.land": "simulator.dynamics.land",
    "simulator.resources": "simulator.experiment.resources",
    "simulator.stats": "simulator.results.stats",
}


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Import a moved module by its old path: the new module, with a deprecation message."""

    def find_spec(self, name, path=None, target=None):  # noqa: D102
        if name not in _MOVED:
            return None
        return importlib.util.spec_from_loader(name, self)

    def create_module(self, spec):  # noqa: D102
        new = _MOVED[spec.name]
        warnings.warn(f"{spec.name} is deprecated and will be removed in the next release: "
                      f"import {new}", DeprecationWarning, stacklevel=3)
        return importlib.import_module(new)

    def exec_module(self, module):  # noqa: D102
        """Nothing to run: the module is the new one, already imported."""


if not any(isinstance(finder, _MovedModules) for finder in sys.meta_path):
    sys.meta_path.append(_MovedModules())

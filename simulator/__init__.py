"""Mujun: a differential resource-pricing and quota-trading simulator of 亩均论英雄.

The Python API: load a scenario, run it, read its results.

>>> from simulator import load_scenario, run_scenario     # doctest: +SKIP
>>> run_dir = run_scenario(load_scenario("scenarios/baseline.yaml"))  # doctest: +SKIP

Names are imported on first use, so ``import simulator.scenario`` (e.g. for
``validate``) does not load the engine.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public name -> module that defines it.
_API: dict[str, str] = {
    "Scenario": "simulator.scenario",
    "ScenarioError": "simulator.scenario",
    "apply_changes": "simulator.scenario",
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
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'simulator' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__

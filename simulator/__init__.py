"""Mujun: a differential resource-pricing and quota-trading simulator of 亩均论英雄.

The Python API: load a scenario, run it, read its results.

>>> from simulator import load_scenario, run_scenario     # doctest: +SKIP
>>> run_dir = run_scenario(load_scenario("scenarios/baseline.yaml"))  # doctest: +SKIP
"""

from simulator.engine import SimulationResult, simulate
from simulator.evaluation import evaluate, evaluate_table
from simulator.experiment import run_scenario, summary_table
from simulator.population import build_population, read_firm_table
from simulator.results import read_run
from simulator.scenario import Scenario, ScenarioError, apply_changes, load_scenario

__all__ = [
    "Scenario",
    "ScenarioError",
    "SimulationResult",
    "apply_changes",
    "build_population",
    "evaluate",
    "evaluate_table",
    "load_scenario",
    "read_firm_table",
    "read_run",
    "run_scenario",
    "simulate",
    "summary_table",
]

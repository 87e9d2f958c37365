"""The engine: one run's state, the stages that act on it, and the calendar that orders them.

* :mod:`~simulator.engine.state`: :class:`RunState`, the one explicit object
  a run's stages read and write, and :class:`SimulationResult`;
* stages, each a module of functions on the state: :mod:`~.setup` (the run's
  start), :mod:`~.pricing` (prices and unit costs in force), :mod:`~.production`
  (a month of output and water), :mod:`~.billing` (the linear bills of a
  period), :mod:`~.trading` (quota markets), :mod:`~.yearend` (annual charges,
  evaluation, next year's state), :mod:`~.recording` (metrics),
  :mod:`~.snapshots` (per-firm tables); the dynamics' stages live in
  :mod:`simulator.dynamics`;
* :mod:`~simulator.engine.calendar`: :func:`simulate`, the only place that
  knows the order of events and the only importer of the stages.
"""

from simulator.engine.calendar import simulate
from simulator.engine.state import RunState, SimulationResult

__all__ = ["RunState", "SimulationResult", "simulate"]

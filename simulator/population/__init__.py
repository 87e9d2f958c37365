"""Transitional: the module moved whole into ``tables.py``; the next commit splits it."""

from simulator.population.tables import *  # noqa: F403
from simulator.population.tables import __all__, above_scale_aggregates  # noqa: F401

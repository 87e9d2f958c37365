"""Transitional: the module moved whole into ``directory.py``; the next commit splits it."""

from simulator.experiment.directory import *  # noqa: F403
from simulator.experiment.directory import __all__, SUMMARY_ROWS  # noqa: F401

"""Transitional: the module moved whole into ``directory.py``; the next commit splits it."""

from simulator.results.directory import *  # noqa: F403
from simulator.results.directory import __all__, manifest_for  # noqa: F401

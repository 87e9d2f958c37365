"""Transitional: the module moved whole into ``options.py``; the next commit splits it."""

from simulator.investment.options import *  # noqa: F403
from simulator.investment.options import __all__  # noqa: F401

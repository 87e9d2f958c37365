"""Scenario files (transitional: the module moved to ``simulator/scenario/root.py``)."""

from simulator.scenario import root as _root

globals().update({k: v for k, v in vars(_root).items() if not k.startswith("__")})
__all__ = _root.__all__

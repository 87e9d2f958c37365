"""Parameter sweeps (transitional: the module moved to ``simulator/sweep/spec.py``)."""

from simulator.sweep import spec as _spec

globals().update({k: v for k, v in vars(_spec).items() if not k.startswith("__")})
__all__ = _spec.__all__

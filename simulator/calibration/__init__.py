"""Calibration (transitional: the module moved to ``simulator/calibration/fit.py``)."""

from simulator.calibration import fit as _fit

globals().update({k: v for k, v in vars(_fit).items() if not k.startswith("__")})
__all__ = _fit.__all__

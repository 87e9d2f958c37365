"""Annual comprehensive evaluation (transitional: the module moved to ``simulator/evaluation/scoring.py``)."""

from simulator.evaluation import scoring as _scoring

globals().update({k: v for k, v in vars(_scoring).items() if not k.startswith("__")})
__all__ = _scoring.__all__

"""How the markets' kernels are compiled: numba, no Python objects, cached on disk.

``cache=True`` compiles each kernel once per machine and loads it from the
package's ``__pycache__`` afterwards. numba checks a cached kernel against
its own file only, so a kernel calls compiled helpers of its own module,
never another module's.
"""

from __future__ import annotations

from numba import njit

__all__ = ["compiled"]


def compiled(function):
    """Return ``function`` compiled by numba: nopython, cached, without the GIL, numpy errors."""
    return njit(cache=True, nogil=True, error_model="numpy")(function)

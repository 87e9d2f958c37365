"""Test-wide settings.

Property tests (Hypothesis) draw the same examples on every run, so the suite
and CI pass or fail for the code, not for the luck of a draw. To search for new
counterexamples, run with fresh random draws and more of them::

    HYPOTHESIS_PROFILE=explore python -m pytest tests/markets

and add what it finds as an ``@example`` to the test.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("default", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

"""Test-wide settings.

Property tests (Hypothesis) draw the same examples on every run, so the suite
and CI pass or fail for the code, not for the luck of a draw. To search for new
counterexamples, run with fresh random draws and more of them::

    HYPOTHESIS_PROFILE=explore python -m pytest tests/markets

and add what it finds as an ``@example`` to the test.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("default", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


# ---------------------------------------------------------------- a real browser

#: Debian's Chromium, driven by Playwright (browser downloads are impossible on the build
#: machines; `.ci/run` installs the package).
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def require_browser() -> None:
    """Skip the calling test when Chromium or Playwright is absent, or fail under CI.

    ``.ci/run`` sets ``MUJUN_REQUIRE_BROWSER=1``: there the browser tests (the
    brief's print layout, the card's layout, the explorer end to end) must run,
    so a missing browser is a failure, not a skip.
    """
    missing = None
    if not CHROMIUM.is_file():
        missing = f"no Chromium at {CHROMIUM} (Debian package chromium)"
    elif importlib.util.find_spec("playwright") is None:
        missing = 'Playwright is not installed (pip install -e ".[test]")'
    if missing is None:
        return
    if os.environ.get("MUJUN_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{missing}; MUJUN_REQUIRE_BROWSER=1 requires the browser tests to run")
    pytest.skip(missing)


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium (Playwright's ``Browser``), one per test module."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()

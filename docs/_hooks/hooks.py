"""MkDocs hooks: fill the generated reference sections at build time.

A page asks for a generated section with a line of its own::

    <!-- generated: NAME -->

where NAME is one of ``GENERATORS``. The text is made from the code each
time the site is built (``mkdocs build``), so it is never committed.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_ROOT = _HERE.parents[1]
for path in (str(_HERE), str(_ROOT)):  # the generators, and this checkout's simulator
    if path not in sys.path:
        sys.path.insert(0, path)

# MkDocs restores sys.path once this file is loaded, so import this checkout's package now:
# its submodules are then found through simulator.__path__, not an installed copy elsewhere.
import simulator  # noqa: E402, F401
from api_reference import api_reference  # noqa: E402
from catalogue import firm_columns_table, groupings_table, metrics_table  # noqa: E402
from cli_reference import cli_reference  # noqa: E402
from scenario_reference import scenario_reference  # noqa: E402

GENERATORS = {
    "scenario-fields": scenario_reference,
    "metrics": metrics_table,
    "metric-groups": groupings_table,
    "firm-columns": firm_columns_table,
    "cli": cli_reference,
    "api": api_reference,
}

MARKER = re.compile(r"^<!-- generated: ([a-z-]+) -->$", re.MULTILINE)


def fill(markdown: str, source: str = "") -> str:
    """Replace every generated-section marker in ``markdown`` by its text."""
    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name not in GENERATORS:
            raise ValueError(f"{source}: unknown generated section {name!r}; "
                             f"known: {', '.join(sorted(GENERATORS))}")
        return GENERATORS[name]()

    return MARKER.sub(replace, markdown)


def on_page_markdown(markdown, page, config, files):  # noqa: ARG001 - MkDocs' hook signature
    """MkDocs hook: fill the page's generated sections."""
    return fill(markdown, page.file.src_uri)

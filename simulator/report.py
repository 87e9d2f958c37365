"""Policy brief (政策简报): a self-contained HTML page, or a PDF, from a results directory.

The brief is written by :mod:`simulator.reporting` (:func:`write_report` in
:mod:`simulator.reporting.brief`, its parts beside it); this module keeps the
public names where they have always been.
"""

from __future__ import annotations

from simulator.reporting.brief import write_report
from simulator.reporting.html import (
    Markup,
    fmt,
    fmt_ci,
    html_page,
    html_table,
    pre_block,
    write_html,
)
from simulator.reporting.sections import (
    FIGURE_ORDER,
    parse_stored_scenario,
    read_run_scenario,
    text,
)

__all__ = [
    "FIGURE_ORDER",
    "Markup",
    "fmt",
    "fmt_ci",
    "html_page",
    "html_table",
    "parse_stored_scenario",
    "pre_block",
    "read_run_scenario",
    "text",
    "write_html",
    "write_report",
]

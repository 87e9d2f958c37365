"""The metric reference, generated from the metric catalogue.

``metric_catalogue`` is the only place that knows where the catalogue lives:
repoint it (e.g. to ``simulator.catalogue``) and the reference follows.
"""

from __future__ import annotations

from markdown_text import cell


def metric_catalogue() -> list[tuple[str, str, str]]:
    """Every metric a run can write: (name, unit, meaning), in the catalogue's order."""
    from simulator.metrics import METRICS

    return [(name, unit, meaning) for name, (unit, meaning) in METRICS.items()]


def metrics_table() -> str:
    """Markdown table of the catalogue: metric, unit, meaning."""
    rows = ["| metric | unit | meaning |", "|---|---|---|"]
    for name, unit, meaning in metric_catalogue():
        rows.append(f"| `{name}` | {cell(unit)} | {cell(meaning)} |")
    return "\n".join(rows)

"""The metric and firm-column references, generated from the catalogue (simulator.catalogue).

Every metric of ``metrics.parquet`` and every declared column of ``firms.parquet`` is one
catalogue entry (``simulator/catalogue/entries.yaml``: unit, definition, groups, period,
where it is computed) with English and Chinese labels (``locales/en.yaml``, ``zh.yaml``);
nothing here is written twice.
"""

from __future__ import annotations

from markdown_text import cell


def metric_catalogue() -> list[tuple[str, str, str]]:
    """Every metric a run can write: (name, unit, meaning), in the catalogue's order."""
    from simulator import catalogue

    return [(e.name, e.unit, e.definition) for e in catalogue.entries() if e.is_metric]


def _row(e, columns: list[str]) -> str:
    from simulator import catalogue

    values = {
        "name": f"`{e.name}`",
        "label": cell(f"{catalogue.label(e.name, 'en')} / {catalogue.label(e.name, 'zh')}"),
        "unit": cell(e.unit),
        "groups": cell(", ".join(e.groups)),
        "period": cell(e.period or ""),
        "meaning": cell(e.definition + (f" (only with {e.when})" if e.when else "")),
    }
    return "| " + " | ".join(values[c] for c in columns) + " |"


def metrics_table() -> str:
    """Markdown table of the catalogue's metrics: name, labels, unit, groups, period, meaning."""
    from simulator import catalogue

    columns = ["name", "label", "unit", "groups", "period", "meaning"]
    rows = ["| metric | label (en / zh) | unit | groups | period | meaning |",
            "|---|---|---|---|---|---|"]
    rows += [_row(e, columns) for e in catalogue.entries() if e.is_metric]
    return "\n".join(rows)


def firm_columns_table() -> str:
    """Markdown table of the declared ``firms.parquet`` columns: name, labels, unit, meaning."""
    from simulator import catalogue

    columns = ["name", "label", "unit", "meaning"]
    rows = ["| column | label (en / zh) | unit | meaning |", "|---|---|---|---|"]
    rows += [_row(e, columns) for e in catalogue.entries() if "firms" in e.outputs]
    return "\n".join(rows)


def groupings_table() -> str:
    """Markdown table of the group codes of metrics (the ``groups`` column above)."""
    from simulator import catalogue

    rows = ["| group code | groups of the `group` column |", "|---|---|"]
    rows += [f"| `{code}` | {cell(meaning)} |" for code, meaning in catalogue.groupings().items()]
    return "\n".join(rows)

"""What the three kinds of brief share.

Their text, the key indicators, the facts table, the figures, the appendix,
and reading the stored scenarios and tables.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from simulator import catalogue
from simulator.reporting.html import figure, fmt_ci, html_table, para, pre_block
from simulator.results import numeric_columns, read_text_file, require_file
from simulator.scenario import ScenarioError

__all__ = ["FIGURE_ORDER", "SIGNIFICANT", "TEXT_COLUMNS", "appendix_yaml", "ci_cell", "facts_table",
           "figures", "header", "key_indicator_rows", "parse_stored_scenario", "read_run_scenario",
           "read_table", "record_facts", "show", "text", "unfinished"]

#: Figure names in the order the brief shows them (others follow, sorted).
FIGURE_ORDER: tuple[str, ...] = (
    "indicators", "class_counts", "resource_bill", "transitions",
    "market_prices", "market_caps", "quota_burden", "land_use", "investment", "entry_exit",
    "compare_indicators", "compare_differences", "compare_class_shares", "sweep_scatter",
)
SIGNIFICANT = "*"
TEXT_COLUMNS = ("scenario", "reference", "group", "metric", "output", "parameter")


def text(lang: str) -> dict[str, str]:
    """Return the brief's text in ``lang`` ("en" or "zh"): the locale's ``brief`` section."""
    return dict(catalogue.text(catalogue.check_language(lang), "brief"))


def key_indicator_rows(lang: str) -> list[tuple[str, str, str]]:
    """Return the key indicators (metric, group, label) of the brief's tables."""
    return list(catalogue.key_indicators(lang))


def read_table(path: Path, columns: Sequence[str],
               numeric: Sequence[str] | None = None) -> pd.DataFrame:
    """Read an experiment table that must have ``columns``, ``numeric`` ones holding numbers.

    ``numeric`` defaults to the columns of ``columns`` that are not names.
    """
    require_file(path)
    try:
        # Names stay text even when they look like numbers (a scenario called "2019").
        table = pd.read_csv(path, dtype={c: str for c in TEXT_COLUMNS})
    except (OSError, UnicodeDecodeError, pd.errors.ParserError,
            pd.errors.EmptyDataError) as exc:
        raise ScenarioError(f"cannot read {path.name}: {exc}", file=path) from None
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ScenarioError(f"{path.name} lacks column(s) {', '.join(missing)}", file=path)
    if numeric is None:
        numeric = [c for c in columns if c not in TEXT_COLUMNS]
    return numeric_columns(table, numeric, path)


def header(title: str, directory: Path, version: str, t: dict[str, str]) -> str:
    """Return the brief's title and the line saying how it was made."""
    generated = t["generated"].format(today=date.today().isoformat(), version=version,
                                      path=directory)
    return f"<h1>{html.escape(title)}</h1>\n{para(generated, 'meta')}"


def facts_table(rows: Sequence[tuple[str, object]], t: dict[str, str]) -> str:
    """Return a two-column table of facts, "—" for a missing value."""
    shown = [(k, "—" if v is None or v == "" else v) for k, v in rows]
    return html_table([t["field"], t["value"]], shown, numeric_from=99)


def figures(directory: Path, t: dict[str, str], lang: str,
            outputs: Sequence[str] = ()) -> str:
    """Return the directory's figures, in :data:`FIGURE_ORDER`, with captions."""
    pngs = {p.stem: p for p in sorted((directory / "figures").glob("*.png"))}
    if not pngs:
        return para(t["no_figures"], "note")
    order = [n for n in FIGURE_ORDER if n in pngs] + sorted(set(pngs) - set(FIGURE_ORDER))
    sobol = {}
    if outputs:
        from simulator.plots.sweep import figure_stems

        sobol = {stem: output for output, stem in figure_stems(list(outputs)).items()}
    parts = []
    for k, name in enumerate(order, start=1):
        caption = (t["fig.sobol"].format(output=sobol[name]) if name in sobol
                   else _caption(name, t, lang))
        parts.append(figure(pngs[name], caption, k, t))
    return "\n".join(parts)


def _caption(name: str, t: dict[str, str], lang: str) -> str:
    if f"fig.{name}" in t:
        return t[f"fig.{name}"]
    from simulator.plots._labels import LABELS

    title = LABELS.get(lang, {}).get(f"{name}.title", "")
    if title and "{" not in title:
        return title
    return name.replace("_", " ").capitalize() + "."


def record_facts(record: dict[str, Any], t: dict[str, str]) -> list[tuple[str, object]]:
    """Return the seed, runs, versions and times of an experiment record."""
    return [(t["seed"], record.get("seed")), (t["runs"], record.get("runs")),
            (t["version"], record.get("version")), (t["git"], record.get("git_revision")),
            (t["python"], record.get("python")), (t["created"], record.get("created")),
            (t["wall"], record.get("wall_time_s"))]


def unfinished(record: dict[str, Any], t: dict[str, str]) -> str:
    """Return a warning when the experiment record says it did not finish."""
    if record.get("finished", True):
        return ""
    failed = record.get("failed") or []
    return para(t["unfinished"].format(failed=", ".join(map(str, failed)) or "—"), "warn")


def appendix_yaml(title: str, content: str) -> str:
    """Return a titled ``<pre>`` block of the appendix."""
    return f"<h3>{html.escape(title)}</h3>\n{pre_block(content)}"


def ci_cell(stats: pd.Series, *, signed: bool = False) -> str:
    """Return a row of mean and CI columns as ``mean [low, high]``."""
    return fmt_ci(stats["mean"], stats["ci_low"], stats["ci_high"], signed=signed)


def show(value: object) -> str:
    """Return a scenario value as one line of text (JSON for mappings and lists)."""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def read_run_scenario(directory: str | Path,
                      manifest: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
    """Return a run's resolved scenario, parsed and as YAML text; None if it has none.

    Looks for ``scenario.yaml``, then the manifest's ``scenario_file`` (runs
    inside an experiment directory point to ``scenarios/<name>.yaml``), then
    the scenario stored in the manifest. Raises ScenarioError, naming the
    file and line, if the file found is not a YAML mapping.
    """
    directory = Path(directory)
    candidates = [directory / "scenario.yaml"]
    if manifest.get("scenario_file"):
        candidates.append(directory / str(manifest["scenario_file"]))
    for path in candidates:
        if path.is_file():
            text = read_text_file(path)
            return parse_stored_scenario(text, path), text
    if isinstance(manifest.get("scenario"), dict):
        return manifest["scenario"], yaml.safe_dump(manifest["scenario"], allow_unicode=True,
                                                    sort_keys=False)
    return None


def parse_stored_scenario(text: str, path: Path) -> dict[str, Any]:
    """Return a stored resolved scenario (YAML ``text`` of ``path``) as a mapping.

    Raises ScenarioError naming ``path`` (and the line) if it is not one.
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ScenarioError(f"cannot read {path.name}: not valid YAML", file=path,
                            line=None if mark is None else mark.line + 1) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ScenarioError(f"{path.name} does not hold a scenario (a YAML mapping)", file=path)
    return data

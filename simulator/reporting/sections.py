"""What the three kinds of brief share: their text, figures, provenance and stored files.

The text (:func:`text`, the locale's ``brief`` section), the figures chosen
by name from a preference list (:func:`select_figures`, in the language's
folder), the provenance facts of the appendix (:func:`provenance`), and
reading the stored scenarios and tables (:func:`read_table`,
:func:`read_run_scenario`, :func:`parse_stored_scenario`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from simulator import catalogue
from simulator.reporting.html import fmt_ci, png_data_uri
from simulator.results import numeric_columns, read_text_file, require_file
from simulator.scenario import ScenarioError

__all__ = ["FIGURE_ORDER", "FIGURE_PREFERENCE", "SIGNIFICANT", "TEXT_COLUMNS", "Figure",
           "ci_cell", "drawn_figure_dir", "key_indicator_rows", "page_meta",
           "parse_stored_scenario", "provenance", "read_run_scenario", "read_table",
           "record_text", "replications_words",
           "select_figures", "show", "text", "unfinished"]

#: The figures a brief shows, by kind, in order of preference; missing ones are skipped.
FIGURE_PREFERENCE: dict[str, tuple[str, ...]] = {
    "run": ("indicators", "land_contracts", "dual_control", "evaluation_rules", "exit_routes",
            "region_ranking", "sector_prices", "class_counts", "resource_bill", "market_prices",
            "transitions", "entry_exit", "market_caps", "land_use", "quota_burden",
            "investment"),
    "compare": ("compare_effects", "compare_differences", "compare_by_class",
                "compare_indicators"),
    "sweep": ("sweep_heatmap", "sweep_scatter"),
}
#: Every figure name a brief knows, in the order it shows them.
FIGURE_ORDER: tuple[str, ...] = tuple(dict.fromkeys(
    n for names in FIGURE_PREFERENCE.values() for n in names))
#: Most figures in a brief (a comparison prints in at most 8 A4 pages).
MAX_FIGURES = 6
SIGNIFICANT = "*"
TEXT_COLUMNS = ("scenario", "reference", "group", "metric", "output", "parameter")


@dataclass(frozen=True)
class Figure:
    """A figure of the brief: its PNG as a data URI, its caption and number."""

    name: str
    src: str
    caption: str
    number: int


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


def drawn_figure_dir(directory: Path, kind: str, lang: str) -> Path:
    """Return the folder of a directory's figures in ``lang``, drawing them first if need be.

    English figures are in ``figures/``, Chinese ones in ``figures/zh/``
    (:func:`simulator.plots.figure_dir`). A results directory written with
    ``--no-figures``, or in the other language, has none there yet: they are
    drawn from its result files (the brief never runs the model).
    """
    from simulator.plots import figure_dir as plots_figure_dir
    from simulator.plots import make_figures
    from simulator.plots.compare import compare_figures
    from simulator.plots.sweep import sweep_figures

    folder = Path(plots_figure_dir(directory, lang))
    if not any(folder.glob("*.png")):
        draw = {"run": make_figures, "compare": compare_figures, "sweep": sweep_figures}[kind]
        draw(directory, lang=lang, formats=("png",))
    return folder


def select_figures(directory: Path, kind: str, lang: str, t: dict[str, str], *,
                   extra: Sequence[tuple[str, str]] = ()) -> list[Figure]:
    """Return the brief's figures: :data:`FIGURE_PREFERENCE` of ``kind`` that exist, then ``extra``.

    Parameters
    ----------
    directory : Path
        The results directory.
    kind : {"run", "compare", "sweep"}
        The kind of brief.
    lang : {"en", "zh"}
        Language (the folder of the figures, the captions).
    t : dict
        The brief's texts (captions ``fig.<name>``).
    extra : sequence of (name, caption)
        More figures by name, e.g. a sweep's Sobol figure of each output that matters.

    Returns
    -------
    list of Figure
        At most :data:`MAX_FIGURES`, numbered from 1.
    """
    folder = drawn_figure_dir(directory, kind, lang)
    wanted = [(n, t.get(f"fig.{n}", n.replace("_", " ").capitalize() + "."))
              for n in FIGURE_PREFERENCE[kind]]
    out: list[Figure] = []
    for name, caption in [*wanted, *extra]:
        path = folder / f"{name}.png"
        if path.is_file() and len(out) < MAX_FIGURES and name not in {f.name for f in out}:
            out.append(Figure(name, png_data_uri(path), caption, len(out) + 1))
    return out


def provenance(record: dict[str, Any], t: dict[str, str], directory: Path,
               extra: Sequence[tuple[str, object]] = ()) -> list[tuple[str, str]]:
    """Return the appendix's facts: where the results are, seed, versions, revision, times."""
    rows: list[tuple[str, object]] = [
        (t["directory"], str(directory)), *extra,
        (t["seed"], record.get("seed")), (t["runs"], record.get("runs")),
        (t["version"], record.get("version")), (t["git"], record.get("git_revision")),
        (t["python"], record.get("python")),
        (t["created"], record.get("created") or record.get("started")),
        (t["wall"], record.get("wall_time_s")),
        (t["generated_on"], date.today().isoformat())]
    return [(k, "—" if v is None or v == "" else str(v)) for k, v in rows]


def replications_words(n: object, t: dict[str, str]) -> str:
    """Return "1 replication", "3 replications" (重复运行 3 次)."""
    return t["reps.one"] if n == 1 else t["reps.many"].format(n=n)


def page_meta(t: dict[str, str], **fields: object) -> str:
    """Return the line under the title (what was run, when it was written)."""
    return t["meta"].format(today=date.today().isoformat(), **fields)


def record_text(record: dict[str, Any]) -> str:
    """Return an experiment record or a manifest as indented JSON (without its checksums)."""
    shown = {k: v for k, v in record.items() if k not in ("files", "scenario")}
    return json.dumps(shown, indent=2, ensure_ascii=False)


def unfinished(record: dict[str, Any], t: dict[str, str]) -> str:
    """Return a warning when the experiment record says it did not finish ("" if it did)."""
    if record.get("finished", True):
        return ""
    failed = record.get("failed") or []
    return t["unfinished"].format(failed=", ".join(map(str, failed)) or "—")


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

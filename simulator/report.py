"""Policy brief (政策简报): one self-contained HTML file from a results directory.

:func:`write_report` reads what a run, a comparison or a sweep wrote and
makes a printable brief: what was run (scenarios, seed, replications,
versions), the key findings as plain tables, the figures with captions, and
an appendix with the resolved scenarios and the run record. Everything is in
one file: figures are embedded as base64 PNG, the CSS is inline, and nothing
is fetched from elsewhere, so the brief can be mailed or archived as is.

Like the figures, the brief is made from the result files only; it never runs
the model. Three kinds of directory are understood:

* a **run** (``manifest.json``, ``scenario.yaml``, ``metrics.parquet``,
  ``figures/``): the key indicators in the first and last year, with the
  t-based 95% CI of the mean when the run has several replications;
* a **comparison** (``experiment.json`` of kind ``compare``,
  ``scenarios/<name>.yaml``, ``summary.csv``, ``differences.csv``): each
  scenario's end-year mean, and its paired difference to the reference
  (the first scenario) with the interval, marked where it excludes zero;
* a **sweep** (``experiment.json`` of kind ``sweep``, ``sweep.yaml``,
  ``outputs.csv``, optional ``sobol.csv``): the range of each output and the
  parameters it is most sensitive to.

The small HTML helpers (:func:`html_table`, :func:`html_page`,
:func:`write_html`, ...) are shared with :mod:`simulator.card`.
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from simulator import catalogue
from simulator.results import (
    atomic_write,
    check_experiment_directory,
    numeric_columns,
    read_json_record,
    read_run,
    read_text_file,
    require_file,
)
from simulator.scenario import ScenarioError

__all__ = [
    "Markup",
    "fmt",
    "html_page",
    "html_table",
    "pre_block",
    "parse_stored_scenario",
    "read_run_scenario",
    "text",
    "write_html",
    "write_report",
]

#: Figure names in the order the brief shows them (others follow, sorted).
FIGURE_ORDER: tuple[str, ...] = (
    "indicators", "class_counts", "resource_bill", "transitions",
    "market_prices", "market_caps", "quota_burden", "land_use", "investment", "entry_exit",
    "compare_indicators", "compare_differences", "compare_class_shares", "sweep_scatter",
)
_SIGNIFICANT = "*"
_TEXT_COLUMNS = ("scenario", "reference", "group", "metric", "output", "parameter")
_MAX_DIFF_ROWS = 60

# ---------------------------------------------------------------- text


def text(lang: str) -> dict[str, str]:
    """Return the brief's text in ``lang`` ("en" or "zh"): the locale's ``brief`` section."""
    return dict(catalogue.text(catalogue.check_language(lang), "brief"))


def _key_rows(lang: str) -> list[tuple[str, str, str]]:
    """Return the key indicators (metric, group, label) of the brief's tables."""
    return list(catalogue.key_indicators(lang))


# ---------------------------------------------------------------- HTML helpers


class Markup(str):
    """A string of HTML that is already safe: :func:`html_table` does not escape it."""

    __slots__ = ()


def _cell(value: object) -> str:
    return value if isinstance(value, Markup) else html.escape(str(value))


def fmt(value: object, *, signed: bool = False) -> str:
    """Format a number for a table: 4 significant digits, thousands separators, "—" for NaN.

    Examples
    --------
    >>> fmt(25.14159), fmt(1234567.8), fmt(float("nan")), fmt(0.5, signed=True)
    ('25.14', '1,234,568', '—', '+0.5')
    """
    if value is None:
        return "—"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(v):
        return "—" if math.isnan(v) else ("∞" if v > 0 else "−∞")
    if abs(v) < 1e-6:  # float dust, e.g. 1e-12 of a quantity that is zero
        v = 0.0
    sign = "+" if signed and v != 0 else ""
    if abs(v) >= 999.95:  # whole numbers from here on: never "1e+04"
        return f"{v:{sign},.0f}"
    if v == int(v):
        return f"{int(v):{sign},d}"
    return f"{v:{sign},.4g}"


def fmt_ci(mean: float, low: float, high: float, *, signed: bool = False) -> str:
    """Format ``mean [low, high]``, or the mean alone when the interval is NaN."""
    if pd.isna(low) or pd.isna(high):
        return fmt(mean, signed=signed)
    return f"{fmt(mean, signed=signed)} [{fmt(low)}, {fmt(high)}]"


def html_table(header: Sequence[object], rows: Iterable[Sequence[object]], *,
               caption: str | None = None, numeric_from: int = 1) -> str:
    """Return an HTML table; cells are escaped unless they are :class:`Markup`.

    Parameters
    ----------
    header : sequence
        Column headings.
    rows : iterable of sequences
        Cells, one sequence per row.
    caption : str, optional
        Caption above the table (escaped).
    numeric_from : int
        Columns from this index on are right-aligned (numbers).
    """
    head = "".join(f'<th{" class=num" if i >= numeric_from else ""}>{_cell(h)}</th>'
                   for i, h in enumerate(header))
    body = "\n".join(
        "<tr>" + "".join(f'<td{" class=num" if i >= numeric_from else ""}>{_cell(c)}</td>'
                         for i, c in enumerate(row)) + "</tr>"
        for row in rows)
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table>"


def pre_block(content: str) -> str:
    """Return ``content`` escaped in a ``<pre>`` block."""
    return f"<pre>{html.escape(content)}</pre>"


def _para(content: str, cls: str | None = None) -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<p{attr}>{html.escape(content)}</p>"


def _figure(path: Path, caption: str, k: int, t: dict[str, str]) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    alt = html.escape(caption, quote=True)
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{alt}">'
            f"<figcaption><b>{html.escape(t['figure'].format(k=k))}</b>"
            f"{html.escape(caption)}</figcaption></figure>")


_CSS = """
body { font-family: "Source Han Sans", "Noto Sans CJK SC", "Microsoft YaHei", "Helvetica Neue",
       Arial, sans-serif; color: #222; max-width: 62em; margin: 2em auto; padding: 0 1.5em;
       line-height: 1.45; font-size: 11pt; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; border-bottom: 1px solid #999; padding-bottom: 0.15em; margin-top: 1.8em; }
h3 { font-size: 1.05em; margin-top: 1.3em; }
.meta { color: #555; font-size: 0.9em; margin-top: 0; }
.note { color: #444; font-size: 0.9em; }
table { border-collapse: collapse; margin: 0.6em 0 1em; font-size: 0.92em; }
caption { text-align: left; font-weight: bold; padding-bottom: 0.3em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.55em; vertical-align: top; }
th { background: #eee; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.absent td { color: #999; }
.sig { font-weight: bold; }
.warn { color: #8a1c1c; font-weight: bold; }
figure { margin: 1.2em 0; page-break-inside: avoid; break-inside: avoid; }
figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { font-size: 0.9em; color: #333; margin-top: 0.3em; }
pre { background: #f6f6f6; border: 1px solid #ddd; padding: 0.6em; font-size: 0.8em;
      white-space: pre-wrap; word-break: break-all; }
table, pre { page-break-inside: avoid; break-inside: avoid; }
@media print { body { max-width: none; margin: 0; font-size: 10pt; }
               h2 { page-break-after: avoid; break-after: avoid; } }
@page { margin: 1.6cm; }
"""


def html_page(title: str, body: str, *, lang: str = "en") -> str:
    """Return a complete HTML document with the inline style sheet."""
    code = "zh-CN" if lang == "zh" else "en"
    return (f'<!DOCTYPE html>\n<html lang="{code}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n"
            f"<body>\n{body}\n</body>\n</html>\n")


def write_html(path: str | Path, document: str) -> Path:
    """Write ``document`` to ``path`` atomically (a temporary file, then a rename)."""
    return atomic_write(path, lambda tmp: tmp.write_text(document, encoding="utf-8"))


# ---------------------------------------------------------------- entry point


def write_report(directory: str | Path, *, out: str | Path | None = None,
                 lang: str = "en") -> Path:
    """Write the HTML policy brief of a run, comparison or sweep directory.

    Parameters
    ----------
    directory : str or Path
        A run directory (``manifest.json`` and ``metrics.parquet``) or an
        experiment directory (``experiment.json`` of kind ``compare`` or
        ``sweep``).
    out : str or Path, optional
        The HTML file to write; default ``<directory>/brief.html``.
    lang : {"en", "zh"}
        Language of the text (and of the figures, when a run's figures have
        to be made first).

    Returns
    -------
    Path
        The brief, written atomically.

    Raises
    ------
    ScenarioError
        If ``directory`` is not a results directory or lacks a file the
        brief needs.

    Examples
    --------
    >>> write_report("results/baseline/20250101T000000Z")  # doctest: +SKIP
    PosixPath('results/baseline/20250101T000000Z/brief.html')
    """
    t = text(lang)
    directory = Path(directory)
    kind = _kind(directory)
    if kind == "run":
        title, body = _run_brief(directory, t, lang)
    else:
        record = check_experiment_directory(directory)  # every listed file intact
        build = _compare_brief if kind == "compare" else _sweep_brief
        title, body = build(directory, record, t, lang)
    out = Path(out) if out is not None else directory / "brief.html"
    return write_html(out, html_page(title, body, lang=lang))


def _kind(directory: Path) -> str:
    """Return "run", "compare" or "sweep"; raise ScenarioError for anything else."""
    if not directory.is_dir():
        raise ScenarioError("not a results directory (no such directory)", file=directory)
    record = directory / "experiment.json"
    if record.is_file():
        kind = read_json_record(record).get("kind")
        if kind not in ("compare", "sweep"):
            raise ScenarioError(f"not a results directory: experiment kind {kind!r} is "
                                "neither 'compare' nor 'sweep'", file=record)
        return str(kind)
    if (directory / "manifest.json").is_file() and (directory / "metrics.parquet").is_file():
        return "run"
    raise ScenarioError("not a results directory (no manifest.json and metrics.parquet, "
                        "nor experiment.json)", file=directory)


def _read_csv(path: Path, columns: Sequence[str],
              numeric: Sequence[str] | None = None) -> pd.DataFrame:
    """Read an experiment table that must have ``columns``, ``numeric`` ones holding numbers.

    ``numeric`` defaults to the columns of ``columns`` that are not names.
    """
    require_file(path)
    try:
        # Names stay text even when they look like numbers (a scenario called "2019").
        table = pd.read_csv(path, dtype={c: str for c in _TEXT_COLUMNS})
    except (OSError, UnicodeDecodeError, pd.errors.ParserError,
            pd.errors.EmptyDataError) as exc:
        raise ScenarioError(f"cannot read {path.name}: {exc}", file=path) from None
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ScenarioError(f"{path.name} lacks column(s) {', '.join(missing)}", file=path)
    if numeric is None:
        numeric = [c for c in columns if c not in _TEXT_COLUMNS]
    return numeric_columns(table, numeric, path)


def _header(title: str, directory: Path, version: str, t: dict[str, str]) -> str:
    generated = t["generated"].format(today=date.today().isoformat(), version=version,
                                      path=directory)
    return f"<h1>{html.escape(title)}</h1>\n{_para(generated, 'meta')}"


def _facts(rows: Sequence[tuple[str, object]], t: dict[str, str]) -> str:
    shown = [(k, "—" if v is None or v == "" else v) for k, v in rows]
    return html_table([t["field"], t["value"]], shown, numeric_from=99)


def _figures(directory: Path, t: dict[str, str], lang: str,
             outputs: Sequence[str] = ()) -> str:
    pngs = {p.stem: p for p in sorted((directory / "figures").glob("*.png"))}
    if not pngs:
        return _para(t["no_figures"], "note")
    order = [n for n in FIGURE_ORDER if n in pngs] + sorted(set(pngs) - set(FIGURE_ORDER))
    sobol = {}
    if outputs:
        from simulator.plots.sweep import figure_stems

        sobol = {stem: output for output, stem in figure_stems(list(outputs)).items()}
    parts = []
    for k, name in enumerate(order, start=1):
        caption = (t["fig.sobol"].format(output=sobol[name]) if name in sobol
                   else _caption(name, t, lang))
        parts.append(_figure(pngs[name], caption, k, t))
    return "\n".join(parts)


def _caption(name: str, t: dict[str, str], lang: str) -> str:
    if f"fig.{name}" in t:
        return t[f"fig.{name}"]
    from simulator.plots._labels import LABELS

    title = LABELS.get(lang, {}).get(f"{name}.title", "")
    if title and "{" not in title:
        return title
    return name.replace("_", " ").capitalize() + "."


def _record_facts(record: dict[str, Any], t: dict[str, str]) -> list[tuple[str, object]]:
    """Return the seed, runs, versions and times of an experiment record."""
    return [(t["seed"], record.get("seed")), (t["runs"], record.get("runs")),
            (t["version"], record.get("version")), (t["git"], record.get("git_revision")),
            (t["python"], record.get("python")), (t["created"], record.get("created")),
            (t["wall"], record.get("wall_time_s"))]


def _unfinished(record: dict[str, Any], t: dict[str, str]) -> str:
    """Return a warning when the experiment record says it did not finish."""
    if record.get("finished", True):
        return ""
    failed = record.get("failed") or []
    return _para(t["unfinished"].format(failed=", ".join(map(str, failed)) or "—"), "warn")


def _appendix_yaml(title: str, content: str) -> str:
    return f"<h3>{html.escape(title)}</h3>\n{pre_block(content)}"


# ---------------------------------------------------------------- a run


def _run_brief(directory: Path, t: dict[str, str], lang: str) -> tuple[str, str]:
    from simulator.plots import make_figures

    manifest, metrics = read_run(directory)
    scenario, scenario_text = read_run_scenario(directory, manifest) or ({}, "")
    name = str(manifest.get("scenario_name") or scenario.get("name", directory.name))
    figures_dir = directory / "figures"
    if not figures_dir.is_dir() or not any(figures_dir.glob("*.png")):
        make_figures(directory, lang=lang)

    annual = metrics[metrics["month"].isna()]
    years = sorted(int(y) for y in annual["year"].unique())
    replications = int(annual["replication"].nunique()) if len(annual) else 0
    run = scenario.get("run", {}) or {}
    title = t["title.run"].format(name=name)
    facts = [
        (t["scenario"], name),
        (t["description"], scenario.get("description", "")),
        (t["period"], f"{run.get('start', years[0] if years else '?')} – "
                      f"{run.get('end', years[-1] if years else '?')}"),
        (t["firms"], manifest.get("firms")),
        (t["seed"], manifest.get("seed")),
        (t["replications"], manifest.get("replications", replications)),
        (t["version"], manifest.get("version")),
        (t["git"], manifest.get("git_revision")),
        (t["python"], manifest.get("python")),
        (t["started"], manifest.get("started")),
        (t["wall"], manifest.get("wall_time_s")),
    ]
    body = [_header(title, directory, str(manifest.get("version", "?")), t),
            f"<h2>{html.escape(t['what'])}</h2>", _facts(facts, t),
            f"<h3>{html.escape(t['timeline'])}</h3>", _timeline(scenario, t),
            f"<h2>{html.escape(t['findings'])}</h2>"]
    if years:
        body.append(_run_findings(annual, years, replications, t, lang))
    body.append(_markets_in_words(metrics, t))
    body += [f"<h2>{html.escape(t['figures'])}</h2>", _figures(directory, t, lang),
             f"<h2>{html.escape(t['appendix'])}</h2>",
             _appendix_yaml(t["resolved"].format(name=name), scenario_text)]
    record = {k: v for k, v in manifest.items() if k != "scenario"}
    body.append(_appendix_yaml(t["record"].format(file="manifest.json"),
                               json.dumps(record, indent=2, ensure_ascii=False)))
    body.append(_para(t["record_note"], "note"))
    return title, "\n".join(body)


def _markets_in_words(metrics: pd.DataFrame, t: dict[str, str]) -> str:
    """Say what each quota market did: when its cap bound, who set its prices, compliance."""
    from simulator.diagnostics import ADMINISTRATIVE_LIMIT, market_summary

    summary = market_summary(metrics)
    if summary.empty:
        return ""
    out = [f"<h3>{html.escape(t['markets'])}</h3>"]
    for m in summary.itertuples():
        n = m.last_year - m.first_year + 1
        bound = (t["markets.bound"].format(k=len(m.binding_years), n=n,
                                           first=m.binding_years[0], last=m.binding_years[-1])
                 if m.binding_years else t["markets.never"].format(n=n))
        text = t["markets.line"].format(
            market=t.get(f"market.{m.market}", m.market), bound=bound,
            admin=f"{100 * m.administrative_share:.0f}", low=f"{m.price_min:,.0f}",
            high=f"{m.price_max:,.0f}", compliance=f"{100 * m.compliance_min:.1f}")
        warn = (not m.binding_years or m.administrative_share > ADMINISTRATIVE_LIMIT)
        out.append(_para(text, "warn" if warn else None))
    return "\n".join(out)


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


def _timeline(scenario: dict[str, Any], t: dict[str, str]) -> str:
    changes = scenario.get("timeline") or []
    if not changes:
        return _para(t["no_timeline"], "note")
    rows = []
    for change in sorted(changes, key=lambda c: str(c.get("date", ""))):
        for path, value in (change.get("set") or {}).items():
            rows.append((change.get("date", ""), path, _show(value)))
    return html_table(["", t["path"], t["value"]], rows, numeric_from=99)


def _run_findings(annual: pd.DataFrame, years: list[int], replications: int,
                  t: dict[str, str], lang: str) -> str:
    from simulator.stats import mean_ci

    first, last = years[0], years[-1]
    rows = []
    for metric, group, label in _key_rows(lang):
        sel = annual[(annual["metric"] == metric) & (annual["group"] == group)]
        if sel.empty:
            continue
        wide = sel.pivot_table(index="year", columns="replication", values="value",
                               aggfunc="first")
        cells = []
        for year in (first, last):
            row = wide.loc[[year]] if year in wide.index else None
            cells.append("—" if row is None else _ci_cell(mean_ci(row).iloc[0]))
        if first in wide.index and last in wide.index:
            change = mean_ci(pd.DataFrame(wide.loc[[last]].to_numpy()
                                          - wide.loc[[first]].to_numpy())).iloc[0]
            base = float(wide.loc[first].mean())
            cells.append(_ci_cell(change, signed=True))
            cells.append(f"{100 * change['mean'] / abs(base):+.1f}%" if base else "—")
        else:
            cells += ["—", "—"]
        rows.append((label, *cells))
    note = (t["ci_note"].format(n=replications) if replications > 1 else t["single_note"])
    table = html_table([t["indicator"], str(first), str(last),
                        t["change"].format(first=first, last=last), t["change_pct"]], rows)
    return f"{table}\n{_para(note, 'note')}"


def _ci_cell(stats: pd.Series, *, signed: bool = False) -> str:
    return fmt_ci(stats["mean"], stats["ci_low"], stats["ci_high"], signed=signed)


def _show(value: object) -> str:
    """Return a scenario value as one line of text (JSON for mappings and lists)."""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


# ---------------------------------------------------------------- a comparison

_SUMMARY_COLUMNS = ("scenario", "group", "metric", "year", "mean", "ci_low", "ci_high")
_DIFFERENCE_COLUMNS = ("scenario", "reference", "group", "metric", "year", "mean", "ci_low",
                       "ci_high")


def _compare_brief(directory: Path, record: dict[str, Any], t: dict[str, str],
                   lang: str) -> tuple[str, str]:
    summary = _read_csv(directory / "summary.csv", _SUMMARY_COLUMNS)
    differences = _read_csv(directory / "differences.csv", _DIFFERENCE_COLUMNS)
    scenarios = [str(s) for s in record.get("scenarios") or pd.unique(summary["scenario"])]
    if not scenarios:
        raise ScenarioError("experiment.json names no scenarios",
                            file=directory / "experiment.json")
    reference = str(record.get("reference") or scenarios[0])
    if reference in scenarios:  # the reference comes first in every table
        scenarios = [reference, *(s for s in scenarios if s != reference)]
    yamls = _scenario_texts(directory, scenarios)
    parsed = {name: parse_stored_scenario(text_, directory / "scenarios" / f"{name}.yaml")
              for name, text_ in yamls.items()}
    name = str(record.get("name", directory.name))
    title = t["title.compare"].format(name=name)
    year = int(summary["year"].max()) if len(summary) else None
    replications = record.get("replications")

    scenario_rows = [(s + (t["reference_mark"] if s == reference else ""),
                      parsed.get(s, {}).get("description", "")) for s in scenarios]
    run = parsed.get(reference, {}).get("run") or {}
    facts = [
        (t["reference"], reference),
        (t["period"], f"{run.get('start', '?')} – {run.get('end', '?')}" if run else None),
        (t["replications"], replications),
        *_record_facts(record, t),
    ]
    body = [_header(title, directory, str(record.get("version", "?")), t),
            _unfinished(record, t),
            f"<h2>{html.escape(t['what'])}</h2>",
            html_table([t["scenario"], t["description"]], scenario_rows, numeric_from=99),
            _facts(facts, t)]
    for other in scenarios[1:]:
        body.append(_what_differs(parsed.get(reference, {}), parsed.get(other, {}),
                                  other, reference, t))
    body.append(f"<h2>{html.escape(t['findings'])}</h2>")
    if year is not None:
        body.append(_compare_findings(summary, differences, scenarios, year,
                                      int(replications or 0), t, lang))
    body += [f"<h2>{html.escape(t['figures'])}</h2>", _figures(directory, t, lang),
             f"<h2>{html.escape(t['appendix'])}</h2>"]
    body += [_appendix_yaml(t["resolved"].format(name=s), text_) for s, text_ in yamls.items()]
    body.append(_appendix_yaml(t["record"].format(file="experiment.json"),
                               json.dumps(record, indent=2, ensure_ascii=False)))
    return title, "\n".join(body)


def _scenario_texts(directory: Path, names: Sequence[str]) -> dict[str, str]:
    texts = {}
    for name in names:
        path = directory / "scenarios" / f"{name}.yaml"
        if path.is_file():
            texts[name] = read_text_file(path)
    return texts


def _pick(table: pd.DataFrame, **keys: object) -> pd.Series | None:
    mask = np.ones(len(table), dtype=bool)
    for column, value in keys.items():
        mask &= (table[column] == value).to_numpy()
    rows = table[mask]
    return None if rows.empty else rows.iloc[0]


def _compare_findings(summary: pd.DataFrame, differences: pd.DataFrame, scenarios: list[str],
                      year: int, replications: int, t: dict[str, str], lang: str) -> str:
    reference, others = scenarios[0], scenarios[1:]
    key_rows = [r for r in _key_rows(lang)
                if ((summary["metric"] == r[0]) & (summary["group"] == r[1])).any()]
    outcome_rows, difference_rows, sentences = [], [], []
    for metric, group, label in key_rows:
        cells = []
        ref_mean = float("nan")
        for s in scenarios:
            row = _pick(summary, scenario=s, metric=metric, group=group, year=year)
            cells.append("—" if row is None else _ci_cell(row))
            if s == reference and row is not None:
                ref_mean = float(row["mean"])
        outcome_rows.append((label, *cells))
        diff_cells: list[object] = []
        for s in others:
            row = _pick(differences, scenario=s, reference=reference, metric=metric,
                        group=group, year=year)
            if row is None:
                diff_cells.append("—")
                continue
            shown = _ci_cell(row, signed=True)
            excludes_zero = (pd.notna(row["ci_low"]) and pd.notna(row["ci_high"])
                             and (row["ci_low"] > 0 or row["ci_high"] < 0))
            if excludes_zero:
                diff_cells.append(Markup(f'<span class="sig">{html.escape(shown)} '
                                         f"{_SIGNIFICANT}</span>"))
                sentences.append(_significant_sentence(label, s, reference, row, ref_mean,
                                                       year, t))
            else:
                diff_cells.append(shown)
        difference_rows.append((label, *diff_cells))

    parts = [f"<h3>{html.escape(t['end_year'].format(year=year))}</h3>",
             html_table([t["indicator"], *scenarios], outcome_rows),
             _para(t["end_year_note"].format(year=year), "note")]
    if others:
        parts += [f"<h3>{html.escape(t['differences'].format(reference=reference, year=year))}"
                  "</h3>",
                  html_table([t["indicator"], *others], difference_rows),
                  _para(t["differences_note"].format(reference=reference, mark=_SIGNIFICANT),
                        "note")]
        if replications < 2:
            parts.append(_para(t["no_ci_note"], "note"))
        if sentences:
            parts.append("<ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in sentences)
                         + "</ul>")
        else:
            parts.append(_para(t["no_significant"].format(year=year)))
    return "\n".join(parts)


def _significant_sentence(label: str, scenario: str, reference: str, row: pd.Series,
                          ref_mean: float, year: int, t: dict[str, str]) -> str:
    diff = float(row["mean"])
    pct = (f"{100 * diff / abs(ref_mean):+.1f}%" if math.isfinite(ref_mean) and ref_mean != 0
           else "—")
    return t["significant"].format(
        year=year, label=label, scenario=scenario, reference=reference,
        direction=t["higher"] if diff > 0 else t["lower"], diff=fmt(abs(diff)), pct=pct,
        low=fmt(row["ci_low"]), high=fmt(row["ci_high"]))


def _flatten(data: object, prefix: str = "") -> dict[str, object]:
    """Dotted path -> leaf value (lists are leaves)."""
    if isinstance(data, dict):
        out: dict[str, object] = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): data}


def _what_differs(reference: dict[str, Any], other: dict[str, Any], name: str,
                  reference_name: str, t: dict[str, str]) -> str:
    heading = f"<h3>{html.escape(t['what_differs'].format(reference=reference_name))}: " \
              f"{html.escape(name)}</h3>"
    if not reference or not other:
        return ""
    a, b = _flatten(reference), _flatten(other)
    skip = {"name", "description"}
    paths = [p for p in sorted(set(a) | set(b)) if p not in skip and a.get(p) != b.get(p)]
    if not paths:
        return heading + _para(t["no_difference"].format(scenario=name, reference=reference_name))
    rows = [(p, _show(a.get(p, "—")), _show(b.get(p, "—"))) for p in paths[:_MAX_DIFF_ROWS]]
    parts = [heading, html_table([t["path"], reference_name, name], rows, numeric_from=99),
             _para(t["what_differs_note"], "note")]
    if len(paths) > _MAX_DIFF_ROWS:
        parts.append(_para(t["more_rows"].format(n=len(paths) - _MAX_DIFF_ROWS), "note"))
    return "\n".join(parts)


# ---------------------------------------------------------------- a sweep


def _sweep_brief(directory: Path, record: dict[str, Any], t: dict[str, str],
                 lang: str) -> tuple[str, str]:
    outputs_table = _read_csv(directory / "outputs.csv", ("sample",))
    parameters = [p for p in record.get("parameters") or [] if p in outputs_table.columns]
    outputs = [o for o in record.get("outputs") or [] if o in outputs_table.columns]
    if not outputs:
        outputs = [c for c in outputs_table.columns
                   if c not in ("sample", "replication", *parameters)]
    numeric_columns(outputs_table, [*parameters, *outputs], directory / "outputs.csv")
    name = str(record.get("name", directory.name))
    title = t["title.sweep"].format(name=name)
    facts = [
        (t["design"], record.get("design")),
        (t["samples"], record.get("samples", outputs_table["sample"].nunique())),
        (t["replications"], record.get("replications")),
        *_record_facts(record, t),
    ]
    # One row per sample: parameters, and each output's mean over replications.
    per_sample = outputs_table.groupby("sample", sort=True)
    means = per_sample[[*parameters, *outputs]].mean()
    sobol = None
    if (directory / "sobol.csv").is_file():
        sobol = _read_csv(directory / "sobol.csv", ("output", "parameter", "S1", "ST"))

    param_rows = [(p, fmt(means[p].min()), fmt(means[p].max()), int(means[p].nunique()))
                  for p in parameters]
    output_rows = [(o, fmt(means[o].mean()), fmt(means[o].std(ddof=1)), fmt(means[o].min()),
                    fmt(means[o].max())) for o in outputs]
    body = [_header(title, directory, str(record.get("version", "?")), t),
            _unfinished(record, t),
            f"<h2>{html.escape(t['what'])}</h2>", _facts(facts, t),
            f"<h3>{html.escape(t['parameters'])}</h3>",
            html_table([t["parameter"], t["minimum"], t["maximum"], t["distinct"]], param_rows),
            f"<h2>{html.escape(t['findings'])}</h2>",
            _sweep_sentences(means, parameters, outputs, sobol, t),
            f"<h3>{html.escape(t['outputs'])}</h3>",
            html_table([t["output"], t["mean"], t["sd"], t["minimum"], t["maximum"]],
                       output_rows),
            _para(t["samples_note"], "note"),
            f"<h3>{html.escape(t['sensitivity'])}</h3>",
            _sensitivity(means, parameters, outputs, sobol, t)]
    if record.get("design") == "grid" and len(means) <= 50:
        body.append(_grid_table(outputs_table, parameters, outputs, t))
    body += [f"<h2>{html.escape(t['figures'])}</h2>", _figures(directory, t, lang, outputs),
             f"<h2>{html.escape(t['appendix'])}</h2>"]
    for file, label in (("sweep.yaml", t["sweep_file"]), ("scenarios/base.yaml", t["base"])):
        path = directory / file
        if path.is_file():
            body.append(_appendix_yaml(label, read_text_file(path)))
    body.append(_appendix_yaml(t["record"].format(file="experiment.json"),
                               json.dumps(record, indent=2, ensure_ascii=False)))
    return title, "\n".join(body)


def _spearman(means: pd.DataFrame, parameters: list[str], outputs: list[str]) -> pd.DataFrame:
    """Rank correlation, parameters (rows) x outputs (columns); NaN where a column is constant."""
    ranks = means[[*parameters, *outputs]].rank()
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = ranks.corr()
    return corr.loc[parameters, outputs]


def _sweep_sentences(means: pd.DataFrame, parameters: list[str], outputs: list[str],
                     sobol: pd.DataFrame | None, t: dict[str, str]) -> str:
    rho = _spearman(means, parameters, outputs) if parameters else None
    items = []
    for o in outputs:
        line = t["sweep_range"].format(output=o, low=fmt(means[o].min()), high=fmt(means[o].max()),
                                       mean=fmt(means[o].mean()), n=len(means))
        rows = sobol[sobol["output"] == o] if sobol is not None else None
        if rows is not None and len(rows) and rows["ST"].notna().any():
            best = rows.loc[rows["ST"].idxmax()]
            line += t["most_st"].format(parameter=best["parameter"], st=fmt(best["ST"]))
        elif rho is not None and rho[o].notna().any():
            p = rho[o].abs().idxmax()
            line += t["most_rho"].format(parameter=p, rho=f"{rho.loc[p, o]:+.2f}")
        else:
            line += "."
        items.append(f"<li>{html.escape(line)}</li>")
    return "<ul>" + "".join(items) + "</ul>"


def _sensitivity(means: pd.DataFrame, parameters: list[str], outputs: list[str],
                 sobol: pd.DataFrame | None, t: dict[str, str]) -> str:
    if sobol is not None and len(sobol):
        def pm(value: object, conf: object) -> str:
            return fmt(value) if pd.isna(conf) else f"{fmt(value)} ± {fmt(conf)}"

        rows = [(r["output"], r["parameter"], pm(r["S1"], r.get("S1_conf")),
                 pm(r["ST"], r.get("ST_conf"))) for _, r in sobol.iterrows()]
        return (html_table([t["output"], t["parameter"], "S1", "ST"], rows, numeric_from=2)
                + _para(t["sobol_note"], "note"))
    if not parameters:
        return ""
    rho = _spearman(means, parameters, outputs)
    rows = [(p, *(f"{v:+.2f}" if pd.notna(v) else "—" for v in rho.loc[p])) for p in parameters]
    return html_table([t["parameter"], *outputs], rows) + _para(t["spearman_note"], "note")


def _grid_table(table: pd.DataFrame, parameters: list[str], outputs: list[str],
                t: dict[str, str]) -> str:
    from simulator.stats import mean_ci

    rows = []
    for sample, part in table.groupby("sample", sort=True):
        cells = [fmt(part[p].iloc[0]) for p in parameters]
        for o in outputs:
            stats = mean_ci(part[[o]].T.reset_index(drop=True)).iloc[0]
            cells.append(_ci_cell(stats))
        rows.append((sample, *cells))
    return (f"<h3>{html.escape(t['grid'])}</h3>"
            + html_table([t["sample"], *parameters, *outputs], rows))

"""Firm report card (一企一单): one firm's evaluation, bills and quotas, year by year.

:func:`write_card` reads a run's ``firms.parquet`` (one row per firm and
year) and ``scenario.yaml`` (the evaluation rules) and writes one
self-contained HTML page for one firm: each year's indicators, score, rank
and class; its bills by resource; its quotas and payments per market; how its
last score is made up; and which changes would lift its class.

The page is the Jinja2 template ``templates/card.html.j2`` with the style
sheet ``templates/card.css`` (assembled in :func:`_head_css`). Tables of
indicators by year are split into blocks of at most
:data:`MAX_YEARS_PER_TABLE` years (:func:`year_blocks`), so that a run of any
length fits a 1280 px screen and an A4 portrait page. Money is in 万元 and
electricity in 10⁴ kWh throughout, so that no number is wider than a column.

The computation of what would lift the class is in :mod:`simulator.reporting.lift`.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup

from simulator import catalogue
from simulator.reporting import card_tables as tables
from simulator.reporting.card_tables import MAX_YEARS_PER_TABLE, year_blocks
from simulator.reporting.fonts import font_face_css
from simulator.reporting.html import write_html
from simulator.reporting.lift import class_lift
from simulator.reporting.sections import read_run_scenario
from simulator.results import parquet_columns, read_json_record, read_parquet_file, verify_file
from simulator.scenario import EvaluationSpec, ScenarioError

__all__ = ["MAX_YEARS_PER_TABLE", "read_firm_years", "write_card", "year_blocks"]

#: The card's template and style sheet.
_TEMPLATES = Path(__file__).with_name("templates")

#: firms.parquet columns a card picks its rows by.
_KEY_COLUMNS: tuple[str, ...] = ("replication", "year", "firm_id")
#: Every firms.parquet column the card reads (checked before reading).
_COLUMNS: tuple[str, ...] = (
    *_KEY_COLUMNS, "sector", "scale", "region", "park", "class", "class_in_force", "score",
    "rank", "group_size", "vetoed", "consecutive_d_years", "invested_options", "va_wan_yuan",
    "revenue_wan_yuan", "tax_wan_yuan", "profit_wan_yuan", "rd_wan_yuan", "cash_wan_yuan",
    "employees", "land_mu", "energy_tce", "electricity_kwh", "water_m3",
    "electricity_bill_yuan", "electricity_surcharge_yuan", "water_bill_yuan",
    "water_surcharge_yuan", "land_tax_yuan", "land_tax_relief_yuan", "pollution_charge_yuan",
    "pollution_surcharge_yuan", "subsidy_yuan",
)


def read_firm_years(run_dir: str | Path, *, replication: int | None = 0) -> pd.DataFrame:
    """Return firms.parquet rows of one replication, raising ScenarioError if there are none.

    ``replication=None``: the only replication the file holds, else 0 (a run
    inside a comparison holds the one replication it ran).
    """
    run_dir = Path(run_dir)
    manifest = read_json_record(run_dir / "manifest.json")  # a run has one
    path = run_dir / "firms.parquet"
    if not path.is_file():
        raise ScenarioError("no firm snapshots (firms.parquet) in this run: set "
                            "output.firm_snapshots and run again", file=path)
    verify_file(path, manifest, record_path=run_dir / "manifest.json")
    parquet_columns(path, _COLUMNS)  # readable, with every column the card reads
    if replication is None:
        held = read_parquet_file(path, columns=["replication"])["replication"].unique()
        replication = int(held[0]) if held.size == 1 else 0
    firms = read_parquet_file(path, filters=[("replication", "=", int(replication))])
    if firms.empty:
        held = sorted(read_parquet_file(path, columns=["replication"])["replication"].unique())
        raise ScenarioError(f"replication {replication} is not in firms.parquet (it holds "
                            f"{', '.join(map(str, held)) or 'none'})", file=path)
    return firms


def _read_rules(run_dir: Path, firm_id: int) -> tuple[dict[str, Any], EvaluationSpec]:
    """Return the run's resolved scenario (as a dict) and its evaluation rules."""
    manifest = read_json_record(run_dir / "manifest.json")
    found = read_run_scenario(run_dir, manifest)
    if found is None:
        raise ScenarioError(f"no scenario.yaml, so no evaluation rules for the card of firm "
                            f"{firm_id}", file=run_dir / "scenario.yaml")
    data = found[0]
    try:
        spec = EvaluationSpec.model_validate(data.get("evaluation") or {})
    except ValueError as exc:
        raise ScenarioError(f"invalid evaluation rules: {exc}", file=run_dir / "scenario.yaml",
                            field="evaluation") from None
    return data, spec


def _text(lang: str) -> dict[str, str]:
    """Return the card's text in ``lang``: the locale's ``card`` section."""
    return dict(catalogue.text(catalogue.check_language(lang), "card"))


def write_card(run_dir: str | Path, firm_id: int, *, out: str | Path | None = None,
               replication: int | None = None, lang: str = "en") -> Path:
    """Write one firm's report card (一企一单) as a self-contained HTML file.

    Parameters
    ----------
    run_dir : str or Path
        A run directory with ``firms.parquet`` and ``scenario.yaml``.
    firm_id : int
        The firm.
    out : str or Path, optional
        The HTML file; default ``<run_dir>/cards/firm_<id>.html``.
    replication : int, optional
        Which replication's firms to show; default the run's only one, else 0.
    lang : {"en", "zh"}
        Language of the text.

    Returns
    -------
    Path
        The card, written atomically.

    Raises
    ------
    ScenarioError
        If the run has no firms.parquet or the firm is not in it.
    """
    t = _text(lang)
    run_dir = Path(run_dir)
    firm_id = int(firm_id)
    firms = _read_firms(run_dir, firm_id, replication)
    replication = int(firms["replication"].iloc[0])
    mine = firms[firms["firm_id"].to_numpy() == firm_id].sort_values("year")
    if mine.empty:
        raise ScenarioError(_not_in_run(run_dir, firms, firm_id, replication),
                            file=run_dir / "firms.parquet", field="firm_id")
    scenario, spec = _read_rules(run_dir, firm_id)
    run_years = sorted(int(y) for y in firms["year"].unique())
    last_year = int(mine["year"].iloc[-1])
    pollutants = tables.run_pollutants(scenario)
    lift = class_lift(firms[firms["year"].to_numpy() == last_year], firm_id, spec,
                      tuple(pollutants))

    name = str(scenario.get("name") or run_dir.name)
    years = [int(y) for y in mine["year"]]
    sections = [
        tables.section(t["firm"], [{"kind": "facts", "rows": tables.firm_facts(
            mine, run_years, scenario, t)}]),
        tables.section(t["evaluation"], [tables.years_part(
            years, tables.evaluation_rows(mine, run_years, t, lang), t)]),
        tables.section(t["production"], [
            tables.years_part(years, tables.production_rows(mine, t, pollutants, lang), t),
            tables.para(tables.investments_sentence(mine, t))]),
        tables.section(t["bills"], [tables.years_part(
            years, tables.bill_rows(mine, t, pollutants), t)]),
        tables.section(t["quotas"], tables.quota_parts(mine, years, t, pollutants, lang)),
        tables.section(t["breakdown"].format(year=last_year),
                       tables.breakdown_parts(lift, spec, t, lang)),
        tables.section(t["lift"].format(year=last_year), tables.lift_parts(lift, spec, t, lang)),
        tables.section(t["rules"], [tables.rules_facts(lift, spec, t, lang)]),
    ]
    context = {"lang_code": "zh-CN" if lang == "zh" else "en",
               "title": t["title"].format(firm=firm_id),
               "meta": t["meta"].format(scenario=name, replication=replication,
                                        today=date.today().isoformat(), path=run_dir),
               "sections": sections}
    template = _template()
    # The style sheet may depend on the page's text (a font subset): render the text first.
    text = template.render(**context, head_css="")
    document = template.render(**context, head_css=Markup(_head_css(text)))
    out = Path(out) if out is not None else run_dir / "cards" / f"firm_{firm_id}.html"
    return write_html(out, document)


def _read_firms(run_dir: Path, firm_id: int, replication: int | None) -> pd.DataFrame:
    """Return the run's firms.parquet rows of one replication, or say why there are none."""
    if not run_dir.is_dir():
        raise ScenarioError(f"not a results directory (no such directory); cannot make the "
                            f"card of firm {firm_id}", file=run_dir)
    if (run_dir / "experiment.json").is_file() and (run_dir / "runs").is_dir():
        example = next((p.parent for p in sorted((run_dir / "runs").rglob("firms.parquet"))),
                       run_dir / "runs" / "<run>")
        raise ScenarioError(f"this is an experiment directory; a card is made from one of its "
                            f"runs, e.g. {example}", file=run_dir)
    if not (run_dir / "firms.parquet").is_file():
        raise ScenarioError(f"no firm snapshots in this run, so no card for firm {firm_id}: "
                            "run again with output.firm_snapshots: true",
                            file=run_dir / "firms.parquet")
    return read_firm_years(run_dir, replication=replication)


def _not_in_run(run_dir: Path, firms: pd.DataFrame, firm_id: int, replication: int) -> str:
    """Return the one-line error for a firm id the run does not hold, with how to list them."""
    ids = np.unique(firms["firm_id"].to_numpy())
    low, high = int(ids[0]), int(ids[-1])
    gaps = ", not every id in between" if ids.size < high - low + 1 else ""
    return (f"firm {firm_id} is not in this run (replication {replication} holds {ids.size} "
            f"firms, ids {low}–{high}{gaps}); list them with: python run.py firms {run_dir} "
            f"--class D")


@cache
def _template() -> jinja2.Template:
    """Return the card's page template (autoescaped; undefined names are errors)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(_TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True)
    return env.get_template("card.html.j2")


def _head_css(text: str) -> str:
    """Return the card's style sheet: the one place the page's ``<head>`` CSS is assembled.

    Parameters
    ----------
    text : str
        The page as rendered without a style sheet: the characters it shows
        (for a style that depends on them, such as an embedded font subset).
    """
    # The CJK font comes with the page (subset to its characters), so Chinese renders
    # on a machine with no CJK font of its own.
    return font_face_css(text) + "\n" + (_TEMPLATES / "card.css").read_text(encoding="utf-8")



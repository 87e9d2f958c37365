"""The explorer's web app (Dash): levers on the left; figures and the difference table on the right.

:func:`build_app` lays out one slider per lever (:mod:`simulator.explore.levers`)
and wires three callbacks: a lever moved runs the variant and redraws the
figures and the table (:func:`variant_view`, also usable without a browser), the
reset button puts every lever back at the baseline, and the save button writes
the variant file (:func:`save_view`). A run or a save that fails shows its
message on the page; the app keeps serving.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import dash
import flask
from dash import ALL, Input, Output, State, dcc, html

from simulator import catalogue
from simulator.explore.figures import FIGURES, comparison_figures
from simulator.explore.fonts import cjk_characters
from simulator.explore.levers import Lever, clamp, lever_changes, timeline_notes
from simulator.explore.runs import Comparison, Explorer, key_table
from simulator.explore.texts import (
    group_title,
    lever_label,
    lever_number,
    lever_unit,
    number,
    size_text,
    texts,
)
from simulator.explore.variant import save_variant, saved_on
from simulator.reporting.fonts import subset_font
from simulator.scenario import ScenarioError

__all__ = ["LEVER", "build_app", "save_view", "variant_view"]

log = logging.getLogger(__name__)

#: The ``type`` of every lever slider's pattern-matching id (``{"type": LEVER, "key": key}``).
LEVER = "lever"
#: Figure sets kept in memory, by lever changes.
FIGURE_CACHE = 16

#: Where the app serves the CJK font that comes with the install (for Chinese text).
FONT_ROUTE = "/_mujun/cjk-font.otf"

_CSS = """
@font-face { font-family: "Mujun CJK";
  src: local("Noto Sans CJK SC"), local("Source Han Sans SC"), local("Microsoft YaHei"),
       local("PingFang SC"), url("{font}") format("opentype");
  font-display: block;
  unicode-range: U+2E80-2FFF, U+3000-303F, U+3400-9FFF, U+F900-FAFF, U+FF00-FFEF; }
body { margin: 0; font-family: system-ui, "Segoe UI", "Noto Sans", "Mujun CJK", sans-serif;
       color: #1d2a33; background: #f6f7f8; }
header { padding: 14px 24px 8px; background: #fff; border-bottom: 1px solid #dde3e7; }
header h1 { font-size: 1.35rem; margin: 0 0 4px; }
header p { margin: 2px 0; font-size: 0.9rem; color: #45545e; }
#size { font-weight: 600; color: #1d2a33; }
.columns { display: flex; align-items: flex-start; gap: 18px; padding: 16px 24px; }
aside { flex: 0 0 370px; background: #fff; border: 1px solid #dde3e7; border-radius: 6px;
        padding: 10px 14px; position: sticky; top: 8px; max-height: calc(100vh - 24px);
        overflow-y: auto; }
main { flex: 1 1 auto; min-width: 0; }
aside h2 { font-size: 1.05rem; margin: 4px 0 8px; display: flex; justify-content: space-between;
           align-items: center; }
details { border-top: 1px solid #e6eaed; padding: 6px 0; }
summary { cursor: pointer; font-weight: 600; font-size: 0.92rem; padding: 2px 0; }
.help { font-size: 0.78rem; color: #5b6a74; margin: 4px 0 6px; }
.lever { margin: 8px 0 12px; }
.lever label { font-size: 0.85rem; display: block; }
.unit { color: #5b6a74; }
.dash-slider-container input[type=number] { min-width: 7ch; }
.note { font-size: 0.74rem; color: #6b7a84; margin-top: 4px; }
.timeline { color: #9a5b00; }
button { font: inherit; font-size: 0.85rem; padding: 4px 10px; border-radius: 4px;
         border: 1px solid #8aa2b1; background: #eef3f6; cursor: pointer; }
button.primary { background: #00796b; color: #fff; border-color: #00695c; }
.save input { width: 100%; box-sizing: border-box; font: inherit; font-size: 0.85rem;
              padding: 3px 6px; margin: 2px 0 6px; }
.save label { font-size: 0.82rem; }
.message { font-size: 0.82rem; margin-top: 6px; word-break: break-all; }
.status { padding: 8px 12px; border-radius: 6px; margin-bottom: 12px; font-size: 0.9rem;
          background: #e8f3f1; border: 1px solid #b7d9d3; }
.status.error, .message.error { background: #fdecea; border: 1px solid #f1b0a8;
                                color: #8a1c12; padding: 8px 12px; border-radius: 6px; }
.card { background: #fff; border: 1px solid #dde3e7; border-radius: 6px; padding: 10px 14px;
        margin-bottom: 14px; }
.card h3 { font-size: 0.98rem; margin: 2px 0 8px; }
.card img { max-width: 100%; height: auto; display: block; }
table { border-collapse: collapse; width: 100%; font-size: 0.84rem; }
th, td { padding: 4px 8px; border-bottom: 1px solid #e6eaed; text-align: right;
         white-space: nowrap; }
th:first-child, td:first-child { text-align: left; white-space: normal; }
thead th { background: #f0f3f5; }
tr.significant td { font-weight: 700; }
.tablenote { font-size: 0.78rem; color: #5b6a74; margin: 6px 0 0; }
""".replace("{font}", FONT_ROUTE)


_PRELOAD = ('<link rel="preload" href="' + FONT_ROUTE + '" as="font" type="font/otf" '
            'crossorigin>')

#: A slider's number box commits its value on blur: Enter blurs it, so Enter commits too.
_ENTER_COMMITS = """
document.addEventListener("keydown", function (e) {
  if (e.key === "Enter" && e.target.matches(".dash-slider-container input[type=number]")) {
    e.target.blur();
  }
});
"""


def _lever_widget(lever: Lever, notes: list[tuple[str, Any]], lang: str) -> html.Div:
    """Return one lever: its label with unit, the slider (with a number box) and its notes."""
    t = texts(lang)
    unit = lever_unit(lever, lang)
    note = [html.Span(t["baseline_value"].format(value=lever_number(lever, lever.base_value)))]
    for date, value in notes:
        note += [html.Br(), html.Span(t["timeline_note"].format(value=value, date=date),
                                      className="timeline")]
    return html.Div(className="lever", children=[
        html.Label([lever_label(lever, lang), html.Span(f" ({unit})", className="unit")]),
        dcc.Slider(id={"type": LEVER, "key": lever.key}, min=lever.minimum, max=lever.maximum,
                   step=lever.step, value=lever.base_value, updatemode="mouseup",
                   allow_direct_input=True,
                   marks={lever.minimum: lever_number(lever, lever.minimum),
                          lever.maximum: lever_number(lever, lever.maximum)}),
        html.Div(note, className="note"),
    ])


def _lever_panel(explorer: Explorer, lang: str) -> list:
    """Return the lever groups as collapsible sections (the first ones open)."""
    t = texts(lang)
    notes = timeline_notes(explorer.base, explorer.levers)
    groups: dict[str, list[Lever]] = {}
    for lever in explorer.levers:
        groups.setdefault(lever.group, []).append(lever)
    sections = []
    for i, (group, levers) in enumerate(groups.items()):
        key = "market" if group.startswith("market:") else group
        sections.append(html.Details(open=i < 2 or group == "market:energy", children=[
            html.Summary(group_title(group, explorer.base, lang)),
            html.P(t[f"help.{key}"], className="help"),
            *[_lever_widget(lv, notes.get(lv.key, []), lang) for lv in levers],
        ]))
    return sections


def _save_panel(explorer: Explorer, lang: str) -> html.Details:
    """Return the save form: name, file or folder, button and message."""
    t = texts(lang)
    default = Path.cwd() / f"{explorer.variant}.yaml"
    return html.Details(open=True, className="save", children=[
        html.Summary(t["save.title"]),
        html.Label(t["save.name"], htmlFor="save-name"),
        dcc.Input(id="save-name", type="text", value=explorer.variant),
        html.Label(t["save.path"], htmlFor="save-path"),
        dcc.Input(id="save-path", type="text", value=str(default)),
        html.Button(t["save.button"], id="save", className="primary", n_clicks=0),
        html.Div(id="save-message", className="message"),
    ])


def _layout(explorer: Explorer, lang: str) -> html.Div:
    """Return the page: header with the run size, levers left, results right."""
    t = texts(lang)
    pop = explorer.base.population
    cards = [html.Div(className="card", id=f"card-{name}", children=[
        html.H3(t[f"figure.{name}"]),
        html.Img(id=f"figure-{name}", alt=t[f"figure.{name}"]),
    ]) for name in FIGURES]
    return html.Div([
        html.Header([
            html.H1(t["title"].format(scenario=explorer.base.name)),
            html.P(t["subtitle"]),
            html.P(size_text(explorer.size, pop.n_industrial + pop.n_services, lang), id="size"),
            html.P(t["size.note"]),
        ]),
        html.Div(className="columns", children=[
            html.Aside([
                html.H2([t["levers"], html.Button(t["reset"], id="reset", n_clicks=0)]),
                *_lever_panel(explorer, lang),
                _save_panel(explorer, lang),
            ]),
            html.Main([
                html.Div(id="status", className="status"),
                dcc.Store(id="shown"),
                dcc.Loading(type="default", delay_show=300, children=[
                    html.Div(className="card", id="table"),
                    *cards,
                ]),
            ]),
        ]),
    ])


def _table(explorer: Explorer, comparison: Comparison, lang: str) -> list:
    """Return the key indicators' difference table (title, table, note)."""
    t = texts(lang)
    table = key_table(comparison, catalogue.key_indicators(lang))
    several = explorer.size.replications > 1
    head = [t["table.indicator"], t["table.base"], t["table.variant"], t["table.difference"],
            *([t["table.interval"]] if several else []), t["table.percent"]]
    rows = []
    for r in table.itertuples(index=False):
        significant = several and (r.ci_low > 0 or r.ci_high < 0)
        cells = [r.label, number(r.base), number(r.variant), number(r.difference, signed=True)]
        if several:
            cells.append(f"[{number(r.ci_low, signed=True)}, {number(r.ci_high, signed=True)}]")
        cells.append(number(r.percent, signed=True) + ("%" if r.percent == r.percent else ""))
        rows.append(html.Tr([html.Td(c) for c in cells],
                            className="significant" if significant else None))
    year = int(table["year"].iloc[0]) if len(table) else explorer.size.last_year
    return [html.H3(t["table.title"].format(year=year)),
            html.Table([html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(rows)]),
            html.P(t["table.note"] if several else t["table.note_one"], className="tablenote")]


def _figures(comparison: Comparison, names: Sequence[str], lang: str,
             cache: OrderedDict | None) -> dict[str, str]:
    """Return the figures ``names`` of ``comparison``, drawn or from ``cache``."""
    key = tuple(sorted((k, repr(v)) for k, v in comparison.changes.items()))
    out = {}
    for name in names:
        hit = cache.get((key, name)) if cache is not None else None
        if hit is None:
            hit = comparison_figures(comparison, lang=lang, names=[name]).get(name, "")
            if cache is not None:
                cache[(key, name)] = hit
                while len(cache) > FIGURE_CACHE * len(FIGURES):
                    cache.popitem(last=False)
        if hit:
            out[name] = hit
    return out


def variant_view(explorer: Explorer, values: Mapping[str, Any], *, lang: str = "en",
                 names: Sequence[str] = FIGURES, table: bool = True,
                 cache: OrderedDict | None = None) -> dict[str, Any]:
    """Run the variant of lever ``values`` and return what the page shows.

    Parameters
    ----------
    explorer : Explorer
        The base and its runs.
    values : mapping
        Lever key -> value (clamped to the levers' ranges).
    lang : {"en", "zh"}
        Language of the texts and figures.
    names : sequence of str
        The figures to draw (of :data:`~simulator.explore.figures.FIGURES`).
    table : bool
        Also make the difference table.
    cache : OrderedDict, optional
        Figures drawn before, by lever changes and figure name.

    Returns
    -------
    dict
        ``status`` (text), ``error`` (bool), and unless the run failed,
        ``table`` (Dash components or None), ``figures`` (name -> PNG data URL),
        ``changes`` (the dotted changes) and ``seconds`` (the variant's run time).
    """
    t = texts(lang)
    try:
        comparison = explorer.compare(values)
        figures = _figures(comparison, names, lang, cache)
        rows = _table(explorer, comparison, lang) if table else None
    except ScenarioError as exc:
        return {"status": f"{t['status.error'].format(error=exc)} {t['status.stale']}",
                "error": True}
    except Exception as exc:  # noqa: BLE001 - a failed run is shown on the page, not raised
        log.exception("the variant failed")
        return {"status": (f"{t['status.error'].format(error=f'{type(exc).__name__}: {exc}')} "
                           f"{t['status.stale']}"), "error": True}
    n = len(comparison.changes)
    if not n:
        status = t["status.unchanged"]
    elif comparison.seconds:
        status = t["status.done"].format(seconds=f"{comparison.seconds:.1f}", changes=n)
    else:
        status = t["status.cached"].format(changes=n)
    return {"status": status, "error": False, "table": rows, "figures": figures,
            "changes": comparison.changes, "seconds": comparison.seconds}


def _lever_lines(explorer: Explorer, values: Mapping[str, Any], lang: str) -> list[str]:
    """Return one line per lever moved: "<group>, <lever>: <base> -> <value> <unit>"."""
    lines = []
    for lever in explorer.levers:
        value = clamp(lever, values.get(lever.key))
        if value != lever.base_value:
            lines.append(f"{group_title(lever.group, explorer.base, lang)}, "
                         f"{lever_label(lever, lang)}: {lever_number(lever, lever.base_value)} "
                         f"-> {lever_number(lever, value)} {lever_unit(lever, lang)}")
    return lines


def save_view(explorer: Explorer, values: Mapping[str, Any], *, base_file: Path, name: str,
              target: str, lang: str = "en") -> tuple[str, bool]:
    """Save the variant of lever ``values``; return the message for the page and whether it failed.

    The file records only the lever changes against the full-size base
    scenario (:func:`simulator.explore.variant.save_variant`).
    """
    t = texts(lang)
    changes = lever_changes(explorer.base, explorer.levers, values)
    if not changes:
        return t["save.nothing"], True
    lines = _lever_lines(explorer, values, lang)
    name = (name or explorer.variant).strip()
    target = (target or f"{name}.yaml").strip()
    header = [t["file.header"].format(base=Path(base_file).name, date=saved_on()),
              t["file.levers"], *(f"  {line}" for line in lines), t["file.rest"],
              t["file.check"].format(file=Path(target).name)]
    description = t["description"].format(base=explorer.base.name,
                                          levers="; ".join(lines))
    try:
        path = save_variant(target, base_file=Path(base_file), base=explorer.base, name=name,
                            description=description, changes=changes, header=header)
    except ScenarioError as exc:
        return t["save.error"].format(error=exc), True
    return t["save.done"].format(path=path, base=Path(base_file).name, n=len(changes)), False


def build_app(explorer: Explorer, *, base_file: Path, lang: str = "en") -> dash.Dash:
    """Return the explorer's Dash app for ``explorer`` (its base loaded from ``base_file``)."""
    catalogue.check_language(lang)
    app = dash.Dash(__name__, title=texts(lang)["title"].format(scenario=explorer.base.name),
                    update_title=None)
    head = _PRELOAD + "{%css%}<style>" + _CSS + "</style>"
    script = "{%renderer%}<script>" + _ENTER_COMMITS + "</script>"
    app.index_string = (app.index_string.replace("{%css%}", head)
                        .replace("{%renderer%}", script))
    app.layout = _layout(explorer, lang)
    cut = subset_font(cjk_characters(explorer.base))
    if cut:  # Chinese text renders without a system CJK font
        app.server.add_url_rule(FONT_ROUTE, "cjk_font", lambda: flask.Response(
            cut, mimetype="font/otf", headers={"Cache-Control": "max-age=86400"}))
    cache: OrderedDict = OrderedDict()
    draw_lock = threading.Lock()  # matplotlib draws one figure set at a time
    levers = {lv.key: lv for lv in explorer.levers}

    def values_of(items: list[dict]) -> dict[str, Any]:
        return {item["id"]["key"]: item.get("value") for item in items}

    # First the table and the differences (the answer), then the other figures (slower).
    @app.callback(
        Output("figure-differences", "src"), Output("table", "children"),
        Output("status", "children"), Output("status", "className"), Output("shown", "data"),
        Input({"type": LEVER, "key": ALL}, "value"))
    def _update(_values):
        values = values_of(dash.ctx.inputs_list[0])
        with draw_lock:
            view = variant_view(explorer, values, lang=lang, names=FIGURES[:1], cache=cache)
        if view["error"]:
            keep = [dash.no_update] * 2
            return *keep, view["status"], "status error", dash.no_update
        return (view["figures"]["differences"], view["table"], view["status"], "status",
                values)

    @app.callback(
        *[Output(f"figure-{name}", "src") for name in FIGURES[1:]],
        Output(f"card-{FIGURES[-1]}", "style"),
        Input("shown", "data"), prevent_initial_call=True)
    def _more_figures(values):
        with draw_lock:
            view = variant_view(explorer, values, lang=lang, names=FIGURES[1:], table=False,
                                cache=cache)
        if view["error"]:
            return [dash.no_update] * len(FIGURES)
        figures = view["figures"]
        style = {} if FIGURES[-1] in figures else {"display": "none"}
        return *[figures.get(name, "") for name in FIGURES[1:]], style

    @app.callback(Output({"type": LEVER, "key": ALL}, "value"), Input("reset", "n_clicks"),
                  prevent_initial_call=True)
    def _reset(_clicks):
        return [levers[o["id"]["key"]].base_value for o in dash.ctx.outputs_list]

    @app.callback(Output("save-message", "children"), Output("save-message", "className"),
                  Input("save", "n_clicks"), State({"type": LEVER, "key": ALL}, "value"),
                  State("save-name", "value"), State("save-path", "value"),
                  prevent_initial_call=True)
    def _save(_clicks, _values, name, target):
        message, failed = save_view(explorer, values_of(dash.ctx.states_list[0]),
                                    base_file=base_file, name=name, target=target, lang=lang)
        return message, "message error" if failed else "message"

    return app

"""Policy-brief figures (政策简报图表) made from a run directory's result files.

The figures are drawn from ``manifest.json`` and ``metrics.parquet`` only, so
a figure can be remade without re-running and this package never imports the
engine. Each figure has its own function that takes the tidy metrics table
and an optional Axes (or Figure) and returns it; :func:`make_figures` draws
the whole set into ``<run_dir>/figures``.

Values are averaged over replications; with more than one replication a band
shows the t-based 95% confidence interval of that mean.

Runs with quota markets (用能权 energy-use rights, 排污权 emission rights; metric
rows of group ``"market=<name>"``) get three more figures, :data:`MARKET_FIGURES`:
auction prices and volumes, caps against actual use, and the quota cost per
万元 of value added by class. Runs with enterprise dynamics get, each when
its metrics are present, the :data:`DYNAMICS_FIGURES`: land use, investment
by type and class, and entry and exit (腾笼换鸟). Runs whose scenario switches a
further mechanism on get its figures, each when its metrics are present
(:data:`MECHANISM_FIGURES`): exit routes, the evaluation's further rules, land
contracts and dual control, the ranking of regions and parks, sector and
rationing prices.

Figures are built on :class:`matplotlib.figure.Figure` objects, never through
pyplot, so nothing is registered with a GUI backend and nothing leaks between
calls.

Modules: :mod:`~simulator.plots.data` (reading and summarising results),
:mod:`~simulator.plots.core` (indicators, class counts, resource bill,
transitions), :mod:`~simulator.plots.markets`, :mod:`~simulator.plots.dynamics`,
:mod:`~simulator.plots.rules`;
the experiment figures of a comparison (:mod:`~simulator.plots.compare`) and of a
sweep (:mod:`~simulator.plots.sweep`) read their directory through
:mod:`~simulator.plots.experiment_data`; ``_labels`` gathers the label text
from the catalogue's locales (:mod:`simulator.catalogue`); ``_style`` holds the
fonts, colours and saving.

Example
-------
>>> from simulator.plots import make_figures
>>> paths = make_figures("results/baseline", lang="zh")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from simulator.plots._labels import LABELS
from simulator.plots._style import (
    COLOURS,
    CJKFontWarning,
    add_source_line,
    check_formats,
    figure_dir,
    find_cjk_font,
    mark_figure_policy_dates,
    new_figure,
    page,
    save_all,
    style_for,
)
from simulator.plots.core import (
    FIGURES,
    INDICATORS,
    plot_class_counts,
    plot_indicators,
    plot_resource_bill,
    plot_transitions,
)
from simulator.plots.data import (
    CLASSES,
    auction_summary,
    market_names,
    read_manifest,
    read_metrics,
    replication_summary,
    source_line,
    transition_matrix,
)
from simulator.plots.dynamics import (
    DYNAMICS_FIGURES,
    dynamics_figures,
    plot_entry_exit,
    plot_investment,
    plot_land_use,
)
from simulator.plots.exit_routes import EXIT_ROUTE_FIGURES, exit_route_figures, plot_exit_routes
from simulator.plots.landcontracts import contract_figures, plot_dual_control, plot_land_contracts
from simulator.plots.markets import (
    MARKET_FIGURES,
    plot_caps,
    plot_market_prices,
    plot_quota_burden,
)
from simulator.plots.policy import PolicyDate, policy_caption, run_policy_dates
from simulator.plots.regions import REGION_FIGURES, plot_region_ranking, region_figures
from simulator.plots.rules import RULES_FIGURES, plot_evaluation_rules, rules_figures
from simulator.plots.sector_prices import (
    SECTOR_PRICE_FIGURES,
    plot_sector_prices,
    sector_price_figures,
)
from simulator.results import record_redrawn

#: The figures of mechanisms a scenario switches on: each function returns the names of
#: its figures whose metrics a run's table holds (none when the mechanism was off).
MECHANISM_FIGURES: tuple[Callable[[pd.DataFrame], list[str]], ...] = (
    exit_route_figures, rules_figures, contract_figures, region_figures, sector_price_figures)

__all__ = [
    "CLASSES",
    "COLOURS",
    "CJKFontWarning",
    "DYNAMICS_FIGURES",
    "EXIT_ROUTE_FIGURES",
    "FIGURES",
    "INDICATORS",
    "LABELS",
    "MARKET_FIGURES",
    "MECHANISM_FIGURES",
    "RULES_FIGURES",
    "REGION_FIGURES",
    "SECTOR_PRICE_FIGURES",
    "PolicyDate",
    "auction_summary",
    "dynamics_figures",
    "exit_route_figures",
    "figure_dir",
    "find_cjk_font",
    "make_figures",
    "market_names",
    "plot_caps",
    "plot_class_counts",
    "plot_entry_exit",
    "plot_exit_routes",
    "plot_evaluation_rules",
    "plot_indicators",
    "plot_investment",
    "plot_land_use",
    "plot_market_prices",
    "plot_quota_burden",
    "plot_region_ranking",
    "plot_resource_bill",
    "plot_sector_prices",
    "plot_transitions",
    "read_manifest",
    "read_metrics",
    "region_figures",
    "replication_summary",
    "rules_figures",
    "sector_price_figures",
    "source_line",
    "transition_matrix",
]

logger = logging.getLogger(__name__)

#: Figures whose x-axis is not time (no policy dates), and those with monthly points.
_NOT_TIME: tuple[str, ...] = ("transitions", "region_ranking")
_MONTHLY: tuple[str, ...] = ("market_prices",)
#: Figures that draw no confidence band (the price holds from one trade to the next; counts).
_NO_BAND: tuple[str, ...] = ("market_prices", "transitions", "region_ranking")
#: Page sizes (inches) of figures taller than the default 10 x 6.
_SIZES: dict[str, tuple[float, float]] = {"market_prices": (10.0, 8.5), "market_caps": (10.0, 7.5)}

#: How :func:`make_figures` draws each figure on a new page, in the given language.
_DRAWS: dict[str, Callable[[pd.DataFrame, str, Figure], object]] = {
    "indicators": lambda m, lang, f: plot_indicators(m, lang=lang, fig=f),
    "class_counts": lambda m, lang, f: plot_class_counts(m, lang=lang, ax=f.add_subplot()),
    "resource_bill": lambda m, lang, f: plot_resource_bill(m, lang=lang, ax=f.add_subplot()),
    "transitions": lambda m, lang, f: plot_transitions(m, lang=lang, ax=f.add_subplot()),
    "market_prices": lambda m, lang, f: plot_market_prices(m, lang=lang, fig=f),
    "market_caps": lambda m, lang, f: plot_caps(m, lang=lang, fig=f),
    "quota_burden": lambda m, lang, f: plot_quota_burden(m, lang=lang, ax=f.add_subplot()),
    "land_use": lambda m, lang, f: plot_land_use(m, lang=lang, fig=f),
    "investment": lambda m, lang, f: plot_investment(m, lang=lang, fig=f),
    "entry_exit": lambda m, lang, f: plot_entry_exit(m, lang=lang, fig=f),
    "exit_routes": lambda m, lang, f: plot_exit_routes(m, lang=lang, fig=f),
    "evaluation_rules": lambda m, lang, f: plot_evaluation_rules(m, lang=lang, fig=f),
    "land_contracts": lambda m, lang, f: plot_land_contracts(m, lang=lang, fig=f),
    "dual_control": lambda m, lang, f: plot_dual_control(m, lang=lang, fig=f),
    "region_ranking": lambda m, lang, f: plot_region_ranking(m, lang=lang, fig=f),
    "sector_prices": lambda m, lang, f: plot_sector_prices(m, lang=lang, fig=f),
}


def make_figures(run_dir: str | Path, *, lang: str = "en",
                 formats: Sequence[str] = ("png", "svg")) -> list[Path]:
    """Draw the policy-brief figure set for a run and return the files written.

    Parameters
    ----------
    run_dir : str or Path
        Run directory holding ``manifest.json`` and ``metrics.parquet``.
    lang : {"en", "zh"}
        Label language. Chinese needs a CJK font; without one a
        :class:`CJKFontWarning` is issued and English labels are used.
    formats : sequence of str
        File formats, e.g. ``("png", "svg")``. SVG output is byte-identical
        for identical input.

    Returns
    -------
    list of Path
        ``<figure_dir>/<figure>.<format>`` for each of :data:`FIGURES` and each
        format (``figure_dir`` is :func:`figure_dir`: ``<run_dir>/figures`` for
        English, ``<run_dir>/figures/zh`` for Chinese, so both sets live side by
        side), then for each of :data:`MARKET_FIGURES` when the run
        has quota markets (rows of a ``market=<name>`` group), then for each
        of :data:`DYNAMICS_FIGURES` whose metrics the run has
        (:func:`dynamics_figures`), then the figures of each mechanism in
        :data:`MECHANISM_FIGURES` whose metrics the run has.
    """
    run_dir = Path(run_dir)
    metrics, manifest = read_metrics(run_dir), read_manifest(run_dir)
    formats = check_formats(formats)
    style = style_for(lang)  # warns once here; the figures then get a language that works
    source = source_line(manifest, lang=style.lang)
    banded = f"{source} · {style.labels['band']}" if manifest.get("replications", 1) != 1 \
        else source
    dates = run_policy_dates(manifest, run_dir, lang=style.lang)
    dated = policy_caption(dates, lang=style.lang)
    names = [*FIGURES, *(MARKET_FIGURES if market_names(metrics) else ()),
             *dynamics_figures(metrics),
             *(name for present in MECHANISM_FIGURES for name in present(metrics))]
    out_dir = figure_dir(run_dir, style.lang)
    written: list[Path] = []
    for name in names:
        with page():
            fig = new_figure(figsize=_SIZES.get(name))
            try:
                _DRAWS[name](metrics, style.lang, fig)
                line = source if name in _NO_BAND else banded
                if name not in _NOT_TIME and dates:
                    mark_figure_policy_dates(fig, dates, style, annual=name not in _MONTHLY)
                    line = f"{line} · {dated}"
                add_source_line(fig, line, style)
                written += save_all(fig, out_dir, name, formats, line)
            finally:
                fig.clear()
    record_redrawn(run_dir, written)  # a run's manifest keeps every file's checksum
    return written

"""The explorer's figures: the brief's comparison figures of a variant, as PNG data URLs.

The figures are the project's own (:mod:`simulator.plots`), drawn from the
comparison the explorer computed (:class:`~simulator.explore.runs.Comparison`):
the paired differences to the base in the last year, the key indicators
over the years (base and variant), and, when the scenario has quota markets,
the variant's auction prices. Each is returned as a ``data:image/png`` URL
for an ``<img>`` element.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

from matplotlib.figure import Figure

from simulator.explore.runs import Comparison
from simulator.plots import new_figure, plot_market_prices
from simulator.plots.compare import indicators_figsize, plot_compare_indicators
from simulator.plots.data import market_names
from simulator.plots.effects import differences_figsize, plot_compare_differences
from simulator.plots.experiment_data import (
    identical_indicators,
    key_indicators,
    percent_differences,
    significant,
)

__all__ = ["DPI", "FIGURES", "comparison_figures", "png_data_url"]

#: Figures in the order the explorer shows them.
FIGURES: tuple[str, ...] = ("differences", "indicators", "market_prices")
#: Resolution of the PNGs on the page (the figures are 10 inches wide or less).
DPI = 80


def png_data_url(fig: Figure, *, dpi: int = DPI) -> str:
    """Return ``fig`` as a ``data:image/png;base64,...`` URL and clear it."""
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=dpi)
    finally:
        fig.clear()
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def comparison_figures(comparison: Comparison, *, lang: str = "en",
                       names: Sequence[str] = FIGURES) -> dict[str, str]:
    """Return the explorer's figures of ``comparison`` by name, as PNG data URLs.

    ``names`` picks some of :data:`FIGURES`; ``market_prices`` is left out
    when the variant has no quota market.
    """
    summary, base = comparison.summary, comparison.base_name
    scenarios = [base, comparison.variant_name]
    year = int(summary["year"].max())
    indicators = key_indicators(summary)
    out = {}
    if "differences" in names:
        # As in the brief: indicators equal in every paired replication have no panel.
        same = identical_indicators(comparison.differences, reference=base,
                                    indicators=indicators)
        differing = [i for i in indicators if i not in same] or indicators
        table = percent_differences(summary, comparison.differences, reference=base,
                                    year=year, indicators=differing)
        table["significant"] = significant(table)
        fig = new_figure(figsize=differences_figsize(len(differing)))
        plot_compare_differences(table, scenarios=scenarios, year=year, lang=lang, fig=fig)
        out["differences"] = png_data_url(fig)
    if "indicators" in names:
        fig = new_figure(figsize=indicators_figsize(len(indicators)))
        plot_compare_indicators(summary, scenarios=scenarios, indicators=indicators, lang=lang,
                                fig=fig)
        out["indicators"] = png_data_url(fig)
    metrics = comparison.variant_metrics
    if "market_prices" in names and market_names(metrics):
        fig = new_figure()
        plot_market_prices(metrics, lang=lang, fig=fig)
        out["market_prices"] = png_data_url(fig)
    return out

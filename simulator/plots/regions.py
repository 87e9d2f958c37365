"""The ranking of regions and parks (分县域、分园区评价): scores, ranks and grades.

Drawn by :func:`~simulator.plots.make_figures` when the run evaluated regions
as units (``evaluation.regions``; metrics ``unit_score``, ``unit_grade``
of groups ``region=<name>`` and ``park=<region>/<park>``):

``region_ranking``
    the last year's score of each region (left) and park (right), best on
    top, the bar coloured by the unit's grade, its rank written beside it,
    and a line at 100 (every indicator at its benchmark). Values are means
    over replications; the grade is the grade of the mean score rounded
    from the replications' grades.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Patch

from simulator.plots._style import COLOURS, new_figure, no_data, style_for
from simulator.plots.data import is_annual

__all__ = ["REGION_FIGURES", "plot_region_ranking", "region_figures", "unit_scores"]

#: Figures of the region evaluation, drawn only when its metrics are present.
REGION_FIGURES: tuple[str, ...] = ("region_ranking",)
SCORE_METRIC = "unit_score"
GRADE_METRIC = "unit_grade"
#: Group prefixes of the two kinds of unit.
KINDS: tuple[str, ...] = ("region", "park")
_GRADES = ("A", "B", "C", "D")


def region_figures(metrics: pd.DataFrame) -> list[str]:
    """Return :data:`REGION_FIGURES` if the run recorded unit scores, else nothing."""
    annual = metrics.loc[is_annual(metrics)]
    return list(REGION_FIGURES) if (annual["metric"] == SCORE_METRIC).any() else []


def unit_scores(metrics: pd.DataFrame, kind: str, *, year: int | None = None) -> pd.DataFrame:
    """Return one year's units of ``kind`` (``region`` or ``park``), best first.

    Returns
    -------
    pandas.DataFrame
        Columns ``unit`` (the name after ``kind=``), ``score`` and ``grade``
        (means over replications; the grade rounded, NaN without a score) and
        ``rank`` (1 = best, by the mean score). ``attrs["year"]``: the year
        (default: the last with scores).
    """
    annual = metrics.loc[is_annual(metrics)]
    rows = annual[annual["metric"].isin([SCORE_METRIC, GRADE_METRIC])
                  & annual["group"].astype(str).str.startswith(f"{kind}=")]
    if rows.empty:
        out = pd.DataFrame(columns=["unit", "score", "grade", "rank"])
        out.attrs["year"] = year
        return out
    year = int(rows["year"].max()) if year is None else int(year)
    rows = rows[rows["year"] == year]
    wide = rows.pivot_table(index="group", columns="metric", values="value", aggfunc="mean",
                            dropna=False)
    out = pd.DataFrame({"unit": [g.split("=", 1)[1] for g in wide.index],
                        "score": wide.get(SCORE_METRIC, np.nan).to_numpy(dtype=float),
                        "grade": np.round(wide.get(GRADE_METRIC, np.nan).to_numpy(dtype=float))})
    out = out.sort_values(["score", "unit"], ascending=[False, True], na_position="last",
                          kind="stable").reset_index(drop=True)
    out["rank"] = np.where(out["score"].notna(), np.arange(1, len(out) + 1), np.nan)
    out.attrs["year"] = year
    return out


def plot_region_ranking(metrics: pd.DataFrame, *, lang: str = "en",
                        fig: Figure | None = None) -> Figure:
    """Draw the last year's scores of regions and parks, best on top; return the Figure.

    One panel per kind of unit present (regions, parks): horizontal bars of
    the score coloured by grade (A-D, the class colours), the rank beside
    each bar, and a dashed line at 100 (every indicator at its benchmark).
    """
    style = style_for(lang)
    fig = fig if fig is not None else new_figure()
    tables = {kind: unit_scores(metrics, kind) for kind in KINDS}
    kinds = [k for k in KINDS if not tables[k].empty] or ["region"]
    axes = fig.subplots(1, len(kinds), squeeze=False)[0]
    for ax, kind in zip(axes, kinds, strict=True):
        table = tables[kind]
        ax.set_label(f"ranking:{kind}")
        style.title(ax, style.labels[f"region_ranking.{kind}"], size="medium")
        if table.empty:
            no_data(ax, style)
            continue
        y = np.arange(len(table))[::-1]  # best on top
        colours = [COLOURS[_GRADES[int(g)]] if np.isfinite(g) else COLOURS["U"]
                   for g in table["grade"]]
        ax.barh(y, table["score"].fillna(0.0), color=colours, height=0.7)
        for yi, score, rank in zip(y, table["score"], table["rank"], strict=True):
            if np.isfinite(score):
                ax.annotate(f"#{int(rank)}  {score:.0f}", (score, yi), xytext=(4, 0),
                            textcoords="offset points", va="center", size="x-small")
        ax.axvline(100.0, color="#444444", linestyle="--", linewidth=1.0)
        # Unit names may be Chinese in an English figure: the font with a CJK fallback.
        names_font = (style.font or style.source_font or FontProperties()).copy()
        names_font.set_size("small")
        ax.set_yticks(y, table["unit"], fontproperties=names_font)
        ax.set_xlim(0.0, max(130.0, float(np.nanmax(table["score"])) * 1.18))
        ax.set_xlabel(style.labels["region_ranking.xlabel"], **style.fontkw, size="small")
    handles = [Patch(color=COLOURS[g], label=style.labels[f"region_ranking.grade.{g}"])
               for g in _GRADES]
    # The lowest scores are at the bottom: the lower right corner is free.
    axes[-1].legend(handles=handles, loc="lower right", prop=style.legend_font(),
                    framealpha=0.9)
    year = next((t.attrs["year"] for t in tables.values() if not t.empty), None)
    title = style.labels["region_ranking.title"]
    fig.suptitle(f"{title} ({year})" if year is not None else title, **style.fontkw,
                 size="x-large")
    return fig

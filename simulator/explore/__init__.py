"""The interactive explorer (``mujun explore``): move policy levers, see the variant answer.

A local web app (Dash) in which a researcher moves the main levers of a
scenario (class surcharges on electricity and water, the evaluation's
weights, each quota market's cap, its yearly tightening and its auction
reserve price), runs the variant at a size that answers in seconds against
the baseline computed once, sees the brief's comparison figures and a table
of differences update, and saves the variant as a scenario file that
records only what changed.

Modules
-------
levers
    :class:`Lever`, :func:`levers_for`, lever values <-> dotted scenario changes.
runs
    The run size (:func:`explorer_size`) and :class:`Explorer` (baseline once, variants).
variant
    :func:`save_variant`: the variant file (``extends:`` the base, only the changes).
texts
    Labels with units, numbers and the run size, from the catalogue's locales.
figures
    The comparison figures of :mod:`simulator.plots` as PNG data URLs.
app
    :func:`build_app`, the Dash app (imports Dash: install the ``explore`` extra).

Only ``app`` needs Dash; the other modules are plain Python and tested without a browser.
"""

from __future__ import annotations

from simulator.explore.levers import Lever, apply_levers, lever_changes, levers_for, read_levers
from simulator.explore.runs import Explorer, RunSize, explorer_size, small_scenario, variant_name
from simulator.explore.variant import save_variant

__all__ = ["Explorer", "Lever", "RunSize", "apply_levers", "explorer_size", "lever_changes",
           "levers_for", "read_levers", "save_variant", "small_scenario", "variant_name"]

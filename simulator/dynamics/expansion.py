"""Stage: expansion land for existing firms by class (A first, B next, C none, D barred).

With ``dynamics.contracts.expansion`` on, each year a share of the rated
industrial firms whose class is granted land (``land_share_by_class`` > 0)
apply for that share of their land. They are served from their region's
available land before entrants, A before B and, within a class, the higher
tax per mu first (the prefix rule of
:meth:`~simulator.dynamics.land.LandPools.allocate`). A firm that expands
grows its land and its potentials (VA, revenue, employees, water quota) in
proportion, and pays the land price of its grade and yield. Under dual
control, expansions in a region above its path are refused or priced like
entrants (:func:`simulator.dynamics.dualcontrol.screen`).
"""

from __future__ import annotations

import numpy as np

from simulator.dynamics import dualcontrol
from simulator.dynamics.contracts import book, land_price_wan_yuan_per_mu
from simulator.engine.state import RunState, draw
from simulator.firms import CLASS_LABELS, per_class

__all__ = ["expand"]


def expand(state: RunState, year: int, stays: np.ndarray, above: np.ndarray) -> None:
    """Grant expansion land by class; scale the expanding firms; charge the price."""
    p = state.params
    spec = p.dynamics.contracts.expansion
    f = state.firms
    share = per_class(spec.land_share_by_class.as_tuple(), f.klass)
    applies = (stays & ~f.is_services & (share > 0)
               & (draw(state, f"expansion/{year}", "uniform") < spec.applicants_share_per_year))
    idx = np.flatnonzero(applies)
    request = share[idx] * f.land_mu[idx]
    tax_per_mu = f.ytd["tax_wan_yuan"][idx] / np.maximum(f.land_mu[idx], 1e-9)
    allowed, charge = dualcontrol.screen(
        above, f.region[idx], f.energy_tce_per_wan_yuan[idx] * f.va_wan_yuan[idx] * share[idx],
        f.profit_margin[idx] * f.revenue_wan_yuan[idx] * share[idx] * 1e4,
        spec=p.dynamics.dual_control)
    granted = np.zeros(idx.size, dtype=bool)
    # A (code 0) before B; within a class the higher tax per mu first.
    priority = -1e9 * f.klass[idx].astype(float) + tax_per_mu
    granted[allowed] = state.dynamics.land.allocate(f.region[idx][allowed], request[allowed],
                                                    priority[allowed])
    g, factor = idx[granted], 1.0 + share[idx][granted]
    std = p.dynamics.entry.standards
    price, relief = land_price_wan_yuan_per_mu(f.land_grade[g], tax_per_mu[granted],
                                               spec=p.dynamics.contracts,
                                               min_tax_per_mu=std.min_tax_wan_yuan_per_mu)
    paid = (price + relief) * request[granted]  # expansions get no entrant relief
    f.cash_wan_yuan[g] -= paid + charge[granted] * 1e-4
    for name in ("land_mu", "va_wan_yuan", "revenue_wan_yuan", "employees", "water_quota_m3"):
        getattr(f, name)[g] *= factor
    b = book(state)
    b.count("land_price_revenue_yuan", paid.sum() * 1e4)
    if state.dynamics.dual_control is not None:
        dc = state.dynamics.dual_control
        dc.count("projects_refused_dual_control", (~allowed).sum())
        dc.count("dual_control_purchase_yuan", charge[granted].sum())
    klass = f.klass[g]
    land = request[granted]
    add = state.recorder.add
    groups = ["all", *(f"class={c}" for c in CLASS_LABELS)]
    add(year, 0, groups, "expansion_land_mu",
        [float(land.sum()), *(float(land[klass == k].sum()) for k in range(len(CLASS_LABELS)))])
    add(year, 0, groups, "expansions",
        [float(g.size), *(float((klass == k).sum()) for k in range(len(CLASS_LABELS)))])
    add(year, 0, ["all"], "expansion_applications", [float(idx.size)])

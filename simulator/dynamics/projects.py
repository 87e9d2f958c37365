"""Stage: investment projects complete, and upgrades retire at the end of their lifetime.

A finished project cuts the firm's intensity, employees or land by its
effect and raises its margin by the base-price saving; after its lifetime the
upgrade is retired: the cut and the margin gain are undone and the firm may
take the option again (space freed for land stays freed: the land has gone
back to the pool). The calendar bills the period first and afterwards renews
the market bids of the firms whose intensities changed, and the rates.
"""

from __future__ import annotations

import numpy as np

from simulator.dynamics.state import AUTOMATION, POLLUTION, RETROFIT, SPACE, Projects
from simulator.engine.state import RunState
from simulator.scenario import INVESTMENT_OPTIONS

__all__ = ["complete"]


def complete(state: RunState, month: int) -> tuple[dict[str, np.ndarray], list[int]]:
    """Finish the projects due and retire the upgrades worn out at run month ``month``.

    Returns
    -------
    changed : dict
        The firms (rows, ascending) whose upgrades took or left effect, by
        option (``INVESTMENT_OPTIONS``; empty if nothing changed).
    due : list of int
        The new months in which upgrades completed now retire (to schedule).
    """
    dyn = state.dynamics
    done = _due(state, dyn.projects, month)
    retired = _due(state, dyn.in_service, month)
    if done is None and retired is None:
        return {}, []
    f = state.firms
    changed: dict[int, list[np.ndarray]] = {}
    ends_due: list[int] = []
    if done is not None:
        idx, done = done
        _apply(state, idx, done, sign=1)
        ends = done.subset(done.option != SPACE)
        ends.due_month = ends.due_month + ends.life_months
        dyn.in_service.add(**vars(ends))
        ends_due = [int(end) for end in np.unique(ends.due_month)]
        np.add.at(f.cash_wan_yuan, idx, done.one_off_wan_yuan)  # a firm may finish two
        np.add.at(dyn.completed, done.option, 1)
        _by_option(changed, idx, done.option)
    if retired is not None:
        idx, retired = retired
        _apply(state, idx, retired, sign=-1)
        np.bitwise_and.at(f.invested, idx, ~(1 << retired.option.astype(np.int8)))
        np.add.at(dyn.retired, retired.option, 1)
        _by_option(changed, idx, retired.option)
    return ({INVESTMENT_OPTIONS[k]: np.unique(np.concatenate(rows))
             for k, rows in sorted(changed.items())}, ends_due)


def _due(state: RunState, store: Projects, month: int) -> tuple[np.ndarray, Projects] | None:
    """Take the entries of ``store`` due at ``month`` whose firm is still in the run."""
    due = store.due_month == month
    if not due.any():
        return None
    taken = store.take(due)
    f = state.firms
    idx = np.searchsorted(f.firm_id, taken.firm_id)
    ok = (idx < f.n) & (f.firm_id[np.minimum(idx, f.n - 1)] == taken.firm_id)
    return idx[ok], taken.subset(ok)


def _apply(state: RunState, idx: np.ndarray, projects: Projects, *, sign: int) -> None:
    """Put upgrades into effect (``sign=1``) or take them out (``sign=-1``)."""
    f = state.firms
    keep = (1.0 - projects.effect) ** sign
    for k in range(len(INVESTMENT_OPTIONS)):
        sel = projects.option == k
        i = idx[sel]
        if not i.size:
            continue
        if k == RETROFIT:
            f.energy_tce_per_wan_yuan[i] *= keep[sel]
        elif k == POLLUTION:
            f.emission_t_per_wan_yuan[i] *= keep[sel][:, None]
        elif k == AUTOMATION:
            f.employees[i] *= keep[sel]
        else:  # space for land: only ever applied (it does not retire)
            freed = f.land_mu[i] * projects.effect[sel]
            state.dynamics.land.vacate(f.region[i], freed, reason="space_for_land")
            f.land_mu[i] -= freed
        f.profit_margin[i] += sign * projects.margin_gain[sel]


def _by_option(out: dict[int, list[np.ndarray]], idx: np.ndarray, option: np.ndarray) -> None:
    """Add the firms ``idx`` to ``out`` under their projects' ``option`` codes."""
    for k in np.unique(option).tolist():
        out.setdefault(k, []).append(idx[option == k])

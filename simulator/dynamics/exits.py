"""Stage: the year's money and exits (腾笼换鸟).

Cash grows by the year's profit net of interest on borrowed money (negative
cash) at the class's loan rate. A year with a loss extends a firm's run of
loss years; a run of ``exit.zombie_loss_years`` makes it a zombie (僵尸企业).
Firms with ``exit.loss_years`` loss years in a row, firms in D for more than
``exit.d_grace_years`` years in a row (failed rectification), and the
lowest-scored ``exit.forced_exit_share_per_year`` of the rated industrial
firms (provincial elimination quotas) close. Their land becomes idle; their
projects under way are dropped; their quota rights go to the reserve (when
the markets resize).

With ``exit.routes`` on, a leaving firm may instead relocate out of the
county or be merged into an acquirer (:mod:`simulator.dynamics.routes`):
merged land stays occupied (the acquirer's) and merged rights move to the
acquirer's account; :func:`record_routes` records the routes.
"""

from __future__ import annotations

import numpy as np

from simulator.dynamics import routes
from simulator.dynamics.state import EXIT_REASONS, loan_rates
from simulator.engine.state import RunState, draw
from simulator.firms import CLASS_CODES, CLASS_LABELS, UNRATED

__all__ = ["close_firms", "record_routes", "settle_money"]


def settle_money(state: RunState) -> None:
    """Add the year's profit after tax to cash, less interest owed; count loss years."""
    f = state.firms
    interest = np.where(f.cash_wan_yuan < 0, -f.cash_wan_yuan * loan_rates(state), 0.0)
    net = f.ytd["profit_wan_yuan"] - interest
    f.cash_wan_yuan = f.cash_wan_yuan + net
    f.consecutive_loss_years = np.where(net < 0, f.consecutive_loss_years + 1,
                                        0).astype(np.int16)


def close_firms(state: RunState, year: int, score: np.ndarray) -> np.ndarray:
    """Decide and record the year's exits; vacate their land; return who exits."""
    spec = state.params.dynamics.exit
    dyn = state.dynamics
    f = state.firms
    add = state.recorder.add
    zombie = f.consecutive_loss_years >= spec.zombie_loss_years
    # Years under rectification count the years in D in a row.
    f.rectification_years = np.where(f.klass == CLASS_CODES["D"],
                                     f.rectification_years + 1, 0).astype(np.int16)
    reason = _reasons(state, score) if spec.enabled else np.full(f.n, -1, np.int8)
    exiting = reason >= 0
    add(year, 0, ["all"], "zombie_firms", [float(zombie.sum())])
    add(year, 0, ["all"], "zombie_firms_handled", [float((zombie & exiting).sum())])
    groups = ["all", *(f"reason={r}" for r in EXIT_REASONS),
              *(f"class={c}" for c in CLASS_LABELS)]
    add(year, 0, groups, "exits", [
        float(exiting.sum()), *(float((reason == k).sum()) for k in range(3)),
        *(float((exiting & (f.klass == k)).sum()) for k in range(len(CLASS_LABELS)))])
    state.add_by_region(year, "exits", f.region, exiting)
    vacating = exiting
    if spec.routes.enabled:
        u = draw(state, f"exit-route/{year}", "uniform")
        taken = routes.take_routes(state, reason, score, u)
        record_routes(state, year, reason, *taken)
        vacating = taken[0].vacating
    if exiting.any():
        dyn.land.vacate(f.region[vacating], f.land_mu[vacating], reason="exit")
        gone = np.isin(dyn.projects.firm_id, f.firm_id[exiting])
        dyn.projects.take(gone)
    return exiting


def record_routes(state: RunState, year: int, reason: np.ndarray, taken: routes.Routes,
                  merged: dict[str, float], rights: dict[str, np.ndarray]) -> None:
    """Record the year's exits by route, reason and class, and what each route moved.

    Land, employees and potential VA are those of the leaving firms before
    the mergers (a merged firm's rows are left as they were).
    """
    f = state.firms
    add = state.recorder.add
    route = taken.route
    groups = ["all", *(f"reason={r}" for r in EXIT_REASONS),
              *(f"class={c}" for c in CLASS_LABELS)]
    for code, name in enumerate(routes.ROUTES):
        on = route == code
        add(year, 0, groups, f"exits_{name}", [
            float(on.sum()), *(float((on & (reason == k)).sum()) for k in range(3)),
            *(float((on & (f.klass == k)).sum()) for k in range(len(CLASS_LABELS)))])
    by_route = [f"route={r}" for r in routes.ROUTES]
    counts = np.bincount(route[route >= 0], minlength=len(routes.ROUTES)).astype(float)
    add(year, 0, by_route, "exit_route_share", list(counts / max(counts.sum(), 1.0)))
    for metric, values in (("exit_land_mu", f.land_mu), ("exit_employees", f.employees),
                           ("exit_va_wan_yuan", f.va_wan_yuan)):
        add(year, 0, by_route, metric, list(np.bincount(
            route[route >= 0], weights=values[route >= 0], minlength=len(routes.ROUTES))))
    add(year, 0, ["all"], "merger_employees_kept", [merged["employees_kept"]])
    add(year, 0, ["all"], "merger_va_absorbed_wan_yuan", [merged["va_absorbed_wan_yuan"]])
    quotas = list(rights)
    if not quotas:  # no quota market: no rights moved
        return
    for code, name in enumerate(routes.ROUTES):
        add(year, 0, [f"market={q}" for q in quotas], f"exit_rights_{name}",
            [float(rights[q][code]) for q in quotas])


def _reasons(state: RunState, score: np.ndarray) -> np.ndarray:
    """Exit reason per firm: 0 losses, 1 failed rectification in D, 2 forced, -1 stays."""
    spec = state.params.dynamics.exit
    f = state.firms
    reason = np.full(f.n, -1, dtype=np.int8)
    reason[f.consecutive_loss_years >= spec.loss_years] = 0
    d_out = (f.rectification_years > spec.d_grace_years) & (reason < 0)
    reason[d_out] = 1
    if spec.forced_exit_share_per_year > 0:
        rated = (~f.is_services) & (f.klass != UNRATED) & np.isfinite(score)
        k = int(round(spec.forced_exit_share_per_year * rated.sum()))
        candidates = np.flatnonzero(rated & (reason < 0))
        if k and candidates.size:
            worst = candidates[np.argsort(score[candidates], kind="stable")[:k]]
            reason[worst] = 2
    return reason

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
"""

from __future__ import annotations

import numpy as np

from simulator.dynamics.state import EXIT_REASONS, loan_rates
from simulator.engine.state import RunState
from simulator.firms import CLASS_CODES, CLASS_LABELS, UNRATED

__all__ = ["close_firms", "settle_money"]


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
    if exiting.any():
        dyn.land.vacate(f.region[exiting], f.land_mu[exiting], reason="exit")
        gone = np.isin(dyn.projects.firm_id, f.firm_id[exiting])
        dyn.projects.take(gone)
    return exiting


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

"""Stage: the government's land bank (土地收储).

With ``dynamics.contracts.banking`` on, the government buys each year a share
of the idle land (land left by exits and by space-for-land) and the land of
firms in D for ``d_years`` years in a row (低效用地: they sell and exit), at
``price_wan_yuan_per_mu``. Banked land is serviced and supplied again
(净地出让) at ``release_share_per_year``. Land only moves between pools, so
``occupied + idle + available + banked`` stays the initial land plus new land
(:meth:`~simulator.dynamics.land.LandPools.check`); the bank's spending is
``land_banking_cost_yuan`` and equals what landholders receive.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simulator.dynamics.contracts import book
from simulator.firms import CLASS_CODES

if TYPE_CHECKING:
    from simulator.engine.state import RunState

__all__ = ["bank_price_wan_yuan_per_mu", "buy", "release"]


def bank_price_wan_yuan_per_mu(state: RunState) -> float:
    """Return what the bank pays per mu, 万元 (default: the finance section's land price)."""
    dyn = state.params.dynamics
    price = dyn.contracts.banking.price_wan_yuan_per_mu
    return dyn.finance.land_price_wan_yuan_per_mu if price is None else price


def buy(state: RunState, leaving: np.ndarray) -> np.ndarray:
    """Buy idle land and the land of long-D firms into the bank; return the firms that sell.

    ``leaving`` marks firms already exiting this year (their land is idle, not sold).
    """
    spec = state.params.dynamics.contracts.banking
    f = state.firms
    selling = np.zeros(f.n, dtype=bool)
    if not spec.enabled:
        return selling
    dyn = state.dynamics
    b = book(state)
    price = bank_price_wan_yuan_per_mu(state)
    if spec.d_years is not None:
        selling = (~leaving & ~f.is_services & (f.klass == CLASS_CODES["D"])
                   & (f.consecutive_d_years >= spec.d_years))
    if selling.any():
        b.count_land("banked_occupied", dyn.land.bank_occupied(f.region[selling],
                                                               f.land_mu[selling]))
        paid = price * f.land_mu[selling]
        f.cash_wan_yuan[selling] += paid
        b.count("land_banking_cost_yuan", paid.sum() * 1e4)
        b.count("firms_banked", selling.sum())
        dyn.projects.take(np.isin(dyn.projects.firm_id, f.firm_id[selling]))
    idle = dyn.land.bank_idle(spec.idle_share_per_year)
    b.count_land("banked_idle", idle)
    # Idle land's holders (exited firms' owners) are outside the run: only the spending shows.
    b.count("land_banking_cost_yuan", price * idle.sum() * 1e4)
    return selling


def release(state: RunState) -> None:
    """Supply the share of banked land the year releases (banked -> available)."""
    spec = state.params.dynamics.contracts.banking
    if spec.enabled:
        book(state).count_land("released_banked",
                               state.dynamics.land.release_banked(spec.release_share_per_year))

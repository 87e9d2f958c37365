"""Routes out of the county: closure, relocation (转移) and merger (兼并重组/整合).

With ``dynamics.exit.routes`` on, each firm that leaves at the year end
(:func:`simulator.dynamics.exits.close_firms` decides who) takes one route,
drawn with the probabilities of its exit reason and class
(:func:`draw_routes`):

- **closure** (关停淘汰): as without routes: land idle, rights to the reserve;
- **relocation** (转移): the firm moves out of the county with its jobs and
  output; its land becomes idle, to be revitalised; its rights go back to the
  reserve, free (收回) or bought back at the market's last price;
- **merger**: the best-scored acquirer of the same sector and region with room
  (:func:`match_acquirers`) takes the firm over (:func:`absorb`): its land
  (still occupied), a share of its employees, its cash, its rights
  (:func:`move_rights`) and its output, moved towards the acquirer's VA per
  mu. A firm drawn for a merger that finds no acquirer closes.

The functions are pure over arrays except :func:`absorb` and
:func:`move_rights`, which change the acquirers' rows and the ledgers in
place; :func:`take_routes` wires them for one year end.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from simulator.firms import CLASS_CODES, Firms, per_class
from simulator.scenario.dynamics import ExitRoutesSpec

if TYPE_CHECKING:
    from simulator.engine.state import RunState

__all__ = ["CLOSURE", "MERGER", "RELOCATION", "ROUTES", "Routes", "absorb", "draw_routes",
           "match_acquirers", "move_rights", "take_routes"]

#: Routes out, in the order of their codes (``route=<name>`` metric groups).
ROUTES: tuple[str, ...] = ("closure", "relocation", "merger")
CLOSURE, RELOCATION, MERGER = range(len(ROUTES))

#: Exit reasons in the order of ``EXIT_REASONS`` codes (the spec's fields of the same names).
_REASON_FIELDS: tuple[str, ...] = ("losses", "d_grace", "forced")


@dataclass
class Routes:
    """The routes the year's leaving firms take (one entry per firm of the population)."""

    route: np.ndarray
    """Route code per firm (int8): -1 stays, else CLOSURE, RELOCATION or MERGER."""
    acquirer: np.ndarray
    """Row of the acquirer per firm (int64), -1 unless merged."""

    @property
    def vacating(self) -> np.ndarray:
        """Firms whose land becomes idle: closed or relocated (merged land stays occupied)."""
        return (self.route == CLOSURE) | (self.route == RELOCATION)


def draw_routes(reason: np.ndarray, klass: np.ndarray, u: np.ndarray,
                spec: ExitRoutesSpec) -> np.ndarray:
    """Return the route drawn for each leaving firm: -1 stays, else a route code.

    Firm ``i`` with reason ``k`` relocates if ``u[i] < r`` and is put up for a
    merger if ``r <= u[i] < r + m``, where ``r`` and ``m`` are its class's
    probabilities for reason ``k``; otherwise it closes.

    Parameters
    ----------
    reason : ndarray of int
        Exit reason code per firm (``EXIT_REASONS`` order), -1 for firms that stay.
    klass : ndarray of int
        Class code per firm (0..3 A..D, ``UNRATED``).
    u : ndarray of float
        One uniform draw in [0, 1) per firm.
    spec : ExitRoutesSpec
        The routes' probabilities.

    Examples
    --------
    >>> from simulator.scenario import ExitRoutesSpec
    >>> spec = ExitRoutesSpec(enabled=True, d_grace={
    ...     "relocation_by_class": {"D": 0.2}, "merger_by_class": {"D": 0.3}})
    >>> draw_routes(np.array([1, 1, 1, -1]), np.array([3, 3, 3, 3]),
    ...             np.array([0.1, 0.4, 0.6, 0.0]), spec).tolist()
    [1, 2, 0, -1]
    """
    relocate = np.zeros(reason.shape)
    merge = np.zeros(reason.shape)
    for k, name in enumerate(_REASON_FIELDS):
        sel = reason == k
        if sel.any():
            shares = getattr(spec, name)
            relocate[sel] = per_class(shares.relocation_by_class.as_tuple(), klass[sel],
                                      unrated=shares.relocation_unrated)
            merge[sel] = per_class(shares.merger_by_class.as_tuple(), klass[sel],
                                   unrated=shares.merger_unrated)
    route = np.where(u < relocate, RELOCATION, np.where(u < relocate + merge, MERGER, CLOSURE))
    return np.where(reason >= 0, route, -1).astype(np.int8)


def match_acquirers(target: np.ndarray, acquirer: np.ndarray, key: np.ndarray,
                    score: np.ndarray, *, max_targets: int) -> np.ndarray:
    """Return the acquirer's row for each firm of ``target`` (-1: none has room).

    Within each group of ``key`` (sector and region), acquirers are ranked by
    score, best first, and targets by score, best first (ties: row order). The
    j-th target goes to acquirer ``j mod n`` of the group's ``n``: the best
    acquirer takes the best target, each acquirer at most ``max_targets``.

    Parameters
    ----------
    target, acquirer : ndarray of bool
        Firms to be taken over; firms that may take them over (disjoint).
    key : ndarray of int
        Group per firm; only firms of the same group merge.
    score : ndarray of float
        Evaluation score per firm (NaN ranks last).
    max_targets : int
        Most targets one acquirer takes.

    Returns
    -------
    ndarray of int64
        One entry per target firm, in row order: the acquirer's row or -1.

    Examples
    --------
    >>> match_acquirers(np.array([1, 0, 0, 1, 1], bool), np.array([0, 1, 1, 0, 0], bool),
    ...                 np.array([0, 0, 0, 0, 1]), np.array([9., 50, 80, 20, 1]),
    ...                 max_targets=1).tolist()
    [1, 2, -1]
    """
    t, a = np.flatnonzero(target), np.flatnonzero(acquirer)
    out = np.full(t.size, -1, dtype=np.int64)
    if not (t.size and a.size):
        return out
    worst = np.where(np.isfinite(score), -score, np.inf)  # sorts best first, NaN last
    a = a[np.lexsort((worst[a], key[a]))]
    t_order = np.lexsort((worst[t], key[t]))
    t_keys, a_keys = key[t[t_order]], key[a]
    rank = np.arange(t.size) - np.searchsorted(t_keys, t_keys, side="left")
    start = np.searchsorted(a_keys, t_keys, side="left")
    count = np.searchsorted(a_keys, t_keys, side="right") - start
    room = rank < count * max_targets
    pick = start + rank % np.maximum(count, 1)
    out[t_order] = np.where(room, a[np.minimum(pick, a.size - 1)], -1)
    return out


def absorb(firms: Firms, targets: np.ndarray, acquirers: np.ndarray, *,
           employees_kept_share: float, productivity_catch_up: float) -> dict[str, float]:
    """Move the targets' land, employees, cash and output to their acquirers, in place.

    Each acquirer ``a`` of target ``t`` gets ``t``'s land, contracted
    capacity and cash (assets and debts taken over), ``employees_kept_share``
    of its employees, and absorbed VA ``va_t + c * (va_per_mu_a * land_t -
    va_t)`` with ``c = productivity_catch_up``: the acquirer's potential VA,
    revenue and water quota grow by the same factor (its intensities per 万元
    VA, its technology, apply to the absorbed output). The targets' rows are
    left as they were (they leave the population).

    Parameters
    ----------
    firms : Firms
        The population; the acquirers' rows change.
    targets, acquirers : ndarray of int
        Rows of each target and of its acquirer (same length; acquirers may repeat).
    employees_kept_share, productivity_catch_up : float
        See :class:`~simulator.scenario.ExitRoutesSpec`.

    Returns
    -------
    dict of str to float
        ``land_mu``, ``employees``, ``employees_kept``, ``va_target_wan_yuan``
        (the targets' own potential VA) and ``va_absorbed_wan_yuan``.

    Examples
    --------
    A target of 10 mu and 100 万元 VA taken over by a firm of 20 mu and 400
    万元 (20 per mu): with half the gap closed it adds ``100 + 0.5 * (200 -
    100) = 150`` 万元, so the acquirer's VA grows by 150 / 400.
    """
    f = firms
    n = f.n
    land_t = f.land_mu[targets]
    va_t = f.va_wan_yuan[targets]
    va_a, land_a = f.va_wan_yuan[acquirers], f.land_mu[acquirers]
    va_per_mu_a = np.divide(va_a, land_a, out=np.zeros(va_a.size), where=land_a > 0)
    absorbed = va_t + productivity_catch_up * (va_per_mu_a * land_t - va_t)
    added_va = np.bincount(acquirers, weights=absorbed, minlength=n)
    # Acquirers have VA > 0 (match_acquirers' caller requires it); others grow by 1.
    growth = 1.0 + np.divide(added_va, f.va_wan_yuan, out=np.zeros(n), where=added_va != 0)
    for name in ("va_wan_yuan", "revenue_wan_yuan", "water_quota_m3"):
        setattr(f, name, getattr(f, name) * growth)
    employees_t = f.employees[targets]
    kept = employees_kept_share * employees_t
    f.land_mu = f.land_mu + np.bincount(acquirers, weights=land_t, minlength=n)
    f.capacity_kva = f.capacity_kva + np.bincount(acquirers, weights=f.capacity_kva[targets],
                                                  minlength=n)
    f.employees = f.employees + np.bincount(acquirers, weights=kept, minlength=n)
    if f.cash_wan_yuan.size:
        f.cash_wan_yuan = f.cash_wan_yuan + np.bincount(
            acquirers, weights=f.cash_wan_yuan[targets], minlength=n)
    return {"land_mu": float(land_t.sum()), "employees": float(employees_t.sum()),
            "employees_kept": float(kept.sum()), "va_target_wan_yuan": float(va_t.sum()),
            "va_absorbed_wan_yuan": float(absorbed.sum())}


def move_rights(markets: Mapping[str, Any], routes: Routes, *,
                sell: bool) -> dict[str, np.ndarray]:
    """Move the leaving firms' rights in every market; return the units by route and quota.

    Merged firms' rights (own and leased) go to their acquirers' accounts
    (:meth:`~simulator.markets.ledger.QuotaLedger.transfer_holdings`), and so do
    their allocation history (last year's unabated use, the base of the next
    energy allocation) and emission entitlements for the term: the acquirer's
    allocation covers the plant it took over. With
    ``sell``, the reserve buys relocating firms' rights at the market's last
    price (no platform fee); otherwise they, like closing firms', go to the
    reserve free when the firms are removed. Rights are conserved either way.

    Returns
    -------
    dict of str to ndarray
        Per quota, the rights of closing, relocating and merged firms
        (:data:`ROUTES` order), units.
    """
    moved: dict[str, np.ndarray] = {}
    merged = np.flatnonzero(routes.route == MERGER)
    relocating = routes.route == RELOCATION
    for quota, market in markets.items():
        ledger = market.ledger
        held = ledger.holdings.copy()
        moved[quota] = np.array([held[routes.route == r].sum() for r in range(len(ROUTES))])
        if sell and relocating.any():
            sold = np.where(relocating, held, 0.0)
            ledger.trade(-sold, float(sold.sum()), market.last_price, fee_share=0.0)
        if merged.size:
            acquirer = routes.acquirer[merged]
            ledger.transfer_holdings(merged, acquirer)
            np.add.at(market.history, acquirer, market.history[merged])
            if market.entitlement is not None:
                np.add.at(market.entitlement, acquirer, market.entitlement[merged])
    return moved


def take_routes(state: RunState, reason: np.ndarray, score: np.ndarray,
                u: np.ndarray) -> tuple[Routes, dict[str, float], dict[str, np.ndarray]]:
    """Draw routes for the leaving firms, match and absorb the mergers, move their rights.

    Returns the routes, what the mergers moved (:func:`absorb`) and the
    rights moved by route per quota (:func:`move_rights`).
    """
    spec = state.params.dynamics.exit.routes
    f = state.firms
    route = draw_routes(reason, f.klass, u, spec)
    codes = np.array([CLASS_CODES[c] for c in spec.acquirer_classes], dtype=f.klass.dtype)
    can_acquire = ((reason < 0) & ~f.is_services & np.isin(f.klass, codes)
                   & np.isfinite(score) & (f.va_wan_yuan > 0) & (f.land_mu > 0))
    key = f.sector.astype(np.int64) * (int(f.region.max(initial=0)) + 1) + f.region
    wants = route == MERGER
    found = match_acquirers(wants, can_acquire, key, score,
                            max_targets=spec.max_targets_per_acquirer)
    acquirer = np.full(f.n, -1, dtype=np.int64)
    acquirer[wants] = found
    route[wants & (acquirer < 0)] = CLOSURE
    routes = Routes(route=route, acquirer=acquirer)
    merged = np.flatnonzero(route == MERGER)
    moved = absorb(f, merged, acquirer[merged], employees_kept_share=spec.employees_kept_share,
                   productivity_catch_up=spec.productivity_catch_up)
    rights = move_rights(state.markets, routes, sell=spec.relocation_rights == "sell")
    return routes, moved, rights

"""What a unit of energy, emissions and land costs each firm in the years ahead.

Investment is valued at the prices a firm expects: today's class and market
prices, with tariffs as the timeline sets them in each future year. Prices
are computed once per regime (set of timeline changes in force), not once per
year, from the same per-unit prices the engine bills
(:func:`simulator.tariffs.unit_prices`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from simulator import tariffs
from simulator.firms import TCE_PER_KWH, Firms
from simulator.scenario import Scenario, apply_changes, month_index

__all__ = ["PricePath", "Rates", "price_path", "rates"]


@dataclass(frozen=True)
class Rates:
    """Per-unit prices each firm pays under one set of tariffs, yuan."""

    per_tce: np.ndarray       # (n,) energy, all charges, per tce
    base_per_tce: np.ndarray  # (n,) energy at base prices (no differentiated charges)
    per_t: np.ndarray         # (n, pollutants) pollution charge per tonne, class multiplier in
    base_per_t: np.ndarray    # (n, pollutants) at the base rate
    land_per_mu: np.ndarray   # (n,) land-use tax per mu and year, after relief


@dataclass(frozen=True)
class PricePath:
    """Prices over the next H years: one :class:`Rates` per timeline regime."""

    regimes: dict[int, Rates]
    regime_of_year: np.ndarray  # (H,) regime in force in each year ahead
    now: Rates                  # the prices in force now

    def path(self, saving: Callable[[Rates], np.ndarray]) -> np.ndarray:
        """Return ``saving(rates)`` for each year ahead, shape (n, H)."""
        per_regime = {k: saving(r) for k, r in self.regimes.items()}
        return np.stack([per_regime[int(k)] for k in self.regime_of_year], axis=1)


def rates(firms: Firms, params: Scenario, sector_names: list[str]) -> Rates:
    """Per-unit prices under ``params``: energy, pollutants, land, and their base parts.

    A tce of energy is the firm's electricity share at its price per kWh
    (general or large-industry pricing by its contracted capacity, as in its
    bills; the fixed capacity charge left out) and the rest as fuel.
    """
    f = firms
    t = params.tariffs
    fin = params.dynamics.finance
    unit = tariffs.unit_prices(f, t, sector_names, params.pollutant_specs())
    kwh_per_tce = 1.0 / TCE_PER_KWH
    share = f.electricity_share
    fuel = (1.0 - share) * fin.fuel_price_yuan_per_tce
    return Rates(
        per_tce=share * unit.per_kwh * kwh_per_tce + fuel,
        base_per_tce=share * unit.base_per_kwh * kwh_per_tce + fuel,
        per_t=unit.per_t,
        base_per_t=unit.base_per_t,
        land_per_mu=tariffs.land_use_tax(np.ones(f.n), land_grade=f.land_grade, klass=f.klass,
                                         params=t.land_tax, years=1.0).net_yuan)


def price_path(firms: Firms, params: Scenario, sector_names: list[str], year: int,
               horizon: int) -> PricePath:
    """Return the per-unit prices in years 1..H after ``year``.

    A timeline change dated up to January of a future year counts for that
    whole year. The firm's class, years in D and process status are taken as
    they are now.
    """
    p = params
    run = p.run
    now = month_index(run.start, f"{year + 1}-01")  # changes before this are in force
    pending = sorted((c for c in p.timeline if month_index(run.start, c.date) >= now),
                     key=lambda c: c.date)
    regime_of_year = np.array([
        sum(1 for c in pending
            if month_index(run.start, c.date) <= month_index(run.start, f"{year + 1 + h}-01"))
        for h in range(horizon)])
    regimes: dict[int, Rates] = {}
    for k in np.unique(regime_of_year):
        changed = p
        for change in pending[:k]:
            changed = apply_changes(changed, change.set)
        regimes[int(k)] = rates(firms, changed, sector_names)
    return PricePath(regimes=regimes, regime_of_year=regime_of_year,
                     now=regimes.get(0) or rates(firms, p, sector_names))

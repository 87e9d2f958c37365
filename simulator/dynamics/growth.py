"""Growth between years: potential output, employment and autonomous intensity change.

At each year end the engine moves every firm's potentials into the next
year (:func:`grow`): potential output (value added, revenue, the water quota
and contracted capacity) grows at ``behaviour.potential_growth(year)``,
employees at ``(1 + output growth) / (1 + labour productivity growth)``, and
the energy and emission intensities per 万元 VA change at
``behaviour.intensity_change(year)`` (technical progress and structural
change besides the modelled upgrades and abatement).

Entrants are drawn from the sector values of the first year; the
:class:`Frontier` keeps the cumulative factors so that an entrant of a later
year comes with that year's output, productivity and intensities.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simulator.firms import Firms
from simulator.scenario import POLLUTANTS, QUOTAS, BehaviourSpec

__all__ = ["Frontier", "grow"]


@dataclass
class Frontier:
    """Cumulative growth since the first year of the run (entrants are scaled by it)."""

    output: float = 1.0
    """Potential output per firm (VA, revenue, water quota)."""
    employees: float = 1.0
    """Employees per firm of the same sector and size."""
    intensity: np.ndarray = field(default_factory=lambda: np.ones(1 + len(POLLUTANTS)))
    """Energy and emission intensities per 万元 VA (energy, then each pollutant)."""

    @classmethod
    def of(cls, quotas: tuple[str, ...]) -> Frontier:
        """Return the frontier at the start of a run whose quotas are ``quotas``."""
        return cls(intensity=np.ones(len(quotas)))

    def scale(self, firms: Firms) -> None:
        """Scale firms drawn at first-year values to the frontier, in place (before sizing)."""
        for name in ("va_wan_yuan", "revenue_wan_yuan", "water_quota_m3"):
            setattr(firms, name, getattr(firms, name) * self.output)
        firms.employees = firms.employees * self.employees
        firms.energy_tce_per_wan_yuan = firms.energy_tce_per_wan_yuan * self.intensity[0]
        firms.emission_t_per_wan_yuan = firms.emission_t_per_wan_yuan * self.intensity[1:]


def grow(firms: Firms, behaviour: BehaviourSpec, year: int, frontier: Frontier,
         quotas: tuple[str, ...] = QUOTAS) -> None:
    """Move the firms' potentials from ``year - 1`` into ``year``, in place.

    Parameters
    ----------
    firms : Firms
        The population; potentials, employees and intensities are scaled.
    behaviour : BehaviourSpec
        The growth rates in force.
    year : int
        The calendar year the potentials grow into.
    frontier : Frontier
        Updated with the same factors.
    quotas : tuple of str
        Energy and the scenario's pollutants (the intensities' order).

    Notes
    -----
    Output growth of 8% with productivity growth of 5% makes employees grow
    by ``1.08 / 1.05 - 1``, about 2.86%. Intensities are scaled in place
    (abatement shares stand: the unabated intensity changes by the same
    factor).
    """
    growth = 1.0 + behaviour.potential_growth(year)
    employees = growth / (1.0 + behaviour.labour_productivity_growth(year))
    change = 1.0 + np.asarray(behaviour.intensity_change(year, quotas))
    if growth != 1.0:
        for name in ("va_wan_yuan", "revenue_wan_yuan", "water_quota_m3", "capacity_kva"):
            setattr(firms, name, getattr(firms, name) * growth)
    if employees != 1.0:
        firms.employees = firms.employees * employees
    if change[0] != 1.0:
        firms.energy_tce_per_wan_yuan *= change[0]
    if np.any(change[1:] != 1.0):
        firms.emission_t_per_wan_yuan *= change[1:]
    frontier.output *= growth
    frontier.employees *= employees
    frontier.intensity = frontier.intensity * change

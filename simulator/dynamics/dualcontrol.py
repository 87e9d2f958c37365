"""Energy dual control (能耗双控) as a binding constraint on new projects.

Each region's energy-intensity path starts at its intensity in the run's
first year (times ``initial_target_share``) and falls by
``intensity_decline_per_year``; optionally its total energy follows a path
growing by ``total_growth_per_year``. At each year end a region whose year
was above a path is *above its path*: under ``mode: refuse`` its new projects
(entrants, expansions) are refused; under ``mode: price`` they must buy their
annual energy once at ``purchase_price_yuan_per_tce`` (用能权有偿申购) and
withdraw if that costs more than ``payback_years`` of their expected profit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from simulator.scenario.landcontracts import DualControlSpec

if TYPE_CHECKING:
    from simulator.engine.state import RunState

__all__ = ["DualControl", "path", "record_year", "screen", "update"]


@dataclass
class DualControl:
    """A run's dual-control paths: the regions' first-year values and the year's status."""

    first_year: int
    base_intensity: np.ndarray
    """Each region's energy intensity in the first year, tce/万元 VA, shape (R,) (+ all)."""
    base_energy: np.ndarray
    """Each region's energy in the first year, tce, shape (R,) (+ all)."""
    above: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    """Whether each region was above its path this year, shape (R,)."""
    tally: dict[str, float] = field(default_factory=dict)

    def count(self, metric: str, value: float) -> None:
        """Add ``value`` to the year's ``metric``."""
        self.tally[metric] = self.tally.get(metric, 0.0) + float(value)


def path(base_intensity: np.ndarray, base_energy: np.ndarray, years_since_start: int, *,
         spec: DualControlSpec) -> tuple[np.ndarray, np.ndarray]:
    """Return (intensity path, total-energy path) ``years_since_start`` years on.

    The total path is ``inf`` when ``spec.total_growth_per_year`` is None.

    Examples
    --------
    >>> from simulator.scenario.landcontracts import DualControlSpec
    >>> spec = DualControlSpec(intensity_decline_per_year=0.1, total_growth_per_year=0.05)
    >>> i, e = path(np.array([1.0]), np.array([100.0]), 2, spec=spec)
    >>> round(float(i[0]), 6), round(float(e[0]), 6)
    (0.81, 110.25)
    """
    share = spec.initial_target_share
    decline = (1.0 - spec.intensity_decline_per_year) ** years_since_start
    intensity = base_intensity * share * decline
    g = spec.total_growth_per_year
    total = (np.full(base_energy.shape, np.inf) if g is None
             else base_energy * share * (1.0 + g) ** years_since_start)
    return intensity, total


def screen(above: np.ndarray, region: np.ndarray, energy_tce: np.ndarray,
           profit_yuan: np.ndarray, *, spec: DualControlSpec
           ) -> tuple[np.ndarray, np.ndarray]:
    """Return (allowed, purchase charge in yuan) of new projects under dual control.

    Parameters
    ----------
    above : ndarray of bool, shape (R,)
        Whether each region is above its path.
    region, energy_tce, profit_yuan : ndarray, shape (n,)
        Each project's region, annual energy at full output (tce) and expected
        annual profit (yuan).

    Examples
    --------
    >>> from simulator.scenario.landcontracts import DualControlSpec
    >>> spec = DualControlSpec(mode="price", purchase_price_yuan_per_tce=500, payback_years=5)
    >>> ok, pay = screen(np.array([True, False]), np.array([0, 0, 1]),
    ...                  np.array([100.0, 100.0, 100.0]),
    ...                  np.array([20_000.0, 5_000.0, 0.0]), spec=spec)
    >>> ok.tolist(), pay.tolist()
    ([True, False, True], [50000.0, 0.0, 0.0])
    """
    hit = above[region] if above.size else np.zeros(region.size, bool)
    if spec.mode == "refuse":
        return ~hit, np.zeros(region.size)
    if spec.mode == "off":
        return np.ones(region.size, bool), np.zeros(region.size)
    charge = np.where(hit, spec.purchase_price_yuan_per_tce * energy_tce, 0.0)
    allowed = charge <= spec.payback_years * np.maximum(profit_yuan, 0.0)
    return allowed, np.where(allowed, charge, 0.0)


def update(state: RunState, year: int) -> np.ndarray:
    """Compare each region's year with its path; return whether it is above (shape (R,))."""
    spec = state.params.dynamics.dual_control
    dyn = state.dynamics
    f = state.firms
    n_regions = len(state.params.population.regions)
    energy = np.bincount(f.region, weights=f.ytd["energy_tce"], minlength=n_regions)
    va = np.bincount(f.region, weights=f.ytd["va_wan_yuan"], minlength=n_regions)
    energy = np.append(energy, energy.sum())  # the last entry: all regions
    va = np.append(va, va.sum())
    intensity = energy / np.maximum(va, 1e-9)
    if dyn.dual_control is None:
        dyn.dual_control = DualControl(year, intensity.copy(), energy.copy())
    dc = dyn.dual_control
    target, total = path(dc.base_intensity, dc.base_energy, year - dc.first_year, spec=spec)
    above = (intensity > target * (1 + 1e-12)) | (energy > total * (1 + 1e-12))
    dc.above = above[:-1]
    names = ["all", *(f"region={r.name}" for r in state.params.population.regions)]
    order = np.r_[n_regions, 0:n_regions]  # "all" first, as the groups
    add = state.recorder.add
    add(year, 0, names, "energy_intensity_region_tce_per_wan_yuan", list(intensity[order]))
    add(year, 0, names, "energy_intensity_path_tce_per_wan_yuan", list(target[order]))
    add(year, 0, names, "dual_control_above_path", list(above[order].astype(float)))
    return dc.above


def record_year(state: RunState, year: int) -> None:
    """Record the projects refused or priced by dual control this year; reset the tally."""
    dc = state.dynamics.dual_control
    add = state.recorder.add
    for metric in ("projects_refused_dual_control", "dual_control_purchase_yuan"):
        add(year, 0, ["all"], metric, [dc.tally.get(metric, 0.0)])
    dc.tally = {}

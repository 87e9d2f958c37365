"""Who is evaluated, and with whom: tiers, ranking groups, inputs and results.

:class:`EvaluationInput` holds a year's totals per firm, :class:`EvaluationResult`
what :func:`~simulator.evaluation.evaluate` makes of them. :func:`tier_codes`
puts each firm in its tier (above-scale industry, below-scale industry,
services, or out of scope); :func:`ranking_groups` and :func:`benchmark_groups`
number the groups firms are ranked and benchmarked in. The indicators, their
units and tiers come from the catalogue (``simulator/catalogue/entries.yaml``).
The rules are stated in :mod:`simulator.evaluation`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from simulator import catalogue
from simulator.scenario import EvaluationSpec

if TYPE_CHECKING:
    from simulator.evaluation.rules import RuleOutcome

__all__ = [
    "INDICATORS",
    "INDICATOR_FORMULAS",
    "INDICATOR_UNITS",
    "OUT_OF_SCOPE",
    "TIER_ABOVE_SCALE",
    "TIER_BELOW_SCALE",
    "TIER_INDICATORS",
    "TIER_LABELS",
    "TIER_SERVICES",
    "EvaluationInput",
    "EvaluationResult",
    "benchmark_groups",
    "ranking_groups",
    "tier_codes",
]

TIER_ABOVE_SCALE: int = 0
TIER_BELOW_SCALE: int = 1
TIER_SERVICES: int = 2
OUT_OF_SCOPE: int = -1
#: Tier code -> label in output tables (index -1, out of scope, is the last).
TIER_LABELS: tuple[str, ...] = ("above_scale", "below_scale", "services", "out_of_scope")

#: Indicator -> (numerator, denominator or None, scale), from the catalogue; operand names
#: index the scoring's quantities (:mod:`simulator.evaluation.scoring`).
INDICATOR_FORMULAS = catalogue.indicator_formulas()
#: Every indicator, in output-column order.
INDICATORS: tuple[str, ...] = tuple(INDICATOR_FORMULAS)
#: Indicator -> unit of its value.
INDICATOR_UNITS: dict[str, str] = {
    name: e.unit for name, e in catalogue.indicators().items()}
#: Tier code -> the indicators defined for it (the catalogue's tiers, in column order).
TIER_INDICATORS: dict[int, tuple[str, ...]] = {
    tier: tuple(name for name, e in catalogue.indicators().items() if tier in e.tiers)
    for tier in (TIER_ABOVE_SCALE, TIER_BELOW_SCALE, TIER_SERVICES)}


@dataclass(frozen=True)
class EvaluationInput:
    """Annual totals per firm for one evaluation (arrays of length ``n``).

    Parameters
    ----------
    firm_id : ndarray of int64
        Unique firm ids; ties in score are broken by the smaller id.
    tax_wan_yuan, va_wan_yuan, revenue_wan_yuan, rd_wan_yuan : ndarray of float
        Tax paid, value added, main-business revenue (taxable sales) and R&D
        spend over the year, 万元.
    land_mu : ndarray of float
        Land held, mu.
    employees : ndarray of float
        Employees, persons.
    energy_tce : ndarray of float
        Energy use over the year, tce.
    electricity_kwh : ndarray of float
        Electricity use over the year, kWh.
    emissions_t : ndarray of float, shape (n, 4)
        Emissions over the year, tonnes, one column per pollutant (the scenario's order)
        (cod, nh3n, so2, nox).
    above_scale, is_services : ndarray of bool
        Above designated size (规上); services firm.
    sector, region, park : ndarray of int
        Sector code, region code, park number within the region.
    high_tech, listed, brand : ndarray of bool
        Bonus items.
    vetoed : ndarray of bool
        One-vote veto this year: cannot be A or B.
    protected : ndarray of bool
        Start-ups and firms newly above scale: cannot be D.
    """

    firm_id: np.ndarray
    tax_wan_yuan: np.ndarray
    va_wan_yuan: np.ndarray
    revenue_wan_yuan: np.ndarray
    rd_wan_yuan: np.ndarray
    land_mu: np.ndarray
    employees: np.ndarray
    energy_tce: np.ndarray
    electricity_kwh: np.ndarray
    emissions_t: np.ndarray
    above_scale: np.ndarray
    is_services: np.ndarray
    sector: np.ndarray
    region: np.ndarray
    park: np.ndarray
    high_tech: np.ndarray
    listed: np.ndarray
    brand: np.ndarray
    vetoed: np.ndarray
    protected: np.ndarray

    def __post_init__(self) -> None:
        n = self.n
        for f in dataclasses.fields(self):
            shape = np.shape(getattr(self, f.name))
            want = (n, *shape[1:2]) if f.name == "emissions_t" else (n,)
            if shape != want or (f.name == "emissions_t" and len(shape) != 2):
                raise ValueError(
                    f"The '{f.name}' array must have shape {want}. Got {shape} instead."
                )

    @property
    def n(self) -> int:
        """Number of firms."""
        return int(np.shape(self.firm_id)[0])

    def take(self, index: np.ndarray) -> EvaluationInput:
        """Return the firms at ``index`` (an integer or boolean index array)."""
        return EvaluationInput(
            **{f.name: np.asarray(getattr(self, f.name))[index] for f in dataclasses.fields(self)}
        )


@dataclass(frozen=True)
class EvaluationResult:
    """Outcome of one evaluation, one entry per firm (input order).

    Attributes
    ----------
    in_scope : ndarray of bool
        The firm is evaluated this year.
    tier : ndarray of int8
        0 above-scale industrial, 1 below-scale industrial, 2 services,
        -1 out of scope (labels in ``TIER_LABELS``).
    group : ndarray of int64
        Ranking-group id (tier x ``group_by`` keys); -1 out of scope.
    indicators : dict of str to ndarray of float
        Every indicator's value (units in ``INDICATOR_UNITS``); NaN where the
        indicator is not defined for the firm's tier or its data are missing.
    score : ndarray of float
        Total score ``S`` including bonus points, less any deduction points
        (:mod:`~simulator.evaluation.rules`); NaN out of scope.
    rank : ndarray of int64
        1 = best within the ranking group; 0 out of scope.
    group_size : ndarray of int64
        Number of firms in the ranking group; 0 out of scope.
    klass : ndarray of int8
        Class code 0..3 (A..D) after veto and protection; ``UNRATED`` (4) out
        of scope.
    rules : RuleOutcome or None
        Which firms the further rules (downgrades, the standards cap,
        protection) moved; None when they were not applied
        (:mod:`~simulator.evaluation.rules`).
    """

    in_scope: np.ndarray
    tier: np.ndarray
    group: np.ndarray
    indicators: dict[str, np.ndarray]
    score: np.ndarray
    rank: np.ndarray
    group_size: np.ndarray
    klass: np.ndarray
    rules: RuleOutcome | None = None


def tier_codes(inp: EvaluationInput, params: EvaluationSpec) -> np.ndarray:
    """Return the tier code of every firm (-1 out of scope)."""
    services = np.asarray(inp.is_services, dtype=bool)
    above = np.asarray(inp.above_scale, dtype=bool) & ~services
    below = ~services & ~above & (np.asarray(inp.land_mu) >= params.min_land_mu_below_scale)
    tier = np.full(inp.n, OUT_OF_SCOPE, dtype=np.int8)
    tier[above] = TIER_ABOVE_SCALE
    tier[below] = TIER_BELOW_SCALE
    if params.evaluate_services:
        tier[services] = TIER_SERVICES
    return tier


def _radix(codes: np.ndarray) -> tuple[np.ndarray, int]:
    """Return (codes shifted to start at 0, number of possible values) as int64."""
    codes = np.asarray(codes, dtype=np.int64)
    if codes.size == 0:
        return codes, 1
    low = codes.min()
    return codes - low, int(codes.max() - low) + 1


def _dense_ids(key: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, int]:
    """Return dense ids 0, 1, ... of the masked rows' keys (in key order), -1 elsewhere.

    ``key`` must be non-negative.
    """
    n_keys = int(key.max()) + 1 if key.size else 1
    if n_keys <= 4 * key.size + 1024:  # counting is O(n); np.unique sorts
        present = np.bincount(key, weights=mask, minlength=n_keys) > 0
        dense = np.cumsum(present) - 1
        return np.where(mask, dense[key], -1), int(present.sum())
    ids = np.full(key.shape[0], -1, dtype=np.int64)
    uniq, inverse = np.unique(key[mask], return_inverse=True)
    ids[mask] = inverse
    return ids, int(uniq.size)


def ranking_groups(
    inp: EvaluationInput, tier: np.ndarray, params: EvaluationSpec
) -> tuple[np.ndarray, int]:
    """Return (group id per firm, number of groups): tier x ``group_by`` keys.

    Ids are dense (0, 1, ...) in the order (tier, region, park, sector); -1 out of scope.
    """
    keys = []
    if "region" in params.group_by or "park" in params.group_by:
        keys.append(inp.region)  # park numbers are per region
    if "park" in params.group_by:
        keys.append(inp.park)
    if "sector" in params.group_by:
        keys.append(inp.sector)
    in_scope = tier >= 0
    key = np.where(in_scope, tier, 0).astype(np.int64)
    for codes in keys:  # mixed-radix number (tier, region, park, sector)
        digits, base = _radix(codes)
        key = key * base + digits
    return _dense_ids(key, in_scope)



def benchmark_groups(
    inp: EvaluationInput, group: np.ndarray, n_groups: int, in_scope: np.ndarray,
    params: EvaluationSpec,
) -> tuple[np.ndarray, int]:
    """Return (benchmark group id per firm, number of groups).

    The ranking groups (``group``, ``n_groups``), or for ``params.benchmark ==
    "sector_mean"`` the ranking groups crossed with the sector.
    """
    if params.benchmark == "sector_mean":
        digits, base = _radix(inp.sector)
        return _dense_ids(np.maximum(group, 0) * base + digits, in_scope)
    return group, n_groups

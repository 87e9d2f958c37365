"""Synthetic firms drawn sector by sector from the scenario's distributions.

Land and VA per mu are lognormal around each sector's medians, and every
intensity (energy, water, emissions per 万元 VA) is lognormal around the
sector's value; region, park, process status and land grade are drawn by
their shares. :func:`draw_firms` draws firms of given sectors (the initial
population here, entrants in :mod:`simulator.dynamics.entry`);
:func:`finish_firms` derives scale, transformer capacity and the state set at
creation. The result is not calibrated (:mod:`simulator.population.calibration`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from simulator.firms import UNRATED, Firms
from simulator.scenario import PopulationSpec, Scenario

__all__ = ["counts_by_share", "draw_firms", "finish_firms", "synthetic_population"]


def _lognormal(rng: np.random.Generator, median: np.ndarray | float, sigma: np.ndarray | float,
               n: int) -> np.ndarray:
    return np.asarray(median) * np.exp(np.asarray(sigma) * rng.standard_normal(n))


def counts_by_share(n: int, shares: np.ndarray) -> np.ndarray:
    """Split n into integer counts proportional to shares (largest remainder)."""
    raw = n * shares
    counts = np.floor(raw).astype(np.int64)
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return counts


def synthetic_population(scenario: Scenario, rng: np.random.Generator) -> Firms:
    """Draw a synthetic population by sector (not yet calibrated).

    Parameters
    ----------
    scenario : Scenario
        Its ``population`` section gives counts, sector intensities and spreads.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    Firms
        One row per firm, firm ids 1..n.
    """
    spec = scenario.population
    sectors = list(spec.sectors.values())
    n_by_kind = {"industrial": spec.n_industrial, "services": spec.n_services}
    codes: list[np.ndarray] = []
    for kind in ("industrial", "services"):
        idx = np.array([i for i, s in enumerate(sectors) if s.kind == kind], dtype=np.int16)
        if idx.size and n_by_kind[kind]:
            shares = np.array([sectors[i].share for i in idx])
            codes.append(np.repeat(idx, counts_by_share(n_by_kind[kind], shares)))
    sector = np.concatenate(codes) if codes else np.zeros(0, dtype=np.int16)
    sector = sector[rng.permutation(sector.size)].astype(np.int16)
    firms = draw_firms(scenario, rng, sector, first_id=1)
    finish_firms(firms, spec)
    return firms


def draw_firms(scenario: Scenario, rng: np.random.Generator, sector: np.ndarray, *,
               first_id: int, productivity: float = 1.0) -> Firms:
    """Draw firms of the given sectors from the scenario's sector distributions.

    Parameters
    ----------
    scenario : Scenario
        Its ``population`` section gives the sector intensities and spreads.
    rng : numpy.random.Generator
        Source of randomness.
    sector : ndarray of int16
        Sector code of each firm to draw.
    first_id : int
        Firm id of the first; the others follow.
    productivity : float
        Multiplier of the sectors' VA per mu (e.g. new projects' premium).

    Returns
    -------
    Firms
        Not finished: scale, capacity and accumulators are set by ``finish_firms``.
    """
    spec = scenario.population
    sectors = list(spec.sectors.values())
    n = sector.size

    def col(attr: str) -> np.ndarray:
        return np.array([getattr(s, attr) for s in sectors], dtype=float)[sector]

    disp = spec.dispersion
    land, va, va_share, z_energy, energy_int, emis, water_int = _draw_sizes(
        spec, rng, sector, col, productivity, scenario.pollutant_names())
    unit = _unit_consumption(scenario, sector, z_energy)
    region, park, process, land_grade = _draw_places(spec, rng, col, n)

    return Firms(
        firm_id=np.arange(first_id, first_id + n, dtype=np.int64),
        sector=sector,
        region=region,
        park=park,
        is_services=np.array([s.kind == "services" for s in sectors], dtype=bool)[sector],
        high_tech=rng.random(n) < col("high_tech_share"),
        listed=rng.random(n) < spec.listed_share,
        brand=rng.random(n) < spec.brand_share,
        process_status=process.astype(np.int8),
        land_grade=land_grade,
        age_years=rng.integers(0, spec.max_age_years, size=n).astype(np.int16),
        above_scale=np.zeros(n, dtype=bool),
        land_mu=land,
        employees=va / _lognormal(rng, col("va_per_employee_wan_yuan"), disp.labour_sigma, n),
        capacity_kva=np.zeros(n),
        va_wan_yuan=va,
        revenue_wan_yuan=va / va_share,
        tax_share_of_va=np.clip(_lognormal(rng, col("tax_share_of_va"), disp.tax_share_sigma, n),
                                0.0, 0.9),
        rd_share_of_revenue=np.clip(
            _lognormal(rng, np.maximum(col("rd_share_of_revenue"), 1e-12), disp.rd_sigma, n),
            0.0, 0.5,
        ),
        profit_margin=col("profit_margin") + disp.margin_sd * rng.standard_normal(n),
        energy_tce_per_wan_yuan=energy_int,
        electricity_share=col("electricity_share_of_energy"),
        water_m3_per_wan_yuan=water_int,
        water_quota_m3=col("water_m3_per_wan_yuan_va") * va,
        emission_t_per_wan_yuan=emis,
        unit_consumption=unit,
        output_elasticity=col("output_elasticity"),
        klass=np.full(n, UNRATED, dtype=np.int8),
        consecutive_d_years=np.zeros(n, dtype=np.int16),
        vetoed=np.zeros(n, dtype=bool),
        log_shock=np.zeros(n),
        reference_cost_share=np.full(n, np.nan),
        output_factor=np.ones(n),
    )


def _draw_sizes(spec: PopulationSpec, rng: np.random.Generator, sector: np.ndarray,
                col: Callable[[str], np.ndarray], productivity: float,
                pollutants: tuple[str, ...]) -> tuple[np.ndarray, ...]:
    """Draw land, VA, VA share of revenue and the intensities (draws in this order).

    Returns land, VA, VA share, the energy-intensity normal (shared with the
    unit consumption), energy, emission and water intensities.
    """
    sectors = list(spec.sectors.values())
    n = sector.size
    land_med = np.array([s.land_mu.median for s in sectors])[sector]
    land_sig = np.array([s.land_mu.sigma for s in sectors])[sector]
    vpm_med = np.array([s.va_per_mu_wan_yuan.median for s in sectors])[sector]
    vpm_sig = np.array([s.va_per_mu_wan_yuan.sigma for s in sectors])[sector]
    disp = spec.dispersion
    land = _lognormal(rng, land_med, land_sig, n)
    va = land * _lognormal(rng, vpm_med * productivity, vpm_sig, n)
    va_share = np.clip(_lognormal(rng, col("va_share_of_revenue"), disp.revenue_share_sigma, n),
                       0.02, 0.95)
    isig = col("intensity_sigma")
    z_energy = rng.standard_normal(n)
    energy_int = col("energy_tce_per_wan_yuan_va") * np.exp(isig * z_energy)
    emis_med = np.array([s.emissions_t_per_wan_yuan_va.values(pollutants)
                         for s in sectors])[sector]
    emis = emis_med * np.exp(isig[:, None] * rng.standard_normal((n, len(pollutants))))
    water_int = _lognormal(rng, col("water_m3_per_wan_yuan_va"), isig, n)
    return land, va, va_share, z_energy, energy_int, emis, water_int


def _unit_consumption(scenario: Scenario, sector: np.ndarray,
                      z_energy: np.ndarray) -> np.ndarray:
    """Electricity per unit of product of firms in tiered sectors (NaN elsewhere)."""
    n = sector.size
    unit = np.full(n, np.nan)
    names = scenario.sector_names()
    for name, sched in scenario.tariffs.electricity.tiered.items():
        if name in names:
            mask = sector == names.index(name)
            spread = np.exp(sched.firm_sigma * z_energy[mask])
            unit[mask] = sched.reference_unit_consumption * spread
    return unit


def _draw_places(spec: PopulationSpec, rng: np.random.Generator, col: Callable[[str], np.ndarray],
                 n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Draw region, park, process status and land grade (draws in this order)."""
    regions = spec.regions
    region = rng.choice(len(regions), size=n, p=[r.share for r in regions]).astype(np.int16)
    parks = np.array([r.parks for r in regions])[region]
    park = np.floor(rng.random(n) * parks).astype(np.int16)
    u = rng.random(n)
    process = np.where(u < col("eliminated_share"), 2,
                       np.where(u < col("eliminated_share") + col("restricted_share"), 1, 0))
    grades = np.asarray(spec.land_grade_shares)
    land_grade = rng.choice(grades.size, size=n, p=grades / grades.sum()).astype(np.int8)
    return region, park, process, land_grade


def finish_firms(firms: Firms, spec: PopulationSpec) -> None:
    """Derive scale and transformer capacity from the potentials."""
    firms.employees = np.maximum(firms.employees, 1.0)
    firms.above_scale = (~firms.is_services) & (
        firms.revenue_wan_yuan >= spec.above_scale_revenue_wan_yuan
    )
    kwh = firms.va_wan_yuan * firms.electricity_kwh_per_wan_yuan
    firms.capacity_kva = kwh / spec.electricity_utilisation_hours
    n = firms.n
    if firms.income_tax_rate.shape != (n,):
        firms.income_tax_rate = np.where(firms.high_tech, spec.high_tech_income_tax_rate,
                                         spec.corporate_income_tax_rate)
    if firms.cash_wan_yuan.shape != (n,):  # set once, at creation
        firms.cash_wan_yuan = np.zeros(n)
        firms.consecutive_loss_years = np.zeros(n, dtype=np.int16)
        firms.rectification_years = np.zeros(n, dtype=np.int16)
        firms.invested = np.zeros(n, dtype=np.int8)
        firms.cost_factor = np.ones((n, 4))
    firms.reset_ytd()


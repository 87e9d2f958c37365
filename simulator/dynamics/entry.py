"""Stage: land and entry (标准地).

The land pools release new land and revitalise idle land past its delay
(:mod:`simulator.dynamics.land`). Candidate projects arrive (a Poisson number), those
meeting the entry standards are ranked by expected tax per mu and win
available land in their region in that order; winners enter as new, unrated
firms next year (B until first evaluated).

With ``dynamics.contracts`` on, the banked land released this year joins the
available land, existing firms' expansions are served first (by class,
:mod:`~simulator.dynamics.expansion`), and winners pay for their land and sign
agreements (:mod:`~simulator.dynamics.contracts`); :func:`settle_contracts`
charges rents, checks the agreements due and banks land before that. With
``dynamics.dual_control`` on, new projects in a region above its energy path
are refused or priced (:mod:`~simulator.dynamics.dualcontrol`).
"""

from __future__ import annotations

import numpy as np

from simulator.dynamics import contracts, dualcontrol, expansion, landbank
from simulator.dynamics.state import cost_factors
from simulator.engine.state import RunState
from simulator.firms import CLASS_CODES, CLASS_LABELS, Firms
from simulator.population import counts_by_share, draw_firms, finish_firms
from simulator.rng import mechanism_rng
from simulator.scenario import Scenario

__all__ = ["admit", "entrant_sectors", "settle_contracts"]


def settle_contracts(state: RunState, year: int, leaving: np.ndarray) -> np.ndarray:
    """Rents, agreements due and land banking at the year end; return the firms they remove.

    ``leaving`` marks the firms already exiting this year (their contracts lapse).
    All off (nothing removed) unless ``dynamics.contracts.enabled``.
    """
    out = np.zeros(state.firms.n, dtype=bool)
    if state.params.dynamics.contracts.enabled:
        missed = contracts.check_agreements(state, year, leaving)
        banked = landbank.buy(state, leaving | missed)
        _count_exits(state, year, {"agreement": missed, "land_bank": banked & ~missed})
        out = missed | banked
    return out


def _count_exits(state: RunState, year: int, by_reason: dict[str, np.ndarray]) -> None:
    """Count firms leaving under their contracts among the year's exits, by their reason.

    The exits already recorded (all, by class and region) grow by them; each
    reason (``agreement``: land returned under a missed agreement; ``land_bank``:
    land sold to the bank) gets its own ``reason=`` row.
    """
    f = state.firms
    rec = state.recorder
    gone = np.logical_or.reduce(list(by_reason.values()))
    classes = np.bincount(f.klass[gone], minlength=len(CLASS_LABELS))[:len(CLASS_LABELS)]
    rec.increase(year, 0, ["all", *(f"class={c}" for c in CLASS_LABELS)], "exits",
                 [float(gone.sum()), *classes.astype(float)])
    rec.add(year, 0, [f"reason={r}" for r in by_reason], "exits",
            [float(mask.sum()) for mask in by_reason.values()])
    if state.params.output.by_region:
        regions = np.bincount(f.region[gone], minlength=len(state.region_names))
        rec.increase(year, 0, [f"region={r}" for r in state.region_names], "exits",
                     regions[:len(state.region_names)].astype(float))


def admit(state: RunState, year: int, stays: np.ndarray | None = None) -> Firms:
    """Record the year's land flows and admit entrants; return them (possibly none).

    ``stays`` marks the firms that stay (those that may expand); default all.
    """
    p = state.params
    dyn = state.dynamics
    add = state.recorder.add
    # The year's returns (exits) and freed land (space-for-land), then next year's new and
    # revitalised land, allocated to this year's winning candidates.
    names = [f"region={r}" for r in state.region_names]
    flows = dyn.land.flows()
    dyn.land.start_year()
    above = _new_land_rules(state, year, stays)
    entrants = _entrants(state, year, above) if p.dynamics.entry.enabled else None
    flows.update({k: v for k, v in dyn.land.flows().items()
                  if k in ("new", "revitalised", "allocated")})
    stocks = dyn.land.stocks()
    for key in ("new", "revitalised", "returned", "freed", "allocated"):
        v = np.asarray(flows[key], dtype=float)
        add(year, 0, ["all", *names], f"land_{key}_mu", [v.sum(), *v])
    for key in ("occupied", "idle", "available"):
        v = np.asarray(stocks[key], dtype=float)
        add(year, 0, ["all", *names], f"land_{key}_mu", [v.sum(), *v])
    dyn.land.check()
    if p.dynamics.contracts.enabled:
        contracts.record_year(state, year)
    if dyn.dual_control is not None:
        dualcontrol.record_year(state, year)
    if entrants is None:
        f = state.firms
        entrants = f.select(np.zeros(f.n, dtype=bool))
    return entrants


def _new_land_rules(state: RunState, year: int, stays: np.ndarray | None) -> np.ndarray:
    """Release banked land, judge dual control, serve expansions; return regions above path."""
    p = state.params.dynamics
    above = np.zeros(0, dtype=bool)
    if p.dual_control.mode != "off":
        above = dualcontrol.update(state, year)
    if p.contracts.enabled:
        landbank.release(state)
        if p.contracts.expansion.enabled:
            stays = np.ones(state.firms.n, bool) if stays is None else stays
            expansion.expand(state, year, stays, above)
    return above


def _entrants(state: RunState, year: int, above: np.ndarray) -> Firms | None:
    """Candidates arrive; those meeting the standards compete for land; winners enter."""
    p = state.params
    dyn = state.dynamics
    spec = p.dynamics.entry
    add = state.recorder.add
    rng = mechanism_rng(p.seed, state.replication, f"entry/{year}")
    expected = spec.candidates_per_year_per_1000_firms * dyn.n_industrial_start / 1000.0
    n = int(rng.poisson(expected))
    sector = entrant_sectors(p, rng, n)
    cand = draw_firms(p, rng, sector, first_id=dyn.next_id,
                      productivity=spec.productivity_premium)
    va_f, tax_f, emp_f = state.firms.calibration
    cand.va_wan_yuan *= va_f
    cand.revenue_wan_yuan *= va_f
    cand.water_quota_m3 *= va_f
    cand.tax_share_of_va *= tax_f
    cand.employees *= emp_f
    state.frontier.scale(cand)  # this year's output, productivity and intensities
    finish_firms(cand, p.population)
    std = spec.standards
    land = np.maximum(cand.land_mu, 1e-9)
    tax_per_mu = cand.potential_tax_wan_yuan() / land
    meets = ((spec.investment_wan_yuan_per_wan_yuan_va * cand.va_wan_yuan / land
              >= std.min_investment_wan_yuan_per_mu)
             & (tax_per_mu >= std.min_tax_wan_yuan_per_mu)
             & (cand.energy_tce_per_wan_yuan <= std.max_energy_tce_per_wan_yuan)
             & (cand.emission_t_per_wan_yuan
                <= np.array(std.max_emissions_t_per_wan_yuan.values(
                    p.pollutant_names(), default=np.inf))).all(axis=1)
             & (cand.process_status == 0))
    allowed, charge = meets, np.zeros(n)
    if p.dynamics.dual_control.mode != "off":
        allowed, charge = _dual_control(state, cand, meets, above)
    granted = np.zeros(n, dtype=bool)
    if allowed.any():
        granted[allowed] = dyn.land.allocate(cand.region[allowed], cand.land_mu[allowed],
                                             tax_per_mu[allowed])
    add(year, 0, ["all"], "entry_candidates", [float(n)])
    add(year, 0, ["all"], "entry_rejected_standards", [float((~meets).sum())])
    add(year, 0, ["all"], "entry_rejected_land", [float((allowed & ~granted).sum())])
    add(year, 0, ["all"], "entries", [float(granted.sum())])
    state.add_by_region(year, "entries", cand.region, granted)
    if not granted.any():
        return None
    new = cand.select(granted)
    new.firm_id = np.arange(dyn.next_id, dyn.next_id + new.n, dtype=np.int64)
    dyn.next_id += new.n
    new.age_years = np.zeros(new.n, dtype=np.int16)
    new.klass = np.full(new.n, CLASS_CODES["B"], dtype=np.int8)  # B until first evaluated
    new.cash_wan_yuan = p.dynamics.finance.initial_cash_share_of_revenue * new.revenue_wan_yuan
    new.cost_factor = cost_factors(p, rng, new.n)
    new.cash_wan_yuan -= charge[granted] * 1e-4
    if dyn.dual_control is not None:
        dyn.dual_control.count("dual_control_purchase_yuan", charge[granted].sum())
    if p.dynamics.contracts.enabled:
        contracts.sign(state, new, year, tax_per_mu[granted])
    return new


def _dual_control(state: RunState, cand: Firms, meets: np.ndarray,
                  above: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Candidates meeting the standards that dual control lets in, and their charge, yuan."""
    allowed, charge = dualcontrol.screen(
        above, cand.region, cand.energy_tce_per_wan_yuan * cand.va_wan_yuan,
        cand.profit_margin * cand.revenue_wan_yuan * 1e4,
        spec=state.params.dynamics.dual_control)
    state.dynamics.dual_control.count("projects_refused_dual_control", (meets & ~allowed).sum())
    ok = meets & allowed
    return ok, np.where(ok, charge, 0.0)


def entrant_sectors(p: Scenario, rng: np.random.Generator, n: int) -> np.ndarray:
    """Sector codes of ``n`` candidate projects, by the entry mix (or the industrial mix)."""
    names = p.sector_names()
    mix = p.dynamics.entry.sector_shares or {
        k: s.share for k, s in p.population.sectors.items() if s.kind == "industrial"}
    codes = np.array([names.index(k) for k in mix], dtype=np.int16)
    shares = np.array(list(mix.values()), dtype=float)
    counts = (counts_by_share(n, shares / shares.sum()) if shares.sum() > 0
              else np.zeros(len(codes), int))
    sector = np.repeat(codes, counts)
    return sector[rng.permutation(sector.size)].astype(np.int16)

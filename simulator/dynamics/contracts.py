"""Land contracts (招拍挂, 弹性年期, 先租后让) and performance agreements.

With ``dynamics.contracts`` on, an entrant's land has a price: the national
floor of its land grade (全国工业用地出让最低价标准, 国土资发〔2006〕307号) times
a winning bid that rises with the project's expected tax per mu, pro rata of
the term (弹性年期: a 20-year term costs 20/50 of the 50-year price), less any
price relief. Under ``supply: transfer`` the entrant pays at once; under
``lease_first`` (先租后让) it pays a yearly rent (the price per year of term)
and, at the end of the lease, the price of the rest of the term if it met its
agreement, otherwise it hands the land back and exits.

Every entrant signs a performance agreement (tax and VA per mu, energy and
emission intensity) checked at the end of its ``years_after_start``-th year.
A firm that misses it pays the 违约金, repays its price relief, or returns its
land (refunded the unused term's price less the penalty) and exits, by
``agreement.consequence``. Payments by firms equal the government's receipts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from simulator.firms import Firms
from simulator.scenario.landcontracts import (
    FLOOR_PRICE_YUAN_PER_M2,
    MAX_INDUSTRIAL_TERM_YEARS,
    AgreementSpec,
    ContractsSpec,
)

if TYPE_CHECKING:
    from simulator.engine.state import RunState

__all__ = ["M2_PER_MU", "YEAR_METRICS", "ContractBook", "agreement_met", "bid_multiple", "book",
           "check_agreements", "floor_price_wan_yuan_per_mu", "land_price_wan_yuan_per_mu",
           "record_year", "settle_agreements", "sign", "targets"]

#: Square metres in one mu (1 mu = 10,000/15 m²).
M2_PER_MU = 10_000.0 / 15.0


@dataclass
class ContractBook:
    """Land contracts not yet checked, one row per entrant (columns are arrays)."""

    firm_id: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    land_mu: np.ndarray = field(default_factory=lambda: np.zeros(0))
    check_year: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    leasing: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    """Under lease-first and not yet transferred."""
    price_wan_yuan: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """The plot's full-term price after relief, 万元."""
    paid_wan_yuan: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """Price and rent paid so far, 万元."""
    relief_wan_yuan: np.ndarray = field(default_factory=lambda: np.zeros(0))
    tally: dict[str, float] = field(default_factory=dict)
    """The year's money (yuan) and counts, by metric name; recorded and reset once a year."""
    land_flows: dict[str, np.ndarray] = field(default_factory=dict)
    """The year's land-bank flows by region, mu (``banked_idle``, ``banked_occupied``,
    ``released_banked``); recorded and reset once a year."""

    def count_land(self, flow: str, mu_by_region: np.ndarray) -> None:
        """Add a land-bank flow by region, mu, to the year's."""
        self.land_flows[flow] = self.land_flows.get(flow, 0.0) + mu_by_region

    def count(self, metric: str, value: float) -> None:
        """Add ``value`` to the year's ``metric``."""
        self.tally[metric] = self.tally.get(metric, 0.0) + float(value)

    def add(self, **cols: np.ndarray) -> None:
        """Append rows (one array per column)."""
        for name, values in cols.items():
            setattr(self, name, np.concatenate([getattr(self, name), values]))

    def keep(self, mask: np.ndarray) -> None:
        """Keep only the rows where ``mask`` holds."""
        for name, values in vars(self).items():
            if isinstance(values, np.ndarray):  # the columns, not the tallies
                setattr(self, name, values[mask])


def book(state: RunState) -> ContractBook:
    """Return the run's contract book, opened on first use."""
    dyn = state.dynamics
    if dyn.contracts is None:
        dyn.contracts = ContractBook()
    return dyn.contracts


def floor_price_wan_yuan_per_mu(land_grade: np.ndarray,
                                national_grade_by_land_grade: list[int]) -> np.ndarray:
    """Return the national floor price of industrial land for each plot, 万元 per mu.

    Parameters
    ----------
    land_grade : ndarray of int
        Local land grade code of each plot (0 = grade 1); grades past the list
        take its last entry.
    national_grade_by_land_grade : list of int
        National grade (1..15) of each local grade.

    Examples
    --------
    >>> floor_price_wan_yuan_per_mu(np.array([0, 2]), [8, 9, 15]).round(2).tolist()
    [16.8, 4.0]
    """
    table = np.asarray(national_grade_by_land_grade, dtype=np.intp)
    grade = table[np.minimum(np.asarray(land_grade, dtype=np.intp), table.size - 1)]
    return np.asarray(FLOOR_PRICE_YUAN_PER_M2)[grade - 1] * M2_PER_MU * 1e-4


def bid_multiple(expected_tax_per_mu: np.ndarray, min_tax_per_mu: float, *,
                 elasticity: float, cap: float) -> np.ndarray:
    """Return the winning bid as a multiple of the floor: ``1 + e * excess``, within [1, cap].

    ``excess`` is the relative excess of the project's expected tax per mu
    over the entry standard (0 when at or below it).

    Examples
    --------
    >>> bid_multiple(np.array([20.0, 40.0, 400.0]), 20.0, elasticity=0.5, cap=3.0).tolist()
    [1.0, 1.5, 3.0]
    """
    excess = np.maximum(np.asarray(expected_tax_per_mu, float) / max(min_tax_per_mu, 1e-9)
                        - 1.0, 0.0)
    return np.clip(1.0 + elasticity * excess, 1.0, cap)


def land_price_wan_yuan_per_mu(land_grade: np.ndarray, expected_tax_per_mu: np.ndarray, *,
                               spec: ContractsSpec, min_tax_per_mu: float
                               ) -> tuple[np.ndarray, np.ndarray]:
    """Return (price after relief, relief) of the contract's term, 万元 per mu.

    ``floor x bid multiple x term / 50``; the relief is
    ``spec.price_relief_share`` of that.
    """
    full = (floor_price_wan_yuan_per_mu(land_grade, spec.national_grade_by_land_grade)
            * bid_multiple(expected_tax_per_mu, min_tax_per_mu,
                           elasticity=spec.bid_premium_elasticity, cap=spec.max_bid_multiple)
            * spec.term_years / MAX_INDUSTRIAL_TERM_YEARS)
    relief = spec.price_relief_share * full
    return full - relief, relief


def agreement_met(tax_per_mu: np.ndarray, va_per_mu: np.ndarray, energy_intensity: np.ndarray,
                  emission_intensity: np.ndarray, *, min_tax_per_mu: float, min_va_per_mu: float,
                  max_energy: float, max_emissions: np.ndarray) -> np.ndarray:
    """Return whether each firm meets every target of its agreement.

    Intensities are per 万元 VA; ``emission_intensity`` has shape (n, pollutants)
    and ``max_emissions`` one entry per pollutant (``inf``: not agreed).
    """
    return ((tax_per_mu >= min_tax_per_mu) & (va_per_mu >= min_va_per_mu)
            & (energy_intensity <= max_energy)
            & (emission_intensity <= max_emissions).all(axis=1))


def settle_agreements(met: np.ndarray, *, leasing: np.ndarray, price_wan_yuan: np.ndarray,
                      paid_wan_yuan: np.ndarray, relief_wan_yuan: np.ndarray,
                      spec: ContractsSpec) -> dict[str, np.ndarray]:
    """Return what each agreement due this year brings, per contract, 万元 (or bool).

    Returns
    -------
    dict of str to ndarray
        ``transfer``: price of the rest of the term paid by a lessee that met
        its agreement (先租后让); ``penalty``: 违约金 paid; ``relief_repaid``;
        ``refund``: paid back by the government to a firm returning its land;
        ``returns`` (bool): the firm hands its land back and exits.
        Firms pay ``transfer + penalty + relief_repaid``; the government pays
        ``refund``.
    """
    ag = spec.agreement
    missed = ~met
    consequence = ag.consequence
    transfer = np.where(leasing & met, price_wan_yuan - paid_wan_yuan, 0.0)
    owned = missed & ~leasing  # transferred plots: the agreed consequence applies
    penalty = np.where(owned & (consequence != "revoke_relief"),
                       ag.penalty_share_of_price * paid_wan_yuan, 0.0)
    relief = np.where(owned & (consequence == "revoke_relief"), relief_wan_yuan, 0.0)
    returns = (missed & leasing) | (owned & (consequence == "return_land"))
    unused = 1.0 - min(ag.years_after_start / spec.term_years, 1.0)
    refund = np.where(owned & returns, unused * paid_wan_yuan - penalty, 0.0)
    return {"transfer": transfer, "penalty": penalty, "relief_repaid": relief,
            "refund": np.maximum(refund, 0.0), "returns": returns}


def sign(state: RunState, new: Firms, year: int, expected_tax_per_mu: np.ndarray) -> float:
    """Sign the entrants' contracts; charge the price (transfer) now; return 万元 paid.

    Entrants start operating next year; the agreement is checked at the end of
    their ``years_after_start``-th year (the lease's last year under lease-first).
    """
    spec = state.params.dynamics.contracts
    std = state.params.dynamics.entry.standards
    per_mu, relief_per_mu = land_price_wan_yuan_per_mu(
        new.land_grade, expected_tax_per_mu, spec=spec,
        min_tax_per_mu=std.min_tax_wan_yuan_per_mu)
    price, relief = per_mu * new.land_mu, relief_per_mu * new.land_mu
    leasing = spec.supply == "lease_first"
    years = spec.lease_years if leasing else spec.agreement.years_after_start
    paid = np.zeros(new.n) if leasing else price
    new.cash_wan_yuan = new.cash_wan_yuan - paid
    book(state).add(firm_id=new.firm_id.copy(), land_mu=new.land_mu.copy(),
                    check_year=np.full(new.n, year + years, np.int64),
                    leasing=np.full(new.n, leasing), price_wan_yuan=price,
                    paid_wan_yuan=paid.copy(), relief_wan_yuan=relief)
    b = book(state)
    b.count("land_contracts_signed", new.n)
    b.count("land_leases_signed", new.n if leasing else 0)
    b.count("land_price_relief_yuan", relief.sum() * 1e4)
    b.count("land_price_revenue_yuan", paid.sum() * 1e4)
    return float(paid.sum())


def targets(ag: AgreementSpec, state: RunState) -> dict[str, object]:
    """Return the agreement's targets, unset ones taken from the entry standards."""
    std = state.params.dynamics.entry.standards
    names = state.params.pollutant_names()
    emissions = ag.max_emissions_t_per_wan_yuan or std.max_emissions_t_per_wan_yuan
    return {"min_tax_per_mu": (std.min_tax_wan_yuan_per_mu if ag.min_tax_wan_yuan_per_mu is None
                               else ag.min_tax_wan_yuan_per_mu),
            "min_va_per_mu": ag.min_va_wan_yuan_per_mu,
            "max_energy": ag.max_energy_tce_per_wan_yuan or std.max_energy_tce_per_wan_yuan,
            "max_emissions": np.array(emissions.values(names, default=np.inf))}


#: The year's contract metrics, recorded for group ``all`` (0 when nothing happened).
YEAR_METRICS: tuple[str, ...] = (
    "land_contracts_signed", "land_leases_signed", "land_price_relief_yuan",
    "land_price_revenue_yuan", "land_transfer_revenue_yuan", "land_rent_revenue_yuan",
    "land_contract_penalty_yuan", "land_relief_repaid_yuan", "land_refund_yuan",
    "agreements_due", "agreements_met", "agreements_missed", "land_returned_contract_mu",
    "firms_returning_land",
    "firms_banked", "land_banking_cost_yuan")


def check_agreements(state: RunState, year: int, leaving: np.ndarray) -> np.ndarray:
    """Charge the year's rents; check the agreements due; return the firms returning land."""
    spec = state.params.dynamics.contracts
    b = book(state)
    f = state.firms
    returning = np.zeros(f.n, dtype=bool)
    if f.n == 0:
        b.keep(np.zeros(b.firm_id.size, dtype=bool))
        return returning
    idx = np.minimum(np.searchsorted(f.firm_id, b.firm_id), f.n - 1)
    present = (f.firm_id[idx] == b.firm_id) & ~leaving[idx]
    rent = np.where(present & b.leasing, b.price_wan_yuan / spec.term_years, 0.0)
    f.cash_wan_yuan[idx[present]] -= rent[present]  # one contract per firm
    b.paid_wan_yuan = b.paid_wan_yuan + rent
    b.count("land_rent_revenue_yuan", rent.sum() * 1e4)
    due = present & (b.check_year <= year)
    i = idx[due]
    y = f.ytd
    land = np.maximum(f.land_mu[i], 1e-9)
    va = np.maximum(y["va_wan_yuan"][i], 1e-9)
    met = agreement_met(y["tax_wan_yuan"][i] / land, y["va_wan_yuan"][i] / land,
                        y["energy_tce"][i] / va, y["emissions_t"][i] / va[:, None],
                        **targets(spec.agreement, state))
    r = settle_agreements(met, leasing=b.leasing[due], price_wan_yuan=b.price_wan_yuan[due],
                          paid_wan_yuan=b.paid_wan_yuan[due],
                          relief_wan_yuan=b.relief_wan_yuan[due], spec=spec)
    f.cash_wan_yuan[i] -= r["transfer"] + r["penalty"] + r["relief_repaid"] - r["refund"]
    rows = i[r["returns"]]
    returning[rows] = True
    if rows.size:
        state.dynamics.land.vacate(f.region[rows], f.land_mu[rows], reason="exit")
        state.dynamics.projects.take(np.isin(state.dynamics.projects.firm_id, f.firm_id[rows]))
    for metric, key in (("land_transfer_revenue_yuan", "transfer"),
                        ("land_contract_penalty_yuan", "penalty"),
                        ("land_relief_repaid_yuan", "relief_repaid"),
                        ("land_refund_yuan", "refund")):
        b.count(metric, r[key].sum() * 1e4)
    b.count("agreements_due", i.size)
    b.count("agreements_met", met.sum())
    b.count("agreements_missed", (~met).sum())
    b.count("land_returned_contract_mu", f.land_mu[rows].sum())
    b.count("firms_returning_land", rows.size)
    b.keep(present & ~due)
    return returning


def record_year(state: RunState, year: int) -> None:
    """Record the year's contract metrics and the land bank by region; reset the tally."""
    b = book(state)
    add = state.recorder.add
    for metric in YEAR_METRICS:
        add(year, 0, ["all"], metric, [b.tally.get(metric, 0.0)])
    t = b.tally
    revenue = sum(t.get(k, 0.0) for k in (
        "land_price_revenue_yuan", "land_transfer_revenue_yuan", "land_rent_revenue_yuan",
        "land_contract_penalty_yuan", "land_relief_repaid_yuan"))
    add(year, 0, ["all"], "land_revenue_yuan", [revenue])
    add(year, 0, ["all"], "land_net_revenue_yuan", [
        revenue - t.get("land_refund_yuan", 0.0) - t.get("land_banking_cost_yuan", 0.0)])
    names = [f"region={r.name}" for r in state.params.population.regions]
    land = state.dynamics.land
    for key in ("banked_idle", "banked_occupied", "released_banked"):
        v = b.land_flows.get(key, np.zeros(land.n_regions))
        add(year, 0, ["all", *names], f"land_{key}_mu", [v.sum(), *v])
    v = land.banked_mu
    add(year, 0, ["all", *names], "land_banked_mu", [v.sum(), *v])
    b.tally = {}
    b.land_flows = {}

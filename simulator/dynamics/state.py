"""The dynamics' own state in a run: land pools, the recycling fund, projects under way."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from simulator.dynamics.land import LandPools
from simulator.firms import Firms, per_class
from simulator.rng import mechanism_rng
from simulator.scenario import INVESTMENT_OPTIONS, Scenario

if TYPE_CHECKING:
    from simulator.dynamics.contracts import ContractBook
    from simulator.dynamics.dualcontrol import DualControl
    from simulator.engine.state import RunState

__all__ = ["AUTOMATION", "EXIT_REASONS", "POLLUTION", "RETROFIT", "SPACE", "DynamicsState",
           "Projects", "YearEnd", "cost_factors", "loan_rates", "open_dynamics"]

#: Why firms exit, in the order of the exit rules (``exits`` metric groups).
EXIT_REASONS: tuple[str, ...] = ("losses", "d_grace", "forced")

#: Option codes (``INVESTMENT_OPTIONS`` order; bit k of ``Firms.invested``).
RETROFIT, POLLUTION, AUTOMATION, SPACE = (INVESTMENT_OPTIONS.index(o) for o in (
    "retrofit", "pollution_control", "automation", "space_for_land"))


@dataclass
class YearEnd:
    """What the year end decided: who stays and who enters."""

    keep: np.ndarray
    """Firms that stay (boolean, one per firm before the change)."""
    entrants: Firms
    """New firms, to be appended after the stayers."""


@dataclass
class Projects:
    """Investment projects under way (or upgrades in service), one entry per (firm, option)."""

    firm_id: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    option: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    due_month: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    effect: np.ndarray = field(default_factory=lambda: np.zeros(0))
    margin_gain: np.ndarray = field(default_factory=lambda: np.zeros(0))  # share of revenue
    one_off_wan_yuan: np.ndarray = field(default_factory=lambda: np.zeros(0))
    life_months: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def add(self, **cols: np.ndarray) -> None:
        """Append entries (one array per field)."""
        for name, values in cols.items():
            setattr(self, name, np.concatenate([getattr(self, name), values]))

    def take(self, mask: np.ndarray) -> Projects:
        """Remove and return the entries where ``mask`` holds."""
        out = self.subset(mask)
        for k, v in vars(self).items():
            setattr(self, k, v[~mask])
        return out

    def subset(self, mask: np.ndarray) -> Projects:
        """Return the entries where ``mask`` holds (a copy; ``self`` unchanged)."""
        return Projects(**{k: v[mask] for k, v in vars(self).items()})


@dataclass(eq=False)
class DynamicsState:
    """Land, the recycling fund and investment projects of one run."""

    land: LandPools
    n_industrial_start: int
    """Industrial firms at the start (the scale of the candidates' arrival rate)."""
    next_id: int
    """The firm id the next entrant gets."""
    projects: Projects = field(default_factory=Projects)
    in_service: Projects = field(default_factory=Projects)
    """Completed upgrades; ``due_month``: the end of their lifetime."""
    retrofit_pot_yuan: float = 0.0
    """Fund money kept for retrofit subsidies."""
    fund_in_yuan: float = 0.0
    """Cumulative inflow into the fund."""
    fund_out_yuan: float = 0.0
    """Cumulative grants and awards paid."""
    completed: np.ndarray = field(
        default_factory=lambda: np.zeros(len(INVESTMENT_OPTIONS), dtype=np.int64))
    """Projects completed this year, by option."""
    retired: np.ndarray = field(
        default_factory=lambda: np.zeros(len(INVESTMENT_OPTIONS), dtype=np.int64))
    """Upgrades retired this year, by option."""
    contracts: ContractBook | None = None
    """Land contracts and the year's land money (``dynamics.contracts``), opened on first use."""
    dual_control: DualControl | None = None
    """Energy dual-control paths (``dynamics.dual_control``), opened at the first year end."""

    @property
    def fund_balance_yuan(self) -> float:
        """Money in the recycling fund, yuan (inflow minus grants and awards)."""
        return self.fund_in_yuan - self.fund_out_yuan


def cost_factors(p: Scenario, rng: np.random.Generator, n: int) -> np.ndarray:
    """Firm-specific capex multipliers (mean one), shape (n, options)."""
    sigma = np.array([p.dynamics.investment[o].cost_sigma if o in p.dynamics.investment
                      else 0.0 for o in INVESTMENT_OPTIONS])
    z = rng.standard_normal((n, len(INVESTMENT_OPTIONS)))
    return np.exp(sigma * z - 0.5 * sigma * sigma)


def open_dynamics(p: Scenario, firms: Firms, replication: int) -> DynamicsState:
    """Start the dynamics: firms' cash and capex factors, the land pools by region.

    Years in D count towards the exit of firms not rectified in time from the
    history the scenario states (``initial_state.years_in_d``, set before).
    """
    spec = p.dynamics
    f = firms
    rng = mechanism_rng(p.seed, replication, "dynamics")
    f.cash_wan_yuan = spec.finance.initial_cash_share_of_revenue * f.revenue_wan_yuan
    f.cost_factor = cost_factors(p, rng, f.n)
    f.rectification_years = f.consecutive_d_years.copy()
    regions = p.population.regions
    occupied = np.bincount(f.region, weights=f.land_mu, minlength=len(regions))
    return DynamicsState(
        land=LandPools(occupied, region_shares=np.array([r.share for r in regions]),
                       spec=spec.land),
        n_industrial_start=int((~f.is_services).sum()),
        next_id=int(f.firm_id.max()) + 1 if f.n else 1)


def loan_rates(state: RunState) -> np.ndarray:
    """Each firm's loan rate by the class in force."""
    fin = state.params.dynamics.finance
    return per_class(fin.loan_rate_by_class.as_tuple(), state.firms.klass,
                     unrated=fin.loan_rate_unrated)

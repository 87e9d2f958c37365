"""The ``dynamics`` section: enterprise dynamics over the years.

Investment in upgrades (四换: energy and pollution retrofits, automation,
space for land), firms' finance, exit (腾笼换鸟), entry of new projects
under land standards (标准地), regional land pools, and the recycling of
differential revenue into subsidies and awards.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from simulator.scenario.base import (
    ClassValues,
    IndustrialSectorName,
    NonNeg,
    PollutantValues,
    Pos,
    ScenarioModel,
    SectorName,
    Share,
)
from simulator.scenario.landcontracts import ContractsSpec, DualControlSpec

__all__ = [
    "INVESTMENT_OPTIONS",
    "DynamicsSpec",
    "EntrySpec",
    "EntryStandards",
    "ExitRoutesSpec",
    "ExitSpec",
    "FinanceSpec",
    "InvestmentOption",
    "InvestmentOptionName",
    "LandSpec",
    "OptionOverride",
    "RecyclingSpec",
    "RouteShares",
]

INVESTMENT_OPTIONS = ("retrofit", "pollution_control", "automation", "space_for_land")
"""Upgrade options, in the order of :class:`DynamicsSpec.investment`'s codes."""

InvestmentOptionName = Literal["retrofit", "pollution_control", "automation", "space_for_land"]


class OptionOverride(ScenarioModel):
    """Sector-specific values of an investment option (unset fields keep the option's)."""

    capex: NonNeg | None = None
    effect_share: Annotated[float, Field(ge=0, lt=1)] | None = None
    lead_time_months: Annotated[int, Field(ge=0, le=120)] | None = None
    lifetime_years: Annotated[int, Field(ge=1, le=50)] | None = None


class InvestmentOption(ScenarioModel):
    """One upgrade option (四换: 机器换人, 空间换地; energy and pollution retrofits).

    ``capex`` is in the option's natural unit: yuan per tce of annual energy
    saved (``retrofit``), yuan per tonne of annual emissions removed, summed
    over the pollutants (``pollution_control``), 万元 per employee replaced
    (``automation``) and 万元 per mu of land freed (``space_for_land``).
    ``effect_share`` is the share cut from energy per VA, emissions per VA,
    employees, or land held.
    """

    enabled: bool = True
    capex: NonNeg = Field(description="capital cost per unit of effect (see the class doc)")
    effect_share: Annotated[float, Field(ge=0, lt=1)] = Field(
        description="share of the firm's intensity, employees or land the option removes")
    lead_time_months: Annotated[int, Field(ge=0, le=120)] = Field(
        12, description="months from the decision to completion")
    lifetime_years: Annotated[int, Field(ge=1, le=50)] = Field(
        10, description="years of savings counted in the NPV")
    subsidy_share_by_class: ClassValues = Field(
        default_factory=ClassValues, description="share of capex the government pays, by class")
    cost_sigma: NonNeg = Field(
        0.5, description="log-sd of each firm's capex around the option's (drawn once per firm)")
    by_sector: dict[SectorName, OptionOverride] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _subsidy_shares(self) -> InvestmentOption:
        if any(v > 1 for v in self.subsidy_share_by_class.as_tuple()):
            raise ValueError("subsidy_share_by_class values must be shares in [0, 1]")
        return self


class FinanceSpec(ScenarioModel):
    """Firms' money: cash, credit and the prices of what investment saves."""

    loan_rate_by_class: ClassValues = Field(
        default_factory=lambda: ClassValues(A=0.0435, B=0.0475, C=0.055, D=0.065),
        description="yearly interest rate on credit, the discount rate of investments")
    loan_rate_unrated: NonNeg = 0.0475
    credit_limit_share_of_revenue_by_class: ClassValues = Field(
        default_factory=lambda: ClassValues(A=0.3, B=0.2, C=0.1, D=0.0),
        description="credit line as a share of annual revenue")
    credit_limit_share_unrated: NonNeg = 0.1
    initial_cash_share_of_revenue: NonNeg = Field(
        0.1, description="cash at the start as a share of annual revenue")
    fuel_price_yuan_per_tce: NonNeg = Field(
        900.0, description="price of non-electric energy (coal, gas), yuan per tce")
    wage_wan_yuan_per_person_year: NonNeg = Field(
        6.0, description="yearly cost of one employee, 万元")
    land_price_wan_yuan_per_mu: NonNeg = Field(
        30.0, description="what the government pays for land a firm returns, 万元 per mu")


class ExitSpec(ScenarioModel):
    """Exit (腾笼换鸟): persistent losses, failed rectification of D firms, provincial quotas."""

    enabled: bool = True
    loss_years: Annotated[int, Field(ge=1, le=50)] = Field(
        3, description="consecutive years with losses after which a firm closes")
    d_grace_years: Annotated[int, Field(ge=1, le=50)] = Field(
        3, description="consecutive years in D after which rectification has failed and it exits")
    forced_exit_share_per_year: Share = Field(
        0.0, description="share of rated industrial firms, lowest ranked first, closed each year")
    zombie_loss_years: Annotated[int, Field(ge=1, le=50)] = Field(
        2, description="consecutive loss years that make a firm a zombie (僵尸企业)")
    routes: ExitRoutesSpec = Field(
        default_factory=lambda: ExitRoutesSpec(),
        description="where leaving firms go: closure, relocation (转移) or merger (兼并重组); "
                    "off: every exit is a closure")


class RouteShares(ScenarioModel):
    """Probabilities that a firm leaving for one reason relocates or merges, by class.

    The rest close. A merger needs an acquirer (:class:`ExitRoutesSpec`); a
    firm drawn for a merger that finds none closes. A reason a scenario gives
    replaces its defaults: the values it leaves unset are 0. The defaults are ``est``:
    public county reports give cases, not shares. Huzhou's 2012 electroplating
    clean-up (35 firms: 3 closed, 24 moved into parks, 8 upgraded in place) and
    Quzhou's calcium clean-up (190 firms closed, 212 restructured into 17) show
    relocation and merger as large routes where a sector is consolidated; seed
    004 names four (消化一批、转移一批、整合一批、淘汰一批).
    """

    relocation_by_class: ClassValues = Field(
        default_factory=ClassValues,
        description="probability that a leaving firm of this class relocates (转移)")
    merger_by_class: ClassValues = Field(
        default_factory=ClassValues,
        description="probability that a leaving firm of this class is merged (兼并重组)")
    relocation_unrated: Share = Field(
        0.0, description="probability that a leaving firm outside the evaluation relocates")
    merger_unrated: Share = Field(
        0.0, description="probability that a leaving firm outside the evaluation is merged")

    @model_validator(mode="after")
    def _probabilities(self) -> RouteShares:
        pairs = zip(("A", "B", "C", "D", "unrated"),
                    (*self.relocation_by_class.as_tuple(), self.relocation_unrated),
                    (*self.merger_by_class.as_tuple(), self.merger_unrated), strict=True)
        for klass, relocate, merge in pairs:
            if relocate + merge > 1.0 + 1e-12:
                raise ValueError(f"relocation and merger probabilities of {klass} sum to "
                                 f"{relocate + merge:g}; they must not exceed 1")
        return self


def _shares(relocate: float, merge: float) -> RouteShares:
    """Return the same route probabilities for every class and for unrated firms.

    The class enters through who leaves for which reason (D firms past their
    grace, the lowest scored under the quota); the defaults do not also
    differentiate by class, so ``no_differentiation.yaml`` needs no entry.
    """
    both = {"relocation_by_class": ClassValues(A=relocate, B=relocate, C=relocate, D=relocate),
            "merger_by_class": ClassValues(A=merge, B=merge, C=merge, D=merge)}
    return RouteShares(**both, relocation_unrated=relocate, merger_unrated=merge)


class ExitRoutesSpec(ScenarioModel):
    """Routes out of the county's active population: closure, relocation, merger.

    Relocation (转移): the firm leaves the county; its land becomes idle (to be
    revitalised), its rights go to the reserve (recovered or bought back),
    its jobs and output leave the county. Merger (兼并重组/整合): the
    best-scored acquirer of the same sector and region with room takes the
    firm over: its land (still occupied), a share of its employees, its rights
    and its cash; the absorbed output moves towards the acquirer's VA per mu.
    """

    enabled: bool = Field(
        False, description="draw a route for each leaving firm (off: every exit is a closure)")
    losses: RouteShares = Field(
        default_factory=lambda: _shares(0.10, 0.10),
        description="firms leaving after persistent losses (est: an insolvent firm is a poor "
                    "merger target and rarely funds a move; most close)")
    d_grace: RouteShares = Field(
        default_factory=lambda: _shares(0.25, 0.25),
        description="D firms whose rectification failed (est: solvent but land-hungry, half "
                    "move out or are absorbed, as in the Huzhou and Quzhou clean-ups)")
    forced: RouteShares = Field(
        default_factory=lambda: _shares(0.30, 0.20),
        description="firms removed under the provincial elimination quota (est: the quota "
                    "targets capacity in the county, so relocation counts as done)")
    acquirer_classes: list[Literal["A", "B", "C"]] = Field(
        default_factory=lambda: ["A", "B"],
        description="classes whose firms may acquire (seed 002 task 11: 鼓励企业兼并重组 by "
                    "the firms the evaluation favours)")
    max_targets_per_acquirer: Annotated[int, Field(ge=1, le=100)] = Field(
        1, description="firms one acquirer takes over in a year (est: one deal a year)")
    employees_kept_share: Share = Field(
        0.8, description="share of the target's employees the acquirer keeps (est: "
                         "restructuring sheds the duplicated overhead, about a fifth)")
    productivity_catch_up: Share = Field(
        0.5, description="share of the gap between the target's VA per mu and the "
                         "acquirer's that the absorbed plant closes (0: the target's own "
                         "output; 1: the acquirer's VA per mu; est 0.5)")
    relocation_rights: Literal["reserve", "sell"] = Field(
        "reserve", description="rights of a relocating firm: recovered by the reserve free "
                               "(收回) or bought back by it at the market's last price")


ExitSpec.model_rebuild()  # its routes field names ExitRoutesSpec, defined after it


class EntryStandards(ScenarioModel):
    """Entry standards of new industrial land (标准地 control indicators)."""

    min_investment_wan_yuan_per_mu: NonNeg = 300.0
    min_tax_wan_yuan_per_mu: NonNeg = 20.0
    max_energy_tce_per_wan_yuan: Pos = 0.6
    max_emissions_t_per_wan_yuan: PollutantValues = Field(
        default_factory=lambda: PollutantValues(cod=1e-3, nh3n=1e-4, so2=1e-3, nox=1e-3))


class EntrySpec(ScenarioModel):
    """New projects: candidates, entry standards and competitive land allocation."""

    enabled: bool = True
    candidates_per_year_per_1000_firms: Annotated[float, Field(ge=0, le=10_000)] = Field(
        40.0, description="candidate projects a year per 1,000 industrial firms at the start "
                          "(at most 10,000: ten candidates per firm)")
    sector_shares: dict[IndustrialSectorName, Share] = Field(
        default_factory=dict,
        description="sector mix of candidates (default: the population's industrial mix)")
    productivity_premium: Annotated[float, Field(gt=0, le=100)] = Field(
        1.2, description="candidates' VA per mu relative to their sector's median (at most 100)")
    investment_wan_yuan_per_wan_yuan_va: Pos = Field(
        2.5, description="fixed investment per 万元 of annual VA at full output")
    standards: EntryStandards = Field(default_factory=EntryStandards)

    @model_validator(mode="after")
    def _shares(self) -> EntrySpec:
        if self.sector_shares and abs(sum(self.sector_shares.values()) - 1.0) > 1e-9:
            raise ValueError(
                f"sector_shares must sum to 1, got {sum(self.sector_shares.values()):g}")
        return self


class LandSpec(ScenarioModel):
    """Regional land pools: occupied, idle and available industrial land, mu."""

    new_land_mu_per_year: NonNeg = Field(
        0.0, description="new industrial land released a year (all regions, by region share)")
    revitalisation_delay_years: Annotated[int, Field(ge=0, le=20)] = Field(
        1, description="years from a firm's exit until its land is revitalised (盘活)")
    revitalisation_share_per_year: Share = Field(
        1.0, description="share of idle land past the delay revitalised each year")


class RecyclingSpec(ScenarioModel):
    """Recycling of differential revenue into retrofit subsidies and awards for A firms."""

    enabled: bool = False
    share_of_revenue: Share = Field(
        0.0, description="share of the year's recyclable revenue paid into the fund")
    sources: list[Literal["electricity_surcharge", "water_surcharge", "pollution_surcharge",
                          "quota_surcharge", "quota_penalty", "quota_auction"]] = Field(
        default_factory=lambda: ["electricity_surcharge", "water_surcharge",
                                 "pollution_surcharge", "quota_surcharge", "quota_penalty",
                                 "quota_auction"])
    retrofit_subsidy_share: Share = Field(
        0.5, description="share of the fund paid as retrofit subsidies (the rest: A awards)")
    max_subsidy_share_of_capex: Share = Field(
        0.3, description="most of a project's capex the fund pays")


class DynamicsSpec(ScenarioModel):
    """Enterprise dynamics over the years: investment, exit, entry, land, fund recycling."""

    enabled: bool = True
    investment: dict[InvestmentOptionName, InvestmentOption] = Field(default_factory=dict)
    review_share_per_year: Share = Field(
        0.25, description="share of firms that review their investment options each year")
    annual_margin_sd: NonNeg = Field(
        0.02, description="sd of a firm's yearly profit-margin shock (share of revenue)")
    finance: FinanceSpec = Field(default_factory=FinanceSpec)
    exit: ExitSpec = Field(default_factory=ExitSpec)
    entry: EntrySpec = Field(default_factory=EntrySpec)
    land: LandSpec = Field(default_factory=LandSpec)
    recycling: RecyclingSpec = Field(default_factory=RecyclingSpec)
    contracts: ContractsSpec = Field(
        default_factory=ContractsSpec,
        description="land contracts: price, term, lease-first, agreements, banking, expansion")
    dual_control: DualControlSpec = Field(
        default_factory=DualControlSpec,
        description="energy dual control binding on new projects (能耗双控)")

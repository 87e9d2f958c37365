"""Land contracts and energy dual control: sub-models of the ``dynamics`` section.

``dynamics.contracts`` supplies industrial land by auction or listing with a
price (招拍挂) for flexible terms (弹性年期) or lease-first (先租后让), binds
each entrant to a performance agreement, banks idle and low-efficiency land
(收储) and grants expansion land by class. ``dynamics.dual_control`` makes the
region's energy-intensity path bind on new projects (能耗双控). Both are off by
default.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from simulator.scenario.base import ClassValues, NonNeg, PollutantValues, Pos, ScenarioModel, Share

__all__ = [
    "FLOOR_PRICE_YUAN_PER_M2",
    "MAX_INDUSTRIAL_TERM_YEARS",
    "AgreementSpec",
    "ContractsSpec",
    "DualControlSpec",
    "ExpansionSpec",
    "LandBankingSpec",
]

#: National minimum transfer price of industrial land by land grade 1..15, yuan/m²
#: (全国工业用地出让最低价标准, 国土资发〔2006〕307号, in force from 2007-01-01;
#: https://policy.mofcom.gov.cn/claw/clawContent.shtml?id=12663).
FLOOR_PRICE_YUAN_PER_M2: tuple[float, ...] = (
    840.0, 720.0, 600.0, 480.0, 384.0, 336.0, 288.0, 252.0, 204.0, 168.0, 144.0, 120.0,
    96.0, 84.0, 60.0)

#: Longest term of industrial land use rights, years (城镇国有土地使用权出让和转让暂行条例
#: 第十二条: 工业用地五十年).
MAX_INDUSTRIAL_TERM_YEARS = 50

Years = Annotated[int, Field(ge=1, le=MAX_INDUSTRIAL_TERM_YEARS)]


class AgreementSpec(ScenarioModel):
    """The performance agreement (履约监管协议) each entrant signs with its land.

    Unset targets take the entry standards' (``dynamics.entry.standards``):
    the agreement holds the firm to what it promised at entry.
    """

    min_tax_wan_yuan_per_mu: NonNeg | None = Field(
        None, description="tax per mu the firm must pay by the check year, 万元/mu "
                          "(default: the entry standard's)")
    min_va_wan_yuan_per_mu: NonNeg = Field(
        0.0, description="value added per mu by the check year, 万元/mu (0: not agreed)")
    max_energy_tce_per_wan_yuan: Pos | None = Field(
        None, description="energy intensity at most, tce/万元 VA (default: the entry standard's)")
    max_emissions_t_per_wan_yuan: PollutantValues | None = Field(
        None, description="emission intensity at most per pollutant, t/万元 VA "
                          "(default: the entry standards')")
    years_after_start: Years = Field(
        3, description="the agreement is checked at the end of this year of operation "
                       "(est: 标准地 达产复核 about three years after the start of production)")
    consequence: Literal["penalty", "revoke_relief", "return_land"] = Field(
        "penalty", description="what a firm that misses the agreement bears: pays the "
                               "违约金, repays its price relief, or returns its land and exits")
    penalty_share_of_price: Share = Field(
        0.2, description="违约金 as a share of the land price the firm paid (est: contracts "
                         "cap the penalty at a fraction of the transfer price; 20% assumed)")


class LandBankingSpec(ScenarioModel):
    """Government land banking (土地收储) of idle and low-efficiency land."""

    enabled: bool = False
    idle_share_per_year: Share = Field(
        0.0, description="share of the idle land the government buys into its bank each year")
    d_years: Annotated[int, Field(ge=1, le=50)] | None = Field(
        None, description="firms in D this many years in a row sell their land to the bank "
                          "and exit (None: no purchase of low-efficiency land)")
    price_wan_yuan_per_mu: NonNeg | None = Field(
        None, description="what the bank pays per mu, 万元 (default: "
                          "dynamics.finance.land_price_wan_yuan_per_mu)")
    release_share_per_year: Share = Field(
        1.0, description="share of banked land serviced and supplied again each year "
                         "(净地出让; est: within the year)")


class ExpansionSpec(ScenarioModel):
    """Expansion land for existing firms, by class (A first, B next, C none, D barred)."""

    enabled: bool = False
    applicants_share_per_year: Share = Field(
        0.1, description="share of the eligible firms that apply for expansion land each year "
                         "(est)")
    land_share_by_class: ClassValues = Field(
        default_factory=lambda: ClassValues(A=0.3, B=0.15, C=0.0, D=0.0),
        description="land asked for as a share of the firm's land, by class; 0 bars the class "
                    "(est: 浙江 seeds give A priority in new land, C and D none)")


class ContractsSpec(ScenarioModel):
    """Land contracts: price (招拍挂), term (弹性年期), lease-first (先租后让), agreements."""

    enabled: bool = False
    supply: Literal["transfer", "lease_first"] = Field(
        "transfer", description="transfer at once (出让), or lease first and transfer only "
                                "if the agreement is met (先租后让)")
    term_years: Years = Field(
        MAX_INDUSTRIAL_TERM_YEARS,
        description="term of the land use right, years (弹性年期: e.g. 20); the price is pro "
                    "rata of the 50-year price (国土资发〔2006〕307号 prices a 50-year term)")
    lease_years: Annotated[int, Field(ge=1, le=20)] = Field(
        5, description="years of lease before transfer under lease_first (est: 3-5 years in "
                       "provincial 先租后让 rules)")
    national_grade_by_land_grade: list[Annotated[int, Field(ge=1, le=15)]] = Field(
        default_factory=lambda: [8, 9, 10], min_length=1,
        description="national land grade (1-15) of each local land grade, grade 1 first "
                    "(est: a developed county; set from the county's 等别)")
    bid_premium_elasticity: NonNeg = Field(
        0.5, description="the winning bid's premium over the floor per unit of relative excess "
                         "of expected tax per mu over the entry standard (est)")
    max_bid_multiple: Annotated[float, Field(ge=1, le=20)] = Field(
        3.0, description="the winning bid is at most this multiple of the floor (est)")
    price_relief_share: Annotated[float, Field(ge=0, le=0.3)] = Field(
        0.0, description="price relief for entrants, share of the bid (国土资发〔2009〕56号 "
                         "lets priority projects pay no less than 70% of the floor)")
    agreement: AgreementSpec = Field(default_factory=AgreementSpec)
    banking: LandBankingSpec = Field(default_factory=LandBankingSpec)
    expansion: ExpansionSpec = Field(default_factory=ExpansionSpec)

    @model_validator(mode="after")
    def _lease_within_term(self) -> ContractsSpec:
        if self.supply == "lease_first" and self.lease_years >= self.term_years:
            raise ValueError(f"lease_years ({self.lease_years}) must be shorter than "
                             f"term_years ({self.term_years})")
        return self


class DualControlSpec(ScenarioModel):
    """Energy dual control (能耗双控) as a binding constraint on new projects.

    Each region's path starts at its energy intensity (and total energy) in the
    first year the mode is not ``off`` (the run's first year unless a timeline
    change switches it on) times ``initial_target_share`` and falls (grows) by the
    yearly rates. In a year when a region is above its path, its new projects
    (entrants and expansions) are refused or must buy their energy (用能权有偿申购).
    """

    mode: Literal["off", "refuse", "price"] = Field(
        "off", description="off; refuse new projects in regions above the path; or price "
                           "their energy")
    intensity_decline_per_year: Annotated[float, Field(ge=0, lt=1)] = Field(
        0.0286, description="yearly decline of the intensity path: 13.5% over five years "
                            "(十四五规划纲要: 单位GDP能源消耗降低13.5%)")
    initial_target_share: Annotated[float, Field(gt=0, le=2)] = Field(
        1.0, description="the path's first-year value as a share of the region's first-year "
                         "intensity (below 1: the region starts above its path)")
    total_growth_per_year: Annotated[float, Field(ge=-0.5, le=0.5)] | None = Field(
        None, description="yearly growth of the total-energy path (None: intensity only)")
    purchase_price_yuan_per_tce: NonNeg = Field(
        500.0, description="price of a project's annual energy bought in price mode, yuan per "
                           "tce, paid once (est: several times the paid-use fee)")
    payback_years: Pos = Field(
        5.0, description="a project withdraws if the purchase exceeds this many years of its "
                         "expected profit (est)")

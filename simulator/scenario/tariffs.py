"""The ``tariffs`` section: differentiated prices by evaluation class.

Electricity (差别电价: time of use, tiered schedules of listed sectors,
national differential prices, class surcharges and their escalation),
non-residential water with over-quota blocks, the urban land-use tax with
relief by class, the pollution charge, and subsidies withdrawn for low
classes.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from simulator.scenario.base import (
    ClassValues,
    NonNeg,
    PollutantValues,
    Pos,
    ScenarioModel,
    SectorName,
    Share,
)
from simulator.scenario.sector_prices import EnvironmentalCredit, OrderlyPowerUse, WaterRights

__all__ = [
    "Block",
    "ElectricityTariff",
    "Escalation",
    "GasTariff",
    "LandTax",
    "PollutionCharge",
    "Subsidies",
    "Tariffs",
    "TieredSchedule",
    "TimeOfUse",
    "WaterBlock",
    "WaterTariff",
]


class TimeOfUse(ScenarioModel):
    """Time-of-use periods: share of kWh in each and price multiplier."""

    enabled: bool = True
    peak_share: Share = 0.35
    flat_share: Share = 0.35
    valley_share: Share = 0.30
    peak_multiplier: NonNeg = 1.6
    flat_multiplier: NonNeg = 1.0
    valley_multiplier: NonNeg = 0.6

    @model_validator(mode="after")
    def _shares(self) -> TimeOfUse:
        total = self.peak_share + self.flat_share + self.valley_share
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"time-of-use shares must sum to 1, got {total:g}")
        return self

    @property
    def mean_multiplier(self) -> float:
        """Consumption-weighted price multiplier (1 when disabled)."""
        if not self.enabled:
            return 1.0
        return (
            self.peak_share * self.peak_multiplier
            + self.flat_share * self.flat_multiplier
            + self.valley_share * self.valley_multiplier
        )


class Block(ScenarioModel):
    """One block of an increasing-block schedule: applies above ``above``."""

    above: NonNeg
    surcharge_yuan_per_kwh: NonNeg


class TieredSchedule(ScenarioModel):
    """Tiered (阶梯) electricity surcharge for a listed energy-intensive sector."""

    unit: str = Field("kWh per unit of product", description="unit of the consumption measure")
    reference_unit_consumption: Pos = Field(
        description="sector's median electricity per unit of product (same unit as blocks)"
    )
    firm_sigma: NonNeg = Field(
        0.02, description="log-sd of unit consumption across firms (follows energy intensity)"
    )
    blocks: list[Block]

    @field_validator("blocks")
    @classmethod
    def _increasing(cls, v: list[Block]) -> list[Block]:
        if not v:
            raise ValueError("at least one block is needed")
        for lo, hi in zip(v, v[1:], strict=False):
            if not hi.above > lo.above:
                raise ValueError("tier thresholds must increase")
        return v


class Escalation(ScenarioModel):
    """D-class surcharge after a number of consecutive years in D."""

    min_consecutive_years: Annotated[int, Field(ge=1, le=100)]
    surcharge_yuan_per_kwh: NonNeg


class ElectricityTariff(ScenarioModel):
    """Electricity prices (差别电价) for industrial and commercial users."""

    general_price_yuan_per_kwh: NonNeg = 0.75
    large_industry_price_yuan_per_kwh: NonNeg = 0.64
    large_industry_min_kva: NonNeg = Field(315.0, description="capacity from which 大工业 applies")
    capacity_charge_yuan_per_kva_month: NonNeg = 30.0
    time_of_use: TimeOfUse = Field(default_factory=TimeOfUse)
    tiered: dict[str, TieredSchedule] = Field(
        default_factory=dict, description="sector name -> tiered schedule"
    )
    national_differential_yuan_per_kwh: dict[Literal["restricted", "eliminated"], NonNeg] = (
        Field(default_factory=lambda: {"restricted": 0.10, "eliminated": 0.30})
    )
    national_differential_by_sector: dict[
        SectorName, dict[Literal["restricted", "eliminated"], NonNeg]] = Field(
        default_factory=dict, description="sector name -> its own national differential "
        "prices, yuan/kWh, replacing national_differential_yuan_per_kwh for that sector's "
        "restricted/eliminated firms (e.g. steel from 2017: eliminated 0.50, restricted 0.10, "
        "发改价格〔2016〕2803号, Xinhua 2017-01-03); a status left out keeps the general price")
    class_surcharge_yuan_per_kwh: ClassValues = Field(
        default_factory=lambda: ClassValues(D=0.3)
    )
    d_escalation: list[Escalation] = Field(default_factory=list)
    stacking: Literal["add", "highest"] = Field(
        "add", description="add class surcharge to national/tiered prices, or charge the highest"
    )

    @field_validator("d_escalation")
    @classmethod
    def _years_increase(cls, v: list[Escalation]) -> list[Escalation]:
        years = [e.min_consecutive_years for e in v]
        if years != sorted(set(years)):
            raise ValueError("d_escalation years must increase")
        return v


class WaterBlock(ScenarioModel):
    """Over-quota block: use up to ``up_to_quota_ratio`` x quota pays ``multiplier``."""

    up_to_quota_ratio: Pos | None = Field(
        description="upper edge as a multiple of quota; null = open")
    multiplier: NonNeg


class WaterTariff(ScenarioModel):
    """Non-residential water with over-quota progressive pricing (超定额累进加价)."""

    base_price_yuan_per_m3: NonNeg = 3.5
    blocks: list[WaterBlock] = Field(
        default_factory=lambda: [
            WaterBlock(up_to_quota_ratio=1.0, multiplier=1.0),
            WaterBlock(up_to_quota_ratio=1.2, multiplier=1.5),
            WaterBlock(up_to_quota_ratio=1.4, multiplier=2.0),
            WaterBlock(up_to_quota_ratio=None, multiplier=3.0),
        ]
    )
    class_sewage_surcharge_yuan_per_m3: ClassValues = Field(
        default_factory=lambda: ClassValues(D=0.6)
    )
    rights: WaterRights = Field(
        default_factory=WaterRights, description="water quotas by class and relief for "
        "water-saving firms (neutral by default)")

    @field_validator("blocks")
    @classmethod
    def _increasing(cls, v: list[WaterBlock]) -> list[WaterBlock]:
        if not v or v[-1].up_to_quota_ratio is not None:
            raise ValueError("the last water block must be open (up_to_quota_ratio: null)")
        edges = [b.up_to_quota_ratio for b in v[:-1]]
        if any(e is None for e in edges):
            raise ValueError("only the last water block may be open")
        if any(not b > a for a, b in zip(edges, edges[1:], strict=False)):
            raise ValueError("tier thresholds must increase")
        return v


class LandTax(ScenarioModel):
    """Urban land-use tax (城镇土地使用税) with relief by class."""

    rate_yuan_per_m2_year_by_grade: list[NonNeg] = Field(
        default_factory=lambda: [9.0, 6.0, 3.0], description="grade 1 first", min_length=1
    )
    relief_share: ClassValues = Field(default_factory=lambda: ClassValues(A=1.0, B=0.8))

    @field_validator("relief_share")
    @classmethod
    def _shares(cls, v: ClassValues) -> ClassValues:
        if any(x > 1 for x in v.as_tuple()):
            raise ValueError("relief shares must be in [0, 1]")
        return v


class PollutionCharge(ScenarioModel):
    """Pollution levy / environmental protection tax per pollution equivalent."""

    water_yuan_per_equivalent: NonNeg = 1.4
    air_yuan_per_equivalent: NonNeg = 1.2
    equivalent_kg: PollutantValues = Field(
        default_factory=lambda: PollutantValues(cod=1.0, nh3n=0.8, so2=0.95, nox=0.95)
    )
    class_multiplier: ClassValues = Field(
        default_factory=lambda: ClassValues(A=1.0, B=1.0, C=1.0, D=2.0)
    )

    @field_validator("equivalent_kg")
    @classmethod
    def _positive(cls, v: PollutantValues) -> PollutantValues:
        if any(x <= 0 for x in v.as_tuple()):
            raise ValueError("pollution equivalents must be positive")
        return v


class Subsidies(ScenarioModel):
    """Policy subsidies and awards, withdrawn for low classes."""

    rate_of_tax: Share = Field(0.02, description="subsidies and awards as a share of tax paid")
    withdrawn_for: list[Literal["A", "B", "C", "D"]] = Field(default_factory=lambda: ["D"])


class GasTariff(ScenarioModel):
    """Natural gas for industry by class (差别化气价), billed on the gas share of fuel use."""

    enabled: bool = Field(False, description="bill gas (a linear tariff, off by default)")
    price_yuan_per_m3: NonNeg = Field(
        3.6, description="base price of non-residential pipeline gas, yuan per m^3 (est: "
        "Zhejiang city prices for industry were about 3.4-3.9 yuan/m^3 in 2019-2022)")
    class_surcharge_yuan_per_m3: ClassValues = Field(
        default_factory=lambda: ClassValues(D=1.0),
        description="surcharge per m^3 by class (src: Qingdao 2022, D +1 yuan/m^3)")
    share_of_fuel: dict[SectorName, Share] = Field(
        default_factory=dict, description="share of non-electric energy (tce) that is gas, "
        "by sector; sectors not listed use default_share_of_fuel")
    default_share_of_fuel: Share = Field(
        0.3, description="gas share of non-electric energy where a sector is not listed (est: "
        "gas was about a quarter to a third of Zhejiang industry's non-electric energy)")
    kgce_per_m3: Pos = Field(
        1.2143, description="standard coal equivalent of 1 m^3 of natural gas, kgce (src: "
        "China Energy Statistical Yearbook, conversion factors: 1.1000-1.3300; 1.2143 is "
        "the conventional value at 35,544 kJ/m^3)")


class Tariffs(ScenarioModel):
    """All differentiated prices."""

    electricity: ElectricityTariff = Field(default_factory=ElectricityTariff)
    water: WaterTariff = Field(default_factory=WaterTariff)
    land_tax: LandTax = Field(default_factory=LandTax)
    pollution: PollutionCharge = Field(default_factory=PollutionCharge)
    subsidies: Subsidies = Field(default_factory=Subsidies)
    gas: GasTariff = Field(default_factory=GasTariff)
    orderly_power: OrderlyPowerUse = Field(default_factory=OrderlyPowerUse)
    environmental_credit: EnvironmentalCredit = Field(default_factory=EnvironmentalCredit)

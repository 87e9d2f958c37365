"""The ``markets`` section: energy-use rights (用能权) and emission rights (排污权).

Every quota market has a cap (:class:`CapSpec`), a free allocation
(:class:`AllocationSpec`), firms' abatement costs (:class:`MacSpec`),
price bounds and a government reserve (:class:`ReserveSpec`), set by
:class:`QuotaMarketSpec`. The energy market adds dual control, paid use,
paid subscription of new use and an over-quota surcharge
(:class:`EnergyMarketSpec`); an emission market adds paid use for a term and
a penalty on shortfall (:class:`EmissionMarketSpec`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from simulator.scenario.base import (
    CalendarYear,
    ClassValues,
    NonNeg,
    Pollutant,
    Pos,
    ScenarioModel,
    SectorName,
    Share,
)
from simulator.scenario.errors import LocatedError

__all__ = [
    "AllocationSpec",
    "CapSpec",
    "EmissionMarketSpec",
    "EnergyMarketSpec",
    "IntensityFactor",
    "MacSpec",
    "MarketsSpec",
    "PriceBlock",
    "PriceBounds",
    "QuotaMarketSpec",
    "ReserveRelease",
    "ReserveSpec",
    "SubscriptionSpec",
]


def _increasing(values: list[float]) -> bool:
    """Whether ``values`` strictly increase (thresholds of tiers, blocks and triggers)."""
    return all(b > a for a, b in zip(values, values[1:], strict=False))


class CapSpec(ScenarioModel):
    """Regional total cap of one quota, per year (tce or t)."""

    first_year_share_of_baseline: Pos = Field(
        1.0, description="first-year cap as a share of the firms' baseline (potential) use"
    )
    annual_decline: Annotated[float, Field(ge=0, lt=1)] = Field(
        0.0, description="cap falls by this share each year"
    )
    yearly: dict[int, NonNeg] = Field(
        default_factory=dict,
        description="explicit caps by calendar year; later years step down from them",
    )
    index_by_year: dict[CalendarYear, Pos] = Field(
        default_factory=dict,
        description="cap path as an index by calendar year (e.g. a five-year plan's total: "
                    "2015 1.0, 2020 0.808), geometric between listed years and extended by "
                    "the first segment's rate before them; the first-year cap is the "
                    "baseline share above, later caps follow the index's ratio to the first "
                    "year's; after the last listed year the cap falls by annual_decline",
    )


class PriceBounds(ScenarioModel):
    """Price floor and ceiling kept by the government reserve (yuan per tce or t)."""

    floor_yuan_per_unit: NonNeg = 0.0
    ceiling_yuan_per_unit: NonNeg = 1e6

    @model_validator(mode="after")
    def _ordered(self) -> PriceBounds:
        if self.floor_yuan_per_unit > self.ceiling_yuan_per_unit:
            raise ValueError(
                f"price floor {self.floor_yuan_per_unit:g} is above the ceiling "
                f"{self.ceiling_yuan_per_unit:g}"
            )
        return self


class ReserveRelease(ScenarioModel):
    """One tier of the reserve's price containment: a share of its holdings at a trigger price."""

    trigger_price_yuan_per_unit: Pos = Field(
        description="the reserve sells this tier once the price reaches it")
    share: Share = Field(description="share of the reserve's holdings in this tier")


class ReserveSpec(ScenarioModel):
    """Government reserve: withheld share, price stabilisation, auctions and leases."""

    share_of_cap: Share = Field(0.05, description="share of each year's cap kept in reserve")
    sells_unallocated: bool = Field(
        False, description="offer the rights the firms' allocations leave of the cap (beyond "
                           "share_of_cap) at every scheduled auction, to the highest bids down "
                           "to the floor, instead of holding them (for releases and the "
                           "ceiling)")
    sells_at_ceiling: bool = True
    buys_at_floor: bool = True
    auction_share: Share = Field(
        0.25, description="share of reserve holdings offered at each scheduled auction"
    )
    auction_reserve_price_yuan_per_unit: NonNeg = 0.0
    lease_share: Share = Field(
        0.0, description="share of reserve holdings leased for one year at the compliance auction"
    )
    lease_price_yuan_per_unit: NonNeg = 0.0
    releases: list[ReserveRelease] = Field(
        default_factory=list,
        description="price containment: at each scheduled auction the reserve offers these "
                    "shares of its holdings at their trigger prices (sold only once the "
                    "price reaches a trigger); the rest it sells at the ceiling",
    )

    @field_validator("releases")
    @classmethod
    def _rising_triggers(cls, v: list[ReserveRelease]) -> list[ReserveRelease]:
        if not _increasing([r.trigger_price_yuan_per_unit for r in v]):
            raise ValueError("release trigger prices must increase")
        if sum(r.share for r in v) > 1.0 + 1e-12:
            raise ValueError(f"release shares sum to {sum(r.share for r in v):g}, more than 1")
        return v


class IntensityFactor(ScenarioModel):
    """Allocation factor for firms whose intensity exceeds ``above_ratio`` x sector median."""

    above_ratio: Pos
    factor: NonNeg


class AllocationSpec(ScenarioModel):
    """Free initial allocation: historical use x class factor x intensity factor."""

    class_factor: ClassValues = Field(
        default_factory=lambda: ClassValues(A=1.0, B=1.0, C=0.95, D=0.9)
    )
    unrated_factor: NonNeg = 1.0
    intensity_factors: list[IntensityFactor] = Field(default_factory=list)

    @field_validator("intensity_factors")
    @classmethod
    def _increasing(cls, v: list[IntensityFactor]) -> list[IntensityFactor]:
        if not _increasing([f.above_ratio for f in v]):
            raise ValueError("intensity factor thresholds must increase")
        return v


class MacSpec(ScenarioModel):
    """Marginal abatement cost MAC_i(q) = c_i q, set by the MAC at 10% abatement."""

    at_10pct_yuan_per_unit: dict[SectorName, Pos] = Field(
        default_factory=dict, description="sector -> MAC when abating 10% of baseline use"
    )
    default_at_10pct_yuan_per_unit: Pos = 1000.0
    firm_sigma: NonNeg = Field(0.5, description="log-sd of c_i across firms of a sector")
    max_abatement_share: Annotated[float, Field(ge=0, le=1)] = Field(
        0.5, description="abatement cannot exceed this share of baseline use"
    )


class PriceBlock(ScenarioModel):
    """One block of a rising price schedule: ``price`` applies above ``above``."""

    above: NonNeg
    price_yuan_per_unit: NonNeg


def _rising_blocks(v: list[PriceBlock]) -> list[PriceBlock]:
    if not v:
        raise ValueError("at least one block is needed")
    if not _increasing([b.above for b in v]):
        raise ValueError("tier thresholds must increase")
    # Surcharges rise with the overrun, subscription prices with unit consumption.
    if any(b.price_yuan_per_unit < a.price_yuan_per_unit for a, b in zip(v, v[1:], strict=False)):
        raise ValueError("tier prices must not fall as the thresholds rise")
    return v


class QuotaMarketSpec(ScenarioModel):
    """What every quota market has: cap, allocation, abatement, trading and reserve."""

    enabled: bool = True
    scope_min_use_per_year: NonNeg = Field(
        0.0, description="firms whose last-year use (tce or t) is below this are not covered"
    )
    cap: CapSpec = Field(default_factory=CapSpec)
    allocation: AllocationSpec = Field(default_factory=AllocationSpec)
    mac: MacSpec = Field(default_factory=MacSpec)
    price: PriceBounds = Field(default_factory=PriceBounds)
    reserve: ReserveSpec = Field(default_factory=ReserveSpec)
    auctions_per_year: Annotated[int, Field(ge=0, le=6)] = Field(
        4, description="scheduled auctions (evenly spaced), plus a final compliance auction"
    )
    trading_fee_share: Annotated[float, Field(ge=0, lt=0.5)] = Field(
        0.0075, description="fee on trade value paid by each side to the platform"
    )
    banking: bool = Field(False, description="unused rights carry to the next year")
    absent_share: Share = Field(
        0.0, description="share of covered firms that miss the year's compliance window "
                         "(drawn per firm and year): they neither lease, buy nor sell there "
                         "and pay the penalty or surcharge for what they lack")
    between_regions: Literal["allowed", "not_allowed", "fee"] = Field(
        "allowed", description="trading of rights between the regions of "
                               "population.regions (区域间交易): allowed (one county-wide "
                               "market), not_allowed (each region's market clears on its own, "
                               "with its share of the cap and reserve), or fee (a fee per unit "
                               "traded across a region boundary, paid by the buyer to the "
                               "government: region_fee_yuan_per_unit); with one region "
                               "it has no effect")
    region_fee_yuan_per_unit: NonNeg = Field(
        0.0, description="with between_regions: fee, the fee per tce or t bought from another "
                         "region, paid by the buyer on top of the price and received by the "
                         "county government (no source sets one: est, a policy lever)")

    @model_validator(mode="after")
    def _fee_only_with_fee(self) -> QuotaMarketSpec:
        if self.region_fee_yuan_per_unit > 0 and self.between_regions != "fee":
            raise LocatedError(
                ("region_fee_yuan_per_unit",),
                f"a fee of {self.region_fee_yuan_per_unit:g} per unit applies only with "
                f"between_regions: fee (got between_regions: {self.between_regions})")
        return self

    @model_validator(mode="after")
    def _releases_within_bounds(self) -> QuotaMarketSpec:
        for i, r in enumerate(self.reserve.releases):
            p = r.trigger_price_yuan_per_unit
            if not self.price.floor_yuan_per_unit < p <= self.price.ceiling_yuan_per_unit:
                raise LocatedError(
                    ("reserve", "releases", i, "trigger_price_yuan_per_unit"),
                    f"trigger price {p:g} must lie above the floor "
                    f"{self.price.floor_yuan_per_unit:g} and at most at the ceiling "
                    f"{self.price.ceiling_yuan_per_unit:g}")
        return self


class SubscriptionSpec(ScenarioModel):
    """Paid subscription (有偿申购) of new energy use, priced by the project's unit consumption."""

    min_new_use_tce: NonNeg = Field(1000.0, description="projects below this buy nothing")
    blocks: list[PriceBlock] = Field(
        default_factory=lambda: [PriceBlock(above=0.6, price_yuan_per_unit=500.0)],
        description="price by unit consumption (tce per 万元 VA); none below the first block",
    )

    @field_validator("blocks")
    @classmethod
    def _rising(cls, v: list[PriceBlock]) -> list[PriceBlock]:
        return _rising_blocks(v)


class EnergyMarketSpec(QuotaMarketSpec):
    """Energy-use rights (用能权): dual control, paid use, subscription, over-quota surcharge."""

    intensity_target_tce_per_wan_yuan: Pos = Field(
        0.6, description="energy intensity target (dual control); firms above pay the high fee"
    )
    intensity_target_annual_decline: Annotated[float, Field(ge=0, lt=1)] = 0.0
    paid_use_fee_below_target_yuan_per_tce: NonNeg = 50.0
    paid_use_fee_above_target_yuan_per_tce: NonNeg = 100.0
    subscription: SubscriptionSpec = Field(default_factory=SubscriptionSpec)
    overquota_surcharge: list[PriceBlock] = Field(
        default_factory=lambda: [PriceBlock(above=0.0, price_yuan_per_unit=1000.0)],
        description="surcharge per tce over quota by overrun share of quota (rising blocks)",
    )
    compensation_yuan_per_tce: NonNeg = Field(
        0.0, description="the reserve buys unsold surplus rights at this price (减少用能补偿)"
    )

    @field_validator("overquota_surcharge")
    @classmethod
    def _rising(cls, v: list[PriceBlock]) -> list[PriceBlock]:
        return _rising_blocks(v)


class EmissionMarketSpec(QuotaMarketSpec):
    """Emission rights (排污权) of one pollutant: paid use for a term, penalty on shortfall."""

    paid_use_price_yuan_per_t_year: NonNeg = 1000.0
    paid_use_class_multiplier: ClassValues = Field(
        default_factory=lambda: ClassValues(A=1.0, B=1.0, C=1.0, D=1.0)
    )
    term_years: Annotated[int, Field(ge=1, le=50)] = 5
    term_first_year: Annotated[int, Field(ge=1900, le=2200)] | None = Field(
        None, description="a calendar year in which a term starts (terms run every "
                          "term_years from it); default: the run's first year. The first year "
                          "of a run always allocates entitlements")

    def term_starts(self, year: int, first_year: int) -> bool:
        """Whether entitlements are (re)allocated in ``year`` of a run starting ``first_year``."""
        anchor = first_year if self.term_first_year is None else self.term_first_year
        return year == first_year or (year - anchor) % self.term_years == 0

    def term_ends(self, year: int, first_year: int) -> bool:
        """Whether a term ends with ``year`` (rights then expire even with banking)."""
        anchor = first_year if self.term_first_year is None else self.term_first_year
        return (year - anchor + 1) % self.term_years == 0
    penalty_yuan_per_t: NonNeg = Field(
        50_000.0, description="penalty per tonne emitted without rights (also a violation)"
    )


class MarketsSpec(ScenarioModel):
    """Energy-use and emission-rights markets."""

    energy: EnergyMarketSpec = Field(default_factory=lambda: EnergyMarketSpec(enabled=False))
    emissions: dict[Pollutant, EmissionMarketSpec] = Field(default_factory=dict)

    def of(self, quota: str) -> EnergyMarketSpec | EmissionMarketSpec:
        """Return the market of ``quota`` (``"energy"`` or a pollutant)."""
        return self.energy if quota == "energy" else self.emissions[quota]

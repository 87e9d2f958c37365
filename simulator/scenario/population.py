"""The ``population`` section: where the firms come from.

Synthetic firms are drawn by sector (:class:`SectorSpec`: medians of
per-firm lognormals and behaviour) and region, and calibrated to
above-scale aggregates (:class:`CalibrationTargets`); a firm table
(CSV/Excel) gives them instead with ``source: file``. Both sources share the
sectors, regions, tax rates, scale threshold and spreads (entrants are drawn
from them); :data:`SOURCE_ONLY_FIELDS` lists the fields only one uses.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from simulator.scenario.base import NonNeg, PollutantValues, Pos, ScenarioModel, Share
from simulator.scenario.errors import LocatedError

__all__ = [
    "SOURCE_ONLY_FIELDS",
    "CalibrationTargets",
    "DispersionSpec",
    "LognormalSpec",
    "PopulationSpec",
    "RegionSpec",
    "SectorSpec",
]


class LognormalSpec(ScenarioModel):
    """A lognormal distribution given by its median and log-scale sigma."""

    median: Pos
    sigma: NonNeg = 0.0


class SectorSpec(ScenarioModel):
    """One sector: its intensities (medians of per-firm lognormals) and behaviour."""

    kind: Literal["industrial", "services"] = "industrial"
    label_zh: str = ""
    share: Share = Field(description="share of its kind's firm count")
    land_mu: LognormalSpec = Field(description="land held per firm, mu")
    va_per_mu_wan_yuan: LognormalSpec = Field(description="value added per mu per year, 万元")
    va_share_of_revenue: Share = Field(description="value added / main-business revenue")
    tax_share_of_va: Share = Field(
        description="taxes other than corporate income tax (VAT, surcharges) / value added; "
                    "rescaled by the population calibration")
    va_per_employee_wan_yuan: Pos = Field(description="labour productivity, 万元 per person")
    energy_tce_per_wan_yuan_va: NonNeg = Field(description="energy use, tce per 万元 VA")
    electricity_share_of_energy: Share = Field(
        description="share of the firm's energy (tce) that is electricity"
    )
    water_m3_per_wan_yuan_va: NonNeg = Field(description="water use, m^3 per 万元 VA")
    emissions_t_per_wan_yuan_va: PollutantValues = Field(
        default_factory=PollutantValues, description="emissions, t per 万元 VA"
    )
    rd_share_of_revenue: Share = Field(0.0, description="R&D spend / revenue")
    profit_margin: Annotated[float, Field(ge=-1, le=1)] = Field(
        0.06, description="profit / revenue before differentiated charges"
    )
    intensity_sigma: NonNeg = Field(
        0.4, description="log-sd of per-firm energy, water and emission intensities"
    )
    output_elasticity: NonNeg = Field(
        1.0, description="elasticity of output to unit cost (short-run supply response)"
    )
    restricted_share: Share = Field(0.0, description="share of firms with restricted processes")
    eliminated_share: Share = Field(0.0, description="share of firms with eliminated processes")
    high_tech_share: Share = Field(0.0, description="share of certified high-tech firms")


class RegionSpec(ScenarioModel):
    """A county (or district) with its industrial parks."""

    name: str
    share: Share = Field(description="share of firms located in this region")
    parks: Annotated[int, Field(ge=1, le=1000)] = 1


class CalibrationTargets(ScenarioModel):
    """Aggregates of above-scale industrial firms the synthetic population must hit."""

    tax_per_mu_wan_yuan: Pos = 25.5
    va_per_mu_wan_yuan: Pos = 103.2
    labour_productivity_wan_yuan_per_person: Pos = 21.6


class DispersionSpec(ScenarioModel):
    """Firm-to-firm spread of attributes drawn around sector values."""

    revenue_share_sigma: NonNeg = Field(0.15, description="log-sd of VA/revenue")
    tax_share_sigma: NonNeg = Field(0.30, description="log-sd of tax/VA")
    labour_sigma: NonNeg = Field(0.40, description="log-sd of VA per employee")
    rd_sigma: NonNeg = Field(0.60, description="log-sd of R&D/revenue")
    margin_sd: NonNeg = Field(0.05, description="sd of the profit margin (share of revenue)")


#: Population fields only one ``source`` uses; giving one with the other source is an error.
SOURCE_ONLY_FIELDS: dict[str, tuple[str, ...]] = {
    "synthetic": ("n_industrial", "n_services", "calibrate", "targets"),
    "file": ("file",),
}


class PopulationSpec(ScenarioModel):
    """Where firms come from: synthetic by sector, or a firm table (CSV/Excel).

    Both sources use the sectors, regions, tax rates, scale threshold and the
    spreads (entrants are drawn from them); firm counts and the calibration
    belong to ``synthetic``, the table to ``file`` (see ``_SOURCE_ONLY_FIELDS``).
    """

    source: Literal["synthetic", "file"] = "synthetic"
    file: str | None = Field(None, description="firm table (.csv/.xlsx), relative to the scenario")
    n_industrial: Annotated[int, Field(ge=0, le=20_000_000)] = 5000
    n_services: Annotated[int, Field(ge=0, le=20_000_000)] = 1500
    corporate_income_tax_rate: Share = Field(
        0.25, description="corporate income tax on profit (the sectors' tax_share_of_va covers "
                          "the other taxes)")
    high_tech_income_tax_rate: Share = Field(
        0.15, description="corporate income tax rate of certified high-tech firms")
    above_scale_revenue_wan_yuan: Pos = Field(
        2000.0, description="规上 threshold: annual main-business revenue, 万元"
    )
    calibrate: bool = True
    targets: CalibrationTargets = Field(default_factory=CalibrationTargets)
    electricity_utilisation_hours: Pos = Field(
        4000.0, description="kWh per kVA of contracted capacity per year (sizes transformers)"
    )
    land_grade_shares: list[Share] = Field(
        default_factory=lambda: [0.2, 0.6, 0.2],
        description="share of firms on each land grade (grade 1 first)",
    )
    listed_share: Share = 0.01
    brand_share: Share = 0.03
    max_age_years: Annotated[int, Field(ge=1, le=200)] = Field(
        30, description="initial firm ages are uniform on 0..max_age_years-1"
    )
    dispersion: DispersionSpec = Field(default_factory=DispersionSpec)
    regions: list[RegionSpec] = Field(
        default_factory=lambda: [RegionSpec(name="county", share=1.0, parks=4)]
    )
    sectors: dict[str, SectorSpec]

    @model_validator(mode="after")
    def _check(self) -> PopulationSpec:
        if self.source == "file" and not self.file:
            raise ValueError("population.file is required when source is 'file'")
        self._check_source_only_fields()
        for kind in ("industrial", "services"):
            shares = [s.share for s in self.sectors.values() if s.kind == kind]
            if shares and abs(sum(shares) - 1.0) > 1e-9:
                raise ValueError(f"{kind} sector shares must sum to 1, got {sum(shares):g}")
        if self.source == "synthetic":
            if self.n_industrial and not any(
                s.kind == "industrial" for s in self.sectors.values()
            ):
                raise ValueError("n_industrial > 0 but no industrial sector is defined")
            if self.n_services and not any(s.kind == "services" for s in self.sectors.values()):
                raise ValueError("n_services > 0 but no services sector is defined")
        total = sum(r.share for r in self.regions)
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"region shares must sum to 1, got {total:g}")
        if abs(sum(self.land_grade_shares) - 1.0) > 1e-9:
            raise ValueError("land_grade_shares must sum to 1")
        return self

    def _check_source_only_fields(self) -> None:
        """Refuse a field the chosen source ignores, unless it is left at its default."""
        for source, names in SOURCE_ONLY_FIELDS.items():
            if source == self.source:
                continue
            for name in names:
                default = type(self).model_fields[name].get_default(call_default_factory=True)
                if name in self.model_fields_set and getattr(self, name) != default:
                    raise LocatedError((name,), f"used only with population.source: {source} "
                                                f"(this scenario uses {self.source})")

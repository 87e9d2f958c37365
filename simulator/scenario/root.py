"""Scenario files: YAML -> validated, frozen :class:`Scenario` (pydantic v2).

A scenario is the whole interface between a researcher and the simulator.
Every parameter is a field of the models below, with its unit in the field
name or description. Unknown keys are errors. A variant scenario states only
what differs (``extends: baseline.yaml``; mappings merge deeply, lists and
scalars replace), and a ``timeline`` of dated changes sets any field by its
dotted path from a given month.

Loading errors are raised as :class:`ScenarioError`, whose message names the
file, the line (where YAML gives one) and the field path.
"""

from __future__ import annotations

import copy
import difflib
import re
import types
import typing
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

__all__ = [
    "CLASSES",
    "POLLUTANTS",
    "QUOTAS",
    "Scenario",
    "ScenarioError",
    "YearMonth",
    "apply_changes",
    "load_scenario",
    "default_scenario_path",
]

#: Evaluation classes, best first (A 优先发展类 ... D 倒逼整治类).
CLASSES: tuple[str, ...] = ("A", "B", "C", "D")
#: Pollutants under total-emission control, in the order used in every array.
POLLUTANTS: tuple[str, ...] = ("cod", "nh3n", "so2", "nox")

_YEAR_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


class ScenarioError(ValueError):
    """A scenario (or firm table) that cannot be used, with where and why.

    Parameters
    ----------
    message : str
        What is wrong, in one line.
    file : str or Path, optional
        The file the problem is in.
    line : int, optional
        1-based line number in ``file``.
    field : str, optional
        Dotted field path, e.g. ``tariffs.electricity.class_surcharge_yuan_per_kwh.D``.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ):
        self.message = message
        self.file = None if file is None else str(file)
        self.line = line
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = _display_path(self.file) + (f":{self.line}" if self.line else "")
        parts = [p for p in (where, self.field) if p]
        prefix = ": ".join(parts)
        return f"{prefix}: {self.message}" if prefix else self.message


def safe_name(text: str) -> str:
    """Return ``text`` usable as a file or directory name: ASCII letters, digits, ``_.-``."""
    return "".join(c if (c.isascii() and c.isalnum()) or c in "_.-" else "_" for c in text)


def _display_path(file: str) -> str:
    """Show a path relative to the working directory when it lies below it."""
    try:
        return str(Path(file).resolve().relative_to(Path.cwd()))
    except (ValueError, OSError):
        return file


def _parse_year_month(value: Any) -> str:
    if isinstance(value, date):
        return f"{value.year:04d}-{value.month:02d}"
    if isinstance(value, int) and 1900 <= value <= 2200:
        return f"{value:04d}-01"
    if isinstance(value, str):
        m = _YEAR_MONTH.match(value.strip())
        if m and 1 <= int(m.group(2)) <= 12:
            return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}"
    raise ValueError(f"expected a month as YYYY-MM, got {value!r}")


#: A calendar month written ``YYYY-MM`` (e.g. ``2019-01``).
YearMonth = Annotated[str, BeforeValidator(_parse_year_month)]


def month_index(start: str, when: str) -> int:
    """Return the number of months from ``start`` to ``when`` (both ``YYYY-MM``)."""
    y0, m0 = (int(x) for x in start.split("-"))
    y1, m1 = (int(x) for x in when.split("-"))
    return (y1 - y0) * 12 + (m1 - m0)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True,
                              allow_inf_nan=False)  # a finite number wherever one is asked


NonNeg = Annotated[float, Field(ge=0)]
CalendarYear = Annotated[int, Field(ge=1900, le=2200)]
GrowthRate = Annotated[float, Field(ge=-0.5, le=0.5)]  # a yearly change, as a share
Share = Annotated[float, Field(ge=0, le=1)]
Pos = Annotated[float, Field(gt=0)]


def _increasing(values: list[float]) -> bool:
    """Whether ``values`` strictly increase (thresholds of tiers, blocks and triggers)."""
    return all(b > a for a, b in zip(values, values[1:], strict=False))


class ClassValues(_Model):
    """One number per evaluation class A-D."""

    A: NonNeg = 0.0
    B: NonNeg = 0.0
    C: NonNeg = 0.0
    D: NonNeg = 0.0

    def as_tuple(self) -> tuple[float, float, float, float]:
        """Return (A, B, C, D)."""
        return (self.A, self.B, self.C, self.D)


class ClassShares(ClassValues):
    """Shares of the ranked group put in each class; must sum to 1."""

    A: Share = 0.20
    B: Share = 0.55
    C: Share = 0.20
    D: Share = 0.05

    @model_validator(mode="after")
    def _sum_to_one(self) -> ClassShares:
        total = sum(self.as_tuple())
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"class shares must sum to 1, got {total:g}")
        return self


class PollutantValues(_Model):
    """One number per controlled pollutant (COD, NH3-N, SO2, NOx)."""

    cod: NonNeg = 0.0
    nh3n: NonNeg = 0.0
    so2: NonNeg = 0.0
    nox: NonNeg = 0.0

    def as_tuple(self) -> tuple[float, float, float, float]:
        """Return (cod, nh3n, so2, nox)."""
        return (self.cod, self.nh3n, self.so2, self.nox)


Change = Annotated[float, Field(gt=-0.5, lt=0.5)]  # a signed yearly change, as a share


class QuotaValues(_Model):
    """One signed share per quota: energy and the controlled pollutants."""

    energy: Change = 0.0
    cod: Change = 0.0
    nh3n: Change = 0.0
    so2: Change = 0.0
    nox: Change = 0.0

    def as_tuple(self) -> tuple[float, float, float, float, float]:
        """Return (energy, cod, nh3n, so2, nox)."""
        return (self.energy, self.cod, self.nh3n, self.so2, self.nox)


class QuotaChanges(_Model):
    """Signed shares for some quotas: the quotas left out keep the value in force."""

    energy: Change | None = None
    cod: Change | None = None
    nh3n: Change | None = None
    so2: Change | None = None
    nox: Change | None = None

    def over(self, values: tuple[float, ...]) -> tuple[float, ...]:
        """Return ``values`` (energy, cod, nh3n, so2, nox) with the quotas given here replaced."""
        mine = (self.energy, self.cod, self.nh3n, self.so2, self.nox)
        return tuple(v if m is None else m for v, m in zip(values, mine, strict=True))


# --------------------------------------------------------------------------- run


class RunSettings(_Model):
    """Calendar of the run: first and last month (monthly steps)."""

    start: YearMonth = "2017-01"
    end: YearMonth = "2030-12"

    @model_validator(mode="after")
    def _ordered(self) -> RunSettings:
        if month_index(self.start, self.end) < 11:
            raise ValueError(f"run must cover at least 12 months: {self.start} to {self.end}")
        if self.start[5:] != "01" or self.end[5:] != "12":
            raise ValueError("run must start in January and end in December (whole years)")
        return self

    @property
    def n_months(self) -> int:
        """Number of simulated months."""
        return month_index(self.start, self.end) + 1

    @property
    def first_year(self) -> int:
        """The first simulated calendar year."""
        return int(self.start[:4])

    @property
    def n_years(self) -> int:
        """Number of simulated years."""
        return self.n_months // 12


class OutputSettings(_Model):
    """What a run writes."""

    firm_snapshots: bool = Field(True, description="write firms.parquet (one row per firm-year)")
    monthly_metrics: bool = Field(True, description="write month-level metrics besides annual")


# ---------------------------------------------------------------------- population


class LognormalSpec(_Model):
    """A lognormal distribution given by its median and log-scale sigma."""

    median: Pos
    sigma: NonNeg = 0.0


class SectorSpec(_Model):
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


class RegionSpec(_Model):
    """A county (or district) with its industrial parks."""

    name: str
    share: Share = Field(description="share of firms located in this region")
    parks: Annotated[int, Field(ge=1, le=1000)] = 1


class CalibrationTargets(_Model):
    """Aggregates of above-scale industrial firms the synthetic population must hit."""

    tax_per_mu_wan_yuan: Pos = 25.5
    va_per_mu_wan_yuan: Pos = 103.2
    labour_productivity_wan_yuan_per_person: Pos = 21.6


class DispersionSpec(_Model):
    """Firm-to-firm spread of attributes drawn around sector values."""

    revenue_share_sigma: NonNeg = Field(0.15, description="log-sd of VA/revenue")
    tax_share_sigma: NonNeg = Field(0.30, description="log-sd of tax/VA")
    labour_sigma: NonNeg = Field(0.40, description="log-sd of VA per employee")
    rd_sigma: NonNeg = Field(0.60, description="log-sd of R&D/revenue")
    margin_sd: NonNeg = Field(0.05, description="sd of the profit margin (share of revenue)")


#: Population fields only one ``source`` uses; giving one with the other source is an error.
_SOURCE_ONLY_FIELDS: dict[str, tuple[str, ...]] = {
    "synthetic": ("n_industrial", "n_services", "calibrate", "targets"),
    "file": ("file",),
}


class PopulationSpec(_Model):
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
        for source, names in _SOURCE_ONLY_FIELDS.items():
            if source == self.source:
                continue
            for name in names:
                default = type(self).model_fields[name].get_default(call_default_factory=True)
                if name in self.model_fields_set and getattr(self, name) != default:
                    raise _LocatedError((name,), f"used only with population.source: {source} "
                                                 f"(this scenario uses {self.source})")


# ---------------------------------------------------------------------- evaluation

Indicator = Literal[
    "tax_per_mu", "va_per_mu", "va_per_tce", "va_per_emission", "labour_productivity", "rd_share"
]
BelowIndicator = Literal["tax_per_mu", "tax_per_kwh"]
ServicesIndicator = Literal["tax_per_kwh", "sales_per_kwh", "tax", "sales"]


class ClassThresholds(_Model):
    """Minimum total score for classes A, B and C (below C's is D)."""

    A: NonNeg = 120.0
    B: NonNeg = 90.0
    C: NonNeg = 60.0

    @model_validator(mode="after")
    def _decreasing(self) -> ClassThresholds:
        if not self.A > self.B > self.C:
            raise ValueError("class thresholds must decrease: A > B > C")
        return self


class ClassificationSpec(_Model):
    """How scores become classes: by rank shares or by score thresholds."""

    method: Literal["shares", "thresholds"] = "shares"
    shares: ClassShares = Field(default_factory=ClassShares)
    thresholds: ClassThresholds = Field(default_factory=ClassThresholds)


class VetoSpec(_Model):
    """One-vote veto (一票否决): vetoed firms cannot be A or B."""

    accident_probability_per_year: Share = Field(
        0.01, description="chance a firm has a safety/environmental accident in a year"
    )
    emission_violation: bool = Field(
        True, description="emitting without rights (a compliance shortfall) triggers the veto"
    )
    energy_task_missed: bool = Field(
        False, description="using energy over quota without rights triggers the veto"
    )


class BonusSpec(_Model):
    """Bonus points added to the total score."""

    high_tech: NonNeg = 5.0
    listed: NonNeg = 3.0
    brand: NonNeg = 2.0


class FixedBenchmarks(_Model):
    """Benchmarks per tier for ``benchmark: fixed``, in the indicators' units (rd_share: share)."""

    above_scale: dict[Indicator, Pos] = Field(default_factory=dict)
    below_scale: dict[BelowIndicator, Pos] = Field(default_factory=dict)
    services: dict[ServicesIndicator, Pos] = Field(default_factory=dict)


class EvaluationSpec(_Model):
    """Annual comprehensive evaluation (综合评价)."""

    min_land_mu_below_scale: NonNeg = Field(
        5.0, description="below-scale firms with at least this much land are evaluated"
    )
    evaluate_services: bool = True
    group_by: list[Literal["region", "sector", "park"]] = Field(
        default_factory=lambda: ["region"],
        description="firms are ranked within these groups (and by scale)",
    )
    benchmark: Literal["group_mean", "sector_mean", "fixed"] = "group_mean"
    fixed_benchmarks: FixedBenchmarks = Field(
        default_factory=FixedBenchmarks,
        description="benchmark per tier and indicator when benchmark is 'fixed'",
    )
    indicator_cap: Pos = Field(2.0, description="cap on x/benchmark per indicator")
    weights_above_scale: dict[Indicator, NonNeg] = Field(
        default_factory=lambda: {
            "tax_per_mu": 30.0,
            "va_per_mu": 20.0,
            "va_per_tce": 20.0,
            "va_per_emission": 10.0,
            "labour_productivity": 10.0,
            "rd_share": 10.0,
        }
    )
    weights_below_scale: dict[BelowIndicator, NonNeg] = Field(
        default_factory=lambda: {"tax_per_mu": 50.0, "tax_per_kwh": 50.0}
    )
    weights_services: dict[ServicesIndicator, NonNeg] = Field(
        default_factory=lambda: {
            "tax_per_kwh": 30.0,
            "sales_per_kwh": 30.0,
            "tax": 20.0,
            "sales": 20.0,
        }
    )
    emission_weights: PollutantValues = Field(
        default_factory=lambda: PollutantValues(cod=1.0, nh3n=1.0, so2=1.0, nox=1.0),
        description="weights combining pollutants (t) into one emission total",
    )
    classification: ClassificationSpec = Field(default_factory=ClassificationSpec)
    veto: VetoSpec = Field(default_factory=VetoSpec)
    bonus: BonusSpec = Field(default_factory=BonusSpec)
    protect_new_firms_years: Annotated[int, Field(ge=0, le=50)] = Field(
        1, description="firms younger than this many years are not put in D"
    )

    @field_validator("weights_above_scale", "weights_below_scale", "weights_services")
    @classmethod
    def _positive_total(cls, v: dict[str, float]) -> dict[str, float]:
        if not v or sum(v.values()) <= 0:
            raise ValueError("weights must include at least one positive weight")
        return v

    @model_validator(mode="after")
    def _fixed_needs_values(self) -> EvaluationSpec:
        if self.benchmark == "fixed":
            tiers = [("above_scale", self.weights_above_scale),
                     ("below_scale", self.weights_below_scale)]
            if self.evaluate_services:
                tiers.append(("services", self.weights_services))
            for tier, weights in tiers:
                given = getattr(self.fixed_benchmarks, tier)
                missing = sorted(k for k, w in weights.items() if w > 0 and k not in given)
                if missing:
                    raise _LocatedError(("fixed_benchmarks", tier),
                                        f"benchmark missing for {', '.join(missing)}")
        return self


# ------------------------------------------------------------------------- tariffs


class TimeOfUse(_Model):
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


class Block(_Model):
    """One block of an increasing-block schedule: applies above ``above``."""

    above: NonNeg
    surcharge_yuan_per_kwh: NonNeg


class TieredSchedule(_Model):
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


class Escalation(_Model):
    """D-class surcharge after a number of consecutive years in D."""

    min_consecutive_years: Annotated[int, Field(ge=1, le=100)]
    surcharge_yuan_per_kwh: NonNeg


class ElectricityTariff(_Model):
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


class WaterBlock(_Model):
    """Over-quota block: use up to ``up_to_quota_ratio`` x quota pays ``multiplier``."""

    up_to_quota_ratio: Pos | None = Field(
        description="upper edge as a multiple of quota; null = open")
    multiplier: NonNeg


class WaterTariff(_Model):
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


class LandTax(_Model):
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


class PollutionCharge(_Model):
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


class Subsidies(_Model):
    """Policy subsidies and awards, withdrawn for low classes."""

    rate_of_tax: Share = Field(0.02, description="subsidies and awards as a share of tax paid")
    withdrawn_for: list[Literal["A", "B", "C", "D"]] = Field(default_factory=lambda: ["D"])


class Tariffs(_Model):
    """All differentiated prices."""

    electricity: ElectricityTariff = Field(default_factory=ElectricityTariff)
    water: WaterTariff = Field(default_factory=WaterTariff)
    land_tax: LandTax = Field(default_factory=LandTax)
    pollution: PollutionCharge = Field(default_factory=PollutionCharge)
    subsidies: Subsidies = Field(default_factory=Subsidies)


# ------------------------------------------------------------------------- markets

#: Tradeable quotas: energy-use rights (用能权, tce) and emission rights (排污权, t).
QUOTAS: tuple[str, ...] = ("energy", *POLLUTANTS)
Pollutant = Literal["cod", "nh3n", "so2", "nox"]


class CapSpec(_Model):
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


class PriceBounds(_Model):
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


class ReserveRelease(_Model):
    """One tier of the reserve's price containment: a share of its holdings at a trigger price."""

    trigger_price_yuan_per_unit: Pos = Field(
        description="the reserve sells this tier once the price reaches it")
    share: Share = Field(description="share of the reserve's holdings in this tier")


class ReserveSpec(_Model):
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


class IntensityFactor(_Model):
    """Allocation factor for firms whose intensity exceeds ``above_ratio`` x sector median."""

    above_ratio: Pos
    factor: NonNeg


class AllocationSpec(_Model):
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


class MacSpec(_Model):
    """Marginal abatement cost MAC_i(q) = c_i q, set by the MAC at 10% abatement."""

    at_10pct_yuan_per_unit: dict[str, Pos] = Field(
        default_factory=dict, description="sector -> MAC when abating 10% of baseline use"
    )
    default_at_10pct_yuan_per_unit: Pos = 1000.0
    firm_sigma: NonNeg = Field(0.5, description="log-sd of c_i across firms of a sector")
    max_abatement_share: Annotated[float, Field(ge=0, le=1)] = Field(
        0.5, description="abatement cannot exceed this share of baseline use"
    )


class PriceBlock(_Model):
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


class QuotaMarketSpec(_Model):
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

    @model_validator(mode="after")
    def _releases_within_bounds(self) -> QuotaMarketSpec:
        for i, r in enumerate(self.reserve.releases):
            p = r.trigger_price_yuan_per_unit
            if not self.price.floor_yuan_per_unit < p <= self.price.ceiling_yuan_per_unit:
                raise _LocatedError(
                    ("reserve", "releases", i, "trigger_price_yuan_per_unit"),
                    f"trigger price {p:g} must lie above the floor "
                    f"{self.price.floor_yuan_per_unit:g} and at most at the ceiling "
                    f"{self.price.ceiling_yuan_per_unit:g}")
        return self


class SubscriptionSpec(_Model):
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


class MarketsSpec(_Model):
    """Energy-use and emission-rights markets."""

    energy: EnergyMarketSpec = Field(default_factory=lambda: EnergyMarketSpec(enabled=False))
    emissions: dict[Pollutant, EmissionMarketSpec] = Field(default_factory=dict)

    def of(self, quota: str) -> EnergyMarketSpec | EmissionMarketSpec:
        """Return the market of ``quota`` (``"energy"`` or a pollutant)."""
        return self.energy if quota == "energy" else self.emissions[quota]


# ----------------------------------------------------------------------- behaviour


class ShockSpec(_Model):
    """Monthly multiplicative output shock: AR(1) in logs, mean one."""

    sigma: NonNeg = Field(0.05, description="log-sd of the monthly innovation")
    persistence: Annotated[float, Field(ge=0, lt=1)] = 0.6


class BehaviourSpec(_Model):
    """Short-run firm behaviour."""

    output_response: bool = True
    shock: ShockSpec = Field(default_factory=ShockSpec)
    potential_growth_per_year: GrowthRate = Field(
        0.0, description="yearly growth of every firm's potential output (expansion), in the "
                         "years before the first of potential_growth_by_year"
    )
    potential_growth_by_year: dict[CalendarYear, GrowthRate] = Field(
        default_factory=dict,
        description="growth of potential output into each listed calendar year (from the "
                    "year before to that year), in force until the next listed year",
    )
    labour_productivity_growth_by_year: dict[CalendarYear, GrowthRate] = Field(
        default_factory=dict,
        description="growth of VA per employee into each listed year, in force until the "
                    "next (0 before the first): employees grow by (1 + output growth) / "
                    "(1 + this) - 1",
    )
    intensity_change_per_year: QuotaValues = Field(
        default_factory=lambda: QuotaValues(),
        description="autonomous yearly change of every firm's energy and emission intensities "
                    "per 万元 VA (technical progress besides the modelled upgrades and "
                    "abatement; negative: falling), applied with the growth of potential "
                    "output; entrants come with the intensities of their year; in the "
                    "years before the first of intensity_change_by_year",
    )
    intensity_change_by_year: dict[CalendarYear, QuotaChanges] = Field(
        default_factory=dict,
        description="autonomous intensity change into each listed calendar year, in force "
                    "until the next listed year; a quota left out keeps the change in force "
                    "before (e.g. {2021: {nh3n: -0.03}} slows NH3-N from 2021 only)",
    )
    margin_shift_by_year: dict[CalendarYear, Annotated[float, Field(gt=-0.5, lt=0.5)]] = Field(
        default_factory=dict,
        description="macro profit cycle: share of revenue added to every firm's profit, "
                    "in force from each listed calendar year until the next (e.g. a "
                    "producer-price rebound), before income tax",
    )

    def margin_shift(self, year: int) -> float:
        """Return the macro margin shift in force in ``year`` (0 before the first listed)."""
        return _in_force(self.margin_shift_by_year, year, 0.0)

    def potential_growth(self, year: int) -> float:
        """Return the growth of potential output from ``year - 1`` to ``year``."""
        return _in_force(self.potential_growth_by_year, year, self.potential_growth_per_year)

    def intensity_change(self, year: int) -> tuple[float, ...]:
        """Return the change from ``year - 1`` to ``year`` (energy, cod, nh3n, so2, nox)."""
        change = self.intensity_change_per_year.as_tuple()
        for listed in sorted(y for y in self.intensity_change_by_year if y <= year):
            change = self.intensity_change_by_year[listed].over(change)
        return change

    def labour_productivity_growth(self, year: int) -> float:
        """Return the growth of VA per employee from ``year - 1`` to ``year``."""
        return _in_force(self.labour_productivity_growth_by_year, year, 0.0)


def _in_force(by_year: Mapping[int, float], year: int, before: float) -> float:
    """Return the value of the last listed year up to ``year`` (``before`` if none)."""
    past = [y for y in by_year if y <= year]
    return by_year[max(past)] if past else before


# ------------------------------------------------------------------------ dynamics

INVESTMENT_OPTIONS = ("retrofit", "pollution_control", "automation", "space_for_land")
"""Upgrade options, in the order of :class:`DynamicsSpec.investment`'s codes."""

InvestmentOptionName = Literal["retrofit", "pollution_control", "automation", "space_for_land"]


class OptionOverride(_Model):
    """Sector-specific values of an investment option (unset fields keep the option's)."""

    capex: NonNeg | None = None
    effect_share: Annotated[float, Field(ge=0, lt=1)] | None = None
    lead_time_months: Annotated[int, Field(ge=0, le=120)] | None = None
    lifetime_years: Annotated[int, Field(ge=1, le=50)] | None = None


class InvestmentOption(_Model):
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
    by_sector: dict[str, OptionOverride] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _subsidy_shares(self) -> InvestmentOption:
        if any(v > 1 for v in self.subsidy_share_by_class.as_tuple()):
            raise ValueError("subsidy_share_by_class values must be shares in [0, 1]")
        return self


class FinanceSpec(_Model):
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


class ExitSpec(_Model):
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


class EntryStandards(_Model):
    """Entry standards of new industrial land (标准地 control indicators)."""

    min_investment_wan_yuan_per_mu: NonNeg = 300.0
    min_tax_wan_yuan_per_mu: NonNeg = 20.0
    max_energy_tce_per_wan_yuan: Pos = 0.6
    max_emissions_t_per_wan_yuan: PollutantValues = Field(
        default_factory=lambda: PollutantValues(cod=1e-3, nh3n=1e-4, so2=1e-3, nox=1e-3))


class EntrySpec(_Model):
    """New projects: candidates, entry standards and competitive land allocation."""

    enabled: bool = True
    candidates_per_year_per_1000_firms: Annotated[float, Field(ge=0, le=10_000)] = Field(
        40.0, description="candidate projects a year per 1,000 industrial firms at the start "
                          "(at most 10,000: ten candidates per firm)")
    sector_shares: dict[str, Share] = Field(
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


class LandSpec(_Model):
    """Regional land pools: occupied, idle and available industrial land, mu."""

    new_land_mu_per_year: NonNeg = Field(
        0.0, description="new industrial land released a year (all regions, by region share)")
    revitalisation_delay_years: Annotated[int, Field(ge=0, le=20)] = Field(
        1, description="years from a firm's exit until its land is revitalised (盘活)")
    revitalisation_share_per_year: Share = Field(
        1.0, description="share of idle land past the delay revitalised each year")


class RecyclingSpec(_Model):
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


class DynamicsSpec(_Model):
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


# ------------------------------------------------------------------- initial state


class YearsRange(_Model):
    """Whole years, drawn per firm uniformly from ``min`` to ``max`` (inclusive)."""

    min: Annotated[int, Field(ge=0, le=50)] = 0
    max: Annotated[int, Field(ge=0, le=50)] = 0

    @model_validator(mode="after")
    def _ordered(self) -> YearsRange:
        if self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class InitialStateSpec(_Model):
    """What the run assumes happened before its first year.

    The classes in force in the first year come from evaluating the firms at
    potential output (the evaluation of the year before the run). Nothing
    else is assumed unless set here: no investment project is under way and no
    upgrade is in service at the start.
    """

    years_in_d: YearsRange = Field(
        default_factory=lambda: YearsRange(min=1, max=1),
        description="consecutive years in D of the firms in D at the start, counting the "
                    "evaluation that put them there (at least 1): drives the D escalation "
                    "of the electricity surcharge and the exit of D firms not rectified "
                    "within dynamics.exit.d_grace_years",
    )
    loss_years: YearsRange = Field(
        default_factory=YearsRange,
        description="consecutive loss years already behind the firms whose margin is "
                    "negative at the start (exit after dynamics.exit.loss_years)",
    )
    banked_share_of_allocation: QuotaValues = Field(
        default_factory=lambda: QuotaValues(),
        description="rights banked before the run, as a share of each covered firm's "
                    "first-year allocation, added on top of it (0 to 0.49)",
    )

    @model_validator(mode="after")
    def _checks(self) -> InitialStateSpec:
        if self.years_in_d.min < 1:
            raise _LocatedError(("years_in_d", "min"),
                                "a firm in D at the start has been in D at least 1 year")
        for quota, share in zip(QUOTAS, self.banked_share_of_allocation.as_tuple(), strict=True):
            if share < 0:
                raise _LocatedError(("banked_share_of_allocation", quota),
                                    f"a banked share cannot be negative, got {share:g}")
        return self


# ------------------------------------------------------------------------ timeline


#: Fields a timeline change may not set at all: what the run is.
_RUN_IDENTITY: tuple[str, ...] = ("timeline", "run", "population", "name", "seed",
                                  "initial_state")

#: Fields read once, at the start of a run ("*": every key): a timeline change may not
#: alter them. Which markets and mechanisms run; a market's auction calendar and the MAC
#: slopes drawn for its firms (``mac.max_abatement_share`` may change); the land pools'
#: rules; the firms' starting cash and capex multipliers.
_FIXED_AT_START: tuple[str, ...] = (
    "dynamics.enabled", "dynamics.land", "dynamics.finance.initial_cash_share_of_revenue",
    "dynamics.investment.*.cost_sigma",
    *(f"markets.{m}.{field}" for m in ("energy", "emissions.*") for field in (
        "enabled", "auctions_per_year", "mac.default_at_10pct_yuan_per_unit",
        "mac.at_10pct_yuan_per_unit", "mac.firm_sigma")),
)


def _fixed_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return the values of :data:`_FIXED_AT_START` in scenario ``data``, by concrete path.

    A wildcard stands for every key present; a missing key (a market not there)
    has the value None.
    """
    out: dict[str, Any] = {}

    def walk(node: Any, parts: list[str], done: list[str]) -> None:
        if not parts:
            out[".".join(done)] = copy.deepcopy(node)  # data is changed in place later
            return
        keys = (list(node) if isinstance(node, Mapping) else []) if parts[0] == "*" \
            else [parts[0]]
        for key in keys:
            child = node.get(key) if isinstance(node, Mapping) else None
            walk(child, parts[1:], [*done, str(key)])

    for pattern in _FIXED_AT_START:
        walk(data, pattern.split("."), [])
    return out


def _covers(path: str, field: str) -> bool:
    """Whether setting ``path`` sets ``field`` (the same, a parent, or a part of it)."""
    return path == field or field.startswith(path + ".") or path.startswith(field + ".")


class TimelineChange(_Model):
    """From ``date`` on, set fields by dotted path."""

    date: YearMonth
    set: dict[str, Any]


class Scenario(_Model):
    """A whole scenario: the run, the firms, the evaluation, the prices and the timeline."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    seed: Annotated[int, Field(ge=0)] = 20170101
    run: RunSettings = Field(default_factory=RunSettings)
    output: OutputSettings = Field(default_factory=OutputSettings)
    population: PopulationSpec
    evaluation: EvaluationSpec = Field(default_factory=EvaluationSpec)
    tariffs: Tariffs = Field(default_factory=Tariffs)
    markets: MarketsSpec = Field(default_factory=MarketsSpec)
    behaviour: BehaviourSpec = Field(default_factory=BehaviourSpec)
    dynamics: DynamicsSpec = Field(default_factory=lambda: DynamicsSpec(enabled=False))
    initial_state: InitialStateSpec = Field(default_factory=InitialStateSpec)
    timeline: list[TimelineChange] = Field(default_factory=list)

    @model_validator(mode="after")
    def _timeline(self) -> Scenario:
        for i, change in enumerate(self.timeline):
            k = month_index(self.run.start, change.date)
            if not 0 <= k < self.run.n_months:
                raise _LocatedError(
                    ("timeline", i, "date"),
                    f"date {change.date} is outside the run ({self.run.start} to {self.run.end})",
                )
            for path in change.set:
                _check_path(Scenario, path, ("timeline", i, "set", path))
            fixed = [p for p in change.set if p.split(".")[0] in _RUN_IDENTITY]
            if fixed:
                raise _LocatedError(
                    ("timeline", i, "set", fixed[0]), "this field cannot change during a run"
                )
            for path in change.set:
                self._check_decline_after_path(path, change.date, ("timeline", i, "set", path))
        self._check_timeline_values()
        return self

    def _check_decline_after_path(self, path: str, when: str, loc: tuple) -> None:
        """Raise unless a cap's annual_decline set on the timeline applies after its index.

        Within the years of ``cap.index_by_year`` the index alone sets the cap, so
        a decline rate set for them would be silently ignored.
        """
        parts = path.split(".")
        if parts[-1] != "annual_decline" or "cap" not in parts or parts[0] != "markets":
            return
        market = self.markets.energy if parts[1] == "energy" else (
            self.markets.emissions.get(parts[2]) if len(parts) > 2 else None)
        index = market.cap.index_by_year if market is not None else {}
        if index and int(when[:4]) < max(index):
            raise _LocatedError(loc, f"the cap follows cap.index_by_year to {max(index)}; "
                                     "annual_decline applies only after it (set the index "
                                     "instead, or date this change after it)")

    def _check_timeline_values(self) -> None:
        """Each state the timeline leads to, in date order, must be a valid scenario.

        A value that is wrong alone (a term of 0 years) or only with the
        others in force then (a floor above the ceiling) is reported at the
        change that sets it, before any run, as the run would meet it.
        """
        if not self.timeline:
            return
        data = self.model_dump(mode="python", exclude={"timeline"})
        try:
            Scenario.model_validate(data)
        except ValidationError:
            return  # the scenario's own error: its other validators report it
        start = _fixed_values(data)
        order = sorted(range(len(self.timeline)), key=lambda i: self.timeline[i].date)
        for i in order:
            change = self.timeline[i]
            for path, value in change.set.items():
                _set_path(data, path, copy.deepcopy(value))
            now = _fixed_values(data)
            for field in sorted(set(start) | set(now)):
                if start.get(field) != now.get(field):
                    path = next((p for p in change.set if _covers(p, field)),
                                next(iter(change.set)))
                    raise _LocatedError(("timeline", i, "set", path),
                                        f"this field cannot change during a run ({field} is "
                                        "fixed at the start)")
            try:
                Scenario.model_validate(data)
            except ValidationError as exc:
                loc, msg = _describe(exc)
                field = ".".join(str(x) for x in loc)
                # The change's path that the error is in (or that contains it), else its first.
                path = next((p for p in change.set if _covers(p, field)), next(iter(change.set)))
                raise _LocatedError(("timeline", i, "set", path),
                                    f"from {change.date}, {field}: {msg}") from None

    @model_validator(mode="after")
    def _market_keys(self) -> Scenario:
        sectors = list(self.population.sectors)
        markets = [("energy", self.markets.energy)] + [
            (f"emissions.{p}", m) for p, m in self.markets.emissions.items()]
        for name, market in markets:
            for sector in market.mac.at_10pct_yuan_per_unit:
                if sector not in sectors:
                    raise _LocatedError(
                        ("markets", *name.split("."), "mac", "at_10pct_yuan_per_unit", sector),
                        f"unknown sector {sector!r}{_did_you_mean(sector, sectors)}")
            for year in market.cap.yearly:
                if not self.run.first_year <= year < self.run.first_year + self.run.n_years:
                    raise _LocatedError(("markets", *name.split("."), "cap", "yearly", year),
                                        f"year {year} is outside the run")
        return self

    @model_validator(mode="after")
    def _dynamics_sectors(self) -> Scenario:
        sectors = list(self.population.sectors)
        industrial = [k for k, v in self.population.sectors.items() if v.kind == "industrial"]
        for option, spec in self.dynamics.investment.items():
            for sector in spec.by_sector:
                if sector not in sectors:
                    raise _LocatedError(
                        ("dynamics", "investment", option, "by_sector", sector),
                        f"unknown sector {sector!r}{_did_you_mean(sector, sectors)}")
        for sector in self.dynamics.entry.sector_shares:
            if sector not in industrial:
                raise _LocatedError(
                    ("dynamics", "entry", "sector_shares", sector),
                    f"unknown industrial sector {sector!r}{_did_you_mean(sector, industrial)}")
        return self

    @model_validator(mode="after")
    def _land_grades_have_rates(self) -> Scenario:
        grades = len(self.population.land_grade_shares)
        rates = len(self.tariffs.land_tax.rate_yuan_per_m2_year_by_grade)
        if grades > rates:
            raise _LocatedError(
                ("tariffs", "land_tax", "rate_yuan_per_m2_year_by_grade"),
                f"{grades} land grades in population.land_grade_shares but {rates} rate(s)",
            )
        return self

    @property
    def years(self) -> list[int]:
        """Calendar years of the run."""
        return list(range(self.run.first_year, self.run.first_year + self.run.n_years))

    def sector_names(self) -> list[str]:
        """Sector names in file order (their codes in :class:`Firms`)."""
        return list(self.population.sectors)


class _LocatedError(ValueError):
    """A validation error that knows its field path (converted to ScenarioError)."""

    def __init__(self, loc: tuple, message: str):
        self.loc = loc
        super().__init__(message)


# -------------------------------------------------------------- paths and changes


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated/Optional wrappers from a type annotation."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def _child_type(annotation: Any, key: str) -> tuple[Any, list[str] | None]:
    """Type reached by stepping into ``key``; also the valid keys when it is a model."""
    ann = _unwrap(annotation)
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        fields = ann.model_fields
        if key not in fields:
            raise KeyError(sorted(fields))
        return fields[key].annotation, None
    origin = typing.get_origin(ann)
    if origin in (dict, Mapping):
        key_t, val_t = typing.get_args(ann)
        allowed = typing.get_args(_unwrap(key_t)) if typing.get_origin(key_t) is Literal else None
        if allowed and key not in allowed:
            raise KeyError(sorted(allowed))
        return val_t, None
    if origin is list:
        if not key.isdigit():
            raise KeyError([])
        return typing.get_args(ann)[0], None
    raise KeyError([])


def _check_path(model: type[BaseModel], path: str, loc: tuple) -> None:
    """Raise _LocatedError unless ``path`` names a field of ``model``."""
    ann: Any = model
    for part in path.split("."):
        try:
            ann, _ = _child_type(ann, part)
        except KeyError as exc:
            valid = exc.args[0] if exc.args else []
            hint = _did_you_mean(part, valid)
            raise _LocatedError(loc, f"unknown field {part!r} in path {path!r}{hint}") from None


def _did_you_mean(word: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _valid_keys_at(loc: tuple, root: type[BaseModel] | None = None) -> list[str]:
    """Return the valid field names of the model found at ``loc`` inside ``root`` (a Scenario)."""
    ann: Any = root or Scenario
    for part in loc:
        try:
            ann, _ = _child_type(ann, str(part))
        except KeyError:
            return []
    ann = _unwrap(ann)
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return sorted(ann.model_fields)
    if typing.get_origin(ann) is dict:
        key_t = typing.get_args(ann)[0]
        if typing.get_origin(key_t) is Literal:
            return sorted(typing.get_args(key_t))
    return []


def _set_path(data: dict, path: str, value: Any) -> None:
    parts = path.split(".")
    node = data
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    if isinstance(node, list):
        node[int(parts[-1])] = value
    else:
        node[parts[-1]] = value


def apply_changes(scenario: Scenario, changes: Mapping[str, Any]) -> Scenario:
    """Return a new Scenario with fields set by dotted path, validated again.

    Parameters
    ----------
    scenario : Scenario
        The scenario to change (it is not modified).
    changes : mapping of str to value
        Dotted path -> new value, e.g.
        ``{"tariffs.electricity.class_surcharge_yuan_per_kwh.D": 0.4}``.

    Returns
    -------
    Scenario
        The changed scenario.

    Raises
    ------
    ScenarioError
        If a path is unknown or a value is invalid.
    """
    data = scenario.model_dump(mode="python")
    for path, value in changes.items():
        try:
            _check_path(Scenario, path, (path,))
        except _LocatedError as exc:
            raise ScenarioError(str(exc), field=path) from None
        _set_path(data, path, copy.deepcopy(value))
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        loc, msg = _describe(exc)
        raise ScenarioError(msg, field=".".join(str(p) for p in loc)) from None


# ----------------------------------------------------------------------- loading


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that records the line of every mapping key and sequence item."""


def _compose_lines(node: yaml.Node, path: tuple, out: dict[tuple, int]) -> None:
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            out[path + (key,)] = key_node.start_mark.line + 1
            _compose_lines(value_node, path + (key,), out)
            out[path + (key,)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _compose_lines(item, path + (i,), out)


def _read_yaml(path: Path, *, referenced_from: tuple[Path, int] | None = None) -> tuple[dict, dict]:
    """Read one YAML file; return (data, {path tuple: line})."""
    where = referenced_from or (path, None)
    if not path.exists():
        raise ScenarioError(f"file not found: {path}", file=where[0], line=where[1],
                            field="extends" if referenced_from else None)
    text = path.read_text(encoding="utf-8")
    if not text.strip():
        raise ScenarioError("file is empty", file=path)
    try:
        node = yaml.compose(text, Loader=_LineLoader)
        data = yaml.load(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(f"not valid YAML: {problem}", file=path,
                            line=mark.line + 1 if mark else None) from None
    if not isinstance(data, dict):
        raise ScenarioError(
            f"a scenario must be a YAML mapping of fields, got {type(data).__name__}", file=path
        )
    lines: dict[tuple, int] = {}
    _compose_lines(node, (), lines)
    return data, lines


def _deep_merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _resolve(path: Path, chain: tuple[Path, ...], ref: tuple[Path, int] | None):
    """Read ``path`` and the files it extends; return (data, provenance)."""
    path = path.resolve()
    if path in chain:
        cycle = " -> ".join(p.name for p in (*chain, path))
        raise ScenarioError(f"extends cycle: {cycle}", file=ref[0] if ref else path,
                            line=ref[1] if ref else None, field="extends")
    data, lines = _read_yaml(path, referenced_from=ref)
    provenance = {k: (path, v) for k, v in lines.items()}
    parent = data.pop("extends", None)
    if parent is None:
        return data, provenance
    if not isinstance(parent, str):
        raise ScenarioError("extends must be a file name", file=path,
                            line=lines.get(("extends",)), field="extends")
    parent_path = (path.parent / parent)
    base, base_prov = _resolve(parent_path, (*chain, path), (path, lines.get(("extends",))))
    # A list in this file replaces the base's: the base's lines inside it are gone too.
    replaced = _list_paths(data)
    merged_prov = {k: v for k, v in base_prov.items()
                   if not any(len(k) > len(r) and k[:len(r)] == r for r in replaced)}
    merged_prov.update(provenance)
    return _deep_merge(base, data), merged_prov


def _list_paths(data: Any, path: tuple = ()) -> list[tuple]:
    """Return the key paths of ``data`` (nested mappings) whose values are lists."""
    if isinstance(data, list):
        return [path]
    if isinstance(data, dict):
        return [p for key, value in data.items() for p in _list_paths(value, (*path, key))]
    return []


def _clean_msg(err: dict) -> str:
    msg = err["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
    if err["type"] not in ("value_error", "missing", "extra_forbidden") and "input" in err:
        inp = err["input"]
        if not isinstance(inp, dict | list):
            msg = f"{msg} (got {inp!r})"
    return msg


def _locate(loc: tuple, provenance: dict, default: Path) -> tuple[Path, int | None]:
    for n in range(len(loc), -1, -1):
        hit = provenance.get(tuple(loc[:n]))
        if hit:
            return hit
    return default, None


def _describe(exc: ValidationError,
              valid_keys: Callable[[tuple], list[str]] | None = None) -> tuple[tuple, str]:
    """Field path and one-line message of the first error of a ValidationError (unknown keys first).

    ``valid_keys(path)`` lists the keys allowed at a path (default: a scenario's),
    for the "did you mean" of an unknown key.
    """
    valid_keys = valid_keys or _valid_keys_at
    errors = exc.errors()
    # An unknown key first: a misspelt key also leaves its real name "missing".
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = tuple(err["loc"])
    ctx_err = (err.get("ctx") or {}).get("error")
    if isinstance(ctx_err, _LocatedError):
        return loc + ctx_err.loc, str(ctx_err)
    if err["type"] == "extra_forbidden":
        return loc, "unknown field" + _did_you_mean(str(loc[-1]), valid_keys(loc[:-1]))
    if err["type"] == "missing":
        return loc, "required field is missing"
    return loc, _clean_msg(err)


def _error_from_validation(exc: ValidationError, provenance: dict, path: Path) -> ScenarioError:
    loc, msg = _describe(exc)
    file, line = _locate(loc, provenance, path)
    return ScenarioError(msg, file=file, line=line, field=".".join(str(p) for p in loc))


def load_scenario(path: str | Path, *, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Load, merge (``extends``) and validate a scenario file.

    Parameters
    ----------
    path : str or Path
        The YAML scenario file.
    overrides : mapping, optional
        Dotted path -> value applied after loading (used by sweeps and ``--seed``).

    Returns
    -------
    Scenario
        The validated, frozen scenario.

    Raises
    ------
    ScenarioError
        Naming the file, line and field of the first problem found.
    """
    path = Path(path)
    data, provenance = _resolve(path, (), None)
    # Paths inside the scenario are relative to the file that names them.
    pop = data.get("population")
    if isinstance(pop, dict):
        _drop_inherited_source_fields(pop, provenance, path)
    if isinstance(pop, dict) and isinstance(pop.get("file"), str):
        origin = provenance.get(("population", "file"), (path.resolve(), None))[0]
        pop["file"] = str((origin.parent / pop["file"]).resolve())
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise _error_from_validation(exc, provenance, path) from None
    if overrides:
        scenario = apply_changes(scenario, overrides)
    return scenario


def _drop_inherited_source_fields(pop: dict, provenance: dict, path: Path) -> None:
    """Drop the fields of the other source that a base file set before this chain changed source.

    A variant that switches a synthetic base to ``source: file`` inherits the
    base's firm counts, which it cannot unset (mappings merge); they were given
    for the base's source, so they are dropped, not refused. A field given
    in the file that sets the source, or in a file extending it, is kept, and
    ``PopulationSpec`` refuses it.
    """
    source = pop.get("source", "synthetic")
    source_at = provenance.get(("population", "source"))
    if not isinstance(source, str) or source not in _SOURCE_ONLY_FIELDS or source_at is None:
        return  # no source chosen (the default), or a wrong one the model reports
    rank = {file: i for i, file in enumerate(_extends_chain(path))}  # 0: the file loaded
    for other, names in _SOURCE_ONLY_FIELDS.items():
        if other == source:
            continue
        for name in names:
            at = provenance.get(("population", name))
            if name in pop and at is not None and rank.get(at[0], 0) > rank.get(source_at[0], 0):
                del pop[name]


def _extends_chain(path: Path) -> list[Path]:
    """Return the scenario file and the files it extends, most derived first (resolved)."""
    chain = [path.resolve()]
    while True:
        data = yaml.safe_load(chain[-1].read_text(encoding="utf-8"))
        parent = data.get("extends") if isinstance(data, dict) else None
        if not isinstance(parent, str):
            return chain
        chain.append((chain[-1].parent / parent).resolve())


def default_scenario_path() -> Path:
    """Path of the embedded default scenario (``baseline.yaml``, shipped with the package)."""
    from importlib.resources import files

    return Path(str(files("simulator") / "scenarios" / "baseline.yaml"))


def json_schema() -> dict:
    """JSON Schema of scenario files (for editors)."""
    schema = Scenario.model_json_schema()
    schema["properties"]["extends"] = {
        "type": "string",
        "description": "a scenario file this one extends (relative path)",
    }
    return schema

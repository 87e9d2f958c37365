"""The ``evaluation`` section: the annual comprehensive evaluation (综合评价).

Indicators and their weights per tier (above-scale, below-scale, services),
benchmarks, how scores become classes A-D (rank shares or score
thresholds), the one-vote veto and bonus points.
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
    Share,
)
from simulator.scenario.errors import LocatedError
from simulator.scenario.evalrules import DeductionSpec, ProjectProtectionSpec, StandardsReviewSpec

__all__ = [
    "BelowIndicator",
    "BonusSpec",
    "ClassShares",
    "ClassThresholds",
    "ClassificationSpec",
    "EvaluationSpec",
    "FixedBenchmarks",
    "Indicator",
    "ServicesIndicator",
    "SteeringSpec",
    "UnitEvaluationSpec",
    "VetoSpec",
]

Indicator = Literal[
    "tax_per_mu", "va_per_mu", "va_per_tce", "va_per_emission", "labour_productivity", "rd_share"
]
BelowIndicator = Literal["tax_per_mu", "tax_per_kwh"]
ServicesIndicator = Literal["tax_per_kwh", "sales_per_kwh", "tax", "sales"]


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


class ClassThresholds(ScenarioModel):
    """Minimum total score for classes A, B and C (below C's is D)."""

    A: NonNeg = 120.0
    B: NonNeg = 90.0
    C: NonNeg = 60.0

    @model_validator(mode="after")
    def _decreasing(self) -> ClassThresholds:
        if not self.A > self.B > self.C:
            raise ValueError("class thresholds must decrease: A > B > C")
        return self


class ClassificationSpec(ScenarioModel):
    """How scores become classes: by rank shares or by score thresholds."""

    method: Literal["shares", "thresholds"] = "shares"
    shares: ClassShares = Field(default_factory=ClassShares)
    thresholds: ClassThresholds = Field(default_factory=ClassThresholds)


class VetoSpec(ScenarioModel):
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


class BonusSpec(ScenarioModel):
    """Bonus points added to the total score."""

    high_tech: NonNeg = 5.0
    listed: NonNeg = 3.0
    brand: NonNeg = 2.0


class FixedBenchmarks(ScenarioModel):
    """Benchmarks per tier for ``benchmark: fixed``, in the indicators' units (rd_share: share)."""

    above_scale: dict[Indicator, Pos] = Field(default_factory=dict)
    below_scale: dict[BelowIndicator, Pos] = Field(default_factory=dict)
    services: dict[ServicesIndicator, Pos] = Field(default_factory=dict)


class SteeringSpec(ScenarioModel):
    """What a region receives follows its evaluation (资源要素差别化配置 between regions).

    Each year a region's share of newly released land, of the class-A awards
    of the recycling fund and of the quota rights allocated to firms is
    ``base_r * (S_r / mean S) ** elasticity``, renormalised to sum to 1, where
    ``S_r`` is its score in the year's region evaluation (a region without a
    score counts at the mean). Totals are unchanged: only the split moves.
    Seed 000 (Shanghai, line 104): new land supply favours the regions and
    firms that use resources efficiently; seed 003 (Chengdu, line 10): new
    construction land and emission totals are allocated across zones.
    """

    enabled: bool = Field(False, description="shares follow the region evaluation")
    elasticity: NonNeg = Field(
        1.0, description="(est) exponent on score / mean score: 0 leaves the base shares, 1 "
                         "gives a region scoring 20% above the mean about 20% more")
    land: bool = Field(True, description="steer the split of new land (dynamics.land)")
    fund: bool = Field(True, description="steer the split of the fund's class-A awards "
                                         "(dynamics.recycling)")
    quotas: bool = Field(True, description="steer the split of the rights allocated to firms "
                                           "in every quota market (at each renewal: yearly for "
                                           "energy, per term for emissions)")
    level: Literal["region", "park"] = Field(
        "region", description="units the fund's awards and the quota rights are split between: "
                              "regions, or parks (by the park evaluation; new land is split "
                              "between regions either way, since a region's parks share its land "
                              "pool)")


class UnitEvaluationSpec(ScenarioModel):
    """Regions (分县域) and parks (分园区) evaluated and ranked as units (seed 000, line 78).

    A unit's indicators are ratios of its firms' sums (tax per mu = the
    region's tax / its land); each is scored as a firm's,
    ``s_i = w_i * min(x_i / b_i, cap)`` with ``b_i`` the benchmark over all
    units, the score is ``100 * sum(s_i) / sum(w_i)``, units are ranked by
    score (1 = best) and graded A-D by score thresholds.
    """

    enabled: bool = Field(False, description="evaluate regions (and parks) every year")
    parks: bool = Field(True, description="also evaluate each park (region, park number)")
    scope: Literal["above_scale", "evaluated"] = Field(
        "above_scale", description="firms whose sums make a unit's aggregates: above-scale "
                                   "industry (as the published 亩均 aggregates, seed 000) or every "
                                   "evaluated industrial firm")
    weights: dict[Indicator, NonNeg] = Field(
        default_factory=lambda: {"tax_per_mu": 30.0, "va_per_mu": 20.0, "va_per_tce": 20.0,
                                 "va_per_emission": 10.0, "labour_productivity": 10.0,
                                 "rd_share": 10.0},
        description="indicator weights (est: the above-scale firms' weights, parameters.md)")
    benchmark: Literal["aggregate", "unit_mean"] = Field(
        "aggregate", description="b_i: the ratio of sums over all units (the whole territory's "
                                 "aggregate) or the plain mean of the units' values")
    grade_thresholds: ClassThresholds = Field(
        default_factory=lambda: ClassThresholds(A=110.0, B=100.0, C=90.0),
        description="(est) minimum score of grades A, B and C (100 = at every benchmark)")
    steering: SteeringSpec = Field(default_factory=SteeringSpec)

    @field_validator("weights")
    @classmethod
    def _positive_total(cls, v: dict[str, float]) -> dict[str, float]:
        if not v or sum(v.values()) <= 0:
            raise ValueError("weights must include at least one positive weight")
        return v

    @model_validator(mode="after")
    def _steering_needs_scores(self) -> UnitEvaluationSpec:
        if self.steering.enabled and not self.enabled:
            raise LocatedError(("steering", "enabled"),
                               "steering follows the region evaluation: set "
                               "evaluation.regions.enabled: true too")
        if self.steering.enabled and self.steering.level == "park" and not self.parks:
            raise LocatedError(("steering", "level"),
                               "steering between parks follows the park evaluation: set "
                               "evaluation.regions.parks: true too")
        return self


class EvaluationSpec(ScenarioModel):
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
    # issue 19: evaluation rules (simulator/scenario/evalrules.py)
    project_protection: ProjectProtectionSpec = Field(
        default_factory=ProjectProtectionSpec,
        description="large projects under construction are not put in D (off by default)")
    protection_excludes_penalised: bool = Field(
        False, description="vetoed or downgraded firms lose the protection from D (Changle "
                           "2023: 除一票否决情况外不列入D类)")
    deductions: DeductionSpec = Field(
        default_factory=DeductionSpec,
        description="deduction and downgrade items drawn per firm and year (off by default)")
    standards_review: StandardsReviewSpec = Field(
        default_factory=StandardsReviewSpec,
        description="existing firms failing the entry standards are capped (off by default)")
    unrated_as_b: bool = Field(
        False, description="firms not evaluated are managed (priced, financed) as class B "
                           "(未参评企业参照B类管理)")
    regions: UnitEvaluationSpec = Field(
        default_factory=UnitEvaluationSpec,
        description="regions and parks evaluated and ranked as units (分县域、分园区)")

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
                    raise LocatedError(("fixed_benchmarks", tier),
                                       f"benchmark missing for {', '.join(missing)}")
        return self

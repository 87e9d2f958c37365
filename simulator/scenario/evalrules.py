"""Further evaluation rules (``evaluation`` section): protection, deductions, standards.

The evaluation rules the seed documents and county notices list besides
scores and classes, each off (or neutral) by default:

* :class:`ProjectProtectionSpec`: large projects under construction
  (重大项目建设期) are not put in D (Changle 2023);
* :class:`DeductionSpec`: deduction and downgrade items (扣分/降级): safety and
  environmental incidents and credit (失信) records drawn at yearly rates;
* :class:`StandardsReviewSpec`: existing firms measured against the entry
  standards of new land (存量企业对标准入标准) at review, capped at a class.

Sources and estimates are in each field's description and in
``docs/explanation/evaluation-rules.md``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from simulator.scenario.base import NonNeg, ScenarioModel, Share

__all__ = [
    "CreditRecord",
    "DeductionItem",
    "DeductionSpec",
    "EnvironmentalIncident",
    "ProjectProtectionSpec",
    "SafetyIncident",
    "StandardsReviewSpec",
]

ClassLetter = Literal["A", "B", "C", "D"]


class ProjectProtectionSpec(ScenarioModel):
    """Large projects under construction (重大项目建设期) are not put in D.

    A firm counts while it builds or ramps up a large project: an entrant in
    its first ``entrant_years`` years, or (with ``projects_under_way``) a
    firm with an investment project under way, in both cases when the firm's
    fixed investment (``dynamics.entry.investment_wan_yuan_per_wan_yuan_va``
    times its VA at full output, the figure the entry standards test) is at
    least ``min_investment_wan_yuan``. Source of the rule: Changle county
    2023 (新设立企业、上年度“小升规”企业和重大项目建设期内企业, 除一票否决情况外不列入D类).
    """

    enabled: bool = Field(False, description="protect large projects under construction from D")
    min_investment_wan_yuan: NonNeg = Field(
        10_000.0,
        description="fixed investment from which a project is large, 万元 (est: 1亿元, a "
                    "county's major-project line; Zhejiang's provincial major projects start "
                    "at 10亿元 for manufacturing, 千项万亿 standard)")
    entrant_years: Annotated[int, Field(ge=0, le=50)] = Field(
        2, description="years after entry an entrant is under construction or ramping up "
                       "(src: Huai'an 2024 leaves new firms under 2 years of production unrated)")
    projects_under_way: bool = Field(
        True, description="a firm with an investment project under way also counts (est: "
                          "project capex is not recorded per project, so the firm's size "
                          "decides whether it is large)")


class DeductionItem(ScenarioModel):
    """One deduction or downgrade item: a yearly rate per firm and what it costs."""

    probability_per_year: Share = Field(0.0, description="chance a firm has the item in a year")
    points: NonNeg = Field(0.0, description="points deducted from the total score before ranking")
    downgrade_classes: Annotated[int, Field(ge=0, le=3)] = Field(
        0, description="classes the firm is moved down after classification (降档)")
    at_best: ClassLetter = Field(
        "A", description="best class the firm may then have ('A': no limit; 'D': put in D)")


class SafetyIncident(DeductionItem):
    """General safety accident or safety penalty (一般生产安全事故, 安全生产行政处罚).

    Rate est 2% of firms a year; est 5 points; one class down (analogue: the
    Liaocheng 2013 safety rating moves a firm one grade down for two safety
    penalties in a year, two grades for a general accident).
    """

    probability_per_year: Share = Field(0.02, description="chance a firm has the item in a year")
    points: NonNeg = Field(5.0, description="points deducted from the total score before ranking")
    downgrade_classes: Annotated[int, Field(ge=0, le=3)] = Field(
        1, description="classes the firm is moved down after classification (降档)")


class EnvironmentalIncident(DeductionItem):
    """Environmental administrative penalty (环境违法行政处罚).

    Rate est 5% of firms a year; 3 points (Sichuan 2019 corporate environmental
    credit scoring: 3 points per penalty of up to 5万元); no downgrade.
    """

    probability_per_year: Share = Field(0.05, description="chance a firm has the item in a year")
    points: NonNeg = Field(3.0, description="points deducted from the total score before ranking")


class CreditRecord(DeductionItem):
    """Serious dishonesty record (列入严重失信主体名单).

    Rate est 1% of firms a year; no points; est at best C, as under the
    one-vote veto.
    """

    probability_per_year: Share = Field(0.01, description="chance a firm has the item in a year")
    at_best: ClassLetter = Field(
        "C", description="best class the firm may then have ('A': no limit; 'D': put in D)")


class DeductionSpec(ScenarioModel):
    """Deduction and downgrade items (扣分/降级), drawn per firm and year.

    Each item is drawn independently per firm (its own random stream keyed by
    firm id, so the run's other draws are unchanged). Points are subtracted
    before ranking; downgrades and ``at_best`` apply after classification and
    the veto. Counties set these items themselves (Shandong 鲁政字〔2019〕235号:
    可设立加分或扣分项; Huai'an 2024: 减分项由各县(区)自行设置), so the defaults
    are estimates.
    """

    enabled: bool = Field(False, description="draw deduction and downgrade items")
    safety_incident: SafetyIncident = Field(
        default_factory=SafetyIncident,
        description="general safety accident or penalty: est 2%/year, est 5 points, one class "
                    "down (Liaocheng 2013 safety rating analogue)")
    environmental_incident: EnvironmentalIncident = Field(
        default_factory=EnvironmentalIncident,
        description="environmental penalty: est 5%/year, 3 points (Sichuan 2019 environmental "
                    "credit scoring)")
    credit_record: CreditRecord = Field(
        default_factory=CreditRecord,
        description="serious dishonesty record: est 1%/year, est at best C")

    def items(self) -> dict[str, DeductionItem]:
        """Return the items by output name (``safety``, ``environment``, ``credit``)."""
        return {"safety": self.safety_incident, "environment": self.environmental_incident,
                "credit": self.credit_record}


class StandardsReviewSpec(ScenarioModel):
    """Existing firms measured against the entry standards (存量企业对标准入标准).

    At each evaluation an evaluated industrial firm whose year fails one of
    the checked entry standards of ``dynamics.entry.standards`` (tax per mu
    below the minimum; energy per 万元 VA or emissions of a pollutant per 万元
    VA above the maximum) is put no higher than ``at_best``. Investment per mu
    is a standard for new land only and is not checked. Source: seed 000
    (Zhejiang: 完善市场准入标准 ... 逐步建立相应的倒逼机制, entry standards
    as the yardstick of the evaluation); the class is est.
    """

    enabled: bool = Field(False, description="cap firms failing the entry standards at review")
    at_best: Literal["B", "C", "D"] = Field(
        "C", description="best class a failing firm may have (est: C, out of the A/B benefits)")
    check_tax_per_mu: bool = Field(True, description="check the minimum tax per mu")
    check_energy: bool = Field(True, description="check the maximum energy per 万元 VA")
    check_emissions: bool = Field(True, description="check the maximum emissions per 万元 VA")

"""Parts of the ``tariffs`` section for the prices of issue 19: rationing, water rights, credit.

Orderly power use in shortage months (有序用电), water quotas by class with relief for
water-saving firms (以水定产, 节水型企业), and surcharges by environmental credit rating
(环保信用评价). Each is off or neutral by default.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from simulator.scenario.base import ClassValues, NonNeg, ScenarioModel, Share

__all__ = [
    "CREDIT_RATINGS",
    "CreditValues",
    "EnvironmentalCredit",
    "OrderlyPowerUse",
    "WaterRights",
    "WaterSaving",
]

#: Environmental credit ratings, best first (江苏 环保信用评价: 绿 蓝 黄 红 黑).
CREDIT_RATINGS: tuple[str, ...] = ("green", "blue", "yellow", "red", "black")

Month = Annotated[int, Field(ge=1, le=12)]


class OrderlyPowerUse(ScenarioModel):
    """Orderly power use (有序用电): supply cut in shortage months, low classes first."""

    enabled: bool = Field(False, description="cut electricity supply in shortage months (off "
                                             "by default)")
    years: list[int] = Field(
        default_factory=list, description="years with a shortage (every month in `months` "
        "of these years is a shortage month)")
    yearly_probability: Share = Field(
        0.0, description="besides `years`, the probability that a year has a shortage, drawn "
        "each year from its own random stream (est: 0 by default)")
    months: list[Month] = Field(
        default_factory=lambda: [7, 8], description="months of a shortage year that are cut "
        "(est: the summer peak; Zhejiang's 2004 and 2011 shortages ran from spring into "
        "August)")
    depth_share: Share = Field(
        0.05, description="share of the industrial firms' electricity demand in a shortage "
        "month that must be cut (est)")
    order: list[Literal["A", "B", "C", "D"]] = Field(
        default_factory=lambda: ["D", "C", "B", "A"], description="classes in the order they "
        "are cut: each is cut up to its max_cut_share before the next one is touched (est: "
        "有序用电管理办法 orders users by priority, 有保有限; in 2021 Liaoning put cement clinker "
        "first, thepaper.cn newsDetail_forward_14817458, and Zhejiang stopped high-energy "
        "printing-dyeing and chemical firms, cls.cn/detail/839462; no notice found that "
        "orders by 亩均 class)")
    max_cut_share: ClassValues = Field(
        default_factory=lambda: ClassValues(A=0.0, B=0.3, C=0.5, D=1.0),
        description="largest share of a class's monthly electricity that may be cut (est; A "
        "protected)")
    proportional: bool = Field(
        False, description="ignore `order`: cut every class by the same share (the uniform "
        "rationing a class-blind plan would do)")

    @field_validator("order")
    @classmethod
    def _each_class_once(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("each class may appear only once in the order")
        return v


class WaterSaving(ScenarioModel):
    """Relief for certified water-saving firms (节水型企业) on the water resource fee."""

    certified_share: Share = Field(
        0.0, description="share of industrial firms certified as water-saving (est; 0 by "
        "default)")
    resource_fee_yuan_per_m3: NonNeg = Field(
        0.2, description="water resource fee (水资源费) within the water price, yuan per m^3 "
        "(est: Zhejiang's fee for industry was 0.1-0.3 yuan/m^3)")
    fee_share_paid: Share = Field(
        0.8, description="share of the resource fee a certified firm pays (src: Zhejiang "
        "节水型企业水资源费减征管理办法, from 2021-08-01: provincial water-saving firms pay 80%, "
        "benchmark firms 50%; Xinhua 2021-07-29, www.gov.cn/xinwen/2021-07/29/"
        "content_5628228.htm)")
    quota_bonus_share: NonNeg = Field(
        0.0, description="extra water quota of a certified firm, share of its quota (est; 0)")


class WaterRights(ScenarioModel):
    """Water quotas by class (以水定产): each firm's quota scaled by a factor of its class."""

    quota_factor_by_class: ClassValues = Field(
        default_factory=lambda: ClassValues(A=1.0, B=1.0, C=1.0, D=1.0),
        description="multiplier of a firm's water quota by class (neutral 1 by default; seed "
        "000 line 74: 以水定产 water allocation; the levels are est)")
    water_saving: WaterSaving = Field(default_factory=WaterSaving)

    @property
    def active(self) -> bool:
        """Whether quotas or water-saving relief differ from the plain water tariff."""
        return (any(x != 1.0 for x in self.quota_factor_by_class.as_tuple())
                or self.water_saving.certified_share > 0)


class CreditValues(ScenarioModel):
    """One number per environmental credit rating."""

    green: NonNeg = 0.0
    blue: NonNeg = 0.0
    yellow: NonNeg = 0.0
    red: NonNeg = 0.0
    black: NonNeg = 0.0

    def as_tuple(self) -> tuple[float, ...]:
        """Return the values in the order of :data:`CREDIT_RATINGS`."""
        return tuple(getattr(self, r) for r in CREDIT_RATINGS)


class EnvironmentalCredit(ScenarioModel):
    """Prices by environmental credit rating (环保信用评价, Jiangsu's five colours)."""

    enabled: bool = Field(False, description="draw a credit rating per firm and charge its "
                                             "surcharges (off by default)")
    shares: CreditValues = Field(
        default_factory=lambda: CreditValues(green=414, blue=498, yellow=94, red=40,
                                             black=18),
        description="weights of the ratings among firms, normalised (src: Jiangsu 2016, "
        "1,064 nationally monitored firms: green 414, blue 498, yellow 94, red 40, black 18; "
        "hefeicl.com/Credit/2017-07-21/627.html)")
    electricity_surcharge_yuan_per_kwh: CreditValues = Field(
        default_factory=lambda: CreditValues(red=0.05, black=0.10),
        description="surcharge per kWh by rating (src: Jiangsu price bureau, red +0.05, black "
        "+0.10 yuan/kWh; dingqianjf.com/news/show/346/1182621.html)")
    sewage_surcharge_yuan_per_m3: CreditValues = Field(
        default_factory=lambda: CreditValues(red=0.6, black=1.0),
        description="sewage-treatment surcharge per m^3 by rating (src: same, at least 0.6 "
        "for red and 1.0 for black)")

    @model_validator(mode="after")
    def _some_weight(self) -> EnvironmentalCredit:
        if sum(self.shares.as_tuple()) <= 0:
            raise ValueError("the rating shares must not all be 0")
        return self

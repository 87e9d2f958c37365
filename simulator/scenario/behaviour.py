"""The ``behaviour`` section: short-run firm behaviour and the macro paths.

Monthly output shocks, the growth of potential output and of labour
productivity, the autonomous change of energy and emission intensities, and
the macro profit cycle, each by calendar year and in force until the next
listed year.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import Field

from simulator.scenario.base import (
    QUOTAS,
    CalendarYear,
    GrowthRate,
    NonNeg,
    QuotaChanges,
    QuotaValues,
    ScenarioModel,
)

__all__ = ["BehaviourSpec", "ShockSpec"]


class ShockSpec(ScenarioModel):
    """Monthly multiplicative output shock: AR(1) in logs, mean one."""

    sigma: NonNeg = Field(0.05, description="log-sd of the monthly innovation")
    persistence: Annotated[float, Field(ge=0, lt=1)] = 0.6


class BehaviourSpec(ScenarioModel):
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

    def intensity_change(self, year: int,
                         quotas: tuple[str, ...] = QUOTAS) -> tuple[float, ...]:
        """Return the change from ``year - 1`` to ``year`` of each of ``quotas``.

        ``quotas`` are energy and the scenario's pollutants
        (:meth:`Scenario.quota_names`); by default the standard five.
        """
        change = self.intensity_change_per_year.values(quotas)
        for listed in sorted(y for y in self.intensity_change_by_year if y <= year):
            change = self.intensity_change_by_year[listed].over(change, quotas)
        return change

    def labour_productivity_growth(self, year: int) -> float:
        """Return the growth of VA per employee from ``year - 1`` to ``year``."""
        return _in_force(self.labour_productivity_growth_by_year, year, 0.0)


def _in_force(by_year: Mapping[int, float], year: int, before: float) -> float:
    """Return the value of the last listed year up to ``year`` (``before`` if none)."""
    past = [y for y in by_year if y <= year]
    return by_year[max(past)] if past else before

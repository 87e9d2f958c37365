"""Scenario files: YAML -> validated, frozen :class:`Scenario` (pydantic v2).

A scenario is the whole interface between a researcher and the simulator.
Every parameter is a field of the models below, with its unit in the field
name or description. Unknown keys are errors. A variant scenario states only
what differs (``extends: baseline.yaml``; mappings merge deeply, lists and
scalars replace), and a ``timeline`` of dated changes sets any field by its
dotted path from a given month.

Loading errors are raised as :class:`ScenarioError`, whose message names the
file, the line (where YAML gives one) and the field path.

Modules
-------
errors
    :class:`ScenarioError`, located validation errors, "did you mean".
base
    Classes, pollutants and quotas; months; :class:`ScenarioModel`, the base
    of every section; one value per class, pollutant or quota.
population, evaluation, tariffs, markets, behaviour, dynamics
    One scenario section each.
evalrules
    The evaluation's further rules: protection of large projects,
    deduction and downgrade items, the entry standards at review.
root
    :class:`Scenario` itself: run settings, initial state, timeline and the
    checks across sections.
paths, changes
    Dotted field paths; :func:`apply_changes`.
loading
    YAML with line numbers, ``extends:``, :func:`load_scenario`,
    :func:`default_scenario_path`, :func:`json_schema`.
specfiles
    What calibration, sweep and backtest files share (not imported here: it
    reads the metric catalogue).

Every public name of these modules (but ``specfiles``) is importable from
``simulator.scenario``.
"""

from __future__ import annotations

from simulator.scenario.base import (
    CLASSES,
    DEFAULT_POLLUTANTS,
    POLLUTANTS,
    QUOTAS,
    CalendarYear,
    Change,
    ClassValues,
    GrowthRate,
    NonNeg,
    Pollutant,
    PollutantSpec,
    PollutantValues,
    Pos,
    QuotaChanges,
    QuotaValues,
    ScenarioModel,
    Share,
    YearMonth,
    month_index,
    safe_name,
)
from simulator.scenario.behaviour import BehaviourSpec, ShockSpec
from simulator.scenario.changes import apply_changes
from simulator.scenario.dynamics import (
    INVESTMENT_OPTIONS,
    DynamicsSpec,
    EntrySpec,
    EntryStandards,
    ExitRoutesSpec,
    ExitSpec,
    FinanceSpec,
    InvestmentOption,
    InvestmentOptionName,
    LandSpec,
    OptionOverride,
    RecyclingSpec,
)
from simulator.scenario.errors import LocatedError, ScenarioError, describe, did_you_mean
from simulator.scenario.evalrules import (
    CreditRecord,
    DeductionItem,
    DeductionSpec,
    EnvironmentalIncident,
    ProjectProtectionSpec,
    SafetyIncident,
    StandardsReviewSpec,
)
from simulator.scenario.evaluation import (
    BelowIndicator,
    BonusSpec,
    ClassificationSpec,
    ClassShares,
    ClassThresholds,
    EvaluationSpec,
    FixedBenchmarks,
    Indicator,
    ServicesIndicator,
    SteeringSpec,
    UnitEvaluationSpec,
    VetoSpec,
)
from simulator.scenario.loading import (
    default_scenario_path,
    json_schema,
    load_scenario,
    locate,
    read_yaml,
)
from simulator.scenario.markets import (
    AllocationSpec,
    CapSpec,
    EmissionMarketSpec,
    EnergyMarketSpec,
    IntensityFactor,
    MacSpec,
    MarketsSpec,
    PriceBlock,
    PriceBounds,
    QuotaMarketSpec,
    ReserveRelease,
    ReserveSpec,
    SubscriptionSpec,
)
from simulator.scenario.paths import check_path, set_path, valid_keys_at
from simulator.scenario.population import (
    SOURCE_ONLY_FIELDS,
    CalibrationTargets,
    DispersionSpec,
    LognormalSpec,
    PopulationSpec,
    RegionSpec,
    SectorSpec,
)
from simulator.scenario.root import (
    InitialStateSpec,
    OutputSettings,
    RunSettings,
    Scenario,
    TimelineChange,
    YearsRange,
    scenario_keys,
)
from simulator.scenario.tariffs import (
    Block,
    ElectricityTariff,
    Escalation,
    LandTax,
    PollutionCharge,
    Subsidies,
    Tariffs,
    TieredSchedule,
    TimeOfUse,
    WaterBlock,
    WaterTariff,
)

__all__ = [
    "CLASSES",
    "DEFAULT_POLLUTANTS",
    "INVESTMENT_OPTIONS",
    "POLLUTANTS",
    "QUOTAS",
    "SOURCE_ONLY_FIELDS",
    "AllocationSpec",
    "BehaviourSpec",
    "BelowIndicator",
    "Block",
    "BonusSpec",
    "CalendarYear",
    "CalibrationTargets",
    "CapSpec",
    "Change",
    "CreditRecord",
    "ClassShares",
    "ClassThresholds",
    "ClassValues",
    "ClassificationSpec",
    "DeductionItem",
    "DeductionSpec",
    "DispersionSpec",
    "DynamicsSpec",
    "ElectricityTariff",
    "EmissionMarketSpec",
    "EnergyMarketSpec",
    "EntrySpec",
    "EnvironmentalIncident",
    "EntryStandards",
    "Escalation",
    "EvaluationSpec",
    "ExitRoutesSpec",
    "ExitSpec",
    "FinanceSpec",
    "FixedBenchmarks",
    "GrowthRate",
    "Indicator",
    "InitialStateSpec",
    "IntensityFactor",
    "InvestmentOption",
    "InvestmentOptionName",
    "LandSpec",
    "LandTax",
    "LocatedError",
    "LognormalSpec",
    "MacSpec",
    "MarketsSpec",
    "NonNeg",
    "OptionOverride",
    "OutputSettings",
    "Pollutant",
    "PollutantSpec",
    "ProjectProtectionSpec",
    "PollutantValues",
    "PollutionCharge",
    "PopulationSpec",
    "Pos",
    "PriceBlock",
    "PriceBounds",
    "QuotaChanges",
    "QuotaMarketSpec",
    "QuotaValues",
    "RecyclingSpec",
    "RegionSpec",
    "ReserveRelease",
    "ReserveSpec",
    "RunSettings",
    "SafetyIncident",
    "Scenario",
    "ScenarioError",
    "ScenarioModel",
    "SectorSpec",
    "ServicesIndicator",
    "Share",
    "ShockSpec",
    "StandardsReviewSpec",
    "Subsidies",
    "SteeringSpec",
    "SubscriptionSpec",
    "Tariffs",
    "TieredSchedule",
    "TimeOfUse",
    "TimelineChange",
    "UnitEvaluationSpec",
    "VetoSpec",
    "WaterBlock",
    "WaterTariff",
    "YearMonth",
    "YearsRange",
    "apply_changes",
    "check_path",
    "default_scenario_path",
    "describe",
    "did_you_mean",
    "json_schema",
    "load_scenario",
    "locate",
    "month_index",
    "read_yaml",
    "safe_name",
    "scenario_keys",
    "set_path",
    "valid_keys_at",
]

"""The whole scenario (:class:`Scenario`): its sections, its timeline, its identity.

Besides the sections defined in their own modules (``population``,
``evaluation``, ``tariffs``, ``markets``, ``behaviour``, ``dynamics``), a
scenario has a name, a seed, the run's calendar (:class:`RunSettings`), what
a run writes (:class:`OutputSettings`), what it assumes happened before
its first year (:class:`InitialStateSpec`) and a ``timeline`` of dated
changes (:class:`TimelineChange`). The checks that span sections live here:
timeline dates and paths, fields that cannot change during a run, every
state the timeline leads to, and sector names used outside ``population``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field, ValidationError, model_validator

from simulator.scenario.base import (
    DEFAULT_POLLUTANTS,
    INDUSTRIAL_SECTOR_NAME,
    POLLUTANT_NAME,
    SECTOR_NAME,
    PollutantSpec,
    QuotaValues,
    ScenarioModel,
    YearMonth,
    marked_keys,
    month_index,
)
from simulator.scenario.behaviour import BehaviourSpec
from simulator.scenario.dynamics import DynamicsSpec
from simulator.scenario.errors import LocatedError, describe, did_you_mean
from simulator.scenario.evaluation import EvaluationSpec
from simulator.scenario.markets import MarketsSpec
from simulator.scenario.paths import check_path, set_path, valid_keys_at
from simulator.scenario.population import PopulationSpec
from simulator.scenario.tariffs import Tariffs

__all__ = [
    "InitialStateSpec",
    "OutputSettings",
    "RunSettings",
    "Scenario",
    "TimelineChange",
    "YearsRange",
    "scenario_keys",
]


class RunSettings(ScenarioModel):
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


class OutputSettings(ScenarioModel):
    """What a run writes."""

    firm_snapshots: bool = Field(True, description="write firms.parquet (one row per firm-year)")
    monthly_metrics: bool = Field(True, description="write month-level metrics besides annual")
    by_region: bool = Field(
        False, description="also write bills, revenue and quota-market figures by region "
                           "(groups region=<name>; off keeps the default outputs as they were)")


class YearsRange(ScenarioModel):
    """Whole years, drawn per firm uniformly from ``min`` to ``max`` (inclusive)."""

    min: Annotated[int, Field(ge=0, le=50)] = 0
    max: Annotated[int, Field(ge=0, le=50)] = 0

    @model_validator(mode="after")
    def _ordered(self) -> YearsRange:
        if self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class InitialStateSpec(ScenarioModel):
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
            raise LocatedError(("years_in_d", "min"),
                               "a firm in D at the start has been in D at least 1 year")
        for quota, share in self.banked_share_of_allocation.model_dump().items():
            if share < 0:
                raise LocatedError(("banked_share_of_allocation", quota),
                                   f"a banked share cannot be negative, got {share:g}")
        return self


#: Fields a timeline change may not set at all: what the run is.
_RUN_IDENTITY: tuple[str, ...] = ("timeline", "run", "population", "name", "seed",
                                  "initial_state", "pollutants")

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


class TimelineChange(ScenarioModel):
    """From ``date`` on, set fields by dotted path."""

    date: YearMonth
    set: dict[str, Any]


class Scenario(ScenarioModel):
    """A whole scenario: the run, the firms, the evaluation, the prices and the timeline."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    seed: Annotated[int, Field(ge=0)] = 20170101
    run: RunSettings = Field(default_factory=RunSettings)
    output: OutputSettings = Field(default_factory=OutputSettings)
    pollutants: dict[str, PollutantSpec] = Field(
        default_factory=dict,
        description="further pollutants under total-emission control besides the four standard "
                    "ones (cod, nh3n, so2, nox), e.g. vocs; each with its values in the "
                    "sections that take one per pollutant")
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
                raise LocatedError(
                    ("timeline", i, "date"),
                    f"date {change.date} is outside the run ({self.run.start} to {self.run.end})",
                )
            for path in change.set:
                check_path(Scenario, path, ("timeline", i, "set", path))
            fixed = [p for p in change.set if p.split(".")[0] in _RUN_IDENTITY]
            if fixed:
                raise LocatedError(
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
            raise LocatedError(loc, f"the cap follows cap.index_by_year to {max(index)}; "
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
                set_path(data, path, copy.deepcopy(value))
            now = _fixed_values(data)
            for field in sorted(set(start) | set(now)):
                if start.get(field) != now.get(field):
                    path = next((p for p in change.set if _covers(p, field)),
                                next(iter(change.set)))
                    raise LocatedError(("timeline", i, "set", path),
                                       f"this field cannot change during a run ({field} is "
                                       "fixed at the start)")
            try:
                Scenario.model_validate(data)
            except ValidationError as exc:
                loc, msg = describe(exc, scenario_keys)
                field = ".".join(str(x) for x in loc)
                # The change's path that the error is in (or that contains it), else its first.
                path = next((p for p in change.set if _covers(p, field)), next(iter(change.set)))
                raise LocatedError(("timeline", i, "set", path),
                                   f"from {change.date}, {field}: {msg}") from None

    @model_validator(mode="after")
    def _cap_years(self) -> Scenario:
        markets = [("energy", self.markets.energy)] + [
            (f"emissions.{p}", m) for p, m in self.markets.emissions.items()]
        for name, market in markets:
            for year in market.cap.yearly:
                if not self.run.first_year <= year < self.run.first_year + self.run.n_years:
                    raise LocatedError(("markets", *name.split("."), "cap", "yearly", year),
                                       f"year {year} is outside the run")
        return self

    @model_validator(mode="after")
    def _named_keys(self) -> Scenario:
        """Every key that names a sector or a pollutant, wherever it is, names a known one."""
        known = {SECTOR_NAME: (list(self.population.sectors), "sector"),
                 INDUSTRIAL_SECTOR_NAME: ([k for k, v in self.population.sectors.items()
                                           if v.kind == "industrial"], "industrial sector"),
                 POLLUTANT_NAME: (list(self.pollutant_names()), "pollutant")}
        for name, spec in self.pollutants.items():
            if not name.isidentifier() or name != name.lower() or name == "energy":
                raise LocatedError(("pollutants", name), f"a pollutant's name is a lower-case "
                                   f"identifier other than 'energy', got {name!r}")
            if name in DEFAULT_POLLUTANTS:
                raise LocatedError(("pollutants", name), f"{name!r} is one of the four standard "
                                   "pollutants already (declare further ones here)")
            if not (spec.label and spec.label_zh):
                raise LocatedError(("pollutants", name), "a further pollutant gives its names "
                                   "(label and label_zh)")
            if self.tariffs.pollution.equivalent_kg.values((name,))[0] <= 0:
                raise LocatedError(("tariffs", "pollution", "equivalent_kg", name),
                                   f"the pollution equivalent of {name!r} (kg) is missing; "
                                   "it must be above 0")
        for loc, marker, keys in marked_keys(self):
            names, what = known[marker]
            for key in keys:
                if key not in names:
                    hint = did_you_mean(key, names)
                    if not hint and marker == POLLUTANT_NAME:
                        listed = ", ".join(repr(n) for n in names[:-1])
                        hint = (f" (the scenario's pollutants are {listed} or {names[-1]!r}; "
                                "declare a further one in pollutants)")
                    raise LocatedError((*loc, key), f"unknown {what} {key!r}{hint}")
        return self

    def pollutant_names(self) -> tuple[str, ...]:
        """Return the pollutants, in the order of every array: the four, then further ones."""
        return (*DEFAULT_POLLUTANTS, *self.pollutants)

    def pollutant_specs(self) -> dict[str, PollutantSpec]:
        """Return every pollutant's spec (the four standard ones' and the further ones')."""
        return {**{k: PollutantSpec(**v) for k, v in DEFAULT_POLLUTANTS.items()},
                **self.pollutants}

    def quota_names(self) -> tuple[str, ...]:
        """Return the tradeable quotas: energy, then the pollutants."""
        return ("energy", *self.pollutant_names())

    @model_validator(mode="after")
    def _land_grades_have_rates(self) -> Scenario:
        grades = len(self.population.land_grade_shares)
        rates = len(self.tariffs.land_tax.rate_yuan_per_m2_year_by_grade)
        if grades > rates:
            raise LocatedError(
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


def scenario_keys(loc: tuple) -> list[str]:
    """Return the valid field names at ``loc`` inside a :class:`Scenario` (for "did you mean")."""
    return valid_keys_at(loc, Scenario)

"""What every section of a scenario is built from.

The evaluation classes, pollutants and quotas in the order of every array;
calendar months (``YYYY-MM``) and :func:`month_index`; the base model of
every scenario section (:class:`ScenarioModel`: unknown keys are errors,
values are frozen, validated and finite); the constrained number types
(``NonNeg``, ``Pos``, ``Share``...); and the small value groups used across
sections: one number per class (:class:`ClassValues`), per pollutant
(:class:`PollutantValues`) or per quota (:class:`QuotaValues`,
:class:`QuotaChanges`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Annotated, Any, ClassVar, Literal, get_args, get_origin

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

__all__ = [
    "CLASSES",
    "DEFAULT_POLLUTANTS",
    "INDUSTRIAL_SECTOR_NAME",
    "POLLUTANT_NAME",
    "POLLUTANTS",
    "QUOTAS",
    "CalendarYear",
    "Change",
    "ClassValues",
    "GrowthRate",
    "NonNeg",
    "Pollutant",
    "PollutantSpec",
    "PollutantValues",
    "Pos",
    "QuotaChanges",
    "QuotaValues",
    "SECTOR_NAME",
    "ScenarioModel",
    "SectorName",
    "IndustrialSectorName",
    "Share",
    "YearMonth",
    "month_index",
    "safe_name",
    "marked_keys",
]

#: Evaluation classes, best first (A 优先发展类 ... D 倒逼整治类).
CLASSES: tuple[str, ...] = ("A", "B", "C", "D")
#: The four pollutants under total-emission control in the 12th-14th five-year plans, in the
#: order of every array: the default of a scenario's ``pollutants`` (further pollutants, e.g.
#: VOCs, are scenario entries: :class:`PollutantSpec`).
POLLUTANTS: tuple[str, ...] = ("cod", "nh3n", "so2", "nox")

#: Marks the keys of a mapping as sector names of the population (:data:`SectorName`):
#: the scenario checks every such key against ``population.sectors``, wherever the
#: mapping is (a new sector-keyed parameter needs no check of its own).
SECTOR_NAME = "sector name"
#: The same for industrial sectors only (:data:`IndustrialSectorName`).
INDUSTRIAL_SECTOR_NAME = "industrial sector name"
SectorName = Annotated[str, SECTOR_NAME]
IndustrialSectorName = Annotated[str, INDUSTRIAL_SECTOR_NAME]

#: Tradeable quotas: energy-use rights (用能权, tce) and emission rights (排污权, t).
QUOTAS: tuple[str, ...] = ("energy", *POLLUTANTS)
#: Marks the keys of a mapping as pollutant names, checked against ``pollutants``.
POLLUTANT_NAME = "pollutant name"
Pollutant = Annotated[str, POLLUTANT_NAME]

_YEAR_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


def safe_name(text: str) -> str:
    """Return ``text`` usable as a file or directory name: ASCII letters, digits, ``_.-``."""
    return "".join(c if (c.isascii() and c.isalnum()) or c in "_.-" else "_" for c in text)


def _parse_year_month(value: Any) -> str:
    """Return a month (a date, a year, or ``YYYY-M``/``YYYY-MM``) as ``YYYY-MM``."""
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


class ScenarioModel(BaseModel):
    """Base of every scenario section: unknown keys are errors; values frozen and finite."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True,
                              allow_inf_nan=False)  # a finite number wherever one is asked


NonNeg = Annotated[float, Field(ge=0)]
CalendarYear = Annotated[int, Field(ge=1900, le=2200)]
GrowthRate = Annotated[float, Field(ge=-0.5, le=0.5)]  # a yearly change, as a share
Share = Annotated[float, Field(ge=0, le=1)]
Pos = Annotated[float, Field(gt=0)]


class ClassValues(ScenarioModel):
    """One number per evaluation class A-D."""

    A: NonNeg = 0.0
    B: NonNeg = 0.0
    C: NonNeg = 0.0
    D: NonNeg = 0.0

    def as_tuple(self) -> tuple[float, float, float, float]:
        """Return (A, B, C, D)."""
        return (self.A, self.B, self.C, self.D)


class PollutantSpec(ScenarioModel):
    """A pollutant under total-emission control: where it is discharged, and its names.

    The four standard pollutants are named by the catalogue's locale files; a
    further one gives its names here.
    """

    medium: Literal["water", "air"] = Field(
        description="discharged to water or air (the pollution charge's rate per equivalent)")
    label: str | None = Field(None, description="name in outputs, e.g. VOCs (a further "
                                                "pollutant must give one)")
    label_zh: str | None = Field(None, description="Chinese name, e.g. 挥发性有机物 (a "
                                                   "further pollutant must give one)")


#: The specs of the default pollutants (``pollutants`` of a scenario that names none).
DEFAULT_POLLUTANTS: dict[str, dict[str, str]] = {
    "cod": {"medium": "water"},
    "nh3n": {"medium": "water"},
    "so2": {"medium": "air"},
    "nox": {"medium": "air"},
}


class PollutantValues(ScenarioModel):
    """One number per pollutant: the four standard ones, and any further one declared.

    A pollutant declared in the scenario's ``pollutants`` besides the four is
    a further key (e.g. ``vocs: 1.0e-4``); the scenario checks every key
    against ``pollutants``. A pollutant not given is 0.
    """

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, NonNeg]
    #: The further keys are pollutant names (checked by the scenario).
    extra_keys: ClassVar[str] = POLLUTANT_NAME

    cod: NonNeg = 0.0
    nh3n: NonNeg = 0.0
    so2: NonNeg = 0.0
    nox: NonNeg = 0.0

    def as_tuple(self) -> tuple[float, float, float, float]:
        """Return (cod, nh3n, so2, nox)."""
        return (self.cod, self.nh3n, self.so2, self.nox)

    def values(self, names: tuple[str, ...], default: float = 0.0) -> tuple[float, ...]:
        """Return the values of the pollutants ``names``, in that order.

        A further pollutant not given here is ``default`` (0; an upper limit
        passes ``inf``: no limit).
        """
        return _values(self, names, default)


Change = Annotated[float, Field(gt=-0.5, lt=0.5)]  # a signed yearly change, as a share


class QuotaValues(ScenarioModel):
    """One signed share per quota: energy and the controlled pollutants (further ones too)."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, Change]
    extra_keys: ClassVar[str] = POLLUTANT_NAME

    energy: Change = 0.0
    cod: Change = 0.0
    nh3n: Change = 0.0
    so2: Change = 0.0
    nox: Change = 0.0

    def as_tuple(self) -> tuple[float, float, float, float, float]:
        """Return (energy, cod, nh3n, so2, nox)."""
        return (self.energy, self.cod, self.nh3n, self.so2, self.nox)

    def values(self, names: tuple[str, ...]) -> tuple[float, ...]:
        """Return the values of the quotas ``names``, in that order (0 if not given)."""
        return _values(self, names, 0.0)


class QuotaChanges(ScenarioModel):
    """Signed shares for some quotas: the quotas left out keep the value in force."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, Change | None]
    extra_keys: ClassVar[str] = POLLUTANT_NAME

    energy: Change | None = None
    cod: Change | None = None
    nh3n: Change | None = None
    so2: Change | None = None
    nox: Change | None = None

    def over(self, values: tuple[float, ...],
             names: tuple[str, ...] = ("energy", *POLLUTANTS)) -> tuple[float, ...]:
        """Return ``values`` (of the quotas ``names``) with the quotas given here replaced."""
        extra = self.model_extra or {}
        mine = (getattr(self, n) if n in type(self).model_fields else extra.get(n)
                for n in names)
        return tuple(v if m is None else m for v, m in zip(values, mine, strict=True))


def _values(model: BaseModel, names: tuple[str, ...], default: float) -> tuple[float, ...]:
    """Return ``model``'s values of ``names``: its fields, or its further keys (else default)."""
    fields = type(model).model_fields
    extra = model.model_extra or {}
    return tuple(float(getattr(model, n)) if n in fields
                 else float(default if extra.get(n) is None else extra[n]) for n in names)


def marked_keys(model: BaseModel, loc: tuple = ()) -> Iterator[tuple[tuple, str, list[str]]]:
    """Yield (location, marker, keys) of every mapping within ``model`` whose keys are names.

    A mapping's keys are names of sectors or pollutants when its key type is
    :data:`SectorName`, :data:`IndustrialSectorName` or :data:`Pollutant`
    (the marker says which), and so are the further keys of a model that
    allows them (``extra_keys``, e.g. :class:`PollutantValues`); the walk goes
    through nested sections, mappings and lists.
    """
    marker = getattr(type(model), "extra_keys", None)
    if marker is not None and model.model_extra:
        yield loc, marker, list(model.model_extra)
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        here = (*loc, name)
        marker = _key_marker(field.annotation)
        if marker is not None and isinstance(value, Mapping):
            yield here, marker, list(value)
        yield from _within(value, here)


def _within(value: Any, loc: tuple) -> Iterator[tuple[tuple, str, list[str]]]:
    if isinstance(value, BaseModel):
        yield from marked_keys(value, loc)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _within(item, (*loc, key))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _within(item, (*loc, i))


def _key_marker(annotation: Any) -> str | None:
    """Return the name marker of a mapping type's keys (None if it has none)."""
    for candidate in (annotation, *get_args(annotation)):  # X, or X | None
        if get_origin(candidate) in (dict, Mapping):
            key = get_args(candidate)[0]
            if get_origin(key) is Annotated:
                for mark in get_args(key)[1:]:
                    if mark in (SECTOR_NAME, INDUSTRIAL_SECTOR_NAME, POLLUTANT_NAME):
                        return mark
    return None

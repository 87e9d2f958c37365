"""Dotted field paths of a model (``tariffs.electricity.class_surcharge_yuan_per_kwh.D``).

A path steps through model fields, mapping keys (checked against a
``Literal`` key type) and list indices. :func:`check_path` checks one
against a model's annotations, :func:`valid_keys_at` lists what may follow a
path (for a "did you mean"), and :func:`set_path` sets a value in a model's
dump. Nothing here knows the scenario: the model is an argument.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel

from simulator.scenario.errors import LocatedError, did_you_mean

__all__ = ["check_path", "default_at", "set_path", "valid_keys_at"]


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
            if getattr(ann, "extra_keys", None) is not None:  # further keys (e.g. a pollutant)
                extra = typing.get_type_hints(ann, include_extras=True)["__pydantic_extra__"]
                return typing.get_args(extra)[1], None
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


def check_path(model: type[BaseModel], path: str, loc: tuple) -> None:
    """Raise LocatedError unless ``path`` names a field of ``model``."""
    ann: Any = model
    for part in path.split("."):
        try:
            ann, _ = _child_type(ann, part)
        except KeyError as exc:
            valid = exc.args[0] if exc.args else []
            hint = did_you_mean(part, valid)
            raise LocatedError(loc, f"unknown field {part!r} in path {path!r}{hint}") from None


def valid_keys_at(loc: tuple, root: type[BaseModel]) -> list[str]:
    """Return the valid field names of the model found at ``loc`` inside ``root``."""
    ann: Any = root
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


def set_path(data: dict, path: str, value: Any) -> None:
    """Set ``value`` at dotted ``path`` of a model dump, making the mappings on the way."""
    parts = path.split(".")
    node = data
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    if isinstance(node, list):
        node[int(parts[-1])] = value
    else:
        node[parts[-1]] = value


def default_at(model: type[BaseModel], path: str) -> Any:
    """Return the schema default of the field at dotted ``path`` of ``model`` (a JSON dump).

    The path steps through model fields, mapping keys and list indices as in
    :func:`check_path`; its last step must be a model field with a default.
    Raises KeyError otherwise.

    >>> from simulator.scenario import Scenario
    >>> default_at(Scenario, "tariffs.gas.enabled")
    False
    >>> default_at(Scenario, "markets.emissions.cod.between_regions")
    'allowed'
    """
    ann: Any = model
    parts = path.split(".")
    for part in parts[:-1]:
        ann, _ = _child_type(ann, part)
    owner = _unwrap(ann)
    if not (isinstance(owner, type) and issubclass(owner, BaseModel)):
        raise KeyError(path)
    field = owner.model_fields.get(parts[-1])
    if field is None or field.is_required():
        raise KeyError(path)
    value = field.get_default(call_default_factory=True)
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else value

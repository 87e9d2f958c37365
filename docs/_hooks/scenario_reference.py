"""The scenario file reference, generated from the scenario schema.

The structure, types, bounds and descriptions come from
``simulator.scenario.json_schema()``; defaults that the schema cannot state
(fields filled by a factory, e.g. a class-by-class table) are read from the
``simulator.scenario.Scenario`` model the schema is made from. Nothing here
is written by hand except the wording of the table headers.
"""

from __future__ import annotations

import json
import typing
from typing import Any

from markdown_text import cell, rst
from pydantic import BaseModel

_TYPES = {"number": "number", "integer": "integer", "string": "string", "boolean": "boolean",
          "null": "null"}


def _models_by_title(root: type[BaseModel]) -> dict[str, type[BaseModel]]:
    """Every pydantic model reachable from ``root``, by its schema title."""
    found: dict[str, type[BaseModel]] = {}

    def visit(tp: Any) -> None:
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            title = tp.model_config.get("title") or tp.__name__
            if title in found:
                return
            found[title] = tp
            for field in tp.model_fields.values():
                visit(field.annotation)
            for base in tp.__mro__[1:]:
                if isinstance(base, type) and issubclass(base, BaseModel) and base is not BaseModel:
                    visit(base)
            return
        for arg in typing.get_args(tp):
            visit(arg)

    visit(root)
    return found


def _anchor(path: str) -> str:
    return "s-" + "".join(c if c.isalnum() else "-" for c in path).strip("-").lower()


def _compact(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return "`" + text.replace("|", "\\|") + "`"


class _Builder:
    def __init__(self) -> None:
        from simulator.scenario import Scenario, json_schema

        self.schema = json_schema()
        self.defs: dict[str, dict] = self.schema.get("$defs", {})
        self.models = _models_by_title(Scenario)
        self.root_model = Scenario
        self.where: dict[str, str] = {}  # definition name -> path of its section
        self.queue: list[tuple[str, str]] = []  # (path, definition name) still to write

    # -- types ---------------------------------------------------------
    def ref_name(self, prop: dict) -> str | None:
        ref = prop.get("$ref")
        return ref.rsplit("/", 1)[-1] if ref else None

    def section_for(self, name: str, path: str) -> str:
        """Where the section of definition ``name`` is: its path, or its name if shared."""
        if name not in self.where:
            self.where[name] = name if self.uses.get(name, 0) > 1 else path
            self.queue.append((self.where[name], name))
        return self.where[name]

    def type_of(self, prop: dict, path: str) -> str:
        name = self.ref_name(prop)
        if name is not None:
            target = self.defs.get(name, {})
            if "properties" in target:
                section = self.section_for(name, path)
                return f"[{name}](#{_anchor(section)})"
            return self.type_of(target, path)
        if "anyOf" in prop:
            options = [o for o in prop["anyOf"] if o.get("type") != "null"]
            nullable = len(options) < len(prop["anyOf"])
            text = " or ".join(self.type_of(o, path) for o in options)
            return text + (" or null" if nullable else "")
        if "enum" in prop:
            return "one of " + ", ".join(f"`{v}`" for v in prop["enum"])
        if "const" in prop:
            return f"`{prop['const']}`"
        kind = prop.get("type")
        if kind == "array":
            items = prop.get("items", {})
            return "list of " + self.type_of(items, path + "[]")
        if kind == "object":
            values = prop.get("additionalProperties")
            keys = prop.get("propertyNames", {})
            key_text = self.type_of(keys, path) if keys else "name"
            if isinstance(values, dict):
                return f"mapping of {key_text} to {self.type_of(values, path + '.<key>')}"
            return "mapping"
        return _TYPES.get(kind, kind or "any")

    @staticmethod
    def bounds(prop: dict) -> str:
        parts = []
        for key, sign in (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"),
                          ("exclusiveMaximum", "<"), ("minItems", "items ≥"),
                          ("maxItems", "items ≤"), ("pattern", "matches")):
            if key in prop:
                parts.append(f"{sign} `{prop[key]}`")
        for option in prop.get("anyOf", []):
            inner = _Builder.bounds(option)
            if inner:
                parts.append(inner)
        return ", ".join(parts)

    # -- defaults ------------------------------------------------------
    def default_of(self, model_name: str, field: str, prop: dict, required: bool) -> str:
        if required:
            return "required"
        if "default" in prop:
            return _compact(prop["default"])
        model = self.models.get(model_name)
        if model is None or field not in model.model_fields:
            return ""
        value = model.model_fields[field].get_default(call_default_factory=True)
        if isinstance(value, BaseModel):
            if not _no_required(type(value)):
                return _compact(value.model_dump(mode="json"))
            changed = _changed(type(value)().model_dump(mode="json"),
                               value.model_dump(mode="json"))
            if not changed:
                return "its fields' defaults"
            return "its fields' defaults, except " + ", ".join(
                f"`{k}: {json.dumps(v, ensure_ascii=False)}`" for k, v in changed)
        if isinstance(value, list) and value and isinstance(value[0], BaseModel):
            return _compact([v.model_dump(mode="json") for v in value])
        try:
            return _compact(value)
        except TypeError:
            return ""

    # -- sections ------------------------------------------------------
    def table(self, model_name: str, model: dict, path: str) -> list[str]:
        required = set(model.get("required", []))
        rows = ["| field | type | default | bounds | description |",
                "|---|---|---|---|---|"]
        for field, prop in model.get("properties", {}).items():
            sub = f"{path}.{field}" if path else field
            description = prop.get("description", "")
            if not description and self.ref_name(prop):
                target = self.defs.get(self.ref_name(prop), {})
                if "properties" not in target:
                    description = target.get("description", "")
            default = self.default_of(model_name, field, prop, field in required)
            rows.append(f"| `{field}` | {self.type_of(prop, sub)} | {default} | "
                        f"{self.bounds(prop)} | {cell(rst(description))} |")
        return rows

    def count_uses(self) -> None:
        """How many fields refer to each definition (shared ones get a section of their own)."""
        def visit(node: Any) -> None:
            if isinstance(node, dict):
                name = self.ref_name(node)
                if name is not None:
                    self.uses[name] = self.uses.get(name, 0) + 1
                for value in node.values():
                    visit(value)
            elif isinstance(node, list):
                for value in node:
                    visit(value)

        visit(self.schema.get("properties", {}))
        for model in self.defs.values():
            visit(model.get("properties", {}))

    def section(self, path: str, name: str) -> list[str]:
        model = self.defs[name]
        title = f"`{path}`" if path != name else name
        out = [f"### {title} {{#{_anchor(path)}}}", ""]
        note = model.get("description", "").strip()
        if path != name:
            out += [f"*{name}*" + (f": {rst(note)}" if note else ""), ""]
        elif note:
            out += [rst(note), ""]
        out += self.table(name, model, path)
        out.append("")
        return out

    def build(self) -> str:
        self.uses: dict[str, int] = {}
        self.count_uses()
        out = [f'### The file {{#{_anchor("scenario")}}}', ""]
        if self.schema.get("description"):
            out += [rst(self.schema["description"]), ""]
        out += self.table("Scenario", self.schema, "")
        out.append("")
        shared: list[tuple[str, str]] = []
        self.expand(out, shared)
        if shared:
            out += ["### Types used in several places {#s-shared}", "",
                    "Sections that several fields share.", ""]
            while shared:
                path, name = shared.pop(0)
                self.queue = []
                out += self.section(path, name)
                self.expand(out, shared)
        return "\n".join(out)

    def expand(self, out: list[str], shared: list[tuple[str, str]]) -> None:
        """Write the queued sections depth first (each followed by its own sub-sections)."""
        pending = self.queue
        self.queue = []
        for path, name in pending:
            if path == name:  # shared: written at the end
                shared.append((path, name))
                continue
            out += self.section(path, name)
            self.expand(out, shared)


def _changed(base: Any, value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Dotted paths (and values) where ``value`` differs from ``base``."""
    if isinstance(base, dict) and isinstance(value, dict) and set(base) == set(value):
        out: list[tuple[str, Any]] = []
        for key in value:
            out += _changed(base[key], value[key], f"{prefix}{key}.")
        return out
    return [] if base == value else [(prefix.rstrip("."), value)]


def _no_required(model: type[BaseModel]) -> bool:
    return all(not f.is_required() for f in model.model_fields.values())


def scenario_reference() -> str:
    """Markdown: one table per section of a scenario file, in the schema's order."""
    return _Builder().build()

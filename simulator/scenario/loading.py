"""Reading scenario files: YAML with line numbers, ``extends:``, validation, the schema.

A file is read with the line of every mapping key and sequence item
(:func:`read_yaml`); a variant that ``extends:`` another is merged into it
(mappings merge deeply, lists and scalars replace: a variant's ``timeline``
replaces its base's) while each field keeps
the file and line it came from, so a validation error names them
(:func:`locate`). :func:`load_scenario` is the entry point;
:func:`default_scenario_path` is the embedded baseline and
:func:`json_schema` the JSON Schema of scenario files (for editors).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from simulator.scenario.changes import apply_changes
from simulator.scenario.errors import ScenarioError, describe
from simulator.scenario.population import SOURCE_ONLY_FIELDS
from simulator.scenario.root import Scenario, scenario_keys

__all__ = ["default_scenario_path", "extends_path", "json_schema", "load_scenario", "locate",
           "read_yaml"]


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that records the line of every mapping key and sequence item."""


def _compose_lines(node: yaml.Node, path: tuple, out: dict[tuple, int]) -> None:
    """Record in ``out`` the line of ``node`` and of every key and item below it."""
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


def read_yaml(path: Path, *, referenced_from: tuple[Path, int] | None = None) -> tuple[dict, dict]:
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
    """Return ``base`` with ``override`` merged in (mappings deeply; lists, scalars replace)."""
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
    data, lines = read_yaml(path, referenced_from=ref)
    provenance = {k: (path, v) for k, v in lines.items()}
    parent = data.pop("extends", None)
    if parent is None:
        return data, provenance
    if not isinstance(parent, str):
        raise ScenarioError("extends must be a file name", file=path,
                            line=lines.get(("extends",)), field="extends")
    parent_path = extends_path(path, parent)
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


def locate(loc: tuple, provenance: dict, default: Path) -> tuple[Path, int | None]:
    """Return the (file, line) of ``loc``, or of its nearest parent that has one."""
    for n in range(len(loc), -1, -1):
        hit = provenance.get(tuple(loc[:n]))
        if hit:
            return hit
    return default, None


def _error_from_validation(exc: ValidationError, provenance: dict, path: Path) -> ScenarioError:
    """Return the ScenarioError of a scenario's first validation error, at its file and line."""
    loc, msg = describe(exc, scenario_keys)
    file, line = locate(loc, provenance, path)
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
    if not isinstance(source, str) or source not in SOURCE_ONLY_FIELDS or source_at is None:
        return  # no source chosen (the default), or a wrong one the model reports
    rank = {file: i for i, file in enumerate(_extends_chain(path))}  # 0: the file loaded
    for other, names in SOURCE_ONLY_FIELDS.items():
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
        chain.append(extends_path(chain[-1], parent).resolve())


def extends_path(path: Path, parent: str) -> Path:
    """Return the file that ``extends: <parent>`` in ``path`` names.

    Relative to ``path``'s directory; a bare file name that is not there but
    is a shipped scenario (``baseline.yaml``, ``small_county.yaml``...) is the
    shipped one, so a variant saved anywhere can extend the embedded baseline.
    """
    here = path.parent / parent
    if here.exists() or Path(parent).name != parent:
        return here
    shipped = default_scenario_path().parent / parent
    return shipped if shipped.is_file() else here


def default_scenario_path() -> Path:
    """Path of the embedded default scenario (``baseline.yaml``, shipped with the package)."""
    from importlib.resources import files

    return Path(str(files("simulator") / "scenarios" / "baseline.yaml"))


def json_schema() -> dict:
    """JSON Schema of scenario files (for editors)."""
    schema = Scenario.model_json_schema()
    schema["properties"]["extends"] = {
        "type": "string",
        "description": "a scenario file this one extends (relative path; a bare name "
                       "such as baseline.yaml not found there is the shipped scenario)",
    }
    return schema

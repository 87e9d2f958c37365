"""Saving the explorer's variant as a scenario file that records only what changed.

The file ``extends:`` the base scenario's file (by a path relative to where
it is saved, so it loads from anywhere) and holds the lever changes as
nested fields, like the variants in ``scenarios/``; a comment at its top
lists the levers moved. :func:`save_variant` writes it atomically and loads
it back to check that it gives the variant.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from simulator.results import atomic_write
from simulator.scenario import Scenario, ScenarioError, apply_changes, load_scenario

__all__ = ["nested_changes", "save_variant", "saved_on", "variant_document"]


def nested_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Return dotted changes as nested mappings (the shape of a scenario file).

    >>> nested_changes({"a.b.C": 1, "a.b.D": 2, "x": 3})
    {'a': {'b': {'C': 1, 'D': 2}}, 'x': 3}
    """
    out: dict[str, Any] = {}
    for path, value in changes.items():
        node = out
        *parents, last = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return out


def _extends(base_file: Path, target: Path) -> str:
    """Return the path of ``base_file`` as ``target`` names it (relative where possible)."""
    base_file, folder = base_file.resolve(), target.resolve().parent
    try:
        return Path(os.path.relpath(base_file, folder)).as_posix()
    except ValueError:  # another drive (Windows): no relative path
        return base_file.as_posix()


def variant_document(*, base_file: Path, target: Path, name: str, description: str,
                     changes: Mapping[str, Any], header: Sequence[str]) -> str:
    """Return the YAML text of a variant file saved at ``target``.

    Parameters
    ----------
    base_file : Path
        The base scenario's file (``extends:`` names it relative to ``target``).
    target : Path
        Where the file will be saved.
    name, description : str
        The variant's ``name`` (it says it is a variant) and ``description``.
    changes : mapping
        Dotted path -> value, as :func:`simulator.explore.levers.lever_changes` gives.
    header : sequence of str
        Comment lines for the top of the file (without ``#``).
    """
    body = {"extends": _extends(base_file, target), "name": name, "description": description,
            **nested_changes(changes)}
    comment = "".join(f"# {line}".rstrip() + "\n" for line in header)
    return comment + yaml.safe_dump(body, allow_unicode=True, sort_keys=False, width=100)


def save_variant(target: str | Path, *, base_file: Path, base: Scenario, name: str,
                 description: str, changes: Mapping[str, Any],
                 header: Sequence[str] = ()) -> Path:
    """Write the variant file at ``target`` atomically, load it back and return its path.

    ``target`` may be a directory (the file is ``<name>.yaml`` in it); a file
    must end in ``.yaml`` or ``.yml`` and must not be the base's own file.

    Raises
    ------
    ScenarioError
        If the name is not a valid scenario name, the target is refused, or the
        file written does not load as the variant (nothing is left then).
    """
    target = Path(target).expanduser()
    if target.is_dir():
        target = target / f"{name}.yaml"
    if target.suffix not in (".yaml", ".yml"):
        raise ScenarioError(f"a scenario file ends in .yaml; got {target.name!r}", file=target)
    if target.resolve() == Path(base_file).resolve():
        raise ScenarioError("this is the base scenario's own file: save the variant under "
                            "another name", file=target)
    text = variant_document(base_file=Path(base_file), target=target, name=name,
                            description=description, changes=changes, header=header)
    # The name is checked here (apply_changes validates it) and compared apart below.
    apply_changes(base, {"name": name})
    expected = apply_changes(base, changes)
    try:
        atomic_write(target, lambda p: p.write_text(text, encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"cannot write the variant: {exc.strerror or exc}",
                            file=target) from None
    try:
        loaded = load_scenario(target)
    except ScenarioError:
        target.unlink(missing_ok=True)
        raise
    identity = {"name", "description"}
    if (loaded.name, loaded.description) != (name, description) \
            or loaded.model_dump(exclude=identity) != expected.model_dump(exclude=identity):
        target.unlink(missing_ok=True)
        raise ScenarioError("the saved file does not load as the variant (removed)", file=target)
    return target


def saved_on() -> str:
    """Return today's date (UTC) as the header of a saved file states it."""
    return datetime.now(UTC).strftime("%Y-%m-%d")

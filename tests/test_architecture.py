"""The layout keeps its rules (docs/architecture.md, "Rules of the layout").

* The calendar (``simulator/engine/calendar.py``) is the only importer of the stages.
* No module imports another module's private (underscore) names.
* No module is over 500 lines and no function over 80, except those listed with a
  reason in the architecture document's table "Larger than the limits"; the table
  lists nothing that is back within the limits.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "simulator"
ARCHITECTURE = ROOT / "docs" / "architecture.md"

#: The engine's and the dynamics' stages: modules of functions on the run's state.
STAGES = {f"simulator.engine.{m}" for m in (
    "setup", "pricing", "production", "billing", "trading", "yearend", "recording",
    "snapshots")} | {f"simulator.dynamics.{m}" for m in (
        "exits", "fund", "invest", "entry", "projects")}
CALENDAR = "simulator.engine.calendar"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _imports(path: Path, module: str) -> list[tuple[str, list[str], int]]:
    """Return (imported module, names, line) for each import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            names = [a.name for a in node.names]
            # ``from package import module`` imports the module
            out.append((base, names, node.lineno))
            out.extend((f"{base}.{n}", [], node.lineno) for n in names
                       if f"{base}.{n}" in MODULES)
        elif isinstance(node, ast.Import):
            out.extend((a.name, [], node.lineno) for a in node.names)
    return out


def test_only_the_calendar_imports_the_stages():
    offenders = []
    for module, path in MODULES.items():
        if module == CALENDAR or module in STAGES:
            continue
        for imported, _, line in _imports(path, module):
            if imported in STAGES:
                offenders.append(f"{path.relative_to(ROOT)}:{line} imports {imported}")
    # Stages do not import each other either.
    for module in STAGES:
        for imported, _, line in _imports(MODULES[module], module):
            if imported in STAGES and imported != module:
                offenders.append(f"{MODULES[module].relative_to(ROOT)}:{line} imports {imported}")
    assert not offenders, "\n".join(offenders)


def test_no_module_imports_another_modules_private_names():
    offenders = []
    for module, path in MODULES.items():
        for imported, names, line in _imports(path, module):
            if not imported.startswith("simulator") or imported == module:
                continue
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private:
                offenders.append(f"{path.relative_to(ROOT)}:{line} imports {private} "
                                 f"from {imported}")
    assert not offenders, "\n".join(offenders)


def _oversized() -> set[str]:
    """Return the modules and functions over the limits, as ``path`` or ``path::name``."""
    out = set()
    for path in MODULES.values():
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(ROOT).as_posix()
        if len(text.splitlines()) > MAX_MODULE_LINES:
            out.add(rel)
        for node in ast.walk(ast.parse(text)):
            if (isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                    and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES):
                out.add(f"{rel}::{node.name}")
    return out


def _listed() -> dict[str, str]:
    """Return the architecture document's exceptions: item -> reason."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    section = text.split("### Larger than the limits", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\|\s*`([^`]+)`\s*\|\s*(\d+)\s*\|\s*(.+?)\s*\|\s*$", section, re.M)
    return {item: reason for item, _, reason in rows}


def test_modules_and_functions_over_the_limits_are_listed_with_a_reason():
    oversized, listed = _oversized(), _listed()
    missing = sorted(oversized - set(listed))
    stale = sorted(set(listed) - oversized)
    assert not missing, f"over the limits and not in docs/architecture.md: {missing}"
    assert not stale, f"listed in docs/architecture.md but within the limits: {stale}"
    assert all(len(reason) > 10 for reason in listed.values())


def test_every_module_is_listed_in_the_architecture_document():
    text = ARCHITECTURE.read_text(encoding="utf-8")
    missing = [str(p.relative_to(PACKAGE)) for p in sorted(PACKAGE.rglob("*.py"))
               if f"`{p.relative_to(PACKAGE).as_posix()}`" not in text]
    assert not missing, f"not in docs/architecture.md: {missing}"


@pytest.mark.parametrize("module", sorted(STAGES))
def test_a_stage_module_says_what_it_does(module):
    doc = ast.get_docstring(ast.parse(MODULES[module].read_text(encoding="utf-8")))
    assert doc, module
    assert doc.startswith("Stage:"), module


@pytest.mark.parametrize(("old", "new"), [
    ("simulator.stats", "simulator.results.stats"),
    ("simulator.executors", "simulator.experiment.executors"),
    ("simulator.resources", "simulator.experiment.resources"),
    ("simulator.backtest", "simulator.calibration.backtest"),
    ("simulator.diagnostics", "simulator.reporting.diagnostics"),
    ("simulator.growth", "simulator.dynamics.growth"),
    ("simulator.land", "simulator.dynamics.land"),
])
def test_a_moved_module_keeps_its_old_path_with_a_deprecation_message(old, new):
    import importlib
    import sys

    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=f"{old} is deprecated.*import {new}"):
        module = importlib.import_module(old)
    assert module is importlib.import_module(new)

"""The documentation builds with warnings as errors and documents what the code has.

The scenario, metric, command-line and Python API references are generated
at build time (docs/_hooks/); these tests build the site once with
``mkdocs build --strict`` and check that each generated page covers the code.
The README's two commands and its length are checked here too; every example
of the README and the site runs in tests/test_docs_examples.py.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
sys.path.insert(0, str(ROOT / "docs" / "_hooks"))

from catalogue import metric_catalogue  # noqa: E402
from cli_reference import _subcommands, cli_parser  # noqa: E402


def test_readme_gives_the_two_commands():
    assert "pip install -e . && python run.py" in README
    assert 'pip install -e ".[test]" && python -m pytest' in README


def test_readme_is_short_and_points_to_the_docs():
    assert len(README.splitlines()) < 200
    assert "mkdocs serve" in README
    assert "mkdocs build --strict" in README


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                           str(out)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def _page(site: Path, name: str) -> str:
    return html.unescape((site / name / "index.html").read_text(encoding="utf-8"))


def test_no_generated_section_is_left_unfilled(site):
    for page in site.rglob("*.html"):
        assert "<!-- generated:" not in page.read_text(encoding="utf-8"), page


def test_every_metric_is_in_the_metric_reference(site):
    text = _page(site, "reference/metrics")
    missing = [name for name, _, _ in metric_catalogue() if f"<code>{name}</code>" not in text]
    assert missing == []


def test_every_command_and_option_is_in_the_cli_reference(site):
    text = _page(site, "reference/cli")
    subs = _subcommands(cli_parser())
    assert len(subs) >= 10
    for name, _, parser in subs:
        assert f'id="cli-{name}"' in text, name
        for action in parser._actions:
            for option in action.option_strings:
                assert option in text, (name, option)


def test_every_section_and_field_of_the_schema_is_in_the_scenario_reference(site):
    from simulator.scenario import json_schema

    schema = json_schema()
    text = _page(site, "reference/scenario")
    models = [schema, *schema["$defs"].values()]
    for model in models:
        for field in model.get("properties", {}):
            assert f"<code>{field}</code>" in text, field
    for name, model in schema["$defs"].items():
        if "properties" in model:
            assert name in text, name


def test_every_public_name_is_in_the_api_reference(site):
    import simulator

    text = _page(site, "reference/python-api")
    for name in simulator.__all__:
        assert f'id="api-{name.lower()}"' in text, name


def test_every_docs_page_is_in_the_navigation():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    docs = ROOT / "docs"
    pages = [p.relative_to(docs).as_posix() for p in docs.rglob("*.md")
             if "_hooks" not in p.parts]
    missing = [p for p in pages if not re.search(rf":\s*{re.escape(p)}\s*$|-\s*{re.escape(p)}\s*$",
                                                 nav, re.M)]
    assert missing == []

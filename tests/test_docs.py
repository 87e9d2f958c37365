"""The README documents what the code produces."""

from __future__ import annotations

from pathlib import Path

from simulator.metrics import METRICS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_metric_is_documented_in_the_readme():
    missing = [name for name in METRICS if f"`{name}`" not in README]
    assert missing == []


def test_readme_gives_the_two_commands():
    assert "pip install -e . && python run.py" in README
    assert 'pip install -e ".[test]" && python -m pytest' in README

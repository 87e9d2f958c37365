"""Policy dates (政策调整时点) of a run or a comparison, marked on the figures' time axes.

A scenario's ``timeline`` lists dated changes (``{date: 2019-01, set: {path:
value}}``). A run directory stores its resolved scenario in ``manifest.json``
(key ``"scenario"``) or ``scenario.yaml``; a comparison stores each scenario as
``scenarios/<name>.yaml``. :func:`policy_dates` reads the changes of any of
these; :func:`~simulator.plots._style.mark_policy_dates` draws them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from simulator.plots._labels import labels_for, parameter_label

__all__ = ["PolicyDate", "experiment_policy_dates", "policy_caption", "policy_dates",
           "run_policy_dates"]


@dataclass(frozen=True)
class PolicyDate:
    """A month in which a scenario's timeline changes something."""

    year: int
    month: int
    text: str  # the date as printed on the axis, e.g. "2019-01" or "2019年1月"
    changes: tuple[tuple[str, str], ...]  # (scenario, dotted path) of each change


def policy_dates(timelines: Mapping[str, Sequence[Mapping[str, Any]]], *,
                 lang: str = "en") -> list[PolicyDate]:
    """Return the months in which any scenario's timeline changes something, in time order.

    Parameters
    ----------
    timelines : mapping of scenario name to timeline
        Each timeline a list of ``{"date": "YYYY-MM", "set": {path: value}}``.
    lang : {"en", "zh"}
        Language of the printed date.

    Returns
    -------
    list of PolicyDate
        One per distinct month, with every (scenario, path) changed then, in
        the order of ``timelines`` and of each change's paths.

    Raises
    ------
    ValueError
        If a date is not ``YYYY-MM``.

    Examples
    --------
    >>> [d.text for d in policy_dates({"strict": [{"date": "2019-01", "set": {"x": 1}}]})]
    ['2019-01']
    """
    labels = labels_for(lang)
    found: dict[tuple[int, int], list[tuple[str, str]]] = {}
    for scenario, timeline in timelines.items():
        for change in timeline or ():
            year, month = _year_month(change.get("date"))
            found.setdefault((year, month), []).extend(
                (scenario, str(path)) for path in (change.get("set") or {}))
    return [PolicyDate(year, month, labels["policy.date"].format(year=year, month=month),
                       tuple(changes))
            for (year, month), changes in sorted(found.items())]


def run_policy_dates(manifest: Mapping[str, Any], run_dir: str | Path, *,
                     lang: str = "en") -> list[PolicyDate]:
    """Return the policy dates of a run: its scenario's timeline (manifest, else scenario.yaml)."""
    scenario = manifest.get("scenario")
    if not isinstance(scenario, Mapping):
        scenario = _read_yaml(Path(run_dir) / "scenario.yaml")
    name = str(scenario.get("name", manifest.get("scenario_name", "")))
    return policy_dates({name: scenario.get("timeline") or []}, lang=lang)


def experiment_policy_dates(exp_dir: str | Path, scenarios: Sequence[str], *,
                            lang: str = "en") -> list[PolicyDate]:
    """Return the policy dates of a comparison: the timelines of ``scenarios/<name>.yaml``."""
    timelines = {name: _read_yaml(Path(exp_dir) / "scenarios" / f"{name}.yaml").get("timeline")
                 or [] for name in scenarios}
    return policy_dates(timelines, lang=lang)


def policy_caption(dates: Sequence[PolicyDate], *, lang: str = "en",
                   name_scenarios: bool = False, most: int = 2) -> str:
    """Return the caption note that explains the dashed lines, "" without dates.

    Each date lists what changed (the first ``most`` parameters' labels, then
    "…"), prefixed by the scenario when ``name_scenarios``.
    """
    if not dates:
        return ""
    labels = labels_for(lang)
    parts = []
    for date in dates:
        by_scenario: dict[str, list[str]] = {}
        for scenario, path in date.changes:
            by_scenario.setdefault(scenario, []).append(parameter_label(path, lang)[0])
        what = []
        for scenario, names in by_scenario.items():
            text = labels["policy.list_sep"].join(dict.fromkeys(names[:most]))
            text += "…" if len(names) > most else ""
            what.append(f"{scenario}: {text}" if name_scenarios else text)
        parts.append(f"{date.text} {labels['policy.list_sep'].join(what)}")
    return labels["policy.caption"].format(changes="; ".join(parts))


def _year_month(value: Any) -> tuple[int, int]:
    text = str(value)
    try:
        year, month = (int(part) for part in text.split("-"))
    except ValueError:
        raise ValueError(f"A timeline date must be YYYY-MM. Got {text!r}.") from None
    if not 1 <= month <= 12:
        raise ValueError(f"A timeline date must be YYYY-MM. Got {text!r}.")
    return year, month


def _read_yaml(path: Path) -> Mapping[str, Any]:
    """Return a stored scenario as a mapping; an empty one when it is missing."""
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, Mapping):
        raise ValueError(f"{path} does not hold a scenario (a YAML mapping).")
    return data

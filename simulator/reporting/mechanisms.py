"""The mechanisms a scenario switches on, and the outputs of theirs a brief shows.

A catalogue entry with ``when: <dotted path>`` is the output of a mechanism that
is off unless a scenario switches it on (gas prices, land contracts, dual
control, exit routes, the evaluation's further rules, regions, trading between
regions...). A switch is on when the scenario's value at that path differs from
the schema's default (``enabled: true`` where the default is false, ``mode:
refuse`` where it is ``off``, a non-empty ``pollutants`` mapping). A brief adds
the outputs of every mechanism on in the scenarios it reports to the indicators
it considers, so a scenario that switches a mechanism on shows what it did.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from simulator import catalogue
from simulator.scenario import Scenario
from simulator.scenario.paths import default_at

__all__ = ["MAX_GROUPS", "mechanism_candidates", "mechanism_metrics", "switched_on"]

#: Most groups of one mechanism output a brief shows when it has no ``all`` group
#: (e.g. ``market=energy``, ``route=merger``).
MAX_GROUPS = 4


def _values_at(data: Any, parts: list[str], path: tuple[str, ...] = ()
               ) -> list[tuple[str, Any]]:
    """Return (concrete path, value) for every match of ``parts`` in ``data``.

    A part ``<name>`` (``markets.<market>.between_regions``) matches any key,
    one level or two deep (``markets.energy``, ``markets.emissions.cod``).
    """
    if not parts:
        return [(".".join(path), data)]
    if not isinstance(data, Mapping):
        return []
    head, rest = parts[0], parts[1:]
    if head.startswith("<") and head.endswith(">"):
        out = []
        for key, child in data.items():
            out += _values_at(child, rest, (*path, str(key)))
            if isinstance(child, Mapping):
                for key2, grandchild in child.items():
                    out += _values_at(grandchild, rest, (*path, str(key), str(key2)))
        return out
    return _values_at(data[head], rest, (*path, head)) if head in data else []


def switched_on(scenario: Mapping[str, Any], when: str) -> bool:
    """Return whether ``scenario`` (a resolved scenario's dump) switches ``when`` on.

    On means the value at the dotted path ``when`` differs from the schema's
    default; a path the scenario does not hold (an older run) is off. A part
    ``<name>`` matches any key (one or two levels), and one match on is enough.

    >>> switched_on({"tariffs": {"gas": {"enabled": True}}}, "tariffs.gas.enabled")
    True
    >>> switched_on({"dynamics": {"dual_control": {"mode": "off"}}}, "dynamics.dual_control.mode")
    False
    >>> switched_on({"markets": {"emissions": {"cod": {"between_regions": "fee"}}}},
    ...             "markets.<market>.between_regions")
    True
    """
    for path, value in _values_at(scenario, when.split(".")):
        try:
            if value != default_at(Scenario, path):
                return True
        except KeyError:
            continue
    return False


def mechanism_metrics(scenarios: Iterable[Mapping[str, Any]]) -> list[str]:
    """Return the metrics of the mechanisms any of ``scenarios`` switches on, catalogue order."""
    datas = [s for s in scenarios if s]
    return [e.name for e in catalogue.entries("metric")
            if e.when and any(switched_on(s, e.when) for s in datas)]


def mechanism_candidates(scenarios: Iterable[Mapping[str, Any]],
                         available: Iterable[tuple[str, str]],
                         exclude: Sequence[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    """Return the (metric, group) pairs of the switched-on mechanisms a brief should consider.

    Parameters
    ----------
    scenarios : iterable of mapping
        The resolved scenarios (dumps) the brief reports.
    available : iterable of (metric, group)
        The pairs the results hold.
    exclude : sequence of (metric, group)
        Pairs the brief already considers.

    Returns
    -------
    list of (metric, group)
        Each switched-on metric's ``all`` group if recorded, else its first
        :data:`MAX_GROUPS` groups (sorted), in catalogue order.
    """
    groups: dict[str, list[str]] = {}
    for metric, group in available:
        groups.setdefault(metric, []).append(group)
    skip = set(exclude)
    out: list[tuple[str, str]] = []
    for metric in mechanism_metrics(scenarios):
        present = sorted(set(groups.get(metric, ())))
        chosen = ["all"] if "all" in present else present[:MAX_GROUPS]
        out.extend((metric, g) for g in chosen if (metric, g) not in skip)
    return out

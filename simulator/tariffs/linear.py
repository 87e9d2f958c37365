"""The registry of further linear tariffs: charges on a share of each firm's energy use.

Electricity and the pollution charge are built into the billing (their bills
have capacity charges, national and tiered prices, one rate per pollutant).
Any further charge that is linear in a carrier of the energy a firm uses
(gas is the first; coal or steam would be others), at a price that depends on
its class, is a :class:`LinearTariff` registered here by its own module; the
engine bills every registered tariff that a scenario switches on in the same
way:

* in each billing period, ``bill(energy used x units per tce)`` (the flush;
  the energy includes the corrections of abatement within the period): year-to-date
  ``<name>_bill_yuan`` and ``<name>_surcharge_yuan``; the class surcharge is a
  cost to profit (the base price is in the firm's margin, as for electricity);
* in the unit cost the firm's output responds to (price per unit x units per tce x
  energy per 万元 VA) and in the unit cost of potential output (its base price);
* in the metrics ``<name>_bill_yuan`` and ``revenue_<name>_class_surcharge_yuan``
  (both in the catalogue), in the resource bill and the differential revenue,
  and in the firm snapshots.

A new tariff is one module in :mod:`simulator.tariffs` that calls
:func:`register`, its parameters in the scenario's ``tariffs`` section (with
``enabled``), and its two metrics in the catalogue (docs/architecture.md,
"Worked example: a gas price differentiated by class").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["LinearBill", "LinearTariff", "active", "register", "registered"]


@dataclass(frozen=True, slots=True, eq=False)
class LinearBill:
    """One period's bill per firm, yuan: ``total_yuan = base_yuan + class_surcharge_yuan``."""

    base_yuan: np.ndarray
    class_surcharge_yuan: np.ndarray
    total_yuan: np.ndarray


@dataclass(frozen=True)
class LinearTariff:
    """A charge linear in the units of one energy carrier each firm uses per tce of energy."""

    name: str
    """Its name: the prefix of its year-to-date sums, metrics and snapshot columns."""
    unit: str
    """Unit of the quantity billed (e.g. ``m3``)."""
    spec: Callable[[Any], Any]
    """The tariff's parameters in a scenario's ``tariffs`` section (with ``enabled``)."""
    per_tce: Callable[[Any, Any, list[str]], np.ndarray]
    """``per_tce(firms, spec, sector_names)``: units billed per tce of energy, per firm."""
    bill: Callable[..., LinearBill]
    """``bill(quantity, klass=..., params=spec)``: the bill of a period's quantity."""

    @property
    def ytd_keys(self) -> tuple[str, str]:
        """Return the year-to-date sums it writes: the bill and its class surcharge."""
        return f"{self.name}_bill_yuan", f"{self.name}_surcharge_yuan"


_REGISTRY: dict[str, LinearTariff] = {}


def register(tariff: LinearTariff) -> LinearTariff:
    """Register ``tariff`` (by its name) and return it."""
    if tariff.name in _REGISTRY and _REGISTRY[tariff.name] is not tariff:
        raise ValueError(f"a linear tariff named {tariff.name!r} is registered already")
    _REGISTRY[tariff.name] = tariff
    return tariff


def registered() -> tuple[LinearTariff, ...]:
    """Return every registered tariff, in the order of registration."""
    return tuple(_REGISTRY.values())


def active(tariffs) -> tuple[tuple[LinearTariff, Any], ...]:
    """Return (tariff, its parameters) for each registered tariff ``tariffs`` switches on."""
    out = []
    for tariff in _REGISTRY.values():
        spec = tariff.spec(tariffs)
        if spec is not None and spec.enabled:
            out.append((tariff, spec))
    return tuple(out)

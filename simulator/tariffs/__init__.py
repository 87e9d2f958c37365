"""Differentiated resource prices (差别化价格) by evaluation class.

One module per charge; each is a pure function from per-firm numpy arrays and
a validated parameter model to a frozen result of float64 arrays in yuan:

* :func:`electricity_bill` (:mod:`~simulator.tariffs.electricity`),
* :func:`water_bill` (:mod:`~simulator.tariffs.water`),
* :func:`land_use_tax` (:mod:`~simulator.tariffs.landtax`),
* :func:`pollution_charge` and :func:`pollution_equivalents`
  (:mod:`~simulator.tariffs.pollution`),
* :func:`subsidy` (:mod:`~simulator.tariffs.subsidies`);
* :func:`unit_prices` and :func:`linear_bills` (:mod:`~simulator.tariffs.unit`): each
  firm's price per kWh and per tonne, and a period's linear bills, for the engine and
  the investment decision alike;
* further linear tariffs (:mod:`~simulator.tariffs.linear`), each a module that
  registers itself: gas (:mod:`~simulator.tariffs.gas`). Every module of this package
  is imported here, so a new tariff module needs no other line.
"""

import importlib
import pkgutil

from simulator.tariffs.electricity import (
    ElectricityBill,
    class_surcharge_per_kwh,
    electricity_bill,
)
from simulator.tariffs.landtax import LandTaxBill, land_use_tax
from simulator.tariffs.linear import LinearBill, LinearTariff, active, register, registered
from simulator.tariffs.pollution import PollutionBill, pollution_charge, pollution_equivalents
from simulator.tariffs.subsidies import SubsidyResult, subsidy
from simulator.tariffs.unit import UnitPrices, linear_bills, unit_prices
from simulator.tariffs.water import WaterBill, water_bill

__all__ = [
    "active",
    "ElectricityBill",
    "LandTaxBill",
    "LinearBill",
    "LinearTariff",
    "PollutionBill",
    "SubsidyResult",
    "UnitPrices",
    "WaterBill",
    "class_surcharge_per_kwh",
    "electricity_bill",
    "land_use_tax",
    "linear_bills",
    "pollution_charge",
    "pollution_equivalents",
    "register",
    "registered",
    "subsidy",
    "unit_prices",
    "water_bill",
]

# Import every tariff module, so that those that register a linear tariff do.
for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

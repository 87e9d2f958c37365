"""Firm report card (一企一单): one firm's evaluation, bills and quotas, year by year.

The card is written by :mod:`simulator.reporting.card` (:func:`write_card`);
what would lift the firm's class is computed by :mod:`simulator.reporting.lift`.
This module keeps the public names where they have always been.
"""

from __future__ import annotations

from simulator.reporting.card import read_firm_years, write_card
from simulator.reporting.lift import (
    CLASSES,
    FORMULAS,
    ClassLift,
    IndicatorTerm,
    Lift,
    class_lift,
    required_rise,
    score_terms,
    uniform_rise,
)

__all__ = [
    "CLASSES",
    "FORMULAS",
    "ClassLift",
    "IndicatorTerm",
    "Lift",
    "class_lift",
    "read_firm_years",
    "required_rise",
    "score_terms",
    "uniform_rise",
    "write_card",
]

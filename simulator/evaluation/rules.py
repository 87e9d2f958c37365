"""Further class rules: deductions, downgrades, the entry standards at review, protection.

Besides scores and ranks, county rules move single firms: deduction items
(扣分) take points off the score before ranking; downgrade items (降档) move a
firm down after classification, or put it no higher than a class; an
existing firm failing the entry standards of new land is capped at a class
(存量企业对标准入标准); protected firms (start-ups, firms newly above scale,
large projects under construction) that would be D are put in C. Which firm
has which item is decided by the caller (:mod:`simulator.engine.evalrules`
draws them in a run); this module applies them, in this order::

    S'  = S - deduction_points                       (before ranking)
    k   = class of S' by rank shares or thresholds, then the veto (A/B -> C)
    k   = min(k + downgrade_classes, D)              (降档)
    k   = max(k, at_best)                            (降为 / 最高评为)
    k   = max(k, standards.at_best) if fails_standards
    k   = C if protected and k == D [and not penalised, with
          ``protection_excludes_penalised``: vetoed or lowered by an item]

(class codes: A 0 .. D 3, larger is worse). :func:`fails_entry_standards`
tests a year's figures against the entry standards; :func:`managed_classes`
gives the class firms are managed as (unrated firms as B, with
``unrated_as_b``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from simulator.evaluation.inputs import TIER_ABOVE_SCALE, TIER_BELOW_SCALE, EvaluationInput
from simulator.firms import CLASS_CODES, UNRATED
from simulator.scenario import EntryStandards, EvaluationSpec

__all__ = [
    "Adjustments",
    "RuleOutcome",
    "apply_class_rules",
    "fails_entry_standards",
    "managed_classes",
]

_C = CLASS_CODES["C"]
_D = CLASS_CODES["D"]


@dataclass(frozen=True)
class Adjustments:
    """What the further rules hold against each firm this year (arrays of length ``n``).

    Parameters
    ----------
    deduction_points : ndarray of float
        Points taken off the total score before ranking (扣分).
    downgrade_classes : ndarray of int
        Classes the firm moves down after classification (降档), 0 for none.
    at_best : ndarray of int
        Best class code the firm may have (0 = A: no limit; 3 = D: put in D).
    fails_standards : ndarray of bool
        The firm fails the entry standards at review.
    """

    deduction_points: np.ndarray
    downgrade_classes: np.ndarray
    at_best: np.ndarray
    fails_standards: np.ndarray

    def __post_init__(self) -> None:
        n = np.shape(self.deduction_points)[0]
        for f in dataclasses.fields(self):
            shape = np.shape(getattr(self, f.name))
            if shape != (n,):
                raise ValueError(f"The '{f.name}' array must have shape ({n},). "
                                 f"Got {shape} instead.")

    @classmethod
    def none(cls, n: int) -> Adjustments:
        """Return adjustments that change nothing, for ``n`` firms."""
        return cls(np.zeros(n), np.zeros(n, dtype=np.int8), np.zeros(n, dtype=np.int8),
                   np.zeros(n, dtype=bool))

    def take(self, index: np.ndarray) -> Adjustments:
        """Return the firms at ``index`` (an integer or boolean index array)."""
        return Adjustments(**{f.name: np.asarray(getattr(self, f.name))[index]
                              for f in dataclasses.fields(self)})


@dataclass(frozen=True)
class RuleOutcome:
    """What the further rules did, per firm (bool arrays, input order).

    Attributes
    ----------
    downgraded : ndarray of bool
        A deduction item's downgrade or ``at_best`` lowered the firm's class.
    capped : ndarray of bool
        The entry-standards cap lowered the firm's class (after the items).
    protected_from_d : ndarray of bool
        Protection put the firm in C instead of D.
    """

    downgraded: np.ndarray
    capped: np.ndarray
    protected_from_d: np.ndarray

    def take(self, index: np.ndarray) -> RuleOutcome:
        """Return the firms at ``index``."""
        return RuleOutcome(**{f.name: getattr(self, f.name)[index]
                              for f in dataclasses.fields(self)})


def apply_class_rules(
    klass: np.ndarray, in_scope: np.ndarray, inp: EvaluationInput, adjust: Adjustments,
    params: EvaluationSpec,
) -> tuple[np.ndarray, RuleOutcome]:
    """Apply downgrades, the standards cap and protection to classes after the veto.

    Parameters
    ----------
    klass : ndarray of int8
        Class codes after classification and the veto (``UNRATED`` out of scope).
    in_scope : ndarray of bool
        Evaluated firms; the others keep ``UNRATED``.
    inp : EvaluationInput
        Gives ``vetoed`` and ``protected``.
    adjust : Adjustments
        The items and the standards test of each firm.
    params : EvaluationSpec
        Gives ``standards_review.at_best`` and ``protection_excludes_penalised``.

    Returns
    -------
    klass : ndarray of int8
        The final class codes.
    outcome : RuleOutcome
        Which firm each rule moved.

    Examples
    --------
    >>> import numpy as np
    >>> from simulator.scenario import EvaluationSpec
    >>> from simulator.evaluation import Adjustments
    >>> adj = Adjustments(np.zeros(3), np.array([1, 0, 0]), np.array([0, 3, 0]),
    ...                   np.zeros(3, dtype=bool))
    >>> # A moved down one class, B put in D; the protected D firm is put in C.
    >>> inp = type("Inp", (), {"vetoed": np.zeros(3, bool),
    ...                        "protected": np.array([False, False, True])})
    >>> k, out = apply_class_rules(np.array([0, 1, 3], np.int8), np.ones(3, bool), inp, adj,
    ...                            EvaluationSpec())
    >>> k.tolist(), out.downgraded.tolist(), out.protected_from_d.tolist()
    ([1, 3, 2], [True, True, False], [False, False, True])
    """
    rated = np.asarray(in_scope, dtype=bool) & (klass != UNRATED)
    before = klass
    lowered = np.minimum(klass.astype(np.int16) + adjust.downgrade_classes, _D)
    lowered = np.maximum(lowered, adjust.at_best)
    after_items = np.where(rated, lowered, klass).astype(np.int8)
    downgraded = after_items > before
    spec = params.standards_review
    cap = CLASS_CODES[spec.at_best]
    fails = rated & np.asarray(adjust.fails_standards, dtype=bool)
    after_cap = np.where(fails, np.maximum(after_items, cap), after_items).astype(np.int8)
    capped = after_cap > after_items
    protected = np.asarray(inp.protected, dtype=bool) & rated
    if params.protection_excludes_penalised:
        protected &= ~(np.asarray(inp.vetoed, dtype=bool) | downgraded)
    saved = protected & (after_cap == _D)
    final = np.where(saved, _C, after_cap).astype(np.int8)
    return final, RuleOutcome(downgraded=downgraded & rated, capped=capped, protected_from_d=saved)


def fails_entry_standards(inp: EvaluationInput, tier: np.ndarray, standards: EntryStandards,
                          params: EvaluationSpec,
                          pollutants: tuple[str, ...]) -> np.ndarray:
    """Return whether each evaluated industrial firm's year fails the checked entry standards.

    A firm fails when, over the year, its tax per mu is below
    ``standards.min_tax_wan_yuan_per_mu``, its energy per 万元 VA is above
    ``standards.max_energy_tce_per_wan_yuan`` or its emissions of a pollutant
    per 万元 VA are above that pollutant's maximum (which checks
    ``params.standards_review`` turns on). A firm with energy use or
    emissions and no positive VA fails the intensity checks. Services firms
    and firms out of scope never fail (the standards are those of industrial
    land).

    Parameters
    ----------
    inp : EvaluationInput
        The year's totals.
    tier : ndarray of int
        Tier codes (:func:`~simulator.evaluation.tier_codes`).
    standards : EntryStandards
        ``dynamics.entry.standards`` of the scenario.
    params : EvaluationSpec
        Gives the checks (``standards_review``).
    pollutants : tuple of str
        The pollutants of ``inp.emissions_t``'s columns.

    Returns
    -------
    ndarray of bool
    """
    spec = params.standards_review
    industrial = (tier == TIER_ABOVE_SCALE) | (tier == TIER_BELOW_SCALE)
    fails = np.zeros(inp.n, dtype=bool)
    va = np.asarray(inp.va_wan_yuan, dtype=float)
    positive = va > 0
    safe_va = np.where(positive, va, 1.0)
    if spec.check_tax_per_mu:
        land = np.asarray(inp.land_mu, dtype=float)
        tax = np.asarray(inp.tax_wan_yuan, dtype=float)
        has_land = land > 0
        fails |= has_land & (tax < standards.min_tax_wan_yuan_per_mu
                             * np.where(has_land, land, 0.0))
    if spec.check_energy:
        energy = np.asarray(inp.energy_tce, dtype=float)
        fails |= np.where(positive, energy / safe_va > standards.max_energy_tce_per_wan_yuan,
                          energy > 0)
    if spec.check_emissions:
        emissions = np.asarray(inp.emissions_t, dtype=float)
        limit = np.array(standards.max_emissions_t_per_wan_yuan.values(pollutants,
                                                                      default=np.inf))
        over = np.where(positive[:, None], emissions / safe_va[:, None] > limit,
                        (emissions > 0) & np.isfinite(limit))
        fails |= over.any(axis=1)
    return fails & industrial


def managed_classes(klass: np.ndarray, params: EvaluationSpec) -> np.ndarray:
    """Return the class each firm is managed as: unrated firms as B with ``unrated_as_b``.

    The class in force for prices, credit and the other class-differentiated
    measures; the evaluation's own outputs keep ``UNRATED``.

    Examples
    --------
    >>> import numpy as np
    >>> from simulator.scenario import EvaluationSpec
    >>> managed_classes(np.array([0, 4, 3], np.int8), EvaluationSpec(unrated_as_b=True)).tolist()
    [0, 1, 3]
    """
    if not params.unrated_as_b:
        return klass
    return np.where(klass == UNRATED, CLASS_CODES["B"], klass).astype(klass.dtype)

"""Firms: the struct-of-arrays state of every enterprise (one row per firm).

Every attribute is one numpy array of length ``n``. Mechanisms take the
arrays they need and return new arrays; the engine writes them back. Money is
in 万元 (10^4 yuan) in this table; tariff functions return yuan and the engine
converts.

Evaluation classes are stored as small integers for speed: ``CLASS_CODES``
maps them to the letters used in every output table.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from simulator.scenario import CLASSES

__all__ = [
    "CLASS_CODES",
    "CLASS_LABELS",
    "UNRATED",
    "PROCESS_STATUS",
    "Firms",
    "class_labels",
    "per_class",
]

#: Class letter -> code. Firms outside the evaluation's scope are ``UNRATED``.
CLASS_CODES: dict[str, int] = {c: i for i, c in enumerate(CLASSES)}
UNRATED: int = 4
#: Code -> label used in output tables ("U" = unrated, outside the evaluation's scope).
CLASS_LABELS: tuple[str, ...] = (*CLASSES, "U")
#: Production process status under national industrial policy (淘汰类/限制类).
PROCESS_STATUS: tuple[str, ...] = ("normal", "restricted", "eliminated")

TCE_PER_KWH = 0.1229e-3  # calorific-equivalent method: 1 kWh = 0.1229 kgce
M2_PER_MU = 10_000 / 15  # 1 mu = 666.67 m^2


def per_class(values: tuple[float, float, float, float], klass: np.ndarray,
              unrated: float = 0.0) -> np.ndarray:
    """Look up one value per firm from (A, B, C, D) values by class code.

    Parameters
    ----------
    values : tuple of 4 floats
        Values for classes A, B, C and D (e.g. ``ClassValues.as_tuple()``).
    klass : ndarray of int
        Class codes (0..3, or ``UNRATED``).
    unrated : float
        Value for firms outside the evaluation's scope.

    Returns
    -------
    ndarray of float
        ``values[klass]`` per firm.
    """
    table = np.array((*values, unrated), dtype=float)
    return table[klass]


def class_labels(codes: np.ndarray) -> np.ndarray:
    """Return class letters ("A".."D", "U") for an array of class codes."""
    return np.asarray(CLASS_LABELS, dtype=object)[codes]


@dataclass
class Firms:
    """State of all firms, one numpy array per attribute (length ``n``).

    Static attributes are drawn once (or read from a firm table); annual
    potentials are what a firm produces at full output; ``*_ytd`` arrays
    accumulate the current calendar year and are reset after the annual
    evaluation.
    """

    # identity and location
    firm_id: np.ndarray  # int64, unique, sorted
    sector: np.ndarray  # int16 code into scenario.sector_names()
    region: np.ndarray  # int16 code into scenario.population.regions
    park: np.ndarray  # int16, park number within the region
    is_services: np.ndarray  # bool
    high_tech: np.ndarray  # bool
    listed: np.ndarray  # bool
    brand: np.ndarray  # bool
    process_status: np.ndarray  # int8 code into PROCESS_STATUS
    land_grade: np.ndarray  # int8, 0 = grade 1
    age_years: np.ndarray  # int16
    # land and scale
    above_scale: np.ndarray  # bool, industrial and revenue >= the 规上 threshold
    land_mu: np.ndarray
    employees: np.ndarray
    capacity_kva: np.ndarray  # contracted transformer capacity
    # annual potentials at full output
    va_wan_yuan: np.ndarray
    revenue_wan_yuan: np.ndarray
    tax_share_of_va: np.ndarray
    rd_share_of_revenue: np.ndarray
    profit_margin: np.ndarray
    # resource intensities per 万元 VA
    energy_tce_per_wan_yuan: np.ndarray
    electricity_share: np.ndarray  # share of energy (tce) that is electricity
    water_m3_per_wan_yuan: np.ndarray
    water_quota_m3: np.ndarray  # annual quota at full output
    emission_t_per_wan_yuan: np.ndarray  # shape (n, pollutants), the scenario's order
    unit_consumption: np.ndarray  # kWh per unit product for tiered sectors, NaN elsewhere
    output_elasticity: np.ndarray
    # evaluation state
    klass: np.ndarray  # int8 class code in force (UNRATED or 0..3)
    consecutive_d_years: np.ndarray  # int16
    vetoed: np.ndarray  # bool, this year's one-vote veto
    # output dynamics
    log_shock: np.ndarray  # AR(1) state of the log output shock
    reference_cost_share: np.ndarray  # resource bill / revenue at first-year prices (NaN = unset)
    output_factor: np.ndarray  # this month's output as a share of potential
    # enterprise dynamics (set by population.finish_firms)
    cash_wan_yuan: np.ndarray = field(default_factory=lambda: np.zeros(0))  # < 0: borrowed
    consecutive_loss_years: np.ndarray = field(
        default_factory=lambda: np.zeros(0, dtype=np.int16))
    income_tax_rate: np.ndarray = field(  # corporate income tax on profit (0: tax ∝ VA only)
        default_factory=lambda: np.zeros(0))
    rectification_years: np.ndarray = field(  # years in D counted for the exit rule
        default_factory=lambda: np.zeros(0, dtype=np.int16))
    invested: np.ndarray = field(  # bit k set: option k decided (INVESTMENT_OPTIONS order)
        default_factory=lambda: np.zeros(0, dtype=np.int8))
    cost_factor: np.ndarray = field(  # shape (n, 4): firm-specific capex multiplier per option
        default_factory=lambda: np.ones((0, 4)))
    # year-to-date accumulators (calendar year)
    ytd: dict[str, np.ndarray] = field(default_factory=dict)
    #: Factors the population calibration applied to (VA, tax share, employees): entrants
    #: drawn later from the same sector distributions get the same.
    calibration: tuple[float, float, float] = (1.0, 1.0, 1.0)

    @property
    def n(self) -> int:
        """Number of firms."""
        return int(self.firm_id.shape[0])

    @property
    def electricity_kwh_per_wan_yuan(self) -> np.ndarray:
        """Electricity use per 万元 VA (kWh)."""
        return self.energy_tce_per_wan_yuan * self.electricity_share / TCE_PER_KWH

    def potential_tax_wan_yuan(self) -> np.ndarray:
        """Tax at potential output: other taxes on VA plus income tax on the margin, 万元."""
        profit = np.maximum(self.revenue_wan_yuan * self.profit_margin, 0.0)
        return self.va_wan_yuan * self.tax_share_of_va + self.income_tax_rate * profit

    def select(self, keep: np.ndarray) -> Firms:
        """Return the firms where ``keep`` is True (a boolean mask), in the same order."""
        keep = np.asarray(keep)
        if keep.dtype != bool or keep.shape != (self.n,):
            raise ValueError(f"The 'keep' parameter must be a boolean array of shape ({self.n},). "
                             f"Got {keep.dtype} {keep.shape} instead.")
        out = {f.name: getattr(self, f.name)[keep] for f in fields(self)
               if isinstance(getattr(self, f.name), np.ndarray)}
        return Firms(**out, ytd={k: v[keep] for k, v in self.ytd.items()},
                     calibration=self.calibration)

    def append(self, other: Firms) -> Firms:
        """Return these firms followed by ``other`` (firm ids must stay increasing)."""
        if self.n and other.n and other.firm_id[0] <= self.firm_id[-1]:
            raise ValueError("appended firms must have larger firm ids than the existing ones")
        out = {f.name: np.concatenate([getattr(self, f.name), getattr(other, f.name)])
               for f in fields(self) if isinstance(getattr(self, f.name), np.ndarray)}
        # Firms appended without a sum (entrants have none of the further sums) start at 0.
        ytd = {k: np.concatenate([v, other.ytd.get(k, np.zeros((other.n, *v.shape[1:])))])
               for k, v in self.ytd.items()}
        return Firms(**out, ytd=ytd, calibration=self.calibration)

    def reset_ytd(self) -> None:
        """Zero the year-to-date accumulators."""
        n = self.n
        for name in YTD_FIELDS:
            self.ytd[name] = np.zeros(n)
        self.ytd["emissions_t"] = np.zeros((n, self.emission_t_per_wan_yuan.shape[1]))
        for name in self.ytd:  # further sums (e.g. of further tariffs, tariffs.linear)
            if name not in YTD_FIELDS and name != "emissions_t":
                self.ytd[name] = np.zeros(n)

    def nbytes(self) -> int:
        """Memory held by the state arrays, bytes."""
        total = 0
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, np.ndarray):
                total += v.nbytes
        return total + sum(a.nbytes for a in self.ytd.values())


#: Year-to-date accumulators (besides ``emissions_t``, shape (n, 4)).
YTD_FIELDS: tuple[str, ...] = (
    "va_wan_yuan",
    "revenue_wan_yuan",
    "tax_wan_yuan",
    "rd_wan_yuan",
    "energy_tce",
    "electricity_kwh",
    "water_m3",
    "electricity_bill_yuan",
    "electricity_surcharge_yuan",
    "electricity_national_tiered_yuan",
    "water_bill_yuan",
    "water_surcharge_yuan",
    "pollution_charge_yuan",
    "pollution_surcharge_yuan",
    "land_tax_yuan",
    "land_tax_relief_yuan",
    "subsidy_yuan",
    "subsidy_withheld_yuan",
    "quota_cost_yuan",
    "profit_wan_yuan",
)

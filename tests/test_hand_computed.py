"""A two-year run of five firms whose every yuan is computed by hand (issue 16).

The scenario is ``tests/scenarios/small.yaml`` changed in code (:func:`hand_scenario`):
one firm per sector, every spread, shock and random rule switched off, quota markets off,
so that each firm is exactly its sector's median and every number the engine writes
follows from the scenario's parameters by the arithmetic below (domain.md sections 1-3,
README "Evaluation", "Prices", "dynamics" and "Outputs").

=================  ======  ==============================  ===========================
firm (its sector)  scale   classes in force 2017 / 2018     what it exercises
=================  ======  ==============================  ===========================
electronics        above   A / A (evaluated A in 2017 at   two-part tariff (capacity
                           exactly the A threshold, 200;   charge), land-tax relief
                           B in 2018 when A needs 250)     100%, A award from the fund
machinery          above   B / B                           national differential
                                                           (restricted), relief 80%,
                                                           high-tech income tax and
                                                           bonus, a retrofit the fund
                                                           makes pay
metals             above   D / D (2 and 3 years in D)      two-part tariff, tiered
                                                           price, D surcharge with
                                                           escalation and a timeline
                                                           rise, sewage surcharge,
                                                           pollution x2, losses, interest
                                                           on borrowed cash
printing_dyeing    below   C / C                           national differential
                                                           (eliminated), subsidy
                                                           withdrawn for C
wholesale_retail   (svc)   unrated                         services are rescaled too;
                                                           unrated: no relief, keeps its
                                                           subsidy
=================  ======  ==============================  ===========================

Every expected value is written out below as arithmetic on the scenario's parameters,
each step with the formula and where the parameter comes from; the tests compare them
with the engine's firm snapshots and ``metrics`` to the yuan (0.01 yuan, 1e-6 万元).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from simulator import apply_changes, load_scenario, simulate

ROOT = Path(__file__).resolve().parents[1]

ELE, MAC, MET, DYE, SVC = (
    "electronics", "machinery", "metals", "printing_dyeing", "wholesale_retail")
FIRMS = (ELE, MAC, MET, DYE, SVC)
INDUSTRIAL = (ELE, MAC, MET, DYE)
ABOVE = (ELE, MAC, MET)  # revenue >= 2000 万元 (population.above_scale_revenue_wan_yuan)
YEARS = (2017, 2018)

# ======================================================================= the scenario
# One firm per sector (population.n_industrial 4, four industrial sectors of share 0.25;
# n_services 1). Every sigma is 0, so a firm is its sector's median. The sector values,
# by population.sectors field: land_mu (mu), va_per_mu_wan_yuan, va_share_of_revenue,
# tax_share_of_va, va_per_employee_wan_yuan, energy_tce_per_wan_yuan_va,
# electricity_share_of_energy (of tce), water_m3_per_wan_yuan_va (also the water quota
# norm), emissions_t_per_wan_yuan_va (cod, nh3n, so2, nox), rd_share_of_revenue and
# profit_margin (before land tax and differentiated charges).
LAND_MU = {ELE: 10.0, MAC: 8.0, MET: 12.0, DYE: 6.0, SVC: 3.0}
VA_PER_MU = {ELE: 300.0, MAC: 100.0, MET: 60.0, DYE: 40.0, SVC: 60.0}
VA_SHARE = {ELE: 0.20, MAC: 0.25, MET: 0.15, DYE: 0.25, SVC: 0.10}
TAX_SHARE = {ELE: 0.20, MAC: 0.24, MET: 0.22, DYE: 0.20, SVC: 0.30}
VA_PER_EMPLOYEE = {ELE: 30.0, MAC: 20.0, MET: 25.0, DYE: 17.0, SVC: 15.0}
TCE_PER_WAN = {ELE: 0.15, MAC: 0.15, MET: 1.6, DYE: 1.3, SVC: 0.05}
ELEC_SHARE = {ELE: 0.7, MAC: 0.6, MET: 0.3, DYE: 0.15, SVC: 0.9}
WATER_PER_WAN = {ELE: 4.0, MAC: 3.0, MET: 10.0, DYE: 60.0, SVC: 2.0}
EMISSIONS_PER_WAN = {ELE: (1.5e-4, 2e-5, 3e-5, 4e-5), MAC: (1e-4, 1e-5, 5e-5, 6e-5),
                     MET: (2e-4, 2e-5, 3e-3, 2.5e-3), DYE: (2.5e-3, 2e-4, 6e-4, 5e-4),
                     SVC: (0.0, 0.0, 0.0, 0.0)}
RD_SHARE = {ELE: 0.04, MAC: 0.025, MET: 0.01, DYE: 0.008, SVC: 0.0}
MARGIN = {ELE: 0.08, MAC: 0.07, MET: -0.02, DYE: 0.05, SVC: 0.03}
RESTRICTED = {MAC}  # restricted_share 1 (national differential, 发改价格〔2010〕978号)
ELIMINATED = {DYE}  # eliminated_share 1
HIGH_TECH = {MAC}   # high_tech_share 1: income tax 15% and 5 bonus points


def _sector(firm: str) -> dict:
    return {
        "kind": "services" if firm == SVC else "industrial",
        "share": 1.0 if firm == SVC else 0.25,
        "land_mu": {"median": LAND_MU[firm], "sigma": 0.0},
        "va_per_mu_wan_yuan": {"median": VA_PER_MU[firm], "sigma": 0.0},
        "va_share_of_revenue": VA_SHARE[firm], "tax_share_of_va": TAX_SHARE[firm],
        "va_per_employee_wan_yuan": VA_PER_EMPLOYEE[firm],
        "energy_tce_per_wan_yuan_va": TCE_PER_WAN[firm],
        "electricity_share_of_energy": ELEC_SHARE[firm],
        "water_m3_per_wan_yuan_va": WATER_PER_WAN[firm],
        "emissions_t_per_wan_yuan_va": dict(zip(("cod", "nh3n", "so2", "nox"),
                                                EMISSIONS_PER_WAN[firm], strict=True)),
        "rd_share_of_revenue": RD_SHARE[firm], "profit_margin": MARGIN[firm],
        "intensity_sigma": 0.0,
        "restricted_share": 1.0 if firm in RESTRICTED else 0.0,
        "eliminated_share": 1.0 if firm in ELIMINATED else 0.0,
        "high_tech_share": 1.0 if firm in HIGH_TECH else 0.0,
    }


CHANGES = {
    "run.end": "2018-12",
    "output.monthly_metrics": False,
    # Population: the drawn values are the medians; region, park, land grade and the
    # bonus items are certain (shares 0 or 1); the calibration stays on.
    "population.n_industrial": 4,
    "population.n_services": 1,
    "population.sectors": {firm: _sector(firm) for firm in FIRMS},
    "population.land_grade_shares": [0.0, 1.0, 0.0],  # grade 2: 6 yuan/m^2/yr
    "population.listed_share": 0.0,
    "population.brand_share": 0.0,
    "population.dispersion": {"revenue_share_sigma": 0.0, "tax_share_sigma": 0.0,
                              "labour_sigma": 0.0, "rd_sigma": 0.0, "margin_sd": 0.0},
    "population.regions": [{"name": "county", "share": 1.0, "parks": 1}],
    # Evaluation: fixed benchmarks and score thresholds, so a score is the firm's own.
    "evaluation.evaluate_services": False,
    "evaluation.benchmark": "fixed",
    "evaluation.weights_above_scale": {"tax_per_mu": 30, "va_per_mu": 70},
    "evaluation.fixed_benchmarks": {
        "above_scale": {"tax_per_mu": 20.0, "va_per_mu": 70.0},
        "below_scale": {"tax_per_mu": 20.0, "tax_per_kwh": 1.0}},
    "evaluation.classification": {"method": "thresholds",
                                  "thresholds": {"A": 200.0, "B": 90.0, "C": 60.0}},
    "evaluation.veto.accident_probability_per_year": 0.0,
    "evaluation.protect_new_firms_years": 0,  # ages are drawn: protect nobody
    # Prices: the baseline's, with the metals tier of 13,900 kWh/t (above 13,800: +0.08)
    # and water blocks starting at half the quota, because a firm with no spread uses
    # exactly its quota: use = quota pays 0.5 x1, 0.2 x1.5, 0.2 x2 and the last 0.1 x3.
    "tariffs.electricity.tiered": {MET: {
        "unit": "kWh per tonne of aluminium", "reference_unit_consumption": 13900.0,
        "firm_sigma": 0.0, "blocks": [{"above": 13700, "surcharge_yuan_per_kwh": 0.02},
                                      {"above": 13800, "surcharge_yuan_per_kwh": 0.08}]}},
    "tariffs.water.blocks": [{"up_to_quota_ratio": 0.5, "multiplier": 1.0},
                             {"up_to_quota_ratio": 0.7, "multiplier": 1.5},
                             {"up_to_quota_ratio": 0.9, "multiplier": 2.0},
                             {"up_to_quota_ratio": None, "multiplier": 3.0}],
    "tariffs.subsidies.withdrawn_for": ["C", "D"],
    "markets.energy.enabled": False,
    "markets.energy.mac.at_10pct_yuan_per_unit": {},  # names the baseline's sectors
    **{f"markets.emissions.{q}.enabled": False for q in ("cod", "nh3n", "so2", "nox")},
    # Behaviour: output at potential every month, no growth; a macro margin in 2018.
    "behaviour.output_response": False,
    "behaviour.shock.sigma": 0.0,
    "behaviour.potential_growth_by_year": {},
    "behaviour.labour_productivity_growth_by_year": {},
    "behaviour.intensity_change_per_year": {q: 0.0 for q in
                                            ("energy", "cod", "nh3n", "so2", "nox")},
    "behaviour.intensity_change_by_year": {},
    "behaviour.margin_shift_by_year": {2018: 0.01},
    "initial_state.years_in_d": {"min": 2, "max": 2},
    # Dynamics: every firm reviews every year, no margin shock, no entry; only the
    # machinery firm has a retrofit to value (effect 0 elsewhere), at a cost factor of 1.
    "dynamics.review_share_per_year": 1.0,
    "dynamics.annual_margin_sd": 0.0,
    "dynamics.investment": {"retrofit": {
        "capex": 0.0, "effect_share": 0.0, "lead_time_months": 12, "lifetime_years": 5,
        "cost_sigma": 0.0, "by_sector": {MAC: {"capex": 26000.0, "effect_share": 0.2}}}},
    "dynamics.finance.initial_cash_share_of_revenue": 0.01,
    "dynamics.exit": {"enabled": True, "loss_years": 3, "d_grace_years": 5,
                      "forced_exit_share_per_year": 0.0, "zombie_loss_years": 2},
    "dynamics.entry.enabled": False,
    "dynamics.land.new_land_mu_per_year": 0.0,
    "dynamics.recycling": {
        "enabled": True, "share_of_revenue": 0.1,
        "sources": ["electricity_surcharge", "water_surcharge", "pollution_surcharge"],
        "retrofit_subsidy_share": 0.5, "max_subsidy_share_of_capex": 0.3},
    # A is made harder to reach from 2018 (no A firm in 2018); D pays 0.5 from 2018-07.
    "timeline": [
        {"date": "2018-01", "set": {"evaluation.classification.thresholds.A": 250.0}},
        {"date": "2018-07", "set": {"tariffs.electricity.class_surcharge_yuan_per_kwh.D": 0.5}},
    ],
}


def hand_scenario():
    """Return small.yaml with :data:`CHANGES` (everything else: the baseline's)."""
    return apply_changes(load_scenario(ROOT / "tests" / "scenarios" / "small.yaml"), CHANGES)


# ================================================================= the hand computation
# Units: 万元 = 1e4 yuan. Parameters not set above are the baseline's
# (scenarios/baseline.yaml), named where used.
TCE_PER_KWH = 0.1229e-3  # calorific method: 1 kWh = 0.1229 kgce (domain.md, units)
M2_PER_MU = 10_000 / 15  # 1 mu = 666.67 m^2

# ---- 1. The firms as drawn (population.draw_firms with every sigma 0) -----------------
VA0 = {f: LAND_MU[f] * VA_PER_MU[f] for f in FIRMS}  # 3000, 800, 720, 240, 180 万元
REVENUE0 = {f: VA0[f] / VA_SHARE[f] for f in FIRMS}  # 15000, 3200, 4800, 960, 1800
EMPLOYEES0 = {f: VA0[f] / VA_PER_EMPLOYEE[f] for f in FIRMS}  # 100, 40, 28.8, 14.1, 12
# Above scale (规上): revenue >= 2000 万元 (baseline): electronics, machinery, metals.
assert all((REVENUE0[f] >= 2000) == (f in ABOVE) for f in INDUSTRIAL)

# ---- 2. Population calibration (population.calibrate_population) --------------------
# Targets (baseline, Zhejiang 2017, seed 000): above-scale tax/mu 25.5, VA/mu 103.2,
# VA/employee 21.6, each a ratio of sums over above-scale firms (30 mu in all).
ABOVE_LAND = sum(LAND_MU[f] for f in ABOVE)  # 30 mu
VA_FACTOR = 103.2 / (sum(VA0[f] for f in ABOVE) / ABOVE_LAND)  # 103.2 / (4520 / 30) = 0.68496
# VA, revenue and the water quota are scaled by it, services included.
VA = {f: VA0[f] * VA_FACTOR for f in FIRMS}  # 2054.87, 547.96, 493.17, 164.39, 123.29
REVENUE = {f: REVENUE0[f] * VA_FACTOR for f in FIRMS}  # 10274.3, 2191.9, 3287.8, 657.6, 1232.9
WATER_QUOTA = {f: WATER_PER_WAN[f] * VA0[f] * VA_FACTOR for f in FIRMS}  # norm x VA, m^3
# Still above scale after scaling (2191.9 >= 2000), printing_dyeing still below (657.6).
assert all((REVENUE[f] >= 2000) == (f in ABOVE) for f in INDUSTRIAL)
# Employees: the above-scale VA per employee, 3096 / 168.8 = 18.34, is brought to 21.6.
EMPLOYEE_FACTOR = (sum(VA[f] for f in ABOVE) / sum(EMPLOYEES0[f] for f in ABOVE)) / 21.6
EMPLOYEES = {f: EMPLOYEES0[f] * EMPLOYEE_FACTOR for f in FIRMS}  # 84.91, 33.97, 24.45, ...

# Quantities at potential output (= realised output: no shock, no response, no growth).
KWH_PER_WAN = {f: TCE_PER_WAN[f] * ELEC_SHARE[f] / TCE_PER_KWH for f in FIRMS}
KWH = {f: VA[f] * KWH_PER_WAN[f] for f in FIRMS}  # 1,755,582 / 401,276 / 1,926,125 / ...
TCE = {f: VA[f] * TCE_PER_WAN[f] for f in FIRMS}
WATER = {f: VA[f] * WATER_PER_WAN[f] for f in FIRMS}  # = the quota
EMISSIONS = {f: tuple(VA[f] * e for e in EMISSIONS_PER_WAN[f]) for f in FIRMS}
# Transformers are sized for potential electricity at 4,000 hours (baseline
# electricity_utilisation_hours): electronics 439 kVA and metals 482 kVA reach the
# two-part tariff's 315 kVA; machinery (100), printing_dyeing (65), services (11) do not.
KVA = {f: KWH[f] / 4000 for f in FIRMS}
LARGE = {f for f in FIRMS if KVA[f] >= 315}
assert sorted(LARGE) == [ELE, MET]

# ---- 3. Tariffs per unit (baseline tariffs, with the changes above) ------------------
TOU = 0.35 * 1.6 + 0.35 * 1.0 + 0.30 * 0.6  # time-of-use mean multiplier 1.09
ENERGY_PRICE = {f: (0.64 if f in LARGE else 0.75) * TOU for f in FIRMS}  # yuan/kWh
CAPACITY_YUAN_PER_YEAR = {f: (KVA[f] * 30 * 12 if f in LARGE else 0.0) for f in FIRMS}
NATIONAL = {f: 0.10 if f in RESTRICTED else 0.30 if f in ELIMINATED else 0.0 for f in FIRMS}
TIERED = {f: 0.08 if f == MET else 0.0 for f in FIRMS}  # 13,900 kWh/t > 13,800
# Class surcharge of D: 0.3 (baseline); after three years in a row in D 0.4 (baseline
# d_escalation); from 2018-07 the timeline's 0.5 (escalation never lowers it).
D_SURCHARGE_2017 = 0.3             # metals: its 2nd year in D (initial_state.years_in_d 2)
D_SURCHARGE_2018 = (0.4 + 0.5) / 2  # 3rd year: 0.4 for six months, then 0.5 for six
# Water: base 3.5 yuan/m^3; use = quota, so the blocks charge 0.5 x 1 + 0.2 x 1.5 +
# 0.2 x 2 + 0.1 x 3 = 1.5 times the base; D adds 0.6 yuan/m^3 of sewage treatment.
WATER_BLOCKS = 0.5 * 1.0 + 0.2 * 1.5 + 0.2 * 2.0 + 0.1 * 3.0
# Pollution: 1000 / equivalent kg x yuan per equivalent (water 1.4: cod, nh3n; air 1.2).
POLLUTION_YUAN_PER_T = (1000 / 1.0 * 1.4, 1000 / 0.8 * 1.4, 1000 / 0.95 * 1.2,
                        1000 / 0.95 * 1.2)
POLLUTION_BASE = {f: sum(e * r for e, r in zip(EMISSIONS[f], POLLUTION_YUAN_PER_T,
                                               strict=True)) for f in FIRMS}
LAND_TAX_GROSS = {f: LAND_MU[f] * M2_PER_MU * 6.0 for f in FIRMS}  # = 4,000 yuan per mu
RELIEF = {"A": 1.0, "B": 0.8, "C": 0.0, "D": 0.0, "U": 0.0}  # 浙政办发〔2019〕62号
INCOME_TAX_RATE = {f: 0.15 if f in HIGH_TECH else 0.25 for f in FIRMS}  # 企业所得税法

# ---- 4. Classes in force in 2017: the evaluation of potential output ------------------
# Potential tax = VA x tax share (after the population calibration's factor) + income
# tax on revenue x margin. The population calibration's tax factor brings above-scale
# tax to 25.5 x 30 = 765 万元 with that income tax:
INCOME_AT_POTENTIAL = {f: INCOME_TAX_RATE[f] * max(REVENUE[f] * MARGIN[f], 0.0)
                       for f in FIRMS}
OTHER_TAX_ABOVE = sum(VA[f] * TAX_SHARE[f] for f in ABOVE)  # 650.98 万元
POPULATION_TAX_FACTOR = (
    (25.5 * ABOVE_LAND - sum(INCOME_AT_POTENTIAL[f] for f in ABOVE)) / OTHER_TAX_ABOVE)
POTENTIAL_TAX = {f: VA[f] * TAX_SHARE[f] * POPULATION_TAX_FACTOR + INCOME_AT_POTENTIAL[f]
                 for f in FIRMS}


def above_scale_score(firm: str, tax: float) -> float:
    """Score S = 100 x sum(w x min(x / b, 2)) / sum(w) + bonus (README "Evaluation").

    Weights tax/mu 30, VA/mu 70; fixed benchmarks 20 and 70 万元/mu; high tech +5.
    """
    points = (30 * min(tax / LAND_MU[firm] / 20.0, 2.0)
              + 70 * min(VA[firm] / LAND_MU[firm] / 70.0, 2.0))
    return 100 * points / 100 + (5.0 if firm in HIGH_TECH else 0.0)


def below_scale_score(firm: str, tax: float) -> float:
    """Below scale: tax/mu (benchmark 20) x50 + tax per kWh (benchmark 1 yuan) x50."""
    points = (50 * min(tax / LAND_MU[firm] / 20.0, 2.0)
              + 50 * min(tax * 1e4 / KWH[firm] / 1.0, 2.0))
    return 100 * points / 100


def klass(score: float, a_threshold: float) -> str:
    """Thresholds are minimum scores: S >= A is A, else S >= 90 is B, S >= 60 C, else D."""
    return ("A" if score >= a_threshold else "B" if score >= 90.0
            else "C" if score >= 60.0 else "D")


INITIAL_SCORE = {ELE: above_scale_score(ELE, POTENTIAL_TAX[ELE]),   # capped: 200
                 MAC: above_scale_score(MAC, POTENTIAL_TAX[MAC]),   # 98.1
                 MET: above_scale_score(MET, POTENTIAL_TAX[MET]),   # 52.3
                 DYE: below_scale_score(DYE, POTENTIAL_TAX[DYE])}   # 82.4
CLASS_IN_FORCE = {2017: {f: klass(INITIAL_SCORE[f], 200.0) for f in INDUSTRIAL} | {SVC: "U"}}
assert CLASS_IN_FORCE[2017] == {ELE: "A", MAC: "B", MET: "D", DYE: "C", SVC: "U"}

# ---- 5. The engine's tax calibration (engine.setup.recalibrate_tax) --------------------
# Income tax is paid on the profit after the first year's differentiated charges and
# land-use tax, so the other taxes are rescaled once more on that profit: above-scale
# tax per mu in 2017 is then exactly 25.5. (The population factor cancels out.)
DIFFERENTIAL_2017 = {  # yuan a year, at the classes in force in 2017
    f: (KWH[f] * (NATIONAL[f] + TIERED[f]
                  + (D_SURCHARGE_2017 if CLASS_IN_FORCE[2017][f] == "D" else 0.0))
        + POLLUTION_BASE[f] * (CLASS_IN_FORCE[2017][f] == "D")  # D x2: the extra is the base
        + WATER[f] * 3.5 * (WATER_BLOCKS - 1.0)
        + WATER[f] * (0.6 if CLASS_IN_FORCE[2017][f] == "D" else 0.0)
        + LAND_TAX_GROSS[f] * (1 - RELIEF[CLASS_IN_FORCE[2017][f]]))
    for f in FIRMS}
EXPECTED_PROFIT_2017 = {f: REVENUE[f] * MARGIN[f] - DIFFERENTIAL_2017[f] * 1e-4 for f in FIRMS}
ENGINE_TAX_FACTOR = (
    (25.5 * ABOVE_LAND - sum(INCOME_TAX_RATE[f] * max(EXPECTED_PROFIT_2017[f], 0.0)
                             for f in ABOVE)) / OTHER_TAX_ABOVE)
TAX_SHARE_FINAL = {f: TAX_SHARE[f] * ENGINE_TAX_FACTOR for f in FIRMS}  # 0.8258 x the sector's

# ---- 6. The two years, firm by firm -------------------------------------------------
# Per year: class in force, bills (yuan), profit and tax (万元), score and class assigned.
D_SURCHARGE = {2017: D_SURCHARGE_2017, 2018: D_SURCHARGE_2018}
MARGIN_SHIFT = {2017: 0.0, 2018: 0.01}  # behaviour.margin_shift_by_year
A_THRESHOLD = {2017: 200.0, 2018: 250.0}  # the timeline's 2018-01 change
EXPECTED: dict[int, dict[str, dict[str, float | str]]] = {}
for year in YEARS:
    EXPECTED[year] = {}
    for f in FIRMS:
        k = CLASS_IN_FORCE[year][f]
        e: dict[str, float | str] = {"class_in_force": k}
        surcharge = D_SURCHARGE[year] if k == "D" else 0.0
        e["electricity_surcharge_yuan"] = KWH[f] * surcharge
        e["national_tiered_yuan"] = KWH[f] * (NATIONAL[f] + TIERED[f])
        e["electricity_bill_yuan"] = (KWH[f] * (ENERGY_PRICE[f] + NATIONAL[f] + TIERED[f]
                                                + surcharge) + CAPACITY_YUAN_PER_YEAR[f])
        e["water_surcharge_yuan"] = (WATER[f] * 3.5 * (WATER_BLOCKS - 1.0)
                                     + WATER[f] * (0.6 if k == "D" else 0.0))
        e["water_bill_yuan"] = WATER[f] * 3.5 + e["water_surcharge_yuan"]
        e["pollution_surcharge_yuan"] = POLLUTION_BASE[f] * (1.0 if k == "D" else 0.0)
        e["pollution_charge_yuan"] = POLLUTION_BASE[f] + e["pollution_surcharge_yuan"]
        e["land_tax_relief_yuan"] = LAND_TAX_GROSS[f] * RELIEF[k]
        e["land_tax_yuan"] = LAND_TAX_GROSS[f] - e["land_tax_relief_yuan"]
        # Profit before income tax, 万元: the margin (before differentiated charges) on
        # revenue, plus the macro shift, less every differentiated charge (class,
        # national and tiered electricity; pollution's class part; water over quota and
        # sewage) and the land-use tax after relief (engine.flush and close_year).
        pre_tax = (REVENUE[f] * (MARGIN[f] + MARGIN_SHIFT[year])
                   - 1e-4 * (e["electricity_surcharge_yuan"] + e["national_tiered_yuan"]
                             + e["pollution_surcharge_yuan"] + e["water_surcharge_yuan"]
                             + e["land_tax_yuan"]))
        income_tax = INCOME_TAX_RATE[f] * max(pre_tax, 0.0)
        e["tax_wan_yuan"] = VA[f] * TAX_SHARE_FINAL[f] + income_tax
        # Subsidies and awards: 2% of tax (baseline rate_of_tax), withheld from C and D.
        entitled = e["tax_wan_yuan"] * 1e4 * 0.02
        e["subsidy_yuan"] = 0.0 if k in ("C", "D") else entitled
        e["subsidy_withheld_yuan"] = entitled - e["subsidy_yuan"]
        e["profit_wan_yuan"] = pre_tax - income_tax + e["subsidy_yuan"] * 1e-4
        if f in ABOVE:
            e["score"] = above_scale_score(f, e["tax_wan_yuan"])
        elif f == DYE:
            e["score"] = below_scale_score(f, e["tax_wan_yuan"])
        e["class"] = klass(e["score"], A_THRESHOLD[year]) if f != SVC else "U"
        EXPECTED[year][f] = e
    if year == 2017:
        CLASS_IN_FORCE[2018] = {f: EXPECTED[2017][f]["class"] for f in FIRMS}
# electronics scores exactly 200 (both indicators capped at 2x): A in 2017, whose A
# threshold is 200, and B in 2018, whose threshold is 250.
assert EXPECTED[2017][ELE]["score"] == 200.0
assert CLASS_IN_FORCE[2018] == {ELE: "A", MAC: "B", MET: "D", DYE: "C", SVC: "U"}
assert {f: EXPECTED[2018][f]["class"] for f in FIRMS} == {
    ELE: "B", MAC: "B", MET: "D", DYE: "C", SVC: "U"}

# ---- 7. The recycling fund (dynamics: recycling) ------------------------------------
# Each year 10% of the class surcharges on electricity, the water surcharges (over quota
# and sewage) and the pollution class surcharges of all firms is paid in; half of it goes
# to awards shared by the firms the year's evaluation put in A, half to retrofit grants.
FUND_INFLOW = {year: 0.1 * sum(EXPECTED[year][f][k] for f in FIRMS for k in (
    "electricity_surcharge_yuan", "water_surcharge_yuan", "pollution_surcharge_yuan"))
    for year in YEARS}  # 62,796 and 91,688 yuan
A_AWARD = {2017: 0.5 * FUND_INFLOW[2017], 2018: 0.0}  # 2018: no A firm; kept for grants

# The machinery firm's retrofit (dynamics.investment.retrofit, machinery override): it
# saves 20% of its energy, 0.2 x 82.19 = 16.44 tce a year, for capex 26,000 yuan per
# tce; it is ready after 12 months and saves for 5 years, valued at its class's loan
# rate (B 4.75%, baseline). A tce saved is 60% electricity, at its price without the
# capacity charge (0.75 x 1.09 + 0.10 national), and 40% fuel at 900 yuan/tce (baseline).
SAVED_TCE = 0.2 * TCE[MAC]
RETROFIT_CAPEX = SAVED_TCE * 26000.0  # 427,412 yuan
SAVING_PER_YEAR = SAVED_TCE * (0.6 * (0.75 * TOU + 0.10) / TCE_PER_KWH + 0.4 * 900.0)
RETROFIT_NPV = -RETROFIT_CAPEX + sum(SAVING_PER_YEAR / 1.0475**k for k in range(2, 7))
assert RETROFIT_NPV < 0  # it does not pay alone
# A firm whose retrofit does not pay asks the fund for what makes its NPV positive
# (1 yuan more), at most 30% of the capex.
GRANT_REQUEST = min(0.3 * RETROFIT_CAPEX, -RETROFIT_NPV + 1.0)  # 96,327.51 yuan
# 2017: the grant pot is half the inflow, 31,398 < the request: a partial grant would not
# make the NPV positive, so nothing is granted and the pot is carried over.
GRANT_POT = {2017: 0.5 * FUND_INFLOW[2017]}
assert GRANT_POT[2017] < GRANT_REQUEST - 1.0
# 2018: the carried pot, this year's half and the award half no A firm took: 123,086.
GRANT_POT[2018] = GRANT_POT[2017] + 0.5 * FUND_INFLOW[2018] + 0.5 * FUND_INFLOW[2018]
assert GRANT_POT[2018] >= GRANT_REQUEST
# Had the award half been lost, the pot (77,242) would not have made the retrofit pay.
assert GRANT_POT[2017] + 0.5 * FUND_INFLOW[2018] < GRANT_REQUEST - 1.0
RETROFIT_GRANT = {2017: 0.0, 2018: GRANT_REQUEST}
FUND_BALANCE = {2017: FUND_INFLOW[2017] - A_AWARD[2017]}
FUND_BALANCE[2018] = FUND_BALANCE[2017] + FUND_INFLOW[2018] - RETROFIT_GRANT[2018]

# ---- 8. Cash (dynamics: money) ------------------------------------------------------
# Cash starts at 1% of revenue (dynamics.finance.initial_cash_share_of_revenue). At each
# year end it grows by the year's profit, less interest on negative cash at its class's
# loan rate (baseline finance.loan_rate_by_class), plus A awards, less the capex the firm
# pays itself. The one borrower, metals, is D in force and assigned alike: 6.5%.
LOAN_RATE = {"A": 0.0435, "B": 0.0475, "C": 0.055, "D": 0.065, "U": 0.0475}
CASH = {2017: {f: 0.01 * REVENUE[f] for f in FIRMS}}  # cash at the start of the year
for year in YEARS:
    start = CASH[year]
    after = {}
    for f in FIRMS:
        interest = -start[f] * LOAN_RATE[EXPECTED[year][f]["class"]] if start[f] < 0 else 0.0
        award = A_AWARD[year] if EXPECTED[year][f]["class"] == "A" else 0.0
        capex = RETROFIT_CAPEX - RETROFIT_GRANT[year] if (f == MAC and year == 2018) else 0.0
        after[f] = start[f] + EXPECTED[year][f]["profit_wan_yuan"] - interest + (
            award - capex) * 1e-4
    CASH[year + 1] = after
# The loss-making metals firm has borrowed by the end of 2017 and pays interest in 2018.
assert CASH[2018][MET] < 0
assert all(CASH[2018][f] >= 0 for f in FIRMS if f != MET)
assert CLASS_IN_FORCE[2018][MET] == EXPECTED[2018][MET]["class"] == "D"


# =========================================================================== the tests


@pytest.fixture(scope="module")
def run():
    tables: list[pa.Table] = []
    result = simulate(hand_scenario(), on_snapshot=tables.append)
    firms = pa.concat_tables(tables).to_pandas()
    firms["sector"] = firms["sector"].astype(str)
    return result, firms


def yuan(value: float):
    return pytest.approx(value, abs=0.01, rel=0)


def wan_yuan(value: float):
    return pytest.approx(value, abs=1e-6, rel=0)  # 0.01 yuan


def row(firms: pd.DataFrame, year: int, firm: str) -> pd.Series:
    sel = firms[(firms["year"] == year) & (firms["sector"] == firm)]
    assert len(sel) == 1
    return sel.iloc[0]


def metric(result, name: str, year: int, group: str = "all") -> float:
    m = result.metrics
    sel = m[m["month"].isna() & (m["metric"] == name) & (m["group"] == group)
            & (m["year"] == year)]
    assert len(sel) == 1, (name, group, year)
    return float(sel["value"].iloc[0])


def final(result, firm: str, attr: str) -> float:
    f = result.firms
    names = result.scenario.sector_names()
    (i,) = [i for i in range(f.n) if names[f.sector[i]] == firm]
    return float(getattr(f, attr)[i])


@pytest.mark.parametrize("year", YEARS)
@pytest.mark.parametrize("firm", FIRMS)
def test_calibration_rescales_revenue_va_employees_and_tax(run, firm, year):
    _, firms = run
    r = row(firms, year, firm)
    assert r["va_wan_yuan"] == wan_yuan(VA[firm])
    assert r["revenue_wan_yuan"] == wan_yuan(REVENUE[firm])
    assert r["employees"] == pytest.approx(EMPLOYEES[firm], abs=1e-9)
    assert r["tax_wan_yuan"] == wan_yuan(EXPECTED[year][firm]["tax_wan_yuan"])
    assert r["rd_wan_yuan"] == wan_yuan(REVENUE[firm] * RD_SHARE[firm])
    assert r["electricity_kwh"] == pytest.approx(KWH[firm], abs=1e-6)
    assert r["water_m3"] == pytest.approx(WATER[firm], abs=1e-6)
    assert r["energy_tce"] == pytest.approx(TCE[firm], abs=1e-9)


def test_first_year_hits_the_calibration_targets_exactly(run):
    result, _ = run
    assert metric(result, "tax_per_mu_wan_yuan", 2017, "scale=above") == pytest.approx(
        25.5, abs=1e-9)
    assert metric(result, "va_per_mu_wan_yuan", 2017, "scale=above") == pytest.approx(
        103.2, abs=1e-9)
    assert metric(result, "labour_productivity_wan_yuan", 2017, "scale=above") == (
        pytest.approx(21.6, abs=1e-9))


@pytest.mark.parametrize("year", YEARS)
@pytest.mark.parametrize("firm", FIRMS)
def test_bills_match_the_hand_computed_ones(run, firm, year):
    _, firms = run
    r = row(firms, year, firm)
    e = EXPECTED[year][firm]
    assert r["class_in_force"] == e["class_in_force"]
    for column in ("electricity_bill_yuan", "electricity_surcharge_yuan", "water_bill_yuan",
                   "water_surcharge_yuan", "pollution_charge_yuan", "pollution_surcharge_yuan",
                   "land_tax_yuan", "land_tax_relief_yuan", "subsidy_yuan"):
        assert r[column] == yuan(e[column]), column


def test_capacity_charge_is_billed_for_every_month(run):
    # The two-part tariff's capacity charge: kVA x 30 yuan x 12 months, in 2018 too, when
    # the timeline cut the year into two billing periods of six months.
    _, firms = run
    for year in YEARS:
        for firm in (ELE, MET):
            r = row(firms, year, firm)
            per_kwh = (ENERGY_PRICE[firm] + NATIONAL[firm] + TIERED[firm]
                       + (D_SURCHARGE[year] if firm == MET else 0.0))
            capacity = r["electricity_bill_yuan"] - KWH[firm] * per_kwh
            assert capacity == yuan(KVA[firm] * 30 * 12), (firm, year)


@pytest.mark.parametrize("year", YEARS)
@pytest.mark.parametrize("firm", FIRMS)
def test_profit_counts_every_charge_relief_and_subsidy(run, firm, year):
    _, firms = run
    r = row(firms, year, firm)
    assert r["profit_wan_yuan"] == wan_yuan(EXPECTED[year][firm]["profit_wan_yuan"])


@pytest.mark.parametrize("year", YEARS)
def test_scores_and_classes(run, year):
    _, firms = run
    for firm in FIRMS:
        r = row(firms, year, firm)
        e = EXPECTED[year][firm]
        assert r["class"] == e["class"], firm
        if firm == SVC:
            assert pd.isna(r["score"])
        else:
            assert r["score"] == pytest.approx(e["score"], abs=1e-9), firm
    # Class shares among the four evaluated firms (services are not evaluated here).
    assigned = [EXPECTED[year][f]["class"] for f in INDUSTRIAL]
    for c in "ABCD":
        assert metric(run[0], "class_share", year, f"class={c}") == assigned.count(c) / 4


def test_a_score_exactly_on_the_a_threshold_is_a(run):
    # README: thresholds are minimum scores (S >= A threshold is A). Electronics scores
    # exactly 200.0, the 2017 threshold: A, both on potential output (the classes in
    # force in 2017) and in the 2017 evaluation.
    _, firms = run
    r = row(firms, 2017, ELE)
    assert r["score"] == 200.0
    assert r["class_in_force"] == "A"
    assert r["class"] == "A"


def test_d_years_escalate_the_d_surcharge(run):
    _, firms = run
    assert row(firms, 2017, MET)["consecutive_d_years"] == 2
    assert row(firms, 2018, MET)["consecutive_d_years"] == 3
    # 2017: 0.3 yuan/kWh; 2018: 0.4 (third year in D) until June, 0.5 (timeline) after.
    assert row(firms, 2017, MET)["electricity_surcharge_yuan"] == yuan(KWH[MET] * 0.3)
    assert row(firms, 2018, MET)["electricity_surcharge_yuan"] == yuan(
        KWH[MET] * 0.4 * 6 / 12 + KWH[MET] * 0.5 * 6 / 12)


def test_cash_grows_by_profit_awards_less_interest_and_capex(run):
    result, firms = run
    for firm in FIRMS:
        # The snapshot holds the cash at the start of its year.
        assert row(firms, 2017, firm)["cash_wan_yuan"] == wan_yuan(CASH[2017][firm]), firm
        assert row(firms, 2018, firm)["cash_wan_yuan"] == wan_yuan(CASH[2018][firm]), firm
        assert final(result, firm, "cash_wan_yuan") == wan_yuan(CASH[2019][firm]), firm


def test_borrowed_cash_pays_interest_at_the_class_loan_rate(run):
    result, firms = run
    borrowed = -row(firms, 2018, MET)["cash_wan_yuan"]
    assert borrowed == wan_yuan(-CASH[2018][MET])
    interest = borrowed * 0.065  # D's loan rate
    assert final(result, MET, "cash_wan_yuan") == wan_yuan(
        -borrowed + EXPECTED[2018][MET]["profit_wan_yuan"] - interest)
    assert row(firms, 2018, MET)["consecutive_loss_years"] == 1
    assert final(result, MET, "consecutive_loss_years") == 2


def test_fund_pays_awards_and_keeps_unclaimed_award_money_for_grants(run):
    result, _ = run
    for year in YEARS:
        assert metric(result, "fund_inflow_yuan", year) == yuan(FUND_INFLOW[year])
        assert metric(result, "fund_a_award_yuan", year) == yuan(A_AWARD[year])
        assert metric(result, "fund_retrofit_subsidy_yuan", year) == yuan(RETROFIT_GRANT[year])
        assert metric(result, "fund_balance_yuan", year) == yuan(FUND_BALANCE[year])
    assert metric(result, "investments_retrofit", 2017) == 0
    assert metric(result, "investments_retrofit", 2018) == 1
    assert metric(result, "investment_capex_wan_yuan", 2018, "option=retrofit") == wan_yuan(
        RETROFIT_CAPEX * 1e-4)
    assert metric(result, "investment_subsidy_wan_yuan", 2018, "option=retrofit") == (
        wan_yuan(GRANT_REQUEST * 1e-4))
    assert final(result, MAC, "invested") == 1


def test_metrics_sum_the_hand_computed_bills(run):
    result, _ = run
    for year in YEARS:
        e = EXPECTED[year]

        def total(key, firms=INDUSTRIAL, e=e):
            return sum(e[f][key] for f in firms)

        bills = {
            "electricity_bill_yuan": total("electricity_bill_yuan"),
            "water_bill_yuan": total("water_bill_yuan"),
            "land_tax_yuan": total("land_tax_yuan"),
            "pollution_charge_yuan": total("pollution_charge_yuan"),
            "subsidy_yuan": total("subsidy_yuan"),
            "revenue_electricity_class_surcharge_yuan": total("electricity_surcharge_yuan"),
            "revenue_electricity_national_tiered_yuan": total("national_tiered_yuan"),
            "revenue_water_surcharge_yuan": total("water_surcharge_yuan"),
            "revenue_pollution_surcharge_yuan": total("pollution_surcharge_yuan"),
            "land_tax_relief_yuan": total("land_tax_relief_yuan"),
            "subsidy_withheld_yuan": total("subsidy_withheld_yuan"),
            "resource_bill_yuan": sum(total(k) for k in (
                "electricity_bill_yuan", "water_bill_yuan", "land_tax_yuan",
                "pollution_charge_yuan")),
            "differential_revenue_yuan": sum(total(k) for k in (
                "electricity_surcharge_yuan", "national_tiered_yuan", "water_surcharge_yuan",
                "pollution_surcharge_yuan")) - total("land_tax_relief_yuan"),
        }
        for name, value in bills.items():
            assert metric(result, name, year) == yuan(value), (name, year)
        # Bills by the class in force; the D group is the metals firm alone.
        assert metric(result, "electricity_bill_yuan", year, "class=D") == yuan(
            e[MET]["electricity_bill_yuan"])
        assert metric(result, "revenue_electricity_national_tiered_yuan", year,
                      "sector=metals") == yuan(KWH[MET] * 0.08)
        # Totals: industrial firms in "all", the services firm on its own.
        assert metric(result, "tax_wan_yuan", year) == wan_yuan(total("tax_wan_yuan"))
        assert metric(result, "tax_wan_yuan", year, "kind=services") == wan_yuan(
            e[SVC]["tax_wan_yuan"])
        assert metric(result, "revenue_wan_yuan", year) == wan_yuan(
            sum(REVENUE[f] for f in INDUSTRIAL))
        assert metric(result, "jobs", year) == pytest.approx(
            sum(EMPLOYEES[f] for f in INDUSTRIAL), abs=1e-9)

"""Electricity bill: hand-computed bills for each rule, then properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.scenario import (
    Block,
    ClassValues,
    ElectricityTariff,
    Escalation,
    TieredSchedule,
    TimeOfUse,
)
from simulator.tariffs import ElectricityBill, class_surcharge_per_kwh, electricity_bill

NAN = float("nan")
SECTORS = ["textiles", "metals"]
A, B, C, D, U = 0, 1, 2, 3, 4
NORMAL, RESTRICTED, ELIMINATED = 0, 1, 2
NO_TOU = TimeOfUse(enabled=False)


def aluminium_tiers() -> dict[str, TieredSchedule]:
    """NDRC 2013 electrolytic aluminium: <=13,700 kWh/t 0; to 13,800 +0.02; above +0.08."""
    return {
        "metals": TieredSchedule(
            reference_unit_consumption=13600,
            blocks=[
                Block(above=13700, surcharge_yuan_per_kwh=0.02),
                Block(above=13800, surcharge_yuan_per_kwh=0.08),
            ],
        )
    }


def tariff(**fields) -> ElectricityTariff:
    """A tariff with time-of-use off and no class surcharge unless stated."""
    fields.setdefault("time_of_use", NO_TOU)
    fields.setdefault("class_surcharge_yuan_per_kwh", ClassValues())
    return ElectricityTariff(**fields)


def bill(
    params: ElectricityTariff,
    *,
    kwh,
    klass=None,
    consecutive_d_years=None,
    capacity_kva=None,
    process_status=None,
    unit_consumption=None,
    sector=None,
    months: float = 1.0,
) -> ElectricityBill:
    """Bill firms that are, unless stated, unrated general-tariff textile firms."""
    kwh = np.asarray(kwh, dtype=float)
    n = kwh.size

    def given_or(value, default):
        return np.full(n, default) if value is None else np.asarray(value)

    return electricity_bill(
        kwh,
        klass=given_or(klass, U).astype(np.int8),
        consecutive_d_years=given_or(consecutive_d_years, 0).astype(np.int16),
        capacity_kva=given_or(capacity_kva, 100.0).astype(float),
        process_status=given_or(process_status, NORMAL).astype(np.int8),
        unit_consumption=given_or(unit_consumption, NAN).astype(float),
        sector=given_or(sector, 0).astype(np.int16),
        sector_names=SECTORS,
        params=params,
        months=months,
    )


def assert_components_sum_to_total(b: ElectricityBill) -> None:
    parts = (
        b.energy_yuan + b.capacity_yuan + b.national_yuan + b.tiered_yuan + b.class_surcharge_yuan
    )
    np.testing.assert_allclose(parts, b.total_yuan, rtol=1e-12, atol=1e-9)


# ------------------------------------------------------------------ hand cases


def test_large_industry_pays_two_part_tariff_from_the_capacity_threshold():
    # 100 kVA: general 1000 x 0.75 = 750, no capacity charge.
    # 315 kVA (= threshold): large 1000 x 0.64 = 640; capacity 30 x 315 = 9,450.
    # 500 kVA: large 2000 x 0.64 = 1,280; capacity 30 x 500 = 15,000.
    b = bill(tariff(), kwh=[1000, 1000, 2000], capacity_kva=[100, 315, 500])
    np.testing.assert_allclose(b.energy_yuan, [750, 640, 1280])
    np.testing.assert_allclose(b.capacity_yuan, [0, 9450, 15000])
    np.testing.assert_allclose(b.total_yuan, [750, 10090, 16280])


def test_capacity_charge_scales_with_months_but_energy_does_not():
    # 3 months: capacity 30 x 315 x 3 = 28,350; energy still 1000 x 0.64 = 640.
    b = bill(tariff(), kwh=[1000, 1000], capacity_kva=[100, 315], months=3.0)
    np.testing.assert_allclose(b.capacity_yuan, [0, 28350])
    np.testing.assert_allclose(b.energy_yuan, [750, 640])


def test_time_of_use_scales_energy_price_only():
    # Default TOU: 0.35 x 1.6 + 0.35 x 1.0 + 0.30 x 0.6 = 1.09.
    # general D firm: 1000 x 0.75 x 1.09 = 817.5 energy; surcharge 1000 x 0.3 = 300 (no TOU).
    # large firm: 1000 x 0.64 x 1.09 = 697.6 energy; capacity 30 x 400 = 12,000 (no TOU).
    params = tariff(time_of_use=TimeOfUse(), class_surcharge_yuan_per_kwh=ClassValues(D=0.3))
    b = bill(params, kwh=[1000, 1000], klass=[D, B], capacity_kva=[100, 400])
    np.testing.assert_allclose(b.energy_yuan, [817.5, 697.6])
    np.testing.assert_allclose(b.capacity_yuan, [0, 12000])
    np.testing.assert_allclose(b.class_surcharge_yuan, [300, 0])
    np.testing.assert_allclose(b.total_yuan, [1117.5, 12697.6])


def test_national_differential_charges_restricted_and_eliminated_processes():
    # 1000 kWh each at +0 / +0.10 / +0.30 = 0 / 100 / 300 yuan; energy 750 each.
    b = bill(tariff(), kwh=[1000, 1000, 1000], process_status=[NORMAL, RESTRICTED, ELIMINATED])
    np.testing.assert_allclose(b.national_yuan, [0, 100, 300])
    np.testing.assert_allclose(b.total_yuan, [750, 850, 1050])


def test_aluminium_tiers_charge_every_kwh_by_unit_consumption():
    # metals firms at 13,650 / 13,750 / 13,900 / 13,700 (the edge) kWh/t and one
    # with no figure (NaN): +0 / +0.02 / +0.08 / +0 / +0 yuan/kWh on 1000 kWh.
    # A textile firm is not tiered whatever its figure.
    b = bill(
        tariff(tiered=aluminium_tiers()),
        kwh=[1000] * 6,
        sector=[1, 1, 1, 1, 1, 0],
        unit_consumption=[13650, 13750, 13900, 13700, NAN, 20000],
    )
    np.testing.assert_allclose(b.tiered_yuan, [0, 20, 80, 0, 0, 0])


def test_tiered_schedule_for_a_sector_not_in_the_run_is_ignored():
    tiers = {"cement": aluminium_tiers()["metals"]}
    b = bill(tariff(tiered=tiers), kwh=[1000, 1000], sector=[0, 1], unit_consumption=[99999, 99999])
    np.testing.assert_array_equal(b.tiered_yuan, [0, 0])


def test_d_firms_pay_surcharge_on_every_kwh():
    # Default class surcharge D +0.3: 2000 kWh -> 600 yuan; A, B, C pay 0.
    params = tariff(class_surcharge_yuan_per_kwh=ClassValues(D=0.3))
    b = bill(
        params, kwh=[2000, 2000, 2000, 2000], klass=[A, B, C, D], consecutive_d_years=[0, 0, 0, 1]
    )
    np.testing.assert_allclose(b.class_surcharge_yuan, [0, 0, 0, 600])
    np.testing.assert_allclose(b.total_yuan, [1500, 1500, 1500, 2100])


def test_unrated_firms_pay_no_class_surcharge():
    params = tariff(class_surcharge_yuan_per_kwh=ClassValues(A=0.1, B=0.2, C=0.3, D=0.4))
    b = bill(params, kwh=[1000, 1000], klass=[U, D], consecutive_d_years=[5, 5])
    np.testing.assert_allclose(b.class_surcharge_yuan, [0, 400])


def test_c_class_can_pay_half_the_d_surcharge():
    # Nanjing's C-: 0.15 x 1000 = 150; D 0.3 x 1000 = 300.
    params = tariff(class_surcharge_yuan_per_kwh=ClassValues(C=0.15, D=0.3))
    b = bill(params, kwh=[1000, 1000], klass=[C, D], consecutive_d_years=[0, 1])
    np.testing.assert_allclose(b.class_surcharge_yuan, [150, 300])


def test_d_surcharge_rises_to_0_4_from_the_third_consecutive_d_year():
    # D spells of 1, 2, 3, 4 years: 0.3, 0.3, 0.4, 0.4 on 1000 kWh. A C firm with
    # a (stale) count of 5 keeps the C surcharge (0): escalation is for D only.
    params = tariff(
        class_surcharge_yuan_per_kwh=ClassValues(D=0.3),
        d_escalation=[Escalation(min_consecutive_years=3, surcharge_yuan_per_kwh=0.4)],
    )
    b = bill(params, kwh=[1000] * 5, klass=[D, D, D, D, C], consecutive_d_years=[1, 2, 3, 4, 5])
    np.testing.assert_allclose(b.class_surcharge_yuan, [300, 300, 400, 400, 0])


def test_shandong_surcharge_steps_with_consecutive_d_years():
    # Shandong 2022: 0.05 / 0.10 / 0.15 after 1 / 2 / 3 years (and stays 0.15).
    # A D firm with a count of 0 (no entry applies) keeps the base D value 0.05.
    steps = [
        Escalation(min_consecutive_years=y, surcharge_yuan_per_kwh=s)
        for y, s in ((1, 0.05), (2, 0.10), (3, 0.15))
    ]
    params = tariff(class_surcharge_yuan_per_kwh=ClassValues(D=0.05), d_escalation=steps)
    b = bill(params, kwh=[1000] * 5, klass=[D] * 5, consecutive_d_years=[0, 1, 2, 3, 7])
    np.testing.assert_allclose(b.class_surcharge_yuan, [50, 50, 100, 150, 150])


def test_class_surcharge_per_kwh_applies_escalation_to_d_only():
    params = tariff(
        class_surcharge_yuan_per_kwh=ClassValues(C=0.1, D=0.3),
        d_escalation=[Escalation(min_consecutive_years=2, surcharge_yuan_per_kwh=0.5)],
    )
    rate = class_surcharge_per_kwh(np.array([C, D, D, U]), np.array([3, 1, 2, 2]), params)
    np.testing.assert_allclose(rate, [0.1, 0.3, 0.5, 0.0])


def test_escalation_never_lowers_the_d_surcharge():
    # The timeline raised D's surcharge to 0.6 above the 0.4 of the third year in D: a firm
    # three years in D pays 0.6, not 0.4; below the level, escalation still raises it.
    escalation = [Escalation(min_consecutive_years=3, surcharge_yuan_per_kwh=0.4)]
    for base, third_year in ((0.6, 0.6), (0.3, 0.4)):
        params = tariff(class_surcharge_yuan_per_kwh=ClassValues(D=base), d_escalation=escalation)
        rate = class_surcharge_per_kwh(np.array([D, D, D]), np.array([1, 3, 5]), params)
        np.testing.assert_allclose(rate, [base, third_year, third_year])


STACK_CASE = {
    # f0: D, restricted (0.10), not tiered
    # f1: D, eliminated (0.30), metals 13,900 (0.08)
    # f2: B, normal, metals 13,900 (0.08)
    # f3: D, normal, metals 13,750 (0.02)
    # f4: unrated, eliminated (0.30), metals 13,900 (0.08)
    "kwh": [1000] * 5,
    "klass": [D, D, B, D, U],
    "consecutive_d_years": [1, 1, 0, 1, 0],
    "process_status": [RESTRICTED, ELIMINATED, NORMAL, NORMAL, ELIMINATED],
    "sector": [0, 1, 1, 1, 1],
    "unit_consumption": [NAN, 13900, 13900, 13750, 13900],
}


def test_add_stacking_charges_national_tiered_and_class_together():
    # extra per kWh: 0.10+0.3=0.40; 0.30+0.08+0.3=0.68; 0.08; 0.02+0.3=0.32; 0.30+0.08=0.38
    params = tariff(
        tiered=aluminium_tiers(), stacking="add", class_surcharge_yuan_per_kwh=ClassValues(D=0.3)
    )
    b = bill(params, **STACK_CASE)
    np.testing.assert_allclose(b.national_yuan, [100, 300, 0, 0, 300])
    np.testing.assert_allclose(b.tiered_yuan, [0, 80, 80, 20, 80])
    np.testing.assert_allclose(b.class_surcharge_yuan, [300, 300, 0, 300, 0])
    np.testing.assert_allclose(b.total_yuan, 750 + np.array([400, 680, 80, 320, 380]))
    assert_components_sum_to_total(b)


def test_highest_stacking_charges_only_the_largest_extra_price():
    # extra per kWh = max(national, tiered, class):
    # f0 max(0.10, 0, 0.3)=0.3: national 100, class 200
    # f1 max(0.30, 0.08, 0.3)=0.3: national 300 (beats tiered), tiered 0, class 0
    # f2 max(0, 0.08, 0)=0.08: tiered 80
    # f3 max(0, 0.02, 0.3)=0.3: tiered 20, class 280
    # f4 max(0.30, 0.08, 0)=0.3: national 300, tiered 0
    params = tariff(
        tiered=aluminium_tiers(),
        stacking="highest",
        class_surcharge_yuan_per_kwh=ClassValues(D=0.3),
    )
    b = bill(params, **STACK_CASE)
    np.testing.assert_allclose(b.national_yuan, [100, 300, 0, 0, 300])
    np.testing.assert_allclose(b.tiered_yuan, [0, 0, 80, 20, 0])
    np.testing.assert_allclose(b.class_surcharge_yuan, [200, 0, 0, 280, 0], atol=1e-9)
    np.testing.assert_allclose(b.total_yuan, 750 + np.array([300, 300, 80, 300, 300]))
    assert_components_sum_to_total(b)


def test_highest_stacking_bills_a_tie_of_national_and_tiered_as_national():
    # A restricted aluminium firm (national 0.10) in the tiered block above 13,700 kWh/t
    # whose surcharge is also 0.10: under "highest" the 0.10 is charged once, under the
    # national field (national wins a tie), none under the tiered one.
    tiers = {
        "metals": TieredSchedule(
            reference_unit_consumption=13600,
            blocks=[Block(above=13700, surcharge_yuan_per_kwh=0.10)],
        )
    }
    params = tariff(tiered=tiers, stacking="highest")
    b = bill(params, kwh=[1000.0], process_status=[RESTRICTED], unit_consumption=[13750.0],
             sector=[1])
    np.testing.assert_allclose(b.national_yuan, [100.0])
    np.testing.assert_allclose(b.tiered_yuan, [0.0])
    np.testing.assert_allclose(b.total_yuan, [750.0 + 100.0])


def test_bill_arrays_are_float64_and_match_the_firm_count():
    b = bill(tariff(), kwh=np.arange(7))
    for name in ElectricityBill.__dataclass_fields__:
        value = getattr(b, name)
        assert value.dtype == np.float64
        assert value.shape == (7,)


def test_empty_population_gives_empty_bills():
    b = bill(tariff(tiered=aluminium_tiers()), kwh=np.zeros(0))
    assert b.total_yuan.shape == (0,)


# ------------------------------------------------------------------ properties


@st.composite
def scenarios(draw, max_firms: int = 12):
    """Random tariff (with class A <= every D level) and a random population."""
    n = draw(st.integers(1, max_firms))
    a_rate = draw(st.floats(0, 0.3))
    d_rate = a_rate + draw(st.floats(0, 0.5))
    years = sorted(draw(st.sets(st.integers(1, 5), max_size=3)))
    escalation = [
        Escalation(min_consecutive_years=y, surcharge_yuan_per_kwh=a_rate + draw(st.floats(0, 0.6)))
        for y in years
    ]
    tou = TimeOfUse(enabled=draw(st.booleans()))
    params = ElectricityTariff(
        class_surcharge_yuan_per_kwh=ClassValues(
            A=a_rate, B=draw(st.floats(0, 0.5)), C=draw(st.floats(0, 0.5)), D=d_rate
        ),
        d_escalation=escalation,
        stacking=draw(st.sampled_from(["add", "highest"])),
        time_of_use=tou,
        tiered=aluminium_tiers(),
    )
    sector = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)), dtype=np.int16)
    unit = np.array(draw(st.lists(st.floats(13500, 14000), min_size=n, max_size=n)))
    unit[sector == 0] = NAN
    firms = {
        "kwh": np.array(draw(st.lists(st.floats(0, 1e7), min_size=n, max_size=n))),
        "klass": np.array(draw(st.lists(st.integers(0, 4), min_size=n, max_size=n)), np.int8),
        "consecutive_d_years": np.array(
            draw(st.lists(st.integers(0, 6), min_size=n, max_size=n)), np.int16
        ),
        "capacity_kva": np.array(draw(st.lists(st.floats(0, 2000), min_size=n, max_size=n))),
        "process_status": np.array(
            draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)), np.int8
        ),
        "unit_consumption": unit,
        "sector": sector,
    }
    return params, firms


def run(params, firms, **changes) -> ElectricityBill:
    return electricity_bill(**{**firms, **changes}, sector_names=SECTORS, params=params, months=1.0)


@settings(deadline=None)
@given(scenarios())
def test_every_component_is_non_negative(case):
    params, firms = case
    b = run(params, firms)
    for name in ElectricityBill.__dataclass_fields__:
        assert (getattr(b, name) >= 0).all(), name


@settings(deadline=None)
@given(scenarios())
def test_components_sum_to_the_total(case):
    params, firms = case
    assert_components_sum_to_total(run(params, firms))


@settings(deadline=None)
@given(scenarios(), st.data())
def test_bill_never_falls_when_kwh_rises(case, data):
    params, firms = case
    n = firms["kwh"].size
    more = firms["kwh"] + np.array(data.draw(st.lists(st.floats(0, 1e6), min_size=n, max_size=n)))
    before, after = run(params, firms), run(params, firms, kwh=more)
    assert (after.total_yuan >= before.total_yuan).all()


@settings(deadline=None)
@given(scenarios(), st.data())
def test_permuting_firms_permutes_their_bills(case, data):
    params, firms = case
    n = firms["kwh"].size
    order = np.array(data.draw(st.permutations(range(n))), dtype=np.intp)
    b = run(params, firms)
    shuffled = run(params, {k: v[order] for k, v in firms.items()})
    for name in ElectricityBill.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(shuffled, name), getattr(b, name)[order])


@settings(deadline=None)
@given(scenarios())
def test_d_firm_never_pays_less_than_an_a_firm_with_the_same_inputs(case):
    params, firms = case
    n = firms["kwh"].size
    as_a = run(params, firms, klass=np.full(n, A, np.int8))
    as_d = run(params, firms, klass=np.full(n, D, np.int8))
    assert (as_d.total_yuan >= as_a.total_yuan).all()


@pytest.mark.parametrize("stacking", ["add", "highest"])
def test_vectorised_bill_matches_a_per_firm_reference(stacking):
    # 10^5 random firms: the vectorised bill matches a per-firm reference.
    rng = np.random.default_rng(7)
    n = 100_000
    params = ElectricityTariff(
        tiered=aluminium_tiers(),
        stacking=stacking,
        d_escalation=[Escalation(min_consecutive_years=3, surcharge_yuan_per_kwh=0.4)],
    )
    firms = {
        "kwh": rng.uniform(0, 1e6, n),
        "klass": rng.integers(0, 5, n).astype(np.int8),
        "consecutive_d_years": rng.integers(0, 5, n).astype(np.int16),
        "capacity_kva": rng.uniform(0, 1000, n),
        "process_status": rng.integers(0, 3, n).astype(np.int8),
        "unit_consumption": rng.uniform(13500, 14000, n),
        "sector": rng.integers(0, 2, n).astype(np.int16),
    }
    firms["unit_consumption"][firms["sector"] == 0] = NAN
    b = run(params, firms)
    sample = rng.choice(n, 200, replace=False)
    tou = params.time_of_use.mean_multiplier
    for i in sample:
        large = firms["capacity_kva"][i] >= 315
        energy = (0.64 if large else 0.75) * tou
        national = (0.0, 0.10, 0.30)[firms["process_status"][i]]
        u = firms["unit_consumption"][i]
        tier = 0.08 if u > 13800 else 0.02 if u > 13700 else 0.0
        k = firms["klass"][i]
        cls = 0.3 if k == D else 0.0
        if k == D and firms["consecutive_d_years"][i] >= 3:
            cls = 0.4
        extra = national + tier + cls if stacking == "add" else max(national, tier, cls)
        expected = firms["kwh"][i] * (energy + extra) + (
            30 * firms["capacity_kva"][i] if large else 0.0
        )
        assert b.total_yuan[i] == pytest.approx(expected, rel=1e-12)

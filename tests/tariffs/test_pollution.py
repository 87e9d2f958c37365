"""Pollution charge: equivalents, water/air rates and class multipliers, then properties."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.scenario import ClassValues, PollutantValues, PollutionCharge
from simulator.tariffs import PollutionBill, pollution_charge, pollution_equivalents

A, B, C, D, U = 0, 1, 2, 3, 4


def assert_components_sum_to_total(b: PollutionBill) -> None:
    np.testing.assert_allclose(
        b.base_yuan + b.class_surcharge_yuan, b.total_yuan, rtol=1e-12, atol=1e-9
    )


# ------------------------------------------------------------------ hand cases


def test_equivalents_are_kg_over_the_equivalent_value():
    # 1 t each of cod, nh3n, so2, nox: 1000/1 = 1000, 1000/0.8 = 1250,
    # 1000/0.95 = 1052.63..., 1000/0.95.
    eq = pollution_equivalents(np.ones((1, 4)), params=PollutionCharge())
    np.testing.assert_allclose(eq, [[1000, 1250, 1000 / 0.95, 1000 / 0.95]])


def test_water_and_air_pollutants_pay_their_own_rates():
    # f0: 2 t cod -> 2000 eq x 1.4 = 2,800
    # f1: 0.8 t nh3n -> 1000 eq x 1.4 = 1,400
    # f2: 0.95 t so2 + 0.95 t nox -> 2000 eq x 1.2 = 2,400
    # f3: nothing -> 0
    emissions = np.array([[2, 0, 0, 0], [0, 0.8, 0, 0], [0, 0, 0.95, 0.95], [0, 0, 0, 0]])
    b = pollution_charge(emissions, klass=np.full(4, B), params=PollutionCharge())
    np.testing.assert_allclose(b.base_yuan, [2800, 1400, 2400, 0])
    np.testing.assert_allclose(b.total_yuan, [2800, 1400, 2400, 0])


def test_d_firms_pay_twice_the_charge():
    # 0.95 t so2 -> 1000 eq x 1.2 = 1,200; D x2 -> surcharge 1,200, total 2,400.
    # A, B, C and unrated pay 1,200.
    b = pollution_charge(
        np.tile([0, 0, 0.95, 0], (5, 1)), klass=np.array([A, B, C, D, U]), params=PollutionCharge()
    )
    np.testing.assert_allclose(b.class_surcharge_yuan, [0, 0, 0, 1200, 0], atol=1e-9)
    np.testing.assert_allclose(b.total_yuan, [1200, 1200, 1200, 2400, 1200])


def test_unrated_firms_pay_the_standard_charge_whatever_the_class_multipliers():
    # All classes x3, unrated x1: 1 t cod -> 1,400 vs 4,200.
    params = PollutionCharge(class_multiplier=ClassValues(A=3, B=3, C=3, D=3))
    b = pollution_charge(np.array([[1.0, 0, 0, 0]] * 2), klass=np.array([U, A]), params=params)
    np.testing.assert_allclose(b.total_yuan, [1400, 4200])


# ------------------------------------------------------------------ properties


@st.composite
def cases(draw, max_firms: int = 12):
    n = draw(st.integers(1, max_firms))
    a_mult = draw(st.floats(0, 3))
    params = PollutionCharge(
        water_yuan_per_equivalent=draw(st.floats(0, 20)),
        air_yuan_per_equivalent=draw(st.floats(0, 20)),
        equivalent_kg=PollutantValues(
            **{p: draw(st.floats(0.01, 10)) for p in ("cod", "nh3n", "so2", "nox")}
        ),
        class_multiplier=ClassValues(
            A=a_mult,
            B=draw(st.floats(0, 3)),
            C=draw(st.floats(0, 3)),
            D=a_mult + draw(st.floats(0, 3)),
        ),
    )
    emissions = np.array(
        draw(st.lists(st.lists(st.floats(0, 1e3), min_size=4, max_size=4), min_size=n, max_size=n))
    )
    klass = np.array(draw(st.lists(st.integers(0, 4), min_size=n, max_size=n)), np.int8)
    return params, emissions, klass


@settings(deadline=None)
@given(cases())
def test_charge_is_non_negative(case):
    params, emissions, klass = case
    b = pollution_charge(emissions, klass=klass, params=params)
    assert (pollution_equivalents(emissions, params=params) >= 0).all()
    assert (b.base_yuan >= 0).all()
    assert (b.total_yuan >= 0).all()


@settings(deadline=None)
@given(cases())
def test_components_sum_to_the_total(case):
    params, emissions, klass = case
    assert_components_sum_to_total(pollution_charge(emissions, klass=klass, params=params))


@settings(deadline=None)
@given(cases(), st.data())
def test_charge_never_falls_when_emissions_rise(case, data):
    params, emissions, klass = case
    more = emissions + np.array(
        data.draw(
            st.lists(
                st.lists(st.floats(0, 1e2), min_size=4, max_size=4),
                min_size=len(emissions),
                max_size=len(emissions),
            )
        )
    )
    before = pollution_charge(emissions, klass=klass, params=params)
    after = pollution_charge(more, klass=klass, params=params)
    # base is a dot product over four pollutants: allow its last-bit rounding
    assert (after.total_yuan >= before.total_yuan * (1 - 1e-12)).all()


@settings(deadline=None)
@given(cases(), st.data())
def test_permuting_firms_permutes_their_bills(case, data):
    params, emissions, klass = case
    order = np.array(data.draw(st.permutations(range(len(klass)))), dtype=np.intp)
    b = pollution_charge(emissions, klass=klass, params=params)
    shuffled = pollution_charge(emissions[order], klass=klass[order], params=params)
    for name in PollutionBill.__dataclass_fields__:
        np.testing.assert_allclose(getattr(shuffled, name), getattr(b, name)[order], rtol=1e-15)


@settings(deadline=None)
@given(cases())
def test_d_firm_never_pays_less_than_an_a_firm_with_the_same_emissions(case):
    params, emissions, klass = case
    n = len(klass)
    as_a = pollution_charge(emissions, klass=np.full(n, A, np.int8), params=params)
    as_d = pollution_charge(emissions, klass=np.full(n, D, np.int8), params=params)
    assert (as_d.total_yuan >= as_a.total_yuan).all()


@settings(deadline=None)
@given(cases())
def test_base_charge_is_equivalents_times_water_or_air_rate(case):
    params, emissions, klass = case
    eq = pollution_equivalents(emissions, params=params)
    expected = (eq[:, 0] + eq[:, 1]) * params.water_yuan_per_equivalent + (
        eq[:, 2] + eq[:, 3]
    ) * params.air_yuan_per_equivalent
    b = pollution_charge(emissions, klass=klass, params=params)
    np.testing.assert_allclose(b.base_yuan, expected, rtol=1e-12, atol=1e-9)

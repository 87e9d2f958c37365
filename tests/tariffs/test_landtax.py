"""Urban land-use tax: rates by grade and relief by class, then properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.scenario import ClassValues, LandTax
from simulator.tariffs import LandTaxBill, land_use_tax

A, B, C, D, U = 0, 1, 2, 3, 4


def assert_net_is_gross_minus_relief(b: LandTaxBill) -> None:
    np.testing.assert_allclose(b.net_yuan + b.relief_yuan, b.gross_yuan, rtol=1e-12, atol=1e-9)


# ------------------------------------------------------------------ hand cases


def test_relief_is_full_for_a_80_percent_for_b_and_none_for_c_d_unrated():
    # 15 mu = 10,000 m^2 of grade-2 land (code 1) at 6 yuan/m^2/yr: gross 60,000.
    # relief A 100% 60,000; B 80% 48,000; C, D, unrated 0.
    b = land_use_tax(
        np.full(5, 15.0),
        land_grade=np.ones(5, np.int8),
        klass=np.array([A, B, C, D, U]),
        params=LandTax(),
    )
    np.testing.assert_allclose(b.gross_yuan, np.full(5, 60000.0))
    np.testing.assert_allclose(b.relief_yuan, [60000, 48000, 0, 0, 0])
    np.testing.assert_allclose(b.net_yuan, [0, 12000, 60000, 60000, 60000], atol=1e-9)


def test_rate_follows_land_grade():
    # 30 mu = 20,000 m^2 on grades 1, 2, 3 at 9, 6, 3 yuan/m^2: 180,000 / 120,000 / 60,000.
    b = land_use_tax(
        np.full(3, 30.0),
        land_grade=np.array([0, 1, 2], np.int8),
        klass=np.full(3, D),
        params=LandTax(),
    )
    np.testing.assert_allclose(b.gross_yuan, [180000, 120000, 60000])


def test_tax_scales_with_the_period_length():
    # 1.5 mu = 1,000 m^2 at 6 yuan/m^2: 6,000 a year, 3,000 for half a year.
    b = land_use_tax(
        np.array([1.5]), land_grade=np.array([1]), klass=np.array([C]), params=LandTax(), years=0.5
    )
    np.testing.assert_allclose(b.net_yuan, [3000])


def test_grade_without_a_rate_is_an_error_naming_the_grade():
    with pytest.raises(ValueError, match=r"code 3 \(grade 4\)"):
        land_use_tax(
            np.array([1.0, 1.0]),
            land_grade=np.array([0, 3]),
            klass=np.array([A, B]),
            params=LandTax(),
        )


def test_negative_grade_is_an_error():
    with pytest.raises(ValueError, match="code -1"):
        land_use_tax(
            np.array([1.0]), land_grade=np.array([-1]), klass=np.array([A]), params=LandTax()
        )


def test_empty_population_gives_empty_bills():
    b = land_use_tax(
        np.zeros(0), land_grade=np.zeros(0, np.int8), klass=np.zeros(0, np.int8), params=LandTax()
    )
    assert b.net_yuan.shape == (0,)


# ------------------------------------------------------------------ properties


@st.composite
def cases(draw, max_firms: int = 12):
    n = draw(st.integers(1, max_firms))
    grades = draw(st.lists(st.floats(0, 30), min_size=1, max_size=4))
    d_relief = draw(st.floats(0, 1))
    params = LandTax(
        rate_yuan_per_m2_year_by_grade=grades,
        relief_share=ClassValues(
            A=d_relief + draw(st.floats(0, 1 - d_relief)),
            B=draw(st.floats(0, 1)),
            C=draw(st.floats(0, 1)),
            D=d_relief,
        ),
    )
    firms = {
        "land_mu": np.array(draw(st.lists(st.floats(0, 1e4), min_size=n, max_size=n))),
        "land_grade": np.array(
            draw(st.lists(st.integers(0, len(grades) - 1), min_size=n, max_size=n)), np.int8
        ),
        "klass": np.array(draw(st.lists(st.integers(0, 4), min_size=n, max_size=n)), np.int8),
    }
    return params, firms


def run(params, firms, **changes) -> LandTaxBill:
    f = {**firms, **changes}
    return land_use_tax(f["land_mu"], land_grade=f["land_grade"], klass=f["klass"], params=params)


@settings(deadline=None)
@given(cases())
def test_every_component_is_non_negative(case):
    b = run(*case)
    for name in LandTaxBill.__dataclass_fields__:
        assert (getattr(b, name) >= 0).all(), name


@settings(deadline=None)
@given(cases())
def test_net_plus_relief_equals_gross(case):
    assert_net_is_gross_minus_relief(run(*case))


@settings(deadline=None)
@given(cases(), st.data())
def test_tax_never_falls_when_land_rises(case, data):
    params, firms = case
    n = firms["land_mu"].size
    more = firms["land_mu"] + np.array(
        data.draw(st.lists(st.floats(0, 1e3), min_size=n, max_size=n))
    )
    assert (run(params, firms, land_mu=more).net_yuan >= run(params, firms).net_yuan).all()


@settings(deadline=None)
@given(cases(), st.data())
def test_permuting_firms_permutes_their_bills(case, data):
    params, firms = case
    order = np.array(data.draw(st.permutations(range(firms["land_mu"].size))), dtype=np.intp)
    b = run(params, firms)
    shuffled = run(params, {k: v[order] for k, v in firms.items()})
    for name in LandTaxBill.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(shuffled, name), getattr(b, name)[order])


@settings(deadline=None)
@given(cases())
def test_d_firm_never_pays_less_than_an_a_firm_with_the_same_land(case):
    params, firms = case
    n = firms["land_mu"].size
    as_a = run(params, firms, klass=np.full(n, A, np.int8))
    as_d = run(params, firms, klass=np.full(n, D, np.int8))
    assert (as_d.net_yuan >= as_a.net_yuan).all()

"""Subsidies: withdrawal for low classes by hand, then properties."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.scenario import Subsidies
from simulator.tariffs import SubsidyResult, subsidy

A, B, C, D, U = 0, 1, 2, 3, 4


# ------------------------------------------------------------------ hand cases


def test_d_firms_lose_their_subsidy():
    # 50 万元 tax x 1e4 x 2% = 10,000 yuan each; D withheld, the rest (unrated too) granted.
    r = subsidy(np.full(5, 50.0), klass=np.array([A, B, C, D, U]), params=Subsidies())
    np.testing.assert_allclose(r.granted_yuan, [10000, 10000, 10000, 0, 10000])
    np.testing.assert_allclose(r.withheld_yuan, [0, 0, 0, 10000, 0])


def test_c_and_d_firms_lose_their_subsidy_when_both_are_withdrawn():
    # 10 万元 x 1e4 x 5% = 5,000 yuan.
    params = Subsidies(rate_of_tax=0.05, withdrawn_for=["C", "D"])
    r = subsidy(np.full(5, 10.0), klass=np.array([A, B, C, D, U]), params=params)
    np.testing.assert_allclose(r.granted_yuan, [5000, 5000, 0, 0, 5000])
    np.testing.assert_allclose(r.withheld_yuan, [0, 0, 5000, 5000, 0])


def test_nobody_loses_the_subsidy_when_no_class_is_withdrawn():
    r = subsidy(np.array([1.0, 2.0]), klass=np.array([D, C]), params=Subsidies(withdrawn_for=[]))
    np.testing.assert_allclose(r.granted_yuan, [200, 400])
    np.testing.assert_array_equal(r.withheld_yuan, [0, 0])


# ------------------------------------------------------------------ properties


@st.composite
def cases(draw, max_firms: int = 12):
    n = draw(st.integers(1, max_firms))
    params = Subsidies(
        rate_of_tax=draw(st.floats(0, 1)),
        withdrawn_for=sorted(draw(st.sets(st.sampled_from("ABCD")))),
    )
    tax = np.array(draw(st.lists(st.floats(0, 1e5), min_size=n, max_size=n)))
    klass = np.array(draw(st.lists(st.integers(0, 4), min_size=n, max_size=n)), np.int8)
    return params, tax, klass


@settings(deadline=None)
@given(cases())
def test_granted_plus_withheld_is_the_entitlement_and_both_are_non_negative(case):
    params, tax, klass = case
    r = subsidy(tax, klass=klass, params=params)
    assert (r.granted_yuan >= 0).all()
    assert (r.withheld_yuan >= 0).all()
    np.testing.assert_allclose(
        r.granted_yuan + r.withheld_yuan, tax * 1e4 * params.rate_of_tax, rtol=1e-12
    )
    # each firm either gets all of it or none of it
    assert ((r.granted_yuan == 0) | (r.withheld_yuan == 0)).all()


@settings(deadline=None)
@given(cases(), st.data())
def test_subsidy_never_falls_when_tax_rises(case, data):
    params, tax, klass = case
    more = tax + np.array(
        data.draw(st.lists(st.floats(0, 1e3), min_size=tax.size, max_size=tax.size))
    )
    before = subsidy(tax, klass=klass, params=params)
    after = subsidy(more, klass=klass, params=params)
    assert (after.granted_yuan >= before.granted_yuan).all()


@settings(deadline=None)
@given(cases(), st.data())
def test_permuting_firms_permutes_their_subsidies(case, data):
    params, tax, klass = case
    order = np.array(data.draw(st.permutations(range(tax.size))), dtype=np.intp)
    r = subsidy(tax, klass=klass, params=params)
    shuffled = subsidy(tax[order], klass=klass[order], params=params)
    for name in SubsidyResult.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(shuffled, name), getattr(r, name)[order])


@settings(deadline=None)
@given(cases())
def test_d_firm_never_receives_more_than_an_a_firm_with_the_same_tax(case):
    params, tax, _ = case
    if "A" in params.withdrawn_for and "D" not in params.withdrawn_for:
        params = Subsidies(
            rate_of_tax=params.rate_of_tax, withdrawn_for=sorted({*params.withdrawn_for, "D"})
        )
    as_a = subsidy(tax, klass=np.full(tax.size, A, np.int8), params=params)
    as_d = subsidy(tax, klass=np.full(tax.size, D, np.int8), params=params)
    assert (as_d.granted_yuan <= as_a.granted_yuan).all()

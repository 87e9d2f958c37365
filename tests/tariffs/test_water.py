"""Water bill: over-quota blocks and class surcharge by hand, then properties."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.scenario import ClassValues, WaterBlock, WaterTariff
from simulator.tariffs import WaterBill, water_bill

A, B, C, D, U = 0, 1, 2, 3, 4
NO_SURCHARGE = ClassValues()


def assert_components_sum_to_total(b: WaterBill) -> None:
    np.testing.assert_allclose(
        b.base_yuan + b.over_quota_yuan + b.class_surcharge_yuan,
        b.total_yuan,
        rtol=1e-12,
        atol=1e-9,
    )


def reference_total(use: float, quota: float, params: WaterTariff) -> float:
    """Per-firm reference: each block's part of use at base price x multiplier."""
    price = params.base_price_yuan_per_m3
    if quota <= 0:
        return use * price
    total, lower = 0.0, 0.0
    for block in params.blocks:
        upper = np.inf if block.up_to_quota_ratio is None else block.up_to_quota_ratio * quota
        total += max(min(use, upper) - lower, 0.0) * price * block.multiplier
        lower = upper
    return total


# ------------------------------------------------------------------ hand cases


def test_use_50_percent_over_quota_pays_every_block():
    # quota 100, use 150, base 3.5, default blocks:
    # 100 x 3.5 + 20 x 3.5 x 1.5 + 20 x 3.5 x 2 + 10 x 3.5 x 3
    # = 350 + 105 + 140 + 105 = 700; base 150 x 3.5 = 525, over quota 175.
    b = water_bill(
        np.array([150.0]),
        quota_m3=np.array([100.0]),
        klass=np.array([B]),
        params=WaterTariff(class_sewage_surcharge_yuan_per_m3=NO_SURCHARGE),
    )
    np.testing.assert_allclose(b.total_yuan, [700])
    np.testing.assert_allclose(b.base_yuan, [525])
    np.testing.assert_allclose(b.over_quota_yuan, [175])


def test_use_within_each_block_pays_that_blocks_multiplier():
    # quota 100, base 3.5:
    # use 80 (below quota): 80 x 3.5 = 280, nothing over quota
    # use 100 (at quota): 350
    # use 110: 350 + 10 x 3.5 x 1.5 = 402.5
    # use 130: 350 + 105 + 10 x 3.5 x 2 = 525
    # over quota = what the blocks add to use x 3.5: 0, 0, 10 x 3.5 x 0.5 = 17.5,
    # 20 x 3.5 x 0.5 + 10 x 3.5 x 1 = 70
    b = water_bill(
        np.array([80.0, 100.0, 110.0, 130.0]),
        quota_m3=np.full(4, 100.0),
        klass=np.full(4, U),
        params=WaterTariff(),
    )
    np.testing.assert_allclose(b.total_yuan, [280, 350, 402.5, 525])
    np.testing.assert_allclose(b.over_quota_yuan, [0, 0, 17.5, 70])


def test_firms_without_quota_pay_base_price_on_all_use():
    # quota 0 or negative: 500 x 3.5 = 1,750 however large the use.
    b = water_bill(
        np.array([500.0, 500.0]),
        quota_m3=np.array([0.0, -1.0]),
        klass=np.full(2, U),
        params=WaterTariff(),
    )
    np.testing.assert_allclose(b.total_yuan, [1750, 1750])
    np.testing.assert_array_equal(b.over_quota_yuan, [0, 0])


def test_d_firms_pay_sewage_surcharge_on_every_m3():
    # Default D +0.6 yuan/m^3: use 80 under a quota of 100 -> 80 x 3.5 + 80 x 0.6 = 328.
    # A, B, C and unrated pay 280.
    b = water_bill(
        np.full(5, 80.0),
        quota_m3=np.full(5, 100.0),
        klass=np.array([A, B, C, D, U]),
        params=WaterTariff(),
    )
    np.testing.assert_allclose(b.class_surcharge_yuan, [0, 0, 0, 48, 0])
    np.testing.assert_allclose(b.total_yuan, [280, 280, 280, 328, 280])


def test_d_surcharge_adds_to_over_quota_charge():
    # quota 100, use 150, D: 700 + 150 x 0.6 = 790.
    b = water_bill(
        np.array([150.0]), quota_m3=np.array([100.0]), klass=np.array([D]), params=WaterTariff()
    )
    np.testing.assert_allclose(b.total_yuan, [790])
    assert_components_sum_to_total(b)


def test_custom_blocks_with_first_multiplier_above_one_count_as_over_quota():
    # Two blocks: up to 1 x quota at x1.2, above at x2; base 2.
    # quota 10, use 15: 10 x 2 x 1.2 + 5 x 2 x 2 = 24 + 20 = 44; base 30, over 14.
    params = WaterTariff(
        base_price_yuan_per_m3=2.0,
        blocks=[
            WaterBlock(up_to_quota_ratio=1.0, multiplier=1.2),
            WaterBlock(up_to_quota_ratio=None, multiplier=2.0),
        ],
    )
    b = water_bill(np.array([15.0]), quota_m3=np.array([10.0]), klass=np.array([U]), params=params)
    np.testing.assert_allclose(b.total_yuan, [44])
    np.testing.assert_allclose(b.over_quota_yuan, [14])


def test_a_block_priced_below_the_base_price_is_a_discount():
    # Within quota at x0.8 (a discount), above at x1.5; base 3.5, quota 100:
    # use 80: 80 x 3.5 x 0.8 = 224, over quota 80 x 3.5 x (0.8 - 1) = -56;
    # use 150: 100 x 3.5 x 0.8 + 50 x 3.5 x 1.5 = 280 + 262.5 = 542.5,
    # over quota -70 + 87.5 = 17.5 (= 542.5 - 150 x 3.5).
    params = WaterTariff(
        blocks=[
            WaterBlock(up_to_quota_ratio=1.0, multiplier=0.8),
            WaterBlock(up_to_quota_ratio=None, multiplier=1.5),
        ],
        class_sewage_surcharge_yuan_per_m3=NO_SURCHARGE,
    )
    b = water_bill(np.array([80.0, 150.0]), quota_m3=np.full(2, 100.0), klass=np.full(2, U),
                   params=params)
    np.testing.assert_allclose(b.total_yuan, [224, 542.5])
    np.testing.assert_allclose(b.over_quota_yuan, [-56, 17.5])
    assert_components_sum_to_total(b)


# ------------------------------------------------------------------ properties


@st.composite
def cases(draw, max_firms: int = 12):
    n = draw(st.integers(1, max_firms))
    k = draw(st.integers(0, 3))
    ratios = sorted(draw(st.sets(st.floats(0.1, 3.0), min_size=k, max_size=k)))
    blocks = [WaterBlock(up_to_quota_ratio=r, multiplier=draw(st.floats(1.0, 5.0))) for r in ratios]
    blocks.append(WaterBlock(up_to_quota_ratio=None, multiplier=draw(st.floats(1.0, 5.0))))
    a_rate = draw(st.floats(0, 1))
    params = WaterTariff(
        base_price_yuan_per_m3=draw(st.floats(0, 10)),
        blocks=blocks,
        class_sewage_surcharge_yuan_per_m3=ClassValues(
            A=a_rate,
            B=draw(st.floats(0, 1)),
            C=draw(st.floats(0, 1)),
            D=a_rate + draw(st.floats(0, 1)),
        ),
    )
    firms = {
        "use_m3": np.array(draw(st.lists(st.floats(0, 1e6), min_size=n, max_size=n))),
        "quota_m3": np.array(draw(st.lists(st.floats(-10, 1e6), min_size=n, max_size=n))),
        "klass": np.array(draw(st.lists(st.integers(0, 4), min_size=n, max_size=n)), np.int8),
    }
    return params, firms


def run(params, firms, **changes) -> WaterBill:
    f = {**firms, **changes}
    return water_bill(f["use_m3"], quota_m3=f["quota_m3"], klass=f["klass"], params=params)


@settings(deadline=None)
@given(cases())
def test_block_charge_matches_per_firm_reference(case):
    params, firms = case
    b = run(params, firms)
    expected = [
        reference_total(u, q, params)
        for u, q in zip(firms["use_m3"], firms["quota_m3"], strict=True)
    ]
    np.testing.assert_allclose(b.base_yuan + b.over_quota_yuan, expected, rtol=1e-9, atol=1e-6)


@settings(deadline=None)
@given(cases())
def test_every_component_is_non_negative(case):
    params, firms = case
    b = run(params, firms)
    for name in WaterBill.__dataclass_fields__:
        assert (getattr(b, name) >= 0).all(), name


@settings(deadline=None)
@given(cases())
def test_components_sum_to_the_total(case):
    params, firms = case
    assert_components_sum_to_total(run(params, firms))


@settings(deadline=None)
@given(cases(), st.data())
def test_bill_never_falls_when_use_rises(case, data):
    params, firms = case
    n = firms["use_m3"].size
    more = firms["use_m3"] + np.array(
        data.draw(st.lists(st.floats(0, 1e5), min_size=n, max_size=n))
    )
    before, after = run(params, firms), run(params, firms, use_m3=more)
    assert (after.total_yuan >= before.total_yuan).all()


@settings(deadline=None)
@given(cases(), st.data())
def test_permuting_firms_permutes_their_bills(case, data):
    params, firms = case
    order = np.array(data.draw(st.permutations(range(firms["use_m3"].size))), dtype=np.intp)
    b = run(params, firms)
    shuffled = run(params, {k: v[order] for k, v in firms.items()})
    for name in WaterBill.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(shuffled, name), getattr(b, name)[order])


@settings(deadline=None)
@given(cases())
def test_d_firm_never_pays_less_than_an_a_firm_with_the_same_inputs(case):
    params, firms = case
    n = firms["use_m3"].size
    as_a = run(params, firms, klass=np.full(n, A, np.int8))
    as_d = run(params, firms, klass=np.full(n, D, np.int8))
    assert (as_d.total_yuan >= as_a.total_yuan).all()

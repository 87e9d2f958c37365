"""Caps, baseline allocation, MAC and abatement, and the quota charges."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from simulator.firms import UNRATED
from simulator.markets.allocation import (
    abatement,
    abatement_cost,
    baseline_allocation,
    cap_for_year,
    cap_index,
    emission_paid_use_fee,
    energy_paid_use_fee,
    mac_slopes,
    overquota_surcharge,
    subscription_charge,
)
from simulator.scenario import (
    AllocationSpec,
    CapSpec,
    ClassValues,
    IntensityFactor,
    MacSpec,
    PriceBlock,
    SubscriptionSpec,
)

A, B, C, D = 0, 1, 2, 3


def blocks(*pairs: tuple[float, float]) -> list[PriceBlock]:
    return [PriceBlock(above=a, price_yuan_per_unit=p) for a, p in pairs]


SURCHARGE = blocks((0.0, 1000.0), (0.1, 2000.0), (0.2, 3000.0))
ALLOCATION = AllocationSpec(
    unrated_factor=0.5,
    intensity_factors=[IntensityFactor(above_ratio=1.5, factor=0.9),
                       IntensityFactor(above_ratio=2.0, factor=0.8)],
)

# ------------------------------------------------------------------------ cap


def test_cap_declines_from_the_first_year_share_of_baseline():
    spec = CapSpec(first_year_share_of_baseline=0.9, annual_decline=0.05)
    # 1000 x 0.9 = 900 in 2017; x 0.95 = 855 in 2018; x 0.95 = 812.25 in 2019.
    caps = [cap_for_year(spec, year=y, first_year=2017, baseline_total=1000.0)
            for y in (2017, 2018, 2019)]
    assert caps == pytest.approx([900.0, 855.0, 812.25])


def test_explicit_yearly_cap_overrides_the_path():
    spec = CapSpec(annual_decline=0.05, yearly={2018: 700.0})
    assert cap_for_year(spec, year=2018, first_year=2017, baseline_total=1000.0) == 700.0
    assert cap_for_year(spec, year=2019, first_year=2017, baseline_total=1000.0) == (
        pytest.approx(1000.0 * 0.95**2))


def test_cap_index_passes_through_every_listed_year_exactly():
    # A published plan is hit to the last digit in its own years; geometric in between
    # (2019: 0.9 x (0.81 / 0.9)^(1/2)), extended before the first year at the first
    # segment's rate (2014: 1 / 0.9^(1/3)), falling by annual_decline after the last.
    plan = {2015: 1.0, 2018: 0.9, 2020: 0.81, 2025: 0.7}
    spec = CapSpec(index_by_year=plan, annual_decline=0.1)
    for year, value in plan.items():
        assert cap_index(spec, year) == value
    assert cap_index(spec, 2019) == pytest.approx(0.9 * (0.81 / 0.9) ** 0.5, rel=1e-12)
    assert cap_index(spec, 2014) == pytest.approx(0.9 ** (-1 / 3), rel=1e-12)
    assert cap_index(spec, 2026) == pytest.approx(0.63, rel=1e-12)
    # The cap of a listed year is the first year's cap scaled by the listed indices.
    assert cap_for_year(spec, year=2020, first_year=2018, baseline_total=1000.0) == (
        pytest.approx(1000.0 * 0.81 / 0.9, rel=1e-12))


# ----------------------------------------------------------------- allocation


def test_allocation_is_history_times_class_and_intensity_factors():
    # A at ratio 1.0: 100 x 1 x 1 = 100; C at 1.6: 200 x 0.95 x 0.9 = 171;
    # unrated at 2.5: 300 x 0.5 x 0.8 = 120. Claims 391 fit under 1,000.
    alloc = baseline_allocation([100.0, 200.0, 300.0], klass=[A, C, UNRATED],
                                intensity_ratio=[1.0, 1.6, 2.5], spec=ALLOCATION,
                                total=1000.0)
    assert alloc.tolist() == pytest.approx([100.0, 171.0, 120.0])


def test_allocation_is_scaled_down_to_the_total():
    # Same claims (391) under a total of 195.5: everyone gets half.
    alloc = baseline_allocation([100.0, 200.0, 300.0], klass=[A, C, UNRATED],
                                intensity_ratio=[1.0, 1.6, 2.5], spec=ALLOCATION,
                                total=195.5)
    assert alloc.tolist() == pytest.approx([50.0, 85.5, 60.0])


def test_intensity_factor_applies_only_strictly_above_its_ratio():
    # Ratio exactly 1.5 is not above 1.5 (factor 1); exactly 2.0 is above 1.5 (0.9).
    alloc = baseline_allocation([100.0, 100.0], klass=[A, A], intensity_ratio=[1.5, 2.0],
                                spec=ALLOCATION, total=1e9)
    assert alloc.tolist() == pytest.approx([100.0, 90.0])


def test_default_class_factors_cut_c_and_d():
    # Default factors A 1.0, B 1.0, C 0.95, D 0.9; no intensity factors.
    alloc = baseline_allocation([100.0] * 4, klass=[A, B, C, D], intensity_ratio=[3.0] * 4,
                                spec=AllocationSpec(), total=1e9)
    assert alloc.tolist() == pytest.approx([100.0, 100.0, 95.0, 90.0])


def test_zero_or_negative_history_gets_nothing():
    alloc = baseline_allocation([0.0, -5.0, 10.0], klass=[A, A, A], intensity_ratio=[1.0] * 3,
                                spec=AllocationSpec(), total=100.0)
    assert alloc.tolist() == [0.0, 0.0, 10.0]
    empty = baseline_allocation([0.0, 0.0], klass=[A, A], intensity_ratio=[1.0, 1.0],
                                spec=AllocationSpec(), total=100.0)
    assert empty.tolist() == [0.0, 0.0]


history_arrays = st.integers(1, 30).flatmap(
    lambda n: st.tuples(
        arrays(float, n, elements=st.floats(0.0, 1e6, allow_subnormal=False)),
        arrays(np.int64, n, elements=st.integers(0, 4)),
        arrays(float, n, elements=st.floats(0.0, 5.0)),
    ))


# Caps are tonnes or tce: zero or at least a milligram. Totals near the smallest float
# (1e-308) make the allocations subnormal, where floats lose relative precision.
CAP_TOTALS = st.one_of(st.just(0.0), st.floats(1e-6, 1e7))


@given(data=history_arrays, total=CAP_TOTALS)
def test_allocation_never_exceeds_total_and_is_nonnegative(data, total):
    history, klass, ratio = data
    alloc = baseline_allocation(history, klass=klass, intensity_ratio=ratio,
                                spec=ALLOCATION, total=total)
    assert (alloc >= 0).all()
    assert alloc.sum() <= total * (1 + 1e-12)


@given(data=history_arrays, share=st.floats(0.01, 1.0))
def test_scaled_allocation_is_proportional_to_the_claims(data, share):
    history, klass, ratio = data
    claims = baseline_allocation(history, klass=klass, intensity_ratio=ratio,
                                 spec=ALLOCATION, total=np.inf)
    alloc = baseline_allocation(history, klass=klass, intensity_ratio=ratio,
                                spec=ALLOCATION, total=share * claims.sum())
    np.testing.assert_allclose(alloc, claims * share, rtol=1e-9, atol=1e-9)


@given(data=history_arrays, extra=st.floats(0.0, 1e6), total=CAP_TOTALS)
def test_allocation_is_monotone_in_own_history(data, extra, total):
    history, klass, ratio = data
    more = history.copy()
    more[0] += extra
    kwargs = {"klass": klass, "intensity_ratio": ratio, "spec": ALLOCATION, "total": total}
    before = baseline_allocation(history, **kwargs)[0]
    after = baseline_allocation(more, **kwargs)[0]
    assert after >= before * (1 - 1e-12)


@given(data=history_arrays, seed=st.integers(0, 2**32 - 1), total=CAP_TOTALS)
def test_allocation_does_not_depend_on_firm_order(data, seed, total):
    history, klass, ratio = data
    perm = np.random.default_rng(seed).permutation(history.size)
    kwargs = {"spec": ALLOCATION, "total": total}
    alloc = baseline_allocation(history, klass=klass, intensity_ratio=ratio, **kwargs)
    shuffled = baseline_allocation(history[perm], klass=klass[perm], intensity_ratio=ratio[perm],
                                   **kwargs)
    np.testing.assert_allclose(shuffled, alloc[perm], rtol=1e-12, atol=1e-9)


# ------------------------------------------------------------------ abatement

MAC = MacSpec(at_10pct_yuan_per_unit={"metals": 2000.0}, default_at_10pct_yuan_per_unit=1000.0,
              firm_sigma=0.0)


def test_mac_slopes_put_the_sector_price_at_ten_percent_abatement():
    # metals: 2000 / (0.1 x 100) = 200; textiles (default): 1000 / (0.1 x 50) = 200;
    # no baseline: inf.
    c = mac_slopes([100.0, 50.0, 0.0], sector=[0, 1, 0], sector_names=["metals", "textiles"],
                   spec=MAC, rng=np.random.default_rng(1))
    assert c.tolist() == [200.0, 200.0, np.inf]
    # At the sector's MAC the firm abates 10% of its baseline: 2000 / 200 = 10 of 100.
    q = abatement([2000.0, 1000.0, 1000.0], slope=c, baseline_use=[100.0, 50.0, 0.0],
                  max_share=0.5)
    assert q.tolist() == [10.0, 5.0, 0.0]


def test_mac_slopes_spread_lognormally_and_reproducibly():
    spec = MAC.model_copy(update={"firm_sigma": 0.5})
    kwargs = {"sector": np.zeros(20_000, int), "sector_names": ["metals"], "spec": spec}
    c = mac_slopes(np.full(20_000, 100.0), rng=np.random.default_rng(7), **kwargs)
    again = mac_slopes(np.full(20_000, 100.0), rng=np.random.default_rng(7), **kwargs)
    np.testing.assert_array_equal(c, again)
    assert np.std(np.log(c)) == pytest.approx(0.5, rel=0.03)
    assert np.exp(np.mean(np.log(c))) == pytest.approx(200.0, rel=0.02)


def test_abatement_follows_the_mac_up_to_the_cap():
    # c = 10: price 100 -> 10; price 500 -> 50 = 0.5 x 100; price 1000 -> capped at 50.
    q = abatement(np.array([100.0, 500.0, 1000.0]), slope=np.full(3, 10.0),
                  baseline_use=np.full(3, 100.0), max_share=0.5)
    assert q.tolist() == [10.0, 50.0, 50.0]
    assert abatement(-5.0, slope=[10.0], baseline_use=[100.0], max_share=0.5).tolist() == [0.0]


def test_abatement_cost_is_the_area_under_the_mac():
    # c = 10, q = 50: 10 x 50^2 / 2 = 12,500; no abatement costs nothing, even with c = inf.
    cost = abatement_cost([50.0, 0.0, 0.0], slope=[10.0, np.inf, 10.0])
    assert cost.tolist() == [12_500.0, 0.0, 0.0]


@given(p1=st.floats(0.0, 1e5), p2=st.floats(0.0, 1e5),
       c=st.floats(1e-3, 1e6), e=st.floats(0.0, 1e7), s=st.floats(0.0, 1.0))
def test_abatement_is_bounded_and_monotone_in_price(p1, p2, c, e, s):
    lo, hi = sorted((p1, p2))
    kwargs = {"slope": np.array([c]), "baseline_use": np.array([e]), "max_share": s}
    q_lo = abatement(lo, **kwargs)[0]
    q_hi = abatement(hi, **kwargs)[0]
    assert 0.0 <= q_lo <= q_hi <= s * e


# ------------------------------------------------------------------ surcharge


def test_surcharge_rises_by_overrun_share_of_quota():
    # Quota 100: use 130 -> 10 x 1000 + 10 x 2000 + 10 x 3000 = 60,000;
    # use 105 -> 5 x 1000 = 5,000; use 115 -> 10,000 + 5 x 2000 = 20,000; within quota -> 0.
    charge = overquota_surcharge([130.0, 105.0, 115.0, 100.0, 80.0], quota=np.full(5, 100.0),
                                 blocks=SURCHARGE)
    assert charge.tolist() == pytest.approx([60_000.0, 5000.0, 20_000.0, 0.0, 0.0])


def test_no_quota_pays_the_top_price_on_all_use():
    # 50 x 3000 = 150,000; nothing used, nothing due.
    charge = overquota_surcharge([50.0, 0.0], quota=[0.0, 0.0], blocks=SURCHARGE)
    assert charge.tolist() == [150_000.0, 0.0]


def test_overrun_below_the_first_block_is_free():
    # A 5% tolerance band: quota 100, use 110 -> (10 - 5) x 1000 = 5,000.
    charge = overquota_surcharge([110.0], quota=[100.0],
                                 blocks=blocks((0.05, 1000.0), (0.5, 2000.0)))
    assert charge.tolist() == pytest.approx([5000.0])


@given(u1=st.floats(0.0, 1e7), u2=st.floats(0.0, 1e7), quota=st.floats(0.0, 1e6))
def test_surcharge_is_monotone_in_use_and_zero_within_quota(u1, u2, quota):
    lo, hi = sorted((u1, u2))
    s_lo, s_hi = overquota_surcharge(np.array([lo, hi]), quota=np.full(2, quota),
                                     blocks=SURCHARGE)
    assert 0.0 <= s_lo <= s_hi * (1 + 1e-12)
    if quota > 0 and hi <= quota:
        assert s_hi == 0.0


# ---------------------------------------------------------------- paid charges


def test_subscription_price_rises_with_unit_consumption():
    spec = SubscriptionSpec(min_new_use_tce=1000.0,
                            blocks=blocks((0.6, 200.0), (1.0, 400.0)))
    # 500 tce is below the 1,000 tce scope; 0.5 tce/万元 is below the 0.6 threshold;
    # 2,000 x 200 = 400,000 at exactly 0.6; 2,000 x 400 = 800,000 at 1.2.
    charge = subscription_charge([500.0, 2000.0, 2000.0, 2000.0],
                                 unit_consumption_tce_per_wan_yuan=[2.0, 0.5, 0.6, 1.2],
                                 spec=spec)
    assert charge.tolist() == [0.0, 0.0, 400_000.0, 800_000.0]


def test_default_subscription_charges_only_projects_above_0_6_tce_per_wan_yuan():
    # Default (Zhejiang 2019): 500 yuan/tce from 0.6 tce/万元; 1,000 tce x 500 = 500,000.
    # 0.1 tce/万元 is below the first block; 999 tce is below the 1,000 tce scope.
    charge = subscription_charge([1000.0, 1000.0, 999.0],
                                 unit_consumption_tce_per_wan_yuan=[0.1, 0.6, 3.0],
                                 spec=SubscriptionSpec())
    assert charge.tolist() == [0.0, 500_000.0, 0.0]


def test_energy_paid_use_fee_by_intensity_against_target():
    # Deqing 2015: 1,000 tce x 50 at or below 0.6; x 100 above.
    fee = energy_paid_use_fee([1000.0, 1000.0, 1000.0], intensity=[0.5, 0.6, 0.7], target=0.6,
                              below_fee=50.0, above_fee=100.0)
    assert fee.tolist() == [50_000.0, 50_000.0, 100_000.0]


def test_emission_paid_use_fee_by_class():
    # 10 t x 1,000 yuan/t-yr x (0.8, 1.0, 1.2, 1.5, unrated 1.0).
    fee = emission_paid_use_fee([10.0] * 5, klass=[A, B, C, D, UNRATED], price=1000.0,
                                class_multiplier=ClassValues(A=0.8, B=1.0, C=1.2, D=1.5))
    assert fee.tolist() == pytest.approx([8000.0, 10_000.0, 12_000.0, 15_000.0, 10_000.0])

"""Land pools: hand-computed years, the allocation prefix rule, then conservation properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.dynamics.land import LandPools
from simulator.scenario import LandSpec


def make_pools(
    occupied=(100.0, 60.0),
    shares=(0.75, 0.25),
    *,
    new=0.0,
    delay=1,
    share=0.5,
) -> LandPools:
    spec = LandSpec(
        new_land_mu_per_year=new,
        revitalisation_delay_years=delay,
        revitalisation_share_per_year=share,
    )
    return LandPools(np.array(occupied, float), region_shares=np.array(shares), spec=spec)


def assert_stocks(pools: LandPools, occupied, idle, available) -> None:
    s = pools.stocks()
    np.testing.assert_allclose(s["occupied"], occupied)
    np.testing.assert_allclose(s["idle"], idle)
    np.testing.assert_allclose(s["available"], available)
    pools.check()


def with_available(available, *, occupied=None) -> LandPools:
    """Pools whose regions have exactly ``available`` mu ready (released as new land)."""
    available = np.asarray(available, float)
    total = available.sum()
    shares = available / total
    pools = make_pools(
        np.zeros_like(available) if occupied is None else occupied,
        shares,
        new=total,
    )
    pools.start_year()
    np.testing.assert_allclose(pools.stocks()["available"], available)
    return pools


# ------------------------------------------------------------------ hand cases


def test_new_land_is_released_by_region_share_each_year():
    pools = make_pools(new=40.0)
    pools.start_year()
    assert_stocks(pools, [100, 60], [0, 0], [30, 10])
    np.testing.assert_allclose(pools.flows()["new"], [30, 10])
    pools.start_year()
    assert_stocks(pools, [100, 60], [0, 0], [60, 20])
    np.testing.assert_allclose(pools.total_mu, [160, 80])


def test_exit_land_is_revitalised_half_a_year_after_the_one_year_delay():
    # delay 1, share 0.5: land vacated in year 1 is age 0 at start of year 2 (not yet),
    # then half of what is left is revitalised at the start of years 3, 4, ...
    pools = make_pools(new=40.0, delay=1, share=0.5)
    pools.start_year()  # year 1
    pools.vacate(np.array([0, 0, 1]), np.array([20.0, 10.0, 8.0]), reason="exit")
    assert_stocks(pools, [70, 52], [30, 8], [30, 10])
    np.testing.assert_allclose(pools.flows()["returned"], [30, 8])

    pools.start_year()  # year 2: too young
    assert_stocks(pools, [70, 52], [30, 8], [60, 20])
    np.testing.assert_allclose(pools.flows()["revitalised"], [0, 0])
    np.testing.assert_allclose(pools.flows()["returned"], [0, 0])  # reset by start_year

    pools.start_year()  # year 3: half of 30 and 8
    assert_stocks(pools, [70, 52], [15, 4], [105, 34])
    np.testing.assert_allclose(pools.flows()["revitalised"], [15, 4])

    pools.start_year()  # year 4: half of the rest
    assert_stocks(pools, [70, 52], [7.5, 2], [142.5, 46])
    np.testing.assert_allclose(pools.flows()["revitalised"], [7.5, 2])
    # initial 100 + 4 x 30 and 60 + 4 x 10
    np.testing.assert_allclose(pools.total_mu, [220, 100])


def test_delay_zero_revitalises_land_idled_last_year_at_the_next_start():
    pools = make_pools(delay=0, share=1.0)
    pools.vacate(np.array([1]), np.array([12.0]), reason="exit")
    pools.start_year()
    assert_stocks(pools, [100, 48], [0, 0], [0, 12])
    np.testing.assert_allclose(pools.flows()["revitalised"], [0, 12])


def test_delay_two_waits_for_the_third_start_year():
    pools = make_pools(delay=2, share=1.0)
    pools.vacate(np.array([0]), np.array([10.0]), reason="exit")
    pools.start_year()
    pools.start_year()
    assert_stocks(pools, [90, 60], [10, 0], [0, 0])
    np.testing.assert_allclose(pools.idle_by_age_mu, [[0, 0, 10], [0, 0, 0]])
    pools.start_year()
    assert_stocks(pools, [90, 60], [0, 0], [10, 0])


def test_idle_land_of_different_ages_is_revitalised_on_its_own_schedule():
    pools = make_pools(delay=1, share=1.0)
    pools.vacate(np.array([0]), np.array([10.0]), reason="exit")
    pools.start_year()
    pools.vacate(np.array([0]), np.array([4.0]), reason="space_for_land")
    pools.start_year()  # the 10 mu (age 1) go, the 4 mu (age 0) wait
    assert_stocks(pools, [86, 60], [4, 0], [10, 0])
    pools.start_year()
    assert_stocks(pools, [86, 60], [0, 0], [14, 0])


def test_space_for_land_is_counted_as_freed_and_exit_as_returned():
    pools = make_pools()
    pools.vacate(np.array([0, 1]), np.array([3.0, 2.0]), reason="space_for_land")
    pools.vacate(np.array([0]), np.array([5.0]), reason="exit")
    flows = pools.flows()
    np.testing.assert_allclose(flows["freed"], [3, 2])
    np.testing.assert_allclose(flows["returned"], [5, 0])
    assert_stocks(pools, [92, 58], [8, 2], [0, 0])


def test_allocation_grants_by_priority_and_stops_at_the_first_request_that_does_not_fit():
    pools = with_available([10.0, 2.0])
    region = np.array([0, 1, 0, 0, 0])
    requested = np.array([4.0, 3.0, 4.0, 3.0, 1.0])
    priority = np.array([5.0, 1.0, 5.0, 9.0, 2.0])
    granted = pools.allocate(region, requested, priority)
    # Region 0 ranks 3 (3 mu), 0 (4 mu, tie won by index), 2 (4 mu), 4 (1 mu):
    # 3 + 4 = 7 fits, + 4 = 11 does not, so 2 and 4 are refused although 1 mu would fit.
    # Region 1: 3 mu requested, 2 available.
    assert granted.tolist() == [True, False, False, True, False]
    assert_stocks(pools, [7, 0], [0, 0], [3, 2])
    np.testing.assert_allclose(pools.flows()["allocated"], [7, 0])


def test_ties_in_priority_go_to_the_earlier_candidate():
    pools = with_available([5.0])
    granted = pools.allocate(np.zeros(3, int), np.array([3.0, 3.0, 3.0]), np.full(3, 1.0))
    assert granted.tolist() == [True, False, False]


def test_a_request_that_exactly_fills_the_region_is_granted():
    pools = with_available([6.0, 6.0])
    granted = pools.allocate(
        np.array([0, 0, 1]), np.array([2.5, 3.5, 6.0]), np.array([2.0, 1.0, 0.0])
    )
    assert granted.all()
    assert_stocks(pools, [6, 6], [0, 0], [0, 0])


def test_a_request_bigger_than_all_available_land_is_refused_and_blocks_the_rest():
    pools = with_available([10.0])
    granted = pools.allocate(
        np.zeros(3, int), np.array([50.0, 1.0, 2.0]), np.array([3.0, 2.0, 1.0])
    )
    assert granted.tolist() == [False, False, False]
    assert_stocks(pools, [0], [0], [10])
    # Ranked last, it only refuses itself.
    granted = pools.allocate(
        np.zeros(3, int), np.array([50.0, 1.0, 2.0]), np.array([0.0, 2.0, 1.0])
    )
    assert granted.tolist() == [False, True, True]
    assert_stocks(pools, [3], [0], [7])


def test_nothing_is_granted_where_nothing_is_available():
    pools = make_pools()
    granted = pools.allocate(np.array([0, 1]), np.array([1.0, 1.0]), np.array([1.0, 1.0]))
    assert not granted.any()
    assert_stocks(pools, [100, 60], [0, 0], [0, 0])


def test_allocating_to_no_candidates_returns_an_empty_mask():
    pools = with_available([5.0])
    granted = pools.allocate(np.array([], int), np.array([]), np.array([]))
    assert granted.shape == (0,)
    assert granted.dtype == bool


def test_revitalised_land_is_reallocated_to_entrants():
    pools = make_pools(delay=0, share=1.0)
    pools.vacate(np.array([0]), np.array([10.0]), reason="exit")
    pools.start_year()
    granted = pools.allocate(np.array([0, 0]), np.array([6.0, 4.0]), np.array([1.0, 2.0]))
    assert granted.all()
    assert_stocks(pools, [100, 60], [0, 0], [0, 0])


# ------------------------------------------------------------------ errors


def test_unknown_vacate_reason_is_refused():
    with pytest.raises(ValueError, match="'reason'"):
        make_pools().vacate(np.array([0]), np.array([1.0]), reason="sold")


def test_vacating_more_than_is_occupied_is_refused_and_moves_nothing():
    pools = make_pools()
    with pytest.raises(ValueError, match="'land_mu'.*region 1"):
        pools.vacate(np.array([0, 1]), np.array([1.0, 61.0]), reason="exit")
    assert_stocks(pools, [100, 60], [0, 0], [0, 0])


@pytest.mark.parametrize(
    ("region", "land", "match"),
    [
        (np.array([2]), np.array([1.0]), "'region'.*0..1"),
        (np.array([-1]), np.array([1.0]), "'region'"),
        (np.array([0.0]), np.array([1.0]), "'region'.*integer"),
        (np.array([0]), np.array([-1.0]), "'land_mu'.*non-negative"),
        (np.array([0]), np.array([np.nan]), "'land_mu'.*finite"),
        (np.array([0, 1]), np.array([1.0]), "'land_mu'.*shape"),
    ],
)
def test_malformed_vacate_arguments_name_the_parameter(region, land, match):
    with pytest.raises(ValueError, match=match):
        make_pools().vacate(region, land, reason="exit")


@pytest.mark.parametrize(
    ("requested", "priority", "match"),
    [
        (np.array([-1.0]), np.array([1.0]), "'requested_mu'"),
        (np.array([1.0]), np.array([np.nan]), "'priority'.*finite"),
        (np.array([1.0]), np.array([1.0, 2.0]), "'priority'.*shape"),
    ],
)
def test_malformed_allocate_arguments_name_the_parameter(requested, priority, match):
    with pytest.raises(ValueError, match=match):
        make_pools().allocate(np.array([0]), requested, priority)


def test_region_shares_must_match_regions_and_sum_to_one():
    with pytest.raises(ValueError, match="'region_shares'.*one entry per region"):
        make_pools((1.0, 2.0), (1.0,))
    with pytest.raises(ValueError, match="'region_shares'.*sum to 1"):
        make_pools((1.0, 2.0), (0.5, 0.6))
    with pytest.raises(ValueError, match="'occupied_mu_by_region'"):
        make_pools((1.0, -2.0))


def test_check_names_the_region_that_loses_land_or_goes_negative():
    pools = make_pools()
    pools._available[1] += 1.0  # land from nowhere
    with pytest.raises(ValueError, match="not conserved in region 1"):
        pools.check()
    pools = make_pools()
    pools._occupied[0] += 5.0  # conserved, but available goes negative
    pools._available[0] -= 5.0
    with pytest.raises(ValueError, match="available land is negative in region 0"):
        pools.check()


# ------------------------------------------------------------------ properties


def reference_allocate(region, requested, priority, available):
    """Per-candidate reference: walk each region's queue in rank order."""
    granted = np.zeros(len(region), bool)
    for r in sorted(set(region.tolist())):
        idx = [i for i in range(len(region)) if region[i] == r]
        idx.sort(key=lambda i: (-priority[i], i))
        used = 0.0
        for i in idx:
            if used + requested[i] > available[r]:
                break
            used += requested[i]
            granted[i] = True
    return granted


candidates = st.lists(
    st.tuples(
        st.integers(0, 2),
        st.floats(0, 80, allow_subnormal=False),
        st.sampled_from([0.0, 1.0, 2.5, 7.0]),  # few values, so ties are common
    ),
    max_size=12,
)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("start_year")),
        st.tuples(
            st.sampled_from(["exit", "space_for_land"]),
            st.lists(st.tuples(st.integers(0, 2), st.floats(0, 1)), max_size=8),
        ),
        st.tuples(st.just("allocate"), candidates),
    ),
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(
    occupied=st.lists(st.floats(0, 1e4, allow_subnormal=False), min_size=3, max_size=3),
    weights=st.lists(st.integers(0, 5), min_size=3, max_size=3).filter(lambda w: sum(w) > 0),
    new=st.floats(0, 500, allow_subnormal=False),
    delay=st.integers(0, 3),
    share=st.floats(0, 1),
    ops=operations,
)
def test_land_is_conserved_and_never_negative_over_any_sequence(
    occupied, weights, new, delay, share, ops
):
    shares = np.array(weights, float) / sum(weights)
    pools = make_pools(occupied, shares, new=new, delay=delay, share=share)
    year_start = pools.stocks()
    for op in ops:
        before = pools.stocks()
        if op[0] == "start_year":
            year_start = before
            pools.start_year()
        elif op[0] == "allocate":
            region = np.array([c[0] for c in op[1]], dtype=int)
            requested = np.array([c[1] for c in op[1]], dtype=float)
            priority = np.array([c[2] for c in op[1]], dtype=float)
            granted = pools.allocate(region, requested, priority)
            expected = reference_allocate(region, requested, priority, before["available"])
            np.testing.assert_array_equal(granted, expected)
            np.testing.assert_allclose(
                before["available"] - pools.stocks()["available"],
                np.bincount(region[granted], weights=requested[granted], minlength=3),
                atol=1e-9,
            )
        else:
            # Each firm leaves a fraction of an equal split of its region's occupied land.
            region = np.array([c[0] for c in op[1]], dtype=int)
            fraction = np.array([c[1] for c in op[1]], dtype=float)
            per_firm = before["occupied"] / np.maximum(np.bincount(region, minlength=3), 1)
            pools.vacate(region, fraction * per_firm[region], reason=op[0])

        pools.check()
        stocks, flows = pools.stocks(), pools.flows()
        for values in stocks.values():
            assert (values >= -1e-9 * max(1.0, values.max(initial=0.0))).all()
        assert (pools.idle_by_age_mu >= 0).all()
        # The year's flows account for every change since the year began.
        scale = 1e-9 * np.maximum(pools.total_mu, 1.0)
        np.testing.assert_allclose(
            stocks["available"] - year_start["available"],
            flows["new"] + flows["revitalised"] - flows["allocated"],
            atol=scale.max(),
        )
        np.testing.assert_allclose(
            stocks["idle"] - year_start["idle"],
            flows["returned"] + flows["freed"] - flows["revitalised"],
            atol=scale.max(),
        )
        np.testing.assert_allclose(
            stocks["occupied"] - year_start["occupied"],
            flows["allocated"] - flows["returned"] - flows["freed"],
            atol=scale.max(),
        )

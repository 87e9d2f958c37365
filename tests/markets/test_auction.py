"""Tests of the uniform-price call auction (simulator/markets/auction.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from simulator.markets.auction import (
    AbatementBook,
    Clearing,
    LinearOrders,
    StepOrders,
    clear_book,
    clear_market,
)


def firms(e, c, h, *, s=0.5) -> LinearOrders:
    """Firms' MAC bids: d(p) = clip(e - h - p / c, (1 - s) e - h, e - h)."""
    e, c, h = (np.asarray(v, dtype=float) for v in (e, c, h))
    return LinearOrders(intercept=e - h, slope=1.0 / c, lower=(1.0 - s) * e - h, upper=e - h)


def steps(*orders: tuple[float, float, str]) -> StepOrders:
    """Step orders from (price, quantity, "buy" | "sell")."""
    return StepOrders(price=np.array([o[0] for o in orders], dtype=float),
                      quantity=np.array([o[1] for o in orders], dtype=float),
                      is_buy=np.array([o[2] == "buy" for o in orders], dtype=bool))


def fixed(*quantities: float) -> LinearOrders:
    """Linear participants that trade a fixed quantity at any price (slope 0)."""
    q = np.array(quantities, dtype=float)
    return LinearOrders(intercept=q, slope=np.zeros_like(q), lower=q, upper=q)


def bought(c: Clearing, orders: StepOrders | None = None) -> float:
    b = c.linear_fill[c.linear_fill > 0].sum()
    return float(b + (c.step_fill[orders.is_buy].sum() if orders is not None else 0.0))


def sold(c: Clearing, orders: StepOrders | None = None) -> float:
    s = -c.linear_fill[c.linear_fill < 0].sum()
    return float(s + (c.step_fill[~orders.is_buy].sum() if orders is not None else 0.0))


# --- hand-computed cases ------------------------------------------------------------------


def test_two_firms_and_a_cap_clear_at_the_least_cost_price():
    # e = (100, 60), c = (10, 20) yuan/unit^2, cap 140 held as (80, 60).
    # p* = (sum e - cap) / sum(1/c) = (160 - 140) / (0.1 + 0.05) = 133.33...
    # Firm 1 abates 13.33 and buys 20 - 13.33 = 6.67; firm 2 abates 6.67 and sells it.
    c = clear_market(firms([100, 60], [10, 20], [80, 60]))
    assert c.price == pytest.approx(20 / 0.15, rel=1e-12)
    assert c.linear_fill == pytest.approx([20 / 3, -20 / 3], rel=1e-12)
    assert c.volume == pytest.approx(20 / 3, rel=1e-12)
    assert (c.buyers, c.sellers) == (1, 1)
    assert c.step_fill.shape == (0,)


def test_two_firms_price_does_not_depend_on_the_allocation():
    # Same firms, the cap held as (100, 40): firm 1 sells 13.33, firm 2 buys 20 - 6.67.
    c = clear_market(firms([100, 60], [10, 20], [100, 40]))
    assert c.price == pytest.approx(20 / 0.15, rel=1e-12)
    assert c.linear_fill == pytest.approx([-40 / 3, 40 / 3], rel=1e-12)


def test_step_only_book_clears_like_a_classic_call_auction():
    # Bids 10@5, 10@4; asks 8@3, 8@4.5. Z(p) = buys at >= p - asks at <= p:
    #   (3, 4]: 20 - 8 = 12; (4, 4.5): 10 - 8 = 2; at 4.5+: 10 - 16 = -6.
    # Z(4.5-) = 2 >= 0 >= -6 = Z(4.5+): p* = 4.5. Bid 10@5 fills, ask 8@3 fills, the
    # marginal ask 8@4.5 sells the 10 - 8 = 2 left; bid 10@4 is below the price.
    book = steps((5, 10, "buy"), (4, 10, "buy"), (3, 8, "sell"), (4.5, 8, "sell"))
    c = clear_market(None, book)
    assert c.price == 4.5
    assert c.volume == 10
    assert c.step_fill.tolist() == [10, 0, 8, 2]
    assert (c.buyers, c.sellers) == (1, 2)
    assert c.linear_fill.shape == (0,)


def test_reserve_ceiling_order_binds_and_sells_the_excess_demand():
    # Firm A: d = 30 - p in [0, 30]; firm B: d = 20 - p/2 in [-10, 20]; the reserve
    # sells 25 at the ceiling 20. Below 20: Z = 50 - 1.5 p, Z(20-) = 20 >= 0;
    # Z(20+) = 20 - 25 = -5 <= 0: p* = 20. A buys 10, B buys 10, the reserve sells 20 of 25.
    lin = LinearOrders(intercept=[30.0, 20.0], slope=[1.0, 0.5], lower=[0.0, -10.0],
                       upper=[30.0, 20.0])
    c = clear_market(lin, steps((20, 25, "sell")))
    assert c.price == 20
    assert c.linear_fill.tolist() == [10, 10]
    assert c.step_fill.tolist() == [20]
    assert c.volume == 20
    assert (c.buyers, c.sellers) == (2, 1)


def test_reserve_floor_order_binds_and_buys_the_excess_supply():
    # Firm A: d = -10 - p in [-30, -10] (surplus); firm B: d = 5 - p in [-5, 5]; the
    # reserve buys 20 at the floor 4. Alone Z = -5 - 2p < 0 (price would be 0).
    # With the floor: Z(4-) = -13 + 20 = 7 >= 0 >= -13 = Z(4+): p* = 4.
    # A sells 14, B buys 1, the reserve buys 13 of its 20.
    lin = LinearOrders(intercept=[-10.0, 5.0], slope=[1.0, 1.0], lower=[-30.0, -5.0],
                       upper=[-10.0, 5.0])
    c = clear_market(lin, steps((4, 20, "buy")))
    assert c.price == 4
    assert c.linear_fill.tolist() == [-14, 1]
    assert c.step_fill.tolist() == [13]
    assert c.volume == 14
    assert (c.buyers, c.sellers) == (2, 1)


def test_marginal_sell_orders_at_one_price_are_rationed_pro_rata():
    # Bid 10@6; asks 6@5 and 9@5. Z(5-) = 10, Z(5+) = 10 - 15 = -5: p* = 5.
    # The two asks share the 10 units 6:9 -> 4 and 6, whichever comes first.
    book = steps((6, 10, "buy"), (5, 6, "sell"), (5, 9, "sell"))
    c = clear_market(None, book)
    assert c.price == 5
    assert c.step_fill == pytest.approx([10, 4, 6], rel=1e-15)
    swapped = clear_market(None, steps((5, 9, "sell"), (6, 10, "buy"), (5, 6, "sell")))
    assert swapped.step_fill == pytest.approx([6, 10, 4], rel=1e-15)


def test_marginal_buy_orders_share_what_inframarginal_sellers_leave():
    # Fixed seller 7 (slope 0), bids 4@3 and 12@3 and 10@1. Z(3-) = 16 - 7 = 9,
    # Z(3+) = -7: p* = 3; the bids at 3 share 7 units 4:12 -> 1.75 and 5.25.
    book = steps((3, 4, "buy"), (3, 12, "buy"), (1, 10, "buy"))
    c = clear_market(fixed(-7.0), book)
    assert c.price == 3
    assert c.step_fill == pytest.approx([1.75, 5.25, 0.0], rel=1e-15)
    assert c.linear_fill.tolist() == [-7]


def test_excess_supply_at_zero_price_rations_every_seller_pro_rata():
    # Seller firm d = -20 - p in [-30, -20]; buyer firm d = 6 - p in [0, 6]; the
    # reserve's auction lot 10@0; a bid 6@3. Z(0-) = -20 + 6 + 6 = -8 < 0: p* = 0.
    # Buyers get all 12; the sellers offer 20 + 10 = 30 at 0 and sell 12/30 = 40%:
    # the firm 8, the reserve lot 4.
    lin = LinearOrders(intercept=[-20.0, 6.0], slope=[1.0, 1.0], lower=[-30.0, 0.0],
                       upper=[-20.0, 6.0])
    book = steps((0, 10, "sell"), (3, 6, "buy"))
    c = clear_market(lin, book)
    assert c.price == 0
    assert c.linear_fill == pytest.approx([-8, 6], rel=1e-15)
    assert c.step_fill == pytest.approx([4, 6], rel=1e-15)
    assert c.volume == pytest.approx(12, rel=1e-15)
    assert (c.buyers, c.sellers) == (2, 2)


def test_sell_orders_at_zero_price_are_marginal_when_demand_covers_the_firms():
    # Bid 5@2, ask 10@0: Z(0-) = 5 >= 0 >= -5 = Z(0+): p* = 0, the ask sells 5.
    c = clear_market(None, steps((2, 5, "buy"), (0, 10, "sell")))
    assert (c.price, c.volume, c.step_fill.tolist()) == (0, 5, [5, 5])


def test_price_is_the_midpoint_where_net_demand_is_zero_on_an_interval():
    # Bid 10@8, ask 10@2: Z = 0 on [2, 8], p* = 5, both fill.
    c = clear_market(None, steps((8, 10, "buy"), (2, 10, "sell")))
    assert (c.price, c.volume, c.step_fill.tolist()) == (5, 10, [10, 10])


def test_price_is_the_lower_end_when_net_demand_is_zero_up_to_infinity():
    # A fixed buyer of 10 and an ask 10@2: Z = 0 on [2, inf), p* = 2.
    c = clear_market(fixed(10.0), steps((2, 10, "sell")))
    assert (c.price, c.volume) == (2, 10)


def test_excess_demand_at_every_price_rations_buyers_at_the_highest_breakpoint():
    # Fixed buyer 10, bid 2@3, ask 4@3: Z(3+) = 10 - 4 > 0 for ever; p* = 3 (the last
    # breakpoint), the ask sells 4 and the buyers share it 10:2.
    c = clear_market(fixed(10.0), steps((3, 2, "buy"), (3, 4, "sell")))
    assert c.price == 3
    assert c.linear_fill == pytest.approx([10 / 3], rel=1e-15)
    assert c.step_fill == pytest.approx([2 / 3, 4], rel=1e-15)
    assert c.volume == pytest.approx(4, rel=1e-15)


def test_no_trade_when_bids_and_asks_do_not_cross():
    # Bid 10@3, ask 10@5: Z = 0 on (3, 5), but nothing trades there.
    c = clear_market(None, steps((3, 10, "buy"), (5, 10, "sell")))
    assert math.isnan(c.price)
    assert (c.volume, c.step_fill.tolist(), c.buyers, c.sellers) == (0, [0, 0], 0, 0)


@pytest.mark.parametrize(
    ("lin", "book"),
    [
        (None, None),
        (fixed(), steps()),
        (None, steps((5, 10, "buy"), (7, 3, "buy"))),  # buyers only
        (firms([100, 50], [1, 2], [120, 70]), None),  # sellers only
        (fixed(0.0, 0.0), steps((5, 0, "buy"), (1, 0, "sell"))),  # zero quantities
        # Three firms that need exactly what they hold at p = 5 (d_i(5) = 0).
        (LinearOrders([0.5, 1.0, 1.5], [0.1, 0.2, 0.3], [-10] * 3, [10] * 3), None),
    ],
)
def test_no_trade_returns_nan_price_and_zero_fills(lin, book):
    c = clear_market(lin, book)
    assert math.isnan(c.price)
    assert c.volume == 0
    assert not c.linear_fill.any()
    assert not c.step_fill.any()
    assert (c.buyers, c.sellers) == (0, 0)


def test_firm_at_its_abatement_bound_buys_what_it_cannot_abate():
    # Firm A: e = 100, h = 50, c = 1, s = 0.2: d = 50 - p, abates at most 20, so
    # d >= 30 (binds from p = 20). Firm B: e = 100, h = 100, c = 4, s = 0.5: d = -p/4.
    # p < 20: Z = 50 - 1.25 p > 0. p > 20: Z = 30 - p/4 = 0 at p* = 120.
    # A buys 30 (its bound), B abates 120/4 = 30 and sells it. (Without the bound the
    # price would be (200 - 150) / 1.25 = 40.)
    lin = LinearOrders(intercept=[50.0, 0.0], slope=[1.0, 0.25], lower=[30.0, -50.0],
                       upper=[50.0, 0.0])
    c = clear_market(lin)
    assert c.price == pytest.approx(120, rel=1e-12)
    assert c.linear_fill == pytest.approx([30, -30], rel=1e-12)


def test_participant_with_equal_bounds_is_a_fixed_order():
    # lower == upper == 5 with slope 1: buys 5 at any price. Asks 5@7 and 10@9:
    # Z = 5 - 5 = 0 on [7, 9], Z(9+) = -10: p* = (7 + 9) / 2 = 8; the ask at 9 is above it.
    lin = LinearOrders(intercept=[100.0], slope=[1.0], lower=[5.0], upper=[5.0])
    c = clear_market(lin, steps((7, 5, "sell"), (9, 10, "sell")))
    assert (c.price, c.volume, c.linear_fill.tolist(), c.step_fill.tolist()) == (
        8, 5, [5], [5, 0])


def test_unbounded_seller_and_negative_step_prices():
    # Firm d = 10 - p without bounds; a bid 5@-1 never trades; an ask 3@-2 is an ask at 0;
    # a bid 3@40. On (0, 40): Z = 10 - p - 3 + 3 = 10 - p, so p* = 10 where the firm
    # wants nothing (d = 0): the bid 3@40 buys the ask's 3.
    lin = LinearOrders(intercept=[10.0], slope=[1.0], lower=[-np.inf], upper=[np.inf])
    c = clear_market(lin, steps((-1, 5, "buy"), (-2, 3, "sell"), (40, 3, "buy")))
    assert c.price == pytest.approx(10, rel=1e-12)
    assert c.linear_fill == pytest.approx([0.0], abs=1e-12)
    assert c.step_fill.tolist() == [0, 3, 3]


def test_seller_without_lower_bound_clears_beyond_the_last_breakpoint():
    # Fixed buyer 6; seller d = -p / 2 without bounds; ask 1@4. Breakpoints 0 and 4;
    # after 4: Z = 6 - 1 - p / 2 = 0 at p* = 10: the seller sells 5, the ask 1.
    lin = LinearOrders(intercept=[6.0, 0.0], slope=[0.0, 0.5], lower=[6.0, -np.inf],
                       upper=[6.0, np.inf])
    c = clear_market(lin, steps((4, 1, "sell")))
    assert c.price == pytest.approx(10, rel=1e-12)
    assert c.linear_fill == pytest.approx([6, -5], rel=1e-12)
    assert c.step_fill.tolist() == [1]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"slope": [-1.0]}, "'slope' parameter must be finite and >= 0"),
        ({"slope": [np.inf]}, "'slope'"),
        ({"lower": [2.0], "upper": [1.0]}, "'upper' parameter must be >= lower"),
        ({"intercept": [np.nan]}, "'intercept'"),
        ({"upper": [1.0, 2.0]}, "shape of 'intercept'"),
    ],
)
def test_linear_orders_reject_bad_input(kwargs, match):
    args = {"intercept": [1.0], "slope": [1.0], "lower": [0.0], "upper": [1.0]} | kwargs
    with pytest.raises(ValueError, match=match):
        LinearOrders(**args)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"quantity": [-1.0]}, "'quantity' parameter must be finite and >= 0"),
        ({"price": [np.nan]}, "'price'"),
        ({"is_buy": [1.0]}, "'is_buy' parameter must be boolean"),
        ({"is_buy": [True, False]}, "shape of 'price'"),
    ],
)
def test_step_orders_reject_bad_input(kwargs, match):
    args = {"price": [1.0], "quantity": [1.0], "is_buy": [True]} | kwargs
    with pytest.raises(ValueError, match=match):
        StepOrders(**args)


# --- brute force against a per-order reference ----------------------------------------------


def ref_z(lin: list[tuple], stp: list[tuple], p: float, side: int) -> float:
    """Z(p-) (side -1) or Z(p+) (side +1), one order at a time; sells below 0 sell at 0."""
    z = math.fsum(min(max(a - b * p, lo), up) for a, b, lo, up in lin)
    for price, q, buy in stp:
        if buy:
            z += q * (p < price if side > 0 else p <= price)
        else:
            z -= q * (p >= max(price, 0.0) if side > 0 else p > max(price, 0.0))
    return z


def ref_breakpoints(lin: list[tuple], stp: list[tuple]) -> list[float]:
    pts = {0.0}
    for a, b, lo, up in lin:
        if b > 0 and lo < up:
            pts.update(t for t in ((a - up) / b, (a - lo) / b) if math.isfinite(t) and t > 0)
    pts.update(max(price, 0.0) for price, q, buy in stp if q > 0 and (price >= 0 or not buy))
    return sorted(pts)


def ref_volume(lin: list[tuple], stp: list[tuple], p: float) -> float:
    """Min of all buy interest and all sell interest at p, marginal orders included."""
    d = [min(max(a - b * p, lo), up) for a, b, lo, up in lin]
    buys = math.fsum([x for x in d if x > 0] + [q for price, q, buy in stp if buy and price >= p])
    sells = math.fsum([-x for x in d if x < 0]
                      + [q for price, q, buy in stp if not buy and max(price, 0.0) <= p])
    return min(buys, sells)


def as_lists(lin: LinearOrders, stp: StepOrders) -> tuple[list[tuple], list[tuple]]:
    return (list(zip(lin.intercept.tolist(), lin.slope.tolist(), lin.lower.tolist(),
                     lin.upper.tolist(), strict=True)),
            list(zip(stp.price.tolist(), stp.quantity.tolist(), stp.is_buy.tolist(),
                     strict=True)))


def gross(lin: list[tuple], stp: list[tuple]) -> float:
    size = sum(abs(a) + sum(abs(v) for v in (lo, up) if math.isfinite(v)) for a, _, lo, up in lin)
    return 1.0 + size + sum(q for _, q, _ in stp)


_nice = st.integers(-20, 20).map(float)
_any = st.floats(-20, 20, allow_subnormal=False).map(lambda v: round(v, 3))
_value = st.one_of(_nice, _any)
_slope = st.one_of(st.sampled_from([0.0, 0.5, 1.0, 2.0]), st.floats(0.1, 5, allow_subnormal=False))
_price = st.one_of(st.integers(-2, 20).map(float), st.floats(0, 20, allow_subnormal=False))
# No quantity below 1e-6: an order smaller than the clearing's own tolerance (1e-9 of the
# gross volume) moves Z by float noise only, and the reference's zero test (|Z| <= tol)
# then sees a flat interval where the market rightly sees the exact crossing.
_quantity = st.one_of(st.integers(0, 10).map(float), st.floats(1e-6, 10))


@st.composite
def linear_books(draw, max_size: int = 6) -> LinearOrders:
    n = draw(st.integers(0, max_size))
    rows = []
    for _ in range(n):
        a = draw(_value)
        b = draw(_slope)
        lo, up = sorted((draw(_value), draw(_value)))
        if draw(st.integers(0, 9)) == 0:
            lo = -np.inf
        if draw(st.integers(0, 9)) == 0:
            up = np.inf
        rows.append((a, b, lo, up))
    cols = np.array(rows, dtype=float).reshape(n, 4).T
    return LinearOrders(*cols)


@st.composite
def step_books(draw, max_size: int = 6) -> StepOrders:
    m = draw(st.integers(0, max_size))
    price = [draw(_price) for _ in range(m)]
    qty = [draw(_quantity) for _ in range(m)]
    buy = [draw(st.booleans()) for _ in range(m)]
    return StepOrders(np.array(price, float), np.array(qty, float), np.array(buy, bool))


@settings(max_examples=400, deadline=None)
@given(linear_books(), step_books())
@example(LinearOrders(np.array([1.0]), np.array([0.5]), np.array([-np.inf]), np.array([np.inf])),
         StepOrders(np.zeros(3), np.array([0.0, 0.0, 1.1920929e-07]), np.zeros(3, bool)))
def test_clearing_matches_a_brute_force_reference(lin, stp):
    c = clear_market(lin, stp)
    ll, ss = as_lists(lin, stp)
    tol = 1e-9 * gross(ll, ss)
    pts = ref_breakpoints(ll, ss)
    top = pts[-1]
    # Z is linear after the last breakpoint (sloped if some seller has no lower bound).
    tail = ref_z(ll, ss, top, +1) - ref_z(ll, ss, top + 1.0, +1)
    # Candidates: breakpoints, midpoints, the root on every segment, and beyond the last.
    cands = [*pts, top + 1.0]
    for x0, x1 in [*zip(pts, pts[1:], strict=False), (top, top + 1.0)]:
        cands.append(0.5 * (x0 + x1))
        z0, z1 = ref_z(ll, ss, x0, +1), ref_z(ll, ss, x1, -1)
        if z0 > 0 > z1 or (x1 > top and z0 > 0 and tail > tol):
            cands.append(x0 + z0 * (x1 - x0) / (z0 - z1))
    if tail <= tol and ref_z(ll, ss, top + 1.0, +1) > tol:  # excess demand at every price
        expected, whole = top, "buyers"
    elif ref_z(ll, ss, 0.0, -1) < -tol:  # excess supply at price 0
        expected, whole = 0.0, "sellers"
    else:
        valid = [p for p in cands
                 if ref_z(ll, ss, p, -1) >= -tol and ref_z(ll, ss, p, +1) <= tol]
        p_lo, p_hi = min(valid), max(valid)
        unbounded = p_hi == top + 1.0 and tail <= tol  # Z = 0 on [p_lo, inf)
        expected, whole = (p_lo if unbounded else 0.5 * (p_lo + p_hi)), ""
    volume = ref_volume(ll, ss, expected)

    if volume <= tol:
        assert math.isnan(c.price) or c.volume <= tol
        return
    assert c.price == pytest.approx(expected, rel=1e-6, abs=1e-6)
    assert c.volume == pytest.approx(volume, rel=1e-9, abs=tol)
    if not whole:
        assert ref_z(ll, ss, c.price, -1) >= -tol
        assert ref_z(ll, ss, c.price, +1) <= tol
    # Buys equal sells equal the volume; fills respect the limit prices.
    assert bought(c, stp) == pytest.approx(c.volume, rel=1e-9, abs=1e-12)
    assert sold(c, stp) == pytest.approx(c.volume, rel=1e-9, abs=1e-12)
    assert np.all(c.step_fill >= 0)
    assert np.all(c.step_fill <= stp.quantity * (1 + 1e-12))
    assert not c.step_fill[stp.is_buy & (stp.price < c.price)].any()
    assert not c.step_fill[~stp.is_buy & (stp.price > c.price)].any()
    d = np.clip(lin.intercept - lin.slope * c.price, lin.lower, lin.upper)
    if whole:  # the long side is rationed as a whole: same side, no more than wanted
        assert np.all(c.linear_fill * d >= 0)
        assert np.all(np.abs(c.linear_fill) <= np.abs(d) * (1 + 1e-12) + tol)
    else:  # firms trade their demand at the price; better steps fill fully
        np.testing.assert_allclose(c.linear_fill, d, rtol=1e-9, atol=tol)
        # Asks priced below 0 count as asks at 0 (the price is searched on p >= 0).
        better = np.where(stp.is_buy, stp.price > c.price, np.maximum(stp.price, 0) < c.price)
        # Up to rounding at the scale of the book (a few ulps of its gross size): when the
        # two sides meet exactly, the price's last bit can leave a tiny order 5e-17 short.
        np.testing.assert_allclose(c.step_fill[better], stp.quantity[better], rtol=1e-12,
                                   atol=1e-5 * tol)
    assert c.buyers == (c.linear_fill > 0).sum() + (c.step_fill[stp.is_buy] > 0).sum()
    assert c.sellers == (c.linear_fill < 0).sum() + (c.step_fill[~stp.is_buy] > 0).sum()


# --- least cost (Montgomery 1972) ---------------------------------------------------------


def random_market(rng: np.random.Generator, n: int):
    """Firms e, c, s with a binding cap at which no firm reaches a bound."""
    e = rng.uniform(10, 1000, n)
    c = rng.lognormal(2.0, 1.0, n)
    s = 0.4
    price = rng.uniform(0.1, 0.9) * np.min(s * e * c)  # every q = p / c < s e
    cap = e.sum() - price * (1.0 / c).sum()  # p* = (sum e - cap) / sum(1/c)
    return e, c, s, cap, price


def random_allocation(rng: np.random.Generator, cap: float, n: int) -> np.ndarray:
    w = rng.dirichlet(np.full(n, 0.5))
    return cap * w


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 40))
def test_price_is_the_least_cost_price_whatever_the_allocation(seed, n):
    rng = np.random.default_rng(seed)
    e, c, s, cap, price = random_market(rng, n)
    for _ in range(4):
        h = random_allocation(rng, cap, n)
        cl = clear_market(firms(e, c, h, s=s))
        assert cl.price == pytest.approx((e.sum() - h.sum()) / (1.0 / c).sum(), rel=1e-9)
        assert cl.price == pytest.approx(price, rel=1e-9)
        # Each firm ends with e - p/c rights: abates where its MAC equals the price.
        np.testing.assert_allclose(h + cl.linear_fill, e - cl.price / c, rtol=1e-9)


def test_unbound_firms_clear_at_the_closed_form_price_to_rounding():
    rng = np.random.default_rng(7)
    e, c, s, cap, _ = random_market(rng, 1000)
    h = random_allocation(rng, cap, 1000)
    cl = clear_market(firms(e, c, h, s=s))
    assert cl.price == pytest.approx((e - h).sum() / (1.0 / c).sum(), rel=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_market_abatement_costs_no_more_than_the_planner_optimum(seed):
    rng = np.random.default_rng(seed)
    n = 6
    e, c, s, cap, _ = random_market(rng, n)
    cl = clear_market(firms(e, c, random_allocation(rng, cap, n), s=s))
    q_market = cl.price / c
    cost_market = float(np.sum(c * q_market**2 / 2))

    # Planner: min sum c q^2 / 2 s.t. sum(e - q) <= cap, 0 <= q <= e.
    res = minimize(
        lambda q: np.sum(c * q**2 / 2), x0=e * 0.5, jac=lambda q: c * q, method="SLSQP",
        bounds=list(zip(np.zeros(n), e, strict=True)),
        constraints=[{"type": "ineq", "fun": lambda q: cap - np.sum(e - q),
                      "jac": lambda q: np.ones(n)}],
        options={"ftol": 1e-10, "maxiter": 500},
    )
    # At this precision SLSQP may stop on "positive directional derivative in
    # linesearch" (status 8) at the optimum; check that its point is feasible instead.
    assert res.status in (0, 8), res.message
    assert np.sum(e - res.x) <= cap * (1 + 1e-9)
    assert np.all((res.x >= -1e-9) & (res.x <= e + 1e-9))
    assert cost_market == pytest.approx(res.fun, rel=1e-6)

    # No feasible abatement drawn at random is cheaper: q* + shifts summing to >= 0.
    need = e.sum() - cap
    for _ in range(200):
        q = np.clip(q_market + rng.normal(0, 0.3, n) * q_market, 0, e)
        q *= max(1.0, need / q.sum())  # meet the cap
        q = np.minimum(q, e)
        if q.sum() < need * (1 - 1e-12):
            continue
        assert np.sum(c * q**2 / 2) >= cost_market * (1 - 1e-12)


# --- invariances --------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(linear_books(), step_books(), st.randoms(use_true_random=False))
def test_fills_do_not_depend_on_the_order_of_the_orders(lin, stp, random):
    n, m = lin.intercept.size, stp.price.size
    pl, ps = list(range(n)), list(range(m))
    random.shuffle(pl)
    random.shuffle(ps)
    pl, ps = np.array(pl, dtype=int), np.array(ps, dtype=int)
    a = clear_market(lin, stp)
    b = clear_market(LinearOrders(lin.intercept[pl], lin.slope[pl], lin.lower[pl], lin.upper[pl]),
                     StepOrders(stp.price[ps], stp.quantity[ps], stp.is_buy[ps]))
    tol = 1e-9 * gross(*as_lists(lin, stp))
    if math.isnan(a.price):
        assert math.isnan(b.price)
        return
    assert b.price == pytest.approx(a.price, rel=1e-9, abs=1e-9)
    assert b.volume == pytest.approx(a.volume, rel=1e-9, abs=tol)
    np.testing.assert_allclose(b.linear_fill, a.linear_fill[pl], rtol=1e-9, atol=tol)
    np.testing.assert_allclose(b.step_fill, a.step_fill[ps], rtol=1e-9, atol=tol)
    assert (b.buyers, b.sellers) == (a.buyers, a.sellers)


@settings(max_examples=200, deadline=None)
@given(linear_books(), step_books(), st.sampled_from([0.25, 0.5, 2.0, 3.0, 1000.0]))
def test_scaling_quantities_scales_volume_and_fills_not_the_price(lin, stp, k):
    a = clear_market(lin, stp)
    b = clear_market(LinearOrders(lin.intercept * k, lin.slope * k, lin.lower * k, lin.upper * k),
                     StepOrders(stp.price, stp.quantity * k, stp.is_buy))
    tol = 1e-9 * gross(*as_lists(lin, stp))
    if math.isnan(a.price):
        assert math.isnan(b.price)
        return
    assert b.price == pytest.approx(a.price, rel=1e-9, abs=1e-9)
    assert b.volume == pytest.approx(k * a.volume, rel=1e-9, abs=k * tol)
    np.testing.assert_allclose(b.linear_fill, k * a.linear_fill, rtol=1e-9, atol=k * tol)
    np.testing.assert_allclose(b.step_fill, k * a.step_fill, rtol=1e-9, atol=k * tol)


# ---------------------------------------------------------------- AbatementBook

@st.composite
def abatement_books(draw, max_size: int = 8):
    """A book of firms (need, 1/c, reach), their holdings, and an order hint."""
    n = draw(st.integers(0, max_size))
    need = [draw(st.one_of(st.integers(0, 20).map(float), st.floats(0, 20))) for _ in range(n)]
    inv = [draw(st.sampled_from([0.0, 0.1, 0.5, 1.0, 2.0])) for _ in range(n)]
    share = [draw(st.sampled_from([0.0, 0.25, 0.5, 1.0])) for _ in range(n)]
    held = [draw(st.one_of(st.integers(0, 20).map(float), st.floats(0, 20))) for _ in range(n)]
    reach = np.array(share) * np.array(need)
    hint = np.array(draw(st.permutations(range(n))), dtype=np.intp) if draw(st.booleans()) \
        else None
    return (AbatementBook(np.array(need, float), np.array(inv, float), reach.astype(float),
                          order=hint), np.array(held, float))


@settings(max_examples=400, deadline=None)
@given(abatement_books(), step_books())
@example((AbatementBook(np.array([0.0, 0.0, 2.2250738585e-311, 0.0, 2.0]),  # subnormal need
                        np.array([0.0, 0.0, 0.1, 0.0, 0.0]),
                        np.array([0.0, 0.0, 5.562684646e-312, 0.0, 0.0])),
          np.array([0.0, 0.0, 1.0, 0.0, 0.0])),
         StepOrders(np.array([0.0]), np.array([1.0]), np.array([True])))
def test_book_clears_like_the_same_linear_orders(book_and_held, stp):
    book, h = book_and_held
    lin = LinearOrders(book.need - h, book.inv_slope, book.need - h - book.reach, book.need - h)
    want = clear_market(lin, stp)
    got = clear_book(book, h, stp)
    tol = 1e-9 * (1.0 + book.size + h.sum() + stp.quantity.sum())
    if np.isnan(want.price):
        assert got.volume <= tol
        return
    assert got.volume == pytest.approx(want.volume, abs=tol)
    assert got.price == pytest.approx(want.price, rel=1e-9, abs=1e-9)
    np.testing.assert_allclose(got.linear_fill, want.linear_fill, atol=tol)
    np.testing.assert_allclose(got.step_fill, want.step_fill, atol=tol)


def test_book_sorts_once_and_reuses_a_nearly_sorted_order():
    need = np.array([10.0, 20.0, 30.0])
    inv = np.array([1.0, 0.5, 0.1])
    reach = 0.5 * need  # kinks c r: 5, 20, 150
    book = AbatementBook(need, inv, reach)
    assert book.order.tolist() == [0, 1, 2]
    assert book.kink.tolist() == [5.0, 20.0, 150.0]
    # A new year's needs swap the first two kinks: the old order is repaired, not redone.
    again = AbatementBook(need * np.array([5.0, 1.0, 1.0]), inv, reach * np.array([5.0, 1, 1]),
                          order=book.order)
    assert again.order.tolist() == [1, 0, 2]
    assert again.kink.tolist() == [20.0, 25.0, 150.0]
    # Abatement at a price: min(p / c, r) summed by prefix sums, by hand at p = 10:
    # firm 0 fully (5), firm 1 10 * 0.5 = 5, firm 2 10 * 0.1 = 1.
    assert book.abated(10.0) == pytest.approx(11.0)


def test_book_two_firms_clear_at_the_least_cost_price():
    # Same two firms as the module example: c = 10 and 20, needs 100 and 60,
    # holdings 80 and 60, at most half abated: p* = 20 / 0.15.
    book = AbatementBook([100.0, 60.0], [0.1, 0.05], [50.0, 30.0])
    c = clear_book(book, [80.0, 60.0])
    assert c.price == pytest.approx(20.0 / 0.15, rel=1e-12)
    assert c.linear_fill.tolist() == pytest.approx([20 / 3, -20 / 3], rel=1e-12)


def test_book_rejects_bad_input():
    with pytest.raises(ValueError, match="'reach'.*>= 0"):
        AbatementBook([1.0], [1.0], [-1.0])
    with pytest.raises(ValueError, match="'holdings'.*shape"):
        clear_book(AbatementBook([1.0], [1.0], [0.5]), [1.0, 2.0])

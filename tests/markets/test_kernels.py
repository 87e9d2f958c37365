"""Compiled kernels of the markets (simulator/markets/kernels/) against their numpy expressions.

Every kernel's docstring states the numpy expression it computes; each ``ref_*``
below is a short, direct translation of that expression, checked against the
kernel on random inputs and on small cases computed by hand. Values are mostly
drawn from coarse grids (integers, halves, tenths) so that ties, kinks and
rounding residues (``0.1 + 0.2 != 0.3``) occur often.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from simulator.markets import auction, kernels
from simulator.markets.auction import AbatementBook, StepOrders
from simulator.markets.book import _BookCurve
from simulator.markets.clearing import WHOLE_SIDES, clearing_price
from simulator.markets.kernels.clearing import _point

TINY = np.finfo(np.float64).tiny


def vec(values) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.float64)


def assert_sum(got: float, want: float) -> None:
    """Kernels sum in index order, numpy may sum pairwise: equal to rounding."""
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300)


# ------------------------------------------------------------------- strategies

_half = st.integers(-24, 24).map(lambda k: k / 2)
_tenth = st.integers(-120, 120).map(lambda k: k / 10)
_real = st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False)
_value = st.one_of(_half, _tenth, _real)
_nonneg = _value.map(abs)
_inv_slope = st.one_of(st.sampled_from([0.0, 0.1, 0.5, 1.0, 2.0]), _nonneg)


def arrays(n: int, elements: st.SearchStrategy[float]) -> st.SearchStrategy[np.ndarray]:
    return st.lists(elements, min_size=n, max_size=n).map(vec)


def sized(elements: st.SearchStrategy[float], max_size: int = 12):
    return st.integers(0, max_size).flatmap(lambda n: arrays(n, elements))


# ----------------------------------------------------------------- references


def ref_net_totals(d: np.ndarray) -> tuple[float, float, int, int]:
    return (float(np.maximum(d, 0).sum()), float(np.maximum(-d, 0).sum()),
            int(np.count_nonzero(d > 0)), int(np.count_nonzero(d < 0)))


def ref_book_demand(need, inv_slope, reach, holdings, price, rtol):
    d = need - (np.minimum(inv_slope * price, reach) + holdings)
    d = np.where(np.abs(d) <= rtol * np.maximum(np.abs(need - holdings), inv_slope * price),
                 0.0, d)
    return d, *ref_net_totals(d)


def ref_trade_scan(held, delta):
    bought = float(np.maximum(delta, 0).sum())
    if not np.isfinite(delta).all():
        bought = math.nan
    sold = float(np.maximum(-delta, 0).sum())
    if delta.size == 0:
        return bought, sold, 0.0, -1, 0.0
    after = held + delta
    low = min(0.0, float(after.min()))
    at = int(np.argmin(after)) if low < 0 else -1
    return bought, sold, low, at, float(np.abs(held).max())


def ref_trade_apply(held, paid, received, delta, buy_price, sell_price):
    return (held + delta, paid + np.maximum(delta, 0) * buy_price,
            received + np.maximum(-delta, 0) * sell_price)


def ref_share(price, need, inv_slope, most, max_share):
    """``clip(min(inv_slope * max(price, 0), most) / need, 0, max_share)``, 0 where need <= 0."""
    q = np.minimum(inv_slope * max(price, 0.0), most)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.clip(q / need, 0.0, max_share)
    return np.where(need > 0, s, 0.0)


def ref_rate(slope, s, need):
    q = s * need
    return np.where(q == 0, 0.0, slope * q**2 / 2)


def ref_adopt_price(price, need, inv_slope, most, max_share, slope, share, rate, cost, years,
                    idx, firm_share):
    """Return ``(changed, share, rate, cost, firm_share, factor)`` after the docstring's steps."""
    cost = cost + rate * years
    s = ref_share(price, need, inv_slope, most, max_share)
    factor = (1 - s) / (1 - share)
    firm_share = firm_share.copy()
    firm_share[idx] = s
    return bool(np.any(s != share)), s, ref_rate(slope, s, need), cost, firm_share, factor


def ref_abate(idx, factor, intensity, rate, revenue_share, covered, price, old_price,
              cost_share, period_va, correction, firm_intensity):
    """Return ``(intensity, cost_share, correction, firm_intensity)`` after the change."""
    old = intensity
    new = old * factor
    cost_share, firm_intensity = cost_share.copy(), firm_intensity.copy()
    cost_share[idx] += revenue_share * (rate * (new - old)
                                        + covered * (price * new - old_price * old))
    correction = correction + period_va[idx] * (old - new)
    firm_intensity[idx] = new
    return new, cost_share, correction, firm_intensity


def ref_book_inputs(need, inv_slope, reach):
    def clean(x):
        return np.where(x >= TINY, x, 0.0)

    e, b = clean(need), clean(inv_slope)
    r = np.where(b == 0, 0.0, clean(reach))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        kink = np.where(b == 0, 0.0, r / b)
    ok = np.ones(need.size, dtype=bool)
    for x in (need, inv_slope, reach):
        ok &= np.isfinite(x) & (x >= 0)
    bad = int(np.flatnonzero(~ok)[0]) if not ok.all() else -1
    return e, b, r, kink, bad


def ref_book_sums(order, kink, reach, inv_slope):
    n = order.size
    r, b = reach[order], inv_slope[order]
    below = np.array([r[:k].sum() for k in range(n + 1)])
    above = np.array([b[k:].sum() for k in range(n + 1)])
    return kink[order], below, above


def ref_step_curve(price, quantity, is_buy):
    buy = (quantity > 0) & is_buy & (price >= 0)
    ob = np.argsort(price[buy], kind="stable")
    buy_p, bq = price[buy][ob], quantity[buy][ob]
    sell = (quantity > 0) & ~is_buy
    sp = np.maximum(price[sell], 0)
    os_ = np.argsort(sp, kind="stable")
    sell_p, sq = sp[os_], quantity[sell][os_]
    buy_q = np.array([bq[k:].sum() for k in range(bq.size + 1)])
    sell_q = np.array([sq[:k].sum() for k in range(sq.size + 1)])
    return buy_p, buy_q, sell_p, sell_q


def ref_fill(price, whole, d_buy, d_sell, step_price, quantity, is_buy, tol):
    """``fill`` from its docstring; None where the docstring leaves the shares open.

    That is where the short side's total is below the long side's inframarginal
    total (the long side's marginal orders would share a negative remainder),
    which at a clearing price happens only by rounding.
    """
    eff = np.where(is_buy, step_price, np.maximum(step_price, 0))
    b_in_q = d_buy + quantity[is_buy & (eff > price)].sum()
    b_at_q = quantity[is_buy & (eff == price)].sum()
    s_in_q = d_sell + quantity[~is_buy & (eff < price)].sum()
    s_at_q = quantity[~is_buy & (eff == price)].sum()
    volume = min(b_in_q + b_at_q, s_in_q + s_at_q)
    m = quantity.size
    if not volume > tol:
        return 0.0, 0.0, 0.0, np.zeros(m), 0, 0

    def shares(inner, at, is_whole):
        if is_whole:
            return volume / (inner + at), volume / (inner + at)
        if volume < inner:
            return None
        return 1.0, (min((volume - inner) / at, 1.0) if at > 0 else 0.0)

    b, s = shares(b_in_q, b_at_q, whole == 1), shares(s_in_q, s_at_q, whole == 2)
    if b is None or s is None:
        return None
    share = np.where(is_buy, np.where(eff > price, b[0], np.where(eff == price, b[1], 0.0)),
                     np.where(eff < price, s[0], np.where(eff == price, s[1], 0.0)))
    step_fill = quantity * share
    return (volume, b[0], s[0], step_fill, int(np.count_nonzero(step_fill[is_buy] > 0)),
            int(np.count_nonzero(step_fill[~is_buy] > 0)))


# ------------------------------------------------------------------ net_totals


def test_net_totals_hand_case():
    assert kernels.net_totals(vec([1.5, -2.0, 0.0, 3.0, -0.5])) == (4.5, 2.5, 2, 2)
    assert kernels.net_totals(vec([])) == (0.0, 0.0, 0, 0)


@settings(max_examples=200, deadline=None)
@given(sized(_value, 40))
def test_net_totals_matches_reference(d):
    bought, sold, n_buy, n_sell = kernels.net_totals(d)
    want = ref_net_totals(d)
    assert_sum(bought, want[0])
    assert_sum(sold, want[1])
    assert (n_buy, n_sell) == want[2:]


# ----------------------------------------------------------------- book_demand


def test_book_demand_hand_case():
    # price 4: abatement min(inv_slope * 4, reach) = (2, 0, 4, 0.2 of a rounding case).
    need = vec([10.0, 5.0, 4.0, 0.3])
    inv_slope = vec([0.5, 0.0, 1.0, 0.05])
    reach = vec([3.0, 2.0, 10.0, 1.0])
    held = vec([2.0, 6.0, 4.0, 0.1])
    # 10 - (2 + 2) = 6; 5 - (0 + 6) = -1; 4 - (4 + 4) = -4;
    # 0.3 - (0.2 + 0.1) = -5.6e-17 in floats, a firm needing what it holds: 0.
    assert 0.3 - (0.05 * 4.0 + 0.1) != 0.0
    d, bought, sold, n_buy, n_sell = kernels.book_demand(need, inv_slope, reach, held, 4.0, 1e-12)
    assert d.tolist() == [6.0, -1.0, -4.0, 0.0]
    assert (bought, sold, n_buy, n_sell) == (6.0, 5.0, 1, 2)


@st.composite
def demand_cases(draw):
    n = draw(st.integers(0, 12))
    need, reach, held = (draw(arrays(n, _nonneg)) for _ in range(3))
    inv_slope = draw(arrays(n, _inv_slope))
    price = draw(st.one_of(_nonneg, st.sampled_from([0.0, 1.0, 2.5])))
    rtol = draw(st.sampled_from([0.0, 1e-12, 1e-3]))
    return need, inv_slope, reach, held, price, rtol


@settings(max_examples=200, deadline=None)
@given(demand_cases())
def test_book_demand_matches_reference(case):
    d, bought, sold, n_buy, n_sell = kernels.book_demand(*case)
    want = ref_book_demand(*case)
    np.testing.assert_array_equal(d, want[0])
    assert_sum(bought, want[1])
    assert_sum(sold, want[2])
    assert (n_buy, n_sell) == want[3:]


# ------------------------------------------------------------ trade_scan, apply


def test_trade_scan_hand_case():
    # held + delta = (7, -1, 2): the lowest is firm 1 at -1.
    got = kernels.trade_scan(vec([10.0, 4.0, 0.0]), vec([-3.0, -5.0, 2.0]))
    assert got == (2.0, 8.0, -1.0, 1, 10.0)
    assert kernels.trade_scan(vec([]), vec([])) == (0.0, 0.0, 0.0, -1, 0.0)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_trade_scan_non_finite_delta_makes_bought_nan(bad):
    bought, sold, *_ = kernels.trade_scan(vec([1.0, 2.0, 3.0]), vec([1.0, bad, -1.0]))
    assert math.isnan(bought)
    bought, *_ = kernels.trade_scan(vec([1.0, 2.0, 3.0]), vec([1.0, 0.0, -1.0]))
    assert bought == 1.0


@st.composite
def trade_cases(draw):
    n = draw(st.integers(0, 12))
    return draw(arrays(n, _value)), draw(arrays(n, _value))


@settings(max_examples=200, deadline=None)
@given(trade_cases())
@example((vec([5.0]), vec([1.0])))  # nobody goes below 0: low 0, at -1
def test_trade_scan_matches_reference(case):
    held, delta = case
    bought, sold, low, at, biggest = kernels.trade_scan(held, delta)
    want = ref_trade_scan(held, delta)
    assert_sum(bought, want[0])
    assert_sum(sold, want[1])
    assert (low, at, biggest) == want[2:]


def test_trade_apply_hand_case():
    held, paid, received = vec([10.0, 4.0]), vec([1.0, 0.0]), vec([0.0, 2.0])
    kernels.trade_apply(held, paid, received, vec([-3.0, 2.0]), 11.0, 9.0)
    assert held.tolist() == [7.0, 6.0]
    assert paid.tolist() == [1.0, 22.0]
    assert received.tolist() == [27.0, 2.0]


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 12).flatmap(lambda n: st.tuples(*(arrays(n, _value) for _ in range(4)))),
       _nonneg, _nonneg)
def test_trade_apply_matches_reference(arrs, buy_price, sell_price):
    held, paid, received, delta = (a.copy() for a in arrs)
    kernels.trade_apply(held, paid, received, delta, buy_price, sell_price)
    want = ref_trade_apply(*arrs, buy_price, sell_price)
    for got, w in zip((held, paid, received), want, strict=True):
        np.testing.assert_array_equal(got, w)
    np.testing.assert_array_equal(delta, arrs[3])


# ----------------------------------------------------------------- adopt_price


def test_adopt_price_hand_case():
    # At price 10: firm 0 abates min(2 * 10, 30) = 20 of 100 (share 0.1 -> 0.2);
    # firm 1 min(0.5 * 10, 25) = 5 of 50 (0.1, unchanged); firm 2 needs nothing;
    # firm 3 min(10, 10) = 10 of 20 = 0.5, capped at 0.4 (0 -> 0.4).
    need = vec([100.0, 50.0, 0.0, 20.0])
    inv_slope, most = vec([2.0, 0.5, 1.0, 1.0]), vec([30.0, 25.0, 0.0, 10.0])
    slope = vec([0.5, 2.0, 1.0, 1.0])
    share = vec([0.1, 0.1, 0.0, 0.0])
    rate = vec([25.0, 25.0, 0.0, 0.0])  # slope (share need)^2 / 2 in force
    cost = vec([1.0, 2.0, 3.0, 4.0])
    idx = np.array([5, 1, 3, 0], dtype=np.int64)
    firm_share = vec([0.0, 0.1, 0.7, 0.0, 0.9, 0.1])
    factor = np.empty(4)
    changed = kernels.adopt_price(10.0, need, inv_slope, most, 0.4, slope, share, rate, cost, 0.5,
                                  idx, firm_share, factor)
    assert changed is True
    assert share.tolist() == [0.2, 0.1, 0.0, 0.4]
    assert firm_share.tolist() == [0.4, 0.1, 0.7, 0.0, 0.9, 0.2]
    # rate = slope (s need)^2 / 2: 0.5 * 20^2 / 2 = 100, 25 kept, 0, 1 * 8^2 / 2 = 32.
    assert rate.tolist() == [100.0, 25.0, 0.0, 32.0]
    assert cost.tolist() == [13.5, 14.5, 3.0, 4.0]  # + old rate * half a year
    assert factor.tolist() == pytest.approx([0.8 / 0.9, 1.0, 1.0, 0.6], rel=1e-15)
    # The same price again: nothing changes but the cost, at the new rates.
    changed = kernels.adopt_price(10.0, need, inv_slope, most, 0.4, slope, share, rate, cost, 1.0,
                                  idx, firm_share, factor)
    assert changed is False
    assert factor.tolist() == [1.0, 1.0, 1.0, 1.0]
    assert cost.tolist() == [113.5, 39.5, 3.0, 36.0]
    assert share.tolist() == [0.2, 0.1, 0.0, 0.4]


_price = st.one_of(st.integers(-3, 30).map(float), _tenth, _real)


@st.composite
def adopt_cases(draw):
    k = draw(st.integers(0, 8))
    n_firms = k + draw(st.integers(0, 3))
    idx = np.array(draw(st.permutations(range(n_firms)))[:k], dtype=np.int64)
    max_share = draw(st.sampled_from([0.25, 0.5, 0.8]))
    need = draw(arrays(k, st.one_of(st.just(0.0), _nonneg)))
    inv_slope = draw(arrays(k, _inv_slope))
    most = np.where(draw(arrays(k, st.booleans())).astype(bool), max_share * need,
                    draw(arrays(k, _nonneg)))
    slope = draw(arrays(k, st.one_of(st.sampled_from([0.5, 1.0, 2.0]), _nonneg)))
    price = draw(_price)
    # The state in force, as the market keeps it: shares from an earlier price (often the
    # same one, so that some shares do not change) or any share up to max_share, their rates
    # slope (share need)^2 / 2, and the firm-wide shares equal to them.
    earlier = ref_share(draw(st.one_of(st.just(price), _price)), need, inv_slope, most, max_share)
    other = draw(arrays(k, st.integers(0, 4).map(lambda j: j * max_share / 4)))
    share = vec(np.where(draw(arrays(k, st.booleans())).astype(bool), earlier, other))
    rate = vec(ref_rate(slope, share, need))
    cost = draw(arrays(k, _nonneg))
    years = draw(st.sampled_from([0.0, 1 / 12, 0.5, 1.0]))
    firm_share = draw(arrays(n_firms, st.integers(0, 4).map(lambda j: j * max_share / 4)))
    firm_share[idx] = share
    return price, need, inv_slope, vec(most), max_share, slope, share, rate, cost, years, idx, \
        firm_share


@settings(max_examples=200, deadline=None)
@given(adopt_cases())
def test_adopt_price_matches_reference(case):
    (price, need, inv_slope, most, max_share, slope, share, rate, cost, years, idx,
     firm_share) = case
    want = ref_adopt_price(*case)
    got_share, got_rate, got_cost, got_firm_share = share.copy(), rate.copy(), cost.copy(), \
        firm_share.copy()
    factor = np.empty(idx.size)
    changed = kernels.adopt_price(price, need, inv_slope, most, max_share, slope, got_share,
                                  got_rate, got_cost, years, idx, got_firm_share, factor)
    assert changed is want[0]
    np.testing.assert_array_equal(got_share, want[1])
    # 0.5 * slope * q * q against slope * q^2 / 2: the same up to the order of rounding
    # (relative for normal numbers; a subnormal result keeps fewer digits).
    np.testing.assert_allclose(got_rate, want[2], rtol=1e-15, atol=TINY)
    np.testing.assert_array_equal(got_cost, want[3])
    np.testing.assert_array_equal(got_firm_share, want[4])
    np.testing.assert_array_equal(factor, want[5])


# ----------------------------------------------------------------------- abate


def test_abate_hand_case():
    idx = np.array([2, 0], dtype=np.int64)
    intensity = vec([4.0, 3.0])
    cost_share, correction = vec([1.0, 1.0, 1.0]), vec([0.0, 5.0])
    firm_intensity = vec([3.0, 9.0, 4.0])
    kernels.abate(idx, vec([0.5, 0.5]), intensity, vec([10.0, 1.0]), vec([0.1, 0.2]),
                  np.array([True, False]), 25.0, 10.0, cost_share, vec([100.0, 200.0, 300.0]),
                  correction, firm_intensity)
    # Firm 2: 4 -> 2, cost 10 (2 - 4) + (25 * 2 - 10 * 4) = -10, times 0.1; VA 300 * 2.
    # Firm 0 (not covered): 3 -> 1.5, cost 1 * (1.5 - 3) = -1.5, times 0.2; VA 100 * 1.5.
    assert intensity.tolist() == [2.0, 1.5]
    assert firm_intensity.tolist() == [1.5, 9.0, 2.0]
    assert cost_share.tolist() == pytest.approx([0.7, 1.0, 0.0], abs=1e-15)
    assert correction.tolist() == [600.0, 155.0]


@st.composite
def abate_cases(draw):
    k = draw(st.integers(0, 8))
    n_firms = k + draw(st.integers(0, 3))
    idx = np.array(draw(st.permutations(range(n_firms)))[:k], dtype=np.int64)
    factor = draw(arrays(k, st.one_of(st.sampled_from([1.0, 0.5, 0.8]), _nonneg)))
    intensity, rate, revenue_share, correction = (draw(arrays(k, _nonneg)) for _ in range(4))
    covered = np.array(draw(st.lists(st.booleans(), min_size=k, max_size=k)), dtype=bool)
    price, old_price = draw(_nonneg), draw(_nonneg)
    cost_share, period_va, firm_intensity = (draw(arrays(n_firms, _value)) for _ in range(3))
    return (idx, factor, intensity, rate, revenue_share, covered, price, old_price, cost_share,
            period_va, correction, firm_intensity)


@settings(max_examples=200, deadline=None)
@given(abate_cases())
def test_abate_matches_reference(case):
    (idx, factor, intensity, rate, revenue_share, covered, price, old_price, cost_share,
     period_va, correction, firm_intensity) = case
    want = ref_abate(*case)
    got = intensity.copy(), cost_share.copy(), correction.copy(), firm_intensity.copy()
    kernels.abate(idx, factor, got[0], rate, revenue_share, covered, price, old_price, got[1],
                  period_va, got[2], got[3])
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)


# ----------------------------------------------------------- book_inputs, sums


def test_book_inputs_hand_case():
    need = vec([1.0, -1.0, 1e-310, math.nan])
    inv_slope = vec([0.5, 1.0, 0.0, 2.0])
    reach = vec([2.0, 1.0, 3.0, 1e-310])
    e, b, r, kink, bad = kernels.book_inputs(need, inv_slope, reach)
    assert e.tolist() == [1.0, 0.0, 0.0, 0.0]
    assert b.tolist() == [0.5, 1.0, 0.0, 2.0]
    assert r.tolist() == [2.0, 1.0, 0.0, 0.0]  # firm 2 never abates, firm 3's reach subnormal
    assert kink.tolist() == [4.0, 1.0, 0.0, 0.0]
    assert bad == 1
    assert kernels.book_inputs(vec([1.0]), vec([1.0]), vec([0.0]))[4] == -1


_raw = st.one_of(_half, _real, st.sampled_from([0.0, -0.0, 1e-310, -1e-310, TINY, 5e-324,
                                                math.inf, -math.inf, math.nan]))


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10).flatmap(lambda n: st.tuples(*(arrays(n, _raw) for _ in range(3)))))
def test_book_inputs_matches_reference(arrs):
    need, inv_slope, reach = arrs
    got = kernels.book_inputs(need, inv_slope, reach)
    want = ref_book_inputs(need, inv_slope, reach)
    for g, w in zip(got[:4], want[:4], strict=True):
        np.testing.assert_array_equal(g, w)  # NaN == NaN here
    assert got[4] == want[4]


def test_book_sums_hand_case():
    kink, below, above = kernels.book_sums(np.array([2, 0, 1], dtype=np.intp), vec([3.0, 5.0, 1.0]),
                                           vec([1.0, 2.0, 4.0]), vec([0.5, 0.25, 1.0]))
    assert kink.tolist() == [1.0, 3.0, 5.0]
    assert below.tolist() == [0.0, 4.0, 5.0, 7.0]
    assert above.tolist() == [1.75, 0.75, 0.25, 0.0]


@st.composite
def sums_cases(draw):
    n = draw(st.integers(0, 20))
    order = np.array(draw(st.permutations(range(n))), dtype=np.intp)
    return order, draw(arrays(n, _nonneg)), draw(arrays(n, _nonneg)), draw(arrays(n, _inv_slope))


@settings(max_examples=200, deadline=None)
@given(sums_cases())
def test_book_sums_matches_reference(case):
    got = kernels.book_sums(*case)
    want = ref_book_sums(*case)
    np.testing.assert_array_equal(got[0], want[0])
    for g, w in zip(got[1:], want[1:], strict=True):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-300)


# -------------------------------------------------------------- step orders


def test_step_curve_hand_case():
    price = vec([5.0, 3.0, -1.0, 5.0, 2.0, -2.0, 4.0])
    quantity = vec([1.0, 2.0, 3.0, 4.0, 0.0, 5.0, 6.0])
    is_buy = np.array([True, True, True, True, False, False, False])
    buy_p, buy_q, sell_p, sell_q = kernels.step_curve(price, quantity, is_buy)
    # Buys (3, 2), (5, 1), (5, 4); the bid at -1 never fills. Sells: the empty one at 2
    # is dropped, the one at -2 counts at 0.
    assert buy_p.tolist() == [3.0, 5.0, 5.0]
    assert buy_q.tolist() == [7.0, 5.0, 4.0, 0.0]
    assert sell_p.tolist() == [0.0, 4.0]
    assert sell_q.tolist() == [0.0, 5.0, 11.0]


_step_price = st.one_of(st.integers(-3, 12).map(float), st.integers(-6, 24).map(lambda k: k / 2),
                        st.floats(-3, 12, allow_subnormal=False).map(lambda v: round(v, 3)))
_step_qty = st.one_of(st.integers(0, 6).map(float), st.integers(0, 12).map(lambda k: k / 2),
                      st.floats(0, 6, allow_subnormal=False).map(lambda v: round(v, 3)))


@st.composite
def step_orders(draw, max_size: int = 6) -> StepOrders:
    m = draw(st.integers(0, max_size))
    price = draw(arrays(m, _step_price))
    quantity = draw(arrays(m, _step_qty))
    is_buy = np.array(draw(st.lists(st.booleans(), min_size=m, max_size=m)), dtype=bool)
    return StepOrders(price, quantity, is_buy)


@settings(max_examples=200, deadline=None)
@given(step_orders(max_size=10))
def test_step_curve_matches_reference(stp):
    got = kernels.step_curve(stp.price, stp.quantity, stp.is_buy)
    want = ref_step_curve(stp.price, stp.quantity, stp.is_buy)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[2], want[2])
    for g, w in ((got[1], want[1]), (got[3], want[3])):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-300)
    # Net step demand just left of x: bids at >= x less asks (at max(price, 0)) below x.
    buy_p, buy_q, sell_p, sell_q = got
    live = stp.quantity > 0
    eff = np.where(stp.is_buy, stp.price, np.maximum(stp.price, 0))
    for x in np.concatenate([[0.0, 0.25, 100.0], eff, eff + 0.25]):
        z = (buy_q[np.searchsorted(buy_p, x, "left")]
             - sell_q[np.searchsorted(sell_p, x, "left")])
        want_z = (stp.quantity[live & stp.is_buy & (stp.price >= 0) & (eff >= x)].sum()
                  - stp.quantity[live & ~stp.is_buy & (eff < x)].sum())
        np.testing.assert_allclose(z, want_z, rtol=1e-12, atol=1e-12)


def test_fill_hand_case():
    price_, quantity = vec([6.0, 5.0, 4.0, 4.0, -1.0, 5.0, 7.0]), vec([3, 4, 1, 2, 3, 10, 1])
    is_buy = np.array([True, True, True, False, False, False, False])
    # At 5: buyers 2 (linear) + 3 inframarginal, 4 marginal = 9; sellers 1 (linear) + 2 + 3
    # (the ask at -1 counts at 0) inframarginal, 10 marginal = 16. Buyers are short: 9 trade,
    # the marginal asks share 9 - 6 = 3 of their 10.
    volume, b_in, s_in, step_fill, n_buy, n_sell = kernels.fill(
        5.0, 0, 2.0, 1.0, price_, quantity, is_buy, 1e-12)
    assert (volume, b_in, s_in, n_buy, n_sell) == (9.0, 1.0, 1.0, 2, 3)
    assert step_fill.tolist() == [3.0, 4.0, 0.0, 2.0, 3.0, 3.0, 0.0]
    # Sellers rationed as a whole: everyone offering at 5 sells 9 / 16 of it.
    volume, b_in, s_in, step_fill, n_buy, n_sell = kernels.fill(
        5.0, 2, 2.0, 1.0, price_, quantity, is_buy, 1e-12)
    assert (volume, b_in, s_in, n_buy, n_sell) == (9.0, 1.0, 9 / 16, 2, 3)
    assert step_fill.tolist() == [3.0, 4.0, 0.0, 18 / 16, 27 / 16, 90 / 16, 0.0]
    # No more than tol can trade: nothing fills.
    volume, b_in, s_in, step_fill, n_buy, n_sell = kernels.fill(
        5.0, 0, 2.0, 1.0, price_, quantity, is_buy, 9.0)
    assert (volume, b_in, s_in, n_buy, n_sell) == (0.0, 0.0, 0.0, 0, 0)
    assert step_fill.tolist() == [0.0] * 7


@settings(max_examples=200, deadline=None)
@given(step_orders(max_size=8), st.integers(0, 2), st.integers(0, 12).map(lambda k: k / 2),
       st.integers(0, 12).map(lambda k: k / 2), st.one_of(_step_price, st.just(0.0)),
       st.sampled_from([0.0, 1e-12, 0.5]), st.booleans())
def test_fill_matches_reference(stp, whole, d_buy, d_sell, price, tol, at_an_order):
    if at_an_order and stp.price.size:  # marginal orders: the price is one of theirs
        price = max(float(stp.price[0]), 0.0)
    price = max(price, 0.0)
    want = ref_fill(price, whole, d_buy, d_sell, stp.price, stp.quantity, stp.is_buy, tol)
    assume(want is not None)
    volume, b_in, s_in, step_fill, n_buy, n_sell = kernels.fill(
        price, whole, d_buy, d_sell, stp.price, stp.quantity, stp.is_buy, tol)
    np.testing.assert_allclose([volume, b_in, s_in], want[:3], rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(step_fill, want[3], rtol=1e-12, atol=1e-300)
    assert (n_buy, n_sell) == want[4:]


def brute_volume(stp: StepOrders, p: float) -> float:
    """min(bids at >= p, asks at max(price, 0) <= p)."""
    buys = stp.quantity[stp.is_buy & (stp.price >= p)].sum()
    sells = stp.quantity[~stp.is_buy & (np.maximum(stp.price, 0) <= p)].sum()
    return float(min(buys, sells))


@settings(max_examples=200, deadline=None)
@given(step_orders(max_size=6))
@example(StepOrders(vec([4.0, 6.0, -1.0]), vec([3.0, 2.0, 1.0]), np.array([True, False, False])))
def test_step_only_clearing_volume_matches_brute_force(stp):
    c = auction.clear_market(None, stp)
    # The uniform price maximises the volume: it is the best of the candidate prices
    # (0 and every order's effective price), where the step curves change.
    candidates = np.concatenate([[0.0], np.maximum(stp.price, 0)])
    best = max(brute_volume(stp, p) for p in candidates)
    if math.isnan(c.price):
        assert c.volume == 0.0
        assert best <= 1e-12 * (1.0 + stp.quantity.sum())
        return
    assert c.volume > 0
    np.testing.assert_allclose(c.volume, brute_volume(stp, c.price), rtol=1e-12)
    np.testing.assert_allclose(c.volume, best, rtol=1e-12)
    np.testing.assert_allclose(c.step_fill[stp.is_buy].sum(), c.volume, rtol=1e-12)
    np.testing.assert_allclose(c.step_fill[~stp.is_buy].sum(), c.volume, rtol=1e-12)


# ------------------------------------------------------------------ book_price


def kernel_and_reference_price(book: AbatementBook, held: float, stp: StepOrders):
    curve = _BookCurve(book, held, stp)
    want = clearing_price(curve)
    step = curve.step
    extra, at = book.extra_points(step.prices)
    # The kernel's breakpoints, never built, are the readable search's.
    merged = [_point(m, book.kink, extra, at) for m in range(book.kink.size + extra.size)]
    np.testing.assert_array_equal(merged, curve.points)
    price, code = kernels.book_price(book.kink, extra, at, book.reach_below, book.slope_above,
                                     curve.const, step.buy_p, step.buy_q, step.sell_p,
                                     step.sell_q, curve.tol)
    return (price, WHOLE_SIDES[code]), want


def steps_of(*orders: tuple[float, float, bool]) -> StepOrders:
    return StepOrders(vec([o[0] for o in orders]), vec([o[1] for o in orders]),
                      np.array([o[2] for o in orders], dtype=bool))


@pytest.mark.parametrize(("need", "inv_slope", "reach", "held", "orders", "want"), [
    # Two firms: Z = 20 - 14 - 2 min(p, 5) = 0 at 3.
    ([10.0, 10.0], [1.0, 1.0], [5.0, 5.0], 14.0, [], (3.0, "")),
    # A firm, Z = 3 - min(p / 2, 4) - [p >= 2]: 2 - p / 2 = 0 at 4, past the ask at 2.
    ([10.0], [0.5], [4.0], 7.0, [(2.0, 1.0, False)], (4.0, "")),
    # Bid 4 at 10, ask 3 at 6: excess demand up to the bid, which sets the price.
    ([], [], [], 0.0, [(10.0, 4.0, True), (6.0, 3.0, False)], (10.0, "")),
    # Bid 3 at 8 and ask 3 at 2: Z = 0 on [2, 8], the midpoint.
    ([], [], [], 0.0, [(8.0, 3.0, True), (2.0, 3.0, False)], (5.0, "")),
    # A firm holding 3 more than it needs, never abating: excess supply at 0.
    ([2.0], [0.0], [0.0], 5.0, [(3.0, 1.0, True)], (0.0, "sellers")),
    # A firm short 5 that never abates, 2 for sale at 4 (and an ask at -1, at 0):
    # excess demand at every price, the highest breakpoint.
    ([5.0], [0.0], [0.0], 0.0, [(4.0, 2.0, False), (-1.0, 1.0, False)], (4.0, "buyers")),
])
def test_book_price_hand_cases(need, inv_slope, reach, held, orders, want):
    book = AbatementBook(vec(need), vec(inv_slope), vec(reach))
    stp = steps_of(*orders) if orders else StepOrders(vec([]), vec([]), np.zeros(0, bool))
    got, ref = kernel_and_reference_price(book, held, stp)
    assert got == want
    assert ref == want


_coarse = st.one_of(st.integers(0, 12).map(float), st.integers(0, 24).map(lambda k: k / 2),
                    st.floats(0, 12, allow_subnormal=False).map(lambda v: round(v, 3)))


@st.composite
def books(draw, max_size: int = 8) -> tuple[AbatementBook, float]:
    n = draw(st.integers(0, max_size))
    need = draw(arrays(n, _coarse))
    inv_slope = draw(arrays(n, st.one_of(st.sampled_from([0.0, 0.5, 1.0, 2.0]), _coarse)))
    reach = draw(arrays(n, _coarse))
    held = draw(arrays(n, _coarse))
    return AbatementBook(need, inv_slope, reach), float(held.sum())


@settings(max_examples=200, deadline=None)
@given(books(), step_orders(max_size=5))
@example((AbatementBook(vec([4.0, 2.0]), vec([0.0, 1.0]), vec([3.0, 2.0])), 3.0),
         steps_of((-1.0, 2.0, False), (2.0, 1.0, True), (2.0, 1.0, False)))
@example((AbatementBook(vec([3.0]), vec([0.0]), vec([1.0])), 1.0),
         steps_of((1.0, 1.0, False), (-2.0, 1.0, False)))
def test_book_price_matches_auction_clearing_price(book_and_held, stp):
    book, held = book_and_held
    (price, whole), (want_price, want_whole) = kernel_and_reference_price(book, held, stp)
    assert isinstance(price, float)
    assert whole == want_whole
    assert price == want_price or (math.isnan(price) and math.isnan(want_price))


# ----------------------------------------------------------------- market_book


def ref_market_book(idx, intensity, va, share, members, slope, max_share, bid_cap):
    """The book a market builds for participants ``idx``, in numpy (the kernel's contract)."""
    e = intensity[idx] * va[idx] / (1.0 - share[idx]) * members[idx]
    c = slope[idx]
    b = np.divide(1.0, c, out=np.zeros_like(c), where=np.isfinite(c))
    r = np.minimum(max_share * e, bid_cap * b)
    need, inv_slope, reach, kink, bad = ref_book_inputs(e, b, r)
    q = share[idx] * need
    with np.errstate(invalid="ignore"):
        rate = np.where(q != 0, 0.5 * c * q * q, 0.0)
    return (need, inv_slope, reach, kink, np.maximum(e - r, 0.0), share[idx], max_share * need,
            c, rate, bad)


def test_market_book_hand_case():
    # Firm 0: need 2 x 10 / (1 - 0.5) = 40, c = 4, reach min(0.6 x 40, 100 / 4) = 24,
    # kink 24 x 4 = 96, keeps 40 - 24 = 16, abates 0.5 x 40 = 20 at 4 x 20^2 / 2 = 800 a year.
    # Firm 2: outside the scope (need 0). Firm 3: never abates (c = inf): reach 0, keeps 5.
    intensity, va = vec([2.0, 9.0, 1.0, 0.5]), vec([10.0, 9.0, 3.0, 10.0])
    share, slope = vec([0.5, 0.0, 0.25, 0.0]), vec([4.0, 1.0, 1.0, math.inf])
    members = np.array([True, True, False, True])
    got = kernels.market_book(np.array([0, 2, 3], dtype=np.intp), intensity, va, share,
                              members, slope, 0.6, 100.0)
    need, inv_slope, reach, kink, keep, p_share, most, p_slope, rate, bad = got
    assert need.tolist() == [40.0, 0.0, 5.0]
    assert inv_slope.tolist() == [0.25, 1.0, 0.0]
    assert reach.tolist() == [24.0, 0.0, 0.0]
    assert kink.tolist() == [96.0, 0.0, 0.0]
    assert keep.tolist() == [16.0, 0.0, 5.0]
    assert p_share.tolist() == [0.5, 0.25, 0.0]
    assert most.tolist() == [24.0, 0.0, 3.0]
    assert p_slope.tolist() == [4.0, 1.0, math.inf]
    assert rate.tolist() == [800.0, 0.0, 0.0]
    assert bad == -1
    assert kernels.market_book(np.array([1], dtype=np.intp), intensity, va, share, members,
                               vec([-1.0, -1.0, 1.0, 1.0]), 0.6, 100.0)[-1] == 0


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 12).flatmap(lambda n: st.tuples(
    arrays(n, _nonneg), arrays(n, _nonneg), arrays(n, st.sampled_from([0.0, 0.1, 0.5, 0.9])),
    st.lists(st.booleans(), min_size=n, max_size=n).map(np.array),
    arrays(n, st.one_of(_nonneg.map(lambda c: c + 0.5), st.just(math.inf))),  # MAC slopes > 0
    st.lists(st.booleans(), min_size=n, max_size=n).map(np.array))))
def test_market_book_matches_reference_and_builds_the_same_book(case):
    intensity, va, share, members, slope, chosen = case
    idx = np.flatnonzero(chosen)
    got = kernels.market_book(idx, intensity, va, share, members.astype(bool), slope, 0.6, 50.0)
    want = ref_market_book(idx, intensity, va, share, members.astype(bool), slope, 0.6, 50.0)
    for g, w in zip(got[:-1], want[:-1], strict=True):
        np.testing.assert_array_equal(g, w)
    assert got[-1] == want[-1]
    # A book from the cleaned inputs is the book from the raw ones.
    e = intensity[idx] * va[idx] / (1.0 - share[idx]) * members[idx]
    b = np.divide(1.0, slope[idx], out=np.zeros(idx.size), where=np.isfinite(slope[idx]))
    raw = AbatementBook(e, b, np.minimum(0.6 * e, 50.0 * b))
    clean = AbatementBook.from_clean(*got[:4])
    for name in ("need", "inv_slope", "reach", "order", "kink", "reach_below", "slope_above"):
        np.testing.assert_array_equal(getattr(clean, name), getattr(raw, name))
    assert (clean.need_total, clean.size) == (raw.need_total, raw.size)


_tie = st.integers(0, 4).map(float)  # few values: many ties


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 16).flatmap(lambda n: st.tuples(
    arrays(n, _tie), arrays(n, _tie), st.lists(st.booleans(), min_size=n, max_size=n))))
def test_resort_matches_a_stable_sort_of_the_old_order(case):
    old, new, changed = case
    changed = np.array(changed, dtype=bool)
    order = np.argsort(old, kind="stable")
    kink = np.where(changed, new, old)
    want = order[np.argsort(kink[order], kind="stable")]
    np.testing.assert_array_equal(kernels.resort(order, kink, changed), want)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 12).flatmap(lambda n: st.tuples(
    *(arrays(n, _nonneg) for _ in range(3)), *(arrays(n, _nonneg) for _ in range(3)),
    st.lists(st.booleans(), min_size=n, max_size=n).map(np.flatnonzero))))
def test_renewed_book_equals_a_book_built_afresh(case):
    *old, e2, b2, r2, at = case
    book = AbatementBook(*old)
    order = book.order.copy()
    new = [x.copy() for x in old]
    for x, y in zip(new, (e2, b2, r2), strict=True):
        x[at] = y[at]
    e, b, r, kink, _ = kernels.book_inputs(*new)
    book.renew(at, e[at], b[at], r[at], kink[at])
    want = AbatementBook(*new, order=order)
    for name in ("need", "inv_slope", "reach", "order", "kink", "reach_below", "slope_above"):
        np.testing.assert_array_equal(getattr(book, name), getattr(want, name))
    assert (book.need_total, book.size) == (want.need_total, want.size)


# --------------------------------------------------------------- per-firm sums


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 20).flatmap(lambda n: st.tuples(
    arrays(n, _value), arrays(n, _value), arrays(n, _value),
    arrays(n, st.sampled_from([0.0, 0.25, 0.5, 0.999])),
    st.lists(st.booleans(), min_size=n, max_size=n).map(np.array))), _value)
def test_add_scaled_at_and_add_unabated_match_numpy(case, scale):
    out, values, va, share, chosen = case
    idx = np.flatnonzero(chosen)
    got, want = out.copy(), out.copy()
    kernels.add_scaled_at(got, idx, scale, values)
    want[idx] += scale * values[idx]
    np.testing.assert_array_equal(got, want)
    got, want = out.copy(), out.copy()
    kernels.add_unabated(got, va, values, share)
    want += va * values / (1.0 - share)
    np.testing.assert_array_equal(got, want)
    column = np.column_stack([values, va])[:, 0]  # a strided view, as the emission columns
    got = out.copy()
    kernels.add_scaled_at(got, idx, scale, column)
    np.testing.assert_array_equal(got[idx], out[idx] + scale * values[idx])


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 20).flatmap(lambda n: st.tuples(
    arrays(n, _value), st.lists(st.booleans(), min_size=n, max_size=n).map(np.array))))
def test_gather4_matches_fancy_indexing(case):
    values, flags = case
    flags = flags.astype(bool)
    idx = np.flatnonzero(flags)[::-1]  # any order
    table = np.column_stack([values, -values])  # its columns are strided views
    got = kernels.gather4(idx, values, table[:, 1], flags, np.arange(values.size))
    for g, w in zip(got, (values[idx], -values[idx], flags[idx], idx), strict=True):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)


# ---------------------------------------------------------- firm replacement


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 30).flatmap(lambda n: st.tuples(
    arrays(n, _value), st.lists(st.booleans(), min_size=n, max_size=n).map(np.array),
    sized(_value, 5))))
def test_select_append_matches_concatenate(case):
    values, keep, new = case
    keep = keep.astype(bool)
    got = kernels.select_append(values, keep, new)
    np.testing.assert_array_equal(got, np.concatenate([values[keep], new]))
    flags = kernels.select_append(keep, keep, np.array([True, False]))
    np.testing.assert_array_equal(flags, np.concatenate([keep[keep], [True, False]]))
    got, dropped = kernels.select_append_dropped(values, keep, new)
    np.testing.assert_array_equal(got, np.concatenate([values[keep], new]))
    np.testing.assert_array_equal(dropped, values[~keep])

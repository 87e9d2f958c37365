"""QuotaLedger: every holding change and payment, and the conservation invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from simulator.markets.ledger import GOVERNMENT_SOURCES, QuotaLedger


def ledger(holdings=(100.0, 50.0, 0.0), reserve=20.0) -> QuotaLedger:
    led = QuotaLedger(len(holdings), quota="energy")
    led.issue_to_firms(list(holdings))
    led.issue_to_reserve(reserve)
    return led


# ----------------------------------------------------------------- hand cases


def test_new_ledger_is_empty_and_consistent():
    led = QuotaLedger(3, quota="cod")
    assert led.n_firms == 3
    assert led.holdings.tolist() == [0.0, 0.0, 0.0]
    assert led.reserve == led.issued == led.surrendered == led.expired == 0.0
    assert list(led.government_yuan) == list(GOVERNMENT_SOURCES)
    led.check()


def test_issue_adds_to_holdings_reserve_and_issued():
    led = ledger()
    # 100 + 50 + 0 to firms, 20 to the reserve.
    assert led.holdings.tolist() == [100.0, 50.0, 0.0]
    assert led.reserve == 20.0
    assert led.issued == 170.0
    led.check()


def test_firm_to_firm_trade_pays_fees_on_both_sides():
    led = ledger()
    led.trade([-10.0, 0.0, 10.0], 0.0, 500.0, fee_share=0.01)
    assert led.holdings.tolist() == [90.0, 50.0, 10.0]
    # Buyer: 10 x 500 x 1.01 = 5,050; seller: 10 x 500 x 0.99 = 4,950; fees 50 + 50.
    assert led.firm_paid_yuan.tolist() == pytest.approx([0.0, 0.0, 5050.0])
    assert led.firm_received_yuan.tolist() == pytest.approx([4950.0, 0.0, 0.0])
    assert led.government_yuan["fee"] == pytest.approx(100.0)
    assert led.government_yuan["auction"] == 0.0
    led.check()


def test_trade_on_an_index_of_firms_equals_the_full_trade():
    full, part = ledger(), ledger()
    full.trade([-10.0, 0.0, 10.0], 0.0, 500.0, fee_share=0.01)
    part.trade([10.0, -10.0], 0.0, 500.0, fee_share=0.01, index=np.array([2, 0]))
    for name in ("holdings", "firm_paid_yuan", "firm_received_yuan"):
        assert getattr(part, name).tolist() == getattr(full, name).tolist()
    assert part.government_yuan == full.government_yuan
    part.check()
    with pytest.raises(ValueError, match="firm 1 sells 60 but holds 50"):
        part.trade([-60.0, 60.0], 0.0, 1.0, fee_share=0.0, index=np.array([1, 2]))
    with pytest.raises(ValueError, match="shape of 'index'"):
        part.trade([1.0], -1.0, 1.0, fee_share=0.0, index=np.array([1, 2]))


def test_reserve_sale_is_booked_as_auction_revenue():
    led = ledger()
    led.trade([0.0, 15.0, 0.0], -15.0, 1000.0, fee_share=0.0075)
    assert led.reserve == 5.0
    # 15 x 1,000 = 15,000 to "auction"; the buyer's fee 15,000 x 0.0075 = 112.5.
    assert led.government_yuan["auction"] == pytest.approx(15_000.0)
    assert led.government_yuan["fee"] == pytest.approx(112.5)
    assert led.firm_paid_yuan[1] == pytest.approx(15_112.5)
    led.check()


def test_reserve_purchase_is_subtracted_from_auction_revenue():
    led = ledger()
    led.trade([-40.0, 0.0, 0.0], 40.0, 200.0, fee_share=0.0)
    assert led.reserve == 60.0
    assert led.government_yuan["auction"] == pytest.approx(-8000.0)  # 40 x 200
    assert led.firm_received_yuan[0] == pytest.approx(8000.0)
    led.check()


def test_unbalanced_trade_names_the_imbalance():
    led = ledger()
    with pytest.raises(ValueError, match=r"imbalance of \+5"):
        led.trade([-10.0, 15.0, 0.0], 0.0, 100.0, fee_share=0.0)
    assert led.holdings.tolist() == [100.0, 50.0, 0.0]  # nothing booked


def test_firm_cannot_sell_more_than_it_holds():
    led = ledger()
    with pytest.raises(ValueError, match="firm 1 sells 60 but holds 50"):
        led.trade([0.0, -60.0, 60.0], 0.0, 100.0, fee_share=0.0)


def test_reserve_cannot_sell_more_than_it_has():
    led = ledger()
    with pytest.raises(ValueError, match="reserve sells 25 but has 20"):
        led.trade([0.0, 0.0, 25.0], -25.0, 100.0, fee_share=0.0)


def test_selling_everything_survives_rounding_of_pro_rata_fills():
    led = ledger(holdings=(0.1, 0.2, 0.0), reserve=0.0)
    sell = 0.1 + 0.2 - 0.2  # 0.10000000000000003 > 0.1
    led.trade([-sell, 0.0, sell], 0.0, 10.0, fee_share=0.0)
    led.check()


def test_lease_moves_reserve_rights_and_charges_the_lease_price():
    led = ledger()
    led.lease([0.0, 5.0, 10.0], 300.0)
    assert led.holdings.tolist() == [100.0, 55.0, 10.0]
    assert led.leased.tolist() == [0.0, 5.0, 10.0]
    assert led.reserve == 5.0
    # 15 x 300 = 4,500 to "lease".
    assert led.government_yuan["lease"] == pytest.approx(4500.0)
    assert led.firm_paid_yuan.tolist() == pytest.approx([0.0, 1500.0, 3000.0])
    led.check()


def test_lease_cannot_exceed_the_reserve():
    led = ledger()
    with pytest.raises(ValueError, match="leases 30"):
        led.lease([0.0, 0.0, 30.0], 1.0)


def test_surrender_uses_leased_rights_first_and_returns_shortfall():
    led = ledger()
    led.lease([0.0, 10.0, 10.0], 0.0)          # holdings 100, 60, 10; leased 0, 10, 10
    short = led.surrender([80.0, 5.0, 25.0])
    # Firm 0 gives 80 of 100; firm 1 gives 5, all leased; firm 2 gives its 10, short 15.
    assert short.tolist() == [0.0, 0.0, 15.0]
    assert led.holdings.tolist() == [20.0, 55.0, 0.0]
    assert led.leased.tolist() == [0.0, 5.0, 0.0]
    assert led.surrendered == 95.0
    led.check()


def test_end_leases_returns_unused_leased_rights_to_reserve():
    led = ledger()
    led.lease([0.0, 10.0, 10.0], 0.0)
    led.surrender([0.0, 4.0, 0.0])
    led.end_leases()
    # Leased 20, 4 surrendered: 16 back; the reserve had 20 - 20 = 0.
    assert led.reserve == 16.0
    assert led.holdings.tolist() == [100.0, 50.0, 0.0]
    assert led.leased.tolist() == [0.0, 0.0, 0.0]
    led.check()


def test_selling_takes_own_rights_before_leased():
    led = ledger()
    led.lease([0.0, 10.0, 0.0], 0.0)          # firm 1: 60 held, 10 leased
    led.trade([0.0, -55.0, 55.0], 0.0, 1.0, fee_share=0.0)
    assert led.holdings[1] == 5.0
    assert led.leased[1] == 5.0
    led.check()


def test_expire_all_some_or_given_amounts():
    led = ledger()
    led.expire_holdings([10.0, 0.0, 0.0])
    assert led.holdings.tolist() == [90.0, 50.0, 0.0]
    led.expire_holdings(np.array([False, True, False]))
    assert led.holdings.tolist() == [90.0, 0.0, 0.0]
    led.expire_holdings()
    assert led.holdings.tolist() == [0.0, 0.0, 0.0]
    assert led.expired == 150.0
    assert led.reserve == 20.0  # the reserve does not expire
    led.check()


def test_cannot_expire_more_than_held():
    led = ledger()
    with pytest.raises(ValueError, match="cannot expire 60 of firm 1"):
        led.expire_holdings([0.0, 60.0, 0.0])


def test_charge_and_pay_book_money_by_source():
    led = ledger()
    led.charge([100.0, 200.0, 0.0], source="paid_use")
    led.pay([0.0, 50.0, 25.0], source="compensation")
    assert led.government_yuan["paid_use"] == 300.0
    assert led.government_yuan["compensation"] == -75.0
    assert led.firm_paid_yuan.tolist() == [100.0, 200.0, 0.0]
    assert led.firm_received_yuan.tolist() == [0.0, 50.0, 25.0]
    led.check()


def test_unknown_money_source_is_rejected():
    led = ledger()
    with pytest.raises(ValueError, match="unknown money source 'tax'"):
        led.charge([1.0, 1.0, 1.0], source="tax")


@pytest.mark.parametrize(
    "call",
    [
        lambda led: led.issue_to_firms([1.0, -1.0, 0.0]),
        lambda led: led.lease([-1.0, 0.0, 0.0], 1.0),
        lambda led: led.charge([0.0, -5.0, 0.0], source="penalty"),
        lambda led: led.surrender([0.0, 0.0, -1.0]),
        lambda led: led.issue_to_reserve(-1.0),
        lambda led: led.trade([-1.0, 1.0, 0.0], 0.0, -5.0, fee_share=0.0),
    ],
    ids=["issue", "lease", "charge", "surrender", "reserve", "price"],
)
def test_negative_quantities_are_rejected(call):
    with pytest.raises(ValueError, match="must be|cannot issue"):
        call(ledger())


def test_per_firm_arrays_must_have_one_value_per_firm():
    with pytest.raises(ValueError, match=r"must have shape \(3,\); got \(2,\)"):
        ledger().issue_to_firms([1.0, 2.0])


def test_exiting_firms_leave_rights_to_reserve_and_money_on_the_books():
    led = ledger()
    led.lease([0.0, 5.0, 0.0], 0.0)
    led.charge([10.0, 20.0, 30.0], source="paid_use")
    led.remove_firms(np.array([False, True, False]))
    assert led.n_firms == 2
    assert led.holdings.tolist() == [100.0, 0.0]
    assert led.reserve == 15.0 + 55.0  # 20 - 5 leased, then firm 1's 55 (own and leased)
    assert led.departed_paid_yuan == 20.0
    led.check()
    led.add_firms(2)
    assert led.holdings.tolist() == [100.0, 0.0, 0.0, 0.0]
    assert led.firm_paid_yuan.tolist() == [10.0, 30.0, 0.0, 0.0]
    led.check()


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda led: led.holdings.__setitem__(0, 101.0), "rights not conserved"),
        (lambda led: setattr(led, "reserve", led.reserve - 1.0), "rights not conserved"),
        (lambda led: led.firm_paid_yuan.__setitem__(0, 1.0), "money not conserved"),
        (lambda led: led.government_yuan.__setitem__("fee", 1.0), "money not conserved"),
        (lambda led: (led.holdings.__setitem__(0, -1.0), led.holdings.__setitem__(1, 151.0)),
         "firm 0 holds -1"),
        (lambda led: led.leased.__setitem__(2, 1.0), "firm 2 has leased 1"),
    ],
    ids=["holdings", "reserve", "paid", "government", "negative", "leased"],
)
def test_check_names_the_broken_invariant(tamper, message):
    led = ledger()
    led.check()
    tamper(led)
    with pytest.raises(ValueError, match=message):
        led.check()


def test_a_compliance_year_in_order():
    """Allocation, paid use, auction, lease, surrender, surcharge, compensation, expiry."""
    led = QuotaLedger(3, quota="energy")
    led.issue_to_firms([100.0, 100.0, 100.0])
    led.issue_to_reserve(30.0)
    led.charge([5000.0, 5000.0, 10_000.0], source="paid_use")          # 50 or 100 yuan/tce
    led.trade([-20.0, 10.0, 30.0], -20.0, 800.0, fee_share=0.0075)     # reserve sells 20
    led.lease([0.0, 0.0, 10.0], 400.0)
    short = led.surrender([70.0, 115.0, 150.0])
    assert short.tolist() == [0.0, 5.0, 10.0]
    led.charge(short * 1000.0, source="surcharge")
    left = led.holdings - led.leased
    led.trade(-left, float(left.sum()), 0.0, fee_share=0.0)           # buy-back at 0 ...
    led.pay(left * 300.0, source="compensation")                       # ... compensated
    led.end_leases()
    led.expire_holdings()
    led.check()
    assert led.holdings.sum() == 0.0
    assert led.reserve == pytest.approx(10.0)                          # 30 - 20 - 10 + 10 bought
    assert led.surrendered == pytest.approx(70.0 + 110.0 + 140.0)
    gov = led.government_yuan
    assert gov["auction"] == pytest.approx(16_000.0)
    assert gov["fee"] == pytest.approx(0.0075 * 800.0 * (20.0 + 40.0))
    assert gov["lease"] == pytest.approx(4000.0)
    assert gov["surcharge"] == pytest.approx(15_000.0)
    assert gov["compensation"] == pytest.approx(-3000.0)               # firm 0's 10 left


# ------------------------------------------------------ random event sequences


fraction = st.floats(0.0, 1.0)
amount = st.floats(0.0, 1e6)
price = st.floats(0.0, 1e4)


class LedgerMachine(RuleBasedStateMachine):
    """Random sequences of ledger events; conservation holds after every one.

    Alongside the ledger the machine keeps its own totals of rights issued and
    of the firms' net payments, so ``check()`` is not only self-consistent.
    """

    @initialize(n=st.integers(0, 5))
    def start(self, n):
        self.led = QuotaLedger(n, quota="nox")
        self.issued = 0.0
        self.net_paid = 0.0

    def fractions(self, data):
        return np.array(data.draw(st.lists(fraction, min_size=self.led.n_firms,
                                           max_size=self.led.n_firms)))

    def amounts(self, data, scale=1e6):
        return np.array(data.draw(st.lists(st.floats(0.0, scale), min_size=self.led.n_firms,
                                           max_size=self.led.n_firms)))

    @rule(data=st.data())
    def issue_to_firms(self, data):
        a = self.amounts(data)
        self.led.issue_to_firms(a)
        self.issued += a.sum()

    @rule(a=amount)
    def issue_to_reserve(self, a):
        self.led.issue_to_reserve(a)
        self.issued += a

    @rule(data=st.data(), p=price, fee=st.floats(0.0, 0.49), reserve_part=st.floats(-1.0, 1.0))
    def trade(self, data, p, fee, reserve_part):
        led = self.led
        sold = self.fractions(data) * np.maximum(led.holdings, 0.0)
        # The reserve sells up to all it has (> 0) or buys up to all firms sell (< 0).
        from_reserve = (reserve_part * max(led.reserve, 0.0) if reserve_part > 0
                        else reserve_part * sold.sum())
        weights = self.fractions(data)
        bought_total = sold.sum() + from_reserve
        # Without buyers the reserve takes everything sold.
        bought = (weights / weights.sum() * bought_total if weights.sum() > 0
                  else np.zeros_like(sold))
        delta = bought - sold
        before = led.firm_paid_yuan.sum() - led.firm_received_yuan.sum()
        led.trade(delta, -delta.sum(), p, fee_share=fee)
        change = led.firm_paid_yuan.sum() - led.firm_received_yuan.sum() - before
        expected = p * delta.sum() + p * fee * np.abs(delta).sum()
        gross = led.firm_paid_yuan.sum() + led.firm_received_yuan.sum()
        assert change == pytest.approx(expected, rel=1e-9, abs=1e-12 * gross + 1e-9)
        self.net_paid += change

    @rule(data=st.data(), p=price)
    def lease(self, data, p):
        led = self.led
        w = self.fractions(data)
        if w.sum() == 0:
            return
        a = w / w.sum() * max(led.reserve, 0.0) * data.draw(fraction)
        led.lease(a, p)
        self.net_paid += p * a.sum()

    @rule(data=st.data())
    def surrender(self, data):
        led = self.led
        use = self.fractions(data) * 2.0 * np.maximum(led.holdings, 0.0)
        held = led.holdings.copy()
        short = led.surrender(use)
        assert (short >= 0).all()
        np.testing.assert_allclose(short, np.maximum(use - held, 0.0), atol=1e-6)

    @rule()
    def end_leases(self):
        self.led.end_leases()
        assert (self.led.leased == 0).all()

    @rule(data=st.data(), how=st.sampled_from(["all", "mask", "amounts"]))
    def expire(self, data, how):
        led = self.led
        if how == "all":
            led.expire_holdings()
        elif how == "mask":
            led.expire_holdings(self.fractions(data) > 0.5)
        else:
            led.expire_holdings(self.fractions(data) * np.maximum(led.holdings, 0.0))

    @rule(data=st.data(), source=st.sampled_from(GOVERNMENT_SOURCES))
    def charge(self, data, source):
        a = self.amounts(data, 1e8)
        self.led.charge(a, source=source)
        self.net_paid += a.sum()

    @rule(data=st.data(), source=st.sampled_from(GOVERNMENT_SOURCES))
    def pay(self, data, source):
        a = self.amounts(data, 1e8)
        self.led.pay(a, source=source)
        self.net_paid -= a.sum()

    @rule(k=st.integers(1, 3))
    def add_firms(self, k):
        self.led.add_firms(k)

    @precondition(lambda self: self.led.n_firms > 0)
    @rule(data=st.data())
    def remove_firms(self, data):
        self.led.remove_firms(self.fractions(data) > 0.5)

    @invariant()
    def conserved(self):
        led = self.led
        led.check()
        tiny = 1e-9 * max(1.0, self.issued)
        assert led.issued == pytest.approx(self.issued, rel=1e-9, abs=1e-9)
        assert (led.holdings >= -tiny).all()
        assert (led.leased <= led.holdings + tiny).all()
        assert led.reserve >= -tiny
        paid = led.firm_paid_yuan.sum() + led.departed_paid_yuan
        received = led.firm_received_yuan.sum() + led.departed_received_yuan
        assert paid - received == pytest.approx(self.net_paid, abs=1e-12 * (paid + received) + 1e-9)


LedgerMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_random_event_sequences_conserve_rights_and_money = LedgerMachine.TestCase


def test_expire_reserve_moves_the_reserve_to_expired():
    led = QuotaLedger(2, quota="energy")
    led.issue_to_reserve(40.0)
    led.issue_to_firms([10.0, 5.0])
    led.expire_reserve()
    assert (led.reserve, led.expired) == (0.0, 40.0)
    led.check()


class FocusMachine(RuleBasedStateMachine):
    """Operations on firm subsets equal the same operations on whole arrays.

    A market works on its participants through one ``index`` array, and the
    ledger keeps those firms' rows in contiguous working copies (its focus)
    from one operation to the next. This machine runs random bursts of
    operations through a few index arrays (the same objects again and again,
    switching between them), and the same operations as whole-array calls on
    a second ledger; after every burst the two must agree exactly.
    """

    @initialize(n=st.integers(1, 6), data=st.data())
    def start(self, n, data):
        self.n = n
        self.focused, self.plain = QuotaLedger(n, quota="so2"), QuotaLedger(n, quota="so2")
        start = np.array(data.draw(st.lists(st.floats(0.0, 100.0), min_size=n, max_size=n)))
        for led in (self.focused, self.plain):
            led.issue_to_firms(start)
            led.issue_to_reserve(50.0)
        self.indices = [np.array(sorted(data.draw(st.lists(
            st.integers(0, n - 1), unique=True, min_size=1, max_size=n)))) for _ in range(2)]

    def whole(self, idx, values):
        out = np.zeros(self.n)
        out[idx] = values
        return out

    def fractions(self, data, k):
        return np.array(data.draw(st.lists(fraction, min_size=k, max_size=k)))

    @rule(data=st.data())
    def burst(self, data):
        ops = data.draw(st.lists(st.sampled_from(
            ["trade", "lease", "surrender", "charge", "pay", "issue", "end_leases"]),
            min_size=1, max_size=6))
        for op in ops:
            idx = self.indices[data.draw(st.integers(0, len(self.indices) - 1))]
            held = self.focused.holdings_at(idx)  # read as a market does, through the focus
            np.testing.assert_array_equal(held, self.plain.holdings[idx])
            f, p = self.focused, self.plain
            if op == "trade":
                sold = self.fractions(data, idx.size) * np.maximum(held, 0.0)
                weights = self.fractions(data, idx.size)
                total = sold.sum() + data.draw(fraction) * max(f.reserve, 0.0)
                bought = (weights / weights.sum() * total if weights.sum() > 0
                          else np.zeros(idx.size))
                delta = bought - sold
                reserve_delta = -float(delta.sum())
                price, fee = data.draw(price_st), data.draw(st.floats(0.0, 0.2))
                f.trade(delta, reserve_delta, price, fee_share=fee, index=idx)
                p.trade(self.whole(idx, delta), reserve_delta, price, fee_share=fee)
            elif op == "lease":
                w = self.fractions(data, idx.size)
                if w.sum() == 0:
                    continue
                a = w / w.sum() * max(f.reserve, 0.0) * data.draw(fraction)
                f.lease(a, 2.0, index=idx)
                p.lease(self.whole(idx, a), 2.0)
            elif op == "surrender":
                use = self.fractions(data, idx.size) * 2.0 * np.maximum(held, 0.0)
                short = f.surrender(use, index=idx)
                np.testing.assert_array_equal(short, p.surrender(self.whole(idx, use))[idx])
            elif op in ("charge", "pay", "issue"):
                a = self.fractions(data, idx.size) * 1e3
                if op == "issue":
                    f.issue_to_firms(a, index=idx)
                    p.issue_to_firms(self.whole(idx, a))
                else:
                    getattr(f, op)(a, source="penalty", index=idx)
                    getattr(p, op)(self.whole(idx, a), source="penalty")
            else:
                f.end_leases()
                p.end_leases()

    @invariant()
    def agree(self):
        f, p = self.focused, self.plain
        for name in ("holdings", "leased", "firm_paid_yuan", "firm_received_yuan"):
            np.testing.assert_array_equal(getattr(f, name), getattr(p, name), err_msg=name)
        for name in ("reserve", "issued", "surrendered", "expired"):
            assert getattr(f, name) == getattr(p, name), name
        assert f.government_yuan == p.government_yuan
        f.check()


price_st = st.floats(0.0, 1e4)
FocusMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=10, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_operations_on_focused_firms_equal_whole_array_operations = FocusMachine.TestCase

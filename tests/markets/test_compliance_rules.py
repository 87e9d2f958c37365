"""Compliance rules of the quota markets, checked on whole runs of the engine.

Each test runs :func:`simulator.engine.simulate` on the small scenario (two or
three years, no firm entry or exit, so snapshot rows are the same firms every
year and line up with the ledger's) and checks one rule of
:meth:`QuotaMarket.comply` or :meth:`QuotaMarket.allocate` against quantities
computed by hand from the firm snapshots, the market metrics and the ledgers:
compensation for reduced energy use, banking, expiry at the end of a term,
leases, the reserve's auction lot, the over-quota surcharge and the declining
intensity target of the paid-use fee.

Snapshot columns used: ``<quota>_held`` (rights held at compliance, after the
final auction and before surrender), ``_use``, ``_covered``, ``_allocated``,
``_shortfall``. A firm's rights left after surrender are
``max(held - use, 0)`` (uncovered firms use nothing); with no lease in force
(``lease_share`` 0) that is also what it keeps after compliance.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from simulator.engine import simulate
from simulator.markets.allocation import energy_paid_use_fee, overquota_surcharge
from simulator.markets.cycle import PRICE_SETTERS, QuotaMarket
from simulator.markets.ledger import QuotaLedger
from simulator.population import build_population
from simulator.scenario import apply_changes, load_scenario

from .static import static_markets

ROOT = Path(__file__).resolve().parents[2]
E = "markets.energy."
COD = "markets.emissions.cod."
FIRST = 2017  # small.yaml starts in 2017-01


@pytest.fixture(scope="module")
def base():
    s = static_markets(load_scenario(ROOT / "tests" / "scenarios" / "small.yaml"))
    assert s.run.first_year == FIRST
    return apply_changes(s, {"timeline": [], "dynamics.enabled": False})


def run(scenario, changes):
    """Run ``scenario`` with ``changes``; return the result and the firm snapshots."""
    tables: list[pa.Table] = []
    result = simulate(apply_changes(scenario, changes), on_snapshot=tables.append)
    return result, pa.concat_tables(tables).to_pandas()


def annual(metrics: pd.DataFrame, quota: str) -> pd.DataFrame:
    """Annual market metrics of ``quota``: one row per year, one column per metric."""
    rows = metrics[(metrics["group"] == f"market={quota}") & metrics["month"].isna()]
    return rows.pivot_table(index="year", columns="metric", values="value")


def auctions(metrics: pd.DataFrame, quota: str) -> pd.DataFrame:
    """Per-auction market metrics of ``quota``: one row per (year, month), NaN prices kept."""
    rows = metrics[(metrics["group"] == f"market={quota}") & metrics["month"].notna()]
    out = rows.pivot_table(index=["year", "month"], columns="metric", values="value",
                           dropna=False)
    return out.sort_index()


def year(firms: pd.DataFrame, y: int) -> pd.DataFrame:
    """Snapshot rows of year ``y`` (firm order as in the engine)."""
    return firms[firms["year"] == y].reset_index(drop=True)


def leftover(snap: pd.DataFrame, quota: str) -> np.ndarray:
    """Rights each firm holds after surrendering for its covered use."""
    use = np.where(snap[f"{quota}_covered"], snap[f"{quota}_use"], 0.0)
    return np.maximum(snap[f"{quota}_held"].to_numpy() - use, 0.0)


def reserve_net_sales(metrics: pd.DataFrame, quota: str, y: int) -> float:
    """Rights the reserve sold net of those it bought in year ``y``'s auctions."""
    a = auctions(metrics, quota).loc[y]
    return float((a["reserve_sold"] - a["reserve_bought"]).sum())


# ------------------------------------------------------------------ 1. compensation


@pytest.fixture(scope="module")
def compensation_runs(base):
    # No reserve purchase at the floor (which would take every surplus at 500 yuan in the
    # final auction): firms keep unsold surplus after surrender for compensation.
    changes = {"run.end": "2018-12", E + "banking": False, E + "reserve.buys_at_floor": False,
               E + "reserve.lease_share": 0.0}
    return {comp: run(base, {**changes, E + "compensation_yuan_per_tce": comp})
            for comp in (300.0, 0.0)}


def test_unsold_energy_surplus_is_bought_back_at_the_compensation_price(compensation_runs):
    result, firms = compensation_runs[300.0]
    gov = annual(result.metrics, "energy")["gov_compensation_yuan"]
    for y in (FIRST, FIRST + 1):
        left = leftover(year(firms, y), "energy")
        assert np.count_nonzero(left > 0) >= 10, y  # surplus to compensate
        # Each firm's rights left after surrender (none leased) go back at 300 yuan/tce.
        assert gov[y] == pytest.approx(-300.0 * left.sum(), rel=1e-9), y
    led = result.ledgers["energy"]
    assert (led.holdings == 0).all()  # bought back (and without banking, nothing is kept)
    # No compensation price, no compensation, although firms again end with surplus.
    result0, firms0 = compensation_runs[0.0]
    assert (annual(result0.metrics, "energy")["gov_compensation_yuan"] == 0.0).all()
    assert leftover(year(firms0, FIRST), "energy").sum() > 0


def test_no_compensation_with_energy_banking(base):
    # With banking, surplus rights are kept for next year, not bought back.
    result, firms = run(base, {"run.end": "2017-12", E + "banking": True,
                               E + "reserve.buys_at_floor": False,
                               E + "reserve.lease_share": 0.0,
                               E + "compensation_yuan_per_tce": 300.0})
    left = leftover(year(firms, FIRST), "energy")
    assert left.sum() > 0
    assert annual(result.metrics, "energy").loc[FIRST, "gov_compensation_yuan"] == 0.0
    np.testing.assert_allclose(result.ledgers["energy"].holdings, left, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("comp", [300.0, 1000.0])
def test_year_end_surplus_sells_at_the_higher_of_the_years_price_and_the_compensation(
        base, comp):
    # Without banking, a right kept past the year end is worth the compensation the reserve
    # pays for it, and no firm sells below the year's price: surplus is offered at the
    # higher of the two. It is the long side of the compliance auction, so its price is the
    # auction's: the last scheduled price (set by what set that) when above 300 yuan, and
    # 1,000 yuan (the compensation, a floor) when the year's prices stayed below it.
    result, _ = run(base, {"run.end": "2018-12", E + "banking": False,
                           E + "reserve.buys_at_floor": False, E + "reserve.lease_share": 0.0,
                           E + "compensation_yuan_per_tce": comp})
    a = auctions(result.metrics, "energy")
    for y in (FIRST, FIRST + 1):
        rows = a.loc[y]
        scheduled = rows[(rows.index < 12) & (rows["quota_volume"] > 0)]
        last, last_setter = scheduled.iloc[-1][["quota_price_yuan_per_unit",
                                                "quota_price_setter"]]
        final = rows.loc[12]
        assert final["quota_volume"] > 0, y
        assert (comp > last) == (comp == 1000.0), y  # each case takes its own branch
        if comp > last:
            assert final["quota_price_yuan_per_unit"] == pytest.approx(comp, rel=1e-12), y
            assert PRICE_SETTERS[int(final["quota_price_setter"])] == "floor", y
        else:
            assert final["quota_price_yuan_per_unit"] == pytest.approx(last, rel=1e-12), y
            assert final["quota_price_setter"] == last_setter, y


# ------------------------------------------------------------------ 2. banking


def _generous_then_halved(banking: bool) -> dict:
    # COD: a first-year cap of 1.5x baseline allocated 1.5x history (every firm long, so
    # no one buys and the reserve, which does not buy at the floor, never trades), then a
    # cap halved in the second year of the 5-year term. No leases.
    return {
        "run.end": "2018-12",
        COD + "banking": banking,
        COD + "cap.first_year_share_of_baseline": 1.5,
        COD + "cap.annual_decline": 0.5,
        COD + "allocation.class_factor": {"A": 1.5, "B": 1.5, "C": 1.5, "D": 1.5},
        COD + "allocation.unrated_factor": 1.5,
        COD + "allocation.intensity_factors": [],
        COD + "reserve.buys_at_floor": False,
        COD + "reserve.lease_share": 0.0,
    }


def test_banked_emission_rights_carry_into_the_next_year(base):
    assert base.markets.emissions["cod"].term_years >= 2  # year 2 is within the term
    result, firms = run(base, _generous_then_halved(banking=True))
    # Nothing traded: holdings change only by allocation, surrender and carry-over.
    assert (auctions(result.metrics, "cod")["quota_volume"] == 0).all()
    y1, y2 = year(firms, FIRST), year(firms, FIRST + 1)
    left1 = leftover(y1, "cod")
    assert np.count_nonzero(left1 > 0) >= 50
    # Each firm holds at year 2's compliance exactly its year-1 leftover plus its year-2
    # allocation.
    np.testing.assert_allclose(y2["cod_held"], left1 + y2["cod_allocated"],
                               rtol=1e-12, atol=1e-12)
    led = result.ledgers["cod"]
    assert led.expired == 0.0
    np.testing.assert_allclose(led.holdings, leftover(y2, "cod"), rtol=1e-12, atol=1e-12)
    # Banked rights let firms surrender more in year 2 than year 2's whole cap.
    t = annual(result.metrics, "cod")
    surrendered = t["quota_use"] - t["quota_shortfall"]
    assert surrendered[FIRST + 1] > 1.2 * t.loc[FIRST + 1, "quota_cap"]


def test_without_banking_leftover_emission_rights_expire_each_year(base):
    result, firms = run(base, _generous_then_halved(banking=False))
    t = annual(result.metrics, "cod")
    # Each year the firms' leftovers and the reserve's rights expire: the reserve holds
    # what the cap did not allocate, less its net sales.
    expected = 0.0
    for y in (FIRST, FIRST + 1):
        left = leftover(year(firms, y), "cod")
        assert left.sum() > 0, y
        expected += (left.sum() + t.loc[y, "quota_cap"] - t.loc[y, "quota_allocated"]
                     - reserve_net_sales(result.metrics, "cod", y))
    led = result.ledgers["cod"]
    assert led.expired == pytest.approx(expected, rel=1e-9)
    assert (led.holdings == 0).all()
    assert led.reserve == 0.0
    # Year 2's firms have only year 2's cap to surrender (less than their use in year 1).
    surrendered = t["quota_use"] - t["quota_shortfall"]
    assert surrendered[FIRST + 1] <= t.loc[FIRST + 1, "quota_cap"] * (1 + 1e-9)


# ------------------------------------------------------------------ 3. term expiry


@pytest.fixture(scope="module")
def term_runs(base):
    # COD rights banked, for a 2-year term: the first term ends with 2018.
    changes = {COD + "banking": True, COD + "term_years": 2, COD + "reserve.lease_share": 0.0}
    return {n: run(base, {**changes, "run.end": f"{FIRST + n - 1}-12"}) for n in (1, 2, 3)}


def test_emission_rights_expire_at_the_end_of_their_term_even_with_banking(term_runs):
    (r1, f1), (r2, f2), (r3, f3) = term_runs[1], term_runs[2], term_runs[3]
    # Shorter runs are the first years of the longer one, so their ledgers are its states
    # at those year ends.
    pd.testing.assert_frame_equal(f2, f3[f3["year"] <= FIRST + 1].reset_index(drop=True))
    pd.testing.assert_frame_equal(f1, f2[f2["year"] == FIRST].reset_index(drop=True))
    led1, led2, led3 = (r.ledgers["cod"] for r in (r1, r2, r3))
    # Year 1 (within the term): nothing expires; firms keep their leftovers.
    assert led1.expired == 0.0
    np.testing.assert_allclose(led1.holdings, leftover(year(f3, FIRST), "cod"),
                               rtol=1e-12, atol=1e-12)
    # Year 2 ends the term: the firms' leftovers and all the reserve holds expire.
    y2 = FIRST + 1
    left2 = leftover(year(f3, y2), "cod")
    assert left2.sum() > 0
    t = annual(r3.metrics, "cod")
    reserve_at_term_end = (led1.reserve + t.loc[y2, "quota_cap"] - t.loc[y2, "quota_allocated"]
                           - reserve_net_sales(r3.metrics, "cod", y2))
    assert reserve_at_term_end > 0
    assert led2.expired == pytest.approx(left2.sum() + reserve_at_term_end, rel=1e-9)
    assert (led2.holdings == 0).all()
    assert led2.reserve == 0.0
    # Year 3 starts a new term: nothing more expires and leftovers are banked again.
    assert led3.expired == led2.expired
    left3 = leftover(year(f3, FIRST + 2), "cod")
    assert left3.sum() > 0
    np.testing.assert_allclose(led3.holdings, left3, rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------ 4. leases


def run_with_compliance_spy(scenario, changes, quota):
    """Run, recording each compliance's starting state and each lease of ``quota``.

    Returns the result, the snapshots, per year ``(holdings, reserve, covered use)``
    just before :meth:`QuotaMarket.comply`, and per lease ``(amounts per firm, price)``.
    The spies only read (they change no state).
    """
    before, leases = [], []
    comply, lease = QuotaMarket.comply, QuotaLedger.lease

    def spy_comply(self, month, firms, params, absent=None):
        if self.quota == quota:
            led = self.ledger
            before.append((led.holdings.copy(), led.reserve,
                           np.where(self.members, self.use_ytd(firms), 0.0)))
        return comply(self, month, firms, params, absent)

    def spy_lease(self, amounts, price, *, index=None):
        if self.quota == quota:
            full = np.zeros(self.n_firms)
            full[slice(None) if index is None else index] = amounts
            leases.append((full, price))
        return lease(self, amounts, price, index=index)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(QuotaMarket, "comply", spy_comply)
        mp.setattr(QuotaLedger, "lease", spy_lease)
        result, firms = run(scenario, changes)
    return result, firms, before, leases


@pytest.mark.parametrize("lease_share", [0.1, 0.5, 0.0])
def test_leases_are_pro_rata_to_shortfalls_up_to_the_reserve_share(base, lease_share):
    price = base.markets.emissions["cod"].reserve.lease_price_yuan_per_unit
    assert price > 0
    changes = {"run.end": "2018-12", COD + "reserve.lease_share": lease_share}
    result, firms, before, leases = run_with_compliance_spy(base, changes, "cod")
    gov = annual(result.metrics, "cod")["gov_lease_yuan"]
    assert len(before) == 2
    fills = []
    for y, (held, reserve, use) in zip((FIRST, FIRST + 1), before, strict=True):
        short = np.maximum(use - held, 0.0)
        assert np.count_nonzero(short) >= 10, y  # short firms at compliance
        supply = reserve * lease_share
        fill = min(1.0, supply / short.sum())
        fills.append(fill)
        assert gov[y] == pytest.approx(price * fill * short.sum(), rel=1e-9, abs=1e-9), y
    if lease_share == 0.0:
        assert leases == []
        assert (gov == 0.0).all()
        return
    assert len(leases) == 2
    for (amounts, lease_price), fill, (held, _, use) in zip(leases, fills, before, strict=True):
        assert lease_price == price
        np.testing.assert_allclose(amounts, np.maximum(use - held, 0.0) * fill,
                                   rtol=1e-12, atol=1e-15)
    if lease_share == 0.1:
        assert max(fills) < 1.0  # the reserve share binds: shortfalls are rationed
    else:
        assert min(fills) == 1.0  # enough to lease every shortfall
    # The spies change nothing: the run is the same without them.
    plain, plain_firms = run(base, changes)
    pd.testing.assert_frame_equal(result.metrics, plain.metrics)
    pd.testing.assert_frame_equal(firms, plain_firms)


# ------------------------------------------------------------------ 5. auction lot


@pytest.mark.parametrize("lot_price", [200.0, 800.0, 1500.0])
def test_the_reserve_sells_its_auction_lot_only_at_or_above_the_lot_price(base, lot_price):
    # Energy reserve of 10% of the cap; it neither sells at the ceiling nor buys at the
    # floor, so its only orders are the scheduled auctions' lots.
    share = base.markets.energy.reserve.auction_share
    assert 0 < share < 1
    result, _ = run(base, {"run.end": "2018-12", E + "reserve.share_of_cap": 0.1,
                           E + "reserve.sells_at_ceiling": False,
                           E + "reserve.buys_at_floor": False,
                           E + "reserve.lease_share": 0.0,
                           E + "reserve.auction_reserve_price_yuan_per_unit": lot_price})
    t = annual(result.metrics, "energy")
    a = auctions(result.metrics, "energy")
    assert (t["gov_subscription_yuan"] == 0).all()  # the reserve starts at cap - allocated
    assert (a["reserve_bought"] == 0).all()
    outcomes = []
    for y in (FIRST, FIRST + 1):
        reserve = t.loc[y, "quota_cap"] - t.loc[y, "quota_allocated"]  # none banked
        rows = a.loc[y]
        assert list(rows.index) == [1, 4, 7, 10, 12]
        for month, row in rows.iterrows():
            price, sold = row["quota_price_yuan_per_unit"], row["reserve_sold"]
            lot = share * reserve if month != 12 else 0.0  # no lot at compliance
            if price > lot_price * (1 + 1e-12):
                outcome = "full"
                assert sold == pytest.approx(lot, rel=1e-9), (y, month)
            elif abs(price - lot_price) <= 1e-9 * lot_price:
                outcome = "at lot price"
                assert -1e-9 <= sold <= lot * (1 + 1e-9), (y, month)
            else:  # below the lot price, or no trade (NaN)
                outcome = "none"
                assert sold == 0.0, (y, month)
            if month != 12:
                outcomes.append((outcome, row["quota_volume"] > 0))
            reserve -= sold
        # The reserve's receipts are its sales at each auction's price.
        revenue = (rows["quota_price_yuan_per_unit"].fillna(0.0)
                   * (rows["reserve_sold"] - rows["reserve_bought"])).sum()
        assert t.loc[y, "gov_auction_yuan"] == pytest.approx(revenue, rel=1e-9, abs=1e-6)
    # Each price exercises a different case of the lot's limit price.
    if lot_price == 200.0:
        assert all(o == ("full", True) for o in outcomes)
    elif lot_price == 800.0:
        assert ("at lot price", True) in outcomes
        assert (a["reserve_sold"] > 0).any()
    else:
        assert ("none", True) in outcomes  # firms traded below the lot price, without it
        assert (a["reserve_sold"] == 0).all()


# ------------------------------------------------------------------ 6. surcharge


def test_energy_shortfalls_pay_the_block_overquota_surcharge(base):
    # A cap at 60% of baseline use and no reserve sales at the ceiling: many firms stay
    # short, some by more than 20% of their quota (the third block).
    result, firms = run(base, {"run.end": "2018-12",
                               E + "cap.first_year_share_of_baseline": 0.6,
                               E + "reserve.sells_at_ceiling": False,
                               E + "reserve.lease_share": 0.0})
    blocks = base.markets.energy.overquota_surcharge
    assert len(blocks) == 3
    gov = annual(result.metrics, "energy")["gov_surcharge_yuan"]
    for y in (FIRST, FIRST + 1):
        snap = year(firms, y)
        quota = snap["energy_allocated"].to_numpy()
        short = snap["energy_shortfall"].to_numpy()
        overrun = np.divide(short, quota, out=np.zeros_like(short), where=quota > 0)
        assert np.count_nonzero(overrun > blocks[2].above) >= 5, y
        expected = overquota_surcharge(quota + short, quota=quota, blocks=blocks).sum()
        assert gov[y] == pytest.approx(expected, rel=1e-9), y
        # The blocks matter: the first block's price alone would charge much less.
        assert expected > 1.1 * blocks[0].price_yuan_per_unit * short.sum()


def test_a_short_firm_bids_the_surcharge_its_last_unit_short_would_pay(base):
    # Default blocks: overrun up to 10% of quota at 3,000, to 20% at 5,000, beyond at 8,000
    # yuan/tce. A firm short by 5, exactly 10, 15, exactly 20 or 25 tce of a 100 tce quota
    # avoids, with its last unit bought, the price of the block that unit falls in:
    # 3,000, 3,000, 5,000, 5,000, 8,000 (an overrun ending on a block edge is still in the
    # block below), i.e. the derivative of the surcharge from the left.
    spec = base.markets.energy
    assert [(b.above, b.price_yuan_per_unit) for b in spec.overquota_surcharge] == [
        (0.0, 3000.0), (0.1, 5000.0), (0.2, 8000.0)]
    market = QuotaMarket("energy", firms=build_population(base, np.random.default_rng(0)),
                         scenario=base, rng=np.random.default_rng(0))
    quota = np.full(5, 100.0)
    short = np.array([5.0, 10.0, 15.0, 20.0, 25.0])
    prices, level = market.kind.shortfall_levels(spec, short, quota)
    np.testing.assert_array_equal(prices[level], [3000.0, 3000.0, 5000.0, 5000.0, 8000.0])
    last_unit = (overquota_surcharge(quota + short, quota=quota,
                                     blocks=spec.overquota_surcharge)
                 - overquota_surcharge(quota + short - 1e-3, quota=quota,
                                       blocks=spec.overquota_surcharge)) / 1e-3
    np.testing.assert_allclose(prices[level], last_unit, rtol=1e-6)


# ------------------------------------------------------------------ 7. penalty


def test_emission_shortfalls_pay_the_penalty_on_the_tonnes_short(base):
    # A COD cap at 60% of use, no sales at the ceiling and no leases: firms stay short
    # after the final auction and pay the penalty per tonne they lack, not per tonne
    # emitted.
    result, firms = run(base, {"run.end": "2018-12",
                               COD + "cap.first_year_share_of_baseline": 0.6,
                               COD + "reserve.sells_at_ceiling": False,
                               COD + "reserve.lease_share": 0.0})
    penalty = base.markets.emissions["cod"].penalty_yuan_per_t
    gov = annual(result.metrics, "cod")["gov_penalty_yuan"]
    for y in (FIRST, FIRST + 1):
        snap = year(firms, y)
        short = snap["cod_shortfall"].to_numpy()
        assert np.count_nonzero(short > 0) >= 5, y
        assert gov[y] == pytest.approx(penalty * short.sum(), rel=1e-9), y
        covered_use = snap.loc[snap["cod_covered"], "cod_use"].sum()
        assert short.sum() < 0.5 * covered_use, y  # the penalty base is much less than use


# ------------------------------------------------------------------ 8. intensity target


def test_energy_paid_use_fee_uses_the_declining_intensity_target(base):
    # No abatement (and no upgrades), so each firm's energy intensity stays as drawn; a
    # target of 2.5 tce/万元 falling 30% a year puts more firms above it every year.
    target0, decline = 2.5, 0.3
    result, firms = run(base, {"run.end": "2019-12", E + "mac.max_abatement_share": 0.0,
                               E + "intensity_target_tce_per_wan_yuan": target0,
                               E + "intensity_target_annual_decline": decline})
    spec = result.scenario.markets.energy
    assert (firms["energy_abatement_share"] == 0).all()
    intensity = result.firms.energy_tce_per_wan_yuan
    gov = annual(result.metrics, "energy")["gov_paid_use_yuan"]
    above = []
    for y in (FIRST, FIRST + 1, FIRST + 2):
        snap = year(firms, y)
        np.testing.assert_array_equal(snap["firm_id"], result.firms.firm_id)
        va = snap["va_wan_yuan"].to_numpy()
        np.testing.assert_allclose(snap["energy_tce"][va > 0] / va[va > 0], intensity[va > 0],
                                   rtol=1e-9)  # the intensity was that all year
        allocated = snap["energy_allocated"].to_numpy()

        def fee(target, allocated=allocated):
            return energy_paid_use_fee(
                allocated, intensity=intensity, target=target,
                below_fee=spec.paid_use_fee_below_target_yuan_per_tce,
                above_fee=spec.paid_use_fee_above_target_yuan_per_tce).sum()

        target = target0 * (1 - decline) ** (y - FIRST)
        assert gov[y] == pytest.approx(fee(target), rel=1e-9), y
        if y > FIRST:  # the first year's target would charge less
            assert fee(target0) < gov[y] * (1 - 0.05), y
        above.append(np.count_nonzero((allocated > 0) & (intensity > target)))
    assert above[0] < above[1] < above[2]

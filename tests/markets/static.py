"""The quota markets as rules alone, without the default world around them.

The default scenario grows (output, intensities), follows the five-year plans' cap paths,
auctions the caps' headroom and has firms that miss the compliance window. Tests of one
market rule on the small scenario take those away: flat potentials, caps falling at the
13th plan's constant yearly rates from a first-year cap equal to use, terms that start
with the run, a reserve that holds what it keeps and offers a quarter of it at a reserve
price in each auction, and no absent firms (the market rules of the first release).
"""

from __future__ import annotations

from simulator.scenario import Scenario, apply_changes

__all__ = ["static_markets"]

#: (yearly cap decline, reserve price of the auction lot) by market.
_RULES = {"energy": (0.02, 800.0), "emissions.cod": (0.0417, 4000.0),
          "emissions.nh3n": (0.0380, 10000.0), "emissions.so2": (0.0366, 1000.0),
          "emissions.nox": (0.0366, 1200.0)}


def static_markets(scenario: Scenario) -> Scenario:
    """Return ``scenario`` without growth, plan paths, headroom auctions or absent firms."""
    changes: dict = {
        "behaviour.potential_growth_by_year": {},
        "behaviour.labour_productivity_growth_by_year": {},
        "behaviour.intensity_change_per_year": {},
    }
    for market, (decline, lot_price) in _RULES.items():
        m = f"markets.{market}."
        changes |= {m + "cap": {"first_year_share_of_baseline": 1.0, "annual_decline": decline},
                    m + "absent_share": 0.0,
                    m + "reserve.sells_unallocated": False, m + "reserve.releases": [],
                    m + "reserve.auction_share": 0.25,
                    m + "reserve.auction_reserve_price_yuan_per_unit": lot_price}
        if market != "energy":
            changes[m + "term_first_year"] = None
    return apply_changes(scenario, changes)

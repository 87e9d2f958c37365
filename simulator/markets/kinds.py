"""Market kinds: what a quota market's rules depend on, besides its parameters.

One quota-market cycle (:class:`~simulator.markets.cycle.QuotaMarket`) runs
every market; it does not know which quota it trades. Everything that differs
between energy-use rights (用能权) and emission rights (排污权) is a method of
the market's kind:

====================  ===============================  ===============================
                      :class:`EnergyRights`            :class:`EmissionRights`
====================  ===============================  ===============================
quantity              energy, tce                      one pollutant, t (a column of
                                                       the firms' emissions)
coverage              renewed every year               fixed for an entitlement term
entitlements          yearly                           per term, scaled by the cap path
use charge            paid-use fee by intensity        paid use per tonne-year by class
                      against the target; paid
                      subscription of new use
shortfall             over-quota surcharge by block    penalty per tonne (a violation)
unsold surplus        compensation (without banking)   expires at the term's end
upgrade that cuts     retrofit                         pollution control
its intensity
linear charge         electricity per kWh x kWh/tce    pollution charge per tonne
====================  ===============================  ===============================

:data:`KINDS` registers the kinds; :func:`kind_of` gives a quota's kind. A
new kind of right is a subclass registered there; a new pollutant is data
(a scenario entry), served by :class:`EmissionRights`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from simulator.firms import TCE_PER_KWH, Firms
from simulator.markets.allocation import (
    emission_paid_use_fee,
    energy_paid_use_fee,
    overquota_surcharge,
    subscription_charge,
)
from simulator.scenario import POLLUTANTS

if TYPE_CHECKING:
    from simulator.markets.cycle import QuotaMarket

__all__ = ["KINDS", "EmissionRights", "EnergyRights", "RightsKind", "kind_of"]


class RightsKind:
    """The rules of one kind of quota right (a base class; see the subclasses)."""

    #: Registered name of the kind.
    name: ClassVar[str] = ""
    #: Unit of the quantity the rights cover.
    unit: ClassVar[str] = ""
    #: The investment option that changes the unabated intensity of the quantity.
    upgrade: ClassVar[str] = ""
    #: The reserve's yearly flows besides auctions that this kind reports.
    reported_reserve_flows: ClassVar[tuple[str, ...]] = ("leased",)
    #: Columns of the per-firm quantity corrections that abatement writes.
    corrections: ClassVar[tuple[str, ...]] = ()

    def intensity(self, firms: Firms) -> np.ndarray:
        """Effective use per 万元 VA (after abatement); a view into the firms' state."""
        raise NotImplementedError

    def use_ytd(self, firms: Firms) -> np.ndarray:
        """Use booked so far this year, after abatement; a view into the firms' state."""
        raise NotImplementedError

    def per_unit_charge(self, yuan_per_kwh: np.ndarray, yuan_per_t: np.ndarray) -> np.ndarray:
        """Return the linear charge per unit of the quantity for every firm (the tariff's)."""
        raise NotImplementedError

    def charge_factor(self, firms: Firms, idx: np.ndarray) -> np.ndarray | None:
        """Return the factor that turns :meth:`per_unit_charge` into yuan per unit (or None)."""
        return None

    def book_correction(self, correction: dict[str, np.ndarray], idx: np.ndarray,
                        cut: np.ndarray, factor: np.ndarray | None) -> None:
        """Add quantity ``cut`` of firms ``idx`` to the per-firm ``correction`` arrays."""
        raise NotImplementedError

    def vetoes(self, veto) -> bool:
        """Whether a shortfall is vetoed in the evaluation under ``veto`` (a VetoSpec)."""
        raise NotImplementedError

    def extra_state(self, potential: np.ndarray) -> dict[str, np.ndarray | None]:
        """Per-firm arrays this kind keeps on the market (None: not used by this kind)."""
        return {"registered": None, "entered": None, "entitlement": None}

    def renews_coverage(self, spec, year: int, first_year: int) -> bool:
        """Whether coverage and entitlements are set afresh at this year's allocation."""
        raise NotImplementedError

    def new_use(self, market: QuotaMarket, firms: Firms, spec):
        """Return the plan for new use bought at the allocation (None if the kind has none)."""
        return None

    def charge_allocation(self, market: QuotaMarket, entitled: np.ndarray, idx: np.ndarray,
                          firms: Firms, spec, year: int, plan) -> None:
        """Charge for the rights allocated (and sell new use, where the kind does)."""
        raise NotImplementedError

    def bid_cap(self, spec) -> float:
        """Return the most a firm pays for a right: what it avoids without one."""
        raise NotImplementedError

    def shortfall_levels(self, spec, short: np.ndarray,
                         allocation: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Return what a short firm avoids per unit by buying: the levels, and each firm's."""
        raise NotImplementedError

    def unsold_surplus_value(self, spec, last_price: float,
                             last_setter: str) -> tuple[float, str]:
        """Return the price for surplus at year end without banking, and who set it."""
        return 0.0, "market"

    def settle_shortfall(self, market: QuotaMarket, spec, idx: np.ndarray,
                         quota: np.ndarray, short: np.ndarray) -> None:
        """Charge for the rights still missing after the final auction (and settle surplus)."""
        raise NotImplementedError

    def term_ends(self, spec, year: int, first_year: int) -> bool:
        """Whether the rights' term ends with this year (they expire, banking or not)."""
        return False


class EnergyRights(RightsKind):
    """Energy-use rights (用能权), tce: yearly coverage, paid use, subscription, surcharge."""

    name = "energy"
    unit = "tce"
    upgrade = "retrofit"
    reported_reserve_flows = ("leased", "subscribed", "compensated")
    corrections = ("energy_tce", "electricity_kwh")

    def intensity(self, firms: Firms) -> np.ndarray:  # noqa: D102
        return firms.energy_tce_per_wan_yuan

    def use_ytd(self, firms: Firms) -> np.ndarray:  # noqa: D102
        return firms.ytd["energy_tce"]

    def per_unit_charge(self, yuan_per_kwh, yuan_per_t):  # noqa: D102
        return yuan_per_kwh

    def charge_factor(self, firms: Firms, idx: np.ndarray) -> np.ndarray:
        """Return kWh per tce of each firm ``idx`` (yuan per kWh x kWh per tce)."""
        return firms.electricity_share[idx] / TCE_PER_KWH

    def book_correction(self, correction, idx, cut, factor) -> None:  # noqa: D102
        correction["energy_tce"][idx] += cut
        correction["electricity_kwh"][idx] += cut * factor

    def vetoes(self, veto) -> bool:  # noqa: D102
        return bool(veto.energy_task_missed)

    def extra_state(self, potential: np.ndarray) -> dict[str, np.ndarray | None]:
        """Return registered use (baseline or subscribed) and who entered since the allocation.

        An entrant's use is all new use: it buys it by subscription, with no
        baseline allocation on top of it.
        """
        return {"registered": potential.copy(), "entered": np.zeros(potential.size, dtype=bool),
                "entitlement": None}

    def renews_coverage(self, spec, year: int, first_year: int) -> bool:  # noqa: D102
        return True

    def new_use(self, market: QuotaMarket, firms: Firms,
                spec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return the firms with new energy use, that use, and the subscription due for it.

        New use is expected unabated use beyond the registered use (expansion,
        or all of an entrant's use); the charge is 0 where no subscription is
        due (below the project size or unit consumption thresholds).
        """
        new_use = market.potential_unabated(firms)
        new_use -= market.registered
        idx = np.flatnonzero(new_use > 0)
        new_use = new_use[idx]
        charge = subscription_charge(new_use, unit_consumption_tce_per_wan_yuan=(
            market.intensity(firms)[idx] / (1.0 - market.share[idx])), spec=spec.subscription)
        return idx, new_use, charge

    @staticmethod
    def _subscribe(market: QuotaMarket, idx: np.ndarray, new_use: np.ndarray,
                   charge: np.ndarray) -> None:
        """Paid subscription of new energy use (:meth:`new_use`), from the reserve.

        New use for which no subscription is due is registered as it is (the
        project needs no purchase); the rest is bought from the reserve, pro
        rata if the reserve is short, and what is bought is registered.
        """
        due = charge > 0
        market.registered[idx[~due]] += new_use[~due]
        wanted = np.where(due, new_use, 0.0)
        total = float(wanted.sum())
        led = market.ledger
        if total <= 0 or led.reserve <= 0:
            return
        fill = min(1.0, led.reserve / total)
        granted = wanted * fill
        market.reserve_flows["subscribed"] += float(granted.sum())
        led.trade(granted, -float(granted.sum()), 0.0, fee_share=0.0, index=idx)
        led.charge(charge * fill, source="subscription", index=idx)
        market.registered[idx] += granted

    def charge_allocation(self, market, entitled, idx, firms, spec, year, plan) -> None:
        """Paid-use fee by intensity against the year's target; then paid subscription."""
        target = spec.intensity_target_tce_per_wan_yuan * (
            1.0 - spec.intensity_target_annual_decline) ** (year - market.first_year)
        market.intensity_target = target
        market.ledger.charge(energy_paid_use_fee(
            entitled, intensity=self.intensity(firms)[idx], target=target,
            below_fee=spec.paid_use_fee_below_target_yuan_per_tce,
            above_fee=spec.paid_use_fee_above_target_yuan_per_tce),
            source="paid_use", index=idx)
        self._subscribe(market, *plan)
        market.entered[:] = False

    def bid_cap(self, spec) -> float:  # noqa: D102
        return float(spec.overquota_surcharge[0].price_yuan_per_unit)

    def shortfall_levels(self, spec, short, allocation):
        """Return the marginal over-quota surcharge, by the block a firm's overrun falls in."""
        blocks = spec.overquota_surcharge
        above = np.array([b.above for b in blocks])
        price = np.array([b.price_yuan_per_unit for b in blocks], dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            overrun_share = np.where(allocation > 0, short / allocation, np.inf)
        level = np.clip(np.searchsorted(above, overrun_share, side="left") - 1, 0, len(blocks) - 1)
        return price, level

    def unsold_surplus_value(self, spec, last_price, last_setter):
        """Return the year's price above the compensation for unsold surplus, else it."""
        if spec.compensation_yuan_per_tce > 0:
            if last_price > spec.compensation_yuan_per_tce:
                return last_price, last_setter
            return spec.compensation_yuan_per_tce, "floor"
        return 0.0, "market"

    def settle_shortfall(self, market, spec, idx, quota, short) -> None:
        """Over-quota surcharge on overruns; without banking, unsold surplus is compensated."""
        led = market.ledger
        led.charge(overquota_surcharge(quota + short, quota=quota,
                                       blocks=spec.overquota_surcharge),
                   source="surcharge", index=idx)
        left = led.holdings_at(idx) - led.leased_at(idx)
        comp = spec.compensation_yuan_per_tce
        if comp > 0 and not spec.banking and left.sum() > 0:
            led.trade(-left, float(left.sum()), 0.0, fee_share=0.0, index=idx)
            led.pay(left * comp, source="compensation", index=idx)
            market.reserve_flows["compensated"] += float(left.sum())


class EmissionRights(RightsKind):
    """Emission rights (排污权) of one pollutant, t: term entitlements, paid use, penalty."""

    name = "emissions"
    unit = "t"
    upgrade = "pollution_control"
    corrections = ("emissions_t",)

    def __init__(self, pollutant: str, column: int) -> None:
        self.pollutant = pollutant
        self.column = column

    def intensity(self, firms: Firms) -> np.ndarray:  # noqa: D102
        return firms.emission_t_per_wan_yuan[:, self.column]

    def use_ytd(self, firms: Firms) -> np.ndarray:  # noqa: D102
        return firms.ytd["emissions_t"][:, self.column]

    def per_unit_charge(self, yuan_per_kwh, yuan_per_t):  # noqa: D102
        return yuan_per_t[:, self.column]

    def book_correction(self, correction, idx, cut, factor) -> None:  # noqa: D102
        correction["emissions_t"][idx, self.column] += cut

    def vetoes(self, veto) -> bool:  # noqa: D102
        return bool(veto.emission_violation)

    def extra_state(self, potential: np.ndarray) -> dict[str, np.ndarray | None]:
        """Emission rights per year for the current term."""
        return {"registered": None, "entered": None, "entitlement": np.zeros(potential.size)}

    def renews_coverage(self, spec, year: int, first_year: int) -> bool:  # noqa: D102
        return spec.term_starts(year, first_year)

    def charge_allocation(self, market, entitled, idx, firms, spec, year, plan) -> None:
        """Paid use (有偿使用) per tonne-year by class."""
        market.ledger.charge(emission_paid_use_fee(
            entitled, klass=firms.klass[idx], price=spec.paid_use_price_yuan_per_t_year,
            class_multiplier=spec.paid_use_class_multiplier), source="paid_use", index=idx)

    def bid_cap(self, spec) -> float:  # noqa: D102
        return float(spec.penalty_yuan_per_t)

    def shortfall_levels(self, spec, short, allocation):
        """Return the penalty, one level for all (None for the firms' levels)."""
        return np.array([float(spec.penalty_yuan_per_t)]), None

    def settle_shortfall(self, market, spec, idx, quota, short) -> None:
        """Charge the penalty per tonne missing."""
        market.ledger.charge(short * spec.penalty_yuan_per_t, source="penalty", index=idx)

    def term_ends(self, spec, year: int, first_year: int) -> bool:  # noqa: D102
        return spec.term_ends(year, first_year)


#: The kinds of quota rights, by name: the one place a kind is registered.
KINDS: dict[str, type[RightsKind]] = {"energy": EnergyRights, "emissions": EmissionRights}


def kind_of(quota: str, pollutants: tuple[str, ...] = POLLUTANTS) -> RightsKind:
    """Return the kind of the market ``quota`` (``"energy"`` or one of ``pollutants``).

    ``pollutants`` are the scenario's, in the order of the firms' emission
    columns (:meth:`~simulator.scenario.Scenario.pollutant_names`).
    """
    if quota == "energy":
        return KINDS["energy"]()
    return KINDS["emissions"](quota, pollutants.index(quota))

"""A market's book in force: the year's bids, sorted once, and its participants' abatement.

:class:`ParticipantBook` is the part of
:class:`~simulator.markets.cycle.QuotaMarket` that builds the year's
:class:`~simulator.markets.book.AbatementBook` (the covered firms, holders
of rights and firms still abating, with their needs, MAC slopes and
abatement bounds: :meth:`~ParticipantBook.book`), renews single firms' bids
in it when upgrades change their needs (:meth:`~ParticipantBook.renew_bids`)
and forgets it when the bids change otherwise
(:meth:`~ParticipantBook.invalidate`). While a book stands, its
participants' abatement (share in force, most they abate, MAC slopes, cost
per year and cost accrued) is kept contiguous, in the book's order of
firms; prices move it (:meth:`~ParticipantBook.adopt_price`) and time
accrues its cost (:meth:`~ParticipantBook.accrue_abatement_cost`).
"""

from __future__ import annotations

import numpy as np

from simulator.firms import Firms
from simulator.markets import kernels
from simulator.markets.allocation import abatement_cost
from simulator.markets.book import AbatementBook
from simulator.scenario import Scenario

__all__ = ["ParticipantBook"]

_MAX_SHARE = 0.999  # abatement share below 1 keeps intensities invertible


class ParticipantBook:
    """The book in force of a quota market and its participants' abatement (a mixin).

    :class:`~simulator.markets.cycle.QuotaMarket` inherits it; it uses the
    market's ``members``, ``share``, ``slope``, ``ledger``, ``kind`` and
    ``quota``, and its :meth:`spec`, :meth:`intensity` and
    :meth:`potential_unabated`.
    """

    def _start_book(self, n: int) -> None:
        """Set up no book, and no abatement cost yet, for ``n`` firms."""
        self._abatement_cost_ytd = np.zeros(n)
        self._accrued_to = 0                     # run month the abatement cost is accrued to
        self._book: AbatementBook | None = None  # the year's bids, sorted once
        self._idx: np.ndarray | None = None      # the book's participants (firm indices)
        self._same_idx = False                   # participants unchanged since the last book
        self._ranked: np.ndarray | None = None   # last book's firms in kink order, after a resize
        self._order: np.ndarray | None = None    # last book's kink order (a re-sort hint)
        # What each participant would rather sell than use above the bid cap, and its total.
        self._keep: np.ndarray | None = None
        self._keep_total = 0.0
        # The participants' abatement, kept contiguous while the book stands: share in
        # force, most they abate, MAC slopes, cost per year at that share, and cost
        # accrued but not yet booked into abatement_cost_ytd.
        self._p_share = self._p_most = self._p_slope = self._p_rate = self._p_cost = None
        # (book, ledger moves) after an auction of that book found no trade.
        self._quiet: tuple[AbatementBook, int] | None = None

    # ------------------------------------------------------------------- the book

    def invalidate(self) -> None:
        """Forget the year's sorted bids: firms' needs, the bid cap or the MAC bounds changed.

        The engine calls this on timeline changes; allocation and firm
        replacement call it too. (Upgrades that change some firms' unabated
        intensities renew their bids instead, :meth:`renew_bids`; abatement
        keeps unabated needs as they are.)
        """
        self._fold_cost()
        self._book = self._quiet = None

    @property
    def current_book(self) -> AbatementBook | None:
        """The book in force (None until the next auction rebuilds it)."""
        return self._book

    @property
    def participants(self) -> np.ndarray | None:
        """Firm indices of the book's participants (None without a book)."""
        return self._idx if self._book is not None else None

    @property
    def keep(self) -> np.ndarray | None:
        """What each participant would rather sell than use above the bid cap, units."""
        return self._keep

    @property
    def abatement_cost_ytd(self) -> np.ndarray:
        """Abatement cost accrued this year per firm, yuan."""
        self._fold_cost()
        return self._abatement_cost_ytd

    def _fold_cost(self) -> None:
        """Book the participants' accrued abatement cost into the per-firm array."""
        if self._book is not None and self._p_cost is not None and self._p_cost.any():
            self._abatement_cost_ytd[self._idx] += self._p_cost
            self._p_cost[:] = 0.0

    def book(self, firms: Firms, scenario: Scenario) -> tuple[AbatementBook, np.ndarray]:
        """Return the year's bids and the participants they belong to.

        Participants are the covered firms, any firm holding rights (outside
        the scope it only sells) and any firm still abating from an earlier
        year (outside the scope it stops). The book holds their needs
        (0 outside the scope), MAC slopes and abatement bounds, sorted by kink
        price; it is built at the first auction after an allocation or
        :meth:`invalidate`, re-using last year's order when the participants
        are the same, and upgrades renew single firms' orders in it
        (:meth:`renew_bids`). Every auction of the year then works on the
        participants alone.
        """
        if self._book is None:
            if self._same_idx:  # within a year only participants trade and abate
                idx = self._idx
            else:
                idx = np.flatnonzero(self.members | (self.ledger.holdings > 0)
                                     | (self.share > 0))
            need, inv_slope, reach, kink, self._keep, self._p_share, self._p_most, \
                self._p_slope, self._p_rate = self._bids(idx, firms, scenario)
            self._book = AbatementBook.from_clean(need, inv_slope, reach, kink,
                                                  order=self._sort_hint(idx))
            self._idx, self._order, self._same_idx = idx, self._book.order, True
            self._keep_total = float(self._keep.sum())
            self._p_cost = np.zeros(idx.size)
        return self._book, self._idx

    def _bids(self, idx: np.ndarray, firms: Firms, scenario: Scenario) -> tuple[np.ndarray, ...]:
        """Book inputs and abatement state of firms ``idx`` (``kernels.market_book``)."""
        spec = self.spec(scenario)
        # Needs are 0 outside the scope. No firm pays more for a right than the penalty
        # (or surcharge) it avoids without one: it abates at most to where its MAC
        # reaches that price; the rest of its need it sells at that price, not uses.
        *bids, bad = kernels.market_book(
            idx, self.intensity(firms), firms.va_wan_yuan, self.share, self.members,
            self.slope, spec.mac.max_abatement_share, self.kind.bid_cap(spec))
        if bad >= 0:
            raise ValueError(f"{self.quota}: firm {int(idx[bad])}'s bid is not finite and "
                             "non-negative (need, 1 / MAC slope or most it abates)")
        return tuple(bids)

    def renew_bids(self, changed: np.ndarray, firms: Firms, scenario: Scenario) -> np.ndarray:
        """Firms ``changed`` (ascending) have new unabated intensities: renew their bids.

        An upgrade taking or leaving effect changes a firm's need, not its
        holdings, share or MAC: the book stands with those participants' orders
        replaced and re-sorted (as :meth:`book` would build it afresh). Returns
        their positions among the participants (none without a book: the next
        auction builds one).
        """
        if self._book is None or not self._idx.size:
            return np.zeros(0, dtype=np.intp)
        at = np.minimum(np.searchsorted(self._idx, changed), self._idx.size - 1)
        at = at[self._idx[at] == changed]  # the participants among them
        if at.size:
            need, inv_slope, reach, kink, keep, _, most, _, rate = self._bids(
                self._idx[at], firms, scenario)
            self._book.renew(at, need, inv_slope, reach, kink)
            self._quiet = None
            self._order = self._book.order
            self._keep[at] = keep
            self._keep_total = float(self._keep.sum())
            self._p_most[at], self._p_rate[at] = most, rate
        return at

    def _sort_hint(self, idx: np.ndarray) -> np.ndarray | None:
        """Last book's kink order carried over to the participants ``idx`` (None at first).

        Kinks change little from one book to the next, so last order, with
        the firms that left dropped and the new ones appended, is nearly
        sorted and re-sorts in close to linear time.
        """
        if self._idx is not None and self._order is not None:
            if np.array_equal(idx, self._idx):
                return self._order
            ranked = self._idx[self._order]  # last book's firms in kink order
        elif self._ranked is not None:  # the same, carried over a resize
            ranked = self._ranked
        else:
            return None
        where = np.full(self.members.size, -1, dtype=np.intp)  # firm -> position in idx
        where[idx] = np.arange(idx.size)
        kept = where[ranked]
        kept = kept[kept >= 0]
        new = np.ones(idx.size, dtype=bool)
        new[kept] = False
        return np.concatenate([kept, np.flatnonzero(new)])

    # ------------------------------------------------------------------ abatement

    def accrue_abatement_cost(self, month: int, firms: Firms) -> None:
        """Book the abatement cost of the months since the last accrual (``month``: run month)."""
        elapsed = month - self._accrued_to
        if elapsed > 0:
            if self._book is not None:  # every firm that abates is a participant
                self._p_cost += self._p_rate * (elapsed / 12.0)
            elif self.share.any():
                q = self.share * self.potential_unabated(firms)
                self._abatement_cost_ytd += abatement_cost(
                    q, slope=self.slope) * (elapsed / 12.0)
        self._accrued_to = month

    def adopt_price(self, price: float, *, month: int) -> np.ndarray | None:
        """Participants abate to where their MAC equals ``price``; return their intensity factor.

        Each participant (:meth:`book`) abates ``min(price / c_i, s e_i)``
        (``s``: the most it may abate; nothing outside the scope). Returns
        ``(1 - new share) / (1 - old share)`` per participant, or None if no
        share changes. The caller scales the participants' intensities by the
        factor (see :func:`simulator.engine.trading.abate`), keeping the period's
        billing exact. Abatement cost is accrued up to ``month`` (run month)
        at the old shares.
        """
        factor = np.empty(self._idx.size)
        years = max(month - self._accrued_to, 0) / 12.0
        changed = kernels.adopt_price(
            float(price), self._book.need, self._book.inv_slope, self._p_most, _MAX_SHARE,
            self._p_slope, self._p_share, self._p_rate, self._p_cost, years, self._idx,
            self.share, factor)
        self._accrued_to = max(month, self._accrued_to)
        return factor if changed else None

    def adopt_prices(self, prices: np.ndarray, *, month: int) -> np.ndarray | None:
        """Participants abate to where their MAC equals their own ``prices`` (:meth:`adopt_price`).

        ``prices`` has one price per participant (its region's, when regions
        trade apart); the rule and the return are :meth:`adopt_price`'s.
        """
        years = max(month - self._accrued_to, 0) / 12.0
        self._p_cost += self._p_rate * years
        need = self._book.need
        q = np.minimum(self._book.inv_slope * np.maximum(prices, 0.0), self._p_most)
        with np.errstate(invalid="ignore", divide="ignore"):
            s = np.where(need > 0.0, np.clip(q / need, 0.0, _MAX_SHARE), 0.0)
        old = self._p_share.copy()
        changed = s != old
        self._accrued_to = max(month, self._accrued_to)
        if not changed.any():
            return None
        self._p_share[changed] = s[changed]
        self.share[self._idx[changed]] = s[changed]
        q = s[changed] * need[changed]
        self._p_rate[changed] = 0.5 * self._p_slope[changed] * q * q
        return (1.0 - s) / (1.0 - old)

    # -------------------------------------------------- allocation and firm replacement

    def _new_participants(self) -> None:
        """Forget the book and who takes part (an allocation changes coverage and holdings)."""
        self.invalidate()
        self._same_idx = False

    def _carry_order_over(self, keep: np.ndarray, rows: np.ndarray | None) -> None:
        """Forget the book before firms are replaced, its kink order kept for the firms ``keep``.

        ``rows`` is ``cumsum(keep) - 1`` (each kept firm's new row), if the
        caller has it.
        """
        self.invalidate()
        if self._idx is not None and self._order is not None:  # keep the sort hint
            if rows is None:
                rows = np.cumsum(keep) - 1
            ranked = self._idx[self._order]  # last book's firms in kink order
            self._ranked = rows[ranked[keep[ranked]]]

    def _drop_book(self, n: int) -> None:
        """No book and no abatement cost this year, for the ``n`` firms after a replacement."""
        self._abatement_cost_ytd = np.zeros(n)
        self._book = self._idx = self._order = None
        self._same_idx = False

    def _restart_abatement_cost(self, n: int) -> None:
        """Start the year's abatement cost afresh for ``n`` firms (what accrued is booked first)."""
        self._fold_cost()
        self._abatement_cost_ytd = np.zeros(n)

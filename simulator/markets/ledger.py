"""The book of one quota's rights and of the money paid for them.

A :class:`QuotaLedger` keeps, for one tradeable quota (energy-use rights
用能权 in tce, or one pollutant's emission rights 排污权 in t), where every
right issued is now: held by a firm (its own or leased from the reserve),
held by the government reserve, surrendered for compliance, or expired. It
also keeps what each firm has paid and received, and the government's net
receipts by source. Every change of holdings and every payment of the quota
system goes through one of its methods, so two invariants hold after any
sequence of them (:meth:`QuotaLedger.check`):

- rights: ``sum(holdings) + reserve + surrendered + expired == issued``;
- money: ``firms' payments - firms' receipts == government's net receipts``.

Rights are in the quota's unit ("units": tce or t), money in yuan.

The per-firm arrays (holdings, leased, paid, received) and the focus that keeps
a market's participants' rows contiguous are the base class's,
:class:`~simulator.markets.accounts.FirmAccounts`.

Example
-------
>>> led = QuotaLedger(2, quota="energy")
>>> led.issue_to_firms([100.0, 50.0])
>>> led.issue_to_reserve(10.0)
>>> led.trade([-20.0, 30.0], -10.0, 500.0, fee_share=0.0)
>>> led.holdings.tolist(), led.reserve, led.government_yuan["auction"]
([80.0, 80.0], 0.0, 5000.0)
>>> led.check()
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from simulator.markets import kernels
from simulator.markets.accounts import FirmAccounts

__all__ = ["GOVERNMENT_SOURCES", "QuotaLedger"]

#: Sources of the government's net receipts, in reporting order.
GOVERNMENT_SOURCES: tuple[str, ...] = (
    "paid_use",      # paid use of the allocation (有偿使用)
    "subscription",  # paid subscription of new energy use (有偿申购)
    "auction",       # reserve sales net of reserve purchases
    "lease",         # one-year leases from the reserve (租赁)
    "surcharge",     # over-quota surcharge (超限额差别加价)
    "penalty",       # emission shortfall penalties
    "compensation",  # paid to firms for reduced use (减少用能补偿), negative
    "fee",           # platform trading fees (交易服务费)
)

# Relative slack for comparisons that floating-point pro-rata fills can miss
# by a few ulps (a firm selling "all it holds", the reserve selling "all it has").
# Rounding accumulates with what has flowed through the ledger, so the slack
# scales with the rights issued, as in check().
_RTOL = 1e-9


class QuotaLedger(FirmAccounts):
    """Holdings of one quota's rights and the money paid for them.

    Parameters
    ----------
    n_firms : int
        Number of firms (rows of every per-firm array).
    quota : str
        Name of the quota (``"energy"``, ``"cod"``, ...); used in messages.

    Attributes
    ----------
    holdings : ndarray, shape (n_firms,)
        Rights held per firm, own plus leased, units.
    leased : ndarray, shape (n_firms,)
        Of ``holdings``, rights leased from the reserve this year, units.
    reserve : float
        Rights held by the government reserve, units.
    issued, surrendered, expired : float
        Cumulative rights issued, surrendered for compliance, and expired, units.
    firm_paid_yuan, firm_received_yuan : ndarray, shape (n_firms,)
        Cumulative money each firm has paid into and received from the quota
        system (trades, fees, charges, payments), yuan.
    departed_paid_yuan, departed_received_yuan : float
        The same for firms removed by :meth:`remove_firms`, yuan.
    government_yuan : dict of str to float
        Cumulative net receipts of the government by source
        (:data:`GOVERNMENT_SOURCES`), yuan; ``"compensation"`` is negative.
    """

    def __init__(self, n_firms: int, *, quota: str):
        super().__init__(n_firms, quota=quota)
        self.reserve = 0.0
        self.issued = 0.0
        self.surrendered = 0.0
        self.expired = 0.0
        self.departed_paid_yuan = 0.0
        self.departed_received_yuan = 0.0
        self.government_yuan: dict[str, float] = dict.fromkeys(GOVERNMENT_SOURCES, 0.0)
        self.moves = 0  # operations that moved rights so far: unchanged means same holdings
        self._leasing = False  # any leased rights outstanding (saves passes when not)
        self._lease_rows: np.ndarray | None = None  # the index of the only leases, if one

    def __repr__(self) -> str:
        return (f"QuotaLedger(quota={self.quota!r}, n_firms={self.n_firms}, "
                f"held={self.holdings.sum():.6g}, reserve={self.reserve:.6g}, "
                f"issued={self.issued:.6g})")

    # ------------------------------------------------------------------ helpers

    def _money(self, amounts_yuan: ArrayLike, source: str,
               index: np.ndarray | None) -> np.ndarray:
        if source not in self.government_yuan:
            raise ValueError(f"{self.quota}: unknown money source {source!r}; "
                             f"expected one of {', '.join(GOVERNMENT_SOURCES)}")
        return self._per_firm("amounts_yuan", amounts_yuan, index=index)

    def _slack(self, *scales: float) -> float:
        """Return the rounding slack for comparing rights of the given sizes, units."""
        return _RTOL * max(1.0, abs(self.issued), *(abs(float(x)) for x in scales))

    def _cap_leased(self, held: np.ndarray, leased: np.ndarray) -> None:
        """Rights leave a firm's own holding first, so leased never exceeds holdings."""
        if self._leasing:
            np.minimum(leased, np.maximum(held, 0.0), out=leased)

    # ------------------------------------------------------------------- rights

    def issue_to_firms(self, amounts: ArrayLike, *, index: np.ndarray | None = None) -> None:
        """Issue new rights to firms (their free or paid allocation).

        Parameters
        ----------
        amounts : array_like of float, shape (n_firms,) or (len(index),)
            Rights issued to each firm, units (>= 0).
        index : ndarray of int, optional
            The firms ``amounts`` refers to (distinct); all firms if omitted.
        """
        self.moves += 1
        amounts = self._per_firm("amounts", amounts, index=index)
        self._add(0, index, amounts)
        self.issued += float(amounts.sum())

    def issue_to_reserve(self, amount: float) -> None:
        """Issue new rights to the government reserve.

        Parameters
        ----------
        amount : float
            Rights issued, units. A negative rounding residue (a cap minus a
            firm allocation that sums to it) is accepted and booked as is.
        """
        self.moves += 1
        amount = float(amount)
        if not np.isfinite(amount) or amount < -self._slack(amount, self.reserve):
            raise ValueError(f"{self.quota}: cannot issue {amount:g} to the reserve")
        self.reserve += amount
        self.issued += amount

    def trade(self, firm_delta: ArrayLike, reserve_delta: float, price: float, *,
              fee_share: float, index: np.ndarray | None = None) -> None:
        """Settle one clearing: rights change hands at a uniform price.

        Buyers pay ``price * qty * (1 + fee_share)``, sellers receive
        ``price * qty * (1 - fee_share)``; both fees go to the platform
        (government ``"fee"``). The reserve pays no fee: what it sells is
        booked as ``+price * qty`` under ``"auction"``, what it buys as
        ``-price * qty``. A seller's own rights go before its leased ones.

        Consecutive trades with the same ``index`` array (a market's
        participants, auction after auction) work on contiguous copies of
        those firms' holdings and payments, written back before any other
        use of the ledger.

        Parameters
        ----------
        firm_delta : array_like of float, shape (n_firms,) or (len(index),)
            Change of each firm's holdings, units (> 0 bought, < 0 sold).
        reserve_delta : float
            Change of the reserve, units; ``sum(firm_delta) + reserve_delta``
            must be 0.
        price : float
            Clearing price, yuan per unit (>= 0).
        fee_share : float
            Platform fee as a share of trade value, paid by each side.
        index : ndarray of int, optional
            The firms ``firm_delta`` refers to (distinct, e.g. a market's
            participants); all firms if omitted.

        Raises
        ------
        ValueError
            If the deltas do not balance, a firm sells more than it holds, or
            the reserve sells more than it has.
        """
        self.moves += 1
        if index is None:
            delta = self._per_firm("firm_delta", firm_delta, nonneg=False)
        else:
            delta = np.asarray(firm_delta, dtype=float)
            if delta.shape != np.shape(index):
                raise ValueError(f"{self.quota}: 'firm_delta' must have the shape of 'index' "
                                 f"{np.shape(index)}; got {delta.shape}")
        reserve_delta = float(reserve_delta)
        price = float(price)
        if not (np.isfinite(price) and price >= 0):
            raise ValueError(f"{self.quota}: trade price must be finite and >= 0; got {price!r}")
        if not 0 <= fee_share < 1:
            raise ValueError(f"{self.quota}: fee_share must be in [0, 1); got {fee_share!r}")
        held, leased, paid, received = self._rows(index)
        delta = np.ascontiguousarray(delta)
        total_bought, total_sold, low, at, biggest = kernels.trade_scan(held, delta)
        if not (np.isfinite(total_bought) and np.isfinite(total_sold)):
            raise ValueError(f"{self.quota}: 'firm_delta' must be finite")
        net = total_bought - total_sold
        imbalance = net + reserve_delta
        # Rights must not be created or lost: the slack is the trade's own, not the ledger's.
        if abs(imbalance) > _RTOL * max(1.0, total_bought, total_sold, abs(reserve_delta)):
            raise ValueError(
                f"{self.quota}: trade does not balance: firms {net:+g} and "
                f"reserve {reserve_delta:+g} leave an imbalance of {imbalance:+g} units")
        if -reserve_delta > self.reserve + self._slack(reserve_delta, self.reserve):
            raise ValueError(f"{self.quota}: the reserve sells {-reserve_delta:g} but has "
                             f"{self.reserve:g} units")
        if low < -self._slack(biggest):  # a firm may sell what it holds, not more
            firm = at if index is None else int(index[at])
            raise ValueError(f"{self.quota}: firm {firm} sells {-delta[at]:g} but holds "
                             f"{held[at]:g} units")
        kernels.trade_apply(held, paid, received, delta, price * (1.0 + fee_share),
                            price * (1.0 - fee_share))
        self._cap_leased(held, leased)
        self.reserve += reserve_delta
        self.government_yuan["auction"] -= price * reserve_delta
        self.government_yuan["fee"] += price * fee_share * (total_bought + total_sold)

    def lease(self, amounts: ArrayLike, price: float, *,
              index: np.ndarray | None = None) -> None:
        """Lease rights from the reserve to firms for this year (租赁).

        Parameters
        ----------
        amounts : array_like of float, shape (n_firms,) or (len(index),)
            Rights leased to each firm, units (>= 0).
        price : float
            Lease price, yuan per unit; paid to the government (``"lease"``).
        index : ndarray of int, optional
            The firms ``amounts`` refers to (distinct); all firms if omitted.
        """
        self.moves += 1
        amounts = self._per_firm("amounts", amounts, index=index)
        price = float(price)
        if not (np.isfinite(price) and price >= 0):
            raise ValueError(f"{self.quota}: lease price must be finite and >= 0; got {price!r}")
        total = float(amounts.sum())
        if total > self.reserve + self._slack(total, self.reserve):
            raise ValueError(f"{self.quota}: the reserve leases {total:g} but has "
                             f"{self.reserve:g} units")
        held, leased, paid, _ = self._rows(index)
        # Which rows hold leases: these firms, if no other lease runs (else all).
        self._lease_rows = index if not self._leasing or self._lease_rows is index else None
        self.reserve -= total
        held += amounts
        leased += amounts
        self._leasing = True
        paid += price * amounts
        self.government_yuan["lease"] += price * total

    def surrender(self, use: ArrayLike, *, index: np.ndarray | None = None) -> np.ndarray:
        """Surrender rights to cover use; return what is not covered.

        Each firm surrenders ``min(use, holdings)``, leased rights first.

        Parameters
        ----------
        use : array_like of float, shape (n_firms,) or (len(index),)
            Energy use (tce) or emissions (t) to cover, >= 0.
        index : ndarray of int, optional
            The firms ``use`` refers to (distinct); all firms if omitted.

        Returns
        -------
        ndarray of float, shape of ``use``
            Shortfall ``use - surrendered`` per firm, units (>= 0).
        """
        self.moves += 1
        use = self._per_firm("use", use, index=index)
        held, leased, _, _ = self._rows(index)
        given = np.minimum(use, np.maximum(held, 0.0))
        if self._leasing:
            leased -= np.minimum(leased, given)
        held -= given
        self.surrendered += float(given.sum())
        return use - given

    def end_leases(self) -> None:
        """Return the leased rights that were not surrendered to the reserve."""
        self.moves += 1
        if self._leasing:
            # Leases made on the focused firms alone end there, without writing back.
            held, back, _, _ = (self._local if self._lease_rows is not None
                                and self._lease_rows is self._focus else self._rows(None))
            held -= back
            self.reserve += float(back.sum())
            back[:] = 0.0
        self._leasing = False
        self._lease_rows = None

    def expire_holdings(self, mask_or_amounts: ArrayLike | None = None) -> None:
        """Expire firms' rights (no banking, or the end of a term).

        Parameters
        ----------
        mask_or_amounts : array_like, optional
            ``None``: every firm's whole holding expires. A boolean array:
            the whole holdings of the firms marked ``True``. A float array:
            these amounts, units (own rights before leased ones).
        """
        self.moves += 1
        self._unfocus()
        held = self._holdings
        if mask_or_amounts is None:
            amounts = held.copy()
        else:
            given = np.asarray(mask_or_amounts)
            if given.dtype == bool:
                mask = self._per_firm("mask", given, nonneg=False) > 0
                amounts = np.where(mask, held, 0.0)
            else:
                amounts = self._per_firm("amounts", given)
                over = amounts - held
                biggest = max(float(np.abs(amounts).max(initial=0.0)),
                              float(np.abs(held).max(initial=0.0)))
                if (over > self._slack(biggest)).any():
                    i = int(np.argmax(over))
                    raise ValueError(f"{self.quota}: cannot expire {amounts[i]:g} of firm {i}, "
                                     f"which holds {held[i]:g} units")
        held -= amounts
        self._cap_leased(held, self._leased)
        self.expired += float(amounts.sum())

    def expire_reserve(self) -> None:
        """Expire the reserve's rights (their year or term is over; the next cap is new)."""
        self.moves += 1
        self.expired += self.reserve
        self.reserve = 0.0

    # -------------------------------------------------------------------- money

    def charge(self, amounts_yuan: ArrayLike, *, source: str,
               index: np.ndarray | None = None) -> None:
        """Charge firms, paid to the government (paid use, subscription, surcharge, penalty).

        Parameters
        ----------
        amounts_yuan : array_like of float, shape (n_firms,) or (len(index),)
            Payment of each firm, yuan (>= 0).
        source : str
            What the payment is for, one of :data:`GOVERNMENT_SOURCES`.
        index : ndarray of int, optional
            The firms ``amounts_yuan`` refers to (distinct); all firms if omitted.
        """
        amounts = self._money(amounts_yuan, source, index)
        self._add(2, index, amounts)
        self.government_yuan[source] += float(amounts.sum())

    def pay(self, amounts_yuan: ArrayLike, *, source: str,
            index: np.ndarray | None = None) -> None:
        """Pay firms from the government (compensation for reduced use, buy-back, ...).

        Parameters
        ----------
        amounts_yuan : array_like of float, shape (n_firms,) or (len(index),)
            Payment to each firm, yuan (>= 0).
        source : str
            What the payment is for, one of :data:`GOVERNMENT_SOURCES`; its
            net receipts fall by the total.
        index : ndarray of int, optional
            The firms ``amounts_yuan`` refers to (distinct); all firms if omitted.
        """
        amounts = self._money(amounts_yuan, source, index)
        self._add(3, index, amounts)
        self.government_yuan[source] -= float(amounts.sum())

    # ----------------------------------------------------------------- the firms

    def remove_firms(self, exiting: ArrayLike, *, n_new: int = 0) -> None:
        """Drop exiting firms; their rights (own and leased) go to the reserve.

        Parameters
        ----------
        exiting : array_like of bool, shape (n_firms,)
            ``True`` for each firm that leaves. The others keep their order.
        n_new : int
            Entrants appended after the firms kept (as :meth:`add_firms`), in
            the same pass over the arrays.
        """
        self.moves += 1
        self._unfocus()
        exiting = np.asarray(exiting)
        if exiting.dtype != bool or exiting.shape != self._holdings.shape:
            raise ValueError(f"{self.quota}: 'exiting' must be a boolean array of shape "
                             f"{self._holdings.shape}; got {exiting.dtype} {exiting.shape}")
        if n_new < 0:
            raise ValueError(f"The 'n_new' parameter must be >= 0. Got {n_new!r} instead.")
        keep = ~exiting
        zeros = np.zeros(n_new)
        self._holdings, gone = kernels.select_append_dropped(self._holdings, keep, zeros)
        self.reserve += float(gone.sum())
        self._leased = kernels.select_append(self._leased, keep, zeros)
        self._paid, gone = kernels.select_append_dropped(self._paid, keep, zeros)
        self.departed_paid_yuan += float(gone.sum())
        self._received, gone = kernels.select_append_dropped(self._received, keep, zeros)
        self.departed_received_yuan += float(gone.sum())

    def add_firms(self, n_new: int) -> None:
        """Append ``n_new`` entrants with no rights and no payments."""
        self.remove_firms(np.zeros(self.n_firms, dtype=bool), n_new=n_new)

    # -------------------------------------------------------------- invariants

    def check(self, *, rtol: float = 1e-9) -> None:
        """Verify conservation of rights and of money.

        Parameters
        ----------
        rtol : float
            Relative tolerance, of the rights issued (rights) and of the
            gross money that has flowed (money).

        Raises
        ------
        ValueError
            Naming the first invariant that fails.
        """
        self._unfocus()
        held, leased = self._holdings, self._leased
        tiny = rtol * max(1.0, abs(self.issued))
        accounted = float(held.sum()) + self.reserve + self.surrendered + self.expired
        if abs(accounted - self.issued) > tiny:
            raise ValueError(
                f"{self.quota}: rights not conserved: held {held.sum():g} + reserve "
                f"{self.reserve:g} + surrendered {self.surrendered:g} + expired "
                f"{self.expired:g} = {accounted:g}, but {self.issued:g} were issued")
        if held.size and held.min() < -tiny:
            i = int(np.argmin(held))
            raise ValueError(f"{self.quota}: firm {i} holds {held[i]:g} units")
        # With no lease outstanding (all zero) this reduces to the holdings check above.
        if leased.any() and (
                leased.min() < -tiny or (leased - held).max() > tiny):
            i = int(np.argmax(np.maximum(leased - held, -leased)))
            raise ValueError(f"{self.quota}: firm {i} has leased {leased[i]:g} of "
                             f"{held[i]:g} units held")
        if self.reserve < -tiny:
            raise ValueError(f"{self.quota}: the reserve holds {self.reserve:g} units")
        paid = float(self._paid.sum()) + self.departed_paid_yuan
        received = float(self._received.sum()) + self.departed_received_yuan
        government = sum(self.government_yuan.values())
        gross = paid + received + sum(abs(v) for v in self.government_yuan.values())
        if abs(paid - received - government) > rtol * max(1.0, gross):
            raise ValueError(
                f"{self.quota}: money not conserved: firms paid {paid:g} and received "
                f"{received:g} yuan (net {paid - received:g}), but the government's net "
                f"receipts are {government:g} yuan")

    # ------------------------------------------------------------- mergers

    def transfer_holdings(self, source: np.ndarray, target: np.ndarray) -> None:
        """Move all rights of firms ``source`` to firms ``target`` (a merger, 兼并重组).

        Own and leased rights move alike; no money changes hands in the quota
        system (the acquirer pays the target outside it). Rights are conserved.

        Parameters
        ----------
        source : ndarray of int
            Rows of the firms giving up their rights (distinct).
        target : ndarray of int
            Row of the firm receiving each one's rights (may repeat; same shape).

        Examples
        --------
        >>> led = QuotaLedger(3, quota="energy")
        >>> led.issue_to_firms([10.0, 5.0, 2.0])
        >>> led.transfer_holdings(np.array([1, 2]), np.array([0, 0]))
        >>> led.holdings.tolist()
        [17.0, 0.0, 0.0]
        """
        self.moves += 1
        self._unfocus()
        for rows in (self._holdings, self._leased):
            moved = rows[source].copy()
            rows[source] = 0.0
            np.add.at(rows, target, moved)

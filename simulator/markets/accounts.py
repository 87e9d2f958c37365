"""Each firm's account of one quota's rights and money, kept contiguous for the firms in focus.

:class:`FirmAccounts`, the base of :class:`~simulator.markets.ledger.QuotaLedger`,
keeps four per-firm arrays: rights held (own plus leased) and, of them,
leased; money paid into and received from the quota system. A market's
auctions and compliance work on the same participants all year: an operation
on firms ``index`` keeps their rows in contiguous working copies (the focus)
for the next operation on the same ``index`` array, and writes them back
before any operation on other firms or any read of the per-firm arrays.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["FirmAccounts"]


class FirmAccounts:
    """Per-firm rights and money of one quota, with a focus on one set of firms.

    Parameters
    ----------
    n_firms : int
        Number of firms (rows of every per-firm array).
    quota : str
        Name of the quota (``"energy"``, ``"cod"``, ...); used in messages.
    """

    def __init__(self, n_firms: int, *, quota: str):
        if n_firms < 0:
            raise ValueError(f"The 'n_firms' parameter must be >= 0. Got {n_firms!r} instead.")
        self.quota = quota
        self._holdings = np.zeros(n_firms)
        self._leased = np.zeros(n_firms)
        self._paid = np.zeros(n_firms)
        self._received = np.zeros(n_firms)
        # The focus (see the module docstring): the index array focused on and its rows.
        self._focus: np.ndarray | None = None
        self._local: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    @property
    def n_firms(self) -> int:
        """Number of firms in the ledger."""
        return self._holdings.size

    @property
    def holdings(self) -> np.ndarray:
        """Rights held per firm, own plus leased, units (shape (n_firms,))."""
        self._unfocus()
        return self._holdings

    @property
    def leased(self) -> np.ndarray:
        """Of :attr:`holdings`, rights leased from the reserve this year, units."""
        self._unfocus()
        return self._leased

    @property
    def firm_paid_yuan(self) -> np.ndarray:
        """Cumulative money each firm has paid into the quota system, yuan."""
        self._unfocus()
        return self._paid

    @property
    def firm_received_yuan(self) -> np.ndarray:
        """Cumulative money each firm has received from the quota system, yuan."""
        self._unfocus()
        return self._received

    def holdings_at(self, index: np.ndarray) -> np.ndarray:
        """Rights held by the firms ``index`` (distinct), units; read-only, focuses on them."""
        return _read_only(self._rows(index)[0])

    def leased_at(self, index: np.ndarray) -> np.ndarray:
        """Rights leased by the firms ``index`` (distinct), units; read-only, focuses on them."""
        return _read_only(self._rows(index)[1])

    # ------------------------------------------------------------------ focus

    def _unfocus(self) -> None:
        """Write the focused firms' working copies back into the per-firm arrays."""
        if self._focus is not None:
            idx, local = self._focus, self._local
            self._focus = self._local = None
            for full, rows in zip((self._holdings, self._leased, self._paid, self._received),
                                  local, strict=True):
                full[idx] = rows

    def _add(self, which: int, index: np.ndarray | None, amounts: np.ndarray) -> None:
        """Add ``amounts`` to one per-firm array (0 holdings, 2 paid, 3 received) of ``index``.

        In the focus if ``index`` is the focused array; otherwise directly into
        the per-firm array (a one-off change of other firms needs no focus).
        """
        if index is not None and index is self._focus:
            self._local[which][...] += amounts
            return
        self._unfocus()
        full = (self._holdings, self._leased, self._paid, self._received)[which]
        full[slice(None) if index is None else index] += amounts

    def _rows(self, index: np.ndarray | None) -> tuple[np.ndarray, ...]:
        """Return holdings, leased, paid and received of firms ``index``, to change in place.

        ``None``: the whole per-firm arrays. An index array (distinct firms):
        their working copies, focusing on them.
        """
        if index is None:
            self._unfocus()
            return self._holdings, self._leased, self._paid, self._received
        if self._focus is not index:
            self._unfocus()
            self._local = tuple(full[index] for full in (self._holdings, self._leased,
                                                         self._paid, self._received))
            self._focus = index
        return self._local

    def _per_firm(self, name: str, values: ArrayLike, *, nonneg: bool = True,
                  index: np.ndarray | None = None) -> np.ndarray:
        """Return ``values`` as a float array of one value per firm (of ``index``), checked."""
        shape = self._holdings.shape if index is None else np.shape(index)
        arr = np.asarray(values, dtype=float)
        if arr.shape not in ((), shape):
            raise ValueError(f"{self.quota}: '{name}' must have shape {shape}; got {arr.shape}")
        arr = np.broadcast_to(arr, shape)
        if not np.isfinite(arr).all():
            raise ValueError(f"{self.quota}: '{name}' must be finite")
        if nonneg and (arr < 0).any():
            i = int(np.argmin(arr))
            firm = i if index is None else int(index[i])
            raise ValueError(f"{self.quota}: '{name}' must be >= 0; firm {firm} has {arr[i]:g}")
        return arr


def _read_only(rows: np.ndarray) -> np.ndarray:
    """Return a view of ``rows`` that cannot be written through."""
    view = rows.view()
    view.flags.writeable = False
    return view


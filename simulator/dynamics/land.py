"""Regional industrial-land pools: occupied, idle and available land, mu.

Each region (county or district, code ``0..R-1``) holds its industrial land in
three pools:

``occupied``
    held by active firms;
``idle``
    left by firms that exited (腾笼换鸟) or freed by space-for-land projects
    (空间换地), kept by age in whole years since it became idle;
``available``
    revitalised (盘活) or newly released land, ready for entrants.

A year runs as :meth:`LandPools.start_year` (new land is released, old idle
land is revitalised, idle land ages), then any number of :meth:`~LandPools.vacate`
and :meth:`~LandPools.allocate` calls. Land only moves between pools, and new
land is the only inflow, so per region
``occupied + idle + available == initial total + cumulative new land``
(:meth:`LandPools.check`).

Allocation follows the standard-land (标准地) rule: within a region, land goes
to candidates in descending order of priority (e.g. expected yield per mu),
and stops at the first candidate whose request no longer fits.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from simulator.scenario import LandSpec

__all__ = ["LandPools"]

#: Names of the year's flows, in the order :meth:`LandPools.flows` returns them.
FLOWS: tuple[str, ...] = ("new", "revitalised", "returned", "freed", "allocated")

#: Why a firm leaves land: exit (the land is ``returned``) or 空间换地 (``freed``).
_VACATE_FLOW: dict[str, str] = {"exit": "returned", "space_for_land": "freed"}

#: Relative slack for round-off when a firm vacates land (sums taken in another order).
_RTOL = 1e-9


class LandPools:
    """Industrial land of every region in occupied, idle and available pools, mu.

    Parameters
    ----------
    occupied_mu_by_region : array_like of float, shape (R,)
        Land held by active firms at the start, mu (e.g.
        ``np.bincount(firms.region, weights=firms.land_mu)``). Idle and
        available land start at 0.
    region_shares : array_like of float, shape (R,)
        Share of each region in newly released land; non-negative, sums to 1
        (the scenario's ``population.regions[*].share``).
    spec : LandSpec
        New land a year and the revitalisation rule (``dynamics.land``).

    Notes
    -----
    Idle land is stored as an array of shape ``(R, delay + 1)``: column ``a <
    delay`` holds land idle for exactly ``a`` whole years, the last column
    holds land idle for ``delay`` years or more. Revitalisation treats all land
    past the delay alike, so this is exact and does not grow with the run.

    Examples
    --------
    >>> from simulator.scenario import LandSpec
    >>> spec = LandSpec(new_land_mu_per_year=10, revitalisation_delay_years=0,
    ...                 revitalisation_share_per_year=0.5)
    >>> pools = LandPools(np.array([100.0, 50.0]), region_shares=np.array([0.6, 0.4]),
    ...                   spec=spec)
    >>> pools.vacate(np.array([0]), np.array([20.0]), reason="exit")
    >>> pools.start_year()
    >>> {k: v.tolist() for k, v in pools.stocks().items()}
    {'occupied': [80.0, 50.0], 'idle': [10.0, 0.0], 'available': [16.0, 4.0]}
    """

    def __init__(
        self,
        occupied_mu_by_region: ArrayLike,
        *,
        region_shares: ArrayLike,
        spec: LandSpec,
    ) -> None:
        occupied = _as_float_array(occupied_mu_by_region, "occupied_mu_by_region", ndim=1)
        shares = _as_float_array(region_shares, "region_shares", ndim=1)
        if shares.shape != occupied.shape:
            raise ValueError(
                f"The 'region_shares' parameter must have one entry per region "
                f"({occupied.size}). Got shape {shares.shape} instead."
            )
        if shares.size and abs(shares.sum() - 1.0) > 1e-9:
            raise ValueError(
                f"The 'region_shares' parameter must sum to 1. Got {shares.sum():g} instead."
            )
        n_regions = occupied.size
        self._spec = spec
        self._delay = spec.revitalisation_delay_years
        self._new_mu = spec.new_land_mu_per_year * shares
        self._initial_mu = occupied.copy()
        self._released_mu = np.zeros(n_regions)
        self._occupied = occupied.copy()
        self._idle_by_age = np.zeros((n_regions, self._delay + 1))
        self._available = np.zeros(n_regions)
        self._banked = np.zeros(n_regions)  # government land bank (收储), see bank_idle
        self._flows = {name: np.zeros(n_regions) for name in FLOWS}

    # ------------------------------------------------------------------ state

    @property
    def n_regions(self) -> int:
        """Number of regions ``R``."""
        return self._occupied.size

    @property
    def total_mu(self) -> np.ndarray:
        """Land of each region in all pools (and the land bank), mu, shape (R,)."""
        return (self._occupied + self._idle_by_age.sum(axis=1) + self._available
                + self._banked)

    @property
    def idle_by_age_mu(self) -> np.ndarray:
        """Idle land by whole years idle, mu, shape (R, delay + 1); last column: >= delay."""
        return self._idle_by_age.copy()

    def stocks(self) -> dict[str, np.ndarray]:
        """Return the land in each pool by region.

        Returns
        -------
        dict of str to ndarray
            ``occupied``, ``idle`` (summed over ages) and ``available``, mu,
            float arrays of shape (R,) (copies).
        """
        return {
            "occupied": self._occupied.copy(),
            "idle": self._idle_by_age.sum(axis=1),
            "available": self._available.copy(),
        }

    def flows(self) -> dict[str, np.ndarray]:
        """Return this year's land flows by region (since the last :meth:`start_year`).

        Before the first :meth:`start_year`, the flows since construction.

        Returns
        -------
        dict of str to ndarray
            Float arrays of shape (R,) (copies), mu:

            - ``new``: newly released land (-> available);
            - ``revitalised``: idle land revitalised, 盘活 (idle -> available);
            - ``returned``: land left by exiting firms (occupied -> idle);
            - ``freed``: land freed by space-for-land, 空间换地 (occupied -> idle);
            - ``allocated``: land granted to entrants (available -> occupied).

            Per region, over a year, ``Δavailable = new + revitalised -
            allocated``, ``Δidle = returned + freed - revitalised`` and
            ``Δoccupied = allocated - returned - freed``.
        """
        return {name: values.copy() for name, values in self._flows.items()}

    def check(self, rtol: float = 1e-9) -> None:
        """Raise if land is not conserved or a pool is negative.

        Parameters
        ----------
        rtol : float, default 1e-9
            Tolerance relative to each region's expected total (at least 1 mu).

        Raises
        ------
        ValueError
            Naming the region and the pool (or the total) that fails.
        """
        expected = self._initial_mu + self._released_mu
        tol = rtol * np.maximum(expected, 1.0)
        gap = self.total_mu - expected
        bad = np.flatnonzero(np.abs(gap) > tol)
        if bad.size:
            r = bad[0]
            raise ValueError(
                f"land is not conserved in region {r}: occupied + idle + available = "
                f"{self.total_mu[r]!r} mu, expected initial + new = {expected[r]!r} mu"
            )
        pools = {
            "occupied": self._occupied,
            "idle": self._idle_by_age.min(axis=1),
            "available": self._available,
        }
        for name, values in pools.items():
            bad = np.flatnonzero(values < -tol)
            if bad.size:
                r = bad[0]
                raise ValueError(f"{name} land is negative in region {r}: {values[r]!r} mu")

    # ------------------------------------------------------------------ moves

    def start_year(self) -> None:
        """Open a new year: reset the flows, release new land, revitalise and age idle land.

        In this order:

        1. the year's flows are set to 0 (so :meth:`flows` reports one year);
        2. ``spec.new_land_mu_per_year``, split by region share, becomes
           available (``new``);
        3. of the idle land idle for at least ``spec.revitalisation_delay_years``
           whole years, the share ``spec.revitalisation_share_per_year``
           becomes available (``revitalised``, 盘活);
        4. all idle land ages one year.

        Land vacated during a year is age 0 at the next ``start_year``, so with
        delay ``d`` it is first revitalised at the ``(d + 1)``-th ``start_year``
        after it was vacated: delay 0 means at the next one.
        """
        for values in self._flows.values():
            values[:] = 0.0
        self._available += self._new_mu
        self._released_mu += self._new_mu
        self._flows["new"] += self._new_mu

        revitalised = self._spec.revitalisation_share_per_year * self._idle_by_age[:, -1]
        self._idle_by_age[:, -1] -= revitalised
        self._available += revitalised
        self._flows["revitalised"] += revitalised

        aged = np.zeros_like(self._idle_by_age)
        aged[:, 1:] = self._idle_by_age[:, :-1]
        aged[:, -1] += self._idle_by_age[:, -1]  # the last column is ">= delay"
        self._idle_by_age = aged

    def vacate(
        self,
        region: ArrayLike,
        land_mu: ArrayLike,
        *,
        reason: Literal["exit", "space_for_land"],
    ) -> None:
        """Move land that firms leave from occupied to idle (age 0).

        Parameters
        ----------
        region : array_like of int, shape (n,)
            Region code of each firm leaving land.
        land_mu : array_like of float, shape (n,)
            Land each firm leaves, mu (its whole plot on exit, the freed part
            for space-for-land).
        reason : {"exit", "space_for_land"}
            Counted as ``returned`` (exit, 腾笼换鸟) or ``freed`` (空间换地).

        Raises
        ------
        ValueError
            If ``reason`` is unknown, the arrays are malformed, or a region
            would be left with negative occupied land. Nothing moves then.
        """
        if reason not in _VACATE_FLOW:
            raise ValueError(
                f"The 'reason' parameter must be one of {sorted(_VACATE_FLOW)}. "
                f"Got {reason!r} instead."
            )
        moved = self._leave_occupied(region, land_mu)
        self._idle_by_age[:, 0] += moved
        self._count(_VACATE_FLOW[reason], moved)

    def _leave_occupied(self, region: ArrayLike, land_mu: ArrayLike) -> np.ndarray:
        """Take firms' plots out of the occupied land; return the mu by region.

        Raises ValueError (nothing moves) if the arrays are malformed or a region
        would be left with negative occupied land.
        """
        region = self._regions(region)
        land_mu = _as_float_array(land_mu, "land_mu", ndim=1)
        if land_mu.shape != region.shape:
            raise ValueError(
                f"The 'land_mu' parameter must have the shape of 'region' {region.shape}. "
                f"Got {land_mu.shape} instead."
            )
        leaving = np.bincount(region, weights=land_mu, minlength=self.n_regions)
        # Firm plots summed in another order than the pool may exceed it by round-off.
        slack = _RTOL * np.maximum(self._occupied, 1.0)
        over = np.flatnonzero(leaving > self._occupied + slack)
        if over.size:
            r = over[0]
            raise ValueError(
                f"The 'land_mu' parameter must not exceed the occupied land of a region. "
                f"Got {leaving[r]!r} mu leaving region {r}, which occupies "
                f"{self._occupied[r]!r} mu."
            )
        moved = np.minimum(leaving, self._occupied)
        self._occupied -= moved
        return moved

    def _count(self, flow: str, moved: np.ndarray) -> None:
        """Add ``moved`` (mu by region) to this year's ``flow``."""
        self._flows.setdefault(flow, np.zeros(self.n_regions))
        self._flows[flow] += moved

    def allocate(
        self,
        region: ArrayLike,
        requested_mu: ArrayLike,
        priority: ArrayLike,
    ) -> np.ndarray:
        """Grant available land to candidates by rank within each region (标准地).

        Within each region, candidates are ranked by ``priority``, highest
        first, ties broken by their order in the arrays. They are granted
        their whole request in rank order while the cumulative request fits
        in the region's available land; the first candidate that does not fit
        and every candidate ranked after it in that region are refused, even
        if a smaller later request would fit (the prefix rule: land is never
        handed past a better-ranked candidate). Granted land moves from
        available to occupied (``allocated``).

        Parameters
        ----------
        region : array_like of int, shape (n,)
            Region code of each candidate (entrant or expansion project).
        requested_mu : array_like of float, shape (n,)
            Land each candidate asks for, mu, non-negative.
        priority : array_like of float, shape (n,)
            Ranking score, higher is better (e.g. expected value added per mu,
            万元/mu); finite.

        Returns
        -------
        ndarray of bool, shape (n,)
            Whether each candidate was granted its request, in input order.

        Examples
        --------
        One region with 10 mu available; requests 6, 5, 3 mu with priorities
        3, 2, 1: the first is granted, the second does not fit (6 + 5 > 10),
        so it and the third are refused.

        >>> from simulator.scenario import LandSpec
        >>> pools = LandPools(np.zeros(1), region_shares=np.ones(1),
        ...                   spec=LandSpec(new_land_mu_per_year=10))
        >>> pools.start_year()
        >>> pools.allocate(np.zeros(3, int), np.array([6.0, 5.0, 3.0]),
        ...                np.array([3.0, 2.0, 1.0])).tolist()
        [True, False, False]
        """
        region = self._regions(region)
        requested_mu = _as_float_array(requested_mu, "requested_mu", ndim=1)
        priority = np.asarray(priority, dtype=float)
        for name, values in (("requested_mu", requested_mu), ("priority", priority)):
            if values.shape != region.shape:
                raise ValueError(
                    f"The {name!r} parameter must have the shape of 'region' {region.shape}. "
                    f"Got {values.shape} instead."
                )
        if not np.isfinite(priority).all():
            raise ValueError("The 'priority' parameter must be finite. Got NaN or inf instead.")

        # lexsort is stable and sorts by its last key first: region, then -priority, then index.
        order = np.lexsort((-priority, region))
        region_sorted = region[order]
        request_sorted = requested_mu[order]
        starts = np.searchsorted(region_sorted, np.arange(self.n_regions), side="left")
        ends = np.searchsorted(region_sorted, np.arange(self.n_regions), side="right")
        granted_sorted = np.zeros(region.size, dtype=bool)
        for r in np.flatnonzero(ends > starts):
            cumulative = np.cumsum(request_sorted[starts[r] : ends[r]])
            # Requests are >= 0, so the cumulative sum never falls: "fits" is a prefix.
            fits = np.logical_and.accumulate(cumulative <= self._available[r])
            n_granted = int(fits.sum())
            if n_granted:
                granted_sorted[starts[r] : starts[r] + n_granted] = True
                # The exact running sum that was tested, so available never goes below 0.
                land = cumulative[n_granted - 1]
                self._available[r] -= land
                self._occupied[r] += land
                self._flows["allocated"][r] += land
        granted = np.empty_like(granted_sorted)
        granted[order] = granted_sorted
        return granted

    # ---------------------------------------------------------------- helpers

    def _regions(self, region: ArrayLike) -> np.ndarray:
        """Validate region codes: integers in 0..R-1, one-dimensional."""
        region = np.asarray(region)
        if region.size == 0:
            return np.zeros(0, dtype=np.intp)
        if region.ndim != 1 or not np.issubdtype(region.dtype, np.integer):
            raise ValueError(
                f"The 'region' parameter must be a 1-D array of integer region codes. "
                f"Got dtype {region.dtype} and shape {region.shape} instead."
            )
        if region.min() < 0 or region.max() >= self.n_regions:
            raise ValueError(
                f"The 'region' parameter must hold codes in 0..{self.n_regions - 1}. "
                f"Got values in {region.min()}..{region.max()} instead."
            )
        return region.astype(np.intp, copy=False)

    def set_new_land_shares(self, region_shares: ArrayLike) -> None:
        """Split the new land of the next :meth:`start_year` by ``region_shares`` instead.

        The year's total (``spec.new_land_mu_per_year``) is unchanged; only its
        split between regions moves (steering by the region evaluation,
        :func:`simulator.evaluation.regions.steered_shares`).

        Raises
        ------
        ValueError
            If the shares are not one non-negative entry per region summing to 1.
        """
        shares = _as_float_array(region_shares, "region_shares", ndim=1)
        if shares.shape != self._occupied.shape or abs(shares.sum() - 1.0) > 1e-9:
            raise ValueError(
                f"The 'region_shares' parameter must have one entry per region "
                f"({self.n_regions}) and sum to 1. Got {shares!r} instead.")
        self._new_mu = self._spec.new_land_mu_per_year * shares

    # ----------------------------------------------------- land bank (收储)

    @property
    def banked_mu(self) -> np.ndarray:
        """Land held in the government's land bank (收储), mu, shape (R,) (a copy)."""
        return self._banked.copy()

    def bank_idle(self, share: float) -> np.ndarray:
        """Buy ``share`` of every region's idle land (all ages) into the bank; return mu by region.

        The flow is ``banked_idle`` (idle -> banked).
        """
        bought = share * self._idle_by_age
        self._idle_by_age -= bought
        moved = bought.sum(axis=1)
        self._banked += moved
        self._count("banked_idle", moved)
        return moved

    def bank_occupied(self, region: ArrayLike, land_mu: ArrayLike) -> np.ndarray:
        """Buy firms' land into the bank (occupied -> banked); return mu by region.

        The flow is ``banked_occupied``. Raises ``ValueError`` as :meth:`vacate`
        if the arrays are malformed or a region's occupied land would fall below 0.
        """
        moved = self._leave_occupied(region, land_mu)
        self._banked += moved
        self._count("banked_occupied", moved)
        return moved

    def release_banked(self, share: float) -> np.ndarray:
        """Supply ``share`` of the banked land (banked -> available); return mu by region."""
        moved = share * self._banked
        self._banked -= moved
        self._available += moved
        self._count("released_banked", moved)
        return moved


def _as_float_array(values: ArrayLike, name: str, *, ndim: int) -> np.ndarray:
    """Return ``values`` as a float array, checking its rank, finiteness and sign."""
    array = np.asarray(values, dtype=float)
    if array.ndim != ndim:
        raise ValueError(
            f"The {name!r} parameter must be a {ndim}-D array. Got shape {array.shape} instead."
        )
    if not np.isfinite(array).all() or (array < 0).any():
        raise ValueError(
            f"The {name!r} parameter must be finite and non-negative. "
            f"Got min {array.min() if array.size else None!r} instead."
        )
    return array

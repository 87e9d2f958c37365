"""Cross-tables of a run's firms: any quantity or bill by class x sector x region x scale.

:func:`crosstab_frame` pivots a firm table (one row per firm, as
``firms.parquet``) over any of the dimensions :data:`DIMENSIONS`; a value is
either summed (a column: ``tax_wan_yuan``, ``electricity_bill_yuan``,
``firms`` for the count) or a ratio indicator taken as a ratio of sums
(``tax_wan_yuan/land_mu``, or an indicator name of the catalogue such as
``tax_per_mu``: the group's total tax over its total land, as the
evaluation's benchmarks). :func:`crosstab` does it for a run directory
(``python run.py crosstab``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from simulator import catalogue
from simulator.scenario import ScenarioError, did_you_mean

__all__ = ["DIMENSIONS", "crosstab", "crosstab_frame"]

#: The dimensions a cross-table can use: the firm table's columns (park: region/park).
DIMENSIONS: tuple[str, ...] = ("class", "sector", "region", "scale", "park")
#: The label of a margin (the total over a dimension).
ALL = "all"


def _operands(firms: pd.DataFrame, value: str) -> tuple[str, str | None, float]:
    """Return (numerator column, denominator column or None, scale) of ``value``."""
    columns = [*firms.columns, "firms"]
    if "/" in value:
        numer, denom = (part.strip() for part in value.split("/", 1))
        for part in (numer, denom):
            if part not in columns:
                raise ScenarioError(f"unknown column {part!r}{did_you_mean(part, columns)} "
                                    f"in --value {value!r}", field="--value")
        return numer, denom, 1.0
    if value in columns:
        return value, None, 1.0
    formulas = catalogue.indicator_formulas()
    if value in formulas:
        numer, denom, scale = formulas[value]
        missing = [c for c in (numer, denom) if c is not None and c not in columns]
        if not missing:
            return numer, denom, scale
        raise ScenarioError(f"{value} needs {', '.join(missing)}, not a column of the firms; "
                            f"give a ratio of columns such as va_wan_yuan/cod_t",
                            field="--value")
    raise ScenarioError(f"unknown value {value!r}{did_you_mean(value, columns + list(formulas))}:"
                        f" a column of the firms, a ratio a/b of columns or an indicator "
                        f"({', '.join(formulas)})", field="--value")


def crosstab_frame(firms: pd.DataFrame, by: Sequence[str], value: str, *,
                   margins: bool = True) -> pd.DataFrame:
    """Return ``value`` by the dimensions ``by``: sums, or ratios of sums.

    Parameters
    ----------
    firms : pandas.DataFrame
        One row per firm (one year of ``firms.parquet``).
    by : sequence of str
        One or more of :data:`DIMENSIONS`; the last one becomes the columns.
    value : str
        A column (summed; ``firms`` counts firms), ``a/b`` (sum of a over sum
        of b) or an indicator of the catalogue (``tax_per_mu``...).
    margins : bool
        Add the totals over each dimension (label ``all``), ratios of sums too.

    Returns
    -------
    pandas.DataFrame
        Index: the first dimensions (or ``value`` for one dimension);
        columns: the last dimension's values (then ``all``).

    Examples
    --------
    >>> firms = pd.DataFrame({"class": ["A", "A", "D"], "region": ["x", "y", "x"],
    ...                       "tax_wan_yuan": [30.0, 10.0, 2.0], "land_mu": [1.0, 1.0, 2.0]})
    >>> table = crosstab_frame(firms, ["class", "region"], "tax_wan_yuan/land_mu")
    >>> table.round(2)  # doctest: +NORMALIZE_WHITESPACE
    region      x     y   all
    class
    A       30.00  10.0  20.0
    D        1.00   NaN   1.0
    all     10.67  10.0  10.5
    """
    by = list(by)
    unknown = [d for d in by if d not in DIMENSIONS]
    if not by or unknown:
        raise ScenarioError(f"--by takes one or more of {', '.join(DIMENSIONS)}; got "
                            f"{', '.join(unknown) or 'none'}", field="--by")
    numer, denom, scale = _operands(firms, value)
    frame = pd.DataFrame({d: _dimension(firms, d) for d in by})
    frame["_n"] = _values(firms, numer)
    frame["_d"] = _values(firms, denom) if denom else 1.0
    sums = _sums(frame, by, margins)
    out = scale * sums["_n"] / sums["_d"].where(sums["_d"] != 0) if denom else sums["_n"]
    if len(by) == 1:
        return out.rename(value).to_frame()
    table = out.unstack(by[-1])  # sorted by pandas: put each dimension's "all" last
    table = table.reindex(index=_all_last(table.index), columns=_all_last(table.columns))
    table.columns.name = by[-1]
    return table


def _all_last(index: pd.Index) -> list:
    """Return the entries of ``index`` sorted with each level's ``all`` after its values."""
    def key(entry: object) -> tuple:
        parts = entry if isinstance(entry, tuple) else (entry,)
        return tuple((part == ALL, str(part)) for part in parts)

    return sorted(index, key=key)


def _dimension(firms: pd.DataFrame, name: str) -> pd.Series:
    if name == "park":
        return firms["region"].astype(str) + "/" + firms["park"].astype(str)
    if name not in firms.columns:
        raise ScenarioError(f"the firms have no {name!r} column", field="--by")
    return firms[name].astype(str)


def _values(firms: pd.DataFrame, column: str) -> np.ndarray:
    if column == "firms" and "firms" not in firms.columns:
        return np.ones(len(firms))
    values = firms[column]
    if values.dtype == bool:
        return values.to_numpy(dtype=float)
    if not pd.api.types.is_numeric_dtype(values):
        raise ScenarioError(f"{column!r} is not a number column", field="--value")
    return values.to_numpy(dtype=float)


def _sums(frame: pd.DataFrame, by: list[str], margins: bool) -> pd.DataFrame:
    """Group sums of ``_n`` and ``_d`` by ``by``, with every margin (``all``) if asked."""
    parts = [frame.groupby(by, sort=True)[["_n", "_d"]].sum()]
    if margins:
        for k in range(1, 2 ** len(by)):  # each subset of dimensions set to "all"
            collapsed = [d for i, d in enumerate(by) if k >> i & 1]
            kept = [d for d in by if d not in collapsed]
            sums = (frame.groupby(kept, sort=True)[["_n", "_d"]].sum() if kept
                    else frame[["_n", "_d"]].sum().to_frame().T)
            sums = sums.reset_index(drop=not kept)
            for d in collapsed:
                sums[d] = ALL
            parts.append(sums.set_index(by))
    out = pd.concat(parts)
    order = [sorted(set(out.index.get_level_values(i)) - {ALL}) + ([ALL] if margins else [])
             for i in range(len(by))]
    full = pd.MultiIndex.from_product(order, names=by) if len(by) > 1 else pd.Index(
        order[0], name=by[0])
    return out.reindex(full).dropna(how="all")


def crosstab(run_dir: str | Path, by: Sequence[str], value: str, *, year: int | None = None,
             replication: int | None = None, margins: bool = True) -> pd.DataFrame:
    """Return a cross-table of a run's firms in one year (:func:`crosstab_frame`).

    Parameters
    ----------
    run_dir : str or Path
        A run directory with ``firms.parquet``.
    by, value, margins
        As :func:`crosstab_frame`.
    year, replication : int, optional
        Default: the run's last year and first replication.

    Raises
    ------
    ScenarioError
        A damaged run, a year or replication it lacks, an unknown dimension or value.
    """
    from simulator.results.firm_list import list_firms

    firms = list_firms(run_dir, year=year, replication=replication, sort="firm_id")
    firms = firms.rename(columns={"tax_per_mu": "ind_tax_per_mu"})
    table = crosstab_frame(firms, by, value, margins=margins)
    table.attrs.update(year=firms.attrs["year"], replication=firms.attrs["replication"],
                       value=value)
    return table

"""A run's firms as a list to choose from: by class, sector, region, scale and year.

:func:`list_firms` reads a run's ``firms.parquet`` (checked) and returns one
row per firm of one year and replication, filtered and sorted, with the
columns a reader needs to pick a firm for its report card (``card``).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from simulator.results.integrity import check_run_directory, verify_file
from simulator.results.parquet import read_parquet_file
from simulator.results.readers import parquet_columns
from simulator.scenario import ScenarioError

__all__ = ["FIRM_LIST_COLUMNS", "list_firms"]

#: Columns of the list, in order (those a run recorded; ``tax_per_mu`` is ``ind_tax_per_mu``).
FIRM_LIST_COLUMNS: tuple[str, ...] = (
    "firm_id", "sector", "region", "park", "scale", "class", "score", "rank", "group_size",
    "land_mu", "employees", "va_wan_yuan", "tax_wan_yuan", "tax_per_mu", "energy_tce",
)
_CLASS_ORDER = ("A", "B", "C", "D", "U")


def list_firms(run_dir: str | Path, *, classes: Sequence[str] | None = None,
               sectors: Sequence[str] | None = None, regions: Sequence[str] | None = None,
               scale: str | None = None, year: int | None = None,
               replication: int | None = None, sort: str = "class",
               descending: bool = False) -> pd.DataFrame:
    """Return a run's firms in one year: filtered, sorted, one row per firm.

    Parameters
    ----------
    run_dir : str or Path
        A run directory with ``firms.parquet``.
    classes, sectors, regions : sequence of str, optional
        Keep firms of these classes ("A".."D", "U" unrated), sectors (names or
        Chinese labels) and regions.
    scale : {"above", "below", "services"}, optional
        Keep above-scale industry, below-scale industry or services firms.
    year : int, optional
        Year (default: the run's last).
    replication : int, optional
        Replication (default: the run's first).
    sort : str
        ``"class"`` (A first, then by score from the highest down, as the
        evaluation ranks) or a column (``score``, ``tax_per_mu``, ``land_mu``...).
    descending : bool
        Sort a column from the largest down.

    Returns
    -------
    pandas.DataFrame
        :data:`FIRM_LIST_COLUMNS` (those the run has), then the run's other
        columns. ``attrs``: ``year``, ``replication``.

    Raises
    ------
    ScenarioError
        A damaged or missing file; a year, replication, sector or region the
        run does not have (naming the ones it has); an unknown sort column.
    """
    run_dir = Path(run_dir)
    manifest = check_run_directory(run_dir)
    path = run_dir / "firms.parquet"
    parquet_columns(path, ("year", "replication", "firm_id"))
    verify_file(path, manifest, record_path=run_dir / "manifest.json")
    firms = read_parquet_file(path)
    years = sorted(int(y) for y in firms["year"].unique())
    year = years[-1] if year is None else int(year)
    _require("year", year, years, field="--year")
    reps = sorted(int(r) for r in firms["replication"].unique())
    replication = reps[0] if replication is None else int(replication)
    _require("replication", replication, reps, field="--replication")
    rows = firms[(firms["year"] == year) & (firms["replication"] == replication)]
    rows = rows.rename(columns={"ind_tax_per_mu": "tax_per_mu"})
    if classes:
        rows = rows[rows["class"].astype(str).isin(classes)]
    if sectors:
        rows = rows[rows["sector"].astype(str).isin(_sector_names(run_dir, firms, sectors))]
    if regions:
        for region in regions:
            _require("region", region, sorted(map(str, firms["region"].unique())),
                     field="--region")
        rows = rows[rows["region"].astype(str).isin(regions)]
    if scale:
        rows = rows[rows["scale"].astype(str) == scale]
    rows = _sorted(rows, sort, descending)
    first = [c for c in FIRM_LIST_COLUMNS if c in rows.columns]
    rest = [c for c in rows.columns if c not in first and c not in ("year", "replication",
                                                                      "scenario")]
    out = rows[first + rest].reset_index(drop=True)
    for column in out.columns:
        if isinstance(out[column].dtype, pd.CategoricalDtype):
            out[column] = out[column].astype(str)
    out.attrs.update(year=year, replication=replication)
    return out


def _sorted(rows: pd.DataFrame, sort: str, descending: bool) -> pd.DataFrame:
    if sort == "class":
        rank = rows["class"].astype(str).map({c: i for i, c in enumerate(_CLASS_ORDER)})
        key = pd.DataFrame({"k": rank, "s": -rows["score"].fillna(float("-inf")),
                            "id": rows["firm_id"]})
        return rows.loc[key.sort_values(["k", "s", "id"], kind="stable").index]
    if sort not in rows.columns:
        near = difflib.get_close_matches(sort, list(rows.columns), n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise ScenarioError(f"cannot sort by {sort!r}{hint}: not a column of firms.parquet",
                            field="--sort")
    return rows.sort_values([sort, "firm_id"], ascending=[not descending, True],
                            kind="stable", na_position="last")


def _sector_names(run_dir: Path, firms: pd.DataFrame, wanted: Sequence[str]) -> list[str]:
    """Return the run's sector names that ``wanted`` means (names, labels or aliases)."""
    from simulator.population.sectors import SectorMatcher

    names = [str(s) for s in firms["sector"].cat.categories] \
        if isinstance(firms["sector"].dtype, pd.CategoricalDtype) \
        else sorted(map(str, firms["sector"].unique()))
    labels = _sector_labels(run_dir)
    matcher = SectorMatcher([(n, labels.get(n, "")) for n in names])
    out = []
    for name in wanted:
        code = matcher.code(name)
        if code is None:
            raise ScenarioError(matcher.unknown_message(name, mapping_hint=False),
                                field="--sector")
        out.append(names[code])
    return out


def _sector_labels(run_dir: Path) -> dict[str, str]:
    """Return the run's sectors' Chinese labels from its manifest's scenario (``{}`` if none)."""
    from simulator.results.readers import read_json_record

    scenario = read_json_record(run_dir / "manifest.json").get("scenario") or {}
    sectors = (scenario.get("population") or {}).get("sectors") or {}
    return {name: str(spec.get("label_zh") or "") for name, spec in sectors.items()
            if isinstance(spec, dict)}


def _require(what: str, value: object, have: list, *, field: str) -> None:
    if value not in have:
        listed = ", ".join(map(str, have[:20])) + (", ..." if len(have) > 20 else "")
        raise ScenarioError(f"the run has no {what} {value!r}; it has {listed}", field=field)

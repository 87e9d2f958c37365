"""Where a firm table's firms are: the run's regions (区县) and parks (园区) from a table.

A firm table may name regions the scenario does not list; :func:`table_regions`
decides the run's regions and their shares of new land and entrants,
:func:`table_places` codes each row's region and park, and
:func:`scenario_for_table` is the scenario a run on the table uses (its
``population.regions`` those of the table), so that the land pools, the
entrants and every output by region follow the same list.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.scenario import PopulationSpec, RegionSpec, Scenario, apply_changes

__all__ = ["scenario_for_table", "table_places", "table_regions"]


def table_regions(table: pd.DataFrame, spec: PopulationSpec) -> list[RegionSpec]:
    """Return the regions of a run on a firm table, with their shares and parks.

    Without a region column (区县), or when the table names only regions the
    scenario lists, the scenario's regions are the run's. Otherwise the run's
    regions are the scenario's regions the table names (in the scenario's
    order), then the table's other regions (sorted); a listed region the table
    does not name has no firm and no land and is left out (the baseline's
    single ``county``, for example). A region's share (of newly released land
    and of entrants) is then:

    * a listed region: its scenario share, rescaled among the listed regions
      kept, times their share of the table's land;
    * another region: its share of the table's land (mu).

    The shares sum to 1. A region has as many parks as the table names in it
    (at least one; a listed region keeps at least its ``parks``).

    Parameters
    ----------
    table : pandas.DataFrame
        A canonical firm table (:func:`read_firm_table`).
    spec : PopulationSpec
        The scenario's ``population`` section.

    Returns
    -------
    list of RegionSpec
        The run's regions; region code ``r`` of a firm is the position in this list.

    Examples
    --------
    >>> import pandas as pd
    >>> from simulator.scenario import PopulationSpec, RegionSpec
    >>> table = pd.DataFrame({"region": ["B", "B", "C"], "land_mu": [10.0, 20.0, 10.0]})
    >>> spec = PopulationSpec.model_construct(regions=[RegionSpec(name="A", share=1.0)])
    >>> [(r.name, r.share) for r in table_regions(table, spec)]
    [('B', 0.75), ('C', 0.25)]
    """
    listed = {r.name: r for r in spec.regions}
    if "region" not in table.columns or set(table["region"]) <= set(listed):
        return list(spec.regions)
    land = table.groupby("region", sort=True)["land_mu"].sum()
    parks = (table.groupby("region", sort=True)["park"].nunique() if "park" in table.columns
             else pd.Series(1, index=land.index))
    kept = [r for r in spec.regions if r.name in land.index]
    total = float(land.sum())
    listed_land = sum(float(land[r.name]) for r in kept)
    listed_share = sum(r.share for r in kept)
    out = []
    for r in kept:  # the scenario's split among its listed regions, scaled to their land
        share = (r.share / listed_share * listed_land if listed_share > 0
                 else float(land[r.name])) / total
        out.append(RegionSpec(name=r.name, share=share, parks=max(r.parks, int(parks[r.name]))))
    out += [RegionSpec(name=name, share=float(land[name]) / total, parks=max(1, int(parks[name])))
            for name in land.index if name not in listed]
    return out


def table_places(table: pd.DataFrame, regions: list[RegionSpec]) -> tuple[np.ndarray, np.ndarray]:
    """Return each row's region and park codes.

    Regions are coded by their position in ``regions`` (:func:`table_regions`);
    parks are numbered within their region, in order of appearance.
    """
    n = len(table)
    if "region" in table.columns:
        codes = {r.name: i for i, r in enumerate(regions)}
        region = table["region"].map(codes).to_numpy(np.int16)
    else:
        region = np.zeros(n, dtype=np.int16)
    park = np.zeros(n, dtype=np.int16)
    if "park" in table.columns:
        for r in np.unique(region):
            rows = region == r
            park[rows] = pd.factorize(table["park"][rows])[0]
    return region, park


def scenario_for_table(table: pd.DataFrame, scenario: Scenario) -> Scenario:
    """Return the scenario a run on ``table`` uses: its regions those of :func:`table_regions`.

    The scenario itself when the table adds no region.
    """
    regions = table_regions(table, scenario.population)
    if regions == list(scenario.population.regions):
        return scenario
    return apply_changes(scenario, {"population.regions": [r.model_dump() for r in regions]})

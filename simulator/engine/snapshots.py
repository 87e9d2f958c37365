"""Stage: the year's firm snapshot (one row per firm, the run's ``firms.parquet``).

Every column is a copy (:func:`owned`): the run reuses its state arrays
(year-to-date sums are zeroed in place), and a snapshot kept after its year,
e.g. by a worker that returns the whole run, must not change with them.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from simulator import tariffs
from simulator.engine.state import RunState
from simulator.evaluation import EvaluationResult
from simulator.firms import CLASS_LABELS

__all__ = ["owned", "snapshot"]

#: Year-to-date sums written as they are.
_YTD_COLUMNS = ("va_wan_yuan", "revenue_wan_yuan", "tax_wan_yuan", "rd_wan_yuan",
                "energy_tce", "electricity_kwh", "water_m3", "electricity_bill_yuan",
                "electricity_surcharge_yuan", "water_bill_yuan", "water_surcharge_yuan",
                "pollution_charge_yuan", "pollution_surcharge_yuan", "land_tax_yuan",
                "land_tax_relief_yuan", "subsidy_yuan", "profit_wan_yuan")


def owned(values: np.ndarray) -> pa.Array:
    """Return an Arrow array with its own copy of ``values``."""
    return pa.array(np.array(values, copy=True))


def snapshot(state: RunState, year: int, result: EvaluationResult, new_class: np.ndarray,
             vetoed: np.ndarray) -> pa.Table:
    """Return the year's per-firm table: identity, class, score, totals, bills and rights."""
    f = state.firms
    y = f.ytd
    labels = pa.array(list(CLASS_LABELS))
    scale = np.where(f.is_services, 2, np.where(f.above_scale, 0, 1)).astype(np.int8)
    cols = {
        "year": pa.array(np.full(f.n, year, dtype=np.int16)),
        "scenario": pa.DictionaryArray.from_arrays(np.zeros(f.n, np.int8),
                                                    pa.array([state.params.name])),
        "replication": pa.array(np.full(f.n, state.replication, dtype=np.int32)),
        "firm_id": owned(f.firm_id),
        "sector": pa.DictionaryArray.from_arrays(np.array(f.sector),
                                                  pa.array(state.sector_names)),
        "region": pa.DictionaryArray.from_arrays(np.array(f.region),
                                                  pa.array(state.region_names)),
        "park": owned(f.park),
        "scale": pa.DictionaryArray.from_arrays(
            scale, pa.array(["above", "below", "services"])),
        "class_in_force": pa.DictionaryArray.from_arrays(np.array(f.klass), labels),
        "class": pa.DictionaryArray.from_arrays(new_class, labels),
        "score": owned(result.score),
        "rank": owned(result.rank),
        "group_size": owned(result.group_size),
        "vetoed": owned(vetoed),
        "consecutive_d_years": owned(f.consecutive_d_years),
        "land_mu": owned(f.land_mu),
        "employees": owned(f.employees),
        "output_factor_last": owned(f.output_factor),
        "cash_wan_yuan": owned(f.cash_wan_yuan),
        "consecutive_loss_years": owned(f.consecutive_loss_years),
        "invested_options": owned(f.invested),
    }
    for name in _YTD_COLUMNS:
        cols[name] = owned(y[name])
    for tariff, _ in tariffs.active(state.params.tariffs):  # further linear tariffs
        for key in tariff.ytd_keys:
            cols[key] = owned(y[key])
    for i, p in enumerate(state.params.pollutant_names()):
        cols[f"{p}_t"] = owned(y["emissions_t"][:, i])
    for name, values in result.indicators.items():
        cols[f"ind_{name}"] = owned(values)
    for quota, market in state.markets.items():
        cols[f"{quota}_allocated"] = owned(market.allocation)
        cols[f"{quota}_covered"] = owned(market.members)
        cols[f"{quota}_use"] = owned(market.use_ytd(f))
        done = market.compliance
        cols[f"{quota}_held"] = owned(done.per_firm(done.held))
        cols[f"{quota}_shortfall"] = owned(done.per_firm(done.shortfall))
        cols[f"{quota}_net_paid_yuan"] = owned(market.net_paid_this_year())
        cols[f"{quota}_abatement_cost_yuan"] = owned(market.abatement_cost_ytd)
        cols[f"{quota}_abatement_share"] = owned(market.share)
    return pa.table(cols)

"""Firm populations: synthetic by sector and calibrated to aggregates, or read from a table.

Synthetic firms are drawn sector by sector: land and VA per mu are lognormal
around the sector's medians, and every intensity (energy, water, emissions per
万元 VA) is lognormal around the sector's value. Calibration then rescales

* VA (and revenue with it) so that above-scale VA per mu = target,
* tax so that above-scale tax per mu = target,
* employees so that above-scale VA per employee = target,

each target being a ratio of sums over above-scale industrial firms
(e.g. total tax / total land), as the provincial statistics are published.
Rescaling VA moves firms across the 规上 revenue threshold, so the VA factor
is found by fixed-point iteration; tax and employees follow exactly.

Firm tables (the 亩均 platforms publish one row per firm) are read from CSV or
Excel; Chinese or English headers are mapped by :data:`COLUMN_ALIASES`.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from simulator.firms import (
    TCE_PER_KWH,
    UNRATED,
    Firms,
)
from simulator.scenario import POLLUTANTS, PopulationSpec, Scenario, ScenarioError

__all__ = [
    "COLUMN_ALIASES",
    "build_population",
    "calibrate_population",
    "calibrate_tax",
    "counts_by_share",
    "draw_firms",
    "finish_firms",
    "firms_from_table",
    "read_firm_table",
    "synthetic_population",
]

#: Canonical column -> accepted headers (case- and space-insensitive), with a unit factor.
#: A header naming another unit (e.g. 平方米, 元) converts to the canonical unit.
COLUMN_ALIASES: dict[str, list[tuple[str, float]]] = {
    "firm_id": [("firm_id", 1), ("id", 1), ("企业编号", 1), ("序号", 1), ("企业代码", 1)],
    "name": [("name", 1), ("企业名称", 1), ("单位名称", 1), ("企业", 1)],
    "sector": [("sector", 1), ("行业", 1), ("所属行业", 1), ("行业类别", 1)],
    "region": [("region", 1), ("county", 1), ("区县", 1), ("所在地", 1), ("乡镇街道", 1)],
    "park": [("park", 1), ("园区", 1), ("所在园区", 1)],
    "land_mu": [("land_mu", 1), ("用地面积", 1), ("用地面积(亩)", 1), ("用地(亩)", 1),
                ("用地面积(平方米)", 1 / 666.6667), ("land_m2", 1 / 666.6667)],
    "tax_wan_yuan": [("tax_wan_yuan", 1), ("税收", 1), ("实缴税金", 1), ("税收(万元)", 1),
                     ("实缴税收", 1), ("税收(元)", 1e-4)],
    "va_wan_yuan": [("va_wan_yuan", 1), ("工业增加值", 1), ("增加值", 1), ("工业增加值(万元)", 1),
                    ("增加值(万元)", 1)],
    "revenue_wan_yuan": [("revenue_wan_yuan", 1), ("营业收入", 1), ("主营业务收入", 1),
                         ("销售收入", 1), ("应税销售收入", 1), ("营业收入(万元)", 1)],
    "energy_tce": [("energy_tce", 1), ("综合能耗", 1), ("综合能耗(吨标煤)", 1), ("能耗", 1)],
    "electricity_kwh": [("electricity_kwh", 1), ("用电量", 1), ("用电量(千瓦时)", 1),
                        ("用电量(万千瓦时)", 1e4)],
    "water_m3": [("water_m3", 1), ("用水量", 1), ("用水量(立方米)", 1)],
    "employees": [("employees", 1), ("从业人员", 1), ("职工人数", 1), ("年平均职工人数", 1),
                  ("从业人员数", 1)],
    "rd_wan_yuan": [("rd_wan_yuan", 1), ("研发经费", 1), ("研发费用", 1), ("R&D经费", 1),
                    ("研发经费支出", 1)],
    "cod_t": [("cod_t", 1), ("化学需氧量", 1), ("COD排放量", 1), ("COD", 1)],
    "nh3n_t": [("nh3n_t", 1), ("氨氮", 1), ("氨氮排放量", 1), ("NH3-N", 1)],
    "so2_t": [("so2_t", 1), ("二氧化硫", 1), ("二氧化硫排放量", 1), ("SO2", 1)],
    "nox_t": [("nox_t", 1), ("氮氧化物", 1), ("氮氧化物排放量", 1), ("NOx", 1)],
    "above_scale": [("above_scale", 1), ("是否规上", 1), ("规上", 1), ("规模以上", 1)],
    "is_services": [("is_services", 1), ("服务业", 1), ("是否服务业", 1)],
    "high_tech": [("high_tech", 1), ("高新技术企业", 1), ("是否高新", 1)],
    "listed": [("listed", 1), ("上市企业", 1), ("是否上市", 1)],
    "brand": [("brand", 1), ("品牌", 1), ("名牌", 1)],
    "vetoed": [("vetoed", 1), ("一票否决", 1)],
}

#: Columns a firm table must have for the evaluation.
REQUIRED_COLUMNS = ("land_mu", "tax_wan_yuan")
_NUMERIC = ("land_mu", "tax_wan_yuan", "va_wan_yuan", "revenue_wan_yuan", "energy_tce",
            "electricity_kwh", "water_m3", "employees", "rd_wan_yuan",
            "cod_t", "nh3n_t", "so2_t", "nox_t")
_FLAGS = ("above_scale", "is_services", "high_tech", "listed", "brand", "vetoed")
_TRUE = {"1", "true", "yes", "y", "是", "√", "t"}
#: Cells that mean "not reported": blank, and pandas' usual markers but the spellings of NaN.
_MISSING = ["", "#N/A", "#N/A N/A", "#NA", "<NA>", "N/A", "NA", "NULL", "None", "n/a", "null"]
#: Spellings of NaN (lower case, without a sign): a number that is not finite, so an error
#: like ``inf``, not a blank.
_NAN_WORDS = {"nan", "1.#qnan", "1.#ind"}


def _norm(header: str) -> str:
    return "".join(str(header).split()).lower().replace("（", "(").replace("）", ")")


def _lognormal(rng: np.random.Generator, median: np.ndarray | float, sigma: np.ndarray | float,
               n: int) -> np.ndarray:
    return np.asarray(median) * np.exp(np.asarray(sigma) * rng.standard_normal(n))


def counts_by_share(n: int, shares: np.ndarray) -> np.ndarray:
    """Split n into integer counts proportional to shares (largest remainder)."""
    raw = n * shares
    counts = np.floor(raw).astype(np.int64)
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return counts


def synthetic_population(scenario: Scenario, rng: np.random.Generator) -> Firms:
    """Draw a synthetic population by sector (not yet calibrated).

    Parameters
    ----------
    scenario : Scenario
        Its ``population`` section gives counts, sector intensities and spreads.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    Firms
        One row per firm, firm ids 1..n.
    """
    spec = scenario.population
    sectors = list(spec.sectors.values())
    n_by_kind = {"industrial": spec.n_industrial, "services": spec.n_services}
    codes: list[np.ndarray] = []
    for kind in ("industrial", "services"):
        idx = np.array([i for i, s in enumerate(sectors) if s.kind == kind], dtype=np.int16)
        if idx.size and n_by_kind[kind]:
            shares = np.array([sectors[i].share for i in idx])
            codes.append(np.repeat(idx, counts_by_share(n_by_kind[kind], shares)))
    sector = np.concatenate(codes) if codes else np.zeros(0, dtype=np.int16)
    sector = sector[rng.permutation(sector.size)].astype(np.int16)
    firms = draw_firms(scenario, rng, sector, first_id=1)
    finish_firms(firms, spec)
    return firms


def draw_firms(scenario: Scenario, rng: np.random.Generator, sector: np.ndarray, *,
               first_id: int, productivity: float = 1.0) -> Firms:
    """Draw firms of the given sectors from the scenario's sector distributions.

    Parameters
    ----------
    scenario : Scenario
        Its ``population`` section gives the sector intensities and spreads.
    rng : numpy.random.Generator
        Source of randomness.
    sector : ndarray of int16
        Sector code of each firm to draw.
    first_id : int
        Firm id of the first; the others follow.
    productivity : float
        Multiplier of the sectors' VA per mu (e.g. new projects' premium).

    Returns
    -------
    Firms
        Not finished: scale, capacity and accumulators are set by ``finish_firms``.
    """
    spec = scenario.population
    sectors = list(spec.sectors.values())
    n = sector.size

    def col(attr: str) -> np.ndarray:
        return np.array([getattr(s, attr) for s in sectors], dtype=float)[sector]

    land_med = np.array([s.land_mu.median for s in sectors])[sector]
    land_sig = np.array([s.land_mu.sigma for s in sectors])[sector]
    vpm_med = np.array([s.va_per_mu_wan_yuan.median for s in sectors])[sector]
    vpm_sig = np.array([s.va_per_mu_wan_yuan.sigma for s in sectors])[sector]
    disp = spec.dispersion
    land = _lognormal(rng, land_med, land_sig, n)
    va = land * _lognormal(rng, vpm_med * productivity, vpm_sig, n)
    va_share = np.clip(_lognormal(rng, col("va_share_of_revenue"), disp.revenue_share_sigma, n),
                       0.02, 0.95)
    isig = col("intensity_sigma")
    z_energy = rng.standard_normal(n)
    energy_int = col("energy_tce_per_wan_yuan_va") * np.exp(isig * z_energy)
    emis_med = np.array([s.emissions_t_per_wan_yuan_va.as_tuple() for s in sectors])[sector]
    emis = emis_med * np.exp(isig[:, None] * rng.standard_normal((n, len(POLLUTANTS))))
    water_int = _lognormal(rng, col("water_m3_per_wan_yuan_va"), isig, n)

    unit = np.full(n, np.nan)
    names = scenario.sector_names()
    for name, sched in scenario.tariffs.electricity.tiered.items():
        if name in names:
            mask = sector == names.index(name)
            spread = np.exp(sched.firm_sigma * z_energy[mask])
            unit[mask] = sched.reference_unit_consumption * spread

    regions = spec.regions
    region = rng.choice(len(regions), size=n, p=[r.share for r in regions]).astype(np.int16)
    parks = np.array([r.parks for r in regions])[region]
    park = np.floor(rng.random(n) * parks).astype(np.int16)
    u = rng.random(n)
    process = np.where(u < col("eliminated_share"), 2,
                       np.where(u < col("eliminated_share") + col("restricted_share"), 1, 0))
    grades = np.asarray(spec.land_grade_shares)
    land_grade = rng.choice(grades.size, size=n, p=grades / grades.sum()).astype(np.int8)

    return Firms(
        firm_id=np.arange(first_id, first_id + n, dtype=np.int64),
        sector=sector,
        region=region,
        park=park,
        is_services=np.array([s.kind == "services" for s in sectors], dtype=bool)[sector],
        high_tech=rng.random(n) < col("high_tech_share"),
        listed=rng.random(n) < spec.listed_share,
        brand=rng.random(n) < spec.brand_share,
        process_status=process.astype(np.int8),
        land_grade=land_grade,
        age_years=rng.integers(0, spec.max_age_years, size=n).astype(np.int16),
        above_scale=np.zeros(n, dtype=bool),
        land_mu=land,
        employees=va / _lognormal(rng, col("va_per_employee_wan_yuan"), disp.labour_sigma, n),
        capacity_kva=np.zeros(n),
        va_wan_yuan=va,
        revenue_wan_yuan=va / va_share,
        tax_share_of_va=np.clip(_lognormal(rng, col("tax_share_of_va"), disp.tax_share_sigma, n),
                                0.0, 0.9),
        rd_share_of_revenue=np.clip(
            _lognormal(rng, np.maximum(col("rd_share_of_revenue"), 1e-12), disp.rd_sigma, n),
            0.0, 0.5,
        ),
        profit_margin=col("profit_margin") + disp.margin_sd * rng.standard_normal(n),
        energy_tce_per_wan_yuan=energy_int,
        electricity_share=col("electricity_share_of_energy"),
        water_m3_per_wan_yuan=water_int,
        water_quota_m3=col("water_m3_per_wan_yuan_va") * va,
        emission_t_per_wan_yuan=emis,
        unit_consumption=unit,
        output_elasticity=col("output_elasticity"),
        klass=np.full(n, UNRATED, dtype=np.int8),
        consecutive_d_years=np.zeros(n, dtype=np.int16),
        vetoed=np.zeros(n, dtype=bool),
        log_shock=np.zeros(n),
        reference_cost_share=np.full(n, np.nan),
        output_factor=np.ones(n),
    )


def finish_firms(firms: Firms, spec: PopulationSpec) -> None:
    """Derive scale and transformer capacity from the potentials."""
    firms.employees = np.maximum(firms.employees, 1.0)
    firms.above_scale = (~firms.is_services) & (
        firms.revenue_wan_yuan >= spec.above_scale_revenue_wan_yuan
    )
    kwh = firms.va_wan_yuan * firms.electricity_kwh_per_wan_yuan
    firms.capacity_kva = kwh / spec.electricity_utilisation_hours
    n = firms.n
    if firms.income_tax_rate.shape != (n,):
        firms.income_tax_rate = np.where(firms.high_tech, spec.high_tech_income_tax_rate,
                                         spec.corporate_income_tax_rate)
    if firms.cash_wan_yuan.shape != (n,):  # set once, at creation
        firms.cash_wan_yuan = np.zeros(n)
        firms.consecutive_loss_years = np.zeros(n, dtype=np.int16)
        firms.rectification_years = np.zeros(n, dtype=np.int16)
        firms.invested = np.zeros(n, dtype=np.int8)
        firms.cost_factor = np.ones((n, 4))
    firms.reset_ytd()


def above_scale_aggregates(firms: Firms) -> dict[str, float]:
    """Ratio-of-sums aggregates over above-scale industrial firms (potential values).

    Returns
    -------
    dict
        ``tax_per_mu_wan_yuan``, ``va_per_mu_wan_yuan`` and
        ``labour_productivity_wan_yuan_per_person``.
    """
    m = firms.above_scale
    land = firms.land_mu[m].sum()
    va = firms.va_wan_yuan[m].sum()
    return {
        "tax_per_mu_wan_yuan": float(firms.potential_tax_wan_yuan()[m].sum() / land),
        "va_per_mu_wan_yuan": float(va / land),
        "labour_productivity_wan_yuan_per_person": float(va / firms.employees[m].sum()),
    }


def calibrate_population(firms: Firms, spec: PopulationSpec, *, max_iter: int = 100) -> Firms:
    """Rescale VA, tax and employees so above-scale aggregates equal the targets.

    Parameters
    ----------
    firms : Firms
        A population (modified in place and returned).
    spec : PopulationSpec
        Gives the 规上 threshold and the targets.
    max_iter : int
        Iterations of the VA fixed point.

    Returns
    -------
    Firms
        The calibrated population.

    Raises
    ------
    ScenarioError
        If no firm is above scale, so no target can be met.
    """
    targets = spec.targets
    industrial = ~firms.is_services
    va_factor = 1.0
    for _ in range(max_iter):
        threshold = spec.above_scale_revenue_wan_yuan
        firms.above_scale = industrial & (firms.revenue_wan_yuan >= threshold)
        if not firms.above_scale.any():
            raise ScenarioError(
                "no synthetic firm reaches the above-scale revenue threshold; "
                "raise va_per_mu_wan_yuan or land_mu", field="population.sectors"
            )
        factor = targets.va_per_mu_wan_yuan / above_scale_aggregates(firms)["va_per_mu_wan_yuan"]
        if abs(factor - 1.0) < 1e-12:
            break
        # Services are scaled too, so their size relative to industry is kept.
        firms.va_wan_yuan *= factor
        firms.revenue_wan_yuan *= factor
        firms.water_quota_m3 *= factor
        va_factor *= factor
    agg = above_scale_aggregates(firms)
    employee_factor = agg["labour_productivity_wan_yuan_per_person"] / (
        targets.labour_productivity_wan_yuan_per_person)
    # Income tax follows profit; the other taxes are scaled so the total hits the target.
    tax_factor = calibrate_tax(firms, spec, profit_wan_yuan=np.maximum(
        firms.revenue_wan_yuan * firms.profit_margin, 0.0), apply=False)
    firms.tax_share_of_va *= tax_factor
    firms.employees *= employee_factor
    firms.calibration = (va_factor, tax_factor, employee_factor)
    finish_firms(firms, spec)
    return firms


def calibrate_tax(firms: Firms, spec: PopulationSpec, *, profit_wan_yuan: np.ndarray,
                  apply: bool = True) -> float:
    """Scale the non-income taxes so above-scale tax per mu hits the target, given profits.

    Income tax follows each firm's expected taxable profit (``profit_wan_yuan``,
    e.g. at potential output, or after the charges the firm will pay); the
    other taxes (``tax_share_of_va``) are scaled so that the total matches
    ``spec.targets.tax_per_mu_wan_yuan``. Returns the factor (applied in place
    unless ``apply`` is False).

    Raises
    ------
    ScenarioError
        If income tax alone already exceeds the target.
    """
    m = firms.above_scale
    land = float(firms.land_mu[m].sum())
    other = float((firms.va_wan_yuan * firms.tax_share_of_va)[m].sum())
    income = float((firms.income_tax_rate * np.maximum(profit_wan_yuan, 0.0))[m].sum())
    wanted = spec.targets.tax_per_mu_wan_yuan * land
    if wanted <= income or other <= 0:
        raise ScenarioError(
            f"income tax alone ({income / land:.3g} 万元/mu) reaches the tax-per-mu target "
            f"{spec.targets.tax_per_mu_wan_yuan:g}; lower the profit margins or the income "
            "tax rate", field="population.targets.tax_per_mu_wan_yuan")
    factor = (wanted - income) / other
    if apply:
        firms.tax_share_of_va *= factor
        va, tax, emp = firms.calibration
        firms.calibration = (va, tax * factor, emp)
    return factor


def build_population(scenario: Scenario, rng: np.random.Generator) -> Firms:
    """Build the scenario's firms: synthetic (calibrated if asked) or from its firm table."""
    spec = scenario.population
    if spec.source == "file":
        return firms_from_table(read_firm_table(spec.file), scenario)
    firms = synthetic_population(scenario, rng)
    if spec.calibrate and firms.n:
        calibrate_population(firms, spec)
    return firms


# --------------------------------------------------------------------- firm tables


def read_firm_table(path: str | Path) -> pd.DataFrame:
    """Read a firm table (CSV or Excel) and map its headers to canonical columns.

    Parameters
    ----------
    path : str or Path
        ``.csv`` (UTF-8, UTF-8 with BOM or GBK) or ``.xlsx``/``.xls``.

    Returns
    -------
    pandas.DataFrame
        Canonical columns (see :data:`COLUMN_ALIASES`) with numbers converted to
        canonical units, flags as bool, and ``firm_id`` filled (1..n) if absent.

    Raises
    ------
    ScenarioError
        Naming the file, the row (its line in the file) and the column of the
        first problem: unreadable or empty file, missing required column,
        non-numeric, non-finite (``inf``, ``nan``, ``1e999``) or negative value,
        zero land, an id that is not an integer or appears twice.
    """
    path = Path(path)
    if not path.exists():
        raise ScenarioError("file not found", file=path)
    if path.stat().st_size == 0:
        raise ScenarioError("file is empty", file=path)
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm", ".xls"):
            raw = pd.read_excel(path, dtype=object, keep_default_na=False,
                                na_values=_MISSING)
            lines = list(range(2, len(raw) + 2))  # header on row 1; blank rows are kept
        elif suffix in (".csv", ".txt"):
            raw, lines = _read_csv(path)
        else:
            raise ScenarioError(f"unsupported firm table type {suffix!r} (use .csv or .xlsx)",
                                file=path)
    except ScenarioError:
        raise
    except Exception as exc:  # pandas/openpyxl raise many types for unreadable files
        raise ScenarioError(f"cannot read firm table: {exc}", file=path) from None
    if raw.empty:
        raise ScenarioError("firm table has no rows", file=path)
    lookup = {_norm(alias): (canon, factor)
              for canon, aliases in COLUMN_ALIASES.items() for alias, factor in aliases}
    out = pd.DataFrame(index=raw.index)
    headers: dict[str, str] = {}  # canonical column -> the table's header, for messages
    for header in raw.columns:
        hit = lookup.get(_norm(header))
        if hit is None or hit[0] in out.columns:
            continue
        canon, factor = hit
        headers[canon] = str(header)
        col = raw[header]
        if canon in _NUMERIC:
            out[canon] = _numbers(col, factor, file=path, lines=lines, header=str(header),
                                  column=canon)
        elif canon in _FLAGS:
            out[canon] = col.astype(str).str.strip().str.lower().isin(_TRUE)
        elif canon == "firm_id":
            out[canon] = _firm_ids(col, file=path, lines=lines, header=str(header))
        else:
            out[canon] = col.astype(str).str.strip()
    missing = [c for c in REQUIRED_COLUMNS if c not in out.columns]
    if missing:
        names = ", ".join(f"{c} (e.g. {COLUMN_ALIASES[c][1][0]})" for c in missing)
        raise ScenarioError(f"missing required column(s): {names}", file=path)
    land = out["land_mu"]
    if land.isna().any() or (land <= 0).any():
        row = int(np.flatnonzero((land.isna() | (land <= 0)).to_numpy())[0])
        raise ScenarioError("land must be positive", file=path, line=lines[row],
                            field=headers["land_mu"])
    if "firm_id" not in out.columns:
        out["firm_id"] = np.arange(1, len(out) + 1, dtype=np.int64)
    # Firms are kept in firm_id order everywhere (the evaluation's fast path).
    out = out.sort_values("firm_id", kind="stable").reset_index(drop=True)
    out.attrs["file"] = str(path)  # named by later errors about the table's content
    return out


def _numbers(col: pd.Series, factor: float, *, file: Path, lines: list[int], header: str,
             column: str) -> pd.Series:
    """Parse a number column into ``column``'s unit; a blank cell is a figure not reported (NaN).

    Raises
    ------
    ScenarioError
        At the first cell that is text, not finite (``inf``, ``nan``, ``1e999``,
        or too large for the unit conversion) or negative.
    """
    text = col.astype(str).str.strip().where(col.notna(), "")
    read = pd.to_numeric(col, errors="coerce").astype(float)
    values = read * factor
    # "nan" parses (as NaN), so NaN is told apart from text by its spelling.
    nan_word = text.str.lower().str.lstrip("+-").isin(_NAN_WORDS)
    text_cell = (text != "") & read.isna() & ~nan_word
    not_finite = nan_word | np.isinf(values)  # inf, 1e999, or too large once converted
    bad = text_cell | not_finite | (values < 0)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        cell = text.iloc[row]
        if text_cell.iloc[row]:
            message = f"not a number: {cell!r}"
        elif not_finite.iloc[row] and np.isfinite(read.iloc[row]):
            message = f"must be a finite number, got {cell!r} (infinite in {column})"
        elif not_finite.iloc[row]:
            message = f"must be a finite number, got {cell!r}"
        else:
            message = f"must not be negative, got {values.iloc[row]:g}"
        raise ScenarioError(message, file=file, line=lines[row], field=header)
    return values


def _firm_ids(col: pd.Series, *, file: Path, lines: list[int], header: str) -> pd.Series:
    """Parse the firm ids: integers, each on one row only.

    Raises
    ------
    ScenarioError
        At the first blank id, the second row of a repeated id (naming the
        first), or the first id that is not an integer.
    """
    text = col.astype(str).str.strip().where(col.notna(), "")
    numbers = pd.to_numeric(text, errors="coerce").astype(float)
    finite = np.isfinite(numbers)
    integer = finite & (numbers.where(finite, 0.5) % 1 == 0) & (numbers.abs() < 2.0**62)
    # "7", "07" and "7.0" are one firm; an id that is not a number is compared as text.
    key = text.where(~integer, numbers.where(integer).astype(str))
    first_line: dict[str, int] = {}
    for row, (cell, k) in enumerate(zip(text, key, strict=True)):
        if cell == "":
            raise ScenarioError("missing id", file=file, line=lines[row], field=header)
        if k in first_line:
            raise ScenarioError(f"duplicate id {cell!r} (also on line {first_line[k]})",
                                file=file, line=lines[row], field=header)
        first_line[k] = lines[row]
    if not integer.all():
        row = int(np.flatnonzero(~integer.to_numpy())[0])
        raise ScenarioError(f"id must be an integer, got {text.iloc[row]!r}", file=file,
                            line=lines[row], field=header)
    return numbers.astype(np.int64)


def _read_csv(path: Path) -> tuple[pd.DataFrame, list[int]]:
    """Read a CSV as text cells; return the table and the line each data row starts on."""
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gbk"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        try:
            raw = pd.read_csv(io.StringIO(text), dtype=str, skipinitialspace=True,
                              keep_default_na=False, na_values=_MISSING)
        except pd.errors.EmptyDataError:
            raise ScenarioError("file is empty", file=path) from None
        return raw, _record_lines(text, len(raw))
    raise ScenarioError("cannot decode file (expected UTF-8 or GBK)", file=path)


def _record_lines(text: str, n_rows: int) -> list[int]:
    """Line on which each of a CSV's ``n_rows`` data rows starts, as a text editor counts.

    Blank lines are skipped (as pandas skips them) and a quoted cell may span
    lines, so a row's line is not its index + 2. If the count disagrees with
    pandas' (an exotic file), the index + 2 is used.
    """
    reader = csv.reader(io.StringIO(text), skipinitialspace=True)
    starts: list[int] = []
    end = 0
    try:
        for record in reader:
            if record and not (len(record) == 1 and not record[0].strip()):
                starts.append(end + 1)
            end = reader.line_num
    except csv.Error:
        starts = []
    starts = starts[1:]  # the header
    return starts if len(starts) == n_rows else list(range(2, n_rows + 2))


def _column(table: pd.DataFrame, name: str, default: float = 0.0) -> np.ndarray:
    if name in table.columns:
        return table[name].fillna(default).to_numpy(dtype=float)
    return np.full(len(table), default)


def firms_from_table(table: pd.DataFrame, scenario: Scenario) -> Firms:
    """Turn a canonical firm table into :class:`Firms` for simulation.

    Observed quantities become annual potentials and intensities (e.g. energy
    per 万元 VA = energy / VA); behaviour parameters the table cannot give
    (margin, elasticity, water quota norm) come from the firm's sector in the
    scenario. Sectors are matched by name or Chinese label.

    Raises
    ------
    ScenarioError
        If a firm's sector is not one of the scenario's sectors.
    """
    spec = scenario.population
    names = scenario.sector_names()
    sectors = list(spec.sectors.values())
    by_label = {s.label_zh: i for i, s in enumerate(sectors) if s.label_zh}
    by_label.update({name: i for i, name in enumerate(names)})
    n = len(table)
    if "sector" in table.columns:
        unknown = sorted(set(table["sector"]) - set(by_label))
        if unknown:
            raise ScenarioError(f"sector {unknown[0]!r} is not a scenario sector "
                                f"(known: {', '.join(names)})", file=table.attrs.get("file"),
                                field="sector")
        sector = table["sector"].map(by_label).to_numpy(dtype=np.int16)
    else:
        first_ind = next(i for i, s in enumerate(sectors) if s.kind == "industrial")
        sector = np.full(n, first_ind, dtype=np.int16)
    region_names = [r.name for r in spec.regions]
    if "region" in table.columns:
        extra = [r for r in sorted(set(table["region"])) if r not in region_names]
        region_names = region_names + extra
        region = table["region"].map({r: i for i, r in enumerate(region_names)}).to_numpy(np.int16)
    else:
        region = np.zeros(n, dtype=np.int16)
    park = (pd.factorize(table["park"])[0].astype(np.int16) if "park" in table.columns
            else np.zeros(n, dtype=np.int16))

    def scol(attr: str) -> np.ndarray:
        return np.array([getattr(s, attr) for s in sectors], dtype=float)[sector]

    va = _column(table, "va_wan_yuan")
    revenue = _column(table, "revenue_wan_yuan")
    revenue = np.where(revenue > 0, revenue, va / scol("va_share_of_revenue"))
    va = np.where(va > 0, va, revenue * scol("va_share_of_revenue"))
    safe_va = np.where(va > 0, va, 1.0)
    energy = _column(table, "energy_tce")
    kwh = _column(table, "electricity_kwh")
    elec_share = np.where(energy > 0, np.clip(kwh * TCE_PER_KWH / np.where(energy > 0, energy, 1),
                                              0, 1), scol("electricity_share_of_energy"))
    energy = np.where(energy > 0, energy, kwh * TCE_PER_KWH)
    emissions = np.column_stack([_column(table, f"{p}_t") for p in POLLUTANTS])
    water = _column(table, "water_m3")
    is_services = (table["is_services"].to_numpy(bool) if "is_services" in table.columns
                   else np.array([s.kind == "services" for s in sectors])[sector])
    firms = Firms(
        firm_id=table["firm_id"].to_numpy(np.int64),
        sector=sector,
        region=region,
        park=park,
        is_services=is_services,
        high_tech=_column(table, "high_tech").astype(bool),
        listed=_column(table, "listed").astype(bool),
        brand=_column(table, "brand").astype(bool),
        process_status=np.zeros(n, dtype=np.int8),
        land_grade=np.full(n, min(1, len(spec.land_grade_shares) - 1), dtype=np.int8),
        age_years=np.full(n, spec.max_age_years // 2, dtype=np.int16),
        above_scale=np.zeros(n, dtype=bool),
        land_mu=table["land_mu"].to_numpy(float),
        employees=_column(table, "employees", 1.0),
        capacity_kva=np.zeros(n),
        va_wan_yuan=va,
        revenue_wan_yuan=revenue,
        tax_share_of_va=_column(table, "tax_wan_yuan") / safe_va,
        income_tax_rate=np.zeros(n),  # a firm table's tax is all taxes: kept as a share of VA
        rd_share_of_revenue=_column(table, "rd_wan_yuan") / np.where(revenue > 0, revenue, 1.0),
        profit_margin=scol("profit_margin"),
        energy_tce_per_wan_yuan=energy / safe_va,
        electricity_share=elec_share,
        water_m3_per_wan_yuan=water / safe_va,
        water_quota_m3=scol("water_m3_per_wan_yuan_va") * va,
        emission_t_per_wan_yuan=emissions / safe_va[:, None],
        unit_consumption=np.full(n, np.nan),
        output_elasticity=scol("output_elasticity"),
        klass=np.full(n, UNRATED, dtype=np.int8),
        consecutive_d_years=np.zeros(n, dtype=np.int16),
        vetoed=_column(table, "vetoed").astype(bool),
        log_shock=np.zeros(n),
        reference_cost_share=np.full(n, np.nan),
        output_factor=np.ones(n),
    )
    for name, sched in scenario.tariffs.electricity.tiered.items():
        if name in names:
            firms.unit_consumption[sector == names.index(name)] = sched.reference_unit_consumption
    finish_firms(firms, spec)
    if "above_scale" in table.columns:
        firms.above_scale = table["above_scale"].to_numpy(bool) & ~is_services
    return firms

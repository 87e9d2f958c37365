"""Firm tables: CSV or Excel, Chinese or English headers -> a canonical table -> Firms.

The 亩均 platforms publish one row per firm. :func:`read_firm_table` reads such
a table (CSV in UTF-8 or GBK, or Excel), maps its headers by
:data:`COLUMN_ALIASES` (converting units a header names, e.g. 平方米 to mu)
and checks every cell, naming the file, line and column of the first
problem; :func:`firms_from_table` turns the canonical table into
:class:`~simulator.firms.Firms` for simulation.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from simulator.firms import TCE_PER_KWH, UNRATED, Firms
from simulator.population.places import table_places, table_regions
from simulator.population.sectors import SectorMatcher
from simulator.population.synthetic import finish_firms
from simulator.scenario import Scenario, ScenarioError

__all__ = ["COLUMN_ALIASES", "REQUIRED_COLUMNS", "firms_from_table", "read_firm_table"]

#: Canonical column -> accepted headers (case- and space-insensitive), with a unit factor.
#: A header naming another unit (e.g. 平方米, 元) converts to the canonical unit.
COLUMN_ALIASES: dict[str, list[tuple[str, float]]] = {
    "firm_id": [("firm_id", 1), ("id", 1), ("企业编号", 1), ("序号", 1), ("企业代码", 1),
                ("统一社会信用代码", 1), ("社会信用代码", 1), ("信用代码", 1), ("credit_code", 1)],
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
    "process_status": [("process_status", 1), ("工艺类别", 1), ("产能类别", 1),
                       ("淘汰限制类", 1), ("落后产能", 1)],
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
#: Headers of an id column that holds credit codes: its ids are text even if all digits.
_CODE_HEADERS = {"统一社会信用代码", "社会信用代码", "信用代码", "credit_code"}


def _norm(header: str) -> str:
    return "".join(str(header).split()).lower().replace("（", "(").replace("）", ")")



def read_firm_table(path: str | Path) -> pd.DataFrame:
    """Read a firm table (CSV or Excel) and map its headers to canonical columns.

    Firm ids are integers (``7``, ``07`` and ``7.0`` are one firm) or, when any
    id is not an integer or the header names a credit code (统一社会信用代码),
    text kept exactly as written (``91330100MA27XXXX0X``), unique either way.

    Parameters
    ----------
    path : str or Path
        ``.csv`` (UTF-8, UTF-8 with BOM or GBK) or ``.xlsx``/``.xls``.

    Returns
    -------
    pandas.DataFrame
        Canonical columns (see :data:`COLUMN_ALIASES`) with numbers converted to
        canonical units, flags as bool, and ``firm_id`` filled (1..n) if absent;
        sorted by ``firm_id``. ``attrs`` holds ``file``, ``lines`` (each row's
        line in the file) and ``headers`` (canonical column -> the file's header),
        for errors about the table's content.

    Raises
    ------
    ScenarioError
        Naming the file, the row (its line in the file) and the column of the
        first problem: unreadable or empty file, missing required column,
        non-numeric, non-finite (``inf``, ``nan``, ``1e999``) or negative value,
        zero land, a missing id, an id that is a number but not an integer
        (``2.5``) or that appears twice.
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
    out, headers = _canonical(raw, file=path, lines=lines)
    missing = [c for c in REQUIRED_COLUMNS if c not in out.columns]
    if missing:
        names = ", ".join(f"{c} (e.g. {COLUMN_ALIASES[c][1][0]})" for c in missing)
        raise ScenarioError(f"missing required column{'s' if len(missing) > 1 else ''}: "
                            f"{names}", file=path)
    land = out["land_mu"]
    if land.isna().any() or (land <= 0).any():
        row = int(np.flatnonzero((land.isna() | (land <= 0)).to_numpy())[0])
        raise ScenarioError("land must be positive", file=path, line=lines[row],
                            field=headers["land_mu"])
    if "firm_id" not in out.columns:
        out["firm_id"] = np.arange(1, len(out) + 1, dtype=np.int64)
    # Firms are kept in firm_id order everywhere (the evaluation's fast path).
    order = np.argsort(out["firm_id"].to_numpy(), kind="stable")
    out = out.iloc[order].reset_index(drop=True)
    # Named by later errors about the table's content (a sector no scenario has).
    out.attrs.update(file=str(path), lines=[lines[i] for i in order], headers=headers)
    return out


def _canonical(raw: pd.DataFrame, *, file: Path, lines: list[int]
               ) -> tuple[pd.DataFrame, dict[str, str]]:
    """Return the table's canonical columns, parsed, and canonical column -> the file's header."""
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
            out[canon] = _numbers(col, factor, file=file, lines=lines, header=str(header),
                                  column=canon)
        elif canon in _FLAGS:
            out[canon] = col.astype(str).str.strip().str.lower().isin(_TRUE)
        elif canon == "firm_id":
            out[canon] = _firm_ids(col, file=file, lines=lines, header=str(header),
                                   text=_norm(header) in _CODE_HEADERS)
        else:
            out[canon] = col.astype(str).str.strip()
    return out, headers


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


def _firm_ids(col: pd.Series, *, file: Path, lines: list[int], header: str,
              text: bool = False) -> pd.Series:
    """Parse the firm ids: integers, or text codes kept as written; each on one row only.

    The ids are text when ``text`` (the header names a credit code) or any id
    is not an integer (``91330100MA27XXXX0X``, ``ZJ001``); else integers, so
    that ``7``, ``07`` and ``7.0`` are one firm.

    Raises
    ------
    ScenarioError
        At the first blank id, the first id that is a number but not an
        integer (``2.5``, ``inf``), or the second row of a repeated id (naming
        the first).
    """
    cells = col.astype(str).str.strip().where(col.notna(), "")
    for row, cell in enumerate(cells):
        if cell == "":
            raise ScenarioError("missing id", file=file, line=lines[row], field=header)
    integer = cells.str.fullmatch(r"[+-]?\d+(\.0*)?")
    numbers = pd.to_numeric(cells.where(~integer, ""), errors="coerce")
    looks_numeric = ~integer & numbers.notna() | cells.str.lower().str.lstrip("+-").isin(
        {"inf", "infinity", "nan"})
    if looks_numeric.any():  # a number that is no integer is a mistake, not a code
        row = int(np.flatnonzero(looks_numeric.to_numpy())[0])
        raise ScenarioError(f"id must be an integer or a code (e.g. a 统一社会信用代码), got "
                            f"{cells.iloc[row]!r}", file=file, line=lines[row], field=header)
    as_text = text or not integer.all()
    if not as_text:
        values = [int(c.split(".")[0]) for c in cells]
        as_text = any(abs(v) >= 2**63 for v in values)  # too long for an integer: a code
    keys = list(cells) if as_text else [str(v) for v in values]
    first_line: dict[str, int] = {}
    for row, (cell, key) in enumerate(zip(cells, keys, strict=True)):
        if key in first_line:
            raise ScenarioError(f"duplicate id {cell!r} (also on line {first_line[key]})",
                                file=file, line=lines[row], field=header)
        first_line[key] = lines[row]
    if as_text:
        return pd.Series(list(cells), index=col.index, dtype=object)
    return pd.Series(values, index=col.index, dtype=np.int64)


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


def _table_sectors(table: pd.DataFrame, scenario: Scenario,
                   sectors: SectorMatcher | None = None) -> np.ndarray:
    """Return each row's sector code, matched by name, Chinese label, alias or mapping.

    Without a sector column, every firm is in the scenario's first industrial sector.

    Raises
    ------
    ScenarioError
        At the first row whose sector is none of the scenario's, naming its line
        and column, the scenario's sectors and the nearest names.
    """
    specs = list(scenario.population.sectors.values())
    if "sector" not in table.columns:
        first_ind = next(i for i, s in enumerate(specs) if s.kind == "industrial")
        return np.full(len(table), first_ind, dtype=np.int16)
    matcher = sectors or SectorMatcher.for_scenario(scenario)
    codes = {name: matcher.code(name) for name in pd.unique(table["sector"])}
    unknown = table["sector"].map(codes).isna().to_numpy()
    if unknown.any():
        row = int(np.flatnonzero(unknown)[0])
        lines = table.attrs.get("lines")
        raise ScenarioError(matcher.unknown_message(table["sector"].iloc[row]),
                            file=table.attrs.get("file"),
                            line=lines[row] if lines and len(lines) == len(table) else None,
                            field=table.attrs.get("headers", {}).get("sector", "sector"))
    return table["sector"].map(codes).to_numpy(dtype=np.int16)


#: Words of a process-status cell (产业结构调整指导目录: 限制类, 淘汰类) -> PROCESS_STATUS code.
_PROCESS_WORDS = {"": 0, "nan": 0, "normal": 0, "正常": 0, "允许类": 0, "鼓励类": 0, "否": 0,
                  "restricted": 1, "限制": 1, "限制类": 1,
                  "eliminated": 2, "淘汰": 2, "淘汰类": 2}


def _process_status(table: pd.DataFrame) -> np.ndarray:
    """Return each row's process status code (0 normal, 1 restricted, 2 eliminated).

    Without the column every firm is normal. Raises ScenarioError naming the line
    and column of the first cell that is none of :data:`_PROCESS_WORDS`.
    """
    if "process_status" not in table.columns:
        return np.zeros(len(table), dtype=np.int8)
    cells = table["process_status"]
    words = cells.where(cells.notna(), "").astype(str).str.strip().str.lower()  # blank: normal
    codes = words.map(_PROCESS_WORDS)
    if codes.isna().any():
        row = int(np.flatnonzero(codes.isna().to_numpy())[0])
        lines = table.attrs.get("lines")
        raise ScenarioError(
            f"process status {table['process_status'].iloc[row]!r} is not one of normal, "
            "restricted, eliminated (正常, 限制类, 淘汰类)", file=table.attrs.get("file"),
            line=lines[row] if lines and len(lines) == len(table) else None,
            field=table.attrs.get("headers", {}).get("process_status", "process_status"))
    return codes.to_numpy(dtype=np.int8)


def _firm_numbers(ids: pd.Series) -> np.ndarray:
    """Return integer firm ids: the table's, or 1..n in id order for text ids (credit codes)."""
    if ids.dtype == object:
        return np.arange(1, len(ids) + 1, dtype=np.int64)
    return ids.to_numpy(np.int64)


def firms_from_table(table: pd.DataFrame, scenario: Scenario, *,
                     sectors: SectorMatcher | None = None) -> Firms:
    """Turn a canonical firm table into :class:`Firms` for simulation.

    Observed quantities become annual potentials and intensities (e.g. energy
    per 万元 VA = energy / VA); behaviour parameters the table cannot give
    (margin, elasticity, water quota norm) come from the firm's sector in the
    scenario. Sectors are matched by ``sectors`` (a
    :class:`~simulator.population.sectors.SectorMatcher`, default the
    scenario's; an unknown one is a ScenarioError naming its line); text ids
    (credit codes) are numbered 1..n in id order.
    """
    sector = _table_sectors(table, scenario, sectors)
    spec = scenario.population
    names = scenario.sector_names()
    sectors = list(spec.sectors.values())
    n = len(table)
    region, park = table_places(table, table_regions(table, spec))

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
    emissions = np.column_stack([_column(table, f"{p}_t") for p in scenario.pollutant_names()])
    water = _column(table, "water_m3")
    is_services = (table["is_services"].to_numpy(bool) if "is_services" in table.columns
                   else np.array([s.kind == "services" for s in sectors])[sector])
    firms = Firms(
        firm_id=_firm_numbers(table["firm_id"]),
        sector=sector,
        region=region,
        park=park,
        is_services=is_services,
        high_tech=_column(table, "high_tech").astype(bool),
        listed=_column(table, "listed").astype(bool),
        brand=_column(table, "brand").astype(bool),
        process_status=_process_status(table),
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

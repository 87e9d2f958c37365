"""Result tables as Excel workbooks and CSV files: what a researcher hands on.

:func:`result_tables` collects the tables of a results directory (a run, a
comparison or a sweep), each with a readable title and a description, tidy
metric tables with each metric's label and unit beside its value.
:func:`export_tables` writes them as one Excel workbook (one sheet per table
and a ``Notes`` sheet describing every table and its units) or as CSV files;
:func:`write_table` writes any one table (a scored firm table, a firm list)
by the suffix of its path. Excel files are real ``.xlsx`` workbooks
(openpyxl); CSV files are UTF-8 with a byte-order mark so that Excel opens
Chinese text correctly. Every file is written atomically.

Examples
--------
>>> export_tables("results/compare/baseline-vs-strict_d", "tables.xlsx")  # doctest: +SKIP
[PosixPath('tables.xlsx')]
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from simulator import catalogue
from simulator.results.atomic import atomic_write
from simulator.results.integrity import check_experiment_directory, read_run, verify_file
from simulator.results.parquet import read_metrics_table, read_parquet_file
from simulator.results.readers import read_json_record, read_text_file
from simulator.results.stats import summarise
from simulator.scenario import ScenarioError

__all__ = ["EXCEL_MAX_ROWS", "TABLE_FORMATS", "ResultTable", "export_tables", "result_tables",
           "table_format", "write_table", "write_workbook"]

#: Suffix of an output file -> its format.
TABLE_FORMATS: dict[str, str] = {".xlsx": "xlsx", ".csv": "csv"}
#: Rows an Excel sheet holds under its header row.
EXCEL_MAX_ROWS = 1_048_575
#: Characters Excel refuses in a sheet name.
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class ResultTable:
    """One table of a results directory.

    Attributes
    ----------
    name : str
        Short name (``--table`` value and CSV file stem), e.g. ``"summary"``.
    title : str
        Sheet name and heading, in the language asked for.
    description : str
        What a row is and where the units are, in the language asked for.
    frame : pandas.DataFrame
        The table.
    """

    name: str
    title: str
    description: str
    frame: pd.DataFrame


def table_format(path: str | Path, *, option: str = "--out") -> str:
    """Return ``"xlsx"`` or ``"csv"`` from the suffix of ``path``.

    Raises
    ------
    ScenarioError
        Naming the option, for any other suffix (``.xls``, ``.txt``, none...).
    """
    suffix = Path(path).suffix.lower()
    if suffix not in TABLE_FORMATS:
        raise ScenarioError(f"cannot write {Path(path).name!r}: the file name must end in "
                            f"{' or '.join(TABLE_FORMATS)} (got "
                            f"{suffix or 'no suffix'})", field=option)
    return TABLE_FORMATS[suffix]


def write_table(frame: pd.DataFrame, path: str | Path, *, sheet: str = "table",
                notes: pd.DataFrame | None = None) -> Path:
    """Write one table as ``.xlsx`` (sheet ``sheet``, and ``notes`` if given) or ``.csv``.

    Raises
    ------
    ScenarioError
        For a suffix other than ``.xlsx`` or ``.csv``, or too many rows for Excel.
    """
    if table_format(path) == "csv":
        return atomic_write(path, lambda tmp: _write_csv(frame, tmp))
    sheets = {sheet: frame} if notes is None else {sheet: frame, "Notes": notes}
    return write_workbook(sheets, path)


def write_workbook(sheets: Mapping[str, pd.DataFrame], path: str | Path) -> Path:
    """Write an Excel workbook, one sheet per table (sheet names made valid), atomically.

    Header cells are bold, the header row is frozen and columns are widened
    to their content (up to 60 characters). Text stays text: a firm id such
    as ``91330100MA27XXXX0X`` is a text cell.

    Raises
    ------
    ScenarioError
        Naming the sheet, if a table has more rows than an Excel sheet holds.
    """
    for title, frame in sheets.items():
        if len(frame) > EXCEL_MAX_ROWS:
            raise ScenarioError(f"table {title!r} has {len(frame):,} rows, more than an Excel "
                                f"sheet holds ({EXCEL_MAX_ROWS:,}); export it as CSV",
                                file=path)

    def write(tmp: Path) -> None:
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            used: set[str] = set()
            for title, frame in sheets.items():
                name = _sheet_name(title, used)
                _plain(frame).to_excel(writer, sheet_name=name, index=False)
                _format_sheet(writer.sheets[name], frame)

    return atomic_write(path, write)


def result_tables(directory: str | Path, *, names: Sequence[str] | None = None,
                  lang: str = "en") -> list[ResultTable]:
    """Return the tables of a run, comparison or sweep directory, checked.

    Parameters
    ----------
    directory : str or Path
        A run directory (``manifest.json``) or an experiment directory
        (``experiment.json`` of a ``compare`` or ``sweep``).
    names : sequence of str, optional
        Tables to return, by :attr:`ResultTable.name`. Default: every table
        but the large ones (a run's ``firms``, a comparison's ``metrics``),
        which are returned when named.
    lang : {"en", "zh"}
        Language of titles, descriptions, metric labels and units.

    Returns
    -------
    list of ResultTable
        A run: ``summary`` (mean and 95% interval over replications of every
        annual metric), ``annual`` (every annual metric of every
        replication), ``monthly`` (if recorded) and ``firms``. A comparison:
        ``key_outcomes``, ``summary``, ``differences`` (paired, to the
        reference) and ``metrics``. A sweep: ``outputs``, ``design`` and
        ``sobol`` (Sobol' designs).

    Raises
    ------
    ScenarioError
        Naming the file, for a directory that is not a results directory or a
        damaged file; naming ``--table`` for a table the directory lacks.
    """
    catalogue.check_language(lang)
    directory = Path(directory)
    if (directory / "experiment.json").is_file():
        record = check_experiment_directory(directory)
        kind = record.get("kind")
        makers = _SWEEP if kind == "sweep" else _COMPARE
    elif (directory / "manifest.json").is_file() or not directory.is_dir():
        read_run(directory)  # an error naming the file if it is no run
        makers = _RUN
    else:
        raise ScenarioError("not a results directory (no manifest.json or experiment.json)",
                            file=directory)
    available = [n for n, (_, default, present) in makers.items() if present(directory)]
    if names:
        unknown = [n for n in names if n not in available]
        if unknown:
            raise ScenarioError(f"no table {unknown[0]!r} in this directory; its tables: "
                                f"{', '.join(available)}", file=directory, field="--table")
        chosen = list(dict.fromkeys(names))
    else:
        chosen = [n for n in available if makers[n][1]]
    texts = catalogue.text(lang, "cli")
    return [ResultTable(name, texts[f"table.{name}"], texts[f"table.{name}.about"],
                        makers[name][0](directory, lang)) for name in chosen]


def export_tables(directory: str | Path, out: str | Path, *,
                  names: Sequence[str] | None = None, lang: str = "en") -> list[Path]:
    """Write the tables of a results directory as an Excel workbook or CSV files.

    Parameters
    ----------
    directory : str or Path
        A run, comparison or sweep directory (see :func:`result_tables`).
    out : str or Path
        ``*.xlsx``: one workbook, a sheet per table and a notes sheet (what
        each table holds, its units). ``*.csv``: one table (choose it with
        ``names`` if the directory has several). Anything else is a
        directory, made if missing, that gets one ``<table>.csv`` per table.
    names : sequence of str, optional
        Tables to write (default: see :func:`result_tables`).
    lang : {"en", "zh"}
        Language of sheet names, notes, labels and units.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    ScenarioError
        A damaged or missing results file, an unknown table, several tables
        for one CSV file, a table too long for Excel.
    """
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix and suffix not in TABLE_FORMATS:
        table_format(out)  # an error naming the suffixes
    tables = result_tables(directory, names=names, lang=lang)
    if suffix == ".xlsx":
        texts = catalogue.text(lang, "cli")
        notes = pd.DataFrame({texts["notes.sheet"]: [t.title for t in tables],
                              texts["notes.table"]: [t.name for t in tables],
                              texts["notes.rows"]: [len(t.frame) for t in tables],
                              texts["notes.about"]: [t.description for t in tables]})
        sheets = {t.title: t.frame for t in tables}
        sheets[texts["notes.title"]] = notes
        return [write_workbook(sheets, out)]
    if suffix == ".csv":
        if len(tables) != 1:
            raise ScenarioError(f"a CSV file holds one table and this directory has "
                                f"{len(tables)} ({', '.join(t.name for t in tables)}): choose "
                                "one with --table, or give a directory or an .xlsx file",
                                field="--out")
        return [atomic_write(out, lambda tmp: _write_csv(tables[0].frame, tmp))]
    if out.exists() and not out.is_dir():
        raise ScenarioError("exists and is not a directory", file=out, field="--out")
    return [atomic_write(out / f"{t.name}.csv", lambda tmp, t=t: _write_csv(t.frame, tmp))
            for t in tables]


# --- the tables of each kind of directory -----------------------------------------------


def _with_units(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Return a tidy table with each metric's label and unit after its ``metric`` column."""
    frame = frame.copy()
    metrics = pd.unique(frame["metric"].astype(str))
    labels = {m: _catalogue_text(catalogue.label, m, lang) for m in metrics}
    units = {m: _catalogue_text(catalogue.unit, m, lang) for m in metrics}
    at = list(frame.columns).index("metric") + 1
    frame.insert(at, "label", frame["metric"].astype(str).map(labels))
    frame.insert(at + 1, "unit", frame["metric"].astype(str).map(units))
    return frame


def _catalogue_text(lookup, name: str, lang: str) -> str:
    try:
        return lookup(name, lang)
    except (KeyError, ValueError, catalogue.CatalogueError):
        return ""


def _run_metrics(directory: Path) -> pd.DataFrame:
    return read_metrics_table(directory / "metrics.parquet")


def _run_summary(directory: Path, lang: str) -> pd.DataFrame:
    return _with_units(summarise(_run_metrics(directory)), lang)


def _run_annual(directory: Path, lang: str) -> pd.DataFrame:
    metrics = _run_metrics(directory)
    annual = metrics[metrics["month"].isna()].drop(columns="month")
    return _with_units(annual.reset_index(drop=True), lang)


def _run_monthly(directory: Path, lang: str) -> pd.DataFrame:
    metrics = _run_metrics(directory)
    return _with_units(metrics[metrics["month"].notna()].reset_index(drop=True), lang)


def _has_monthly(directory: Path) -> bool:
    return bool(_run_metrics(directory)["month"].notna().any())


def _run_firms(directory: Path, lang: str) -> pd.DataFrame:
    manifest = read_json_record(directory / "manifest.json")
    path = verify_file(directory / "firms.parquet", manifest,
                       record_path=directory / "manifest.json")
    return read_parquet_file(path)


def _csv(name: str):
    def read(directory: Path, lang: str) -> pd.DataFrame:
        import io

        path = directory / name
        try:
            frame = pd.read_csv(io.StringIO(read_text_file(path)))
        except (ValueError, pd.errors.ParserError) as exc:
            raise ScenarioError(f"cannot read {name}: {exc}", file=path) from None
        return _with_units(frame, lang) if "metric" in frame.columns else frame
    return read


def _compare_metrics(directory: Path, lang: str) -> pd.DataFrame:
    return _with_units(read_metrics_table(directory / "metrics.parquet"), lang)


def _always(directory: Path) -> bool:
    return True


def _file(name: str):
    return lambda directory: (directory / name).is_file()


#: Table name -> (reader(directory, lang), in the default export, present(directory)).
_RUN = {"summary": (_run_summary, True, _always), "annual": (_run_annual, True, _always),
        "monthly": (_run_monthly, True, _has_monthly),
        "firms": (_run_firms, False, _file("firms.parquet"))}
_COMPARE = {"key_outcomes": (_csv("table.csv"), True, _always),
            "summary": (_csv("summary.csv"), True, _always),
            "differences": (_csv("differences.csv"), True, _always),
            "metrics": (_compare_metrics, False, _file("metrics.parquet"))}
_SWEEP = {"outputs": (_csv("outputs.csv"), True, _always),
          "design": (_csv("design.csv"), True, _always),
          "sobol": (_csv("sobol.csv"), True, _file("sobol.csv"))}


# --- writing ----------------------------------------------------------------------------


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with categoricals and pandas' nullable types as plain values."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if isinstance(values.dtype, (pd.CategoricalDtype, pd.StringDtype)) \
                or pd.api.types.is_extension_array_dtype(values.dtype):
            out[column] = values.astype(object).where(values.notna(), None)
    return out


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    # UTF-8 with a byte-order mark: Excel then reads Chinese text as UTF-8.
    frame.to_csv(path, index=False, encoding="utf-8-sig", float_format="%.10g")


def _sheet_name(title: str, used: set[str]) -> str:
    """Return ``title`` as a valid, unused Excel sheet name (31 characters, none of []:*?/)."""
    base = _SHEET_FORBIDDEN.sub(" ", str(title)).strip().strip("'")[:31] or "Sheet"
    name, k = base, 2
    while name.lower() in used:
        suffix = f" ({k})"
        name, k = base[:31 - len(suffix)] + suffix, k + 1
    used.add(name.lower())
    return name


def _format_sheet(sheet, frame: pd.DataFrame) -> None:
    """Bold header, frozen header row, columns as wide as their content (capped)."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    for cell in sheet[1]:
        cell.font = bold
    sheet.freeze_panes = "A2"
    sample = frame.head(200)
    for i, column in enumerate(frame.columns, start=1):
        width = max([len(str(column))] + [len(str(v)) for v in sample[column].tolist()])
        sheet.column_dimensions[get_column_letter(i)].width = min(max(width + 2, 8), 60)

"""Commands on result tables: ``export`` (to Excel or CSV) and ``firms`` (a run's firms).

``export`` writes a run's, comparison's or sweep's tables as one Excel
workbook or as CSV files (:func:`simulator.results.tables.export_tables`);
``firms`` prints a run's firms of one year, filtered by class, sector,
region and scale, so that a reader can pick one for ``card``
(:func:`simulator.results.firm_list.list_firms`); ``crosstab`` prints a
quantity or bill of a run's firms by class, sector, region, scale or park
(:func:`simulator.results.crosstab.crosstab`).
"""

from __future__ import annotations

import argparse

from simulator.cli.output import plural

__all__ = ["crosstab_command", "export_command", "firms_command"]


def export_command(args: argparse.Namespace) -> int:
    """Write a results directory's tables to Excel or CSV; print the files (``export``)."""
    from simulator.results.tables import export_tables

    for path in export_tables(args.directory, args.out, names=args.table, lang=args.lang):
        print(path)
    return 0


def firms_command(args: argparse.Namespace) -> int:
    """Print a run's firms (filtered, sorted); write them all with ``--out`` (``firms``)."""
    from simulator.results.firm_list import list_firms
    from simulator.results.tables import table_format, write_table

    if args.out:
        table_format(args.out)  # a wrong suffix before any work
    firms = list_firms(args.directory, classes=args.klass, sectors=args.sector,
                       regions=args.region, scale=args.scale, year=args.year,
                       replication=args.replication, sort=args.sort,
                       descending=args.descending)
    shown = firms if args.limit <= 0 else firms.head(args.limit)
    _print_firms(shown, title=f"{plural(len(firms), 'firm')} in {firms.attrs['year']} "
                              f"(replication {firms.attrs['replication']})"
                              + (f"; the first {len(shown)} shown" if len(shown) < len(firms)
                                 else ""))
    if args.out:
        print(f"firms: {write_table(firms, args.out, sheet='firms')}")
    elif len(shown) < len(firms):
        print("--limit 0 prints all; --out FILE.xlsx writes all")
    if len(firms):
        print(f"a firm's report card: python run.py card {args.directory} --firm "
              f"{firms['firm_id'].iloc[0]}")
    return 0


_WAN_YUAN = "万元"
#: Columns printed in the terminal, with their headings (units where they have one).
_SHOWN = {"firm_id": "firm", "sector": "sector", "region": "region", "scale": "scale",
          "class": "class", "score": "score", "rank": "rank", "land_mu": "land, mu",
          "employees": "employees", "tax_wan_yuan": f"tax, {_WAN_YUAN}",
          "tax_per_mu": f"tax/mu, {_WAN_YUAN}/mu"}


def _print_firms(firms, *, title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title)
    columns = [c for c in _SHOWN if c in firms.columns]
    for column in columns:
        t.add_column(_SHOWN[column], justify="left" if firms[column].dtype == object
                     else "right")
    if "rank" in columns and "group_size" in firms.columns:
        ranks = [f"{r}/{n}" if r > 0 else "—" for r, n in zip(firms["rank"],
                                                               firms["group_size"], strict=True)]
    for i, row in enumerate(firms[columns].itertuples(index=False)):
        cells = []
        for column, value in zip(columns, row, strict=True):
            if column == "rank" and "group_size" in firms.columns:
                cells.append(ranks[i])
            elif column == "employees":
                cells.append(f"{value:,.0f}")
            elif isinstance(value, float):
                cells.append("—" if value != value else f"{value:,.2f}")
            else:
                cells.append(str(value))
        t.add_row(*cells)
    Console(width=140).print(t)


def crosstab_command(args: argparse.Namespace) -> int:
    """Print a cross-table of a run's firms; write it with ``--out`` (``crosstab``)."""
    import pandas as pd

    from simulator.results.crosstab import crosstab
    from simulator.results.tables import table_format, write_table

    if args.out:
        table_format(args.out)  # a wrong suffix before any work
    table = crosstab(args.directory, args.by, args.value, year=args.year,
                     replication=args.replication, margins=args.margins)
    print(f"{args.value} by {' x '.join(args.by)} in {table.attrs['year']} "
          f"(replication {table.attrs['replication']})")
    with pd.option_context("display.max_rows", 200, "display.max_columns", 50,
                           "display.width", 160):
        print(table.to_string(float_format=lambda v: f"{v:,.4g}"))
    if args.out:
        flat = table.reset_index()
        flat.columns = [str(c) for c in flat.columns]
        print(f"crosstab: {write_table(flat, args.out, sheet='crosstab')}")
    return 0

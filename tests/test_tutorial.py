"""The tutorial notebook (docs/tutorials/first-hour.ipynb) runs from top to bottom.

It is executed as a user would run it, in a fresh folder with a Jupyter kernel
(nbclient and ipykernel come with the ``test`` extra), and what it writes is
checked: a run, a comparison, a sweep, the brief in two languages and a card.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "docs" / "tutorials" / "first-hour.ipynb"


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    folder = tmp_path_factory.mktemp("tutorial")
    shutil.copy(NOTEBOOK, folder / NOTEBOOK.name)
    notebook = nbformat.read(folder / NOTEBOOK.name, as_version=4)
    # The kernel imports this checkout's simulator, whatever is installed.
    env_path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    os.environ["PYTHONPATH"], saved = env_path, os.environ.get("PYTHONPATH")
    try:
        nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                resources={"metadata": {"path": str(folder)}}).execute()
    finally:
        if saved is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = saved
    return folder, notebook


def test_every_cell_runs_without_error(executed: tuple[Path, object]) -> None:
    _, notebook = executed
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert len(code) >= 12
    errors = [o for c in code for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    # Every code cell ran, in order.
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))


def test_it_writes_a_run_a_comparison_a_sweep_a_brief_and_a_card(
        executed: tuple[Path, object]) -> None:
    folder, _ = executed
    out = folder / "tutorial-results"
    (run_dir,) = (out / "runs" / "small_county").iterdir()
    assert (run_dir / "metrics.parquet").is_file()
    assert (run_dir / "figures" / "indicators.png").is_file()
    compare_dir = out / "compare"
    for name in ("differences.csv", "brief.html", "brief_zh.html"):
        assert (compare_dir / name).is_file(), name
    assert "strict_d" in (compare_dir / "brief.html").read_text(encoding="utf-8")
    assert (out / "sweep" / "outputs.csv").is_file()
    cards = list((run_dir / "cards").glob("firm_*.html"))
    assert len(cards) == 1
    assert "一企一单" in cards[0].read_text(encoding="utf-8")


def test_the_comparison_is_paired_over_five_replications(executed: tuple[Path, object]) -> None:
    folder, _ = executed

    d = pd.read_csv(folder / "tutorial-results" / "compare" / "differences.csv")
    assert set(d["n"]) == {5}
    # Doubling the D surcharge raises its revenue in every replication of the first year.
    first = d.query("year == 2017 and metric == 'revenue_electricity_class_surcharge_yuan' "
                    "and group == 'all'")
    assert float(first["ci_low"].iloc[0]) > 0

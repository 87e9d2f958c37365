"""Policy brief (政策简报): one self-contained HTML file from a results directory.

:func:`write_report` reads what a run, a comparison or a sweep wrote and
makes a printable brief: what was run (scenarios, seed, replications,
versions), the key findings as plain tables, the figures with captions, and
an appendix with the resolved scenarios and the run record. Everything is in
one file: figures are embedded as base64 PNG, the CSS is inline, and nothing
is fetched from elsewhere, so the brief can be mailed or archived as is.

Like the figures, the brief is made from the result files only; it never runs
the model. Three kinds of directory are understood:

* a **run** (``manifest.json``, ``scenario.yaml``, ``metrics.parquet``,
  ``figures/``): the key indicators in the first and last year, with the
  t-based 95% CI of the mean when the run has several replications;
* a **comparison** (``experiment.json`` of kind ``compare``,
  ``scenarios/<name>.yaml``, ``summary.csv``, ``differences.csv``): each
  scenario's end-year mean, and its paired difference to the reference
  (the first scenario) with the interval, marked where it excludes zero;
* a **sweep** (``experiment.json`` of kind ``sweep``, ``sweep.yaml``,
  ``outputs.csv``, optional ``sobol.csv``): the range of each output and the
  parameters it is most sensitive to.

The pieces: :mod:`~simulator.reporting.run_brief`,
:mod:`~simulator.reporting.compare_brief` and :mod:`~simulator.reporting.sweep_brief`
write the body of each kind, from the parts they share in
:mod:`~simulator.reporting.sections`; :mod:`~simulator.reporting.html` holds the
HTML helpers, shared with the card.
"""

from __future__ import annotations

from pathlib import Path

from simulator.reporting.compare_brief import compare_brief
from simulator.reporting.html import html_page, write_html
from simulator.reporting.run_brief import run_brief
from simulator.reporting.sections import text
from simulator.reporting.sweep_brief import sweep_brief
from simulator.results import check_experiment_directory, read_json_record
from simulator.scenario import ScenarioError

__all__ = ["write_report"]


def write_report(directory: str | Path, *, out: str | Path | None = None,
                 lang: str = "en") -> Path:
    """Write the HTML policy brief of a run, comparison or sweep directory.

    Parameters
    ----------
    directory : str or Path
        A run directory (``manifest.json`` and ``metrics.parquet``) or an
        experiment directory (``experiment.json`` of kind ``compare`` or
        ``sweep``).
    out : str or Path, optional
        The HTML file to write; default ``<directory>/brief.html``.
    lang : {"en", "zh"}
        Language of the text (and of the figures, when a run's figures have
        to be made first).

    Returns
    -------
    Path
        The brief, written atomically.

    Raises
    ------
    ScenarioError
        If ``directory`` is not a results directory or lacks a file the
        brief needs.

    Examples
    --------
    >>> write_report("results/baseline/20250101T000000Z")  # doctest: +SKIP
    PosixPath('results/baseline/20250101T000000Z/brief.html')
    """
    t = text(lang)
    directory = Path(directory)
    kind = _kind(directory)
    if kind == "run":
        title, body = run_brief(directory, t, lang)
    else:
        record = check_experiment_directory(directory)  # every listed file intact
        build = compare_brief if kind == "compare" else sweep_brief
        title, body = build(directory, record, t, lang)
    out = Path(out) if out is not None else directory / "brief.html"
    return write_html(out, html_page(title, body, lang=lang))


def _kind(directory: Path) -> str:
    """Return "run", "compare" or "sweep"; raise ScenarioError for anything else."""
    if not directory.is_dir():
        raise ScenarioError("not a results directory (no such directory)", file=directory)
    record = directory / "experiment.json"
    if record.is_file():
        kind = read_json_record(record).get("kind")
        if kind not in ("compare", "sweep"):
            raise ScenarioError(f"not a results directory: experiment kind {kind!r} is "
                                "neither 'compare' nor 'sweep'", file=record)
        return str(kind)
    if (directory / "manifest.json").is_file() and (directory / "metrics.parquet").is_file():
        return "run"
    raise ScenarioError("not a results directory (no manifest.json and metrics.parquet, "
                        "nor experiment.json)", file=directory)

"""Policy brief (政策简报) for decision makers: HTML or PDF from a results directory.

:func:`write_report` reads what a run, a comparison or a sweep wrote and
renders a brief from the Jinja2 templates in ``simulator/reporting/templates``:

1. the title and a one-paragraph executive summary;
2. the policy in words: what the scenario changes and from when
   (:mod:`~simulator.reporting.describe`), or, for a sweep, the parameters
   that matter, by their Sobol' total index with its interval;
3. the key findings as sentences, strongest relative to their uncertainty
   first, with "no detectable effect" where an interval includes zero, and a
   warning instead where there are too few replications for an interval
   (:mod:`~simulator.reporting.findings`); a table of every indicator;
4. four to six figures, in the brief's language where they exist;
5. an appendix (provenance: directory, seed, versions, git revision, wall
   time; the full resolved scenarios and records) that is collapsed on
   screen and printed only when asked for (``appendix=True``).

A page is self-contained: figures are embedded as base64 PNG, the CSS is
inline, the CJK font is embedded subset to the page
(:mod:`~simulator.reporting.fonts`), and nothing is fetched from elsewhere.
The PDF is the same page printed by WeasyPrint (:mod:`~simulator.reporting.pdf`).

Like the figures, the brief is made from the result files only; it never
runs the model. The kinds of directory: a **run** (``manifest.json``,
``metrics.parquet``: :mod:`~simulator.reporting.run_brief`), a **comparison**
(``experiment.json`` of kind ``compare``, ``summary.csv``,
``differences.csv``, ``scenarios/``: :mod:`~simulator.reporting.compare_brief`)
and a **sweep** (``experiment.json`` of kind ``sweep``, ``outputs.csv``,
optional ``sobol.csv``: :mod:`~simulator.reporting.sweep_brief`).
"""

from __future__ import annotations

from pathlib import Path

from simulator.reporting.compare_brief import compare_context
from simulator.reporting.html import render, write_html
from simulator.reporting.run_brief import run_context
from simulator.reporting.sections import text
from simulator.reporting.sweep_brief import sweep_context
from simulator.results import check_experiment_directory, read_json_record
from simulator.scenario import ScenarioError

__all__ = ["FORMATS", "render_report", "write_report"]

#: The formats :func:`write_report` writes.
FORMATS = ("html", "pdf")


def render_report(directory: str | Path, *, lang: str = "en", appendix: bool = False) -> str:
    """Return the brief of a results directory as a complete HTML document.

    Parameters
    ----------
    directory : str or Path
        A run, comparison or sweep directory.
    lang : {"en", "zh"}
        Language of the text and the figures.
    appendix : bool
        Print the appendix (provenance and full scenarios) too; on screen it
        is always there, collapsed.
    """
    t = text(lang)
    directory = Path(directory)
    kind = _kind(directory)
    if kind == "run":
        context = run_context(directory, t, lang)
    else:
        record = check_experiment_directory(directory)  # every listed file intact
        build = compare_context if kind == "compare" else sweep_context
        context = build(directory, record, t, lang)
    return render(f"{kind}.html.j2", t=t, html_lang="zh-CN" if lang == "zh" else "en",
                  appendix_in_print=appendix, **context)


def write_report(directory: str | Path, *, out: str | Path | None = None, lang: str = "en",
                 format: str = "html", appendix: bool = False) -> Path:  # noqa: A002
    """Write the policy brief of a run, comparison or sweep directory (HTML or PDF).

    Parameters
    ----------
    directory : str or Path
        A run directory (``manifest.json`` and ``metrics.parquet``) or an
        experiment directory (``experiment.json`` of kind ``compare`` or
        ``sweep``).
    out : str or Path, optional
        The file to write; default ``<directory>/brief.html`` (``brief.pdf``;
        in Chinese ``brief_zh.html``, ``brief_zh.pdf``, so both languages
        can sit side by side).
    lang : {"en", "zh"}
        Language of the text (and of the figures, when a run's figures have
        to be made first).
    format : {"html", "pdf"}
        HTML (one self-contained file) or PDF (A4, printed by WeasyPrint: the
        ``pdf`` extra, ``pip install -e ".[pdf]"``).
    appendix : bool
        Print the appendix: provenance and the full scenarios (in HTML it is
        always there, collapsed; in print and PDF only with this option).

    Returns
    -------
    Path
        The brief, written atomically.

    Raises
    ------
    ScenarioError
        If ``directory`` is not a results directory or lacks a file the
        brief needs, or ``format`` is not one of :data:`FORMATS`.
    simulator.reporting.pdf.PdfUnavailableError
        If a PDF is asked for and WeasyPrint is not installed.

    Examples
    --------
    >>> write_report("results/compare/baseline-vs-strict_d")  # doctest: +SKIP
    PosixPath('results/compare/baseline-vs-strict_d/brief.html')
    """
    if format not in FORMATS:
        raise ScenarioError(f"--format must be one of {', '.join(FORMATS)}; got {format!r}",
                            field="--format")
    if format == "pdf":
        from simulator.reporting.pdf import check_weasyprint

        check_weasyprint()  # before any work
    directory = Path(directory)
    document = render_report(directory, lang=lang, appendix=appendix)
    suffix = "" if lang == "en" else f"_{lang}"
    out = Path(out) if out is not None else directory / f"brief{suffix}.{format}"
    if format == "pdf":
        from simulator.reporting.pdf import write_pdf

        return write_pdf(document, out, base=directory)
    return write_html(out, document)


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

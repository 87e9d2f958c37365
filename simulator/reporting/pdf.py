"""The brief as PDF (A4): the HTML page printed by WeasyPrint.

WeasyPrint is an optional dependency (the ``pdf`` extra): without it
:func:`check_weasyprint` raises :class:`PdfUnavailableError`, a one-line
input error (exit status 2) that says how to install it. The page's print
style (``@page`` A4, the appendix hidden unless asked for) and its embedded
CJK font make the PDF the same on every machine.
"""

from __future__ import annotations

import logging
from pathlib import Path

from simulator.results import atomic_write
from simulator.scenario import ScenarioError

__all__ = ["INSTALL_HINT", "PdfUnavailableError", "check_weasyprint", "pdf_pages", "write_pdf"]

INSTALL_HINT = 'pip install -e ".[pdf]"'


class PdfUnavailableError(ScenarioError):
    """A PDF was asked for but WeasyPrint is not installed."""


def check_weasyprint() -> None:
    """Raise :class:`PdfUnavailableError` unless WeasyPrint can be imported."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:  # OSError: its system libraries (Pango) are missing
        raise PdfUnavailableError(f"a PDF brief needs WeasyPrint ({exc.__class__.__name__}: "
                                  f"{str(exc).splitlines()[0] if str(exc) else 'missing'}); "
                                  f"install it with: {INSTALL_HINT}") from None


def _document(html: str, base: Path | None):  # noqa: ANN202 - a weasyprint Document
    check_weasyprint()
    import weasyprint

    # WeasyPrint logs every CSS property it does not know (e.g. overflow-wrap) as a warning.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    return weasyprint.HTML(string=html, base_url=str(base) if base else None).render()


def write_pdf(html: str, path: str | Path, *, base: Path | None = None) -> Path:
    """Print an HTML page to an A4 PDF at ``path`` (atomically); return ``path``."""
    document = _document(html, base)
    return atomic_write(path, lambda tmp: document.write_pdf(str(tmp)))


def pdf_pages(html: str) -> int:
    """Return how many pages an HTML page prints to."""
    return len(_document(html, None).pages)

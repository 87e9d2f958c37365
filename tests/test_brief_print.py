"""The brief in print: A4 pages in a headless Chromium and in WeasyPrint, the PDF command.

The layout test drives Debian's /usr/bin/chromium through Playwright (no browser
download; the ``browser`` fixture of conftest.py): it is skipped, saying why, where
either is missing, and fails instead under CI.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from simulator.cli import main
from simulator.experiment import compare
from simulator.report import write_report
from simulator.reporting.brief import render_report
from simulator.scenario import apply_changes, load_scenario

SMALL = Path(__file__).parent / "scenarios" / "small.yaml"
#: A4 width less the brief's 15 mm margins, in CSS pixels (96 per inch).
PRINTABLE_PX = (210 - 2 * 15) / 25.4 * 96
MAX_PAGES = 8


@pytest.fixture(scope="module")
def compare_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = apply_changes(load_scenario(SMALL), {
        "population.n_industrial": 200, "population.n_services": 50})
    strict = apply_changes(base, {"name": "strict_d", "timeline": [
        {"date": "2019-01", "set": {"tariffs.electricity.class_surcharge_yuan_per_kwh.D": 0.8}}]})
    return compare([base, strict], replications=3, workers=1,
                   out=tmp_path_factory.mktemp("print") / "cmp")


def _weasyprint_or_skip() -> None:
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:
        pytest.skip(f"WeasyPrint is not installed or lacks its libraries ({exc})")


# ---------------------------------------------------------------- Chromium


_OVERFLOW = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('table, td, th, pre, figure img')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0) continue;                        // hidden (the appendix in print)
    if (box.right > document.body.getBoundingClientRect().right + 1
        || el.scrollWidth > el.clientWidth + 1) {
      bad.push(el.tagName + ': ' + el.textContent.slice(0, 40));
    }
  }
  return bad;
}"""


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_comparison_brief_prints_on_at_most_8_a4_pages_and_no_table_is_wider(
        compare_dir: Path, tmp_path: Path, lang: str, browser):
    html = write_report(compare_dir, out=tmp_path / f"brief_{lang}.html", lang=lang)
    full = write_report(compare_dir, out=tmp_path / f"full_{lang}.html", lang=lang,
                        appendix=True)
    page = browser.new_page(viewport={"width": int(PRINTABLE_PX), "height": 1100})
    try:
        page.goto(html.as_uri())
        page.emulate_media(media="print")
        assert page.evaluate("document.body.getBoundingClientRect().width") <= PRINTABLE_PX
        assert page.evaluate(_OVERFLOW) == []
        pages = _pdf_pages(page.pdf(format="A4", prefer_css_page_size=True))
        page.goto(full.as_uri())
        page.emulate_media(media="print")
        with_appendix = _pdf_pages(page.pdf(format="A4", prefer_css_page_size=True))
    finally:
        page.close()
    assert 1 <= pages <= MAX_PAGES
    assert with_appendix > pages  # the appendix prints only when asked for


def _pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))


# ---------------------------------------------------------------- WeasyPrint


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_pdf_brief_is_a4_within_8_pages_with_the_cjk_font_embedded(compare_dir: Path,
                                                                     lang: str):
    _weasyprint_or_skip()
    from simulator.reporting.pdf import pdf_pages

    path = write_report(compare_dir, lang=lang, format="pdf")
    assert path == compare_dir / ("brief.pdf" if lang == "en" else "brief_zh.pdf")
    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    import weasyprint

    plain = weasyprint.HTML(string=render_report(compare_dir, lang=lang)).write_pdf(
        uncompressed_pdf=True)
    assert b"NotoSansCJK" in plain  # embedded: the machine needs no CJK font of its own
    assert 1 <= pdf_pages(render_report(compare_dir, lang=lang)) <= MAX_PAGES
    assert pdf_pages(render_report(compare_dir, lang=lang, appendix=True)) > \
        pdf_pages(render_report(compare_dir, lang=lang))


def test_report_pdf_command_writes_the_pdf(compare_dir: Path, capsys):
    _weasyprint_or_skip()
    assert main(["report", str(compare_dir), "--pdf", "--lang", "zh"]) == 0
    assert capsys.readouterr().out.strip() == str(compare_dir / "brief_zh.pdf")
    assert (compare_dir / "brief_zh.pdf").read_bytes().startswith(b"%PDF")


def test_without_weasyprint_a_pdf_is_a_one_line_error_saying_how_to_install(
        compare_dir: Path, tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import weasyprint -> ImportError
    out = tmp_path / "b.pdf"
    assert main(["report", str(compare_dir), "--format", "pdf", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ")
    assert "\n" not in err
    assert 'pip install -e ".[pdf]"' in err
    assert not out.exists()


def test_contradicting_formats_are_an_input_error(compare_dir: Path, capsys):
    assert main(["report", str(compare_dir), "--pdf", "--format", "html"]) == 2
    assert "--pdf and --format html" in capsys.readouterr().err

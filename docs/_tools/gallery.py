"""Make the figure gallery of the docs: every figure, in English and Chinese.

    python docs/_tools/gallery.py [run compare sweep pages mechanisms]

Runs, in a temporary directory, a small run (a strict D surcharge from 2019 on
the 500-firm county, so that its figures show a policy date), a comparison of
the default 6,500-firm baseline against the same with the stricter D surcharge
(5 replications) and a small grid sweep over two parameters, draws every figure
in both languages and writes them downscaled to ``docs/images/gallery/<lang>/<figure>.png`` (each
under about 120 KB; reruns overwrite). ``docs/reference/figures.md`` shows them.

One function per section (:func:`run_section`, :func:`compare_section`,
:func:`sweep_section`, :func:`page_section`, :func:`mechanism_section`: the figures
of each mechanism a scenario switches on, from its example scenario), each returning
the files it drew; arguments name the sections to redraw (default all).
The last writes screenshots of the comparison's brief and of a firm's report
card as they print (A4 width, print style), taken in Debian's Chromium
through Playwright, beside the figures (``brief.png``, ``card.png``).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from simulator import apply_changes, load_scenario, run_scenario  # noqa: E402
from simulator.experiment.comparison import compare  # noqa: E402
from simulator.experiment.sweeps import sweep  # noqa: E402
from simulator.plots import make_figures  # noqa: E402
from simulator.plots.compare import compare_figures  # noqa: E402
from simulator.plots.sweep import sweep_figures  # noqa: E402
from simulator.reporting.brief import write_report  # noqa: E402
from simulator.reporting.card import write_card  # noqa: E402
from simulator.results.firm_list import list_firms  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
#: A4 less the brief's 15 mm margins, in CSS pixels: the width a page prints at.
PRINT_WIDTH_PX = 680

LANGUAGES = ("en", "zh")
OUT = ROOT / "docs" / "images" / "gallery"
WIDTH = 1000  # px: about 17 cm at 150 dpi, the width the brief prints a figure
MAX_BYTES = 120_000
MAX_PAGE_BYTES = 400_000
STRICT_D = {"tariffs.electricity.class_surcharge_yuan_per_kwh.D": 0.6,
            "tariffs.electricity.d_escalation": [
                {"min_consecutive_years": 3, "surcharge_yuan_per_kwh": 0.7}]}
SWEEP = """\
name: gallery_grid
base: {base}
overrides:
  population.n_industrial: 150
  population.n_services: 50
  run.end: 2018-12
  timeline: []
  output.firm_snapshots: false
  output.monthly_metrics: false
parameters:
  - {{path: tariffs.electricity.class_surcharge_yuan_per_kwh.D, values: [0.0, 0.3, 0.6]}}
  - {{path: dynamics.exit.forced_exit_share_per_year, values: [0.0, 0.03]}}
design: grid
replications: 2
seed: 7
outputs:
  - {{metric: tax_per_mu_wan_yuan, group: scale=above}}
  - {{metric: differential_revenue_yuan}}
"""


def strict_d_county():
    """Return the 500-firm county, and the same with the D surcharge raised from 2019-01."""
    county = load_scenario(ROOT / "scenarios" / "small_county.yaml")
    strict = apply_changes(county, {"name": "small_county_strict_d",
                                    "timeline": [{"date": "2019-01", "set": STRICT_D}]})
    return county, strict


def run_section(work: Path) -> dict[str, list[Path]]:
    """Run the strict-D county with 2 replications; return the run figures per language."""
    _, strict = strict_d_county()
    run_dir = run_scenario(strict, out=work / "runs", replications=2, figures=False)
    return {lang: [p for p in make_figures(run_dir, lang=lang, formats=("png",))]
            for lang in LANGUAGES}


def compare_section(work: Path) -> dict[str, list[Path]]:
    """Compare the default county with its strict-D variant (5 replications); the figures.

    The full 6,500-firm baseline, not the small county: its few D firms make the
    small county's differences too uncertain to show what a detectable effect
    looks like.
    """
    baseline = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    strict = apply_changes(baseline, {"name": "strict_d",
                                      "timeline": [{"date": "2019-01", "set": STRICT_D}]})
    exp = compare([baseline, strict], replications=5, out=work / "compare", figures=False)
    return {lang: compare_figures(exp, lang=lang, formats=("png",)) for lang in LANGUAGES}


def sweep_section(work: Path) -> dict[str, list[Path]]:
    """Sweep a grid over the D surcharge and the forced-exit quota; return the heatmaps."""
    spec = work / "gallery_grid.yaml"
    spec.write_text(SWEEP.format(base=ROOT / "scenarios" / "small_county.yaml"),
                    encoding="utf-8")
    outputs = sweep(spec, out=work / "sweep", figures=False, workers=1)
    exp = Path(outputs.attrs["path"])
    return {lang: sweep_figures(exp, lang=lang, formats=("png",)) for lang in LANGUAGES}


#: The example scenarios of the mechanisms a scenario switches on (issue 19), full size.
MECHANISM_SCENARIOS = ("region_steering", "region_trading", "land_contracts", "dual_control",
                       "evaluation_rules", "sector_prices", "exit_routes")


def mechanism_section(work: Path) -> dict[str, list[Path]]:
    """Run each mechanism's example scenario once; return its mechanism figures.

    The figures are those :data:`simulator.plots.MECHANISM_FIGURES` finds in
    the run, and the market prices of ``region_trading`` (a path per region),
    saved as ``<figure>.png`` (``market_prices_by_region.png`` for the latter).
    """
    from simulator.plots import MECHANISM_FIGURES
    from simulator.results import read_run

    drawn: dict[str, list[Path]] = {lang: [] for lang in LANGUAGES}
    for name in MECHANISM_SCENARIOS:
        scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
        run_dir = run_scenario(scenario, out=work / "mechanisms", figures=False)
        _, metrics = read_run(run_dir)
        wanted = {n for present in MECHANISM_FIGURES for n in present(metrics)}
        if name == "region_trading":
            wanted.add("market_prices")
        for lang in LANGUAGES:
            for path in make_figures(run_dir, lang=lang, formats=("png",)):
                if path.stem not in wanted:
                    continue
                if path.stem == "market_prices":  # beside the county-wide one
                    path = path.rename(path.with_name("market_prices_by_region.png"))
                drawn[lang].append(path)
    return drawn


def page_section(work: Path) -> dict[str, list[Path]]:
    """Screenshot the comparison's brief and a D firm's card as they print, in both languages.

    Needs :func:`run_section` and :func:`compare_section` to have run in ``work``.
    """
    from playwright.sync_api import sync_playwright

    (run_dir,) = (work / "runs" / "small_county_strict_d").iterdir()
    firm = int(list_firms(run_dir, classes=["D"])["firm_id"].iloc[0])
    shots: dict[str, list[Path]] = {lang: [] for lang in LANGUAGES}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        for lang in LANGUAGES:
            pages = {"brief": write_report(work / "compare", lang=lang,
                                           out=work / f"brief_{lang}.html"),
                     "card": write_card(run_dir, firm, lang=lang,
                                        out=work / f"card_{lang}.html")}
            for name, html in pages.items():
                page = browser.new_page(viewport={"width": PRINT_WIDTH_PX, "height": 1000},
                                        device_scale_factor=2)
                page.goto(html.as_uri())
                page.emulate_media(media="print")
                shot = work / "shots" / lang / f"{name}.png"
                shot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(shot), full_page=True)
                page.close()
                shots[lang].append(shot)
        browser.close()
    return shots


def write_downscaled(source: Path, target: Path, *, page: bool = False) -> None:
    """Write ``source`` at :data:`WIDTH` px wide, as few colours as keep it under the limit.

    A page (``page=True``: a brief or card several screens long) may take
    :data:`MAX_PAGE_BYTES` and as few as 16 colours (text stays sharp).
    """
    image = Image.open(source).convert("RGB")
    image = image.resize((WIDTH, round(image.height * WIDTH / image.width)), Image.LANCZOS)
    target.parent.mkdir(parents=True, exist_ok=True)
    limit = MAX_PAGE_BYTES if page else MAX_BYTES
    for colours in (256, 128, 64, 32, 16) if page else (256, 128, 64):
        image.quantize(colours).save(target, optimize=True)
        if target.stat().st_size <= limit:
            return
    sys.stderr.write(f"warning: {target} is {target.stat().st_size} bytes\n")


SECTIONS = {"run": run_section, "compare": compare_section, "sweep": sweep_section,
            "pages": page_section, "mechanisms": mechanism_section}


def main() -> None:
    """Draw every section's figures (or those named as arguments) and write the gallery.

    ``pages`` needs ``run`` and ``compare`` in the same call.
    """
    names = sys.argv[1:] or list(SECTIONS)
    unknown = sorted(set(names) - set(SECTIONS))
    if unknown:
        raise SystemExit(f"unknown section {unknown[0]!r}; known: {', '.join(SECTIONS)}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        drawn: dict[str, list[Path]] = {lang: [] for lang in LANGUAGES}
        for section in (SECTIONS[n] for n in names):
            for lang, paths in section(work).items():
                drawn[lang] += paths
        for lang in LANGUAGES:
            for path in drawn[lang]:
                write_downscaled(path, OUT / lang / path.name,
                                 page=path.parent.parent.name == "shots")
            sys.stdout.write(f"{len(drawn[lang])} figures -> {OUT / lang}\n")


if __name__ == "__main__":
    main()

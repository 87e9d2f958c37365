"""Chinese out of the box: the CJK font comes with the install and has every glyph we draw."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import yaml  # noqa: E402
from matplotlib.ft2font import FT2Font  # noqa: E402

from simulator.plots import _style  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def chinese_characters() -> set[str]:
    """Every CJK character of the Chinese locale and of the default scenario's labels."""
    texts = [(ROOT / "simulator" / "catalogue" / "locales" / "zh.yaml").read_text("utf-8")]
    baseline = yaml.safe_load((ROOT / "scenarios" / "baseline.yaml").read_text("utf-8"))
    texts += [str(s.get("label_zh", "")) for s in baseline["population"]["sectors"].values()]
    return set(CJK.findall("".join(texts)))


def test_a_cjk_font_comes_with_the_install_and_is_used_for_chinese():
    path = _style.bundled_cjk_font()
    assert path is not None
    assert path.is_file()
    assert _style.find_cjk_font() == "Noto Sans CJK SC"
    with warnings.catch_warnings():
        warnings.simplefilter("error", _style.CJKFontWarning)
        assert _style.style_for("zh").lang == "zh"


def test_the_bundled_font_has_every_chinese_character_we_draw():
    font = FT2Font(str(_style.bundled_cjk_font()))
    chars = chinese_characters()
    assert len(chars) > 300  # the locale is large: a sanity check of the scan itself
    missing = sorted(c for c in chars if font.get_char_index(ord(c)) == 0)
    assert not missing, f"no glyph for {''.join(missing)}"


def test_a_chinese_figure_renders_with_no_missing_glyph():
    style = _style.style_for("zh")
    labels = yaml.safe_load((ROOT / "simulator" / "catalogue" / "locales" / "zh.yaml")
                            .read_text("utf-8"))["labels"]
    fig, ax = plt.subplots()
    try:
        ax.set_title("亩均税收与单位能耗增加值", **style.fontkw)
        for i, text in enumerate(list(labels.values())[:40]):
            ax.text(0.0, i / 40, str(text), **style.fontkw)
        with warnings.catch_warnings():
            # matplotlib warns "Glyph ... missing from font(s)" for each box it draws
            warnings.filterwarnings("error", message=".*missing from font.*")
            fig.canvas.draw()
    finally:
        plt.close(fig)


def test_without_the_bundled_font_chinese_falls_back_to_english_with_a_warning(monkeypatch):
    monkeypatch.setattr(_style, "find_cjk_font", lambda: None)
    with pytest.warns(_style.CJKFontWarning, match="CJK font"):
        assert _style.style_for("zh").lang == "en"

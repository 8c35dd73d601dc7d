"""The app's colours and words, without a browser: WCAG AA contrast of every text
colour on its background in both themes (from the CSS the app serves), and one
language at a time (every Arabic string has its English twin and vice versa)."""
from __future__ import annotations

import re

import pytest

from ui import app_style as S
from ui.app_i18n import STRINGS, tr

AA = 4.5


def rgb(colour: str) -> tuple[float, float, float]:
    m = re.fullmatch(r"#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})", colour.strip().lower())
    if m:
        return tuple(int(x, 16) for x in m.groups())
    m = re.fullmatch(r"rgba?\((\d+),\s*(\d+),\s*(\d+)(?:,\s*[\d.]+)?\)", colour.strip())
    if not m:
        raise ValueError(colour)
    return tuple(int(x) for x in m.groups())


def luminance(colour: str) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(fg: str, bg: str) -> float:
    a, b = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def css_palette(selector: str) -> dict[str, str]:
    """The --isnad-* variables of `selector` as the served CSS defines them."""
    blocks = re.findall(r"(?:^|\n)" + re.escape(selector) + r"\s*\{([^}]*)\}", S.CSS)
    assert blocks, f"{selector} not in the app's CSS"
    return dict(re.findall(r"--isnad-([\w-]+):\s*([^;]+);", " ".join(blocks)))


def test_contrast_helper_matches_known_values():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic AA near-miss
    # the bug this guards against: white text on the light highlight
    assert contrast("#ffffff", S.LIGHT["mark-bg"]) < 1.5


@pytest.mark.parametrize("selector", [":root", ".dark"])
def test_text_on_the_highlight_and_notes_meets_wcag_aa(selector):
    palette = css_palette(selector)
    for fg, bg in S.TEXT_PAIRS:
        ratio = contrast(palette[fg], palette[bg])
        assert ratio >= AA, f"{selector} {fg} on {bg}: {ratio:.2f}:1"


def test_the_mark_never_inherits_the_text_colour():
    rule = re.search(r"\.isnad-sources mark, \.isnad-doc-text mark \{([^}]*)\}", S.CSS).group(1)
    assert "color: var(--isnad-mark-fg)" in rule and "inherit" not in rule


def test_both_languages_have_the_same_words():
    assert set(STRINGS["ar"]) == set(STRINGS["en"])
    arabic = re.compile("[\u0600-\u06ff]")
    for key, text in STRINGS["en"].items():
        assert not arabic.search(text), f"English {key!r} has Arabic: {text}"
    for key in ("send", "new", "tab_chat", "no_answer", "settings"):
        assert arabic.search(STRINGS["ar"][key]), key
    assert tr("fr", "send") == tr("ar", "send")  # an unknown language falls back to Arabic

"""The site's own stylesheet and script: colours legible on both of Material's palettes."""

from __future__ import annotations

import colorsys
import re
from importlib import resources

SCRIPT = resources.files("prefboard").joinpath("templates/assets/prefboard.js").read_text()
WHITE = (1.0, 1.0, 1.0)
# Material's slate background: hsl(232, 15%, 14%) (--md-default-bg-color, hue 232).
SLATE = colorsys.hls_to_rgb(232 / 360, 0.14, 0.15)


def rgb(hex_colour: str) -> tuple[float, float, float]:
    value = hex_colour.lstrip("#")
    r, g, b = (int(value[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return r, g, b


def contrast(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    """WCAG 2.x contrast ratio of two sRGB colours (relative luminance, 0.05 flare)."""

    def luminance(c: tuple[float, float, float]) -> float:
        lin = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in c]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def palette(name: str) -> list[str]:
    body = re.search(rf"var {name} = \[(.*?)\];", SCRIPT, re.S)
    assert body, name
    return re.findall(r'"(#[0-9A-Fa-f]{6})"', body.group(1))


def constant(name: str) -> str:
    found = re.search(rf'var {name} = "(#[0-9A-Fa-f]{{6}})";', SCRIPT)
    assert found, name
    return found.group(1)


def test_category_colours_stand_out_on_their_palette() -> None:
    # WCAG 1.4.11: lines, points and bars need 3:1 against the background they sit on.
    light, dark = palette("CATEGORY_LIGHT"), palette("CATEGORY_DARK")
    assert len(light) == len(dark) == 10
    assert min(contrast(rgb(c), WHITE) for c in light) >= 3.8
    assert min(contrast(rgb(c), SLATE) for c in dark) >= 6.5
    # the first colour is the Overall line of a rating history: it was the invisible one
    assert contrast(rgb(dark[0]), SLATE) >= 6.5


def test_chart_text_ink_meets_the_text_contrast() -> None:
    # WCAG 1.4.3: text needs 4.5:1.
    assert contrast(rgb(constant("INK_LIGHT")), WHITE) >= 4.5
    assert contrast(rgb(constant("INK_DARK")), SLATE) >= 4.5
